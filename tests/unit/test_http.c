/*
 * Unit tests for src/http: a real server on 127.0.0.1 (port 0) and a uv loop
 * in the test; the peer is either a blocking socket in a thread (to send
 * exactly the bytes a case needs, malformed ones included) or the module's
 * own client. Responses read by the raw peer are parsed with http-parser.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <http_parser.h>

#include "../lib/unit.h"
#include "common/buf.h"
#include "http/http.h"

/* ---- fixture: server on a loop, raw peer in a thread ---- */

struct fx;
typedef void (*peer_fn)(struct fx *f);

struct fx {
	uv_loop_t loop;
	struct ows_http_server srv;
	uv_async_t done;
	uv_timer_t timer;       /* free for a test's handler */
	pthread_t thread;
	int port;
	peer_fn peer;
	bool closed;
	/* filled by handlers (loop thread) */
	int n_requests;
	int body_status;
	struct ows_buf got;
	uint64_t counted;
	int pauses;
	struct ows_http_req *held;
	void *conn_seen[4];
	/* a second server on the same loop (two), with the same handler */
	bool two;
	struct ows_http_server srv2;
	int port2;
	/* filled by the peer thread */
	int ok;
};

static void server_closed(struct ows_http_server *s)
{
	(void)s;
}

static void done_cb(uv_async_t *a)
{
	struct fx *f = a->data;

	ows_http_server_close(&f->srv, server_closed);
	if (f->two)
		ows_http_server_close(&f->srv2, server_closed);
	uv_close((uv_handle_t *)&f->done, NULL);
	uv_close((uv_handle_t *)&f->timer, NULL);
	f->closed = true;
}

static void *peer_main(void *arg)
{
	struct fx *f = arg;

	f->peer(f);
	uv_async_send(&f->done);
	return NULL;
}

static void fx_run(struct fx *f, const struct ows_http_server_config *cfg,
		   ows_http_handler_cb handler, peer_fn peer)
{
	const char *colon;

	OWS_CHECK_INT(uv_loop_init(&f->loop), 0);
	OWS_CHECK_INT(ows_http_server_init(&f->srv, &f->loop, cfg, handler, f),
		      0);
	OWS_CHECK_INT(ows_http_server_listen(&f->srv, "127.0.0.1:0"), 0);
	colon = strrchr(f->srv.bound, ':');
	OWS_CHECK(colon != NULL);
	f->port = atoi(colon + 1);
	OWS_CHECK(f->port > 0);
	if (f->two) {
		OWS_CHECK_INT(ows_http_server_init(&f->srv2, &f->loop, cfg,
						   handler, f), 0);
		OWS_CHECK_INT(ows_http_server_listen(&f->srv2, "127.0.0.1:0"),
			      0);
		f->port2 = atoi(strrchr(f->srv2.bound, ':') + 1);
	}
	OWS_CHECK_INT(uv_async_init(&f->loop, &f->done, done_cb), 0);
	f->done.data = f;
	uv_timer_init(&f->loop, &f->timer);
	f->timer.data = f;
	f->peer = peer;
	OWS_CHECK_INT(pthread_create(&f->thread, NULL, peer_main, f), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pthread_join(f->thread, NULL);
	OWS_CHECK(f->closed);
	OWS_CHECK_INT(f->srv.n_conns, 0);
	OWS_CHECK_INT(uv_loop_close(&f->loop), 0);
	ows_buf_free(&f->got);
}

static struct ows_http_server_config test_cfg(void)
{
	struct ows_http_server_config cfg;

	ows_http_server_config_default(&cfg);
	return cfg;
}

/* ---- raw peer ---- */

struct resp {
	int status;
	struct ows_buf headers; /* "name: value\n" lines */
	struct ows_buf body;
};

struct rawc {
	int fd;
	http_parser p;
	struct resp r[8];
	int n;
	bool eof, in_value;
};

static int rc_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct rawc *rc = p->data;
	struct ows_buf *h = &rc->r[rc->n].headers;

	if (rc->in_value)
		ows_buf_puts(h, "\n");
	rc->in_value = false;
	return ows_buf_append(h, at, len);
}

static int rc_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct rawc *rc = p->data;
	struct ows_buf *h = &rc->r[rc->n].headers;

	if (!rc->in_value)
		ows_buf_puts(h, ": ");
	rc->in_value = true;
	return ows_buf_append(h, at, len);
}

static int rc_on_body(http_parser *p, const char *at, size_t len)
{
	struct rawc *rc = p->data;

	return ows_buf_append(&rc->r[rc->n].body, at, len);
}

static int rc_on_headers_complete(http_parser *p)
{
	struct rawc *rc = p->data;

	rc->r[rc->n].status = p->status_code;
	if (rc->in_value)
		ows_buf_puts(&rc->r[rc->n].headers, "\n");
	rc->in_value = false;
	return 0;
}

static int rc_on_message_complete(http_parser *p)
{
	struct rawc *rc = p->data;

	if (rc->n < 7)
		rc->n++;
	return 0;
}

static const http_parser_settings rc_settings = {
	.on_header_field = rc_on_header_field,
	.on_header_value = rc_on_header_value,
	.on_headers_complete = rc_on_headers_complete,
	.on_body = rc_on_body,
	.on_message_complete = rc_on_message_complete,
};

/* When set, the receive buffer of the next rc_open's socket (a client
   slow to take what it is sent). */
static int rc_rcvbuf;

static void rc_open(struct rawc *rc, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 20};

	memset(rc, 0, sizeof(*rc));
	rc->fd = socket(AF_INET, SOCK_STREAM, 0);
	OWS_CHECK(rc->fd >= 0);
	setsockopt(rc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (rc_rcvbuf > 0)
		setsockopt(rc->fd, SOL_SOCKET, SO_RCVBUF, &rc_rcvbuf,
			   sizeof(rc_rcvbuf));
	OWS_CHECK_INT(connect(rc->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	http_parser_init(&rc->p, HTTP_RESPONSE);
	rc->p.data = rc;
}

static void rc_send(struct rawc *rc, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(rc->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		OWS_CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void rc_puts(struct rawc *rc, const char *s)
{
	rc_send(rc, s, strlen(s));
}

/* Read until n responses are complete or the server closes. */
static void rc_wait(struct rawc *rc, int n)
{
	char buf[65536];

	while (rc->n < n && !rc->eof) {
		ssize_t got = recv(rc->fd, buf, sizeof(buf), 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc->eof = true;
			http_parser_execute(&rc->p, &rc_settings, buf, 0);
			break;
		}
		http_parser_execute(&rc->p, &rc_settings, buf, (size_t)got);
		OWS_CHECK_INT(HTTP_PARSER_ERRNO(&rc->p), HPE_OK);
	}
}

/* Whether the server closes the connection (EOF, not a timeout). */
static bool rc_wait_eof(struct rawc *rc)
{
	char buf[4096];
	ssize_t got;

	do
		got = recv(rc->fd, buf, sizeof(buf), 0);
	while (got > 0 || (got < 0 && errno == EINTR));
	return got == 0 || (got < 0 && errno == ECONNRESET);
}

/* Read byte by byte up to the blank line ending a head. */
static bool rc_read_head(struct rawc *rc, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && recv(rc->fd, buf + n, 1, 0) == 1) {
		buf[++n] = '\0';
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			return true;
	}
	return false;
}

static bool has(const struct resp *r, const char *line)
{
	return r->headers.data != NULL && strstr(r->headers.data, line);
}

static void rc_close(struct rawc *rc)
{
	close(rc->fd);
	for (int i = 0; i < 8; i++) {
		ows_buf_free(&rc->r[i].headers);
		ows_buf_free(&rc->r[i].body);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- handlers ---- */

static void echo_body_cb(struct ows_http_req *req, int status,
			 const char *body, size_t len)
{
	struct fx *f = req->data;

	f->body_status = status;
	if (status != 0)
		return;
	OWS_CHECK_INT(strlen(body), len);
	ows_http_respond(req, 200, NULL, 0, body, len);
}

/* GET /x: "path query header"; POST: echo the body (limit 1000). */
static void basic_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;
	const char *h = ows_http_req_header(req, "x-TEST");
	char out[256];
	int n;

	if (f->n_requests < 4)
		f->conn_seen[f->n_requests] = req->conn;
	f->n_requests++;
	req->data = f;
	if (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0) {
		OWS_CHECK_INT(ows_http_req_read_body(req, 1000, echo_body_cb),
			      0);
		return;
	}
	n = snprintf(out, sizeof(out), "%s %s %s", req->path, req->query,
		     h ? h : "-");
	ows_http_respond(req, 200, NULL, 0, out, (size_t)n);
}

static void peer_simple_get(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n"
		     "X-Test: Yes\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.n, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK_STR(rc.r[0].body.data, "/hello x=1 Yes");
	OWS_CHECK(has(&rc.r[0], "Content-Length: 14"));
	OWS_CHECK(has(&rc.r[0], "Date: "));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_simple_get)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_simple_get);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 1);
}

static void peer_keepalive(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 1);
	rc_puts(&rc, "GET /two HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 2);
	OWS_CHECK_INT(rc.n, 2);
	OWS_CHECK_STR(rc.r[0].body.data, "/one  -");
	OWS_CHECK_STR(rc.r[1].body.data, "/two  -");
	OWS_CHECK(!has(&rc.r[1], "Connection: close"));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_keepalive)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_keepalive);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 2);
	OWS_CHECK(f.conn_seen[0] == f.conn_seen[1]);
}

/* The first request is answered late, from a timer: order must hold. */
static void late_cb(uv_timer_t *t)
{
	struct fx *f = t->data;

	ows_http_respond(f->held, 200, NULL, 0, "1", 1);
	f->held = NULL;
}

static void slow_first_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;

	f->n_requests++;
	if (strcmp(req->path, "/1") == 0) {
		f->held = req;
		uv_timer_start(&f->timer, late_cb, 50, 0);
		return;
	}
	ows_http_respond(req, 200, NULL, 0, req->path + 1, 1);
}

static void peer_pipelining(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
		     "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
		     "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 3);
	OWS_CHECK_INT(rc.n, 3);
	OWS_CHECK_STR(rc.r[0].body.data, "1");
	OWS_CHECK_STR(rc.r[1].body.data, "2");
	OWS_CHECK_STR(rc.r[2].body.data, "3");
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_pipelining)
{
	struct fx f = {0};

	fx_run(&f, NULL, slow_first_handler, peer_pipelining);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 3);
}

static void peer_chunked_request(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "POST /up HTTP/1.1\r\nHost: a\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
	usleep(20000);
	rc_puts(&rc, "6\r\n world\r\n0\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK_STR(rc.r[0].body.data, "hello world");
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_chunked_request)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_chunked_request);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.body_status, 0);
}

static void chunked_handler(struct ows_http_req *req, void *ud)
{
	static const struct ows_http_header h = {"Content-Type", "text/plain"};

	(void)ud;
	OWS_CHECK_INT(ows_http_respond_start(req, 200, &h, 1, -1), 0);
	OWS_CHECK_INT(ows_http_respond_write(req, "abc", 3, NULL, NULL), 0);
	OWS_CHECK_INT(ows_http_respond_write(req, "defg", 4, NULL, NULL), 0);
	OWS_CHECK_INT(ows_http_respond_end(req), 0);
}

static void peer_chunked_response(struct fx *f)
{
	char buf[1024];
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK(has(&rc.r[0], "Transfer-Encoding: chunked"));
	OWS_CHECK(has(&rc.r[0], "Content-Type: text/plain"));
	OWS_CHECK_STR(rc.r[0].body.data, "abcdefg");
	rc_close(&rc);

	/* HEAD: the same head, no body, and the connection stays usable. */
	rc_open(&rc, f->port);
	rc_puts(&rc, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
	OWS_CHECK(rc_read_head(&rc, buf, sizeof(buf)));
	OWS_CHECK(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf);
	rc_puts(&rc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK_STR(rc.r[0].body.data, "abcdefg");
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_chunked_response)
{
	struct fx f = {0};

	fx_run(&f, NULL, chunked_handler, peer_chunked_response);
	OWS_CHECK_INT(f.ok, 1);
}

/*
 * Answers bigger than a write piece (256 KiB): a chunk whose size line,
 * data and CRLF cross piece boundaries, and a whole answer of 3 MiB + 1.
 */
#define BIG_CHUNK ((1u << 20) + 5)
#define BIG_WHOLE ((3u << 20) + 1)

static char big_data[BIG_WHOLE];

static void big_fill(void)
{
	for (size_t i = 0; i < sizeof(big_data); i++)
		big_data[i] = (char)('a' + i * 7 % 26);
}

static void big_handler(struct ows_http_req *req, void *ud)
{
	(void)ud;
	if (strcmp(req->path, "/whole") == 0) {
		ows_http_respond(req, 200, NULL, 0, big_data, BIG_WHOLE);
		return;
	}
	OWS_CHECK_INT(ows_http_respond_start(req, 200, NULL, 0, -1), 0);
	OWS_CHECK_INT(ows_http_respond_write(req, big_data, BIG_CHUNK, NULL,
					     NULL), 0);
	OWS_CHECK_INT(ows_http_respond_write(req, "xyz", 3, NULL, NULL), 0);
	OWS_CHECK_INT(ows_http_respond_end(req), 0);
}

static void peer_big(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n"
		     "GET /whole HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 2);
	OWS_CHECK_INT(rc.n, 2);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK_INT(rc.r[0].body.len, BIG_CHUNK + 3);
	OWS_CHECK(memcmp(rc.r[0].body.data, big_data, BIG_CHUNK) == 0);
	OWS_CHECK(memcmp(rc.r[0].body.data + BIG_CHUNK, "xyz", 3) == 0);
	OWS_CHECK_INT(rc.r[1].status, 200);
	OWS_CHECK_INT(rc.r[1].body.len, BIG_WHOLE);
	OWS_CHECK(memcmp(rc.r[1].body.data, big_data, BIG_WHOLE) == 0);
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_big_answers_in_pieces)
{
	struct fx f = {0};

	big_fill();
	fx_run(&f, NULL, big_handler, peer_big);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.srv.unsent, 0); /* every piece given back */
}

/*
 * Answers not taken are bounded over every server of the thread, not
 * each: a client that reads nothing on one server is closed when a
 * client of another server passes the bound (a function could hold the
 * bound on each of its instances' servers).
 */
#define HUGE_ANSWER (12u << 20)

static void huge_handler(struct ows_http_req *req, void *ud)
{
	char *body = malloc(HUGE_ANSWER);

	(void)ud;
	OWS_CHECK(body != NULL);
	memset(body, 'h', HUGE_ANSWER);
	ows_http_respond(req, 200, NULL, 0, body, HUGE_ANSWER);
	free(body);
}

static void peer_unsent_two_servers(struct fx *f)
{
	struct rawc a, b;

	rc_rcvbuf = 4096;
	rc_open(&a, f->port);
	rc_puts(&a, "GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
	usleep(300 * 1000); /* its answer waits, not taken */
	rc_open(&b, f->port2);
	rc_rcvbuf = 0;
	rc_puts(&b, "GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
	OWS_CHECK(rc_wait_eof(&a)); /* closed for b's answer */
	rc_wait(&b, 1);
	OWS_CHECK_INT(b.n, 1);
	OWS_CHECK_INT(b.r[0].status, 200);
	OWS_CHECK_INT(b.r[0].body.len, HUGE_ANSWER);
	rc_close(&a);
	rc_close(&b);
	f->ok = 1;
}

OWS_TEST(http_unsent_bound_counts_every_server_of_the_thread)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {.two = true};

	cfg.max_unsent = 64 * 1024;
	fx_run(&f, &cfg, huge_handler, peer_unsent_two_servers);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.srv.unsent_closed, 1);
	OWS_CHECK_INT(f.srv2.unsent_closed, 0);
	OWS_CHECK_INT(f.srv.unsent + f.srv2.unsent, 0);
}

static void expect_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;

	f->n_requests++;
	req->data = f;
	if (strcmp(req->path, "/deny") == 0) {
		ows_http_respond(req, 403, NULL, 0, "no", 2);
		return;
	}
	OWS_CHECK_INT(ows_http_req_read_body(req, 1000, echo_body_cb), 0);
}

static void peer_expect(struct fx *f)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	char buf[sizeof(cont)] = {0};
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		     "Expect: 100-continue\r\n\r\n");
	OWS_CHECK_INT(recv(rc.fd, buf, sizeof(cont) - 1, MSG_WAITALL),
		      sizeof(cont) - 1);
	OWS_CHECK_STR(buf, cont);
	rc_puts(&rc, "hello");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK_STR(rc.r[0].body.data, "hello");
	rc_close(&rc);

	/* Refused before the body: no 100, and the connection ends. */
	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		     "Expect: 100-continue\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.n, 1);
	OWS_CHECK_INT(rc.r[0].status, 403);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	OWS_CHECK(rc_wait_eof(&rc));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_expect_continue)
{
	struct fx f = {0};

	fx_run(&f, NULL, expect_handler, peer_expect);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 2);
}

static void peer_body_over_limit(struct fx *f)
{
	char chunk[2100];
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "POST /big HTTP/1.1\r\nHost: a\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n");
	memcpy(chunk, "7d0\r\n", 5);
	memset(chunk + 5, 'x', 2000);
	memcpy(chunk + 2005, "\r\n0\r\n\r\n", 7);
	rc_send(&rc, chunk, 2012);
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 413);
	OWS_CHECK(has(&rc.r[0], "Content-Type: application/json"));
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	OWS_CHECK(strstr(rc.r[0].body.data, "\"code\":\"EntityTooLarge\""));
	OWS_CHECK(rc_wait_eof(&rc));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_body_over_limit)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_body_over_limit);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.body_status, -EMSGSIZE);
}

static void peer_length_over_limit(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	/* Only the head: the answer must not wait for the gigabyte. */
	rc_puts(&rc, "PUT /big HTTP/1.1\r\nHost: a\r\n"
		     "Content-Length: 1000000000\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 413);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_content_length_over_limit)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_length_over_limit);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.body_status, -EMSGSIZE);
}

static void peer_header_too_large(struct fx *f)
{
	char big[4000];
	struct rawc rc;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rc_open(&rc, f->port);
	rc_puts(&rc, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	rc_puts(&rc, big);
	rc_puts(&rc, "\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 431);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	OWS_CHECK(strstr(rc.r[0].body.data, "RequestHeaderFieldsTooLarge"));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_header_too_large)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.max_header_bytes = 1024;
	fx_run(&f, &cfg, basic_handler, peer_header_too_large);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 0);
}

static void peer_malformed(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GARBAGE\x01 / HTTP/9\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 400);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	OWS_CHECK(has(&rc.r[0], "Content-Type: application/json"));
	OWS_CHECK(strstr(rc.r[0].body.data, "{\"code\":\"BadRequest\","));
	OWS_CHECK(rc_wait_eof(&rc));
	rc_close(&rc);

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_malformed_request)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_malformed);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 1);
}

static void count_cb(struct ows_http_req *req, int status, const char *data,
		     size_t len, bool last);

/* ---- bodies the handler leaves unread ---- */

static void ignore_body_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;

	f->n_requests++;
	ows_http_respond(req, 201, NULL, 0, req->path, strlen(req->path));
}

static void peer_unread(struct fx *f)
{
	static char body[2 << 20];
	struct rawc rc;

	memset(body, 'q', sizeof(body));
	/* Small: drained, and the connection goes on. */
	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /a HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
		     "0123456789GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 2);
	OWS_CHECK_INT(rc.n, 2);
	OWS_CHECK(!has(&rc.r[0], "Connection: close"));
	OWS_CHECK_STR(rc.r[1].body.data, "/b");
	rc_close(&rc);

	/* Large: answered, then the connection ends. */
	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /c HTTP/1.1\r\nHost: a\r\nContent-Length: 2097152"
		     "\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 201);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	rc_send(&rc, body, sizeof(body));
	OWS_CHECK(rc_wait_eof(&rc));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_unread_body)
{
	struct fx f = {0};

	fx_run(&f, NULL, ignore_body_handler, peer_unread);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.n_requests, 3);
}

static void peer_max_conns(struct fx *f)
{
	struct rawc a, b;

	rc_open(&a, f->port);
	rc_puts(&a, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&a, 1);
	rc_open(&b, f->port);
	OWS_CHECK(rc_wait_eof(&b));
	rc_close(&b);
	rc_puts(&a, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&a, 2);
	OWS_CHECK_INT(a.r[1].status, 200);
	rc_close(&a);
	f->ok = 1;
}

OWS_TEST(http_max_connections)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.max_connections = 1;
	fx_run(&f, &cfg, basic_handler, peer_max_conns);
	OWS_CHECK_INT(f.ok, 1);
}

static void peer_body_stalls(struct fx *f)
{
	struct rawc rc;

	/* Stalls: the body timeout ends it. */
	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
		     "0123456789");
	OWS_CHECK(rc_wait_eof(&rc));
	OWS_CHECK_INT(rc.n, 0);
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_body_timeout)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.body_timeout_ms = 200;
	fx_run(&f, &cfg, basic_handler, peer_body_stalls);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.body_status, -ETIMEDOUT);
}

/*
 * A byte every 20 ms: each byte used to restart the body timeout, so the
 * 1000-byte body was read in full (20 s) and answered. The deadline does
 * not move for bytes that come this slowly: the connection is cut while
 * the peer still sends.
 */
static void peer_body_trickles(struct fx *f)
{
	struct rawc rc;
	char buf[256];
	int sent = 0;

	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n"
		     "\r\n");
	for (; sent < 1000; sent++) {
		ssize_t got = recv(rc.fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (got == 0 || (got < 0 && errno != EAGAIN &&
				 errno != EWOULDBLOCK))
			break;
		if (send(rc.fd, "x", 1, MSG_NOSIGNAL) != 1)
			break;
		usleep(20000);
	}
	OWS_CHECK(sent < 1000);
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_body_trickle_cut)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.body_timeout_ms = 300;
	fx_run(&f, &cfg, basic_handler, peer_body_trickles);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.body_status, -ETIMEDOUT);
}

/*
 * Past max_per_address connections from one address, a new one is closed
 * at once (and counted); once one leaves, the address may connect again.
 */
static void peer_per_address(struct fx *f)
{
	struct rawc a, b, c;

	rc_open(&a, f->port);
	rc_open(&b, f->port);
	rc_puts(&a, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&a, 1);
	rc_puts(&b, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&b, 1);
	rc_open(&c, f->port);
	OWS_CHECK(rc_wait_eof(&c));
	rc_close(&c);
	rc_close(&a);
	usleep(100000); /* the server sees a go */
	rc_open(&c, f->port);
	rc_puts(&c, "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&c, 1);
	OWS_CHECK_INT(c.r[0].status, 200);
	rc_close(&c);
	rc_close(&b);
	f->ok = 1;
}

OWS_TEST(http_max_per_address)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.max_per_address = 2;
	fx_run(&f, &cfg, basic_handler, peer_per_address);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.srv.refused_per_address, 1);
	OWS_CHECK(f.srv.by_addr == NULL);
}

static void peer_body_gone(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
		     "0123456789");
	usleep(50000);
	rc_close(&rc);
	f->ok = 1;
}

static void gone_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;

	f->n_requests++;
	req->data = f;
	OWS_CHECK_INT(ows_http_req_stream_body(req, 1000, count_cb), 0);
}

OWS_TEST(http_body_peer_gone)
{
	struct fx f = {0};

	fx_run(&f, NULL, gone_handler, peer_body_gone);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.counted, 10);
	OWS_CHECK_INT(f.body_status, -ECANCELED);
}

/* ---- streaming a large body with back-pressure ---- */

#define BIG (64ull << 20)
#define PAUSE_EVERY (4u << 20)

static void resume_cb(uv_timer_t *t)
{
	struct fx *f = t->data;

	ows_http_req_resume(f->held);
}

static void count_cb(struct ows_http_req *req, int status, const char *data,
		     size_t len, bool last)
{
	struct fx *f = req->data;
	char out[32];
	int n;

	(void)data;
	f->body_status = status;
	if (status != 0)
		return;
	OWS_CHECK(len <= 256 * 1024);
	if (f->counted / PAUSE_EVERY != (f->counted + len) / PAUSE_EVERY &&
	    !last) {
		f->pauses++;
		ows_http_req_pause(req);
		uv_timer_start(&f->timer, resume_cb, 5, 0);
	}
	f->counted += len;
	if (last) {
		n = snprintf(out, sizeof(out), "%llu",
			     (unsigned long long)f->counted);
		ows_http_respond(req, 200, NULL, 0, out, (size_t)n);
	}
}

static void stream_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;

	req->data = f;
	f->held = req;
	OWS_CHECK_INT(req->content_length, (int64_t)BIG);
	OWS_CHECK_INT(ows_http_req_stream_body(req, BIG, count_cb), 0);
}

static void peer_stream(struct fx *f)
{
	static char block[256 * 1024];
	struct rawc rc;
	char head[128];

	memset(block, 'z', sizeof(block));
	rc_open(&rc, f->port);
	snprintf(head, sizeof(head),
		 "PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: %llu\r\n\r\n",
		 (unsigned long long)BIG);
	rc_puts(&rc, head);
	for (uint64_t sent = 0; sent < BIG; sent += sizeof(block))
		rc_send(&rc, block, sizeof(block));
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK_STR(rc.r[0].body.data, "67108864");
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_stream_64mib)
{
	struct fx f = {0};

	fx_run(&f, NULL, stream_handler, peer_stream);
	OWS_CHECK_INT(f.ok, 1);
	OWS_CHECK_INT(f.counted, BIG);
	OWS_CHECK(f.pauses >= 10);
}

/* ---- timeouts ---- */

static void peer_idle(struct fx *f)
{
	struct rawc rc;
	int64_t t0, dt;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	t0 = now_ms();
	OWS_CHECK(rc_wait_eof(&rc));
	dt = now_ms() - t0;
	OWS_CHECK(dt >= 100 && dt < 3000);
	rc_close(&rc);

	/* A head that never ends is cut off too (slow loris). */
	rc_open(&rc, f->port);
	t0 = now_ms();
	rc_puts(&rc, "GET / HTTP/1.1\r\nHost: a\r\n");
	usleep(100000);
	rc_puts(&rc, "X-A: b\r\n");
	OWS_CHECK(rc_wait_eof(&rc));
	dt = now_ms() - t0;
	OWS_CHECK(dt >= 250 && dt < 3000);
	rc_close(&rc);
	f->ok = 1;
}

/* 64 MiB in 256 KiB pieces, each written once the last one is taken. */
#define STALL_PIECE (256 * 1024)
#define STALL_TOTAL (64u << 20)

struct staller {
	struct ows_http_req *req;
	size_t sent;
};

static void stall_next(void *ud, int status)
{
	static char piece[STALL_PIECE];
	struct staller *s = ud;

	if (status != 0 || s->sent == STALL_TOTAL ||
	    ows_http_respond_write(s->req, piece, STALL_PIECE, stall_next,
				   s) != 0) {
		ows_http_respond_end(s->req); /* done, or the peer is gone */
		return;
	}
	s->sent += STALL_PIECE;
}

static void stall_handler(struct ows_http_req *req, void *ud)
{
	static struct staller s;

	(void)ud;
	s = (struct staller){.req = req};
	OWS_CHECK_INT(ows_http_respond_start(req, 200, NULL, 0, STALL_TOTAL),
		      0);
	stall_next(&s, 0);
}

/* A peer that stops reading a response is cut after the idle timeout. */
static void peer_stops_reading(struct fx *f)
{
	char buf[65536];
	size_t total = 0;
	ssize_t got;

	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	got = recv(rc.fd, buf, 1000, 0);
	OWS_CHECK(got > 0);
	usleep(1500 * 1000); /* stalled far past the 200 ms timeout */
	do {
		got = recv(rc.fd, buf, sizeof(buf), 0);
		if (got > 0)
			total += (size_t)got;
	} while (got > 0 || (got < 0 && errno == EINTR));
	OWS_CHECK(got == 0 || errno == ECONNRESET);
	OWS_CHECK(total < STALL_TOTAL / 2); /* cut, not served to the end */
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_peer_that_stops_reading_is_cut)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.idle_timeout_ms = 200;
	fx_run(&f, &cfg, stall_handler, peer_stops_reading);
	OWS_CHECK_INT(f.ok, 1);
}

OWS_TEST(http_idle_timeout)
{
	struct ows_http_server_config cfg = test_cfg();
	struct fx f = {0};

	cfg.idle_timeout_ms = 200;
	cfg.header_timeout_ms = 300;
	fx_run(&f, &cfg, basic_handler, peer_idle);
	OWS_CHECK_INT(f.ok, 1);
}

static void peer_http10(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /old HTTP/1.0\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	OWS_CHECK(rc_wait_eof(&rc));
	rc_close(&rc);

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK(has(&rc.r[0], "Connection: keep-alive"));
	rc_puts(&rc, "GET /again HTTP/1.0\r\n\r\n");
	rc_wait(&rc, 2);
	OWS_CHECK_STR(rc.r[1].body.data, "/again  -");
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_http10)
{
	struct fx f = {0};

	fx_run(&f, NULL, basic_handler, peer_http10);
	OWS_CHECK_INT(f.ok, 1);
}

/* ---- graceful close: a request in flight still gets its answer ---- */

static void close_early_cb(uv_timer_t *t)
{
	struct fx *f = t->data;

	ows_http_server_close(&f->srv, server_closed);
	uv_timer_start(&f->timer, late_cb, 50, 0);
}

static void graceful_handler(struct ows_http_req *req, void *ud)
{
	struct fx *f = ud;

	f->held = req;
	uv_timer_start(&f->timer, close_early_cb, 20, 0);
}

static void peer_graceful(struct fx *f)
{
	struct rawc rc;

	rc_open(&rc, f->port);
	rc_puts(&rc, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	rc_wait(&rc, 1);
	OWS_CHECK_INT(rc.r[0].status, 200);
	OWS_CHECK(has(&rc.r[0], "Connection: close"));
	OWS_CHECK(rc_wait_eof(&rc));
	rc_close(&rc);
	f->ok = 1;
}

OWS_TEST(http_graceful_close)
{
	struct fx f = {0};

	fx_run(&f, NULL, graceful_handler, peer_graceful);
	OWS_CHECK_INT(f.ok, 1);
}

/* ---- client ---- */

struct cl_fx {
	struct fx *f;
	int status;
	int calls;
	char body[64];
	char hdr[64];
};

static void client_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct cl_fx *c = ud;
	const char *h;

	c->calls++;
	c->status = status;
	if (status == 0) {
		OWS_CHECK_INT(r->status, 200);
		snprintf(c->body, sizeof(c->body), "%s", r->body);
		h = ows_http_response_header(r, "content-length");
		snprintf(c->hdr, sizeof(c->hdr), "%s", h ? h : "");
	}
	ows_http_server_close(&c->f->srv, server_closed);
	uv_close((uv_handle_t *)&c->f->done, NULL);
	uv_close((uv_handle_t *)&c->f->timer, NULL);
	c->f->closed = true;
}

OWS_TEST(http_client_roundtrip)
{
	static const struct ows_http_header h = {"X-Test", "v"};
	struct fx f = {0};
	struct cl_fx c = {.f = &f};

	OWS_CHECK_INT(uv_loop_init(&f.loop), 0);
	OWS_CHECK_INT(ows_http_server_init(&f.srv, &f.loop, NULL,
					   basic_handler, &f), 0);
	OWS_CHECK_INT(ows_http_server_listen(&f.srv, "127.0.0.1:0"), 0);
	uv_async_init(&f.loop, &f.done, done_cb);
	uv_timer_init(&f.loop, &f.timer);
	OWS_CHECK_INT(ows_http_client_request(&f.loop, f.srv.bound, "POST",
					      "/echo", &h, 1, "ping!", 5,
					      NULL, client_cb, &c), 0);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(c.calls, 1);
	OWS_CHECK_INT(c.status, 0);
	OWS_CHECK_STR(c.body, "ping!");
	OWS_CHECK_STR(c.hdr, "5");
	OWS_CHECK_INT(f.n_requests, 1);
	/* The connection stays idle in the loop's pool until closed. */
	ows_http_client_close_idle(&f.loop);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&f.loop), 0);
}

/* A port that was free a moment ago: nothing listens there. */
static int closed_port(bool listening, int *fd_out)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	OWS_CHECK(fd >= 0);
	OWS_CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (listening)
		OWS_CHECK_INT(listen(fd, 8), 0);
	OWS_CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (fd_out != NULL)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(a.sin_port);
}

OWS_TEST(http_client_refused)
{
	struct ows_http_response resp;
	char hp[64];

	snprintf(hp, sizeof(hp), "127.0.0.1:%d", closed_port(false, NULL));
	OWS_CHECK_INT(ows_http_client_sync(hp, "GET", "/", NULL, 0, NULL, 0,
					   NULL, &resp), -ECONNREFUSED);
}

OWS_TEST(http_client_timeout)
{
	struct ows_http_client_opts opts = {.timeout_ms = 200};
	struct ows_http_response resp;
	int64_t t0 = now_ms(), dt;
	char hp[64];
	int fd;

	/* Listening but never accepting: the connect succeeds, no answer. */
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", closed_port(true, &fd));
	OWS_CHECK_INT(ows_http_client_sync(hp, "GET", "/", NULL, 0, NULL, 0,
					   &opts, &resp), -ETIMEDOUT);
	dt = now_ms() - t0;
	OWS_CHECK(dt >= 150 && dt < 3000);
	close(fd);
}

static void *sync_server_main(void *arg)
{
	struct fx *f = arg;

	uv_run(&f->loop, UV_RUN_DEFAULT);
	return NULL;
}

OWS_TEST(http_client_sync)
{
	struct ows_http_response resp;
	struct fx f = {0};
	pthread_t th;

	OWS_CHECK_INT(uv_loop_init(&f.loop), 0);
	OWS_CHECK_INT(ows_http_server_init(&f.srv, &f.loop, NULL,
					   chunked_handler, &f), 0);
	OWS_CHECK_INT(ows_http_server_listen(&f.srv, "127.0.0.1:0"), 0);
	uv_async_init(&f.loop, &f.done, done_cb);
	f.done.data = &f;
	uv_timer_init(&f.loop, &f.timer);
	OWS_CHECK_INT(pthread_create(&th, NULL, sync_server_main, &f), 0);
	OWS_CHECK_INT(ows_http_client_sync(f.srv.bound, "GET", "/", NULL, 0,
					   NULL, 0, NULL, &resp), 0);
	OWS_CHECK_INT(resp.status, 200);
	OWS_CHECK_STR(resp.body, "abcdefg");
	OWS_CHECK_STR(ows_http_response_header(&resp, "transfer-encoding"),
		      "chunked");
	ows_http_response_close(&resp);
	uv_async_send(&f.done);
	pthread_join(th, NULL);
	OWS_CHECK_INT(uv_loop_close(&f.loop), 0);
}

/* ---- the socketless path the fuzz target drives ---- */

OWS_TEST(http_fuzz_feed)
{
	static const char *const in[] = {
		"GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
		"POST /r HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		("POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "3\r\nabc\r\n0\r\n\r\n"),
		"POST /r HTTP/1.1\r\nContent-Length: 30\r\n\r\nabc",
		"\x01\x02garbage",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		for (size_t piece = 0; piece < 4; piece++)
			OWS_CHECK(i == 3 || ows_http_fuzz_feed(
				(const uint8_t *)in[i], strlen(in[i]),
				piece) > 0);
}
