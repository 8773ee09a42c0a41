/*
 * The handler's side of request bodies: looking at headers, choosing to read
 * the body whole or as a stream, and back-pressure. These calls only set the
 * connection's body mode and poke it; server.c's parser callbacks deliver
 * the bytes (see conn.h).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http/conn.h"

const char *ows_http_req_header(const struct ows_http_req *req,
				const char *name)
{
	/*
	 * The first bytes compared inline: names equal without case have
	 * equal bytes once 0x20 is set (letters are equal in lower case,
	 * anything else is equal as it is), so this skips no match, and
	 * most names differ there (a request is looked up a dozen times).
	 */
	unsigned char first = (unsigned char)name[0] | 0x20;

	for (size_t i = 0; i < req->n_headers; i++)
		if (((unsigned char)req->headers[i].name[0] | 0x20) == first &&
		    strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

static int body_start(struct ows_http_req *req, enum body_mode mode,
		      uint64_t limit)
{
	struct request *r = (struct request *)req;
	struct ows_http_conn *c = r->c;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	uv_buf_t b = uv_buf_init((char *)cont, sizeof(cont) - 1);

	if (c->cur != r || r->failed || c->mode != BODY_WAIT)
		return -EINVAL;
	if (c->closing)
		return -ECANCELED;
	c->mode = mode;
	c->body_limit = limit;
	if (req->content_length > 0 && (uint64_t)req->content_length > limit)
		c->fail_pending = -EMSGSIZE; /* refuse before reading any */
	else if (c->expect_continue && !c->continue_sent && !c->msg_done &&
		 r->resp == RESP_NONE &&
		 (req->chunked || req->content_length > 0)) {
		c->continue_sent = true;
		ows__http_conn_write(c, &b, 1, NULL, NULL, NULL);
	}
	ows__http_conn_poke(c);
	return 0;
}

int ows_http_req_read_body(struct ows_http_req *req, size_t limit,
			   ows_http_body_cb cb)
{
	struct request *r = (struct request *)req;
	int rv;

	if (cb == NULL)
		return -EINVAL;
	rv = body_start(req, BODY_READ, limit);
	if (rv == 0)
		r->body_cb = cb;
	return rv;
}

int ows_http_req_stream_body(struct ows_http_req *req, uint64_t limit,
			     ows_http_chunk_cb cb)
{
	struct request *r = (struct request *)req;
	int rv;

	if (cb == NULL)
		return -EINVAL;
	rv = body_start(req, BODY_STREAM, limit);
	if (rv == 0)
		r->chunk_cb = cb;
	return rv;
}

void ows_http_req_pause(struct ows_http_req *req)
{
	struct request *r = (struct request *)req;
	struct ows_http_conn *c = r->c;

	if (c->cur != r || c->paused)
		return;
	c->paused = true;
	if (!c->fake)
		c->paused_at = uv_now(c->srv->loop);
	if (!c->in_process)
		ows__http_conn_update(c);
}

void ows_http_req_resume(struct ows_http_req *req)
{
	struct request *r = (struct request *)req;
	struct ows_http_conn *c = r->c;

	if (c->cur != r || !c->paused)
		return;
	c->paused = false;
	/* The handler's own wait does not count against the peer. */
	if (!c->fake && c->body_clock)
		c->body_t0 += uv_now(c->srv->loop) - c->paused_at;
	ows__http_conn_poke(c);
}
