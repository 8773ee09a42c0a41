/*
 * Presigned URLs of Signature Version 2 (the S3 API Reference's
 * "Authenticating Requests Using Query Parameters (AWS Signature Version
 * 2)"), which clients still make for us-east-1: boto3's
 * generate_presigned_url and aws cli v1's `s3 presign` unless told
 * s3v4. aws/call.c lets such a request in as anonymous; here, once the
 * bucket is known, the StringToSign is rebuilt
 *
 *   METHOD \n Content-MD5 \n Content-Type \n Expires \n
 *   CanonicalizedAmzHeaders CanonicalizedResource
 *
 * and the signature checked (ows_aws_call_auth_v2), making the call the
 * key's caller; or the request is refused as S3 refuses it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/sigv4.h"
#include "common/buf.h"
#include "s3/access.h"
#include "s3/s3_priv.h"

/* The sub-resources a CanonicalizedResource names, in sorted order. */
static const char *const subresources[] = {
	"acl", "cors", "delete", "lifecycle", "location", "logging",
	"notification", "partNumber", "policy", "requestPayment",
	"response-cache-control", "response-content-disposition",
	"response-content-encoding", "response-content-language",
	"response-content-type", "response-expires", "restore", "tagging",
	"torrent", "uploadId", "uploads", "versionId", "versioning",
	"versions", "website",
};

/* The x-amz-* headers, lowercase, sorted, "name:value\n" each. */
static void amz_headers(const struct ows_http_req *req, struct ows_buf *b)
{
	const char *done = "";

	/* few headers: a selection sort by name, repeated names joined */
	for (;;) {
		const char *best = NULL;

		for (size_t i = 0; i < req->n_headers; i++) {
			const char *n = req->headers[i].name;

			if (strncasecmp(n, "x-amz-", 6) != 0 ||
			    strcasecmp(n, done) <= 0)
				continue;
			if (best == NULL || strcasecmp(n, best) < 0)
				best = n;
		}
		if (best == NULL)
			return;
		for (const char *c = best; *c; c++)
			ows_buf_printf(b, "%c", *c >= 'A' && *c <= 'Z'
						? *c - 'A' + 'a' : *c);
		ows_buf_puts(b, ":");
		for (size_t i = 0, k = 0; i < req->n_headers; i++)
			if (strcasecmp(req->headers[i].name, best) == 0)
				ows_buf_printf(b, "%s%s", k++ ? "," : "",
					       req->headers[i].value);
		ows_buf_puts(b, "\n");
		done = best;
	}
}

static void string_to_sign(struct ows__s3_req *r, const char *expires,
			   bool slash, struct ows_buf *b)
{
	const struct ows_http_req *req = r->c->req;
	const char *md5 = ows_aws_header(r->c, "Content-MD5");
	const char *ct = ows_aws_header(r->c, "Content-Type");
	char v[1024];
	int n = 0;

	ows_buf_printf(b, "%s\n%s\n%s\n%s\n", req->method, md5 ? md5 : "",
		       ct ? ct : "", expires);
	amz_headers(req, b);
	if (r->vhost)
		ows_buf_printf(b, "/%s", r->bucket);
	ows_buf_puts(b, req->path);
	if (slash)
		ows_buf_puts(b, "/");
	for (size_t i = 0; i < sizeof(subresources) / sizeof(*subresources);
	     i++) {
		if (!ows__s3_query(r, subresources[i], v, sizeof(v)))
			continue;
		ows_buf_printf(b, "%s%s", n++ ? "&" : "?", subresources[i]);
		/* "?acl" alone; "?partNumber=2", decoded */
		if (v[0] != '\0')
			ows_buf_printf(b, "=%s", v);
	}
}

int ows__s3_sigv2_query(struct ows__s3_req *r)
{
	char akid[160], sig[128], exp[32], token[2048];
	struct ows_buf sts = OWS_BUF_INIT;
	struct ows_err err = {{0}};
	const char *code, *msg;
	bool has_token;
	char *end;
	long long e;
	int rv, status;

	if (!ows_aws_call_sigv2(r->c))
		return 0;
	if (!ows__s3_query(r, "AWSAccessKeyId", akid, sizeof(akid)) ||
	    !ows__s3_query(r, "Signature", sig, sizeof(sig)) ||
	    !ows__s3_query(r, "Expires", exp, sizeof(exp))) {
		ows__s3_error(r, 403, "AccessDenied", "Query-string "
			      "authentication requires the Signature, Expires "
			      "and AWSAccessKeyId parameters");
		return -EINVAL;
	}
	e = strtoll(exp, &end, 10);
	if (exp[0] == '\0' || *end != '\0') {
		ows__s3_error(r, 403, "AccessDenied", "Invalid date (should be "
			      "seconds since epoch): %s", exp);
		return -EINVAL;
	}
	if ((long long)time(NULL) > e) {
		ows__s3_error(r, 403, "AccessDenied", "Request has expired");
		return -EINVAL;
	}
	has_token = ows__s3_query(r, "x-amz-security-token", token,
				  sizeof(token));
	/* a bucket's resource is "/bucket" or "/bucket/" (botocore signs
	   the second): either will do */
	for (int slash = 0; slash < 2; slash++) {
		ows_buf_reset(&sts);
		string_to_sign(r, exp, slash, &sts);
		rv = sts.data == NULL ? -ENOMEM
		     : ows_aws_call_auth_v2(r->c, akid, (const char *)sts.data,
					    sig, has_token ? token : NULL, &err);
		if (rv != OWS_ESIG_SIGNATURE || r->key[0] != '\0' ||
		    r->c->req->path[strlen(r->c->req->path) - 1] == '/')
			break;
	}
	ows_buf_free(&sts);
	if (rv == 0)
		return 0;
	status = ows_sigv4_error(rv, true, &code, &msg);
	ows__s3_error(r, status, code, "%s", err.msg[0] ? err.msg : msg);
	return rv;
}
