/*
 * Who may do what in the S3 service, the parts that need no call: bucket
 * policies checked as S3's PutBucketPolicy checks them (policy.c), CORS
 * configurations read from and written as S3's XML and matched against
 * a browser's request (cors.c), and browser form uploads: the
 * multipart/form-data reader and the POST policy document (form.c,
 * post_policy.c), and presigned URLs of Signature Version 2 (sigv2.c).
 * The handlers that use them (the Put/Get/Delete of a bucket's policy and
 * CORS, OPTIONS and the CORS headers of replies: access_api.c; POST
 * Object: post.c) are declared in s3_priv.h with the rest of the
 * operations. Who may do what is judged by the host (ledger/authz.c):
 * identity policies and the bucket's policy together, an anonymous
 * caller only by the policy's "Principal": "*" and only for reads.
 *
 * Errors are S3's: functions that refuse input set *code to S3's error
 * code ("MalformedXML", "InvalidRequest", "MalformedPolicy", ...) and
 * err to its message, and return OWS_EINVAL.
 */
#ifndef OWS_S3_ACCESS_H
#define OWS_S3_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Refuse input: *code = c, err = the message, and OWS_EINVAL (cors.c; the
 * parsers of this header share it).
 */
int ows__s3_refuse(const char **code, const char *c, struct ows_err *err,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- presigned URLs of Signature Version 2 (sigv2.c) ---- */

struct ows__s3_req;
/*
 * When r came in with SigV2 query credentials (AWSAccessKeyId, Signature,
 * Expires): check them (AccessDenied "Request has expired",
 * SignatureDoesNotMatch, InvalidAccessKeyId, answered here, and < 0) and
 * make the call the key's; 0 otherwise. s3.c calls it before dispatch.
 */
int ows__s3_sigv2_query(struct ows__s3_req *r);

/* ---- bucket policies (policy.c) ---- */

/*
 * Parse and check a bucket policy (text, len bytes) for bucket, as
 * PutBucketPolicy does: valid JSON, a Statement of statements each with
 * Effect, Principal ("*", {"AWS": ...}, {"Service": ...}) or
 * NotPrincipal, Action or NotAction, Resource or NotResource naming
 * this bucket or its objects (arn:aws:s3:::B, arn:aws:s3:::B/..., or
 * the arn:ows: forms), and only condition operators and keys the
 * evaluator knows. Unknown actions are accepted, as S3 accepts them.
 * 0 and *out (a new reference), or OWS_EINVAL with *code
 * "MalformedPolicy" and the reason in err.
 */
int ows__s3_policy_parse(const char *text, size_t len, const char *bucket,
			 json_t **out, const char **code, struct ows_err *err);

/* The same check of a parsed document (a stack file's "policy"). */
int ows__s3_policy_check(const json_t *doc, const char *bucket,
			 struct ows_err *err);

/* ---- CORS (cors.c) ---- */

/*
 * A bucket's CORS rules as stored in the bucket's spec ("cors") and
 * written in stack files: a list of objects with the names of the AWS
 * CLI's JSON (put-bucket-cors --cors-configuration):
 *   [{"ID": "...", "AllowedOrigins": ["https://app.example.com"],
 *     "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"],
 *     "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]
 */
#define OWS_S3_CORS_RULES_MAX 100

/*
 * Read a CORSConfiguration XML body (expat) into rules (a new
 * reference). OWS_EINVAL with *code "MalformedXML" (not XML, not a
 * CORSConfiguration, a rule without AllowedOrigin or AllowedMethod) or
 * "InvalidRequest" (an unsupported method, more than one wildcard, a
 * wildcard in ExposeHeader, more than 100 rules) and err.
 */
int ows__s3_cors_parse(const char *xml, size_t len, json_t **rules,
		       const char **code, struct ows_err *err);

/* Check rules in the JSON form (stack files): 0 or OWS_EINVAL as above. */
int ows__s3_cors_check(const json_t *rules, const char **code,
		       struct ows_err *err);

/* The rules as GetBucketCors's XML: a malloc'd string, or NULL. */
char *ows__s3_cors_xml(const json_t *rules);

/*
 * The first rule (borrowed from rules) that allows origin to make a
 * request with method and the headers of req_headers (the comma list
 * of Access-Control-Request-Headers, or NULL), or NULL.
 */
const json_t *ows__s3_cors_match(const json_t *rules, const char *origin,
				 const char *method, const char *req_headers);

/*
 * The response headers a matching rule gives (names and values in
 * out, strings malloc'd into one block *mem the caller frees): for a
 * preflight (preflight true) Access-Control-Allow-Origin, -Methods,
 * -Headers (the asked ones), -Max-Age, -Expose-Headers, -Allow-
 * Credentials, Vary; for an actual request the same without -Methods,
 * -Headers and -Max-Age. Returns the number of headers (at most
 * OWS_S3_CORS_HEADERS), or 0 when out of memory.
 */
#define OWS_S3_CORS_HEADERS 8
struct ows_http_header;
size_t ows__s3_cors_headers(const json_t *rule, const char *origin,
			    const char *req_headers, bool preflight,
			    struct ows_http_header *out, char **mem);

/* ---- browser form uploads: multipart/form-data (form.c) ---- */

/*
 * A push reader of a multipart/form-data body (RFC 7578), whatever the
 * size of the pieces it is fed: each part's headers are read (at most
 * OWS_S3_FORM_HEADERS_MAX bytes), its data passed on as it comes, never
 * held. A callback's negative return ends the reading with that code.
 */
#define OWS_S3_FORM_HEADERS_MAX 8192
#define OWS_S3_FORM_BOUNDARY_MAX 70

struct ows_s3_form_cb {
	/* A part begins: its name, filename (NULL when none) and
	   Content-Type (NULL when none), borrowed for the call. */
	int (*part)(void *ud, const char *name, const char *filename,
		    const char *content_type);
	/* Some of its data, borrowed for the call. */
	int (*data)(void *ud, const char *data, size_t len);
	/* The part has ended. */
	int (*end)(void *ud);
	void *ud;
};

struct ows_s3_form {
	struct ows_s3_form_cb cb;
	int state;
	int rc;					  /* sticky error */
	char delim[OWS_S3_FORM_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
	size_t dlen;
	size_t m;	/* bytes of delim matched */
	char out[4096]; /* data waiting to go to cb.data */
	size_t out_len;
	bool in_part; /* between part() and end() */
	char head[OWS_S3_FORM_HEADERS_MAX + 1];
	size_t head_len;
	char after; /* after a delimiter: the byte before */
};

/*
 * Start reading a body of Content-Type content_type (its boundary
 * parameter, quoted or not). 0, or OWS_EPARSE when it is not
 * multipart/form-data with a usable boundary.
 */
int ows__s3_form_init(struct ows_s3_form *f, const char *content_type,
		      const struct ows_s3_form_cb *cb);

/* Feed len more bytes: 0, OWS_EPARSE (malformed), or a callback's code. */
int ows__s3_form_feed(struct ows_s3_form *f, const char *data, size_t len);

/* The body has ended: 0 when the closing delimiter was read, else
   OWS_EPARSE (or the earlier error). */
int ows__s3_form_finish(struct ows_s3_form *f);

/* ---- browser form uploads: the POST policy (post_policy.c) ---- */

/*
 * A POST policy document (the "policy" field, base64 of JSON) read:
 * {"expiration": ISO 8601, "conditions": [...]}; doc is a new reference.
 * OWS_EINVAL with *code "InvalidPolicyDocument" and err.
 */
int ows__s3_post_policy_read(const char *b64, json_t **doc, const char **code,
			     struct ows_err *err);

/*
 * Check the form's fields (an object of lowercase name: string value,
 * the file's part excluded) and the bucket against doc at now (Unix
 * seconds), as S3 does: unexpired, every condition met (exact, "eq",
 * "starts-with"; names compared without case, "$" removed), and no
 * field the conditions do not name (except x-amz-signature, policy,
 * file and x-ignore-*). The content-length-range, when there is one,
 * goes to *min and *max (else 0 and UINT64_MAX), for the file's size.
 * 0, or OWS_EINVAL with *code "AccessDenied" and err "Invalid according
 * to Policy: ...", or "InvalidPolicyDocument".
 */
int ows__s3_post_policy_check(const json_t *doc, const json_t *fields,
			      const char *bucket, int64_t now, uint64_t *min,
			      uint64_t *max, const char **code,
			      struct ows_err *err);

#endif
