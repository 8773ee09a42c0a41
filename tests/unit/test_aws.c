/*
 * Unit tests: the seam's SigV4 (src/aws/auth.c) over whole and streamed
 * bodies, with requests signed by auth/sigv4.c's signer or taken from the
 * S3 API Reference's chunked upload example; and the judgement of one
 * resource named in both ARN partitions (ledger/authz.c).
 */
#include "../lib/unit.h"

#include <errno.h>

#include "auth/sigv4.h"
#include "aws/auth.h"
#include "common/enc.h"
#include "ledger/authz.h"

#define KEY "AKIDSEAMTEST00000000"
#define SECRET "seam/secret+0123456789abcdefghijklmnopqr"
#define NOW 1767225600 /* 2026-01-01T00:00:00Z */
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_NOW 1369353600 /* 2013-05-24T00:00:00Z */

static int lookups;

static int secret_of(void *ud, const char *id, char user[256],
		     struct ows_buf *out)
{
	(void)ud;
	lookups++;
	if (strcmp(id, KEY) == 0) {
		snprintf(user, 256, "dev");
		return ows_buf_puts(out, SECRET);
	}
	if (strcmp(id, "AKIAIOSFODNN7EXAMPLE") == 0) {
		snprintf(user, 256, "s3doc");
		return ows_buf_puts(out, S3_SECRET);
	}
	return -ENOENT;
}

static const uint8_t session_key[32];

/* A request with up to 8 headers, signed by KEY/secret for service. */
struct sreq {
	struct ows_http_header h[8];
	struct ows_http_req req;
	char auth[1024];
};

static void sreq_make(struct sreq *r, const char *service, const char *region,
		      const char *secret, const char *hash_header,
		      const char *body)
{
	struct ows_sigv4_header sh[8];
	struct ows_sigv4_request sr;
	char payload[65];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->h[n++] = (struct ows_http_header){"Host", "node.test:4566"};
	r->h[n++] = (struct ows_http_header){"X-Amz-Date", "20260101T000000Z"};
	if (hash_header != NULL)
		r->h[n++] = (struct ows_http_header){"x-amz-content-sha256",
						     hash_header};
	for (size_t i = 0; i < n; i++)
		sh[i] = (struct ows_sigv4_header){r->h[i].name, r->h[i].value};
	sr = (struct ows_sigv4_request){"POST", "/2015-03-31/functions/f", "",
					sh, n};
	ows_sha256_hex(body, strlen(body), payload);
	OWS_CHECK_INT(ows_sigv4_sign_header(&sr, KEY, secret, region, service,
					    hash_header ? hash_header : payload,
					    r->auth, sizeof(r->auth)), 0);
	r->h[n++] = (struct ows_http_header){"Authorization", r->auth};
	r->req.method = "POST";
	r->req.path = "/2015-03-31/functions/f";
	r->req.query = "";
	r->req.headers = r->h;
	r->req.n_headers = n;
}

static const struct ows_aws_keys keys = {.secret = secret_of,
					 .session_key = session_key,
					 .region = "us-east-1",
					 .now = NOW};

static int whole(const char *secret, const char *hash_header, const char *sent,
		 const char *body, int *head_rv)
{
	struct ows_aws_auth x;
	struct ows_err err = {{0}};
	struct sreq r;
	int rv;

	sreq_make(&r, "lambda", "us-east-1", secret, hash_header, sent);
	*head_rv = ows_aws_auth_head(&x, &r.req, &keys, "lambda", false, &err);
	if (*head_rv != 0)
		return *head_rv;
	OWS_CHECK_STR(x.caller.kind, "users");
	OWS_CHECK_STR(x.caller.name, "dev");
	rv = ows_aws_auth_body(&x, body, strlen(body), &err);
	OWS_CHECK(!x.has_key); /* wiped */
	ows_aws_auth_clear(&x);
	return rv;
}

OWS_TEST(aws_auth_whole_body)
{
	char hash[65];
	int head;

	/* No hash header: the signature is checked once the body is read. */
	OWS_CHECK_INT(whole(SECRET, NULL, "{}", "{}", &head), 0);
	OWS_CHECK_INT(whole("wrong", NULL, "{}", "{}", &head),
		      OWS_ESIG_SIGNATURE);
	OWS_CHECK_INT(head, 0);
	OWS_CHECK_INT(whole(SECRET, NULL, "{}", "{x}", &head),
		      OWS_ESIG_SIGNATURE);
	/* A hash header: a wrong secret is refused before any body byte. */
	ows_sha256_hex("{}", 2, hash);
	OWS_CHECK_INT(whole("wrong", hash, "{}", "{}", &head),
		      OWS_ESIG_SIGNATURE);
	OWS_CHECK_INT(head, OWS_ESIG_SIGNATURE);
	OWS_CHECK_INT(whole(SECRET, hash, "{}", "{x}", &head),
		      OWS_ESIG_SHA256);
	OWS_CHECK_INT(head, 0);
	/* Whole-body services take no unsigned payload. */
	OWS_CHECK_INT(whole(SECRET, "UNSIGNED-PAYLOAD", "", "", &head),
		      OWS_ESIG_SIGNATURE);
}

OWS_TEST(aws_auth_head_scope_and_key)
{
	struct ows_aws_auth x;
	struct ows_err err = {{0}};
	struct sreq r;

	sreq_make(&r, "lambda", "eu-west-1", SECRET, NULL, "");
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", false,
					&err), OWS_ESIG_SCOPE);
	sreq_make(&r, "sts", "us-east-1", SECRET, NULL, "");
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", false,
					&err), OWS_ESIG_SCOPE);
	/* the key is looked up once the scope is right, not before */
	lookups = 0;
	sreq_make(&r, "lambda", "us-east-1", SECRET, NULL, "");
	r.auth[strlen("AWS4-HMAC-SHA256 Credential=") + 3] = 'X';
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", false,
					&err), OWS_ESIG_ACCESS_KEY);
	OWS_CHECK_INT(lookups, 1);
	ows_aws_auth_clear(&x);
}

struct sink {
	size_t len;
	bool only_a;
	char data[64];
};

static int sink_data(void *ud, const char *data, size_t len)
{
	struct sink *s = ud;

	for (size_t i = 0; i < len; i++) {
		if (s->len + i < sizeof(s->data))
			s->data[s->len + i] = data[i];
		s->only_a &= data[i] == 'a';
	}
	s->len += len;
	return 0;
}

/* Feed body in uneven pieces through a verifier of x. */
static int stream(struct ows_aws_auth *x, int64_t decoded, const char *body,
		  size_t len, struct sink *s)
{
	static const size_t steps[] = {1, 3, 17, 4096, 100000, 2};
	struct ows_aws_verifier *v;
	struct ows_err err = {{0}};
	size_t off = 0;
	int rv;

	memset(s, 0, sizeof(*s));
	s->only_a = true;
	OWS_CHECK_INT(ows__aws_verifier_new(x, decoded, &v), 0);
	/* the chunk decoder has its key: its own is no longer held */
	if (decoded >= 0)
		OWS_CHECK(!x->has_key);
	rv = 0;
	for (int i = 0; rv == 0 && off < len; i++) {
		size_t n = steps[i % 6] < len - off ? steps[i % 6] : len - off;

		rv = ows__aws_verifier_feed(v, body + off, n, sink_data, s, &err);
		off += n;
	}
	if (rv == 0)
		rv = ows__aws_verifier_finish(v, &err);
	ows__aws_verifier_free(v);
	return rv;
}

OWS_TEST(aws_auth_streamed_hash)
{
	struct ows_aws_auth x;
	struct ows_err err = {{0}};
	struct sink s;
	struct sreq r;
	char hash[65];

	ows_sha256_hex("hello world", 11, hash);
	sreq_make(&r, "lambda", "us-east-1", SECRET, hash, "hello world");
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", true,
					&err), 0);
	OWS_CHECK_INT(stream(&x, -1, "hello world", 11, &s), 0);
	OWS_CHECK_INT(s.len, 11);
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", true,
					&err), 0);
	OWS_CHECK_INT(stream(&x, -1, "hello wordl", 11, &s),
		      OWS_ESIG_SHA256);
	/* no hash header: the signature itself at the end */
	sreq_make(&r, "lambda", "us-east-1", SECRET, NULL, "hello world");
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", true,
					&err), 0);
	OWS_CHECK(x.has_key);
	OWS_CHECK_INT(stream(&x, -1, "hello world", 11, &s), 0);
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", true,
					&err), 0);
	OWS_CHECK_INT(stream(&x, -1, "hello", 5, &s), OWS_ESIG_SIGNATURE);
	OWS_CHECK(!x.has_key);
	/* UNSIGNED-PAYLOAD, as SigV4 allows it for streamed services */
	sreq_make(&r, "lambda", "us-east-1", SECRET, "UNSIGNED-PAYLOAD", "");
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &keys, "lambda", true,
					&err), 0);
	OWS_CHECK_INT(stream(&x, -1, "anything", 8, &s), 0);
}

/* The S3 API Reference's chunked upload: 64 KiB and 1 KiB of 'a'. */
static char *doc_body(size_t *len, bool tamper)
{
	static const char *const sigs[3] = {
	    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	};
	char *b = malloc(70000);
	size_t n;

	OWS_CHECK(b != NULL);
	n = (size_t)sprintf(b, "10000;chunk-signature=%s\r\n", sigs[0]);
	memset(b + n, 'a', 65536);
	if (tamper)
		b[n + 1000] = 'b';
	n += 65536;
	n += (size_t)sprintf(b + n, "\r\n400;chunk-signature=%s\r\n", sigs[1]);
	memset(b + n, 'a', 1024);
	n += 1024;
	n += (size_t)sprintf(b + n, "\r\n0;chunk-signature=%s\r\n\r\n", sigs[2]);
	*len = n;
	return b;
}

OWS_TEST(aws_auth_streamed_chunks)
{
	struct ows_http_header h[] = {
		{"Host", "s3.amazonaws.com"},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
		{"Authorization",
		 "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
		 "us-east-1/s3/aws4_request,SignedHeaders=content-encoding;"
		 "content-length;host;x-amz-content-sha256;x-amz-date;"
		 "x-amz-decoded-content-length;x-amz-storage-class,Signature="
		 "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80"
		 "a0a9"},
		{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
		{"Content-Encoding", "aws-chunked"},
		{"x-amz-decoded-content-length", "66560"},
		{"Content-Length", "66824"},
	};
	struct ows_http_req req = {.method = "PUT",
				   .path = "/examplebucket/chunkObject.txt",
				   .query = "", .headers = h,
				   .n_headers = sizeof(h) / sizeof(h[0])};
	struct ows_aws_keys k = keys;
	struct ows_aws_auth x;
	struct ows_err err = {{0}};
	struct sink s;
	size_t len;
	char *body = doc_body(&len, false);

	k.now = S3_NOW;
	OWS_CHECK_INT(ows_aws_auth_head(&x, &req, &k, "s3", true, &err), 0);
	OWS_CHECK_STR(x.caller.name, "s3doc");
	OWS_CHECK_INT(stream(&x, 66560, body, len, &s), 0);
	OWS_CHECK_INT(s.len, 66560);
	OWS_CHECK(s.only_a);
	free(body);
	body = doc_body(&len, true);
	OWS_CHECK_INT(ows_aws_auth_head(&x, &req, &k, "s3", true, &err), 0);
	OWS_CHECK_INT(stream(&x, 66560, body, len, &s), OWS_ESIG_SIGNATURE);
	free(body);
}

/* ---- the keys' cache of signing keys ---- */

static uint64_t test_gen;
static bool key_deleted;
static const char *cur_secret = SECRET;

static int secret_cached(void *ud, const char *id, char user[256],
			 struct ows_buf *out)
{
	(void)ud;
	lookups++;
	if (key_deleted || strcmp(id, KEY) != 0)
		return -ENOENT;
	snprintf(user, 256, "dev");
	return ows_buf_puts(out, cur_secret);
}

static uint64_t gen_of(void *ud)
{
	(void)ud;
	return test_gen;
}

/* A whole-body call signed with secret for service (head and body). */
static int cached_call(const struct ows_aws_keys *k, const char *secret,
		       const char *service)
{
	struct ows_aws_auth x;
	struct ows_err err = {{0}};
	struct sreq r;
	int rv;

	sreq_make(&r, service, "us-east-1", secret, NULL, "{}");
	rv = ows_aws_auth_head(&x, &r.req, k, service, false, &err);
	if (rv == 0) {
		OWS_CHECK_STR(x.caller.user, "dev");
		rv = ows_aws_auth_body(&x, "{}", 2, &err);
	}
	OWS_CHECK(!x.has_key);
	ows_aws_auth_clear(&x);
	return rv;
}

static size_t slots_used(const struct ows_aws_keycache *c)
{
	size_t n = 0;

	for (size_t i = 0; i < OWS_AWS_KEYCACHE_SLOTS; i++)
		n += c->slot[i].used;
	return n;
}

OWS_TEST(aws_auth_key_cache)
{
	struct ows_aws_keycache *cache = calloc(1, sizeof(*cache));
	struct ows_aws_keys k = keys;
	static const struct ows_aws_keycache_slot zero;
	struct ows_aws_auth x;
	struct ows_err err = {{0}};
	struct sreq r;
	char svc[16];

	OWS_CHECK(cache != NULL);
	k.secret = secret_cached;
	k.cache = cache;
	k.generation = gen_of;
	test_gen = 7;
	lookups = 0;
	/* the first call opens the secret; the next ones do not */
	OWS_CHECK_INT(cached_call(&k, SECRET, "lambda"), 0);
	OWS_CHECK_INT(lookups, 1);
	OWS_CHECK_INT(cached_call(&k, SECRET, "lambda"), 0);
	OWS_CHECK_INT(cached_call(&k, SECRET, "lambda"), 0);
	OWS_CHECK_INT(lookups, 1);
	/* a cached key still tells a wrong signature */
	OWS_CHECK_INT(cached_call(&k, "wrong", "lambda"), OWS_ESIG_SIGNATURE);
	/* another scope is another signing key */
	OWS_CHECK_INT(cached_call(&k, SECRET, "dynamodb"), 0);
	OWS_CHECK_INT(lookups, 2);
	/* a signature that failed keeps nothing */
	OWS_CHECK_INT(cached_call(&k, "wrong", "sts"), OWS_ESIG_SIGNATURE);
	OWS_CHECK_INT(cached_call(&k, SECRET, "sts"), 0);
	OWS_CHECK_INT(lookups, 4);
	OWS_CHECK_INT(slots_used(cache), 3);

	/* the key deleted (the ledger moved): refused at once */
	key_deleted = true;
	test_gen++;
	OWS_CHECK_INT(cached_call(&k, SECRET, "lambda"), OWS_ESIG_ACCESS_KEY);
	OWS_CHECK_INT(slots_used(cache), 0);
	/* rotated: the old secret refused, the new one taken */
	key_deleted = false;
	cur_secret = "a-new-secret";
	test_gen++;
	OWS_CHECK_INT(cached_call(&k, SECRET, "lambda"), OWS_ESIG_SIGNATURE);
	OWS_CHECK_INT(cached_call(&k, "a-new-secret", "lambda"), 0);
	lookups = 0;
	OWS_CHECK_INT(cached_call(&k, "a-new-secret", "lambda"), 0);
	OWS_CHECK_INT(lookups, 0);

	/* the keys changed between head and body: this call passes (its
	   key was good when it began) but what it learned is not kept */
	sreq_make(&r, "sqs", "us-east-1", "a-new-secret", NULL, "{}");
	OWS_CHECK_INT(ows_aws_auth_head(&x, &r.req, &k, "sqs", false, &err),
		      0);
	test_gen++;
	OWS_CHECK_INT(ows_aws_auth_body(&x, "{}", 2, &err), 0);
	lookups = 0;
	OWS_CHECK_INT(cached_call(&k, "a-new-secret", "sqs"), 0);
	OWS_CHECK_INT(lookups, 1);
	OWS_CHECK_INT(slots_used(cache), 1);

	/* bounded: more scopes than slots, every call still checked */
	for (int i = 0; i < OWS_AWS_KEYCACHE_SLOTS + 8; i++) {
		snprintf(svc, sizeof(svc), "svc%d", i);
		OWS_CHECK_INT(cached_call(&k, "a-new-secret", svc), 0);
	}
	OWS_CHECK_INT(slots_used(cache), OWS_AWS_KEYCACHE_SLOTS);
	/* the most recent ones are kept, the oldest gone */
	lookups = 0;
	OWS_CHECK_INT(cached_call(&k, "a-new-secret", svc), 0);
	OWS_CHECK_INT(lookups, 0);
	OWS_CHECK_INT(cached_call(&k, "a-new-secret", "svc0"), 0);
	OWS_CHECK_INT(lookups, 1);
	/* cleared: every byte of every slot wiped */
	ows_aws_keycache_clear(cache);
	for (int i = 0; i < OWS_AWS_KEYCACHE_SLOTS; i++)
		OWS_CHECK(memcmp(&cache->slot[i], &zero, sizeof(zero)) == 0);
	cur_secret = SECRET;
	free(cache);
}

/* ---- one resource in both partitions ---- */

static json_t *dir_docs;

static int dir_user_policies(void *ud, const char *user, json_t *out)
{
	(void)ud;
	(void)user;
	return json_array_extend(out, dir_docs);
}

OWS_TEST(aws_authorize_both_partitions)
{
	struct ows_directory dir = {.user_policies = dir_user_policies};
	struct ows_principal who = {"users", "dev"};
	struct ows_authz_ctx rc = {"127.0.0.1", false, (int64_t)NOW * 1000,
				   "us-east-1"};
	const char *arns[] = {"arn:ows:lambda::function/f",
			      "arn:aws:lambda:us-east-1:123456789012:function:f",
			      NULL};
	json_t *extra = json_pack("{s:s}", "lambda:FunctionArn", "x");

	/* an Allow on the aws form alone allows */
	dir_docs = json_loads(
	    "[{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": "
	    "\"lambda:*\", \"Resource\": \"arn:aws:lambda:*:*:function:f\"}]}]",
	    0, NULL);
	OWS_CHECK_INT(ows_principal_authorize_arns(&dir, &who,
						   "lambda:GetFunction", arns,
						   extra, &rc), 0);
	json_decref(dir_docs);
	/* a Deny on one form wins over an Allow on the other */
	dir_docs = json_loads(
	    "[{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", "
	    "\"Resource\": \"*\"}, {\"Effect\": \"Deny\", \"Action\": "
	    "\"lambda:GetFunction\", \"Resource\": "
	    "\"arn:aws:lambda:*:*:function:f\"}]}]",
	    0, NULL);
	OWS_CHECK_INT(ows_principal_authorize_arns(&dir, &who,
						   "lambda:GetFunction", arns,
						   NULL, &rc), OWS_EDENIED);
	OWS_CHECK_INT(ows_principal_authorize_arns(&dir, &who,
						   "lambda:InvokeFunction",
						   arns, NULL, &rc), 0);
	json_decref(dir_docs);
	/* no Allow at all */
	dir_docs = json_array();
	OWS_CHECK_INT(ows_principal_authorize_arns(&dir, &who,
						   "lambda:GetFunction", arns,
						   NULL, &rc), OWS_EDENIED);
	json_decref(dir_docs);
	json_decref(extra);
}

/* ---- a resource policy judged with the identity policies ---- */

static json_t *rp_doc(const char *principal, const char *effect,
		      const char *cond)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Sid\": "
		 "\"s\", \"Effect\": \"%s\", \"Principal\": %s, \"Action\": "
		 "\"lambda:InvokeFunction\", \"Resource\": "
		 "\"arn:aws:lambda:us-east-1:123456789012:function:f\"%s%s}]}",
		 effect, principal, cond ? ", \"Condition\": " : "",
		 cond ? cond : "");
	return json_loads(text, 0, NULL);
}

OWS_TEST(aws_authorize_with_resource_policy)
{
	struct ows_directory dir = {.user_policies = dir_user_policies};
	struct ows_principal who = {"users", "dev"};
	struct ows_authz_ctx rc = {"127.0.0.1", false, (int64_t)NOW * 1000,
				   "us-east-1"};
	const char *arns[] = {"arn:ows:lambda::function/f",
			      "arn:aws:lambda:us-east-1:123456789012:function:f",
			      NULL};
	const char *acct = "123456789012";
	static const struct {
		const char *principal, *effect, *cond;
		int want;
	} cases[] = {
		{"{\"AWS\": \"arn:aws:iam::123456789012:user/dev\"}", "Allow",
		 NULL, 0},
		{"{\"AWS\": [\"x\", \"arn:ows:iam::user/dev\"]}", "Allow", NULL,
		 0},
		{"\"*\"", "Allow", NULL, 0},
		{"{\"AWS\": \"*\"}", "Allow", NULL, 0},
		{"{\"AWS\": \"arn:aws:iam::123456789012:user/other\"}",
		 "Allow", NULL, OWS_EDENIED},
		{"{\"AWS\": \"arn:aws:iam::999999999999:user/dev\"}", "Allow",
		 NULL, OWS_EDENIED},
		/* the account delegates: its Allow grants nothing alone */
		{"{\"AWS\": \"123456789012\"}", "Allow", NULL, OWS_EDENIED},
		{"{\"AWS\": \"arn:aws:iam::123456789012:root\"}", "Allow", NULL,
		 OWS_EDENIED},
		{"{\"Service\": \"s3.amazonaws.com\"}", "Allow", NULL,
		 OWS_EDENIED},
		{"{\"AWS\": \"arn:aws:iam::123456789012:user/dev\"}", "Allow",
		 "{\"ArnLike\": {\"AWS:SourceArn\": \"arn:aws:s3:::b\"}}",
		 OWS_EDENIED},
		{"{\"AWS\": \"arn:aws:iam::123456789012:user/dev\"}", "Allow",
		 "{\"IpAddress\": {\"aws:SourceIp\": \"127.0.0.0/8\"}}", 0},
	};

	/* no identity policy: the resource policy decides */
	dir_docs = json_array();
	OWS_CHECK_INT(ows_principal_authorize_rp(&dir, &who,
						 "lambda:InvokeFunction", arns,
						 NULL, NULL, acct, &rc),
		      OWS_EDENIED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *rp = rp_doc(cases[i].principal, cases[i].effect,
				    cases[i].cond);

		OWS_CHECK(rp != NULL);
		OWS_CHECK_INT(ows_principal_authorize_rp(
				      &dir, &who, "lambda:InvokeFunction", arns,
				      NULL, rp, acct, &rc), cases[i].want);
		/* another action is not granted by it */
		OWS_CHECK_INT(ows_principal_authorize_rp(
				      &dir, &who, "lambda:GetFunction", arns,
				      NULL, rp, acct, &rc), OWS_EDENIED);
		json_decref(rp);
	}
	json_decref(dir_docs);
	/* an identity Deny beats the resource policy's Allow */
	dir_docs = json_loads(
	    "[{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": "
	    "\"lambda:InvokeFunction\", \"Resource\": \"*\"}]}]", 0, NULL);
	{
		json_t *rp = rp_doc("\"*\"", "Allow", NULL);

		OWS_CHECK_INT(ows_principal_authorize_rp(
				      &dir, &who, "lambda:InvokeFunction", arns,
				      NULL, rp, acct, &rc), OWS_EDENIED);
		json_decref(rp);
	}
	json_decref(dir_docs);
	/* a resource Deny (to the account too) beats an identity Allow */
	dir_docs = json_loads(
	    "[{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", "
	    "\"Resource\": \"*\"}]}]", 0, NULL);
	{
		json_t *rp = rp_doc("{\"AWS\": \"123456789012\"}", "Deny",
				    NULL);

		OWS_CHECK_INT(ows_principal_authorize_rp(
				      &dir, &who, "lambda:InvokeFunction", arns,
				      NULL, rp, acct, &rc), OWS_EDENIED);
		OWS_CHECK_INT(ows_principal_authorize_rp(
				      &dir, &who, "lambda:GetFunction", arns,
				      NULL, rp, acct, &rc), 0);
		json_decref(rp);
	}
	json_decref(dir_docs);
	dir_docs = NULL;
}
