/*
 * bench/s3load.c: the S3 load generator of make bench (bench/s3.py builds
 * it against libows for the SigV4 signer, ows_sigv4_sign_header, the code
 * the node verifies with). One thread per connection, blocking sockets,
 * HTTP/1.1 keep-alive; every request carries a header signature for
 * service s3 over host, x-amz-date and x-amz-content-sha256 (the body's
 * real SHA-256), as the aws cli signs a PutObject over plain HTTP. The same
 * requests go to the peers (nginx WebDAV, moto_server), which ignore the
 * signature, so that they are measured with the same client.
 *
 *   s3load [-c CONNS] [-d SECONDS | -n COUNT] [-s SIZE] [-f FILE] METHOD URL
 *
 * PUT with -f and S3LOAD_UNSIGNED set: the same with x-amz-content-sha256
 * UNSIGNED-PAYLOAD (as a presigned URL or curl --aws-sigv4 sends it).
 * PUT with -s: COUNT (or SECONDS' worth of) objects of SIZE bytes per
 * connection at URL-<conn>-<i>, each body different (16 bytes of it say
 * which), so that the store cannot deduplicate them. PUT with -f: one
 * object streamed from FILE with sendfile (its SHA-256 is computed first,
 * outside the timing). GET: COUNT requests per connection of URL, the body
 * written to FILE (-f) or discarded. The credentials come from the
 * environment (S3LOAD_KEY="AKID SECRET", never argv), region from
 * S3LOAD_REGION (us-east-1). Without S3LOAD_KEY nothing is signed.
 *
 * Prints one line: requests=N (answered 2xx) errors=N (other answers and
 * transport errors) seconds=S rate=R (2xx per second) p50_ms=X p99_ms=Y (of
 * the 2xx) mbps=M (body bytes moved per second, 10^6), and the first error
 * on stderr. Exit status 0 when every request got a 2xx.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth/sigv4.h"
#include "common/enc.h"

#define RDSZ (256 * 1024)

struct opts {
	int conns;
	double seconds;
	long count;
	size_t size;
	const char *file;
	const char *method;
	char host[256]; /* host:port, as the Host header */
	char path[2048];
	struct sockaddr_in addr;
	char akid[129];
	char secret[129];
	const char *region;
	char file_sha[65];
	off_t file_size;
	bool unsigned_payload; /* -f PUT: UNSIGNED-PAYLOAD, no hash first */
};

struct rd {
	int fd;
	size_t off, len;
	char buf[RDSZ];
};

struct worker {
	pthread_t th;
	int id;
	const struct opts *o;
	uint32_t *lat_us; /* one per request */
	size_t n, cap;
	long errors;
	uint64_t bytes;
	int first_status;
	char first_body[512];
};

static struct opts O = {.conns = 1, .count = 0, .region = "us-east-1"};
static double t_end;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(const struct opts *o)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int rd_fill(struct rd *r)
{
	ssize_t n;

	if (r->off > 0 && r->off == r->len)
		r->off = r->len = 0;
	if (r->len == sizeof(r->buf)) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	do
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	r->len += (size_t)n;
	return 0;
}

/* One line without its CRLF into out (cap), 0 or -1. */
static int rd_line(struct rd *r, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (r->buf + r->off));

			if (n > 0 && nl[-1] == '\r')
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, r->buf + r->off, n);
			out[n] = 0;
			r->off = (size_t)(nl - r->buf) + 1;
			return 0;
		}
		if (r->len - r->off >= sizeof(r->buf) / 2)
			return -1;
		if (rd_fill(r))
			return -1;
	}
}

/* n body bytes to out (-1: discard), keeping the first bytes in keep. */
static int rd_body(struct rd *r, uint64_t n, int out, char *keep, size_t *kept,
		   size_t kcap)
{
	while (n > 0) {
		size_t have;

		if (r->off == r->len && rd_fill(r))
			return -1;
		have = r->len - r->off;
		if (have > n)
			have = (size_t)n;
		if (out >= 0 && write_all(out, r->buf + r->off, have))
			return -1;
		if (keep != NULL && *kept < kcap) {
			size_t k = kcap - *kept < have ? kcap - *kept : have;

			memcpy(keep + *kept, r->buf + r->off, k);
			*kept += k;
		}
		r->off += have;
		n -= have;
	}
	return 0;
}

struct resp {
	int status;
	bool close;
	uint64_t body;
	char head[512]; /* the first bytes of the body */
	size_t head_len;
};

static int read_response(struct rd *r, bool head_only, int out,
			 struct resp *rs)
{
	char line[8192];
	int64_t clen = -1;
	bool chunked = false;

	memset(rs, 0, sizeof(*rs));
	if (rd_line(r, line, sizeof(line)) || sscanf(line, "HTTP/1.%*d %d",
						      &rs->status) != 1)
		return -1;
	for (;;) {
		if (rd_line(r, line, sizeof(line)))
			return -1;
		if (line[0] == 0)
			break;
		if (!strncasecmp(line, "content-length:", 15))
			clen = strtoll(line + 15, NULL, 10);
		else if (!strncasecmp(line, "transfer-encoding:", 18) &&
			 strcasestr(line + 18, "chunked"))
			chunked = true;
		else if (!strncasecmp(line, "connection:", 11) &&
			 strcasestr(line + 11, "close"))
			rs->close = true;
	}
	if (head_only || rs->status == 204 || rs->status == 304)
		return 0;
	if (chunked) {
		for (;;) {
			uint64_t n;

			if (rd_line(r, line, sizeof(line)))
				return -1;
			n = strtoull(line, NULL, 16);
			if (n == 0)
				break;
			if (rd_body(r, n, out, rs->head, &rs->head_len,
				    sizeof(rs->head) - 1) ||
			    rd_line(r, line, sizeof(line)))
				return -1;
			rs->body += n;
		}
		do /* trailers */
			if (rd_line(r, line, sizeof(line)))
				return -1;
		while (line[0] != 0);
		return 0;
	}
	if (clen < 0) {
		rs->close = true;
		return 0; /* a PUT's empty answer without a length */
	}
	rs->body = (uint64_t)clen;
	return rd_body(r, (uint64_t)clen, out, rs->head, &rs->head_len,
		       sizeof(rs->head) - 1);
}

/* The request head for path (signed when there are credentials). */
static int make_head(const struct opts *o, const char *method,
		     const char *path, const char *sha, uint64_t len, char *out,
		     size_t cap)
{
	char date[17], auth[1024] = "";
	struct ows_sigv4_header h[3];
	struct ows_sigv4_request req;
	time_t t = time(NULL);
	struct tm tm;
	const char *q = strchr(path, '?');
	char p[2048];
	int n;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(p, sizeof(p), "%.*s", q ? (int)(q - path) : (int)strlen(path),
		 path);
	if (o->akid[0]) {
		h[0] = (struct ows_sigv4_header){"host", o->host};
		h[1] = (struct ows_sigv4_header){"x-amz-date", date};
		h[2] = (struct ows_sigv4_header){"x-amz-content-sha256", sha};
		req = (struct ows_sigv4_request){method, p, q ? q + 1 : "",
						 h, 3};
		if (ows_sigv4_sign_header(&req, o->akid, o->secret, o->region,
					  "s3", sha, auth, sizeof(auth)))
			return -1;
	}
	n = snprintf(out, cap,
		     "%s %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\n"
		     "x-amz-content-sha256: %s\r\n%s%s%s",
		     method, path, o->host, date, sha,
		     auth[0] ? "Authorization: " : "", auth,
		     auth[0] ? "\r\n" : "");
	if (strcmp(method, "PUT") == 0)
		n += snprintf(out + n, cap - (size_t)n,
			      "Content-Length: %llu\r\n",
			      (unsigned long long)len);
	n += snprintf(out + n, cap - (size_t)n, "\r\n");
	return n < (int)cap ? n : -1;
}

static void record(struct worker *w, double t0, const struct resp *rs)
{
	if (rs->status < 200 || rs->status >= 300) {
		if (w->errors++ == 0) {
			w->first_status = rs->status;
			snprintf(w->first_body, sizeof(w->first_body), "%.*s",
				 (int)rs->head_len, rs->head);
			for (char *p = w->first_body; *p; p++)
				if (*p == '\n' || *p == '\r')
					*p = ' ';
		}
		return;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4096;
		w->lat_us = realloc(w->lat_us, w->cap * sizeof(*w->lat_us));
		if (w->lat_us == NULL)
			abort();
	}
	w->lat_us[w->n++] = (uint32_t)((now() - t0) * 1e6);
	w->bytes += strcmp(w->o->method, "PUT") == 0
			    ? (w->o->file ? (uint64_t)w->o->file_size
					  : w->o->size)
			    : rs->body;
}

/* One request on *fd (dialled when -1); 0, or -1 on a transport error. */
static int one(struct worker *w, int *fd, struct rd *r, long i, char *body)
{
	const struct opts *o = w->o;
	bool put = strcmp(o->method, "PUT") == 0;
	char head[4096], path[2100], sha[65];
	uint64_t len = 0;
	struct resp rs;
	int out = -1, n;
	double t0;

	snprintf(path, sizeof(path), "%s", o->path);
	if (put && o->file == NULL) {
		snprintf(path, sizeof(path), "%s-%d-%ld", o->path, w->id, i);
		n = snprintf(body, 17, "%04d:%011ld", w->id % 10000, i);
		body[n] = '\n';
		ows_sha256_hex(body, o->size, sha);
		len = o->size;
	} else if (put && o->unsigned_payload) {
		strcpy(sha, "UNSIGNED-PAYLOAD");
		len = (uint64_t)o->file_size;
	} else if (put) {
		memcpy(sha, o->file_sha, sizeof(sha));
		len = (uint64_t)o->file_size;
	} else {
		strcpy(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	}
	if (*fd < 0) {
		*fd = dial(o);
		r->fd = *fd;
		r->off = r->len = 0;
		if (*fd < 0)
			return -1;
	}
	n = make_head(o, o->method, path, sha, len, head, sizeof(head));
	if (n < 0)
		return -1;
	t0 = now();
	if (write_all(*fd, head, (size_t)n))
		goto fail;
	if (put && o->file == NULL && write_all(*fd, body, o->size))
		goto fail;
	if (put && o->file != NULL) {
		int f = open(o->file, O_RDONLY | O_CLOEXEC);
		off_t off = 0;

		if (f < 0)
			goto fail;
		while (off < o->file_size)
			if (sendfile(*fd, f, &off,
				     (size_t)(o->file_size - off)) <= 0)
				break;
		close(f);
		if (off < o->file_size)
			goto fail;
	}
	if (!put && o->file != NULL) {
		out = open(o->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0644);
		if (out < 0)
			goto fail;
	}
	if (read_response(r, strcmp(o->method, "HEAD") == 0, out, &rs))
		goto fail;
	if (out >= 0)
		close(out);
	record(w, t0, &rs);
	if (rs.close) {
		close(*fd);
		*fd = -1;
	}
	return 0;
fail:
	if (out >= 0)
		close(out);
	close(*fd);
	*fd = -1;
	return -1;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	struct rd *r = malloc(sizeof(*r));
	char *body = NULL;
	int fd = -1;
	long i;

	if (r == NULL)
		abort();
	if (strcmp(o->method, "PUT") == 0 && o->file == NULL) {
		body = malloc(o->size < 17 ? 17 : o->size);
		if (body == NULL)
			abort();
		for (size_t k = 0; k < o->size; k++)
			body[k] = (char)('a' + (k * 7 + (size_t)w->id) % 26);
	}
	for (i = 0; o->count ? i < o->count : now() < t_end; i++) {
		if (one(w, &fd, r, i, body) == 0)
			continue;
		if (w->errors++ == 0) {
			w->first_status = -1;
			snprintf(w->first_body, sizeof(w->first_body),
				 "transport error: %s", strerror(errno));
		}
		usleep(10000);
	}
	if (fd >= 0)
		close(fd);
	free(body);
	free(r);
	return NULL;
}

static int file_sha256(const char *path, char out[65], off_t *size)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[32];
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || c == NULL)
		return -1;
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(c, buf, (size_t)n);
		*size += n;
	}
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	close(fd);
	ows_hex_encode(md, 32, out);
	return n < 0 ? -1 : 0;
}

static int parse_url(const char *url, struct opts *o)
{
	const char *h, *slash;
	char host[256], *colon;
	int port = 80;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	if (slash == NULL || (size_t)(slash - h) >= sizeof(host))
		return -1;
	snprintf(o->host, sizeof(o->host), "%.*s", (int)(slash - h), h);
	snprintf(o->path, sizeof(o->path), "%s", slash);
	snprintf(host, sizeof(host), "%s", o->host);
	colon = strrchr(host, ':');
	if (colon != NULL) {
		*colon = 0;
		port = atoi(colon + 1);
	}
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &o->addr.sin_addr) == 1 ? 0 : -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int report(struct worker *ws, double secs)
{
	size_t total = 0, k = 0;
	long errors = 0;
	uint64_t bytes = 0;
	uint32_t *all;
	int i;

	for (i = 0; i < O.conns; i++)
		total += ws[i].n;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (all == NULL)
		return 1;
	for (i = 0; i < O.conns; i++) {
		memcpy(all + k, ws[i].lat_us, ws[i].n * sizeof(*all));
		k += ws[i].n;
		errors += ws[i].errors;
		bytes += ws[i].bytes;
		if (ws[i].errors && errors == ws[i].errors)
			fprintf(stderr, "s3load: first error: %d %s\n",
				ws[i].first_status, ws[i].first_body);
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("requests=%zu errors=%ld seconds=%.3f rate=%.1f p50_ms=%.3f "
	       "p99_ms=%.3f mbps=%.1f\n",
	       total, errors, secs, total / secs,
	       total ? all[total / 2] / 1000.0 : 0,
	       total ? all[(total * 99) / 100 - (total >= 100 ? 1 : 0)] /
			       1000.0
		     : 0,
	       bytes / secs / 1e6);
	free(all);
	return errors ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: s3load [-c CONNS] [-d SECONDS | -n COUNT] "
			"[-s SIZE] [-f FILE] METHOD URL\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *key = getenv("S3LOAD_KEY");
	struct worker *ws;
	double t0, secs;
	int c, i;

	while ((c = getopt(argc, argv, "c:d:n:s:f:")) != -1) {
		switch (c) {
		case 'c': O.conns = atoi(optarg); break;
		case 'd': O.seconds = atof(optarg); break;
		case 'n': O.count = atol(optarg); break;
		case 's': O.size = (size_t)atol(optarg); break;
		case 'f': O.file = optarg; break;
		default: return usage();
		}
	}
	if (argc - optind != 2 || O.conns < 1 || parse_url(argv[optind + 1], &O))
		return usage();
	O.method = argv[optind];
	if (O.seconds <= 0 && O.count <= 0)
		O.count = 1;
	if (getenv("S3LOAD_REGION"))
		O.region = getenv("S3LOAD_REGION");
	if (key != NULL && sscanf(key, "%128s %128s", O.akid, O.secret) != 2)
		return usage();
	O.unsigned_payload = getenv("S3LOAD_UNSIGNED") != NULL &&
			     O.file != NULL;
	if (strcmp(O.method, "PUT") == 0 && O.file != NULL &&
	    file_sha256(O.file, O.file_sha, &O.file_size)) {
		perror(O.file);
		return 1;
	}
	ws = calloc((size_t)O.conns, sizeof(*ws));
	if (ws == NULL)
		return 1;
	t0 = now();
	t_end = t0 + O.seconds;
	for (i = 0; i < O.conns; i++) {
		ws[i].id = i;
		ws[i].o = &O;
		if (pthread_create(&ws[i].th, NULL, work, &ws[i]))
			return 1;
	}
	for (i = 0; i < O.conns; i++)
		pthread_join(ws[i].th, NULL);
	secs = now() - t0;
	return report(ws, secs);
}
