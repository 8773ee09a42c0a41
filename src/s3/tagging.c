/*
 * Tags of objects and buckets (S3 API Reference: PutObjectTagging,
 * GetObjectTagging, DeleteObjectTagging, PutBucketTagging,
 * GetBucketTagging, DeleteBucketTagging).
 *
 * A tag set arrives as <Tagging><TagSet><Tag><Key/><Value/></Tag>...
 * and is checked as S3 checks it (InvalidTag): keys of 1 to 128
 * characters and values of up to 256, letters, digits, white space and
 * + - = . _ : / @ only, no key twice, none starting with "aws:"; an
 * object holds at most 10 tags (BadRequest), a bucket 50. The set is
 * stored whole: objects.tags puts it in the object's meta, buckets.tags
 * in the bucket's spec (s3_model.h); an empty set removes it. Tags set
 * with PutObject's x-amz-tagging header are checked by objects.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "s3/s3_priv.h"
#include "state/state.h"

#define OBJECT_TAGS_MAX 10
#define BUCKET_TAGS_MAX 50

/* The number of UTF-8 characters of s (keys are valid UTF-8 already). */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* S3's tag alphabet: Unicode letters, digits, white space, + - = . _ : / @ */
static bool tag_text_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x80 || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr(" +-=._:/@", ch) != NULL)
			continue;
		return false;
	}
	return true;
}

static bool named(const json_t *node, const char *name)
{
	const char *n = ows_json_str(node, "name");

	return n != NULL && strcmp(n, name) == 0;
}

/* One <Tag> into tags: NULL, or the S3 message of an InvalidTag. */
static const char *add_tag(const json_t *tag, json_t *tags, bool *malformed)
{
	const char *k = ows__s3_xml_text(tag, "Key");
	const char *v = ows__s3_xml_text(tag, "Value");

	if (k == NULL || v == NULL) {
		*malformed = true;
		return "";
	}
	if (chars(k) > 128)
		return "The TagKey you have provided is too long, max 128";
	if (chars(v) > 256)
		return "The TagValue you have provided is too long, max 256";
	if (k[0] == '\0' || !tag_text_ok(k) ||
	    ows__s3_key_check(k, strlen(k)) != 0)
		return "The TagKey you have provided is invalid";
	if (!tag_text_ok(v) || (v[0] && ows__s3_key_check(v, strlen(v)) != 0))
		return "The TagValue you have provided is invalid";
	if (strncmp(k, "aws:", 4) == 0)
		return "Your TagKey cannot be prefixed with aws:";
	if (json_object_get(tags, k) != NULL)
		return "Cannot provide multiple Tags with the same key";
	json_object_set_new(tags, k, json_string(v));
	return NULL;
}

/*
 * The tag set of a Tagging document (new reference), or NULL once the
 * error was answered.
 */
static json_t *tags_of(struct ows__s3_req *r, const json_t *tree, size_t max)
{
	const json_t *set = ows__s3_xml_child(tree, "TagSet"), *tag;
	json_t *tags = json_object();
	bool malformed = false;
	size_t i;

	if (tags == NULL || set == NULL || !named(tree, "Tagging")) {
		json_decref(tags);
		ows__s3_malformed_xml(r);
		return NULL;
	}
	json_array_foreach(json_object_get(set, "children"), i, tag) {
		const char *msg;

		if (!named(tag, "Tag"))
			continue;
		msg = add_tag(tag, tags, &malformed);
		if (malformed) {
			json_decref(tags);
			ows__s3_malformed_xml(r);
			return NULL;
		}
		if (msg != NULL) {
			json_decref(tags);
			ows__s3_error(r, 400, "InvalidTag", "%s", msg);
			return NULL;
		}
	}
	if (json_object_size(tags) > max) {
		json_decref(tags);
		if (max == OBJECT_TAGS_MAX)
			ows__s3_error(r, 400, "BadRequest", "Object tags "
				      "cannot be greater than 10");
		else
			ows__s3_error(r, 400, "InvalidTag", "Bucket tag count "
				      "cannot be greater than 50");
		return NULL;
	}
	return tags;
}

static void tagging_xml(struct ows__s3_req *r, const json_t *tags,
			const struct ows_http_header *h, size_t n)
{
	struct ows_buf b = OWS_BUF_INIT;
	const char *k;
	const json_t *v;

	ows__s3_xml_open(&b, "Tagging");
	ows_buf_puts(&b, "<TagSet>");
	json_object_foreach((json_t *)tags, k, v) {
		ows_buf_puts(&b, "<Tag>");
		ows__s3_xml_elem(&b, "Key", k);
		ows__s3_xml_elem(&b, "Value", json_string_value(v));
		ows_buf_puts(&b, "</Tag>");
	}
	ows_buf_puts(&b, "</TagSet></Tagging>");
	if (b.data == NULL) {
		ows_buf_free(&b);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, h, n, b.data, b.len);
	ows_buf_free(&b);
}

static const struct ows_http_header version_null = {"x-amz-version-id",
						     "null"};

/* ---- objects ---- */

/* A versionId other than "null": S3's answer for a bucket that never had
   versioning. false once answered. */
static bool version_ok(struct ows__s3_req *r)
{
	char v[64];

	if (!ows__s3_query(r, "versionId", v, sizeof(v)) ||
	    strcmp(v, "null") == 0)
		return true;
	ows__s3_error(r, 400, "InvalidArgument", "Invalid version id "
		      "specified");
	return false;
}

void ows__s3_object_tagging_get(struct ows__s3_req *r)
{
	struct ows__s3_object o;

	if (!version_ok(r))
		return;
	if (ows__s3_object_load(r, &o) != 0)
		return;
	tagging_xml(r, json_object_get(o.meta, "tags"), &version_null, 1);
	ows__s3_object_release(&o);
}

static void object_tagged(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, r->id == OWS_S3_DELETE_OBJECT_TAGGING ? 204 : 200,
		      &version_null, 1, NULL, 0);
}

static void propose_object_tags(struct ows__s3_req *r, json_t *tags)
{
	json_t *spec = json_pack("{s:s, s:o}", "key", r->key, "tags",
				 tags ? tags : json_null());

	ows__s3_propose(r, json_pack("[o]", ows__s3_action("objects.tags",
							   r->bucket, spec)),
			object_tagged, NULL);
}

static void object_tagging_body(struct ows__s3_req *r, const json_t *tree)
{
	json_t *tags = tags_of(r, tree, OBJECT_TAGS_MAX);

	if (tags != NULL)
		propose_object_tags(r, tags);
}

void ows__s3_object_tagging_put(struct ows__s3_req *r)
{
	char etag[80];

	if (!version_ok(r))
		return;
	if (!ows__s3_object_etag(r->c->host, r->bucket, r->key, etag)) {
		ows__s3_no_such_key(r);
		return;
	}
	ows__s3_read_xml(r, OWS_S3_XML_LIMIT, false, object_tagging_body);
}

void ows__s3_object_tagging_delete(struct ows__s3_req *r)
{
	char etag[80];

	if (!version_ok(r))
		return;
	if (!ows__s3_object_etag(r->c->host, r->bucket, r->key, etag)) {
		ows__s3_no_such_key(r);
		return;
	}
	propose_object_tags(r, NULL);
}

/* ---- buckets ---- */

void ows__s3_bucket_tagging_get(struct ows__s3_req *r)
{
	json_t *spec = ows__s3_bucket_get(r->c->host, r->bucket);
	const json_t *tags = json_object_get(spec, "tags");

	if (json_object_size(tags) == 0)
		ows__s3_error(r, 404, "NoSuchTagSet", "The TagSet does not "
			      "exist");
	else
		tagging_xml(r, tags, NULL, 0);
	json_decref(spec);
}

static void bucket_tagged(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, 204, NULL, 0, NULL, 0);
}

static void propose_bucket_tags(struct ows__s3_req *r, json_t *tags)
{
	json_t *spec = json_pack("{s:o}", "tags", tags && json_object_size(tags)
						  ? tags : json_null());

	if (tags != NULL && json_object_size(tags) == 0)
		json_decref(tags);
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("buckets.tags",
							   r->bucket, spec)),
			bucket_tagged, NULL);
}

static void bucket_tagging_body(struct ows__s3_req *r, const json_t *tree)
{
	json_t *tags = tags_of(r, tree, BUCKET_TAGS_MAX);

	if (tags != NULL)
		propose_bucket_tags(r, tags);
}

void ows__s3_bucket_tagging_put(struct ows__s3_req *r)
{
	ows__s3_read_xml(r, OWS_S3_XML_LIMIT, false, bucket_tagging_body);
}

void ows__s3_bucket_tagging_delete(struct ows__s3_req *r)
{
	propose_bucket_tags(r, NULL);
}
