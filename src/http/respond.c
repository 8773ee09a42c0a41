/*
 * HTTP server responses: the head (status line, Date, the handler's headers,
 * framing, Connection), bodies whole or streamed with Content-Length or
 * chunked encoding, the server's own JSON error answers, and the write
 * queue of a connection. See conn.h for the connection they go out on.
 *
 * RFC 9112 section 6.3 frames a response by Content-Length or chunked
 * encoding, or by closing the connection, the only choice for an HTTP/1.0
 * client when the length is not known in advance.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/conn.h"

#define MAX_TRY_BUFS 16
#define HEAD_ROOM 512 /* a response head usually fits */
#define WRITE_PIECE (256 * 1024) /* bytes per uv_write (queue_pieces) */

struct wreq {
	uv_write_t w;
	struct ows_http_conn *c;
	char *mem; /* freed once written */
	void (*cb)(void *ud, int status);
	void *ud;
	size_t bytes; /* counted in the connection's and server's unsent */
};

void ows__http_request_free(struct request *r)
{
	ows_buf_free(&r->body);
	ows_arena_close(&r->req.arena);
	free(r);
}

/*
 * The connections with answers not yet taken, of every server on this
 * thread (the node's loop serves its edge, its gateway, and each function
 * instance's own edge and Runtime API), and their bytes together: the
 * bound counts them all, or a function could hold max_unsent on each of
 * its instances' servers.
 */
static _Thread_local struct ows_http_conn *unsent_conns;
static _Thread_local size_t unsent_all;

static void unsent_add(struct ows_http_conn *c, size_t n)
{
	if (n == 0)
		return;
	if (c->unsent == 0) {
		c->unsent_prev = NULL;
		c->unsent_next = unsent_conns;
		if (unsent_conns != NULL)
			unsent_conns->unsent_prev = c;
		unsent_conns = c;
	}
	c->unsent += n;
	c->srv->unsent += n;
	unsent_all += n;
}

static void unsent_unlink(struct ows_http_conn *c)
{
	if (c->unsent_prev != NULL)
		c->unsent_prev->unsent_next = c->unsent_next;
	else if (unsent_conns == c)
		unsent_conns = c->unsent_next;
	if (c->unsent_next != NULL)
		c->unsent_next->unsent_prev = c->unsent_prev;
	c->unsent_next = c->unsent_prev = NULL;
}

static void unsent_sub(struct ows_http_conn *c, size_t n)
{
	if (n == 0)
		return;
	c->unsent -= n;
	c->srv->unsent -= n;
	unsent_all -= n;
	if (c->unsent == 0)
		unsent_unlink(c);
}

void ows__http_conn_unsent_forget(struct ows_http_conn *c)
{
	/* every write calls back before its connection is freed: defence */
	unsent_sub(c, c->unsent);
}

static void write_cb(uv_write_t *w, int status)
{
	struct wreq *wr = (struct wreq *)w;
	struct ows_http_conn *c = wr->c;

	c->n_writes--;
	unsent_sub(c, wr->bytes);
	/* the next write in the queue has been waiting since now */
	c->unsent_since = uv_now(c->srv->loop);
	if (wr->cb != NULL)
		wr->cb(wr->ud, status < 0 ? status : 0);
	free(wr->mem);
	free(wr);
	if (status < 0) {
		ows__http_conn_close(c, -ECANCELED);
		return;
	}
	ows__http_conn_wrote(c);
	/* A drained queue may let the next request in, or the close out. */
	if (!c->closing && c->n_writes == 0)
		ows__http_conn_poke(c);
}

/*
 * Past max_unsent (of c's server) on this thread, close the connections
 * that have waited longest to take their answers, of any server, but not
 * c (which writes now: one answer larger than the bound alone is sent).
 * Those closing already count as gone: their writes are cancelled from
 * the loop.
 */
static void shed_unsent(struct ows_http_conn *c)
{
	size_t max = c->srv->cfg.max_unsent, leaving = 0;
	struct ows_http_conn *x, *oldest;

	if (unsent_all <= max)
		return;
	for (x = unsent_conns; x != NULL; x = x->unsent_next)
		if (x->closing)
			leaving += x->unsent;
	while (unsent_all - leaving > max) {
		oldest = NULL;
		for (x = unsent_conns; x != NULL; x = x->unsent_next)
			if (x != c && !x->closing &&
			    (oldest == NULL ||
			     x->unsent_since < oldest->unsent_since))
				oldest = x;
		if (oldest == NULL)
			return;
		leaving += oldest->unsent;
		oldest->srv->unsent_closed++;
		ows__http_conn_close(oldest, -ECANCELED);
	}
}

/*
 * One uv_write of bufs[0..n), counted in unsent. mem and cb go with the
 * last piece of a write (NULL on the others).
 */
static int queue_one(struct ows_http_conn *c, const uv_buf_t *bufs,
		     unsigned n, char *mem, void (*cb)(void *ud, int status),
		     void *ud)
{
	struct wreq *wr = malloc(sizeof(*wr));
	int rv;

	if (wr == NULL)
		return -ENOMEM;
	wr->c = c;
	wr->mem = mem;
	wr->cb = cb;
	wr->ud = ud;
	wr->bytes = 0;
	for (unsigned i = 0; i < n; i++)
		wr->bytes += bufs[i].len;
	rv = uv_write(&wr->w, (uv_stream_t *)&c->tcp, bufs, n, write_cb);
	if (rv != 0) {
		free(wr);
		return rv;
	}
	c->n_writes++;
	if (c->n_writes == 1) {
		c->unsent_since = uv_now(c->srv->loop);
		ows__http_conn_update(c); /* the write timer */
	}
	unsent_add(c, wr->bytes);
	return 0;
}

/*
 * Queue bufs as uv_writes of at most WRITE_PIECE bytes each. A write is
 * done only once all of it is handed to the kernel: one big answer as one
 * write would look stalled (write timer, shed_unsent's clock) however
 * steadily its client reads; in pieces, each one taken counts as progress.
 */
static int queue_pieces(struct ows_http_conn *c, const uv_buf_t *bufs,
			unsigned n, char *mem,
			void (*cb)(void *ud, int status), void *ud)
{
	uv_buf_t piece[MAX_TRY_BUFS], cur = { 0 };
	unsigned i = 0, k;
	size_t room;
	int rv;

	for (;;) {
		k = 0;
		room = WRITE_PIECE;
		while (k < MAX_TRY_BUFS && room > 0) {
			if (cur.len == 0) {
				if (i == n)
					break;
				cur = bufs[i++];
				continue;
			}
			piece[k] = cur;
			if (piece[k].len > room)
				piece[k].len = room;
			cur.base += piece[k].len;
			cur.len -= piece[k].len;
			room -= piece[k].len;
			k++;
		}
		while (cur.len == 0 && i < n)
			cur = bufs[i++]; /* skip empty ones: is this the last? */
		if (cur.len == 0) {
			if (k == 0 && n > 0)
				piece[k++] = bufs[n - 1]; /* empty: cb still runs */
			rv = queue_one(c, piece, k, mem, cb, ud);
			break;
		}
		rv = queue_one(c, piece, k, NULL, NULL, NULL);
		if (rv != 0)
			break;
	}
	if (rv != 0) {
		/* pieces already queued may point into mem: cancelled by the
		 * close, they never read it again */
		free(mem);
		ows__http_conn_close(c, -ECANCELED);
		return rv;
	}
	shed_unsent(c);
	return 0;
}

/*
 * Queue bufs in order. mem (may be NULL) is taken and freed once written;
 * cb, when given, runs once the bytes are written, never on failure.
 */
int ows__http_conn_write(struct ows_http_conn *c, const uv_buf_t *bufs,
			 unsigned n, char *mem, void (*cb)(void *ud, int status),
			 void *ud)
{
	uv_buf_t rest[MAX_TRY_BUFS]; /* what uv_try_write left, for uv_write */

	if (c->closing) {
		free(mem);
		return -ECANCELED;
	}
	if (c->fake) {
		for (unsigned i = 0; i < n; i++)
			c->fake_out += bufs[i].len;
		free(mem);
		if (cb != NULL)
			cb(ud, 0);
		return 0;
	}
	/*
	 * Nothing queued: write at once. uv_write would do the same, but it
	 * also touches the poll registration (an epoll_ctl per response);
	 * what the socket does not take now goes through uv_write.
	 */
	if (cb == NULL && c->n_writes == 0 && n <= MAX_TRY_BUFS &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
		int done = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
		unsigned k = 0;

		if (done >= 0) {
			size_t left = (size_t)done;

			for (unsigned i = 0; i < n; i++) {
				if (left >= bufs[i].len) {
					left -= bufs[i].len;
					continue;
				}
				rest[k] = bufs[i];
				rest[k].base += left;
				rest[k].len -= left;
				left = 0;
				k++;
			}
			if (k == 0) {
				free(mem);
				return 0;
			}
			bufs = rest;
			n = k;
		}
		/* UV_EAGAIN, or an error that uv_write reports in turn */
	}
	return queue_pieces(c, bufs, n, mem, cb, ud);
}

/* The Date header's value, formatted once a second (per thread). */
static const char *http_date(void)
{
	static _Thread_local time_t last = -1;
	static _Thread_local char text[64];
	time_t now = time(NULL);

	if (now != last) {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return text;
}

/* "HTTP/1.1 200 OK\r\nDate: ...\r\n" without printf (every response). */
static int status_lines(struct ows_buf *b, int status)
{
	char code[4] = {(char)('0' + status / 100 % 10),
			(char)('0' + status / 10 % 10),
			(char)('0' + status % 10), ' '};
	int rv = ows_buf_append(b, "HTTP/1.1 ", 9);

	if (rv == 0)
		rv = ows_buf_append(b, code, 4);
	if (rv == 0)
		rv = ows_buf_puts(b, ows__http_reason(status));
	if (rv == 0)
		rv = ows_buf_append(b, "\r\n", 2);
	if (rv == 0)
		rv = ows_buf_header(b, "Date", http_date());
	return rv;
}

/* "Content-Length: N\r\n" without printf. */
static int content_length(struct ows_buf *b, uint64_t n)
{
	char digits[24], *p = digits + sizeof(digits);

	*--p = '\0';
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	return ows_buf_header(b, "Content-Length", p);
}

void ows__http_conn_send_error(struct ows_http_conn *c, int status,
			       const char *code, const char *msg)
{
	struct ows_buf b = OWS_BUF_INIT;
	char body[256];
	int blen;
	uv_buf_t ub;

	if (c->closing)
		return;
	c->close_after = true;
	if (c->srv != NULL)
		c->srv->responses[status / 100 % 6]++;
	blen = snprintf(body, sizeof(body),
			"{\"code\":\"%s\",\"message\":\"%s\"}", code, msg);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = 0;
	if (ows_buf_printf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			   status, ows__http_reason(status), http_date(), blen,
			   body) != 0) {
		ows_buf_free(&b);
		ows__http_conn_close(c, -ENOMEM);
		return;
	}
	ub = uv_buf_init(b.data, (unsigned)b.len);
	ows__http_conn_write(c, &ub, 1, b.data, NULL, NULL);
}

/* Headers the server writes itself, or that would break the framing. */
static bool skipped_header(const struct ows_http_header *h)
{
	static const char *const own[] = {"Content-Length", "Transfer-Encoding",
					   "Connection", "Date"};

	if (h->name == NULL || h->value == NULL || h->name[0] == '\0' ||
	    strpbrk(h->name, "\r\n: ") != NULL ||
	    strpbrk(h->value, "\r\n") != NULL)
		return true; /* no header injection from handler data */
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcasecmp(h->name, own[i]) == 0)
			return true;
	return false;
}

/*
 * Whether the connection ends with this response. A body the handler left
 * unread is drained when small; otherwise, or when the client waits for
 * "100 Continue" before sending it, closing is the only way to resync.
 */
static bool decide_close(const struct request *r,
			 const struct ows_http_header *h, size_t n)
{
	const struct ows_http_conn *c = r->c;
	const struct ows_http_req *req = &r->req;

	if (!req->keep_alive || c->srv->closing || c->close_after)
		return true;
	for (size_t i = 0; i < n; i++)
		if (h[i].name != NULL && h[i].value != NULL &&
		    strcasecmp(h[i].name, "Connection") == 0 &&
		    strcasestr(h[i].value, "close") != NULL)
			return true;
	if (c->msg_done || c->mode == BODY_READ || c->mode == BODY_STREAM)
		return false;
	if (!req->chunked && req->content_length <= 0)
		return false;
	if ((c->expect_continue && !c->continue_sent) || req->chunked)
		return true;
	return (uint64_t)req->content_length - c->received > DISCARD_MAX;
}

/* The head into b, with room for body more bytes after it (one copy). */
static int build_head(struct request *r, struct ows_buf *b, int status,
		      const struct ows_http_header *h, size_t n, int64_t cl,
		      size_t body)
{
	int rv;

	if (r->c->srv != NULL)
		r->c->srv->responses[status / 100 % 6]++;
	r->close = decide_close(r, h, n);
	rv = ows_buf_grow(b, HEAD_ROOM + body);
	if (rv == 0)
		rv = status_lines(b, status);
	for (size_t i = 0; i < n && rv == 0; i++)
		if (!skipped_header(&h[i]))
			rv = ows_buf_header(b, h[i].name, h[i].value);
	if (status == 204 || status == 304) {
		r->head_only = true;
	} else if (cl >= 0) {
		r->resp_left = cl;
		if (rv == 0)
			rv = content_length(b, (uint64_t)cl);
		/* HEAD: the length of what GET would send, and no body */
		if (strcmp(r->req.method, "HEAD") == 0)
			r->head_only = true;
	} else if (r->http_minor >= 1) {
		r->chunked = true;
		if (rv == 0)
			rv = ows_buf_puts(b, "Transfer-Encoding: chunked\r\n");
	} else {
		r->eof_framed = true;
		r->close = true;
	}
	if (rv == 0 && r->close)
		rv = ows_buf_puts(b, "Connection: close\r\n");
	else if (rv == 0 && r->http_minor == 0)
		rv = ows_buf_puts(b, "Connection: keep-alive\r\n");
	if (rv == 0)
		rv = ows_buf_puts(b, "\r\n");
	return rv;
}

static int send_head(struct request *r, int status,
		     const struct ows_http_header *h, size_t n, int64_t cl,
		     const void *body, size_t len)
{
	struct ows_buf b = OWS_BUF_INIT;
	uv_buf_t ub;
	int rv;

	if (status < 200 || status > 999)
		status = 500;
	r->resp = RESP_STARTED;
	if (r->c->closing)
		return -ECANCELED;
	rv = build_head(r, &b, status, h, n, cl, len);
	if (rv == 0 && len > 0 && !r->head_only)
		rv = ows_buf_append(&b, body, len);
	if (rv != 0) {
		ows_buf_free(&b);
		ows__http_conn_close(r->c, rv);
		return rv;
	}
	ub = uv_buf_init(b.data, (unsigned)b.len);
	return ows__http_conn_write(r->c, &ub, 1, b.data, NULL, NULL);
}

/* The response is complete: free the request and see what comes next. */
static int finish(struct request *r, int rv)
{
	struct ows_http_conn *c = r->c;
	const struct ows_http_req *req = &r->req;

	if (!c->closing) {
		if (r->close || rv != 0) {
			c->close_after = true;
		} else if (!c->msg_done) {
			c->mode = BODY_DISCARD;
			c->paused = false;
			c->discarded = 0;
			if (!req->chunked && req->content_length > 0 &&
			    (uint64_t)req->content_length - c->received >
				    DISCARD_MAX)
				c->close_after = true;
		}
	}
	if (c->cur == r)
		c->cur = NULL;
	ows__http_request_free(r);
	if (c->closing) {
		ows__http_conn_maybe_free(c);
		return -ECANCELED;
	}
	ows__http_conn_poke(c);
	return rv;
}

/* After a body error the server ends the request: responding is a no-op. */
static bool ended_by_server(const struct request *r)
{
	return r->failed && r->resp == RESP_NONE;
}

int ows_http_respond(struct ows_http_req *req, int status,
		     const struct ows_http_header *headers, size_t n_headers,
		     const void *body, size_t len)
{
	struct request *r = (struct request *)req;
	int rv;

	if (ended_by_server(r))
		return -ECANCELED;
	if (r->resp != RESP_NONE)
		return -EINVAL;
	rv = send_head(r, status, headers, n_headers, (int64_t)len, body, len);
	return finish(r, rv);
}

int ows_http_respond_start(struct ows_http_req *req, int status,
			   const struct ows_http_header *headers,
			   size_t n_headers, int64_t content_length)
{
	struct request *r = (struct request *)req;

	if (ended_by_server(r))
		return -ECANCELED;
	if (r->resp != RESP_NONE)
		return -EINVAL;
	return send_head(r, status, headers, n_headers,
			 content_length < 0 ? -1 : content_length, NULL, 0);
}

int ows_http_respond_write(struct ows_http_req *req, const void *data,
			   size_t len, void (*cb)(void *ud, int status),
			   void *ud)
{
	struct request *r = (struct request *)req;
	static char crlf[] = "\r\n";
	uv_buf_t b[3];
	char *hdr;

	if (ended_by_server(r) || r->c->closing)
		return -ECANCELED;
	if (r->resp != RESP_STARTED)
		return -EINVAL;
	if (!r->chunked && !r->eof_framed && !r->head_only) {
		if ((uint64_t)len > (uint64_t)r->resp_left)
			return -EINVAL;
		r->resp_left -= (int64_t)len;
	}
	if (r->head_only || len == 0) {
		/* Nothing to send, but cb still runs from the loop. */
		b[0] = uv_buf_init(crlf, 0);
		return ows__http_conn_write(r->c, b, 1, NULL, cb, ud);
	}
	if (!r->chunked) {
		b[0] = uv_buf_init((char *)data, (unsigned)len);
		return ows__http_conn_write(r->c, b, 1, NULL, cb, ud);
	}
	hdr = malloc(24);
	if (hdr == NULL)
		return -ENOMEM;
	b[0] = uv_buf_init(hdr, (unsigned)snprintf(hdr, 24, "%zx\r\n", len));
	b[1] = uv_buf_init((char *)data, (unsigned)len);
	b[2] = uv_buf_init(crlf, 2);
	return ows__http_conn_write(r->c, b, 3, hdr, cb, ud);
}

int ows_http_respond_end(struct ows_http_req *req)
{
	struct request *r = (struct request *)req;
	static char last[] = "0\r\n\r\n";
	uv_buf_t b = uv_buf_init(last, sizeof(last) - 1);
	int rv = 0;

	if (ended_by_server(r))
		return -ECANCELED;
	if (r->resp != RESP_STARTED)
		return -EINVAL;
	if (r->c->closing)
		return finish(r, -ECANCELED);
	if (r->chunked && !r->head_only)
		rv = ows__http_conn_write(r->c, &b, 1, NULL, NULL, NULL);
	else if (!r->head_only && !r->eof_framed && r->resp_left > 0)
		r->close = true; /* short body: only a close tells the peer */
	return finish(r, rv);
}
