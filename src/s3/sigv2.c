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
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

/* One x-amz-* header of the StringToSign: from a header or the query. */
struct amz {
	char name[64]; /* lowercase */
	char value[1024];
};

#define AMZ_MAX 32

static int amz_cmp(const void *a, const void *b)
{
	return strcmp(((const struct amz *)a)->name,
		      ((const struct amz *)b)->name);
}

static void amz_add(struct amz *a, size_t *n, const char *name,
		    const char *value)
{
	size_t i;

	if (*n == AMZ_MAX || strlen(name) >= sizeof(a->name))
		return;
	for (i = 0; name[i]; i++)
		a[*n].name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z'
					   ? name[i] - 'A' + 'a'
					   : name[i]);
	a[*n].name[i] = '\0';
	snprintf(a[*n].value, sizeof(a[*n].value), "%s", value);
	(*n)++;
}

/*
 * The x-amz-* headers, lowercase, sorted, "name:value\n" each, repeated
 * names joined with ",". A presigned URL carries them in its query
 * (botocore moves every x-amz-* header there), where they count alike.
 */
static void amz_headers(struct ows__s3_req *r, struct ows_buf *b)
{
	const struct ows_http_req *req = r->c->req;
	struct amz *a = calloc(AMZ_MAX, sizeof(*a));
	const char *q = r->query;
	char name[64], value[1024];
	size_t n = 0;

	if (a == NULL)
		return;
	for (size_t i = 0; i < req->n_headers; i++)
		if (strncasecmp(req->headers[i].name, "x-amz-", 6) == 0)
			amz_add(a, &n, req->headers[i].name,
				req->headers[i].value);
	while (q != NULL && *q) {
		size_t k = strcspn(q, "=&");

		if (k < sizeof(name) && strncasecmp(q, "x-amz-", 6) == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)k, q);
			if (ows__s3_query(r, name, value, sizeof(value)))
				amz_add(a, &n, name, value);
		}
		q = strchr(q, '&');
		q = q ? q + 1 : NULL;
	}
	qsort(a, n, sizeof(*a), amz_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(a[i].name, a[i - 1].name) == 0) {
			/* the newline of the previous one becomes a comma */
			b->len--;
			ows_buf_printf(b, ",%s\n", a[i].value);
			continue;
		}
		ows_buf_printf(b, "%s:%s\n", a[i].name, a[i].value);
	}
	free(a);
}

/* A header that a presigned URL may carry in its query instead. */
static const char *header_or_query(struct ows__s3_req *r, const char *name,
				   char *buf, size_t cap)
{
	const char *v = ows_aws_header(r->c, name);

	if (v != NULL)
		return v;
	return ows__s3_query(r, name, buf, cap) ? buf : "";
}

static void string_to_sign(struct ows__s3_req *r, const char *expires,
			   bool slash, struct ows_buf *b)
{
	const struct ows_http_req *req = r->c->req;
	char v[1024], md5b[64], ctb[256];
	const char *md5 = header_or_query(r, "content-md5", md5b, sizeof(md5b));
	const char *ct = header_or_query(r, "content-type", ctb, sizeof(ctb));
	int n = 0;

	ows_buf_printf(b, "%s\n%s\n%s\n%s\n", req->method, md5, ct, expires);
	amz_headers(r, b);
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
		ows__s3_error(r, 403, "AccessDenied",
			      "Query-string "
			      "authentication requires the Signature, Expires "
			      "and AWSAccessKeyId parameters");
		return -EINVAL;
	}
	e = strtoll(exp, &end, 10);
	if (exp[0] == '\0' || *end != '\0') {
		ows__s3_error(r, 403, "AccessDenied",
			      "Invalid date (should be "
			      "seconds since epoch): %s",
			      exp);
		return -EINVAL;
	}
	if ((long long)time(NULL) > e) {
		ows__s3_error(r, 403, "AccessDenied", "Request has expired");
		return -EINVAL;
	}
	has_token =
	    ows__s3_query(r, "x-amz-security-token", token, sizeof(token));
	/* a bucket's resource is "/bucket" or "/bucket/" (botocore signs
	   the second): either will do */
	for (int slash = 0; slash < 2; slash++) {
		ows_buf_reset(&sts);
		string_to_sign(r, exp, slash, &sts);
		rv = sts.data == NULL
			 ? -ENOMEM
			 : ows_aws_call_auth_v2(r->c, akid,
						(const char *)sts.data, sig,
						has_token ? token : NULL, &err);
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
