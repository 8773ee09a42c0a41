/*
 * Unit tests: AWS Signature Version 4 (src/auth/sigv4*.c). The expected
 * signatures are AWS's own, not our signer's: the SigV4 test suite (access
 * key AKIDEXAMPLE, region us-east-1, service "service", 20150830T123600Z;
 * requests as in the suite's header-signed-request.txt and
 * query-signed-request.txt files) and the worked examples of the S3 API
 * Reference (AKIAIOSFODNN7EXAMPLE, 20130524T000000Z): GET object with
 * Range, PUT object, GET bucket lifecycle, list objects, the presigned URL
 * and the chunked upload with and without trailers.
 */
#include "../lib/unit.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/sigv4.h"
#include "common/enc.h"

#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_NOW 1440938160 /* 2015-08-30T12:36:00Z */
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_NOW 1369353600 /* 2013-05-24T00:00:00Z */
#define EMPTY_SHA256                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Authorization line of a suite request. */
#define SUITE_AUTH(signed, sig)                                                \
	"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"      \
	"us-east-1/service/aws4_request, SignedHeaders=" signed ", "           \
								"Signature"    \
								"=" sig "\n"
#define SUITE_HOST "Host:example.amazonaws.com\n"
#define SUITE_DATE "X-Amz-Date:20150830T123600Z\n"
#define S3_CRED "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

/* A request written as in the test suite: request line, then headers. */
struct treq {
	char text[4096];
	char *path, *query;
	struct ows_sigv4_header h[32];
	struct ows_sigv4_request req;
};

static void treq_parse(struct treq *t, const char *text)
{
	char *line, *sp, *q, *save = NULL;

	OWS_CHECK(strlen(text) < sizeof(t->text));
	strcpy(t->text, text);
	memset(&t->req, 0, sizeof(t->req));
	line = strtok_r(t->text, "\n", &save);
	sp = strchr(line, ' ');
	*sp = '\0';
	t->req.method = line;
	t->path = sp + 1;
	sp = strrchr(t->path, ' ');
	*sp = '\0';
	q = strchr(t->path, '?');
	if (q != NULL)
		*q++ = '\0';
	t->req.path = t->path;
	t->req.query = q != NULL ? q : "";
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *colon = strchr(line, ':');

		OWS_CHECK(colon != NULL && t->req.n_headers < 32);
		*colon = '\0';
		t->h[t->req.n_headers].name = line;
		t->h[t->req.n_headers].value = colon + 1;
		t->req.n_headers++;
	}
	t->req.headers = t->h;
}

/* Parse and verify; the result code, with the reason printed. */
static int check(const char *text, const char *secret, int64_t now,
		 const char *body_hex)
{
	struct treq t;
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	int rv;

	treq_parse(&t, text);
	rv = ows_sigv4_parse(&t.req, &a, &err);
	if (rv == 0)
		rv = ows_sigv4_verify(&t.req, &a, secret, now, body_hex, &err);
	if (rv != 0 && getenv("SIGV4_DEBUG") != NULL)
		fprintf(stderr, "  (%d: %s)\n", rv, err.msg);
	return rv;
}

struct vector {
	const char *name, *request, *body;
};

/* Header-signed requests of the SigV4 test suite. */
/* clang-format off */
static const struct vector suite_header[] = {
	{"get-vanilla", "GET / HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), ""},
	{"get-vanilla-query-order-key-case",
	 "GET /?Param2=value2&Param1=value1 HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"), ""},
	{"get-vanilla-query-order-encoded",
	 "GET /?Param-3=Value3&Param=Value2&%E1%88%B4=Value1 HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac"), ""},
	{"get-vanilla-empty-query-key",
	 "GET /?Param1=value1 HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"), ""},
	{"get-vanilla-query-unreserved",
	 "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
	 "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
	 SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"), ""},
	{"get-vanilla-utf8-query", "GET /?\xe1\x88\xb4=bar HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"), ""},
	{"get-header-value-trim",
	 "GET / HTTP/1.1\n" SUITE_HOST "My-Header1: value1\nMy-Header2: \"a   b   c\"\n" SUITE_DATE
	 SUITE_AUTH("host;my-header1;my-header2;x-amz-date",
		    "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"), ""},
	{"get-header-key-duplicate",
	 "GET / HTTP/1.1\n" SUITE_HOST "My-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n"
	 SUITE_DATE SUITE_AUTH("host;my-header1;x-amz-date",
			       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"), ""},
	{"get-utf8", "GET /\xe1\x88\xb4 HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"), ""},
	{"get-unreserved",
	 "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n"
	 SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"), ""},
	{"get-space-normalized", "GET /example space/ HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"), ""},
	{"get-slashes-normalized", "GET //example// HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"), ""},
	{"get-slash-dot-slash-normalized", "GET /./ HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), ""},
	{"get-relative-relative-normalized",
	 "GET /example1/example2/../.. HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), ""},
	{"post-vanilla", "POST / HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"), ""},
	{"post-header-value-case", "POST / HTTP/1.1\n" SUITE_HOST "My-Header1:VALUE1\n" SUITE_DATE
	 SUITE_AUTH("host;my-header1;x-amz-date",
		    "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"), ""},
	{"post-vanilla-query", "POST /?Param1=value1 HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
		"host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"), ""},
	{"post-x-www-form-urlencoded",
	 "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\n" SUITE_HOST SUITE_DATE
	 SUITE_AUTH("content-type;host;x-amz-date",
		    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"), "Param1=value1"},
	{"post-x-www-form-urlencoded-parameters",
	 "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf8\n" SUITE_HOST
	 SUITE_DATE SUITE_AUTH("content-type;host;x-amz-date",
			       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
	 "Param1=value1"},
};
/* clang-format on */

OWS_TEST(sigv4_suite_header_vectors)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof(suite_header) / sizeof(suite_header[0]);
	     i++) {
		const struct vector *v = &suite_header[i];
		char body[65];

		ows_sha256_hex(v->body, strlen(v->body), body);
		if (check(v->request, SUITE_SECRET, SUITE_NOW, body) != 0) {
			fprintf(stderr, "vector %s failed\n", v->name);
			bad++;
		}
		/* Any other secret or body fails. */
		OWS_CHECK_INT(
		    check(v->request, SUITE_SECRET "x", SUITE_NOW, body),
		    OWS_ESIG_SIGNATURE);
		ows_sha256_hex("x", 1, body);
		OWS_CHECK_INT(check(v->request, SUITE_SECRET, SUITE_NOW, body),
			      OWS_ESIG_SIGNATURE);
	}
	OWS_CHECK_INT(bad, 0);
}

#define SUITE_QUERY(rest, sig)                                                 \
	"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"     \
	"20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date="            \
	"20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600" rest    \
	"&X-Amz-Signature=" sig " HTTP/1.1\n" SUITE_HOST SUITE_DATE

/* Query-signed requests of the test suite, valid for an hour. */
OWS_TEST(sigv4_suite_presigned_vectors)
{
	static const char *const reqs[] = {
	    "GET /\xe1\x88\xb4?" SUITE_QUERY("",
					     "10eae3f14a260bd3911cc6d008d3c576d"
					     "143b05b62f09782a7a4b37f52178e44"),
	    "GET /?Param2=value2&Param1=value1&" SUITE_QUERY(
		"", "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d3"
		    "00bed5"),
	};

	for (size_t i = 0; i < 2; i++) {
		OWS_CHECK_INT(check(reqs[i], SUITE_SECRET, SUITE_NOW + 3600,
				    EMPTY_SHA256),
			      0);
		OWS_CHECK_INT(check(reqs[i], SUITE_SECRET, SUITE_NOW + 3601,
				    EMPTY_SHA256),
			      OWS_ESIG_EXPIRED);
		OWS_CHECK_INT(
		    check(reqs[i], SUITE_SECRET, SUITE_NOW - 901, EMPTY_SHA256),
		    OWS_ESIG_NOT_YET);
		OWS_CHECK_INT(check(reqs[i], "other", SUITE_NOW, EMPTY_SHA256),
			      OWS_ESIG_SIGNATURE);
	}
}

#define S3_GET_OBJECT                                                          \
	"GET /test.txt HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"        \
	"Authorization:AWS4-HMAC-SHA256 Credential=" S3_CRED                   \
	",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"           \
	"Signature="                                                           \
	"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41\n"   \
	"Range:bytes=0-9\nx-amz-content-sha256:" EMPTY_SHA256 "\n"             \
	"x-amz-date:20130524T000000Z\n"

OWS_TEST(sigv4_s3_doc_get_object)
{
	OWS_CHECK_INT(check(S3_GET_OBJECT, S3_SECRET, S3_NOW, EMPTY_SHA256), 0);
	/* Streamed body: the hash is compared later. */
	OWS_CHECK_INT(check(S3_GET_OBJECT, S3_SECRET, S3_NOW, NULL), 0);
	OWS_CHECK_INT(
	    check(S3_GET_OBJECT "x-amz-meta-late:1\n", S3_SECRET, S3_NOW, NULL),
	    OWS_ESIG_UNSIGNED);
	OWS_CHECK_INT(
	    check(S3_GET_OBJECT "User-Agent:x\n", S3_SECRET, S3_NOW, NULL), 0);
}

OWS_TEST(sigv4_s3_doc_put_object)
{
	static const char req[] =
	    "PUT /test%24file.text "
	    "HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"
	    "Date:Fri, 24 May 2013 00:00:00 GMT\n"
	    "Authorization:AWS4-HMAC-SHA256 Credential=" S3_CRED
	    ",SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-"
	    "storage-class,"
	    "Signature="
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd\n"
	    "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_"
	    "REDUNDANCY\n"
	    "x-amz-content-sha256:"
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
	    "\n";
	static const char raw_dollar[] =
	    "PUT /test$file.text "
	    "HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"
	    "Date:Fri, 24 May 2013 00:00:00 GMT\n"
	    "Authorization:AWS4-HMAC-SHA256 Credential=" S3_CRED
	    ",SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-"
	    "storage-class,"
	    "Signature="
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd\n"
	    "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_"
	    "REDUNDANCY\n"
	    "x-amz-content-sha256:"
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
	    "\n";
	const char *body = "Welcome to Amazon S3.";
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	struct treq t;
	char hash[65];

	ows_sha256_hex(body, strlen(body), hash);
	OWS_CHECK_INT(check(req, S3_SECRET, S3_NOW, hash), 0);
	/* S3 encodes once: "$" on the wire is the same request. */
	OWS_CHECK_INT(check(raw_dollar, S3_SECRET, S3_NOW, hash), 0);
	ows_sha256_hex("Welcome to Amazon S4.", 21, hash);
	OWS_CHECK_INT(check(req, S3_SECRET, S3_NOW, hash), OWS_ESIG_SHA256);
	treq_parse(&t, req);
	OWS_CHECK_INT(ows_sigv4_parse(&t.req, &a, &err), 0);
	OWS_CHECK_INT(a.payload, OWS_SIGV4_PAYLOAD_HASH);
	OWS_CHECK_INT(ows_sigv4_payload_check(&a, hash, &err),
		      OWS_ESIG_SHA256);
	ows_sha256_hex(body, strlen(body), hash);
	OWS_CHECK_INT(ows_sigv4_payload_check(&a, hash, &err), 0);
}

OWS_TEST(sigv4_s3_doc_bucket_queries)
{
	static const char lifecycle[] =
	    "GET /?lifecycle HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"
	    "Authorization:AWS4-HMAC-SHA256 Credential=" S3_CRED
	    ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
	    "Signature="
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543\n"
	    "x-amz-date:20130524T000000Z\nx-amz-content-sha256:" EMPTY_SHA256
	    "\n";
	static const char list[] =
	    "GET /?max-keys=2&prefix=J "
	    "HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"
	    "Authorization:AWS4-HMAC-SHA256 Credential=" S3_CRED
	    ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
	    "Signature="
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7\n"
	    "x-amz-date:20130524T000000Z\nx-amz-content-sha256:" EMPTY_SHA256
	    "\n";

	OWS_CHECK_INT(check(lifecycle, S3_SECRET, S3_NOW, EMPTY_SHA256), 0);
	OWS_CHECK_INT(check(list, S3_SECRET, S3_NOW, EMPTY_SHA256), 0);
}

#define S3_PRESIGNED(expires, sig)                                             \
	"GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="     \
	"AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"     \
	"X-Amz-Date=20130524T000000Z&X-Amz-Expires=" expires                   \
	"&X-Amz-SignedHeaders=host&X-Amz-Signature=" sig " HTTP/1.1\n"         \
	"Host:examplebucket.s3.amazonaws.com\n"
#define DOC_SIG                                                                \
	"aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

OWS_TEST(sigv4_s3_doc_presigned)
{
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	struct treq t;

	OWS_CHECK_INT(
	    check(S3_PRESIGNED("86400", DOC_SIG), S3_SECRET, S3_NOW, NULL), 0);
	OWS_CHECK_INT(check(S3_PRESIGNED("86400", DOC_SIG), S3_SECRET,
			    S3_NOW + 86400, NULL),
		      0);
	OWS_CHECK_INT(check(S3_PRESIGNED("86400", DOC_SIG), S3_SECRET,
			    S3_NOW + 86401, NULL),
		      OWS_ESIG_EXPIRED);
	OWS_CHECK_INT(check(S3_PRESIGNED("86400", DOC_SIG), S3_SECRET,
			    S3_NOW - 900, NULL),
		      0);
	OWS_CHECK_INT(check(S3_PRESIGNED("86400", DOC_SIG), S3_SECRET,
			    S3_NOW - 901, NULL),
		      OWS_ESIG_NOT_YET);
	/* A changed expiry is a different request. */
	OWS_CHECK_INT(
	    check(S3_PRESIGNED("86401", DOC_SIG), S3_SECRET, S3_NOW, NULL),
	    OWS_ESIG_SIGNATURE);
	OWS_CHECK_INT(
	    check(S3_PRESIGNED("0", DOC_SIG), S3_SECRET, S3_NOW, NULL),
	    OWS_ESIG_QUERY);
	OWS_CHECK_INT(
	    check(S3_PRESIGNED("604801", DOC_SIG), S3_SECRET, S3_NOW, NULL),
	    OWS_ESIG_QUERY);
	OWS_CHECK_INT(
	    check(S3_PRESIGNED("1e3", DOC_SIG), S3_SECRET, S3_NOW, NULL),
	    OWS_ESIG_QUERY);
	OWS_CHECK_INT(
	    check(S3_PRESIGNED("86400", "abc"), S3_SECRET, S3_NOW, NULL),
	    OWS_ESIG_QUERY);
	treq_parse(&t, S3_PRESIGNED("86400", DOC_SIG));
	OWS_CHECK_INT(ows_sigv4_parse(&t.req, &a, &err), 0);
	OWS_CHECK(a.presigned && a.s3);
	OWS_CHECK_STR(a.access_key, "AKIAIOSFODNN7EXAMPLE");
	OWS_CHECK_STR(a.region, "us-east-1");
	OWS_CHECK_INT(a.expires, 86400);
	OWS_CHECK_INT(a.payload, OWS_SIGV4_PAYLOAD_UNSIGNED);
	/* Header and query credentials together are refused. */
	OWS_CHECK_INT(check(S3_PRESIGNED("86400", DOC_SIG)
				SUITE_AUTH("host", DOC_SIG),
			    S3_SECRET, S3_NOW, NULL),
		      OWS_ESIG_ARGUMENT);
}

/* ---- aws-chunked ---- */

struct sink {
	size_t len;
	bool only_a;
	char data[64];
	char trailer[128];
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

static int sink_trailer(void *ud, const char *name, const char *value)
{
	struct sink *s = ud;

	snprintf(s->trailer, sizeof(s->trailer), "%s=%s", name, value);
	return 0;
}

/* Feed body in uneven pieces; the first error, or finish's result. */
static int feed_all(struct ows_sigv4_chunked *d, const char *body, size_t len,
		    struct sink *s)
{
	static const size_t steps[] = {1, 3, 17, 4096, 100000, 2};
	struct ows_sigv4_chunked_cb cb = {sink_data, sink_trailer, s};
	struct ows_err err = {{0}};
	size_t off = 0;
	int rv = 0;

	memset(s, 0, sizeof(*s));
	s->only_a = true;
	for (int i = 0; rv == 0 && off < len; i++) {
		size_t n = steps[i % 6] < len - off ? steps[i % 6] : len - off;

		rv = ows_sigv4_chunked_feed(d, body + off, n, &cb, &err);
		off += n;
	}
	if (rv == 0)
		rv = ows_sigv4_chunked_finish(d, &err);
	if (rv != 0 && getenv("SIGV4_DEBUG") != NULL)
		fprintf(stderr, "  (%d: %s)\n", rv, err.msg);
	return rv;
}

/* The S3 example body: 64 KiB and 1 KiB of 'a', then the final chunk. */
static char *doc_body(const char *const sigs[3], const char *trailers,
		      size_t *len)
{
	char *b = malloc(70000);
	size_t n;

	n = (size_t)sprintf(b, "10000;chunk-signature=%s\r\n", sigs[0]);
	memset(b + n, 'a', 65536);
	n += 65536;
	n += (size_t)sprintf(b + n, "\r\n400;chunk-signature=%s\r\n", sigs[1]);
	memset(b + n, 'a', 1024);
	n += 1024;
	n += (size_t)sprintf(b + n, "\r\n0;chunk-signature=%s\r\n%s\r\n",
			     sigs[2], trailers);
	*len = n;
	return b;
}

#define CHUNKED_HEAD(signed, seed, mode)                                       \
	"PUT /examplebucket/chunkObject.txt HTTP/1.1\nHost:s3.amazonaws.com\n" \
	"x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_"            \
	"REDUNDANCY\n"                                                         \
	"Authorization:AWS4-HMAC-SHA256 Credential=" S3_CRED                   \
	",SignedHeaders=" signed ",Signature=" seed "\n"                       \
				 "x-amz-content-sha256:" mode                  \
				 "\nContent-Encoding:aws-chunked\n"            \
				 "x-amz-decoded-content-length:66560\n"

static const char *const doc_sigs[3] = {
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
};

/* Verify the seed, then start a decoder from the parsed request. */
static void doc_decoder(const char *head, struct ows_sigv4_chunked *d,
			int64_t decoded_length)
{
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	struct treq t;

	treq_parse(&t, head);
	OWS_CHECK_INT(ows_sigv4_parse(&t.req, &a, &err), 0);
	OWS_CHECK_INT(
	    ows_sigv4_verify(&t.req, &a, S3_SECRET, S3_NOW, NULL, &err), 0);
	OWS_CHECK_INT(
	    ows_sigv4_chunked_init_auth(d, &a, S3_SECRET, decoded_length), 0);
}

#define DOC_HEAD                                                               \
	CHUNKED_HEAD(                                                          \
	    "content-encoding;content-length;host;x-amz-content-sha256;"       \
	    "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",     \
	    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a"  \
	    "9",                                                               \
	    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")                              \
	"Content-Length:66824\n"

OWS_TEST(sigv4_s3_doc_chunked)
{
	struct ows_sigv4_chunked d;
	struct sink s;
	size_t len;
	char *body = doc_body(doc_sigs, "", &len);

	OWS_CHECK_INT(len, 66824);
	doc_decoder(DOC_HEAD, &d, 66560);
	OWS_CHECK_INT(feed_all(&d, body, len, &s), 0);
	OWS_CHECK_INT(s.len, 66560);
	OWS_CHECK(s.only_a);
	ows_sigv4_chunked_close(&d);
	free(body);
}

OWS_TEST(sigv4_chunked_tampered_and_truncated)
{
	struct ows_sigv4_chunked d;
	struct sink s;
	size_t len;
	char *body = doc_body(doc_sigs, "", &len);

	body[1000] = 'b'; /* a byte inside the first chunk */
	doc_decoder(DOC_HEAD, &d, 66560);
	OWS_CHECK_INT(feed_all(&d, body, len, &s), OWS_ESIG_SIGNATURE);
	ows_sigv4_chunked_close(&d);
	body[1000] = 'a';

	/* Cut anywhere before the end: never accepted. */
	static const size_t cuts[] = {0, 5, 90, 65000, 65620, 66700, 66821};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		doc_decoder(DOC_HEAD, &d, 66560);
		OWS_CHECK_INT(feed_all(&d, body, cuts[i], &s), OWS_ESIG_BODY);
		ows_sigv4_chunked_close(&d);
	}
	/* The final chunk's signature is checked too. */
	body[len - 5] ^= 1;
	doc_decoder(DOC_HEAD, &d, 66560);
	OWS_CHECK(feed_all(&d, body, len, &s) != 0);
	ows_sigv4_chunked_close(&d);
	body[len - 5] ^= 1;
	/* Chunks in another order break the chain. */
	const char *const swapped[3] = {doc_sigs[1], doc_sigs[0], doc_sigs[2]};
	free(body);
	body = doc_body(swapped, "", &len);
	doc_decoder(DOC_HEAD, &d, 66560);
	OWS_CHECK_INT(feed_all(&d, body, len, &s), OWS_ESIG_SIGNATURE);
	ows_sigv4_chunked_close(&d);
	/* A decoded length that disagrees. */
	free(body);
	body = doc_body(doc_sigs, "", &len);
	doc_decoder(DOC_HEAD, &d, 66000);
	OWS_CHECK_INT(feed_all(&d, body, len, &s), OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
	free(body);
}

OWS_TEST(sigv4_s3_doc_chunked_trailer)
{
	static const char *const sigs[3] = {
	    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
	    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
	    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	};
	static const char head[] = CHUNKED_HEAD(
	    "content-encoding;host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
	    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
	    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") "x-amz-trailer:x-amz-"
							  "checksum-crc32c\n";
	struct ows_sigv4_chunked d;
	struct sink s;
	size_t len;
	char *body = doc_body(
	    sigs,
	    "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:"
	    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r"
	    "\n",
	    &len);

	doc_decoder(head, &d, 66560);
	OWS_CHECK_INT(feed_all(&d, body, len, &s), 0);
	OWS_CHECK_INT(s.len, 66560);
	OWS_CHECK_STR(s.trailer, "x-amz-checksum-crc32c=sOO8/Q==");
	ows_sigv4_chunked_close(&d);
	free(body);
	/* A changed checksum breaks the trailer signature. */
	body = doc_body(
	    sigs,
	    "x-amz-checksum-crc32c:sOO8/R==\r\nx-amz-trailer-signature:"
	    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r"
	    "\n",
	    &len);
	doc_decoder(head, &d, 66560);
	OWS_CHECK_INT(feed_all(&d, body, len, &s), OWS_ESIG_SIGNATURE);
	OWS_CHECK_STR(s.trailer, "");
	ows_sigv4_chunked_close(&d);
	free(body);
}

OWS_TEST(sigv4_chunked_unsigned_trailer)
{
	static const char body[] = "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-amz-"
				   "checksum-crc32:NSRBwg==\r\n\r\n";
	struct ows_sigv4_chunked d;
	struct sink s;

	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, 5),
		      0);
	OWS_CHECK_INT(feed_all(&d, body, strlen(body), &s), 0);
	OWS_CHECK_INT(s.len, 5);
	OWS_CHECK(memcmp(s.data, "abcde", 5) == 0);
	OWS_CHECK_STR(s.trailer, "x-amz-checksum-crc32=NSRBwg==");
	ows_sigv4_chunked_close(&d);
	/* Data longer than the chunk says. */
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, -1),
		      0);
	OWS_CHECK_INT(feed_all(&d, "2\r\nabc\r\n0\r\n\r\n", 14, &s),
		      OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
	/* Bytes after the end. */
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, -1),
		      0);
	OWS_CHECK_INT(feed_all(&d, "0\r\n\r\nX", 6, &s), OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
}

OWS_TEST(sigv4_chunked_header_line_bounded)
{
	struct ows_sigv4_chunked d;
	struct ows_err err = {{0}};
	char line[4096];

	memset(line, '0', sizeof(line));
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, -1),
		      0);
	OWS_CHECK_INT(
	    ows_sigv4_chunked_feed(&d, line, sizeof(line), NULL, &err),
	    OWS_ESIG_BODY);
	/* The error sticks. */
	OWS_CHECK_INT(ows_sigv4_chunked_feed(&d, "\r\n", 2, NULL, &err),
		      OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
	/* Oversized sizes and garbage are refused. */
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, -1),
		      0);
	OWS_CHECK_INT(
	    ows_sigv4_chunked_feed(&d, "ffffffffffffffff\r\n", 18, NULL, &err),
	    OWS_ESIG_CHUNK_SIZE);
	ows_sigv4_chunked_close(&d);
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, -1),
		      0);
	OWS_CHECK_INT(
	    ows_sigv4_chunked_feed(&d, "1ffffffffffffffff\r\n", 19, NULL, &err),
	    OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
			  NULL, NULL, NULL, NULL, -1),
		      0);
	OWS_CHECK_INT(ows_sigv4_chunked_feed(&d, "3\nabc", 5, NULL, &err),
		      OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
}

/* An independent chunk signer written from the S3 documentation. */
static void sign_chunk(const uint8_t key[32], const char *prev,
		       const char *data, size_t n, char out[65])
{
	char sts[512], hash[65];
	uint8_t mac[32];
	unsigned int mlen = 32;

	ows_sha256_hex(data, n, hash);
	snprintf(sts, sizeof(sts),
		 "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n"
		 "20130524/us-east-1/s3/aws4_request\n%s\n" EMPTY_SHA256 "\n%s",
		 prev, hash);
	HMAC(EVP_sha256(), key, 32, (uint8_t *)sts, strlen(sts), mac, &mlen);
	ows_hex_encode(mac, 32, out);
}

OWS_TEST(sigv4_chunked_small_chunk_refused)
{
	static const char seed[] =
	    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
	char s1[65], s2[65], s3[65], body[1024];
	struct ows_sigv4_chunked d;
	struct sink s;
	uint8_t key[32];
	int n;

	ows_sigv4_signing_key(S3_SECRET, "20130524", "us-east-1", "s3", key);
	sign_chunk(key, seed, "hello", 5, s1);
	/* One small chunk is fine: it is the last one. */
	sign_chunk(key, s1, "", 0, s2);
	n = snprintf(
	    body, sizeof(body),
	    "5;chunk-signature=%s\r\nhello\r\n0;chunk-signature=%s\r\n\r\n", s1,
	    s2);
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING, key,
			  "20130524T000000Z",
			  "20130524/us-east-1/s3/aws4_request", seed, 5),
		      0);
	OWS_CHECK_INT(feed_all(&d, body, (size_t)n, &s), 0);
	OWS_CHECK(memcmp(s.data, "hello", 5) == 0);
	ows_sigv4_chunked_close(&d);
	/* Two small chunks: the first breaks the 8 KiB rule. */
	sign_chunk(key, s1, "world", 5, s2);
	sign_chunk(key, s2, "", 0, s3);
	n = snprintf(
	    body, sizeof(body),
	    "5;chunk-signature=%s\r\nhello\r\n5;chunk-signature=%s\r\nworld\r\n"
	    "0;chunk-signature=%s\r\n\r\n",
	    s1, s2, s3);
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING, key,
			  "20130524T000000Z",
			  "20130524/us-east-1/s3/aws4_request", seed, -1),
		      0);
	OWS_CHECK_INT(feed_all(&d, body, (size_t)n, &s), OWS_ESIG_CHUNK_SIZE);
	ows_sigv4_chunked_close(&d);
	/* A chunk without its signature. */
	OWS_CHECK_INT(ows_sigv4_chunked_init(
			  &d, OWS_SIGV4_PAYLOAD_STREAMING, key,
			  "20130524T000000Z",
			  "20130524/us-east-1/s3/aws4_request", seed, -1),
		      0);
	OWS_CHECK_INT(feed_all(&d, "5\r\nhello\r\n0\r\n\r\n", 16, &s),
		      OWS_ESIG_BODY);
	ows_sigv4_chunked_close(&d);
}

/* ---- clock, credentials, malformed input ---- */

#define VANILLA_SIG                                                            \
	"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define VANILLA                                                                \
	"GET / HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH("host;x-amz-date", \
							    VANILLA_SIG)

OWS_TEST(sigv4_clock_skew)
{
	OWS_CHECK_INT(
	    check(VANILLA, SUITE_SECRET, SUITE_NOW + 900, EMPTY_SHA256), 0);
	OWS_CHECK_INT(
	    check(VANILLA, SUITE_SECRET, SUITE_NOW - 900, EMPTY_SHA256), 0);
	OWS_CHECK_INT(
	    check(VANILLA, SUITE_SECRET, SUITE_NOW + 901, EMPTY_SHA256),
	    OWS_ESIG_SKEW);
	OWS_CHECK_INT(
	    check(VANILLA, SUITE_SECRET, SUITE_NOW - 901, EMPTY_SHA256),
	    OWS_ESIG_SKEW);
}

OWS_TEST(sigv4_wrong_secret_and_tampering)
{
	struct ows_err err = {{0}};
	struct ows_sigv4_auth a;
	struct treq t;

	OWS_CHECK_INT(check(VANILLA, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz",
			    SUITE_NOW, EMPTY_SHA256),
		      OWS_ESIG_SIGNATURE);
	treq_parse(&t, VANILLA);
	OWS_CHECK_INT(ows_sigv4_parse(&t.req, &a, &err), 0);
	OWS_CHECK_INT(ows_sigv4_verify(&t.req, &a, "wrong-secret-123",
				       SUITE_NOW, EMPTY_SHA256, &err),
		      OWS_ESIG_SIGNATURE);
	OWS_CHECK(strstr(err.msg, "wrong-secret") == NULL);
	t.req.method = "PUT";
	OWS_CHECK_INT(ows_sigv4_verify(&t.req, &a, SUITE_SECRET, SUITE_NOW,
				       EMPTY_SHA256, &err),
		      OWS_ESIG_SIGNATURE);
	t.req.method = "GET";
	t.req.path = "/x";
	OWS_CHECK_INT(ows_sigv4_verify(&t.req, &a, SUITE_SECRET, SUITE_NOW,
				       EMPTY_SHA256, &err),
		      OWS_ESIG_SIGNATURE);
	t.req.path = "/";
	t.req.query = "a=1";
	OWS_CHECK_INT(ows_sigv4_verify(&t.req, &a, SUITE_SECRET, SUITE_NOW,
				       EMPTY_SHA256, &err),
		      OWS_ESIG_SIGNATURE);
	t.req.query = "";
	t.h[0].value = "evil.example.com";
	OWS_CHECK_INT(ows_sigv4_verify(&t.req, &a, SUITE_SECRET, SUITE_NOW,
				       EMPTY_SHA256, &err),
		      OWS_ESIG_SIGNATURE);
	/* A signed header that is not there. */
	t.req.n_headers = 1;
	t.h[0] = t.h[2];
	OWS_CHECK_INT(ows_sigv4_verify(&t.req, &a, SUITE_SECRET, SUITE_NOW,
				       EMPTY_SHA256, &err),
		      OWS_ESIG_SIGNATURE);
}

OWS_TEST(sigv4_unsigned_host_refused)
{
	OWS_CHECK_INT(check("GET / HTTP/1.1\n" SUITE_HOST SUITE_DATE SUITE_AUTH(
				"x-amz-date", VANILLA_SIG),
			    SUITE_SECRET, SUITE_NOW, EMPTY_SHA256),
		      OWS_ESIG_MALFORMED);
	OWS_CHECK_INT(
	    check("GET "
		  "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
		  "AKIDEXAMPLE"
		  "%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date="
		  "20150830T123600Z&X-Amz-SignedHeaders=x-amz-date&X-Amz-"
		  "Expires=60"
		  "&X-Amz-Signature=" VANILLA_SIG " HTTP/1.1\n" SUITE_HOST,
		  SUITE_SECRET, SUITE_NOW, EMPTY_SHA256),
	    OWS_ESIG_QUERY);
}

#define AUTH_LINE(v)                                                           \
	"GET / HTTP/1.1\n" SUITE_HOST SUITE_DATE "Authorization:" v "\n"
#define CRED "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

OWS_TEST(sigv4_malformed_headers)
{
	static const struct {
		const char *req;
		int rc;
	} cases[] = {
	    {"GET / HTTP/1.1\n" SUITE_HOST SUITE_DATE, OWS_ESIG_MISSING},
	    {AUTH_LINE("AWS AKIDEXAMPLE:abc"), OWS_ESIG_ARGUMENT},
	    {AUTH_LINE("AWS4-HMAC-SHA256"), OWS_ESIG_MALFORMED},
	    {AUTH_LINE("AWS4-HMAC-SHA256 " CRED
		       ", SignedHeaders=host;x-amz-date"),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE("AWS4-HMAC-SHA256 " CRED
		       ", SignedHeaders=host;x-amz-date, Signature=12"),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE("AWS4-HMAC-SHA256 "
		       "Credential=AKIDEXAMPLE/20150830/us-east-1/service, "
		       "SignedHeaders=host;x-amz-date, Signature=" VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE("AWS4-HMAC-SHA256 "
		       "Credential=/20150830/us-east-1/service/aws4_request, "
		       "SignedHeaders=host;x-amz-date, Signature=" VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE("AWS4-HMAC-SHA256 "
		       "Credential=AKIDEXAMPLE/20150831/us-east-1/service/"
		       "aws4_request, SignedHeaders=host;x-amz-date, "
		       "Signature=" VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE(
		 "AWS4-HMAC-SHA256 " CRED
		 ", SignedHeaders=x-amz-date;host, Signature=" VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE(
		 "AWS4-HMAC-SHA256 " CRED
		 ", SignedHeaders=Host;x-amz-date, Signature=" VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {AUTH_LINE(
		 "AWS4-HMAC-SHA256 " CRED
		 ", SignedHeaders=host;;x-amz-date, Signature=" VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {"GET / HTTP/1.1\n" SUITE_HOST
	     "X-Amz-Date:2015-08-30T12:36:00Z\n" SUITE_AUTH("host;x-amz-date",
							    VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {"GET / HTTP/1.1\n" SUITE_HOST SUITE_AUTH("host", VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {VANILLA SUITE_AUTH("host;x-amz-date", VANILLA_SIG),
	     OWS_ESIG_MALFORMED},
	    {VANILLA
	     "x-amz-content-sha256:STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD\n",
	     OWS_ESIG_ARGUMENT},
	    {VANILLA "x-amz-content-sha256:abc\n", OWS_ESIG_ARGUMENT},
	    {"GET /?X-Amz-Algorithm=AWS4-HMAC-SHA1 HTTP/1.1\n" SUITE_HOST,
	     OWS_ESIG_QUERY},
	    {"GET /?X-Amz-Signature=" VANILLA_SIG " HTTP/1.1\n" SUITE_HOST,
	     OWS_ESIG_QUERY},
	};
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	struct treq t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		treq_parse(&t, cases[i].req);
		if (ows_sigv4_parse(&t.req, &a, &err) != cases[i].rc) {
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
			OWS_CHECK(0);
		}
	}
	/* The order of the parameters and the spaces between do not matter. */
	OWS_CHECK_INT(check(AUTH_LINE("AWS4-HMAC-SHA256 Signature=" VANILLA_SIG
				      ",SignedHeaders="
				      "host;x-amz-date,  " CRED),
			    SUITE_SECRET, SUITE_NOW, EMPTY_SHA256),
		      0);
}

OWS_TEST(sigv4_payload_modes)
{
	struct ows_sigv4_auth a;
	struct ows_err err = {{0}};
	struct treq t;

	/* Other services sign the body's hash when the header is absent. */
	treq_parse(&t, VANILLA);
	OWS_CHECK_INT(ows_sigv4_parse(&t.req, &a, &err), 0);
	OWS_CHECK_INT(a.payload, OWS_SIGV4_PAYLOAD_BODY);
	OWS_CHECK(!a.s3 && !a.presigned && !a.has_security_token);
	OWS_CHECK_INT(
	    ows_sigv4_verify(&t.req, &a, SUITE_SECRET, SUITE_NOW, NULL, &err),
	    -EINVAL);
	/* S3 requires x-amz-content-sha256. */
	OWS_CHECK_INT(
	    check(
		"GET /test.txt HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"
		"x-amz-date:20130524T000000Z\nAuthorization:AWS4-HMAC-SHA256 "
		"Credential=" S3_CRED
		",SignedHeaders=host;x-amz-date,Signature=" VANILLA_SIG "\n",
		S3_SECRET, S3_NOW, EMPTY_SHA256),
	    OWS_ESIG_REQUEST);
	treq_parse(&t, VANILLA
		   "x-amz-content-sha256:STREAMING-UNSIGNED-PAYLOAD-TRAILER\n"
		   "X-Amz-Security-Token:t\n");
	OWS_CHECK_INT(ows_sigv4_parse(&t.req, &a, &err), 0);
	OWS_CHECK_INT(a.payload, OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER);
	OWS_CHECK(a.has_security_token);
	OWS_CHECK_INT(ows_sigv4_payload_check(&a, NULL, &err), 0);
}

/* ---- the signer, against the published signatures ---- */

OWS_TEST(sigv4_sign_header_matches_vectors)
{
	static const char s3_get[] =
	    "GET /test.txt HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n"
	    "Range:bytes=0-9\nx-amz-content-sha256:" EMPTY_SHA256 "\n"
	    "x-amz-date:20130524T000000Z\n";
	char out[512];
	struct treq t;

	treq_parse(&t, "GET / HTTP/1.1\n" SUITE_HOST SUITE_DATE);
	OWS_CHECK_INT(ows_sigv4_sign_header(&t.req, "AKIDEXAMPLE", SUITE_SECRET,
					    "us-east-1", "service",
					    EMPTY_SHA256, out, sizeof(out)),
		      0);
	OWS_CHECK_STR(out, "AWS4-HMAC-SHA256 "
			   "Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
			   "aws4_request, SignedHeaders=host;x-amz-date, "
			   "Signature=" VANILLA_SIG);
	treq_parse(&t, s3_get);
	OWS_CHECK_INT(ows_sigv4_sign_header(&t.req, "AKIAIOSFODNN7EXAMPLE",
					    S3_SECRET, "us-east-1", "s3",
					    EMPTY_SHA256, out, sizeof(out)),
		      0);
	OWS_CHECK(
	    strstr(
		out,
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ") !=
	    NULL);
	OWS_CHECK(strstr(out, "Signature="
			      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48d"
			      "d91039c6036bdb41") != NULL);
	/* Too small an output, no date. */
	OWS_CHECK_INT(ows_sigv4_sign_header(&t.req, "AKIAIOSFODNN7EXAMPLE",
					    S3_SECRET, "us-east-1", "s3",
					    EMPTY_SHA256, out, 40),
		      -ENOSPC);
	treq_parse(&t, "GET / HTTP/1.1\n" SUITE_HOST);
	OWS_CHECK_INT(ows_sigv4_sign_header(&t.req, "AKIDEXAMPLE", SUITE_SECRET,
					    "us-east-1", "service",
					    EMPTY_SHA256, out, sizeof(out)),
		      -EINVAL);
}

OWS_TEST(sigv4_sign_verify_round_trip_odd_paths)
{
	static const char *const paths[] = {"/a%20b/c%2Fd",
					    "/bucket/k%E2%82%AC+y",
					    "/x/../y/./z//", "/%7Euser/%41"};
	char out[512], text[1024];
	struct treq t;

	for (size_t i = 0; i < 4; i++) {
		for (int s3 = 0; s3 < 2; s3++) {
			snprintf(
			    text, sizeof(text),
			    "PUT %s?b=2&a=1&a=0&c "
			    "HTTP/1.1\nHost:h\nX-Amz-Date:20150830T123600Z\n"
			    "x-amz-content-sha256:UNSIGNED-PAYLOAD\nX-Amz-Meta-"
			    "A:  x   y \n",
			    paths[i]);
			treq_parse(&t, text);
			OWS_CHECK_INT(ows_sigv4_sign_header(
					  &t.req, "AK", "sec", "r1",
					  s3 ? "s3" : "svc", "UNSIGNED-PAYLOAD",
					  out, sizeof(out)),
				      0);
			snprintf(text + strlen(text),
				 sizeof(text) - strlen(text),
				 "Authorization:%s\n", out);
			OWS_CHECK_INT(check(text, "sec", SUITE_NOW, NULL), 0);
		}
	}
}

OWS_TEST(sigv4_error_mapping)
{
	const char *code, *msg;

	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_SIGNATURE, true, &code, &msg),
		      403);
	OWS_CHECK_STR(code, "SignatureDoesNotMatch");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_MISSING, false, &code, NULL),
		      403);
	OWS_CHECK_STR(code, "MissingAuthenticationToken");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_MISSING, true, &code, NULL),
		      403);
	OWS_CHECK_STR(code, "AccessDenied");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_MALFORMED, false, &code, NULL),
		      400);
	OWS_CHECK_STR(code, "IncompleteSignature");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_EXPIRED, true, &code, &msg),
		      403);
	OWS_CHECK_STR(msg, "Request has expired");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_SHA256, true, &code, NULL),
		      400);
	OWS_CHECK_STR(code, "XAmzContentSHA256Mismatch");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_QUERY, true, &code, NULL),
		      400);
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_SKEW, true, &code, NULL), 403);
	OWS_CHECK_STR(code, "RequestTimeTooSkewed");
	OWS_CHECK_INT(ows_sigv4_error(OWS_ESIG_ACCESS_KEY, true, &code, NULL),
		      403);
	OWS_CHECK_STR(code, "InvalidAccessKeyId");
	OWS_CHECK_INT(ows_sigv4_error(-ENOMEM, true, &code, NULL), 500);
}
