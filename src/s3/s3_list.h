/*
 * The listing scan of ListObjects / ListObjectsV2 (list.c) and its pure
 * helpers, apart from the handler so that unit tests can drive the scan
 * over a state directly: pagination, CommonPrefixes rollup, the
 * continuation token and encoding-type=url.
 */
#ifndef OWS_S3_S3_LIST_H
#define OWS_S3_S3_LIST_H

#include "s3/s3_priv.h"

#define OWS_S3_LIST_MAX 1000 /* max-keys: default and cap */

/*
 * The scan: keys of bucket ?1 after ?2 and from prefix ?3 on, in key
 * order, over the primary key (bucket, key) of s3_objects (a range
 * search, no sort: the unit tests check SQLite's plan).
 */
#define OWS_S3_LIST_SQL \
	"SELECT key, size, etag, modified, " \
	"json_extract(meta, '$.checksum.algorithm'), " \
	"json_extract(meta, '$.checksum.type') " \
	"FROM s3_objects WHERE bucket=?1 AND key>?2 AND key>=?3 ORDER BY key"

/* What to list (all borrowed). */
struct ows__s3_list_q {
	const char *bucket;
	const char *prefix;    /* "" for none */
	const char *delimiter; /* NULL or "" for none */
	const char *after;     /* list keys strictly after this; NULL: all */
	unsigned max_keys;     /* keys and CommonPrefixes together */
};

/* One item: an object (prefix false) or a CommonPrefix (key). */
struct ows__s3_list_entry {
	struct ows__s3_list_entry *next;
	bool prefix;
	const char *key;
	uint64_t size;
	const char *etag;          /* unquoted */
	int64_t modified;          /* ms */
	const char *checksum;      /* "CRC32"... or NULL */
	const char *checksum_type; /* "FULL_OBJECT"... or NULL */
};

/* The page (entries in the arena, in key order). */
struct ows__s3_list_res {
	struct ows__s3_list_entry *first, **tail, *last_entry;
	unsigned count;     /* items on the page */
	bool truncated;     /* more items follow */
	const char *last;   /* the last item's key or CommonPrefix */
	unsigned rows;      /* rows the scan read (tests: a rollup skips) */
};

/*
 * List q over state s into res (arena): one range scan of s3_objects in
 * byte order, each CommonPrefix rolled up by seeking past it; a
 * CommonPrefix not after q->after is skipped (it was on an earlier
 * page). 0, -EIO or -ENOMEM.
 */
int ows__s3_list_scan(struct ows_state *s, struct ows_arena *arena,
		      const struct ows__s3_list_q *q,
		      struct ows__s3_list_res *res);

/* A continuation token for bucket continuing after pos (arena), or NULL. */
char *ows__s3_token_make(struct ows_arena *arena, const char *bucket,
			 const char *pos);
/*
 * The position of token for bucket into *pos (arena): 0, OWS_EINVAL for
 * a token that is not one of ours for this bucket, or -ENOMEM.
 */
int ows__s3_token_read(struct ows_arena *arena, const char *bucket,
		       const char *token, char **pos);

/*
 * Append s URL-encoded as S3's encoding-type=url gives keys: every byte
 * but the unreserved ones (A-Z a-z 0-9 - _ . ~) and '/' as %XX.
 */
void ows__s3_url_encode(struct ows_buf *b, const char *s);

#endif
