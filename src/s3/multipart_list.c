/*
 * The listings of multipart uploads (S3 API Reference): ListParts of one
 * upload (max-parts, part-number-marker, NextPartNumberMarker,
 * IsTruncated) and ListMultipartUploads of a bucket (prefix, delimiter
 * with CommonPrefixes, key-marker, upload-id-marker, max-uploads,
 * encoding-type=url), both read from the local state after the read
 * barrier (s3.c), a page at a time from SQLite.
 *
 * Uploads are listed by key, then by the time they were initiated (then
 * by id, for uploads of one key made in the same millisecond); the
 * upload-id-marker resumes after that upload of key-marker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "s3/multipart.h"
#include "state/state.h"

#define LIST_MAX 1000

/* The owner and initiator every listing shows (buckets.c's owner). */
static void person_xml(struct ows__s3_req *r, struct ows_buf *b,
		       const char *tag, const char *who)
{
	char id[65];

	ows_sha256_hex(r->c->host->account, strlen(r->c->host->account), id);
	ows_buf_printf(b, "<%s>", tag);
	ows__s3_xml_elem(b, "ID", who && strncmp(who, "users/", 6) == 0
			 ? ows_arena_printf(r->c->arena, "arn:aws:iam::%s:user/%s",
					    r->c->host->account, who + 6)
			 : id);
	ows__s3_xml_elem(b, "DisplayName", who && strchr(who, '/')
			 ? strchr(who, '/') + 1 : "ows");
	ows_buf_printf(b, "</%s>", tag);
}

/* max-parts / max-uploads: a number 0..1000 (more is 1000), or answered
   InvalidArgument and false. */
static bool max_of(struct ows__s3_req *r, const char *name, long *out)
{
	char v[24], *end;
	long n;

	*out = LIST_MAX;
	if (!ows__s3_query(r, name, v, sizeof(v)))
		return true;
	n = strtol(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || n < 0 || v[0] == '-') {
		ows__s3_error(r, 400, "InvalidArgument", "Provided %s not an "
			      "integer or within integer range", name);
		return false;
	}
	*out = n > LIST_MAX ? LIST_MAX : n;
	return true;
}

/* ---- ListParts ---- */

static void part_xml(struct ows__s3_req *r, struct ows_buf *b,
		     sqlite3_stmt *st, enum ows__s3_ck_alg alg)
{
	const char *ck = (const char *)sqlite3_column_text(st, 3);
	char date[32], name[24];

	ows__s3_iso_date(sqlite3_column_int64(st, 4), date);
	ows_buf_puts(b, "<Part>");
	ows_buf_printf(b, "<PartNumber>%d</PartNumber>",
		       sqlite3_column_int(st, 0));
	ows__s3_xml_elem(b, "LastModified", date);
	ows__s3_xml_elem(b, "ETag", ows_arena_printf(r->c->arena, "\"%s\"",
		(const char *)sqlite3_column_text(st, 2)));
	ows_buf_printf(b, "<Size>%lld</Size>",
		       (long long)sqlite3_column_int64(st, 1));
	if (ck != NULL && alg != OWS_S3_CK_NONE) {
		snprintf(name, sizeof(name), "Checksum%s", ows__s3_ck_name(alg));
		ows__s3_xml_elem(b, name, ck);
	}
	ows_buf_puts(b, "</Part>");
}

/* The parts after marker, at most max of them, into b: the number
   written, *next the last one's number, *more whether any follow; < 0
   on failure. */
static int parts_page(struct ows__s3_req *r, struct ows_buf *b,
		      const struct ows__s3_upload *u, long marker, long max,
		      long *next, bool *more)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	*more = false;
	if (ows_state_prepare(r->c->host->state, "SELECT part, size, etag, "
			      "checksum, modified FROM s3_parts WHERE "
			      "upload_id=? AND part>? ORDER BY part LIMIT ?",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, marker);
	sqlite3_bind_int64(st, 3, max + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == max) {
			*more = true;
			break;
		}
		part_xml(r, b, st, u->ck);
		*next = sqlite3_column_int(st, 0);
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -EIO;
}

void ows__s3_mpu_list_parts(struct ows__s3_req *r)
{
	struct ows__s3_upload u;
	struct ows_buf b = OWS_BUF_INIT, parts = OWS_BUF_INIT;
	char v[24], *end;
	long marker = 0, max, next = 0;
	bool more;
	int n;

	if (!max_of(r, "max-parts", &max))
		return;
	if (ows__s3_query(r, "part-number-marker", v, sizeof(v)) && v[0]) {
		marker = strtol(v, &end, 10);
		if (*end != '\0' || marker < 0) {
			ows__s3_error(r, 400, "InvalidArgument", "Provided "
				      "part-number-marker not an integer or "
				      "within integer range");
			return;
		}
	}
	if (!ows__s3_mpu_upload_of(r, &u))
		return;
	next = marker;
	n = parts_page(r, &parts, &u, marker, max, &next, &more);
	if (n < 0) {
		json_decref(u.meta);
		ows_buf_free(&parts);
		ows__s3_internal(r, n);
		return;
	}
	ows__s3_xml_open(&b, "ListPartsResult");
	ows__s3_xml_elem(&b, "Bucket", r->bucket);
	ows__s3_xml_elem(&b, "Key", r->key);
	ows__s3_xml_elem(&b, "UploadId", u.id);
	person_xml(r, &b, "Initiator", u.initiator);
	person_xml(r, &b, "Owner", u.initiator);
	ows__s3_xml_elem(&b, "StorageClass", "STANDARD");
	ows_buf_printf(&b, "<PartNumberMarker>%ld</PartNumberMarker>"
		       "<NextPartNumberMarker>%ld</NextPartNumberMarker>"
		       "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>",
		       marker, next, max, more ? "true" : "false");
	if (u.ck != OWS_S3_CK_NONE) {
		ows__s3_xml_elem(&b, "ChecksumAlgorithm", ows__s3_ck_name(u.ck));
		ows__s3_xml_elem(&b, "ChecksumType", u.full_object
				 ? "FULL_OBJECT" : "COMPOSITE");
	}
	if (parts.len > 0)
		ows_buf_append(&b, parts.data, parts.len);
	ows_buf_puts(&b, "</ListPartsResult>");
	ows_buf_free(&parts);
	json_decref(u.meta);
	ows__s3_reply_xml(r, &b);
}

/* ---- ListMultipartUploads ---- */

struct ulist {
	struct ows__s3_req *r;
	char *prefix, *delimiter, *key_marker, *id_marker;
	bool url;               /* encoding-type=url */
	long max, n;
	bool more;
	char *next_key, *next_id; /* arena */
	struct ows_buf items;
};

/* A key as the listing shows it (URL-encoded with encoding-type=url). */
static void key_elem(struct ulist *l, struct ows_buf *b, const char *tag,
		     const char *key)
{
	if (!l->url) {
		ows__s3_xml_elem(b, tag, key);
		return;
	}
	ows_buf_printf(b, "<%s>", tag);
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~/", *p))
			ows_buf_append(b, p, 1);
		else
			ows_buf_printf(b, "%%%02X", *p);
	}
	ows_buf_printf(b, "</%s>", tag);
}

static void upload_xml(struct ulist *l, sqlite3_stmt *st)
{
	struct ows__s3_req *r = l->r;
	const char *key = (const char *)sqlite3_column_text(st, 0);
	json_t *meta = ows_json_loads(
		(const char *)sqlite3_column_text(st, 3), 0, NULL);
	const char *alg = ows_json_str(json_object_get(meta, "checksum"),
				       "algorithm");
	char date[32];

	ows__s3_iso_date(sqlite3_column_int64(st, 2), date);
	ows_buf_puts(&l->items, "<Upload>");
	key_elem(l, &l->items, "Key", key);
	ows__s3_xml_elem(&l->items, "UploadId",
			 (const char *)sqlite3_column_text(st, 1));
	person_xml(r, &l->items, "Initiator",
		   (const char *)sqlite3_column_text(st, 4));
	person_xml(r, &l->items, "Owner",
		   (const char *)sqlite3_column_text(st, 4));
	ows__s3_xml_elem(&l->items, "StorageClass", "STANDARD");
	ows__s3_xml_elem(&l->items, "Initiated", date);
	if (alg != NULL)
		ows__s3_xml_elem(&l->items, "ChecksumAlgorithm", alg);
	ows_buf_puts(&l->items, "</Upload>");
	json_decref(meta);
}

/*
 * The uploads from the marker on: a statement over (key, initiated,
 * upload_id) order, resuming after the marker's upload when it names
 * one, else after every upload of key-marker.
 */
static int uploads_stmt(struct ulist *l, const char *from_key,
			bool after_key, const char *resume_id, sqlite3_stmt **st)
{
	struct ows_state *s = l->r->c->host->state;
	sqlite3_stmt *q;
	int64_t init = 0;
	bool resume = false;

	if (resume_id[0]) {
		if (ows_state_prepare(s, "SELECT initiated FROM s3_uploads "
				      "WHERE upload_id=? AND bucket=? AND key=?",
				      &q) != 0)
			return -EIO;
		sqlite3_bind_text(q, 1, resume_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, l->r->bucket, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, from_key, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			init = sqlite3_column_int64(q, 0);
			resume = true;
		}
		sqlite3_finalize(q);
	}
	if (ows_state_prepare(s, resume
		? "SELECT key, upload_id, initiated, meta, initiator FROM "
		  "s3_uploads WHERE bucket=?1 AND (key>?2 OR (key=?2 AND "
		  "(initiated>?3 OR (initiated=?3 AND upload_id>?4)))) "
		  "ORDER BY key, initiated, upload_id"
		: after_key
		? "SELECT key, upload_id, initiated, meta, initiator FROM "
		  "s3_uploads WHERE bucket=?1 AND key>?2 "
		  "ORDER BY key, initiated, upload_id"
		: "SELECT key, upload_id, initiated, meta, initiator FROM "
		  "s3_uploads WHERE bucket=?1 AND key>=?2 "
		  "ORDER BY key, initiated, upload_id", st) != 0)
		return -EIO;
	sqlite3_bind_text(*st, 1, l->r->bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, from_key, -1, SQLITE_TRANSIENT);
	if (resume) {
		sqlite3_bind_int64(*st, 3, init);
		sqlite3_bind_text(*st, 4, resume_id, -1, SQLITE_STATIC);
	}
	return 0;
}

/* The common prefix of key under the delimiter, or NULL. */
static char *common_prefix(struct ulist *l, const char *key)
{
	size_t pl = strlen(l->prefix);
	const char *d;

	if (l->delimiter[0] == '\0')
		return NULL;
	d = strstr(key + pl, l->delimiter);
	if (d == NULL)
		return NULL;
	return ows_arena_strndup(l->r->c->arena, key,
				 (size_t)(d - key) + strlen(l->delimiter));
}

/* One entry counted against max-uploads: false when the page is full
   (then it is where the next page starts). */
static bool take(struct ulist *l)
{
	if (l->n == l->max) {
		l->more = true;
		return false;
	}
	l->n++;
	return true;
}

/* The page of uploads (and common prefixes) into l->items. */
static int uploads_page(struct ulist *l, struct ows_buf *prefixes)
{
	size_t pl = strlen(l->prefix);
	bool marked = l->key_marker[0] && strcmp(l->key_marker,
						 l->prefix) >= 0;
	const char *from = marked ? l->key_marker : l->prefix;
	const char *resume = marked ? l->id_marker : "";
	/* without an upload-id-marker, key-marker's own uploads are past */
	bool after = marked && !l->id_marker[0];
	sqlite3_stmt *st;
	int rc, rv;

again:
	if ((rv = uploads_stmt(l, from, after, resume, &st)) != 0)
		return rv;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		char *cp;

		if (strncmp(key, l->prefix, pl) != 0)
			break; /* sorted: past every key of the prefix */
		cp = common_prefix(l, key);
		if (cp != NULL) {
			if (!take(l))
				break;
			ows_buf_puts(prefixes, "<CommonPrefixes>");
			key_elem(l, prefixes, "Prefix", cp);
			ows_buf_puts(prefixes, "</CommonPrefixes>");
			l->next_key = cp;
			l->next_id = "";
			/* on after the prefix's keys: no UTF-8 byte is 0xff */
			sqlite3_finalize(st);
			from = ows_arena_printf(l->r->c->arena, "%s\xff", cp);
			after = true;
			resume = "";
			goto again;
		}
		if (!take(l))
			break;
		upload_xml(l, st);
		l->next_key = ows_arena_strdup(l->r->c->arena, key);
		l->next_id = ows_arena_strdup(l->r->c->arena, (const char *)
					      sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static char *param(struct ows__s3_req *r, const char *name, size_t cap)
{
	char *v = ows_arena_alloc(r->c->arena, cap);

	if (v != NULL && !ows__s3_query(r, name, v, cap))
		v[0] = '\0';
	return v;
}

static void uploads_reply(struct ulist *l, struct ows_buf *prefixes)
{
	struct ows__s3_req *r = l->r;
	struct ows_buf b = OWS_BUF_INIT;

	ows__s3_xml_open(&b, "ListMultipartUploadsResult");
	ows__s3_xml_elem(&b, "Bucket", r->bucket);
	key_elem(l, &b, "KeyMarker", l->key_marker);
	ows__s3_xml_elem(&b, "UploadIdMarker", l->id_marker);
	if (l->more) {
		key_elem(l, &b, "NextKeyMarker", l->next_key ? l->next_key
							     : "");
		ows__s3_xml_elem(&b, "NextUploadIdMarker", l->next_id
				 ? l->next_id : "");
	}
	if (l->delimiter[0])
		key_elem(l, &b, "Delimiter", l->delimiter);
	key_elem(l, &b, "Prefix", l->prefix);
	ows_buf_printf(&b, "<MaxUploads>%ld</MaxUploads>"
		       "<IsTruncated>%s</IsTruncated>", l->max,
		       l->more ? "true" : "false");
	if (l->url)
		ows__s3_xml_elem(&b, "EncodingType", "url");
	if (l->items.len > 0)
		ows_buf_append(&b, l->items.data, l->items.len);
	if (prefixes->len > 0)
		ows_buf_append(&b, prefixes->data, prefixes->len);
	ows_buf_puts(&b, "</ListMultipartUploadsResult>");
	ows__s3_reply_xml(r, &b);
}

void ows__s3_mpu_list_uploads(struct ows__s3_req *r)
{
	struct ulist l = {.r = r};
	struct ows_buf prefixes = OWS_BUF_INIT;
	char enc[16];
	int rv;

	l.prefix = param(r, "prefix", OWS_S3_KEY_MAX + 1);
	l.delimiter = param(r, "delimiter", OWS_S3_KEY_MAX + 1);
	l.key_marker = param(r, "key-marker", OWS_S3_KEY_MAX + 1);
	l.id_marker = param(r, "upload-id-marker", OWS_S3_UPLOAD_ID_LEN + 8);
	if (l.prefix == NULL || l.delimiter == NULL || l.key_marker == NULL ||
	    l.id_marker == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	if (ows__s3_query(r, "encoding-type", enc, sizeof(enc))) {
		if (strcmp(enc, "url") != 0) {
			ows__s3_error(r, 400, "InvalidArgument", "Invalid "
				      "Encoding Method specified in Request");
			return;
		}
		l.url = true;
	}
	if (!max_of(r, "max-uploads", &l.max))
		return;
	if (l.key_marker[0] == '\0')
		l.id_marker[0] = '\0'; /* ignored without key-marker (S3) */
	ows_buf_init(&l.items);
	rv = l.max > 0 ? uploads_page(&l, &prefixes) : 0;
	if (rv != 0) {
		ows_buf_free(&l.items);
		ows_buf_free(&prefixes);
		ows__s3_internal(r, rv);
		return;
	}
	uploads_reply(&l, &prefixes);
	ows_buf_free(&l.items);
	ows_buf_free(&prefixes);
}
