/*
 * A benchmark of read barriers, run by bench/run (OWS_BENCH=1) and skipped
 * otherwise: on the leader of three libraft nodes (the raft harness: TCP on
 * loopback, logs under /tmp), the latency of a read barrier by a log entry
 * (libraft's barrier, what the node's read_barrier did before ReadIndex)
 * against ReadIndex, whose questions travel as in owsd: HTTP requests over
 * loopback (src/http), each signed with an Ed25519 key and verified by the
 * peer (auth/reqsig.h). Printed as ratios; nothing is asserted of times.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/key.h"
#include "auth/reqsig.h"
#include "common/err.h"
#include "http/http.h"
#include "../lib/raft_harness.h"
#include "../lib/unit.h"

#define NODES 3

struct bench;

struct bnode {
	struct bench *b;
	size_t i;
	struct ows_http_server srv;
	char addr[64];
	struct ows_raft_read_ops ops;
};

struct bench {
	struct ows_test_raft_cluster c;
	struct ows_key *key;
	struct bnode nodes[NODES];
	int closed;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

struct question {
	ows_raft_confirm_cb confirm_cb;
	ows_raft_index_cb index_cb;
	void *cb_ud;
};

static void answer(struct ows_http_req *req, const char *text)
{
	ows_http_respond(req, 200, NULL, 0, text, strlen(text));
}

static void index_cb(void *ud, int status, uint64_t index)
{
	char text[32];

	snprintf(text, sizeof(text), "%d %" PRIu64, status, index);
	answer(ud, text);
}

/* A peer's end: GET /confirm?LEADER,TERM or GET /ask, signed. */
static void handle(struct ows_http_req *req, void *ud)
{
	struct bnode *nd = ud;
	struct ows_raft *r = nd->b->c.nodes[nd->i].r;
	const char *auth = ows_http_req_header(req, "Authorization");
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_err err = {{0}};
	uint64_t leader, term;

	OWS_CHECK(auth != NULL &&
		  ows_reqsig_verify(auth, "GET", req->target, "", 0, now_s(),
				    pub, &err) == 0);
	if (strcmp(req->path, "/ask") == 0) {
		int rv = ows_raft_read_index(r, &nd->ops, index_cb, req);

		if (rv != 0)
			index_cb(req, rv, 0);
		return;
	}
	OWS_CHECK(sscanf(req->query, "%" SCNu64 ",%" SCNu64, &leader, &term) ==
		  2);
	answer(req, ows_raft_leader_confirm(r, leader, term) ? "1" : "0");
}

static void answered(void *ud, int status, const struct ows_http_response *resp)
{
	struct question *q = ud;
	int rv = -1;
	uint64_t index = 0;

	if (q->confirm_cb != NULL) {
		q->confirm_cb(q->cb_ud, status == 0 && resp->body_len == 1 &&
						resp->body[0] == '1'
					    ? 0
					    : OWS_ENOTLEADER);
	} else {
		if (status != 0 ||
		    sscanf(resp->body, "%d %" SCNu64, &rv, &index) != 2)
			rv = -EIO;
		q->index_cb(q->cb_ud, rv, index);
	}
	free(q);
}

static int ask_http(struct bnode *from, size_t to, const char *target,
		    struct question *q)
{
	char sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header h = {"Authorization", sig};
	int rv;

	OWS_CHECK_INT(
	    ows_reqsig_sign(from->b->key, "GET", target, "", 0, now_s(), sig),
	    0);
	rv = ows_http_client_request(&from->b->c.loop, from->b->nodes[to].addr,
				     "GET", target, &h, 1, NULL, 0, NULL,
				     answered, q);
	if (rv != 0)
		free(q);
	return rv;
}

static int confirm(void *ud, uint64_t id, uint64_t leader, uint64_t term,
		   ows_raft_confirm_cb cb, void *cb_ud)
{
	struct question *q = calloc(1, sizeof(*q));
	char target[64];

	OWS_CHECK(q != NULL);
	q->confirm_cb = cb;
	q->cb_ud = cb_ud;
	snprintf(target, sizeof(target), "/confirm?%" PRIu64 ",%" PRIu64,
		 leader, term);
	return ask_http(ud, id - 1, target, q);
}

static int ask(void *ud, uint64_t leader, ows_raft_index_cb cb, void *cb_ud)
{
	struct question *q = calloc(1, sizeof(*q));

	OWS_CHECK(q != NULL);
	q->index_cb = cb;
	q->cb_ud = cb_ud;
	return ask_http(ud, leader - 1, "/ask", q);
}

struct res {
	bool done;
	int status;
};

static void done_cb(void *ud, int status)
{
	struct res *r = ud;

	r->done = true;
	r->status = status;
}

static bool all_done(void *arg)
{
	struct res *r = arg;

	for (size_t k = 0; k < 32; k++)
		if (!r[k].done)
			return false;
	return true;
}

/* Milliseconds per read on node i, rounds of batch concurrent reads. */
static double measure(struct bench *b, size_t i, bool log_entry, size_t batch,
		      size_t rounds)
{
	struct ows_raft *r = b->c.nodes[i].r;
	struct res res[32];
	uint64_t t0 = uv_hrtime();

	for (size_t k = 0; k < rounds; k++) {
		for (size_t j = 0; j < 32; j++)
			res[j] = (struct res){.done = j >= batch};
		for (size_t j = 0; j < batch; j++)
			OWS_CHECK_INT(
			    log_entry
				? ows_raft_barrier(r, done_cb, &res[j])
				: ows_raft_read_barrier(r, &b->nodes[i].ops,
							done_cb, &res[j]),
			    0);
		OWS_CHECK(ows_test_raft_run_until(&b->c, all_done, res, 20000));
		for (size_t j = 0; j < batch; j++)
			OWS_CHECK_INT(res[j].status, 0);
	}
	return (double)(uv_hrtime() - t0) / 1e6 / (double)(rounds * batch);
}

static void server_closed(struct ows_http_server *s)
{
	struct bnode *nd =
	    (struct bnode *)((char *)s - offsetof(struct bnode, srv));

	nd->b->closed++;
}

static bool servers_closed(void *arg)
{
	return ((struct bench *)arg)->closed == NODES;
}

static void bench_init(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	ows_test_raft_cluster_init(&b->c, NODES);
	ows_test_raft_form_three(&b->c);
	ows_test_raft_apply_values(&b->c, 0, 0, 10);
	OWS_CHECK_INT(ows_key_generate(&b->key), 0);
	for (size_t i = 0; i < NODES; i++) {
		struct bnode *nd = &b->nodes[i];

		*nd = (struct bnode){.b = b, .i = i};
		nd->ops = (struct ows_raft_read_ops){nd, confirm, ask};
		OWS_CHECK_INT(ows_http_server_init(&nd->srv, &b->c.loop, NULL,
						   handle, nd),
			      0);
		OWS_CHECK_INT(ows_http_server_listen(&nd->srv, "127.0.0.1:0"),
			      0);
		snprintf(nd->addr, sizeof(nd->addr), "%s", nd->srv.bound);
	}
}

OWS_TEST(readindex_bench)
{
	struct bench b;
	double old1, new1, old32, new32, fol1, fol32;

	if (getenv("OWS_BENCH") == NULL)
		OWS_SKIP("a benchmark: OWS_BENCH=1 (bench/run)");
	bench_init(&b);
	new1 = measure(&b, 0, false, 1, 300);
	new32 = measure(&b, 0, false, 32, 30);
	fol1 = measure(&b, 1, false, 1, 300);
	fol32 = measure(&b, 1, false, 32, 30);
	old1 = measure(&b, 0, true, 1, 300);
	old32 = measure(&b, 0, true, 32, 30);
	printf("read barrier, three libraft nodes on loopback (logs in /tmp), "
	       "questions as signed HTTP:\n"
	       "  leader, one at a time: log entry %.3f ms, ReadIndex %.3f ms"
	       " per read; ratio ReadIndex/log entry %.2f\n"
	       "  leader, 32 at a time:  log entry %.3f ms, ReadIndex %.3f ms"
	       " per read; ratio ReadIndex/log entry %.2f\n"
	       "  follower, ReadIndex:   %.3f ms one at a time, %.3f ms per "
	       "read 32 at a time\n",
	       old1, new1, new1 / old1, old32, new32, new32 / old32, fol1,
	       fol32);
	for (size_t i = 0; i < NODES; i++)
		ows_http_server_close(&b.nodes[i].srv, server_closed);
	OWS_CHECK(ows_test_raft_run_until(&b.c, servers_closed, &b, 10000));
	ows_key_free(b.key);
	ows_test_raft_cluster_fini(&b.c);
}
