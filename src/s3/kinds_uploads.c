/*
 * The apply of the uploads.* entries (s3_model.h), called by the
 * "uploads" kind of kinds.c once the bucket is known to exist: an
 * upload's row, its parts' rows, and CompleteMultipartUpload, which
 * decides at the entry's height what S3 decides when it completes:
 * InvalidPartOrder, InvalidPart (a part never uploaded, or whose ETag or
 * checksum is not the one listed), EntityTooSmall (a part under 5 MiB
 * but the last), the conditional write (If-None-Match / If-Match against
 * "seen"), the object's ETag (MD5 of the parts' binary MD5s, "-N") and
 * checksum. Completing copies no data: the object's rows name the parts'
 * blobs, and the upload's rows (and any part it did not list) go.
 *
 * Everything here reads the state and the entry only (deterministic).
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "common/enc.h"
#include "common/json.h"
#include "s3/multipart.h"
#include "state/state.h"

/* Short: the handlers answer with S3's whole text (multipart.c). */
#define NO_SUCH_UPLOAD "NoSuchUpload: The specified upload does not exist."

/* ---- reading ---- */

bool ows__s3_upload_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n != OWS_S3_UPLOAD_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '-' ||
		      id[i] == '_'))
			return false;
	return true;
}

int ows__s3_upload_get(struct ows_state *s, struct ows_arena *arena,
		       const char *bucket, const char *id,
		       struct ows__s3_upload *u)
{
	sqlite3_stmt *st;
	const json_t *ck;
	int rc, rv = 0;

	memset(u, 0, sizeof(*u));
	if (!ows__s3_upload_id_valid(id))
		return OWS_ENOTFOUND;
	if (ows_state_prepare(s, "SELECT key, initiated, meta, initiator FROM "
			      "s3_uploads WHERE upload_id=? AND bucket=?",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, bucket, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(u->id, sizeof(u->id), "%s", id);
		u->key = ows_arena_strdup(arena, (const char *)
					  sqlite3_column_text(st, 0));
		u->initiated = sqlite3_column_int64(st, 1);
		u->meta = ows_json_loads(
			(const char *)sqlite3_column_text(st, 2), 0, NULL);
		u->initiator = ows_arena_strdup(arena, (const char *)
						sqlite3_column_text(st, 3));
		if (u->key == NULL || u->initiator == NULL || u->meta == NULL)
			rv = -ENOMEM;
	} else {
		rv = rc == SQLITE_DONE ? OWS_ENOTFOUND : -EIO;
	}
	sqlite3_finalize(st);
	if (rv != 0) {
		json_decref(u->meta);
		u->meta = NULL;
		return rv;
	}
	ck = json_object_get(u->meta, "checksum");
	u->ck = ows_json_str(ck, "algorithm")
			? ows__s3_ck_parse(ows_json_str(ck, "algorithm"))
			: OWS_S3_CK_NONE;
	u->full_object = ows_json_str(ck, "type") != NULL &&
			 strcmp(ows_json_str(ck, "type"), "FULL_OBJECT") == 0;
	return 0;
}

/* Run sql with the upload id as ?1: -EIO on failure. */
static int run_id(struct ows_state *s, const char *sql, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Whether upload id of bucket exists; -EIO. */
static int upload_exists(struct ows_state *s, const char *bucket,
			 const char *id)
{
	struct ows_arena a;
	struct ows__s3_upload u;
	int rv;

	ows_arena_init(&a);
	rv = ows__s3_upload_get(s, &a, bucket, id, &u);
	json_decref(u.meta);
	ows_arena_close(&a);
	return rv;
}

/* ---- uploads.create ---- */

static int upload_create(const struct ows_apply_ctx *c, const char *bucket,
			 const json_t *spec, struct ows_err *err)
{
	const char *id = ows_json_str(spec, "upload_id");
	const char *key = ows_json_str(spec, "key");
	const json_t *meta = json_object_get(spec, "meta");
	const char *owner = ows_json_str(meta, "owner");
	sqlite3_stmt *st;
	char *text;
	int rc;

	if (!ows__s3_upload_id_valid(id) || key == NULL ||
	    ows__s3_key_check(key, strlen(key)) != 0 || !json_is_object(meta)) {
		ows_err_printf(err, "InvalidRequest: uploads.create needs "
			       "upload_id, key and meta");
		return OWS_EINVAL;
	}
	text = ows_json_dump(meta);
	if (text == NULL)
		return -ENOMEM;
	if (ows_state_prepare(c->s, "INSERT OR IGNORE INTO s3_uploads("
			      "upload_id, bucket, key, initiated, meta, "
			      "initiator) VALUES(?,?,?,?,?,?)", &st) != 0) {
		free(text);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->time_ms);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, owner ? owner : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (sqlite3_changes(c->s->db) == 0) {
		/* 24 random bytes make this a bug or a forged entry */
		ows_err_printf(err, "InvalidRequest: upload id '%s' is taken",
			       id);
		return OWS_ECONFLICT;
	}
	return 0;
}

/* ---- uploads.part ---- */

static bool md5_hex(const char *s)
{
	if (s == NULL || strlen(s) != 32)
		return false;
	for (int i = 0; i < 32; i++)
		if (ows_hex_digit(s[i]) < 0)
			return false;
	return true;
}

static int upload_part(const struct ows_apply_ctx *c, const char *bucket,
		       const json_t *spec, json_t *result, struct ows_err *err)
{
	const char *id = ows_json_str(spec, "upload_id");
	const char *blob = ows_json_str(spec, "blob");
	const char *etag = ows_json_str(spec, "etag");
	const char *ck = ows_json_str(spec, "checksum");
	json_int_t part = json_integer_value(json_object_get(spec, "part"));
	json_int_t size = json_integer_value(json_object_get(spec, "size"));
	sqlite3_stmt *st;
	int rv;

	if (part < 1 || part > OWS_S3_PART_MAX || blob == NULL ||
	    !ows_blob_name_valid(blob) || !md5_hex(etag) || size < 0 ||
	    (uint64_t)size > OWS_S3_PART_SIZE_MAX) {
		ows_err_printf(err, "InvalidRequest: uploads.part needs "
			       "upload_id, part, blob, size and etag");
		return OWS_EINVAL;
	}
	rv = upload_exists(c->s, bucket, id);
	if (rv == OWS_ENOTFOUND)
		ows_err_printf(err, NO_SUCH_UPLOAD);
	if (rv != 0)
		return rv;
	if (ows_state_prepare(c->s, "INSERT OR REPLACE INTO s3_parts(upload_id,"
			      " part, blob, size, etag, checksum, modified) "
			      "VALUES(?,?,?,?,?,?,?)", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)part);
	sqlite3_bind_text(st, 3, blob, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_text(st, 5, etag, -1, SQLITE_STATIC);
	if (ck != NULL)
		sqlite3_bind_text(st, 6, ck, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, c->time_ms);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rv == 0)
		json_object_set_new(result, "modified",
				    json_integer(c->time_ms));
	return rv;
}

/* ---- uploads.complete ---- */

/* One listed part, as s3_parts holds it. */
struct listed {
	unsigned part;
	char blob[65];
	char etag[40];
	char *checksum; /* malloc'd, or NULL */
	uint64_t size;
};

struct completion {
	const struct ows_apply_ctx *c;
	const char *bucket;
	struct ows__s3_upload u;
	struct listed *parts;
	size_t n;
	struct ows_err *err;
};

static void completion_free(struct completion *m)
{
	for (size_t i = 0; m->parts != NULL && i < m->n; i++)
		free(m->parts[i].checksum);
	free(m->parts);
	json_decref(m->u.meta);
}

/* The listed parts' shape and order: 0 or OWS_EINVAL. */
static int listed_order(const json_t *list, struct ows_err *err)
{
	const json_t *p;
	json_int_t prev = 0;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > OWS_S3_PART_MAX) {
		ows_err_printf(err, "MalformedXML: The XML you provided was "
			       "not well-formed or did not validate against "
			       "our published schema");
		return OWS_EINVAL;
	}
	json_array_foreach(list, i, p) {
		json_int_t n = json_integer_value(json_object_get(p, "part"));

		if (n < 1 || n > OWS_S3_PART_MAX ||
		    ows_json_str(p, "etag") == NULL) {
			ows_err_printf(err, "InvalidArgument: Part number must "
				       "be an integer between 1 and 10000, "
				       "inclusive");
			return OWS_EINVAL;
		}
		if (n <= prev) {
			ows_err_printf(err, "InvalidPartOrder: The list of parts "
				       "was not in ascending order. The parts "
				       "list must be specified in order by "
				       "part number.");
			return OWS_EINVAL;
		}
		prev = n;
	}
	return 0;
}

/* Part n of the upload from s3_parts into l: 0, OWS_ENOTFOUND, -EIO. */
static int part_row(struct ows_state *s, const char *id, unsigned n,
		    struct listed *l)
{
	sqlite3_stmt *st;
	const char *ck;
	int rc;

	if (ows_state_prepare(s, "SELECT blob, size, etag, checksum FROM "
			      "s3_parts WHERE upload_id=? AND part=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)n);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		l->part = n;
		snprintf(l->blob, sizeof(l->blob), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		l->size = (uint64_t)sqlite3_column_int64(st, 1);
		snprintf(l->etag, sizeof(l->etag), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		ck = (const char *)sqlite3_column_text(st, 3);
		l->checksum = ck ? strdup(ck) : NULL;
		if (ck != NULL && l->checksum == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? OWS_ENOTFOUND : -EIO;
}

static int invalid_part(struct ows_err *err, unsigned n)
{
	ows_err_printf(err, "InvalidPart: part %u was not uploaded, or its "
		       "entity tag or checksum is not the one listed", n);
	return OWS_EINVAL;
}

/* Read and judge each listed part of list into m->parts. */
static int listed_parts(struct completion *m, const json_t *list)
{
	const json_t *p;
	size_t i;
	int rv;

	m->parts = calloc(json_array_size(list), sizeof(*m->parts));
	if (m->parts == NULL)
		return -ENOMEM;
	json_array_foreach(list, i, p) {
		unsigned n = (unsigned)json_integer_value(json_object_get(p,
								 "part"));
		const char *ck = ows_json_str(p, "checksum");
		struct listed *l = &m->parts[i];

		rv = part_row(m->c->s, m->u.id, n, l);
		m->n = i + 1;
		if (rv == OWS_ENOTFOUND)
			return invalid_part(m->err, n);
		if (rv != 0)
			return rv;
		if (strcmp(l->etag, ows_json_str(p, "etag")) != 0 ||
		    (ck != NULL && (l->checksum == NULL ||
				    strcmp(ck, l->checksum) != 0)))
			return invalid_part(m->err, n);
		if (m->u.ck != OWS_S3_CK_NONE && l->checksum == NULL) {
			ows_err_printf(m->err, "InvalidRequest: The upload was "
				       "created using a %s checksum. Part %u "
				       "was uploaded without one.",
				       ows__s3_ck_name(m->u.ck), n);
			return OWS_EINVAL;
		}
		if (m->u.ck != OWS_S3_CK_NONE && !m->u.full_object &&
		    ck == NULL) {
			ows_err_printf(m->err, "InvalidRequest: The upload was "
				       "created using a %s checksum. The "
				       "complete request must include the "
				       "checksum for each part. It was missing "
				       "for part %u in the request.",
				       ows__s3_ck_name(m->u.ck), n);
			return OWS_EINVAL;
		}
	}
	for (i = 0; i + 1 < m->n; i++)
		if (m->parts[i].size < OWS_S3_PART_SIZE_MIN) {
			ows_err_printf(m->err, "EntityTooSmall: Your proposed "
				       "upload is smaller than the minimum "
				       "allowed object size. (part %u)",
				       m->parts[i].part);
			return OWS_EINVAL;
		}
	return 0;
}

/* The object's ETag: MD5 of the parts' binary MD5s, "-N". */
static void object_etag(const struct completion *m, char out[48])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char raw[16], sum[16];
	unsigned int len = 0;

	EVP_DigestInit_ex(md, EVP_md5(), NULL);
	for (size_t i = 0; i < m->n; i++) {
		ows_hex_decode(m->parts[i].etag, raw, 16);
		EVP_DigestUpdate(md, raw, 16);
	}
	EVP_DigestFinal_ex(md, sum, &len);
	EVP_MD_CTX_free(md);
	ows_hex_encode(sum, 16, out);
	snprintf(out + 32, 16, "-%zu", m->n);
}

/* The object's checksum into meta.checksum.value (when the upload has
   an algorithm), checked against the one the request sent. */
static int object_checksum(struct completion *m, json_t *meta,
			   const char *sent)
{
	struct ows__s3_part_ck *pc;
	char value[OWS_S3_CK_B64 + 8];
	json_t *ck = json_object_get(meta, "checksum");
	int rv;

	if (m->u.ck == OWS_S3_CK_NONE)
		return 0;
	pc = calloc(m->n, sizeof(*pc));
	if (pc == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		pc[i] = (struct ows__s3_part_ck){m->parts[i].checksum,
						 m->parts[i].size};
	rv = ows__s3_mpu_checksum(m->u.ck, m->u.full_object, pc, m->n, value);
	free(pc);
	if (rv == OWS_EINVAL)
		ows_err_printf(m->err, "InvalidPart: a part's checksum is "
			       "malformed");
	if (rv != 0)
		return rv;
	if (sent != NULL && strcmp(sent, value) != 0) {
		ows_err_printf(m->err, "BadDigest: The %s you specified did "
			       "not match the calculated checksum.",
			       ows__s3_ck_name(m->u.ck));
		return OWS_EINVAL;
	}
	json_object_set_new(ck, "value", json_string(value));
	return 0;
}

/* The object's rows, then the upload's go. */
static int complete_write(struct completion *m, const json_t *spec,
			  json_t *result)
{
	json_t *meta = json_deep_copy(m->u.meta), *blobs = json_array();
	char etag[48];
	uint64_t size = 0;
	int rv = meta && blobs ? 0 : -ENOMEM;

	object_etag(m, etag);
	if (rv == 0)
		rv = object_checksum(m, meta, ows_json_str(spec, "checksum"));
	/* so that a complete sent again finds what it made (multipart.c) */
	if (rv == 0)
		json_object_set_new(meta, "upload_id", json_string(m->u.id));
	for (size_t i = 0; rv == 0 && i < m->n; i++) {
		const struct listed *l = &m->parts[i];
		json_t *b = json_pack("{s:s, s:I, s:s}", "blob", l->blob,
				      "size", (json_int_t)l->size, "etag",
				      l->etag);

		if (b != NULL && l->checksum != NULL)
			json_object_set_new(b, "checksum",
					    json_string(l->checksum));
		if (b == NULL || json_array_append_new(blobs, b) != 0)
			rv = -ENOMEM;
		size += l->size;
	}
	if (rv == 0)
		rv = ows__s3_object_write(m->c, m->bucket, m->u.key,
					  (json_int_t)size, etag,
					  (unsigned)m->n, meta, blobs);
	if (rv == 0)
		rv = run_id(m->c->s, "DELETE FROM s3_parts WHERE upload_id=?",
			    m->u.id);
	if (rv == 0)
		rv = run_id(m->c->s, "DELETE FROM s3_uploads WHERE "
			    "upload_id=?", m->u.id);
	if (rv == 0) {
		json_object_set_new(result, "etag", json_string(etag));
		json_object_set_new(result, "size", json_integer((json_int_t)
								  size));
		json_object_set_new(result, "modified",
				    json_integer(m->c->time_ms));
		if (json_object_get(meta, "checksum") != NULL)
			json_object_set(result, "checksum",
					json_object_get(meta, "checksum"));
	}
	json_decref(meta);
	json_decref(blobs);
	return rv;
}

static int upload_complete(const struct ows_apply_ctx *c, const char *bucket,
			   const json_t *spec, json_t *result,
			   struct ows_err *err)
{
	struct ows_arena a;
	struct completion m = {.c = c, .bucket = bucket, .err = err};
	const json_t *list = json_object_get(spec, "parts");
	int rv;

	ows_arena_init(&a);
	rv = ows__s3_upload_get(c->s, &a, bucket, ows_json_str(spec,
							       "upload_id"),
				&m.u);
	if (rv == OWS_ENOTFOUND)
		ows_err_printf(err, NO_SUCH_UPLOAD);
	if (rv == 0)
		rv = listed_order(list, err);
	if (rv == 0)
		rv = listed_parts(&m, list);
	if (rv == 0)
		rv = ows__s3_object_conditions(c->s, bucket, m.u.key, spec,
					       err);
	if (rv == 0)
		rv = complete_write(&m, spec, result);
	completion_free(&m);
	ows_arena_close(&a);
	return rv;
}

/* ---- uploads.abort ---- */

static int upload_abort(const struct ows_apply_ctx *c, const char *bucket,
			const json_t *spec, struct ows_err *err)
{
	const char *id = ows_json_str(spec, "upload_id");
	int rv = upload_exists(c->s, bucket, id);

	if (rv == OWS_ENOTFOUND)
		ows_err_printf(err, NO_SUCH_UPLOAD);
	if (rv == 0)
		rv = run_id(c->s, "DELETE FROM s3_parts WHERE upload_id=?", id);
	if (rv == 0)
		rv = run_id(c->s, "DELETE FROM s3_uploads WHERE upload_id=?",
			    id);
	return rv;
}

int ows__s3_uploads_apply(const struct ows_apply_ctx *c, const char *verb,
			  const char *name, const json_t *spec,
			  json_t *result, struct ows_err *err)
{
	if (!json_is_object(spec) || ows_json_str(spec, "upload_id") == NULL) {
		ows_err_printf(err, "InvalidRequest: uploads.%s needs an "
			       "upload_id", verb);
		return OWS_EINVAL;
	}
	if (strcmp(verb, "create") == 0)
		return upload_create(c, name, spec, err);
	if (strcmp(verb, "part") == 0)
		return upload_part(c, name, spec, result, err);
	if (strcmp(verb, "complete") == 0)
		return upload_complete(c, name, spec, result, err);
	if (strcmp(verb, "abort") == 0)
		return upload_abort(c, name, spec, err);
	ows_err_printf(err, "unknown action 'uploads.%s'", verb);
	return OWS_EINVAL;
}
