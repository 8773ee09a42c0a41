/*
 * Route tables; see route.h for the rules and the AWS text they follow.
 *
 * A route key is parsed once into segments (literal, {variable},
 * {proxy+}). The routes are then sorted so that the first route that
 * matches a request is the most specific one: segment kinds compared from
 * the left (literal < variable < greedy), then a named method before ANY,
 * with $default last. Matching walks the raw path once per route without
 * allocating, and only a successful match allocates its parameter values.
 */
#include "gw/route.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"

#define MAX_SEGMENTS 64
#define MAX_KEY 1024

enum seg_kind { SEG_LIT, SEG_VAR, SEG_GREEDY };

struct seg {
	enum seg_kind kind;
	char *text; /* the literal, or the variable's name */
};

struct route {
	char *key;    /* canonical "GET /a/{b}" or "$default" */
	char *method; /* "GET", "ANY"; NULL for $default */
	struct seg *segs;
	size_t n_segs;
	size_t n_vars;
	const char *function;
	enum ows_gw_auth auth;
	json_t *spec; /* a reference */
	const json_t *cors;
};

struct ows_gw_table {
	atomic_uint refs;
	struct route *routes;
	size_t n;
};

static const char *const methods[] = {
    "ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
};

static void route_close(struct route *r)
{
	for (size_t i = 0; i < r->n_segs; i++)
		free(r->segs[i].text);
	free(r->segs);
	free(r->key);
	free(r->method);
	json_decref(r->spec);
}

static bool known_method(const char *m, size_t len)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == len &&
		    memcmp(methods[i], m, len) == 0)
			return true;
	return false;
}

/* Variable names: letters, digits, "_", "-" and "." (as AWS allows). */
static bool valid_var(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

static bool valid_literal(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '{' || c == '}' ||
		    c == '?' || c == '#')
			return false;
	}
	return len > 0;
}

/* Parse one segment of a route path into s. */
static int parse_segment(const char *p, size_t len, struct seg *s,
			 struct ows_err *err)
{
	if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
		const char *name = p + 1;
		size_t nlen = len - 2;

		s->kind = SEG_VAR;
		if (nlen > 0 && name[nlen - 1] == '+') {
			s->kind = SEG_GREEDY;
			nlen--;
		}
		if (!valid_var(name, nlen)) {
			ows_err_printf(err, "invalid path variable '%.*s'",
				       (int)len, p);
			return OWS_EINVAL;
		}
		s->text = strndup(name, nlen);
	} else {
		if (!valid_literal(p, len)) {
			ows_err_printf(err, "invalid path segment '%.*s'",
				       (int)len, p);
			return OWS_EINVAL;
		}
		s->kind = SEG_LIT;
		s->text = strndup(p, len);
	}
	return s->text == NULL ? -ENOMEM : 0;
}

/* Refuse {proxy+} before the end and a variable name used twice. */
static int check_segments(const struct route *r, struct ows_err *err)
{
	for (size_t i = 0; i < r->n_segs; i++) {
		if (r->segs[i].kind == SEG_GREEDY && i + 1 != r->n_segs) {
			ows_err_printf(err, "the greedy path variable must be "
					    "at the end of the resource path");
			return OWS_EINVAL;
		}
		for (size_t j = 0; j < i && r->segs[i].kind != SEG_LIT; j++) {
			if (r->segs[j].kind != SEG_LIT &&
			    strcmp(r->segs[i].text, r->segs[j].text) == 0) {
				ows_err_printf(err,
					       "path variable '%s' used "
					       "twice",
					       r->segs[i].text);
				return OWS_EINVAL;
			}
		}
	}
	return 0;
}

/* Split "/a/{b}/{c+}" into r->segs; "/" has no segments. */
static int parse_path(const char *path, struct route *r, struct ows_err *err)
{
	const char *p = path + 1, *end = path + strlen(path);
	int rv;

	if (path[0] != '/' || (end - path > 1 && end[-1] == '/')) {
		ows_err_printf(err, "route path must start with '/' and not "
				    "end with '/'");
		return OWS_EINVAL;
	}
	r->segs = calloc(MAX_SEGMENTS, sizeof(*r->segs));
	if (r->segs == NULL)
		return -ENOMEM;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t len = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (r->n_segs == MAX_SEGMENTS) {
			ows_err_printf(err, "route path has too many segments");
			return OWS_EINVAL;
		}
		rv = parse_segment(p, len, &r->segs[r->n_segs], err);
		if (rv != 0)
			return rv;
		if (r->segs[r->n_segs].kind != SEG_LIT)
			r->n_vars++;
		r->n_segs++;
		p += len + 1;
	}
	return check_segments(r, err);
}

/* Parse the route key: "$default" or "METHOD /path". */
static int parse_key(const char *name, struct route *r, struct ows_err *err)
{
	const char *sp;
	int rv;

	if (strlen(name) > MAX_KEY) {
		ows_err_printf(err, "route key too long");
		return OWS_EINVAL;
	}
	if (strcmp(name, "$default") == 0)
		return (r->key = strdup(name)) ? 0 : -ENOMEM;
	sp = strchr(name, ' ');
	if (sp == NULL || !known_method(name, (size_t)(sp - name))) {
		ows_err_printf(err,
			       "route key '%s' is not '$default' or "
			       "'METHOD /path' with METHOD one of ANY, DELETE, "
			       "GET, HEAD, OPTIONS, PATCH, POST, PUT",
			       name);
		return OWS_EINVAL;
	}
	r->method = strndup(name, (size_t)(sp - name));
	r->key = strdup(name);
	if (r->method == NULL || r->key == NULL)
		return -ENOMEM;
	rv = parse_path(sp + 1, r, err);
	if (rv == OWS_EINVAL)
		ows_err_wrapf(err, "route '%s'", name);
	return rv;
}

static int parse_spec(const json_t *spec, struct route *r, struct ows_err *err)
{
	const char *auth;
	const json_t *cors;

	r->function = json_string_value(json_object_get(spec, "function"));
	if (r->function == NULL || r->function[0] == '\0') {
		ows_err_printf(err, "route '%s': spec has no function", r->key);
		return OWS_EINVAL;
	}
	auth = json_string_value(json_object_get(spec, "auth"));
	if (auth == NULL || strcmp(auth, "none") == 0) {
		r->auth = OWS_GW_AUTH_NONE;
	} else if (strcmp(auth, "iam") == 0) {
		r->auth = OWS_GW_AUTH_IAM;
	} else {
		ows_err_printf(err, "route '%s': auth must be 'none' or 'iam'",
			       r->key);
		return OWS_EINVAL;
	}
	cors = json_object_get(spec, "cors");
	if (cors != NULL && !json_is_object(cors) && !json_is_null(cors)) {
		ows_err_printf(err, "route '%s': cors must be an object",
			       r->key);
		return OWS_EINVAL;
	}
	r->cors = json_is_object(cors) ? cors : NULL;
	r->spec = json_incref((json_t *)spec);
	return 0;
}

static int parse_route(const json_t *item, struct route *r, struct ows_err *err)
{
	const char *name = json_string_value(json_object_get(item, "name"));
	const json_t *spec = json_object_get(item, "spec");
	int rv;

	if (name == NULL || !json_is_object(spec)) {
		ows_err_printf(err, "route must have a string 'name' and an "
				    "object 'spec'");
		return OWS_EINVAL;
	}
	rv = parse_key(name, r, err);
	if (rv != 0)
		return rv;
	return parse_spec(spec, r, err);
}

/* Order of specificity: see the file comment. */
static int route_cmp(const void *pa, const void *pb)
{
	const struct route *a = pa, *b = pb;
	size_t n = a->n_segs < b->n_segs ? a->n_segs : b->n_segs;
	bool a_any, b_any;

	if ((a->method == NULL) != (b->method == NULL))
		return a->method == NULL ? 1 : -1;
	for (size_t i = 0; i < n; i++)
		if (a->segs[i].kind != b->segs[i].kind)
			return a->segs[i].kind < b->segs[i].kind ? -1 : 1;
	if (a->n_segs != b->n_segs)
		return a->n_segs < b->n_segs ? -1 : 1;
	a_any = a->method && strcmp(a->method, "ANY") == 0;
	b_any = b->method && strcmp(b->method, "ANY") == 0;
	if (a_any != b_any)
		return a_any ? 1 : -1;
	return strcmp(a->key, b->key);
}

/* Same method and same shape: no request could tell them apart. */
static bool routes_conflict(const struct route *a, const struct route *b)
{
	if (a->method == NULL || b->method == NULL)
		return a->method == b->method;
	if (strcmp(a->method, b->method) != 0 || a->n_segs != b->n_segs)
		return false;
	for (size_t i = 0; i < a->n_segs; i++) {
		if (a->segs[i].kind != b->segs[i].kind)
			return false;
		if (a->segs[i].kind == SEG_LIT &&
		    strcmp(a->segs[i].text, b->segs[i].text) != 0)
			return false;
	}
	return true;
}

static int check_conflicts(const struct ows_gw_table *t, struct ows_err *err)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = i + 1; j < t->n; j++)
			if (routes_conflict(&t->routes[i], &t->routes[j])) {
				ows_err_printf(err,
					       "route '%s' conflicts with "
					       "route '%s'",
					       t->routes[i].key,
					       t->routes[j].key);
				return OWS_EINVAL;
			}
	return 0;
}

static void table_destroy(struct ows_gw_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		route_close(&t->routes[i]);
	free(t->routes);
	free(t);
}

int ows_gw_routes_build(const json_t *routes, struct ows_gw_table **out,
			struct ows_err *err)
{
	struct ows_gw_table *t;
	size_t n = json_array_size(routes);
	int rv = 0;

	*out = NULL;
	if (!json_is_array(routes)) {
		ows_err_printf(err, "routes must be an array");
		return OWS_EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL ||
	    (n && (t->routes = calloc(n, sizeof(*t->routes))) == NULL)) {
		free(t);
		return -ENOMEM;
	}
	atomic_init(&t->refs, 1);
	for (size_t i = 0; i < n && rv == 0; i++) {
		rv = parse_route(json_array_get(routes, i), &t->routes[i], err);
		t->n = i + 1;
	}
	if (rv == 0) {
		/* qsort's base may not be NULL, even for no routes. */
		if (t->n > 0)
			qsort(t->routes, t->n, sizeof(*t->routes), route_cmp);
		rv = check_conflicts(t, err);
	}
	if (rv != 0) {
		table_destroy(t);
		return rv;
	}
	*out = t;
	return 0;
}

struct ows_gw_table *ows_gw_table_ref(const struct ows_gw_table *t)
{
	struct ows_gw_table *mt = (struct ows_gw_table *)t;

	atomic_fetch_add(&mt->refs, 1);
	return mt;
}

void ows_gw_table_free(const struct ows_gw_table *t)
{
	struct ows_gw_table *mt = (struct ows_gw_table *)t;

	if (mt != NULL && atomic_fetch_sub(&mt->refs, 1) == 1)
		table_destroy(mt);
}

size_t ows_gw_table_size(const struct ows_gw_table *t)
{
	return t->n;
}

/* Does the raw segment s (len bytes) decode to exactly lit? */
static bool segment_equals(const char *s, size_t len, const char *lit)
{
	size_t i = 0;

	while (i < len) {
		if (*lit == '\0' || ows_url_byte(s, len, &i, false) != *lit)
			return false;
		lit++;
	}
	return *lit == '\0';
}

/* Position of each route segment in the request path, for one route. */
struct span {
	const char *p;
	size_t len;
};

/*
 * Match r against the path [path, end) (end excludes one trailing slash;
 * full_end does not). Fills spans[] for the variables; a greedy span runs
 * to full_end.
 */
static bool route_matches(const struct route *r, const char *path,
			  const char *end, const char *full_end,
			  struct span *spans)
{
	const char *p = path + 1, *slash;
	bool more = p < end; /* request segments left? */
	size_t v = 0, len;

	for (size_t i = 0; i < r->n_segs; i++) {
		const struct seg *s = &r->segs[i];

		if (!more)
			return false;
		if (s->kind == SEG_GREEDY) {
			spans[v].p = p;
			spans[v].len = (size_t)(full_end - p);
			return true;
		}
		slash = memchr(p, '/', (size_t)(end - p));
		len = slash ? (size_t)(slash - p) : (size_t)(end - p);
		if (s->kind == SEG_LIT ? !segment_equals(p, len, s->text)
				       : len == 0)
			return false;
		if (s->kind == SEG_VAR) {
			spans[v].p = p;
			spans[v++].len = len;
		}
		more = slash != NULL;
		p = slash ? slash + 1 : end;
	}
	return !more;
}

static int fill_match(const struct ows_gw_table *t, const struct route *r,
		      const struct span *spans, struct ows_gw_match *m)
{
	size_t v = 0;

	if (r->n_vars > 0) {
		m->params = calloc(r->n_vars, sizeof(*m->params));
		if (m->params == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_segs; i++) {
		if (r->segs[i].kind == SEG_LIT)
			continue;
		m->params[v].name = r->segs[i].text;
		m->params[v].value =
		    ows_url_decode(spans[v].p, spans[v].len, false, NULL);
		m->n_params = ++v;
		if (m->params[v - 1].value == NULL) {
			ows_gw_match_close(m);
			return -ENOMEM;
		}
	}
	m->table = ows_gw_table_ref(t);
	m->function = r->function;
	m->route_key = r->key;
	m->auth = r->auth;
	m->cors = r->cors;
	m->spec = r->spec;
	return 0;
}

int ows_gw_match(const struct ows_gw_table *t, const char *method,
		 const char *raw_path, struct ows_gw_match *m)
{
	struct span spans[MAX_SEGMENTS];
	const char *full_end, *end;

	memset(m, 0, sizeof(*m));
	if (raw_path == NULL || raw_path[0] != '/')
		return OWS_ENOTFOUND;
	full_end = raw_path + strlen(raw_path);
	/* "/pets/" is routed like "/pets" (see route.h). */
	end = full_end;
	if (end - raw_path > 1 && end[-1] == '/')
		end--;
	for (size_t i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];

		if (r->method != NULL && strcmp(r->method, "ANY") != 0 &&
		    strcmp(r->method, method) != 0)
			continue;
		if (r->method == NULL ||
		    route_matches(r, raw_path, end, full_end, spans))
			return fill_match(t, r, spans, m);
	}
	return OWS_ENOTFOUND;
}

const char *ows_gw_match_param(const struct ows_gw_match *m, const char *name)
{
	for (size_t i = 0; i < m->n_params; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return m->params[i].value;
	return NULL;
}

void ows_gw_match_close(struct ows_gw_match *m)
{
	for (size_t i = 0; i < m->n_params; i++)
		free(m->params[i].value);
	free(m->params);
	ows_gw_table_free(m->table);
	memset(m, 0, sizeof(*m));
}
