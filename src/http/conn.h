/*
 * Internal to the HTTP server: one connection and the request it is serving,
 * shared by server.c (accepting, reading, parsing, timers) and respond.c
 * (response heads, body framing, writes; reason.c's phrases). Nothing
 * outside src/http includes this file.
 *
 * A connection serves one request at a time: parsing stops when a request's
 * headers are complete and goes on only once the handler has asked for the
 * body, and stops again at the end of the message until the response is
 * finished. Pipelined bytes wait, unparsed, in the input buffer, so the
 * answers go out in request order without any queue of requests.
 */
#ifndef OWS_HTTP_CONN_H
#define OWS_HTTP_CONN_H

#include <http_parser.h>

#include "common/buf.h"
#include "http/http.h"

/* What happens to the body of the message being parsed. */
enum body_mode {
	BODY_WAIT,    /* the handler has not asked yet: parsing stops */
	BODY_READ,    /* buffered for ows_http_req_read_body */
	BODY_STREAM,  /* handed piece by piece to ows_http_req_stream_body */
	BODY_DISCARD, /* nobody wants it: dropped, up to DISCARD_MAX */
};

enum timer_kind { TIMER_NONE, TIMER_STALE, TIMER_IDLE, TIMER_HEAD,
		  TIMER_BODY, TIMER_LINGER, TIMER_WRITE };

enum resp_state { RESP_NONE, RESP_STARTED };

/*
 * A body left unread by the handler (an error answered before the body, a
 * request refused before authentication) is drained up to this much, no
 * more: beyond it the connection is closed after the response.
 */
#define DISCARD_MAX (64 * 1024)

struct request {
	struct ows_http_req req; /* first: handlers see only this part */
	struct ows_http_conn *c;
	ows_http_body_cb body_cb;
	ows_http_chunk_cb chunk_cb;
	struct ows_buf body;     /* read_body's buffer, freed with the req */
	size_t n_alloc;          /* capacity of req.headers */
	bool failed;             /* a body callback reported an error */
	bool head_only;          /* HEAD, 204, 304: the body is not sent */
	bool close;              /* the response says Connection: close */
	bool eof_framed;         /* HTTP/1.0 streaming: closing ends it */
	bool chunked;            /* the response uses chunked encoding */
	int http_minor;
	enum resp_state resp;
	int64_t resp_left;       /* bytes still due with a Content-Length */
};

struct ows_http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_idle_t kick;         /* runs process() later, from the loop */
	uv_shutdown_t shutdown;
	struct ows_http_server *srv;
	struct ows_http_conn *next, *prev;
	http_parser parser;

	char *in;               /* received; in[in_off..in_len) unparsed */
	size_t in_len, in_off, in_cap;

	/* The message being parsed. */
	struct request *building; /* head not complete yet */
	struct request *cur;      /* handed to the handler, not yet answered */
	struct ows_buf url, field, value;
	bool value_last;          /* the last header callback was a value */
	size_t head_bytes;
	bool in_message, head_done, msg_done, dispatch_pending;
	enum body_mode mode;
	uint64_t body_limit, received, discarded;
	bool paused;              /* ows_http_req_pause */
	bool body_clock;          /* body_t0 is set for this message */
	uint64_t body_t0;         /* loop time the body deadline counts from */
	uint64_t paused_at;       /* loop time of ows_http_req_pause */
	bool expect_continue, continue_sent;
	int fail_pending;         /* body error to report from process() */
	int cb_error;             /* status for an error inside a callback */

	/* Connection state. */
	unsigned n_writes;        /* uv_write requests in flight */
	size_t unsent;            /* their bytes (max_unsent) */
	uint64_t unsent_since;    /* loop time the first of them started */
	/* with unsent bytes: in the thread's list of such (respond.c) */
	struct ows_http_conn *unsent_next, *unsent_prev;
	unsigned pending_closes;  /* handles not yet closed */
	int close_reason;         /* body status reported when torn down */
	enum timer_kind timer_kind;
	bool reading, eof, close_after, lingering, closing, in_process;
	bool fake;                /* ows_http_fuzz_feed: no socket, no loop */
	size_t fake_out;          /* bytes "written" in fake mode */
	char peer[64];
	char ip[48];              /* the peer's address, counted per address */
};

/* server.c */
void ows__http_conn_poke(struct ows_http_conn *c);
/* A write completed: a peer taking the response restarts its timer. */
void ows__http_conn_wrote(struct ows_http_conn *c);
/* Start or stop reading and timers to match the state. */
void ows__http_conn_update(struct ows_http_conn *c);
void ows__http_conn_close(struct ows_http_conn *c, int reason);
void ows__http_conn_maybe_free(struct ows_http_conn *c);

/*
 * Parse "HOST:PORT" or "[V6]:PORT" with a numeric host or "localhost" into
 * ss. Returns 0 or -EINVAL. (server.c; the client uses it too.)
 */
int ows__http_parse_addr(const char *host_port, struct sockaddr_storage *ss);

/* respond.c */
int ows__http_conn_write(struct ows_http_conn *c, const uv_buf_t *bufs,
			 unsigned n, char *mem, void (*cb)(void *ud, int status),
			 void *ud);
/* c is freed: out of the thread's unsent list, if still in it. */
void ows__http_conn_unsent_forget(struct ows_http_conn *c);
void ows__http_conn_send_error(struct ows_http_conn *c, int status,
			       const char *code, const char *msg);
void ows__http_request_free(struct request *r);

/* Reason phrase for a status code ("Not Found"); reason.c. */
const char *ows__http_reason(int status);

#endif
