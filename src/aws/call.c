/*
 * A call of a service on the seam (aws/call.h, aws/auth.h): made in the
 * request's arena with a request id; authenticated before any body byte;
 * its body read whole and checked, or left to the service to stream
 * (checked as it goes); answered exactly once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/auth.h"
#include "common/enc.h"
#include "common/json.h"
#include "common/log.h"

static struct ows_aws_call_priv *priv(const struct ows_aws_call *c)
{
	return c->priv;
}

const struct ows_session *ows_aws_call_session(const struct ows_aws_call *c)
{
	return c->caller.session ? &priv(c)->auth.sess : NULL;
}

bool ows_aws_call_sigv2(const struct ows_aws_call *c)
{
	return priv(c)->auth.sigv2 && c->caller.kind[0] == '\0';
}

const char *ows_aws_header(const struct ows_aws_call *c, const char *name)
{
	return ows_http_req_header(c->req, name);
}

bool ows_aws_call_trailer(const struct ows_aws_call *c, const char *name,
			  char *out, size_t cap)
{
	return ows__aws_verifier_trailer(priv(c)->verifier, name, out, cap);
}

/* Requests reading a body past their service's body_limit now. */
static unsigned large_bodies;
/* What the calls not yet answered hold (ows_aws_call_reserve). */
static size_t reserved;
/* The calls that wait for room (ows_aws_call_wait), first to last; the
   one being given its turn now; whether a turn is set on the loop. */
static struct ows_aws_call *wait_first, *wait_last, *wait_turn;
static size_t n_waiting;
static bool turn_set;

/*
 * A feed of body bytes in progress (stream_cb), on its stack: a service
 * that answers from inside it frees the call with its request (the
 * server frees the arena as soon as the answer is sent), so the feed
 * learns it here, and the verifier it is inside of is freed after it.
 */
struct ows__aws_feeding {
	bool answered;
	struct ows_aws_verifier *verifier; /* to free once the feed is out */
	struct ows_aws_call *c;
};

static void wait_turn_set(uv_loop_t *loop);

/* c is answered while it waits (its service gave up on it): out of line. */
static void wait_unlink(struct ows_aws_call *c)
{
	struct ows_aws_call *prev = NULL, *w;

	for (w = wait_first; w != NULL && w != c; w = priv(w)->wait_next)
		prev = w;
	if (w == NULL)
		return;
	if (prev != NULL)
		priv(prev)->wait_next = priv(c)->wait_next;
	else
		wait_first = priv(c)->wait_next;
	if (wait_last == c)
		wait_last = prev;
	priv(c)->waiting = false;
	n_waiting--;
	wait_turn_set(c->host->loop);
}

/* The call is over: wipe what authentication kept. */
static void call_end(struct ows_aws_call *c)
{
	struct ows_aws_call_priv *p = priv(c);

	if (p->large) {
		p->large = false;
		large_bodies--;
	}
	if (p->waiting)
		wait_unlink(c);
	if (p->reserved > 0) {
		reserved -= p->reserved;
		p->reserved = 0;
		wait_turn_set(c->host->loop);
	}
	p->answered = true;
	ows_aws_auth_clear(&p->auth);
	if (p->feeding != NULL) {
		p->feeding->answered = true;
		p->feeding->verifier = p->verifier;
		p->feeding = NULL;
	} else {
		ows__aws_verifier_free(p->verifier);
	}
	p->verifier = NULL;
}

/* Whether units more fit budget now (always when no call holds any). */
static bool fits(size_t units, size_t budget)
{
	return reserved == 0 || (units <= budget && reserved <= budget - units);
}

bool ows_aws_call_reserve(struct ows_aws_call *c, size_t units,
			  size_t budget)
{
	struct ows_aws_call_priv *p = priv(c);

	if (p->answered || !fits(units, budget))
		return false;
	reserved += units;
	p->reserved += units;
	return true;
}

size_t ows_aws_call_room(size_t budget)
{
	return reserved == 0 ? SIZE_MAX : reserved < budget ? budget - reserved
							   : 0;
}

/* ---- waiting for room ---- */

/* Whether the first call that waits fits now. */
static bool first_fits(void)
{
	return wait_first != NULL && fits(priv(wait_first)->wait_units,
					  priv(wait_first)->wait_budget);
}

static void turn_closed(uv_handle_t *h)
{
	free(h);
}

/*
 * Give the waiting calls their turns, first to last, while they fit. A
 * call's cb may answer it (a later turn is set then) or make it wait again
 * (back in front: the turns stop).
 */
static void wait_turns(uv_timer_t *t)
{
	struct ows_aws_call *c;
	struct ows_aws_call_priv *p;

	uv_close((uv_handle_t *)t, turn_closed);
	turn_set = false;
	while (first_fits()) {
		c = wait_first;
		p = priv(c);
		wait_first = p->wait_next;
		if (wait_first == NULL)
			wait_last = NULL;
		n_waiting--;
		p->waiting = false;
		p->wait_next = NULL;
		wait_turn = c;
		p->wait_cb(c);
		wait_turn = NULL;
	}
}

/*
 * The turns run from the loop, not from inside the reply that made room
 * (a service's handler inside another call's answer).
 */
static void wait_turn_set(uv_loop_t *loop)
{
	uv_timer_t *t;

	if (turn_set || !first_fits())
		return;
	t = malloc(sizeof(*t));
	if (t == NULL || uv_timer_init(loop, t) != 0) {
		free(t);
		return; /* the next answer tries again */
	}
	turn_set = true;
	uv_timer_start(t, wait_turns, 0, 0);
}

int ows_aws_call_wait(struct ows_aws_call *c, size_t units, size_t budget,
		      void (*cb)(struct ows_aws_call *c))
{
	struct ows_aws_call_priv *p = priv(c);

	if (c != wait_turn && n_waiting >= OWS_AWS_CALLS_WAITING)
		return -EAGAIN;
	p->wait_units = units;
	p->wait_budget = budget;
	p->wait_cb = cb;
	p->waiting = true;
	if (c == wait_turn) {
		/* it keeps its place in front */
		p->wait_next = wait_first;
		wait_first = c;
		if (wait_last == NULL)
			wait_last = c;
	} else {
		p->wait_next = NULL;
		if (wait_last != NULL)
			priv(wait_last)->wait_next = c;
		else
			wait_first = c;
		wait_last = c;
	}
	n_waiting++;
	wait_turn_set(c->host->loop);
	return 0;
}

size_t ows_aws_calls_waiting(void)
{
	return n_waiting;
}

void ows_aws_reply(struct ows_aws_call *c, int status,
		   const struct ows_http_header *headers, size_t n_headers,
		   const void *body, size_t len)
{
	struct ows_http_header *h;
	struct ows_http_req *req = c->req;
	size_t n = 0;
	bool has_id = false;

	if (priv(c)->answered)
		return; /* the server ended the request (a body error) */
	h = ows_arena_alloc(c->arena, (n_headers + 1) * sizeof(*h));
	if (h == NULL) {
		call_end(c);
		ows_http_respond(req, 503, NULL, 0, NULL, 0);
		return;
	}
	for (size_t i = 0; i < n_headers; i++) {
		has_id |= strcasecmp(headers[i].name, "x-amzn-RequestId") == 0;
		h[n++] = headers[i];
	}
	if (!has_id)
		h[n++] = (struct ows_http_header){"x-amzn-RequestId",
						  c->request_id};
	call_end(c);
	/* c lives in req's arena: nothing of it after this */
	ows_http_respond(req, status, h, n, body, len);
}

int ows_aws_reply_start(struct ows_aws_call *c, int status,
			const struct ows_http_header *headers,
			size_t n_headers, int64_t content_length)
{
	struct ows_http_header *h;
	struct ows_http_req *req = c->req;
	size_t n = 0;

	if (priv(c)->answered)
		return -ECANCELED;
	h = ows_arena_alloc(c->arena, (n_headers + 1) * sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n_headers; i++)
		h[n++] = headers[i];
	h[n++] = (struct ows_http_header){"x-amzn-RequestId", c->request_id};
	call_end(c);
	return ows_http_respond_start(req, status, h, n, content_length);
}

static const char *content_type(const struct ows_aws_call *c)
{
	return c->svc->protocol == OWS_AWS_JSON_1_0
		       ? "application/x-amz-json-1.0"
		       : "application/json";
}

void ows_aws_reply_json(struct ows_aws_call *c, int status, json_t *v)
{
	struct ows_http_header h = {"Content-Type", content_type(c)};
	char *text = v != NULL ? ows_json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (text == NULL) {
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		return;
	}
	ows_aws_reply(c, status, &h, 1, text, strlen(text));
	free(text);
}

void ows_aws_reply_json_text(struct ows_aws_call *c, int status,
			     const char *text, size_t len)
{
	struct ows_http_header h = {"Content-Type", content_type(c)};

	ows_aws_reply(c, status, &h, 1, text, len);
}

void ows_aws_reply_xml(struct ows_aws_call *c, int status, const char *xml)
{
	struct ows_http_header h = {
		"Content-Type",
		c->svc->protocol == OWS_AWS_REST_XML ? "application/xml"
						     : "text/xml"};

	ows_aws_reply(c, status, &h, 1, xml, strlen(xml));
}

/* ---- the edge's entry ---- */

static void handle(struct ows_aws_call *c)
{
	c->svc->handle(c);
}

static void body_cb(struct ows_http_req *req, int status, const char *body,
		    size_t len)
{
	struct ows_aws_call *c = req->data;
	struct ows_err err = {{0}};
	int rv;

	if (status != 0) {
		/* the server has answered or ended the request */
		call_end(c);
		return;
	}
	c->body = body;
	c->len = len;
	rv = ows_aws_auth_body(&priv(c)->auth, body, len, &err);
	if (rv != 0) {
		ows__aws_reply_auth_error(c, rv, err.msg[0] ? err.msg : NULL);
		return;
	}
	handle(c);
}

/*
 * After the header check: the request's body limit (svc->body_limit_for),
 * answered 413 in the service's shape when Content-Length is past it, and
 * 429 when it raises the limit while OWS_AWS_LARGE_BODIES others do.
 */
static bool body_admitted(struct ows_aws_call *c, struct ows_aws_body_limit *bl)
{
	const struct ows_http_req *req = c->req;
	int64_t n = req->content_length;

	if (c->svc->body_limit_for != NULL)
		c->svc->body_limit_for(req, bl);
	if (bl->code != NULL && n > 0 && (uint64_t)n > bl->limit) {
		if (bl->operation != NULL)
			ows_aws_error(c, 413, bl->code, "Request must be "
				      "smaller than %zu bytes for the %s "
				      "operation", bl->limit, bl->operation);
		else
			ows_aws_error(c, 413, bl->code, "Request must be "
				      "smaller than %zu bytes", bl->limit);
		return false;
	}
	if (bl->limit <= c->svc->body_limit ||
	    (n >= 0 && (uint64_t)n <= c->svc->body_limit))
		return true;
	if (large_bodies >= OWS_AWS_LARGE_BODIES) {
		ows_aws_error(c, 429, "TooManyRequestsException", "Too many "
			      "large requests at once on this node; retry");
		return false;
	}
	large_bodies++;
	priv(c)->large = true;
	return true;
}

/*
 * A query that carries SigV2 credentials (AWSAccessKeyId, Signature):
 * only the service can check them (S3's CanonicalizedResource needs the
 * bucket, ows_aws_call_auth_v2); it comes in as anonymous, which it
 * stays unless the service checks the signature.
 */
static bool sigv2_query(const struct ows_http_req *req)
{
	char probe[8];

	return req->query != NULL &&
	       (ows_query_get(req->query, "AWSAccessKeyId", probe,
			      sizeof(probe)) ||
		ows_query_get(req->query, "Signature", probe, sizeof(probe)));
}

void ows_aws_call_start(const struct ows_aws_service *svc,
			const struct ows_aws_host *host,
			const struct ows_aws_keys *keys,
			struct ows_http_req *req)
{
	struct ows_aws_call *c = ows_arena_alloc(&req->arena, sizeof(*c));
	struct ows_aws_call_priv *p = ows_arena_alloc(&req->arena, sizeof(*p));
	bool stream = svc->body_mode == OWS_AWS_BODY_STREAM;
	struct ows_aws_body_limit bl = {svc->body_limit, NULL, NULL};
	struct ows_err err = {{0}};
	int rv;

	if (c == NULL || p == NULL) {
		struct ows_http_header h = {"Content-Type", "text/plain"};

		ows_http_respond(req, 503, &h, 1, "out of memory\n", 14);
		return;
	}
	memset(c, 0, sizeof(*c));
	memset(p, 0, sizeof(*p));
	c->svc = svc;
	c->host = host;
	c->req = req;
	c->arena = &req->arena;
	c->priv = p;
	p->keys = keys;
	ows_uuid4(c->request_id);
	req->data = c;
	rv = ows_aws_auth_head(&p->auth, req, keys, svc->name, stream, &err);
	if (rv == OWS_ESIG_MISSING && svc->anonymous)
		rv = ows__aws_auth_anonymous(&p->auth);
	p->auth.sigv2 = rv == 0 && p->auth.anonymous && sigv2_query(req);
	c->caller = p->auth.caller;
	snprintf(c->region, sizeof(c->region), "%s", p->auth.a.region);
	if (rv != 0) {
		ows__aws_reply_auth_error(c, rv, err.msg[0] ? err.msg : NULL);
		return;
	}
	if (stream) {
		handle(c);
		return;
	}
	if (!body_admitted(c, &bl))
		return;
	if (ows_http_req_read_body(req, bl.limit, body_cb) != 0)
		ows_aws_error(c, 500, "InternalFailure",
			      "cannot read the body");
}

/* ---- streamed bodies ---- */

static int stream_out(void *ud, const char *data, size_t len)
{
	struct ows__aws_feeding *f = ud;

	priv(f->c)->chunk_cb(f->c, 0, data, len, false);
	/* the service may have answered: then c is gone */
	return f->answered ? -ECANCELED : 0;
}

static void stream_cb(struct ows_http_req *req, int status, const char *data,
		      size_t len, bool last)
{
	struct ows_aws_call *c = req->data;
	struct ows_aws_call_priv *p = priv(c);
	struct ows_err err = {{0}};
	int rv = status;

	if (p->answered)
		return;
	if (status != 0) {
		/* the server answers (413, 400) or the peer is gone: the
		   service's own answer is dropped */
		call_end(c);
		p->chunk_cb(c, status, NULL, 0, true);
		return;
	}
	if (len > 0) {
		struct ows__aws_feeding f = {false, NULL, c};

		p->feeding = &f;
		rv = ows__aws_verifier_feed(p->verifier, data, len, stream_out,
					    &f, &err);
		if (f.answered) {
			/* c and req are freed: only the verifier is left */
			ows__aws_verifier_free(f.verifier);
			return;
		}
		p->feeding = NULL;
	}
	if (p->answered)
		return;
	if (rv == 0 && last)
		rv = ows__aws_verifier_finish(p->verifier, &err);
	if (rv != 0) {
		if (ows_err_is_sig(rv)) {
			ows_log(OWS_LOG_INFO, "aws", "%s %s from %s: body "
				"refused: %s", req->method, req->path,
				req->peer, err.msg);
			rv = OWS_EAUTH;
		}
		p->chunk_cb(c, rv, NULL, 0, true);
		return;
	}
	if (last)
		p->chunk_cb(c, 0, NULL, 0, true);
}

int ows_aws_call_stream(struct ows_aws_call *c, uint64_t limit,
			ows_aws_chunk_cb cb)
{
	struct ows_aws_call_priv *p = priv(c);
	const char *dl = ows_aws_header(c, "x-amz-decoded-content-length");
	int rv;

	if (p->verifier != NULL || !p->auth.prepared)
		return -EINVAL;
	rv = ows__aws_verifier_new(&p->auth, dl ? strtoll(dl, NULL, 10) : -1,
				   &p->verifier);
	if (rv != 0)
		return rv;
	p->chunk_cb = cb;
	return ows_http_req_stream_body(c->req, limit, stream_cb);
}
