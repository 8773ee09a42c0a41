/*
 * A request's body into a blob (s3_priv.h, ows__s3_sink): the body is
 * streamed from the socket, verified by aws/ as it goes (SigV4 chunk
 * signatures and trailers), and handed in batches to libuv's thread
 * pool, where MD5 (the ETag), the checksum asked for and SHA-256 (the
 * blob's name, by the blob writer) are computed and the bytes written to
 * a temporary file. While the pool is behind, the socket is paused, so
 * the memory a PUT holds stays under two batches whatever its size.
 *
 * Only once every byte is in, and Content-MD5 and the checksum (header
 * or trailer) match, is the blob committed (fsync, rename) and made
 * durable on the cluster's replica count; a mismatch stores nothing.
 *
 * Checksums, as the S3 User Guide's "Checking object integrity" has
 * them: one x-amz-checksum-ALG header, or x-amz-trailer naming one sent
 * after an aws-chunked body (boto3 >= 1.36 sends CRC32 that way by
 * default), or x-amz-sdk-checksum-algorithm alone (the SDK computes
 * nothing: S3 refuses that).
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blob/blob.h"
#include "common/enc.h"
#include "common/log.h"
#include "s3/s3_priv.h"

/*
 * Pause the socket past this much queued. Small, because the parts of a
 * multipart upload arrive side by side (aws s3 cp sends 10 at once): at
 * 4 MiB each could hold twice that, and a 1 GiB copy grew the node by
 * 90 MiB; at 512 KiB it stays under 10 MiB, as fast. With many uploads
 * at once each is held to its share of UPLOADS_BUDGET, down to BATCH_LOW.
 */
#define BATCH_HIGH (512u << 10)
#define BATCH_LOW (256u << 10)
#define UPLOADS_BUDGET (32u << 20) /* the batches of all uploads, about */

struct sink {
	struct ows__s3_req *r;   /* NULL once the call is answered */
	const struct ows_aws_host *host;
	ows__s3_sink_cb done;
	struct ows__s3_stored *out; /* the call's arena */
	uint64_t max;
	ows__s3_sink_filter filter; /* POST Object's form, or NULL */
	struct ows_blob_writer w;
	bool opened;
	EVP_MD_CTX *md5;
	struct ows__s3_ck ck;
	struct ows_buf in, work; /* the loop's batch, the pool's batch */
	uint64_t received;
	bool busy, paused, last, committing, mismatch_md5,
	     mismatch_ck;
	bool ck_computed;        /* the checksum is ours: nothing to match */
	int wstatus;             /* the pool's error */
	uv_work_t job, job2;     /* a batch's write and its hashes */
	unsigned jobs;           /* of them still running */
	bool queue_failed;       /* the hashes could not be queued */
	/* expectations */
	unsigned char want_md5[16];
	bool has_md5;
	char want_ck[OWS_S3_CK_B64];
	char trailer[40];        /* the trailer that carries it, or "" */
	char md5_hex[33];
	char ck_b64[OWS_S3_CK_B64];
};

/*
 * Each upload holds two batches (the one being read, the one the pool
 * works on): with many at once (a client may open hundreds), each is
 * held to its share of UPLOADS_BUDGET, so that the node's memory stays
 * bounded by the budget, not by the number of uploads. Loop thread only.
 */
static unsigned sinks_active;

static size_t batch_high(void)
{
	size_t per = sinks_active > 0 ? UPLOADS_BUDGET / sinks_active
				      : BATCH_HIGH;

	return per > BATCH_HIGH ? BATCH_HIGH : per < BATCH_LOW ? BATCH_LOW
							       : per;
}

static void sink_free(struct sink *s)
{
	sinks_active--;
	/* after commit too: the writer's digest goes only with abort */
	if (s->opened)
		ows_blob_writer_abort(&s->w);
	EVP_MD_CTX_free(s->md5);
	ows__s3_ck_free(&s->ck);
	ows_buf_free(&s->in);
	ows_buf_free(&s->work);
	free(s);
}

/* The call is answered (or about to be): the sink lives on while the
   pool works, then goes. */
static void detach(struct sink *s)
{
	if (s->r != NULL && s->paused)
		ows_http_req_resume(s->r->c->req);
	s->r = NULL;
	if (!s->busy)
		sink_free(s);
}

static void fail(struct sink *s, int status, const char *code,
		 const char *msg)
{
	struct ows__s3_req *r = s->r;

	if (r == NULL)
		return;
	detach(s);
	if (status == 0)
		ows__s3_internal(r, -EIO);
	else
		ows__s3_error(r, status, code, "%s", msg);
}

/* ---- the pool ---- */

/*
 * A batch is two jobs that run at once on the same (read-only) bytes:
 * the write (with the writer's SHA-256) and MD5 with the checksum, the
 * two halves of the CPU an upload costs.
 */
static void write_work(uv_work_t *job)
{
	struct sink *s = job->data;
	int rv = 0;

	if (!s->opened) {
		rv = ows_blob_writer_open_new(&s->w, s->host->blobs);
		s->opened = rv == 0;
	}
	if (rv == 0 && s->work.len > 0)
		rv = ows_blob_writer_write(&s->w, s->work.data, s->work.len);
	s->wstatus = rv;
}

static void hash_work(uv_work_t *job)
{
	struct sink *s = job->data;

	if (s->work.len > 0) {
		EVP_DigestUpdate(s->md5, s->work.data, s->work.len);
		ows__s3_ck_update(&s->ck, s->work.data, s->work.len);
	}
}

/* The last job: digests checked, then the blob committed or dropped. */
static void commit_work(uv_work_t *job)
{
	struct sink *s = job->data;
	unsigned char md[16];
	unsigned int n = 0;
	int rv = 0;

	if (!s->opened) {
		rv = ows_blob_writer_open_new(&s->w, s->host->blobs);
		s->opened = rv == 0;
	}
	if (rv == 0) {
		EVP_DigestFinal_ex(s->md5, md, &n);
		ows_hex_encode(md, 16, s->md5_hex);
		ows__s3_ck_final(&s->ck, s->ck_b64);
		s->mismatch_md5 = s->has_md5 && memcmp(md, s->want_md5, 16);
		s->mismatch_ck = s->ck.alg != OWS_S3_CK_NONE &&
				 !s->ck_computed &&
				 strcmp(s->ck_b64, s->want_ck) != 0;
		if (s->mismatch_md5 || s->mismatch_ck)
			ows_blob_writer_abort(&s->w);
		else
			rv = ows_blob_writer_commit(&s->w);
	}
	s->wstatus = rv;
}

static void job_done(uv_work_t *job, int status);

static void start_job(struct sink *s)
{
	uv_loop_t *loop = s->r->c->host->loop;
	struct ows_buf t = s->work;
	int rv;

	s->work = s->in; /* the batch goes to the pool; in is empty */
	s->in = t;
	s->in.len = 0;
	if (s->in.cap > 2 * batch_high())
		ows_buf_free(&s->in); /* more uploads now: a smaller share */
	s->busy = true;
	s->job.data = s;
	s->job2.data = s;
	rv = uv_queue_work(loop, &s->job, s->committing ? commit_work
							: write_work, job_done);
	if (rv != 0) {
		s->busy = false;
		fail(s, 0, NULL, NULL);
		return;
	}
	s->jobs = 1;
	if (!s->committing) {
		if (uv_queue_work(loop, &s->job2, hash_work, job_done) == 0)
			s->jobs = 2;
		else
			s->queue_failed = true; /* the digests would miss it */
	}
	if (s->paused && s->r != NULL) {
		s->paused = false;
		ows_http_req_resume(s->r->c->req);
	}
}

static void replicated(void *ud, int status)
{
	struct sink *s = ud;
	struct ows__s3_req *r = s->r;

	if (r == NULL) {
		sink_free(s);
		return;
	}
	if (status != 0) {
		ows_log(OWS_LOG_WARN, "s3", "blob %s: %s", s->out->blob,
			ows_strerror(status));
		fail(s, 503, "ServiceUnavailable", "Please reduce your request "
		     "rate. (the data could not be stored on enough nodes)");
		return;
	}
	{
		struct ows__s3_stored *out = s->out;
		ows__s3_sink_cb done = s->done;

		s->r = NULL;
		r->reading = NULL;
		sink_free(s);
		done(r, out);
	}
}

static void committed(struct sink *s)
{
	struct ows__s3_stored *o = s->out;
	char name[32];
	int rv;

	if (s->mismatch_md5) {
		fail(s, 400, "BadDigest", "The Content-MD5 you specified did "
		     "not match what we received.");
		return;
	}
	if (s->mismatch_ck) {
		char msg[128];

		snprintf(name, sizeof(name), "%s", ows__s3_ck_name(s->ck.alg));
		snprintf(msg, sizeof(msg), "The %s you specified did not match "
			 "the calculated checksum.", name);
		fail(s, 400, "BadDigest", msg);
		return;
	}
	memcpy(o->blob, s->w.hash, 65);
	memcpy(o->md5, s->md5_hex, 33);
	o->size = s->received;
	o->ck = s->ck.alg;
	memcpy(o->checksum, s->ck_b64, OWS_S3_CK_B64);
	rv = s->host->blob_replicate(s->r->c, o->blob, replicated, s);
	if (rv != 0)
		replicated(s, rv);
}

static void next(struct sink *s);

static void job_done(uv_work_t *job, int status)
{
	struct sink *s = job->data;

	if (status != 0)
		s->wstatus = status;
	if (--s->jobs > 0)
		return; /* the other half of the batch still runs */
	s->busy = false;
	if (s->queue_failed && s->wstatus == 0)
		s->wstatus = -ENOMEM;
	if (s->r == NULL) {
		sink_free(s);
		return;
	}
	if (s->wstatus != 0) {
		ows_log(OWS_LOG_WARN, "s3", "writing a blob: %s",
			ows_strerror(s->wstatus));
		fail(s, 0, NULL, NULL);
		return;
	}
	if (s->committing) {
		committed(s);
		return;
	}
	next(s);
}

/* The trailer's checksum, once the body is in: false once answered. */
static bool trailer_ck(struct sink *s)
{
	char v[OWS_S3_CK_B64];

	if (s->trailer[0] == '\0')
		return true;
	if (!ows_aws_call_trailer(s->r->c, s->trailer, v, sizeof(v))) {
		fail(s, 400, "InvalidRequest", "The x-amz-trailer header was "
		     "specified, but the trailer was not sent");
		return false;
	}
	memcpy(s->want_ck, v, sizeof(v));
	return true;
}

static void next(struct sink *s)
{
	if (s->in.len > 0) {
		start_job(s);
		return;
	}
	if (s->last && !s->committing) {
		if (!trailer_ck(s))
			return;
		s->committing = true;
		start_job(s);
	}
}

/* ---- the socket ---- */

/* Bytes of the blob: false once answered (too large, out of memory). */
static int keep(struct sink *s, const void *data, size_t len)
{
	s->received += len;
	if (s->received > s->max) {
		fail(s, 400, "EntityTooLarge", "Your proposed upload "
		     "exceeds the maximum allowed size");
		return -EMSGSIZE;
	}
	if (ows_buf_append(&s->in, data, len) != 0) {
		fail(s, 0, NULL, NULL);
		return -ENOMEM;
	}
	return 0;
}

int ows__s3_sink_keep(struct ows__s3_req *r, const void *data, size_t len)
{
	struct sink *s = r->reading;

	return s == NULL || s->r == NULL ? -ECANCELED : keep(s, data, len);
}

static void chunk_cb(struct ows_aws_call *c, int status, const void *data,
		     size_t len, bool last)
{
	struct ows__s3_req *r = c->data;
	struct sink *s = r->reading;

	if (s == NULL || s->r == NULL)
		return;
	if (status == OWS_EAUTH) {
		fail(s, 403, "SignatureDoesNotMatch", "The request signature "
		     "we calculated does not match the signature you "
		     "provided. Check your key and signing method.");
		return;
	}
	if (status != 0) {
		fail(s, 400, "IncompleteBody", "You did not provide the number "
		     "of bytes specified by the Content-Length HTTP header");
		return;
	}
	if (s->filter != NULL) {
		/* the filter keeps what belongs to the blob (sink_keep) */
		struct ows__s3_sink_err e = {0};

		if ((len > 0 || last) &&
		    s->filter(r, data, len, last, &e) != 0) {
			fail(s, e.status, e.code, e.msg);
			return;
		}
		if (s->r == NULL)
			return;
	} else if (len > 0 && keep(s, data, len) != 0) {
		return;
	}
	s->last = last;
	if (!s->busy) {
		next(s);
		return;
	}
	if (s->in.len > batch_high() && !s->paused) {
		s->paused = true;
		ows_http_req_pause(c->req);
	}
}

/* ---- what the request asks ---- */

static const char *const ck_headers[] = {
	[OWS_S3_CK_CRC32] = "x-amz-checksum-crc32",
	[OWS_S3_CK_CRC32C] = "x-amz-checksum-crc32c",
	[OWS_S3_CK_CRC64NVME] = "x-amz-checksum-crc64nvme",
	[OWS_S3_CK_SHA1] = "x-amz-checksum-sha1",
	[OWS_S3_CK_SHA256] = "x-amz-checksum-sha256",
};

static const size_t ck_sizes[] = {
	[OWS_S3_CK_CRC32] = 4, [OWS_S3_CK_CRC32C] = 4,
	[OWS_S3_CK_CRC64NVME] = 8, [OWS_S3_CK_SHA1] = 20,
	[OWS_S3_CK_SHA256] = 32,
};

const char *ows__s3_ck_header(enum ows__s3_ck_alg alg)
{
	return alg == OWS_S3_CK_NONE ? NULL : ck_headers[alg];
}

bool ows__s3_ck_value_valid(enum ows__s3_ck_alg alg, const char *b64)
{
	unsigned char raw[40];

	return alg != OWS_S3_CK_NONE && b64 != NULL &&
	       ows_b64_decode_n(b64, strlen(b64), raw, sizeof(raw)) ==
		       (long)ck_sizes[alg];
}

/* The checksum the request asks for into s: false once answered. */
static bool asked_checksum(struct ows__s3_req *r, struct sink *s,
			   enum ows__s3_ck_alg *alg)
{
	const char *sdk = ows_aws_header(r->c, "x-amz-sdk-checksum-algorithm");
	const char *tr = ows_aws_header(r->c, "x-amz-trailer");
	enum ows__s3_ck_alg a = OWS_S3_CK_NONE, t = OWS_S3_CK_NONE;
	const char *v = NULL;
	int n = 0;

	for (int i = OWS_S3_CK_CRC32; i <= OWS_S3_CK_SHA256; i++) {
		const char *h = ows_aws_header(r->c, ck_headers[i]);

		if (h != NULL) {
			n++;
			a = (enum ows__s3_ck_alg)i;
			v = h;
		}
	}
	if (n > 1) {
		ows__s3_error(r, 400, "InvalidRequest", "Expecting a single "
			      "x-amz-checksum- header. Multiple checksum Types "
			      "are not allowed.");
		return false;
	}
	if (tr != NULL) {
		for (int i = OWS_S3_CK_CRC32; i <= OWS_S3_CK_SHA256; i++)
			if (strcasecmp(tr, ck_headers[i]) == 0)
				t = (enum ows__s3_ck_alg)i;
		if (t == OWS_S3_CK_NONE || n > 0) {
			ows__s3_error(r, 400, "InvalidRequest", "The value "
				      "specified in the x-amz-trailer header is "
				      "not supported");
			return false;
		}
		a = t;
		snprintf(s->trailer, sizeof(s->trailer), "%s", ck_headers[t]);
	}
	if (sdk != NULL && (ows__s3_ck_parse(sdk) == OWS_S3_CK_NONE ||
			    (a != OWS_S3_CK_NONE &&
			     ows__s3_ck_parse(sdk) != a))) {
		ows__s3_error(r, 400, "InvalidRequest", "Value for "
			      "x-amz-sdk-checksum-algorithm header is "
			      "invalid.");
		return false;
	}
	if (sdk != NULL && a == OWS_S3_CK_NONE) {
		ows__s3_error(r, 400, "InvalidRequest", "x-amz-sdk-checksum-"
			      "algorithm specified, but no corresponding "
			      "x-amz-checksum-* or x-amz-trailer headers were "
			      "found.");
		return false;
	}
	if (v != NULL && !ows__s3_ck_value_valid(a, v)) {
		ows__s3_error(r, 400, "InvalidRequest", "Value for %s header "
			      "is invalid.", ck_headers[a]);
		return false;
	}
	if (v != NULL)
		snprintf(s->want_ck, sizeof(s->want_ck), "%s", v);
	*alg = a;
	return true;
}

/* Content-MD5 and the body's length: false once answered. */
static bool asked_md5_and_size(struct ows__s3_req *r, struct sink *s)
{
	const char *md5 = ows_aws_header(r->c, "Content-MD5");
	const char *dl = ows_aws_header(r->c, "x-amz-decoded-content-length");
	const struct ows_http_req *req = r->c->req;
	int64_t size = req->content_length;
	char *end = NULL;

	if (dl != NULL) {
		/* a lie the verifier could not catch ("-5" reads as "not
		   said", "5abc" as 5) is refused before any byte is read */
		errno = 0;
		size = strtoll(dl, &end, 10);
		if (dl[0] < '0' || dl[0] > '9' || *end != '\0' ||
		    errno != 0) {
			ows__s3_error(r, 400, "InvalidArgument", "Invalid "
				      "x-amz-decoded-content-length.");
			return false;
		}
	}
	if (md5 != NULL) {
		if (ows_b64_decode_n(md5, strlen(md5), s->want_md5,
				     sizeof(s->want_md5)) != 16) {
			ows__s3_error(r, 400, "InvalidDigest", "The Content-MD5 "
				      "you specified was invalid.");
			return false;
		}
		s->has_md5 = true;
	}
	if (req->content_length < 0 && !req->chunked) {
		ows__s3_error(r, 411, "MissingContentLength", "You must "
			      "provide the Content-Length HTTP header.");
		return false;
	}
	if (size > 0 && (uint64_t)size > s->max) {
		ows__s3_error(r, 400, "EntityTooLarge", "Your proposed upload "
			      "exceeds the maximum allowed size (%lld > %llu "
			      "bytes)", (long long)size,
			      (unsigned long long)s->max);
		return false;
	}
	return true;
}

static void sink_start(struct ows__s3_req *r, uint64_t max,
		       ows__s3_sink_filter filter, enum ows__s3_ck_alg dflt,
		       ows__s3_sink_cb done);

void ows__s3_sink(struct ows__s3_req *r, uint64_t max, ows__s3_sink_cb done)
{
	sink_start(r, max, NULL, OWS_S3_CK_NONE, done);
}

void ows__s3_sink_filtered(struct ows__s3_req *r, uint64_t max,
			   ows__s3_sink_filter filter, ows__s3_sink_cb done)
{
	sink_start(r, max, filter, OWS_S3_CK_NONE, done);
}

void ows__s3_sink_alg(struct ows__s3_req *r, uint64_t max,
		      enum ows__s3_ck_alg dflt, ows__s3_sink_cb done)
{
	sink_start(r, max, NULL, dflt, done);
}

/*
 * The body into a blob: filter (a form's) or NULL; dflt, the checksum
 * computed when the request names none (an upload's algorithm), or
 * OWS_S3_CK_NONE.
 */
static void sink_start(struct ows__s3_req *r, uint64_t max,
		       ows__s3_sink_filter filter, enum ows__s3_ck_alg dflt,
		       ows__s3_sink_cb done)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct ows__s3_stored *out = ows_arena_alloc(r->c->arena, sizeof(*out));
	enum ows__s3_ck_alg alg = OWS_S3_CK_NONE;
	int rv;

	if (s == NULL || out == NULL) {
		free(s);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(out, 0, sizeof(*out));
	*s = (struct sink){.r = r, .host = r->c->host, .done = done,
			   .out = out, .max = max, .filter = filter};
	s->w.fd = -1;
	/* a form's headers are the form's: its file has none of its own */
	if (filter == NULL &&
	    (!asked_md5_and_size(r, s) || !asked_checksum(r, s, &alg))) {
		free(s);
		return;
	}
	if (alg == OWS_S3_CK_NONE && dflt != OWS_S3_CK_NONE) {
		alg = dflt;
		s->ck_computed = true;
	}
	s->md5 = EVP_MD_CTX_new();
	if (s->md5 == NULL || EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) != 1 ||
	    ows__s3_ck_init(&s->ck, alg) != 0) {
		EVP_MD_CTX_free(s->md5);
		free(s);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	r->reading = s;
	sinks_active++;
	/* the stream's limit counts aws-chunked framing too */
	rv = ows_aws_call_stream(r->c, max + max / 64 + (1 << 20), chunk_cb);
	if (rv != 0) {
		r->reading = NULL;
		sink_free(s);
		ows__s3_internal(r, rv);
	}
}
