/*
 * The "ddb" Raft entry (ddb_model.h): item writes and TTL deletes,
 * applied in order on every node inside the entry's transaction.
 *
 * Conditions are evaluated here, on the state the entry applies to, so
 * that of two writes racing on one item exactly one wins on every node.
 * Apply is deterministic: it reads no clock (an item's expiry is judged
 * at the entry's time), parses the expressions with the same code that
 * validated them on the proposing node (writes.h), and its result is a
 * function of the entry and the state only.
 *
 * op "write": each write loads its table (the tid must still match: a
 * table deleted and made again is another table), reads the stored item,
 * evaluates its condition and builds the new item. An atomic entry
 * (TransactWriteItems) evaluates every write before it stores any and
 * stores nothing when one fails ("cancelled"); its ClientRequestToken
 * (prefixed by the proposer with the caller: each caller's own) is
 * kept in ddb_tokens for OWS_DDB_TOKEN_KEEP_MS of entry time with the
 * request's digest and the result, so that the same request sent again
 * gets the same result without writing twice ("replayed").
 *
 * op "expire": the TTL sweep's deletes (ttl.c), each only when the item
 * is still expired at the entry's "now" (a write since may have moved
 * its expiry).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/writes.h"
#include "state/state.h"

/* One write being applied. */
struct wstate {
	const json_t *w;            /* the entry's write */
	struct ows_ddb_table *t;    /* NULL: table gone */
	json_t *stored;             /* the row before, expired or not */
	json_t *old, *item;         /* the item before (NULL: none, or
				       expired), after (NULL: none) */
	json_t *res;                /* its result */
};

static json_t *failed(const char *code, const char *message)
{
	return json_pack("{s:s, s:s, s:s}", "status", "failed", "code", code,
			 "message", message);
}

/* The table of write w, or NULL when it is gone (or another by name). */
static int write_table(struct ows__ddb_tables *set, struct ows_state *s,
		       const json_t *w, struct ows_ddb_table **out)
{
	const char *name = json_string_value(json_object_get(w, "table"));
	int rv;

	*out = NULL;
	if (name == NULL)
		return 0;
	rv = ows__ddb_tables_get(set, s, name, out);
	if (rv == -ENOENT || (rv == 0 && (*out)->tid != json_integer_value(
					json_object_get(w, "tid")))) {
		*out = NULL;
		return 0;
	}
	return rv == -E2BIG ? OWS_EINVAL : rv;
}

/* The new item of an update: a copy of the old one, or the key. */
static json_t *updated(const struct wstate *ws, const struct ows_ddb_expr *upd,
		       struct ows_err *err, int *rv)
{
	const struct ows_ddb_table *t = ws->t;
	const json_t *key = json_object_get(ws->w, "key");
	json_t *item = json_deep_copy(ws->old ? ws->old : key);
	const char *k[2] = {t->pk.name, t->sk.name};
	int i;

	*rv = OWS_EINVAL;
	if (item == NULL) {
		*rv = -ENOMEM;
		return NULL;
	}
	if (upd != NULL && ows_ddb_update_apply(upd, item, err) != 0)
		goto fail;
	for (i = 0; i < 2; i++) {
		if (k[i][0] && !ows_ddb_value_equal(json_object_get(item, k[i]),
						    json_object_get(key, k[i]))) {
			ows_err_printf(err, "One or more parameter values were "
				       "invalid: Cannot update attribute %.200s."
				       " This attribute is part of the key",
				       k[i]);
			goto fail;
		}
	}
	if (ows_ddb_item_size(item) > OWS_DDB_ITEM_MAX) {
		ows_err_printf(err, "Item size to update has exceeded the "
			       "maximum allowed size");
		goto fail;
	}
	if (ows_ddb_item_check(item, err) != 0 ||
	    ows__ddb_item_keys_check(t, item, err) != 0)
		goto fail;
	*rv = 0;
	return item;
fail:
	json_decref(item);
	return NULL;
}

/*
 * The item of a put as the handlers checked it, checked again (item, or
 * NULL with err): an entry is applied by every node forever after, and
 * its item must never be one no handler would have stored (an empty or
 * missing key, a value that is no AttributeValue). The checks are pure,
 * and an honest entry passes them unchanged.
 */
static json_t *put_checked(struct wstate *ws, struct ows_err *err)
{
	json_t *item = ws->item;

	if (ows_ddb_item_check(item, err) == 0 &&
	    ows__ddb_item_keys_check(ws->t, item, err) == 0)
		return item;
	json_decref(item);
	return NULL;
}

static double units(const json_t *old, const json_t *item, bool atomic)
{
	size_t a = old ? ows_ddb_item_size(old) : 0;
	size_t b = item ? ows_ddb_item_size(item) : 0;
	double u = ows__ddb_wcu(a > b ? a : b);

	if (u < 1)
		u = 1;
	return atomic ? 2 * u : u;
}

/*
 * Whether the proposer reads the old (or new) item of ws back from its
 * result: for the index units of ConsumedCapacity (a table with
 * indexes), or for the ReturnValues that return it. Items are most of a
 * result's bytes, and the proposer's node parses it again.
 */
static bool sent_back(const struct wstate *ws, bool old)
{
	const char *rv = ows_json_str(ws->w, "ReturnValues");

	if (ws->t->n_indexes > 0)
		return true;
	if (rv == NULL)
		return false;
	if (old)
		return strcmp(rv, "ALL_OLD") == 0 ||
		       strcmp(rv, "UPDATED_OLD") == 0;
	return strcmp(rv, "ALL_NEW") == 0 || strcmp(rv, "UPDATED_NEW") == 0;
}

/*
 * Evaluate ws against the state (nothing stored): ws->res, and ws->item
 * when it is ok. 0, or -EIO / -ENOMEM.
 */
static int evaluate(struct ows_state *s, struct wstate *ws, int64_t now_s,
		    bool atomic)
{
	const char *kind = json_string_value(json_object_get(ws->w, "kind"));
	const char *rf = json_string_value(json_object_get(ws->w,
				"ReturnValuesOnConditionCheckFailure"));
	const json_t *key = json_object_get(ws->w, strcmp(kind, "put") == 0
					    ? "item" : "key");
	struct ows_ddb_expr *cond = NULL, *upd = NULL;
	struct ows_err err = {{0}};
	bool holds = true;
	int rv;

	if (ws->t == NULL) {
		ws->res = failed("ResourceNotFound",
				 "Requested resource not found");
		return 0;
	}
	if (!json_is_object(key)) {
		ws->res = failed("ValidationError", "The provided key element "
				 "does not match the schema");
		return 0;
	}
	/* an expired item is no item, but its rows go when it is replaced */
	rv = ows__ddb_item_get(s, ws->t, key, 0, &ws->stored);
	if (rv != 0)
		return rv;
	if (ws->stored != NULL) {
		int64_t exp = ows__ddb_item_expires(ws->t, ws->stored);

		if (exp == 0 || exp > now_s)
			ws->old = json_incref(ws->stored);
	}
	if (ows__ddb_write_parse(ws->w, &cond, &upd, &err) != 0 ||
	    (cond != NULL &&
	     ows_ddb_cond_eval(cond, ws->old, &holds, &err) != 0)) {
		ws->res = failed("ValidationError", err.msg);
		goto done;
	}
	if (!holds) {
		ws->res = json_pack("{s:s, s:s}", "status", "failed", "code",
				    "ConditionalCheckFailed");
		if (ws->old != NULL && rf != NULL &&
		    strcmp(rf, "ALL_OLD") == 0)
			json_object_set(ws->res, "item", ws->old);
		goto done;
	}
	if (strcmp(kind, "put") == 0 &&
	    (ws->item = json_deep_copy(key)) == NULL)
		rv = -ENOMEM;
	else if (strcmp(kind, "put") == 0)
		ws->item = put_checked(ws, &err);
	else if (strcmp(kind, "update") == 0)
		ws->item = updated(ws, upd, &err, &rv);
	if (rv == -ENOMEM)
		goto done;
	if ((strcmp(kind, "update") == 0 || strcmp(kind, "put") == 0) &&
	    ws->item == NULL) {
		ws->res = failed("ValidationError", err.msg);
		rv = 0;
		goto done;
	}
	ws->res = json_pack("{s:s, s:f}", "status", "ok", "wcu",
			    units(ws->old, ws->item, atomic));
	/* a check changes no row: nothing for the proposer's index units */
	if (ws->old != NULL && strcmp(kind, "check") != 0 &&
	    sent_back(ws, true))
		json_object_set(ws->res, "old", ws->old);
	/* a put's new item is the write's own, which the proposer has
	 * (writes.h, ows__ddb_result_new): not sent back again */
	if (ws->item != NULL && strcmp(kind, "put") != 0 &&
	    sent_back(ws, false))
		json_object_set(ws->res, "new", ws->item);
	rv = 0;
done:
	ows_ddb_expr_free(cond);
	ows_ddb_expr_free(upd);
	return rv;
}

static bool is_ok(const struct wstate *ws)
{
	return strcmp(json_string_value(json_object_get(ws->res, "status")),
		      "ok") == 0;
}

/* Store ws when it is ok and changes something (not a check). */
static int store(struct ows_state *s, const struct wstate *ws)
{
	const char *kind = json_string_value(json_object_get(ws->w, "kind"));

	if (!is_ok(ws) || strcmp(kind, "check") == 0)
		return 0;
	if (ws->stored == NULL && ws->item == NULL)
		return 0;
	return ows__ddb_item_store(s, ws->t, ws->stored, ws->item);
}

/* ---- tokens ---- */

/*
 * The token's recorded result into result (1: replayed or conflict),
 * or 0 when it is unknown (or too old). Old tokens go first.
 */
static const char tokens_expire_sql[] =
	"DELETE FROM ddb_tokens WHERE time < ?1";
static const char token_get_sql[] =
	"SELECT digest, result FROM ddb_tokens WHERE token = ?1";
static const char token_put_sql[] =
	"INSERT OR REPLACE INTO ddb_tokens(token, digest, result, time)"
	" VALUES(?1, ?2, ?3, ?4)";

static int token_lookup(struct ows_state *s, const char *token,
			const char *digest, int64_t now_ms, json_t *result)
{
	sqlite3_stmt *st = NULL;
	json_t *writes;
	int rv;

	if (ows_state_stmt(s, tokens_expire_sql, &st) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, now_ms - OWS_DDB_TOKEN_KEEP_MS);
	rv = sqlite3_step(st);
	sqlite3_reset(st);
	if (rv != SQLITE_DONE)
		return -EIO;
	if (ows_state_stmt(s, token_get_sql, &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	rv = sqlite3_step(st);
	if (rv == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rv != SQLITE_ROW) {
		sqlite3_reset(st);
		return -EIO;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), digest) != 0) {
		json_object_set_new(result, "conflict", json_true());
	} else {
		writes = ows_json_parse((const char *)sqlite3_column_text(
				st, 1), (size_t)sqlite3_column_bytes(st, 1),
				NULL);
		json_object_set_new(result, "writes",
				    writes ? writes : json_array());
		json_object_set_new(result, "replayed", json_true());
	}
	sqlite3_reset(st);
	return 1;
}

static int token_record(struct ows_state *s, const char *token,
			const char *digest, const json_t *writes,
			int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	char *text = ows_json_dump(writes);
	int rv;

	if (text == NULL)
		return -ENOMEM;
	if (ows_state_stmt(s, token_put_sql, &st) != 0) {
		free(text);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	rv = sqlite3_step(st);
	sqlite3_reset(st);
	free(text);
	return rv == SQLITE_DONE ? 0 : -EIO;
}

/* ---- op "write" ---- */

static int evaluate_all(const struct ows_aws_entry_ctx *c,
			struct ows__ddb_tables *set, struct wstate *ws,
			size_t n, bool atomic)
{
	int64_t now_s = c->time_ms / 1000;
	size_t i;
	int rv;

	for (i = 0; i < n; i++) {
		if ((rv = write_table(set, c->state, ws[i].w, &ws[i].t)) != 0)
			return rv;
		if ((rv = evaluate(c->state, &ws[i], now_s, atomic)) != 0)
			return rv;
		if (ws[i].res == NULL)
			return -ENOMEM;
		/* each on its own: stored before the next one reads */
		if (!atomic && (rv = store(c->state, &ws[i])) != 0)
			return rv;
	}
	return 0;
}

static int write_op(const struct ows_aws_entry_ctx *c, const json_t *body,
		    json_t *result, struct ows_err *err)
{
	const json_t *writes = json_object_get(body, "writes");
	const char *token = ows_json_str(body, "token");
	const char *digest = ows_json_str(body, "digest");
	bool atomic = json_is_true(json_object_get(body, "atomic"));
	bool cancelled = false;
	struct ows__ddb_tables set = {0};
	struct wstate *ws;
	json_t *out;
	size_t i, n = json_array_size(writes);
	int rv;

	if (!json_is_array(writes) || n == 0 || n > 100 ||
	    (token != NULL && digest == NULL)) {
		ows_err_printf(err, "malformed ddb write entry");
		return OWS_EINVAL;
	}
	for (i = 0; i < n; i++) {
		const char *kind = ows_json_str(json_array_get(writes, i),
						"kind");

		if (kind == NULL || (strcmp(kind, "put") != 0 &&
		    strcmp(kind, "update") != 0 &&
		    strcmp(kind, "delete") != 0 && strcmp(kind, "check") != 0)) {
			ows_err_printf(err, "malformed ddb write entry: kind");
			return OWS_EINVAL;
		}
	}
	if (token != NULL) {
		rv = token_lookup(c->state, token, digest, c->time_ms, result);
		if (rv != 0)
			return rv < 0 ? rv : 0;
	}
	ws = calloc(n, sizeof(*ws));
	out = json_array();
	if (ws == NULL || out == NULL) {
		rv = -ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++)
		ws[i].w = json_array_get(writes, i);
	if ((rv = evaluate_all(c, &set, ws, n, atomic)) != 0)
		goto done;
	for (i = 0; atomic && i < n; i++)
		cancelled |= !is_ok(&ws[i]);
	for (i = 0; atomic && !cancelled && i < n; i++)
		if ((rv = store(c->state, &ws[i])) != 0)
			goto done;
	for (i = 0; i < n; i++) {
		if (cancelled && is_ok(&ws[i]))
			json_array_append_new(out, json_pack("{s:s}", "status",
							      "none"));
		else
			json_array_append(out, ws[i].res);
	}
	if (cancelled)
		json_object_set_new(result, "cancelled", json_true());
	if (token != NULL && !cancelled &&
	    (rv = token_record(c->state, token, digest, out,
			       c->time_ms)) != 0)
		goto done;
	json_object_set(result, "writes", out);
	rv = 0;
done:
	for (i = 0; ws != NULL && i < n; i++) {
		json_decref(ws[i].stored);
		json_decref(ws[i].old);
		json_decref(ws[i].item);
		json_decref(ws[i].res);
	}
	free(ws);
	json_decref(out);
	ows__ddb_tables_free(&set);
	return rv == -ENOENT ? -EIO : rv;
}

/* ---- op "expire" ---- */

static int expire_op(const struct ows_aws_entry_ctx *c, const json_t *body,
		     json_t *result, struct ows_err *err)
{
	const char *name = ows_json_str(body, "table");
	const json_t *keys = json_object_get(body, "keys");
	int64_t now = json_integer_value(json_object_get(body, "now"));
	struct ows_ddb_table *t = NULL;
	json_t *old;
	int64_t exp;
	size_t i, deleted = 0;
	int rv;

	if (name == NULL || !json_is_array(keys) ||
	    json_array_size(keys) > OWS__DDB_EXPIRE_BATCH) {
		ows_err_printf(err, "malformed ddb expire entry");
		return OWS_EINVAL;
	}
	/* never past the entry's own time, whatever the proposer thought */
	if (now > c->time_ms / 1000)
		now = c->time_ms / 1000;
	rv = ows__ddb_table_get(c->state, name, &t);
	if (rv == -ENOENT || (rv == 0 && (t->tid != json_integer_value(
			json_object_get(body, "tid")) || !t->ttl[0]))) {
		rv = 0;
		goto done;
	}
	if (rv != 0)
		return rv;
	for (i = 0; i < json_array_size(keys); i++) {
		const json_t *key = json_array_get(keys, i);

		if (!json_is_object(key))
			continue;
		if ((rv = ows__ddb_item_get(c->state, t, key, 0, &old)) != 0)
			goto done;
		exp = old ? ows__ddb_item_expires(t, old) : 0;
		if (old != NULL && exp != 0 && exp <= now) {
			rv = ows__ddb_item_store(c->state, t, old, NULL);
			deleted++;
		}
		json_decref(old);
		if (rv != 0)
			goto done;
	}
done:
	json_object_set_new(result, "deleted", json_integer((json_int_t)
							     deleted));
	ows__ddb_table_free(t);
	return rv;
}

static int entry_apply(const struct ows_aws_entry_ctx *c, const json_t *body,
		       json_t *result, struct ows_err *err)
{
	const char *op = ows_json_str(body, "op");

	if (op != NULL && strcmp(op, "write") == 0)
		return write_op(c, body, result, err);
	if (op != NULL && strcmp(op, "expire") == 0)
		return expire_op(c, body, result, err);
	ows_err_printf(err, "unknown ddb entry op");
	return OWS_EINVAL;
}

const struct ows_aws_entry_type ows__ddb_entry = {"ddb", entry_apply};
