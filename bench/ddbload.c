/*
 * bench/ddbload.c: the DynamoDB load generator of make bench (bench/ddb.py
 * builds it against libows for the SigV4 signer, ows_sigv4_sign_header, the
 * code the node verifies with). CONNS concurrent HTTP/1.1 keep-alive
 * connections spread over THREADS threads, each thread one epoll loop with
 * non-blocking sockets and one request in flight per connection, so that
 * 64 clients cost the client little CPU on a machine it shares with the
 * server. The same generator drives the peers (etcd's JSON gateway, nginx,
 * moto_server) so that every side of a ratio is measured with one client.
 *
 *   ddbload [-c CONNS] [-t THREADS] [-d SECONDS | -n COUNT] [-s SIZE]
 *           [-T TABLE] [-p PREFIX] [-k KEYS] [-P PARTITION] MODE URL...
 *
 * With several URLs (the nodes of a cluster), connection i talks to URL
 * i % URLS, so that the load is spread evenly over them.
 *
 * Modes (URL is http://HOST:PORT/PATH; PATH matters for http-get only):
 *   ddb-put    PutItem {pk: PREFIX<seq>, v: SIZE bytes} into TABLE; with -P,
 *              {pk: PARTITION, sk: <seq>, v: ...} (to fill a Query
 *              partition). seq counts up from 0 over all connections, so
 *              -n COUNT writes exactly the keys PREFIX000000000.. COUNT-1
 *   ddb-get    GetItem of a random key PREFIX<0..KEYS-1> (eventually
 *              consistent); an answer without "Item" counts as a miss
 *   ddb-query  Query of PARTITION (pk = :p) in TABLE; items are the sum of
 *              the answers' Count
 *   etcd-put   etcd v3 JSON gateway, POST /v3/kv/put, base64 key PREFIX<seq>
 *              and SIZE-byte value
 *   etcd-get   POST /v3/kv/range of a random key PREFIX<0..KEYS-1>,
 *              serializable (etcd's local read: the peer of an eventually
 *              consistent GetItem); an answer without "kvs" is a miss
 *   http-get   GET PATH (nginx's static body)
 *
 * DynamoDB requests are signed as botocore signs them: SigV4 for service
 * dynamodb over content-type, host, x-amz-date and x-amz-target, payload
 * hash the body's SHA-256 (no x-amz-content-sha256 header). Credentials
 * come from the environment (DDBLOAD_KEY="AKID SECRET", never argv), the
 * region from DDBLOAD_REGION (us-east-1); without DDBLOAD_KEY nothing is
 * signed.
 *
 * Prints one line: requests=N (answered 200) errors=N (other answers and
 * transport errors) seconds=S rate=R (200s per second) p50_ms=X p99_ms=Y
 * (of the 200s) items=N items_rate=R misses=N; on stderr the errors by
 * status and the first error's status and body. Exit status 0 when every
 * request got a 200. Requests still in flight at the end of a timed run
 * are not counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/sigv4.h"
#include "common/enc.h"

#define INMAX (8 << 20) /* largest answer kept: a Query page is 1 MB */
#define NSTATUS 600

enum mode { DDB_PUT, DDB_GET, DDB_QUERY, ETCD_PUT, ETCD_GET, HTTP_GET };

static const char *const MODES[] = {"ddb-put",  "ddb-get",  "ddb-query",
				    "etcd-put", "etcd-get", "http-get"};

/* One URL: connection i talks to URL i % ntargets. */
struct target {
	char host[256]; /* host:port, as the Host header */
	char path[2048];
	struct sockaddr_in addr;
};

struct opts {
	enum mode mode;
	int conns, threads;
	double seconds;
	long count; /* total requests over all connections, or 0 */
	size_t size;
	const char *table, *prefix, *partition;
	long keys;
	int ntargets;
	struct target *targets;
	char akid[129], secret[129];
	const char *region;
	char *value;	/* SIZE bytes of value text ('a'..'z') */
	char *value64;	/* the same in base64, for etcd */
};

struct conn {
	const struct target *t;
	int fd;
	bool busy;   /* a request is in flight */
	char *out;   /* the request */
	size_t out_len, out_off, out_cap;
	char *in;    /* the answer so far */
	size_t in_len, in_cap;
	double t0;
};

struct worker {
	pthread_t th;
	int first, n; /* its connections: [first, first + n) */
	uint64_t rng;
	uint32_t *lat_us;
	size_t nlat, cap;
	long errors, misses;
	uint64_t items;
	long by_status[NSTATUS + 1]; /* [0]: transport errors */
	int first_status;
	char first_body[400];
	char *body; /* the request body being built */
	size_t body_cap;
};

static struct opts O = {
	.conns = 64, .threads = 1, .size = 1000, .table = "bench",
	.prefix = "k", .keys = 1000, .region = "us-east-1",
};
static double t_end;
static long next_seq; /* shared by all threads: atomic */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		abort();
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		abort();
	return p;
}

static uint64_t rnd(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* The next key number for a write, or -1 when -n COUNT are issued. */
static long take_seq(void)
{
	long s = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);

	return O.count && s >= O.count ? -1 : s;
}

/* Append to c->out, growing it. */
static void out_add(struct conn *c, const char *p, size_t n)
{
	if (c->out_len + n + 1 > c->out_cap) {
		c->out_cap = (c->out_len + n + 1) * 2;
		c->out = xrealloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	c->out[c->out_len] = 0;
}

static void out_printf(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(tmp))
		abort(); /* only short pieces go through here */
	out_add(c, tmp, (size_t)n);
}

/* The JSON body of the next request into body (growable); 0 or -1 (done). */
static int make_body(struct worker *w, char **body, size_t *cap, size_t *len)
{
	size_t need = O.size * 2 + 1024;
	long s;
	int n = 0;
	char key[128], k64[OWS_B64_LEN(128)];

	if (*cap < need) {
		*cap = need;
		*body = xrealloc(*body, need);
	}
	switch (O.mode) {
	case DDB_PUT:
		if ((s = take_seq()) < 0)
			return -1;
		if (O.partition != NULL)
			n = snprintf(*body, *cap,
				     "{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":"
				     "\"%s\"},\"sk\":{\"N\":\"%ld\"},\"v\":{\"S\":"
				     "\"%s\"}}}",
				     O.table, O.partition, s, O.value);
		else
			n = snprintf(*body, *cap,
				     "{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":"
				     "\"%s%09ld\"},\"v\":{\"S\":\"%s\"}}}",
				     O.table, O.prefix, s, O.value);
		break;
	case DDB_GET:
		if (O.count && take_seq() < 0)
			return -1;
		n = snprintf(*body, *cap,
			     "{\"TableName\":\"%s\",\"Key\":{\"pk\":{\"S\":"
			     "\"%s%09ld\"}}}",
			     O.table, O.prefix, (long)(rnd(w) % (uint64_t)O.keys));
		break;
	case DDB_QUERY:
		if (O.count && take_seq() < 0)
			return -1;
		n = snprintf(*body, *cap,
			     "{\"TableName\":\"%s\",\"KeyConditionExpression\":"
			     "\"pk = :p\",\"ExpressionAttributeValues\":{\":p\":"
			     "{\"S\":\"%s\"}}}",
			     O.table, O.partition ? O.partition : "q");
		break;
	case ETCD_PUT:
		if ((s = take_seq()) < 0)
			return -1;
		snprintf(key, sizeof(key), "%s%09ld", O.prefix, s);
		ows_b64_encode(key, strlen(key), k64);
		n = snprintf(*body, *cap, "{\"key\":\"%s\",\"value\":\"%s\"}", k64,
			     O.value64);
		break;
	case ETCD_GET:
		if (O.count && take_seq() < 0)
			return -1;
		snprintf(key, sizeof(key), "%s%09ld", O.prefix,
			 (long)(rnd(w) % (uint64_t)O.keys));
		ows_b64_encode(key, strlen(key), k64);
		n = snprintf(*body, *cap, "{\"key\":\"%s\",\"serializable\":true}",
			     k64);
		break;
	case HTTP_GET:
		if (O.count && take_seq() < 0)
			return -1;
		n = 0;
		break;
	}
	*len = (size_t)n;
	return 0;
}

static const char *const TARGETS[] = {
	[DDB_PUT] = "DynamoDB_20120810.PutItem",
	[DDB_GET] = "DynamoDB_20120810.GetItem",
	[DDB_QUERY] = "DynamoDB_20120810.Query",
};

/* The next request into c->out; 0, or -1 when there is none to send. */
static int make_request(struct worker *w, struct conn *c)
{
	static __thread time_t last;
	static __thread char date[17];
	const char *body;
	size_t len;
	time_t t = time(NULL);

	if (make_body(w, &w->body, &w->body_cap, &len))
		return -1;
	body = w->body;
	if (t != last) {
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
		last = t;
	}
	c->out_len = c->out_off = 0;
	if (O.mode == HTTP_GET) {
		out_printf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", c->t->path,
			   c->t->host);
		return 0;
	}
	if (O.mode == ETCD_PUT || O.mode == ETCD_GET) {
		out_printf(c, "POST /v3/kv/%s HTTP/1.1\r\nHost: %s\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: %zu\r\n\r\n",
			   O.mode == ETCD_PUT ? "put" : "range", c->t->host, len);
		out_add(c, body, len);
		return 0;
	}
	{
		const char *ct = "application/x-amz-json-1.0";
		char auth[1024] = "", sha[65];
		struct ows_sigv4_header h[4] = {
			{"content-type", ct},
			{"host", c->t->host},
			{"x-amz-date", date},
			{"x-amz-target", TARGETS[O.mode]},
		};
		struct ows_sigv4_request req = {"POST", "/", "", h, 4};

		if (O.akid[0]) {
			ows_sha256_hex(body, len, sha);
			if (ows_sigv4_sign_header(&req, O.akid, O.secret,
						  O.region, "dynamodb", sha,
						  auth, sizeof(auth)))
				abort();
		}
		out_printf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
			      "X-Amz-Date: %s\r\nX-Amz-Target: %s\r\n"
			      "%s%s%sContent-Length: %zu\r\n\r\n",
			   c->t->host, ct, date, TARGETS[O.mode],
			   auth[0] ? "Authorization: " : "", auth,
			   auth[0] ? "\r\n" : "", len);
		out_add(c, body, len);
	}
	return 0;
}

/*
 * Whether c->in holds a whole answer: 1 (its length in *used, its status,
 * whether the server closes, where the body is), 0 (not yet), -1
 * (malformed or too big).
 */
static int parse(struct conn *c, size_t *used, int *status, bool *close_,
		 const char **body, size_t *blen)
{
	char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	char *p, *eol;
	long long clen = -1;
	bool chunked = false;
	size_t hlen, off;

	if (end == NULL)
		return c->in_len > 65536 ? -1 : 0;
	hlen = (size_t)(end - c->in) + 4;
	*close_ = false;
	if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
		return -1;
	for (p = memchr(c->in, '\n', hlen) + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end + 2 - p));
		if (!strncasecmp(p, "content-length:", 15))
			clen = strtoll(p + 15, NULL, 10);
		else if (!strncasecmp(p, "transfer-encoding:", 18) &&
			 memmem(p, (size_t)(eol - p), "chunked", 7))
			chunked = true;
		else if (!strncasecmp(p, "connection:", 11) &&
			 memmem(p, (size_t)(eol - p), "close", 5))
			*close_ = true;
	}
	*body = c->in + hlen;
	if (*status == 204 || *status == 304 || (!chunked && clen < 0)) {
		/* No body, or one until close: not from these servers. */
		*blen = 0;
		*used = hlen;
		if (!chunked && clen < 0 && *status != 204 && *status != 304)
			*close_ = true;
		return 1;
	}
	if (!chunked) {
		if (clen > INMAX)
			return -1;
		if (c->in_len < hlen + (size_t)clen)
			return 0;
		*blen = (size_t)clen;
		*used = hlen + (size_t)clen;
		return 1;
	}
	/* Chunked: walk the chunks; the body handed on keeps its framing. */
	for (off = hlen;;) {
		char *nl = memchr(c->in + off, '\n', c->in_len - off);
		unsigned long long n;

		if (nl == NULL)
			return c->in_len > INMAX ? -1 : 0;
		n = strtoull(c->in + off, NULL, 16);
		off = (size_t)(nl - c->in) + 1;
		if (n == 0)
			break;
		if (n > INMAX)
			return -1;
		if (c->in_len < off + n + 2)
			return 0;
		off += n + 2;
	}
	for (;;) { /* trailers, then the empty line */
		char *nl = memchr(c->in + off, '\n', c->in_len - off);
		bool empty;

		if (nl == NULL)
			return 0;
		empty = nl == c->in + off || (nl == c->in + off + 1 &&
					      c->in[off] == '\r');
		off = (size_t)(nl - c->in) + 1;
		if (empty)
			break;
	}
	*blen = off - hlen;
	*used = off;
	return 1;
}

static void fail(struct worker *w, int status, const char *body, size_t blen)
{
	w->errors++;
	w->by_status[status > 0 && status <= NSTATUS ? status : 0]++;
	if (w->errors == 1) {
		w->first_status = status;
		snprintf(w->first_body, sizeof(w->first_body), "%.*s",
			 (int)blen, body);
		for (char *p = w->first_body; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
}

static void record(struct worker *w, struct conn *c, int status,
		   const char *body, size_t blen)
{
	const char *p;

	if (status != 200) {
		fail(w, status, body, blen);
		return;
	}
	if (w->nlat == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 65536;
		w->lat_us = xrealloc(w->lat_us, w->cap * sizeof(*w->lat_us));
	}
	w->lat_us[w->nlat++] = (uint32_t)((now() - c->t0) * 1e6);
	switch (O.mode) {
	case DDB_GET:
		w->misses += memmem(body, blen, "\"Item\"", 6) == NULL;
		w->items++;
		break;
	case ETCD_GET:
		w->misses += memmem(body, blen, "\"kvs\"", 5) == NULL;
		w->items++;
		break;
	case DDB_QUERY:
		p = memmem(body, blen, "\"Count\":", 8);
		if (p != NULL)
			w->items += strtoull(p + 8, NULL, 10);
		else
			w->misses++;
		break;
	default:
		w->items++;
	}
}

static int dial(const struct target *t)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Blocking connect: loopback answers at once. */
	if (connect(fd, (const struct sockaddr *)&t->addr, sizeof(t->addr))) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void drop(int ep, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->busy = false;
	c->in_len = 0;
}

/* Write what is left of c's request; 0, or -1 on a transport error. */
static int flush(int ep, struct conn *c)
{
	struct epoll_event ev = {.data.ptr = c};

	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off,
				  c->out_len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			ev.events = EPOLLIN | EPOLLOUT;
			return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	ev.events = EPOLLIN;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Start c's next request unless the run is over; a dial failure counts. */
static void issue(struct worker *w, int ep, struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

	c->busy = false;
	if (!O.count && now() >= t_end)
		return;
	if (c->fd < 0) {
		c->fd = dial(c->t);
		if (c->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev)) {
			fail(w, -1, "transport error: connect", 24);
			drop(ep, c);
			usleep(10000);
			return;
		}
	}
	if (make_request(w, c))
		return;
	c->busy = true;
	c->t0 = now();
	if (flush(ep, c)) {
		fail(w, -1, "transport error: write", 22);
		drop(ep, c);
	}
}

/* Data arrived on c: read it, and when an answer is whole, the next. */
static void readable(struct worker *w, int ep, struct conn *c)
{
	for (;;) {
		ssize_t n;
		size_t used, blen;
		int status, r;
		bool cl;
		const char *body;

		if (c->in_cap - c->in_len < 65536) {
			c->in_cap = c->in_cap ? c->in_cap * 2 : 262144;
			c->in = xrealloc(c->in, c->in_cap);
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || !c->busy) {
			fail(w, -1, "transport error: connection closed", 34);
			drop(ep, c);
			break;
		}
		c->in_len += (size_t)n;
		r = parse(c, &used, &status, &cl, &body, &blen);
		if (r == 0)
			continue;
		if (r < 0) {
			fail(w, -1, "transport error: bad answer", 27);
			drop(ep, c);
			break;
		}
		record(w, c, status, body, blen);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (cl)
			drop(ep, c);
		break;
	}
	issue(w, ep, c);
}

static struct conn *CONNS;

static void *work(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int i, busy;

	if (ep < 0)
		abort();
	for (i = 0; i < w->n; i++)
		issue(w, ep, &CONNS[w->first + i]);
	for (;;) {
		double left = t_end - now();
		int n, ms = O.count ? 1000 : (int)(left * 1000) + 1;

		if (!O.count && left <= 0)
			break;
		for (busy = 0, i = 0; i < w->n; i++)
			busy += CONNS[w->first + i].busy;
		if (O.count && busy == 0)
			break;
		n = epoll_wait(ep, evs, 256, ms > 100 ? 100 : ms);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (evs[i].events & EPOLLOUT && c->busy &&
			    c->out_off < c->out_len && flush(ep, c)) {
				fail(w, -1, "transport error: write", 22);
				drop(ep, c);
				issue(w, ep, c);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				readable(w, ep, c);
		}
		/* Connections that could not dial get another try. */
		for (i = 0; i < w->n; i++)
			if (!CONNS[w->first + i].busy &&
			    CONNS[w->first + i].fd < 0)
				issue(w, ep, &CONNS[w->first + i]);
	}
	for (i = 0; i < w->n; i++) {
		drop(ep, &CONNS[w->first + i]);
		free(CONNS[w->first + i].in);
		free(CONNS[w->first + i].out);
	}
	close(ep);
	return NULL;
}

static int parse_url(const char *url, struct target *t)
{
	const char *h, *slash;
	char host[256], *colon;
	int port = 80;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	if (slash == NULL)
		slash = h + strlen(h);
	if ((size_t)(slash - h) >= sizeof(host))
		return -1;
	snprintf(t->host, sizeof(t->host), "%.*s", (int)(slash - h), h);
	snprintf(t->path, sizeof(t->path), "%s", *slash ? slash : "/");
	snprintf(host, sizeof(host), "%s", t->host);
	colon = strrchr(host, ':');
	if (colon != NULL) {
		*colon = 0;
		port = atoi(colon + 1);
	}
	t->addr.sin_family = AF_INET;
	t->addr.sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &t->addr.sin_addr) == 1 ? 0 : -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int report(struct worker *ws, double secs)
{
	size_t total = 0, k = 0;
	long errors = 0, misses = 0, by[NSTATUS + 1] = {0};
	uint64_t items = 0;
	uint32_t *all;
	int i, s;

	for (i = 0; i < O.threads; i++)
		total += ws[i].nlat;
	all = xmalloc((total ? total : 1) * sizeof(*all));
	for (i = 0; i < O.threads; i++) {
		if (ws[i].nlat)
			memcpy(all + k, ws[i].lat_us,
			       ws[i].nlat * sizeof(*all));
		k += ws[i].nlat;
		if (ws[i].errors && errors == 0)
			fprintf(stderr, "ddbload: first error: %d %s\n",
				ws[i].first_status, ws[i].first_body);
		errors += ws[i].errors;
		misses += ws[i].misses;
		items += ws[i].items;
		for (s = 0; s <= NSTATUS; s++)
			by[s] += ws[i].by_status[s];
	}
	if (errors) {
		fprintf(stderr, "ddbload: errors by status:");
		for (s = 0; s <= NSTATUS; s++) {
			if (by[s] && s)
				fprintf(stderr, " %d x%ld", s, by[s]);
			else if (by[s])
				fprintf(stderr, " transport x%ld", by[s]);
		}
		fprintf(stderr, "\n");
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("requests=%zu errors=%ld seconds=%.3f rate=%.1f p50_ms=%.3f "
	       "p99_ms=%.3f items=%llu items_rate=%.1f misses=%ld\n",
	       total, errors, secs, total / secs,
	       total ? all[total / 2] / 1000.0 : 0,
	       total ? all[(total * 99) / 100 - (total >= 100 ? 1 : 0)] / 1000.0
		     : 0,
	       (unsigned long long)items, items / secs, misses);
	fflush(stdout);
	free(all);
	for (i = 0; i < O.threads; i++) {
		free(ws[i].lat_us);
		free(ws[i].body);
	}
	return errors ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ddbload [-c CONNS] [-t THREADS] [-d SECONDS | -n COUNT] "
		"[-s SIZE] [-T TABLE] [-p PREFIX] [-k KEYS] [-P PARTITION] "
		"MODE URL...\n  MODE: ddb-put ddb-get ddb-query etcd-put etcd-get "
		"http-get\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *key = getenv("DDBLOAD_KEY");
	struct worker *ws;
	double t0, secs;
	int c, i, m;

	while ((c = getopt(argc, argv, "c:t:d:n:s:T:p:k:P:")) != -1) {
		switch (c) {
		case 'c': O.conns = atoi(optarg); break;
		case 't': O.threads = atoi(optarg); break;
		case 'd': O.seconds = atof(optarg); break;
		case 'n': O.count = atol(optarg); break;
		case 's': O.size = (size_t)atol(optarg); break;
		case 'T': O.table = optarg; break;
		case 'p': O.prefix = optarg; break;
		case 'k': O.keys = atol(optarg); break;
		case 'P': O.partition = optarg; break;
		default: return usage();
		}
	}
	if (argc - optind < 2 || O.conns < 1 || O.threads < 1 || O.keys < 1 ||
	    strlen(O.prefix) > 64)
		return usage();
	O.ntargets = argc - optind - 1;
	O.targets = calloc((size_t)O.ntargets, sizeof(*O.targets));
	if (O.targets == NULL)
		return 1;
	for (i = 0; i < O.ntargets; i++)
		if (parse_url(argv[optind + 1 + i], &O.targets[i]))
			return usage();
	for (m = 0; m < (int)(sizeof(MODES) / sizeof(*MODES)); m++)
		if (strcmp(argv[optind], MODES[m]) == 0)
			break;
	if (m == (int)(sizeof(MODES) / sizeof(*MODES)))
		return usage();
	O.mode = (enum mode)m;
	if (O.threads > O.conns)
		O.threads = O.conns;
	if (O.seconds <= 0 && O.count <= 0)
		O.count = O.conns;
	if (getenv("DDBLOAD_REGION"))
		O.region = getenv("DDBLOAD_REGION");
	if (key != NULL && sscanf(key, "%128s %128s", O.akid, O.secret) != 2)
		return usage();
	O.value = xmalloc(O.size + 1);
	for (size_t k = 0; k < O.size; k++)
		O.value[k] = (char)('a' + (k * 7) % 26);
	O.value[O.size] = 0;
	O.value64 = xmalloc(OWS_B64_LEN(O.size));
	ows_b64_encode(O.value, O.size, O.value64);
	CONNS = calloc((size_t)O.conns, sizeof(*CONNS));
	ws = calloc((size_t)O.threads, sizeof(*ws));
	if (CONNS == NULL || ws == NULL)
		return 1;
	for (i = 0; i < O.conns; i++) {
		CONNS[i].fd = -1;
		CONNS[i].t = &O.targets[i % O.ntargets];
	}
	t0 = now();
	t_end = t0 + O.seconds;
	for (i = 0; i < O.threads; i++) {
		ws[i].first = O.conns * i / O.threads;
		ws[i].n = O.conns * (i + 1) / O.threads - ws[i].first;
		ws[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1) ^
			    (uint64_t)getpid();
		if (pthread_create(&ws[i].th, NULL, work, &ws[i]))
			return 1;
	}
	for (i = 0; i < O.threads; i++)
		pthread_join(ws[i].th, NULL);
	secs = now() - t0;
	c = report(ws, secs);
	free(ws);
	free(CONNS);
	free(O.targets);
	free(O.value);
	free(O.value64);
	return c;
}
