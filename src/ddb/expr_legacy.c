/*
 * The legacy parameters that older SDK code still sends (developer
 * guide, "Legacy conditional parameters"), turned into the same trees as
 * the expressions that replaced them: Expected and QueryFilter /
 * ScanFilter as conditions, KeyConditions as a key condition,
 * AttributeUpdates as an update, AttributesToGet as a projection. Their
 * names are attribute names as they are (no substitutions, no reserved
 * words) and their messages are the legacy forms' own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ddb/expr_priv.h"

#define INVALID "One or more parameter values were invalid: "

static int refuse(struct ows_err *err, int rc)
{
	if (rc == -ENOMEM)
		ows_err_printf(err, "out of memory");
	return rc;
}

static struct ows_ddb_expr *expr_new(enum ows_ddb_expr_kind kind)
{
	struct ows_ddb_expr *e = calloc(1, sizeof(*e));

	if (e != NULL)
		e->kind = kind;
	return e;
}

static struct ows__ddb_node *path_node(const char *name)
{
	struct ows__ddb_node *n = ows__ddb_node_new(OWS__EN_PATH, 0);

	if (n != NULL && ows__ddb_path_name(&n->path, name) != 0) {
		ows__ddb_node_free(n);
		return NULL;
	}
	return n;
}

/* A checked copy of av as a value node: 0, OWS_EINVAL or -ENOMEM. */
static int value_node(const json_t *av, struct ows__ddb_node **out,
		      struct ows_err *err)
{
	struct ows__ddb_node *n = ows__ddb_node_new(OWS__EN_VALUE, 0);
	int rc;

	if (n == NULL)
		return -ENOMEM;
	n->value = json_deep_copy(av);
	if (n->value == NULL) {
		ows__ddb_node_free(n);
		return -ENOMEM;
	}
	rc = ows_ddb_value_check(n->value, err);
	if (rc != 0) {
		ows__ddb_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* ---- conditions ---- */

struct co {
	const char *name;
	enum ows__ddb_nk kind;
	enum ows__ddb_cmp op;
	int nargs; /* -1: one or more */
	bool scalar; /* the values must be S, N or B */
	bool key; /* allowed in KeyConditions */
};

static const struct co co_table[] = {
	{"EQ", OWS__EN_CMP, OWS__EC_EQ, 1, false, true},
	{"NE", OWS__EN_CMP, OWS__EC_NE, 1, false, false},
	{"LE", OWS__EN_CMP, OWS__EC_LE, 1, true, true},
	{"LT", OWS__EN_CMP, OWS__EC_LT, 1, true, true},
	{"GE", OWS__EN_CMP, OWS__EC_GE, 1, true, true},
	{"GT", OWS__EN_CMP, OWS__EC_GT, 1, true, true},
	{"NOT_NULL", OWS__EN_EXISTS, 0, 0, false, false},
	{"NULL", OWS__EN_NOT_EXISTS, 0, 0, false, false},
	{"CONTAINS", OWS__EN_CONTAINS, 0, 1, true, false},
	{"NOT_CONTAINS", OWS__EN_NOT, 0, 1, true, false},
	{"BEGINS_WITH", OWS__EN_BEGINS, 0, 1, true, true},
	{"IN", OWS__EN_IN, 0, -1, true, false},
	{"BETWEEN", OWS__EN_BETWEEN, 0, 2, true, true},
};

static const struct co *co_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(co_table) /
						  sizeof(co_table[0]); i++)
		if (strcmp(co_table[i].name, name) == 0)
			return &co_table[i];
	return NULL;
}

static int co_args_check(const struct co *c, const json_t *list,
			 const char *attr, struct ows_err *err)
{
	size_t n = json_array_size(list), i;
	enum ows_ddb_type t;

	if (c->nargs >= 0 ? n != (size_t)c->nargs : n == 0) {
		ows_err_printf(err, INVALID "Invalid number of argument(s) for "
			       "the %s ComparisonOperator", c->name);
		return OWS_EINVAL;
	}
	for (i = 0; c->scalar && i < n; i++) {
		t = ows_ddb_type_of(json_array_get(list, i));
		if ((t != OWS_DDB_S && t != OWS_DDB_N && t != OWS_DDB_B) ||
		    (c->kind == OWS__EN_BEGINS && t == OWS_DDB_N)) {
			ows_err_printf(err, INVALID "ComparisonOperator %s is "
				       "not valid for %s AttributeValue type",
				       c->name, ows_ddb_type_name(t));
			return OWS_EINVAL;
		}
	}
	(void)attr;
	return 0;
}

/* name's condition by ComparisonOperator c over the values of list. */
static int co_node(const struct co *c, const char *name, const json_t *list,
		   struct ows__ddb_node **out, struct ows_err *err)
{
	enum ows__ddb_nk kind = c->kind == OWS__EN_NOT ? OWS__EN_CONTAINS :
				c->kind;
	size_t n = json_array_size(list), i;
	struct ows__ddb_node *node, *not;
	int rc;

	rc = co_args_check(c, list, name, err);
	if (rc != 0)
		return rc;
	node = ows__ddb_node_new(kind, (unsigned)n + 1);
	if (node == NULL)
		return -ENOMEM;
	node->op = c->op;
	node->kid[0] = path_node(name);
	rc = node->kid[0] ? 0 : -ENOMEM;
	for (i = 0; rc == 0 && i < n; i++)
		rc = value_node(json_array_get(list, i), &node->kid[i + 1], err);
	if (rc != 0) {
		ows__ddb_node_free(node);
		return rc;
	}
	if (c->kind == OWS__EN_NOT) {
		not = ows__ddb_node_new(OWS__EN_NOT, 1);
		if (not == NULL) {
			ows__ddb_node_free(node);
			return -ENOMEM;
		}
		not->kid[0] = node;
		node = not;
	}
	*out = node;
	return 0;
}

/* Expected's older form: Exists and Value. */
static int exists_node(const char *name, const json_t *spec,
		       struct ows__ddb_node **out, struct ows_err *err)
{
	static const struct co eq = {"EQ", OWS__EN_CMP, OWS__EC_EQ, 1, false,
				     true};
	static const struct co null = {"NULL", OWS__EN_NOT_EXISTS, 0, 0,
				       false, false};
	const json_t *exists = json_object_get(spec, "Exists");
	const json_t *value = json_object_get(spec, "Value");
	json_t *list;
	int rc;

	if (exists != NULL && !json_is_boolean(exists)) {
		ows_err_printf(err, INVALID "Exists must be a boolean for "
			       "Attribute: %s", name);
		return OWS_EINVAL;
	}
	if (json_is_false(exists)) {
		if (value != NULL) {
			ows_err_printf(err, INVALID "Value cannot be used when "
				       "Exists is false for Attribute: %s", name);
			return OWS_EINVAL;
		}
		return co_node(&null, name, NULL, out, err);
	}
	if (value == NULL) {
		ows_err_printf(err, INVALID "Value must be provided when Exists "
			       "is true for Attribute: %s", name);
		return OWS_EINVAL;
	}
	list = json_pack("[O]", value);
	if (list == NULL)
		return -ENOMEM;
	rc = co_node(&eq, name, list, out, err);
	json_decref(list);
	return rc;
}

static int leaf(enum ows_ddb_expr_kind kind, const char *name,
		const json_t *spec, struct ows__ddb_node **out,
		struct ows_err *err)
{
	const json_t *cop = json_object_get(spec, "ComparisonOperator");
	const json_t *list = json_object_get(spec, "AttributeValueList");
	const json_t *value = json_object_get(spec, "Value");
	const struct co *c;
	json_t *one = NULL;
	int rc;

	if (!json_is_object(spec)) {
		ows_err_printf(err, INVALID "Invalid condition for Attribute: "
			       "%s", name);
		return OWS_EINVAL;
	}
	if (cop == NULL && kind == OWS_DDB_EXPR_CONDITION)
		return exists_node(name, spec, out, err);
	c = co_find(json_string_value(cop));
	if (c == NULL) {
		ows_err_printf(err, "1 validation error detected: Value '%s' at "
			       "'comparisonOperator' failed to satisfy "
			       "constraint: Member must satisfy enum value set: "
			       "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
			       "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]",
			       json_is_string(cop) ? json_string_value(cop) :
			       "null");
		return OWS_EINVAL;
	}
	if (kind == OWS_DDB_EXPR_KEY && !c->key) {
		ows_err_printf(err, "Attempted conditional constraint is not an "
			       "indexable operation");
		return OWS_EINVAL;
	}
	if (json_object_get(spec, "Exists") != NULL) {
		ows_err_printf(err, INVALID "Exists and ComparisonOperator "
			       "cannot be used together for Attribute: %s", name);
		return OWS_EINVAL;
	}
	if (value != NULL && list != NULL) {
		ows_err_printf(err, INVALID "Value and AttributeValueList cannot "
			       "be used together for Attribute: %s", name);
		return OWS_EINVAL;
	}
	if (value != NULL) {
		one = json_pack("[O]", value);
		if (one == NULL)
			return -ENOMEM;
		list = one;
	}
	rc = co_node(c, name, list, out, err);
	json_decref(one);
	return rc;
}

/* The conditions of obj joined by AND or OR into e->cond. */
static int conditions(enum ows_ddb_expr_kind kind, const json_t *obj,
		      enum ows__ddb_nk join, struct ows_ddb_expr *e,
		      struct ows_err *err)
{
	struct ows__ddb_node *node, *both;
	const char *name;
	json_t *spec;
	int rc;

	json_object_foreach((json_t *)obj, name, spec) {
		rc = leaf(kind, name, spec, &node, err);
		if (rc != 0)
			return rc;
		if (e->cond == NULL) {
			e->cond = node;
			continue;
		}
		both = ows__ddb_node_new(join, 2);
		if (both == NULL) {
			ows__ddb_node_free(node);
			return -ENOMEM;
		}
		both->kid[0] = e->cond;
		both->kid[1] = node;
		e->cond = both;
	}
	return 0;
}

int ows_ddb_legacy_conditions(enum ows_ddb_expr_kind kind,
			      const json_t *conds, const char *op,
			      struct ows_ddb_expr **out, struct ows_err *err)
{
	enum ows__ddb_nk join = OWS__EN_AND;
	struct ows_ddb_expr *e;
	int rc;

	*out = NULL;
	if (op != NULL && strcmp(op, "OR") == 0)
		join = OWS__EN_OR;
	else if (op != NULL && strcmp(op, "AND") != 0) {
		ows_err_printf(err, "1 validation error detected: Value '%s' at "
			       "'conditionalOperator' failed to satisfy "
			       "constraint: Member must satisfy enum value set: "
			       "[OR, AND]", op);
		return OWS_EINVAL;
	}
	if (!json_is_object(conds)) {
		ows_err_printf(err, INVALID "conditions must be a map");
		return OWS_EINVAL;
	}
	e = expr_new(kind);
	if (e == NULL)
		return refuse(err, -ENOMEM);
	rc = conditions(kind, conds, join, e, err);
	if (rc != 0) {
		ows_ddb_expr_free(e);
		return refuse(err, rc);
	}
	*out = e;
	return 0;
}

int ows_ddb_legacy_keyconditions(const json_t *conds,
				 struct ows_ddb_expr **out,
				 struct ows_err *err)
{
	struct ows_ddb_expr *e;
	int rc;

	*out = NULL;
	if (!json_is_object(conds) || json_object_size(conds) == 0) {
		ows_err_printf(err, "Conditions can be of length 1 or 2 only");
		return OWS_EINVAL;
	}
	e = expr_new(OWS_DDB_EXPR_KEY);
	if (e == NULL)
		return refuse(err, -ENOMEM);
	rc = conditions(OWS_DDB_EXPR_KEY, conds, OWS__EN_AND, e, err);
	if (rc != 0) {
		ows_ddb_expr_free(e);
		return refuse(err, rc);
	}
	*out = e;
	return 0;
}

/* ---- AttributeUpdates ---- */

static int update_action(const char *name, const json_t *spec,
			 struct ows__ddb_action *a, struct ows_err *err)
{
	const char *action = json_string_value(json_object_get(spec, "Action"));
	const json_t *value = json_object_get(spec, "Value");
	enum ows_ddb_type t = ows_ddb_type_of(value);
	bool set = t == OWS_DDB_SS || t == OWS_DDB_NS || t == OWS_DDB_BS;
	int rc;

	if (action == NULL || strcmp(action, "PUT") == 0)
		a->kind = OWS__EA_SET;
	else if (strcmp(action, "DELETE") == 0)
		a->kind = value ? OWS__EA_DELETE : OWS__EA_REMOVE;
	else if (strcmp(action, "ADD") == 0)
		a->kind = t == OWS_DDB_L ? OWS__EA_APPEND : OWS__EA_ADD;
	else {
		ows_err_printf(err, "1 validation error detected: Value '%s' at "
			       "'attributeUpdates.%s.member.action' failed to "
			       "satisfy constraint: Member must satisfy enum "
			       "value set: [ADD, DELETE, PUT]", action, name);
		return OWS_EINVAL;
	}
	if (value == NULL && a->kind != OWS__EA_REMOVE) {
		ows_err_printf(err, INVALID "Only DELETE action is allowed when "
			       "no attribute value is specified");
		return OWS_EINVAL;
	}
	if ((a->kind == OWS__EA_DELETE && !set) ||
	    (a->kind == OWS__EA_ADD && !set && t != OWS_DDB_N)) {
		ows_err_printf(err, INVALID "%s action with value is not "
			       "supported for the type %s", action,
			       ows__ddb_type_long(t));
		return OWS_EINVAL;
	}
	rc = ows__ddb_path_name(&a->path, name);
	if (rc == 0 && value != NULL)
		rc = value_node(value, &a->val, err);
	return rc;
}

int ows_ddb_legacy_updates(const json_t *updates, struct ows_ddb_expr **out,
			   struct ows_err *err)
{
	struct ows_ddb_expr *e;
	const char *name;
	json_t *spec;
	int rc = 0;

	*out = NULL;
	if (!json_is_object(updates)) {
		ows_err_printf(err, INVALID "AttributeUpdates must be a map");
		return OWS_EINVAL;
	}
	e = expr_new(OWS_DDB_EXPR_UPDATE);
	if (e != NULL)
		e->act = calloc(json_object_size(updates) + 1, sizeof(*e->act));
	if (e == NULL || e->act == NULL) {
		ows_ddb_expr_free(e);
		return refuse(err, -ENOMEM);
	}
	json_object_foreach((json_t *)updates, name, spec) {
		if (!json_is_object(spec)) {
			ows_err_printf(err, INVALID "Invalid update for "
				       "Attribute: %s", name);
			rc = OWS_EINVAL;
			break;
		}
		rc = update_action(name, spec, &e->act[e->nact++], err);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		ows_ddb_expr_free(e);
		return refuse(err, rc);
	}
	*out = e;
	return 0;
}

/* ---- AttributesToGet ---- */

int ows_ddb_legacy_projection(const json_t *names, struct ows_ddb_expr **out,
			      struct ows_err *err)
{
	struct ows_ddb_expr *e;
	size_t i, k;
	json_t *v;
	int rc = 0;

	*out = NULL;
	if (!json_is_array(names) || json_array_size(names) == 0) {
		ows_err_printf(err, "1 validation error detected: Value '[]' at "
			       "'attributesToGet' failed to satisfy constraint: "
			       "Member must have length greater than or equal "
			       "to 1");
		return OWS_EINVAL;
	}
	e = expr_new(OWS_DDB_EXPR_PROJECTION);
	if (e != NULL)
		e->paths = calloc(json_array_size(names), sizeof(*e->paths));
	if (e == NULL || e->paths == NULL) {
		ows_ddb_expr_free(e);
		return refuse(err, -ENOMEM);
	}
	json_array_foreach(names, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			ows_err_printf(err, INVALID "An attribute name in "
				       "AttributesToGet is empty");
			rc = OWS_EINVAL;
			break;
		}
		for (k = 0; k < i; k++)
			if (json_equal(v, json_array_get(names, k)))
				break;
		if (k < i) {
			ows_err_printf(err, INVALID "Duplicate value in "
				       "attribute name: %s", json_string_value(v));
			rc = OWS_EINVAL;
			break;
		}
		rc = ows__ddb_path_name(&e->paths[e->npaths], json_string_value(v));
		if (rc != 0)
			break;
		e->npaths++;
	}
	if (rc != 0) {
		ows_ddb_expr_free(e);
		return refuse(err, rc);
	}
	*out = e;
	return 0;
}
