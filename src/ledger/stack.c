/* Stack files and the generic diff; see stack.h. */
#include "ledger/stack.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "ledger/changeset.h"
#include "state/kinds.h"

/*
 * Kinds in dependency order, from their tables (state/kinds.h): a kind may
 * refer to kinds of lower rank (users name policies, roles name users and
 * policies, functions name policies, routes name functions). Unknown kinds
 * go last.
 */
static unsigned rank(const char *kind)
{
	const struct ows_kind *k = ows_kind_find(kind);

	return k != NULL ? k->rank : UINT_MAX;
}

json_t *ows_stack_load(const char *path, struct ows_err *err)
{
	struct ows_buf text = OWS_BUF_INIT;
	const char *key, *name;
	json_t *s, *sec, *spec;
	int rv;

	rv = ows_file_read(path, 64 * 1024 * 1024, &text);
	if (rv != 0) {
		ows_err_printf(err, "cannot read '%s': %s", path, ows_strerror(rv));
		ows_buf_free(&text);
		return NULL;
	}
	s = ows_json_parse(text.data, text.len, err);
	ows_buf_free(&text);
	if (s == NULL) {
		ows_err_wrapf(err, "'%s'", path);
		return NULL;
	}
	if (!ows_name_valid(ows_json_str(s, "stack") ? ows_json_str(s, "stack") : "")) {
		ows_err_printf(err, "'%s' needs \"stack\": \"NAME\"", path);
		goto err_after_parse;
	}
	json_object_foreach(s, key, sec) {
		if (strcmp(key, "stack") == 0)
			continue;
		if (!json_is_object(sec)) {
			ows_err_printf(err, "section '%s' must be an object", key);
			goto err_after_parse;
		}
		if (ows_kind_find(key) == NULL || !ows_kind_find(key)->in_stacks) {
			ows_err_printf(err, "unknown section '%s': no resource "
				       "kind of that name is kept in stack "
				       "files", key);
			goto err_after_parse;
		}
		json_object_foreach(sec, name, spec) {
			/* Routes may name their function alone: "GET /": "fn". */
			if (strcmp(key, "routes") == 0 && json_is_string(spec)) {
				json_object_set_new(sec, name, json_pack(
					"{s:s}", "function",
					json_string_value(spec)));
				spec = json_object_get(sec, name);
			}
			if (!json_is_object(spec) || !ows_name_valid(name)) {
				ows_err_printf(err, "%s '%s' must be an object "
					       "with a valid name", key, name);
				goto err_after_parse;
			}
		}
	}
	return s;

err_after_parse:
	json_decref(s);
	return NULL;
}

static bool same(const json_t *a, const json_t *b)
{
	struct ows_buf x = OWS_BUF_INIT, y = OWS_BUF_INIT;
	bool eq;

	ows_json_canonical(a, &x);
	ows_json_canonical(b, &y);
	eq = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
	ows_buf_free(&x);
	ows_buf_free(&y);
	return eq;
}

/*
 * Is r owned by the stack? Only the stack's own resources are changed or
 * deleted: a resource of no stack (made through the API) or of another
 * stack with the same name is never planned away; putting it is a "+"
 * that the node refuses as a conflict.
 */
static bool owned(const json_t *r, const char *stack)
{
	const char *own = ows_json_str(r, "stack");

	return own == NULL || strcmp(own, stack) == 0;
}

static const json_t *find(const json_t *current, const char *stack,
			  const char *kind, const char *name)
{
	const json_t *r;
	size_t i;

	json_array_foreach(current, i, r) {
		if (owned(r, stack) && strcmp(ows_json_str(r, "kind"), kind) == 0 &&
		    strcmp(ows_json_str(r, "name"), name) == 0)
			return r;
	}
	return NULL;
}

static int by_order(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	bool xd = strcmp(ows_json_str(x, "op"), "-") == 0;
	bool yd = strcmp(ows_json_str(y, "op"), "-") == 0;
	unsigned rx = rank(ows_json_str(x, "kind"));
	unsigned ry = rank(ows_json_str(y, "kind"));
	int c;

	if (xd != yd)
		return xd ? 1 : -1;
	if (rx != ry)
		return (rx < ry) == !xd ? -1 : 1;
	c = strcmp(ows_json_str(x, "kind"), ows_json_str(y, "kind"));
	return c ? c : strcmp(ows_json_str(x, "name"), ows_json_str(y, "name"));
}

json_t *ows_stack_plan(const json_t *stack, const json_t *current)
{
	json_t *plan = json_array(), *sec, *spec, *sorted;
	const char *self = ows_json_str(stack, "stack");
	const char *kind, *name;
	const json_t *r;
	json_t **items;
	size_t i, n;

	json_object_foreach((json_t *)stack, kind, sec) {
		if (strcmp(kind, "stack") == 0)
			continue;
		json_object_foreach(sec, name, spec) {
			r = find(current, self ? self : "", kind, name);
			if (r != NULL && same(json_object_get(r, "spec"), spec))
				continue;
			json_array_append_new(plan, json_pack(
				"{s:s, s:s, s:s, s:O}", "op", r ? "~" : "+",
				"kind", kind, "name", name, "spec", spec));
		}
	}
	json_array_foreach(current, i, r) {
		if (!owned(r, self ? self : ""))
			continue;
		sec = json_object_get(stack, ows_json_str(r, "kind"));
		if (json_object_get(sec, ows_json_str(r, "name")) == NULL)
			json_array_append_new(plan, json_pack(
				"{s:s, s:s, s:s}", "op", "-", "kind",
				ows_json_str(r, "kind"), "name",
				ows_json_str(r, "name")));
	}
	n = json_array_size(plan);
	items = calloc(n ? n : 1, sizeof(*items));
	sorted = json_array();
	if (items == NULL || sorted == NULL) {
		free(items);
		json_decref(sorted);
		return plan;
	}
	for (i = 0; i < n; i++)
		items[i] = json_array_get(plan, i);
	qsort(items, n, sizeof(*items), by_order);
	for (i = 0; i < n; i++)
		json_array_append(sorted, items[i]);
	free(items);
	json_decref(plan);
	return sorted;
}

json_t *ows_stack_actions(const json_t *plan)
{
	json_t *actions = json_array(), *a;
	const json_t *p;
	char act[OWS_NAME_MAX + 8];
	size_t i;

	json_array_foreach(plan, i, p) {
		bool del = strcmp(ows_json_str(p, "op"), "-") == 0;

		snprintf(act, sizeof(act), "%s.%s", ows_json_str(p, "kind"),
			 del ? "delete" : "put");
		a = json_pack("{s:s, s:s}", "action", act, "name",
			      ows_json_str(p, "name"));
		if (!del)
			json_object_set(a, "spec", json_object_get(p, "spec"));
		json_array_append_new(actions, a);
	}
	return actions;
}
