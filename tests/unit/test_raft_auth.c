/*
 * Tests of the authenticated Raft transport (src/raft/transport.c) over real
 * TCP on 127.0.0.1: nodes with each other's Ed25519 keys form a cluster and
 * fail over; a node that does not know a peer's key, signs with the wrong
 * key or names another cluster never gets a connection, until that is
 * fixed; plain libraft nodes and authenticated ones cannot talk; raw
 * sockets speaking garbage, half a handshake or a forged one are dropped
 * while the cluster carries on; a silent peer times out, and closing a node
 * mid-handshake cancels cleanly. The test FSM keeps the payloads (8-byte
 * sequence numbers) in apply order; it and the cluster on one loop come
 * from tests/lib/raft_harness.c, as for test_raft.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/key.h"
#include "../lib/raft_harness.h"
#include "../lib/unit.h"

#define MAX_NODES OWS_TEST_RAFT_MAX_NODES
#define CLUSTER "ows-0123456789ab"

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

/* The authentication side of the harness's node of the same index. */
struct peer {
	struct keyring kr;
	struct ows_key *key; /* the key the others have on file */
	char cluster[65];
	struct ows_raft_auth auth; /* what the node opens with */
};

struct cluster {
	struct ows_test_raft_cluster h;
	struct peer p[MAX_NODES];
};

/* n nodes with ids 1..n, each with its own key and all the others'. */
static void cluster_init(struct cluster *c, size_t n)
{
	memset(c->p, 0, sizeof(c->p));
	ows_test_raft_cluster_init(&c->h, n);
	for (size_t i = 0; i < n; i++) {
		struct peer *p = &c->p[i];

		snprintf(p->cluster, sizeof(p->cluster), "%s", CLUSTER);
		OWS_CHECK_INT(ows_key_generate(&p->key), 0);
		p->kr.key = p->key;
		p->auth = (struct ows_raft_auth){
		    .cluster = p->cluster,
		    .ud = &p->kr,
		    .sign = kr_sign,
		    .verify = kr_verify,
		};
		c->h.nodes[i].auth = &p->auth;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			ows_key_public(c->p[j].key, c->p[i].kr.pub[j + 1]);
}

/* Close every node and the loop, then free the keys. */
static void cluster_fini(struct cluster *c)
{
	size_t n = c->h.n;

	ows_test_raft_cluster_fini(&c->h);
	for (size_t i = 0; i < n; i++) {
		struct peer *p = &c->p[i];

		if (p->kr.key != p->key)
			ows_key_free(p->kr.key);
		ows_key_free(p->key);
	}
}

/* Propose values first..first+n-1 on node i, one at a time. */
static void apply_values(struct cluster *c, size_t i, uint64_t first, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct ows_test_raft_waiter w = {0};
		uint64_t v = first + k;

		OWS_CHECK_INT(ows_raft_apply(c->h.nodes[i].r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w),
			      0);
		OWS_CHECK(ows_test_raft_run_until(
		    &c->h, ows_test_raft_waiter_done, &w, 20000));
		OWS_CHECK_INT(w.status, 0);
	}
}

/* Node 1 bootstraps; nodes 2 and 3 join as voters; 10 values applied. */
static void start_three(struct cluster *c)
{
	cluster_init(c, 3);
	ows_test_raft_form_three(&c->h);
	apply_values(c, 0, 0, 10);
	ows_test_raft_check_converged(&c->h, 10);
}

OWS_TEST(raft_auth_three_nodes_converge_and_fail_over)
{
	struct cluster c;
	size_t leader;

	start_three(&c);
	for (size_t i = 0; i < 3; i++) {
		OWS_CHECK(c.p[i].kr.verified > 0);
		OWS_CHECK_INT(c.p[i].kr.refused, 0);
	}
	apply_values(&c, 0, 10, 20);
	ows_test_raft_check_converged(&c.h, 30);

	ows_test_raft_node_close(&c.h, 0);
	OWS_CHECK(ows_test_raft_run_until(&c.h, ows_test_raft_other_leader,
					  &c.h, 20000));
	leader = ows_test_raft_is_leader(&c.h.nodes[1]) ? 1 : 2;
	apply_values(&c, leader, 30, 10);
	ows_test_raft_check_converged(&c.h, 40);

	/* The old leader comes back and is let in again. */
	ows_test_raft_node_open(&c.h, 0, false);
	ows_test_raft_check_converged(&c.h, 40);
	OWS_CHECK_INT(c.p[0].kr.refused, 0);
	cluster_fini(&c);
}

/* Counts the loop's connected TCP streams and those without Nagle. */
struct nodelay_count {
	unsigned connected, nodelay;
};

static void count_nodelay(uv_handle_t *h, void *arg)
{
	struct nodelay_count *n = arg;
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	uv_os_fd_t fd;
	int on = 0;
	socklen_t on_len = sizeof(on);

	if (h->type != UV_TCP || uv_is_closing(h) || uv_fileno(h, &fd) != 0 ||
	    getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
		return;
	n->connected++;
	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_len) == 0 && on)
		n->nodelay++;
}

/*
 * Every Raft connection, outbound and accepted, sends at once (TCP_NODELAY).
 * With Nagle's algorithm a second AppendEntries (or its answer) written
 * while the first was unacknowledged waited for the peer's delayed ACK,
 * 40 ms on Linux: two concurrent PutItems through a three-node cluster
 * ran at a fifth of the rate of one.
 */
OWS_TEST(raft_auth_connections_send_without_delay)
{
	struct cluster c;
	struct nodelay_count n = {0};

	start_three(&c);
	uv_walk(&c.h.loop, count_nodelay, &n);
	/* Each node has sent to both others and accepted from both. */
	OWS_CHECK(n.connected >= 4);
	OWS_CHECK_INT(n.nodelay, n.connected);
	cluster_fini(&c);
}

static bool has_ten(void *arg)
{
	return ((struct ows_test_raft_node *)arg)->fsm.n == 10;
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
	ows_test_raft_node_open(&c.h, 0, true);
	ows_test_raft_wait_leader(&c.h, 0);
	ows_test_raft_node_open(&c.h, 1, false);
	ows_test_raft_node_open(&c.h, 2, false);
	ows_test_raft_join(&c.h, 0, 1, OWS_RAFT_VOTER);
	ows_test_raft_join(&c.h, 0, 2, OWS_RAFT_STANDBY);
	apply_values(&c, 0, 0, 10);
	OWS_CHECK(ows_test_raft_run_until(&c.h, has_ten, &c.h.nodes[1], 10000));
	/* Several of libraft's connect retries (1 s apart). */
	ows_test_raft_run_for(&c.h, 2500);
	OWS_CHECK_INT(c.h.nodes[2].fsm.n, 0);
	OWS_CHECK_INT(ows_raft_term(c.h.nodes[2].r), 0);
	fix(&c);
	ows_test_raft_check_converged(&c.h, 10);
	cluster_fini(&c);
}

/* Node 3 does not know nodes 1 and 2: it refuses their PROOF. */
static void forget_peers(struct cluster *c)
{
	c->p[2].kr.pub[1][0] = '\0';
	c->p[2].kr.pub[2][0] = '\0';
}

static void learn_peers(struct cluster *c)
{
	OWS_CHECK(c->p[2].kr.refused > 0);
	ows_key_public(c->p[0].key, c->p[2].kr.pub[1]);
	ows_key_public(c->p[1].key, c->p[2].kr.pub[2]);
}

OWS_TEST(raft_auth_unknown_peer_refused)
{
	refused_until_fixed(forget_peers, learn_peers);
}

/* Node 3 signs with a key the others do not have on file for it. */
static void wrong_key(struct cluster *c)
{
	OWS_CHECK_INT(ows_key_generate(&c->p[2].kr.key), 0);
}

static void right_key(struct cluster *c)
{
	/* The leader checked node 3's CHALLENGE and refused it. */
	OWS_CHECK(c->p[0].kr.refused > 0);
	OWS_CHECK_INT(c->p[2].kr.verified, 0);
	ows_key_free(c->p[2].kr.key);
	c->p[2].kr.key = c->p[2].key;
}

OWS_TEST(raft_auth_wrong_key_refused)
{
	refused_until_fixed(wrong_key, right_key);
}

/* Node 3 believes it is in another cluster: refused before any signature. */
static void other_cluster(struct cluster *c)
{
	snprintf(c->p[2].cluster, sizeof(c->p[2].cluster), "ows-ffffffffffff");
}

static void same_cluster(struct cluster *c)
{
	OWS_CHECK_INT(c->p[2].kr.verified + c->p[2].kr.refused, 0);
	OWS_CHECK_INT(c->p[0].kr.refused, 0);
	/* The cluster id was copied at ows_raft_new: restart with the fix. */
	ows_test_raft_node_close(&c->h, 2);
	snprintf(c->p[2].cluster, sizeof(c->p[2].cluster), "%s", CLUSTER);
	ows_test_raft_node_open(&c->h, 2, false);
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
	/* libraft's TCP transport, no authentication. */
	c.h.nodes[1].auth = NULL;
	c.h.nodes[2].auth = NULL;
	ows_test_raft_node_open(&c.h, 0, true);
	ows_test_raft_node_open(&c.h, 2, true);
	ows_test_raft_wait_leader(&c.h, 0);
	ows_test_raft_wait_leader(&c.h, 2);
	ows_test_raft_node_open(&c.h, 1, false);
	ows_test_raft_node_open(&c.h, 3, false);
	ows_test_raft_join(&c.h, 0, 1, OWS_RAFT_STANDBY);
	ows_test_raft_join(&c.h, 2, 3, OWS_RAFT_STANDBY);
	apply_values(&c, 0, 0, 5);
	apply_values(&c, 2, 0, 5);
	ows_test_raft_run_for(&c.h, 2500);
	OWS_CHECK_INT(c.h.nodes[0].fsm.n, 5);
	OWS_CHECK_INT(c.h.nodes[2].fsm.n, 5);
	OWS_CHECK_INT(c.h.nodes[1].fsm.n, 0);
	OWS_CHECK_INT(c.h.nodes[3].fsm.n, 0);
	OWS_CHECK_INT(ows_raft_term(c.h.nodes[1].r), 0);
	OWS_CHECK_INT(ows_raft_term(c.h.nodes[3].r), 0);
	cluster_fini(&c);
}

/* A blocking TCP connection to node i's Raft port. */
static int raw_connect(struct cluster *c, size_t i)
{
	struct sockaddr_in sa = {0};
	unsigned port;
	int fd;

	OWS_CHECK(sscanf(c->h.nodes[i].addr, "127.0.0.1:%u", &port) == 1);
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

	hello(buf, "ows-ffffffffffff", 2, 1, c.h.nodes[1].addr);
	foreign.fd = raw_connect(&c, 0);
	raw_send(foreign.fd, buf, 184);

	/* Meant for node 3. */
	hello(buf, CLUSTER, 2, 3, c.h.nodes[1].addr);
	misdirected.fd = raw_connect(&c, 0);
	raw_send(misdirected.fd, buf, 184);

	/* Claims to be node 2: gets a CHALLENGE, cannot answer it. */
	hello(buf, CLUSTER, 2, 1, c.h.nodes[1].addr);
	forged.fd = raw_connect(&c, 0);
	forged.want = 112;
	raw_send(forged.fd, buf, 184);
	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_has, &forged, 5000));
	OWS_CHECK(forged.len >= 112);
	OWS_CHECK(memcmp(forged.in, "OWSRAFT1\0\0\0\0\0\0\0\1", 16) == 0);
	memset(buf, 0x11, 64);
	raw_send(forged.fd, buf, 64);

	partial.fd = raw_connect(&c, 0);
	raw_send(partial.fd, "OWSRAFT1", 8);

	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_closed, &garbage, 2000));
	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_closed, &foreign, 2000));
	OWS_CHECK(
	    ows_test_raft_run_until(&c.h, raw_closed, &misdirected, 2000));
	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_closed, &forged, 2000));
	OWS_CHECK_INT(garbage.len + foreign.len + misdirected.len, 0);
	OWS_CHECK_INT(forged.len, 112); /* never welcomed */
	OWS_CHECK(c.p[0].kr.refused > 0);
	OWS_CHECK(!raw_closed(&partial));
	/* Half a handshake is dropped after the 5 s handshake timeout. */
	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_closed, &partial, 8000));
	OWS_CHECK_INT(partial.len, 0);
	close(garbage.fd);
	close(foreign.fd);
	close(forged.fd);
	close(partial.fd);
	close(misdirected.fd);

	OWS_CHECK(ows_test_raft_is_leader(&c.h.nodes[0]));
	apply_values(&c, 0, 10, 10);
	ows_test_raft_check_converged(&c.h, 20);
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

	OWS_CHECK(ows_test_raft_run_until(&c->h, silent_accepted, s, 5000));
	OWS_CHECK(ows_test_raft_run_until(&c->h, raw_has, &s->conn, 5000));
	OWS_CHECK_INT(s->conn.len, 184);
	hello(expect, CLUSTER, 1, 2, c->h.nodes[0].addr);
	OWS_CHECK(memcmp(s->conn.in, expect, 152) == 0);
}

/*
 * Node 1 gets a standby whose address accepts and then answers nothing:
 * each handshake times out 2 s after its TCP connect (a slow peer gets
 * that long), with fresh nonces the next time; closing node 1 with that
 * handshake and an inbound one in flight cancels both cleanly.
 */
OWS_TEST(raft_auth_silent_peer_times_out_and_close_cancels)
{
	struct cluster c;
	struct silent s;
	struct ows_test_raft_waiter w = {0}, w2 = {0};
	struct raw first, inbound = {0};
	char addr[64];
	uint64_t t0;

	cluster_init(&c, 1);
	s.fd = silent_listener(addr);
	ows_test_raft_node_open(&c.h, 0, true);
	ows_test_raft_wait_leader(&c.h, 0);
	OWS_CHECK_INT(
	    ows_raft_add(c.h.nodes[0].r, 2, addr, ows_test_raft_change_cb, &w),
	    0);
	OWS_CHECK(ows_test_raft_run_until(&c.h, ows_test_raft_waiter_done, &w,
					  20000));
	OWS_CHECK_INT(ows_raft_assign(c.h.nodes[0].r, 2, OWS_RAFT_STANDBY,
				      ows_test_raft_change_cb, &w2),
		      0);
	OWS_CHECK(ows_test_raft_run_until(&c.h, ows_test_raft_waiter_done, &w2,
					  20000));
	OWS_CHECK_INT(w2.status, 0);

	silent_hello(&c, &s);
	first = s.conn;
	t0 = uv_now(&c.h.loop);
	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_closed, &first, 8000));
	OWS_CHECK(uv_now(&c.h.loop) - t0 >= 1500);
	close(first.fd);

	/* libraft retries; the new HELLO carries a new nonce A. */
	silent_hello(&c, &s);
	OWS_CHECK(memcmp(first.in + 152, s.conn.in + 152, 32) != 0);
	inbound.fd = raw_connect(&c, 0);
	raw_send(inbound.fd, "OWSRAFT1", 8);
	ows_test_raft_run_for(&c.h, 100);

	ows_test_raft_node_close(&c.h, 0);
	OWS_CHECK(ows_test_raft_run_until(&c.h, raw_closed, &s.conn, 2000));
	OWS_CHECK(raw_closed(&inbound));
	close(s.conn.fd);
	close(inbound.fd);
	close(s.fd);
	cluster_fini(&c);
}
