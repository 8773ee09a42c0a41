/*
 * What the S3 operations share (s3_priv.h): S3's error replies and
 * headers, authorization on both ARN partitions with the bucket's
 * policy, the bucket and object rows of the state, proposals whose
 * refusals become S3 errors, and the read barrier before every read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "s3/s3_priv.h"
#include "state/state.h"

/* ---- errors ---- */

static void error_v(struct ows__s3_req *r, int status, const char *code,
		    bool key, const char *fmt, va_list ap)
{
	json_t *extra = json_object();
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (extra != NULL && key && r->key != NULL && r->key[0])
		json_object_set_new(extra, "Key", json_string(r->key));
	if (extra != NULL && !key && r->bucket[0] &&
	    (strncmp(code, "NoSuchBucket", 12) == 0 ||
	     strcmp(code, "BucketNotEmpty") == 0 ||
	     strncmp(code, "BucketAlready", 13) == 0 ||
	     strcmp(code, "InvalidBucketName") == 0 ||
	     strncmp(code, "NoSuch", 6) == 0))
		json_object_set_new(extra, "BucketName",
				    json_string(r->bucket));
	if (extra != NULL && strcmp(code, "NoSuchKey") != 0 &&
	    strcmp(code, "AccessDenied") != 0 && r->c->req->path != NULL)
		json_object_set_new(extra, "Resource",
				    json_string(r->c->req->path));
	ows_aws_error_with(r->c, status, code, extra, "%s", msg);
	json_decref(extra);
}

void ows__s3_error(struct ows__s3_req *r, int status, const char *code,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(r, status, code, false, fmt, ap);
	va_end(ap);
}

void ows__s3_error_key(struct ows__s3_req *r, int status, const char *code,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_v(r, status, code, true, fmt, ap);
	va_end(ap);
}

void ows__s3_no_such_bucket(struct ows__s3_req *r)
{
	if (r->id == OWS_S3_HEAD_BUCKET || r->id == OWS_S3_HEAD_OBJECT) {
		/* HEAD answers carry no body */
		ows__s3_reply(r, 404, NULL, 0, NULL, 0);
		return;
	}
	ows__s3_error(r, 404, "NoSuchBucket",
		      "The specified bucket does not exist");
}

void ows__s3_no_such_key(struct ows__s3_req *r)
{
	if (r->id == OWS_S3_HEAD_OBJECT) {
		ows__s3_reply(r, 404, NULL, 0, NULL, 0);
		return;
	}
	ows__s3_error_key(r, 404, "NoSuchKey",
			  "The specified key does not exist.");
}

void ows__s3_access_denied(struct ows__s3_req *r)
{
	if (strcmp(r->c->req->method, "HEAD") == 0) {
		ows__s3_reply(r, 403, NULL, 0, NULL, 0);
		return;
	}
	ows__s3_error(r, 403, "AccessDenied", "Access Denied");
}

void ows__s3_internal(struct ows__s3_req *r, int rv)
{
	ows_log(OWS_LOG_WARN, "s3", "%s %s/%s: %s", r->op ? r->op->name : "?",
		r->bucket, r->key ? r->key : "", ows_strerror(rv));
	if (rv == OWS_ENOTLEADER || rv == -ETIMEDOUT)
		ows__s3_error(r, 503, "ServiceUnavailable", "Please reduce "
			      "your request rate. (%s)", ows_strerror(rv));
	else
		ows__s3_error(r, 500, "InternalError", "We encountered an "
			      "internal error. Please try again.");
}

void ows__s3_not_implemented(struct ows__s3_req *r)
{
	ows__s3_error(r, 501, "NotImplemented", "A header you provided "
		      "implies functionality that is not implemented");
}

void ows__s3_malformed_xml(struct ows__s3_req *r)
{
	ows__s3_error(r, 400, "MalformedXML", "The XML you provided was not "
		      "well-formed or did not validate against our published "
		      "schema");
}

/* ---- replies ---- */

static size_t with_ids(struct ows__s3_req *r, struct ows_http_header *h,
		       size_t cap, const struct ows_http_header *in, size_t n,
		       bool body)
{
	size_t k = 0;
	bool ctype = false;

	for (size_t i = 0; i < n && k + 3 <= cap; i++) {
		ctype |= strcasecmp(in[i].name, "Content-Type") == 0;
		h[k++] = in[i];
	}
	/* the CORS rule's headers, when a browser's Origin matches one */
	k += ows__s3_cors_response(r, h + k, cap - k - 3);
	h[k++] = (struct ows_http_header){"x-amz-request-id",
					  r->c->request_id};
	h[k++] = (struct ows_http_header){"x-amz-id-2", r->c->request_id};
	if (body && !ctype)
		h[k++] = (struct ows_http_header){"Content-Type",
						  "application/xml"};
	return k;
}

void ows__s3_reply(struct ows__s3_req *r, int status,
		   const struct ows_http_header *headers, size_t n,
		   const void *body, size_t len)
{
	size_t cap = n + 3 + OWS_S3_CORS_MAX_HEADERS;
	struct ows_http_header *h = ows_arena_alloc(r->c->arena,
						    cap * sizeof(*h));
	size_t k;

	if (h == NULL) {
		ows_aws_reply(r->c, 503, NULL, 0, NULL, 0);
		return;
	}
	k = with_ids(r, h, cap, headers, n, body != NULL);
	ows_aws_reply(r->c, status, h, k, body, len);
}

void ows__s3_reply_xml(struct ows__s3_req *r, struct ows_buf *b)
{
	if (b->data == NULL) {
		ows_buf_free(b);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, NULL, 0, b->data, b->len);
	ows_buf_free(b);
}

int ows__s3_reply_start(struct ows__s3_req *r, int status,
			const struct ows_http_header *headers, size_t n,
			int64_t content_length)
{
	size_t cap = n + 3 + OWS_S3_CORS_MAX_HEADERS;
	struct ows_http_header *h = ows_arena_alloc(r->c->arena,
						    cap * sizeof(*h));
	size_t k;

	if (h == NULL)
		return -ENOMEM;
	k = with_ids(r, h, cap, headers, n, false);
	return ows_aws_reply_start(r->c, status, h, k, content_length);
}

/* ---- authorization ---- */

int ows__s3_allowed(struct ows__s3_req *r, const char *action,
		    const char *bucket, const char *key, const json_t *extra)
{
	struct ows_aws_call *c = r->c;
	char *aws, *ows;
	const char *arns[3];
	json_t *spec = bucket ? ows__s3_bucket_get(c->host, bucket) : NULL;
	int rv;

	if (bucket == NULL)
		aws = "arn:aws:s3:::*", ows = "arn:ows:s3:::*";
	else if (key == NULL)
		aws = ows_arena_printf(c->arena, "arn:aws:s3:::%s", bucket),
		ows = ows_arena_printf(c->arena, "arn:ows:s3:::%s", bucket);
	else
		aws = ows_arena_printf(c->arena, "arn:aws:s3:::%s/%s", bucket,
				       key),
		ows = ows_arena_printf(c->arena, "arn:ows:s3:::%s/%s", bucket,
				       key);
	if (aws == NULL || ows == NULL) {
		json_decref(spec);
		return OWS_EDENIED;
	}
	arns[0] = aws;
	arns[1] = ows;
	arns[2] = NULL;
	rv = c->host->authorize_resource(c, action, arns, extra,
					 json_object_get(spec, "policy"));
	json_decref(spec);
	return rv == 0 ? 0 : OWS_EDENIED;
}

int ows__s3_authorize(struct ows__s3_req *r, const char *action,
		      const char *bucket, const char *key,
		      const json_t *extra)
{
	int rv = ows__s3_allowed(r, action, bucket, key, extra);

	if (rv != 0) {
		ows_log(OWS_LOG_INFO, "s3", "%s:%s denied %s on %s/%s",
			r->c->caller.kind, r->c->caller.name, action,
			bucket ? bucket : "*", key ? key : "");
		ows__s3_access_denied(r);
	}
	return rv;
}

/* ---- the state ---- */

json_t *ows__s3_bucket_get(const struct ows_aws_host *h, const char *bucket)
{
	return ows_state_resource(h->state, "buckets", bucket);
}

static int object_blobs(const struct ows_aws_host *h, struct ows_arena *arena,
			struct ows__s3_object *o)
{
	sqlite3_stmt *st;
	size_t cap = o->parts > 0 ? o->parts : 1, n = 0;
	int rc;

	if (ows_state_prepare(h->state, "SELECT blob, offset, size, etag, "
			      "checksum FROM s3_object_blobs WHERE bucket=? "
			      "AND key=? ORDER BY idx", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, o->bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->key, -1, SQLITE_STATIC);
	o->blobs = ows_arena_alloc(arena, cap * sizeof(*o->blobs));
	while (o->blobs != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ows__s3_blob *b;
		const char *ck = (const char *)sqlite3_column_text(st, 4);

		if (n == cap) {
			struct ows__s3_blob *nb = ows_arena_alloc(
				arena, 2 * cap * sizeof(*nb));

			if (nb == NULL)
				break;
			memcpy(nb, o->blobs, n * sizeof(*nb));
			o->blobs = nb;
			cap *= 2;
		}
		b = &o->blobs[n++];
		snprintf(b->blob, sizeof(b->blob), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		b->offset = (uint64_t)sqlite3_column_int64(st, 1);
		b->size = (uint64_t)sqlite3_column_int64(st, 2);
		snprintf(b->etag, sizeof(b->etag), "%s",
			 (const char *)sqlite3_column_text(st, 3));
		b->checksum = ck ? ows_arena_strdup(arena, ck) : NULL;
	}
	sqlite3_finalize(st);
	o->n_blobs = n;
	return o->blobs != NULL ? 0 : -ENOMEM;
}

int ows__s3_object_get(const struct ows_aws_host *h, struct ows_arena *arena,
		       const char *bucket, const char *key,
		       struct ows__s3_object *o)
{
	sqlite3_stmt *st;
	const char *meta;
	int rc, rv = 0;

	memset(o, 0, sizeof(*o));
	o->bucket = bucket;
	o->key = key;
	if (ows_state_prepare(h->state, "SELECT size, etag, modified, parts, "
			      "meta, height FROM s3_objects WHERE bucket=? "
			      "AND key=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		o->size = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(o->etag, sizeof(o->etag), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		o->modified = sqlite3_column_int64(st, 2);
		o->parts = (unsigned)sqlite3_column_int(st, 3);
		meta = (const char *)sqlite3_column_text(st, 4);
		o->meta = ows_json_loads(meta ? meta : "{}", 0, NULL);
		o->height = (uint64_t)sqlite3_column_int64(st, 5);
		if (o->meta == NULL)
			o->meta = json_object();
	} else {
		rv = rc == SQLITE_DONE ? OWS_ENOTFOUND : -EIO;
	}
	sqlite3_finalize(st);
	if (rv == 0)
		rv = object_blobs(h, arena, o);
	if (rv != 0)
		ows__s3_object_release(o);
	return rv;
}

void ows__s3_object_release(struct ows__s3_object *o)
{
	json_decref(o->meta);
	o->meta = NULL;
}

bool ows__s3_object_etag(const struct ows_aws_host *h, const char *bucket,
			 const char *key, char out[80])
{
	sqlite3_stmt *st;
	bool found = false;

	if (ows_state_prepare(h->state, "SELECT etag FROM s3_objects WHERE "
			      "bucket=? AND key=?", &st) != 0)
		return false;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, 80, "%s", (const char *)sqlite3_column_text(st, 0));
		found = true;
	}
	sqlite3_finalize(st);
	return found;
}

/* ---- proposals ---- */

struct proposal {
	struct ows__s3_req *r;
	ows__s3_done_cb done;
	ows__s3_refused_cb refused;
	json_t *result;
};

static void caught_up(void *ud, int status)
{
	struct proposal *p = ud;
	json_t *result = p->result; /* p goes with the call's arena */

	(void)status; /* the local state has the entry or is past it */
	p->done(p->r, result);
	json_decref(result);
}

/*
 * The S3 code of a refusal: the apply's reason after the "actions[i]
 * ACTION 'B': " prefix, when it starts with "Code: ".
 */
static void refusal_code(const char *msg, int status, char *code, size_t cap,
			 const char **text)
{
	const char *p = msg ? strstr(msg, "': ") : NULL;
	size_t n;

	*text = msg ? msg : "the change was refused";
	code[0] = '\0';
	if (p != NULL) {
		p += 3;
		*text = p;
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
		if (n > 0 && n < cap && p[0] >= 'A' && p[0] <= 'Z' &&
		    p[n] == ':' && p[n + 1] == ' ') {
			snprintf(code, cap, "%.*s", (int)n, p);
			*text = p + n + 2;
		}
	}
	if (code[0] != '\0')
		return;
	snprintf(code, cap, "%s", status == 403 ? "AccessDenied"
			 : status == 404 ? "NoSuchBucket"
			 : status == 409 ? "OperationAborted"
			 : status == 412 ? "PreconditionFailed"
			 : status == 400 ? "InvalidRequest"
			 : "InternalError");
}

static void proposed(void *ud, int status, const json_t *result)
{
	struct proposal *p = ud;
	struct ows__s3_req *r = p->r;
	const char *text;
	char code[64];
	int st;

	if (status < 0) {
		ows__s3_internal(r, status);
		return;
	}
	if (!json_is_true(json_object_get(result, "ok"))) {
		st = (int)json_integer_value(json_object_get(result, "status"));
		refusal_code(ows_json_str(result, "message"), st, code,
			     sizeof(code), &text);
		if (st < 400 || st > 599)
			st = 500;
		if (strcmp(code, "AccessDenied") == 0)
			text = "Access Denied";
		if (p->refused != NULL) {
			p->refused(r, st, code, text);
			return;
		}
		if (strcmp(code, "NoSuchKey") == 0)
			ows__s3_error_key(r, st, code, "%s", text);
		else
			ows__s3_error(r, st, code, "%s", text);
		return;
	}
	p->result = json_deep_copy(result);
	if (r->c->host->read_barrier(r->c, caught_up, p) != 0)
		caught_up(p, 0);
}

void ows__s3_propose(struct ows__s3_req *r, json_t *actions,
		     ows__s3_done_cb done, ows__s3_refused_cb refused)
{
	struct proposal *p = ows_arena_alloc(r->c->arena, sizeof(*p));
	int rv;

	if (p == NULL || actions == NULL) {
		json_decref(actions);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	*p = (struct proposal){r, done, refused, NULL};
	rv = r->c->host->propose(r->c, actions, "", proposed, p);
	json_decref(actions);
	if (rv != 0)
		ows__s3_internal(r, rv);
}

json_t *ows__s3_action(const char *action, const char *bucket, json_t *spec)
{
	json_t *a = json_pack("{s:s, s:s}", "action", action, "name", bucket);

	if (a != NULL && spec != NULL)
		json_object_set(a, "spec", spec);
	json_decref(spec);
	return a;
}

/* ---- the read barrier ---- */

struct barrier {
	struct ows__s3_req *r;
	ows__s3_handler next;
};

static void barrier_cb(void *ud, int status)
{
	struct barrier *b = ud;

	if (status != 0) {
		ows__s3_error(b->r, 503, "ServiceUnavailable", "Please reduce "
			      "your request rate. (no leader confirmed the "
			      "read: %s)", ows_strerror(status));
		return;
	}
	b->r->current = true;
	b->next(b->r);
}

void ows__s3_barrier(struct ows__s3_req *r, ows__s3_handler next)
{
	struct barrier *b = ows_arena_alloc(r->c->arena, sizeof(*b));
	int rv;

	if (b == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	*b = (struct barrier){r, next};
	rv = r->c->host->read_barrier(r->c, barrier_cb, b);
	if (rv != 0)
		barrier_cb(b, rv);
}

/* ---- dates and headers ---- */

void ows__s3_http_date(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
					   "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 days[tm.tm_wday % 7], tm.tm_mday % 100, months[tm.tm_mon % 12],
		 (tm.tm_year + 1900) % 10000, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100);
}

void ows__s3_iso_date(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
		 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100, (int)(ms % 1000));
}

int ows__s3_parse_http_date(const char *s, int64_t *ms)
{
	static const char *const forms[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* RFC 1123 */
		"%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
		"%a %b %d %H:%M:%S %Y",      /* asctime */
		"%Y-%m-%dT%H:%M:%SZ",        /* ISO 8601, as SDKs send too */
		"%Y-%m-%dT%H:%M:%S.000Z",
	};
	struct tm tm;
	const char *end;

	if (s == NULL)
		return -EINVAL;
	while (*s == ' ')
		s++;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, forms[i], &tm);
		if (end != NULL && (*end == '\0' || *end == ' ')) {
			*ms = (int64_t)timegm(&tm) * 1000;
			return 0;
		}
	}
	return -EINVAL;
}

void ows__s3_object_headers(struct ows__s3_req *r,
			    const struct ows__s3_object *o,
			    struct ows_http_header *h, size_t cap, size_t *n)
{
	char *etag = ows_arena_printf(r->c->arena, "\"%s\"", o->etag);
	char *lm = ows_arena_alloc(r->c->arena, 32);

	if (lm != NULL)
		ows__s3_http_date(o->modified, lm);
	if (etag != NULL && *n < cap)
		h[(*n)++] = (struct ows_http_header){"ETag", etag};
	if (lm != NULL && *n < cap)
		h[(*n)++] = (struct ows_http_header){"Last-Modified", lm};
	if (*n < cap)
		h[(*n)++] = (struct ows_http_header){"x-amz-version-id",
						     "null"};
}

int ows__s3_object_load(struct ows__s3_req *r, struct ows__s3_object *o)
{
	int rv = ows__s3_object_get(r->c->host, r->c->arena, r->bucket, r->key,
				    o);

	if (rv == OWS_ENOTFOUND)
		ows__s3_no_such_key(r);
	else if (rv != 0)
		ows__s3_internal(r, rv);
	return rv;
}
