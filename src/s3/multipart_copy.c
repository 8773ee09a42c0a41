/*
 * UploadPartCopy (S3 API Reference): a part made of another object's
 * bytes, all of them or the range x-amz-copy-source-range "bytes=A-B"
 * names, under the copy-source conditionals (x-amz-copy-source-if-match,
 * -if-none-match, -if-unmodified-since, -if-modified-since: 412
 * PreconditionFailed).
 *
 * The part is a new blob: the range is read from the source's blobs on
 * libuv's thread pool, a slice at a time through one buffer (never the
 * whole range in memory, and never one pool thread held for a whole 5
 * GiB), hashed (MD5 for the part's ETag, the upload's checksum) and
 * written by a blob writer; committed, made durable on the replica count,
 * and named by uploads.part as an uploaded part is. A source blob this
 * node lacks is fetched from a peer first.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "blob/blob.h"
#include "common/enc.h"
#include "common/log.h"
#include "s3/multipart.h"

#define BUF_SIZE (1u << 20)   /* one read and write */
#define SLICE (16ull << 20)   /* bytes per pool job */

/* One source blob's share of the range. */
struct seg {
	char blob[65];
	uint64_t from, len; /* within the blob */
};

struct copy {
	struct ows__s3_req *r;
	const struct ows_aws_host *host;
	char upload_id[OWS_S3_UPLOAD_ID_LEN + 8];
	unsigned part;
	struct seg *segs;        /* arena */
	size_t n_segs, si;       /* si: the segment being copied */
	uint64_t done_in_seg;
	size_t fetching;         /* segments checked to be local */
	struct ows_blob_writer w;
	bool opened, committed, finished;
	EVP_MD_CTX *md5;
	struct ows__s3_ck ck;
	char *buf;
	int status;              /* the pool's */
	char md5_hex[33], ck_b64[OWS_S3_CK_B64];
	uint64_t size;
	uv_work_t job;
};

static void copy_free(struct copy *k)
{
	/* after a commit too: it frees the writer's digest */
	if (k->opened)
		ows_blob_writer_abort(&k->w);
	k->opened = false;
	EVP_MD_CTX_free(k->md5);
	ows__s3_ck_free(&k->ck);
	free(k->buf);
	k->md5 = NULL;
	k->buf = NULL;
}

/* ---- the pool ---- */

/* Copy up to SLICE bytes of the current segments into the writer. */
static int copy_slice(struct copy *k)
{
	uint64_t budget = SLICE;
	char path[PATH_MAX];

	while (budget > 0 && k->si < k->n_segs) {
		struct seg *s = &k->segs[k->si];
		uint64_t left = s->len - k->done_in_seg;
		int fd;

		if (left == 0) {
			k->si++;
			k->done_in_seg = 0;
			continue;
		}
		ows_blob_path(k->host->blobs, s->blob, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		while (left > 0 && budget > 0) {
			size_t want = left < BUF_SIZE ? (size_t)left : BUF_SIZE;
			ssize_t got;

			if (want > budget)
				want = (size_t)budget;
			got = pread(fd, k->buf, want,
				    (off_t)(s->from + k->done_in_seg));
			if (got <= 0) {
				close(fd);
				return got < 0 ? -errno : -EIO;
			}
			EVP_DigestUpdate(k->md5, k->buf, (size_t)got);
			ows__s3_ck_update(&k->ck, k->buf, (size_t)got);
			if (ows_blob_writer_write(&k->w, k->buf, (size_t)got)) {
				close(fd);
				return -EIO;
			}
			k->done_in_seg += (uint64_t)got;
			left -= (uint64_t)got;
			budget -= (uint64_t)got;
		}
		close(fd);
	}
	return 0;
}

static void job_work(uv_work_t *job)
{
	struct copy *k = job->data;
	unsigned char md[16];
	unsigned int n = 0;
	int rv = 0;

	if (!k->opened) {
		rv = ows_blob_writer_open_new(&k->w, k->host->blobs);
		k->opened = rv == 0;
	}
	if (rv == 0)
		rv = copy_slice(k);
	if (rv == 0 && k->si == k->n_segs) {
		EVP_DigestFinal_ex(k->md5, md, &n);
		ows_hex_encode(md, 16, k->md5_hex);
		ows__s3_ck_final(&k->ck, k->ck_b64);
		rv = ows_blob_writer_commit(&k->w);
		k->committed = rv == 0;
		k->finished = true;
	}
	k->status = rv;
}

static void replicated(void *ud, int status)
{
	struct copy *k = ud;
	struct ows__s3_req *r = k->r;

	if (status != 0) {
		copy_free(k);
		ows__s3_error(r, 503, "ServiceUnavailable", "Please reduce "
			      "your request rate. (the data could not be "
			      "stored on enough nodes)");
		return;
	}
	copy_free(k);
	ows__s3_mpu_part_propose(r, k->upload_id, k->part, k->w.hash, k->size,
				 k->md5_hex, k->ck.alg, k->ck_b64, true);
}

static void job_done(uv_work_t *job, int status)
{
	struct copy *k = job->data;
	struct ows__s3_req *r = k->r;
	int rv;

	if (status != 0 || k->status != 0) {
		ows_log(OWS_LOG_WARN, "s3", "UploadPartCopy %s/%s: %s",
			r->bucket, r->key,
			ows_strerror(status ? status : k->status));
		copy_free(k);
		ows__s3_internal(r, status ? status : k->status);
		return;
	}
	if (!k->finished) {
		rv = uv_queue_work(k->host->loop, &k->job, job_work, job_done);
		if (rv != 0) {
			copy_free(k);
			ows__s3_internal(r, rv);
		}
		return;
	}
	rv = k->host->blob_replicate(r->c, k->w.hash, replicated, k);
	if (rv != 0)
		replicated(k, rv);
}

/* ---- the source's blobs here ---- */

static void fetched(void *ud, int status);

static void ensure_local(struct copy *k)
{
	struct ows__s3_req *r = k->r;
	char path[PATH_MAX];
	int rv;

	for (; k->fetching < k->n_segs; k->fetching++) {
		const char *blob = k->segs[k->fetching].blob;

		if (k->host->blob_path(k->host, blob, path, sizeof(path)) == 0)
			continue;
		rv = k->host->blob_fetch(r->c, blob, fetched, k);
		if (rv != 0)
			fetched(k, rv);
		return;
	}
	k->job.data = k;
	rv = uv_queue_work(k->host->loop, &k->job, job_work, job_done);
	if (rv != 0) {
		copy_free(k);
		ows__s3_internal(r, rv);
	}
}

static void fetched(void *ud, int status)
{
	struct copy *k = ud;
	struct ows__s3_req *r = k->r;

	if (status != 0) {
		ows_log(OWS_LOG_WARN, "s3", "UploadPartCopy: blob %s is on no "
			"node reached: %s", k->segs[k->fetching].blob,
			ows_strerror(status));
		copy_free(k);
		ows__s3_error(r, 503, "ServiceUnavailable", "Please reduce "
			      "your request rate. (the source's data could "
			      "not be read from any node)");
		return;
	}
	k->fetching++;
	ensure_local(k);
}

/* ---- the request ---- */

/* The source's blobs that hold [a, b) into k->segs. */
static int segments(struct copy *k, const struct ows__s3_object *o,
		    uint64_t a, uint64_t b)
{
	k->segs = ows_arena_alloc(k->r->c->arena,
				  (o->n_blobs + 1) * sizeof(*k->segs));
	if (k->segs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_blobs; i++) {
		const struct ows__s3_blob *bl = &o->blobs[i];
		uint64_t s = bl->offset, e = bl->offset + bl->size;

		if (e <= a || s >= b || bl->size == 0)
			continue;
		snprintf(k->segs[k->n_segs].blob, 65, "%s", bl->blob);
		k->segs[k->n_segs].from = (a > s ? a : s) - s;
		k->segs[k->n_segs].len = (b < e ? b : e) - (a > s ? a : s);
		k->n_segs++;
	}
	return 0;
}

/*
 * x-amz-copy-source ("bucket/key" or "/bucket/key", percent-encoded,
 * "?versionId=null" allowed) into bucket and key (arena): false once
 * answered.
 */
static bool copy_source(struct ows__s3_req *r, char bucket[72],
			const char **key)
{
	const char *v = ows_aws_header(r->c, "x-amz-copy-source");
	const char *q;
	char *dec, *slash;

	if (v != NULL && v[0] == '/')
		v++;
	q = v ? strchr(v, '?') : NULL;
	if (q != NULL && strcmp(q, "?versionId=null") != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Invalid version id "
			      "specified");
		return false;
	}
	/* decoded as a whole before the split, as CopyObject's (copy.c):
	   "b%2Fk" names b/k, never a bucket "b/..." whose ARN would read
	   as another bucket's key */
	dec = v ? ows_arena_strndup(r->c->arena, v, q ? (size_t)(q - v)
						       : strlen(v)) : NULL;
	if (dec == NULL || strstr(dec, "%00") != NULL)
		goto invalid;
	ows_percent_decode(dec);
	slash = strchr(dec, '/');
	if (slash == NULL || slash == dec || slash - dec > OWS_S3_BUCKET_MAX ||
	    ows__s3_key_check(slash + 1, strlen(slash + 1)) != 0)
		goto invalid;
	snprintf(bucket, 72, "%.*s", (int)(slash - dec), dec);
	*key = slash + 1;
	return true;
invalid:
	ows__s3_error(r, 400, "InvalidArgument", "Copy Source must mention the "
		      "source bucket and key: sourcebucket/sourcekey");
	return false;
}

/* An ETag header's value matches etag (unquoted; "*" matches any). */
static bool etag_matches(const char *v, const char *etag)
{
	size_t n;

	while (*v == ' ')
		v++;
	if (strcmp(v, "*") == 0)
		return true;
	if (*v == '"')
		v++;
	n = strcspn(v, "\"");
	return n == strlen(etag) && strncmp(v, etag, n) == 0;
}

/* The copy-source conditionals, as CopyObject's: true when they hold. */
static bool conditions_hold(struct ows__s3_req *r,
			    const struct ows__s3_object *o)
{
	const char *im = ows_aws_header(r->c, "x-amz-copy-source-if-match");
	const char *inm = ows_aws_header(r->c,
					 "x-amz-copy-source-if-none-match");
	const char *ius = ows_aws_header(r->c,
				"x-amz-copy-source-if-unmodified-since");
	const char *ims = ows_aws_header(r->c,
				"x-amz-copy-source-if-modified-since");
	int64_t t, secs = o->modified / 1000 * 1000;

	/* If-Match true makes If-Unmodified-Since moot; If-None-Match
	   false makes If-Modified-Since moot (the API reference). */
	if (im != NULL && !etag_matches(im, o->etag))
		return false;
	if (im == NULL && ius != NULL &&
	    ows__s3_parse_http_date(ius, &t) == 0 && secs > t)
		return false;
	if (inm != NULL && etag_matches(inm, o->etag))
		return false;
	if (inm == NULL && ims != NULL &&
	    ows__s3_parse_http_date(ims, &t) == 0 && secs <= t)
		return false;
	return true;
}

/* x-amz-copy-source-range of an object of size bytes into [*a, *b):
   false once answered. */
static bool copy_range(struct ows__s3_req *r, uint64_t size, uint64_t *a,
		       uint64_t *b)
{
	const char *v = ows_aws_header(r->c, "x-amz-copy-source-range");
	unsigned long long first, last;
	int end = 0;

	*a = 0;
	*b = size;
	if (v == NULL)
		return true;
	if (sscanf(v, "bytes=%llu-%llu%n", &first, &last, &end) != 2 ||
	    v[end] != '\0' || first > last || v[6] == '-' || v[6] == '+') {
		ows__s3_error(r, 400, "InvalidArgument", "The "
			      "x-amz-copy-source-range value must be of the "
			      "form bytes=first-last where first and last are "
			      "the zero-based offsets of the first and last "
			      "bytes to copy");
		return false;
	}
	if (last >= size) {
		ows__s3_error(r, 400, "InvalidArgument", "Range specified is "
			      "not valid for source object of size: %llu",
			      (unsigned long long)size);
		return false;
	}
	*a = first;
	*b = last + 1;
	return true;
}

/* Start the copy of [a, b) of o into a part of upload u. */
static void copy_start(struct ows__s3_req *r, const struct ows__s3_upload *u,
		       unsigned part, const struct ows__s3_object *o,
		       uint64_t a, uint64_t b)
{
	struct copy *k = ows_arena_alloc(r->c->arena, sizeof(*k));

	if (k == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(k, 0, sizeof(*k));
	k->r = r;
	k->host = r->c->host;
	k->part = part;
	k->size = b - a;
	k->w.fd = -1;
	snprintf(k->upload_id, sizeof(k->upload_id), "%s", u->id);
	k->md5 = EVP_MD_CTX_new();
	k->buf = malloc(BUF_SIZE);
	if (k->md5 == NULL || k->buf == NULL ||
	    EVP_DigestInit_ex(k->md5, EVP_md5(), NULL) != 1 ||
	    ows__s3_ck_init(&k->ck, u->ck) != 0 || segments(k, o, a, b) != 0) {
		copy_free(k);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ensure_local(k);
}

void ows__s3_mpu_upload_part_copy(struct ows__s3_req *r)
{
	struct ows__s3_upload u = {0};
	struct ows__s3_object o = {0};
	char sbucket[72];
	const char *skey;
	uint64_t a, b;
	unsigned part;
	int rv;

	if (!ows__s3_part_number(r, &part) || !ows__s3_mpu_upload_of(r, &u))
		return;
	json_decref(u.meta);
	if (!copy_source(r, sbucket, &skey))
		return;
	if (!ows_state_resource_exists(r->c->host->state, "buckets",
				       sbucket)) {
		ows__s3_error(r, 404, "NoSuchBucket", "The specified bucket "
			      "does not exist");
		return;
	}
	if (ows__s3_authorize(r, "s3:GetObject", sbucket, skey, NULL) != 0)
		return;
	rv = ows__s3_object_get(r->c->host, r->c->arena, sbucket, skey, &o);
	if (rv == OWS_ENOTFOUND) {
		ows__s3_error(r, 404, "NoSuchKey", "The specified key does not "
			      "exist.");
		return;
	}
	if (rv != 0) {
		ows__s3_internal(r, rv);
		return;
	}
	if (!conditions_hold(r, &o)) {
		ows__s3_object_release(&o);
		ows__s3_error(r, 412, "PreconditionFailed", "At least one of "
			      "the pre-conditions you specified did not hold");
		return;
	}
	if (!copy_range(r, o.size, &a, &b)) {
		ows__s3_object_release(&o);
		return;
	}
	if (b - a > OWS_S3_PART_SIZE_MAX)
		ows__s3_error(r, 400, "InvalidRequest", "The specified copy "
			      "source is larger than the maximum allowable "
			      "size for a copy source: 5368709120");
	else
		copy_start(r, &u, part, &o, a, b);
	ows__s3_object_release(&o);
}
