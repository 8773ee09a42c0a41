/*
 * Application of an update expression to an item (developer guide,
 * "Update expressions"): SET with + and -, if_not_exists and list_append,
 * REMOVE of attributes and list elements, ADD to numbers and sets, DELETE
 * from sets, on nested paths.
 *
 * As DynamoDB does, every value is computed from the item as it was
 * before the update (so "SET a = b, b = a" swaps), and the list elements
 * that one REMOVE clause names are those of the original positions
 * (removed from the highest index down, later elements shifting).
 * The parser already refused overlapping paths, so actions never touch
 * each other's targets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ddb/expr_priv.h"

#define MSG_PATH "The document path provided in the update expression is " \
		 "invalid for update"
#define MSG_MISSING "The provided expression refers to an attribute that " \
		    "does not exist in the item"
#define MSG_TYPE "An operand in the update expression has an incorrect " \
		 "data type"

static int fail(struct ows_err *err, const char *msg)
{
	ows_err_printf(err, "%s", msg);
	return OWS_EINVAL;
}

static int bad_operand(struct ows_err *err, const char *fn, const json_t *v)
{
	ows_err_printf(err, "Invalid UpdateExpression: Incorrect operand type "
		       "for operator or function; operator or function: %s, "
		       "operand type: %s", fn,
		       ows_ddb_type_name(ows_ddb_type_of(v)));
	return OWS_EINVAL;
}

/* ---- values ---- */

static int uval(const struct ows__ddb_node *n, const json_t *item,
		json_t **out, struct ows_err *err);

static int arith(const struct ows__ddb_node *n, json_t *a, json_t *b,
		 json_t **out, struct ows_err *err)
{
	const char *fn = n->kind == OWS__EN_PLUS ? "+" : "-";
	struct ows_ddb_num x, y;
	int rc;

	if (ows_ddb_type_of(a) != OWS_DDB_N)
		return bad_operand(err, fn, a);
	if (ows_ddb_type_of(b) != OWS_DDB_N)
		return bad_operand(err, fn, b);
	rc = ows_ddb_value_num(a, &x, err);
	if (rc == 0)
		rc = ows_ddb_value_num(b, &y, err);
	if (rc == 0)
		rc = n->kind == OWS__EN_PLUS ? ows_ddb_num_add(&x, &y, &x, err) :
					       ows_ddb_num_sub(&x, &y, &x, err);
	if (rc != 0)
		return rc;
	*out = ows_ddb_value_from_num(&x);
	return *out ? 0 : -ENOMEM;
}

static int list_append(json_t *a, json_t *b, json_t **out, struct ows_err *err)
{
	json_t *l;

	if (ows_ddb_type_of(a) != OWS_DDB_L)
		return bad_operand(err, "list_append", a);
	if (ows_ddb_type_of(b) != OWS_DDB_L)
		return bad_operand(err, "list_append", b);
	l = json_object_get(a, "L");
	if (json_array_extend(l, json_object_get(b, "L")) != 0)
		return -ENOMEM;
	*out = json_incref(a);
	return 0;
}

/* Two operands, then + - or list_append of them. */
static int uval_pair(const struct ows__ddb_node *n, const json_t *item,
		     json_t **out, struct ows_err *err)
{
	json_t *a = NULL, *b = NULL;
	int rc;

	rc = uval(n->kid[0], item, &a, err);
	if (rc == 0)
		rc = uval(n->kid[1], item, &b, err);
	if (rc == 0)
		rc = n->kind == OWS__EN_LIST_APPEND ? list_append(a, b, out, err) :
						      arith(n, a, b, out, err);
	json_decref(a);
	json_decref(b);
	return rc;
}

/* The value of an update's operand, a new copy owned by the caller. */
static int uval(const struct ows__ddb_node *n, const json_t *item,
		json_t **out, struct ows_err *err)
{
	const json_t *v;

	*out = NULL;
	switch (n->kind) {
	case OWS__EN_PATH:
		v = ows__ddb_path_get(item, &n->path);
		if (v == NULL)
			return fail(err, MSG_MISSING);
		break;
	case OWS__EN_VALUE:
		v = n->value;
		break;
	case OWS__EN_IF_NOT_EXISTS:
		v = ows__ddb_path_get(item, &n->kid[0]->path);
		if (v == NULL)
			return uval(n->kid[1], item, out, err);
		break;
	case OWS__EN_LIST_APPEND:
	case OWS__EN_PLUS:
	case OWS__EN_MINUS:
		return uval_pair(n, item, out, err);
	default:
		return fail(err, "Invalid UpdateExpression: unsupported operand");
	}
	*out = json_deep_copy(v);
	return *out ? 0 : -ENOMEM;
}

/* ---- targets ---- */

/*
 * The container of path's last element: the item itself for a top-level
 * name, else the object of the parent's M or the array of its L. NULL
 * when the parent is missing or of another type.
 */
static json_t *container(json_t *item, const struct ows__ddb_path *p)
{
	struct ows__ddb_path parent = {p->n - 1, p->el};
	const char *member = p->el[p->n - 1].name ? "M" : "L";
	json_t *v, *c;

	if (p->n == 1)
		return item;
	v = (json_t *)ows__ddb_path_get(item, &parent);
	c = json_object_get(v, member);
	if (member[0] == 'M' ? !json_is_object(c) : !json_is_array(c))
		return NULL;
	return c;
}

/* Put val (taken) at p: a list index past the end appends. */
static int set_at(json_t *item, const struct ows__ddb_path *p, json_t *val,
		  struct ows_err *err)
{
	const struct ows__ddb_pel *last = &p->el[p->n - 1];
	json_t *c = container(item, p);
	int rc;

	if (c == NULL) {
		json_decref(val);
		return fail(err, MSG_PATH);
	}
	if (last->name != NULL)
		rc = json_object_set_new(c, last->name, val);
	else if (last->index < json_array_size(c))
		rc = json_array_set_new(c, last->index, val);
	else
		rc = json_array_append_new(c, val);
	return rc == 0 ? 0 : -ENOMEM;
}

/* ---- ADD and DELETE ---- */

/*
 * The members of a set's array as the keys of an object (a hash), so that
 * ADD and DELETE of m members to a set of n cost n + m, not n * m: sets
 * of tens of thousands of members are within an item's 400 KB, and apply
 * runs on every node. NULL when out of memory.
 */
static json_t *member_index(const json_t *arr)
{
	json_t *ix = json_object(), *m;
	size_t i;

	json_array_foreach(arr, i, m)
		if (ix != NULL && json_is_string(m) &&
		    json_object_set_new(ix, json_string_value(m),
					json_null()) != 0) {
			json_decref(ix);
			ix = NULL;
		}
	return ix;
}

static bool set_has(const json_t *ix, const json_t *member)
{
	const char *s = json_string_value(member);

	return s != NULL && json_object_get(ix, s) != NULL;
}

static bool is_set(enum ows_ddb_type t)
{
	return t == OWS_DDB_SS || t == OWS_DDB_NS || t == OWS_DDB_BS;
}

static int do_add(json_t *item, const struct ows__ddb_action *a, json_t *val,
		  struct ows_err *err)
{
	json_t *cur = (json_t *)ows__ddb_path_get(item, &a->path), *sum, *l, *m;
	json_t *ix;
	enum ows_ddb_type t = ows_ddb_type_of(val);
	size_t i;
	int rc;

	if (cur == NULL)
		return set_at(item, &a->path, json_incref(val), err);
	if (ows_ddb_type_of(cur) != t)
		return fail(err, MSG_TYPE);
	if (t == OWS_DDB_N) {
		struct ows__ddb_node plus = {.kind = OWS__EN_PLUS};

		rc = arith(&plus, cur, val, &sum, err);
		return rc ? rc : set_at(item, &a->path, sum, err);
	}
	if (t == OWS_DDB_L && a->kind == OWS__EA_APPEND)
		return json_array_extend(json_object_get(cur, "L"),
					 json_object_get(val, "L")) ? -ENOMEM : 0;
	if (!is_set(t))
		return fail(err, MSG_TYPE);
	l = json_object_get(cur, ows_ddb_type_name(t));
	if ((ix = member_index(l)) == NULL)
		return -ENOMEM;
	json_array_foreach(json_object_get(val, ows_ddb_type_name(t)), i, m) {
		if (set_has(ix, m))
			continue;
		if (json_array_append(l, m) != 0 ||
		    json_object_set_new(ix, json_string_value(m),
					json_null()) != 0) {
			json_decref(ix);
			return -ENOMEM;
		}
	}
	json_decref(ix);
	return 0;
}

static int remove_at(json_t *item, const struct ows__ddb_path *p)
{
	const struct ows__ddb_pel *last = &p->el[p->n - 1];
	json_t *c = container(item, p);

	if (c == NULL)
		return 0;
	if (last->name != NULL)
		json_object_del(c, last->name);
	else
		json_array_remove(c, last->index);
	return 0;
}

static int do_delete(json_t *item, const struct ows__ddb_action *a,
		     json_t *val, struct ows_err *err)
{
	json_t *cur = (json_t *)ows__ddb_path_get(item, &a->path), *l, *m;
	enum ows_ddb_type t = ows_ddb_type_of(val);
	json_t *del, *kept;
	size_t i;
	int rc;

	/* nothing to delete from a missing attribute, but its parent must be
	 * there as for SET, REMOVE and ADD (DELETE m.x with no map m) */
	if (cur == NULL)
		return container(item, &a->path) ? 0 : fail(err, MSG_PATH);
	if (ows_ddb_type_of(cur) != t)
		return fail(err, MSG_TYPE);
	l = json_object_get(cur, ows_ddb_type_name(t));
	del = member_index(json_object_get(val, ows_ddb_type_name(t)));
	kept = json_array();
	if (del == NULL || kept == NULL) {
		json_decref(del);
		json_decref(kept);
		return -ENOMEM;
	}
	/* the kept members into a new array: removing one by one from the
	 * array would move its tail each time */
	json_array_foreach(l, i, m)
		if (!set_has(del, m) && json_array_append(kept, m) != 0) {
			json_decref(del);
			json_decref(kept);
			return -ENOMEM;
		}
	json_decref(del);
	rc = json_array_clear(l) != 0 || json_array_extend(l, kept) != 0
		? -ENOMEM : 0;
	json_decref(kept);
	if (rc != 0)
		return rc;
	if (json_array_size(l) == 0)
		return remove_at(item, &a->path);
	return 0;
}

/* ---- REMOVE ---- */

struct removal {
	json_t *c; /* the container, referenced */
	const struct ows__ddb_pel *el;
};

static int removal_cmp(const void *x, const void *y)
{
	const struct removal *a = x, *b = y;

	if (a->c != b->c)
		return a->c < b->c ? -1 : 1;
	return a->el->index > b->el->index ? -1 : a->el->index < b->el->index;
}

/*
 * Every REMOVE target resolved first, then removed: map members, then
 * list elements of each list from the highest index down.
 */
static int do_removes(json_t *item, const struct ows_ddb_expr *e,
		      struct ows_err *err)
{
	struct removal *r = calloc(e->nact ? e->nact : 1, sizeof(*r));
	unsigned i, n = 0;
	int rc = 0;

	if (r == NULL)
		return -ENOMEM;
	for (i = 0; i < e->nact; i++) {
		const struct ows__ddb_path *p = &e->act[i].path;

		if (e->act[i].kind != OWS__EA_REMOVE)
			continue;
		r[n].c = container(item, p);
		if (r[n].c == NULL) {
			rc = fail(err, MSG_PATH);
			break;
		}
		json_incref(r[n].c);
		r[n++].el = &p->el[p->n - 1];
	}
	qsort(r, n, sizeof(*r), removal_cmp);
	for (i = 0; rc == 0 && i < n; i++)
		if (r[i].el->name != NULL)
			json_object_del(r[i].c, r[i].el->name);
	for (i = 0; rc == 0 && i < n; i++)
		if (r[i].el->name == NULL)
			json_array_remove(r[i].c, r[i].el->index);
	for (i = 0; i < n; i++)
		json_decref(r[i].c);
	free(r);
	return rc;
}

/* ---- entry ---- */

static int apply_action(json_t *item, const struct ows__ddb_action *a,
			json_t *val, struct ows_err *err)
{
	switch (a->kind) {
	case OWS__EA_SET:
		return set_at(item, &a->path, json_incref(val), err);
	case OWS__EA_ADD:
	case OWS__EA_APPEND:
		return do_add(item, a, val, err);
	case OWS__EA_DELETE:
		return do_delete(item, a, val, err);
	default:
		return 0;
	}
}

int ows_ddb_update_apply(const struct ows_ddb_expr *e, json_t *item,
			 struct ows_err *err)
{
	json_t **vals;
	unsigned i;
	int rc = 0;

	if (e->kind != OWS_DDB_EXPR_UPDATE)
		return fail(err, "Invalid UpdateExpression: not an update");
	vals = calloc(e->nact ? e->nact : 1, sizeof(*vals));
	if (vals == NULL)
		return -ENOMEM;
	/* every value from the item as it was */
	for (i = 0; rc == 0 && i < e->nact; i++)
		if (e->act[i].val != NULL)
			rc = uval(e->act[i].val, item, &vals[i], err);
	for (i = 0; rc == 0 && i < e->nact; i++)
		rc = apply_action(item, &e->act[i], vals[i], err);
	if (rc == 0)
		rc = do_removes(item, e, err);
	for (i = 0; i < e->nact; i++)
		json_decref(vals[i]);
	free(vals);
	return rc;
}

json_t *ows_ddb_update_project(const struct ows_ddb_expr *e,
			       const json_t *item)
{
	const struct ows__ddb_path **paths;
	json_t *out;
	unsigned i;

	paths = calloc(e->nact ? e->nact : 1, sizeof(*paths));
	if (paths == NULL)
		return NULL;
	for (i = 0; i < e->nact; i++)
		paths[i] = &e->act[i].path;
	out = ows__ddb_project_paths(item, paths, e->nact);
	free(paths);
	return out;
}
