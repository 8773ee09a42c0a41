/*
 * Unit tests: anonymous requests on the seam. A service that takes them
 * (svc->anonymous) gets an unsigned request as a call from caller kind ""
 * through the real aws/call.c over loopback HTTP, whole or streamed,
 * while a signed one is checked as ever; services that do not (Lambda,
 * STS) refuse it. And the judgement of an anonymous caller
 * (ledger/authz.c): no identity policies, only a resource policy's
 * "Principal": "*" allows, only reads, and an explicit Deny still wins.
 */
#include "../lib/unit.h"

#include <errno.h>

#include "auth/sigv4.h"
#include "aws/auth.h"
#include "aws/registry.h"
#include "common/enc.h"
#include "http/http.h"
#include "lambda/lambda.h"
#include "ledger/authz.h"
#include "sts/sts.h"

#define CHECK OWS_CHECK
#define CHECK_INT OWS_CHECK_INT
#define CHECK_STR OWS_CHECK_STR

#define KEY "AKIDANONTEST00000000"
#define SECRET "anon/secret+0123456789abcdefghijklmnopq"
#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static int secret_of(void *ud, const char *id, char user[256],
		     struct ows_buf *out)
{
	(void)ud;
	if (strcmp(id, "AKIAIOSFODNN7EXAMPLE") == 0) {
		/* the S3 API Reference's examples' key */
		snprintf(user, 256, "johnsmith");
		return ows_buf_puts(out, "wJalrXUtnFEMI/K7MDENG/"
					 "bPxRfiCYEXAMPLEKEY");
	}
	if (strcmp(id, KEY) != 0)
		return -ENOENT;
	snprintf(user, 256, "dev");
	return ows_buf_puts(out, SECRET);
}

static const uint8_t session_key[32];
static const struct ows_aws_keys keys = {.secret = secret_of,
					 .session_key = session_key,
					 .region = "us-east-1",
					 .now = NOW};

/* The handlers answer "KIND/NAME BYTES" (the bytes of the body seen). */
static size_t streamed;

static void answer(struct ows_aws_call *c, size_t len)
{
	char text[600];

	snprintf(text, sizeof(text), "%s/%s %zu%s", c->caller.kind,
		 c->caller.name, len, ows_aws_call_sigv2(c) ? " v2" : "");
	ows_aws_reply(c, 200, NULL, 0, text, strlen(text));
}

static void whole_handle(struct ows_aws_call *c)
{
	answer(c, c->len);
}

static void chunk_cb(struct ows_aws_call *c, int status, const void *data,
		     size_t len, bool last)
{
	(void)data;
	if (status != 0) {
		ows_aws_error(c, 400, "Stream", "status %d", status);
		return;
	}
	streamed += len;
	if (last)
		answer(c, streamed);
}

static void stream_handle(struct ows_aws_call *c)
{
	streamed = 0;
	CHECK_INT(ows_aws_call_stream(c, 1 << 20, chunk_cb), 0);
}

static const struct ows_aws_service open_whole = {
    .name = "s3",
    .protocol = OWS_AWS_REST_XML,
    .body_mode = OWS_AWS_BODY_WHOLE,
    .body_limit = 4096,
    .handle = whole_handle,
    .anonymous = true,
};
static const struct ows_aws_service open_stream = {
    .name = "s3",
    .protocol = OWS_AWS_REST_XML,
    .body_mode = OWS_AWS_BODY_STREAM,
    .body_limit = 4096,
    .handle = stream_handle,
    .anonymous = true,
};
static const struct ows_aws_service closed_whole = {
    .name = "s3",
    .protocol = OWS_AWS_REST_XML,
    .body_mode = OWS_AWS_BODY_WHOLE,
    .body_limit = 4096,
    .handle = whole_handle,
    .anonymous = false,
};

struct server {
	uv_loop_t loop;
	struct ows_http_server http;
	const struct ows_aws_service *svc;
	struct ows_aws_host host;
};

static void on_request(struct ows_http_req *req, void *ud)
{
	struct server *s = ud;

	ows_aws_call_start(s->svc, &s->host, &keys, req);
}

static void server_init(struct server *s)
{
	memset(s, 0, sizeof(*s));
	CHECK_INT(uv_loop_init(&s->loop), 0);
	s->host.loop = &s->loop;
	s->host.region = "us-east-1";
	CHECK_INT(ows_http_server_init(&s->http, &s->loop, NULL, on_request, s),
		  0);
	CHECK_INT(ows_http_server_listen(&s->http, "127.0.0.1:0"), 0);
}

static void server_closed(struct ows_http_server *h)
{
	(void)h;
}

static void server_close(struct server *s)
{
	ows_http_server_close(&s->http, server_closed);
	ows_http_client_close_idle(&s->loop);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
}

struct answer {
	bool done;
	int status;
	char body[1024];
};

static void got(void *ud, int status, const struct ows_http_response *resp)
{
	struct answer *a = ud;

	a->done = true;
	CHECK_INT(status, 0);
	a->status = resp->status;
	snprintf(a->body, sizeof(a->body), "%.*s", (int)resp->body_len,
		 resp->body);
}

/*
 * PUT target with body through s->svc; signed by KEY with secret when
 * secret is not NULL (UNSIGNED-PAYLOAD), else with no credentials.
 */
static void put(struct server *s, const struct ows_aws_service *svc,
		const char *target, const char *secret, const char *body,
		struct answer *a)
{
	struct ows_http_header h[5];
	struct ows_sigv4_header sh[4];
	struct ows_sigv4_request sr;
	char auth[1024];
	size_t n = 0;

	s->svc = svc;
	h[n++] = (struct ows_http_header){"Host", "node.test:4566"};
	h[n++] = (struct ows_http_header){"X-Amz-Date", "20260101T000000Z"};
	h[n++] = (struct ows_http_header){"x-amz-content-sha256",
					  "UNSIGNED-PAYLOAD"};
	if (secret != NULL) {
		for (size_t i = 0; i < n; i++)
			sh[i] =
			    (struct ows_sigv4_header){h[i].name, h[i].value};
		sr = (struct ows_sigv4_request){"PUT", target, "", sh, n};
		CHECK_INT(ows_sigv4_sign_header(&sr, KEY, secret, "us-east-1",
						"s3", "UNSIGNED-PAYLOAD", auth,
						sizeof(auth)),
			  0);
		h[n++] = (struct ows_http_header){"Authorization", auth};
	}
	memset(a, 0, sizeof(*a));
	CHECK_INT(ows_http_client_request(&s->loop, s->http.bound, "PUT",
					  target, h, n, body, strlen(body),
					  NULL, got, a),
		  0);
	while (!a->done)
		uv_run(&s->loop, UV_RUN_ONCE);
}

OWS_TEST(anonymous_call_reaches_handle)
{
	struct server s;
	struct answer a;

	server_init(&s);
	/* unsigned: the handler sees nobody, and the body */
	put(&s, &open_whole, "/b/k", NULL, "hello", &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.body, "/ 5");
	put(&s, &open_stream, "/b/k", NULL, "hello world", &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.body, "/ 11");
	/* signed: checked as ever, and the caller is the key's user */
	put(&s, &open_whole, "/b/k", SECRET, "hello", &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.body, "users/dev 5");
	put(&s, &open_stream, "/b/k", SECRET, "hello", &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.body, "users/dev 5");
	/* a wrong signature is still refused, never taken as anonymous */
	put(&s, &open_whole, "/b/k", "wrong", "hello", &a);
	CHECK_INT(a.status, 403);
	CHECK(strstr(a.body, "<Code>SignatureDoesNotMatch</Code>") != NULL);
	put(&s, &open_stream, "/b/k", "wrong", "hello", &a);
	CHECK_INT(a.status, 403);
	CHECK(strstr(a.body, "<Code>SignatureDoesNotMatch</Code>") != NULL);
	/* half a presigned URL is credentials, and malformed */
	put(&s, &open_whole, "/b/k?X-Amz-Signature=abc", NULL, "x", &a);
	CHECK_INT(a.status, 400);
	/* SigV2 query credentials: anonymous until the service checks them
	   (S3's sigv2.c), flagged for it */
	s.svc = &open_whole;
	put(&s, &open_whole, "/b/k?AWSAccessKeyId=AKID&Signature=x&Expires=9",
	    NULL, "x", &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.body, "/ 1 v2");
	put(&s, &open_whole, "/b/k", NULL, "x", &a);
	CHECK_STR(a.body, "/ 1");
	/* a service that takes no anonymous requests refuses them */
	put(&s, &closed_whole, "/b/k", NULL, "hello", &a);
	CHECK_INT(a.status, 403);
	CHECK(strstr(a.body, "<Code>AccessDenied</Code>") != NULL);
	server_close(&s);
}

OWS_TEST(anonymous_refused_by_lambda_and_sts)
{
	struct server s;
	struct answer a;

	/* their tables keep anonymous false: refused before handle() */
	CHECK(!ows_lambda_service.anonymous);
	CHECK(!ows_sts_service.anonymous);
	server_init(&s);
	put(&s, &ows_lambda_service, "/2015-03-31/functions/f/invocations",
	    NULL, "{}", &a);
	CHECK_INT(a.status, 403);
	CHECK(strstr(a.body, "MissingAuthenticationToken") != NULL);
	put(&s, &ows_sts_service, "/", NULL, "Action=GetCallerIdentity", &a);
	CHECK_INT(a.status, 403);
	CHECK(strstr(a.body, "<ErrorResponse") != NULL);
	/* every registered service but S3 refuses anonymous requests */
	for (size_t i = 0; ows_aws_services[i] != NULL; i++)
		if (strcmp(ows_aws_services[i]->name, "s3") != 0)
			CHECK(!ows_aws_services[i]->anonymous);
	server_close(&s);
}

/* ---- the judgement of an anonymous caller ---- */

static json_t *ident_docs;

static int user_policies(void *ud, const char *user, json_t *out)
{
	(void)ud;
	(void)user;
	return json_array_extend(out, ident_docs);
}

static const char *const obj_arns[] = {"arn:ows:s3:::pub/a.txt",
				       "arn:aws:s3:::pub/a.txt", NULL};

static int judge(const struct ows_principal *who, const char *action,
		 const char *policy, const char *ip)
{
	struct ows_directory dir = {.user_policies = user_policies};
	struct ows_authz_ctx rc = {ip, false, (int64_t)NOW * 1000, "us-east-1"};
	json_t *rp = policy ? json_loads(policy, 0, NULL) : NULL;
	int rv;

	CHECK(policy == NULL || rp != NULL);
	rv = ows_principal_authorize_rp(&dir, who, action, obj_arns, NULL, rp,
					"123456789012", &rc);
	json_decref(rp);
	return rv;
}

#define RP(principal, effect, action, extra)                                   \
	"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"" effect \
	"\", \"Principal\": " principal ", \"Action\": \"" action "\", "       \
	"\"Resource\": \"arn:aws:s3:::pub/*\"" extra "}]}"

OWS_TEST(anonymous_judged_by_resource_policy_only)
{
	const struct ows_principal anon = {"", ""};
	const struct ows_principal dev = {"users", "dev"};

	ident_docs = json_loads("[{\"Statement\": [{\"Effect\": \"Allow\", "
				"\"Action\": \"*\", \"Resource\": \"*\"}]}]",
				0, NULL);
	/* nothing allows nobody without a resource policy */
	CHECK_INT(judge(&anon, "s3:GetObject", NULL, "10.0.0.1"), OWS_EDENIED);
	/* "*" and {"AWS": "*"} allow reads */
	CHECK_INT(judge(&anon, "s3:GetObject",
			RP("\"*\"", "Allow", "s3:GetObject", ""), "10.0.0.1"),
		  0);
	CHECK_INT(judge(&anon, "s3:GetObject",
			RP("{\"AWS\": \"*\"}", "Allow", "s3:GetObject", ""),
			"10.0.0.1"),
		  0);
	CHECK_INT(judge(&anon, "s3:GetObject",
			RP("{\"AWS\": [\"*\"]}", "Allow", "s3:Get*", ""),
			"10.0.0.1"),
		  0);
	/* another action than the one granted */
	CHECK_INT(judge(&anon, "s3:GetObjectTagging",
			RP("\"*\"", "Allow", "s3:GetObject", ""), "10.0.0.1"),
		  OWS_EDENIED);
	/* a named principal, the account: not nobody */
	CHECK_INT(judge(&anon, "s3:GetObject",
			RP("{\"AWS\": \"arn:aws:iam::123456789012:user/dev\"}",
			   "Allow", "s3:GetObject", ""),
			"10.0.0.1"),
		  OWS_EDENIED);
	CHECK_INT(judge(&anon, "s3:GetObject",
			RP("{\"AWS\": \"123456789012\"}", "Allow",
			   "s3:GetObject", ""),
			"10.0.0.1"),
		  OWS_EDENIED);
	/* writes are never opened to nobody, whatever the policy says */
	CHECK_INT(judge(&anon, "s3:PutObject", RP("\"*\"", "Allow", "s3:*", ""),
			"10.0.0.1"),
		  OWS_EDENIED);
	CHECK_INT(judge(&anon, "s3:DeleteObject", RP("\"*\"", "Allow", "*", ""),
			"10.0.0.1"),
		  OWS_EDENIED);
	CHECK_INT(judge(&anon, "s3:PutBucketPolicy",
			RP("\"*\"", "Allow", "*", ""), "10.0.0.1"),
		  OWS_EDENIED);
	/* but a user is granted writes by the same policy */
	json_decref(ident_docs);
	ident_docs = json_array();
	CHECK_INT(judge(&dev, "s3:PutObject", RP("\"*\"", "Allow", "s3:*", ""),
			"10.0.0.1"),
		  0);
	/* conditions hold for nobody as for anyone */
	CHECK_INT(
	    judge(&anon, "s3:GetObject",
		  RP("\"*\"", "Allow", "s3:GetObject",
		     ", \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": "
		     "\"10.0.0.0/8\"}}"),
		  "10.0.0.1"),
	    0);
	CHECK_INT(
	    judge(&anon, "s3:GetObject",
		  RP("\"*\"", "Allow", "s3:GetObject",
		     ", \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": "
		     "\"10.0.0.0/8\"}}"),
		  "192.168.1.1"),
	    OWS_EDENIED);
	/* nobody has no user name nor principal ARN */
	CHECK_INT(
	    judge(&anon, "s3:GetObject",
		  RP("\"*\"", "Allow", "s3:GetObject",
		     ", \"Condition\": {\"StringLike\": {\"aws:username\": "
		     "\"*\"}}"),
		  "10.0.0.1"),
	    OWS_EDENIED);
	CHECK_INT(judge(&anon, "s3:GetObject",
			RP("\"*\"", "Allow", "s3:GetObject",
			   ", \"Condition\": {\"Null\": {\"aws:PrincipalArn\": "
			   "\"true\"}}"),
			"10.0.0.1"),
		  0);
	/* an explicit Deny still wins */
	CHECK_INT(
	    judge(&anon, "s3:GetObject",
		  "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": "
		  "\"*\", \"Action\": \"s3:GetObject\", \"Resource\": "
		  "\"arn:aws:s3:::pub/*\"}, {\"Effect\": \"Deny\", "
		  "\"Principal\": \"*\", \"Action\": \"s3:*\", "
		  "\"Resource\": \"arn:aws:s3:::pub/a.txt\"}]}",
		  "10.0.0.1"),
	    OWS_EDENIED);
	/* nobody is no user: the plain judgement refuses it */
	{
		struct ows_directory dir = {.user_policies = user_policies};
		struct ows_authz_ctx rc = {"10.0.0.1", false,
					   (int64_t)NOW * 1000, NULL};

		CHECK_INT(ows_principal_authorize(&dir, &anon, "s3:GetObject",
						  obj_arns[1], &rc),
			  OWS_EDENIED);
	}
	CHECK(ows_authz_anonymous_action("s3:GetObject"));
	CHECK(ows_authz_anonymous_action("s3:ListBucket"));
	CHECK(!ows_authz_anonymous_action("s3:PutObject"));
	CHECK(!ows_authz_anonymous_action("s3:DeleteObject"));
	CHECK(!ows_authz_anonymous_action("GetObject"));
	json_decref(ident_docs);
}

/* ---- a form upload's signature (aws/post_auth.c) ---- */

#include <openssl/evp.h>
#include <openssl/hmac.h>

static void post_sign(const char *secret, const char *date, const char *policy,
		      char hex[65])
{
	uint8_t key[32], mac[32];
	unsigned int n;

	ows_sigv4_signing_key(secret, date, "us-east-1", "s3", key);
	HMAC(EVP_sha256(), key, 32, (const uint8_t *)policy, strlen(policy),
	     mac, &n);
	ows_hex_encode(mac, 32, hex);
}

OWS_TEST(anonymous_post_form_signature)
{
	struct ows_aws_call_priv p;
	struct ows_aws_call c;
	struct ows_err err = {{0}};
	const char *cred = KEY "/20260101/us-east-1/s3/aws4_request";
	const char *policy = "eyJleHBpcmF0aW9uIjogIjIwMjYifQ==";
	char sig[65], bad[65];

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	c.svc = &open_whole;
	c.priv = &p;
	p.keys = &keys;
	CHECK_INT(ows__aws_auth_anonymous(&p.auth), 0);
	post_sign(SECRET, "20260101", policy, sig);
	post_sign("wrong", "20260101", policy, bad);
	/* a wrong secret, a wrong scope, an unknown key: refused */
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA256", cred,
					 "20260101T000000Z", policy, bad, NULL,
					 &err),
		  OWS_ESIG_SIGNATURE);
	CHECK_STR(c.caller.kind, "");
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA256",
					 KEY "/20260101/eu-west-1/s3/"
					     "aws4_request",
					 "20260101T000000Z", policy, sig, NULL,
					 &err),
		  OWS_ESIG_SCOPE);
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA256",
					 "AKIDNOSUCHKEY0000000/20260101/"
					 "us-east-1/s3/aws4_request",
					 "20260101T000000Z", policy, sig, NULL,
					 &err),
		  OWS_ESIG_ACCESS_KEY);
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA1", cred,
					 "20260101T000000Z", policy, sig, NULL,
					 &err),
		  OWS_ESIG_ARGUMENT);
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA256", cred,
					 "20251231T000000Z", policy, sig, NULL,
					 &err),
		  OWS_ESIG_ARGUMENT);
	/* another policy than the one signed */
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA256", cred,
					 "20260101T000000Z", "e30=", sig, NULL,
					 &err),
		  OWS_ESIG_SIGNATURE);
	CHECK_STR(c.caller.kind, "");
	/* signed: the call is the key's user's */
	CHECK_INT(ows_aws_call_auth_post(&c, "AWS4-HMAC-SHA256", cred,
					 "20260101T000000Z", policy, sig, NULL,
					 &err),
		  0);
	CHECK_STR(c.caller.kind, "users");
	CHECK_STR(c.caller.name, "dev");
	CHECK_STR(c.caller.access_key, KEY);
	/* Signature Version 2: Base64(HMAC-SHA1(secret, string to sign)) */
	{
		uint8_t mac[20];
		unsigned int n;
		char b64[OWS_B64_LEN(20)];

		memset(&c.caller, 0, sizeof(c.caller));
		HMAC(EVP_sha1(), SECRET, (int)strlen(SECRET),
		     (const uint8_t *)policy, strlen(policy), mac, &n);
		ows_b64_encode(mac, 20, b64);
		CHECK_INT(
		    ows_aws_call_auth_v2(&c, KEY, "e30=", b64, NULL, &err),
		    OWS_ESIG_SIGNATURE);
		CHECK_INT(ows_aws_call_auth_v2(&c, "AKIDNOSUCHKEY0000000",
					       policy, b64, NULL, &err),
			  OWS_ESIG_ACCESS_KEY);
		CHECK_STR(c.caller.kind, "");
		CHECK_INT(
		    ows_aws_call_auth_v2(&c, KEY, policy, b64, NULL, &err), 0);
		CHECK_STR(c.caller.name, "dev");
	}
	/* the S3 API Reference's query string example (Signature Version
	   2): GET of /johnsmith/photos/puppy.jpg expiring at 1175139620 */
	memset(&c.caller, 0, sizeof(c.caller));
	CHECK_INT(ows_aws_call_auth_v2(&c, "AKIAIOSFODNN7EXAMPLE",
				       "GET\n\n\n1175139620\n/johnsmith/photos/"
				       "puppy.jpg",
				       "NpgCjnDzrM+WFzoENXmpNDUsSn8=", NULL,
				       &err),
		  0);
	CHECK_STR(c.caller.name, "johnsmith");
	CHECK_INT(ows_aws_call_auth_v2(&c, "AKIAIOSFODNN7EXAMPLE",
				       "GET\n\n\n1175139621\n/johnsmith/photos/"
				       "puppy.jpg",
				       "NpgCjnDzrM+WFzoENXmpNDUsSn8=", NULL,
				       &err),
		  OWS_ESIG_SIGNATURE);
}
