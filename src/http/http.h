/*
 * HTTP/1.1 server and client on libuv, parsing with http-parser.
 *
 * Server: keep-alive, pipelining (requests on one connection are answered
 * in order), chunked request and response bodies, "Expect: 100-continue"
 * (the interim response is sent when the handler first asks for the body),
 * bodies handed to the handler as a stream with back-pressure, header and
 * body size limits, idle and slow-client timeouts, clean 400/413/431 answers
 * for malformed or oversized input, graceful close.
 *
 * Client: one request per call on the same loop, used between nodes and
 * by the gateway. Connections are kept alive and reused per loop and
 * "host:port" (see ows_http_client_close_idle).
 *
 * Lifetime of a request: the server calls the handler once the headers are
 * complete. The request (and its arena) stays valid until the handler has
 * finished the response (ows_http_respond or ows_http_respond_end), even when
 * the peer disconnected in between: responding to a dead connection is
 * harmless (it returns -ECANCELED) and frees the request. A handler that
 * never reads the body gets it discarded by the server (or the connection
 * closed when the body is large).
 */
#ifndef OWS_HTTP_HTTP_H
#define OWS_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/arena.h"
#include "common/buf.h"

struct ows_http_header {
	const char *name;
	const char *value;
};

struct ows_http_conn; /* opaque, owned by the server */

struct ows_http_req {
	struct ows_arena arena;   /* freed when the request ends */
	const char *method;       /* "GET", "PUT", ... */
	const char *target;       /* the raw request target: "/a%20b?x=1" */
	const char *path;         /* raw (still percent-encoded) path part */
	const char *query;        /* raw query after '?', "" when none */
	struct ows_http_header *headers; /* as received, names as sent */
	size_t n_headers;
	int64_t content_length;   /* -1 when chunked or absent */
	bool chunked;
	bool keep_alive;
	char peer[64];            /* "127.0.0.1:53312" */
	struct ows_http_conn *conn;
	void *data;               /* free for the handler */
};

/* Called once per request when its headers are complete. */
typedef void (*ows_http_handler_cb)(struct ows_http_req *req, void *ud);

/*
 * Whole-body callback: status 0 and the complete body (NUL-terminated, owned
 * by the request's arena), or status < 0 when reading failed (-EMSGSIZE: the
 * body passed the limit, and the server has already answered 413; -ECANCELED:
 * the peer went away; -ETIMEDOUT: the body timeout passed; OWS_EPARSE: bad
 * chunked encoding, answered 400). After an error the handler must not
 * respond: the server ends the request. (A handler that had already called
 * ows_http_respond_start still ends its response with ows_http_respond_end.)
 */
typedef void (*ows_http_body_cb)(struct ows_http_req *req, int status,
				 const char *body, size_t len);

/*
 * Streaming callback: called for each piece of the body in order; last is
 * true exactly once, on the final call (len may be 0). status < 0 as above.
 * data is borrowed for the duration of the call.
 */
typedef void (*ows_http_chunk_cb)(struct ows_http_req *req, int status,
				  const char *data, size_t len, bool last);

struct ows_http_server_config {
	size_t max_header_bytes;   /* request line + headers; 431 past it */
	uint64_t idle_timeout_ms;  /* keep-alive connection with no request */
	uint64_t header_timeout_ms;/* whole request head must arrive in this */
	/*
	 * The body must arrive within body_timeout_ms of the handler asking
	 * for it, plus the time min_body_rate bytes/s would take for what
	 * has arrived: a deadline that bytes move only at that rate, so a
	 * client trickling a byte at a time is cut, not kept alive by it.
	 * Time the handler keeps a streamed body paused does not count.
	 */
	uint64_t body_timeout_ms;
	uint64_t min_body_rate;
	unsigned max_connections;  /* further accepts are closed at once */
	unsigned max_per_address;  /* the same, per client IP address */
	/*
	 * Answers written but not yet taken by their clients, bytes, all
	 * connections of all servers on the thread together: past it, the
	 * connections that have waited longest to take theirs are closed
	 * (not the one writing). A client that asks for big answers and
	 * never reads them holds at most this, on however many servers.
	 */
	size_t max_unsent;
};

/* Defaults: 16 KiB, 60 s, 10 s, 30 s, 16 KiB/s, 4096, 256, 128 MiB. */
void ows_http_server_config_default(struct ows_http_server_config *cfg);

struct ows_http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct ows_http_server_config cfg;
	ows_http_handler_cb handler;
	void *ud;
	struct ows_http_conn *conns; /* list of live connections */
	unsigned n_conns;
	bool closing;
	void (*close_cb)(struct ows_http_server *s);
	char bound[64];              /* "127.0.0.1:4566" after listen */
	uint64_t responses[6];       /* responses sent, by class 1xx..5xx */
	uint64_t refused_total;      /* accepts closed: max_connections */
	uint64_t refused_per_address; /* accepts closed: max_per_address */
	size_t unsent;               /* bytes written, not yet taken */
	uint64_t unsent_closed;      /* connections closed: max_unsent */
	void *by_addr;               /* internal: connections per address */
	bool listener_closed;        /* internal: close_cb waits for it */
	/*
	 * When set, the client address handlers see (req->peer) for every
	 * connection, instead of the socket's peer: a function instance's
	 * edge, served on the instance's own loopback, names the instance.
	 */
	char peer_as[64];
};

/* cfg may be NULL for the defaults. The server struct is caller-owned. */
int ows_http_server_init(struct ows_http_server *s, uv_loop_t *loop,
			 const struct ows_http_server_config *cfg,
			 ows_http_handler_cb handler, void *ud);

/*
 * Listen on "HOST:PORT" (IPv4, or "[v6]:port"); port 0 picks a free port,
 * which s->bound then shows. Returns 0 or -errno.
 */
int ows_http_server_listen(struct ows_http_server *s, const char *host_port);

/*
 * Serve on fd, a bound TCP socket (not yet listening; made, say, in
 * another network namespace), which s then owns. Returns 0 or -errno.
 */
int ows_http_server_open(struct ows_http_server *s, int fd);

/*
 * Graceful close: stop accepting, close idle connections, let requests in
 * flight finish their responses (then close those connections), and call
 * cb once every handle is closed. The caller owns s until then.
 */
void ows_http_server_close(struct ows_http_server *s,
			   void (*cb)(struct ows_http_server *s));

/* Case-insensitive header lookup; NULL when absent. */
const char *ows_http_req_header(const struct ows_http_req *req,
				const char *name);

/* Whether the peer of req hung up or its connection is being torn down
 * (a held request's client is gone). */
bool ows_http_req_peer_gone(const struct ows_http_req *req);

/* Read the whole body, up to limit bytes; see ows_http_body_cb. */
int ows_http_req_read_body(struct ows_http_req *req, size_t limit,
			   ows_http_body_cb cb);

/* Stream the body, up to limit bytes in total; see ows_http_chunk_cb. */
int ows_http_req_stream_body(struct ows_http_req *req, uint64_t limit,
			     ows_http_chunk_cb cb);

/* Back-pressure for streamed bodies: stop / resume reading the socket. */
void ows_http_req_pause(struct ows_http_req *req);
void ows_http_req_resume(struct ows_http_req *req);

/*
 * Send a complete response. The server adds Content-Length, Date and
 * Connection; body is copied (callers with large bodies use the streaming
 * calls). Returns 0, or -ECANCELED when the peer is gone (the request is
 * freed either way: req must not be used after this call).
 */
int ows_http_respond(struct ows_http_req *req, int status,
		     const struct ows_http_header *headers, size_t n_headers,
		     const void *body, size_t len);

/*
 * Streaming response: start with a known content_length, or -1 for
 * chunked encoding; then write pieces (data is borrowed until cb runs; cb may
 * be NULL when data outlives the request), then end. Writes are queued in
 * order. ows_http_respond_end frees the request.
 *
 * Once ows_http_respond_start has been called, even when it failed (for
 * example -ECANCELED because the peer is gone), the request lives until
 * ows_http_respond_end, which must always follow. A write that fails
 * returns < 0 and never calls its cb. Writing past the declared
 * content_length is -EINVAL; ending short of it closes the connection.
 */
int ows_http_respond_start(struct ows_http_req *req, int status,
			   const struct ows_http_header *headers,
			   size_t n_headers, int64_t content_length);
int ows_http_respond_write(struct ows_http_req *req, const void *data,
			   size_t len, void (*cb)(void *ud, int status),
			   void *ud);
int ows_http_respond_end(struct ows_http_req *req);

/* ---- client ---- */

struct ows_http_response {
	int status;
	struct ows_http_header *headers;
	size_t n_headers;
	char *body;         /* NUL-terminated */
	size_t body_len;
	struct ows_arena arena; /* owns headers and body */
};

const char *ows_http_response_header(const struct ows_http_response *resp,
				     const char *name);

/*
 * status 0 and the response (borrowed: valid only during the call), or
 * status < 0 (-ECONNREFUSED, -ETIMEDOUT, OWS_EPARSE, ...) and resp NULL.
 */
typedef void (*ows_http_client_cb)(void *ud, int status,
				   const struct ows_http_response *resp);

struct ows_http_client_opts {
	uint64_t timeout_ms;   /* whole exchange; 0 means 30 s */
	size_t max_body;       /* response body limit; 0 means 64 MiB */
};

/*
 * Send one request to "HOST:PORT" on loop. headers may omit Host and
 * Content-Length (added). body is copied. opts may be NULL. On success cb is
 * called exactly once, later, from the loop; on failure (returned < 0) never.
 */
int ows_http_client_request(uv_loop_t *loop, const char *host_port,
			    const char *method, const char *target,
			    const struct ows_http_header *headers,
			    size_t n_headers, const void *body, size_t len,
			    const struct ows_http_client_opts *opts,
			    ows_http_client_cb cb, void *ud);

/*
 * A streamed exchange: the request body read from a file, the response body
 * handed on in pieces, so that neither is ever whole in memory (blobs of
 * gigabytes between nodes, blob/blob.h).
 *
 * body_path (borrowed; opened at once, read on the thread pool in pieces of
 * 256 KiB, each written to the socket before the next is read): the request
 * body, body_len bytes of it (Content-Length); NULL for none.
 *
 * sink: when set and the response status is 2xx, its body goes to sink in
 * pieces of up to about 1 MiB instead of resp->body (which stays empty):
 * data is borrowed, and reading stops, until ows_http_client_sink_done(token,
 * 0) is called (a negative status ends the exchange with it). A non-2xx body
 * is read into resp->body as usual, up to max_body.
 *
 * rate_bps > 0 bounds the body's pace (either way): the next piece waits
 * while more than rate_bps bytes per second have moved since the start.
 *
 * The timeout (opts->timeout_ms) counts idleness: any progress (a piece
 * read or written, a sink done) starts it again. A streamed exchange never
 * takes nor leaves a pooled connection.
 */
typedef void (*ows_http_client_sink_cb)(void *ud, const char *data,
					size_t len, void *token);

struct ows_http_client_body {
	const char *body_path;
	uint64_t body_len;
	ows_http_client_sink_cb sink;
	void *sink_ud;
	uint64_t rate_bps;
};

/* As ows_http_client_request, with body (borrowed during the call). */
int ows_http_client_stream(uv_loop_t *loop, const char *host_port,
			   const char *method, const char *target,
			   const struct ows_http_header *headers,
			   size_t n_headers,
			   const struct ows_http_client_body *body,
			   const struct ows_http_client_opts *opts,
			   ows_http_client_cb cb, void *ud);

/* A piece given to a sink is written: status 0 reads on, < 0 ends. */
void ows_http_client_sink_done(void *token, int status);

/*
 * Blocking variant for programs without a loop of their own (the ows CLI):
 * runs a private loop until the exchange ends. On 0, *out is filled and the
 * caller releases it with ows_http_response_close.
 */
int ows_http_client_sync(const char *host_port, const char *method,
			 const char *target,
			 const struct ows_http_header *headers,
			 size_t n_headers, const void *body, size_t len,
			 const struct ows_http_client_opts *opts,
			 struct ows_http_response *out);

void ows_http_response_close(struct ows_http_response *resp);

/*
 * Keep-alive: after a response that allows it (HTTP/1.1 without
 * "Connection: close", HTTP/1.0 with "Connection: keep-alive"), read in full
 * and within the timeout, ows_http_client_request keeps the connection idle
 * on loop, and a later request to the same "host:port" sends on it; up to
 * 16 idle connections per host and 256 per loop, each closed after 30 s
 * idle. A request whose headers say "Connection: close" leaves its
 * connection unpooled. A request that finds a reused connection closed by
 * the peer (EOF, ECONNRESET or EPIPE before any byte of the response) is
 * sent once more on a fresh connection, whatever its method.
 *
 * Idle connections never keep uv_run going. Before uv_loop_close, a program
 * closes them with this call and then runs the loop once more (uv_run) so
 * their close callbacks run. ows_http_client_sync needs none of this: it
 * keeps nothing. Call from loop's thread.
 */
void ows_http_client_close_idle(uv_loop_t *loop);

/*
 * Test hook for the fuzz target and unit tests: runs the server's request
 * path over size bytes, fed piece bytes at a time (0: all at once), on a
 * connection without a socket, against a built-in handler chosen by the
 * first letter of each path ("/r" reads the body, "/s" streams it, "/c"
 * answers chunked, others 404). Returns the number of response bytes the
 * server produced.
 */
size_t ows_http_fuzz_feed(const uint8_t *data, size_t size, size_t piece);

#endif
