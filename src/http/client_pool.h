/*
 * Internal to the HTTP client: the connections it sends requests on and the
 * per-loop pool of idle ones kept for reuse (HTTP/1.1 keep-alive), shared by
 * client.c (one exchange) and client_pool.c (idle list, limits, timeouts).
 * Nothing outside src/http includes this file.
 *
 * A connection is either owned by one exchange (owner set, its handles
 * counted by the loop) or idle in its loop's pool (owner NULL, handles
 * unref'd so they never keep uv_run going, reading only to notice the peer
 * closing it). Reading, once started, is never stopped: the same callbacks
 * serve both states. An idle connection that sees any input, EOF or error, or that
 * stays idle for OWS_HTTP_POOL_IDLE_MS, is closed.
 */
#ifndef OWS_HTTP_CLIENT_POOL_H
#define OWS_HTTP_CLIENT_POOL_H

#include <stdbool.h>
#include <uv.h>

#define OWS_HTTP_POOL_PER_HOST 16     /* idle connections per "host:port" */
#define OWS_HTTP_POOL_MAX 256         /* idle connections per loop */
#define OWS_HTTP_POOL_IDLE_MS 30000   /* then an idle connection is closed */

struct ows_http_pool;

struct ows_http_cconn {
	uv_tcp_t tcp;
	uv_timer_t timer;            /* idle timeout; always unref'd */
	uv_connect_t connect;
	uv_write_t write;
	void *owner;                 /* the exchange using it; NULL otherwise */
	struct ows_http_pool *pool;  /* set while idle */
	struct ows_http_cconn *next, *prev; /* the pool's list, newest first */
	bool writing;                /* a uv_write is in flight */
	bool reading;                /* client.c's read callbacks are set */
	unsigned pending_closes;
	char key[96];                /* "host:port" as the caller wrote it */
	char scratch[64];            /* read buffer while idle */
};

/*
 * A new connection (handles initialised, not connected) to key on loop; the
 * caller owns it and connects it. Returns 0, -ENOMEM or -ENAMETOOLONG (key
 * longer than the key buffer: such connections are simply never pooled).
 */
int ows__http_cconn_new(uv_loop_t *loop, const char *key,
			struct ows_http_cconn **out);

/* Close a connection that is not idle; freed once its handles are closed. */
void ows__http_cconn_close(struct ows_http_cconn *c);

/*
 * An idle connection to key on loop, or NULL. The caller owns it: its
 * handles count for the loop again, and owner is NULL until the caller sets
 * it. Reading goes on with the client's callbacks, which hand input that
 * arrives while the connection is idle to ows__http_pool_idle_input.
 */
struct ows_http_cconn *ows__http_pool_take(uv_loop_t *loop, const char *key);

/*
 * Give back a connection whose last response was read completely, that
 * allows keep-alive and has no write in flight (taken). It stays idle, or is
 * closed when the pool for its host is full; past OWS_HTTP_POOL_MAX idle
 * connections on the loop, the oldest one is closed to make room.
 */
void ows__http_pool_put(uv_loop_t *loop, struct ows_http_cconn *c);

/*
 * Input (bytes, EOF or an error) on a connection without an owner: when it
 * is idle in its pool, the peer closed it or is out of step, so it is
 * dropped; otherwise it is being closed already and nothing is done.
 */
void ows__http_pool_idle_input(struct ows_http_cconn *c);

#endif
