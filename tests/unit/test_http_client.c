/*
 * Unit tests for the HTTP client's keep-alive (src/http/client.c and
 * client_pool.c) against the module's own server, on the test's loop or
 * on a loop in a thread. The server and the basic client exchanges are
 * tested in test_http.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/unit.h"
#include "common/buf.h"
#include "http/http.h"

static void server_closed(struct ows_http_server *s)
{
	(void)s;
}

/* ---- client keep-alive ---- */

/*
 * A server that counts the connections its requests came on (by the peer
 * address, unique per connection) and answers by path: "/close" with
 * Connection: close, "/chunked" chunked, POST by echoing the body, others
 * with the path. The server runs on the test's loop, or on its own loop in
 * a thread (to let a connection go stale while the client's loop sleeps).
 */
struct ka {
	uv_loop_t loop;          /* the server's */
	uv_loop_t cloop;         /* the client's, when the server has a thread */
	struct ows_http_server srv;
	uv_async_t stop;
	pthread_t thread;
	char peers[8][64];
	int n_peers, n_requests;
	int done;                /* client calls finished */
	bool flag;               /* set by ka_timer_cb */
};

struct ka_call {
	struct ka *k;
	int status;
	int code;
	char body[32];
};

static void ka_count(struct ka *k, const struct ows_http_req *req)
{
	int i;

	k->n_requests++;
	for (i = 0; i < k->n_peers; i++)
		if (strcmp(k->peers[i], req->peer) == 0)
			return;
	if (k->n_peers < 8)
		snprintf(k->peers[k->n_peers++], sizeof(k->peers[0]), "%s",
			 req->peer);
}

static void ka_echo_cb(struct ows_http_req *req, int status, const char *body,
		       size_t len)
{
	if (status == 0)
		ows_http_respond(req, 200, NULL, 0, body, len);
}

static void ka_handler(struct ows_http_req *req, void *ud)
{
	static const struct ows_http_header close = {"Connection", "close"};

	ka_count(ud, req);
	if (strcmp(req->method, "POST") == 0) {
		OWS_CHECK_INT(ows_http_req_read_body(req, 1000, ka_echo_cb), 0);
	} else if (strcmp(req->path, "/close") == 0) {
		ows_http_respond(req, 200, &close, 1, "bye", 3);
	} else if (strcmp(req->path, "/chunked") == 0) {
		ows_http_respond_start(req, 200, NULL, 0, -1);
		ows_http_respond_write(req, "abc", 3, NULL, NULL);
		ows_http_respond_end(req);
	} else {
		ows_http_respond(req, 200, NULL, 0, req->path,
				 strlen(req->path));
	}
}

static void ka_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct ka_call *c = ud;

	c->status = status;
	if (status == 0) {
		c->code = r->status;
		snprintf(c->body, sizeof(c->body), "%s", r->body);
	}
	c->k->done++;
}

static void ka_get(struct ka *k, uv_loop_t *loop, struct ka_call *c,
		   const char *method, const char *target, const char *body)
{
	memset(c, 0, sizeof(*c));
	c->k = k;
	c->status = 1;
	OWS_CHECK_INT(ows_http_client_request(loop, k->srv.bound, method,
					      target, NULL, 0, body,
					      body ? strlen(body) : 0, NULL,
					      ka_cb, c), 0);
}

static void ka_run_until(struct ka *k, uv_loop_t *loop, int done)
{
	while (k->done < done)
		OWS_CHECK(uv_run(loop, UV_RUN_ONCE) != 0 || k->done >= done);
}

static void ka_server(struct ka *k, uv_loop_t *loop, uint64_t idle_ms)
{
	struct ows_http_server_config cfg;

	ows_http_server_config_default(&cfg);

	cfg.idle_timeout_ms = idle_ms;
	OWS_CHECK_INT(ows_http_server_init(&k->srv, loop, &cfg, ka_handler, k),
		      0);
	OWS_CHECK_INT(ows_http_server_listen(&k->srv, "127.0.0.1:0"), 0);
}

/* Server on the test's loop: close it, the idle connections, the loop. */
static void ka_end(struct ka *k)
{
	ows_http_server_close(&k->srv, server_closed);
	ows_http_client_close_idle(&k->loop);
	uv_run(&k->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&k->loop), 0);
}

static void ka_check(const struct ka_call *c, const char *body)
{
	OWS_CHECK_INT(c->status, 0);
	OWS_CHECK_INT(c->code, 200);
	OWS_CHECK_STR(c->body, body);
}

OWS_TEST(http_client_keepalive_reuse)
{
	struct ka k = {0};
	struct ka_call c;

	OWS_CHECK_INT(uv_loop_init(&k.loop), 0);
	ka_server(&k, &k.loop, 60000);
	/* Length-framed, chunked, bodiless and bodied: all on one socket. */
	ka_get(&k, &k.loop, &c, "GET", "/one", NULL);
	ka_run_until(&k, &k.loop, 1);
	ka_check(&c, "/one");
	ka_get(&k, &k.loop, &c, "GET", "/chunked", NULL);
	ka_run_until(&k, &k.loop, 2);
	ka_check(&c, "abc");
	ka_get(&k, &k.loop, &c, "HEAD", "/three", NULL);
	ka_run_until(&k, &k.loop, 3);
	ka_check(&c, "");
	ka_get(&k, &k.loop, &c, "POST", "/four", "ping");
	ka_run_until(&k, &k.loop, 4);
	ka_check(&c, "ping");
	OWS_CHECK_INT(k.n_requests, 4);
	OWS_CHECK_INT(k.n_peers, 1);
	ka_end(&k);
}

OWS_TEST(http_client_keepalive_conn_close)
{
	struct ka k = {0};
	struct ka_call c;

	OWS_CHECK_INT(uv_loop_init(&k.loop), 0);
	ka_server(&k, &k.loop, 60000);
	ka_get(&k, &k.loop, &c, "GET", "/close", NULL);
	ka_run_until(&k, &k.loop, 1);
	ka_check(&c, "bye");
	ka_get(&k, &k.loop, &c, "GET", "/close", NULL);
	ka_run_until(&k, &k.loop, 2);
	ka_check(&c, "bye");
	OWS_CHECK_INT(k.n_peers, 2);
	ka_end(&k);
}

OWS_TEST(http_client_keepalive_concurrent)
{
	struct ka k = {0};
	struct ka_call c[4];

	OWS_CHECK_INT(uv_loop_init(&k.loop), 0);
	ka_server(&k, &k.loop, 60000);
	ka_get(&k, &k.loop, &c[0], "GET", "/a", NULL);
	ka_get(&k, &k.loop, &c[1], "GET", "/b", NULL);
	ka_get(&k, &k.loop, &c[2], "GET", "/c", NULL);
	ka_run_until(&k, &k.loop, 3);
	ka_check(&c[0], "/a");
	ka_check(&c[1], "/b");
	ka_check(&c[2], "/c");
	OWS_CHECK_INT(k.n_peers, 3);
	/* Three idle now: the next one takes one of them. */
	ka_get(&k, &k.loop, &c[3], "GET", "/d", NULL);
	ka_run_until(&k, &k.loop, 4);
	ka_check(&c[3], "/d");
	OWS_CHECK_INT(k.n_peers, 3);
	ka_end(&k);
}

static void ka_timer_cb(uv_timer_t *t)
{
	((struct ka *)t->data)->flag = true;
}

/* The server drops the idle connection and the pool sees it go. */
OWS_TEST(http_client_keepalive_server_idle)
{
	struct ka k = {0};
	struct ka_call c;
	uv_timer_t t;

	OWS_CHECK_INT(uv_loop_init(&k.loop), 0);
	ka_server(&k, &k.loop, 100);
	ka_get(&k, &k.loop, &c, "GET", "/one", NULL);
	ka_run_until(&k, &k.loop, 1);
	ka_check(&c, "/one");
	uv_timer_init(&k.loop, &t);
	t.data = &k;
	uv_timer_start(&t, ka_timer_cb, 400, 0);
	while (!k.flag)
		uv_run(&k.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	OWS_CHECK_INT(k.srv.n_conns, 0);
	ka_get(&k, &k.loop, &c, "GET", "/two", NULL);
	ka_run_until(&k, &k.loop, 2);
	ka_check(&c, "/two");
	OWS_CHECK_INT(k.n_peers, 2);
	ka_end(&k);
}

static void ka_stop_cb(uv_async_t *a)
{
	struct ka *k = a->data;

	ows_http_server_close(&k->srv, server_closed);
	uv_close((uv_handle_t *)&k->stop, NULL);
}

static void *ka_thread(void *arg)
{
	struct ka *k = arg;

	uv_run(&k->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* Server on its own loop in a thread; the test's client uses k->cloop. */
static void ka_thread_start(struct ka *k, uint64_t idle_ms)
{
	OWS_CHECK_INT(uv_loop_init(&k->loop), 0);
	OWS_CHECK_INT(uv_loop_init(&k->cloop), 0);
	ka_server(k, &k->loop, idle_ms);
	uv_async_init(&k->loop, &k->stop, ka_stop_cb);
	k->stop.data = k;
	OWS_CHECK_INT(pthread_create(&k->thread, NULL, ka_thread, k), 0);
}

static void ka_thread_end(struct ka *k)
{
	uv_async_send(&k->stop);
	pthread_join(k->thread, NULL);
	OWS_CHECK_INT(uv_loop_close(&k->loop), 0);
}

/*
 * The server closes the idle connection while the client's loop is not
 * running, so the pool cannot have noticed: the next request goes out on
 * the dead connection, meets EOF or a reset, and is sent again on a new one.
 */
OWS_TEST(http_client_keepalive_retry)
{
	struct ka k = {0};
	struct ka_call c;

	ka_thread_start(&k, 100);
	ka_get(&k, &k.cloop, &c, "GET", "/one", NULL);
	ka_run_until(&k, &k.cloop, 1);
	ka_check(&c, "/one");
	usleep(400 * 1000);
	ka_get(&k, &k.cloop, &c, "POST", "/two", "again");
	ka_run_until(&k, &k.cloop, 2);
	ka_check(&c, "again");
	ows_http_client_close_idle(&k.cloop);
	uv_run(&k.cloop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&k.cloop), 0);
	ka_thread_end(&k);
	OWS_CHECK_INT(k.n_requests, 2);
	OWS_CHECK_INT(k.n_peers, 2);
}

/* Idle connections do not keep the loop running; close_idle ends them. */
OWS_TEST(http_client_keepalive_close_idle)
{
	struct ka k = {0};
	struct ka_call c[3];

	ka_thread_start(&k, 60000);
	for (int i = 0; i < 3; i++)
		ka_get(&k, &k.cloop, &c[i], "GET", "/x", NULL);
	ka_run_until(&k, &k.cloop, 3);
	for (int i = 0; i < 3; i++)
		ka_check(&c[i], "/x");
	/* Idle connections do not keep the loop running: uv_run returns at
	 * once, and they are still there (their idle timers did not fire). */
	OWS_CHECK_INT(uv_run(&k.cloop, UV_RUN_DEFAULT), 0);
	OWS_CHECK_INT(uv_loop_close(&k.cloop), UV_EBUSY);
	ows_http_client_close_idle(&k.cloop);
	ows_http_client_close_idle(&k.cloop); /* nothing left: harmless */
	uv_run(&k.cloop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&k.cloop), 0);
	ka_thread_end(&k);
	OWS_CHECK_INT(k.n_peers, 3);
}

/* The blocking client keeps nothing: each call its own connection. */
OWS_TEST(http_client_keepalive_sync)
{
	struct ows_http_response resp;
	struct ka k = {0};

	ka_thread_start(&k, 60000);
	for (int i = 0; i < 2; i++) {
		OWS_CHECK_INT(ows_http_client_sync(k.srv.bound, "GET", "/s",
						   NULL, 0, NULL, 0, NULL,
						   &resp), 0);
		OWS_CHECK_INT(resp.status, 200);
		OWS_CHECK_STR(resp.body, "/s");
		ows_http_response_close(&resp);
	}
	OWS_CHECK_INT(uv_loop_close(&k.cloop), 0);
	ka_thread_end(&k);
	OWS_CHECK_INT(k.n_peers, 2);
}
