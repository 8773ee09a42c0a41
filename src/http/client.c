/*
 * HTTP/1.1 client for calls between nodes, for the gateway's calls to
 * function instances and for the ows CLI. The response is parsed with
 * http-parser (chunked or Content-Length or until close), with one timeout for
 * the whole exchange (on the connection's timer, which otherwise times its
 * idleness in the pool). Connections are kept alive: once a response has been
 * read completely and allowed it (RFC 9112 section 9.3: HTTP/1.1 without
 * "Connection: close", or HTTP/1.0 with "Connection: keep-alive"), the
 * connection goes back to the loop's pool (client_pool.c) and the next
 * request to the same "host:port" takes it. The blocking variant runs the
 * same code on a private loop without reuse.
 *
 * Retry rule: a request sent on a reused connection that fails with EOF,
 * ECONNRESET or EPIPE before any byte of the response arrived is sent once
 * more, on a fresh connection, whatever its method. That is the race of the
 * peer closing an idle connection just as the request went out (its idle
 * timeout), where the peer has not seen the request. A peer that reads a
 * request and then drops the connection without answering would see it
 * twice; servers do not do that short of crashing, and a crashed instance
 * refuses the fresh connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/err.h"
#include "http/client_pool.h"
#include "http/conn.h"

#define CLIENT_READ_SIZE (64 * 1024)
#define FILE_PIECE (256 * 1024)        /* a streamed request body's piece */
#define SINK_PIECE (1024 * 1024)       /* a streamed response body's piece */

struct client {
	uv_loop_t *loop;
	uint64_t deadline;             /* uv_now() by which it must be over */
	struct ows_http_cconn *conn;   /* NULL once finished */
	struct sockaddr_storage addr;
	char key[96];                  /* "host:port" */
	http_parser parser;
	struct ows_http_response resp;
	struct ows_http_response *out; /* sync: the response moves here */
	struct ows_buf req;            /* the request bytes */
	struct ows_buf field, value, body;
	bool value_last, head, complete, done, moved;
	bool reuse;                    /* may the connection be kept */
	bool keep_alive;               /* the response allows it */
	bool extra;                    /* bytes past the response: out of step */
	bool reused, retried, got_bytes;
	size_t n_alloc, max_body;
	int err;                       /* set by a parser callback */
	ows_http_client_cb cb;
	void *ud;
	/* streamed exchanges (ows_http_client_stream) */
	uint64_t idle_ms;              /* > 0: the timeout counts idleness */
	int file;                      /* the request body's file, or -1 */
	uint64_t file_len, file_off;
	char *fbuf;                    /* FILE_PIECE: the piece being sent */
	uv_fs_t fs;
	bool fs_busy;                  /* a read of file is out */
	bool free_pending;             /* over: freed when the read is back */
	ows_http_client_sink_cb sink;
	void *sink_ud;
	bool sinking;                  /* this response's body goes to sink */
	bool sink_busy;                /* a piece is out with the sink */
	bool sink_last;                /* that piece ends the response */
	uint64_t sunk;                 /* bytes the sink took */
	uint64_t rate_bps;             /* 0, or the body's pace at most */
	uint64_t t0;                   /* uv_now() at the start */
	bool throttled;                /* the timer resumes the body */
};

/*
 * One read buffer per thread: read_cb parses what it gets at once (the
 * parser copies out what it keeps), so exchanges need no buffer of their
 * own, and none has to be allocated and cleared per request.
 */
static _Thread_local char rbuf[CLIENT_READ_SIZE];

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
/*
 * ---- parser callbacks ----
 *
 * http_parser's contract: 0 to go on, non-zero (-1 here, not an error
 * code) to stop parsing; the reason is kept aside.
 */

/* The header just read into the request: 0 or -ENOMEM. */
static int commit_header(struct client *cl)
{
	struct ows_http_response *resp = &cl->resp;
	struct ows_http_header *h;

	if (resp->n_headers == cl->n_alloc) {
		size_t n = cl->n_alloc ? cl->n_alloc * 2 : 16;

		h = ows_arena_alloc(&resp->arena, n * sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
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
		return -ENOMEM;
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
	cl->sinking = cl->sink != NULL && p->status_code / 100 == 2;
	/* A response to HEAD has no body whatever its headers say. */
	return cl->head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct client *cl = p->data;

	/* A sink takes a piece once per read: at most SINK_PIECE + a read. */
	if (!cl->sinking && cl->body.len + len > cl->max_body) {
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
	/* Also false for a body that the close ends. */
	cl->keep_alive = http_should_keep_alive(p) != 0;
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
	/* The thread pool still reads into fbuf: file_read_cb frees. */
	if (cl->fs_busy) {
		cl->free_pending = true;
		return;
	}
	if (cl->file >= 0)
		close(cl->file);
	free(cl->fbuf);
	if (!cl->moved)
		ows_arena_close(&cl->resp.arena);
	ows_buf_free(&cl->req);
	ows_buf_free(&cl->field);
	ows_buf_free(&cl->value);
	ows_buf_free(&cl->body);
	free(cl);
}

static void exchange_timer_cb(uv_timer_t *t);

/* Time the exchange on its connection's timer, up to the deadline. */
static void arm(struct client *cl)
{
	uint64_t now = uv_now(cl->loop);

	uv_timer_start(&cl->conn->timer, exchange_timer_cb,
		       cl->deadline > now ? cl->deadline - now : 0, 0);
}

/* A streamed exchange moved: its idle timeout starts again. */
static void progress(struct client *cl)
{
	if (cl->idle_ms == 0 || cl->conn == NULL || cl->done)
		return;
	cl->deadline = uv_now(cl->loop) + cl->idle_ms;
	arm(cl);
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

/*
 * The exchange is over with status: its connection goes back to the pool
 * when it is clean, that is the whole response was read, nothing followed
 * it, the request was written completely and both sides allow keep-alive.
 */
static void release_conn(struct client *cl, int status)
{
	struct ows_http_cconn *c = cl->conn;

	if (c == NULL)
		return;
	cl->conn = NULL;
	c->owner = NULL;
	if (status == 0 && cl->reuse && cl->keep_alive && !cl->extra &&
	    !c->writing)
		ows__http_pool_put(cl->loop, c);
	else
		ows__http_cconn_close(c);
}

/* Ends the exchange: cb runs exactly once, here. */
static void finish(struct client *cl, int status)
{
	if (cl->done)
		return;
	cl->done = true;
	if (cl->conn != NULL)
		uv_timer_stop(&cl->conn->timer);
	if (status == 0)
		status = take_body(cl);
	/* Before cb, so that a request made from cb can take it. */
	release_conn(cl, status);
	if (status != 0) {
		cl->cb(cl->ud, status, NULL);
	} else if (cl->out != NULL) {
		*cl->out = cl->resp; /* the arena moves to the caller */
		cl->moved = true;
		cl->cb(cl->ud, 0, cl->out);
	} else {
		cl->cb(cl->ud, 0, &cl->resp);
	}
	client_free(cl);
}

static void resume_body(struct client *cl);

static void exchange_timer_cb(uv_timer_t *t)
{
	struct ows_http_cconn *c = t->data;
	struct client *cl = c->owner;

	if (cl != NULL && !cl->done && cl->throttled) {
		cl->throttled = false;
		resume_body(cl);
		return;
	}
	/* A sink's disk may be slow: its done starts the time again. */
	if (cl != NULL && !cl->done && !cl->sink_busy)
		finish(cl, -ETIMEDOUT);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ows_http_cconn *c = h->data;
	struct client *cl = c->owner;

	(void)hint;
	if (cl != NULL)
		*buf = uv_buf_init(rbuf, sizeof(rbuf));
	else
		*buf = uv_buf_init(c->scratch, sizeof(c->scratch));
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void write_cb(uv_write_t *w, int status);
static void connect_cb(uv_connect_t *req, int status);

/* ---- streamed bodies: a file out, a sink in ---- */

static void file_read_cb(uv_fs_t *fs);

/*
 * How long the body must wait before moving more, bytes having moved:
 * 0 when it is within rate_bps (or there is no bound).
 */
static uint64_t throttle_ms(struct client *cl, uint64_t bytes)
{
	uint64_t due, spent;

	if (cl->rate_bps == 0)
		return 0;
	due = bytes * 1000 / cl->rate_bps;
	spent = uv_now(cl->loop) - cl->t0;
	return due > spent ? due - spent : 0;
}

/* Wait on the connection's timer: exchange_timer_cb resumes the body. */
static bool throttle(struct client *cl, uint64_t bytes)
{
	uint64_t ms = throttle_ms(cl, bytes);

	if (ms == 0)
		return false;
	cl->throttled = true;
	uv_timer_start(&cl->conn->timer, exchange_timer_cb, ms, 0);
	return true;
}

/* Read the request body's next piece, unless all was sent: 0 or < 0. */
static int pump(struct client *cl)
{
	uint64_t left = cl->file_len - cl->file_off;
	uv_buf_t b;
	int rv;

	if (left == 0)
		return 0;
	b = uv_buf_init(cl->fbuf, left < FILE_PIECE ? (unsigned)left
						    : FILE_PIECE);
	cl->fs.data = cl;
	rv = uv_fs_read(cl->loop, &cl->fs, cl->file, &b, 1,
			(int64_t)cl->file_off, file_read_cb);
	cl->fs_busy = rv == 0;
	return rv;
}

/* A piece of the file is read: on the socket with it. */
static void file_read_cb(uv_fs_t *fs)
{
	struct client *cl = fs->data;
	ssize_t n = fs->result;
	uv_buf_t b;
	int rv;

	uv_fs_req_cleanup(fs);
	cl->fs_busy = false;
	if (cl->done) {
		if (cl->free_pending)
			client_free(cl);
		return;
	}
	if (n <= 0) { /* shorter than its Content-Length said: a lie */
		finish(cl, n < 0 ? (int)n : -EIO);
		return;
	}
	cl->file_off += (uint64_t)n;
	b = uv_buf_init(cl->fbuf, (unsigned)n);
	rv = uv_write(&cl->conn->write, (uv_stream_t *)&cl->conn->tcp, &b, 1,
		      write_cb);
	if (rv != 0) {
		finish(cl, rv);
		return;
	}
	cl->conn->writing = true;
	progress(cl);
}

/*
 * Hand the body read so far to the sink and stop reading until it is
 * done with it (last: the response is complete).
 */
static void sink_out(struct client *cl, bool last)
{
	uv_read_stop((uv_stream_t *)&cl->conn->tcp);
	cl->conn->reading = false;
	cl->sink_busy = true;
	cl->sink_last = last;
	cl->sink(cl->sink_ud, cl->body.data, cl->body.len, cl);
}

void ows_http_client_sink_done(void *token, int status)
{
	struct client *cl = token;

	cl->sink_busy = false;
	cl->sunk += cl->body.len;
	ows_buf_reset(&cl->body);
	if (cl->done)
		return;
	if (status != 0 || cl->sink_last) {
		finish(cl, status);
		return;
	}
	if (!throttle(cl, cl->sunk))
		resume_body(cl);
}

/* Go on with the body: the next piece of the file, or reading. */
static void resume_body(struct client *cl)
{
	struct ows_http_cconn *c = cl->conn;
	int rv;

	if (cl->file >= 0) {
		rv = pump(cl);
	} else {
		rv = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
		c->reading = rv == 0;
	}
	if (rv != 0)
		finish(cl, rv);
	else
		progress(cl);
}

/* Write the request on cl->conn and read the answer. */
static int send_request(struct client *cl)
{
	struct ows_http_cconn *c = cl->conn;
	uv_buf_t b = uv_buf_init(cl->req.data, (unsigned)cl->req.len);
	int rv;

	c->owner = cl;
	c->tcp.data = c;
	/* At once when the socket takes it all: uv_write would also touch
	 * the poll registration. The rest, or an error, goes by uv_write. */
	rv = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (rv > 0) {
		b.base += rv;
		b.len -= (size_t)rv;
	}
	if (b.len > 0) {
		rv = uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1,
			      write_cb);
		if (rv != 0)
			return rv;
		c->writing = true;
	} else if (cl->file >= 0) {
		rv = pump(cl); /* the head is out: the body follows */
		if (rv != 0)
			return rv;
	}
	/* A connection keeps reading from its first request on, idle in the
	 * pool too: stopping and starting would cost epoll_ctl calls. */
	if (c->reading)
		return 0;
	rv = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	c->reading = rv == 0;
	return rv;
}

/* Open a fresh connection for cl; connect_cb sends the request. */
static int connect_fresh(struct client *cl)
{
	struct ows_http_cconn *c;
	int rv;

	rv = ows__http_cconn_new(cl->loop, cl->key, &c);
	if (rv != 0)
		return rv;
	c->owner = cl;
	rv = uv_tcp_connect(&c->connect, &c->tcp,
			    (const struct sockaddr *)&cl->addr, connect_cb);
	if (rv != 0) {
		ows__http_cconn_close(c);
		return rv;
	}
	cl->conn = c;
	arm(cl);
	return 0;
}

/*
 * A failure on the connection: retried once on a fresh connection when it
 * is the peer having closed a reused connection before answering (see the
 * retry rule at the top of this file), else the end of the exchange.
 */
static void fail(struct client *cl, int status)
{
	int rv;

	if (!cl->reused || cl->retried || cl->got_bytes ||
	    (status != -ECONNRESET && status != -EPIPE)) {
		finish(cl, status);
		return;
	}
	cl->retried = true;
	cl->reused = false;
	ows__http_cconn_close(cl->conn); /* cancels a write in flight */
	cl->conn = NULL;
	rv = connect_fresh(cl);
	if (rv != 0)
		finish(cl, rv);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct ows_http_cconn *c = st->data;
	struct client *cl = c->owner;
	size_t parsed;
	enum http_errno e;

	if (nread == 0)
		return;
	if (cl == NULL) {
		ows__http_pool_idle_input(c);
		return;
	}
	if (cl->done || cl->sink_busy)
		return;
	if (nread < 0 && nread != UV_EOF) {
		fail(cl, (int)nread);
		return;
	}
	if (nread == UV_EOF && !cl->got_bytes) {
		fail(cl, -ECONNRESET);
		return;
	}
	cl->got_bytes = true;
	/* Zero bytes tell the parser about the close (EOF-framed bodies). */
	parsed = http_parser_execute(&cl->parser, &client_settings, buf->base,
				     nread > 0 ? (size_t)nread : 0);
	e = HTTP_PARSER_ERRNO(&cl->parser);
	if (cl->complete) {
		/* The parser stops after the response; more is a mistake. */
		cl->extra = nread > 0 && parsed < (size_t)nread;
		if (cl->sinking && cl->body.len > 0)
			sink_out(cl, true);
		else
			finish(cl, 0);
	} else if (e != HPE_OK) {
		finish(cl, cl->err != 0 ? cl->err : OWS_EPARSE);
	} else if (nread == UV_EOF) {
		finish(cl, -ECONNRESET);
	} else if (cl->sinking && cl->body.len >= SINK_PIECE) {
		sink_out(cl, false);
	} else {
		progress(cl);
	}
}

static void write_cb(uv_write_t *w, int status)
{
	struct ows_http_cconn *c = w->data;
	struct client *cl = c->owner;

	c->writing = false;
	/* A connection given up already (owner NULL) reports ECANCELED. */
	if (cl == NULL || cl->done)
		return;
	if (status < 0) {
		fail(cl, status);
	} else if (cl->file >= 0 && !throttle(cl, cl->file_off)) {
		resume_body(cl);
	}
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct ows_http_cconn *c = req->data;
	struct client *cl = c->owner;

	if (cl == NULL || cl->done)
		return;
	if (status == 0)
		status = send_request(cl);
	if (status != 0)
		finish(cl, status);
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
			 const void *body, size_t len, uint64_t stream_len)
{
	bool bodied = len > 0 || stream_len > 0 ||
		      strcmp(method, "POST") == 0 ||
		      strcmp(method, "PUT") == 0 ||
		      strcmp(method, "PATCH") == 0;
	int rv;

	if (bad_text(method) || bad_text(target) || strchr(target, ' '))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (bad_text(h[i].name) || bad_text(h[i].value))
			return -EINVAL;
	rv = ows_buf_grow(b, 512 + len);
	if (rv == 0)
		rv = ows_buf_puts(b, method);
	if (rv == 0)
		rv = ows_buf_append(b, " ", 1);
	if (rv == 0)
		rv = ows_buf_puts(b, target);
	if (rv == 0)
		rv = ows_buf_append(b, " HTTP/1.1\r\n", 11);
	if (rv == 0 && !has_header(h, n, "Host"))
		rv = ows_buf_header(b, "Host", host_port);
	for (size_t i = 0; i < n && rv == 0; i++)
		rv = ows_buf_header(b, h[i].name, h[i].value);
	if (rv == 0 && bodied && !has_header(h, n, "Content-Length") &&
	    !has_header(h, n, "Transfer-Encoding"))
		rv = ows_buf_printf(b, "Content-Length: %llu\r\n",
				    (unsigned long long)(len + stream_len));
	if (rv == 0)
		rv = ows_buf_puts(b, "\r\n");
	if (rv == 0 && len > 0)
		rv = ows_buf_append(b, body, len);
	return rv;
}

static struct client *client_new(uv_loop_t *loop, const char *host_port,
				 const char *method,
				 const struct ows_http_client_opts *opts,
				 ows_http_client_cb cb, void *ud)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	cl->loop = loop;
	cl->cb = cb;
	cl->ud = ud;
	cl->head = strcmp(method, "HEAD") == 0;
	cl->file = -1;
	cl->max_body = opts && opts->max_body ? opts->max_body : 64u << 20;
	/* A longer key is never pooled: each request connects afresh. */
	cl->reuse = strlen(host_port) < sizeof(cl->key);
	snprintf(cl->key, sizeof(cl->key), "%s", host_port);
	ows_arena_init(&cl->resp.arena);
	http_parser_init(&cl->parser, HTTP_RESPONSE);
	cl->parser.data = cl;
	return cl;
}

/* "Connection: close" from the caller: no reuse after this request. */
static bool asks_close(const struct ows_http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, "Connection") == 0 &&
		    strcasestr(h[i].value, "close") != NULL)
			return true;
	return false;
}

/* Send on an idle connection when there is one, else on a new one. */
static int dispatch(struct client *cl)
{
	if (cl->reuse)
		cl->conn = ows__http_pool_take(cl->loop, cl->key);
	if (cl->conn != NULL) {
		cl->reused = true;
		if (send_request(cl) == 0) {
			arm(cl);
			return 0;
		}
		/* Nothing was sent: a fresh connection is as good. */
		ows__http_cconn_close(cl->conn);
		cl->conn = NULL;
		cl->reused = false;
	}
	return connect_fresh(cl);
}

/* A streamed exchange: never pooled (a sink stops reading mid-way). */
static int stream_setup(struct client *cl,
			const struct ows_http_client_body *sb,
			const struct ows_http_client_opts *opts)
{
	cl->reuse = false;
	cl->idle_ms = opts && opts->timeout_ms ? opts->timeout_ms : 30000;
	cl->sink = sb->sink;
	cl->sink_ud = sb->sink_ud;
	cl->rate_bps = sb->rate_bps;
	cl->t0 = uv_now(cl->loop);
	if (sb->body_path == NULL)
		return 0;
	cl->fbuf = malloc(FILE_PIECE);
	if (cl->fbuf == NULL)
		return -ENOMEM;
	cl->file = open(sb->body_path, O_RDONLY | O_CLOEXEC);
	if (cl->file < 0)
		return -errno;
	cl->file_len = sb->body_len;
	return 0;
}

static int start(uv_loop_t *loop, const char *host_port, const char *method,
		 const char *target, const struct ows_http_header *headers,
		 size_t n_headers, const void *body, size_t len,
		 const struct ows_http_client_body *sb,
		 const struct ows_http_client_opts *opts, ows_http_client_cb cb,
		 void *ud, struct ows_http_response *out)
{
	struct sockaddr_storage ss;
	struct client *cl;
	int rv;

	rv = ows__http_parse_addr(host_port, &ss);
	if (rv != 0)
		return rv;
	cl = client_new(loop, host_port, method, opts, cb, ud);
	if (cl == NULL)
		return -ENOMEM;
	cl->addr = ss;
	cl->out = out;
	/* The private loop of the sync client ends with the exchange. */
	if (out != NULL || asks_close(headers, n_headers))
		cl->reuse = false;
	rv = sb != NULL ? stream_setup(cl, sb, opts) : 0;
	if (rv == 0)
		rv = build_request(&cl->req, host_port, method, target,
				   headers, n_headers, body, len,
				   cl->file >= 0 ? cl->file_len : 0);
	if (rv != 0) {
		client_free(cl);
		return rv;
	}
	cl->deadline = uv_now(loop) +
		       (opts && opts->timeout_ms ? opts->timeout_ms : 30000);
	rv = dispatch(cl);
	if (rv != 0) {
		client_free(cl); /* cb never runs */
		return rv;
	}
	return 0;
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
		     body, len, NULL, opts, cb, ud, NULL);
}

int ows_http_client_stream(uv_loop_t *loop, const char *host_port,
			   const char *method, const char *target,
			   const struct ows_http_header *headers,
			   size_t n_headers,
			   const struct ows_http_client_body *body,
			   const struct ows_http_client_opts *opts,
			   ows_http_client_cb cb, void *ud)
{
	if (cb == NULL || body == NULL)
		return -EINVAL;
	return start(loop, host_port, method, target, headers, n_headers,
		     NULL, 0, body, opts, cb, ud, NULL);
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
		   len, NULL, opts, sync_cb, &status, out);
	/* Also after a failed start: the close callbacks must run. */
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0 && rv == 0 && status == 0) {
		ows_http_response_close(out);
		status = -EBUSY;
	}
	return rv != 0 ? rv : status;
}
