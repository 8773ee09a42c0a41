/*
 * Tests of the authenticated Raft transport (src/raft/transport.c) over real
 * TCP on 127.0.0.1: nodes with each other's Ed25519 keys form a cluster and
 * fail over; a node that does not know a peer's key, signs with the wrong
 * key or names another cluster never gets a connection, until that is
 * fixed; plain libraft nodes and authenticated ones cannot talk; raw
 * sockets speaking garbage, half a handshake or a forged one are dropped
 * while the cluster carries on; a silent peer times out, and closing a node
 * mid-handshake cancels cleanly. The test FSM keeps the payloads (8-byte
 * sequence numbers) in apply order, as in test_raft.c.
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

#include "auth/key.h"
#include "common/err.h"
#include "common/log.h"
#include "../lib/unit.h"

#define MAX_VALUES 1024
#define MAX_NODES 4
#define CLUSTER "ows-0123456789ab"

struct tfsm {
	uint64_t max_index;
	size_t n;
	uint64_t values[MAX_VALUES];
};

static int tfsm_apply(void *ud, uint64_t index, const void *data, size_t len,
		      void **result)
{
	struct tfsm *f = ud;
	uint64_t *res;

	if (index <= f->max_index)
		return 0;
	OWS_CHECK_INT(len, sizeof(uint64_t));
	OWS_CHECK(f->n < MAX_VALUES);
	memcpy(&f->values[f->n++], data, sizeof(uint64_t));
	f->max_index = index;
	res = malloc(sizeof(*res));
	OWS_CHECK(res != NULL);
	*res = index;
	*result = res;
	return 0;
}

static int tfsm_snapshot(void *ud, void **data, size_t *len)
{
	struct tfsm *f = ud;
	size_t size = (2 + f->n) * sizeof(uint64_t);
	uint64_t *p = malloc(size);

	if (p == NULL)
		return -ENOMEM;
	p[0] = f->max_index;
	p[1] = f->n;
	memcpy(p + 2, f->values, f->n * sizeof(uint64_t));
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
	OWS_CHECK_INT(len, (2 + head[1]) * sizeof(uint64_t));
	f->max_index = head[0];
	f->n = head[1];
	memcpy(f->values, (const uint64_t *)data + 2, f->n * sizeof(uint64_t));
	return 0;
}

/*
 * What a node knows: its own key and its peers' public keys by id (an
 * empty one is unknown), with counts of the verdicts it gave.
 */
struct keyring {
	struct ows_key *key;
	char pub[MAX_NODES + 1][OWS_PUBKEY_B64_LEN];
	unsigned verified, refused;
};

static int kr_sign(void *ud, const void *msg, size_t len, char sig[89])
{
	struct keyring *kr = ud;

	return ows_key_sign(kr->key, msg, len, sig);
}

static bool kr_verify(void *ud, uint64_t id, const void *msg, size_t len,
		      const char *sig)
{
	struct keyring *kr = ud;
	bool ok = id <= MAX_NODES && kr->pub[id][0] != '\0' &&
		  ows_sig_verify(kr->pub[id], msg, len, sig);

	if (ok)
		kr->verified++;
	else
		kr->refused++;
	return ok;
}

struct node {
	struct ows_raft *r;
	struct tfsm fsm;
	struct keyring kr;
	struct ows_key *key; /* the key the others have on file */
	char cluster[65];
	bool plain; /* libraft's TCP transport, no authentication */
	uint64_t id;
	char dir[64];
	char addr[64];
	bool open;
};

struct cluster {
	uv_loop_t loop;
	uv_timer_t tick;
	struct ows_raft_options opts;
	struct node nodes[MAX_NODES];
	size_t n;
};

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

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

/* n nodes with ids 1..n, each with its own key and all the others'. */
static void cluster_init(struct cluster *c, size_t n)
{
	unsigned short ports[MAX_NODES];

	memset(c, 0, sizeof(*c));
	ows_log_threshold = OWS_LOG_ERROR;
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
		snprintf(nd->cluster, sizeof(nd->cluster), "%s", CLUSTER);
		OWS_CHECK_INT(ows_key_generate(&nd->key), 0);
		nd->kr.key = nd->key;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			ows_key_public(c->nodes[j].key,
				       c->nodes[i].kr.pub[j + 1]);
}

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

static bool never(void *arg)
{
	(void)arg;
	return false;
}

/* Let the cluster run for ms. */
static void run_for(struct cluster *c, unsigned ms)
{
	OWS_CHECK(!run_until(c, never, NULL, ms));
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
	struct ows_raft_auth auth = {
		.cluster = nd->cluster,
		.ud = &nd->kr,
		.sign = kr_sign,
		.verify = kr_verify,
	};
	struct ows_raft_options opts = c->opts;

	OWS_CHECK(!nd->open);
	opts.auth = nd->plain ? NULL : &auth;
	OWS_CHECK_INT(ows_raft_new(&c->loop, nd->dir, nd->id, nd->addr, &opts,
				   &fsm, &nd->r),
		      0);
	if (bootstrap)
		OWS_CHECK_INT(ows_raft_bootstrap(nd->r), 0);
	OWS_CHECK_INT(ows_raft_start(nd->r), 0);
	nd->open = true;
}

static void closed_cb(void *ud)
{
	((struct node *)ud)->r = NULL;
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

/* Close every node, then the loop, which must have nothing left. */
static void cluster_fini(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct node *nd = &c->nodes[i];

		if (nd->open)
			node_close(c, i);
		nftw(nd->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (nd->kr.key != nd->key)
			ows_key_free(nd->kr.key);
		ows_key_free(nd->key);
	}
	uv_close((uv_handle_t *)&c->tick, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&c->loop), 0);
}

struct waiter {
	bool done;
	int status;
};

static void apply_cb(void *ud, int status, void *result)
{
	struct waiter *w = ud;

	w->done = true;
	w->status = status;
	free(result);
}

static void change_cb(void *ud, int status)
{
	struct waiter *w = ud;

	w->done = true;
	w->status = status;
}

static bool waiter_done(void *arg)
{
	return ((struct waiter *)arg)->done;
}

static bool is_leader(void *arg)
{
	struct node *nd = arg;

	return nd->r != NULL && ows_raft_role(nd->r) == OWS_RAFT_LEADER;
}

static void wait_leader(struct cluster *c, size_t i)
{
	OWS_CHECK(run_until(c, is_leader, &c->nodes[i], 10000));
}

/* Propose values first..first+n-1 on node i, one at a time. */
static void apply_values(struct cluster *c, size_t i, uint64_t first, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct waiter w = {0};
		uint64_t v = first + k;

		OWS_CHECK_INT(ows_raft_apply(c->nodes[i].r, &v, sizeof(v),
					     apply_cb, &w),
			      0);
		OWS_CHECK(run_until(c, waiter_done, &w, 20000));
		OWS_CHECK_INT(w.status, 0);
	}
}

/* Add node j on leader i and give it role; wait for the change. */
static void join(struct cluster *c, size_t i, size_t j,
		 enum ows_raft_member_role role)
{
	struct node *nd = &c->nodes[j];
	struct waiter w = {0}, w2 = {0};

	OWS_CHECK_INT(ows_raft_add(c->nodes[i].r, nd->id, nd->addr, change_cb,
				   &w),
		      0);
	OWS_CHECK(run_until(c, waiter_done, &w, 20000));
	OWS_CHECK_INT(w.status, 0);
	OWS_CHECK_INT(ows_raft_assign(c->nodes[i].r, nd->id, role, change_cb,
				      &w2),
		      0);
	OWS_CHECK(run_until(c, waiter_done, &w2, 20000));
	OWS_CHECK_INT(w2.status, 0);
}

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

/* Every open node has applied exactly the values 0..n-1, in order. */
static void check_converged(struct cluster *c, size_t n)
{
	struct converge_arg a = {c, n};

	OWS_CHECK(run_until(c, converged, &a, 20000));
	for (size_t i = 0; i < c->n; i++) {
		if (!c->nodes[i].open)
			continue;
		for (size_t k = 0; k < n; k++)
			OWS_CHECK_INT(c->nodes[i].fsm.values[k], k);
	}
}

/* Node 1 bootstraps; nodes 2 and 3 join as voters; 10 values applied. */
static void start_three(struct cluster *c)
{
	cluster_init(c, 3);
	node_open(c, 0, true);
	wait_leader(c, 0);
	node_open(c, 1, false);
	node_open(c, 2, false);
	join(c, 0, 1, OWS_RAFT_VOTER);
	join(c, 0, 2, OWS_RAFT_VOTER);
	apply_values(c, 0, 0, 10);
	check_converged(c, 10);
}

static bool other_leader(void *arg)
{
	struct cluster *c = arg;

	return is_leader(&c->nodes[1]) || is_leader(&c->nodes[2]);
}

OWS_TEST(raft_auth_three_nodes_converge_and_fail_over)
{
	struct cluster c;
	size_t leader;

	start_three(&c);
	for (size_t i = 0; i < 3; i++) {
		OWS_CHECK(c.nodes[i].kr.verified > 0);
		OWS_CHECK_INT(c.nodes[i].kr.refused, 0);
	}
	apply_values(&c, 0, 10, 20);
	check_converged(&c, 30);

	node_close(&c, 0);
	OWS_CHECK(run_until(&c, other_leader, &c, 20000));
	leader = is_leader(&c.nodes[1]) ? 1 : 2;
	apply_values(&c, leader, 30, 10);
	check_converged(&c, 40);

	/* The old leader comes back and is let in again. */
	node_open(&c, 0, false);
	check_converged(&c, 40);
	OWS_CHECK_INT(c.nodes[0].kr.refused, 0);
	cluster_fini(&c);
}

static bool has_ten(void *arg)
{
	return ((struct node *)arg)->fsm.n == 10;
}

/*
 * Nodes 1 and 2 form the quorum; node 3 joins as a standby (it needs no
 * catch-up to be assigned) after spoil(c) broke its authentication. It must
 * get nothing; after fix(c) it must catch up, which shows that
 * authentication alone was what kept it out.
 */
static void refused_until_fixed(void (*spoil)(struct cluster *c),
				void (*fix)(struct cluster *c))
{
	struct cluster c;

	cluster_init(&c, 3);
	spoil(&c);
	node_open(&c, 0, true);
	wait_leader(&c, 0);
	node_open(&c, 1, false);
	node_open(&c, 2, false);
	join(&c, 0, 1, OWS_RAFT_VOTER);
	join(&c, 0, 2, OWS_RAFT_STANDBY);
	apply_values(&c, 0, 0, 10);
	OWS_CHECK(run_until(&c, has_ten, &c.nodes[1], 10000));
	/* Several of libraft's connect retries (1 s apart). */
	run_for(&c, 2500);
	OWS_CHECK_INT(c.nodes[2].fsm.n, 0);
	OWS_CHECK_INT(ows_raft_term(c.nodes[2].r), 0);
	fix(&c);
	check_converged(&c, 10);
	cluster_fini(&c);
}

/* Node 3 does not know nodes 1 and 2: it refuses their PROOF. */
static void forget_peers(struct cluster *c)
{
	c->nodes[2].kr.pub[1][0] = '\0';
	c->nodes[2].kr.pub[2][0] = '\0';
}

static void learn_peers(struct cluster *c)
{
	OWS_CHECK(c->nodes[2].kr.refused > 0);
	ows_key_public(c->nodes[0].key, c->nodes[2].kr.pub[1]);
	ows_key_public(c->nodes[1].key, c->nodes[2].kr.pub[2]);
}

OWS_TEST(raft_auth_unknown_peer_refused)
{
	refused_until_fixed(forget_peers, learn_peers);
}

/* Node 3 signs with a key the others do not have on file for it. */
static void wrong_key(struct cluster *c)
{
	OWS_CHECK_INT(ows_key_generate(&c->nodes[2].kr.key), 0);
}

static void right_key(struct cluster *c)
{
	/* The leader checked node 3's CHALLENGE and refused it. */
	OWS_CHECK(c->nodes[0].kr.refused > 0);
	OWS_CHECK_INT(c->nodes[2].kr.verified, 0);
	ows_key_free(c->nodes[2].kr.key);
	c->nodes[2].kr.key = c->nodes[2].key;
}

OWS_TEST(raft_auth_wrong_key_refused)
{
	refused_until_fixed(wrong_key, right_key);
}

/* Node 3 believes it is in another cluster: refused before any signature. */
static void other_cluster(struct cluster *c)
{
	snprintf(c->nodes[2].cluster, sizeof(c->nodes[2].cluster),
		 "ows-ffffffffffff");
}

static void same_cluster(struct cluster *c)
{
	OWS_CHECK_INT(c->nodes[2].kr.verified + c->nodes[2].kr.refused, 0);
	OWS_CHECK_INT(c->nodes[0].kr.refused, 0);
	/* The cluster id was copied at ows_raft_new: restart with the fix. */
	node_close(c, 2);
	snprintf(c->nodes[2].cluster, sizeof(c->nodes[2].cluster), "%s",
		 CLUSTER);
	node_open(c, 2, false);
}

OWS_TEST(raft_auth_cluster_mismatch_refused)
{
	refused_until_fixed(other_cluster, same_cluster);
}

/*
 * Two single-voter clusters, each with a standby of the other kind: an
 * authenticated leader (1) with a plain standby (2), and a plain leader (3)
 * with an authenticated standby (4). Neither standby gets anything.
 */
OWS_TEST(raft_auth_plain_and_authenticated_cannot_talk)
{
	struct cluster c;

	cluster_init(&c, 4);
	c.nodes[1].plain = true;
	c.nodes[2].plain = true;
	node_open(&c, 0, true);
	node_open(&c, 2, true);
	wait_leader(&c, 0);
	wait_leader(&c, 2);
	node_open(&c, 1, false);
	node_open(&c, 3, false);
	join(&c, 0, 1, OWS_RAFT_STANDBY);
	join(&c, 2, 3, OWS_RAFT_STANDBY);
	apply_values(&c, 0, 0, 5);
	apply_values(&c, 2, 0, 5);
	run_for(&c, 2500);
	OWS_CHECK_INT(c.nodes[0].fsm.n, 5);
	OWS_CHECK_INT(c.nodes[2].fsm.n, 5);
	OWS_CHECK_INT(c.nodes[1].fsm.n, 0);
	OWS_CHECK_INT(c.nodes[3].fsm.n, 0);
	OWS_CHECK_INT(ows_raft_term(c.nodes[1].r), 0);
	OWS_CHECK_INT(ows_raft_term(c.nodes[3].r), 0);
	cluster_fini(&c);
}

/* A blocking TCP connection to node i's Raft port. */
static int raw_connect(struct cluster *c, size_t i)
{
	struct sockaddr_in sa = {0};
	unsigned port;
	int fd;

	OWS_CHECK(sscanf(c->nodes[i].addr, "127.0.0.1:%u", &port) == 1);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	OWS_CHECK(fd >= 0);
	OWS_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static void raw_send(int fd, const void *data, size_t len)
{
	OWS_CHECK(write(fd, data, len) == (ssize_t)len);
}

/* A raw connection, and what came back on it. */
struct raw {
	int fd;
	uint8_t in[256];
	size_t len;
	size_t want; /* for raw_has */
	bool closed; /* EOF or reset */
};

/* Drain what arrived without blocking; true once the peer closed. */
static bool raw_closed(void *arg)
{
	struct raw *r = arg;

	while (!r->closed) {
		uint8_t buf[256];
		ssize_t n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			r->closed = true;
			break;
		}
		for (ssize_t k = 0; k < n && r->len < sizeof(r->in); k++)
			r->in[r->len++] = buf[k];
	}
	return r->closed;
}

static bool raw_has(void *arg)
{
	struct raw *r = arg;

	raw_closed(r);
	return r->closed || r->len >= r->want;
}

static void put64be(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* A well-formed HELLO from node `from` to node `to` (184 bytes). */
static void hello(uint8_t out[184], const char *cluster, uint64_t from,
		  uint64_t to, const char *address)
{
	memset(out, 0, 184);
	memcpy(out, "OWSRAFT1", 8);
	memcpy(out + 8, cluster, strlen(cluster));
	put64be(out + 72, from);
	put64be(out + 80, to);
	memcpy(out + 88, address, strlen(address));
	memset(out + 152, 0x5a, 32);
}

OWS_TEST(raft_auth_garbage_dropped)
{
	struct cluster c;
	struct raw garbage = {0}, foreign = {0}, forged = {0}, partial = {0};
	struct raw misdirected = {0};
	uint8_t buf[300];

	start_three(&c);

	memset(buf, 0xab, sizeof(buf));
	garbage.fd = raw_connect(&c, 0);
	raw_send(garbage.fd, buf, sizeof(buf));

	hello(buf, "ows-ffffffffffff", 2, 1, c.nodes[1].addr);
	foreign.fd = raw_connect(&c, 0);
	raw_send(foreign.fd, buf, 184);

	/* Meant for node 3. */
	hello(buf, CLUSTER, 2, 3, c.nodes[1].addr);
	misdirected.fd = raw_connect(&c, 0);
	raw_send(misdirected.fd, buf, 184);

	/* Claims to be node 2: gets a CHALLENGE, cannot answer it. */
	hello(buf, CLUSTER, 2, 1, c.nodes[1].addr);
	forged.fd = raw_connect(&c, 0);
	forged.want = 112;
	raw_send(forged.fd, buf, 184);
	OWS_CHECK(run_until(&c, raw_has, &forged, 5000));
	OWS_CHECK(forged.len >= 112);
	OWS_CHECK(memcmp(forged.in, "OWSRAFT1\0\0\0\0\0\0\0\1", 16) == 0);
	memset(buf, 0x11, 64);
	raw_send(forged.fd, buf, 64);

	partial.fd = raw_connect(&c, 0);
	raw_send(partial.fd, "OWSRAFT1", 8);

	OWS_CHECK(run_until(&c, raw_closed, &garbage, 2000));
	OWS_CHECK(run_until(&c, raw_closed, &foreign, 2000));
	OWS_CHECK(run_until(&c, raw_closed, &misdirected, 2000));
	OWS_CHECK(run_until(&c, raw_closed, &forged, 2000));
	OWS_CHECK_INT(garbage.len + foreign.len + misdirected.len, 0);
	OWS_CHECK_INT(forged.len, 112); /* never welcomed */
	OWS_CHECK(c.nodes[0].kr.refused > 0);
	OWS_CHECK(!raw_closed(&partial));
	/* Half a handshake is dropped after the 5 s handshake timeout. */
	OWS_CHECK(run_until(&c, raw_closed, &partial, 8000));
	OWS_CHECK_INT(partial.len, 0);
	close(garbage.fd);
	close(foreign.fd);
	close(forged.fd);
	close(partial.fd);
	close(misdirected.fd);

	OWS_CHECK(is_leader(&c.nodes[0]));
	apply_values(&c, 0, 10, 10);
	check_converged(&c, 20);
	cluster_fini(&c);
}

/* A listening socket that accepts and then says nothing. */
static int silent_listener(char addr[64])
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	OWS_CHECK(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	OWS_CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	OWS_CHECK(listen(fd, 8) == 0);
	OWS_CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	snprintf(addr, 64, "127.0.0.1:%u", ntohs(sa.sin_port));
	return fd;
}

struct silent {
	int fd;
	struct raw conn;
};

static bool silent_accepted(void *arg)
{
	struct silent *s = arg;

	s->conn = (struct raw){.want = 184};
	s->conn.fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK);
	return s->conn.fd >= 0;
}

/* Accept node 1's next connection and read its HELLO. */
static void silent_hello(struct cluster *c, struct silent *s)
{
	uint8_t expect[184];

	OWS_CHECK(run_until(c, silent_accepted, s, 5000));
	OWS_CHECK(run_until(c, raw_has, &s->conn, 5000));
	OWS_CHECK_INT(s->conn.len, 184);
	hello(expect, CLUSTER, 1, 2, c->nodes[0].addr);
	OWS_CHECK(memcmp(s->conn.in, expect, 152) == 0);
}

/*
 * Node 1 gets a standby whose address answers nothing: each connect times
 * out after 5 s with fresh nonces the next time; closing node 1 with that
 * handshake and an inbound one in flight cancels both cleanly.
 */
OWS_TEST(raft_auth_silent_peer_times_out_and_close_cancels)
{
	struct cluster c;
	struct silent s;
	struct waiter w = {0}, w2 = {0};
	struct raw first, inbound = {0};
	char addr[64];
	uint64_t t0;

	cluster_init(&c, 1);
	s.fd = silent_listener(addr);
	node_open(&c, 0, true);
	wait_leader(&c, 0);
	OWS_CHECK_INT(ows_raft_add(c.nodes[0].r, 2, addr, change_cb, &w), 0);
	OWS_CHECK(run_until(&c, waiter_done, &w, 20000));
	OWS_CHECK_INT(ows_raft_assign(c.nodes[0].r, 2, OWS_RAFT_STANDBY,
				      change_cb, &w2),
		      0);
	OWS_CHECK(run_until(&c, waiter_done, &w2, 20000));
	OWS_CHECK_INT(w2.status, 0);

	silent_hello(&c, &s);
	first = s.conn;
	t0 = uv_now(&c.loop);
	OWS_CHECK(run_until(&c, raw_closed, &first, 8000));
	OWS_CHECK(uv_now(&c.loop) - t0 >= 4500);
	close(first.fd);

	/* libraft retries; the new HELLO carries a new nonce A. */
	silent_hello(&c, &s);
	OWS_CHECK(memcmp(first.in + 152, s.conn.in + 152, 32) != 0);
	inbound.fd = raw_connect(&c, 0);
	raw_send(inbound.fd, "OWSRAFT1", 8);
	run_for(&c, 100);

	node_close(&c, 0);
	OWS_CHECK(run_until(&c, raw_closed, &s.conn, 2000));
	OWS_CHECK(raw_closed(&inbound));
	close(s.conn.fd);
	close(inbound.fd);
	close(s.fd);
	cluster_fini(&c);
}
