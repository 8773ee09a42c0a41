/*
 * PutObject and DeleteObject (S3 API Reference).
 *
 * PutObject: the headers S3 stores (Content-Type, Content-Encoding,
 * Content-Disposition, Content-Language, Cache-Control, Expires,
 * x-amz-meta-*, x-amz-tagging) are checked first; then the body is
 * streamed into a blob (upload.c) and made durable on the replica count;
 * then objects.put is proposed, its conditions (If-None-Match: *,
 * If-Match) decided at apply (kinds.c), and the PUT is acknowledged
 * only once that entry committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/enc.h"
#include "common/json.h"
#include "s3/s3_priv.h"

/* The headers S3 keeps and returns, and their meta names (s3_model.h). */
static const struct {
	const char *header, *meta;
} stored_headers[] = {
	{"Content-Type", "content_type"},
	{"Content-Encoding", "content_encoding"},
	{"Content-Disposition", "content_disposition"},
	{"Content-Language", "content_language"},
	{"Cache-Control", "cache_control"},
	{"Expires", "expires"},
};

/*
 * x-amz-tagging ("k1=v1&k2=v2", URL-encoded) into tags: 0, or answered
 * (InvalidTag) and -EINVAL. S3's limits: 10 tags, keys up to 128
 * characters, values up to 256.
 */
static int tagging_header(struct ows__s3_req *r, const char *text,
			  json_t *tags)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "&"), kl = strcspn(p, "=&");
		size_t klen = 0, vlen = 0;
		char *k = ows_url_decode(p, kl, true, &klen);
		char *v = ows_url_decode(kl < n ? p + kl + 1 : "",
					 kl < n ? n - kl - 1 : 0, true, &vlen);
		bool bad = k == NULL || v == NULL || klen == 0 || klen > 128 ||
			   vlen > 256 || json_object_get(tags, k) != NULL ||
			   json_object_size(tags) >= 10;

		if (!bad)
			json_object_set_new(tags, k, json_string(v));
		free(k);
		free(v);
		if (bad) {
			ows__s3_error(r, 400, "InvalidTag", "The TagValue you "
				      "have provided is invalid");
			return -EINVAL;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

json_t *ows__s3_meta_of_request(struct ows__s3_req *r)
{
	const struct ows_http_req *req = r->c->req;
	json_t *meta = json_object(), *user = json_object();
	const char *tagging = ows_aws_header(r->c, "x-amz-tagging");
	size_t user_bytes = 0;

	if (meta == NULL || user == NULL)
		goto oom;
	for (size_t i = 0; i < sizeof(stored_headers) /
				   sizeof(stored_headers[0]); i++) {
		const char *v = ows_aws_header(r->c, stored_headers[i].header);

		if (v != NULL)
			json_object_set_new(meta, stored_headers[i].meta,
					    json_string(v));
	}
	if (json_object_get(meta, "content_type") == NULL)
		json_object_set_new(meta, "content_type",
				    json_string("binary/octet-stream"));
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name;
		char lower[256];

		if (strncasecmp(name, "x-amz-meta-", 11) != 0)
			continue;
		snprintf(lower, sizeof(lower), "%s", name + 11);
		for (char *q = lower; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		user_bytes += strlen(lower) + strlen(req->headers[i].value);
		json_object_set_new(user, lower,
				    json_string(req->headers[i].value));
	}
	if (user_bytes > OWS_S3_META_MAX) {
		ows__s3_error(r, 400, "MetadataTooLarge", "Your metadata "
			      "headers exceed the maximum allowed metadata "
			      "size");
		goto fail;
	}
	if (json_object_size(user) > 0)
		json_object_set(meta, "user", user);
	if (tagging != NULL && tagging[0] != '\0') {
		json_t *tags = json_object();

		/* tags set with the object need s3:PutObjectTagging too, as
		   in S3: s3:PutObject alone must not reach what only
		   PutObjectTagging may change */
		if (ows__s3_authorize(r, "s3:PutObjectTagging", r->bucket,
				      r->key, NULL) != 0) {
			json_decref(tags);
			goto fail;
		}
		if (tags == NULL || tagging_header(r, tagging, tags) != 0) {
			json_decref(tags);
			goto fail;
		}
		json_object_set_new(meta, "tags", tags);
	}
	json_object_set_new(meta, "owner", json_sprintf(
		"%s/%s", r->c->caller.kind[0] ? r->c->caller.kind : "anonymous",
		r->c->caller.name));
	json_decref(user);
	return meta;
oom:
	ows__s3_internal(r, -ENOMEM);
fail:
	json_decref(meta);
	json_decref(user);
	return NULL;
}

/* ---- conditions ---- */

/* An ETag of a header, unquoted, into out: false when malformed. */
static bool etag_of(const char *v, char out[80])
{
	size_t n;

	while (*v == ' ')
		v++;
	if (v[0] == '"')
		v++;
	n = strcspn(v, "\"");
	if (n == 0 || n >= 80)
		return false;
	snprintf(out, 80, "%.*s", (int)n, v);
	return true;
}

int ows__s3_write_conditions(struct ows__s3_req *r, json_t *spec)
{
	const char *inm = ows_aws_header(r->c, "If-None-Match");
	const char *im = ows_aws_header(r->c, "If-Match");
	char etag[80], want[80];
	bool exists = ows__s3_object_etag(r->c->host, r->bucket, r->key, etag);

	if (inm != NULL && strcmp(inm, "*") != 0) {
		ows__s3_not_implemented(r);
		return -EINVAL;
	}
	if (im != NULL && !etag_of(im, want)) {
		ows__s3_error(r, 400, "InvalidArgument", "Invalid If-Match "
			      "header value");
		return -EINVAL;
	}
	if (inm == NULL && im == NULL)
		return 0;
	json_object_set_new(spec, "seen", exists ? json_string(etag)
						 : json_null());
	if (inm != NULL)
		json_object_set_new(spec, "if_none_match", json_true());
	if (im != NULL)
		json_object_set_new(spec, "if_match", json_string(want));
	/* refused at once when it already fails here (and again at apply) */
	if ((inm != NULL && exists) ||
	    (im != NULL && exists && strcmp(want, etag) != 0)) {
		ows__s3_error_key(r, 412, "PreconditionFailed", "At least one "
				  "of the pre-conditions you specified did not "
				  "hold");
		return -EINVAL;
	}
	if (im != NULL && !exists) {
		ows__s3_no_such_key(r);
		return -EINVAL;
	}
	return 0;
}

/* ---- PutObject ---- */

struct put {
	char *spec; /* objects.put's, without the data's fields yet: text
		       in the arena, so that a call that ends early leaks
		       nothing */
	char etag[40];
	enum ows__s3_ck_alg ck;
	char checksum[OWS_S3_CK_B64];
};

static void put_done(struct ows__s3_req *r, const json_t *result)
{
	struct put *p = r->data;
	struct ows_http_header h[3];
	size_t n = 0;

	(void)result;
	h[n++] = (struct ows_http_header){"ETag", p->etag};
	if (p->ck != OWS_S3_CK_NONE) {
		h[n++] = (struct ows_http_header){ows__s3_ck_header(p->ck),
						  p->checksum};
		h[n++] = (struct ows_http_header){"x-amz-checksum-type",
						  "FULL_OBJECT"};
	}
	ows__s3_reply(r, 200, h, n, NULL, 0);
}

static void put_refused(struct ows__s3_req *r, int status, const char *code,
			const char *msg)
{
	if (strcmp(code, "NoSuchKey") == 0 ||
	    strcmp(code, "PreconditionFailed") == 0 ||
	    strcmp(code, "ConditionalRequestConflict") == 0)
		ows__s3_error_key(r, status, code, "%s", msg);
	else
		ows__s3_error(r, status, code, "%s", msg);
}

static void put_stored(struct ows__s3_req *r, const struct ows__s3_stored *st)
{
	struct put *p = r->data;
	json_t *spec = ows_json_loads(p->spec, 0, NULL);
	json_t *meta = json_object_get(spec, "meta");

	if (spec == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	snprintf(p->etag, sizeof(p->etag), "\"%s\"", st->md5);
	p->ck = st->ck;
	memcpy(p->checksum, st->checksum, sizeof(p->checksum));
	if (st->ck != OWS_S3_CK_NONE)
		json_object_set_new(meta, "checksum", json_pack(
			"{s:s, s:s, s:s}", "algorithm", ows__s3_ck_name(st->ck),
			"value", st->checksum, "type", "FULL_OBJECT"));
	json_object_set_new(spec, "size", json_integer((json_int_t)st->size));
	json_object_set_new(spec, "etag", json_string(st->md5));
	json_object_set_new(spec, "blobs", json_pack(
		"[{s:s, s:I, s:s, s:s?}]", "blob", st->blob, "size",
		(json_int_t)st->size, "etag", st->md5, "checksum",
		st->ck != OWS_S3_CK_NONE ? st->checksum : NULL));
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("objects.put",
							   r->bucket, spec)),
			put_done, put_refused);
}

void ows__s3_put_object(struct ows__s3_req *r)
{
	struct put *p = ows_arena_alloc(r->c->arena, sizeof(*p));
	json_t *meta, *spec;
	char *text;

	if (p == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(p, 0, sizeof(*p));
	meta = ows__s3_meta_of_request(r);
	if (meta == NULL)
		return;
	spec = json_pack("{s:s, s:o}", "key", r->key, "meta", meta);
	if (spec == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	if (ows__s3_write_conditions(r, spec) != 0) {
		json_decref(spec);
		return;
	}
	text = ows_json_dump(spec);
	json_decref(spec);
	p->spec = text ? ows_arena_strdup(r->c->arena, text) : NULL;
	free(text);
	if (p->spec == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	r->data = p;
	ows__s3_sink(r, OWS_S3_PUT_MAX, put_stored);
}

/* ---- DeleteObject ---- */

static void deleted(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, 204, NULL, 0, NULL, 0);
}

void ows__s3_delete_object(struct ows__s3_req *r)
{
	ows__s3_propose(r, json_pack("[o]", ows__s3_action(
				  "objects.delete", r->bucket,
				  json_pack("{s:s}", "key", r->key))),
			deleted, NULL);
}
