/*
 * TransactWriteItems: up to 100 Put, Update, Delete and ConditionCheck
 * actions, on distinct items, applied all or none in one atomic "ddb"
 * entry. Each action is validated as its single-item operation is
 * (write_check.c) and authorised as that operation (a ConditionCheck as
 * dynamodb:ConditionCheckItem). When one condition fails, nothing is
 * written and the answer is TransactionCanceledException with one
 * CancellationReason per action, in order.
 *
 * ClientRequestToken (boto3 sends one always): the entry carries it with
 * the digest of the validated actions, and apply answers the same
 * request sent again within 10 minutes with its first result, writing
 * nothing; the same token with other actions is
 * IdempotentParameterMismatchException.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "ddb/writes.h"

#define TXN_MAX 100

struct txn {
	struct ows__ddb_tables set;
	json_t *writes;
	struct ows_ddb_table *t[TXN_MAX];
};

static const struct {
	const char *member, *where, *action;
	enum ows__ddb_wkind kind;
} actions[] = {
	{"ConditionCheck", "conditionCheck", "dynamodb:ConditionCheckItem",
	 OWS__DDB_CHECK},
	{"Put", "put", "dynamodb:PutItem", OWS__DDB_PUT},
	{"Update", "update", "dynamodb:UpdateItem", OWS__DDB_UPDATE},
	{"Delete", "delete", "dynamodb:DeleteItem", OWS__DDB_DELETE},
};

static void txn_free(struct txn *x)
{
	ows__ddb_tables_free(&x->set);
	json_decref(x->writes);
	free(x);
}

/* One CancellationReason of a cancelled transaction. */
static json_t *reason(const json_t *res)
{
	const char *status = ows_json_str(res, "status");
	const char *code = ows_json_str(res, "code");
	const json_t *item = json_object_get(res, "item");
	json_t *out;

	if (status == NULL || strcmp(status, "failed") != 0 || code == NULL)
		return json_pack("{s:s}", "Code", "None");
	if (strcmp(code, "ConditionalCheckFailed") == 0) {
		out = json_pack("{s:s, s:s}", "Code", code, "Message",
				"The conditional request failed");
		if (out != NULL && item != NULL)
			json_object_set(out, "Item", (json_t *)item);
		return out;
	}
	return json_pack("{s:s, s:s}", "Code", code, "Message",
			 ows_json_str(res, "message") ?
			 ows_json_str(res, "message") : "");
}

static void cancelled(struct ows__ddb_req *r, const json_t *writes)
{
	json_t *reasons = json_array(), *one;
	char msg[1024];
	size_t i, len;

	len = (size_t)snprintf(msg, sizeof(msg), "Transaction cancelled, "
			       "please refer cancellation reasons for "
			       "specific reasons [");
	for (i = 0; i < json_array_size(writes); i++) {
		one = reason(json_array_get(writes, i));
		if (len < sizeof(msg))
			len += (size_t)snprintf(msg + len, sizeof(msg) - len,
						"%s%s", i ? ", " : "",
						ows_json_str(one, "Code"));
		json_array_append_new(reasons, one);
	}
	if (len + 2 > sizeof(msg))
		len = sizeof(msg) - 2;
	snprintf(msg + len, sizeof(msg) - len, "]");
	ows__ddb_error_with(r, 400, "TransactionCanceledException",
			    json_pack("{s:o}", "CancellationReasons", reasons),
			    msg);
}

static void txn_applied(struct ows__ddb_req *r, void *data,
			const json_t *result)
{
	struct txn *x = data;
	const json_t *writes = json_object_get(result, "writes");
	const char *rcc, *icm;
	json_t *out, *consumed, *v;
	size_t i;

	if (result == NULL)
		goto out;
	rcc = ows__ddb_str(r, "ReturnConsumedCapacity");
	icm = ows__ddb_str(r, "ReturnItemCollectionMetrics");
	if (json_is_true(json_object_get(result, "conflict"))) {
		ows__ddb_error(r, 400, "IdempotentParameterMismatchException",
			       "The request uses the same client token as a "
			       "previous, but non-identical request.");
		goto out;
	}
	for (i = 0; i < json_array_size(writes); i++) {
		const char *code = ows_json_str(json_array_get(writes, i),
						"code");

		if (code != NULL && strcmp(code, "ResourceNotFound") == 0) {
			ows__ddb_not_found(r);
			goto out;
		}
	}
	if (json_is_true(json_object_get(result, "cancelled"))) {
		cancelled(r, writes);
		goto out;
	}
	consumed = json_object();
	for (i = 0; i < json_array_size(writes) && i < TXN_MAX; i++)
		if (x->t[i] != NULL)
			ows__ddb_capacity_add(consumed, x->t[i],
					      json_array_get(x->writes, i),
					      json_array_get(writes, i), true);
	out = json_object();
	if ((v = ows__ddb_capacity_list(consumed, rcc)) != NULL)
		json_object_set_new(out, "ConsumedCapacity", v);
	if (icm != NULL && strcmp(icm, "SIZE") == 0)
		json_object_set_new(out, "ItemCollectionMetrics",
				    json_object());
	json_decref(consumed);
	txn_free(x);
	ows__ddb_reply(r, out);
	return;
out:
	txn_free(x);
}

/* Action i of the request: which one, and its members. */
static int action_of(const json_t *el, size_t *which, struct ows_err *err)
{
	size_t k, n = 0;

	if (!json_is_object(el)) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++) {
		if (json_object_get(el, actions[k].member) != NULL) {
			*which = k;
			n++;
		}
	}
	if (n != 1) {
		ows_err_printf(err, "TransactItems can only contain one of "
			       "Check, Put, Update or Delete");
		return OWS_EINVAL;
	}
	return 0;
}

static int txn_check(struct ows__ddb_req *r, struct txn *x, size_t *which,
		     struct ows_err *err)
{
	const json_t *items = json_object_get(r->body, "TransactItems");
	json_t *seen = json_object(), *w, *el;
	char where[64];
	size_t i, n = json_array_size(items);
	int rv = 0;

	if (items != NULL && !json_is_array(items)) {
		ows_err_printf(err, "Unexpected value type in payload");
		rv = OWS_EPARSE;
		goto done;
	}
	if (items == NULL || n == 0 || n > TXN_MAX) {
		ows_err_printf(err, "1 validation error detected: Value %s at "
			       "'transactItems' failed to satisfy constraint: "
			       "%s", items == NULL ? "null" : "'[...]'",
			       items == NULL ? "Member must not be null"
			       : n == 0 ? "Member must have length greater "
			       "than or equal to 1" : "Member must have length"
			       " less than or equal to 100");
		rv = OWS_EINVAL;
		goto done;
	}
	for (i = 0; i < n; i++) {
		el = json_array_get(items, i);
		if ((rv = action_of(el, &which[i], err)) != 0)
			goto done;
		snprintf(where, sizeof(where), "transactItems.%zu.member.%s.",
			 i + 1, actions[which[i]].where);
		rv = ows__ddb_write_check(r->c->host->state, &x->set,
				actions[which[i]].kind,
				json_object_get(el, actions[which[i]].member),
				true, where, &w, &x->t[i], err);
		if (rv != 0)
			goto done;
		json_array_append_new(x->writes, w);
		el = json_object_get(w, actions[which[i]].kind == OWS__DDB_PUT
				     ? "item" : "key");
		if ((rv = ows__ddb_seen_once(seen, x->t[i], el)) != 0) {
			ows_err_printf(err, "Transaction request cannot include"
				       " multiple operations on one item");
			goto done;
		}
	}
done:
	json_decref(seen);
	return rv;
}

static int token_check(const json_t *body, struct ows_err *err)
{
	const json_t *v = json_object_get(body, "ClientRequestToken");
	size_t len;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	len = json_string_length(v);
	if (len >= 1 && len <= 36)
		return 0;
	ows_err_printf(err, "1 validation error detected: Value '%.64s' at "
		       "'clientRequestToken' failed to satisfy constraint: "
		       "Member must have length %s", json_string_value(v),
		       len ? "less than or equal to 36" : "greater than or "
		       "equal to 1");
	return OWS_EINVAL;
}

/* Authorise every action, as its own operation. */
static int txn_authorize(struct ows__ddb_req *r, struct txn *x,
			 const size_t *which)
{
	json_t *lk, *attrs;
	size_t i;
	int rv = 0;

	for (i = 0; rv == 0 && i < json_array_size(x->writes); i++) {
		const json_t *w = json_array_get(x->writes, i);

		lk = json_pack("[s]", ows__ddb_leading_key(x->t[i],
				json_object_get(w, json_object_get(w, "item")
						? "item" : "key")));
		attrs = json_object();
		if (lk == NULL || attrs == NULL ||
		    ows__ddb_write_attributes(w, attrs) != 0 ||
		    (attrs = ows__ddb_names_array(attrs)) == NULL) {
			json_decref(lk);
			json_decref(attrs);
			ows__ddb_error(r, 500, "InternalServerError",
				       "out of memory");
			return -ENOMEM;
		}
		rv = ows__ddb_authorize(r, actions[which[i]].action,
					x->t[i]->name, NULL, lk, attrs);
		json_decref(lk);
		json_decref(attrs);
	}
	return rv;
}

static json_t *entry_of(const struct ows__ddb_req *r, const json_t *writes)
{
	const char *token = ows__ddb_str(r, "ClientRequestToken");
	json_t *body = json_pack("{s:s, s:b, s:O}", "op", "write", "atomic", 1,
				 "writes", writes);
	char digest[65], *text;

	if (body == NULL || token == NULL)
		return body;
	text = json_dumps(writes, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL) {
		json_decref(body);
		return NULL;
	}
	ows_sha256_hex(text, strlen(text), digest);
	free(text);
	/* a token is the caller's own: another caller who sends it (guessed
	 * or seen) neither skips its write as a replay nor is refused as a
	 * mismatch */
	json_object_set_new(body, "token", json_sprintf(
		"%s/%s\n%s", r->c->caller.kind, r->c->caller.name, token));
	json_object_set_new(body, "digest", json_string(digest));
	return body;
}

/*
 * A missing table or an action that does not fit its table: the caller's
 * right on every named table first (a caller who may not act there learns
 * nothing of the tables).
 */
static void check_failed(struct ows__ddb_req *r, int rv,
			 const struct ows_err *err, bool retried)
{
	const json_t *items = json_object_get(r->body, "TransactItems");
	const json_t *el, *a;
	size_t i, k;

	json_array_foreach(items, i, el) {
		for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++) {
			a = json_object_get(el, actions[k].member);
			if (ows_json_str(a, "TableName") == NULL)
				continue;
			if (ows__ddb_authorize(r, actions[k].action,
					       ows_json_str(a, "TableName"),
					       NULL, NULL, NULL) != 0)
				return;
		}
	}
	if (rv != OWS_ENOTFOUND || retried ||
	    ows__ddb_catch_up(r, ows__ddb_transact_write) != 0)
		ows__ddb_check_failed(r, rv, err);
}

void ows__ddb_transact_write(struct ows__ddb_req *r)
{
	/* malloc'd: it outlives the answer, which frees the call's arena */
	struct txn *x = calloc(1, sizeof(*x));
	size_t *which = ows_arena_alloc(r->c->arena,
					TXN_MAX * sizeof(*which));
	struct ows_err err = {{0}};
	bool retried;
	int rv;

	if (x == NULL || which == NULL) {
		free(x);
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		return;
	}
	x->writes = json_array();
	retried = r->data == &ows__ddb_caught_up;
	r->data = x;
	if ((rv = ows__ddb_return_check(r->body, &err)) != 0 ||
	    (rv = token_check(r->body, &err)) != 0 ||
	    (rv = txn_check(r, x, which, &err)) != 0) {
		check_failed(r, rv, &err, retried);
		txn_free(x);
		return;
	}
	if (txn_authorize(r, x, which) != 0) {
		txn_free(x);
		return;
	}
	ows__ddb_propose(r, entry_of(r, x->writes), txn_applied);
}
