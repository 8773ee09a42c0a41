/*
 * The tree of a parsed expression: nodes and document paths, their
 * printing in DynamoDB's messages, the checks that need a whole tree
 * (overlapping paths, constant operands of the wrong type, BETWEEN's
 * bounds) and the questions other parts of the service ask of a tree
 * (ows_ddb_expr_names_top). expr_parse.c and expr_legacy.c build trees.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb/expr_priv.h"

const char *ows__ddb_expr_what(enum ows_ddb_expr_kind kind)
{
	switch (kind) {
	case OWS_DDB_EXPR_CONDITION: return "ConditionExpression";
	case OWS_DDB_EXPR_FILTER: return "FilterExpression";
	case OWS_DDB_EXPR_KEY: return "KeyConditionExpression";
	case OWS_DDB_EXPR_UPDATE: return "UpdateExpression";
	case OWS_DDB_EXPR_PROJECTION: return "ProjectionExpression";
	}
	return "Expression";
}

struct ows__ddb_node *ows__ddb_node_new(enum ows__ddb_nk kind, unsigned n)
{
	struct ows__ddb_node *node = calloc(1, sizeof(*node));

	if (node == NULL)
		return NULL;
	node->kind = kind;
	if (n > 0) {
		node->kid = calloc(n, sizeof(*node->kid));
		if (node->kid == NULL) {
			free(node);
			return NULL;
		}
	}
	node->n = n;
	return node;
}

void ows__ddb_path_close(struct ows__ddb_path *p)
{
	unsigned i;

	for (i = 0; i < p->n; i++)
		free(p->el[i].name);
	free(p->el);
	p->el = NULL;
	p->n = 0;
}

void ows__ddb_node_free(struct ows__ddb_node *node)
{
	unsigned i;

	if (node == NULL)
		return;
	for (i = 0; i < node->n; i++)
		ows__ddb_node_free(node->kid[i]);
	free(node->kid);
	ows__ddb_path_close(&node->path);
	json_decref(node->value);
	free(node);
}

int ows__ddb_path_copy(struct ows__ddb_path *out, const struct ows__ddb_path *p)
{
	unsigned i;

	out->n = 0;
	out->el = calloc(p->n ? p->n : 1, sizeof(*out->el));
	if (out->el == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		out->el[i].index = p->el[i].index;
		if (p->el[i].name != NULL) {
			out->el[i].name = strdup(p->el[i].name);
			if (out->el[i].name == NULL) {
				ows__ddb_path_close(out);
				return -ENOMEM;
			}
		}
		out->n = i + 1;
	}
	return 0;
}

int ows__ddb_path_name(struct ows__ddb_path *out, const char *name)
{
	out->el = calloc(1, sizeof(*out->el));
	if (out->el == NULL)
		return -ENOMEM;
	out->el[0].name = strdup(name);
	if (out->el[0].name == NULL) {
		free(out->el);
		out->el = NULL;
		return -ENOMEM;
	}
	out->n = 1;
	return 0;
}

void ows_ddb_expr_free(struct ows_ddb_expr *e)
{
	unsigned i;

	if (e == NULL)
		return;
	ows__ddb_node_free(e->cond);
	for (i = 0; i < e->nact; i++) {
		ows__ddb_path_close(&e->act[i].path);
		ows__ddb_node_free(e->act[i].val);
	}
	free(e->act);
	for (i = 0; i < e->npaths; i++)
		ows__ddb_path_close(&e->paths[i]);
	free(e->paths);
	free(e);
}

void ows__ddb_path_print(const struct ows__ddb_path *p, char *out, size_t cap)
{
	size_t k = 0;
	unsigned i;
	int w;

	w = snprintf(out, cap, "[");
	k = w > 0 ? (size_t)w : 0;
	for (i = 0; i < p->n && k < cap; i++) {
		const char *sep = i ? ", " : "";

		if (p->el[i].name != NULL)
			w = snprintf(out + k, cap - k, "%s%s", sep, p->el[i].name);
		else
			w = snprintf(out + k, cap - k, "%s[%lu]", sep,
				     p->el[i].index);
		k += w > 0 ? (size_t)w : 0;
	}
	if (k < cap)
		snprintf(out + k, cap - k, "]");
}

int ows__ddb_paths_disjoint(const struct ows__ddb_path *a,
			    const struct ows__ddb_path *b, const char *what,
			    struct ows_err *err)
{
	char one[96], two[96];
	const char *how = "overlap";
	unsigned i, n = a->n < b->n ? a->n : b->n;

	for (i = 0; i < n; i++) {
		const struct ows__ddb_pel *x = &a->el[i], *y = &b->el[i];

		if (x->name != NULL && y->name != NULL) {
			if (strcmp(x->name, y->name) != 0)
				return 0;
		} else if (x->name == NULL && y->name == NULL) {
			if (x->index != y->index)
				return 0;
		} else {
			how = "conflict";
			break;
		}
	}
	ows__ddb_path_print(a, one, sizeof(one));
	ows__ddb_path_print(b, two, sizeof(two));
	ows_err_printf(err,
		       "Invalid %s: Two document paths %s with each other; "
		       "must remove or rewrite one of these paths; path one: "
		       "%s, path two: %s",
		       what, how, one, two);
	return OWS_EINVAL;
}

static bool path_top_is(const struct ows__ddb_path *p, const char *name)
{
	return p->n > 0 && p->el[0].name != NULL &&
	       strcmp(p->el[0].name, name) == 0;
}

static bool node_names_top(const struct ows__ddb_node *node, const char *name)
{
	unsigned i;

	if (node == NULL)
		return false;
	if (node->kind == OWS__EN_PATH && path_top_is(&node->path, name))
		return true;
	for (i = 0; i < node->n; i++)
		if (node_names_top(node->kid[i], name))
			return true;
	return false;
}

static int path_top_add(const struct ows__ddb_path *p, json_t *names)
{
	if (p->n == 0 || p->el[0].name == NULL)
		return 0;
	return json_object_set_new(names, p->el[0].name, json_true())
		? -ENOMEM : 0;
}

static int node_tops(const struct ows__ddb_node *node, json_t *names)
{
	unsigned i;
	int rv = 0;

	if (node == NULL)
		return 0;
	if (node->kind == OWS__EN_PATH)
		rv = path_top_add(&node->path, names);
	for (i = 0; rv == 0 && i < node->n; i++)
		rv = node_tops(node->kid[i], names);
	return rv;
}

int ows_ddb_expr_tops(const struct ows_ddb_expr *e, json_t *names)
{
	unsigned i;
	int rv;

	if (e == NULL)
		return 0;
	rv = node_tops(e->cond, names);
	for (i = 0; rv == 0 && i < e->nact; i++)
		if ((rv = path_top_add(&e->act[i].path, names)) == 0)
			rv = node_tops(e->act[i].val, names);
	for (i = 0; rv == 0 && i < e->npaths; i++)
		rv = path_top_add(&e->paths[i], names);
	return rv;
}

bool ows_ddb_expr_names_top(const struct ows_ddb_expr *e, const char *name)
{
	unsigned i;

	if (e == NULL)
		return false;
	if (node_names_top(e->cond, name))
		return true;
	for (i = 0; i < e->nact; i++)
		if (path_top_is(&e->act[i].path, name))
			return true;
	for (i = 0; i < e->npaths; i++)
		if (path_top_is(&e->paths[i], name))
			return true;
	return false;
}

/* "{N:5}", as DynamoDB prints a constant operand in its messages. */
static void av_print(const json_t *av, char *out, size_t cap)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)av, key, v) {
		if (json_is_string(v))
			snprintf(out, cap, "{%s:%s}", key, json_string_value(v));
		else
			snprintf(out, cap, "{%s:...}", key);
		return;
	}
	snprintf(out, cap, "{}");
}

static int bad_operand(const char *what, const char *fn,
		       enum ows_ddb_type t, struct ows_err *err)
{
	ows_err_printf(err,
		       "Invalid %s: Incorrect operand type for operator or "
		       "function; operator or function: %s, operand type: %s",
		       what, fn, ows_ddb_type_name(t));
	return OWS_EINVAL;
}

static bool is_scalar_key(enum ows_ddb_type t)
{
	return t == OWS_DDB_S || t == OWS_DDB_N || t == OWS_DDB_B;
}

static int check_between(const struct ows__ddb_node *node, const char *what,
			 struct ows_err *err)
{
	const json_t *lo = node->kid[1]->value, *hi = node->kid[2]->value;
	char a[96], b[96];
	int c, i;

	for (i = 0; i < 3; i++) {
		const json_t *v = node->kid[i]->value;

		if (node->kid[i]->kind == OWS__EN_VALUE &&
		    !is_scalar_key(ows_ddb_type_of(v)))
			return bad_operand(what, "BETWEEN", ows_ddb_type_of(v),
					   err);
	}
	if (node->kid[1]->kind != OWS__EN_VALUE ||
	    node->kid[2]->kind != OWS__EN_VALUE)
		return 0;
	av_print(lo, a, sizeof(a));
	av_print(hi, b, sizeof(b));
	if (ows_ddb_type_of(lo) != ows_ddb_type_of(hi)) {
		ows_err_printf(err,
			       "Invalid %s: The BETWEEN operator requires same "
			       "data type for lower and upper bounds; lower "
			       "bound operand: AttributeValue: %s, upper bound "
			       "operand: AttributeValue: %s",
			       what, a, b);
		return OWS_EINVAL;
	}
	if (ows_ddb_value_cmp(lo, hi, &c) == 0 && c > 0) {
		ows_err_printf(err,
			       "Invalid %s: The BETWEEN operator requires upper "
			       "bound to be greater than or equal to lower "
			       "bound; lower bound operand: AttributeValue: %s, "
			       "upper bound operand: AttributeValue: %s",
			       what, a, b);
		return OWS_EINVAL;
	}
	return 0;
}

static int check_type_name(const struct ows__ddb_node *node, const char *what,
			   struct ows_err *err)
{
	const json_t *v = node->kid[1]->value;
	const char *name;

	if (node->kid[1]->kind != OWS__EN_VALUE)
		return 0;
	if (ows_ddb_type_of(v) != OWS_DDB_S)
		return bad_operand(what, "attribute_type", ows_ddb_type_of(v),
				   err);
	name = json_string_value(json_object_get(v, "S"));
	if (ows_ddb_type_parse(name) == OWS_DDB_NONE) {
		ows_err_printf(err,
			       "Invalid %s: Invalid attribute type name found; "
			       "type: %s, valid types: { B NULL SS BOOL L BS N "
			       "NS S M }",
			       what, name);
		return OWS_EINVAL;
	}
	return 0;
}

static const char *const cmp_sym[] = {"=", "<>", "<", "<=", ">", ">="};

int ows__ddb_cond_check(const struct ows__ddb_node *node, const char *what,
			struct ows_err *err)
{
	enum ows_ddb_type t;
	unsigned i;
	int rc;

	switch (node->kind) {
	case OWS__EN_CMP:
		if (node->op == OWS__EC_EQ || node->op == OWS__EC_NE)
			return 0;
		for (i = 0; i < 2; i++) {
			t = ows_ddb_type_of(node->kid[i]->value);
			if (node->kid[i]->kind == OWS__EN_VALUE &&
			    !is_scalar_key(t))
				return bad_operand(what, cmp_sym[node->op], t,
						   err);
		}
		return 0;
	case OWS__EN_BETWEEN:
		return check_between(node, what, err);
	case OWS__EN_TYPE:
		return check_type_name(node, what, err);
	case OWS__EN_BEGINS:
		t = ows_ddb_type_of(node->kid[1]->value);
		if (node->kid[1]->kind == OWS__EN_VALUE && t != OWS_DDB_S &&
		    t != OWS_DDB_B)
			return bad_operand(what, "begins_with", t, err);
		return 0;
	case OWS__EN_AND:
	case OWS__EN_OR:
	case OWS__EN_NOT:
		for (i = 0; i < node->n; i++) {
			rc = ows__ddb_cond_check(node->kid[i], what, err);
			if (rc != 0)
				return rc;
		}
		return 0;
	default:
		return 0;
	}
}

const char *ows__ddb_type_long(enum ows_ddb_type t)
{
	switch (t) {
	case OWS_DDB_S: return "STRING";
	case OWS_DDB_N: return "NUMBER";
	case OWS_DDB_B: return "BINARY";
	case OWS_DDB_BOOL: return "BOOLEAN";
	case OWS_DDB_NULL: return "NULL";
	case OWS_DDB_M: return "MAP";
	case OWS_DDB_L: return "LIST";
	case OWS_DDB_SS: return "STRING_SET";
	case OWS_DDB_NS: return "NUMBER_SET";
	case OWS_DDB_BS: return "BINARY_SET";
	default: return "UNKNOWN";
	}
}
