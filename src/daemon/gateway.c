/*
 * The gateway port: the users' own HTTP APIs (DESIGN.md, "Functions").
 * Each request is matched against the routes of the replicated state
 * (src/gw/route.c), turned into an API Gateway payload 2.0 event, run by
 * the route's function on this node, and its result mapped back to HTTP.
 *
 * The route table is rebuilt whole when the ledger height moves, and a
 * request keeps the table it matched against (tables are reference
 * counted): routes change atomically with the change set that changes them,
 * so no request sees half a deployment.
 */
#include <errno.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "common/log.h"
#include "aws/auth.h"
#include "daemon/gateway.h"
#include "daemon/reply.h"
#include "gw/payload.h"
#include "gw/route.h"
#include "ledger/authz.h"

#define GW_BODY_LIMIT (10 * 1024 * 1024) /* API Gateway's payload limit */

struct gw_call {
	struct ows_gateway *gw;
	struct ows_core *n;
	struct ows_http_req *req;
	struct ows_gw_match m;
	char request_id[37];
	int64_t t0;
	const char *body;           /* http runtime: the request body */
	size_t len;
	struct ows_fn_instance *inst; /* http runtime: the lent instance */
	struct ows_aws_auth *auth;  /* "iam" routes: head check to body's */
};

/*
 * c lives in the request's arena, so answering frees it: what it holds
 * outside the arena (the route match, the SigV4 check) is taken out
 * first and closed after the answer.
 */
struct held {
	struct ows_gw_match m;
	struct ows_aws_auth *auth;
	char request_id[37];
};

static void call_take(struct gw_call *c, struct held *h)
{
	h->m = c->m;
	h->auth = c->auth;
	memcpy(h->request_id, c->request_id, sizeof(h->request_id));
	memset(&c->m, 0, sizeof(c->m));
	c->auth = NULL;
}

static void held_close(struct held *h)
{
	ows_gw_match_close(&h->m);
	if (h->auth != NULL) {
		ows_aws_auth_clear(h->auth);
		free(h->auth);
	}
}

/* c's end without an answer (the server answered, or the peer left). */
static void call_free(struct gw_call *c)
{
	struct held h;

	call_take(c, &h);
	held_close(&h);
}

static const struct ows_gw_table *current_table(struct ows_gateway *gw)
{
	struct ows_core *n = gw->core;
	struct ows_gw_table *t = NULL;
	struct ows_err err = {{0}};
	json_t *routes;

	if (gw->table != NULL && gw->height == n->state.height)
		return gw->table;
	routes = ows_state_resources(&n->state, "routes", NULL);
	if (routes != NULL && ows_gw_routes_build(routes, &t, &err) != 0)
		ows_log(OWS_LOG_ERROR, "gw", "cannot build the routes: %s",
			err.msg);
	json_decref(routes);
	if (t == NULL)
		return gw->table; /* keep serving the last good table */
	if (gw->table != NULL)
		ows_gw_table_free(gw->table);
	gw->table = t;
	gw->height = n->state.height;
	return t;
}

void ows_gateway_init(struct ows_gateway *gw, struct ows_core *core,
		      struct ows_functions *fns, struct ows_node_host *host)
{
	*gw = (struct ows_gateway){.core = core, .fns = fns, .host = host};
}

void ows_gateway_close(struct ows_gateway *gw)
{
	if (gw->table != NULL)
		ows_gw_table_free(gw->table);
	gw->table = NULL;
}

static void send_response(struct gw_call *c, struct ows_gw_response *r)
{
	struct ows_http_header hs[64];
	struct ows_http_req *req = c->req;
	struct held h;
	size_t n = 0;

	call_take(c, &h);
	for (size_t i = 0; i < r->headers.n && n < 63; i++)
		hs[n++] = (struct ows_http_header){r->headers.v[i].name,
						   r->headers.v[i].value};
	hs[n++] = (struct ows_http_header){"apigw-requestid", h.request_id};
	ows_http_respond(req, r->status, hs, n, r->body, r->body_len);
	ows_gw_response_close(r);
	held_close(&h);
}

static void send_message(struct gw_call *c, int status, const char *msg)
{
	struct ows_gw_response r;
	char body[128];

	ows_gw_response_init(&r);
	r.status = status;
	snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
	r.body = strdup(body);
	r.body_len = r.body ? strlen(body) : 0;
	ows_gw_headers_add(&r.headers, "Content-Type", "application/json");
	send_response(c, &r);
}

static void result_cb(void *ud, const struct ows_fn_result *res)
{
	struct gw_call *c = ud;
	struct ows_gw_response r;
	struct ows_err err = {{0}};

	ows_gw_response_init(&r);
	if (res->kind == OWS_FN_THROTTLED) {
		ows_gw_response_close(&r);
		send_message(c, 429, "Too Many Requests");
		return;
	}
	if (res->kind != OWS_FN_OK) {
		ows_log(OWS_LOG_INFO, "gw", "%s %s: function '%s' failed: %s",
			c->req->method, c->req->path, c->m.function,
			res->error_type ? res->error_type : "error");
		ows_gw_response_error(&r);
	} else if (ows_gw_response(res->body, res->len, &r, &err) != 0) {
		ows_log(OWS_LOG_INFO, "gw", "function '%s' returned an invalid "
			"response: %s", c->m.function, err.msg);
	}
	if (c->m.cors != NULL)
		ows_gw_cors_apply(c->m.cors, ows_http_req_header(c->req, "Origin"),
				  &r);
	send_response(c, &r);
}

/* ---- http runtime: the request as it is, to a lent instance ---- */

static bool hop_by_hop(const char *name)
{
	static const struct {
		size_t len;
		const char *name;
	} hop[] = {
		{10, "connection"}, {10, "keep-alive"},
		{17, "transfer-encoding"}, {2, "te"}, {7, "trailer"},
		{7, "upgrade"}, {19, "proxy-authorization"},
		{18, "proxy-authenticate"}, {14, "content-length"},
		{4, "host"}, {4, "date"},
	};
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (hop[i].len == len && strcasecmp(name, hop[i].name) == 0)
			return true;
	return false;
}

static void proxied_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct gw_call *c = ud;
	struct ows_http_header hs[64];
	struct ows_http_req *req = c->req;
	struct held h;
	size_t n = 0;

	ows_functions_http_release(c->inst);
	if (status != 0) {
		send_message(c, 502, "Bad Gateway");
		return;
	}
	call_take(c, &h);
	for (size_t i = 0; i < r->n_headers && n < 63; i++)
		if (!hop_by_hop(r->headers[i].name))
			hs[n++] = r->headers[i];
	hs[n++] = (struct ows_http_header){"apigw-requestid", h.request_id};
	ows_http_respond(req, r->status, hs, n, r->body, r->body_len);
	held_close(&h);
}

static void lent_cb(void *ud, int status, struct ows_fn_instance *inst,
		    const char *addr)
{
	struct gw_call *c = ud;
	struct ows_http_client_opts opts = {30000, 64 * 1024 * 1024};
	struct ows_http_header hs[96];
	char fwd[96];
	size_t n = 0;

	if (status != 0) {
		send_message(c, status == OWS_ETOOBIG ? 429 : 503,
			     status == OWS_ETOOBIG ? "Too Many Requests"
						   : "Service Unavailable");
		return;
	}
	c->inst = inst;
	for (size_t i = 0; i < c->req->n_headers && n < 94; i++)
		if (!hop_by_hop(c->req->headers[i].name))
			hs[n++] = c->req->headers[i];
	{
		size_t len = strcspn(c->req->peer, ":");

		if (len >= sizeof(fwd))
			len = sizeof(fwd) - 1;
		memcpy(fwd, c->req->peer, len);
		fwd[len] = '\0';
	}
	hs[n++] = (struct ows_http_header){"X-Forwarded-For", fwd};
	if (ows_http_client_request(c->n->loop, addr, c->req->method,
				    c->req->target, hs, n, c->body, c->len,
				    &opts, proxied_cb, c) != 0) {
		ows_functions_http_release(inst);
		send_message(c, 502, "Bad Gateway");
	}
}

/*
 * "auth": "iam" routes, as API Gateway's IAM authorization: the request is
 * SigV4-signed, for the node's region and the execute-api service only, by
 * an access key of a user whose policies allow execute-api:Invoke on
 * arn:ows:execute-api::route/ROUTE_KEY. head: before the body is read (the
 * key and scope; see ows_aws_auth_head); otherwise the whole
 * signature over the body, and the policy.
 */
static bool iam_allowed(struct gw_call *c, bool head, const char *body,
			size_t len)
{
	struct ows_node_host *nh = c->gw->host;
	struct ows_aws_auth *a = c->auth;
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	struct ows_principal who;
	struct ows_err err = {{0}};
	char arn[600], ip[64];
	bool ok;

	/* The check (with the key the head check found) lives until c's end. */
	if (a == NULL) {
		a = c->auth = calloc(1, sizeof(*a));
		if (a == NULL)
			return false;
	}
	ok = (head ? ows_aws_auth_head(a, c->req, &nh->keys, "execute-api",
				       false, &err)
		   : ows_aws_auth_body(a, body, len, &err)) == 0;
	if (ok && !head) {
		ows_state_directory(&c->n->state, &dir);
		snprintf(arn, sizeof(arn), "arn:ows:execute-api::route/%s",
			 c->m.route_key);
		ows_reply_request_ctx(c->req, a->a.region, ip, &rc);
		who = (struct ows_principal){a->caller.kind, a->caller.name};
		ok = ows_principal_authorize(&dir, &who, "execute-api:Invoke",
					     arn, &rc) == 0;
	}
	if (!ok)
		ows_log(OWS_LOG_INFO, "gw", "%s %s from %s refused: %s",
			c->req->method, c->req->path, c->req->peer,
			err.msg[0] ? err.msg : "not allowed");
	return ok;
}

static void body_cb(struct ows_http_req *req, int status, const char *body,
		    size_t len)
{
	struct gw_call *c = req->data;
	struct ows_gw_ctx ctx = {
		.account_id = c->n->account, .api_id = c->n->cfg.cluster,
		.domain = ows_http_req_header(req, "Host"),
		.request_id = c->request_id, .time_ms = c->t0,
	};
	struct ows_buf event = OWS_BUF_INIT;
	int rv;

	if (status != 0) {
		call_free(c);
		return;
	}
	if (c->m.auth == OWS_GW_AUTH_IAM && !iam_allowed(c, false, body, len)) {
		send_message(c, 403, "Forbidden");
		return;
	}
	if (ctx.domain == NULL)
		ctx.domain = c->n->cfg.gateway;
	if (ows_functions_is_http(c->gw->fns, c->m.function) == 1) {
		struct ows_fn_instance *inst;
		const char *addr;

		c->body = body;
		c->len = len;
		/* A warm instance with room: proxy now, not on the next turn
		 * of the loop. */
		if (ows_functions_http_take(c->gw->fns, c->m.function, &inst,
					    &addr) == 0) {
			lent_cb(c, 0, inst, addr);
			return;
		}
		rv = ows_functions_http_acquire(c->gw->fns, c->m.function, lent_cb, c);
		if (rv != 0)
			send_message(c, rv == -ENOENT ? 404 : 500, rv == -ENOENT
				     ? "Not Found" : "Internal Server Error");
		return;
	}
	rv = ows_gw_event(req, body, len, &c->m, &ctx, &event);
	if (rv == 0)
		rv = ows_functions_invoke(c->gw->fns, c->m.function, c->request_id,
					  event.data, event.len, result_cb, c);
	ows_buf_free(&event);
	/* An event over Lambda's 6 MB is the client's: API Gateway's 413. */
	if (rv == -EMSGSIZE)
		send_message(c, 413, "Request Entity Too Large");
	else if (rv != 0)
		send_message(c, rv == -ENOENT ? 404 : 500, rv == -ENOENT
			     ? "Not Found" : "Internal Server Error");
}

/* CORS preflight for a route with CORS: answered here, no function runs. */
static bool preflight(struct ows_http_req *req,
		      const struct ows_gw_table *t)
{
	const char *origin = ows_http_req_header(req, "Origin");
	const char *want = ows_http_req_header(req, "Access-Control-Request-Method");
	struct ows_gw_headers hs;
	struct ows_http_header out[16];
	struct ows_gw_match m;
	size_t k = 0;

	if (strcmp(req->method, "OPTIONS") != 0 || origin == NULL || want == NULL ||
	    ows_gw_match(t, want, req->path, &m) != 0)
		return false;
	if (m.cors == NULL) {
		ows_gw_match_close(&m);
		return false;
	}
	ows_gw_headers_init(&hs);
	ows_gw_cors_headers(m.cors, origin, want, true, &hs);
	for (size_t i = 0; i < hs.n && k < 16; i++)
		out[k++] = (struct ows_http_header){hs.v[i].name, hs.v[i].value};
	ows_http_respond(req, 204, out, k, NULL, 0);
	ows_gw_headers_close(&hs);
	ows_gw_match_close(&m);
	return true;
}

void ows_gateway_handle(struct ows_http_req *req, void *ud)
{
	struct ows_gateway *gw = ud;
	const struct ows_gw_table *t = current_table(gw);
	struct gw_call *c;

	if (t != NULL && preflight(req, t))
		return;
	c = ows_arena_alloc(&req->arena, sizeof(*c));
	if (c == NULL) {
		ows_http_respond(req, 503, NULL, 0, NULL, 0);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->gw = gw;
	c->n = gw->core;
	c->req = req;
	c->t0 = ows_now_ms();
	ows_uuid4(c->request_id);
	if (t == NULL || ows_gw_match(t, req->method, req->path, &c->m) != 0) {
		send_message(c, 404, "Not Found");
		return;
	}
	/* Strangers are answered before their body is read. */
	if (c->m.auth == OWS_GW_AUTH_IAM && !iam_allowed(c, true, NULL, 0)) {
		send_message(c, 403, "Forbidden");
		return;
	}
	req->data = c;
	if (ows_http_req_read_body(req, GW_BODY_LIMIT, body_cb) != 0)
		send_message(c, 500, "Internal Server Error");
}
