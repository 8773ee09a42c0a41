/*
 * Tests of the Raft member over real TCP on 127.0.0.1 and real directories
 * under /tmp: one node that applies, restarts and snapshots, and three nodes
 * on one loop that grow, fail over, hand over and shrink. The test FSM keeps
 * the payloads (8-byte sequence numbers) in apply order with their indexes,
 * so order, gaps and double applies all show.
 */
#include "raft/raft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "../lib/unit.h"

#define MAX_VALUES 1024
#define MAX_NODES 3

struct tfsm {
	uint64_t max_index; /* the highest index applied */
	size_t n;
	uint64_t values[MAX_VALUES];
	uint64_t indexes[MAX_VALUES];
	unsigned ignored; /* applies of an index already applied */
	unsigned snapshots;
	unsigned restores;
};

static int tfsm_apply(void *ud, uint64_t index, const void *data, size_t len,
		      void **result)
{
	struct tfsm *f = ud;
	uint64_t *res;

	if (index <= f->max_index) {
		f->ignored++;
		return 0;
	}
	OWS_CHECK_INT(len, sizeof(uint64_t));
	OWS_CHECK(f->n < MAX_VALUES);
	memcpy(&f->values[f->n], data, sizeof(uint64_t));
	f->indexes[f->n] = index;
	f->n++;
	f->max_index = index;
	res = malloc(sizeof(*res));
	OWS_CHECK(res != NULL);
	*res = index;
	*result = res;
	return 0;
}

/* Layout: max_index, n, then n values and n indexes. */
static int tfsm_snapshot(void *ud, void **data, size_t *len)
{
	struct tfsm *f = ud;
	size_t size = (2 + 2 * f->n) * sizeof(uint64_t);
	uint64_t *p = malloc(size);
	uint64_t n = f->n;

	if (p == NULL)
		return -ENOMEM;
	p[0] = f->max_index;
	p[1] = n;
	memcpy(p + 2, f->values, f->n * sizeof(uint64_t));
	memcpy(p + 2 + f->n, f->indexes, f->n * sizeof(uint64_t));
	f->snapshots++;
	*data = p;
	*len = size;
	return 0;
}

static int tfsm_restore(void *ud, const void *data, size_t len)
{
	struct tfsm *f = ud;
	uint64_t head[2];

	OWS_CHECK(len >= sizeof(head));
	memcpy(head, data, sizeof(head));
	OWS_CHECK(head[1] <= MAX_VALUES);
	OWS_CHECK_INT(len, (2 + 2 * head[1]) * sizeof(uint64_t));
	f->max_index = head[0];
	f->n = head[1];
	memcpy(f->values, (const uint64_t *)data + 2, f->n * sizeof(uint64_t));
	memcpy(f->indexes, (const uint64_t *)data + 2 + f->n,
	       f->n * sizeof(uint64_t));
	f->restores++;
	return 0;
}

/* The payloads are 0..n-1 in order, at strictly growing indexes. */
static void tfsm_check(const struct tfsm *f, size_t n)
{
	OWS_CHECK_INT(f->n, n);
	for (size_t i = 0; i < f->n; i++) {
		OWS_CHECK_INT(f->values[i], i);
		if (i > 0)
			OWS_CHECK(f->indexes[i] > f->indexes[i - 1]);
	}
}

struct node {
	struct ows_raft *r;
	struct tfsm fsm;
	uint64_t id;
	char dir[64];
	char addr[64];
	bool open;
};

struct cluster {
	uv_loop_t loop;
	uv_timer_t tick; /* wakes the loop so waits can time out */
	struct ows_raft_options opts;
	struct node nodes[MAX_NODES];
	size_t n;
};

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Distinct free ports: all probe sockets stay bound until all are known. */
static void free_ports(unsigned short *ports, size_t n)
{
	int fds[MAX_NODES];

	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in sa = {0};
		socklen_t sl = sizeof(sa);

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		OWS_CHECK(fds[i] >= 0);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		OWS_CHECK(bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0);
		OWS_CHECK(getsockname(fds[i], (struct sockaddr *)&sa, &sl) == 0);
		ports[i] = ntohs(sa.sin_port);
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void cluster_init(struct cluster *c, size_t n)
{
	unsigned short ports[MAX_NODES];

	memset(c, 0, sizeof(*c));
	ows_log_threshold = OWS_LOG_ERROR;
	/* libuv leaves SIGPIPE alone; a peer closing mid-write would kill us. */
	signal(SIGPIPE, SIG_IGN);
	OWS_CHECK_INT(uv_loop_init(&c->loop), 0);
	OWS_CHECK_INT(uv_timer_init(&c->loop, &c->tick), 0);
	OWS_CHECK_INT(uv_timer_start(&c->tick, tick_cb, 5, 5), 0);
	c->opts.election_timeout_ms = 300;
	c->opts.heartbeat_timeout_ms = 50;
	c->n = n;
	free_ports(ports, n);
	for (size_t i = 0; i < n; i++) {
		struct node *nd = &c->nodes[i];

		nd->id = i + 1;
		snprintf(nd->dir, sizeof(nd->dir), "/tmp/ows-raft-XXXXXX");
		OWS_CHECK(mkdtemp(nd->dir) != NULL);
		snprintf(nd->addr, sizeof(nd->addr), "127.0.0.1:%u", ports[i]);
	}
}

/* Run the loop until pred holds; false after timeout_ms. */
static bool run_until(struct cluster *c, bool (*pred)(void *), void *arg,
		      unsigned timeout_ms)
{
	uint64_t deadline;

	uv_update_time(&c->loop);
	deadline = uv_now(&c->loop) + timeout_ms;
	while (!pred(arg)) {
		if (uv_now(&c->loop) >= deadline)
			return false;
		uv_run(&c->loop, UV_RUN_ONCE);
	}
	return true;
}

static void node_open(struct cluster *c, size_t i, bool bootstrap)
{
	struct node *nd = &c->nodes[i];
	struct ows_raft_fsm fsm = {
		.ud = &nd->fsm,
		.apply = tfsm_apply,
		.snapshot = tfsm_snapshot,
		.restore = tfsm_restore,
	};

	OWS_CHECK(!nd->open);
	OWS_CHECK_INT(ows_raft_new(&c->loop, nd->dir, nd->id, nd->addr,
				   &c->opts, &fsm, &nd->r),
		      0);
	if (bootstrap)
		OWS_CHECK_INT(ows_raft_bootstrap(nd->r), 0);
	OWS_CHECK_INT(ows_raft_start(nd->r), 0);
	nd->open = true;
}

static void closed_cb(void *ud)
{
	struct node *nd = ud;

	nd->r = NULL;
}

static bool node_gone(void *arg)
{
	return ((struct node *)arg)->r == NULL;
}

static void node_close(struct cluster *c, size_t i)
{
	struct node *nd = &c->nodes[i];

	OWS_CHECK(nd->open);
	ows_raft_close(nd->r, closed_cb, nd);
	OWS_CHECK(run_until(c, node_gone, nd, 10000));
	nd->open = false;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Close every node and the loop, which must then have nothing left. */
static void cluster_fini(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->nodes[i].open)
			node_close(c, i);
		nftw(c->nodes[i].dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	uv_close((uv_handle_t *)&c->tick, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&c->loop), 0);
}

struct waiter {
	bool done;
	int status;
	uint64_t index; /* from the FSM's result */
};

static void apply_cb(void *ud, int status, void *result)
{
	struct waiter *w = ud;

	OWS_CHECK(!w->done);
	w->done = true;
	w->status = status;
	if (result != NULL) {
		w->index = *(uint64_t *)result;
		free(result);
	}
	if (status != 0)
		OWS_CHECK(result == NULL);
}

static void change_cb(void *ud, int status)
{
	struct waiter *w = ud;

	OWS_CHECK(!w->done);
	w->done = true;
	w->status = status;
}

static bool waiter_done(void *arg)
{
	return ((struct waiter *)arg)->done;
}

struct waiters {
	struct waiter *w;
	size_t n;
};

static bool all_done(void *arg)
{
	struct waiters *ws = arg;

	for (size_t i = 0; i < ws->n; i++)
		if (!ws->w[i].done)
			return false;
	return true;
}

static bool is_leader(void *arg)
{
	struct node *nd = arg;

	return nd->r != NULL && ows_raft_role(nd->r) == OWS_RAFT_LEADER;
}

/* Propose values first..first+n-1 on node i and wait for all of them. */
static void apply_values(struct cluster *c, size_t i, uint64_t first, size_t n)
{
	struct waiter *w = calloc(n, sizeof(*w));
	struct waiters ws = {w, n};

	OWS_CHECK(w != NULL);
	for (size_t k = 0; k < n; k++) {
		uint64_t v = first + k;

		OWS_CHECK_INT(ows_raft_apply(c->nodes[i].r, &v, sizeof(v),
					     apply_cb, &w[k]),
			      0);
	}
	OWS_CHECK(run_until(c, all_done, &ws, 20000));
	for (size_t k = 0; k < n; k++) {
		OWS_CHECK_INT(w[k].status, 0);
		OWS_CHECK(w[k].index > 0);
		if (k > 0)
			OWS_CHECK(w[k].index > w[k - 1].index);
	}
	free(w);
}

static void wait_leader(struct cluster *c, size_t i)
{
	OWS_CHECK(run_until(c, is_leader, &c->nodes[i], 10000));
}

static void start_single(struct cluster *c)
{
	cluster_init(c, 1);
	node_open(c, 0, true);
	wait_leader(c, 0);
}

OWS_TEST(raft_single_node_applies_in_order)
{
	struct cluster c;
	struct ows_raft_server s[2];
	struct waiter w[100] = {0};
	struct waiters ws = {w, 100};
	struct node *n1;
	char addr[64];
	uint64_t id;

	start_single(&c);
	n1 = &c.nodes[0];
	OWS_CHECK_STR(ows_raft_role_name(ows_raft_role(n1->r)), "leader");
	ows_raft_leader(n1->r, &id, addr);
	OWS_CHECK_INT(id, 1);
	OWS_CHECK_STR(addr, n1->addr);
	OWS_CHECK_INT(ows_raft_id(n1->r), 1);
	OWS_CHECK(ows_raft_term(n1->r) >= 1);
	OWS_CHECK_INT(ows_raft_servers(n1->r, s, 2), 1);
	OWS_CHECK_INT(s[0].id, 1);
	OWS_CHECK_STR(s[0].address, n1->addr);
	OWS_CHECK_INT(s[0].role, OWS_RAFT_VOTER);

	/* All in flight at once: the results must still find their owners. */
	for (uint64_t v = 0; v < 100; v++)
		OWS_CHECK_INT(ows_raft_apply(n1->r, &v, sizeof(v), apply_cb,
					     &w[v]),
			      0);
	OWS_CHECK(run_until(&c, all_done, &ws, 20000));
	tfsm_check(&n1->fsm, 100);
	/* Entry 1 is the bootstrap configuration; nothing else is logged. */
	for (size_t k = 0; k < 100; k++) {
		OWS_CHECK_INT(w[k].status, 0);
		OWS_CHECK_INT(n1->fsm.indexes[k], k + 2);
		OWS_CHECK_INT(w[k].index, k + 2);
	}
	OWS_CHECK_INT(ows_raft_applied_index(n1->r), n1->fsm.max_index);
	OWS_CHECK_INT(ows_raft_commit_index(n1->r), n1->fsm.max_index);
	OWS_CHECK_INT(ows_raft_last_index(n1->r), n1->fsm.max_index);
	OWS_CHECK_INT(n1->fsm.ignored, 0);
	cluster_fini(&c);
}

static bool caught_up(void *arg)
{
	struct node *nd = arg;

	return ows_raft_applied_index(nd->r) == ows_raft_last_index(nd->r);
}

OWS_TEST(raft_restart_resumes)
{
	struct cluster c;
	struct node *n1;
	uint64_t last;

	start_single(&c);
	n1 = &c.nodes[0];
	apply_values(&c, 0, 0, 50);
	last = n1->fsm.max_index;
	node_close(&c, 0);

	/* The same FSM (as if its state were durable): old indexes again. */
	OWS_CHECK_INT(ows_raft_new(&c.loop, n1->dir, 1, n1->addr, &c.opts,
				   &(struct ows_raft_fsm){&n1->fsm, tfsm_apply,
							  tfsm_snapshot,
							  tfsm_restore},
				   &n1->r),
		      0);
	OWS_CHECK_INT(ows_raft_bootstrap(n1->r), -EEXIST);
	OWS_CHECK_INT(ows_raft_start(n1->r), 0);
	n1->open = true;
	wait_leader(&c, 0);
	apply_values(&c, 0, 50, 1);
	OWS_CHECK(run_until(&c, caught_up, n1, 10000));
	tfsm_check(&n1->fsm, 51);
	OWS_CHECK(n1->fsm.max_index > last);
	node_close(&c, 0);

	/* A fresh FSM: the whole log is applied again, in order. */
	memset(&n1->fsm, 0, sizeof(n1->fsm));
	node_open(&c, 0, false);
	wait_leader(&c, 0);
	apply_values(&c, 0, 51, 1);
	OWS_CHECK(run_until(&c, caught_up, n1, 10000));
	tfsm_check(&n1->fsm, 52);
	OWS_CHECK_INT(n1->fsm.ignored, 0);
	OWS_CHECK_INT(n1->fsm.restores, 0);
	cluster_fini(&c);
}

static bool has_snapshot_file(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls %s | grep -q '^snapshot-'", dir);
	return system(cmd) == 0;
}

OWS_TEST(raft_snapshot_and_restore)
{
	struct cluster c;
	struct node *n1;

	cluster_init(&c, 1);
	c.opts.snapshot_threshold = 16;
	c.opts.snapshot_trailing = 4;
	node_open(&c, 0, true);
	wait_leader(&c, 0);
	n1 = &c.nodes[0];
	for (uint64_t v = 0; v < 100; v += 10)
		apply_values(&c, 0, v, 10);
	tfsm_check(&n1->fsm, 100);
	OWS_CHECK(n1->fsm.snapshots >= 1);
	node_close(&c, 0);
	OWS_CHECK(has_snapshot_file(n1->dir));

	memset(&n1->fsm, 0, sizeof(n1->fsm));
	node_open(&c, 0, false);
	OWS_CHECK_INT(n1->fsm.restores, 1);
	OWS_CHECK(n1->fsm.n > 0);
	wait_leader(&c, 0);
	apply_values(&c, 0, 100, 5);
	OWS_CHECK(run_until(&c, caught_up, n1, 10000));
	tfsm_check(&n1->fsm, 105);
	cluster_fini(&c);
}

/* Start a membership change with fn and wait for it to succeed. */
static void change(struct cluster *c, int (*fn)(struct waiter *w, void *arg),
		   void *arg)
{
	struct waiter w = {0};

	OWS_CHECK_INT(fn(&w, arg), 0);
	OWS_CHECK(run_until(c, waiter_done, &w, 20000));
	OWS_CHECK_INT(w.status, 0);
}

struct change_arg {
	struct ows_raft *r;
	struct node *nd;
};

static int do_add(struct waiter *w, void *arg)
{
	struct change_arg *a = arg;

	return ows_raft_add(a->r, a->nd->id, a->nd->addr, change_cb, w);
}

static int do_promote(struct waiter *w, void *arg)
{
	struct change_arg *a = arg;

	return ows_raft_assign(a->r, a->nd->id, OWS_RAFT_VOTER, change_cb, w);
}

static int do_remove(struct waiter *w, void *arg)
{
	struct change_arg *a = arg;

	return ows_raft_remove(a->r, a->nd->id, change_cb, w);
}

/* Every open node has applied exactly n values, the same ones. */
struct converge_arg {
	struct cluster *c;
	size_t n;
};

static bool converged(void *arg)
{
	struct converge_arg *a = arg;

	for (size_t i = 0; i < a->c->n; i++)
		if (a->c->nodes[i].open && a->c->nodes[i].fsm.n != a->n)
			return false;
	return true;
}

static void check_converged(struct cluster *c, size_t n)
{
	struct converge_arg a = {c, n};

	const struct tfsm *ref = NULL;

	OWS_CHECK(run_until(c, converged, &a, 20000));
	for (size_t i = 0; i < c->n; i++) {
		const struct tfsm *f = &c->nodes[i].fsm;

		if (!c->nodes[i].open)
			continue;
		tfsm_check(f, n);
		/* Every node saw each value at the same index. */
		if (ref == NULL)
			ref = f;
		OWS_CHECK(memcmp(f->indexes, ref->indexes,
				 n * sizeof(uint64_t)) == 0);
	}
}

/* Node 1 bootstraps, nodes 2 and 3 join as voters; 10 values applied. */
static void start_three_with(struct cluster *c,
			     const struct ows_raft_options *opts)
{
	cluster_init(c, 3);
	if (opts != NULL)
		c->opts = *opts;
	node_open(c, 0, true);
	wait_leader(c, 0);
	node_open(c, 1, false);
	node_open(c, 2, false);
	for (size_t i = 1; i < 3; i++) {
		struct change_arg a = {c->nodes[0].r, &c->nodes[i]};

		change(c, do_add, &a);
		change(c, do_promote, &a);
	}
	apply_values(c, 0, 0, 10);
	check_converged(c, 10);
}

static void start_three(struct cluster *c)
{
	start_three_with(c, NULL);
}

OWS_TEST(raft_three_nodes_converge)
{
	struct cluster c;
	struct ows_raft_server s[4];
	struct waiter w = {0};
	uint64_t v = 99, id;
	char addr[64];

	start_three(&c);
	OWS_CHECK_INT(ows_raft_servers(c.nodes[0].r, s, 4), 3);
	for (size_t i = 0; i < 3; i++) {
		OWS_CHECK_INT(s[i].id, i + 1);
		OWS_CHECK_STR(s[i].address, c.nodes[i].addr);
		OWS_CHECK_INT(s[i].role, OWS_RAFT_VOTER);
	}
	apply_values(&c, 0, 10, 40);
	check_converged(&c, 50);
	for (size_t i = 1; i < 3; i++) {
		struct ows_raft *r = c.nodes[i].r;

		OWS_CHECK_INT(ows_raft_role(r), OWS_RAFT_FOLLOWER);
		OWS_CHECK_INT(ows_raft_apply(r, &v, sizeof(v), apply_cb, &w),
			      OWS_ENOTLEADER);
		OWS_CHECK_INT(ows_raft_add(r, 9, "127.0.0.1:1", change_cb, &w),
			      OWS_ENOTLEADER);
		ows_raft_leader(r, &id, addr);
		OWS_CHECK_INT(id, 1);
		OWS_CHECK_STR(addr, c.nodes[0].addr);
		OWS_CHECK_INT(ows_raft_servers(r, s, 4), 3);
	}
	OWS_CHECK(!w.done);
	cluster_fini(&c);
}

static bool other_leader(void *arg)
{
	struct cluster *c = arg;

	return is_leader(&c->nodes[1]) || is_leader(&c->nodes[2]);
}

OWS_TEST(raft_leader_failover)
{
	struct cluster c;
	size_t leader;

	start_three(&c);
	node_close(&c, 0);
	OWS_CHECK(run_until(&c, other_leader, &c, 20000));
	leader = is_leader(&c.nodes[1]) ? 1 : 2;
	apply_values(&c, leader, 10, 10);
	check_converged(&c, 20);
	cluster_fini(&c);
}

static bool is_leader_2(void *arg)
{
	return is_leader(&((struct cluster *)arg)->nodes[1]);
}

OWS_TEST(raft_transfer_leadership)
{
	struct cluster c;
	struct waiter w = {0};

	start_three(&c);
	OWS_CHECK_INT(ows_raft_transfer(c.nodes[0].r, 2, change_cb, &w), 0);
	OWS_CHECK(run_until(&c, waiter_done, &w, 20000));
	OWS_CHECK_INT(w.status, 0);
	OWS_CHECK(run_until(&c, is_leader_2, &c, 20000));
	apply_values(&c, 1, 10, 5);
	check_converged(&c, 15);
	cluster_fini(&c);
}

OWS_TEST(raft_follower_catches_up_by_snapshot)
{
	struct cluster c;

	/* Snapshot often and keep little log, so node 3 falls behind it. */
	start_three_with(&c, &(struct ows_raft_options){
				     .election_timeout_ms = 300,
				     .heartbeat_timeout_ms = 50,
				     .snapshot_threshold = 16,
				     .snapshot_trailing = 4,
			     });
	node_close(&c, 2);
	for (uint64_t v = 10; v < 70; v += 10)
		apply_values(&c, 0, v, 10);
	OWS_CHECK(c.nodes[0].fsm.snapshots >= 1);
	node_open(&c, 2, false);
	check_converged(&c, 70);
	OWS_CHECK(c.nodes[2].fsm.restores >= 1);
	cluster_fini(&c);
}

OWS_TEST(raft_remove_member)
{
	struct cluster c;
	struct ows_raft_server s[4];
	struct change_arg a;
	size_t n;

	start_three(&c);
	a = (struct change_arg){c.nodes[0].r, &c.nodes[2]};
	change(&c, do_remove, &a);
	n = ows_raft_servers(c.nodes[0].r, s, 4);
	OWS_CHECK_INT(n, 2);
	for (size_t i = 0; i < n; i++)
		OWS_CHECK(s[i].id != 3);
	/* Two voters left: the leader still commits with node 2 alone. */
	node_close(&c, 2);
	apply_values(&c, 0, 10, 5);
	check_converged(&c, 15);
	cluster_fini(&c);
}

OWS_TEST(raft_close_cancels_pending)
{
	struct cluster c;
	struct waiter w[20] = {0};

	start_single(&c);
	for (uint64_t v = 0; v < 20; v++)
		OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					     apply_cb, &w[v]),
			      0);
	node_close(&c, 0);
	for (size_t k = 0; k < 20; k++) {
		OWS_CHECK(w[k].done);
		OWS_CHECK(w[k].status == 0 || w[k].status == -ECANCELED);
	}
	cluster_fini(&c);
}

OWS_TEST(raft_new_rejects_bad_arguments)
{
	struct cluster c;
	struct ows_raft_options bad = {.election_timeout_ms = 100,
				       .heartbeat_timeout_ms = 100};
	struct ows_raft_fsm fsm = {NULL, tfsm_apply, tfsm_snapshot,
				   tfsm_restore};
	struct ows_raft *r = NULL;
	struct node *n1;

	cluster_init(&c, 1);
	n1 = &c.nodes[0];
	OWS_CHECK_INT(ows_raft_new(&c.loop, n1->dir, 0, n1->addr, NULL, &fsm,
				   &r),
		      OWS_EINVAL);
	OWS_CHECK_INT(ows_raft_new(&c.loop, n1->dir, 1, n1->addr, &bad, &fsm,
				   &r),
		      OWS_EINVAL);
	fsm.restore = NULL;
	OWS_CHECK_INT(ows_raft_new(&c.loop, n1->dir, 1, n1->addr, NULL, &fsm,
				   &r),
		      OWS_EINVAL);
	OWS_CHECK(r == NULL);
	/* Closing a member that never started is fine. */
	fsm.restore = tfsm_restore;
	fsm.ud = &n1->fsm;
	OWS_CHECK_INT(ows_raft_new(&c.loop, n1->dir, 1, n1->addr, NULL, &fsm,
				   &n1->r),
		      0);
	OWS_CHECK_INT(ows_raft_role(n1->r), OWS_RAFT_UNAVAILABLE);
	OWS_CHECK_INT(ows_raft_apply(n1->r, "x", 1, apply_cb, NULL),
		      OWS_ENOTLEADER);
	n1->open = true;
	cluster_fini(&c);
}

OWS_TEST(raft_close_fails_uncommitted)
{
	struct cluster c;
	struct waiter w[5] = {0};

	start_three(&c);
	node_close(&c, 1);
	node_close(&c, 2);
	/* No quorum left: these are stored but never committed. */
	for (uint64_t v = 0; v < 5; v++) {
		int rv = ows_raft_apply(c.nodes[0].r, &v, sizeof(v), apply_cb,
					&w[v]);

		if (rv != 0) {
			OWS_CHECK_INT(rv, OWS_ENOTLEADER);
			w[v].done = true;
			w[v].status = rv;
		}
	}
	node_close(&c, 0);
	for (size_t k = 0; k < 5; k++) {
		OWS_CHECK(w[k].done);
		OWS_CHECK(w[k].status == -ECANCELED ||
			  w[k].status == OWS_ENOTLEADER);
	}
	OWS_CHECK_INT(c.nodes[0].fsm.n, 10);
	cluster_fini(&c);
}
