/*
 * GetObject and HeadObject (S3 API Reference), served from the local
 * copies of the object's blobs (fetched from a peer first when this node
 * lacks one), never read whole into memory: chunks are read on libuv's
 * thread pool into two buffers and written to the socket as they come,
 * the next read waiting for a free buffer (the peer's pace bounds the
 * memory).
 *
 * What S3 does and this follows: a single Range (206, Content-Range; 416
 * InvalidRange with "bytes * /SIZE"; a malformed or multiple range is
 * ignored and the whole object sent), partNumber (a multipart object's
 * part, x-amz-mp-parts-count), the conditional headers with RFC 7232's
 * precedence as the API reference describes it (If-Match before
 * If-Unmodified-Since: 412; If-None-Match before If-Modified-Since: 304),
 * the response-* overrides (signed requests only), x-amz-checksum-mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "s3/s3_priv.h"

#define CHUNK (256u << 10)

struct get;

struct slot {
	struct get *g;
	char *buf;
	size_t len;
	bool busy;
};

struct get {
	struct ows__s3_req *r;      /* until the reply starts */
	struct ows_http_req *req;   /* from then on */
	uv_loop_t *loop;
	struct ows__s3_object o;    /* blobs in the call's arena */
	char (*paths)[PATH_MAX];    /* each blob's local file (heap) */
	uint64_t start, end;        /* the bytes sent: [start, end) */
	uint64_t pos;               /* the next byte to read */
	size_t bi;                  /* the blob pos is in */
	size_t fetching;            /* blob checked next before sending */
	int fd;                     /* of blob bi, or -1 */
	size_t fd_bi;
	struct slot slots[2];
	struct slot *reading;       /* the slot the pool fills, or NULL */
	unsigned writes;            /* writes in flight */
	bool failed;
	int rstatus;                /* the pool's */
	uv_work_t work;
};

static void get_free(struct get *g)
{
	if (g->fd >= 0)
		close(g->fd);
	for (int i = 0; i < 2; i++)
		free(g->slots[i].buf);
	free(g->paths);
	ows__s3_object_release(&g->o);
	free(g);
}

/* ---- conditions ---- */

/* Whether list (If-Match / If-None-Match: "*" or "a", W/"b", ...)
   names etag. */
static bool etag_listed(const char *list, const char *etag)
{
	const char *p = list;
	size_t n = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '"')
			p++;
		if (strncmp(p, etag, n) == 0 &&
		    (p[n] == '"' || p[n] == ',' || p[n] == ' ' || p[n] == '\0'))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/* 0 to serve, 304 or 412 (with the failed condition in *cond). */
static int preconditions(struct ows__s3_req *r, const struct ows__s3_object *o,
			 const char **cond)
{
	const char *im = ows_aws_header(r->c, "If-Match");
	const char *inm = ows_aws_header(r->c, "If-None-Match");
	const char *ims = ows_aws_header(r->c, "If-Modified-Since");
	const char *ius = ows_aws_header(r->c, "If-Unmodified-Since");
	int64_t t, secs = o->modified / 1000;

	if (im != NULL && !etag_listed(im, o->etag)) {
		*cond = "If-Match";
		return 412;
	}
	if (im == NULL && ius != NULL &&
	    ows__s3_parse_http_date(ius, &t) == 0 && secs > t / 1000) {
		*cond = "If-Unmodified-Since";
		return 412;
	}
	if (inm != NULL && etag_listed(inm, o->etag))
		return 304;
	if (inm == NULL && ims != NULL &&
	    ows__s3_parse_http_date(ims, &t) == 0 && secs <= t / 1000)
		return 304;
	return 0;
}

/* ---- Range and partNumber ---- */

/*
 * A single "bytes=" range of an object of size bytes: 1 and [*a, *b),
 * 0 when there is none or it is to be ignored (malformed, several),
 * -1 when it cannot be satisfied.
 */
int ows__s3_parse_range(const char *v, uint64_t size, uint64_t *a,
			uint64_t *b)
{
	unsigned long long x, y;
	char *end;

	if (v == NULL || strncasecmp(v, "bytes=", 6) != 0 ||
	    strchr(v, ',') != NULL)
		return 0;
	v += 6;
	while (*v == ' ')
		v++;
	if (*v == '-') {
		if (v[1] < '0' || v[1] > '9')
			return 0;
		x = strtoull(v + 1, &end, 10);
		if (*end != '\0')
			return 0;
		if (x == 0 || size == 0)
			return -1;
		*a = x >= size ? 0 : size - x;
		*b = size;
		return 1;
	}
	if (*v < '0' || *v > '9')
		return 0;
	x = strtoull(v, &end, 10);
	if (*end != '-')
		return 0;
	if (end[1] == '\0') {
		y = UINT64_MAX;
	} else {
		if (end[1] < '0' || end[1] > '9')
			return 0;
		y = strtoull(end + 1, &end, 10);
		if (*end != '\0' || y < x)
			return 0;
	}
	if (x >= size)
		return -1;
	*a = x;
	*b = y >= size - 1 ? size : y + 1;
	return 1;
}

/* The bytes to send into g (start, end) and their status: 200 or 206;
   0 once an error is answered. */
static int extent(struct ows__s3_req *r, struct get *g)
{
	const char *range = ows_aws_header(r->c, "Range");
	char pn[16];
	char *end;
	unsigned long n;
	int rv;

	g->start = 0;
	g->end = g->o.size;
	if (ows__s3_query(r, "partNumber", pn, sizeof(pn))) {
		n = strtoul(pn, &end, 10);
		if (*end != '\0' || n < 1 || n > 10000 || pn[0] == '\0') {
			ows__s3_error(r, 400, "InvalidArgument", "Part number "
				      "must be an integer between 1 and 10000, "
				      "inclusive");
			return 0;
		}
		if (range != NULL) {
			ows__s3_error(r, 400, "InvalidRequest", "Cannot specify "
				      "both Range header and partNumber query "
				      "parameter");
			return 0;
		}
		if (g->o.parts == 0 && n == 1)
			return 200;
		if (g->o.parts == 0 || n > g->o.n_blobs) {
			ows__s3_error(r, 416, "InvalidPartNumber", "The "
				      "requested partnumber is not satisfiable");
			return 0;
		}
		g->start = g->o.blobs[n - 1].offset;
		g->end = g->start + g->o.blobs[n - 1].size;
		return 206;
	}
	rv = ows__s3_parse_range(range, g->o.size, &g->start, &g->end);
	if (rv < 0) {
		struct ows_http_header h = {
			"Content-Range", ows_arena_printf(r->c->arena,
				"bytes */%llu", (unsigned long long)g->o.size)};

		if (strcmp(r->c->req->method, "HEAD") == 0) {
			ows__s3_reply(r, 416, &h, 1, NULL, 0);
			return 0;
		}
		/* the error with its Content-Range header */
		{
			struct ows_buf b = OWS_BUF_INIT;

			ows_buf_puts(&b, "<?xml version=\"1.0\" encoding="
				     "\"UTF-8\"?>\n<Error><Code>InvalidRange"
				     "</Code><Message>The requested range is "
				     "not satisfiable</Message>");
			ows__s3_xml_elem(&b, "RangeRequested", range);
			ows_buf_printf(&b, "<ActualObjectSize>%llu"
				       "</ActualObjectSize>",
				       (unsigned long long)g->o.size);
			ows__s3_xml_elem(&b, "RequestId", r->c->request_id);
			ows_buf_puts(&b, "</Error>");
			ows__s3_reply(r, 416, &h, 1, b.data, b.len);
			ows_buf_free(&b);
		}
		return 0;
	}
	return rv == 1 ? 206 : 200;
}

/* ---- headers ---- */

static const struct {
	const char *meta, *header, *query;
} returned[] = {
	{"content_type", "Content-Type", "response-content-type"},
	{"content_language", "Content-Language", "response-content-language"},
	{"expires", "Expires", "response-expires"},
	{"cache_control", "Cache-Control", "response-cache-control"},
	{"content_disposition", "Content-Disposition",
	 "response-content-disposition"},
	{"content_encoding", "Content-Encoding", "response-content-encoding"},
};

#define N_RETURNED (sizeof(returned) / sizeof(returned[0]))

/* The response-* overrides: false once answered (anonymous callers may
   not use them). */
static bool overrides_allowed(struct ows__s3_req *r)
{
	for (size_t i = 0; i < N_RETURNED; i++)
		if (ows__s3_query_has(r, returned[i].query) &&
		    r->c->caller.kind[0] == '\0') {
			ows__s3_error(r, 400, "InvalidRequest", "Request "
				      "specific response headers cannot be used "
				      "for anonymous GET requests.");
			return false;
		}
	return true;
}

static size_t object_headers(struct ows__s3_req *r, struct get *g, int status,
			     struct ows_http_header **out)
{
	const json_t *meta = g->o.meta, *user = json_object_get(meta, "user");
	const json_t *ck = json_object_get(meta, "checksum");
	const json_t *tags = json_object_get(meta, "tags");
	const char *mode = ows_aws_header(r->c, "x-amz-checksum-mode");
	struct ows_arena *a = r->c->arena;
	size_t cap = N_RETURNED + json_object_size(user) + 12, n = 0;
	struct ows_http_header *h = ows_arena_alloc(a, cap * sizeof(*h));
	const char *k;
	json_t *v;

	if (h == NULL)
		return 0;
	for (size_t i = 0; i < N_RETURNED; i++) {
		char val[1024];
		const char *s = ows_json_str(meta, returned[i].meta);

		if (ows__s3_query(r, returned[i].query, val, sizeof(val)))
			s = ows_arena_strdup(a, val);
		if (s != NULL)
			h[n++] = (struct ows_http_header){returned[i].header, s};
	}
	ows__s3_object_headers(r, &g->o, h, cap, &n);
	h[n++] = (struct ows_http_header){"Accept-Ranges", "bytes"};
	json_object_foreach((json_t *)user, k, v)
		h[n++] = (struct ows_http_header){
			ows_arena_printf(a, "x-amz-meta-%s", k),
			json_string_value(v)};
	if (json_object_size(tags) > 0)
		h[n++] = (struct ows_http_header){"x-amz-tagging-count",
			ows_arena_printf(a, "%zu", json_object_size(tags))};
	if (g->o.parts > 0 && ows__s3_query_has(r, "partNumber"))
		h[n++] = (struct ows_http_header){"x-amz-mp-parts-count",
			ows_arena_printf(a, "%u", g->o.parts)};
	if (status == 206)
		h[n++] = (struct ows_http_header){"Content-Range",
			ows_arena_printf(a, "bytes %llu-%llu/%llu",
					 (unsigned long long)g->start,
					 (unsigned long long)g->end - 1,
					 (unsigned long long)g->o.size)};
	if (mode != NULL && strcasecmp(mode, "ENABLED") == 0 && ck != NULL &&
	    status == 200) {
		char name[48];

		snprintf(name, sizeof(name), "x-amz-checksum-%s",
			 ows_json_str(ck, "algorithm"));
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		h[n++] = (struct ows_http_header){ows_arena_strdup(a, name),
						  ows_json_str(ck, "value")};
		h[n++] = (struct ows_http_header){"x-amz-checksum-type",
			ows_json_str(ck, "type") ? ows_json_str(ck, "type")
						 : "FULL_OBJECT"};
	}
	*out = h;
	return n;
}

/* ---- streaming ---- */

static void pump(struct get *g);

static void read_work(uv_work_t *w)
{
	struct get *g = w->data;
	struct slot *s = g->reading;
	const struct ows__s3_blob *b = &g->o.blobs[g->bi];
	uint64_t off = g->pos - b->offset;
	uint64_t want = b->size - off;
	ssize_t k;

	if (want > CHUNK)
		want = CHUNK;
	if (want > g->end - g->pos)
		want = g->end - g->pos;
	g->rstatus = 0;
	if (g->fd < 0 || g->fd_bi != g->bi) {
		if (g->fd >= 0)
			close(g->fd);
		g->fd = open(g->paths[g->bi], O_RDONLY | O_CLOEXEC);
		g->fd_bi = g->bi;
		if (g->fd < 0) {
			g->rstatus = -errno;
			return;
		}
	}
	do
		k = pread(g->fd, s->buf, want, (off_t)off);
	while (k < 0 && errno == EINTR);
	if (k <= 0) {
		g->rstatus = k < 0 ? -errno : -EIO; /* a blob shorter than
						       its row says */
		return;
	}
	s->len = (size_t)k;
}

static void finish(struct get *g)
{
	ows_http_respond_end(g->req);
	get_free(g);
}

static void write_cb(void *ud, int status)
{
	struct slot *s = ud;
	struct get *g = s->g;

	s->busy = false;
	g->writes--;
	if (status != 0)
		g->failed = true;
	pump(g);
}

static void read_done(uv_work_t *w, int status)
{
	struct get *g = w->data;
	struct slot *s = g->reading;
	const struct ows__s3_blob *b;

	g->reading = NULL;
	if (status != 0 || g->rstatus != 0) {
		ows_log(OWS_LOG_WARN, "s3", "reading blob %s: %s",
			g->o.blobs[g->bi].blob,
			ows_strerror(status ? status : g->rstatus));
		g->failed = true; /* the peer sees a short body */
		s->busy = false;
		pump(g);
		return;
	}
	g->pos += s->len;
	b = &g->o.blobs[g->bi];
	if (g->pos >= b->offset + b->size)
		g->bi++;
	g->writes++;
	if (ows_http_respond_write(g->req, s->buf, s->len, write_cb, s) != 0) {
		g->writes--;
		s->busy = false;
		g->failed = true;
	}
	pump(g);
}

static void pump(struct get *g)
{
	struct slot *s = NULL;

	if (g->reading != NULL)
		return;
	if (g->failed || g->pos >= g->end) {
		if (g->writes == 0)
			finish(g);
		return;
	}
	for (int i = 0; i < 2 && s == NULL; i++)
		if (!g->slots[i].busy)
			s = &g->slots[i];
	if (s == NULL)
		return; /* both written: wait for the peer */
	while (g->bi < g->o.n_blobs &&
	       g->pos >= g->o.blobs[g->bi].offset + g->o.blobs[g->bi].size)
		g->bi++;
	if (g->bi >= g->o.n_blobs) {
		g->failed = true;
		pump(g);
		return;
	}
	s->busy = true;
	g->reading = s;
	g->work.data = g;
	if (uv_queue_work(g->loop, &g->work, read_work, read_done) != 0) {
		g->reading = NULL;
		s->busy = false;
		g->failed = true;
		pump(g);
	}
}

/* ---- the operation ---- */

static void send_object(struct get *g, int status)
{
	struct ows__s3_req *r = g->r;
	struct ows_http_header *h = NULL;
	size_t n = object_headers(r, g, status, &h);
	bool head = strcmp(r->c->req->method, "HEAD") == 0;
	int rv;

	g->req = r->c->req;
	rv = ows__s3_reply_start(r, status, h, n, (int64_t)(g->end - g->start));
	if (rv == -ECANCELED) {
		get_free(g);
		return;
	}
	g->r = NULL;
	if (rv != 0 || head || g->end == g->start) {
		finish(g);
		return;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t want = g->end - g->start;

		g->slots[i].g = g;
		g->slots[i].buf = malloc(want < CHUNK ? (size_t)want : CHUNK);
		if (g->slots[i].buf == NULL) {
			finish(g);
			return;
		}
	}
	g->pos = g->start;
	g->bi = 0;
	pump(g);
}

/* Every blob the extent needs is here, fetched from a peer if not. */
static void fetched(void *ud, int status);

static void ensure_local(struct get *g)
{
	struct ows__s3_req *r = g->r;
	int rv;

	for (; g->fetching < g->o.n_blobs; g->fetching++) {
		const struct ows__s3_blob *b = &g->o.blobs[g->fetching];

		if (b->offset + b->size <= g->start || b->offset >= g->end ||
		    b->size == 0) {
			g->paths[g->fetching][0] = '\0';
			continue;
		}
		if (r->c->host->blob_path(r->c->host, b->blob,
					  g->paths[g->fetching],
					  PATH_MAX) == 0)
			continue;
		rv = r->c->host->blob_fetch(r->c, b->blob, fetched, g);
		if (rv == 0)
			return;
		fetched(g, rv);
		return;
	}
	send_object(g, g->rstatus);
}

static void fetched(void *ud, int status)
{
	struct get *g = ud;
	struct ows__s3_req *r = g->r;

	if (status != 0) {
		ows_log(OWS_LOG_WARN, "s3", "%s/%s: blob %s is on no node "
			"reached: %s", r->bucket, r->key,
			g->o.blobs[g->fetching].blob, ows_strerror(status));
		get_free(g);
		ows__s3_error_key(r, 503, "ServiceUnavailable", "Please "
				  "reduce your request rate. (the object's data "
				  "could not be read from any node)");
		return;
	}
	if (r->c->host->blob_path(r->c->host, g->o.blobs[g->fetching].blob,
				  g->paths[g->fetching], PATH_MAX) != 0) {
		fetched(g, -ENOENT);
		return;
	}
	g->fetching++;
	ensure_local(g);
}

/* The answer of a failed precondition: 304 with the validators, 412. */
static void not_served(struct ows__s3_req *r, struct get *g, int status,
		       const char *cond)
{
	struct ows_http_header h[4];
	size_t n = 0;

	if (status == 304) {
		ows__s3_object_headers(r, &g->o, h, 4, &n);
		get_free(g);
		ows__s3_reply(r, 304, h, n, NULL, 0);
		return;
	}
	get_free(g);
	if (strcmp(r->c->req->method, "HEAD") == 0) {
		ows__s3_reply(r, 412, NULL, 0, NULL, 0);
		return;
	}
	{
		json_t *extra = json_pack("{s:s}", "Condition", cond);

		ows_aws_error_with(r->c, 412, "PreconditionFailed", extra,
				   "At least one of the pre-conditions you "
				   "specified did not hold");
		json_decref(extra);
	}
}

void ows__s3_get_object(struct ows__s3_req *r)
{
	struct get *g = calloc(1, sizeof(*g));
	const char *cond = NULL;
	int rv, status;

	if (g == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	g->r = r;
	g->fd = -1;
	g->loop = r->c->host->loop;
	rv = ows__s3_object_load(r, &g->o);
	if (rv != 0) {
		free(g);
		return;
	}
	if (!overrides_allowed(r)) {
		get_free(g);
		return;
	}
	status = preconditions(r, &g->o, &cond);
	if (status != 0) {
		not_served(r, g, status, cond);
		return;
	}
	status = extent(r, g);
	if (status == 0) {
		get_free(g);
		return;
	}
	g->paths = calloc(g->o.n_blobs ? g->o.n_blobs : 1, sizeof(*g->paths));
	if (g->paths == NULL) {
		get_free(g);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	g->rstatus = status; /* kept for send_object */
	ensure_local(g);
}
