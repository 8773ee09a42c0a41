/*
 * The S3 API on the edge port (REST-XML, 2006-03-01): the service's
 * table, the operation table, the router that picks an operation from a
 * request, and the dispatch every operation goes through (s3_priv.h:
 * read barrier, bucket, authorization, handler).
 *
 * Addressing, as the S3 User Guide's "Virtual hosting of buckets":
 * path style http://HOST/BUCKET/KEY, and virtual-host style
 * http://BUCKET.DOMAIN/KEY where DOMAIN is the node's S3 domain
 * (`owsd init --s3-domain`, default s3.localhost); a Host that is the
 * domain itself, or s3.DOMAIN, is path style.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/enc.h"
#include "common/log.h"
#include "s3/access.h"
#include "s3/s3.h"
#include "s3/s3_priv.h"

#define OP(id, n, a, h, rd, bk, self) \
	[id] = {.name = n, .action = a, .handle = h, .read = rd, \
		.bucket = bk, .self_auth = self}

const struct ows__s3_op ows__s3_ops[OWS_S3_OP_COUNT] = {
	OP(OWS_S3_LIST_BUCKETS, "ListBuckets", "s3:ListAllMyBuckets",
	   ows__s3_list_buckets, true, false, false),
	OP(OWS_S3_CREATE_BUCKET, "CreateBucket", "s3:CreateBucket",
	   ows__s3_create_bucket, false, false, false),
	OP(OWS_S3_DELETE_BUCKET, "DeleteBucket", "s3:DeleteBucket",
	   ows__s3_delete_bucket, true, true, false),
	OP(OWS_S3_HEAD_BUCKET, "HeadBucket", "s3:ListBucket",
	   ows__s3_head_bucket, true, true, false),
	OP(OWS_S3_GET_BUCKET_LOCATION, "GetBucketLocation",
	   "s3:GetBucketLocation", ows__s3_get_bucket_location, true, true,
	   false),
	OP(OWS_S3_GET_BUCKET_VERSIONING, "GetBucketVersioning",
	   "s3:GetBucketVersioning", ows__s3_get_bucket_versioning, true, true,
	   false),
	OP(OWS_S3_GET_BUCKET_ACL, "GetBucketAcl", "s3:GetBucketAcl",
	   ows__s3_get_acl, true, true, false),
	OP(OWS_S3_LIST_OBJECTS, "ListObjects", "s3:ListBucket",
	   ows__s3_list_objects, true, true, false),
	OP(OWS_S3_LIST_OBJECTS_V2, "ListObjectsV2", "s3:ListBucket",
	   ows__s3_list_objects, true, true, false),
	OP(OWS_S3_DELETE_OBJECTS, "DeleteObjects", "s3:DeleteObject",
	   ows__s3_delete_objects, false, true, true),
	OP(OWS_S3_PUT_OBJECT, "PutObject", "s3:PutObject",
	   ows__s3_put_object, false, true, false),
	OP(OWS_S3_COPY_OBJECT, "CopyObject", "s3:PutObject",
	   ows__s3_copy_object, true, true, false),
	OP(OWS_S3_GET_OBJECT, "GetObject", "s3:GetObject",
	   ows__s3_get_object, true, true, false),
	OP(OWS_S3_HEAD_OBJECT, "HeadObject", "s3:GetObject",
	   ows__s3_get_object, true, true, false),
	OP(OWS_S3_DELETE_OBJECT, "DeleteObject", "s3:DeleteObject",
	   ows__s3_delete_object, false, true, false),
	OP(OWS_S3_GET_OBJECT_ATTRIBUTES, "GetObjectAttributes",
	   "s3:GetObjectAttributes", ows__s3_get_object_attributes, true, true,
	   false),
	OP(OWS_S3_GET_OBJECT_ACL, "GetObjectAcl", "s3:GetObjectAcl",
	   ows__s3_get_acl, true, true, false),
	OP(OWS_S3_GET_OBJECT_TAGGING, "GetObjectTagging",
	   "s3:GetObjectTagging", ows__s3_object_tagging_get, true, true,
	   false),
	OP(OWS_S3_PUT_OBJECT_TAGGING, "PutObjectTagging",
	   "s3:PutObjectTagging", ows__s3_object_tagging_put, false, true,
	   false),
	OP(OWS_S3_DELETE_OBJECT_TAGGING, "DeleteObjectTagging",
	   "s3:DeleteObjectTagging", ows__s3_object_tagging_delete, false,
	   true, false),
	OP(OWS_S3_GET_BUCKET_TAGGING, "GetBucketTagging",
	   "s3:GetBucketTagging", ows__s3_bucket_tagging_get, true, true,
	   false),
	OP(OWS_S3_PUT_BUCKET_TAGGING, "PutBucketTagging",
	   "s3:PutBucketTagging", ows__s3_bucket_tagging_put, false, true,
	   false),
	OP(OWS_S3_DELETE_BUCKET_TAGGING, "DeleteBucketTagging",
	   "s3:PutBucketTagging", ows__s3_bucket_tagging_delete, false, true,
	   false),
	OP(OWS_S3_CREATE_MULTIPART_UPLOAD, "CreateMultipartUpload",
	   "s3:PutObject", ows__s3_mpu_create, false, true, false),
	OP(OWS_S3_UPLOAD_PART, "UploadPart", "s3:PutObject",
	   ows__s3_mpu_upload_part, false, true, false),
	OP(OWS_S3_UPLOAD_PART_COPY, "UploadPartCopy", "s3:PutObject",
	   ows__s3_mpu_upload_part_copy, true, true, false),
	OP(OWS_S3_COMPLETE_MULTIPART_UPLOAD, "CompleteMultipartUpload",
	   "s3:PutObject", ows__s3_mpu_complete, true, true, false),
	OP(OWS_S3_ABORT_MULTIPART_UPLOAD, "AbortMultipartUpload",
	   "s3:AbortMultipartUpload", ows__s3_mpu_abort, false, true, false),
	OP(OWS_S3_LIST_PARTS, "ListParts", "s3:ListMultipartUploadParts",
	   ows__s3_mpu_list_parts, true, true, false),
	OP(OWS_S3_LIST_MULTIPART_UPLOADS, "ListMultipartUploads",
	   "s3:ListBucketMultipartUploads", ows__s3_mpu_list_uploads, true,
	   true, false),
	OP(OWS_S3_GET_BUCKET_POLICY, "GetBucketPolicy", "s3:GetBucketPolicy",
	   ows__s3_bucket_policy_get, true, true, false),
	OP(OWS_S3_PUT_BUCKET_POLICY, "PutBucketPolicy", "s3:PutBucketPolicy",
	   ows__s3_bucket_policy_put, false, true, false),
	OP(OWS_S3_DELETE_BUCKET_POLICY, "DeleteBucketPolicy",
	   "s3:DeleteBucketPolicy", ows__s3_bucket_policy_delete, false, true,
	   false),
	OP(OWS_S3_GET_BUCKET_CORS, "GetBucketCors", "s3:GetBucketCORS",
	   ows__s3_bucket_cors_get, true, true, false),
	OP(OWS_S3_PUT_BUCKET_CORS, "PutBucketCors", "s3:PutBucketCORS",
	   ows__s3_bucket_cors_put, false, true, false),
	OP(OWS_S3_DELETE_BUCKET_CORS, "DeleteBucketCors", "s3:PutBucketCORS",
	   ows__s3_bucket_cors_delete, false, true, false),
	OP(OWS_S3_PREFLIGHT, "PreflightRequest", NULL, ows__s3_preflight,
	   true, false, true),
	OP(OWS_S3_POST_OBJECT, "PostObject", "s3:PutObject",
	   ows__s3_post_object, false, true, true),
	OP(OWS_S3_NOT_IMPLEMENTED, "NotImplemented", NULL,
	   ows__s3_not_implemented, false, false, true),
};

/* ---- the query ---- */

/* The raw value of name in query (NULL when absent), its length in *n. */
static const char *query_raw(const char *query, const char *name, size_t *n)
{
	size_t klen = strlen(name);
	const char *p = query;

	while (p != NULL && *p) {
		size_t len = strcspn(p, "&");
		size_t kl = strcspn(p, "=&");

		if (kl == klen && strncmp(p, name, klen) == 0) {
			*n = kl < len ? len - kl - 1 : 0;
			return kl < len ? p + kl + 1 : p + kl;
		}
		p = p[len] ? p + len + 1 : NULL;
	}
	return NULL;
}

bool ows__s3_query(const struct ows__s3_req *r, const char *name, char *out,
		   size_t cap)
{
	size_t n, len = 0;
	const char *v = query_raw(r->query, name, &n);
	char *dec;

	if (v == NULL)
		return false;
	if (cap == 0)
		return true;
	dec = ows_url_decode(v, n, true, &len);
	if (dec == NULL) {
		out[0] = '\0';
		return true;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(out, dec, len);
	out[len] = '\0';
	free(dec);
	return true;
}

bool ows__s3_query_has(const struct ows__s3_req *r, const char *name)
{
	size_t n;

	return query_raw(r->query, name, &n) != NULL;
}

/* ---- the router ---- */

bool ows_s3_host_is_ours(const char *host, const char *domain)
{
	size_t hl, dl = strlen(domain);

	if (host == NULL || dl == 0)
		return false;
	hl = strcspn(host, ":");
	if (host[0] == '[')
		return false;
	if (hl == dl)
		return strncasecmp(host, domain, dl) == 0;
	return hl > dl + 1 && host[hl - dl - 1] == '.' &&
	       strncasecmp(host + hl - dl, domain, dl) == 0;
}

bool ows_s3_host_names_bucket(const char *host, const char *domain)
{
	size_t hl, dl = strlen(domain);

	if (!ows_s3_host_is_ours(host, domain))
		return false;
	hl = strcspn(host, ":");
	return hl > dl && !(hl == dl + 3 && strncasecmp(host, "s3.", 3) == 0);
}

/* Sub-resources S3 has and OWS does not serve: 501 NotImplemented. */
static const char *const unserved[] = {
	"lifecycle", "website", "notification", "logging", "replication",
	"encryption", "ownershipControls", "publicAccessBlock", "object-lock",
	"accelerate", "requestPayment", "analytics", "metrics", "inventory",
	"intelligent-tiering", "policyStatus", "versions", "retention",
	"legal-hold", "torrent", "restore", "select", "versionId",
	"metadataTable", "session", NULL,
};

static bool has(const struct ows__s3_req *r, const char *name)
{
	return ows__s3_query_has(r, name);
}

static bool unserved_subresource(const struct ows__s3_req *r)
{
	for (size_t i = 0; unserved[i] != NULL; i++)
		if (has(r, unserved[i]))
			return true;
	return false;
}

static int op_of_service(const char *m, struct ows__s3_req *r)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		r->id = OWS_S3_LIST_BUCKETS;
	else if (strcmp(m, "OPTIONS") == 0)
		r->id = OWS_S3_PREFLIGHT;
	else
		return OWS_EINVAL;
	return 0;
}

static int op_of_bucket(const char *m, const char *ctype,
			struct ows__s3_req *r)
{
	char lt[8];

	if (strcmp(m, "OPTIONS") == 0)
		r->id = OWS_S3_PREFLIGHT;
	else if (strcmp(m, "HEAD") == 0)
		r->id = OWS_S3_HEAD_BUCKET;
	else if (strcmp(m, "GET") == 0)
		r->id = has(r, "location") ? OWS_S3_GET_BUCKET_LOCATION
		      : has(r, "versioning") ? OWS_S3_GET_BUCKET_VERSIONING
		      : has(r, "acl") ? OWS_S3_GET_BUCKET_ACL
		      : has(r, "policy") ? OWS_S3_GET_BUCKET_POLICY
		      : has(r, "cors") ? OWS_S3_GET_BUCKET_CORS
		      : has(r, "tagging") ? OWS_S3_GET_BUCKET_TAGGING
		      : has(r, "uploads") ? OWS_S3_LIST_MULTIPART_UPLOADS
		      : unserved_subresource(r) ? OWS_S3_NOT_IMPLEMENTED
		      : ows__s3_query(r, "list-type", lt, sizeof(lt)) &&
				strcmp(lt, "2") == 0 ? OWS_S3_LIST_OBJECTS_V2
		      : OWS_S3_LIST_OBJECTS;
	else if (strcmp(m, "PUT") == 0)
		r->id = has(r, "policy") ? OWS_S3_PUT_BUCKET_POLICY
		      : has(r, "cors") ? OWS_S3_PUT_BUCKET_CORS
		      : has(r, "tagging") ? OWS_S3_PUT_BUCKET_TAGGING
		      : has(r, "acl") || has(r, "versioning") ||
				unserved_subresource(r) ? OWS_S3_NOT_IMPLEMENTED
		      : OWS_S3_CREATE_BUCKET;
	else if (strcmp(m, "DELETE") == 0)
		r->id = has(r, "policy") ? OWS_S3_DELETE_BUCKET_POLICY
		      : has(r, "cors") ? OWS_S3_DELETE_BUCKET_CORS
		      : has(r, "tagging") ? OWS_S3_DELETE_BUCKET_TAGGING
		      : unserved_subresource(r) ? OWS_S3_NOT_IMPLEMENTED
		      : OWS_S3_DELETE_BUCKET;
	else if (strcmp(m, "POST") == 0 && has(r, "delete"))
		r->id = OWS_S3_DELETE_OBJECTS;
	else if (strcmp(m, "POST") == 0 && ctype != NULL &&
		 strncasecmp(ctype, "multipart/form-data", 19) == 0)
		r->id = OWS_S3_POST_OBJECT;
	else
		return OWS_EINVAL;
	return 0;
}

static int op_of_object(const char *m, const char *copy_source,
			struct ows__s3_req *r)
{
	if (strcmp(m, "OPTIONS") == 0)
		r->id = OWS_S3_PREFLIGHT;
	else if (strcmp(m, "HEAD") == 0)
		r->id = OWS_S3_HEAD_OBJECT;
	else if (strcmp(m, "GET") == 0)
		r->id = has(r, "uploadId") ? OWS_S3_LIST_PARTS
		      : has(r, "tagging") ? OWS_S3_GET_OBJECT_TAGGING
		      : has(r, "attributes") ? OWS_S3_GET_OBJECT_ATTRIBUTES
		      : has(r, "acl") ? OWS_S3_GET_OBJECT_ACL
		      : unserved_subresource(r) ? OWS_S3_NOT_IMPLEMENTED
		      : OWS_S3_GET_OBJECT;
	else if (strcmp(m, "PUT") == 0)
		r->id = has(r, "uploadId") || has(r, "partNumber")
			? (copy_source ? OWS_S3_UPLOAD_PART_COPY
				       : OWS_S3_UPLOAD_PART)
		      : has(r, "tagging") ? OWS_S3_PUT_OBJECT_TAGGING
		      : has(r, "acl") || unserved_subresource(r)
			? OWS_S3_NOT_IMPLEMENTED
		      : copy_source ? OWS_S3_COPY_OBJECT : OWS_S3_PUT_OBJECT;
	else if (strcmp(m, "DELETE") == 0)
		r->id = has(r, "uploadId") ? OWS_S3_ABORT_MULTIPART_UPLOAD
		      : has(r, "tagging") ? OWS_S3_DELETE_OBJECT_TAGGING
		      : unserved_subresource(r) ? OWS_S3_NOT_IMPLEMENTED
		      : OWS_S3_DELETE_OBJECT;
	else if (strcmp(m, "POST") == 0 && has(r, "uploads"))
		r->id = OWS_S3_CREATE_MULTIPART_UPLOAD;
	else if (strcmp(m, "POST") == 0 && has(r, "uploadId"))
		r->id = OWS_S3_COMPLETE_MULTIPART_UPLOAD;
	else if (strcmp(m, "POST") == 0 && unserved_subresource(r))
		r->id = OWS_S3_NOT_IMPLEMENTED;
	else
		return OWS_EINVAL;
	return 0;
}

/* The bucket and key of the request (vhost: from host) into r. */
static int split(const char *path, const char *host, const char *domain,
		 struct ows_arena *arena, struct ows__s3_req *r,
		 const char **code, struct ows_err *err)
{
	size_t hl = host ? strcspn(host, ":") : 0, dl = strlen(domain), n;
	const char *keyp = NULL;
	char *key;
	int rv;

	/* "s3.DOMAIN" is path style too ("s3" is no bucket name) */
	if (ows_s3_host_names_bucket(host, domain)) {
		n = hl - dl - 1;
		if (n > OWS_S3_BUCKET_MAX + 1)
			n = OWS_S3_BUCKET_MAX + 1; /* InvalidBucketName later */
		snprintf(r->bucket, sizeof(r->bucket), "%.*s", (int)n, host);
		for (char *p = r->bucket; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		r->vhost = true;
		keyp = path[0] == '/' ? path + 1 : path;
	} else {
		const char *b = path[0] == '/' ? path + 1 : path;
		size_t bl = strcspn(b, "/");
		char *dec = ows_arena_strndup(arena, b, bl);

		if (dec == NULL)
			return -ENOMEM;
		ows_percent_decode(dec);
		if (strlen(dec) > OWS_S3_BUCKET_MAX + 1)
			dec[OWS_S3_BUCKET_MAX + 1] = '\0';
		snprintf(r->bucket, sizeof(r->bucket), "%s", dec);
		keyp = b[bl] == '/' ? b + bl + 1 : "";
	}
	r->key = "";
	if (keyp[0] == '\0')
		return 0;
	key = ows_arena_strdup(arena, keyp);
	if (key == NULL)
		return -ENOMEM;
	n = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (key[i] == '%' && key[i + 1] == '0' && key[i + 2] == '0')
			goto bad_key; /* ows_percent_decode keeps %00 */
	ows_percent_decode(key);
	rv = ows__s3_key_check(key, strlen(key));
	if (rv == OWS_ETOOBIG) {
		*code = "KeyTooLongError";
		ows_err_printf(err, "Your key is too long");
		return OWS_EINVAL;
	}
	if (rv != 0)
		goto bad_key;
	r->key = key;
	return 0;
bad_key:
	*code = "InvalidURI";
	ows_err_printf(err, "Couldn't parse the specified URI.");
	return OWS_EINVAL;
}

int ows__s3_route(const char *method, const char *path, const char *query,
		  const char *host, const char *content_type,
		  const char *copy_source, const char *domain,
		  struct ows_arena *arena, struct ows__s3_req *r,
		  const char **code, struct ows_err *err)
{
	int rv;

	r->query = query ? query : "";
	r->domain = domain;
	r->vhost = false;
	r->bucket[0] = '\0';
	rv = split(path, host, domain, arena, r, code, err);
	if (rv != 0)
		return rv;
	if (r->bucket[0] == '\0')
		rv = op_of_service(method, r);
	else if (r->key[0] == '\0')
		rv = op_of_bucket(method, content_type, r);
	else
		rv = op_of_object(method, copy_source, r);
	if (rv != 0) {
		*code = "MethodNotAllowed";
		ows_err_printf(err, "The specified method is not allowed "
			       "against this resource.");
		return OWS_EINVAL;
	}
	r->op = &ows__s3_ops[r->id];
	return 0;
}

/* ---- dispatch ---- */

/* The condition keys of a listing (s3:prefix, s3:delimiter, s3:max-keys). */
static json_t *list_context(struct ows__s3_req *r)
{
	static const char *const keys[] = {"prefix", "delimiter", "max-keys"};
	json_t *extra = json_object();
	char v[OWS_S3_KEY_MAX + 1], name[32];

	for (size_t i = 0; extra != NULL && i < 3; i++) {
		if (!ows__s3_query(r, keys[i], v, sizeof(v)))
			continue;
		snprintf(name, sizeof(name), "s3:%s", keys[i]);
		json_object_set_new(extra, name, json_string(v));
	}
	return extra;
}

static void run(struct ows__s3_req *r)
{
	const struct ows__s3_op *op = r->op;
	json_t *extra = NULL;
	int rv;

	if (op->bucket && !ows_state_resource_exists(r->c->host->state,
						     "buckets", r->bucket)) {
		/*
		 * A write's node may not have applied a bucket that another
		 * node acknowledged a moment ago: a read barrier first, then
		 * NoSuchBucket only when the bucket is still not there.
		 */
		if (!r->current) {
			ows__s3_barrier(r, run);
			return;
		}
		/* strangers learn nothing of which buckets exist */
		if (r->c->caller.kind[0] == '\0' && r->id != OWS_S3_PREFLIGHT)
			ows__s3_access_denied(r);
		else
			ows__s3_no_such_bucket(r);
		return;
	}
	if (!op->self_auth) {
		if (r->id == OWS_S3_LIST_OBJECTS ||
		    r->id == OWS_S3_LIST_OBJECTS_V2)
			extra = list_context(r);
		rv = ows__s3_authorize(r, op->action,
				       r->bucket[0] ? r->bucket : NULL,
				       r->key[0] ? r->key : NULL, extra);
		json_decref(extra);
		if (rv != 0)
			return;
	}
	op->handle(r);
}

static const char *s3_domain(const struct ows_aws_call *c)
{
	return c->host->s3_domain && c->host->s3_domain[0]
		       ? c->host->s3_domain : OWS_S3_DOMAIN_DEFAULT;
}

static void s3_handle(struct ows_aws_call *c)
{
	struct ows__s3_req *r = ows_arena_alloc(c->arena, sizeof(*r));
	struct ows_err err = {{0}};
	const char *code = "InvalidRequest";
	int rv;

	if (r == NULL) {
		ows_aws_error(c, 503, "SlowDown", "out of memory");
		return;
	}
	memset(r, 0, sizeof(*r));
	r->c = c;
	c->data = r;
	rv = ows__s3_route(c->req->method, c->req->path, c->req->query,
			   ows_aws_header(c, "Host"),
			   ows_aws_header(c, "Content-Type"),
			   ows_aws_header(c, "x-amz-copy-source"),
			   s3_domain(c), c->arena, r, &code, &err);
	if (rv == -ENOMEM) {
		ows_aws_error(c, 503, "SlowDown", "out of memory");
		return;
	}
	if (rv != 0 && c->caller.kind[0] == '\0' && !ows_aws_call_sigv2(c)) {
		/* an anonymous request that names no operation: refused as
		   any anonymous request is, with no hint */
		r->op = &ows__s3_ops[OWS_S3_NOT_IMPLEMENTED];
		ows__s3_access_denied(r);
		return;
	}
	if (rv != 0) {
		r->op = &ows__s3_ops[OWS_S3_NOT_IMPLEMENTED];
		ows__s3_error(r, strcmp(code, "MethodNotAllowed") == 0 ? 405
				 : 400, code, "%s", err.msg);
		return;
	}
	/* presigned URLs of SigV2 are checked once the bucket is known */
	if (ows__s3_sigv2_query(r) != 0)
		return;
	ows_log(OWS_LOG_DEBUG, "s3", "%s %s/%s from %s", r->op->name,
		r->bucket, r->key, c->req->peer);
	/* writes go without a barrier; run() catches up on a bucket miss */
	if (r->op->read)
		ows__s3_barrier(r, run);
	else
		run(r);
}

/* Bodies are streamed: a bucket's XML bodies are read by the service. */
const struct ows_aws_service ows_s3_service = {
	.name = "s3",
	.target_prefix = NULL,
	.path_prefix = NULL,
	.protocol = OWS_AWS_REST_XML,
	.body_mode = OWS_AWS_BODY_STREAM,
	.body_limit = OWS_S3_XML_LIMIT,
	.body_limit_for = NULL,
	.handle = s3_handle,
	.close = NULL,
	.kinds = ows__s3_kinds,
	.anonymous = true,
	.blob_refs = OWS_S3_BLOB_REFS,
	.blob_list = OWS_S3_BLOB_LIST,
};
