/*
 * ListObjectsV2 and ListObjects (src/s3/list.c) against the fake host:
 * pagination with continuation tokens and markers, CommonPrefixes rolled
 * up by seeking (counted in rows read), tampered tokens, encoding-type=url
 * and the argument errors S3 gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/unit.h"
#include "common/arena.h"
#include "fake_host.h"
#include "s3/s3.h"
#include "s3/s3_list.h"

#define CHECK OWS_CHECK
#define CHECK_INT OWS_CHECK_INT
#define CHECK_STR OWS_CHECK_STR

#define EMPTY_MD5 "d41d8cd98f00b204e9800998ecf8427e"

static void put_key(struct fake_host *fh, const char *bucket, const char *key)
{
	json_t *spec = json_pack("{s:s, s:i, s:s, s:{}, s:[]}", "key", key,
				 "size", 0, "etag", EMPTY_MD5, "meta",
				 "blobs");
	char *text = json_dumps(spec, 0);

	fake_host_put(fh, "objects.put", bucket, text);
	free(text);
	json_decref(spec);
}

static void setup(struct fake_host *fh)
{
	fake_host_init(fh, &ows_s3_service, NULL);
	fake_host_put(fh, "buckets.put", "bkt", "{}");
	fake_host_put(fh, "buckets.put", "other", "{}");
}

static void get(struct fake_host *fh, const char *target, struct fake_reply *r)
{
	fake_reply_free(r);
	fake_host_request(fh, "GET", target, NULL, r);
}

/* The text of the n-th <name>...</name> of xml (malloc'd), or NULL. */
static char *nth(const char *xml, const char *name, int n)
{
	char open[64], close[64];
	const char *a = xml, *b;

	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	for (int i = 0; i <= n; i++) {
		if (a == NULL || (a = strstr(a, open)) == NULL)
			return NULL;
		a += strlen(open);
	}
	b = strstr(a, close);
	return b ? strndup(a, (size_t)(b - a)) : NULL;
}

static int count(const char *xml, const char *name)
{
	char open[64];
	int n = 0;

	snprintf(open, sizeof(open), "<%s>", name);
	for (const char *p = xml; p && (p = strstr(p, open)); p++)
		n++;
	return n;
}

static void check_elem(const char *xml, const char *name, int n,
		       const char *want)
{
	char *v = nth(xml, name, n);

	if (want == NULL) {
		CHECK(v == NULL);
		return;
	}
	CHECK(v != NULL);
	CHECK_STR(v, want);
	free(v);
}

OWS_TEST(s3_list_v2_pages_with_tokens)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char key[32], target[512], *token = NULL;
	int seen = 0, pages = 0;

	setup(&fh);
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		put_key(&fh, "bkt", key);
	}
	put_key(&fh, "other", "k05"); /* another bucket's keys stay out */
	for (;;) {
		if (token)
			snprintf(target, sizeof(target), "/bkt?list-type=2&"
				 "max-keys=10&continuation-token=%s", token);
		else
			snprintf(target, sizeof(target),
				 "/bkt?list-type=2&max-keys=10");
		free(token);
		get(&fh, target, &r);
		CHECK_INT(r.status, 200);
		for (int i = 0; i < count(r.raw, "Key"); i++) {
			snprintf(key, sizeof(key), "k%02d", seen++);
			check_elem(r.raw, "Key", i, key);
		}
		check_elem(r.raw, "MaxKeys", 0, "10");
		check_elem(r.raw, "StorageClass", 0, "STANDARD");
		check_elem(r.raw, "ETag", 0, "&quot;" EMPTY_MD5 "&quot;");
		if (pages == 0) /* k00 was the third entry: 2 s in */
			check_elem(r.raw, "LastModified", 0,
				   "2024-01-01T00:00:02.000Z");
		CHECK(strstr(r.raw, "<Owner>") == NULL); /* no fetch-owner */
		pages++;
		token = nth(r.raw, "NextContinuationToken", 0);
		if (pages < 3) {
			check_elem(r.raw, "KeyCount", 0, "10");
			check_elem(r.raw, "IsTruncated", 0, "true");
			CHECK(token != NULL);
			/* base64 in a query: + / = percent-encoded */
			for (char *p = token; *p; p++)
				CHECK(*p != '&');
			{
				char *enc = malloc(strlen(token) * 3 + 1), *o = enc;

				for (char *p = token; *p; p++)
					o += *p == '+' || *p == '/' || *p == '='
						     ? sprintf(o, "%%%02X", *p)
						     : sprintf(o, "%c", *p);
				free(token);
				token = enc;
			}
		} else {
			check_elem(r.raw, "KeyCount", 0, "5");
			check_elem(r.raw, "IsTruncated", 0, "false");
			CHECK(token == NULL);
			break;
		}
	}
	CHECK_INT(seen, 25);
	CHECK_INT(pages, 3);
	/* start-after, and fetch-owner */
	get(&fh, "/bkt?list-type=2&start-after=k22&fetch-owner=true", &r);
	CHECK_INT(count(r.raw, "Key"), 2);
	check_elem(r.raw, "Key", 0, "k23");
	check_elem(r.raw, "StartAfter", 0, "k22");
	CHECK_INT(count(r.raw, "Owner"), 2);
	check_elem(r.raw, "DisplayName", 0, "ows");
	/* the default and the cap of max-keys */
	get(&fh, "/bkt?list-type=2&max-keys=5000", &r);
	check_elem(r.raw, "MaxKeys", 0, "1000");
	CHECK_INT(count(r.raw, "Key"), 25);
	get(&fh, "/bkt?list-type=2", &r);
	check_elem(r.raw, "MaxKeys", 0, "1000");
	/* max-keys=0 lists nothing */
	get(&fh, "/bkt?list-type=2&max-keys=0", &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(count(r.raw, "Key"), 0);
	check_elem(r.raw, "KeyCount", 0, "0");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(s3_list_tokens_tampered)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	struct ows_arena arena;
	char *tok, *pos = NULL, target[512];

	setup(&fh);
	put_key(&fh, "bkt", "a");
	ows_arena_init(&arena);
	tok = ows__s3_token_make(&arena, "bkt", "a");
	CHECK(tok != NULL);
	CHECK_INT(ows__s3_token_read(&arena, "bkt", tok, &pos), 0);
	CHECK_STR(pos, "a");
	/* made for another bucket */
	CHECK(ows__s3_token_read(&arena, "other", tok, &pos) != 0);
	/* one character changed */
	tok[2] = tok[2] == 'A' ? 'B' : 'A';
	CHECK(ows__s3_token_read(&arena, "bkt", tok, &pos) != 0);
	CHECK(ows__s3_token_read(&arena, "bkt", "", &pos) != 0);
	CHECK(ows__s3_token_read(&arena, "bkt", "!!!!", &pos) != 0);
	CHECK(ows__s3_token_read(&arena, "bkt", "YQ==", &pos) != 0);
	snprintf(target, sizeof(target),
		 "/bkt?list-type=2&continuation-token=%s", "YWJjZGVmZ2hpams%3D");
	get(&fh, target, &r);
	CHECK_INT(r.status, 400);
	check_elem(r.raw, "Code", 0, "InvalidArgument");
	check_elem(r.raw, "Message", 0,
		   "The continuation token provided is incorrect");
	get(&fh, "/bkt?list-type=2&continuation-token=", &r);
	CHECK_INT(r.status, 400);
	ows_arena_close(&arena);
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(s3_list_common_prefixes)
{
	static const char *const keys[] = {
		"docs/x", "photos/2024/a", "photos/2024/b", "photos/2025/c",
		"photos/top", "readme", "z/",
	};
	struct fake_host fh;
	struct fake_reply r = {0};

	setup(&fh);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		put_key(&fh, "bkt", keys[i]);
	get(&fh, "/bkt?list-type=2&delimiter=/", &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(count(r.raw, "Key"), 1);
	check_elem(r.raw, "Key", 0, "readme");
	CHECK_INT(count(r.raw, "CommonPrefixes"), 3);
	check_elem(r.raw, "Prefix", 1, "docs/"); /* 0 is <Prefix></Prefix> */
	check_elem(r.raw, "Prefix", 2, "photos/");
	check_elem(r.raw, "Prefix", 3, "z/");
	check_elem(r.raw, "KeyCount", 0, "4");
	check_elem(r.raw, "Delimiter", 0, "/");
	get(&fh, "/bkt?list-type=2&delimiter=/&prefix=photos/", &r);
	check_elem(r.raw, "Prefix", 0, "photos/");
	CHECK_INT(count(r.raw, "Key"), 1);
	check_elem(r.raw, "Key", 0, "photos/top");
	check_elem(r.raw, "Prefix", 1, "photos/2024/");
	check_elem(r.raw, "Prefix", 2, "photos/2025/");
	/* a prefix that is no delimiter boundary */
	get(&fh, "/bkt?list-type=2&prefix=photos/20", &r);
	CHECK_INT(count(r.raw, "Key"), 3);
	/* v1, one item a page: NextMarker is the prefix, and the next page
	   starts past everything under it */
	get(&fh, "/bkt?delimiter=/&max-keys=1", &r);
	check_elem(r.raw, "Prefix", 1, "docs/");
	check_elem(r.raw, "NextMarker", 0, "docs/");
	check_elem(r.raw, "IsTruncated", 0, "true");
	check_elem(r.raw, "Marker", 0, "");
	get(&fh, "/bkt?delimiter=/&max-keys=1&marker=docs/", &r);
	check_elem(r.raw, "Prefix", 1, "photos/");
	check_elem(r.raw, "NextMarker", 0, "photos/");
	get(&fh, "/bkt?delimiter=/&max-keys=1&marker=photos/", &r);
	check_elem(r.raw, "Key", 0, "readme");
	check_elem(r.raw, "NextMarker", 0, "readme");
	CHECK_INT(count(r.raw, "Owner"), 1); /* v1 lists owners */
	get(&fh, "/bkt?delimiter=/&max-keys=1&marker=readme", &r);
	check_elem(r.raw, "Prefix", 1, "z/");
	check_elem(r.raw, "IsTruncated", 0, "false");
	CHECK(nth(r.raw, "NextMarker", 0) == NULL);
	/* v1 without a delimiter: no NextMarker, as S3 */
	get(&fh, "/bkt?max-keys=2", &r);
	check_elem(r.raw, "IsTruncated", 0, "true");
	CHECK(nth(r.raw, "NextMarker", 0) == NULL);
	/* a delimiter of several characters */
	get(&fh, "/bkt?list-type=2&delimiter=20", &r);
	check_elem(r.raw, "Prefix", 1, "photos/20");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

/* Rolling a prefix up seeks past it: rows read stay few. */
OWS_TEST(s3_list_rollup_seeks)
{
	struct fake_host fh;
	struct ows_arena arena;
	struct ows__s3_list_res res;
	struct ows__s3_list_q q = {.bucket = "bkt", .prefix = "",
				   .delimiter = "/", .max_keys = 1000};
	setup(&fh);
	/* 3000 rows under big/ at once (the apply is tested elsewhere) */
	CHECK(ows__state_exec(&fh.state, "WITH RECURSIVE n(i) AS (SELECT 0 "
			      "UNION ALL SELECT i+1 FROM n WHERE i<2999) "
			      "INSERT INTO s3_objects(bucket, key, size, etag, "
			      "modified, meta, height) SELECT 'bkt', "
			      "printf('big/%05d', i), 0, '" EMPTY_MD5 "', 0, "
			      "'{}', 1 FROM n") == 0);
	put_key(&fh, "bkt", "after");
	put_key(&fh, "bkt", "zzz/1");
	ows_arena_init(&arena);
	CHECK_INT(ows__s3_list_scan(&fh.state, &arena, &q, &res), 0);
	CHECK_INT(res.count, 3);
	CHECK_STR(res.first->key, "after");
	CHECK(res.first->next->prefix);
	CHECK_STR(res.first->next->key, "big/");
	CHECK_STR(res.first->next->next->key, "zzz/");
	CHECK(!res.truncated);
	CHECK(res.rows <= 4);
	/* a page of one item reads at most one more row to know that
	   more follow */
	q.max_keys = 1;
	q.after = "after";
	CHECK_INT(ows__s3_list_scan(&fh.state, &arena, &q, &res), 0);
	CHECK_INT(res.count, 1);
	CHECK_STR(res.last, "big/");
	CHECK(res.truncated);
	CHECK(res.rows <= 2);
	/* without a delimiter, a page reads its keys and one more */
	q.delimiter = NULL;
	q.max_keys = 100;
	q.after = NULL;
	q.prefix = "big/";
	CHECK_INT(ows__s3_list_scan(&fh.state, &arena, &q, &res), 0);
	CHECK_INT(res.count, 100);
	CHECK(res.truncated);
	CHECK_INT(res.rows, 101);
	ows_arena_close(&arena);
	fake_host_close(&fh);
}

OWS_TEST(s3_list_encoding_url)
{
	struct fake_host fh;
	struct fake_reply r = {0};

	setup(&fh);
	put_key(&fh, "bkt", "a b+c/\xc3\xbc&x");
	put_key(&fh, "bkt", "ctl\x01key");
	get(&fh, "/bkt?list-type=2&encoding-type=url", &r);
	CHECK_INT(r.status, 200);
	check_elem(r.raw, "Key", 0, "a%20b%2Bc/%C3%BC%26x");
	check_elem(r.raw, "Key", 1, "ctl%01key");
	check_elem(r.raw, "EncodingType", 0, "url");
	get(&fh, "/bkt?list-type=2&encoding-type=url&delimiter=%20"
		 "&prefix=a%20&start-after=a%20", &r);
	check_elem(r.raw, "Delimiter", 0, "%20");
	check_elem(r.raw, "Prefix", 0, "a%20");
	check_elem(r.raw, "StartAfter", 0, "a%20");
	/* without it, XML escapes only */
	get(&fh, "/bkt?list-type=2", &r);
	check_elem(r.raw, "Key", 0, "a b+c/\xc3\xbc&amp;x");
	check_elem(r.raw, "Key", 1, "ctl&#x1;key");
	get(&fh, "/bkt?list-type=2&encoding-type=base64", &r);
	CHECK_INT(r.status, 400);
	check_elem(r.raw, "Code", 0, "InvalidArgument");
	check_elem(r.raw, "Message", 0,
		   "Invalid Encoding Method specified in Request");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(s3_list_errors)
{
	struct fake_host fh;
	struct fake_reply r = {0};

	setup(&fh);
	get(&fh, "/bkt?list-type=2&max-keys=-1", &r);
	CHECK_INT(r.status, 400);
	check_elem(r.raw, "Code", 0, "InvalidArgument");
	get(&fh, "/bkt?max-keys=ten", &r);
	CHECK_INT(r.status, 400);
	get(&fh, "/bkt?max-keys=99999999999", &r);
	CHECK_INT(r.status, 400);
	get(&fh, "/nobucket?list-type=2", &r);
	CHECK_INT(r.status, 404);
	check_elem(r.raw, "Code", 0, "NoSuchBucket");
	snprintf(fh.deny, sizeof(fh.deny), "s3:ListBucket");
	get(&fh, "/bkt?list-type=2", &r);
	CHECK_INT(r.status, 403);
	check_elem(r.raw, "Code", 0, "AccessDenied");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

/* The scan is a range search of the primary key, with no sort. */
OWS_TEST(s3_list_plan_is_a_range_scan)
{
	struct fake_host fh;
	sqlite3_stmt *st;
	char plan[1024] = "";

	setup(&fh);
	CHECK(ows_state_prepare(&fh.state, "EXPLAIN QUERY PLAN "
				OWS_S3_LIST_SQL, &st) == 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(plan, (const char *)sqlite3_column_text(st, 3),
			sizeof(plan) - strlen(plan) - 2);
		strcat(plan, ";");
	}
	sqlite3_finalize(st);
	CHECK(strstr(plan, "SEARCH s3_objects USING PRIMARY KEY (bucket=? "
			   "AND key>?)") != NULL);
	CHECK(strstr(plan, "TEMP B-TREE") == NULL);
	CHECK(strstr(plan, "SCAN") == NULL);
	fake_host_close(&fh);
}
