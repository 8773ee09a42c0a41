/*
 * A service's own entries (host->propose_entry) written on a follower go
 * to the leader's POST /_ows/v1/entry, and they go in batches: every
 * entry forwarded during one turn of the loop joins one POST, signed once
 * with the node's key, {"entries": [{"type", "body"}, ...], "leader": ID,
 * "term": T, "nonce": 32 hex}; the leader checks the signature once,
 * proposes the entries together (they reach libraft in one raft_apply,
 * src/raft/propose.c) and answers once, when
 * the last is applied, {"results": [...]} in the order of the entries:
 * {"status": 200, "result": {...}} for an entry applied, with the apply's
 * result, or {"status": 503, "message"} for one that was not committed.
 * Each writer is answered with its own entry's result.
 *
 * A batch is refused as a whole (400 MalformedEntry, nothing proposed)
 * when any of its entries is malformed; only the cluster's nodes may post
 * (from_member, in host.c). A batch is taken once, by the leader and in
 * the term it was signed for: the node-to-node traffic is not encrypted,
 * and a copy captured on the way would otherwise be applied again as
 * long as its signature's time holds (five minutes), as nothing in a
 * service's entry says it was applied before (attested entries have their
 * request_id for that). Another leader or term is answered 503 (the
 * follower's writers retry with the leader they now know), a nonce the
 * leader took in this term 403. The exchange is ows_core_forward's: a reply
 * that does not come within its deadline, or a change of leader seen on
 * the way, answers every writer of the batch 503, as for one entry.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auth/reqsig.h"
#include "aws/registry.h"
#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/host.h"
#include "daemon/reply.h"

#define ENTRY_PATH "/_ows/v1/entry"
/* One entry: DynamoDB's 4 MB transaction with room for its encoding. A
   batch is closed before it passes this, unless its one entry does. */
#define ENTRY_LIMIT (8 * 1024 * 1024)
#define BATCH_LIMIT (ENTRY_LIMIT + 4096)
#define BATCH_MAX_ENTRIES 1024
#define NONCE_LEN 16

/* ---- the follower's end ---- */

struct fw_item {
	ows_aws_proposed_cb cb;
	void *ud;
};

/* The entries forwarded in one turn of the loop, then their exchange. */
struct ows__entry_batch {
	struct ows_node_host *nh;
	uv_timer_t timer;    /* 0 ms: flushes at the next turn's timers */
	bool timer_open;
	bool in_flight;      /* ows_core_forward has not called back yet */
	struct ows_buf body; /* {"entries":[ENTRY,ENTRY... */
	struct fw_item *items;
	size_t n, cap;
};

static void batch_free(struct ows__entry_batch *b)
{
	if (b->timer_open || b->in_flight)
		return;
	ows_buf_free(&b->body);
	free(b->items);
	free(b);
}

static void batch_timer_closed(uv_handle_t *h)
{
	struct ows__entry_batch *b = h->data;

	b->timer_open = false;
	batch_free(b);
}

/* Every writer of b gets status (< 0), or its own result from results. */
static void batch_answer(struct ows__entry_batch *b, int status,
			 const json_t *results)
{
	for (size_t i = 0; i < b->n; i++) {
		const json_t *res = json_array_get(results, i);
		json_t *r = json_object_get(res, "result");
		json_int_t st = json_integer_value(json_object_get(res,
								   "status"));
		int s = status;

		if (s == 0 && st == 503)
			s = OWS_ENOTLEADER;
		else if (s == 0 && (st != 200 || !json_is_object(r)))
			s = -EIO;
		b->items[i].cb(b->items[i].ud, s, s == 0 ? r : NULL);
	}
	b->n = 0;
}

/* The leader's answer, mapped as for one forwarded entry (host.c). */
static void batch_forwarded_cb(void *ud, int status,
			       const struct ows_http_response *resp)
{
	struct ows__entry_batch *b = ud;
	json_t *v = NULL, *results = NULL;

	b->in_flight = false;
	status = ows__host_forward_status(status, resp);
	if (status == 0 && resp->status != 200)
		status = -EIO;
	if (status == 0) {
		v = ows_json_loadb(resp->body, resp->body_len, 0, NULL);
		results = json_object_get(v, "results");
		if (!json_is_array(results) || json_array_size(results) != b->n)
			status = -EIO;
	}
	batch_answer(b, status, results);
	json_decref(v);
	batch_free(b);
}

/* Send batch b to the leader; its writers are answered from the reply. */
static void batch_flush(struct ows__entry_batch *b)
{
	struct ows_core *n = b->nh->core;
	char addr[64], sig[OWS_REQSIG_HEADER_MAX], nonce[2 * NONCE_LEN + 1];
	struct ows_http_header hs[2] = {
		{"Content-Type", "application/json"},
		{"Authorization", sig},
	};
	uint64_t id;
	int rv;

	if (b->nh->entry_batch == b)
		b->nh->entry_batch = NULL;
	if (b->n == 0)
		return;
	rv = n->stopping ? -ECANCELED : ows__host_leader_edge(n, &id, addr);
	if (rv == 0)
		rv = ows_random_hex(NONCE_LEN, nonce);
	/* the leader and term known now: the leader of that term takes it */
	if (rv == 0)
		rv = ows_buf_printf(&b->body, "],\"leader\":%" PRIu64 ",\"term\":"
				    "%" PRIu64 ",\"nonce\":\"%s\"}", id,
				    ows_raft_term(n->raft), nonce);
	if (rv == 0)
		rv = ows_reqsig_sign(n->key, "POST", ENTRY_PATH, b->body.data,
				     b->body.len, ows_now_ms() / 1000, sig);
	if (rv == 0)
		rv = ows_core_forward(n, id, addr, "POST", ENTRY_PATH, hs, 2,
				      b->body.data, b->body.len,
				      batch_forwarded_cb, b);
	if (rv != 0) {
		batch_answer(b, rv, NULL);
		return;
	}
	b->in_flight = true;
}

static void batch_timer_cb(uv_timer_t *t)
{
	struct ows__entry_batch *b = t->data;

	uv_close((uv_handle_t *)&b->timer, batch_timer_closed);
	batch_flush(b);
}

static struct ows__entry_batch *batch_new(struct ows_node_host *nh)
{
	struct ows__entry_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->nh = nh;
	if (ows_buf_puts(&b->body, "{\"entries\":[") != 0) {
		free(b);
		return NULL;
	}
	uv_timer_init(nh->core->loop, &b->timer);
	b->timer.data = b;
	b->timer_open = true;
	uv_timer_start(&b->timer, batch_timer_cb, 0, 0);
	return b;
}

int ows__host_entry_forward(struct ows_node_host *nh, const char *type,
			    const json_t *body, ows_aws_proposed_cb cb,
			    void *ud)
{
	struct ows__entry_batch *b = nh->entry_batch;
	char addr[64], *text;
	json_t *e;
	size_t len;
	uint64_t id;
	int rv = ows__host_leader_edge(nh->core, &id, addr);

	if (rv != 0)
		return rv;
	e = json_pack("{s:s, s:O}", "type", type, "body", body);
	text = e ? ows_json_dump(e) : NULL;
	json_decref(e);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	if (len > ENTRY_LIMIT) {
		free(text);
		return OWS_ETOOBIG;
	}
	/* a full batch leaves with its timer; this entry starts the next */
	if (b != NULL && (b->n == BATCH_MAX_ENTRIES ||
			  b->body.len + len + 3 > ENTRY_LIMIT))
		nh->entry_batch = b = NULL;
	if (b == NULL && (b = batch_new(nh)) == NULL) {
		free(text);
		return -ENOMEM;
	}
	nh->entry_batch = b;
	rv = -ENOMEM;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct fw_item *items = realloc(b->items,
						cap * sizeof(*items));

		if (items == NULL)
			goto cleanup;
		b->items = items;
		b->cap = cap;
	}
	if ((b->n > 0 && ows_buf_puts(&b->body, ",") != 0) ||
	    ows_buf_append(&b->body, text, len) != 0)
		goto cleanup;
	b->items[b->n++] = (struct fw_item){cb, ud};
	rv = 0;
cleanup:
	free(text);
	return rv;
}

/* ---- the leader's end ---- */

struct entries_req;

struct entry_slot {
	struct entries_req *er;
	int status;
	char *result; /* the apply's result (JSON), when status is 0 */
	size_t len;   /* its length; still counted once left out */
	bool left_out; /* applied, its result too large to send back */
};

/* A batch being proposed: answered once every entry is. */
struct entries_req {
	struct ows_http_req *req;
	size_t n, pending;
	struct entry_slot slots[];
};

/*
 * What the results of a batch may weigh together. A write's result can
 * hold whole items (ReturnValues; every write on a table with indexes),
 * up to 400 KB each and six times that as JSON (control characters), and
 * a follower reads at most 64 MB of a reply (ows_core_forward's client
 * default): past this the largest results are left out, each answered
 * 500 for its own writer, so that one caller's large results cannot fail
 * the other writes of the batch (applied all the same).
 */
#define RESULTS_BUDGET (32u << 20)

static void results_trim(struct entries_req *er)
{
	size_t total = 0, i, big;

	for (i = 0; i < er->n; i++)
		total += er->slots[i].result ? er->slots[i].len : 0;
	while (total > RESULTS_BUDGET) {
		for (big = i = 0; i < er->n; i++)
			if (er->slots[i].result != NULL &&
			    (er->slots[big].result == NULL ||
			     er->slots[i].len > er->slots[big].len))
				big = i;
		free(er->slots[big].result);
		er->slots[big].result = NULL;
		er->slots[big].left_out = true;
		total -= er->slots[big].len;
	}
}

static void entries_reply(struct entries_req *er)
{
	struct ows_http_header h = {"Content-Type", "application/json"};
	struct ows_buf out = OWS_BUF_INIT;
	int rv = ows_buf_puts(&out, "{\"results\":[");

	results_trim(er);
	for (size_t i = 0; i < er->n && rv == 0; i++) {
		struct entry_slot *s = &er->slots[i];

		if (i > 0)
			rv = ows_buf_puts(&out, ",");
		if (rv == 0 && s->status == 0 && s->result != NULL)
			rv = ows_buf_printf(&out, "{\"status\":200,"
					    "\"result\":%s}", s->result);
		else if (rv == 0 && s->left_out)
			rv = ows_buf_printf(&out, "{\"status\":500,\"message\":"
					    "\"the entry was applied; its result "
					    "(%zu bytes) is too large to send "
					    "back\"}", s->len);
		else if (rv == 0)
			rv = ows_buf_printf(&out, "{\"status\":503,\"message\":"
					    "\"the entry was not committed "
					    "(%s); retry\"}",
					    ows_strerror(s->status != 0
							     ? s->status
							     : -EIO));
		free(s->result);
		s->result = NULL;
	}
	if (rv == 0)
		rv = ows_buf_puts(&out, "]}");
	if (rv == 0)
		ows_http_respond(er->req, 200, &h, 1, out.data, out.len);
	else
		ows_reply_error(er->req, 500, "InternalError",
				"out of memory");
	ows_buf_free(&out);
	free(er);
}

static void entry_applied(void *ud, int status, void *result)
{
	struct entry_slot *s = ud;
	struct entries_req *er = s->er;

	s->status = status;
	if (status == 0 && result != NULL) {
		s->result = result;
		s->len = strlen(result);
	} else {
		free(result);
	}
	if (--er->pending == 0)
		entries_reply(er);
}

/*
 * The entries of a batch, each {"type": a service's entry type, "body":
 * {...}}: their count, or 0 (with why in err) when any is malformed.
 */
static size_t entries_check(const json_t *v, struct ows_err *err)
{
	const json_t *entries = json_object_get(v, "entries"), *e;
	size_t i, n = json_array_size(entries);

	if (!json_is_array(entries) || n == 0 || n > BATCH_MAX_ENTRIES) {
		ows_err_printf(err, "expected {\"entries\": [1 to %d entries]}",
			    BATCH_MAX_ENTRIES);
		return 0;
	}
	json_array_foreach(entries, i, e) {
		const char *type = ows_json_str(e, "type");

		if (type == NULL || !ows__host_service_entry_type(type) ||
		    !json_is_object(json_object_get(e, "body"))) {
			ows_err_printf(err, "entry %zu: expected {\"type\": a "
				    "service's entry type, \"body\": {...}}",
				    i);
			return 0;
		}
	}
	return n;
}

/* Propose each entry of v (checked): the reply waits for them all. */
static void entries_propose(struct ows_core *n, struct ows_http_req *req,
			    const json_t *v, size_t count)
{
	const json_t *entries = json_object_get(v, "entries"), *e;
	struct entries_req *er;
	size_t i, proposed = 0;
	int rv = 0;

	er = calloc(1, sizeof(*er) + count * sizeof(er->slots[0]));
	if (er == NULL) {
		ows_reply_error(req, 500, "InternalError", "out of memory");
		return;
	}
	er->req = req;
	er->n = count;
	er->pending = count + 1; /* held until every entry is proposed */
	json_array_foreach(entries, i, e) {
		er->slots[i].er = er;
		rv = ows_core_propose(n, ows_json_str(e, "type"),
				      json_object_get(e, "body"),
				      entry_applied, &er->slots[i]);
		if (rv != 0) {
			er->slots[i].status = rv;
			er->pending--;
		} else {
			proposed++;
		}
	}
	if (proposed == 0) {
		/* nothing reached the log: the batch as a whole is refused */
		ows_reply_error(req, 503, "NoLeader", "cannot propose here: "
				"%s; retry", ows_strerror(rv));
		free(er);
		return;
	}
	if (--er->pending == 0)
		entries_reply(er);
}

/* ---- the leader's end: a batch taken once, in its leader's term ---- */

/*
 * The nonces of the batches taken in this term, in two generations of
 * NONCE_GEN_MS: a nonce stays at least one whole generation, longer than
 * the signature of its batch is accepted (OWS_REQSIG_SKEW_S either side
 * of the leader's clock), and then goes, so the set holds what about
 * twenty minutes bring at most. A new term empties it (a batch names its
 * term). Open addressing over the nonces' own random bytes; all zero
 * marks a free slot (and is never a batch's nonce).
 */
#define NONCE_GEN_MS (2 * OWS_REQSIG_SKEW_S * 1000ull)

struct nonce_gen {
	uint8_t (*slots)[NONCE_LEN];
	size_t cap, n; /* cap: 0 or a power of two */
};

struct ows__entry_nonces {
	uint64_t term, started; /* started: uv_now of gen[0]'s start */
	struct nonce_gen gen[2]; /* the current, the previous */
};

static const uint8_t no_nonce[NONCE_LEN];

static size_t nonce_slot(const struct nonce_gen *g, const uint8_t *nonce)
{
	uint64_t h;
	size_t i;

	memcpy(&h, nonce, sizeof(h));
	for (i = (size_t)(h * 0x9E3779B97F4A7C15ull) & (g->cap - 1);
	     memcmp(g->slots[i], no_nonce, NONCE_LEN) != 0;
	     i = (i + 1) & (g->cap - 1))
		if (memcmp(g->slots[i], nonce, NONCE_LEN) == 0)
			break;
	return i; /* the nonce's slot, or the free one it would take */
}

static bool nonce_in(const struct nonce_gen *g, const uint8_t *nonce)
{
	return g->cap > 0 &&
	       memcmp(g->slots[nonce_slot(g, nonce)], nonce, NONCE_LEN) == 0;
}

static int nonce_add(struct nonce_gen *g, const uint8_t *nonce)
{
	if (2 * (g->n + 1) > g->cap) {
		struct nonce_gen bigger = {NULL, g->cap ? 2 * g->cap : 1024, 0};

		bigger.slots = calloc(bigger.cap, NONCE_LEN);
		if (bigger.slots == NULL)
			return -ENOMEM;
		/* cannot fail: bigger has room for them all */
		for (size_t i = 0; i < g->cap; i++)
			if (memcmp(g->slots[i], no_nonce, NONCE_LEN) != 0)
				nonce_add(&bigger, g->slots[i]);
		free(g->slots);
		*g = bigger;
	}
	memcpy(g->slots[nonce_slot(g, nonce)], nonce, NONCE_LEN);
	g->n++;
	return 0;
}

static void nonce_gen_free(struct nonce_gen *g)
{
	free(g->slots);
	*g = (struct nonce_gen){NULL, 0, 0};
}

/* 0: nonce is new in term, now recorded; 1: taken before; -ENOMEM. */
static int nonce_take(struct ows_node_host *nh, uint64_t term,
		      const uint8_t *nonce)
{
	struct ows__entry_nonces *s = nh->entry_nonces;
	uint64_t now = uv_now(nh->core->loop);

	if (s == NULL && (s = nh->entry_nonces = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if (s->term != term || now - s->started >= 2 * NONCE_GEN_MS) {
		/* another term, or every nonce older than a generation */
		nonce_gen_free(&s->gen[0]);
		nonce_gen_free(&s->gen[1]);
		s->term = term;
		s->started = now;
	} else if (now - s->started >= NONCE_GEN_MS) {
		nonce_gen_free(&s->gen[1]);
		s->gen[1] = s->gen[0];
		s->gen[0] = (struct nonce_gen){NULL, 0, 0};
		s->started = now;
	}
	if (nonce_in(&s->gen[0], nonce) || nonce_in(&s->gen[1], nonce))
		return 1;
	return nonce_add(&s->gen[0], nonce);
}

void ows__host_entries_close(struct ows_node_host *nh)
{
	if (nh->entry_nonces == NULL)
		return;
	nonce_gen_free(&nh->entry_nonces->gen[0]);
	nonce_gen_free(&nh->entry_nonces->gen[1]);
	free(nh->entry_nonces);
	nh->entry_nonces = NULL;
}

/* Who the batch v was signed for, and its nonce: 0, or -1 (why in err). */
static int batch_stamp(const json_t *v, uint64_t *leader, uint64_t *term,
		       uint8_t nonce[NONCE_LEN], struct ows_err *err)
{
	const json_t *l = json_object_get(v, "leader");
	const json_t *t = json_object_get(v, "term");
	const char *hex = ows_json_str(v, "nonce");

	if (!json_is_integer(l) || !json_is_integer(t) || hex == NULL ||
	    strlen(hex) != 2 * NONCE_LEN ||
	    ows_hex_decode(hex, nonce, NONCE_LEN) != 0 ||
	    memcmp(nonce, no_nonce, NONCE_LEN) == 0) {
		ows_err_printf(err, "expected \"leader\", \"term\" and a "
			       "\"nonce\" of %d hex digits", 2 * NONCE_LEN);
		return -1;
	}
	*leader = (uint64_t)json_integer_value(l);
	*term = (uint64_t)json_integer_value(t);
	return 0;
}

/* The checked batch v, if this node takes it: answered otherwise. */
static bool batch_taken(struct ows_node_host *nh, struct ows_http_req *req,
			const json_t *v)
{
	struct ows_core *n = nh->core;
	struct ows_err err = {{0}};
	uint8_t nonce[NONCE_LEN];
	uint64_t leader, term, current = ows_raft_term(n->raft);
	int rv;

	if (batch_stamp(v, &leader, &term, nonce, &err) != 0) {
		ows_reply_error(req, 400, "MalformedEntry", "%s", err.msg);
		return false;
	}
	if (leader != n->cfg.id || term != current ||
	    ows_raft_role(n->raft) != OWS_RAFT_LEADER) {
		ows_reply_error(req, 503, "NoLeader", "the batch is for node %"
				PRIu64 " in term %" PRIu64 "; this is node %"
				PRIu64 " in term %" PRIu64 "; retry", leader,
				term, n->cfg.id, current);
		return false;
	}
	rv = nonce_take(nh, term, nonce);
	if (rv > 0)
		ows_reply_error(req, 403, "AccessDenied", "this batch was "
				"taken already: a copy is not taken again");
	else if (rv < 0)
		ows_reply_error(req, 500, "InternalError", "out of memory");
	return rv == 0;
}

static void entry_body_cb(struct ows_http_req *req, int status,
			  const char *body, size_t len)
{
	struct ows_node_host *nh = req->data;
	struct ows_err err = {{0}};
	size_t count;
	json_t *v;

	if (status != 0 || !ows__host_from_member(nh->core, req, body, len,
						  "entries"))
		return;
	v = ows_json_parse(body, len, &err);
	count = v != NULL ? entries_check(v, &err) : 0;
	if (count == 0)
		ows_reply_error(req, 400, "MalformedEntry", "%s", err.msg);
	else if (batch_taken(nh, req, v))
		entries_propose(nh->core, req, v, count);
	json_decref(v);
}

void ows_host_entry_handle(struct ows_node_host *nh, struct ows_http_req *req)
{
	if (strcmp(req->method, "POST") != 0) {
		ows_reply_error(req, 405, "MethodNotAllowed", "POST only");
		return;
	}
	if (!ows__host_member_head(nh->core, req, "entries"))
		return;
	req->data = nh;
	if (ows_http_req_read_body(req, BATCH_LIMIT, entry_body_cb) != 0)
		ows_reply_error(req, 500, "InternalError",
				"cannot read the body");
}
