/*
 * ListObjectsV2 and ListObjects (v1), as the S3 API Reference describes
 * them: prefix, delimiter with CommonPrefixes, max-keys (default and cap
 * 1000), continuation-token and start-after (v2), marker and NextMarker
 * (v1: set only with a delimiter, as S3), encoding-type=url and
 * fetch-owner.
 *
 * A listing is one range scan over the primary key (bucket, key) of
 * s3_objects, in byte order (SQLite's BINARY collation is memcmp, which
 * is S3's UTF-8 binary order), never a load of the whole bucket: the
 * scan starts after the marker and stops at the end of the prefix, and
 * each CommonPrefix is rolled up by seeking past everything under it (to
 * the prefix followed by 0xFF, a byte that never occurs in a UTF-8 key),
 * so that a delimited listing over many keys under one prefix stays one
 * row read per prefix. The dispatch (s3.c) has already waited on the
 * read barrier and authorized s3:ListBucket with the s3:prefix,
 * s3:delimiter and s3:max-keys condition keys.
 *
 * A continuation token is opaque to clients: base64 of a version byte,
 * the position to continue after and 8 bytes of SHA-256 over the bucket
 * and that position, so that a token that was altered or made for
 * another bucket is refused (InvalidArgument) instead of listing from
 * somewhere unexpected. It needs no secret: the position it carries is
 * one a client may ask for with start-after anyway.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "s3/s3_list.h"
#include "state/state.h"

#define TOKEN_VERSION 1
#define TOKEN_MAC 8

/* ---- pure helpers (s3_list.h) ---- */

void ows__s3_url_encode(struct ows_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~' || ch == '/') {
			ows_buf_append(b, s, 1);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};

			ows_buf_append(b, e, 3);
		}
	}
}

static void token_mac(const char *bucket, const char *pos, size_t n,
		      uint8_t out[32])
{
	struct ows_buf b = OWS_BUF_INIT;

	ows_buf_puts(&b, "ows-s3-list-v1");
	ows_buf_append(&b, "", 1);
	ows_buf_puts(&b, bucket);
	ows_buf_append(&b, "", 1);
	ows_buf_append(&b, pos, n);
	ows_sha256(b.data ? b.data : "", b.len, out);
	ows_buf_free(&b);
}

char *ows__s3_token_make(struct ows_arena *arena, const char *bucket,
			 const char *pos)
{
	size_t n = strlen(pos), len = 1 + n + TOKEN_MAC;
	uint8_t *raw = ows_arena_alloc(arena, len), mac[32];
	char *out = ows_arena_alloc(arena, (len + 2) / 3 * 4 + 1);

	if (raw == NULL || out == NULL)
		return NULL;
	raw[0] = TOKEN_VERSION;
	memcpy(raw + 1, pos, n);
	token_mac(bucket, pos, n, mac);
	memcpy(raw + 1 + n, mac, TOKEN_MAC);
	ows_b64_encode(raw, len, out);
	return out;
}

int ows__s3_token_read(struct ows_arena *arena, const char *bucket,
		       const char *token, char **pos)
{
	size_t tl = strlen(token), cap = tl / 4 * 3 + 3;
	uint8_t *raw = ows_arena_alloc(arena, cap + 1), mac[32];
	long n;

	if (raw == NULL)
		return -ENOMEM;
	n = tl > 0 ? ows_b64_decode_n(token, tl, raw, cap) : -1;
	if (n < 1 + TOKEN_MAC || raw[0] != TOKEN_VERSION ||
	    n - 1 - TOKEN_MAC > OWS_S3_KEY_MAX + 1)
		return OWS_EINVAL;
	n -= 1 + TOKEN_MAC;
	token_mac(bucket, (const char *)raw + 1, (size_t)n, mac);
	if (!ows_ct_equal(mac, raw + 1 + n, TOKEN_MAC) ||
	    memchr(raw + 1, '\0', (size_t)n) != NULL)
		return OWS_EINVAL;
	raw[1 + n] = '\0';
	*pos = (char *)raw + 1;
	return 0;
}

/* ---- the scan ---- */

/* s with 0xFF appended: the first position past everything under s. */
static char *past(struct ows_arena *arena, const char *s)
{
	return ows_arena_printf(arena, "%s\xff", s);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* (Re)start the statement at keys > after (and >= prefix). */
static int seek(sqlite3_stmt *st, const struct ows__s3_list_q *q,
		const char *after)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, q->bucket, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, after, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, q->prefix, -1, SQLITE_TRANSIENT);
	return 0;
}

static int add_entry(struct ows_arena *arena, struct ows__s3_list_res *res,
		     sqlite3_stmt *st)
{
	struct ows__s3_list_entry *e;
	const char *ck = (const char *)sqlite3_column_text(st, 4);
	const char *ct = (const char *)sqlite3_column_text(st, 5);

	e = ows_arena_alloc(arena, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->key = ows_arena_strdup(arena,
				  (const char *)sqlite3_column_text(st, 0));
	e->size = (uint64_t)sqlite3_column_int64(st, 1);
	e->etag = ows_arena_strdup(arena,
				   (const char *)sqlite3_column_text(st, 2));
	e->modified = sqlite3_column_int64(st, 3);
	e->checksum = ck ? ows_arena_strdup(arena, ck) : NULL;
	e->checksum_type = ct ? ows_arena_strdup(arena, ct) : NULL;
	if (e->key == NULL || e->etag == NULL)
		return -ENOMEM;
	*res->tail = e;
	res->tail = &e->next;
	res->last_entry = e;
	return 0;
}

static int add_prefix(struct ows_arena *arena, struct ows__s3_list_res *res,
		      const char *cp)
{
	struct ows__s3_list_entry *e = ows_arena_alloc(arena, sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->key = cp;
	e->prefix = true;
	*res->tail = e;
	res->tail = &e->next;
	return 0;
}

/*
 * The common prefix of key (prefix + up to and including the first
 * delimiter after it), or NULL when key rolls into none.
 */
static char *rollup(struct ows_arena *arena, const struct ows__s3_list_q *q,
		    const char *key, bool *nomem)
{
	const char *d;
	size_t pl = strlen(q->prefix);

	*nomem = false;
	if (q->delimiter == NULL || q->delimiter[0] == '\0')
		return NULL;
	d = strstr(key + pl, q->delimiter);
	if (d == NULL)
		return NULL;
	d += strlen(q->delimiter);
	{
		char *cp = ows_arena_strndup(arena, key, (size_t)(d - key));

		*nomem = cp == NULL;
		return cp;
	}
}

/* One step of the scan: 1 with the next key (row) or CommonPrefix (*cp),
   0 at the end of the range. */
static int next_item(sqlite3_stmt *st, const struct ows__s3_list_q *q,
		     struct ows_arena *arena, const char **after, char **cp,
		     unsigned *rows)
{
	for (;;) {
		const char *key;
		bool nomem;
		int rc = sqlite3_step(st);

		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return -EIO;
		(*rows)++;
		key = (const char *)sqlite3_column_text(st, 0);
		if (key == NULL || !starts(key, q->prefix))
			return 0; /* past the prefix: the range ends */
		*cp = rollup(arena, q, key, &nomem);
		if (nomem)
			return -ENOMEM;
		if (*cp == NULL)
			return 1;
		/*
		 * A common prefix at or before the position continued from
		 * was returned by an earlier page (v1's NextMarker is the
		 * prefix itself): skip what lies under it.
		 */
		if (strcmp(*cp, *after) > 0)
			return 1;
		*after = past(arena, *cp);
		if (*after == NULL)
			return -ENOMEM;
		seek(st, q, *after);
	}
}

int ows__s3_list_scan(struct ows_state *s, struct ows_arena *arena,
		      const struct ows__s3_list_q *q,
		      struct ows__s3_list_res *res)
{
	sqlite3_stmt *st;
	const char *after = q->after ? q->after : "";
	char *cp;
	int rv = 0;

	memset(res, 0, sizeof(*res));
	res->tail = &res->first;
	if (ows_state_prepare(s, OWS_S3_LIST_SQL, &st) != 0)
		return -EIO;
	seek(st, q, after);
	while (res->count < q->max_keys) {
		rv = next_item(st, q, arena, &after, &cp, &res->rows);
		if (rv <= 0)
			break;
		if (cp != NULL) {
			rv = add_prefix(arena, res, cp);
			res->last = cp;
			after = past(arena, cp);
			if (after == NULL)
				rv = -ENOMEM;
			if (rv == 0)
				seek(st, q, after);
		} else {
			rv = add_entry(arena, res, st);
			if (rv == 0)
				res->last = after = res->last_entry->key;
		}
		if (rv != 0)
			break;
		res->count++;
	}
	/* one more item means the listing is truncated */
	if (rv >= 0 && res->count == q->max_keys && q->max_keys > 0) {
		rv = next_item(st, q, arena, &after, &cp, &res->rows);
		res->truncated = rv == 1;
		rv = rv < 0 ? rv : 0;
	}
	sqlite3_finalize(st);
	return rv < 0 ? rv : 0;
}

/* ---- the operation ---- */

struct listing {
	bool v2, url, owner;
	char *prefix, *delimiter, *marker, *start_after, *token;
	unsigned max_keys;
	struct ows__s3_list_q q;
	struct ows__s3_list_res res;
};

/* A query parameter (percent-decoded, arena) or NULL when absent. */
static char *param(struct ows__s3_req *r, const char *name)
{
	char *v = ows_arena_alloc(r->c->arena, 4 * OWS_S3_KEY_MAX + 1);

	if (v == NULL || !ows__s3_query(r, name, v, 4 * OWS_S3_KEY_MAX + 1))
		return NULL;
	return v;
}

/* max-keys: 0 and *out, or OWS_EINVAL. */
static int max_keys_of(const char *v, unsigned *out)
{
	char *end;
	long long n;

	*out = OWS_S3_LIST_MAX;
	if (v == NULL)
		return 0;
	if (v[0] < '0' || v[0] > '9')
		return OWS_EINVAL;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > INT_MAX)
		return OWS_EINVAL;
	*out = n > OWS_S3_LIST_MAX ? OWS_S3_LIST_MAX : (unsigned)n;
	return 0;
}

/* Parse the query into l: false once an error was answered. */
static bool parse(struct ows__s3_req *r, struct listing *l)
{
	char *enc = param(r, "encoding-type"), *fo;

	l->v2 = r->id == OWS_S3_LIST_OBJECTS_V2;
	l->prefix = param(r, "prefix");
	l->delimiter = param(r, "delimiter");
	if (max_keys_of(param(r, "max-keys"), &l->max_keys) != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Provided max-keys "
			      "not an integer or within integer range");
		return false;
	}
	if (enc != NULL && strcmp(enc, "url") != 0) {
		ows__s3_error(r, 400, "InvalidArgument", "Invalid Encoding "
			      "Method specified in Request");
		return false;
	}
	l->url = enc != NULL;
	if (!l->v2) {
		l->marker = param(r, "marker");
		l->owner = true; /* v1 lists owners always */
		l->q.after = l->marker;
	} else {
		fo = param(r, "fetch-owner");
		l->owner = fo != NULL && strcmp(fo, "true") == 0;
		l->start_after = param(r, "start-after");
		l->token = param(r, "continuation-token");
		l->q.after = l->start_after;
		if (l->token != NULL &&
		    ows__s3_token_read(r->c->arena, r->bucket, l->token,
				       (char **)&l->q.after) != 0) {
			ows__s3_error(r, 400, "InvalidArgument", "The "
				      "continuation token provided is "
				      "incorrect");
			return false;
		}
	}
	l->q.bucket = r->bucket;
	l->q.prefix = l->prefix ? l->prefix : "";
	l->q.delimiter = l->delimiter;
	l->q.max_keys = l->max_keys;
	return true;
}

/* <name>text</name>, URL-encoded when l->url. */
static void elem(struct ows_buf *b, const struct listing *l,
		 const char *name, const char *text)
{
	struct ows_buf enc = OWS_BUF_INIT;

	if (!l->url) {
		ows__s3_xml_elem(b, name, text);
		return;
	}
	ows__s3_url_encode(&enc, text);
	ows_buf_append(&enc, "", 1);
	ows__s3_xml_elem(b, name, enc.data ? enc.data : "");
	ows_buf_free(&enc);
}

static void owner_xml(struct ows__s3_req *r, struct ows_buf *b)
{
	char id[65];

	ows_sha256_hex(r->c->host->account, strlen(r->c->host->account), id);
	ows_buf_puts(b, "<Owner>");
	ows__s3_xml_elem(b, "ID", id);
	ows__s3_xml_elem(b, "DisplayName", "ows");
	ows_buf_puts(b, "</Owner>");
}

static void contents_xml(struct ows__s3_req *r, struct ows_buf *b,
			 const struct listing *l,
			 const struct ows__s3_list_entry *e)
{
	char date[32];

	ows__s3_iso_date(e->modified, date);
	ows_buf_puts(b, "<Contents>");
	elem(b, l, "Key", e->key);
	ows__s3_xml_elem(b, "LastModified", date);
	ows_buf_puts(b, "<ETag>&quot;");
	ows__s3_xml_esc(b, e->etag);
	ows_buf_puts(b, "&quot;</ETag>");
	if (e->checksum != NULL) {
		ows__s3_xml_elem(b, "ChecksumAlgorithm", e->checksum);
		ows__s3_xml_elem(b, "ChecksumType", e->checksum_type
				 ? e->checksum_type : "FULL_OBJECT");
	}
	ows_buf_printf(b, "<Size>%llu</Size>", (unsigned long long)e->size);
	if (l->owner)
		owner_xml(r, b);
	ows_buf_puts(b, "<StorageClass>STANDARD</StorageClass></Contents>");
}

static void head_xml(struct ows__s3_req *r, struct ows_buf *b,
		     const struct listing *l)
{
	const struct ows__s3_list_res *res = &l->res;

	ows__s3_xml_open(b, "ListBucketResult");
	ows__s3_xml_elem(b, "Name", r->bucket);
	elem(b, l, "Prefix", l->prefix ? l->prefix : "");
	if (!l->v2) {
		elem(b, l, "Marker", l->marker ? l->marker : "");
		/* S3 sets NextMarker only with a delimiter; without one
		   clients continue from the last key */
		if (res->truncated && l->delimiter && l->delimiter[0])
			elem(b, l, "NextMarker", res->last);
	} else {
		if (l->token != NULL)
			ows__s3_xml_elem(b, "ContinuationToken", l->token);
		if (l->start_after != NULL)
			elem(b, l, "StartAfter", l->start_after);
		if (res->truncated)
			ows__s3_xml_elem(b, "NextContinuationToken",
					 ows__s3_token_make(r->c->arena,
							    r->bucket,
							    res->last));
		ows_buf_printf(b, "<KeyCount>%u</KeyCount>", res->count);
	}
	ows_buf_printf(b, "<MaxKeys>%u</MaxKeys>", l->max_keys);
	if (l->delimiter != NULL && l->delimiter[0])
		elem(b, l, "Delimiter", l->delimiter);
	if (l->url)
		ows__s3_xml_elem(b, "EncodingType", "url");
	ows_buf_printf(b, "<IsTruncated>%s</IsTruncated>",
		       res->truncated ? "true" : "false");
}

void ows__s3_list_objects(struct ows__s3_req *r)
{
	struct listing *l = ows_arena_alloc(r->c->arena, sizeof(*l));
	struct ows_buf b = OWS_BUF_INIT;
	const struct ows__s3_list_entry *e;
	int rv;

	if (l == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(l, 0, sizeof(*l));
	if (!parse(r, l))
		return;
	rv = ows__s3_list_scan(r->c->host->state, r->c->arena, &l->q,
			       &l->res);
	if (rv != 0) {
		ows__s3_internal(r, rv);
		return;
	}
	head_xml(r, &b, l);
	for (e = l->res.first; e != NULL; e = e->next)
		if (!e->prefix)
			contents_xml(r, &b, l, e);
	for (e = l->res.first; e != NULL; e = e->next) {
		if (!e->prefix)
			continue;
		ows_buf_puts(&b, "<CommonPrefixes>");
		elem(&b, l, "Prefix", e->key);
		ows_buf_puts(&b, "</CommonPrefixes>");
	}
	ows_buf_puts(&b, "</ListBucketResult>");
	ows__s3_reply_xml(r, &b);
}
