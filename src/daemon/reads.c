/*
 * Consistent reads on the node: the host's read_barrier, and the two
 * node-to-node questions that Raft's ReadIndex asks (src/raft/readindex.c
 * does the protocol; this file carries its questions over HTTP).
 *
 *   POST /_ows/v1/leadership  {"voter": V, "leader": X, "term": T}
 *        asked by the leader of each voter V, once per round of reads:
 *        {"leader": true, "term": T, "node": V} when the node is V, its
 *        current term is T and the leader it knows is X
 *        (ows_raft_leader_confirm), else "leader": false.
 *   POST /_ows/v1/barrier     (empty body)
 *        asked by a follower of the leader, once per batch of reads:
 *        {"index": R}, a read index confirmed by a round (nothing is
 *        appended to the log); the follower then waits to apply R.
 *
 * Both are signed with the asking node's key (auth/reqsig.h, the body
 * included) and refused unless the key is a member node's, as the
 * forwarded attested entries are. The answers are not signed: like the
 * Raft streams after their handshake, the node network is trusted not to
 * rewrite traffic (that needs TLS between nodes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/key.h"
#include "auth/reqsig.h"
#include "common/json.h"
#include "daemon/host.h"
#include "daemon/reply.h"

#define LEADERSHIP_PATH "/_ows/v1/leadership"
#define BARRIER_PATH "/_ows/v1/barrier"
#define LEADERSHIP_LIMIT 256

/* ---- the leader asks a voter ---- */

struct question {
	uint64_t voter; /* the node asked */
	ows_raft_confirm_cb confirm_cb;
	ows_raft_index_cb index_cb;
	void *cb_ud;
};

static void leadership_answered(void *ud, int status,
				const struct ows_http_response *resp)
{
	struct question *q = ud;
	int rv = status != 0 ? status : -EIO;
	json_t *v;

	/*
	 * A yes counts for the voter asked only if that voter gave it: an
	 * edge address in the nodes table that reaches another node (two
	 * machines registered as 127.0.0.1, say) must not let one node's yes
	 * count twice in the majority.
	 */
	if (status == 0 && resp->status == 200) {
		v = ows_json_loadb(resp->body, resp->body_len, 0, NULL);
		rv = json_is_true(json_object_get(v, "leader")) &&
			     json_integer_value(json_object_get(v, "node")) ==
				 (json_int_t)q->voter
			 ? 0
			 : OWS_ENOTLEADER;
		json_decref(v);
	}
	q->confirm_cb(q->cb_ud, rv);
	free(q);
}

/* The edge address of node id (from the nodes table): 0 or OWS_ENOTFOUND. */
static int node_edge(struct ows_core *n, uint64_t id, char addr[64])
{
	json_t *node = ows_state_node(&n->state, id);
	const char *edge = ows_json_str(node, "edge");
	int rv = OWS_ENOTFOUND;

	if (edge != NULL && edge[0] != '\0') {
		snprintf(addr, 64, "%s", edge);
		rv = 0;
	}
	json_decref(node);
	return rv;
}

static int ask_leadership(void *ud, uint64_t id, uint64_t leader, uint64_t term,
			  ows_raft_confirm_cb cb, void *cb_ud)
{
	struct ows_core *n = ud;
	struct ows_http_client_opts opts = {ows_raft_election_timeout(n->raft),
					    4096};
	char addr[64], body[128], sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header hs[2] = {
	    {"Content-Type", "application/json"},
	    {"Authorization", sig},
	};
	struct question *q;
	int len, rv;

	rv = node_edge(n, id, addr);
	if (rv != 0)
		return rv;
	len = snprintf(body, sizeof(body),
		       "{\"voter\":%" PRIu64 ",\"leader\":%" PRIu64
		       ",\"term\":%" PRIu64 "}",
		       id, leader, term);
	rv = ows_reqsig_sign(n->key, "POST", LEADERSHIP_PATH, body, (size_t)len,
			     ows_now_ms() / 1000, sig);
	if (rv != 0)
		return rv;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->voter = id;
	q->confirm_cb = cb;
	q->cb_ud = cb_ud;
	rv = ows_http_client_request(n->loop, addr, "POST", LEADERSHIP_PATH, hs,
				     2, body, (size_t)len, &opts,
				     leadership_answered, q);
	if (rv != 0)
		free(q);
	return rv;
}

/* ---- a follower asks the leader ---- */

static void index_answered(void *ud, int status,
			   const struct ows_http_response *resp)
{
	struct question *q = ud;
	json_t *v = NULL, *index = NULL;
	int rv;

	if (status == -EAGAIN || (status == 0 && resp->status == 503))
		rv = OWS_ENOTLEADER; /* another node leads now: ask it */
	else if (status != 0)
		rv = -ETIMEDOUT;
	else if (resp->status != 200)
		rv = -EIO;
	else {
		v = ows_json_loadb(resp->body, resp->body_len, 0, NULL);
		index = json_object_get(v, "index");
		rv = json_is_integer(index) && json_integer_value(index) >= 0
			 ? 0
			 : -EIO;
	}
	q->index_cb(q->cb_ud, rv,
		    rv == 0 ? (uint64_t)json_integer_value(index) : 0);
	json_decref(v);
	free(q);
}

static int ask_read_index(void *ud, uint64_t leader, ows_raft_index_cb cb,
			  void *cb_ud)
{
	struct ows_core *n = ud;
	char addr[64], sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header hs[1] = {{"Authorization", sig}};
	struct question *q;
	int rv;

	if (leader == n->cfg.id)
		return OWS_ENOTLEADER;
	rv = node_edge(n, leader, addr);
	if (rv != 0)
		return OWS_ENOTLEADER;
	rv = ows_reqsig_sign(n->key, "POST", BARRIER_PATH, "", 0,
			     ows_now_ms() / 1000, sig);
	if (rv != 0)
		return rv;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->index_cb = cb;
	q->cb_ud = cb_ud;
	/* ows_core_forward gives up as soon as another node leads. */
	rv = ows_core_forward(n, leader, addr, "POST", BARRIER_PATH, hs, 1, "",
			      0, index_answered, q);
	if (rv != 0)
		free(q);
	return rv;
}

void ows_host_reads_init(struct ows_node_host *nh)
{
	nh->read_ops = (struct ows_raft_read_ops){
	    .ud = nh->core,
	    .confirm = ask_leadership,
	    .ask = ask_read_index,
	};
}

int ows_host_read_barrier(struct ows_aws_call *c, ows_aws_barrier_cb cb,
			  void *ud)
{
	struct ows_node_host *nh = c->host->ud;

	return ows_raft_read_barrier(nh->core->raft, &nh->read_ops, cb, ud);
}

/* ---- the answering ends ---- */

/* A request signed by a member node's key over body: else 403 sent. */
static bool from_member(struct ows_core *n, struct ows_http_req *req,
			const char *body, size_t len)
{
	const char *auth = ows_http_req_header(req, "Authorization");
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_err err = {{0}};

	if (auth != NULL &&
	    ows_reqsig_verify(auth, "POST", req->target, body, len,
			      ows_now_ms() / 1000, pub, &err) == 0 &&
	    ows_core_key_is_member(n, pub))
		return true;
	ows_reply_error(req, 403, "AccessDenied",
			"only a node of the "
			"cluster asks this");
	return false;
}

/* A positive integer member of v, or 0. */
static uint64_t id_in(const json_t *v, const char *name)
{
	const json_t *x = json_object_get(v, name);

	return json_is_integer(x) && json_integer_value(x) > 0
		   ? (uint64_t)json_integer_value(x)
		   : 0;
}

/*
 * Yes only when the question is for this node (voter), this node's
 * current term is term and the leader it knows is leader; the answer
 * names this node, so that the asker counts it for the voter it asked.
 */
static void leadership_body_cb(struct ows_http_req *req, int status,
			       const char *body, size_t len)
{
	struct ows_core *n = req->data;
	struct ows_err err = {{0}};
	uint64_t voter, leader;
	json_t *v, *term, *answer;
	bool yes;

	if (status != 0 || !from_member(n, req, body, len))
		return;
	v = ows_json_parse(body, len, &err);
	voter = id_in(v, "voter");
	leader = id_in(v, "leader");
	term = json_object_get(v, "term");
	if (voter == 0 || leader == 0 || !json_is_integer(term) ||
	    json_integer_value(term) < 0) {
		json_decref(v);
		ows_reply_error(req, 400, "MalformedRequest",
				"expected {\"voter\": ID, \"leader\": ID, "
				"\"term\": T}");
		return;
	}
	yes = voter == n->cfg.id &&
	      ows_raft_leader_confirm(n->raft, leader,
				      (uint64_t)json_integer_value(term));
	answer = json_pack("{s:b,s:I,s:I}", "leader", yes, "term",
			   (json_int_t)ows_raft_term(n->raft), "node",
			   (json_int_t)n->cfg.id);
	ows_reply_json(req, 200, answer);
	json_decref(answer);
	json_decref(v);
}

void ows_host_leadership_handle(struct ows_node_host *nh,
				struct ows_http_req *req)
{
	if (strcmp(req->method, "POST") != 0) {
		ows_reply_error(req, 405, "MethodNotAllowed", "POST only");
		return;
	}
	req->data = nh->core;
	if (ows_http_req_read_body(req, LEADERSHIP_LIMIT, leadership_body_cb) !=
	    0)
		ows_reply_error(req, 500, "InternalError",
				"cannot read the body");
}

static void index_served(void *ud, int status, uint64_t index)
{
	struct ows_http_req *req = ud;
	json_t *v;

	if (status != 0) {
		ows_reply_error(req, 503, "NoLeader", "read index: %s",
				ows_strerror(status));
		return;
	}
	v = json_pack("{s:I}", "index", (json_int_t)index);
	ows_reply_json(req, 200, v);
	json_decref(v);
}

void ows_host_barrier_handle(struct ows_node_host *nh, struct ows_http_req *req)
{
	struct ows_core *n = nh->core;
	int rv;

	if (!from_member(n, req, "", 0))
		return;
	rv = ows_raft_read_index(n->raft, &nh->read_ops, index_served, req);
	if (rv != 0)
		ows_reply_error(req, 503, "NoLeader", "read index: %s",
				ows_strerror(rv));
}
