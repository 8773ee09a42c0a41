/*
 * The admin API on the edge port, under /_ows/v1/ (see docs/admin-api.md).
 * Every request but /health and /join is signed by a user's Ed25519 key
 * (auth/reqsig.h) and judged by the user's policies; writes are Raft
 * entries, forwarded to the leader when this node is not it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "auth/reqsig.h"
#include "auth/seal.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/admin.h"
#include "daemon/edge.h"
#include "daemon/fnlogs.h"
#include "daemon/metrics.h"
#include "daemon/reply.h"

#define BODY_LIMIT (1024 * 1024)
#define JOIN_BODY_LIMIT (64 * 1024) /* unauthenticated: kept small */
#define FORWARD_HEADER "X-Ows-Forwarded"
/* The request context a follower saw, and its node key's signature on it. */
#define CONTEXT_HEADER "X-Ows-Context"
#define CONTEXT_SIG_HEADER "X-Ows-Context-Authorization"

struct admin_ctx {
	struct ows_admin *a;
	struct ows_core *n;
	struct ows_http_req *req;
	char user[OWS_NAME_MAX];
	/* The user of the key check_head found, before the signature is
	   verified: authenticate takes it from here, one lookup per request. */
	char head_user[OWS_NAME_MAX];
	json_t *body;         /* parsed JSON body, or NULL */
	const char *raw;      /* raw body, in the request's arena */
	size_t raw_len;
	int pending;          /* health probes in flight (status) */
	json_t *reply;        /* status being assembled */
	char req_id[37];      /* for function invocations */
};

struct route {
	const char *method;
	const char *path;
	const char *action; /* policy action; NULL: any known user */
	void (*fn)(struct admin_ctx *c);
};

/*
 * c lives in the request's arena: answering frees it. What it holds
 * outside the arena (the parsed body, the status being assembled) is
 * taken before the answer and dropped after it (v may be one of them).
 */
static void ctx_release(struct admin_ctx *c)
{
	json_decref(c->body);
	json_decref(c->reply);
	c->body = c->reply = NULL;
}

static void reply(struct admin_ctx *c, int status, const json_t *v)
{
	json_t *body = c->body, *held = c->reply;

	ows_reply_json(c->req, status, v);
	json_decref(body);
	json_decref(held);
}

#define reply_error(c, status, code, ...)                                 \
	do {                                                              \
		json_t *body_ = (c)->body, *held_ = (c)->reply;           \
		ows_reply_error((c)->req, status, code, __VA_ARGS__);     \
		json_decref(body_);                                       \
		json_decref(held_);                                       \
	} while (0)

/* ---- the request context recorded in change sets (ledger/authz.h) ---- */

/* What the node signs for a forwarded request: context and body hash. */
static void context_signed_text(const char *ctx, const char *raw, size_t len,
				char *out, size_t cap)
{
	char hash[65];

	ows_sha256_hex(raw != NULL ? raw : "", len, hash);
	snprintf(out, cap, "%s\n%s", ctx, hash);
}

/* This node's view of the request: {"source_ip", "secure_transport"}. */
static json_t *own_context(struct admin_ctx *c)
{
	struct ows_authz_ctx rc;
	char ip[64];

	ows_reply_request_ctx(c->req, NULL, ip, &rc);
	return json_pack("{s:s, s:b}", "source_ip", ip, "secure_transport",
			 rc.secure_transport);
}

/*
 * The context of a request forwarded by a follower is the one the follower
 * saw, if a node of the cluster signed it; any other claim is ignored.
 */
static json_t *request_context(struct admin_ctx *c)
{
	const char *ctx = ows_http_req_header(c->req, CONTEXT_HEADER);
	const char *sig = ows_http_req_header(c->req, CONTEXT_SIG_HEADER);
	char pub[OWS_PUBKEY_B64_LEN], text[1024];
	struct ows_err err = {{0}};
	json_t *v, *out;

	if (ctx == NULL || sig == NULL || strlen(ctx) > 900)
		return own_context(c);
	context_signed_text(ctx, c->raw, c->raw_len, text, sizeof(text));
	if (ows_reqsig_verify(sig, "CONTEXT", c->req->target, text,
			      strlen(text), ows_now_ms() / 1000, pub,
			      &err) != 0 ||
	    !ows_core_key_is_member(c->n, pub))
		return own_context(c);
	v = json_loads(ctx, 0, NULL);
	out = json_pack("{s:s, s:b}", "source_ip",
			ows_json_str(v, "source_ip") ? ows_json_str(v, "source_ip")
						     : "",
			"secure_transport",
			json_is_true(json_object_get(v, "secure_transport")));
	json_decref(v);
	return out;
}

/* The live context for a read or a call answered on this node. */
static void live_context(struct admin_ctx *c, char ip[64],
			 struct ows_authz_ctx *rc)
{
	ows_reply_request_ctx(c->req, NULL, ip, rc);
}

/* The leader's answer to a forwarded admin request, or why there is none. */
static void admin_forward_done(void *ud, int status,
			       const struct ows_http_response *resp)
{
	struct admin_ctx *c = ud;
	struct ows_http_header h = {"Content-Type", "application/json"};

	if (status == -EAGAIN) {
		reply_error(c, 503, "LeaderUnavailable", "the leader "
			    "changed before it answered; retry");
	} else if (status != 0) {
		reply_error(c, 503, "LeaderUnavailable", "cannot reach "
			    "the leader: %s", ows_strerror(status));
	} else {
		ctx_release(c);
		ows_http_respond(c->req, resp->status, &h, 1, resp->body,
				 resp->body_len);
	}
}

/*
 * Send c's request to leader id at its edge addr; the forward owns c from
 * here. 0, or < 0 with c untouched.
 */
static int forward_start(struct admin_ctx *c, uint64_t id, const char *addr,
			 const struct ows_http_header *hs, size_t nh)
{
	return ows_core_forward(c->n, id, addr, c->req->method,
				c->req->target, hs, nh, c->raw, c->raw_len,
				admin_forward_done, c);
}

static void forward(struct admin_ctx *c)
{
	struct ows_http_header hs[5];
	char addr[64], self[24], text[1024], sig[OWS_REQSIG_HEADER_MAX];
	char *ctx = NULL;
	json_t *cv;
	const char *auth = ows_http_req_header(c->req, "Authorization");
	json_t *node;
	uint64_t id;
	size_t nh = 0;
	int rv;

	ows_raft_leader(c->n->raft, &id, addr);
	node = id != 0 ? ows_state_node(&c->n->state, id) : NULL;
	if (node == NULL || id == c->n->cfg.id ||
	    ows_http_req_header(c->req, FORWARD_HEADER) != NULL) {
		json_decref(node);
		reply_error(c, 503, "NoLeader", "the cluster has no leader "
			    "right now; retry");
		return;
	}
	snprintf(addr, sizeof(addr), "%s", ows_json_str(node, "edge"));
	json_decref(node);
	snprintf(self, sizeof(self), "%" PRIu64, c->n->cfg.id);
	hs[nh++] = (struct ows_http_header){"Content-Type", "application/json"};
	hs[nh++] = (struct ows_http_header){FORWARD_HEADER, self};
	if (auth != NULL)
		hs[nh++] = (struct ows_http_header){"Authorization", auth};
	cv = request_context(c);
	ctx = cv != NULL ? ows_json_dump(cv) : NULL;
	json_decref(cv);
	if (ctx != NULL) {
		context_signed_text(ctx, c->raw, c->raw_len, text, sizeof(text));
		if (ows_reqsig_sign(c->n->key, "CONTEXT", c->req->target, text,
				    strlen(text), ows_now_ms() / 1000, sig) == 0) {
			hs[nh++] = (struct ows_http_header){CONTEXT_HEADER, ctx};
			hs[nh++] = (struct ows_http_header){CONTEXT_SIG_HEADER,
							    sig};
		}
	}
	rv = forward_start(c, id, addr, hs, nh);
	free(ctx);
	if (rv != 0)
		reply_error(c, 503, "LeaderUnavailable", "cannot reach the "
			    "leader: %s", ows_strerror(rv));
}

/* ---- writes ---- */

static void applied_cb(void *ud, int status, void *result)
{
	struct admin_ctx *c = ud;
	json_t *r;
	int code;

	if (status == OWS_EIO) {
		/* committed, but this node's storage failed to apply it */
		free(result);
		reply_error(c, 503, "ApplyFailed", "the entry is in the log but "
			    "this node could not apply it (storage failure); "
			    "retry: a resend is answered with its result");
		return;
	}
	if (status != 0) {
		free(result);
		reply_error(c, 503, "LeadershipLost", "the entry was not "
			    "committed (%s); retry", ows_strerror(status));
		return;
	}
	r = result ? json_loads(result, 0, NULL) : NULL;
	free(result);
	if (r == NULL) {
		reply_error(c, 500, "InternalError", "no result from apply");
		return;
	}
	code = json_is_true(json_object_get(r, "ok"))
		       ? 200
		       : (int)json_integer_value(json_object_get(r, "status"));
	if (code == 200 && c->reply != NULL)
		json_object_update(r, c->reply);
	if (code != 200)
		ows_log(OWS_LOG_INFO, "ledger", "rejected %s from user '%s': "
			"%s: %s", c->req->path + 9, c->user,
			ows_json_str(r, "code"), ows_json_str(r, "message"));
	else
		ows_log(OWS_LOG_INFO, "ledger", "accepted %s from %s%s%s at "
			"height %lld, hash %.16s", c->req->path + 9,
			c->user[0] ? "user '" : "a joining node", c->user,
			c->user[0] ? "'" : "",
			(long long)json_integer_value(json_object_get(r, "height")),
			ows_json_str(r, "hash"));
	reply(c, code, r);
	json_decref(r);
}

static void propose(struct admin_ctx *c, const char *type, const json_t *body)
{
	int rv;

	if (ows_raft_role(c->n->raft) != OWS_RAFT_LEADER) {
		forward(c);
		return;
	}
	rv = ows_core_propose(c->n, type, body, applied_cb, c);
	if (rv == OWS_ENOTLEADER)
		forward(c);
	else if (rv != 0)
		reply_error(c, 503, "ProposeFailed", "cannot propose: %s",
			    ows_strerror(rv));
}

/*
 * A change set this node has applied already, sent again because its first
 * answer was lost: answered here with the recorded result, from committed
 * state, without a Raft entry (even while there is no leader). true when
 * answered. A resend that reaches a node which has not applied the first
 * yet goes through Raft, and apply answers it the same way.
 */
static bool answer_resend(struct admin_ctx *c)
{
	char *prior = NULL;
	json_t *r;

	if (ows_state_result(&c->n->state, c->body, &prior) != 1)
		return false;
	r = json_loads(prior, 0, NULL);
	free(prior);
	if (r == NULL)
		return false;
	ows_log(OWS_LOG_INFO, "ledger", "answered a resent change set from "
		"user '%s' with its result at height %lld", c->user,
		(long long)json_integer_value(json_object_get(r, "height")));
	reply(c, 200, r);
	json_decref(r);
	return true;
}

static void post_changeset(struct admin_ctx *c)
{
	if (!json_is_object(c->body) ||
	    !json_is_object(json_object_get(c->body, "changeset"))) {
		reply_error(c, 400, "MalformedChangeSet", "expected a signed "
			    "change set envelope");
		return;
	}
	if (answer_resend(c))
		return;
	/*
	 * Conditions are judged at apply on every node: the request context
	 * travels in the entry, as this node (or the follower that forwarded
	 * the request) saw it. A client's own "context" is replaced.
	 */
	json_object_set_new(c->body, "context", request_context(c));
	propose(c, "changeset", c->body);
}

/*
 * The reply to a join carries the cluster secret sealed to the box key the
 * joiner sent (auth/seal.h), and the nodes' public keys.
 */
static int load_secret(struct admin_ctx *c, const char *box_key)
{
	struct ows_buf secret = OWS_BUF_INIT, sealed = OWS_BUF_INIT;
	char path[PATH_MAX], sender[45];
	int rv = -EIO;

	snprintf(path, sizeof(path), "%s/cluster.secret", c->n->dir);
	if (ows_file_read(path, 64, &secret) == 0 && secret.len == 32 &&
	    (rv = ows_box_seal(box_key, secret.data, 32, &sealed, sender)) == 0) {
		json_t *nodes = ows_state_nodes(&c->n->state), *row;
		size_t i;

		/* The joiner must know its peers' keys before it has state. */
		json_array_foreach(nodes, i, row) {
			json_object_del(row, "joined");
			json_object_del(row, "gateway");
		}
		c->reply = json_pack("{s:s, s:s, s:o}", "cluster_secret_sealed",
				     sealed.data, "box_sender", sender, "nodes",
				     nodes ? nodes : json_array());
	}
	memset(secret.data, 0, secret.len);
	ows_buf_free(&secret);
	ows_buf_free(&sealed);
	return rv;
}

/* Is hash (of a join token) known, unused and unexpired here? */
static bool token_usable(struct ows_core *n, const char *hash)
{
	sqlite3_stmt *st;
	bool ok;

	if (ows_state_prepare(&n->state, "SELECT count(*) FROM tokens WHERE "
			      "hash=? AND used=0 AND expires>=?", &st) != 0)
		return true; /* cannot tell: apply decides */
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ows_now_ms());
	ok = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return ok;
}

/*
 * A node joins with a single-use token; its request is signed with its own
 * node key, which the body names, so the key is proven to be held.
 */
static void post_join(struct admin_ctx *c)
{
	const char *token = ows_json_str(c->body, "token");
	json_t *node = json_object_get(c->body, "node"), *body;
	char pub[OWS_PUBKEY_B64_LEN], hash[65];
	struct ows_err err = {{0}};

	if (token == NULL || !json_is_object(node)) {
		reply_error(c, 400, "MalformedJoin", "expected {\"token\": ..., "
			    "\"node\": {...}}");
		return;
	}
	if (ows_reqsig_verify(ows_http_req_header(c->req, "Authorization"),
			      c->req->method, c->req->target, c->raw,
			      c->raw_len, ows_now_ms() / 1000, pub, &err) != 0 ||
	    ows_json_str(node, "key") == NULL ||
	    strcmp(pub, ows_json_str(node, "key")) != 0) {
		reply_error(c, 401, "Unauthenticated", "join must be signed by "
			    "the joining node's key: %s", err.msg);
		return;
	}
	if (!ows_pubkey_valid(ows_json_str(c->body, "box_key"))) {
		reply_error(c, 400, "MalformedJoin", "join needs 'box_key', an "
			    "X25519 public key to seal the cluster secret to");
		return;
	}
	ows_sha256_hex(token, strlen(token), hash);
	/*
	 * The leader checks the token before anything reaches Raft: a bad
	 * one costs no entry (apply checks it again, and uses it up).
	 * Followers forward the join to the leader, which checks it there.
	 */
	if (ows_raft_role(c->n->raft) == OWS_RAFT_LEADER &&
	    !token_usable(c->n, hash)) {
		ows_log(OWS_LOG_INFO, "admin", "join from %s refused: unknown, "
			"used or expired token", c->req->peer);
		reply_error(c, 403, "InvalidToken", "the join token is unknown, "
			    "used or expired");
		return;
	}
	body = json_pack("{s:s, s:O}", "token_hash", hash, "node", node);
	if (load_secret(c, ows_json_str(c->body, "box_key")) != 0) {
		json_decref(body);
		reply_error(c, 500, "InternalError", "cannot read or seal the "
			    "cluster secret");
		return;
	}
	propose(c, "join", body);
	json_decref(body);
}

/* ---- reads ---- */

static const char *member_role(struct ows_raft_server *srv, size_t n,
			       uint64_t id)
{
	static const char *const names[] = {"voter", "standby", "spare"};

	for (size_t i = 0; i < n; i++)
		if (srv[i].id == id)
			return names[srv[i].role];
	return "none";
}

static void status_done(struct admin_ctx *c)
{
	reply(c, 200, c->reply);
}

struct probe {
	struct admin_ctx *c;
	json_t *node; /* borrowed from c->reply */
};

static void probe_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct probe *p = ud;

	bool up = status == 0 && r->status == 200;

	json_object_set_new(p->node, "health", json_string(up ? "up" : "down"));
	if (!up)
		json_object_set_new(p->node, "role", json_string("unknown"));
	if (--p->c->pending == 0)
		status_done(p->c);
	free(p);
}

static void probe_nodes(struct admin_ctx *c, json_t *nodes)
{
	struct ows_http_client_opts opts = {700, 4096};
	json_t *node;
	size_t i;

	c->pending = 1;
	json_array_foreach(nodes, i, node) {
		uint64_t id = (uint64_t)json_integer_value(json_object_get(node, "id"));
		struct probe *p;

		if (id == c->n->cfg.id) {
			json_object_set_new(node, "health", json_string("up"));
			continue;
		}
		p = malloc(sizeof(*p));
		if (p == NULL)
			continue;
		*p = (struct probe){c, node};
		c->pending++;
		if (ows_http_client_request(c->n->loop, ows_json_str(node, "edge"),
					    "GET", "/_ows/v1/health", NULL, 0,
					    NULL, 0, &opts, probe_cb, p) != 0) {
			json_object_set_new(node, "health", json_string("down"));
			json_object_set_new(node, "role", json_string("unknown"));
			c->pending--;
			free(p);
		}
	}
	if (--c->pending == 0)
		status_done(c);
}

/* The Raft configuration itself, which the leader reconciles with nodes. */
static json_t *configuration(struct ows_raft_server *srv, size_t n)
{
	static const char *const names[] = {"voter", "standby", "spare"};
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack(
			"{s:I, s:s, s:s}", "id", (json_int_t)srv[i].id, "raft",
			srv[i].address, "role", names[srv[i].role]));
	return list;
}

/*
 * Batching since the member started (raft/raft.h): entries per log
 * append request, per log write, per state machine commit.
 */
static json_t *batches_json(struct ows_raft *r)
{
	struct ows_raft_batch_stats b;

	ows_raft_batch_stats(r, &b);
	return json_pack("{s:{s:I, s:I}, s:{s:I, s:I, s:I, s:f},"
			 " s:{s:I, s:I, s:I, s:f}}",
			 "appends", "count", (json_int_t)b.appends,
			 "entries", (json_int_t)b.append_entries,
			 "writes", "count", (json_int_t)b.writes,
			 "entries", (json_int_t)b.write_entries,
			 "max", (json_int_t)b.write_max, "mean",
			 b.writes ? (double)b.write_entries / b.writes : 0.0,
			 "commits", "count", (json_int_t)b.commits,
			 "entries", (json_int_t)b.commit_entries,
			 "max", (json_int_t)b.commit_max, "mean",
			 b.commits ? (double)b.commit_entries / b.commits
				   : 0.0);
}

static void build_status(struct admin_ctx *c)
{
	struct ows_raft_read_stats rst;
	struct ows_raft_server srv[64];
	struct ows_core *n = c->n;
	size_t count = ows_raft_servers(n->raft, srv, 64);
	json_t *nodes = ows_state_nodes(&n->state), *node, *leader;
	char addr[64];
	uint64_t lid;
	size_t i;

	ows_raft_leader(n->raft, &lid, addr);
	if (count > 64)
		count = 64;
	json_array_foreach(nodes, i, node) {
		uint64_t id = (uint64_t)json_integer_value(json_object_get(node, "id"));

		json_object_del(node, "key");
		json_object_set_new(node, "member",
				    json_string(member_role(srv, count, id)));
		json_object_set_new(node, "role", json_string(
			id == lid ? "leader" : "follower"));
	}
	leader = lid ? json_pack("{s:I, s:s}", "id", (json_int_t)lid, "raft",
				 addr) : json_null();
	c->reply = json_pack(
		"{s:s, s:{s:I, s:s}, s:I, s:I, s:I, s:o, s:{s:I, s:s, s:I}, s:o}",
		"cluster", n->state.cluster, "node", "id", (json_int_t)n->cfg.id,
		"role", ows_raft_role_name(ows_raft_role(n->raft)), "term",
		(json_int_t)ows_raft_term(n->raft), "commit_index",
		(json_int_t)ows_raft_commit_index(n->raft), "applied_index",
		(json_int_t)n->state.applied, "leader", leader, "ledger",
		"height", (json_int_t)n->state.height, "head", n->state.head,
		"rejected", (json_int_t)n->state.rejected, "nodes",
		nodes ? nodes : json_array());
	if (c->reply == NULL) {
		reply_error(c, 500, "InternalError", "out of memory");
		return;
	}
	json_object_set_new(c->reply, "configuration", configuration(srv, count));
	ows_raft_read_stats(n->raft, &rst);
	json_object_set_new(c->reply, "last_index",
			    json_integer((json_int_t)ows_raft_last_index(n->raft)));
	json_object_set_new(c->reply, "reads", json_pack(
		"{s:I, s:I, s:I}", "reads", (json_int_t)rst.reads, "rounds",
		(json_int_t)rst.rounds, "noops", (json_int_t)rst.noops));
	json_object_set_new(c->reply, "batches", batches_json(n->raft));
	probe_nodes(c, json_object_get(c->reply, "nodes"));
}

static void status_caught_up(void *ud, int status)
{
	struct admin_ctx *c = ud;

	if (status != 0) {
		reply_error(c, 503, "NotCaughtUp", "consistent status: %s; "
			    "retry", ows_strerror(status));
		return;
	}
	build_status(c);
}

/*
 * ?consistent=true: the status once this node has applied everything the
 * cluster committed before the request (a read barrier, as the services'
 * consistent reads take), so that its ledger height is the cluster's.
 */
static void get_status(struct admin_ctx *c)
{
	char v[8];
	int rv;

	if (!ows_query_get(c->req->query, "consistent", v, sizeof(v)) ||
	    strcmp(v, "true") != 0) {
		build_status(c);
		return;
	}
	rv = ows_raft_read_barrier(c->n->raft, &c->a->host->read_ops,
				   status_caught_up, c);
	if (rv != 0)
		reply_error(c, 503, "NotCaughtUp", "consistent status: %s; "
			    "retry", ows_strerror(rv));
}

static void get_ledger(struct admin_ctx *c)
{
	char buf[32];
	uint64_t from = 1;
	unsigned limit = 1000;
	json_t *entries, *v;

	if (ows_query_get(c->req->query, "from", buf, sizeof(buf)))
		from = strtoull(buf, NULL, 10);
	if (ows_query_get(c->req->query, "limit", buf, sizeof(buf)))
		limit = (unsigned)strtoul(buf, NULL, 10);
	if (limit == 0 || limit > 1000)
		limit = 1000;
	entries = ows_state_ledger(&c->n->state, from, limit);
	v = json_pack("{s:I, s:s, s:o}", "height",
		      (json_int_t)c->n->state.height, "head", c->n->state.head,
		      "entries", entries ? entries : json_array());
	reply(c, 200, v);
	json_decref(v);
}

/*
 * Each resource is shown only to a user allowed ows:<kind>.read on it, so a
 * function's environment, say, reaches only readers of that function.
 */
static void readable_only(struct admin_ctx *c, json_t *list)
{
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	char ip[64], act[OWS_NAME_MAX + 16];
	const char *kind;
	size_t i = 0;

	ows_state_directory(&c->n->state, &dir);
	live_context(c, ip, &rc);
	while (i < json_array_size(list)) {
		json_t *r = json_array_get(list, i);

		kind = ows_json_str(r, "kind");
		snprintf(act, sizeof(act), "ows:%s.read", kind ? kind : "");
		if (kind != NULL &&
		    ows_user_authorize_resource(&dir, c->user, act, kind,
						ows_json_str(r, "name"),
						&rc) == 0)
			i++;
		else
			json_array_remove(list, i);
	}
}

static void get_resources(struct admin_ctx *c)
{
	char kind[OWS_NAME_MAX], stack[OWS_NAME_MAX];
	bool has_kind = ows_query_get(c->req->query, "kind", kind, sizeof(kind));
	bool has_stack = ows_query_get(c->req->query, "stack", stack, sizeof(stack));
	json_t *list, *v;

	list = ows_state_resources(&c->n->state, has_kind ? kind : NULL,
				   has_stack ? stack : NULL);
	readable_only(c, list);
	v = json_pack("{s:o}", "resources", list ? list : json_array());
	reply(c, 200, v);
	json_decref(v);
}

static void get_nodes(struct admin_ctx *c)
{
	json_t *list = ows_state_nodes(&c->n->state), *v;

	v = json_pack("{s:o}", "nodes", list ? list : json_array());
	reply(c, 200, v);
	json_decref(v);
}

static void get_rejections(struct admin_ctx *c)
{
	json_t *list = ows_state_rejections(&c->n->state, 100), *v;

	v = json_pack("{s:o}", "rejections", list ? list : json_array());
	reply(c, 200, v);
	json_decref(v);
}

static void get_access_keys(struct admin_ctx *c)
{
	char user[OWS_NAME_MAX];
	bool has_user = ows_query_get(c->req->query, "user", user, sizeof(user));
	json_t *list = ows_state_access_keys(&c->n->state, has_user ? user : NULL);
	json_t *v = json_pack("{s:o}", "access_keys", list ? list : json_array());

	reply(c, 200, v);
	json_decref(v);
}

/* ---- functions: POST .../NAME/invoke, GET .../NAME/logs (ows) ---- */

#define FN_PREFIX "/_ows/v1/functions/"

static bool fn_allowed(struct admin_ctx *c, const char *action,
		       const char *name)
{
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	char arn[OWS_NAME_MAX + 64], ip[64];

	ows_state_directory(&c->n->state, &dir);
	live_context(c, ip, &rc);
	if (ows_user_authorize_resource(&dir, c->user, action, "functions",
					name, &rc) == 0)
		return true;
	ows_action_arn("functions", name, arn, sizeof(arn));
	reply_error(c, 403, "AccessDenied", "user '%s' is not allowed '%s' on "
		    "'%s'", c->user, action, arn);
	return false;
}

static void fn_invoked_cb(void *ud, const struct ows_fn_result *r)
{
	struct admin_ctx *c = ud;
	json_t *payload = json_loadb(r->body ? r->body : "", r->len,
				     JSON_DECODE_ANY, NULL), *v;

	if (r->kind == OWS_FN_THROTTLED) {
		json_decref(payload);
		reply_error(c, 429, "TooManyRequestsException", "Rate Exceeded.");
		return;
	}
	v = json_pack("{s:s, s:s, s:o, s:s%, s:f}", "request_id", r->request_id,
		      "status", r->kind == OWS_FN_OK ? "ok" : "error",
		      "payload", payload ? payload : json_stringn(r->body ? r->body
								  : "", r->len),
		      "log", r->log_tail ? r->log_tail : "", r->log_tail_len,
		      "duration_ms", r->duration_ms);
	if (r->kind != OWS_FN_OK)
		json_object_set_new(v, "function_error", json_string(
			r->error_type ? r->error_type : "Unhandled"));
	reply(c, 200, v);
	json_decref(v);
}

static void fn_logs_cb(void *ud, const json_t *v)
{
	reply(ud, 200, v);
}

static void fn_route(struct admin_ctx *c)
{
	const char *p = c->req->path + strlen(FN_PREFIX);
	char name[OWS_NAME_MAX];
	size_t n = strcspn(p, "/");
	const char *op = p + n;
	int rv;

	snprintf(name, sizeof(name), "%.*s", (int)n, p);
	ows_percent_decode(name);
	if (strcmp(op, "/invoke") == 0 && strcmp(c->req->method, "POST") == 0) {
		if (!fn_allowed(c, "lambda:InvokeFunction", name))
			return;
		rv = ows_functions_invoke(c->a->fns, name, c->req_id,
					  c->raw_len ? c->raw : "{}",
					  c->raw_len ? c->raw_len : 2,
					  fn_invoked_cb, c);
		if (rv == -ENOENT)
			reply_error(c, 404, "ResourceNotFoundException",
				    "no function '%s'", name);
		else if (rv != 0)
			reply_error(c, 500, "ServiceException", "%s",
				    ows_strerror(rv));
	} else if (strcmp(op, "/logs") == 0 && strcmp(c->req->method, "GET") == 0) {
		char since[4096]; /* 64 nodes of "ID:SEQ," */

		if (!fn_allowed(c, "logs:GetLogEvents", name))
			return;
		if (!ows_query_get(c->req->query, "since", since, sizeof(since)))
			since[0] = '\0';
		/* every node's records, merged (fnlogs.c) */
		rv = ows_fnlogs_gather(c->a->fns, name, since, fn_logs_cb, c);
		if (rv == -EINVAL)
			reply_error(c, 400, "InvalidParameterValue", "'%s' is "
				    "not a function name", name);
		else if (rv != 0)
			reply_error(c, 503, "OutOfMemory", "try again");
	} else {
		reply_error(c, 404, "NotFound", "no such function operation");
	}
}

static const struct route routes[] = {
	{"GET", "/_ows/v1/access-keys", "ows:access_keys.read", get_access_keys},
	{"GET", "/_ows/v1/status", "ows:status.read", get_status},
	{"GET", "/_ows/v1/ledger", "ows:ledger.read", get_ledger},
	{"GET", "/_ows/v1/rejections", "ows:ledger.read", get_rejections},
	/* Any user may list; each resource is judged (ows:<kind>.read). */
	{"GET", "/_ows/v1/resources", NULL, get_resources},
	{"GET", "/_ows/v1/nodes", "ows:nodes.read", get_nodes},
	{"POST", "/_ows/v1/changesets", NULL, post_changeset},
	{"POST", "/_ows/v1/join", NULL, post_join},
};

/* c->user: the user key pub belongs to; else answered 401 and -1. */
static int key_user(struct admin_ctx *c, const char *pub)
{
	struct ows_directory dir;

	ows_state_directory(&c->n->state, &dir);
	if (dir.user_of_key(dir.ud, pub, c->user, sizeof(c->user)) != 0) {
		reply_error(c, 401, "UnknownKey", "key '%s' belongs to no user",
			    pub);
		return -1;
	}
	return 0;
}

/* Authenticate the signer as a user and check the route's action. */
static int authenticate(struct admin_ctx *c, const struct route *r)
{
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	struct ows_err err = {{0}};
	char pub[OWS_PUBKEY_B64_LEN], arn[128], ip[64];

	if (ows_reqsig_verify(ows_http_req_header(c->req, "Authorization"),
			      c->req->method, c->req->target, c->raw,
			      c->raw_len, ows_now_ms() / 1000, pub, &err) != 0) {
		reply_error(c, 401, "Unauthenticated", "%s", err.msg);
		return -1;
	}
	/* the same Authorization header, so the key check_head looked up */
	if (c->head_user[0] != '\0')
		memcpy(c->user, c->head_user, sizeof(c->user));
	else if (key_user(c, pub) != 0)
		return -1;
	snprintf(arn, sizeof(arn), "arn:ows:ows::cluster/%s",
		 c->n->state.cluster);
	live_context(c, ip, &rc);
	ows_state_directory(&c->n->state, &dir);
	if (r->action != NULL &&
	    ows_user_authorize(&dir, c->user, r->action, arn, &rc) != 0) {
		reply_error(c, 403, "AccessDenied", "user '%s' is not allowed "
			    "'%s' on '%s'", c->user, r->action, arn);
		return -1;
	}
	return 0;
}

static const struct route fn_pseudo_route = {NULL, FN_PREFIX, NULL, NULL};

static const struct route *find_route(const char *method, const char *path,
				      bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		*path_known = true;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	}
	return NULL;
}

static void body_cb(struct ows_http_req *req, int status, const char *body,
		    size_t len)
{
	struct admin_ctx *c = req->data;
	const struct route *r;
	struct ows_err err = {{0}};
	bool known;

	if (status != 0) {
		ctx_release(c); /* the server answered (413) or the peer left */
		return;
	}
	c->raw = body;
	c->raw_len = len;
	if (strncmp(req->path, FN_PREFIX, strlen(FN_PREFIX)) == 0) {
		/* Function calls: the body is the event, not admin JSON. */
		if (authenticate(c, &fn_pseudo_route) == 0)
			fn_route(c);
		return;
	}
	r = find_route(req->method, req->path, &known);
	if (r == NULL) {
		if (known)
			reply_error(c, 405, "MethodNotAllowed", "'%s' does not "
				    "accept %s", req->path, req->method);
		else
			reply_error(c, 404, "NotFound", "no such admin API "
				    "path '%s'", req->path);
		return;
	}
	/* Authenticate first: strangers learn nothing about the body. */
	if (r->fn != post_join && authenticate(c, r) != 0)
		return;
	if (len > 0) {
		c->body = ows_json_parse(body, len, &err);
		if (c->body == NULL) {
			reply_error(c, 400, "MalformedJSON", "%s", err.msg);
			return;
		}
	}
	r->fn(c);
}

static void health(struct ows_core *n, struct ows_http_req *req)
{
	uint64_t held = 0;
	int stalled = ows_raft_stalled(n->raft, &held);
	json_t *v = json_pack("{s:b, s:s, s:s, s:I, s:s}", "ok", stalled == 0,
			      "cluster", n->cfg.cluster, "box_key", n->box_pub,
			      "node", (json_int_t)n->cfg.id, "role",
			      ows_raft_role_name(ows_raft_role(n->raft)));

	/* A node that cannot apply the log is not healthy: say why. */
	if (v != NULL && stalled != 0) {
		json_object_set_new(v, "error", json_sprintf(
			"cannot apply the log (%s): %llu entries wait; "
			"retrying", ows_strerror(stalled),
			(unsigned long long)held));
	}
	ows_reply_json(req, stalled == 0 ? 200 : 503, v);
	json_decref(v);
}

/*
 * Before any body byte is read: an unknown path is answered, and a request
 * whose signature header is malformed, out of time or made by a key that
 * belongs to no user is refused (the signature itself covers the body and
 * is checked once it is read). Joins come from keys nobody knows yet: their
 * body is kept small. 0 and the body limit, or -1 when answered (c freed).
 */
static int check_head(struct admin_ctx *c, size_t *limit)
{
	struct ows_http_req *req = c->req;
	struct ows_err err = {{0}};
	char pub[OWS_PUBKEY_B64_LEN];
	const struct route *r = NULL;
	bool known, fn;

	fn = strncmp(req->path, FN_PREFIX, strlen(FN_PREFIX)) == 0;
	/* Function payloads may be 6 MB, as on Lambda; admin JSON 1 MB. */
	*limit = fn ? 6 * 1024 * 1024 : BODY_LIMIT;
	if (!fn) {
		r = find_route(req->method, req->path, &known);
		if (r == NULL) {
			if (known)
				reply_error(c, 405, "MethodNotAllowed", "'%s' "
					    "does not accept %s", req->path,
					    req->method);
			else
				reply_error(c, 404, "NotFound", "no such admin "
					    "API path '%s'", req->path);
			return -1;
		}
		if (r->fn == post_join) {
			*limit = JOIN_BODY_LIMIT;
			return 0;
		}
	}
	if (ows_reqsig_check_head(ows_http_req_header(req, "Authorization"),
				  ows_now_ms() / 1000, pub, &err) != 0) {
		reply_error(c, 401, "Unauthenticated", "%s", err.msg);
		return -1;
	}
	if (key_user(c, pub) != 0)
		return -1;
	memcpy(c->head_user, c->user, sizeof(c->head_user));
	c->user[0] = '\0'; /* set once the signature is verified */
	return 0;
}

void ows_admin_handle(struct ows_http_req *req, void *ud)
{
	struct ows_admin *a = ud;
	struct ows_core *n = a->core;
	struct admin_ctx *c;
	size_t limit;

	if (ows_edge_is_bucket_host(a->host, req)) {
		ows_edge_handle(a->host, req); /* an object key, any path */
		return;
	}
	if (strcmp(req->path, "/metrics") == 0) {
		ows_metrics_handle(n, a->edge, a->gateway, req);
		return;
	}
	if (strcmp(req->path, "/_ows/v1/health") == 0) {
		health(n, req);
		return;
	}
	if (strcmp(req->path, "/_ows/v1/attested") == 0) {
		ows_host_attested_handle(a->host, req);
		return;
	}
	if (strcmp(req->path, "/_ows/v1/entry") == 0) {
		ows_host_entry_handle(a->host, req);
		return;
	}
	if (strcmp(req->path, "/_ows/v1/barrier") == 0 &&
	    strcmp(req->method, "POST") == 0) {
		ows_host_barrier_handle(a->host, req);
		return;
	}
	if (strcmp(req->path, "/_ows/v1/leadership") == 0) {
		ows_host_leadership_handle(a->host, req);
		return;
	}
	if (strncmp(req->path, "/_ows/v1/blobs/", 15) == 0) {
		ows_blobs_handle(a->blobs, req);
		return;
	}
	if (ows_fnlogs_is_peer_path(req->path)) {
		ows_fnlogs_handle_peer(a->fns, req);
		return;
	}
	if (strncmp(req->path, "/_ows/", 6) != 0) {
		ows_edge_handle(a->host, req);
		return;
	}
	/* A node that cannot apply the log would answer reads from a state
	 * that is behind: refused, as a retry elsewhere is right. */
	if (strcmp(req->method, "GET") == 0 &&
	    ows_raft_stalled(n->raft, NULL) != 0) {
		ows_reply_error(req, 503, "StateUnavailable", "this node "
				      "cannot apply the log now (storage "
				      "failure); ask another node");
		return;
	}
	c = ows_arena_alloc(&req->arena, sizeof(*c));
	if (c == NULL) {
		ows_reply_error(req, 503, "OutOfMemory", "try again");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->a = a;
	c->n = n;
	c->req = req;
	ows_uuid4(c->req_id);
	req->data = c;
	if (check_head(c, &limit) != 0)
		return;
	if (ows_http_req_read_body(req, limit, body_cb) != 0) {
		ows_reply_error(req, 500, "InternalError",
				      "cannot read the body");
	}
}
