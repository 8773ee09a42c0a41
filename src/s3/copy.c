/*
 * CopyObject (S3 API Reference): PUT /BUCKET/KEY with x-amz-copy-source
 * "[/]SRCBUCKET/SRCKEY[?versionId=null]" (URL-encoded), in one bucket or
 * across two.
 *
 * No data is copied: the new object names the source's blobs (one
 * entry objects.put with the source's blobs, size and ETag), and the
 * apply writes it only while the source still has the ETag read here
 * ("copy_of", s3_model.h), so that those blobs cannot have been
 * collected in between. The caller needs s3:GetObject on the source
 * (judged here) and s3:PutObject on the target (by the dispatch).
 *
 * As S3: x-amz-metadata-directive COPY (the source's headers and user
 * metadata) or REPLACE (the request's), x-amz-tagging-directive COPY or
 * REPLACE (x-amz-tagging), x-amz-copy-source-if-match / -if-none-match /
 * -if-modified-since / -if-unmodified-since (412 PreconditionFailed),
 * If-Match / If-None-Match on the target as PutObject, and a copy of an
 * object onto itself that changes nothing is InvalidRequest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/enc.h"
#include "common/json.h"
#include "s3/s3_priv.h"
#include "state/state.h"

#define COPY_MAX (5ULL << 30) /* a copy source: 5 GiB, as S3 */

struct copy {
	char *src_bucket, *src_key;
	struct ows__s3_object src; /* src.meta is held by copy_from alone:
				      the call's arena goes with the answer */
	char *ck_alg, *ck_value, *ck_type; /* the source's checksum (arena) */
};

/* x-amz-copy-source into c: false once answered. */
static bool parse_source(struct ows__s3_req *r, struct copy *c)
{
	const char *h = ows_aws_header(r->c, "x-amz-copy-source");
	const char *q;
	char *dec, *slash;

	while (h != NULL && *h == '/')
		h++;
	q = h ? strchr(h, '?') : NULL;
	if (q != NULL && strcmp(q, "?versionId=null") != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Invalid version id "
			      "specified");
		return false;
	}
	dec = h ? ows_arena_strndup(r->c->arena, h, q ? (size_t)(q - h)
						       : strlen(h)) : NULL;
	if (dec != NULL) {
		if (strstr(dec, "%00") != NULL)
			dec[0] = '\0'; /* no NUL in a key */
		ows_percent_decode(dec);
	}
	slash = dec ? strchr(dec, '/') : NULL;
	if (slash == NULL || slash == dec || slash[1] == '\0' ||
	    slash - dec > OWS_S3_BUCKET_MAX ||
	    ows__s3_key_check(slash + 1, strlen(slash + 1)) != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Copy Source must "
			      "mention the source bucket and key: "
			      "sourcebucket/sourcekey");
		return false;
	}
	*slash = '\0';
	c->src_bucket = dec;
	c->src_key = slash + 1;
	return true;
}

/* Whether ETag header value v (a list, quoted, or *) names etag. */
static bool etag_matches(const char *v, const char *etag)
{
	size_t n = strlen(etag);

	while (*v) {
		size_t len;

		v += strspn(v, " ,");
		if (*v == '*')
			return true;
		if (*v == '"')
			v++;
		len = strcspn(v, "\",");
		if (len == n && strncmp(v, etag, n) == 0)
			return true;
		v += len;
		if (*v == '"')
			v++;
	}
	return false;
}

/*
 * The x-amz-copy-source-if-* conditions against the source, as S3
 * combines them (if-match true wins over if-unmodified-since false;
 * if-none-match false with if-modified-since true fails): true when they
 * hold.
 */
static bool source_conditions(struct ows__s3_req *r, const struct copy *c)
{
	const char *im = ows_aws_header(r->c, "x-amz-copy-source-if-match");
	const char *inm = ows_aws_header(r->c,
					 "x-amz-copy-source-if-none-match");
	const char *ims = ows_aws_header(r->c,
					 "x-amz-copy-source-if-modified-since");
	const char *ius = ows_aws_header(
		r->c, "x-amz-copy-source-if-unmodified-since");
	int64_t t, modified = c->src.modified / 1000 * 1000;

	if (im != NULL) {
		if (!etag_matches(im, c->src.etag))
			return false;
	} else if (ius != NULL && ows__s3_parse_http_date(ius, &t) == 0 &&
		   modified > t) {
		return false;
	}
	if (inm != NULL) {
		if (etag_matches(inm, c->src.etag))
			return false;
	} else if (ims != NULL && ows__s3_parse_http_date(ims, &t) == 0 &&
		   modified <= t) {
		return false;
	}
	return true;
}

/* A directive header: 0 COPY (default), 1 REPLACE, -1 unknown. */
static int directive(struct ows__s3_req *r, const char *name)
{
	const char *v = ows_aws_header(r->c, name);

	if (v == NULL || strcmp(v, "COPY") == 0)
		return 0;
	return strcmp(v, "REPLACE") == 0 ? 1 : -1;
}

/* The new object's meta (new reference), or NULL once answered. */
static json_t *new_meta(struct ows__s3_req *r, const json_t *src_meta,
			int md, int td)
{
	json_t *req = ows__s3_meta_of_request(r), *meta, *tags;
	const json_t *ck = json_object_get(src_meta, "checksum");

	if (req == NULL)
		return NULL;
	tags = json_incref(json_object_get(td == 1 ? req : src_meta, "tags"));
	meta = json_deep_copy(md == 1 ? req : src_meta);
	if (meta == NULL) {
		json_decref(tags);
		json_decref(req);
		ows__s3_internal(r, -ENOMEM);
		return NULL;
	}
	/* the data is the source's: so is its checksum */
	if (ck != NULL)
		json_object_set(meta, "checksum", (json_t *)ck);
	json_object_del(meta, "tags");
	if (json_object_size(tags) > 0)
		json_object_set(meta, "tags", tags);
	json_decref(tags);
	json_object_set(meta, "owner", json_object_get(req, "owner"));
	json_decref(req);
	return meta;
}

static json_t *blobs_of(const struct ows__s3_object *o)
{
	json_t *blobs = json_array();

	for (size_t i = 0; blobs != NULL && i < o->n_blobs; i++) {
		const struct ows__s3_blob *b = &o->blobs[i];
		json_t *one = json_pack("{s:s, s:I, s:s}", "blob", b->blob,
					"size", (json_int_t)b->size, "etag",
					b->etag);

		if (one != NULL && b->checksum != NULL)
			json_object_set_new(one, "checksum",
					    json_string(b->checksum));
		json_array_append_new(blobs, one);
	}
	return blobs;
}

static void copied(struct ows__s3_req *r, const json_t *result)
{
	struct copy *c = r->data;
	struct ows_buf b = OWS_BUF_INIT;
	char date[32], name[40];
	struct ows_http_header h = {"x-amz-version-id", "null"};

	ows__s3_iso_date(json_integer_value(json_object_get(result,
							    "modified")), date);
	ows__s3_xml_open(&b, "CopyObjectResult");
	ows__s3_xml_elem(&b, "LastModified", date);
	ows_buf_puts(&b, "<ETag>&quot;");
	ows__s3_xml_esc(&b, c->src.etag);
	ows_buf_puts(&b, "&quot;</ETag>");
	if (c->ck_alg != NULL && c->ck_value != NULL) {
		snprintf(name, sizeof(name), "Checksum%s", c->ck_alg);
		ows__s3_xml_elem(&b, name, c->ck_value);
		ows__s3_xml_elem(&b, "ChecksumType", c->ck_type ? c->ck_type
				 : "FULL_OBJECT");
	}
	ows_buf_puts(&b, "</CopyObjectResult>");
	if (b.data == NULL) {
		ows_buf_free(&b);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, &h, 1, b.data, b.len);
	ows_buf_free(&b);
}

static void refused(struct ows__s3_req *r, int status, const char *code,
		    const char *message)
{
	if (strcmp(code, "NoSuchKey") == 0 ||
	    strcmp(code, "PreconditionFailed") == 0)
		ows__s3_error_key(r, status, code, "%s", message);
	else
		ows__s3_error(r, status, code, "%s", message);
}

/* The source's checksum into c (arena), for the answer. */
static void keep_checksum(struct ows__s3_req *r, struct copy *c,
			  const json_t *src_meta)
{
	const json_t *ck = json_object_get(src_meta, "checksum");
	struct ows_arena *a = r->c->arena;

	if (ows_json_str(ck, "algorithm") == NULL ||
	    ows_json_str(ck, "value") == NULL)
		return;
	c->ck_alg = ows_arena_strdup(a, ows_json_str(ck, "algorithm"));
	c->ck_value = ows_arena_strdup(a, ows_json_str(ck, "value"));
	if (ows_json_str(ck, "type") != NULL)
		c->ck_type = ows_arena_strdup(a, ows_json_str(ck, "type"));
}

/* Checks that need the source: false once answered. */
static bool judge(struct ows__s3_req *r, struct copy *c, int md, int td)
{
	bool self = strcmp(c->src_bucket, r->bucket) == 0 &&
		    strcmp(c->src_key, r->key) == 0;

	if (md < 0 || td < 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Unknown %s "
			      "directive.", md < 0 ? "metadata" : "tagging");
		return false;
	}
	if (!source_conditions(r, c)) {
		ows__s3_error(r, 412, "PreconditionFailed", "At least one of "
			      "the pre-conditions you specified did not hold");
		return false;
	}
	if (c->src.size > COPY_MAX) {
		ows__s3_error(r, 400, "InvalidRequest", "The specified copy "
			      "source is larger than the maximum allowable "
			      "size for a copy source: %llu", COPY_MAX);
		return false;
	}
	if (self && md != 1 &&
	    ows_aws_header(r->c, "x-amz-storage-class") == NULL &&
	    ows_aws_header(r->c, "x-amz-website-redirect-location") == NULL &&
	    ows_aws_header(r->c, "x-amz-server-side-encryption") == NULL) {
		ows__s3_error(r, 400, "InvalidRequest", "This copy request is "
			      "illegal because it is trying to copy an object "
			      "to itself without changing the object's "
			      "metadata, storage class, website redirect "
			      "location or encryption attributes.");
		return false;
	}
	return true;
}

/*
 * The source is there and readable: propose the copy. Takes src_meta
 * (the source's meta, released here: an answer frees the call's arena,
 * so nothing of c is touched once one was given).
 */
static void copy_from(struct ows__s3_req *r, struct copy *c, json_t *src_meta)
{
	int md = directive(r, "x-amz-metadata-directive");
	int td = directive(r, "x-amz-tagging-directive");
	json_t *meta, *spec;

	if (!judge(r, c, md, td))
		goto out;
	meta = new_meta(r, src_meta, md, td);
	if (meta == NULL)
		goto out;
	spec = json_pack("{s:s, s:I, s:s, s:o, s:o, s:{s:s, s:s, s:s}}",
			 "key", r->key, "size", (json_int_t)c->src.size,
			 "etag", c->src.etag, "meta", meta, "blobs",
			 blobs_of(&c->src), "copy_of", "bucket",
			 c->src_bucket, "key", c->src_key, "etag",
			 c->src.etag);
	if (spec == NULL) {
		ows__s3_internal(r, -ENOMEM);
		goto out;
	}
	if (c->src.parts > 0)
		json_object_set_new(spec, "parts", json_integer(c->src.parts));
	if (ows__s3_write_conditions(r, spec) != 0) {
		json_decref(spec);
		goto out;
	}
	keep_checksum(r, c, src_meta);
	json_decref(src_meta);
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("objects.put",
							   r->bucket, spec)),
			copied, refused);
	return;
out:
	json_decref(src_meta);
}

void ows__s3_copy_object(struct ows__s3_req *r)
{
	struct copy *c = ows_arena_alloc(r->c->arena, sizeof(*c));
	int rv;

	if (c == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(c, 0, sizeof(*c));
	r->data = c;
	if (!parse_source(r, c))
		return;
	if (!ows_state_resource_exists(r->c->host->state, "buckets",
				       c->src_bucket)) {
		ows__s3_error(r, 404, "NoSuchBucket", "The specified bucket "
			      "does not exist");
		return;
	}
	if (ows__s3_authorize(r, "s3:GetObject", c->src_bucket, c->src_key,
			      NULL) != 0)
		return;
	rv = ows__s3_object_get(r->c->host, r->c->arena, c->src_bucket,
				c->src_key, &c->src);
	if (rv == OWS_ENOTFOUND) {
		ows__s3_error(r, 404, "NoSuchKey", "The specified key does "
			      "not exist.");
		return;
	}
	if (rv != 0) {
		ows__s3_internal(r, rv);
		return;
	}
	/* the meta goes to copy_from, which releases it */
	{
		json_t *src_meta = c->src.meta;

		c->src.meta = NULL;
		copy_from(r, c, src_meta);
	}
}
