/*
 * The blob store between nodes (blob.h): placement of a blob on the
 * members, fetching a blob a node lacks from a peer, and pushing a local
 * blob to peers. Bodies stream both ways (http/http.h,
 * ows_http_client_stream): a fetched body goes piece by piece through a
 * writer whose calls run on libuv's thread pool while the socket waits,
 * and a pushed blob is read from its file a piece at a time, so that a
 * node's memory does not grow with the size of a blob (issue 10, "Where
 * the bytes go").
 */
#include "blob/blob.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "auth/reqsig.h"
#include "common/log.h"
#include "http/http.h"

/*
 * Idle limits: a peer that sends or takes nothing for this long is left.
 * A push waits for the peer's commit after the last byte (its fsync of
 * what the kernel has not written back yet: seconds for gigabytes).
 */
#define FETCH_IDLE_MS 30000
#define PUSH_IDLE_MS 120000
#define HEAD_TIMEOUT_MS 10000
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Error bodies (a 404's JSON) are small. */
#define ERROR_BODY_MAX ((size_t)64 * 1024)

/* ---- placement ---- */

static uint64_t weight(const char *hash, uint64_t id)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char in[96];
	uint64_t w = 0;
	int n = snprintf(in, sizeof(in), "%.64s:%" PRIu64, hash, id);

	SHA256((const unsigned char *)in, (size_t)n, md);
	for (int i = 0; i < 8; i++)
		w = w << 8 | md[i];
	return w;
}

void ows_blob_place(const char *hash, uint64_t *ids, size_t n)
{
	uint64_t *w = n > 0 ? malloc(n * sizeof(*w)) : NULL;

	if (w == NULL) /* out of memory: the order stays, holders differ */
		return;
	for (size_t i = 0; i < n; i++)
		w[i] = weight(hash, ids[i]);
	/* Insertion sort: a cluster has a handful of members. */
	for (size_t i = 1; i < n; i++) {
		uint64_t id = ids[i], wi = w[i];
		size_t j = i;

		while (j > 0 && (w[j - 1] < wi ||
				 (w[j - 1] == wi && ids[j - 1] > id))) {
			ids[j] = ids[j - 1];
			w[j] = w[j - 1];
			j--;
		}
		ids[j] = id;
		w[j] = wi;
	}
	free(w);
}

/* ---- peers' addresses ---- */

/* Peers' edge addresses, copied; NULL-terminated. */
static char **peers_copy(const char *const *peers, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(peers[i]);
		if (out[i] == NULL) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void peers_free(char **peers)
{
	for (size_t i = 0; peers != NULL && peers[i] != NULL; i++)
		free(peers[i]);
	free(peers);
}

/* ---- fetch: GET streamed into a writer ---- */

struct fetch {
	const struct ows_blob_store *s;
	uv_loop_t *loop;
	const struct ows_key *key;
	char **peers;
	size_t next;
	char hash[65];
	ows_blob_done_cb cb;
	void *ud;
	struct ows_blob_writer w;
	bool open;        /* w is open */
	uv_work_t work;
	int work_rv;
	const char *piece; /* borrowed from the client until sink_done */
	size_t len;
	void *token;
	uint64_t rate_bps;
};

static void fetch_end(struct fetch *f, int status)
{
	if (f->open)
		ows_blob_writer_abort(&f->w);
	f->cb(f->ud, status);
	peers_free(f->peers);
	free(f);
}

static int fetch_next(struct fetch *f);

/* Thread pool: open the writer with the first piece, then write it. */
static void piece_work(uv_work_t *w)
{
	struct fetch *f = w->data;
	int rv = 0;

	if (!f->open) {
		rv = ows_blob_writer_open(&f->w, f->s, f->hash);
		f->open = rv == 0;
	}
	if (rv == 0 && f->w.size + f->len > OWS_BLOB_MAX)
		rv = -EFBIG;
	if (rv == 0 && f->len > 0)
		rv = ows_blob_writer_write(&f->w, f->piece, f->len);
	f->work_rv = rv;
}

static void piece_done(uv_work_t *w, int status)
{
	struct fetch *f = w->data;

	ows_http_client_sink_done(f->token, status != 0 ? status
							: f->work_rv);
}

static void fetch_sink(void *ud, const char *data, size_t len, void *token)
{
	struct fetch *f = ud;

	f->piece = data;
	f->len = len;
	f->token = token;
	f->work.data = f;
	if (uv_queue_work(f->loop, &f->work, piece_work, piece_done) != 0)
		ows_http_client_sink_done(token, -EIO);
}

/* Thread pool: the whole body is written; check and rename it. */
static void commit_work(uv_work_t *w)
{
	struct fetch *f = w->data;
	int rv = 0;

	if (!f->open) { /* the empty blob: no piece came */
		rv = ows_blob_writer_open(&f->w, f->s, f->hash);
		f->open = rv == 0;
	}
	f->work_rv = rv == 0 ? ows_blob_writer_commit(&f->w) : rv;
}

static void commit_done(uv_work_t *w, int status)
{
	struct fetch *f = w->data;
	int rv = status != 0 ? status : f->work_rv;

	if (rv == 0) {
		fetch_end(f, 0);
		return;
	}
	/* Bytes that are not the blob: a broken or lying peer. */
	ows_blob_writer_abort(&f->w);
	f->open = false;
	if (fetch_next(f) != 0)
		fetch_end(f, -ENOENT);
}

static void fetched_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct fetch *f = ud;

	if (status == 0 && r->status == 200) {
		f->work.data = f;
		if (uv_queue_work(f->loop, &f->work, commit_work,
				  commit_done) == 0)
			return;
	}
	if (f->open)
		ows_blob_writer_abort(&f->w);
	f->open = false;
	if (fetch_next(f) != 0)
		fetch_end(f, -ENOENT);
}

/* Ask the next peer: 0 when a request is out, else -ENOENT. */
static int fetch_next(struct fetch *f)
{
	struct ows_http_client_opts opts = {FETCH_IDLE_MS, ERROR_BODY_MAX};
	struct ows_http_client_body body = {.sink = fetch_sink, .sink_ud = f,
					    .rate_bps = f->rate_bps};
	char target[128], auth[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header h = {"Authorization", auth};

	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s", f->hash);
	while (f->peers[f->next] != NULL) {
		const char *addr = f->peers[f->next++];

		if (ows_reqsig_sign(f->key, "GET", target, NULL, 0,
				    (int64_t)time(NULL), auth) != 0)
			continue;
		if (ows_http_client_stream(f->loop, addr, "GET", target, &h, 1,
					   &body, &opts, fetched_cb, f) == 0)
			return 0;
	}
	return -ENOENT;
}

int ows_blob_fetch(const struct ows_blob_store *s, uv_loop_t *loop,
		   const struct ows_key *key, const char *const *peers,
		   size_t n_peers, const char *hash, ows_blob_done_cb cb,
		   void *ud)
{
	return ows_blob_fetch_paced(s, loop, key, peers, n_peers, hash, 0, cb,
				    ud);
}

int ows_blob_fetch_paced(const struct ows_blob_store *s, uv_loop_t *loop,
			 const struct ows_key *key, const char *const *peers,
			 size_t n_peers, const char *hash, uint64_t rate_bps,
			 ows_blob_done_cb cb, void *ud)
{
	struct fetch *f;
	int rv;

	if (!ows_blob_name_valid(hash))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->peers = peers_copy(peers, n_peers)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->s = s;
	f->loop = loop;
	f->key = key;
	memcpy(f->hash, hash, 65);
	f->rate_bps = rate_bps;
	f->cb = cb;
	f->ud = ud;
	rv = fetch_next(f);
	if (rv != 0) {
		peers_free(f->peers);
		free(f);
	}
	return rv;
}

/* ---- replicate: HEAD, then PUT streamed from the file ---- */

struct push {
	uv_loop_t *loop;
	const struct ows_key *key;
	char **peers;
	size_t next;
	char hash[65];
	char path[PATH_MAX];
	uint64_t size;
	unsigned want, need, have;
	uint64_t rate_bps;
	ows_blob_done_cb cb;
	void *ud;
	const char *addr; /* the peer being asked */
};

static int push_next(struct push *p);
static int push_put(struct push *p);

static void push_end(struct push *p)
{
	p->cb(p->ud, p->have >= p->want || p->have >= p->need ? 0 : -EIO);
	peers_free(p->peers);
	free(p);
}

static void push_on(struct push *p)
{
	if (push_next(p) != 0)
		push_end(p);
}

static void pushed_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct push *p = ud;

	if (status == 0 && r->status / 100 == 2) {
		p->have++;
		ows_log(OWS_LOG_INFO, "blob", "pushed %.16s... (%" PRIu64
			" bytes) to %s", p->hash, p->size, p->addr);
	} else {
		ows_log(OWS_LOG_WARN, "blob", "cannot push %.16s... to %s: %s",
			p->hash, p->addr, status != 0 ? ows_strerror(status)
						      : "refused");
	}
	push_on(p);
}

static void headed_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct push *p = ud;

	if (status == 0 && r->status == 200) {
		p->have++; /* it holds the blob already */
		push_on(p);
	} else if (status != 0 || r->status != 404 || push_put(p) != 0) {
		push_on(p);
	}
}

static int sign(struct push *p, const char *method, const char *target,
		char *sig)
{
	/* The PUT's body is the blob: its SHA-256 is the blob's name. */
	return ows_reqsig_sign_hash(p->key, method, target,
				    strcmp(method, "PUT") == 0 ? p->hash
							       : EMPTY_SHA256,
				    (int64_t)time(NULL), sig);
}

static int push_put(struct push *p)
{
	struct ows_http_client_opts opts = {PUSH_IDLE_MS, ERROR_BODY_MAX};
	struct ows_http_client_body body = {.body_path = p->path,
					    .body_len = p->size,
					    .rate_bps = p->rate_bps};
	char target[128], sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header h[] = {
		{"Authorization", sig},
		{"Content-Type", "application/octet-stream"},
	};

	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s", p->hash);
	if (sign(p, "PUT", target, sig) != 0)
		return -EIO;
	return ows_http_client_stream(p->loop, p->addr, "PUT", target, h, 2,
				      &body, &opts, pushed_cb, p);
}

/* The next peer's HEAD: 0 when one is out, else -1 (done or none left). */
static int push_next(struct push *p)
{
	struct ows_http_client_opts opts = {HEAD_TIMEOUT_MS, ERROR_BODY_MAX};
	char target[128], sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header h = {"Authorization", sig};

	snprintf(target, sizeof(target), "/_ows/v1/blobs/%s", p->hash);
	while (p->have < p->want && p->peers[p->next] != NULL) {
		p->addr = p->peers[p->next++];
		if (sign(p, "HEAD", target, sig) != 0)
			continue;
		if (ows_http_client_request(p->loop, p->addr, "HEAD", target,
					    &h, 1, NULL, 0, &opts, headed_cb,
					    p) == 0)
			return 0;
	}
	return -1;
}

int ows_blob_replicate(const struct ows_blob_store *s, uv_loop_t *loop,
		       const struct ows_key *key, const char *const *peers,
		       size_t n_peers, const char *hash, unsigned want,
		       unsigned need, uint64_t rate_bps, ows_blob_done_cb cb,
		       void *ud)
{
	struct push *p;
	uint64_t size;

	if (!ows_blob_name_valid(hash) || ows_blob_size(s, hash, &size) != 0)
		return -ENOENT;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->peers = peers_copy(peers, n_peers)) == NULL) {
		free(p);
		return -ENOMEM;
	}
	p->loop = loop;
	p->key = key;
	memcpy(p->hash, hash, 65);
	ows_blob_path(s, hash, p->path, sizeof(p->path));
	p->size = size;
	p->want = want;
	p->need = need < want ? need : want;
	p->rate_bps = rate_bps;
	p->cb = cb;
	p->ud = ud;
	push_on(p); /* want reached (0) or no peer to ask: cb at once */
	return 0;
}
