/*
 * HTTP/1.1 server: accepting connections, reading, parsing requests with
 * http-parser, handing bodies to handlers, timeouts and graceful close.
 * Responses are written by respond.c; conn.h explains how one connection
 * serves one request at a time.
 *
 * All the work on a connection happens in process(), which runs the parser
 * over the buffered input until it has to wait (for the handler, the socket
 * or the peer). Calls from handlers only change state and "poke" the
 * connection, which runs process() from the loop shortly after, so that no
 * callback ever runs inside the call that caused it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "http/conn.h"

#define READ_SIZE (64 * 1024)
#define IN_HIGH (256 * 1024)   /* stop reading with this much unparsed */
#define WRITE_HIGH (1024 * 1024) /* no next request while this is queued */
#define LINGER_MS 2000

static void process(struct ows_http_conn *c);

void ows_http_server_config_default(struct ows_http_server_config *cfg)
{
	cfg->max_header_bytes = 16 * 1024;
	cfg->idle_timeout_ms = 60 * 1000;
	cfg->header_timeout_ms = 10 * 1000;
	cfg->body_timeout_ms = 30 * 1000;
	cfg->min_body_rate = 16 * 1024;
	cfg->max_connections = 4096;
	cfg->max_per_address = 256;
	cfg->max_unsent = (size_t)128 << 20;
}

/*
 * ---- parser callbacks ----
 *
 * http_parser's contract: 0 to go on, non-zero (-1 here, not an error
 * code) to stop parsing; the reason is kept aside.
 */

static int on_message_begin(http_parser *p)
{
	struct ows_http_conn *c = p->data;
	struct request *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		c->cb_error = 500;
		return -1;
	}
	ows_arena_init(&r->req.arena);
	r->c = c;
	r->req.conn = c;
	r->req.content_length = -1;
	memcpy(r->req.peer, c->peer, sizeof(r->req.peer));
	c->building = r;
	c->in_message = true;
	c->value_last = false;
	ows_buf_reset(&c->url);
	ows_buf_reset(&c->field);
	ows_buf_reset(&c->value);
	/* The header timeout counts from the first byte of this request. */
	c->timer_kind = TIMER_STALE;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct ows_http_conn *c = p->data;

	return ows_buf_append(&c->url, at, len) == 0 ? 0 : -1;
}

/* The header just read into the request: 0 or -ENOMEM. */
static int commit_header(struct ows_http_conn *c)
{
	struct request *r = c->building;
	struct ows_http_req *req = &r->req;
	struct ows_http_header *h;

	if (req->n_headers == r->n_alloc) {
		size_t n = r->n_alloc ? r->n_alloc * 2 : 16;

		h = ows_arena_alloc(&req->arena, n * sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
		if (req->n_headers > 0)
			memcpy(h, req->headers, req->n_headers * sizeof(*h));
		req->headers = h;
		r->n_alloc = n;
	}
	h = &req->headers[req->n_headers];
	h->name = ows_arena_strndup(&req->arena, c->field.data ? c->field.data
				    : "", c->field.len);
	h->value = ows_arena_strndup(&req->arena, c->value.data ? c->value.data
				     : "", c->value.len);
	if (h->name == NULL || h->value == NULL)
		return -ENOMEM;
	req->n_headers++;
	ows_buf_reset(&c->field);
	ows_buf_reset(&c->value);
	c->value_last = false;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct ows_http_conn *c = p->data;

	if (c->head_done)
		return 0; /* chunked trailers: not passed on */
	if (c->value_last && commit_header(c) != 0)
		return -1;
	return ows_buf_append(&c->field, at, len) == 0 ? 0 : -1;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct ows_http_conn *c = p->data;

	if (c->head_done)
		return 0;
	c->value_last = true;
	return ows_buf_append(&c->value, at, len) == 0 ? 0 : -1;
}

/* The target, path and query of the request: 0 or -ENOMEM. */
static int fill_target(struct request *r, const struct ows_buf *url)
{
	struct ows_http_req *req = &r->req;
	const char *t = url->data ? url->data : "";
	const char *q = memchr(t, '?', url->len);

	req->target = ows_arena_strndup(&req->arena, t, url->len);
	if (q != NULL) {
		req->path = ows_arena_strndup(&req->arena, t, (size_t)(q - t));
		req->query = ows_arena_strndup(&req->arena, q + 1,
					       url->len - (size_t)(q - t) - 1);
	} else {
		req->path = req->target;
		req->query = "";
	}
	return req->target && req->path && req->query ? 0 : -ENOMEM;
}

static int on_headers_complete(http_parser *p)
{
	struct ows_http_conn *c = p->data;
	struct request *r = c->building;
	struct ows_http_req *req = &r->req;
	const char *expect;

	if ((c->value_last && commit_header(c) != 0) ||
	    fill_target(r, &c->url) != 0) {
		c->cb_error = 500;
		return -1;
	}
	/* http-parser takes any digit as a version; we speak 1.0 and 1.1. */
	if (p->http_major != 1 || p->http_minor > 1) {
		c->cb_error = 505;
		return -1;
	}
	req->method = http_method_str((enum http_method)p->method);
	req->chunked = (p->flags & F_CHUNKED) != 0;
	if (!req->chunked && (p->flags & F_CONTENTLENGTH) &&
	    p->content_length <= INT64_MAX)
		req->content_length = (int64_t)p->content_length;
	req->keep_alive = http_should_keep_alive(p) != 0;
	r->http_minor = p->http_major > 1 ? 1 : p->http_minor;
	r->head_only = p->method == HTTP_HEAD;
	expect = ows_http_req_header(req, "Expect");
	c->expect_continue = expect != NULL && r->http_minor >= 1 &&
			     strcasecmp(expect, "100-continue") == 0;
	c->head_done = true;
	c->dispatch_pending = true;
	http_parser_pause(p, 1);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct ows_http_conn *c = p->data;
	struct request *r = c->cur;

	c->received += len;
	if (c->mode == BODY_DISCARD || r == NULL) {
		c->discarded += len;
		if (c->discarded > DISCARD_MAX) {
			c->close_after = true;
			http_parser_pause(p, 1);
		}
		return 0;
	}
	if (c->received > c->body_limit) {
		c->fail_pending = -EMSGSIZE;
		http_parser_pause(p, 1);
		return 0;
	}
	if (c->mode == BODY_READ) {
		if (ows_buf_append(&r->body, at, len) != 0) {
			c->fail_pending = -ENOMEM;
			http_parser_pause(p, 1);
		}
		return 0;
	}
	r->chunk_cb(&r->req, 0, at, len, false);
	if (c->paused || c->cur != r)
		http_parser_pause(p, 1);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct ows_http_conn *c = p->data;
	struct request *r = c->cur;

	c->msg_done = true;
	http_parser_pause(p, 1);
	if (r == NULL || r->failed)
		return 0;
	if (c->mode == BODY_READ)
		r->body_cb(&r->req, 0, r->body.data ? r->body.data : "",
			   r->body.len);
	else if (c->mode == BODY_STREAM)
		r->chunk_cb(&r->req, 0, NULL, 0, true);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- the processing loop ---- */

static void reset_message(struct ows_http_conn *c)
{
	c->in_message = false;
	c->head_done = false;
	c->msg_done = false;
	c->head_bytes = 0;
	c->mode = BODY_WAIT;
	c->received = 0;
	c->discarded = 0;
	c->paused = false;
	c->expect_continue = false;
	c->continue_sent = false;
	c->body_clock = false;
	c->timer_kind = TIMER_STALE;
}

static int status_for(int err)
{
	if (err == -EMSGSIZE)
		return 413;
	if (err == OWS_EPARSE)
		return 400;
	return 500;
}

/*
 * The body of the current request cannot be delivered: answer for the
 * handler when it has not started a response, tell it, and end the request
 * (unless its response is under way: then ows_http_respond_end ends it).
 */
static void fail_body(struct ows_http_conn *c, int err)
{
	struct request *r = c->cur;
	int status = status_for(err);

	c->mode = BODY_DISCARD;
	c->close_after = true;
	if (err != -ECANCELED && err != -ETIMEDOUT && r->resp == RESP_NONE)
		ows__http_conn_send_error(c, status,
			status == 413 ? "EntityTooLarge" :
			status == 400 ? "BadRequest" : "InternalError",
			status == 413 ? "request body too large" :
			status == 400 ? "malformed request body" :
			"cannot read the request body");
	r->failed = true;
	if (r->body_cb != NULL)
		r->body_cb(&r->req, err, NULL, 0);
	else if (r->chunk_cb != NULL)
		r->chunk_cb(&r->req, err, NULL, 0, true);
	if (r->resp == RESP_NONE && c->cur == r) {
		c->cur = NULL;
		ows__http_request_free(r);
	}
}

static void drop_building(struct ows_http_conn *c)
{
	if (c->building != NULL) {
		ows__http_request_free(c->building);
		c->building = NULL;
	}
	c->dispatch_pending = false;
}

static void parse_error(struct ows_http_conn *c, enum http_errno err)
{
	bool reading = c->mode == BODY_READ || c->mode == BODY_STREAM;

	if (c->head_done && !c->dispatch_pending) {
		if (c->cur != NULL && reading && !c->cur->failed)
			fail_body(c, OWS_EPARSE);
		c->close_after = true;
		return;
	}
	drop_building(c);
	if (err == HPE_HEADER_OVERFLOW)
		c->cb_error = 431;
	if (c->cb_error == 431)
		ows__http_conn_send_error(c, 431, "RequestHeaderFieldsTooLarge",
					  "request headers too large");
	else if (c->cb_error == 500)
		ows__http_conn_send_error(c, 500, "InternalError",
					  "out of memory");
	else if (c->cb_error == 505)
		ows__http_conn_send_error(c, 505, "HTTPVersionNotSupported",
					  "only HTTP/1.0 and HTTP/1.1 are served");
	else
		ows__http_conn_send_error(c, 400, "BadRequest",
					  http_errno_description(err));
	c->close_after = true;
}

static void feed(struct ows_http_conn *c)
{
	size_t avail = c->in_len - c->in_off, room, n;
	bool in_head = !c->head_done;
	enum http_errno err;

	if (in_head) {
		/* Never parse (and store) more head than the limit allows. */
		room = c->srv->cfg.max_header_bytes - c->head_bytes + 1;
		if (avail > room)
			avail = room;
	}
	n = http_parser_execute(&c->parser, &settings, c->in + c->in_off,
				avail);
	c->in_off += n;
	err = HTTP_PARSER_ERRNO(&c->parser);
	if (err == HPE_PAUSED) {
		/* Pausing only returns control here; wants_input decides. */
		http_parser_pause(&c->parser, 0);
		err = HPE_OK;
	}
	if (err != HPE_OK) {
		parse_error(c, err);
		return;
	}
	if (in_head) {
		c->head_bytes += n;
		if (c->head_bytes > c->srv->cfg.max_header_bytes) {
			c->cb_error = 431;
			c->head_done = false;
			parse_error(c, HPE_HEADER_OVERFLOW);
		}
	}
}

static void dispatch(struct ows_http_conn *c)
{
	struct ows_http_server *s = c->srv;

	c->dispatch_pending = false;
	c->cur = c->building;
	c->building = NULL;
	c->mode = BODY_WAIT;
	c->received = 0;
	s->handler(&c->cur->req, s->ud);
}

static size_t write_queue(const struct ows_http_conn *c)
{
	if (c->fake)
		return 0;
	return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

/* Whether parsing may go on now (with bytes, when there are some). */
static bool wants_input(const struct ows_http_conn *c)
{
	if (c->close_after || c->closing || c->msg_done || c->dispatch_pending)
		return false;
	if (!c->in_message)
		return c->cur == NULL && write_queue(c) < WRITE_HIGH;
	if (!c->head_done)
		return true;
	switch (c->mode) {
	case BODY_WAIT:
		return false;
	case BODY_STREAM:
		return !c->paused;
	default:
		return true;
	}
}

/* No more bytes will come, and the parser wants some. */
static void input_ended(struct ows_http_conn *c)
{
	if (c->cur != NULL && c->head_done && !c->cur->failed &&
	    (c->mode == BODY_READ || c->mode == BODY_STREAM))
		fail_body(c, -ECANCELED);
	drop_building(c);
	c->close_after = true;
}

/* One unit of work; false when the connection has to wait. */
static bool step(struct ows_http_conn *c)
{
	int err;

	if (c->closing)
		return false;
	if (c->fail_pending != 0) {
		err = c->fail_pending;
		c->fail_pending = 0;
		if (c->cur != NULL && !c->cur->failed)
			fail_body(c, err);
		return true;
	}
	if (c->dispatch_pending) {
		dispatch(c);
		return true;
	}
	if (c->msg_done && c->cur == NULL && !c->close_after) {
		reset_message(c);
		return true;
	}
	if (!wants_input(c))
		return false;
	if (c->in_off < c->in_len) {
		feed(c);
		return true;
	}
	if (c->eof) {
		input_ended(c);
		return true;
	}
	return false;
}

static uint64_t timeout_of(const struct ows_http_conn *c, enum timer_kind k)
{
	const struct ows_http_server_config *cfg = &c->srv->cfg;

	switch (k) {
	case TIMER_IDLE:
		return cfg->idle_timeout_ms;
	case TIMER_HEAD:
		return cfg->header_timeout_ms;
	case TIMER_WRITE:
		return cfg->idle_timeout_ms;
	default:
		return LINGER_MS < cfg->idle_timeout_ms ? LINGER_MS
							 : cfg->idle_timeout_ms;
	}
}

static enum timer_kind wanted_timer(const struct ows_http_conn *c)
{
	/* a response the peer does not take (it stopped reading) holds the
	   connection, its buffers and what feeds it: no progress for the
	   idle timeout closes it */
	enum timer_kind none = c->n_writes > 0 ? TIMER_WRITE : TIMER_NONE;

	if (c->lingering)
		return TIMER_LINGER;
	if (c->close_after)
		return none;
	if (!c->in_message)
		return c->cur == NULL && c->n_writes == 0 ? TIMER_IDLE : none;
	if (!c->head_done)
		return TIMER_HEAD;
	if (wants_input(c))
		return TIMER_BODY;
	return none;
}

static void timer_cb(uv_timer_t *t);

void ows__http_conn_wrote(struct ows_http_conn *c)
{
	if (!c->closing && c->timer_kind == TIMER_WRITE)
		uv_timer_start(&c->timer, timer_cb,
			       timeout_of(c, TIMER_WRITE), 0);
}

/*
 * When the body must have arrived: body_timeout_ms after the handler asked
 * for it, plus the time min_body_rate allows for the bytes received so far.
 */
static uint64_t body_deadline(const struct ows_http_conn *c)
{
	const struct ows_http_server_config *cfg = &c->srv->cfg;
	uint64_t credit = 0;

	if (cfg->min_body_rate > 0)
		credit = c->received / cfg->min_body_rate * 1000 +
			 c->received % cfg->min_body_rate * 1000 /
				 cfg->min_body_rate;
	return c->body_t0 + cfg->body_timeout_ms + credit;
}

static void timer_cb(uv_timer_t *t)
{
	struct ows_http_conn *c = t->data;
	uint64_t now = uv_now(c->srv->loop), deadline;

	if (c->timer_kind == TIMER_BODY) {
		/* Bytes that came since the timer started moved the deadline. */
		deadline = body_deadline(c);
		if (now < deadline) {
			uv_timer_start(t, timer_cb, deadline - now, 0);
			return;
		}
	}
	c->timer_kind = TIMER_NONE;
	ows__http_conn_close(c, -ETIMEDOUT);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ows_http_conn *c = h->data;
	char *p;

	(void)hint;
	if (c->in_off == c->in_len) {
		c->in_off = 0;
		c->in_len = 0;
	} else if (c->in_off > 0 && c->in_cap - c->in_len < READ_SIZE) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_cap - c->in_len < READ_SIZE) {
		p = realloc(c->in, c->in_len + READ_SIZE);
		if (p == NULL) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->in = p;
		c->in_cap = c->in_len + READ_SIZE;
	}
	*buf = uv_buf_init(c->in + c->in_len, READ_SIZE);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct ows_http_conn *c = st->data;

	(void)buf;
	if (nread > 0) {
		c->in_len += (size_t)nread;
		if (c->lingering) {
			c->in_len = c->in_off = 0;
			return;
		}
		process(c);
	} else if (nread == UV_EOF) {
		c->eof = true;
		if (c->lingering)
			ows__http_conn_close(c, -ECANCELED);
		else
			process(c);
	} else if (nread < 0) {
		ows__http_conn_close(c, -ECANCELED);
	}
}

void ows__http_conn_update(struct ows_http_conn *c)
{
	enum timer_kind k;
	bool want;

	if (c->closing || c->fake)
		return;
	want = c->lingering ||
	       (!c->eof && !c->close_after &&
		c->in_len - c->in_off < IN_HIGH &&
		!(c->paused && c->mode == BODY_STREAM));
	if (want && !c->reading)
		c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb,
					   read_cb) == 0;
	else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
	k = wanted_timer(c);
	if (k == TIMER_BODY && !c->body_clock) {
		/* The deadline counts from the first wait for this body and
		 * never restarts on a byte (see body_deadline). */
		c->body_clock = true;
		c->body_t0 = uv_now(c->srv->loop);
	}
	if (k == c->timer_kind)
		return;
	c->timer_kind = k;
	if (k == TIMER_NONE) {
		uv_timer_stop(&c->timer);
	} else if (k == TIMER_BODY) {
		uint64_t now = uv_now(c->srv->loop), deadline;

		deadline = body_deadline(c);
		uv_timer_start(&c->timer, timer_cb,
			       deadline > now ? deadline - now : 1, 0);
	} else {
		uv_timer_start(&c->timer, timer_cb, timeout_of(c, k), 0);
	}
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	struct ows_http_conn *c = req->data;

	if (status < 0)
		ows__http_conn_close(c, -ECANCELED);
}

/*
 * Closing right away could reset the connection while the peer still sends
 * (a body we did not read), and a reset can destroy our response before the
 * peer reads it. So: send FIN, drain for a while, then close (a lingering
 * close, as Apache and Go do).
 */
static void start_linger(struct ows_http_conn *c)
{
	c->lingering = true;
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp,
			shutdown_cb) != 0)
		ows__http_conn_close(c, -ECANCELED);
}

static void maybe_finish(struct ows_http_conn *c)
{
	if (c->closing || c->lingering || !c->close_after || c->cur != NULL ||
	    c->n_writes > 0)
		return;
	if (c->eof || c->fake)
		ows__http_conn_close(c, -ECANCELED);
	else
		start_linger(c);
}

static void process(struct ows_http_conn *c)
{
	if (c->in_process)
		return;
	c->in_process = true;
	while (step(c))
		;
	c->in_process = false;
	maybe_finish(c);
	ows__http_conn_update(c);
}

static void kick_cb(uv_idle_t *idle)
{
	struct ows_http_conn *c = idle->data;

	uv_idle_stop(idle);
	process(c);
}

void ows__http_conn_poke(struct ows_http_conn *c)
{
	if (c->closing || c->in_process || c->fake)
		return;
	uv_idle_start(&c->kick, kick_cb);
}

/* ---- connection lifetime ---- */

static void server_maybe_done(struct ows_http_server *s)
{
	if (!s->closing || !s->listener_closed || s->n_conns > 0)
		return;
	if (s->close_cb != NULL) {
		void (*cb)(struct ows_http_server *) = s->close_cb;

		s->close_cb = NULL;
		cb(s);
	}
}

/* ---- connections per client address ---- */

#define ADDR_BUCKETS 1024

struct addr_slot {
	struct addr_slot *next;
	unsigned n;
	char ip[48];
};

struct addr_table {
	struct addr_slot *b[ADDR_BUCKETS];
	unsigned n_slots;
};

static struct addr_slot **addr_find(struct addr_table *t, const char *ip)
{
	uint32_t h = 2166136261u;
	struct addr_slot **p;

	for (const char *q = ip; *q; q++)
		h = (h ^ (uint8_t)*q) * 16777619u;
	for (p = &t->b[h % ADDR_BUCKETS]; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->ip, ip) == 0)
			break;
	return p;
}

/* Count one more connection from ip: 0, -EBUSY past the limit, -ENOMEM. */
static int addr_take(struct ows_http_server *s, const char *ip)
{
	struct addr_table *t = s->by_addr;
	struct addr_slot **p, *slot;

	if (t == NULL) {
		t = s->by_addr = calloc(1, sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
	}
	p = addr_find(t, ip);
	if (*p == NULL) {
		slot = calloc(1, sizeof(*slot));
		if (slot == NULL)
			return -ENOMEM;
		snprintf(slot->ip, sizeof(slot->ip), "%s", ip);
		*p = slot;
		t->n_slots++;
	}
	if ((*p)->n >= s->cfg.max_per_address)
		return -EBUSY;
	(*p)->n++;
	return 0;
}

static void addr_release(struct ows_http_server *s, const char *ip)
{
	struct addr_table *t = s->by_addr;
	struct addr_slot **p, *slot;

	if (t == NULL)
		return;
	p = addr_find(t, ip);
	if (*p == NULL)
		return;
	if ((*p)->n > 0)
		(*p)->n--;
	if ((*p)->n > 0)
		return;
	slot = *p;
	*p = slot->next;
	free(slot);
	if (--t->n_slots == 0) {
		free(t);
		s->by_addr = NULL;
	}
}

static void conn_free(struct ows_http_conn *c)
{
	struct ows_http_server *s = c->srv;

	ows__http_conn_unsent_forget(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (s->conns == c)
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->n_conns--;
	if (c->ip[0] != '\0')
		addr_release(s, c->ip);
	drop_building(c);
	free(c->in);
	ows_buf_free(&c->url);
	ows_buf_free(&c->field);
	ows_buf_free(&c->value);
	free(c);
	server_maybe_done(s);
}

/* Frees c once its handles are closed and its request has ended. */
void ows__http_conn_maybe_free(struct ows_http_conn *c)
{
	if (c->closing && c->pending_closes == 0 && c->cur == NULL)
		conn_free(c);
}

static void handles_closed(struct ows_http_conn *c)
{
	struct request *r = c->cur;

	if (r != NULL && c->head_done && !c->msg_done && !r->failed &&
	    (c->mode == BODY_READ || c->mode == BODY_STREAM))
		fail_body(c, c->close_reason);
	ows__http_conn_maybe_free(c);
}

static void close_cb(uv_handle_t *h)
{
	struct ows_http_conn *c = h->data;

	if (--c->pending_closes == 0)
		handles_closed(c);
}

void ows__http_conn_close(struct ows_http_conn *c, int reason)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_reason = reason;
	if (c->fake)
		return;
	c->pending_closes = 3;
	uv_close((uv_handle_t *)&c->tcp, close_cb);
	uv_close((uv_handle_t *)&c->timer, close_cb);
	uv_close((uv_handle_t *)&c->kick, close_cb);
}

static struct ows_http_conn *conn_new(struct ows_http_server *s)
{
	struct ows_http_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->srv = s;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	ows_buf_init(&c->url);
	ows_buf_init(&c->field);
	ows_buf_init(&c->value);
	reset_message(c);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	return c;
}

/* The address alone, without the port: what max_per_address counts. */
static void format_ip(const struct sockaddr_storage *ss, char *out,
		      size_t size)
{
	if (ss->ss_family == AF_INET)
		uv_ip4_name((const struct sockaddr_in *)ss, out, size);
	else if (ss->ss_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)ss, out, size);
	else
		snprintf(out, size, "?");
}

static void format_addr(const struct sockaddr_storage *ss, char *out,
			size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		uv_ip4_name(a, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		snprintf(out, size, "%s:%d", ip, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		uv_ip6_name(a, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(out, size, "[%s]:%d", ip, port);
	} else {
		snprintf(out, size, "?");
	}
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct ows_http_server *s = listener->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct ows_http_conn *c;

	if (status < 0)
		return;
	c = conn_new(s);
	if (c == NULL)
		return;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	uv_idle_init(s->loop, &c->kick);
	c->tcp.data = c->timer.data = c->kick.data = c;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 || s->closing ||
	    s->n_conns > s->cfg.max_connections) {
		if (!s->closing)
			s->refused_total++;
		ows__http_conn_close(c, -ECANCELED);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		format_addr(&ss, c->peer, sizeof(c->peer));
		format_ip(&ss, c->ip, sizeof(c->ip));
		if (s->peer_as[0] != '\0')
			snprintf(c->peer, sizeof(c->peer), "%s", s->peer_as);
		/* One address must not hold every slot (nor every fd). */
		if (s->cfg.max_per_address > 0 && addr_take(s, c->ip) != 0) {
			c->ip[0] = '\0';
			s->refused_per_address++;
			ows__http_conn_close(c, -ECANCELED);
			return;
		}
	}
	process(c);
}

/* ---- server ---- */

int ows_http_server_init(struct ows_http_server *s, uv_loop_t *loop,
			 const struct ows_http_server_config *cfg,
			 ows_http_handler_cb handler, void *ud)
{
	int rv;

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	if (cfg != NULL)
		s->cfg = *cfg;
	else
		ows_http_server_config_default(&s->cfg);
	s->handler = handler;
	s->ud = ud;
	rv = uv_tcp_init(loop, &s->listener);
	if (rv != 0)
		return rv;
	s->listener.data = s;
	return 0;
}

int ows__http_parse_addr(const char *hp, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon, *h = hp;
	size_t hlen;
	char *end;
	long port;

	colon = strrchr(hp, ':');
	if (colon == NULL)
		return -EINVAL;
	hlen = (size_t)(colon - hp);
	if (hlen >= 2 && hp[0] == '[' && hp[hlen - 1] == ']') {
		h = hp + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0 ||
	    uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -EINVAL;
}

int ows_http_server_listen(struct ows_http_server *s, const char *host_port)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rv;

	rv = ows__http_parse_addr(host_port, &ss);
	if (rv != 0)
		return rv;
	rv = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&s->listener, 511,
			       on_connection);
	if (rv != 0)
		return rv;
	rv = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
	if (rv != 0)
		return rv;
	format_addr(&ss, s->bound, sizeof(s->bound));
	return 0;
}

static void listener_closed(uv_handle_t *h)
{
	struct ows_http_server *s = h->data;

	s->listener_closed = true;
	server_maybe_done(s);
}

void ows_http_server_close(struct ows_http_server *s,
			   void (*cb)(struct ows_http_server *s))
{
	struct ows_http_conn *c, *next;

	if (s->closing)
		return;
	s->closing = true;
	s->close_cb = cb;
	uv_close((uv_handle_t *)&s->listener, listener_closed);
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->cur != NULL)
			continue; /* its response will say Connection: close */
		if (c->n_writes == 0)
			ows__http_conn_close(c, -ECANCELED);
		else {
			c->close_after = true;
			ows__http_conn_poke(c);
		}
	}
}

/* ---- fuzzing ---- */

static void fuzz_body_cb(struct ows_http_req *req, int status,
			 const char *body, size_t len)
{
	if (status == 0)
		ows_http_respond(req, 200, NULL, 0, body, len);
}

static void fuzz_chunk_cb(struct ows_http_req *req, int status,
			  const char *data, size_t len, bool last)
{
	(void)data;
	(void)len;
	if (status == 0 && last)
		ows_http_respond(req, 204, NULL, 0, NULL, 0);
}

/* Exercises each way a handler can treat a request, chosen by the path. */
static void fuzz_handler(struct ows_http_req *req, void *ud)
{
	static const struct ows_http_header h = {"X-Fuzz", "1"};

	(void)ud;
	switch (req->path[0] != '\0' ? req->path[1] : '\0') {
	case 'r':
		if (ows_http_req_read_body(req, 4096, fuzz_body_cb) != 0)
			ows_http_respond(req, 500, NULL, 0, NULL, 0);
		break;
	case 's':
		if (ows_http_req_stream_body(req, 8192, fuzz_chunk_cb) != 0)
			ows_http_respond(req, 500, NULL, 0, NULL, 0);
		break;
	case 'c':
		ows_http_respond_start(req, 200, &h, 1, -1);
		ows_http_respond_write(req, "abc", 3, NULL, NULL);
		ows_http_respond_end(req);
		break;
	default:
		ows_http_respond(req, 404, &h, 1, "nope", 4);
		break;
	}
}

size_t ows_http_fuzz_feed(const uint8_t *data, size_t size, size_t piece)
{
	struct ows_http_server s;
	struct ows_http_conn *c;
	size_t off = 0, n, out;
	char *p;

	memset(&s, 0, sizeof(s));
	ows_http_server_config_default(&s.cfg);
	s.cfg.max_header_bytes = 2048;
	s.handler = fuzz_handler;
	c = conn_new(&s);
	if (c == NULL)
		return 0;
	c->fake = true;
	snprintf(c->peer, sizeof(c->peer), "fuzz");
	while (off < size && !c->closing) {
		n = piece == 0 || size - off < piece ? size - off : piece;
		p = realloc(c->in, c->in_len + n);
		if (p == NULL)
			break;
		c->in = p;
		memcpy(c->in + c->in_len, data + off, n);
		c->in_len += n;
		off += n;
		process(c);
	}
	c->eof = true;
	process(c);
	out = c->fake_out;
	ows__http_conn_close(c, -ECANCELED);
	if (c->cur != NULL && c->head_done && !c->msg_done && !c->cur->failed &&
	    (c->mode == BODY_READ || c->mode == BODY_STREAM))
		fail_body(c, -ECANCELED);
	/* The built-in handler always answers: a request left is a bug. */
	if (c->cur != NULL)
		abort();
	conn_free(c);
	return out;
}

bool ows_http_req_peer_gone(const struct ows_http_req *req)
{
	const struct ows_http_conn *c = req->conn;

	return c == NULL || c->eof || c->closing;
}

int ows_http_server_open(struct ows_http_server *s, int fd)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rv = uv_tcp_open(&s->listener, fd);

	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
	if (rv == 0)
		rv = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss,
					&len);
	if (rv != 0)
		return rv;
	format_addr(&ss, s->bound, sizeof(s->bound));
	return 0;
}
