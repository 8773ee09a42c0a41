/*
 * Unit tests: the S3 access parts that need no call (src/s3/access.h):
 * bucket policies checked as PutBucketPolicy checks them, and judged by
 * the host's evaluator with the forms copied from AWS; CORS
 * configurations read from S3's XML, written back, and matched.
 */
#include "../lib/unit.h"

#include "common/enc.h"
#include "http/http.h"
#include "ledger/authz.h"
#include "s3/access.h"

#define CHECK OWS_CHECK
#define CHECK_INT OWS_CHECK_INT
#define CHECK_STR OWS_CHECK_STR

static int parse_policy(const char *text, const char *why)
{
	struct ows_err err = {{0}};
	const char *code = NULL;
	json_t *doc = NULL;
	int rv =
	    ows__s3_policy_parse(text, strlen(text), "pics", &doc, &code, &err);

	if (rv == 0) {
		CHECK(doc != NULL);
		json_decref(doc);
	} else {
		CHECK(doc == NULL);
		CHECK_STR(code, "MalformedPolicy");
		if (why != NULL && strstr(err.msg, why) == NULL) {
			fprintf(stderr, "message: %s\n", err.msg);
			CHECK(0);
		}
	}
	return rv;
}

#define STMT(body) "{\"Version\": \"2012-10-17\", \"Statement\": [" body "]}"

OWS_TEST(s3_policy_check)
{
	/* copied from the S3 User Guide's examples: accepted */
	CHECK_INT(parse_policy(STMT("{\"Sid\": \"PublicRead\", \"Effect\": "
				    "\"Allow\", \"Principal\": "
				    "\"*\", \"Action\": [\"s3:GetObject\", "
				    "\"s3:GetObjectVersion\"], "
				    "\"Resource\": [\"arn:aws:s3:::pics/*\"]}"),
			       NULL),
		  0);
	CHECK_INT(
	    parse_policy(
		STMT("{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
		     "\"arn:aws:iam::111122223333:user/dev\"}, \"Action\": "
		     "\"s3:ListBucket\", \"Resource\": \"arn:aws:s3:::pics\", "
		     "\"Condition\": {\"StringLike\": {\"s3:prefix\": "
		     "[\"home/*\"]}}}"),
		NULL),
	    0);
	CHECK_INT(
	    parse_policy(
		STMT("{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": "
		     "\"s3:*\", "
		     "\"Resource\": [\"arn:aws:s3:::pics\", "
		     "\"arn:aws:s3:::pics/*\"], "
		     "\"Condition\": {\"Bool\": {\"aws:SecureTransport\": "
		     "\"false\"}}},"
		     "{\"Effect\": \"Deny\", \"Principal\": {\"AWS\": \"*\"}, "
		     "\"Action\": \"s3:*\", \"Resource\": "
		     "\"arn:ows:s3:::pics/*\", "
		     "\"Condition\": {\"NotIpAddress\": {\"aws:SourceIp\": "
		     "[\"192.0.2.0/24\", \"2001:db8::/32\"]}}}"),
		NULL),
	    0);
	/* unknown actions are fine, as on S3 */
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:NoSuchThing\", \"Resource\": "
		    "\"arn:aws:s3:::pics/*\"}"),
		NULL),
	    0);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::pics/*\", "
		    "\"Condition\": {\"StringLike\": {\"aws:Referer\": "
		    "\"http://www.example.com/*\"}}}"),
		NULL),
	    0);
	/* refused */
	CHECK_INT(parse_policy("not json", "first byte must be '{'"),
		  OWS_EINVAL);
	CHECK_INT(parse_policy("{\"Statement\": [", "invalid Json"),
		  OWS_EINVAL);
	CHECK_INT(parse_policy("{\"Version\": \"2012-10-17\"}",
			       "Missing required field Statement"),
		  OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT("{\"Principal\": \"*\", \"Action\": \"s3:GetObject\", "
		     "\"Resource\": \"arn:aws:s3:::pics/*\"}"),
		"Missing required field Effect"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT("{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", "
		     "\"Resource\": \"arn:aws:s3:::pics/*\"}"),
		"Missing required field Principal"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT("{\"Effect\": \"Allow\", \"Principal\": \"someone\", "
		     "\"Action\": \"s3:GetObject\", \"Resource\": "
		     "\"arn:aws:s3:::pics/*\"}"),
		"Invalid principal"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": "
		    "\"arn:aws:s3:::other/*\"}"),
		"Policy has invalid resource"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": "
		    "\"arn:aws:s3:::picsmore/*\"}"),
		"Policy has invalid resource"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": \"*\"}"),
		"Policy has invalid resource"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(STMT("{\"Effect\": \"Allow\", \"Principal\": \"*\", "
			      "\"Resource\": \"arn:aws:s3:::pics/*\"}"),
			 "Missing required field Action"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Maybe\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::pics/*\"}"),
		"Effect"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::pics/*\", "
		    "\"Condition\": {\"StringEquals\": {\"s3:NoSuchKey\": "
		    "\"x\"}}}"),
		"invalid condition key"),
	    OWS_EINVAL);
	CHECK_INT(
	    parse_policy(
		STMT(
		    "{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		    "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::pics/*\", "
		    "\"Condition\": {\"IpAddress\": {\"aws:SourceIp\": "
		    "\"nope\"}}}"),
		"IP address"),
	    OWS_EINVAL);
}

/* ---- a bucket policy judged as the host judges it ---- */

static json_t *ident;

static int user_policies(void *ud, const char *user, json_t *out)
{
	(void)ud;
	(void)user;
	return json_array_extend(out, ident);
}

static int judge(const char *kind, const char *name, const char *action,
		 const char *key, const json_t *extra, const char *policy,
		 const char *ip)
{
	struct ows_directory dir = {.user_policies = user_policies};
	struct ows_principal who = {kind, name};
	struct ows_authz_ctx rc = {ip, false, 1767225600000LL, "us-east-1"};
	char a1[256], a2[256];
	const char *arns[3] = {a1, a2, NULL};
	const char *code;
	struct ows_err err;
	json_t *rp = NULL;
	int rv;

	snprintf(a1, sizeof(a1), "arn:ows:s3:::pics%s%s", key ? "/" : "",
		 key ? key : "");
	snprintf(a2, sizeof(a2), "arn:aws:s3:::pics%s%s", key ? "/" : "",
		 key ? key : "");
	if (policy != NULL)
		CHECK_INT(ows__s3_policy_parse(policy, strlen(policy), "pics",
					       &rp, &code, &err),
			  0);
	rv = ows_principal_authorize_rp(&dir, &who, action, arns, extra, rp,
					"123456789012", &rc);
	json_decref(rp);
	return rv;
}

OWS_TEST(s3_policy_judged)
{
	const char *prefix = STMT(
	    "{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
	    "\"arn:aws:iam::123456789012:user/dev\"}, \"Action\": "
	    "\"s3:ListBucket\", \"Resource\": \"arn:aws:s3:::pics\", "
	    "\"Condition\": {\"StringLike\": {\"s3:prefix\": \"home/*\"}}}");
	const char *ip =
	    STMT("{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": "
		 "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::pics/*\", "
		 "\"Condition\": {\"IpAddress\": {\"aws:SourceIp\": "
		 "\"10.1.0.0/16\"}}}");
	const char *deny = STMT(
	    "{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": "
	    "\"s3:GetObject\", \"Resource\": \"arn:aws:s3:::pics/secret/*\"}");
	const char *named_ows =
	    STMT("{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": "
		 "[\"arn:ows:iam::user/dev\"]}, \"Action\": \"s3:PutObject\", "
		 "\"Resource\": \"arn:aws:s3:::pics/*\"}");
	json_t *home = json_pack("{s:s}", "s3:prefix", "home/dev/");
	json_t *root = json_pack("{s:s}", "s3:prefix", "");

	ident = json_array();
	/* the bucket policy alone grants what it names, to whom it names */
	CHECK_INT(judge("users", "dev", "s3:ListBucket", NULL, home, prefix,
			"127.0.0.1"),
		  0);
	CHECK_INT(judge("users", "dev", "s3:ListBucket", NULL, root, prefix,
			"127.0.0.1"),
		  OWS_EDENIED);
	CHECK_INT(judge("users", "eve", "s3:ListBucket", NULL, home, prefix,
			"127.0.0.1"),
		  OWS_EDENIED);
	CHECK_INT(judge("users", "dev", "s3:PutObject", "a", NULL, named_ows,
			"127.0.0.1"),
		  0);
	CHECK_INT(judge("users", "eve", "s3:PutObject", "a", NULL, named_ows,
			"127.0.0.1"),
		  OWS_EDENIED);
	/* aws:SourceIp */
	CHECK_INT(judge("", "", "s3:GetObject", "a.jpg", NULL, ip, "10.1.2.3"),
		  0);
	CHECK_INT(judge("", "", "s3:GetObject", "a.jpg", NULL, ip, "10.2.0.1"),
		  OWS_EDENIED);
	/* a Deny in the bucket policy beats the identity's Allow */
	json_decref(ident);
	ident = json_loads("[{\"Statement\": [{\"Effect\": \"Allow\", "
			   "\"Action\": \"s3:*\", \"Resource\": \"*\"}]}]",
			   0, NULL);
	CHECK_INT(judge("users", "dev", "s3:GetObject", "secret/x", NULL, deny,
			"127.0.0.1"),
		  OWS_EDENIED);
	CHECK_INT(judge("users", "dev", "s3:GetObject", "public/x", NULL, deny,
			"127.0.0.1"),
		  0);
	/* a policy none of whose statements names the caller has no say:
	   the identity's Allow stands */
	CHECK_INT(judge("users", "dev", "s3:ListBucket", NULL, home,
			STMT("{\"Effect\": \"Deny\", \"Principal\": {\"AWS\": "
			     "\"arn:aws:iam::123456789012:user/eve\"}, "
			     "\"Action\": \"s3:*\", "
			     "\"Resource\": \"arn:aws:s3:::pics\"}"),
			"127.0.0.1"),
		  0);
	/* and an identity Deny beats the bucket policy's Allow */
	json_decref(ident);
	ident = json_loads("[{\"Statement\": [{\"Effect\": \"Deny\", "
			   "\"Action\": \"s3:GetObject\", \"Resource\": "
			   "\"arn:aws:s3:::pics/*\"}]}]",
			   0, NULL);
	CHECK_INT(judge("users", "dev", "s3:GetObject", "a.jpg", NULL, ip,
			"10.1.2.3"),
		  OWS_EDENIED);
	json_decref(ident);
	json_decref(home);
	json_decref(root);
}

/* ---- CORS ---- */

static int parse_cors(const char *xml, json_t **rules, const char **code)
{
	struct ows_err err = {{0}};

	return ows__s3_cors_parse(xml, strlen(xml), rules, code, &err);
}

#define CORS(rules)                                                            \
	"<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/"              \
	"2006-03-01/\">" rules "</CORSConfiguration>"

OWS_TEST(s3_cors_parse_and_write)
{
	const char *code = NULL;
	json_t *rules = NULL;
	char *xml;

	CHECK_INT(parse_cors(
		      CORS("<CORSRule><ID>web</ID><AllowedOrigin>https://"
			   "app.example.com"
			   "</AllowedOrigin><AllowedOrigin>http://*.example.org"
			   "</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
			   "<AllowedMethod>GET</AllowedMethod><AllowedHeader>*"
			   "</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
			   "<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>"
			   "<CORSRule><AllowedOrigin>*</AllowedOrigin>"
			   "<AllowedMethod>GET</AllowedMethod></CORSRule>"),
		      &rules, &code),
		  0);
	CHECK_INT(json_array_size(rules), 2);
	CHECK_STR(
	    json_string_value(json_object_get(json_array_get(rules, 0), "ID")),
	    "web");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(rules, 0),
						     "MaxAgeSeconds")),
		  3000);
	xml = ows__s3_cors_xml(rules);
	CHECK(xml != NULL);
	CHECK(strstr(xml, "<CORSRule><ID>web</ID><AllowedHeader>*"
			  "</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
			  "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>"
			  "https://app.example.com</AllowedOrigin>") != NULL);
	CHECK(strstr(xml, "<MaxAgeSeconds>3000</MaxAgeSeconds>") != NULL);
	/* what it writes, it reads back the same */
	{
		json_t *again = NULL;

		CHECK_INT(parse_cors(xml, &again, &code), 0);
		CHECK(json_equal(again, rules));
		json_decref(again);
	}
	free(xml);
	json_decref(rules);
	/* refused as S3 refuses */
	CHECK_INT(parse_cors("<CORSConfiguration><CORSRule>", &rules, &code),
		  OWS_EINVAL);
	CHECK_STR(code, "MalformedXML");
	CHECK_INT(parse_cors("<Other/>", &rules, &code), OWS_EINVAL);
	CHECK_STR(code, "MalformedXML");
	CHECK_INT(parse_cors(CORS(""), &rules, &code), OWS_EINVAL);
	CHECK_STR(code, "MalformedXML");
	CHECK_INT(parse_cors(CORS("<CORSRule><AllowedMethod>GET</AllowedMethod>"
				  "</CORSRule>"),
			     &rules, &code),
		  OWS_EINVAL);
	CHECK_STR(code, "MalformedXML");
	CHECK_INT(parse_cors(CORS("<CORSRule><AllowedOrigin>*</AllowedOrigin>"
				  "<AllowedMethod>PATCH</AllowedMethod>"
				  "</CORSRule>"),
			     &rules, &code),
		  OWS_EINVAL);
	CHECK_STR(code, "InvalidRequest");
	CHECK_INT(parse_cors(CORS("<CORSRule><AllowedOrigin>http://*.*.com"
				  "</AllowedOrigin><AllowedMethod>GET"
				  "</AllowedMethod></CORSRule>"),
			     &rules, &code),
		  OWS_EINVAL);
	CHECK_STR(code, "InvalidRequest");
	CHECK_INT(parse_cors(CORS("<CORSRule><AllowedOrigin>*</AllowedOrigin>"
				  "<AllowedMethod>GET</AllowedMethod>"
				  "<ExposeHeader>*</ExposeHeader></CORSRule>"),
			     &rules, &code),
		  OWS_EINVAL);
	CHECK_STR(code, "InvalidRequest");
	CHECK_INT(parse_cors("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>" CORS(
				 "<CORSRule><AllowedOrigin>&a;</AllowedOrigin>"
				 "<AllowedMethod>GET</AllowedMethod>"
				 "</CORSRule>"),
			     &rules, &code),
		  OWS_EINVAL);
	CHECK_STR(code, "MalformedXML");
}

OWS_TEST(s3_cors_match)
{
	const char *code;
	json_t *rules = NULL;
	struct ows_http_header h[OWS_S3_CORS_HEADERS];
	const json_t *r;
	char *mem;
	size_t n;

	CHECK_INT(
	    parse_cors(
		CORS(
		    "<CORSRule><ID>app</ID><AllowedOrigin>https://*.example.com"
		    "</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
		    "<AllowedMethod>GET</AllowedMethod><AllowedHeader>content-*"
		    "</AllowedHeader><AllowedHeader>x-amz-meta-*</"
		    "AllowedHeader>"
		    "<ExposeHeader>ETag</"
		    "ExposeHeader><ExposeHeader>x-amz-request-id"
		    "</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></"
		    "CORSRule>"
		    "<CORSRule><ID>any</ID><AllowedOrigin>*</AllowedOrigin>"
		    "<AllowedMethod>GET</AllowedMethod></CORSRule>"),
		&rules, &code),
	    0);
	r = ows__s3_cors_match(rules, "https://app.example.com", "PUT",
			       "Content-Type, x-amz-meta-owner");
	CHECK(r != NULL);
	CHECK_STR(json_string_value(json_object_get(r, "ID")), "app");
	n = ows__s3_cors_headers(r, "https://app.example.com",
				 "Content-Type, x-amz-meta-owner", true, h,
				 &mem);
	CHECK_INT(n, 7);
	CHECK_STR(h[0].name, "Access-Control-Allow-Origin");
	CHECK_STR(h[0].value, "https://app.example.com");
	CHECK_STR(h[1].value, "PUT, GET");
	CHECK_STR(h[2].name, "Access-Control-Allow-Headers");
	CHECK_STR(h[2].value, "Content-Type, x-amz-meta-owner");
	CHECK_STR(h[3].value, "600");
	CHECK_STR(h[4].value, "ETag, x-amz-request-id");
	CHECK_STR(h[5].name, "Access-Control-Allow-Credentials");
	CHECK_STR(h[6].name, "Vary");
	free(mem);
	/* a header no rule allows; a method; an origin */
	CHECK(ows__s3_cors_match(rules, "https://app.example.com", "PUT",
				 "authorization") == NULL);
	CHECK(ows__s3_cors_match(rules, "https://app.example.com", "DELETE",
				 NULL) == NULL);
	CHECK(ows__s3_cors_match(rules, "https://example.com", "PUT", NULL) ==
	      NULL);
	CHECK(ows__s3_cors_match(rules, "https://app.example.com.evil.net",
				 "PUT", NULL) == NULL);
	/* the second rule: any origin may GET, answered "*" */
	r = ows__s3_cors_match(rules, "http://elsewhere.net", "GET", NULL);
	CHECK(r != NULL);
	CHECK_STR(json_string_value(json_object_get(r, "ID")), "any");
	n = ows__s3_cors_headers(r, "http://elsewhere.net", NULL, false, h,
				 &mem);
	CHECK_INT(n, 3);
	CHECK_STR(h[0].value, "*");
	CHECK_STR(h[2].name, "Vary");
	free(mem);
	CHECK(ows__s3_cors_match(rules, NULL, "GET", NULL) == NULL);
	json_decref(rules);
}

/* ---- multipart/form-data ---- */

struct parts {
	char log[4096];
	size_t len;
};

static int on_part(void *ud, const char *name, const char *filename,
		   const char *type)
{
	struct parts *p = ud;

	p->len += (size_t)snprintf(
	    p->log + p->len, sizeof(p->log) - p->len, "[%s|%s|%s:", name,
	    filename ? filename : "-", type ? type : "-");
	return 0;
}

static int on_data(void *ud, const char *data, size_t len)
{
	struct parts *p = ud;

	CHECK(p->len + len < sizeof(p->log));
	memcpy(p->log + p->len, data, len);
	p->len += len;
	p->log[p->len] = '\0';
	return 0;
}

static int on_end(void *ud)
{
	struct parts *p = ud;

	p->len +=
	    (size_t)snprintf(p->log + p->len, sizeof(p->log) - p->len, "]");
	return 0;
}

/* Read body fed in pieces of step bytes; the log of parts, or NULL. */
static int read_form(const char *ctype, const char *body, size_t len,
		     size_t step, struct parts *p)
{
	struct ows_s3_form_cb cb = {on_part, on_data, on_end, p};
	struct ows_s3_form *f = malloc(sizeof(*f));
	int rv;

	CHECK(f != NULL);
	memset(p, 0, sizeof(*p));
	rv = ows__s3_form_init(f, ctype, &cb);
	for (size_t i = 0; rv == 0 && i < len; i += step)
		rv = ows__s3_form_feed(f, body + i,
				       len - i < step ? len - i : step);
	if (rv == 0)
		rv = ows__s3_form_finish(f);
	free(f);
	return rv;
}

OWS_TEST(s3_form_read)
{
	static const char body[] =
	    "preamble to ignore\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
	    "user/${filename}\r\n"
	    "--XyZ\r\n"
	    "content-disposition: form-data; name=\"x-amz-meta-tag\"\r\n\r\n"
	    "a\r\n--XyY is not the end\r\n"
	    "--XyZ\r\n"
	    "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"my \\\"pic\\\".jpg\"\r\n"
	    "Content-Type: image/jpeg\r\n\r\n"
	    "\r\n\r\n--Xy\r\r\n-\r\n--XyYZ\r\n"
	    "--XyZ--\r\nepilogue";
	const char *want =
	    "[key|-|-:user/${filename}]"
	    "[x-amz-meta-tag|-|-:a\r\n--XyY is not the end]"
	    "[file|my \"pic\".jpg|image/jpeg:\r\n\r\n--Xy\r\r\n-\r\n--XyYZ]";
	struct parts p;

	/* whatever the pieces, the same parts */
	for (size_t step = 1; step <= sizeof(body); step++) {
		CHECK_INT(read_form("multipart/form-data; boundary=XyZ", body,
				    sizeof(body) - 1, step, &p),
			  0);
		if (strcmp(p.log, want) != 0) {
			fprintf(stderr, "step %zu: %s\n", step, p.log);
			CHECK(0);
		}
	}
	CHECK_INT(read_form("multipart/form-data; boundary=\"XyZ\"", body,
			    sizeof(body) - 1, 7, &p),
		  0);
	CHECK_STR(p.log, want);
	/* no boundary, another type, a bad boundary */
	CHECK_INT(read_form("multipart/form-data", body, 10, 1, &p),
		  OWS_EPARSE);
	CHECK_INT(read_form("application/x-www-form-urlencoded; boundary=XyZ",
			    body, 10, 1, &p),
		  OWS_EPARSE);
	CHECK_INT(
	    read_form("multipart/form-data; boundary=a\rb", body, 10, 1, &p),
	    OWS_EPARSE);
	/* cut short, a part without a name, headers that never end */
	CHECK_INT(
	    read_form("multipart/form-data; boundary=XyZ", body, 100, 9, &p),
	    OWS_EPARSE);
	{
		const char *b =
		    "--XyZ\r\nContent-Disposition: form-data\r\n\r\n"
		    "x\r\n--XyZ--";

		CHECK_INT(read_form("multipart/form-data; boundary=XyZ", b,
				    strlen(b), 3, &p),
			  OWS_EPARSE);
	}
	{
		char *b = malloc(20000);

		CHECK(b != NULL);
		strcpy(b, "--XyZ\r\n");
		memset(b + 7, 'h', 19000);
		CHECK_INT(read_form("multipart/form-data; boundary=XyZ", b,
				    19007, 4096, &p),
			  OWS_EPARSE);
		free(b);
	}
}

/* ---- the POST policy ---- */

static int post_check(const char *policy_json, const char *fields_json,
		      int64_t now, uint64_t *min, uint64_t *max,
		      const char **code, struct ows_err *err)
{
	char b64[4096];
	json_t *doc = NULL, *fields = json_loads(fields_json, 0, NULL);
	int rv;

	CHECK(fields != NULL);
	ows_b64_encode(policy_json, strlen(policy_json), b64);
	rv = ows__s3_post_policy_read(b64, &doc, code, err);
	if (rv == 0)
		rv = ows__s3_post_policy_check(doc, fields, "pics", now, min,
					       max, code, err);
	json_decref(doc);
	json_decref(fields);
	return rv;
}

OWS_TEST(s3_post_policy)
{
	/* as boto3's generate_presigned_post writes it */
	const char *policy =
	    "{\"expiration\": \"2026-01-01T01:00:00Z\", \"conditions\": ["
	    "{\"acl\": \"private\"}, [\"starts-with\", \"$Content-Type\", "
	    "\"image/\"], [\"content-length-range\", 10, 1000], "
	    "{\"bucket\": \"pics\"}, [\"starts-with\", \"$key\", \"up/\"], "
	    "{\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\"}, "
	    "{\"x-amz-credential\": \"AKID/20260101/us-east-1/s3/"
	    "aws4_request\"}, {\"x-amz-date\": \"20260101T000000Z\"}]}";
	const char *ok =
	    "{\"acl\": \"private\", \"content-type\": \"image/png\", "
	    "\"key\": \"up/${filename}\", \"x-amz-algorithm\": "
	    "\"AWS4-HMAC-SHA256\", \"x-amz-credential\": \"AKID/20260101/"
	    "us-east-1/s3/aws4_request\", \"x-amz-date\": "
	    "\"20260101T000000Z\", \"policy\": \"...\", \"x-amz-signature\": "
	    "\"...\", \"x-ignore-me\": \"1\"}";
	int64_t now = 1767225600; /* 2026-01-01T00:00:00Z */
	struct ows_err err = {{0}};
	const char *code = NULL;
	uint64_t min, max;

	CHECK_INT(post_check(policy, ok, now, &min, &max, &code, &err), 0);
	CHECK_INT(min, 10);
	CHECK_INT(max, 1000);
	/* expired */
	CHECK_INT(post_check(policy, ok, now + 3600, &min, &max, &code, &err),
		  OWS_EINVAL);
	CHECK_STR(code, "AccessDenied");
	CHECK_STR(err.msg, "Invalid according to Policy: Policy expired.");
	/* a condition failed: the key elsewhere, another type */
	CHECK_INT(post_check(policy,
			     "{\"acl\": \"private\", \"content-type\": "
			     "\"image/png\", \"key\": \"other/x\", "
			     "\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\", "
			     "\"x-amz-credential\": \"AKID/20260101/us-east-1/"
			     "s3/aws4_request\", \"x-amz-date\": "
			     "\"20260101T000000Z\"}",
			     now, &min, &max, &code, &err),
		  OWS_EINVAL);
	CHECK_STR(code, "AccessDenied");
	CHECK(strstr(err.msg, "Policy Condition failed: "
			      "[\"starts-with\",\"$key\",\"up/\"]") != NULL);
	CHECK_INT(post_check(policy,
			     "{\"acl\": \"public-read\", \"content-type\": "
			     "\"image/png\", \"key\": \"up/x\", "
			     "\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\", "
			     "\"x-amz-credential\": \"AKID/20260101/us-east-1/"
			     "s3/aws4_request\", \"x-amz-date\": "
			     "\"20260101T000000Z\"}",
			     now, &min, &max, &code, &err),
		  OWS_EINVAL);
	CHECK(strstr(err.msg, "{\"acl\":\"private\"}") != NULL);
	/* a field the policy does not name */
	CHECK_INT(post_check(policy,
			     "{\"acl\": \"private\", \"content-type\": "
			     "\"image/png\", \"key\": \"up/x\", "
			     "\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\", "
			     "\"x-amz-credential\": \"AKID/20260101/us-east-1/"
			     "s3/aws4_request\", \"x-amz-date\": "
			     "\"20260101T000000Z\", \"x-amz-meta-x\": \"1\"}",
			     now, &min, &max, &code, &err),
		  OWS_EINVAL);
	CHECK_STR(err.msg, "Invalid according to Policy: Extra input fields: "
			   "x-amz-meta-x");
	/* another bucket */
	{
		char *other = strdup(policy);

		memcpy(strstr(other, "\"pics\""), "\"pica\"", 6);
		CHECK_INT(post_check(other, ok, now, &min, &max, &code, &err),
			  OWS_EINVAL);
		CHECK_STR(code, "AccessDenied");
		free(other);
	}
	/* documents that are not policies */
	CHECK_INT(post_check("[1]", ok, now, &min, &max, &code, &err),
		  OWS_EINVAL);
	CHECK_STR(code, "InvalidPolicyDocument");
	CHECK_INT(post_check("{\"conditions\": []}", ok, now, &min, &max, &code,
			     &err),
		  OWS_EINVAL);
	CHECK_STR(code, "InvalidPolicyDocument");
	CHECK_INT(
	    post_check("{\"expiration\": \"2026-01-01T01:00:00Z\", "
		       "\"conditions\": [[\"between\", \"$key\", \"a\"]]}",
		       "{}", now, &min, &max, &code, &err),
	    OWS_EINVAL);
	CHECK_STR(code, "InvalidPolicyDocument");
	{
		json_t *doc = NULL;

		CHECK_INT(ows__s3_post_policy_read("!!notbase64!!", &doc, &code,
						   &err),
			  OWS_EINVAL);
		CHECK_STR(code, "InvalidPolicyDocument");
	}
}
