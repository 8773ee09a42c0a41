/*
 * The options of GetItem, Query and Scan, validated as DynamoDB validates
 * them and without a node (reads.h): projections, Select, Limit, the key
 * condition turned into a range of row keys, filters, ExclusiveStartKey
 * and parallel-scan segments. Messages are DynamoDB's own: clients and
 * tests match on them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/enc.h"
#include "ddb/reads.h"

void ows__ddb_read_init(struct ows__ddb_read *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->forward = true;
	ows_buf_init(&rd->pk);
	ows_buf_init(&rd->lo);
	ows_buf_init(&rd->hi);
	ows_buf_init(&rd->start_pk);
	ows_buf_init(&rd->start_sk);
	ows_ddb_subst_init(&rd->subst, NULL, NULL);
}

void ows__ddb_read_close(struct ows__ddb_read *rd)
{
	ows_ddb_expr_free(rd->keycond);
	ows_ddb_expr_free(rd->filter);
	ows_ddb_expr_free(rd->projection);
	ows_ddb_subst_close(&rd->subst);
	ows_buf_free(&rd->pk);
	ows_buf_free(&rd->lo);
	ows_buf_free(&rd->hi);
	ows_buf_free(&rd->start_pk);
	ows_buf_free(&rd->start_sk);
	json_decref(rd->leading);
	memset(rd, 0, sizeof(*rd));
}

static int invalid(struct ows_err *err, const char *msg)
{
	ows_err_printf(err, "%s", msg);
	return OWS_EINVAL;
}

/* "Can not use both expression and non-expression parameters ..." */
static int mixed(struct ows_err *err, const char *legacy, const char *expr)
{
	ows_err_printf(err, "Can not use both expression and non-expression "
		       "parameters in the same request: Non-expression "
		       "parameters: {%s} Expression parameters: {%s}", legacy,
		       expr);
	return OWS_EINVAL;
}

/* A member that must be a boolean when present: 0, or OWS_EINVAL. */
static int get_bool(const json_t *req, const char *name, bool dflt, bool *out,
		    struct ows_err *err)
{
	const json_t *v = json_object_get(req, name);

	*out = dflt;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		ows_err_printf(err, "1 validation error detected: Value at '%s' "
			       "failed to satisfy constraint: Member must be a "
			       "boolean", name);
		return OWS_EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

int ows__ddb_capacity_parse(const json_t *req, enum ows__ddb_capacity *out,
			    struct ows_err *err)
{
	const json_t *v = json_object_get(req, "ReturnConsumedCapacity");
	const char *s = json_string_value(v);

	*out = OWS__DDB_CAP_NONE;
	if (v == NULL || json_is_null(v) || (s && strcmp(s, "NONE") == 0))
		return 0;
	if (s && strcmp(s, "TOTAL") == 0)
		*out = OWS__DDB_CAP_TOTAL;
	else if (s && strcmp(s, "INDEXES") == 0)
		*out = OWS__DDB_CAP_INDEXES;
	else {
		ows_err_printf(err, "1 validation error detected: Value '%.64s' "
			       "at 'returnConsumedCapacity' failed to satisfy "
			       "constraint: Member must satisfy enum value set: "
			       "[INDEXES, TOTAL, NONE]", s ? s : "");
		return OWS_EINVAL;
	}
	return 0;
}

int ows__ddb_projection_parse(const json_t *req, struct ows_ddb_subst *subst,
			      struct ows_ddb_expr **out, struct ows_err *err)
{
	const json_t *pe = json_object_get(req, "ProjectionExpression");
	const json_t *atg = json_object_get(req, "AttributesToGet");

	*out = NULL;
	if (pe != NULL && json_is_null(pe))
		pe = NULL;
	if (atg != NULL && json_is_null(atg))
		atg = NULL;
	if (pe != NULL && atg != NULL)
		return mixed(err, "AttributesToGet", "ProjectionExpression");
	if (pe != NULL) {
		if (!json_is_string(pe))
			return invalid(err, "Invalid ProjectionExpression: "
				       "The expression must be a string");
		return ows_ddb_expr_parse(OWS_DDB_EXPR_PROJECTION,
					  json_string_value(pe), subst, out,
					  err);
	}
	if (atg != NULL) {
		if (!json_is_array(atg) || json_array_size(atg) == 0)
			return invalid(err, "1 validation error detected: Value "
				       "'[]' at 'attributesToGet' failed to "
				       "satisfy constraint: Member must have "
				       "length greater than or equal to 1");
		return ows_ddb_legacy_projection(atg, out, err);
	}
	return 0;
}

json_t *ows__ddb_read_leading(const json_t *av)
{
	const char *k = json_object_iter_key(json_object_iter((json_t *)av));
	const json_t *v = json_object_iter_value(
		json_object_iter((json_t *)av));

	(void)k;
	/* a request's string: UTF-8 without NUL, as its parser checked */
	return json_is_string(v) ? json_string_nocheck(json_string_value(v))
				 : json_string("");
}

/* [ows__ddb_read_leading(av)], or NULL (json_pack("[o]") without a parse). */
static json_t *leading_list(const json_t *av)
{
	json_t *one = ows__ddb_read_leading(av), *a;

	a = one != NULL ? json_array() : NULL;
	if (a == NULL || json_array_append_new(a, one) != 0) {
		json_decref(one);
		json_decref(a);
		return NULL;
	}
	return a;
}

/* ---- Select ---- */

static int select_parse(const json_t *req, struct ows__ddb_read *rd,
			struct ows_err *err)
{
	const json_t *v = json_object_get(req, "Select");
	const char *s = json_string_value(v);
	bool has_pe = json_is_string(json_object_get(req,
						     "ProjectionExpression"));
	bool has_atg = json_is_array(json_object_get(req, "AttributesToGet"));
	const struct ows_ddb_index *ix = rd->ix;

	if (v == NULL || json_is_null(v)) {
		rd->select = rd->projection ? OWS__DDB_SELECT_SPECIFIC
			     : ix ? OWS__DDB_SELECT_PROJECTED
				  : OWS__DDB_SELECT_ALL;
	} else if (s && strcmp(s, "ALL_ATTRIBUTES") == 0) {
		rd->select = OWS__DDB_SELECT_ALL;
	} else if (s && strcmp(s, "ALL_PROJECTED_ATTRIBUTES") == 0) {
		rd->select = OWS__DDB_SELECT_PROJECTED;
	} else if (s && strcmp(s, "SPECIFIC_ATTRIBUTES") == 0) {
		rd->select = OWS__DDB_SELECT_SPECIFIC;
	} else if (s && strcmp(s, "COUNT") == 0) {
		rd->select = OWS__DDB_SELECT_COUNT;
	} else {
		ows_err_printf(err, "1 validation error detected: Value '%.64s' "
			       "at 'select' failed to satisfy constraint: "
			       "Member must satisfy enum value set: "
			       "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
			       "ALL_PROJECTED_ATTRIBUTES]", s ? s : "");
		return OWS_EINVAL;
	}
	if (v != NULL && !json_is_null(v) &&
	    rd->select != OWS__DDB_SELECT_SPECIFIC) {
		if (has_pe) {
			ows_err_printf(err, "Cannot specify the "
				       "ProjectionExpression when choosing to "
				       "get %s", rd->select ==
				       OWS__DDB_SELECT_COUNT ? "only the Count"
				       : s);
			return OWS_EINVAL;
		}
		if (has_atg)
			return invalid(err, "Cannot use both Select and "
				       "AttributesToGet unless Select is "
				       "SPECIFIC_ATTRIBUTES");
	}
	if (rd->select == OWS__DDB_SELECT_SPECIFIC && rd->projection == NULL)
		return invalid(err, "Must specify the AttributesToGet or "
			       "ProjectionExpression when choosing to get "
			       "SPECIFIC_ATTRIBUTES");
	if (rd->select == OWS__DDB_SELECT_PROJECTED && ix == NULL)
		return invalid(err, "ALL_PROJECTED_ATTRIBUTES can be used only "
			       "when Querying using an IndexName");
	if (ix == NULL || ix->projection == OWS_DDB_PROJ_ALL)
		return 0;
	/* An index that does not hold every attribute: an LSI reads the
	 * rest from the table (as DynamoDB fetches, and charges, it); a GSI
	 * cannot. */
	if (rd->select == OWS__DDB_SELECT_ALL) {
		if (!ix->local) {
			ows_err_printf(err, "One or more parameter values were "
				       "invalid: Select type ALL_ATTRIBUTES is "
				       "not supported for global secondary "
				       "index %s because its projection type "
				       "is not ALL", ix->name);
			return OWS_EINVAL;
		}
		rd->fetch_table = true;
	}
	if (rd->select == OWS__DDB_SELECT_SPECIFIC && ix->local)
		rd->fetch_table = true;
	return 0;
}

/* ---- the key condition as a range of sk ---- */

/*
 * The smallest value greater than every value that begins with av (an
 * S or B): a new AttributeValue, or NULL when there is none.
 */
static json_t *value_prefix_next(const json_t *av)
{
	struct ows_buf b = OWS_BUF_INIT;
	json_t *out = NULL;
	const json_t *s = json_object_get(av, "S");

	if (s != NULL) {
		ows_buf_append(&b, json_string_value(s),
			       json_string_length(s));
		if (b.data != NULL && ows__ddb_prefix_next(&b))
			out = json_pack("{s:o}", "S",
					json_stringn_nocheck(b.data, b.len));
	} else if (ows_ddb_b64_bytes(json_object_get(av, "B"), &b) == 0 &&
		   ows__ddb_prefix_next(&b)) {
		char *text = malloc(OWS_B64_LEN(b.len));

		if (text != NULL) {
			ows_b64_encode(b.data, b.len, text);
			out = json_pack("{s:s}", "B", text);
			free(text);
		}
	}
	ows_buf_free(&b);
	return out;
}

bool ows__ddb_prefix_next(struct ows_buf *b)
{
	while (b->len > 0 && (uint8_t)b->data[b->len - 1] == 0xff)
		b->len--;
	if (b->len == 0)
		return false;
	b->data[b->len - 1] = (char)((uint8_t)b->data[b->len - 1] + 1);
	b->data[b->len] = '\0';
	return true;
}

static int encode(const json_t *av, struct ows_buf *out, struct ows_err *err)
{
	ows_buf_reset(out);
	if (ows_ddb_key_encode(av, out) != 0)
		return invalid(err, "One or more parameter values were "
			       "invalid: Condition parameter type does not "
			       "match schema type");
	return 0;
}

static void between_error(const json_t *a, const json_t *b,
			  struct ows_err *err)
{
	const char *ta = json_object_iter_key(json_object_iter((json_t *)a));
	const char *tb = json_object_iter_key(json_object_iter((json_t *)b));
	const char *va = json_string_value(json_object_iter_value(
		json_object_iter((json_t *)a)));
	const char *vb = json_string_value(json_object_iter_value(
		json_object_iter((json_t *)b)));

	ows_err_printf(err, "Invalid KeyConditionExpression: The BETWEEN "
		       "operator requires upper bound to be greater than or "
		       "equal to lower bound; lower bound operand: "
		       "AttributeValue: {%s:%.40s}, upper bound operand: "
		       "AttributeValue: {%s:%.40s}", ta ? ta : "",
		       va ? va : "", tb ? tb : "", vb ? vb : "");
}

static int keycond_range(struct ows__ddb_read *rd,
			 const struct ows_ddb_keycond *kc, struct ows_err *err)
{
	json_t *next;
	int cmp, rv;

	ows_buf_reset(&rd->lo);
	rd->has_hi = false;
	switch (kc->op) {
	case OWS_DDB_KEY_NONE:
		return 0;
	case OWS_DDB_KEY_EQ:
		if ((rv = encode(kc->v1, &rd->lo, err)) != 0)
			return rv;
		ows_buf_append(&rd->hi, rd->lo.data, rd->lo.len);
		rd->has_hi = ows__ddb_prefix_next(&rd->hi);
		return 0;
	case OWS_DDB_KEY_LT:
	case OWS_DDB_KEY_LE:
		if ((rv = encode(kc->v1, &rd->hi, err)) != 0)
			return rv;
		rd->has_hi = kc->op == OWS_DDB_KEY_LT ||
			     ows__ddb_prefix_next(&rd->hi);
		return 0;
	case OWS_DDB_KEY_GT:
		if ((rv = encode(kc->v1, &rd->lo, err)) != 0)
			return rv;
		if (!ows__ddb_prefix_next(&rd->lo))
			rd->empty = true;
		return 0;
	case OWS_DDB_KEY_GE:
		return encode(kc->v1, &rd->lo, err);
	case OWS_DDB_KEY_BETWEEN:
		if (ows_ddb_value_cmp(kc->v1, kc->v2, &cmp) != 0)
			return invalid(err, "One or more parameter values were "
				       "invalid: Condition parameter type does "
				       "not match schema type");
		if (cmp > 0) {
			between_error(kc->v1, kc->v2, err);
			return OWS_EINVAL;
		}
		if ((rv = encode(kc->v1, &rd->lo, err)) != 0 ||
		    (rv = encode(kc->v2, &rd->hi, err)) != 0)
			return rv;
		rd->has_hi = ows__ddb_prefix_next(&rd->hi);
		return 0;
	case OWS_DDB_KEY_BEGINS_WITH:
		if ((rv = encode(kc->v1, &rd->lo, err)) != 0)
			return rv;
		next = value_prefix_next(kc->v1);
		if (next != NULL) {
			rv = encode(next, &rd->hi, err);
			json_decref(next);
			if (rv != 0)
				return rv;
			rd->has_hi = true;
		}
		return 0;
	}
	return invalid(err, "Query key condition not supported");
}

/* An S or B value of no bytes: never a key. */
static bool empty_key_value(const json_t *v)
{
	const char *s = json_string_value(json_object_get(v, "S"));

	if (s == NULL)
		s = json_string_value(json_object_get(v, "B"));
	return s != NULL && s[0] == '\0';
}

static int keycond_parse(json_t *req, struct ows__ddb_read *rd,
			 struct ows_err *err)
{
	const json_t *kce = json_object_get(req, "KeyConditionExpression");
	const json_t *kcs = json_object_get(req, "KeyConditions");
	const struct ows_ddb_keydef *pk = rd->ix ? &rd->ix->pk : &rd->t->pk;
	const struct ows_ddb_keydef *sk = rd->ix ? &rd->ix->sk : &rd->t->sk;
	struct ows_ddb_keycond kc;
	int rv;

	if (kce != NULL && json_is_null(kce))
		kce = NULL;
	if (kcs != NULL && json_is_null(kcs))
		kcs = NULL;
	if (kce != NULL && kcs != NULL)
		return mixed(err, "KeyConditions", "KeyConditionExpression");
	if (kce == NULL && kcs == NULL)
		return invalid(err, "Either the KeyConditions or "
			       "KeyConditionExpression parameter must be "
			       "specified in the request.");
	if (kce != NULL) {
		if (!json_is_string(kce))
			return invalid(err, "Invalid KeyConditionExpression: "
				       "The expression must be a string");
		rv = ows_ddb_expr_parse(OWS_DDB_EXPR_KEY,
					json_string_value(kce), &rd->subst,
					&rd->keycond, err);
	} else {
		if (!json_is_object(kcs))
			return invalid(err, "KeyConditions must be a map");
		rv = ows_ddb_legacy_keyconditions(kcs, &rd->keycond, err);
	}
	if (rv != 0)
		return rv;
	rv = ows_ddb_keycond_resolve(rd->keycond, pk->name, pk->type,
				     sk->name[0] ? sk->name : NULL, sk->type,
				     &kc, err);
	if (rv != 0)
		return rv;
	/* as for GetItem's key: no partition can have an empty key (found by
	 * differential testing against moto_server, which says the same) */
	if (empty_key_value(kc.pk)) {
		ows_err_printf(err, "One or more parameter values are not "
			       "valid. The AttributeValue for a key attribute "
			       "cannot contain an empty %s value. Key: %s",
			       pk->type == OWS_DDB_B ? "binary" : "string",
			       pk->name);
		return OWS_EINVAL;
	}
	if ((rv = encode(kc.pk, &rd->pk, err)) != 0)
		return rv;
	rd->h = ows_ddb_key_hash(rd->pk.data, rd->pk.len);
	rd->leading = leading_list(kc.pk);
	return keycond_range(rd, &kc, err);
}

/* ---- filters ---- */

static int filter_parse(json_t *req, struct ows__ddb_read *rd,
			struct ows_err *err)
{
	const char *legacy_name = rd->kind == OWS__DDB_READ_QUERY
				  ? "QueryFilter" : "ScanFilter";
	const json_t *fe = json_object_get(req, "FilterExpression");
	const json_t *lf = json_object_get(req, legacy_name);
	const json_t *op = json_object_get(req, "ConditionalOperator");
	const struct ows_ddb_keydef *keys[4] = {
		&rd->t->pk, &rd->t->sk,
		rd->ix ? &rd->ix->pk : NULL, rd->ix ? &rd->ix->sk : NULL};
	int rv;

	if (fe != NULL && json_is_null(fe))
		fe = NULL;
	if (lf != NULL && json_is_null(lf))
		lf = NULL;
	if (fe != NULL && lf != NULL)
		return mixed(err, legacy_name, "FilterExpression");
	if (fe != NULL) {
		if (!json_is_string(fe))
			return invalid(err, "Invalid FilterExpression: The "
				       "expression must be a string");
		rv = ows_ddb_expr_parse(OWS_DDB_EXPR_FILTER,
					json_string_value(fe), &rd->subst,
					&rd->filter, err);
	} else if (lf != NULL) {
		if (!json_is_object(lf))
			return invalid(err, "1 validation error detected: the "
				       "filter must be a map");
		if (op != NULL && !json_is_null(op) && !json_is_string(op))
			return invalid(err, "ConditionalOperator must be a "
				       "string");
		rv = ows_ddb_legacy_conditions(OWS_DDB_EXPR_FILTER, lf,
					       json_string_value(op),
					       &rd->filter, err);
	} else {
		return 0;
	}
	if (rv != 0 || rd->kind != OWS__DDB_READ_QUERY)
		return rv;
	/* A Query filters after the key condition: DynamoDB refuses a
	 * filter on the key attributes of what it queries. */
	for (int i = 0; i < 4; i++) {
		if (keys[i] == NULL || keys[i]->name[0] == '\0')
			continue;
		if (i < 2 && rd->ix != NULL)
			continue;
		if (ows_ddb_expr_names_top(rd->filter, keys[i]->name)) {
			ows_err_printf(err, "%s can only contain non-primary "
				       "key attributes: Primary key attribute: "
				       "%s", fe ? "Filter Expression"
				       : legacy_name, keys[i]->name);
			return OWS_EINVAL;
		}
	}
	return 0;
}

/* ---- ExclusiveStartKey ---- */

int ows__ddb_start_row(const struct ows_ddb_table *t,
		       const struct ows_ddb_index *ix, json_t *key,
		       uint32_t *h, struct ows_buf *pk, struct ows_buf *sk,
		       struct ows_err *err)
{
	const struct ows_ddb_keydef *defs[4] = {&t->pk, &t->sk,
						ix ? &ix->pk : NULL,
						ix ? &ix->sk : NULL};
	size_t want = 0;
	const char *name;
	json_t *v;
	int rv;

	if (!json_is_object(key))
		goto bad;
	for (int i = 0; i < 4; i++) {
		if (defs[i] == NULL || defs[i]->name[0] == '\0')
			continue;
		/* An index key may be a table key too: count it once. */
		if (i >= 2 && (strcmp(defs[i]->name, t->pk.name) == 0 ||
			       strcmp(defs[i]->name, t->sk.name) == 0))
			continue;
		want++;
		v = json_object_get(key, defs[i]->name);
		if (ows_ddb_type_of(v) != defs[i]->type ||
		    ows_ddb_value_check(v, err) != 0)
			goto bad;
	}
	if (json_object_size(key) != want)
		goto bad;
	json_object_foreach(key, name, v) {
		if (ows_ddb_type_of(v) == OWS_DDB_NONE)
			goto bad;
	}
	ows_buf_reset(pk);
	ows_buf_reset(sk);
	rv = ows__ddb_row_key(t, ix, key, h, pk, sk);
	if (rv == 1)
		return 0;
bad:
	return invalid(err, "The provided starting key is invalid: The "
		       "provided key element does not match the schema");
}

/* Byte-string order, as SQLite compares BLOBs. */
static int bytes_cmp(const struct ows_buf *a, const struct ows_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Query: the start key must be of the queried partition and inside the
 * key condition's range; the range then begins after it. */
static int query_start(json_t *esk, struct ows__ddb_read *rd,
		       struct ows_err *err)
{
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	uint32_t h;
	int rv;

	rv = ows__ddb_start_row(rd->t, rd->ix, esk, &h, &pk, &sk, err);
	if (rv != 0)
		goto out;
	if (h != rd->h || pk.len != rd->pk.len ||
	    memcmp(pk.data, rd->pk.data, pk.len) != 0) {
		rv = invalid(err, "The provided starting key is invalid: The "
			     "provided starting key does not match the key "
			     "condition");
		goto out;
	}
	if (bytes_cmp(&sk, &rd->lo) < 0 ||
	    (rd->has_hi && bytes_cmp(&sk, &rd->hi) >= 0)) {
		rv = invalid(err, "The provided starting key is outside query "
			     "boundaries based on provided conditions");
		goto out;
	}
	if (rd->forward) {
		/* sk > start: sk >= start || 0x00, the next byte string. */
		ows_buf_reset(&rd->lo);
		ows_buf_append(&rd->lo, sk.data, sk.len);
		rv = ows_buf_append(&rd->lo, "\0", 1);
	} else {
		ows_buf_reset(&rd->hi);
		rv = ows_buf_append(&rd->hi, sk.data, sk.len);
		rd->has_hi = true;
	}
out:
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	return rv;
}

/* ---- Scan segments ---- */

static int segment_parse(json_t *req, struct ows__ddb_read *rd,
			 struct ows_err *err)
{
	const json_t *seg = json_object_get(req, "Segment");
	const json_t *tot = json_object_get(req, "TotalSegments");
	json_int_t s, n;

	if (seg != NULL && json_is_null(seg))
		seg = NULL;
	if (tot != NULL && json_is_null(tot))
		tot = NULL;
	rd->h_lo = 0;
	rd->h_hi = UINT32_MAX;
	if (seg == NULL && tot == NULL)
		return 0;
	if (tot == NULL)
		return invalid(err, "The TotalSegments parameter is required "
			       "but was not present in the request when "
			       "Segment parameter is present");
	if (seg == NULL)
		return invalid(err, "The Segment parameter is required but was "
			       "not present in the request when parameter "
			       "TotalSegments is present");
	if (!json_is_integer(seg) || !json_is_integer(tot))
		return invalid(err, "Segment and TotalSegments must be "
			       "integers");
	s = json_integer_value(seg);
	n = json_integer_value(tot);
	if (n < 1 || n > 1000000) {
		ows_err_printf(err, "1 validation error detected: Value '%lld' "
			       "at 'totalSegments' failed to satisfy "
			       "constraint: Member must have value %s",
			       (long long)n, n < 1 ? "greater than or equal "
			       "to 1" : "less than or equal to 1000000");
		return OWS_EINVAL;
	}
	if (s < 0 || s > 999999) {
		ows_err_printf(err, "1 validation error detected: Value '%lld' "
			       "at 'segment' failed to satisfy constraint: "
			       "Member must have value %s", (long long)s,
			       s < 0 ? "greater than or equal to 0"
			       : "less than or equal to 999999");
		return OWS_EINVAL;
	}
	if (s >= n) {
		ows_err_printf(err, "The Segment parameter is zero-based and "
			       "must be less than parameter TotalSegments: "
			       "Segment: %lld is not less than TotalSegments: "
			       "%lld", (long long)s, (long long)n);
		return OWS_EINVAL;
	}
	/* Segment s of n: the s-th n-th of the 32-bit hash space. */
	rd->h_lo = (uint32_t)(((uint64_t)s << 32) / (uint64_t)n);
	rd->h_hi = (uint32_t)((((uint64_t)s + 1) << 32) / (uint64_t)n - 1);
	return 0;
}

static int scan_start(json_t *esk, struct ows__ddb_read *rd,
		      struct ows_err *err)
{
	int rv;

	rd->start_h = rd->h_lo;
	ows_buf_reset(&rd->start_pk);
	ows_buf_reset(&rd->start_sk);
	if (esk == NULL || json_is_null(esk))
		return ows_buf_append(&rd->start_pk, "", 0);
	rv = ows__ddb_start_row(rd->t, rd->ix, esk, &rd->start_h,
				&rd->start_pk, &rd->start_sk, err);
	if (rv != 0)
		return rv;
	if (rd->start_h < rd->h_lo || rd->start_h > rd->h_hi)
		return invalid(err, "The provided Exclusive start key does not "
			       "map to the provided segment");
	return ows_buf_append(&rd->start_sk, "\0", 1);
}

/* ---- the whole request ---- */

static int limit_parse(const json_t *req, struct ows__ddb_read *rd,
		       struct ows_err *err)
{
	const json_t *v = json_object_get(req, "Limit");

	rd->limit = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		ows_err_printf(err, "1 validation error detected: Value '%lld' "
			       "at 'limit' failed to satisfy constraint: Member "
			       "must have value greater than or equal to 1",
			       json_is_integer(v)
			       ? (long long)json_integer_value(v) : 0LL);
		return OWS_EINVAL;
	}
	rd->limit = json_integer_value(v);
	return 0;
}

static int index_parse(const json_t *req, struct ows__ddb_read *rd,
		       struct ows_err *err)
{
	const json_t *v = json_object_get(req, "IndexName");

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) < 3 ||
	    json_string_length(v) > 255) {
		ows_err_printf(err, "1 validation error detected: Value "
			       "'%.255s' at 'indexName' failed to satisfy "
			       "constraint: Member must have length between 3 "
			       "and 255", json_is_string(v)
			       ? json_string_value(v) : "");
		return OWS_EINVAL;
	}
	rd->ix = ows__ddb_table_index(rd->t, json_string_value(v));
	if (rd->ix == NULL) {
		ows_err_printf(err, "The table does not have the specified "
			       "index: %.255s", json_string_value(v));
		return OWS_EINVAL;
	}
	if (!rd->ix->active) {
		ows_err_printf(err, "Cannot read from backfilling global "
			       "secondary index: %s", rd->ix->name);
		return OWS_EINVAL;
	}
	return 0;
}

static int get_parse(json_t *body, struct ows__ddb_read *rd,
		     struct ows_err *err)
{
	json_t *key = json_object_get(body, "Key");
	int rv;

	if (!json_is_object(key))
		return invalid(err, "1 validation error detected: Value null "
			       "at 'key' failed to satisfy constraint: Member "
			       "must not be null");
	if ((rv = ows__ddb_key_check(rd->t, key, err)) != 0)
		return rv;
	rd->leading = leading_list(json_object_get(key, rd->t->pk.name));
	return 0;
}

int ows__ddb_read_parse(json_t *body, enum ows__ddb_read_kind kind,
			const struct ows_ddb_table *t,
			struct ows__ddb_read *rd, struct ows_err *err)
{
	json_t *esk;
	int rv;

	rd->kind = kind;
	rd->t = t;
	ows_ddb_subst_init(&rd->subst,
			   json_object_get(body, "ExpressionAttributeNames"),
			   json_object_get(body, "ExpressionAttributeValues"));
	if ((rv = get_bool(body, "ConsistentRead", false, &rd->consistent,
			   err)) != 0 ||
	    (rv = ows__ddb_capacity_parse(body, &rd->capacity, err)) != 0)
		return rv;
	if (kind == OWS__DDB_READ_GET) {
		if ((rv = get_parse(body, rd, err)) != 0 ||
		    (rv = ows__ddb_projection_parse(body, &rd->subst,
						    &rd->projection,
						    err)) != 0)
			return rv;
		return ows_ddb_subst_check(&rd->subst, err);
	}
	if ((rv = index_parse(body, rd, err)) != 0 ||
	    (rv = limit_parse(body, rd, err)) != 0 ||
	    (rv = get_bool(body, "ScanIndexForward", true, &rd->forward,
			   err)) != 0)
		return rv;
	if (kind == OWS__DDB_READ_QUERY) {
		if ((rv = keycond_parse(body, rd, err)) != 0)
			return rv;
	} else {
		rd->forward = true;
		if ((rv = segment_parse(body, rd, err)) != 0)
			return rv;
	}
	esk = json_object_get(body, "ExclusiveStartKey");
	if ((rv = filter_parse(body, rd, err)) != 0 ||
	    (rv = ows__ddb_projection_parse(body, &rd->subst, &rd->projection,
					    err)) != 0 ||
	    (rv = select_parse(body, rd, err)) != 0 ||
	    (rv = ows_ddb_subst_check(&rd->subst, err)) != 0)
		return rv;
	if (esk != NULL && !json_is_null(esk) && kind == OWS__DDB_READ_QUERY)
		return query_start(esk, rd, err);
	if (kind == OWS__DDB_READ_SCAN)
		return scan_start(esk, rd, err);
	return 0;
}
