/*
 * Evaluation of parsed expressions on an item: conditions and filters
 * (the developer guide's "Comparison operator and function reference"),
 * projections, and key conditions resolved against a key schema for the
 * Query planner.
 *
 * DynamoDB's rules: a missing attribute is equal to nothing and different
 * from everything, values of different types are neither equal nor
 * ordered, numbers compare as decimals, strings and binaries as unsigned
 * bytes. Everything here is deterministic: the state machine evaluates
 * conditions in apply.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ddb/expr_priv.h"

const json_t *ows__ddb_path_get(const json_t *item,
				const struct ows__ddb_path *p)
{
	const json_t *v = item, *c;
	unsigned i;

	for (i = 0; i < p->n && v != NULL; i++) {
		if (i == 0)
			v = json_object_get(item, p->el[0].name);
		else if (p->el[i].name != NULL) {
			c = json_object_get(v, "M");
			v = json_is_object(c) ?
				json_object_get(c, p->el[i].name) : NULL;
		} else {
			c = json_object_get(v, "L");
			v = json_is_array(c) ?
				json_array_get(c, p->el[i].index) : NULL;
		}
	}
	return v;
}

/* ---- operands ---- */

/* The bytes of a B value or a BS member (a base64 string). */
static int b_bytes(const json_t *b64, struct ows_buf *out)
{
	out->len = 0;
	return ows_ddb_b64_bytes(b64, out);
}

static int size_of(const json_t *v, const char *what, json_t **out,
		   struct ows_err *err)
{
	enum ows_ddb_type t = ows_ddb_type_of(v);
	json_t *x = json_object_get(v, ows_ddb_type_name(t));
	struct ows_buf b = OWS_BUF_INIT;
	char text[32];
	size_t n;

	switch (t) {
	case OWS_DDB_S:
		n = json_string_length(x);
		break;
	case OWS_DDB_B:
		if (b_bytes(x, &b) != 0) {
			ows_buf_free(&b);
			return OWS_EINVAL;
		}
		n = b.len;
		ows_buf_free(&b);
		break;
	case OWS_DDB_M:
		n = json_object_size(x);
		break;
	case OWS_DDB_L:
	case OWS_DDB_SS:
	case OWS_DDB_NS:
	case OWS_DDB_BS:
		n = json_array_size(x);
		break;
	default:
		ows_err_printf(err,
			       "Invalid %s: Incorrect operand type for operator "
			       "or function; operator or function: size, "
			       "operand type: %s",
			       what, ows_ddb_type_name(t));
		return OWS_EINVAL;
	}
	snprintf(text, sizeof(text), "%zu", n);
	*out = json_pack("{s:s}", "N", text);
	return *out ? 0 : -ENOMEM;
}

/* The value of a condition's operand: a new reference, NULL if missing. */
static int operand(const struct ows__ddb_node *n, const json_t *item,
		   const char *what, json_t **out, struct ows_err *err)
{
	const json_t *v;

	*out = NULL;
	switch (n->kind) {
	case OWS__EN_PATH:
		v = ows__ddb_path_get(item, &n->path);
		*out = v ? json_incref((json_t *)v) : NULL;
		return 0;
	case OWS__EN_VALUE:
		*out = json_incref(n->value);
		return 0;
	case OWS__EN_SIZE:
		v = ows__ddb_path_get(item, &n->kid[0]->path);
		return v ? size_of(v, what, out, err) : 0;
	default:
		ows_err_printf(err, "Invalid %s: unsupported operand", what);
		return OWS_EINVAL;
	}
}

/* ---- conditions ---- */

static bool compare(enum ows__ddb_cmp op, const json_t *a, const json_t *b)
{
	int c;

	if (a == NULL || b == NULL)
		return op == OWS__EC_NE;
	if (op == OWS__EC_EQ)
		return ows_ddb_value_equal(a, b);
	if (op == OWS__EC_NE)
		return !ows_ddb_value_equal(a, b);
	if (ows_ddb_value_cmp(a, b, &c) != 0)
		return false;
	switch (op) {
	case OWS__EC_LT: return c < 0;
	case OWS__EC_LE: return c <= 0;
	case OWS__EC_GT: return c > 0;
	default: return c >= 0;
	}
}

static bool between(const json_t *a, const json_t *lo, const json_t *hi)
{
	int c1, c2;

	if (a == NULL || lo == NULL || hi == NULL)
		return false;
	if (ows_ddb_value_cmp(lo, a, &c1) != 0 ||
	    ows_ddb_value_cmp(a, hi, &c2) != 0)
		return false;
	return c1 <= 0 && c2 <= 0;
}

/* Whether needle's bytes are a prefix (or a part) of hay's, S or B. */
static bool bytes_within(const json_t *hay, const json_t *needle, bool prefix)
{
	enum ows_ddb_type t = ows_ddb_type_of(hay);
	struct ows_buf h = OWS_BUF_INIT, n = OWS_BUF_INIT;
	const char *hp, *np;
	size_t hl, nl;
	bool r = false;

	if (t != ows_ddb_type_of(needle) || (t != OWS_DDB_S && t != OWS_DDB_B))
		return false;
	if (t == OWS_DDB_S) {
		hp = json_string_value(json_object_get(hay, "S"));
		hl = json_string_length(json_object_get(hay, "S"));
		np = json_string_value(json_object_get(needle, "S"));
		nl = json_string_length(json_object_get(needle, "S"));
	} else {
		if (b_bytes(json_object_get(hay, "B"), &h) != 0 ||
		    b_bytes(json_object_get(needle, "B"), &n) != 0)
			goto out;
		hp = h.data ? h.data : "";
		hl = h.len;
		np = n.data ? n.data : "";
		nl = n.len;
	}
	if (prefix)
		r = nl <= hl && memcmp(hp, np, nl) == 0;
	else
		r = nl == 0 || memmem(hp, hl, np, nl) != NULL;
out:
	ows_buf_free(&h);
	ows_buf_free(&n);
	return r;
}

/* contains(a, b): a substring, a set member or a list element. */
static bool contains(const json_t *a, const json_t *b)
{
	enum ows_ddb_type t = ows_ddb_type_of(a), bt = ows_ddb_type_of(b);
	enum ows_ddb_type member = t == OWS_DDB_SS ? OWS_DDB_S :
				   t == OWS_DDB_NS ? OWS_DDB_N :
				   t == OWS_DDB_BS ? OWS_DDB_B : OWS_DDB_NONE;
	json_t *list, *m, *tmp;
	size_t i;
	bool r = false;

	if (a == NULL || b == NULL)
		return false;
	if (t == OWS_DDB_S || t == OWS_DDB_B)
		return bytes_within(a, b, false);
	if (t == OWS_DDB_L) {
		json_array_foreach(json_object_get(a, "L"), i, m)
			if (ows_ddb_value_equal(m, b))
				return true;
		return false;
	}
	if (member == OWS_DDB_NONE || member != bt)
		return false;
	list = json_object_get(a, ows_ddb_type_name(t));
	json_array_foreach(list, i, m) {
		tmp = json_pack("{sO}", ows_ddb_type_name(member), m);
		r = tmp != NULL && ows_ddb_value_equal(tmp, b);
		json_decref(tmp);
		if (r)
			break;
	}
	return r;
}

static bool has_type(const json_t *v, const json_t *name)
{
	const char *s = json_string_value(json_object_get(name, "S"));

	return v != NULL && s != NULL &&
	       ows_ddb_type_of(v) == ows_ddb_type_parse(s);
}

struct ectx {
	const json_t *item;
	const char *what;
	struct ows_err *err;
};

static int eval(const struct ows__ddb_node *n, const struct ectx *x,
		bool *out);

/* The operands of n evaluated into v[] (NULL when missing), n->n <= 3. */
static int operands(const struct ows__ddb_node *n, const struct ectx *x,
		    json_t **v)
{
	unsigned i;
	int rc;

	for (i = 0; i < n->n; i++) {
		rc = operand(n->kid[i], x->item, x->what, &v[i], x->err);
		if (rc != 0) {
			while (i-- > 0)
				json_decref(v[i]);
			return rc;
		}
	}
	return 0;
}

static int eval_in(const struct ows__ddb_node *n, const struct ectx *x,
		   bool *out)
{
	json_t *a, *b;
	unsigned i;
	int rc;

	*out = false;
	rc = operand(n->kid[0], x->item, x->what, &a, x->err);
	for (i = 1; rc == 0 && a != NULL && i < n->n && !*out; i++) {
		rc = operand(n->kid[i], x->item, x->what, &b, x->err);
		*out = rc == 0 && b != NULL && ows_ddb_value_equal(a, b);
		json_decref(b);
	}
	json_decref(a);
	return rc;
}

static int eval_leaf(const struct ows__ddb_node *n, const struct ectx *x,
		     bool *out)
{
	json_t *v[3] = {NULL, NULL, NULL};
	unsigned i;
	int rc;

	if (n->kind == OWS__EN_IN)
		return eval_in(n, x, out);
	rc = operands(n, x, v);
	if (rc != 0)
		return rc;
	switch (n->kind) {
	case OWS__EN_CMP: *out = compare(n->op, v[0], v[1]); break;
	case OWS__EN_BETWEEN: *out = between(v[0], v[1], v[2]); break;
	case OWS__EN_EXISTS: *out = v[0] != NULL; break;
	case OWS__EN_NOT_EXISTS: *out = v[0] == NULL; break;
	case OWS__EN_TYPE: *out = has_type(v[0], v[1]); break;
	case OWS__EN_BEGINS:
		*out = v[0] && v[1] && bytes_within(v[0], v[1], true);
		break;
	case OWS__EN_CONTAINS: *out = contains(v[0], v[1]); break;
	default:
		ows_err_printf(x->err, "Invalid %s: not a condition", x->what);
		rc = OWS_EINVAL;
	}
	for (i = 0; i < 3; i++)
		json_decref(v[i]);
	return rc;
}

static int eval(const struct ows__ddb_node *n, const struct ectx *x,
		bool *out)
{
	int rc;

	switch (n->kind) {
	case OWS__EN_AND:
	case OWS__EN_OR:
		rc = eval(n->kid[0], x, out);
		if (rc != 0 || *out == (n->kind == OWS__EN_OR))
			return rc;
		return eval(n->kid[1], x, out);
	case OWS__EN_NOT:
		rc = eval(n->kid[0], x, out);
		*out = !*out;
		return rc;
	default:
		return eval_leaf(n, x, out);
	}
}

int ows_ddb_cond_eval(const struct ows_ddb_expr *e, const json_t *item,
		      bool *out, struct ows_err *err)
{
	struct ectx x = {item, ows__ddb_expr_what(e->kind), err};

	/* an empty legacy Expected or QueryFilter holds */
	*out = true;
	if (e->cond == NULL)
		return e->kind == OWS_DDB_EXPR_UPDATE ||
			       e->kind == OWS_DDB_EXPR_PROJECTION ?
			       OWS_EINVAL : 0;
	return eval(e->cond, &x, out);
}

/* ---- projections ---- */

/* A trie of the projected paths: children all names or all indexes. */
struct pnode {
	const struct ows__ddb_pel *el;
	bool whole;
	unsigned n;
	struct pnode *kid;
};

static void pnode_free(struct pnode *p)
{
	unsigned i;

	for (i = 0; i < p->n; i++)
		pnode_free(&p->kid[i]);
	free(p->kid);
}

static bool pel_eq(const struct ows__ddb_pel *a, const struct ows__ddb_pel *b)
{
	if ((a->name == NULL) != (b->name == NULL))
		return false;
	return a->name ? strcmp(a->name, b->name) == 0 : a->index == b->index;
}

static int pnode_add(struct pnode *root, const struct ows__ddb_path *p)
{
	struct pnode *cur = root, *kid;
	unsigned i, k;

	for (i = 0; i < p->n; i++) {
		for (k = 0; k < cur->n; k++)
			if (pel_eq(cur->kid[k].el, &p->el[i]))
				break;
		if (k == cur->n) {
			kid = realloc(cur->kid, (cur->n + 1) * sizeof(*kid));
			if (kid == NULL)
				return -ENOMEM;
			cur->kid = kid;
			memset(&kid[k], 0, sizeof(*kid));
			kid[k].el = &p->el[i];
			cur->n++;
		}
		cur = &cur->kid[k];
	}
	cur->whole = true;
	return 0;
}

static int pnode_cmp(const void *a, const void *b)
{
	const struct pnode *x = a, *y = b;

	return x->el->index < y->el->index ? -1 : x->el->index > y->el->index;
}

static json_t *project(const json_t *av, struct pnode *pn)
{
	json_t *src, *out, *r, *v;
	unsigned i;
	bool names;

	if (pn->whole)
		return json_deep_copy(av);
	names = pn->n > 0 && pn->kid[0].el->name != NULL;
	src = json_object_get(av, names ? "M" : "L");
	if (names ? !json_is_object(src) : !json_is_array(src))
		return NULL;
	if (!names)
		qsort(pn->kid, pn->n, sizeof(*pn->kid), pnode_cmp);
	out = names ? json_object() : json_array();
	for (i = 0; out != NULL && i < pn->n; i++) {
		const struct ows__ddb_pel *el = pn->kid[i].el;

		v = names ? json_object_get(src, el->name) :
			    json_array_get(src, el->index);
		r = v ? project(v, &pn->kid[i]) : NULL;
		if (r != NULL && (names ? json_object_set_new(out, el->name, r) :
					  json_array_append_new(out, r)) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	if (out == NULL || (names ? json_object_size(out) :
			    json_array_size(out)) == 0) {
		json_decref(out);
		return NULL;
	}
	return json_pack("{so}", names ? "M" : "L", out);
}

json_t *ows__ddb_project_paths(const json_t *item,
			       const struct ows__ddb_path *const *paths,
			       unsigned n)
{
	struct pnode root = {NULL, false, 0, NULL};
	json_t *out = json_object(), *r, *v;
	unsigned i;

	for (i = 0; out != NULL && i < n; i++)
		if (pnode_add(&root, paths[i]) != 0)
			goto fail;
	for (i = 0; out != NULL && i < root.n; i++) {
		v = json_object_get(item, root.kid[i].el->name);
		r = v ? project(v, &root.kid[i]) : NULL;
		if (r != NULL &&
		    json_object_set_new(out, root.kid[i].el->name, r) != 0)
			goto fail;
	}
	pnode_free(&root);
	return out;
fail:
	pnode_free(&root);
	json_decref(out);
	return NULL;
}

json_t *ows_ddb_project(const struct ows_ddb_expr *e, const json_t *item)
{
	const struct ows__ddb_path **paths;
	json_t *out;
	unsigned i;

	paths = calloc(e->npaths ? e->npaths : 1, sizeof(*paths));
	if (paths == NULL)
		return NULL;
	for (i = 0; i < e->npaths; i++)
		paths[i] = &e->paths[i];
	out = ows__ddb_project_paths(item, paths, e->npaths);
	free(paths);
	return out;
}

/* ---- key conditions ---- */

static const enum ows_ddb_key_op key_ops[] = {
	[OWS__EC_EQ] = OWS_DDB_KEY_EQ, [OWS__EC_LT] = OWS_DDB_KEY_LT,
	[OWS__EC_LE] = OWS_DDB_KEY_LE, [OWS__EC_GT] = OWS_DDB_KEY_GT,
	[OWS__EC_GE] = OWS_DDB_KEY_GE, [OWS__EC_NE] = OWS_DDB_KEY_NONE,
};

/* The operand order reversed: ":v < k" is "k > :v". */
static enum ows__ddb_cmp flip(enum ows__ddb_cmp op)
{
	switch (op) {
	case OWS__EC_LT: return OWS__EC_GT;
	case OWS__EC_LE: return OWS__EC_GE;
	case OWS__EC_GT: return OWS__EC_LT;
	case OWS__EC_GE: return OWS__EC_LE;
	default: return op;
	}
}

struct keyleaf {
	const char *name;
	enum ows_ddb_key_op op;
	const json_t *v1, *v2;
};

static int key_invalid(struct ows_err *err, const char *msg)
{
	ows_err_printf(err, "%s", msg);
	return OWS_EINVAL;
}

static int key_leaf(const struct ows__ddb_node *n, struct keyleaf *leaf,
		    struct ows_err *err)
{
	const struct ows__ddb_node *path = n->kid[0];
	enum ows__ddb_cmp op = n->op;
	unsigned i, paths = 0;

	for (i = 0; i < n->n; i++)
		paths += n->kid[i]->kind == OWS__EN_PATH;
	if (paths != 1)
		return key_invalid(err, paths ? "Invalid condition in "
				   "KeyConditionExpression: Multiple attribute "
				   "names used in one condition" :
				   "Invalid condition in KeyConditionExpression:"
				   " No key attribute specified");
	if (n->kind == OWS__EN_CMP && path->kind != OWS__EN_PATH) {
		path = n->kid[1];
		op = flip(op);
	}
	if (path->kind != OWS__EN_PATH || path->path.n != 1)
		return key_invalid(err, "KeyConditionExpressions cannot have "
				   "conditions on nested attributes");
	leaf->name = path->path.el[0].name;
	leaf->v1 = n->kid[path == n->kid[0] ? 1 : 0]->value;
	leaf->v2 = n->n > 2 ? n->kid[2]->value : NULL;
	leaf->op = n->kind == OWS__EN_BETWEEN ? OWS_DDB_KEY_BETWEEN :
		   n->kind == OWS__EN_BEGINS ? OWS_DDB_KEY_BEGINS_WITH :
		   key_ops[op];
	return 0;
}

static int key_leaves(const struct ows__ddb_node *n, struct keyleaf *leaf,
		      unsigned *k, struct ows_err *err)
{
	int rc;

	if (n->kind == OWS__EN_AND) {
		rc = key_leaves(n->kid[0], leaf, k, err);
		return rc ? rc : key_leaves(n->kid[1], leaf, k, err);
	}
	if (*k == 2)
		return key_invalid(err, "Conditions can be of length 1 or 2 "
				   "only");
	return key_leaf(n, &leaf[(*k)++], err);
}

static bool key_types_ok(const struct keyleaf *l, enum ows_ddb_type t)
{
	return ows_ddb_type_of(l->v1) == t &&
	       (l->v2 == NULL || ows_ddb_type_of(l->v2) == t);
}

int ows_ddb_keycond_resolve(const struct ows_ddb_expr *e, const char *pk,
			    enum ows_ddb_type pk_type, const char *sk,
			    enum ows_ddb_type sk_type,
			    struct ows_ddb_keycond *out, struct ows_err *err)
{
	struct keyleaf leaf[2];
	unsigned k = 0, i;
	bool have_sk = false, has_pk = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (e->cond == NULL)
		return key_invalid(err, "Query key condition not supported");
	rc = key_leaves(e->cond, leaf, &k, err);
	if (rc != 0)
		return rc;
	for (i = 0; i < k; i++)
		has_pk |= strcmp(leaf[i].name, pk) == 0;
	for (i = 0; i < k; i++) {
		bool is_pk = strcmp(leaf[i].name, pk) == 0;

		if (!is_pk && (sk == NULL || strcmp(leaf[i].name, sk) != 0)) {
			ows_err_printf(err, "Query condition missed key schema "
				       "element: %s", has_pk && sk ? sk : pk);
			return OWS_EINVAL;
		}
		if (is_pk ? out->pk != NULL : have_sk)
			return key_invalid(err, "KeyConditionExpressions must "
					   "only contain one condition per key");
		if (is_pk && leaf[i].op != OWS_DDB_KEY_EQ)
			return key_invalid(err, "Query key condition not "
					   "supported");
		if (!is_pk && leaf[i].op == OWS_DDB_KEY_BEGINS_WITH &&
		    sk_type == OWS_DDB_N)
			return key_invalid(err, "Invalid KeyConditionExpression:"
					   " Incorrect operand type for operator"
					   " or function; operator or function: "
					   "begins_with, operand type: N");
		if (!key_types_ok(&leaf[i], is_pk ? pk_type : sk_type))
			return key_invalid(err, "One or more parameter values "
					   "were invalid: Condition parameter "
					   "type does not match schema type");
		if (is_pk) {
			out->pk = leaf[i].v1;
		} else {
			have_sk = true;
			out->op = leaf[i].op;
			out->v1 = leaf[i].v1;
			out->v2 = leaf[i].v2;
		}
	}
	if (out->pk == NULL) {
		ows_err_printf(err, "Query condition missed key schema "
			       "element: %s", pk);
		return OWS_EINVAL;
	}
	return 0;
}
