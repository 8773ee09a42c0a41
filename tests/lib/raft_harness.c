/*
 * The Raft test harness (see raft_harness.h): the test FSM, a cluster of
 * nodes on one loop with free ports and temporary directories, and the
 * helpers that drive the loop until something holds or time runs out.
 */
#include "raft_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "unit.h"

int ows_test_raft_fsm_apply(void *ud, uint64_t index, const void *data,
			    size_t len, void **result)
{
	struct ows_test_raft_fsm *f = ud;
	uint64_t *res;

	if (f->fail != 0)
		return f->fail;
	if (index <= f->max_index) {
		f->ignored++;
		return 0;
	}
	OWS_CHECK_INT(len, sizeof(uint64_t));
	OWS_CHECK(f->n < OWS_TEST_RAFT_MAX_VALUES);
	memcpy(&f->values[f->n], data, sizeof(uint64_t));
	f->indexes[f->n] = index;
	f->n++;
	f->max_index = index;
	if (result == NULL)
		return 0; /* nobody waits for this one here */
	res = malloc(sizeof(*res));
	OWS_CHECK(res != NULL);
	*res = index;
	*result = res;
	return 0;
}

int ows_test_raft_fsm_snapshot(void *ud, void **data, size_t *len)
{
	struct ows_test_raft_fsm *f = ud;
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

int ows_test_raft_fsm_restore(void *ud, const void *data, size_t len)
{
	struct ows_test_raft_fsm *f = ud;
	uint64_t head[2];

	OWS_CHECK(len >= sizeof(head));
	memcpy(head, data, sizeof(head));
	OWS_CHECK(head[1] <= OWS_TEST_RAFT_MAX_VALUES);
	OWS_CHECK_INT(len, (2 + 2 * head[1]) * sizeof(uint64_t));
	f->max_index = head[0];
	f->n = head[1];
	memcpy(f->values, (const uint64_t *)data + 2, f->n * sizeof(uint64_t));
	memcpy(f->indexes, (const uint64_t *)data + 2 + f->n,
	       f->n * sizeof(uint64_t));
	f->restores++;
	return 0;
}

void ows_test_raft_fsm_check(const struct ows_test_raft_fsm *f, size_t n)
{
	OWS_CHECK_INT(f->n, n);
	for (size_t i = 0; i < f->n; i++) {
		OWS_CHECK_INT(f->values[i], i);
		if (i > 0)
			OWS_CHECK(f->indexes[i] > f->indexes[i - 1]);
	}
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Distinct free ports: all probe sockets stay bound until all are known. */
static void free_ports(unsigned short *ports, size_t n)
{
	int fds[OWS_TEST_RAFT_MAX_NODES];

	OWS_CHECK(n <= OWS_TEST_RAFT_MAX_NODES);
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in sa = {0};
		socklen_t sl = sizeof(sa);

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		OWS_CHECK(fds[i] >= 0);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		OWS_CHECK(bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) ==
			  0);
		OWS_CHECK(getsockname(fds[i], (struct sockaddr *)&sa, &sl) ==
			  0);
		ports[i] = ntohs(sa.sin_port);
	}
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

void ows_test_raft_cluster_init(struct ows_test_raft_cluster *c, size_t n)
{
	unsigned short ports[OWS_TEST_RAFT_MAX_NODES];

	memset(c, 0, sizeof(*c));
	ows_log_threshold = OWS_LOG_ERROR;
	/* libuv leaves SIGPIPE alone; a peer closing mid-write would kill us.
	 */
	signal(SIGPIPE, SIG_IGN);
	OWS_CHECK_INT(uv_loop_init(&c->loop), 0);
	OWS_CHECK_INT(uv_timer_init(&c->loop, &c->tick), 0);
	OWS_CHECK_INT(uv_timer_start(&c->tick, tick_cb, 5, 5), 0);
	c->opts.election_timeout_ms = 300;
	c->opts.heartbeat_timeout_ms = 50;
	c->n = n;
	free_ports(ports, n);
	for (size_t i = 0; i < n; i++) {
		struct ows_test_raft_node *nd = &c->nodes[i];

		nd->id = i + 1;
		snprintf(nd->dir, sizeof(nd->dir), "/tmp/ows-raft-XXXXXX");
		OWS_CHECK(mkdtemp(nd->dir) != NULL);
		snprintf(nd->addr, sizeof(nd->addr), "127.0.0.1:%u", ports[i]);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ows_test_raft_cluster_fini(struct ows_test_raft_cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->nodes[i].open)
			ows_test_raft_node_close(c, i);
		nftw(c->nodes[i].dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	uv_close((uv_handle_t *)&c->tick, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&c->loop), 0);
}

/* One turn of every loop that runs; the cluster's may wait for its tick. */
static void run_once(struct ows_test_raft_cluster *c)
{
	bool own = false;

	for (size_t i = 0; i < c->n; i++) {
		uv_loop_t *l = c->nodes[i].loop;

		if (l == NULL || l == &c->loop || c->nodes[i].frozen)
			continue;
		own = true;
		uv_run(l, UV_RUN_NOWAIT);
	}
	if (!c->frozen) {
		uv_run(&c->loop, own ? UV_RUN_NOWAIT : UV_RUN_ONCE);
		if (!own)
			return;
	}
	usleep(1000);
	uv_update_time(&c->loop);
}

bool ows_test_raft_run_until(struct ows_test_raft_cluster *c,
			     bool (*pred)(void *), void *arg,
			     unsigned timeout_ms)
{
	uint64_t deadline;

	uv_update_time(&c->loop);
	deadline = uv_now(&c->loop) + timeout_ms;
	while (!pred(arg)) {
		if (uv_now(&c->loop) >= deadline)
			return false;
		run_once(c);
	}
	return true;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

void ows_test_raft_run_for(struct ows_test_raft_cluster *c, unsigned ms)
{
	OWS_CHECK(!ows_test_raft_run_until(c, never, NULL, ms));
}

void ows_test_raft_node_open(struct ows_test_raft_cluster *c, size_t i,
			     bool bootstrap)
{
	struct ows_test_raft_node *nd = &c->nodes[i];
	struct ows_raft_fsm fsm = {
	    .ud = &nd->fsm,
	    .apply = ows_test_raft_fsm_apply,
	    .snapshot = ows_test_raft_fsm_snapshot,
	    .restore = ows_test_raft_fsm_restore,
	};
	struct ows_raft_options opts = c->opts;

	OWS_CHECK(!nd->open);
	opts.auth = nd->auth;
	OWS_CHECK_INT(ows_raft_new(nd->loop != NULL ? nd->loop : &c->loop,
				   nd->dir, nd->id, nd->addr, &opts,
				   &fsm, &nd->r),
		      0);
	if (bootstrap)
		OWS_CHECK_INT(ows_raft_bootstrap(nd->r), 0);
	OWS_CHECK_INT(ows_raft_start(nd->r), 0);
	nd->open = true;
}

static void closed_cb(void *ud)
{
	struct ows_test_raft_node *nd = ud;

	nd->r = NULL;
}

static bool node_gone(void *arg)
{
	return ((struct ows_test_raft_node *)arg)->r == NULL;
}

void ows_test_raft_node_close(struct ows_test_raft_cluster *c, size_t i)
{
	struct ows_test_raft_node *nd = &c->nodes[i];

	OWS_CHECK(nd->open);
	ows_raft_close(nd->r, closed_cb, nd);
	OWS_CHECK(ows_test_raft_run_until(c, node_gone, nd, 10000));
	nd->open = false;
}

void ows_test_raft_apply_cb(void *ud, int status, void *result)
{
	struct ows_test_raft_waiter *w = ud;

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

void ows_test_raft_change_cb(void *ud, int status)
{
	struct ows_test_raft_waiter *w = ud;

	OWS_CHECK(!w->done);
	w->done = true;
	w->status = status;
}

bool ows_test_raft_waiter_done(void *arg)
{
	return ((struct ows_test_raft_waiter *)arg)->done;
}

bool ows_test_raft_is_leader(void *arg)
{
	struct ows_test_raft_node *nd = arg;

	return nd->r != NULL && ows_raft_role(nd->r) == OWS_RAFT_LEADER;
}

bool ows_test_raft_other_leader(void *arg)
{
	struct ows_test_raft_cluster *c = arg;

	return ows_test_raft_is_leader(&c->nodes[1]) ||
	       ows_test_raft_is_leader(&c->nodes[2]);
}

void ows_test_raft_wait_leader(struct ows_test_raft_cluster *c, size_t i)
{
	OWS_CHECK(ows_test_raft_run_until(c, ows_test_raft_is_leader,
					  &c->nodes[i], 10000));
}

bool ows_test_raft_all_done(void *arg)
{
	struct ows_test_raft_waiters *ws = arg;

	for (size_t i = 0; i < ws->n; i++)
		if (!ws->w[i].done)
			return false;
	return true;
}

void ows_test_raft_apply_values(struct ows_test_raft_cluster *c, size_t i,
				uint64_t first, size_t n)
{
	struct ows_test_raft_waiter *w = calloc(n, sizeof(*w));
	struct ows_test_raft_waiters ws = {w, n};

	OWS_CHECK(w != NULL);
	for (size_t k = 0; k < n; k++) {
		uint64_t v = first + k;

		OWS_CHECK_INT(ows_raft_apply(c->nodes[i].r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w[k]),
			      0);
	}
	OWS_CHECK(
	    ows_test_raft_run_until(c, ows_test_raft_all_done, &ws, 20000));
	for (size_t k = 0; k < n; k++) {
		OWS_CHECK_INT(w[k].status, 0);
		OWS_CHECK(w[k].index > 0);
		if (k > 0)
			OWS_CHECK(w[k].index > w[k - 1].index);
	}
	free(w);
}

void ows_test_raft_join(struct ows_test_raft_cluster *c, size_t i, size_t j,
			enum ows_raft_member_role role)
{
	struct ows_test_raft_node *nd = &c->nodes[j];
	struct ows_test_raft_waiter w = {0}, w2 = {0};

	OWS_CHECK_INT(ows_raft_add(c->nodes[i].r, nd->id, nd->addr,
				   ows_test_raft_change_cb, &w),
		      0);
	OWS_CHECK(
	    ows_test_raft_run_until(c, ows_test_raft_waiter_done, &w, 20000));
	OWS_CHECK_INT(w.status, 0);
	OWS_CHECK_INT(ows_raft_assign(c->nodes[i].r, nd->id, role,
				      ows_test_raft_change_cb, &w2),
		      0);
	OWS_CHECK(
	    ows_test_raft_run_until(c, ows_test_raft_waiter_done, &w2, 20000));
	OWS_CHECK_INT(w2.status, 0);
}

struct converge_arg {
	struct ows_test_raft_cluster *c;
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

void ows_test_raft_check_converged(struct ows_test_raft_cluster *c, size_t n)
{
	struct converge_arg a = {c, n};
	const struct ows_test_raft_fsm *ref = NULL;

	OWS_CHECK(ows_test_raft_run_until(c, converged, &a, 20000));
	for (size_t i = 0; i < c->n; i++) {
		const struct ows_test_raft_fsm *f = &c->nodes[i].fsm;

		if (!c->nodes[i].open)
			continue;
		ows_test_raft_fsm_check(f, n);
		/* Every node saw each value at the same index. */
		if (ref == NULL)
			ref = f;
		OWS_CHECK(memcmp(f->indexes, ref->indexes,
				 n * sizeof(uint64_t)) == 0);
	}
}

void ows_test_raft_form_three(struct ows_test_raft_cluster *c)
{
	OWS_CHECK(c->n >= 3);
	ows_test_raft_node_open(c, 0, true);
	ows_test_raft_wait_leader(c, 0);
	ows_test_raft_node_open(c, 1, false);
	ows_test_raft_node_open(c, 2, false);
	ows_test_raft_join(c, 0, 1, OWS_RAFT_VOTER);
	ows_test_raft_join(c, 0, 2, OWS_RAFT_VOTER);
}
