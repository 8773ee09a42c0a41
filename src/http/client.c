/*
 * HTTP/1.1 client for calls between nodes and for the ows CLI: one
 * connection per request, the response parsed with http-parser (chunked or
 * Content-Length or until close), one timer for the whole exchange. The
 * blocking variant runs the same code on a private loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "http/conn.h"

#define CLIENT_READ_SIZE (64 * 1024)

struct client {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_write_t write;
	http_parser parser;
	struct ows_http_response resp;
	struct ows_http_response *out; /* sync: the response moves here */
	struct ows_buf req;            /* the request bytes */
	struct ows_buf field, value, body;
	bool value_last, head, complete, done, moved;
	size_t n_alloc, max_body;
	int err;                       /* set by a parser callback */
	int pending_closes;
	ows_http_client_cb cb;
	void *ud;
	char rbuf[CLIENT_READ_SIZE];
};

const char *ows_http_response_header(const struct ows_http_response *resp,
				     const char *name)
{
	for (size_t i = 0; i < resp->n_headers; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

void ows_http_response_close(struct ows_http_response *resp)
{
	ows_arena_close(&resp->arena);
	memset(resp, 0, sizeof(*resp));
}

/* ---- parser callbacks ---- */

static int commit_header(struct client *cl)
{
	struct ows_http_response *resp = &cl->resp;
	struct ows_http_header *h;

	if (resp->n_headers == cl->n_alloc) {
		size_t n = cl->n_alloc ? cl->n_alloc * 2 : 16;

		h = ows_arena_alloc(&resp->arena, n * sizeof(*h));
		if (h == NULL)
			return -1;
		if (resp->n_headers > 0)
			memcpy(h, resp->headers, resp->n_headers * sizeof(*h));
		resp->headers = h;
		cl->n_alloc = n;
	}
	h = &resp->headers[resp->n_headers];
	h->name = ows_arena_strndup(&resp->arena, cl->field.data ?
				    cl->field.data : "", cl->field.len);
	h->value = ows_arena_strndup(&resp->arena, cl->value.data ?
				     cl->value.data : "", cl->value.len);
	if (h->name == NULL || h->value == NULL)
		return -1;
	resp->n_headers++;
	ows_buf_reset(&cl->field);
	ows_buf_reset(&cl->value);
	cl->value_last = false;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct client *cl = p->data;

	if (cl->value_last && commit_header(cl) != 0)
		return -1;
	return ows_buf_append(&cl->field, at, len) == 0 ? 0 : -1;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct client *cl = p->data;

	cl->value_last = true;
	return ows_buf_append(&cl->value, at, len) == 0 ? 0 : -1;
}

static int on_headers_complete(http_parser *p)
{
	struct client *cl = p->data;

	if (cl->value_last && commit_header(cl) != 0)
		return -1;
	cl->resp.status = p->status_code;
	/* A response to HEAD has no body whatever its headers say. */
	return cl->head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct client *cl = p->data;

	if (cl->body.len + len > cl->max_body) {
		cl->err = -EMSGSIZE;
		return -1;
	}
	return ows_buf_append(&cl->body, at, len) == 0 ? 0 : -1;
}

static int on_message_complete(http_parser *p)
{
	struct client *cl = p->data;

	if (p->status_code >= 100 && p->status_code < 200) {
		/* An interim response (100 Continue): the real one follows. */
		cl->resp.n_headers = 0;
		cl->resp.headers = NULL;
		cl->n_alloc = 0;
		return 0;
	}
	cl->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings client_settings = {
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- exchange ---- */

static void client_free(struct client *cl)
{
	if (!cl->moved)
		ows_arena_close(&cl->resp.arena);
	ows_buf_free(&cl->req);
	ows_buf_free(&cl->field);
	ows_buf_free(&cl->value);
	ows_buf_free(&cl->body);
	free(cl);
}

static void client_close_cb(uv_handle_t *h)
{
	struct client *cl = h->data;

	if (--cl->pending_closes == 0)
		client_free(cl);
}

static void client_close(struct client *cl)
{
	cl->pending_closes = 2;
	uv_close((uv_handle_t *)&cl->tcp, client_close_cb);
	uv_close((uv_handle_t *)&cl->timer, client_close_cb);
}

static int take_body(struct client *cl)
{
	char *b = ows_arena_alloc(&cl->resp.arena, cl->body.len + 1);

	if (b == NULL)
		return -ENOMEM;
	if (cl->body.len > 0)
		memcpy(b, cl->body.data, cl->body.len);
	b[cl->body.len] = '\0';
	cl->resp.body = b;
	cl->resp.body_len = cl->body.len;
	ows_buf_free(&cl->body);
	return 0;
}

/* Ends the exchange: cb runs exactly once, here. */
static void finish(struct client *cl, int status)
{
	if (cl->done)
		return;
	cl->done = true;
	uv_timer_stop(&cl->timer);
	if (status == 0)
		status = take_body(cl);
	if (status != 0) {
		cl->cb(cl->ud, status, NULL);
	} else if (cl->out != NULL) {
		*cl->out = cl->resp; /* the arena moves to the caller */
		cl->moved = true;
		cl->cb(cl->ud, 0, cl->out);
	} else {
		cl->cb(cl->ud, 0, &cl->resp);
	}
	client_close(cl);
}

static void timer_cb(uv_timer_t *t)
{
	finish(t->data, -ETIMEDOUT);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct client *cl = h->data;

	(void)hint;
	*buf = uv_buf_init(cl->rbuf, sizeof(cl->rbuf));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct client *cl = st->data;
	enum http_errno e;

	if (nread == 0 || cl->done)
		return;
	if (nread < 0 && nread != UV_EOF) {
		finish(cl, (int)nread);
		return;
	}
	/* Zero bytes tell the parser about the close (EOF-framed bodies). */
	http_parser_execute(&cl->parser, &client_settings, buf->base,
			    nread > 0 ? (size_t)nread : 0);
	e = HTTP_PARSER_ERRNO(&cl->parser);
	if (cl->complete)
		finish(cl, 0);
	else if (e != HPE_OK)
		finish(cl, cl->err != 0 ? cl->err : OWS_EPARSE);
	else if (nread == UV_EOF)
		finish(cl, -ECONNRESET);
}

static void write_cb(uv_write_t *w, int status)
{
	struct client *cl = w->data;

	if (status < 0)
		finish(cl, status);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct client *cl = req->data;
	uv_buf_t b = uv_buf_init(cl->req.data, (unsigned)cl->req.len);
	int rv;

	if (cl->done)
		return;
	if (status < 0) {
		finish(cl, status);
		return;
	}
	cl->write.data = cl;
	rv = uv_write(&cl->write, (uv_stream_t *)&cl->tcp, &b, 1, write_cb);
	if (rv == 0)
		rv = uv_read_start((uv_stream_t *)&cl->tcp, alloc_cb, read_cb);
	if (rv != 0)
		finish(cl, rv);
}

static bool has_header(const struct ows_http_header *h, size_t n,
		       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return true;
	return false;
}

static bool bad_text(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") != NULL;
}

static int build_request(struct ows_buf *b, const char *host_port,
			 const char *method, const char *target,
			 const struct ows_http_header *h, size_t n,
			 const void *body, size_t len)
{
	bool bodied = len > 0 || strcmp(method, "POST") == 0 ||
		      strcmp(method, "PUT") == 0 ||
		      strcmp(method, "PATCH") == 0;
	int rv;

	if (bad_text(method) || bad_text(target) || strchr(target, ' '))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (bad_text(h[i].name) || bad_text(h[i].value))
			return -EINVAL;
	rv = ows_buf_printf(b, "%s %s HTTP/1.1\r\n", method, target);
	if (rv == 0 && !has_header(h, n, "Host"))
		rv = ows_buf_printf(b, "Host: %s\r\n", host_port);
	for (size_t i = 0; i < n && rv == 0; i++)
		rv = ows_buf_printf(b, "%s: %s\r\n", h[i].name, h[i].value);
	if (rv == 0 && bodied && !has_header(h, n, "Content-Length") &&
	    !has_header(h, n, "Transfer-Encoding"))
		rv = ows_buf_printf(b, "Content-Length: %zu\r\n", len);
	if (rv == 0)
		rv = ows_buf_puts(b, "\r\n");
	if (rv == 0 && len > 0)
		rv = ows_buf_append(b, body, len);
	return rv;
}

static int start(uv_loop_t *loop, const char *host_port, const char *method,
		 const char *target, const struct ows_http_header *headers,
		 size_t n_headers, const void *body, size_t len,
		 const struct ows_http_client_opts *opts, ows_http_client_cb cb,
		 void *ud, struct ows_http_response *out)
{
	struct sockaddr_storage ss;
	struct client *cl;
	int rv;

	rv = ows_http_parse_addr(host_port, &ss);
	if (rv != 0)
		return rv;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return -ENOMEM;
	cl->cb = cb;
	cl->ud = ud;
	cl->out = out;
	cl->head = strcmp(method, "HEAD") == 0;
	cl->max_body = opts && opts->max_body ? opts->max_body : 64u << 20;
	ows_arena_init(&cl->resp.arena);
	http_parser_init(&cl->parser, HTTP_RESPONSE);
	cl->parser.data = cl;
	rv = build_request(&cl->req, host_port, method, target, headers,
			   n_headers, body, len);
	if (rv != 0)
		goto err_after_alloc;
	rv = uv_tcp_init(loop, &cl->tcp);
	if (rv != 0)
		goto err_after_alloc;
	uv_timer_init(loop, &cl->timer);
	cl->tcp.data = cl->timer.data = cl->connect.data = cl;
	rv = uv_tcp_connect(&cl->connect, &cl->tcp,
			    (const struct sockaddr *)&ss, connect_cb);
	if (rv != 0)
		goto err_after_handles;
	uv_timer_start(&cl->timer, timer_cb,
		       opts && opts->timeout_ms ? opts->timeout_ms : 30000, 0);
	return 0;

err_after_handles:
	cl->done = true; /* the close callbacks free cl, cb never runs */
	client_close(cl);
	return rv;
err_after_alloc:
	client_free(cl);
	return rv;
}

int ows_http_client_request(uv_loop_t *loop, const char *host_port,
			    const char *method, const char *target,
			    const struct ows_http_header *headers,
			    size_t n_headers, const void *body, size_t len,
			    const struct ows_http_client_opts *opts,
			    ows_http_client_cb cb, void *ud)
{
	if (cb == NULL)
		return -EINVAL;
	return start(loop, host_port, method, target, headers, n_headers,
		     body, len, opts, cb, ud, NULL);
}

static void sync_cb(void *ud, int status, const struct ows_http_response *r)
{
	(void)r;
	*(int *)ud = status;
}

int ows_http_client_sync(const char *host_port, const char *method,
			 const char *target,
			 const struct ows_http_header *headers,
			 size_t n_headers, const void *body, size_t len,
			 const struct ows_http_client_opts *opts,
			 struct ows_http_response *out)
{
	uv_loop_t loop;
	int status = -EINPROGRESS;
	int rv;

	memset(out, 0, sizeof(*out));
	rv = uv_loop_init(&loop);
	if (rv != 0)
		return rv;
	rv = start(&loop, host_port, method, target, headers, n_headers, body,
		   len, opts, sync_cb, &status, out);
	/* Also after a failed start: the close callbacks must run. */
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0 && rv == 0 && status == 0) {
		ows_http_response_close(out);
		status = -EBUSY;
	}
	return rv != 0 ? rv : status;
}
