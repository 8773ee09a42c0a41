/*
 * The kinds S3 adds to the state machine (state/kinds.h), and the apply
 * of their entries as s3_model.h defines them:
 *
 *   buckets   in stack files ("buckets": {"uploads": {}}) and made by
 *             CreateBucket (stack ""); the generic resources row, with
 *             policy, CORS and tags kept in its spec
 *   objects   the s3_* side tables (schema); objects.put, .delete, .tags
 *   uploads   multipart uploads: ows__s3_uploads_apply (mpu_apply.c)
 *
 * Applies run inside the entry's transaction, and decide what depends
 * on the state at the entry's height: a bucket that already exists, a
 * bucket that is not empty, and S3's conditional writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "common/json.h"
#include "s3/access.h"
#include "s3/s3_priv.h"
#include "state/state.h"

/* Run sql binding up to three texts; -EIO on failure. */
static int run3(struct ows_state *s, const char *sql, const char *a,
		const char *b, const char *cc)
{
	sqlite3_stmt *st;
	int rv;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -EIO;
	if (a != NULL)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (cc != NULL)
		sqlite3_bind_text(st, 3, cc, -1, SQLITE_STATIC);
	rv = sqlite3_step(st);
	sqlite3_finalize(st);
	return rv == SQLITE_DONE || rv == SQLITE_ROW ? 0 : -EIO;
}

bool ows__s3_bucket_has_content(struct ows_state *s, const char *bucket)
{
	sqlite3_stmt *st;
	bool found;

	if (ows_state_prepare(s, "SELECT 1 FROM s3_objects WHERE bucket=?1 "
			      "UNION ALL SELECT 1 FROM s3_uploads WHERE "
			      "bucket=?1 LIMIT 1", &st) != 0)
		return true; /* refuse rather than lose data */
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* ---- buckets ---- */

static int buckets_check(const char *name, const json_t *spec,
			 struct ows_err *err)
{
	const json_t *cors = json_object_get(spec, "cors");
	const json_t *policy = json_object_get(spec, "policy");
	const json_t *fd = json_object_get(spec, "force_delete");
	const json_t *tags = json_object_get(spec, "tags");
	const char *code;

	if (!ows__s3_bucket_name_valid(name)) {
		ows_err_printf(err, "InvalidBucketName: The specified bucket "
			       "is not valid.");
		return OWS_EINVAL;
	}
	if (!json_is_object(spec)) {
		ows_err_printf(err, "a bucket's spec is an object");
		return OWS_EINVAL;
	}
	if ((cors != NULL && !json_is_array(cors) && !json_is_null(cors)) ||
	    (policy != NULL && !json_is_object(policy) &&
	     !json_is_null(policy)) ||
	    (fd != NULL && !json_is_boolean(fd)) ||
	    (tags != NULL && !json_is_object(tags) && !json_is_null(tags))) {
		ows_err_printf(err, "bucket '%s': 'cors' is a list of rules, "
			       "'policy' a bucket policy, 'tags' an object, "
			       "'force_delete' true or false", name);
		return OWS_EINVAL;
	}
	/* the documents themselves, as the API checks them (access.h) */
	if (json_is_object(policy) && ows__s3_policy_check(policy, name,
							   err) != 0)
		return OWS_EINVAL;
	if (json_is_array(cors) && ows__s3_cors_check(cors, &code, err) != 0)
		return OWS_EINVAL;
	if (json_object_get(spec, "region") != NULL &&
	    !json_is_string(json_object_get(spec, "region"))) {
		ows_err_printf(err, "bucket '%s': 'region' is a name", name);
		return OWS_EINVAL;
	}
	return 0;
}

static int bucket_put(const struct ows_apply_ctx *c, const char *name,
		      const json_t *spec, struct ows_err *err)
{
	json_t *old = ows_state_resource(c->s, "buckets", name), *row;
	int rv;

	if (old != NULL && c->stack[0] == '\0') {
		json_decref(old);
		ows_err_printf(err, "BucketAlreadyOwnedByYou: Your previous "
			       "request to create the named bucket succeeded "
			       "and you already own it.");
		return OWS_ECONFLICT;
	}
	row = json_deep_copy(spec);
	if (row == NULL) {
		json_decref(old);
		return -ENOMEM;
	}
	json_object_del(row, "create");
	/* a stack's put keeps when the bucket was made */
	json_object_set_new(row, "created", json_integer(
		old && json_is_integer(json_object_get(old, "created"))
			? json_integer_value(json_object_get(old, "created"))
			: c->time_ms));
	json_decref(old);
	rv = ows_kind_put(c, "buckets", name, row, err);
	json_decref(row);
	return rv;
}

static int bucket_drop_content(const struct ows_apply_ctx *c, const char *b)
{
	int rv = run3(c->s, "DELETE FROM s3_parts WHERE upload_id IN (SELECT "
		      "upload_id FROM s3_uploads WHERE bucket=?)", b, NULL,
		      NULL);

	if (rv == 0)
		rv = run3(c->s, "DELETE FROM s3_uploads WHERE bucket=?", b,
			  NULL, NULL);
	if (rv == 0)
		rv = run3(c->s, "DELETE FROM s3_object_blobs WHERE bucket=?", b,
			  NULL, NULL);
	if (rv == 0)
		rv = run3(c->s, "DELETE FROM s3_objects WHERE bucket=?", b,
			  NULL, NULL);
	return rv;
}

static int bucket_delete(const struct ows_apply_ctx *c, const char *name,
			 struct ows_err *err)
{
	json_t *old = ows_state_resource(c->s, "buckets", name);
	bool force = json_is_true(json_object_get(old, "force_delete")) &&
		     c->stack[0] != '\0';
	int rv;

	if (old == NULL) {
		ows_err_printf(err, "NoSuchBucket: The specified bucket does "
			       "not exist");
		return OWS_ENOTFOUND;
	}
	json_decref(old);
	if (!force && ows__s3_bucket_has_content(c->s, name)) {
		ows_err_printf(err, "BucketNotEmpty: The bucket you tried to "
			       "delete is not empty%s", c->stack[0]
			       ? " (a stack deletes it only with "
				 "\"force_delete\": true)" : "");
		return OWS_ECONFLICT;
	}
	rv = ows_kind_delete(c, "buckets", name, err);
	if (rv == 0)
		rv = bucket_drop_content(c, name);
	return rv;
}

/* buckets.policy / .cors / .tags: one member of the spec, null drops it. */
static int bucket_member(const struct ows_apply_ctx *c, const char *name,
			 const char *member, const json_t *spec,
			 struct ows_err *err)
{
	const json_t *v = json_object_get(spec, member);
	json_t *row = ows_state_resource(c->s, "buckets", name);
	int rv;

	if (row == NULL) {
		ows_err_printf(err, "NoSuchBucket: The specified bucket does "
			       "not exist");
		return OWS_ENOTFOUND;
	}
	if (v == NULL || json_is_null(v))
		json_object_del(row, member);
	else
		json_object_set(row, member, (json_t *)v);
	rv = buckets_check(name, row, err);
	if (rv == 0)
		rv = ows_kind_spec_write(c, "buckets", name, row);
	json_decref(row);
	return rv;
}

static int buckets_apply(const struct ows_apply_ctx *c, const char *verb,
			 const char *name, const json_t *spec, json_t *result,
			 struct ows_err *err)
{
	(void)result;
	if (strcmp(verb, "put") == 0)
		return bucket_put(c, name, spec, err);
	if (strcmp(verb, "delete") == 0)
		return bucket_delete(c, name, err);
	if (strcmp(verb, "policy") == 0 || strcmp(verb, "cors") == 0 ||
	    strcmp(verb, "tags") == 0)
		return bucket_member(c, name, verb, spec, err);
	ows_err_printf(err, "unknown action 'buckets.%s'", verb);
	return OWS_EINVAL;
}

/* ---- objects ---- */

/* The stored ETag of bucket/key into out: 1, 0 when absent, or -EIO. */
static int stored_etag(struct ows_state *s, const char *bucket,
		       const char *key, char out[80])
{
	sqlite3_stmt *st;
	int rc;

	if (ows_state_prepare(s, "SELECT etag FROM s3_objects WHERE bucket=? "
			      "AND key=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(out, 80, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* Whether the conditions of spec hold for an object of ETag etag (NULL:
   none). */
static bool conditions_hold(const json_t *spec, const char *etag)
{
	const char *want = ows_json_str(spec, "if_match");

	if (json_is_true(json_object_get(spec, "if_none_match")) &&
	    etag != NULL)
		return false;
	if (want != NULL && (etag == NULL || strcmp(want, etag) != 0))
		return false;
	return true;
}

int ows__s3_object_conditions(struct ows_state *s, const char *bucket,
			      const char *key, const json_t *spec,
			      struct ows_err *err)
{
	const json_t *seen = json_object_get(spec, "seen");
	char etag[80];
	int rv = stored_etag(s, bucket, key, etag);

	if (rv < 0)
		return rv;
	if (conditions_hold(spec, rv == 1 ? etag : NULL))
		return 0;
	if (conditions_hold(spec, json_is_string(seen)
					  ? json_string_value(seen) : NULL)) {
		ows_err_printf(err, "ConditionalRequestConflict: A conflicting "
			       "conditional operation is currently in "
			       "progress against this resource. Please try "
			       "again.");
		return OWS_ECONFLICT;
	}
	if (rv == 0 && ows_json_str(spec, "if_match") != NULL) {
		ows_err_printf(err, "NoSuchKey: The specified key does not "
			       "exist.");
		return OWS_ENOTFOUND;
	}
	ows_err_printf(err, "PreconditionFailed: At least one of the "
		       "pre-conditions you specified did not hold");
	return OWS_EPRECOND;
}

static int object_put_check(const json_t *spec, struct ows_err *err)
{
	const char *key = ows_json_str(spec, "key");
	const json_t *blobs = json_object_get(spec, "blobs"), *b;
	json_int_t size = json_integer_value(json_object_get(spec, "size"));
	json_int_t sum = 0;
	size_t i;

	if (key == NULL || ows__s3_key_check(key, strlen(key)) != 0 ||
	    ows_json_str(spec, "etag") == NULL ||
	    !json_is_integer(json_object_get(spec, "size")) || size < 0 ||
	    !json_is_object(json_object_get(spec, "meta")) ||
	    !json_is_array(blobs)) {
		ows_err_printf(err, "InvalidRequest: objects.put needs key, "
			       "size, etag, meta and blobs");
		return OWS_EINVAL;
	}
	json_array_foreach(blobs, i, b) {
		const char *name = ows_json_str(b, "blob");
		json_int_t n = json_integer_value(json_object_get(b, "size"));

		if (name == NULL || !ows_blob_name_valid(name) || n < 0 ||
		    ows_json_str(b, "etag") == NULL) {
			ows_err_printf(err, "InvalidRequest: blobs[%zu] is "
				       "malformed", i);
			return OWS_EINVAL;
		}
		sum += n;
	}
	if (sum != size) {
		ows_err_printf(err, "InvalidRequest: the blobs hold %lld bytes, "
			       "not %lld", (long long)sum, (long long)size);
		return OWS_EINVAL;
	}
	return 0;
}

int ows__s3_object_write(const struct ows_apply_ctx *c, const char *bucket,
			 const char *key, json_int_t size, const char *etag,
			 unsigned parts, const json_t *meta,
			 const json_t *blobs)
{
	char *text = ows_json_dump(meta);
	sqlite3_stmt *st;
	const json_t *b;
	json_int_t offset = 0;
	size_t i;
	int rv;

	rv = text ? run3(c->s, "DELETE FROM s3_object_blobs WHERE bucket=? "
			 "AND key=?", bucket, key, NULL) : -ENOMEM;
	if (rv == 0 && ows_state_prepare(c->s, "INSERT OR REPLACE INTO "
				 "s3_objects(bucket, key, size, etag, "
				 "modified, parts, meta, height) "
				 "VALUES(?,?,?,?,?,?,?,?)", &st) == 0) {
		sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, size);
		sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, c->time_ms);
		sqlite3_bind_int(st, 6, (int)parts);
		sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)c->height);
		rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	} else if (rv == 0) {
		rv = -EIO;
	}
	free(text);
	json_array_foreach(blobs, i, b) {
		if (rv != 0)
			break;
		if (ows_state_prepare(c->s, "INSERT INTO s3_object_blobs(bucket,"
				      " key, idx, blob, offset, size, etag, "
				      "checksum) VALUES(?,?,?,?,?,?,?,?)",
				      &st) != 0)
			return -EIO;
		sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		sqlite3_bind_text(st, 4, ows_json_str(b, "blob"), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, offset);
		sqlite3_bind_int64(st, 6, json_integer_value(
						  json_object_get(b, "size")));
		sqlite3_bind_text(st, 7, ows_json_str(b, "etag"), -1,
				  SQLITE_STATIC);
		if (ows_json_str(b, "checksum") != NULL)
			sqlite3_bind_text(st, 8, ows_json_str(b, "checksum"),
					  -1, SQLITE_STATIC);
		rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
		offset += json_integer_value(json_object_get(b, "size"));
	}
	return rv;
}

/*
 * CopyObject names the source's blobs without copying them: the copy is
 * written only while the source still has the ETag it was read with, so
 * that its blobs cannot have been collected in between.
 */
static int copy_source_holds(struct ows_state *s, const json_t *src,
			     struct ows_err *err)
{
	const char *b = ows_json_str(src, "bucket");
	const char *k = ows_json_str(src, "key");
	const char *want = ows_json_str(src, "etag");
	char etag[80];
	int rv;

	if (src == NULL)
		return 0;
	if (b == NULL || k == NULL || want == NULL) {
		ows_err_printf(err, "InvalidRequest: copy_of needs bucket, key "
			       "and etag");
		return OWS_EINVAL;
	}
	rv = stored_etag(s, b, k, etag);
	if (rv < 0)
		return rv;
	if (rv == 0 || strcmp(etag, want) != 0) {
		ows_err_printf(err, "OperationAborted: The copy source was "
			       "changed or deleted while it was copied. Please "
			       "try again.");
		return OWS_ECONFLICT;
	}
	return 0;
}

static int object_put(const struct ows_apply_ctx *c, const char *bucket,
		      const json_t *spec, json_t *result, struct ows_err *err)
{
	const char *key = ows_json_str(spec, "key");
	json_int_t parts = json_integer_value(json_object_get(spec, "parts"));
	int rv = object_put_check(spec, err);

	if (rv == 0)
		rv = ows__s3_object_conditions(c->s, bucket, key, spec, err);
	if (rv == 0)
		rv = copy_source_holds(c->s, json_object_get(spec, "copy_of"),
				       err);
	if (rv == 0)
		rv = ows__s3_object_write(c, bucket, key, json_integer_value(
				json_object_get(spec, "size")),
			ows_json_str(spec, "etag"),
			parts > 0 && parts <= 10000 ? (unsigned)parts : 0,
			json_object_get(spec, "meta"),
			json_object_get(spec, "blobs"));
	if (rv == 0)
		json_object_set_new(result, "modified",
				    json_integer(c->time_ms));
	return rv;
}

static int object_tags(const struct ows_apply_ctx *c, const char *bucket,
		       const json_t *spec, struct ows_err *err)
{
	const char *key = ows_json_str(spec, "key");
	const json_t *tags = json_object_get(spec, "tags");
	sqlite3_stmt *st;
	json_t *meta = NULL;
	char *text;
	int rv = OWS_ENOTFOUND;

	if (key == NULL || (tags != NULL && !json_is_object(tags) &&
			    !json_is_null(tags))) {
		ows_err_printf(err, "InvalidRequest: objects.tags needs key "
			       "and tags");
		return OWS_EINVAL;
	}
	if (ows_state_prepare(c->s, "SELECT meta FROM s3_objects WHERE "
			      "bucket=? AND key=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		meta = ows_json_loads(
			(const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	if (meta == NULL) {
		ows_err_printf(err, "NoSuchKey: The specified key does not "
			       "exist.");
		return OWS_ENOTFOUND;
	}
	if (tags == NULL || json_is_null(tags) || json_object_size(tags) == 0)
		json_object_del(meta, "tags");
	else
		json_object_set(meta, "tags", (json_t *)tags);
	text = ows_json_dump(meta);
	json_decref(meta);
	rv = text ? run3(c->s, "UPDATE s3_objects SET meta=?3 WHERE bucket=?1 "
			 "AND key=?2", bucket, key, text) : -ENOMEM;
	free(text);
	return rv;
}

static int objects_apply(const struct ows_apply_ctx *c, const char *verb,
			 const char *name, const json_t *spec, json_t *result,
			 struct ows_err *err)
{
	const char *key = ows_json_str(spec, "key");

	if (!ows_state_resource_exists(c->s, "buckets", name)) {
		ows_err_printf(err, "NoSuchBucket: The specified bucket does "
			       "not exist");
		return OWS_ENOTFOUND;
	}
	if (strcmp(verb, "put") == 0)
		return object_put(c, name, spec, result, err);
	if (strcmp(verb, "tags") == 0)
		return object_tags(c, name, spec, err);
	if (strcmp(verb, "delete") == 0) {
		int rv;

		if (key == NULL) {
			ows_err_printf(err, "InvalidRequest: objects.delete "
				       "needs key");
			return OWS_EINVAL;
		}
		rv = run3(c->s, "DELETE FROM s3_object_blobs WHERE bucket=? "
			  "AND key=?", name, key, NULL);
		return rv ? rv : run3(c->s, "DELETE FROM s3_objects WHERE "
				      "bucket=? AND key=?", name, key, NULL);
	}
	ows_err_printf(err, "unknown action 'objects.%s'", verb);
	return OWS_EINVAL;
}

static int uploads_apply(const struct ows_apply_ctx *c, const char *verb,
			 const char *name, const json_t *spec, json_t *result,
			 struct ows_err *err)
{
	if (!ows_state_resource_exists(c->s, "buckets", name)) {
		ows_err_printf(err, "NoSuchBucket: The specified bucket does "
			       "not exist");
		return OWS_ENOTFOUND;
	}
	return ows__s3_uploads_apply(c, verb, name, spec, result, err);
}

/* arn_type "": arn:ows:s3:::NAME, as S3's own ARNs have no type. */
static const struct ows_kind kind_buckets = {
	.name = "buckets", .arn_service = "s3", .arn_type = "",
	.rank = 70, .in_stacks = true, .check = buckets_check,
	.apply = buckets_apply,
};

static const struct ows_kind kind_objects = {
	.name = "objects", .arn_service = "s3", .arn_type = "",
	.rank = 71, .in_stacks = false, .schema = OWS_S3_SCHEMA,
	.apply = objects_apply,
};

static const struct ows_kind kind_uploads = {
	.name = "uploads", .arn_service = "s3", .arn_type = "",
	.rank = 72, .in_stacks = false, .schema = OWS_S3_SCHEMA,
	.apply = uploads_apply,
};

const struct ows_kind *const ows__s3_kinds[] = {
	&kind_buckets, &kind_objects, &kind_uploads, NULL,
};
