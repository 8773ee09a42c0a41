/*
 * API gateway route tables: the routes of the cluster's state ("GET
 * /users/{id}", "ANY /api/{proxy+}", "$default") compiled into an immutable
 * table that answers "which route, and with which path parameters, serves
 * this method and raw path?".
 *
 * A table never changes once built. When a change set adds, changes or
 * deletes routes the node builds a new table and swaps the pointer, so that
 * no request sees half a deployment; tables are reference counted so that a
 * request in flight keeps the table it was matched against (each match holds
 * a reference until ows_gw_match_close).
 *
 * Behaviour follows "Create routes for HTTP APIs in API Gateway":
 *
 * - "Routes consist of two parts: an HTTP method and a resource path—for
 *   example, GET /pets. [...] you can use the ANY method to match all methods
 *   that you haven't defined for a resource. You can create a $default route
 *   that acts as a catch-all for requests that don't match any other routes."
 * - "A greedy path variable catches all child resources of a route. [...]
 *   The greedy path variable must be at the end of the resource path."
 * - "API Gateway uses the following priority to select the route with the
 *   best match: 1. Full match for a route and method. 2. Match for a route
 *   and method with a greedy path variable ({proxy+}). 3. The $default
 *   route." Within that order the most specific path wins, compared segment
 *   by segment from the left: a literal segment beats a {variable}, which
 *   beats {proxy+}; for the same path, a route naming the method beats ANY.
 * - "If no routes match a request, API Gateway returns {"message":"Not
 *   Found"}": there is no 405, a route for another method simply does not
 *   match (ows_gw_match returns OWS_ENOTFOUND; see ows_gw_response_not_found).
 * - "API Gateway decodes URL-encoded request parameters before passing them
 *   to your backend integration": path parameter values are percent-decoded
 *   ("+" stays "+" in a path).
 *
 * Choices where the documentation is silent:
 *
 * - HEAD is a method of its own: route methods are ANY, DELETE, GET, HEAD,
 *   OPTIONS, PATCH, POST and PUT, and HTTP APIs match the method exactly, so
 *   a HEAD request is served by a HEAD route, an ANY route or $default,
 *   never by a GET route.
 * - One trailing slash on the request path is ignored ("/pets/" is routed
 *   like "/pets"); route paths may not end with "/" (except "/" itself).
 *   Empty segments ("/a//b") are kept: they never equal a literal and never
 *   fill a {variable}, which must be non-empty ("/resource/" does not match
 *   "/resource/{name}").
 * - {proxy+} needs at least one character: "/api" and "/api/" do not match
 *   "ANY /api/{proxy+}". Its value is the rest of the path, slashes
 *   included, trailing slash kept, percent-decoded.
 * - Literal segments are compared with the request segment after
 *   percent-decoding, byte for byte (paths are case-sensitive).
 * - "%00" and malformed escapes are left as they are rather than decoded.
 * - Two routes with the same method and the same shape ("GET /a/{x}" and
 *   "GET /a/{y}") conflict, and the table is refused.
 */
#ifndef OWS_GW_ROUTE_H
#define OWS_GW_ROUTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum ows_gw_auth {
	OWS_GW_AUTH_NONE, /* "none": anyone may call the route */
	OWS_GW_AUTH_IAM,  /* "iam": the request must be SigV4-signed */
};

struct ows_gw_table; /* opaque, immutable, reference counted */

struct ows_gw_param {
	const char *name; /* borrowed from the table */
	char *value;	  /* owned by the match, percent-decoded */
};

struct ows_gw_match {
	const struct ows_gw_table *table; /* a reference, dropped by _close */
	const char *function;  /* function name (borrowed from the table) */
	const char *route_key; /* "GET /users/{id}" or "$default" */
	enum ows_gw_auth auth;
	const json_t *cors;	     /* the spec's "cors" object, or NULL */
	const json_t *spec;	     /* the whole route spec */
	struct ows_gw_param *params; /* in route order; NULL when none */
	size_t n_params;
};

/*
 * Build a table from the routes as the state returns them: an array of
 * {"name": "GET /users/{id}", "spec": {"function": "f", "auth":
 * "none"|"iam", "cors": {...}}}. routes is borrowed (specs are referenced,
 * not copied). On success *out holds a table with one reference. Returns
 * 0, OWS_EINVAL with the reason in err (bad route key, missing function,
 * duplicate or conflicting route), or -ENOMEM.
 */
int ows_gw_routes_build(const json_t *routes, struct ows_gw_table **out,
			struct ows_err *err);

/* Take another reference on t; returns t. Safe across threads. */
struct ows_gw_table *ows_gw_table_ref(const struct ows_gw_table *t);

/* Drop a reference; the last one frees the table. NULL is ignored. */
void ows_gw_table_free(const struct ows_gw_table *t);

/* Number of routes in t, $default included. */
size_t ows_gw_table_size(const struct ows_gw_table *t);

/*
 * Find the route for method ("GET", case-sensitive) and raw_path (the
 * percent-encoded path, starting with "/", without the query). On success
 * fills *m, which holds a reference on t, and returns 0; the caller calls
 * ows_gw_match_close(m). Returns OWS_ENOTFOUND when no route matches (the
 * caller answers 404 {"message":"Not Found"}) or -ENOMEM; *m is then empty
 * and closing it is harmless.
 */
int ows_gw_match(const struct ows_gw_table *t, const char *method,
		 const char *raw_path, struct ows_gw_match *m);

/* The value of path parameter name in m, or NULL. */
const char *ows_gw_match_param(const struct ows_gw_match *m, const char *name);

/* Free the parameter values and drop the table reference. */
void ows_gw_match_close(struct ows_gw_match *m);

#endif
