/*
 * One item write checked on the node that takes the request, before it
 * is proposed (writes.h): its table, its item or key against the key
 * schema, its expressions parsed and their substitutions all used, its
 * ReturnValues allowed for its kind. Bad input never reaches the log;
 * apply parses the same members again with the same code
 * (ows__ddb_write_parse) and finds only what depends on the stored item.
 *
 * Also here: the tables of one request, the proposal of a "ddb" entry
 * with its refusals answered, and consumed capacity as DynamoDB counts
 * write units (1 KB steps of the larger of the old and new item, each
 * index whose row changed paying for its projected row).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "ddb/writes.h"

/* ---- expressions ---- */

static const char *const expr_params[] = {
	"ConditionExpression", "ExpressionAttributeNames",
	"ExpressionAttributeValues", "UpdateExpression", NULL,
};
static const char *const legacy_params[] = {
	"AttributeUpdates", "ConditionalOperator", "Expected", NULL,
};

/* "{A, B}" of the members of w named in list into out; how many. */
static int present(const json_t *w, const char *const *list, char *out,
		   size_t cap)
{
	size_t len = 0;
	int n = 0;

	out[0] = '\0';
	for (; *list != NULL; list++) {
		if (json_object_get(w, *list) == NULL)
			continue;
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0,
					"%s%s", n ? ", " : "", *list);
		n++;
	}
	return n;
}

static int parse_both(const json_t *w, struct ows_ddb_subst *s,
		      struct ows_ddb_expr **cond, struct ows_ddb_expr **upd,
		      struct ows_err *err)
{
	const char *ce = json_string_value(json_object_get(w,
						"ConditionExpression"));
	const char *ue = json_string_value(json_object_get(w,
						"UpdateExpression"));
	const json_t *expected = json_object_get(w, "Expected");
	const json_t *updates = json_object_get(w, "AttributeUpdates");
	int rv = 0;

	if (ce != NULL)
		rv = ows_ddb_expr_parse(OWS_DDB_EXPR_CONDITION, ce, s, cond,
					err);
	else if (expected != NULL)
		rv = ows_ddb_legacy_conditions(OWS_DDB_EXPR_CONDITION,
				expected, json_string_value(json_object_get(
					w, "ConditionalOperator")), cond, err);
	if (rv != 0)
		return rv;
	if (ue != NULL)
		rv = ows_ddb_expr_parse(OWS_DDB_EXPR_UPDATE, ue, s, upd, err);
	else if (updates != NULL)
		rv = ows_ddb_legacy_updates(updates, upd, err);
	if (rv != 0)
		return rv;
	return ows_ddb_subst_check(s, err);
}

int ows__ddb_write_parse(const json_t *w, struct ows_ddb_expr **cond,
			 struct ows_ddb_expr **upd, struct ows_err *err)
{
	struct ows_ddb_expr *c = NULL, *u = NULL;
	struct ows_ddb_subst s;
	char a[200], b[200];
	int rv;

	if (present(w, legacy_params, a, sizeof(a)) > 0 &&
	    present(w, expr_params, b, sizeof(b)) > 0) {
		ows_err_printf(err, "Can not use both expression and "
			       "non-expression parameters in the same "
			       "request: Non-expression parameters: {%s} "
			       "Expression parameters: {%s}", a, b);
		return OWS_EINVAL;
	}
	ows_ddb_subst_init(&s, json_object_get(w, "ExpressionAttributeNames"),
			   json_object_get(w, "ExpressionAttributeValues"));
	rv = parse_both(w, &s, &c, &u, err);
	ows_ddb_subst_close(&s);
	if (rv != 0) {
		ows_ddb_expr_free(c);
		ows_ddb_expr_free(u);
		return rv;
	}
	if (cond != NULL)
		*cond = c;
	else
		ows_ddb_expr_free(c);
	if (upd != NULL)
		*upd = u;
	else
		ows_ddb_expr_free(u);
	return 0;
}

/* ---- the tables of a request ---- */

int ows__ddb_tables_get(struct ows__ddb_tables *set, struct ows_state *s,
			const char *name, struct ows_ddb_table **out)
{
	size_t i;
	int rv;

	for (i = 0; i < set->n; i++) {
		if (strcmp(set->t[i]->name, name) == 0) {
			*out = set->t[i];
			return 0;
		}
	}
	if (set->n == sizeof(set->t) / sizeof(set->t[0]))
		return -E2BIG;
	rv = ows__ddb_table_get(s, name, &set->t[set->n]);
	if (rv != 0)
		return rv;
	*out = set->t[set->n++];
	return 0;
}

void ows__ddb_tables_free(struct ows__ddb_tables *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		ows__ddb_table_free(set->t[i]);
	set->n = 0;
}

/* ---- one write ---- */

/* The members copied verbatim into the entry, by kind. */
static const char *const members[] = {
	"ConditionExpression", "ExpressionAttributeNames",
	"ExpressionAttributeValues", "ReturnValuesOnConditionCheckFailure",
	"UpdateExpression", "AttributeUpdates", "Expected",
	"ConditionalOperator", "ReturnValues", NULL,
};

static bool member_allowed(const char *m, enum ows__ddb_wkind kind,
			   bool in_txn)
{
	bool legacy = strcmp(m, "Expected") == 0 ||
		      strcmp(m, "ConditionalOperator") == 0 ||
		      strcmp(m, "AttributeUpdates") == 0;

	if (in_txn && (legacy || strcmp(m, "ReturnValues") == 0))
		return false;
	if (strcmp(m, "UpdateExpression") == 0 ||
	    strcmp(m, "AttributeUpdates") == 0)
		return kind == OWS__DDB_UPDATE;
	if (kind == OWS__DDB_CHECK && strcmp(m, "ReturnValues") == 0)
		return false;
	return true;
}

/* The JSON type each member must have: 's' string, 'o' object. */
static int member_type_ok(const char *m, const json_t *v, struct ows_err *err)
{
	bool obj = strcmp(m, "ExpressionAttributeNames") == 0 ||
		   strcmp(m, "ExpressionAttributeValues") == 0 ||
		   strcmp(m, "Expected") == 0 ||
		   strcmp(m, "AttributeUpdates") == 0;

	if (obj ? json_is_object(v) : json_is_string(v))
		return 0;
	ows_err_printf(err, "%s", obj ? "Unexpected value type in payload"
		       : json_is_object(v) ? "Start of structure or map "
		       "found where not expected" : "Unexpected value type "
		       "in payload");
	return OWS_EPARSE;
}

static int return_values_check(const json_t *w, enum ows__ddb_wkind kind,
			       const char *where, struct ows_err *err)
{
	const char *rv = json_string_value(json_object_get(w, "ReturnValues"));
	const char *rf = json_string_value(json_object_get(w,
				"ReturnValuesOnConditionCheckFailure"));

	if (rv != NULL && strcmp(rv, "NONE") != 0 &&
	    strcmp(rv, "ALL_OLD") != 0 && strcmp(rv, "ALL_NEW") != 0 &&
	    strcmp(rv, "UPDATED_OLD") != 0 && strcmp(rv, "UPDATED_NEW") != 0) {
		ows_err_printf(err, "1 validation error detected: Value '%.100s'"
			       " at 'returnValues' failed to satisfy "
			       "constraint: Member must satisfy enum value set:"
			       " [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, "
			       "UPDATED_NEW]", rv);
		return OWS_EINVAL;
	}
	if (rv != NULL && kind != OWS__DDB_UPDATE &&
	    strcmp(rv, "NONE") != 0 && strcmp(rv, "ALL_OLD") != 0) {
		ows_err_printf(err, "Return values set to invalid value");
		return OWS_EINVAL;
	}
	if (rf != NULL && strcmp(rf, "NONE") != 0 &&
	    strcmp(rf, "ALL_OLD") != 0) {
		ows_err_printf(err, "1 validation error detected: Value '%.100s'"
			       " at '%sreturnValuesOnConditionCheckFailure' "
			       "failed to satisfy constraint: Member must "
			       "satisfy enum value set: [ALL_OLD, NONE]", rf,
			       where);
		return OWS_EINVAL;
	}
	return 0;
}

static int table_name_check(const json_t *v, const char *where,
			    struct ows_err *err)
{
	const char *name = json_string_value(v);
	size_t len, i;

	if (v != NULL && name == NULL) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	if (name == NULL) {
		ows_err_printf(err, "1 validation error detected: Value null at"
			       " '%stableName' failed to satisfy constraint: "
			       "Member must not be null", where);
		return OWS_EINVAL;
	}
	len = strlen(name);
	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
			    "WXYZ0123456789_.-", name[i]))
			break;
	if (len < 3 || len > 255 || i < len) {
		ows_err_printf(err, "1 validation error detected: Value "
			       "'%.255s' at '%stableName' failed to satisfy "
			       "constraint: %s", name, where, len < 3 ?
			       "Member must have length greater than or equal "
			       "to 3" : len > 255 ? "Member must have length "
			       "less than or equal to 255" : "Member must "
			       "satisfy regular expression pattern: "
			       "[a-zA-Z0-9_.-]+");
		return OWS_EINVAL;
	}
	return 0;
}

/* The request's Item (put) or Key (the others), checked, into w. */
static int item_or_key(struct ows_ddb_table *t, enum ows__ddb_wkind kind,
		       const json_t *rq, const char *where, json_t *w,
		       struct ows_err *err)
{
	const char *m = kind == OWS__DDB_PUT ? "Item" : "Key";
	json_t *v = json_object_get(rq, m), *copy, *av;
	const char *name;
	int rv;

	if (v == NULL) {
		ows_err_printf(err, "1 validation error detected: Value null at"
			       " '%s%s' failed to satisfy constraint: Member "
			       "must not be null", where,
			       kind == OWS__DDB_PUT ? "item" : "key");
		return OWS_EINVAL;
	}
	if (!json_is_object(v)) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	/*
	 * The request's own tree, checked and made canonical in place (which
	 * a second check finds done): a copy doubled what a write holds while
	 * it waits for the log.
	 */
	copy = json_incref(v);
	if (kind == OWS__DDB_PUT) {
		rv = ows_ddb_item_check(copy, err);
		if (rv == 0)
			rv = ows__ddb_item_keys_check(t, copy, err);
	} else {
		rv = 0;
		json_object_foreach(copy, name, av)
			if ((rv = ows_ddb_value_check(av, err)) != 0)
				break;
		if (rv == 0)
			rv = ows__ddb_key_check(t, copy, err);
	}
	if (rv != 0) {
		json_decref(copy);
		return rv == -ENOMEM ? rv : OWS_EINVAL;
	}
	json_object_set_new(w, kind == OWS__DDB_PUT ? "item" : "key", copy);
	return 0;
}

static const char *const kind_names[] = {"put", "update", "delete", "check"};

/* Members of rq into w: their types, and which kinds take them. */
static int copy_members(enum ows__ddb_wkind kind, const json_t *rq,
			bool in_txn, json_t *w, struct ows_err *err)
{
	const char *const *m;
	json_t *v;
	int rv;

	for (m = members; *m != NULL; m++) {
		v = json_object_get(rq, *m);
		if (v == NULL || json_is_null(v) ||
		    !member_allowed(*m, kind, in_txn))
			continue;
		if ((rv = member_type_ok(*m, v, err)) != 0)
			return rv;
		json_object_set(w, *m, v);
	}
	return 0;
}

/* What a transaction's Update and ConditionCheck must carry. */
static int txn_required(enum ows__ddb_wkind kind, const json_t *w,
			const char *where, struct ows_err *err)
{
	const char *need = kind == OWS__DDB_UPDATE ? "UpdateExpression"
			   : kind == OWS__DDB_CHECK ? "ConditionExpression"
			   : NULL;

	if (need == NULL || json_object_get(w, need) != NULL)
		return 0;
	ows_err_printf(err, "1 validation error detected: Value null at "
		       "'%s%s' failed to satisfy constraint: Member must not "
		       "be null", where, kind == OWS__DDB_UPDATE ?
		       "updateExpression" : "conditionExpression");
	return OWS_EINVAL;
}

/* An update may not name the table's key attributes. */
static int key_update_check(const struct ows_ddb_table *t,
			    const struct ows_ddb_expr *upd,
			    struct ows_err *err)
{
	const char *k = NULL;

	if (upd == NULL)
		return 0;
	if (ows_ddb_expr_names_top(upd, t->pk.name))
		k = t->pk.name;
	else if (t->sk.name[0] && ows_ddb_expr_names_top(upd, t->sk.name))
		k = t->sk.name;
	if (k == NULL)
		return 0;
	ows_err_printf(err, "One or more parameter values were invalid: "
		       "Cannot update attribute %.200s. This attribute is part "
		       "of the key", k);
	return OWS_EINVAL;
}

int ows__ddb_write_check(struct ows_state *s, struct ows__ddb_tables *set,
			 enum ows__ddb_wkind kind, const json_t *rq,
			 bool in_txn, const char *where, json_t **out,
			 struct ows_ddb_table **t, struct ows_err *err)
{
	struct ows_ddb_expr *upd = NULL;
	json_t *w;
	int rv;

	if (!json_is_object(rq)) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	if ((rv = table_name_check(json_object_get(rq, "TableName"), where,
				   err)) != 0)
		return rv;
	w = json_pack("{s:s, s:O}", "kind", kind_names[kind], "table",
		      json_object_get(rq, "TableName"));
	if (w == NULL)
		return -ENOMEM;
	if ((rv = copy_members(kind, rq, in_txn, w, err)) != 0 ||
	    (in_txn && (rv = txn_required(kind, w, where, err)) != 0) ||
	    (rv = return_values_check(w, kind, where, err)) != 0 ||
	    (rv = ows__ddb_write_parse(w, NULL, &upd, err)) != 0)
		goto fail;
	rv = ows__ddb_tables_get(set, s, json_string_value(json_object_get(
					rq, "TableName")), t);
	if (rv == -ENOENT) {
		ows_err_printf(err, "Requested resource not found");
		rv = OWS_ENOTFOUND;
	}
	if (rv != 0)
		goto fail;
	if ((rv = item_or_key(*t, kind, rq, where, w, err)) != 0 ||
	    (rv = key_update_check(*t, upd, err)) != 0)
		goto fail;
	json_object_set_new(w, "tid", json_integer((*t)->tid));
	ows_ddb_expr_free(upd);
	*out = w;
	return 0;
fail:
	ows_ddb_expr_free(upd);
	json_decref(w);
	return rv;
}

int ows__ddb_write_attributes(const json_t *w, json_t *set)
{
	const json_t *base = json_object_get(w, "item") ? json_object_get(
		w, "item") : json_object_get(w, "key");
	struct ows_ddb_expr *cond = NULL, *upd = NULL;
	struct ows_err err;
	const char *name;
	json_t *v;
	int rv;

	const char *rv_all = ows_json_str(w, "ReturnValues");
	const char *rv_fail = ows_json_str(w,
		"ReturnValuesOnConditionCheckFailure");

	json_object_foreach((json_t *)base, name, v)
		if (json_object_set_new(set, name, json_true()) != 0)
			return -ENOMEM;
	/* a whole item back (ALL_OLD, ALL_NEW): "", as a read of whole
	 * items, which no policy of names allows */
	if (((rv_all != NULL && strncmp(rv_all, "ALL_", 4) == 0) ||
	     (rv_fail != NULL && strcmp(rv_fail, "ALL_OLD") == 0)) &&
	    json_object_set_new(set, "", json_true()) != 0)
		return -ENOMEM;
	if ((rv = ows__ddb_write_parse(w, &cond, &upd, &err)) != 0)
		return rv;
	if ((rv = ows_ddb_expr_tops(cond, set)) == 0)
		rv = ows_ddb_expr_tops(upd, set);
	ows_ddb_expr_free(cond);
	ows_ddb_expr_free(upd);
	return rv;
}

const char *ows__ddb_leading_key(const struct ows_ddb_table *t,
				 const json_t *item)
{
	const json_t *av = json_object_get(item, t->pk.name);
	const char *type;
	json_t *v;

	json_object_foreach((json_t *)av, type, v)
		if (json_is_string(v))
			return json_string_value(v);
	return "";
}

void ows__ddb_check_failed(struct ows__ddb_req *r, int rv,
			   const struct ows_err *err)
{
	if (rv == OWS_ENOTFOUND)
		ows__ddb_not_found(r);
	else if (rv == OWS_EPARSE)
		ows__ddb_error(r, 400, "SerializationException", "%s",
			       err->msg);
	else if (rv == OWS_EINVAL)
		ows__ddb_invalid(r, err);
	else if (rv == -E2BIG)
		ows__ddb_invalidf(r, "Too many tables in one request");
	else
		ows__ddb_error(r, 500, "InternalServerError", "the tables "
			       "could not be read (%s)", ows_strerror(rv));
}

/* ---- proposals ---- */

struct proposal {
	struct ows__ddb_req *r;
	void *data;
	ows__ddb_applied_cb cb;
};

static void proposed(void *ud, int status, const json_t *result)
{
	/* p is the call's: gone once the call is answered */
	struct proposal p = *(struct proposal *)ud;

	if (status < 0) {
		ows__ddb_propose_failed(p.r, status);
		p.cb(NULL, p.data, NULL);
		return;
	}
	if (!json_is_true(json_object_get(result, "ok"))) {
		ows__ddb_error(p.r, 500, "InternalServerError", "the write was "
			       "refused: %s", ows_json_str(result, "message")
			       ? ows_json_str(result, "message") : "");
		p.cb(NULL, p.data, NULL);
		return;
	}
	p.cb(p.r, p.data, result);
}

void ows__ddb_propose(struct ows__ddb_req *r, json_t *body,
		      ows__ddb_applied_cb cb)
{
	const struct ows_aws_host *h = r->c->host;
	struct proposal *p = ows_arena_alloc(r->c->arena, sizeof(*p));
	int rv;

	void *data = r->data;

	if (p == NULL || body == NULL) {
		json_decref(body);
		ows__ddb_propose_failed(r, -ENOMEM);
		cb(NULL, data, NULL);
		return;
	}
	*p = (struct proposal){r, data, cb};
	rv = h->propose_entry != NULL
		? h->propose_entry(h, "ddb", body, proposed, p) : -ENOSYS;
	json_decref(body);
	if (rv != 0) {
		ows__ddb_propose_failed(r, rv);
		cb(NULL, data, NULL);
	}
}

char ows__ddb_caught_up;

struct catch_up {
	struct ows__ddb_req *r;
	void (*again)(struct ows__ddb_req *r);
};

static void caught_up(void *ud, int status)
{
	struct catch_up *cu = ud;

	if (status != 0) {
		ows__ddb_not_found(cu->r);
		return;
	}
	cu->r->data = &ows__ddb_caught_up;
	cu->again(cu->r);
}

int ows__ddb_catch_up(struct ows__ddb_req *r,
		      void (*again)(struct ows__ddb_req *r))
{
	struct catch_up *cu;

	cu = ows_arena_alloc(r->c->arena, sizeof(*cu));
	if (cu == NULL)
		return -ENOMEM;
	*cu = (struct catch_up){r, again};
	return r->c->host->read_barrier(r->c, caught_up, cu);
}

void ows__ddb_error_with(struct ows__ddb_req *r, int status, const char *code,
			 json_t *extra, const char *msg)
{
	json_decref(r->body);
	r->body = NULL;
	ows_aws_error_with(r->c, status, code, extra, "%s", msg);
	json_decref(extra);
}

/* ---- consumed capacity ---- */

static void units_add(json_t *obj, const char *name, double units)
{
	json_t *e = json_object_get(obj, name);

	if (e == NULL) {
		e = json_pack("{s:f}", "CapacityUnits", 0.0);
		json_object_set_new(obj, name, e);
	}
	json_object_set_new(e, "CapacityUnits", json_real(json_real_value(
		json_object_get(e, "CapacityUnits")) + units));
}

/* What one write cost index ix. */
static double index_units(const struct ows_ddb_table *t,
			  const struct ows_ddb_index *ix, const json_t *old,
			  const json_t *item)
{
	struct ows_buf pk[2], sk[2];
	json_t *p[2] = {NULL, NULL};
	const json_t *src[2] = {old, item};
	bool in[2] = {false, false}, same;
	double units = 0;
	uint32_t h[2];
	int i;

	for (i = 0; i < 2; i++) {
		ows_buf_init(&pk[i]);
		ows_buf_init(&sk[i]);
		if (src[i] != NULL && ows__ddb_row_key(t, ix, src[i], &h[i],
						       &pk[i], &sk[i]) == 1) {
			in[i] = true;
			p[i] = ows__ddb_index_project(t, ix, src[i]);
		}
	}
	same = in[0] && in[1] && pk[0].len == pk[1].len &&
	       sk[0].len == sk[1].len &&
	       memcmp(pk[0].data, pk[1].data, pk[0].len) == 0 &&
	       memcmp(sk[0].data, sk[1].data, sk[0].len) == 0;
	if (same && json_equal(p[0], p[1]))
		units = 0;
	else if (same)
		units = ows__ddb_wcu(ows_ddb_item_size(p[1]) >
				     ows_ddb_item_size(p[0]) ?
				     ows_ddb_item_size(p[1]) :
				     ows_ddb_item_size(p[0]));
	else
		for (i = 0; i < 2; i++)
			if (in[i])
				units += ows__ddb_wcu(ows_ddb_item_size(p[i]));
	for (i = 0; i < 2; i++) {
		json_decref(p[i]);
		ows_buf_free(&pk[i]);
		ows_buf_free(&sk[i]);
	}
	return units;
}

const json_t *ows__ddb_result_new(const json_t *w, const json_t *res)
{
	const json_t *item = json_object_get(res, "new");
	const char *kind = ows_json_str(w, "kind");
	const char *status = ows_json_str(res, "status");

	if (item == NULL && kind != NULL && strcmp(kind, "put") == 0 &&
	    status != NULL && strcmp(status, "ok") == 0)
		item = json_object_get(w, "item");
	return item;
}

void ows__ddb_capacity_add(json_t *consumed, const struct ows_ddb_table *t,
			   const json_t *w, const json_t *res, bool txn)
{
	const json_t *old = json_object_get(res, "old");
	const json_t *item = ows__ddb_result_new(w, res);
	json_t *e = json_object_get(consumed, t->name), *sub;
	double units = json_number_value(json_object_get(res, "wcu")), u;
	size_t i;

	if (e == NULL) {
		e = json_pack("{s:s, s:{}}", "TableName", t->name, "Table");
		json_object_set_new(consumed, t->name, e);
	}
	units_add(e, "Table", units);
	for (i = 0; i < t->n_indexes && (old != NULL || item != NULL); i++) {
		const char *which = t->indexes[i].local ?
				    "LocalSecondaryIndexes" :
				    "GlobalSecondaryIndexes";

		u = index_units(t, &t->indexes[i], old, item) * (txn ? 2 : 1);
		if (u == 0)
			continue;
		sub = json_object_get(e, which);
		if (sub == NULL) {
			sub = json_object();
			json_object_set_new(e, which, sub);
		}
		units_add(sub, t->indexes[i].name, u);
		units += u;
	}
	json_object_set_new(e, "CapacityUnits", json_real(json_number_value(
		json_object_get(e, "CapacityUnits")) + units));
}

json_t *ows__ddb_capacity_out(const json_t *entry, const char *mode)
{
	double units = json_number_value(json_object_get(entry,
							 "CapacityUnits"));
	json_t *out = json_pack("{s:O, s:f, s:f}", "TableName",
				json_object_get(entry, "TableName"),
				"CapacityUnits", units,
				"WriteCapacityUnits", units);
	const char *const subs[] = {"Table", "GlobalSecondaryIndexes",
				    "LocalSecondaryIndexes", NULL};
	const json_t *v;
	size_t i;

	if (out == NULL || mode == NULL || strcmp(mode, "INDEXES") != 0)
		return out;
	for (i = 0; subs[i] != NULL; i++) {
		v = json_object_get(entry, subs[i]);
		if (v == NULL)
			continue;
		if (i == 0)
			json_object_set_new(out, subs[i], json_pack(
				"{s:O, s:O}", "CapacityUnits",
				json_object_get(v, "CapacityUnits"),
				"WriteCapacityUnits",
				json_object_get(v, "CapacityUnits")));
		else
			json_object_set(out, subs[i], (json_t *)v);
	}
	return out;
}

json_t *ows__ddb_capacity_list(const json_t *consumed, const char *mode)
{
	const char *name;
	json_t *list, *e;

	if (mode == NULL || strcmp(mode, "NONE") == 0)
		return NULL;
	list = json_array();
	json_object_foreach((json_t *)consumed, name, e)
		json_array_append_new(list, ows__ddb_capacity_out(e, mode));
	return list;
}

json_t *ows__ddb_collection_metrics(const struct ows_ddb_table *t,
				    const json_t *item)
{
	size_t i;

	for (i = 0; i < t->n_indexes; i++)
		if (t->indexes[i].local)
			break;
	if (i == t->n_indexes || json_object_get(item, t->pk.name) == NULL)
		return NULL;
	return json_pack("{s:{s:O}, s:[f, f]}", "ItemCollectionKey",
			 t->pk.name, json_object_get(item, t->pk.name),
			 "SizeEstimateRangeGB", 0.0, 1.0);
}

static int enum_check(const json_t *body, const char *member,
		      const char *field, const char *const *allowed,
		      const char *set, struct ows_err *err)
{
	const json_t *v = json_object_get(body, member);
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		ows_err_printf(err, "Unexpected value type in payload");
		return OWS_EPARSE;
	}
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(json_string_value(v), allowed[i]) == 0)
			return 0;
	ows_err_printf(err, "1 validation error detected: Value '%.100s' at "
		       "'%s' failed to satisfy constraint: Member must satisfy"
		       " enum value set: [%s]", json_string_value(v), field,
		       set);
	return OWS_EINVAL;
}

int ows__ddb_return_check(const json_t *body, struct ows_err *err)
{
	static const char *const rcc[] = {"INDEXES", "TOTAL", "NONE", NULL};
	static const char *const icm[] = {"SIZE", "NONE", NULL};
	int rv;

	rv = enum_check(body, "ReturnConsumedCapacity",
			"returnConsumedCapacity", rcc, "INDEXES, TOTAL, NONE",
			err);
	if (rv == 0)
		rv = enum_check(body, "ReturnItemCollectionMetrics",
				"returnItemCollectionMetrics", icm,
				"SIZE, NONE", err);
	return rv;
}
