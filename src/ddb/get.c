/*
 * The reads of items by key: GetItem, BatchGetItem and TransactGetItems
 * (DynamoDB API reference). A consistent read (ConsistentRead true, and
 * every TransactGetItems) waits for host->read_barrier, Raft's ReadIndex,
 * so that it sees every write acknowledged before it on any node; an
 * eventually consistent one is answered from the local state at once.
 * Reads use the cached statements and tables of read_rows.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/enc.h"
#include "common/json.h"
#include "ddb/reads.h"

#define BATCH_KEYS_MAX 100
#define BATCH_RESPONSE_MAX (16 * 1024 * 1024)
#define TRANSACT_MAX 100

static void barrier_failed(struct ows__ddb_req *r, int status)
{
	ows__ddb_error(r, 503, "ServiceUnavailable", "no leader confirmed the "
		       "consistent read (%s); retry", ows_strerror(status));
}

/* Run next after the read barrier when consistent, at once otherwise. */
static void after_barrier(struct ows__ddb_req *r, bool consistent,
			  ows_aws_barrier_cb next)
{
	int rv;

	if (!consistent) {
		next(r, 0);
		return;
	}
	rv = r->c->host->read_barrier(r->c, next, r);
	if (rv != 0)
		barrier_failed(r, rv);
}

static const char *table_name(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_str(r, "TableName");

	if (name == NULL || name[0] == '\0')
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'tableName' failed to satisfy "
				  "constraint: Member must not be null");
	return name && name[0] ? name : NULL;
}

/* ---- GetItem ---- */

/*
 * The answer without a projection, the item written from its stored
 * bytes into the text (ows_ddb_item_json): what building {"Item": item,
 * "ConsumedCapacity": cap} and dumping it gives, without the tree.
 */
static void get_reply_text(struct ows__ddb_req *r,
			   const struct ows_ddb_table *t,
			   const struct ows__ddb_read *rd)
{
	struct ows_buf text = OWS_BUF_INIT;
	char *cap_text = NULL;
	json_t *cap;
	size_t size = 0;
	int rv, found;

	if (ows_buf_append(&text, "{\"Item\":", 8) != 0)
		goto nomem;
	found = ows__ddb_item_get_json(r->c->host->state, t,
				       json_object_get(r->body, "Key"),
				       (int64_t)time(NULL), &text, &size);
	if (found < 0) {
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       ows_strerror(found));
		goto out;
	}
	if (found == 0)
		ows_buf_reset(&text); /* {} */
	cap = ows__ddb_capacity_json(rd->capacity, t, NULL,
				     ows__ddb_rcu(size, rd->consistent));
	if (cap != NULL) {
		cap_text = ows_json_dump(cap);
		json_decref(cap);
		if (cap_text == NULL)
			goto nomem;
	}
	rv = ows_buf_puts(&text, found ? "" : "{");
	if (rv == 0 && cap_text != NULL)
		rv = ows_buf_puts(&text, found ? ",\"ConsumedCapacity\":"
				  : "\"ConsumedCapacity\":");
	if (rv == 0 && cap_text != NULL)
		rv = ows_buf_puts(&text, cap_text);
	if (rv == 0)
		rv = ows_buf_puts(&text, "}");
	if (rv != 0)
		goto nomem;
	ows__ddb_reply_text(r, text.data, text.len);
	goto out;
nomem:
	/* what ows_aws_reply_json answers when its dump fails */
	ows__ddb_error(r, 500, "ServiceException", "out of memory");
out:
	free(cap_text);
	ows_buf_free(&text);
}

static void get_run(void *ud, int status)
{
	struct ows__ddb_req *r = ud;
	struct ows_state *s = r->c->host->state;
	const char *name = ows__ddb_str(r, "TableName");
	const struct ows_ddb_table *t;
	struct ows__ddb_read rd;
	struct ows_err err = {{0}};
	json_t *item = NULL, *out, *cap, *attrs;
	size_t size = 0;
	int rv;

	if (status != 0) {
		barrier_failed(r, status);
		return;
	}
	ows__ddb_read_init(&rd);
	rv = ows__ddb_table_cached(s, name, &t);
	if (rv == -ENOENT) {
		if (ows__ddb_authorize(r, "dynamodb:GetItem", name, NULL, NULL,
				       NULL) == 0)
			ows__ddb_not_found(r);
		goto out;
	}
	if (rv != 0) {
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       ows_strerror(rv));
		goto out;
	}
	if (ows__ddb_read_parse(r->body, OWS__DDB_READ_GET, t, &rd,
				&err) != 0) {
		/* the table's schema is only for those who may read it */
		if (ows__ddb_authorize(r, "dynamodb:GetItem", name, NULL, NULL,
				       NULL) == 0)
			ows__ddb_invalid(r, &err);
		goto out;
	}
	attrs = ows__ddb_read_attributes(rd.projection, NULL, NULL, false);
	rv = attrs == NULL ? -ENOMEM : ows__ddb_authorize(
		r, "dynamodb:GetItem", name, NULL, rd.leading, attrs);
	json_decref(attrs);
	if (rv == -ENOMEM)
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
	if (rv != 0)
		goto out;
	if (rd.projection == NULL) {
		get_reply_text(r, t, &rd);
		goto out;
	}
	rv = ows__ddb_item_get(s, t, json_object_get(r->body, "Key"),
				(int64_t)time(NULL), &item);
	if (rv != 0) {
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       ows_strerror(rv));
		goto out;
	}
	out = json_object();
	if (item != NULL) {
		size = ows_ddb_item_size(item);
		if (rd.projection != NULL) {
			json_t *p = ows_ddb_project(rd.projection, item);

			json_decref(item);
			item = p;
		}
		json_object_set_new(out, "Item", item);
	}
	cap = ows__ddb_capacity_json(rd.capacity, t, NULL,
				     ows__ddb_rcu(size, rd.consistent));
	if (cap != NULL)
		json_object_set_new(out, "ConsumedCapacity", cap);
	ows__ddb_reply(r, out);
out:
	ows__ddb_read_close(&rd);
}

void ows__ddb_get_item(struct ows__ddb_req *r)
{
	if (table_name(r) == NULL)
		return;
	after_barrier(r, json_is_true(json_object_get(r->body,
						      "ConsistentRead")),
		      get_run);
}

/* ---- BatchGetItem ---- */

struct batch_table {
	const char *name;
	json_t *req;                /* the table's KeysAndAttributes */
	struct ows_ddb_table *t;
	struct ows_ddb_subst subst;
	struct ows_ddb_expr *projection;
	bool consistent;
	double units;
};

struct batch {
	size_t n;
	struct batch_table *tables;
};

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		ows__ddb_table_free(b->tables[i].t);
		ows_ddb_expr_free(b->tables[i].projection);
		ows_ddb_subst_close(&b->tables[i].subst);
	}
	free(b->tables);
}

int ows__ddb_batch_get_shape(const json_t *items, struct ows_err *err)
{
	const char *name;
	json_t *ka;
	size_t keys = 0;

	if (!json_is_object(items) || json_object_size(items) == 0) {
		ows_err_printf(err, "1 validation error detected: Value '{}' at "
			       "'requestItems' failed to satisfy constraint: "
			       "Member must have length greater than or equal "
			       "to 1");
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)items, name, ka) {
		const json_t *k = json_object_get(ka, "Keys");

		if (!json_is_array(k) || json_array_size(k) == 0) {
			ows_err_printf(err, "1 validation error detected: Value "
				       "'[]' at 'requestItems.%.255s.member.keys' "
				       "failed to satisfy constraint: Member "
				       "must have length greater than or equal "
				       "to 1", name);
			return OWS_EINVAL;
		}
		keys += json_array_size(k);
	}
	if (keys > BATCH_KEYS_MAX) {
		ows_err_printf(err, "Too many items requested for the "
			       "BatchGetItem call");
		return OWS_EINVAL;
	}
	return 0;
}

/* Options and keys of one table of the batch: 0, or OWS_EINVAL. */
static int batch_table_check(struct batch_table *bt, json_t **leading,
			     struct ows_err *err)
{
	json_t *keys = json_object_get(bt->req, "Keys"), *key, *seen;
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	const json_t *cr = json_object_get(bt->req, "ConsistentRead");
	size_t i;
	uint32_t h;
	int rv = 0;

	bt->consistent = json_is_true(cr);
	ows_ddb_subst_init(&bt->subst,
			   json_object_get(bt->req, "ExpressionAttributeNames"),
			   NULL);
	if ((rv = ows__ddb_projection_parse(bt->req, &bt->subst,
					    &bt->projection, err)) != 0 ||
	    (rv = ows_ddb_subst_check(&bt->subst, err)) != 0)
		return rv;
	seen = json_object();
	*leading = json_array();
	json_array_foreach(keys, i, key) {
		if ((rv = ows__ddb_key_check(bt->t, key, err)) != 0)
			break;
		ows_buf_reset(&pk);
		ows_buf_reset(&sk);
		if (ows__ddb_row_key(bt->t, NULL, key, &h, &pk, &sk) != 1) {
			rv = OWS_EINVAL;
			ows_err_printf(err, "The provided key element does not "
				       "match the schema");
			break;
		}
		ows_buf_append(&pk, sk.data ? sk.data : "", sk.len);
		{
			/* Hex of the row key: a name json can hold. */
			char hex[2 * 4096 + 1];

			if (pk.len > 4096)
				pk.len = 4096;
			ows_hex_encode(pk.data, pk.len, hex);
			if (json_object_get(seen, hex) != NULL) {
				rv = OWS_EINVAL;
				ows_err_printf(err, "Provided list of item keys "
					       "contains duplicates");
				break;
			}
			json_object_set_new(seen, hex, json_true());
		}
		json_array_append_new(*leading, ows__ddb_read_leading(
				json_object_get(key, bt->t->pk.name)));
	}
	json_decref(seen);
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	return rv;
}

/* Load every table of the batch: 0; or answered (missing, denied). */
static int batch_load(struct ows__ddb_req *r, struct batch *b,
		      const json_t *items)
{
	const char *name;
	json_t *ka;
	size_t i = 0;
	int rv;

	b->tables = calloc(json_object_size(items), sizeof(*b->tables));
	if (b->tables == NULL) {
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	json_object_foreach((json_t *)items, name, ka) {
		struct batch_table *bt = &b->tables[i++];

		b->n = i;
		bt->name = name;
		bt->req = ka;
		ows_ddb_subst_init(&bt->subst, NULL, NULL);
		rv = ows__ddb_table_get(r->c->host->state, name, &bt->t);
		if (rv == -ENOENT) {
			if (ows__ddb_authorize(r, "dynamodb:BatchGetItem", name,
					       NULL, NULL, NULL) == 0)
				ows__ddb_not_found(r);
			return rv;
		}
		if (rv != 0) {
			ows__ddb_error(r, 500, "InternalServerError", "%s",
				       ows_strerror(rv));
			return rv;
		}
	}
	return 0;
}

/* The table's request again, with only the keys not read. */
static void batch_unprocessed(json_t *unprocessed, struct batch_table *bt,
			      const json_t *key)
{
	json_t *u = json_object_get(unprocessed, bt->name);

	if (u == NULL) {
		u = json_copy(bt->req);
		json_object_set_new(u, "Keys", json_array());
		json_object_set_new(unprocessed, bt->name, u);
	}
	json_array_append(json_object_get(u, "Keys"), (json_t *)key);
}

static int batch_read(struct ows__ddb_req *r, struct batch *b,
		      json_t *responses, json_t *unprocessed)
{
	struct ows_state *s = r->c->host->state;
	int64_t now = (int64_t)time(NULL);
	size_t total = 0, i, k;
	json_t *key, *item, *list;
	int rv;

	for (i = 0; i < b->n; i++) {
		struct batch_table *bt = &b->tables[i];

		list = json_array();
		json_object_set_new(responses, bt->name, list);
		json_array_foreach(json_object_get(bt->req, "Keys"), k, key) {
			/* DynamoDB's 16 MB cap on a response: the rest is
			 * UnprocessedKeys, for the client to ask again. */
			if (total >= BATCH_RESPONSE_MAX) {
				batch_unprocessed(unprocessed, bt, key);
				continue;
			}
			rv = ows__ddb_item_get(s, bt->t, key, now, &item);
			if (rv != 0)
				return rv;
			bt->units += ows__ddb_rcu(item ? ows_ddb_item_size(item)
						  : 0, bt->consistent);
			if (item == NULL)
				continue;
			total += ows_ddb_item_size(item);
			if (bt->projection != NULL) {
				json_t *p = ows_ddb_project(bt->projection,
							    item);

				json_decref(item);
				item = p;
			}
			json_array_append_new(list, item);
		}
	}
	return 0;
}

static void batch_run(void *ud, int status)
{
	struct ows__ddb_req *r = ud;
	const json_t *items = json_object_get(r->body, "RequestItems");
	struct batch b = {0};
	struct ows_err err = {{0}};
	enum ows__ddb_capacity capn = OWS__DDB_CAP_NONE;
	json_t *leading, *out, *caps;
	int rv;

	if (status != 0) {
		barrier_failed(r, status);
		return;
	}
	ows__ddb_capacity_parse(r->body, &capn, &err);
	if (batch_load(r, &b, items) != 0)
		goto out;
	for (size_t i = 0; i < b.n; i++) {
		leading = NULL;
		rv = batch_table_check(&b.tables[i], &leading, &err);
		if (rv == 0) {
			json_t *attrs = ows__ddb_read_attributes(
				b.tables[i].projection, NULL, NULL, false);

			rv = attrs == NULL ? -ENOMEM : ows__ddb_authorize(
				r, "dynamodb:BatchGetItem", b.tables[i].name,
				NULL, leading, attrs);
			json_decref(attrs);
			if (rv == -ENOMEM)
				ows__ddb_error(r, 500, "InternalServerError",
					       "out of memory");
		}
		/* the table's schema is only for those who may read it */
		else if (ows__ddb_authorize(r, "dynamodb:BatchGetItem",
					    b.tables[i].name, NULL, NULL,
					    NULL) == 0)
			ows__ddb_invalid(r, &err);
		json_decref(leading);
		if (rv != 0)
			goto out;
	}
	out = json_pack("{s:{}, s:{}}", "Responses", "UnprocessedKeys");
	rv = batch_read(r, &b, json_object_get(out, "Responses"),
			json_object_get(out, "UnprocessedKeys"));
	if (rv != 0) {
		json_decref(out);
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       ows_strerror(rv));
		goto out;
	}
	if (capn != OWS__DDB_CAP_NONE) {
		caps = json_array();
		for (size_t i = 0; i < b.n; i++)
			json_array_append_new(caps, ows__ddb_capacity_json(
				capn, b.tables[i].t, NULL, b.tables[i].units));
		json_object_set_new(out, "ConsumedCapacity", caps);
	}
	ows__ddb_reply(r, out);
out:
	batch_free(&b);
}

void ows__ddb_batch_get(struct ows__ddb_req *r)
{
	const json_t *items = json_object_get(r->body, "RequestItems");
	struct ows_err err = {{0}};
	enum ows__ddb_capacity capn;
	bool consistent = false;
	const char *name;
	json_t *ka;

	if (ows__ddb_batch_get_shape(items, &err) != 0 ||
	    ows__ddb_capacity_parse(r->body, &capn, &err) != 0) {
		ows__ddb_invalid(r, &err);
		return;
	}
	json_object_foreach((json_t *)items, name, ka)
		consistent |= json_is_true(json_object_get(ka,
							   "ConsistentRead"));
	after_barrier(r, consistent, batch_run);
}

/* ---- TransactGetItems ---- */

struct tget {
	const char *name;
	json_t *key;
	struct ows_ddb_table *t;
	struct ows_ddb_subst subst;
	struct ows_ddb_expr *projection;
	struct ows_buf row;         /* tid, pk and sk: duplicates */
};

/* TransactionCanceledException: reason i is ValidationError msg. */
static void tget_cancel(struct ows__ddb_req *r, size_t n, size_t bad,
			const char *msg)
{
	json_t *reasons = json_array(), *extra;
	struct ows_buf text = OWS_BUF_INIT;

	ows_buf_puts(&text, "Transaction cancelled, please refer cancellation "
		     "reasons for specific reasons [");
	for (size_t i = 0; i < n; i++) {
		ows_buf_puts(&text, i ? ", " : "");
		ows_buf_puts(&text, i == bad ? "ValidationError" : "None");
		json_array_append_new(reasons, i == bad
			? json_pack("{s:s, s:s}", "Code", "ValidationError",
				    "Message", msg)
			: json_pack("{s:s}", "Code", "None"));
	}
	ows_buf_puts(&text, "]");
	extra = json_pack("{s:o}", "CancellationReasons", reasons);
	json_decref(r->body);
	r->body = NULL;
	ows_aws_error_with(r->c, 400, "TransactionCanceledException", extra,
			   "%s", text.data);
	json_decref(extra);
	ows_buf_free(&text);
}

static void tget_free(struct tget *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ows__ddb_table_free(g[i].t);
		ows_ddb_expr_free(g[i].projection);
		ows_ddb_subst_close(&g[i].subst);
		ows_buf_free(&g[i].row);
	}
	free(g);
}

/* Load and check item i: 0; or answered (-1). */
static int tget_check(struct ows__ddb_req *r, struct tget *g, size_t i,
		      size_t n, const json_t *get)
{
	struct ows_err err = {{0}};
	struct ows_buf pk = OWS_BUF_INIT;
	uint32_t h;
	int rv;

	g->name = json_string_value(json_object_get(get, "TableName"));
	g->key = json_object_get(get, "Key");
	ows_ddb_subst_init(&g->subst, NULL, NULL);
	ows_buf_init(&g->row);
	if (!json_is_object(get) || g->name == NULL || !json_is_object(g->key)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'transactItems.%zu.member.get' failed to "
				  "satisfy constraint: Member must not be null",
				  i + 1);
		return -1;
	}
	rv = ows__ddb_table_get(r->c->host->state, g->name, &g->t);
	if (rv != 0) {
		if (rv != -ENOENT)
			ows__ddb_error(r, 500, "InternalServerError", "%s",
				       ows_strerror(rv));
		else if (ows__ddb_authorize(r, "dynamodb:GetItem", g->name,
					    NULL, NULL, NULL) == 0)
			ows__ddb_not_found(r);
		return -1;
	}
	ows_ddb_subst_init(&g->subst,
			   json_object_get(get, "ExpressionAttributeNames"),
			   NULL);
	/* the table's schema is only for those who may read it */
	if (ows__ddb_key_check(g->t, g->key, &err) != 0) {
		if (ows__ddb_authorize(r, "dynamodb:GetItem", g->name, NULL,
				       NULL, NULL) == 0)
			tget_cancel(r, n, i, err.msg);
		return -1;
	}
	if (ows__ddb_projection_parse(get, &g->subst, &g->projection,
				      &err) != 0 ||
	    ows_ddb_subst_check(&g->subst, &err) != 0) {
		if (ows__ddb_authorize(r, "dynamodb:GetItem", g->name, NULL,
				       NULL, NULL) == 0)
			ows__ddb_invalid(r, &err);
		return -1;
	}
	ows_buf_printf(&g->row, "%lld:", (long long)g->t->tid);
	rv = ows__ddb_row_key(g->t, NULL, g->key, &h, &pk, &g->row);
	ows_buf_append(&g->row, pk.data ? pk.data : "", pk.len);
	ows_buf_free(&pk);
	return 0;
}

static int tget_authorize(struct ows__ddb_req *r, struct tget *g)
{
	json_t *leading = json_pack("[o]", ows__ddb_read_leading(
			json_object_get(g->key, g->t->pk.name)));
	json_t *attrs = ows__ddb_read_attributes(g->projection, NULL, NULL,
						 false);
	int rv = -ENOMEM;

	if (leading != NULL && attrs != NULL)
		rv = ows__ddb_authorize(r, "dynamodb:GetItem", g->name, NULL,
					leading, attrs);
	else
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
	json_decref(leading);
	json_decref(attrs);
	return rv;
}

static bool tget_duplicates(const struct tget *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (g[i].row.len == g[j].row.len &&
			    memcmp(g[i].row.data, g[j].row.data,
				   g[i].row.len) == 0)
				return true;
	return false;
}

static json_t *tget_read(struct ows__ddb_req *r, struct tget *g, size_t n,
			 enum ows__ddb_capacity capn)
{
	json_t *out = json_pack("{s:[]}", "Responses"), *item, *caps, *cap;
	json_t *units = json_object();
	int64_t now = (int64_t)time(NULL);
	const char *name;
	json_t *u;

	for (size_t i = 0; i < n; i++) {
		json_t *resp = json_object();
		size_t size = 0;

		if (ows__ddb_item_get(r->c->host->state, g[i].t, g[i].key,
				       now, &item) != 0) {
			json_decref(resp);
			json_decref(out);
			json_decref(units);
			return NULL;
		}
		if (item != NULL) {
			size = ows_ddb_item_size(item);
			if (g[i].projection != NULL) {
				json_t *p = ows_ddb_project(g[i].projection,
							    item);

				json_decref(item);
				item = p;
			}
			json_object_set_new(resp, "Item", item);
		}
		json_array_append_new(json_object_get(out, "Responses"), resp);
		/* Transactional reads cost twice a consistent read. */
		u = json_object_get(units, g[i].name);
		json_object_set_new(units, g[i].name, json_real(
			(u ? json_real_value(u) : 0.0) +
			2 * ows__ddb_rcu(size, true)));
	}
	if (capn != OWS__DDB_CAP_NONE) {
		caps = json_array();
		json_object_foreach(units, name, u) {
			for (size_t i = 0; i < n; i++) {
				if (strcmp(g[i].name, name) != 0)
					continue;
				cap = ows__ddb_capacity_json(
					capn, g[i].t, NULL, json_real_value(u));
				json_array_append_new(caps, cap);
				break;
			}
		}
		json_object_set_new(out, "ConsumedCapacity", caps);
	}
	json_decref(units);
	return out;
}

static void tget_run(void *ud, int status)
{
	struct ows__ddb_req *r = ud;
	const json_t *items = json_object_get(r->body, "TransactItems");
	size_t n = json_array_size(items);
	struct ows_err err = {{0}};
	enum ows__ddb_capacity capn = OWS__DDB_CAP_NONE;
	struct tget *g;
	json_t *out;
	size_t i;

	if (status != 0) {
		barrier_failed(r, status);
		return;
	}
	ows__ddb_capacity_parse(r->body, &capn, &err);
	g = calloc(n, sizeof(*g));
	if (g == NULL) {
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		if (tget_check(r, &g[i], i, n, json_object_get(
			json_array_get(items, i), "Get")) != 0) {
			i++;
			goto out;
		}
	}
	if (tget_duplicates(g, n)) {
		ows__ddb_invalidf(r, "Transaction request cannot include "
				  "multiple operations on one item");
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		if (tget_authorize(r, &g[k]) != 0)
			goto out;
	out = tget_read(r, g, n, capn);
	if (out == NULL)
		ows__ddb_error(r, 500, "InternalServerError", "the items could "
			       "not be read");
	else
		ows__ddb_reply(r, out);
out:
	tget_free(g, i);
}

void ows__ddb_transact_get(struct ows__ddb_req *r)
{
	const json_t *items = json_object_get(r->body, "TransactItems");
	struct ows_err err = {{0}};
	enum ows__ddb_capacity capn;

	if (!json_is_array(items)) {
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'transactItems' failed to satisfy "
				  "constraint: Member must not be null");
		return;
	}
	if (json_array_size(items) < 1 ||
	    json_array_size(items) > TRANSACT_MAX) {
		ows__ddb_invalidf(r, "1 validation error detected: Value at "
				  "'transactItems' failed to satisfy "
				  "constraint: Member must have length %s",
				  json_array_size(items) < 1
				  ? "greater than or equal to 1"
				  : "less than or equal to 100");
		return;
	}
	if (ows__ddb_capacity_parse(r->body, &capn, &err) != 0) {
		ows__ddb_invalid(r, &err);
		return;
	}
	/* Transactions read the latest committed state, always. */
	after_barrier(r, true, tget_run);
}
