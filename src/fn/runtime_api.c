/*
 * The Lambda Runtime API for one function instance; see runtime_api.h.
 *
 * The state is small: at most one invocation outstanding (queued, or
 * delivered to the runtime and not yet answered) and at most one GET /next
 * held open until there is something to deliver. Every path that ends an
 * invocation goes through finish(), which detaches it before calling back so
 * that the callback may invoke again or close the API.
 *
 * Requests that read a body carry a small context in their arena naming the
 * invocation they answer (by sequence number): the invocation may have ended
 * (timeout, exit, close) while the body was still arriving. The API struct
 * itself lives until the HTTP server has closed, which waits for those
 * requests, so the context's pointer stays valid.
 */
#include "fn/runtime_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "http/http.h"

#define PREFIX "/2018-06-01/runtime/"
#define MAX_REQUEST_ID 64
/*
 * Connections one instance may hold to its Runtime API. A runtime needs
 * one or two; every connection is a descriptor of the node's, so without
 * a bound a function could take them all (the edge then accepts nothing).
 */
#define MAX_CONNECTIONS 16

struct invocation {
	uint64_t seq;
	char *request_id;
	char *function_arn;
	char *trace_id;
	char *client_context;
	char *cognito_identity;
	char *payload;
	size_t len;
	int64_t deadline_ms;
	int64_t started_ms; /* wall time of the invoke, for the message */
	bool delivered;	    /* handed to a GET /next */
	bool answering;	    /* a response or error body is arriving */
	ows_runtime_result_cb cb;
	void *ud;
};

struct ows_runtime_api {
	struct ows_http_server srv; /* first: the failure path frees by it */
	uv_timer_t deadline;
	struct ows_runtime_api_cbs cbs;
	void *ud;
	struct invocation *inv;	      /* outstanding, or NULL */
	struct ows_http_req *waiting; /* a held GET /next, or NULL */
	uint64_t seq;
	bool ready; /* the first /next came */
	bool dead;  /* init error, timeout or exit */
	bool closing;
	bool init_error_reading; /* a POST /init/error body is arriving */
	int open_handles; /* server and timer, while closing */
	void (*close_cb)(void *ud);
};

/* What a request with a body is about. */
enum route { R_RESPONSE, R_ERROR, R_INIT_ERROR };

struct rctx {
	struct ows_runtime_api *api;
	uint64_t seq;
	enum route route;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answers to the runtime ---- */

/* Lambda's own error shape: {"errorMessage": ..., "errorType": ...}. */
static char *error_doc(const char *type, const char *msg)
{
	json_t *o =
	    json_pack("{s:s, s:s}", "errorMessage", msg, "errorType", type);
	char *s = o != NULL ? ows_json_dump(o) : NULL;

	json_decref(o);
	return s;
}

static void reply(struct ows_http_req *req, int status, const char *body)
{
	static const struct ows_http_header json_ct = {"Content-Type",
						       "application/json"};

	ows_http_respond(req, status, &json_ct, 1, body, strlen(body));
}

static void reply_error(struct ows_http_req *req, int status, const char *type,
			const char *msg)
{
	char *doc = error_doc(type, msg);

	if (doc == NULL)
		ows_http_respond(req, 500, NULL, 0, NULL, 0);
	else
		reply(req, status, doc);
	free(doc);
}

static void reply_accepted(struct ows_http_req *req)
{
	reply(req, 202, "{\"status\":\"OK\"}");
}

/* ---- invocations ---- */

static void inv_free(struct invocation *inv)
{
	free(inv->request_id);
	free(inv->function_arn);
	free(inv->trace_id);
	free(inv->client_context);
	free(inv->cognito_identity);
	free(inv->payload);
	free(inv);
}

/*
 * End the outstanding invocation with res (its request_id is filled here).
 * The invocation is detached first: the callback may start the next one or
 * close the API.
 */
static void finish(struct ows_runtime_api *api, struct ows_runtime_result *res)
{
	struct invocation *inv = api->inv;

	if (inv == NULL)
		return;
	api->inv = NULL;
	uv_timer_stop(&api->deadline);
	res->request_id = inv->request_id;
	inv->cb(inv->ud, res);
	inv_free(inv);
}

/* End the invocation without an answer from the function. */
static void fail(struct ows_runtime_api *api, int status, const char *type,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail(struct ows_runtime_api *api, int status, const char *type,
		 const char *fmt, ...)
{
	struct ows_runtime_result res = {.kind = OWS_RUNTIME_FAILED};
	char msg[256], full[400];
	va_list ap;
	char *doc;

	if (api->inv == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Lambda's wording: "RequestId: <id> Error: <what>". */
	snprintf(full, sizeof(full), "RequestId: %s Error: %s",
		 api->inv->request_id, msg);
	doc = error_doc(type, full);
	res.status = status;
	res.error_type = type;
	res.function_error = "Unhandled";
	res.body = doc != NULL ? doc : "{}";
	res.len = strlen(res.body);
	finish(api, &res);
	free(doc);
}

/* Answer a GET /next with the invocation; false when the peer is gone. */
static bool deliver(struct ows_http_req *req, struct invocation *inv)
{
	struct ows_http_header h[7];
	size_t n = 0;
	char deadline[24];

	snprintf(deadline, sizeof(deadline), "%" PRId64, inv->deadline_ms);
	h[n++] = (struct ows_http_header){"Content-Type", "application/json"};
	h[n++] = (struct ows_http_header){"Lambda-Runtime-Aws-Request-Id",
					  inv->request_id};
	h[n++] =
	    (struct ows_http_header){"Lambda-Runtime-Deadline-Ms", deadline};
	h[n++] = (struct ows_http_header){"Lambda-Runtime-Invoked-Function-Arn",
					  inv->function_arn};
	if (inv->trace_id != NULL)
		h[n++] = (struct ows_http_header){"Lambda-Runtime-Trace-Id",
						  inv->trace_id};
	if (inv->client_context != NULL)
		h[n++] = (struct ows_http_header){
		    "Lambda-Runtime-Client-Context", inv->client_context};
	if (inv->cognito_identity != NULL)
		h[n++] = (struct ows_http_header){
		    "Lambda-Runtime-Cognito-Identity", inv->cognito_identity};
	return ows_http_respond(req, 200, h, n, inv->payload, inv->len) == 0;
}

static void try_deliver(struct ows_runtime_api *api)
{
	struct ows_http_req *req = api->waiting;

	if (req == NULL || api->inv == NULL || api->inv->delivered)
		return;
	api->waiting = NULL;
	/* A runtime that hung up keeps the event queued for its next GET. */
	api->inv->delivered = deliver(req, api->inv);
}

static void deadline_cb(uv_timer_t *t)
{
	struct ows_runtime_api *api = t->data;
	double secs;

	if (api->inv == NULL)
		return;
	secs = (double)(api->inv->deadline_ms - api->inv->started_ms) / 1000;
	/* The handler may still be running: the node kills the instance. */
	api->dead = true;
	fail(api, -ETIMEDOUT, "Sandbox.Timedout",
	     "Task timed out after %.2f seconds", secs);
}

static bool header_safe(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

static bool request_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > MAX_REQUEST_ID)
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789-") == n;
}

static char *dup_opt(const char *s, bool *nomem)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*nomem = true;
	return d;
}

static int inv_new(const struct ows_runtime_invocation *in,
		   struct invocation **out)
{
	struct invocation *inv = calloc(1, sizeof(*inv));
	bool nomem = inv == NULL;

	if (nomem)
		return -ENOMEM;
	inv->request_id = dup_opt(in->request_id, &nomem);
	inv->function_arn =
	    dup_opt(in->function_arn ? in->function_arn : "", &nomem);
	inv->trace_id = dup_opt(in->trace_id, &nomem);
	inv->client_context = dup_opt(in->client_context, &nomem);
	inv->cognito_identity = dup_opt(in->cognito_identity, &nomem);
	/* +1: a NUL keeps an empty payload non-NULL and printable. */
	inv->payload = malloc(in->len + 1);
	if (inv->payload == NULL || nomem) {
		inv_free(inv);
		return -ENOMEM;
	}
	if (in->len > 0)
		memcpy(inv->payload, in->payload, in->len);
	inv->payload[in->len] = '\0';
	inv->len = in->len;
	inv->deadline_ms = in->deadline_ms;
	inv->started_ms = now_ms();
	*out = inv;
	return 0;
}

int ows__runtime_api_invoke(struct ows_runtime_api *api,
			    const struct ows_runtime_invocation *in,
			    ows_runtime_result_cb cb, void *ud)
{
	struct invocation *inv;
	int rv;

	if (api->closing)
		return -ECANCELED;
	if (api->dead)
		return -EPIPE;
	if (api->inv != NULL)
		return -EBUSY;
	if (in->len > OWS_RUNTIME_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (cb == NULL || !request_id_ok(in->request_id) ||
	    (in->payload == NULL && in->len > 0) ||
	    !header_safe(in->function_arn) || !header_safe(in->trace_id) ||
	    !header_safe(in->client_context) ||
	    !header_safe(in->cognito_identity))
		return -EINVAL;
	rv = inv_new(in, &inv);
	if (rv != 0)
		return rv;
	inv->seq = ++api->seq;
	inv->cb = cb;
	inv->ud = ud;
	api->inv = inv;
	if (inv->deadline_ms > 0) {
		int64_t left = inv->deadline_ms - inv->started_ms;

		uv_timer_start(&api->deadline, deadline_cb,
			       left > 0 ? (uint64_t)left : 0, 0);
	}
	try_deliver(api);
	return 0;
}

/* ---- routes ---- */

static void on_next(struct ows_runtime_api *api, struct ows_http_req *req)
{
	if (api->closing || api->dead) {
		reply_error(req, 500, "Runtime.Unavailable",
			    "this instance takes no more invocations");
		return;
	}
	if (api->inv != NULL && api->inv->delivered) {
		reply_error(req, 403, "InvalidStateTransition",
			    "the current invocation has not been answered");
		return;
	}
	if (api->waiting != NULL) {
		/*
		 * Only one poller, and never the newer: a second GET /next
		 * (another process of the instance, say) must not take the
		 * next event from the runtime. A poller that hung up is
		 * replaced.
		 */
		if (!ows_http_req_peer_gone(api->waiting)) {
			reply_error(req, 403, "InvalidStateTransition",
				    "another GET /next is waiting");
			return;
		}
		reply_error(api->waiting, 403, "InvalidStateTransition",
			    "replaced by a newer /next");
		api->waiting = NULL;
	}
	api->waiting = req;
	if (!api->ready) {
		api->ready = true;
		if (api->cbs.ready_cb != NULL)
			api->cbs.ready_cb(api, api->ud);
		if (api->waiting != req)
			return; /* the callback closed the API */
	}
	try_deliver(api);
	if (api->waiting == req && api->cbs.wait_cb != NULL)
		api->cbs.wait_cb(api, api->ud);
}

/* The error type the runtime gave: the body's errorType, else the header. */
static const char *error_type_of(struct ows_http_req *req, const char *body,
				 size_t len)
{
	const char *hdr =
	    ows_http_req_header(req, "Lambda-Runtime-Function-Error-Type");
	struct ows_err err;
	json_t *doc = ows_json_parse(body, len, &err);
	const char *t = doc != NULL ? ows_json_str(doc, "errorType") : NULL;
	const char *out = t != NULL ? ows_arena_strdup(&req->arena, t) : NULL;

	json_decref(doc);
	if (out == NULL)
		out = hdr != NULL ? hdr : "Unknown";
	return out;
}

static void answered(struct ows_runtime_api *api, struct ows_http_req *req,
		     enum route route, const char *body, size_t len)
{
	struct ows_runtime_result res = {0};

	res.body = body;
	res.len = len;
	if (route == R_RESPONSE) {
		res.kind = OWS_RUNTIME_OK;
	} else {
		res.kind = OWS_RUNTIME_FUNCTION_ERROR;
		res.error_type = error_type_of(req, body, len);
		res.function_error = ows_http_req_header(
		    req, "Lambda-Runtime-Function-Error-Type");
		/* Lambda reports every runtime-posted error as Unhandled. */
		if (res.function_error == NULL ||
		    strcmp(res.function_error, "Handled") != 0)
			res.function_error = "Unhandled";
	}
	finish(api, &res);
}

static void on_init_error(struct ows_runtime_api *api, struct ows_http_req *req,
			  const char *body, size_t len)
{
	struct ows_runtime_result res = {0};
	const char *type;

	if (api->ready || api->dead || api->closing) {
		reply_error(req, 403, "InvalidStateTransition",
			    "init error reported after init");
		return;
	}
	type = error_type_of(req, body, len);
	api->dead = true;
	if (api->cbs.init_error_cb != NULL)
		api->cbs.init_error_cb(api, api->ud, type, body, len);
	res.kind = OWS_RUNTIME_INIT_ERROR;
	res.error_type = type;
	res.function_error = "Unhandled";
	res.body = body;
	res.len = len;
	finish(api, &res);
	reply_accepted(req);
}

static void body_cb(struct ows_http_req *req, int status, const char *body,
		    size_t len)
{
	struct rctx *x = req->data;
	struct ows_runtime_api *api = x->api;
	bool current = api->inv != NULL && api->inv->seq == x->seq;

	if (x->route == R_INIT_ERROR)
		api->init_error_reading = false;
	if (status < 0) {
		/* The server has answered (413) or the peer is gone. */
		if (current && status == -EMSGSIZE)
			fail(api, -EMSGSIZE, "Function.ResponseSizeTooLarge",
			     "Response payload size exceeded maximum allowed "
			     "payload size (%d bytes).",
			     OWS_RUNTIME_MAX_PAYLOAD);
		else if (current)
			api->inv->answering = false; /* it may try again */
		return;
	}
	if (x->route == R_INIT_ERROR) {
		on_init_error(api, req, body, len);
		return;
	}
	if (!current) {
		/* Timed out, failed or closed while the body was arriving. */
		reply_error(req, 400, "InvalidRequestID",
			    "the invocation is no longer outstanding");
		return;
	}
	answered(api, req, x->route, body, len);
	reply_accepted(req);
}

/* Read the body, then body_cb; false (answered 500) when that cannot start. */
static bool read_answer(struct ows_runtime_api *api, struct ows_http_req *req,
			enum route route, uint64_t seq)
{
	struct rctx *x = ows_arena_alloc(&req->arena, sizeof(*x));

	if (x != NULL) {
		x->api = api;
		x->seq = seq;
		x->route = route;
		req->data = x;
		if (ows_http_req_read_body(req, OWS_RUNTIME_MAX_PAYLOAD,
					   body_cb) == 0)
			return true;
	}
	ows_http_respond(req, 500, NULL, 0, NULL, 0);
	return false;
}

static void on_answer(struct ows_runtime_api *api, struct ows_http_req *req,
		      const char *id, size_t id_len, enum route route)
{
	struct invocation *inv = api->inv;

	if (inv == NULL || !inv->delivered ||
	    strlen(inv->request_id) != id_len ||
	    memcmp(inv->request_id, id, id_len) != 0) {
		reply_error(req, 400, "InvalidRequestID",
			    "no such invocation outstanding");
		return;
	}
	if (inv->answering) {
		reply_error(req, 403, "InvalidStateTransition",
			    "the invocation is already being answered");
		return;
	}
	if (req->content_length > OWS_RUNTIME_MAX_PAYLOAD) {
		/* Answer in Lambda's words rather than the server's. */
		reply_error(req, 413, "RequestEntityTooLarge",
			    "Exceeded maximum allowed payload size (6291556 "
			    "bytes).");
		fail(api, -EMSGSIZE, "Function.ResponseSizeTooLarge",
		     "Response payload size exceeded maximum allowed payload "
		     "size (%d bytes).",
		     OWS_RUNTIME_MAX_PAYLOAD);
		return;
	}
	inv->answering = true;
	if (!read_answer(api, req, route, inv->seq))
		inv->answering = false; /* no body_cb will come */
}

static void handler(struct ows_http_req *req, void *ud)
{
	struct ows_runtime_api *api = ud;
	const char *p = req->path, *id, *slash;
	bool post = strcmp(req->method, "POST") == 0;

	if (strncmp(p, PREFIX, strlen(PREFIX)) != 0)
		goto not_found;
	p += strlen(PREFIX);
	if (strcmp(p, "invocation/next") == 0 &&
	    strcmp(req->method, "GET") == 0) {
		on_next(api, req);
		return;
	}
	if (strcmp(p, "init/error") == 0 && post) {
		/*
		 * Refused before its body is read once init is over, and one
		 * at a time before: each body may be megabytes of the node's
		 * memory, and the function chooses how many it sends.
		 */
		if (api->ready || api->dead || api->closing ||
		    api->init_error_reading) {
			reply_error(req, 403, "InvalidStateTransition",
				    "init error reported after init");
			return;
		}
		api->init_error_reading = true; /* body_cb clears it */
		if (!read_answer(api, req, R_INIT_ERROR, 0))
			api->init_error_reading = false;
		return;
	}
	if (strncmp(p, "invocation/", 11) != 0 || !post)
		goto not_found;
	id = p + 11;
	slash = strchr(id, '/');
	if (slash == NULL || slash == id)
		goto not_found;
	if (strcmp(slash, "/response") == 0)
		on_answer(api, req, id, (size_t)(slash - id), R_RESPONSE);
	else if (strcmp(slash, "/error") == 0)
		on_answer(api, req, id, (size_t)(slash - id), R_ERROR);
	else
		goto not_found;
	return;
not_found:
	reply_error(req, 404, "NotFound", "unknown runtime API path");
}

/* ---- lifetime ---- */

static void free_failed(uv_handle_t *h)
{
	free(h->data); /* the server, first member of the API */
}

static int api_new(uv_loop_t *loop, const char *listen_host_port, int fd,
		   const struct ows_runtime_api_cbs *cbs, void *ud,
		   struct ows_runtime_api **out)
{
	struct ows_runtime_api *api = calloc(1, sizeof(*api));
	struct ows_http_server_config cfg;
	int rv;

	ows_http_server_config_default(&cfg);
	cfg.max_connections = MAX_CONNECTIONS;
	if (api == NULL) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	rv = ows_http_server_init(&api->srv, loop, &cfg, handler, api);
	if (rv != 0) {
		if (fd >= 0)
			close(fd);
		free(api);
		return rv;
	}
	if (fd >= 0) {
		rv = ows_http_server_open(&api->srv, fd);
		if (rv != 0 && uv_fileno((uv_handle_t *)&api->srv.listener,
					 &(uv_os_fd_t){0}) != 0)
			close(fd); /* not taken by the handle */
	} else {
		rv = ows_http_server_listen(&api->srv, listen_host_port);
	}
	if (rv != 0) {
		uv_close((uv_handle_t *)&api->srv.listener, free_failed);
		return rv;
	}
	uv_timer_init(loop, &api->deadline);
	api->deadline.data = api;
	if (cbs != NULL)
		api->cbs = *cbs;
	api->ud = ud;
	*out = api;
	return 0;
}

int ows_runtime_api_new(uv_loop_t *loop, const char *listen_host_port,
			const struct ows_runtime_api_cbs *cbs, void *ud,
			struct ows_runtime_api **out)
{
	return api_new(loop, listen_host_port, -1, cbs, ud, out);
}

int ows__runtime_api_open(uv_loop_t *loop, int fd,
			  const struct ows_runtime_api_cbs *cbs, void *ud,
			  struct ows_runtime_api **out)
{
	return api_new(loop, NULL, fd, cbs, ud, out);
}

const char *ows__runtime_api_address(const struct ows_runtime_api *api)
{
	return api->srv.bound;
}

bool ows_runtime_api_ready(const struct ows_runtime_api *api)
{
	return api->ready;
}

void ows__runtime_api_instance_exited(struct ows_runtime_api *api,
				      int64_t exit_status, int term_signal)
{
	api->dead = true;
	if (api->waiting != NULL) {
		/* Nobody will read it; answering frees the request. */
		ows_http_respond(api->waiting, 500, NULL, 0, NULL, 0);
		api->waiting = NULL;
	}
	if (term_signal != 0)
		fail(api, -EPIPE, "Runtime.ExitError",
		     "Runtime exited with error: signal: %s",
		     strsignal(term_signal));
	else
		fail(api, -EPIPE, "Runtime.ExitError",
		     "Runtime exited with error: exit status %" PRId64,
		     exit_status);
}

static void handle_closed(struct ows_runtime_api *api)
{
	if (--api->open_handles > 0)
		return;
	if (api->close_cb != NULL)
		api->close_cb(api->ud);
	free(api);
}

static void server_closed(struct ows_http_server *s)
{
	handle_closed((struct ows_runtime_api *)s);
}

static void timer_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

void ows__runtime_api_close(struct ows_runtime_api *api, void (*cb)(void *ud))
{
	if (api->closing)
		return;
	api->closing = true;
	api->close_cb = cb;
	api->open_handles = 2;
	fail(api, -ECANCELED, "Runtime.Closed", "the instance was stopped");
	if (api->waiting != NULL) {
		reply_error(api->waiting, 500, "Runtime.Unavailable",
			    "the instance is stopping");
		api->waiting = NULL;
	}
	uv_close((uv_handle_t *)&api->deadline, timer_closed);
	ows_http_server_close(&api->srv, server_closed);
}
