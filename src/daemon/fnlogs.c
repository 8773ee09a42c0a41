/*
 * A function's logs across the cluster. Each node keeps the logs of the
 * invocations it ran (fn/logs.c, the last OWS_FN_LOG_KEEP per function);
 * `ows logs` asks one node, which answers with its own records and those
 * of every other node, asked over the edge port with requests signed by
 * its node key:
 *
 *   GET /_ows/v1/peer/logs/NAME?since=SEQ   (node-signed; this node's only)
 *
 * The records come back merged by time, each naming its node, with a
 * cursor "ID:SEQ,ID:SEQ,..." (the last record seen of each node) for the
 * next call (`ows logs --follow`). A node that does not answer within
 * PEER_TIMEOUT_MS is listed as unreachable and keeps its place in the
 * cursor. The user was authorized (logs:GetLogEvents) by the node asked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/reqsig.h"
#include "common/enc.h"
#include "common/json.h"
#include "daemon/fnlogs.h"
#include "daemon/reply.h"

#define PEER_PREFIX "/_ows/v1/peer/logs/"
#define PEER_TIMEOUT_MS 2000
#define MAX_NODES 64

struct gather {
	struct ows_core *n;
	char name[OWS_NAME_MAX];
	json_t *records;
	json_t *unreachable;
	uint64_t ids[MAX_NODES], seqs[MAX_NODES]; /* the cursor */
	size_t n_ids;
	size_t members; /* once set, no slot is added */
	int pending;
	ows_fnlogs_cb cb;
	void *ud;
};

struct peer_call {
	struct gather *g;
	size_t slot; /* in ids/seqs */
};

/*
 * Function names are letters, digits, '-', '_' and '.': nothing that a URL
 * would read differently, so a name goes into a peer's path as it is (a
 * decoded "a?b" must not become the name "a" there).
 */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < OWS_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_.") == n;
}

/* ---- the cursor ---- */

static size_t slot_of(struct gather *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_ids; i++)
		if (g->ids[i] == id)
			return i;
	if (g->n_ids == MAX_NODES || g->members > 0)
		return MAX_NODES; /* full, or not a member */
	g->ids[g->n_ids] = id;
	g->seqs[g->n_ids] = 0;
	return g->n_ids++;
}

/* "ID:SEQ,..." into g; a bare number (older clients) is this node's. */
static void parse_cursor(struct gather *g, const char *s)
{
	while (s != NULL && *s != '\0') {
		char *end;
		uint64_t a = strtoull(s, &end, 10), b;
		size_t i;

		if (end == s)
			return;
		if (*end != ':') {
			i = slot_of(g, g->n->cfg.id);
			if (i < MAX_NODES)
				g->seqs[i] = a;
			return;
		}
		s = end + 1;
		b = strtoull(s, &end, 10);
		if (end == s)
			return;
		i = slot_of(g, a);
		if (i < MAX_NODES)
			g->seqs[i] = b;
		s = *end == ',' ? end + 1 : NULL;
	}
}

static char *format_cursor(const struct gather *g)
{
	struct ows_buf b = OWS_BUF_INIT;

	for (size_t i = 0; i < g->n_ids; i++)
		ows_buf_printf(&b, "%s%" PRIu64 ":%" PRIu64, i ? "," : "",
			       g->ids[i], g->seqs[i]);
	return b.data != NULL ? b.data : strdup("");
}

/* ---- merging ---- */

static int by_time(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *keys[] = {"time", "node", "seq"};

	for (size_t i = 0; i < 3; i++) {
		json_int_t p = json_integer_value(json_object_get(x, keys[i]));
		json_int_t q = json_integer_value(json_object_get(y, keys[i]));

		if (p != q)
			return p < q ? -1 : 1;
	}
	return 0;
}

static void finish(struct gather *g)
{
	size_t n = json_array_size(g->records), i;
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *sorted = json_array(),
	       *reply, *rec;
	char *cursor = format_cursor(g);

	json_array_foreach(g->records, i, rec)
		v[i] = rec;
	if (v != NULL)
		qsort(v, n, sizeof(*v), by_time);
	for (i = 0; v != NULL && i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	reply = json_pack("{s:o, s:s, s:O}", "records", sorted, "last",
			  cursor ? cursor : "", "unreachable", g->unreachable);
	free(cursor);
	g->cb(g->ud, reply);
	json_decref(reply);
	json_decref(g->records);
	json_decref(g->unreachable);
	free(g);
}

static void done_one(struct gather *g)
{
	if (--g->pending == 0)
		finish(g);
}

/* ---- this node's records ---- */

struct local_out {
	json_t *records;
	uint64_t node;
};

static void local_cb(void *ud, const struct ows_fn_log_record *rec)
{
	struct local_out *o = ud;

	json_array_append_new(o->records, json_pack(
		"{s:I, s:I, s:I, s:s?, s:s%}", "node", (json_int_t)o->node,
		"seq", (json_int_t)rec->seq, "time", (json_int_t)rec->time_ms,
		"request_id", rec->request_id, "text", rec->text, rec->len));
}

/* ---- the other nodes' ---- */

static void peer_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct peer_call *p = ud;
	struct gather *g = p->g;
	uint64_t id = g->ids[p->slot];
	json_t *v = NULL, *rec;
	size_t i;

	if (status == 0 && r->status == 200)
		v = json_loadb(r->body, r->body_len, 0, NULL);
	if (v == NULL || !json_is_array(json_object_get(v, "records"))) {
		json_array_append_new(g->unreachable, json_integer((json_int_t)id));
	} else {
		json_array_foreach(json_object_get(v, "records"), i, rec) {
			json_object_set_new(rec, "node",
					    json_integer((json_int_t)id));
			json_array_append(g->records, rec);
		}
		if (json_is_integer(json_object_get(v, "last")))
			g->seqs[p->slot] = (uint64_t)json_integer_value(
			    json_object_get(v, "last"));
	}
	json_decref(v);
	free(p);
	done_one(g);
}

static void ask_peer(struct gather *g, const json_t *row)
{
	struct ows_http_client_opts opts = {PEER_TIMEOUT_MS, 8u << 20};
	char target[OWS_NAME_MAX + 64], auth[OWS_REQSIG_HEADER_MAX];
	uint64_t id = (uint64_t)json_integer_value(json_object_get(row, "id"));
	struct ows_http_header h;
	struct peer_call *p;
	size_t slot = slot_of(g, id);

	if (slot == MAX_NODES || (p = malloc(sizeof(*p))) == NULL)
		return;
	*p = (struct peer_call){g, slot};
	snprintf(target, sizeof(target), PEER_PREFIX "%s?since=%" PRIu64,
		 g->name, g->seqs[slot]);
	ows_reqsig_sign(g->n->key, "GET", target, NULL, 0,
			ows_now_ms() / 1000, auth);
	h = (struct ows_http_header){"Authorization", auth};
	g->pending++;
	if (ows_http_client_request(g->n->loop, ows_json_str(row, "edge"),
				    "GET", target, &h, 1, NULL, 0, &opts,
				    peer_cb, p) != 0) {
		json_array_append_new(g->unreachable,
				      json_integer((json_int_t)id));
		free(p);
		g->pending--;
	}
}

int ows_fnlogs_gather(struct ows_functions *f, const char *name,
		      const char *cursor, ows_fnlogs_cb cb, void *ud)
{
	struct ows_core *n = f->core;
	struct gather *g;
	struct local_out o;
	json_t *nodes, *row;
	size_t i, self;

	if (!name_ok(name))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->n = n;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->records = json_array();
	g->unreachable = json_array();
	g->cb = cb;
	g->ud = ud;
	/* The slots are the cluster's nodes, this one first; the cursor can
	 * only move them (ids it names that are not members are ignored). */
	nodes = ows_state_nodes(&n->state);
	slot_of(g, n->cfg.id);
	json_array_foreach(nodes, i, row)
		slot_of(g, (uint64_t)json_integer_value(json_object_get(row,
									"id")));
	g->members = g->n_ids;
	parse_cursor(g, cursor);
	g->pending = 1;
	o = (struct local_out){g->records, n->cfg.id};
	self = slot_of(g, n->cfg.id);
	if (self < MAX_NODES)
		g->seqs[self] = ows_functions_logs(f, name, g->seqs[self],
						   local_cb, &o);
	json_array_foreach(nodes, i, row)
		if ((uint64_t)json_integer_value(json_object_get(row, "id")) !=
		    n->cfg.id)
			ask_peer(g, row);
	json_decref(nodes);
	done_one(g); /* at once when there are no peers */
	return 0;
}

/* ---- the peer endpoint ---- */

static bool signed_by_node(struct ows_core *n, struct ows_http_req *req)
{
	char pub[OWS_PUBKEY_B64_LEN];
	struct ows_err err = {{0}};

	return ows_reqsig_verify(ows_http_req_header(req, "Authorization"),
				 req->method, req->target, NULL, 0,
				 ows_now_ms() / 1000, pub, &err) == 0 &&
	       ows_core_key_is_member(n, pub);
}

bool ows_fnlogs_is_peer_path(const char *path)
{
	return strncmp(path, PEER_PREFIX, strlen(PEER_PREFIX)) == 0;
}

void ows_fnlogs_handle_peer(struct ows_functions *f,
			    struct ows_http_req *req)
{
	struct ows_core *n = f->core;
	struct local_out o = {json_array(), n->cfg.id};
	char since[32] = "0";
	uint64_t last;
	json_t *v;

	if (strcmp(req->method, "GET") != 0) {
		json_decref(o.records);
		ows_reply_error(req, 405, "MethodNotAllowed",
				      "peer logs are read with GET");
		return;
	}
	if (!signed_by_node(n, req)) {
		json_decref(o.records);
		ows_reply_error(req, 403, "AccessDenied",
				      "only the nodes of the cluster ask this");
		return;
	}
	if (!name_ok(req->path + strlen(PEER_PREFIX))) {
		json_decref(o.records);
		ows_reply_error(req, 400, "InvalidParameterValue",
				      "not a function name");
		return;
	}
	ows_query_get(req->query, "since", since, sizeof(since));
	last = ows_functions_logs(f, req->path + strlen(PEER_PREFIX),
				  strtoull(since, NULL, 10), local_cb, &o);
	v = json_pack("{s:o, s:I}", "records", o.records, "last",
		      (json_int_t)last);
	ows_reply_json(req, 200, v);
	json_decref(v);
}
