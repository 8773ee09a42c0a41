/*
 * The S3 service's internal API, shared by every file of src/s3/ (the
 * data model is s3_model.h; the operations and what is not supported
 * are listed in docs/s3.md).
 *
 * One request is one struct ows__s3_req (in the call's arena, c->data):
 * s3.c parses the bucket and key (path style or virtual-host style),
 * picks the operation from the method, the sub-resources of the query
 * and a few headers (ows__s3_route), and then, in this order:
 *
 *   1. for reads (op->read): waits on the host's read barrier (S3's
 *      strong read-after-write: every GET, HEAD and LIST sees every
 *      write acknowledged before it arrived, on any node);
 *   2. for operations on a bucket (all but ListBuckets, CreateBucket and
 *      the preflight): NoSuchBucket when it does not exist;
 *   3. unless op->self_auth: ows__s3_authorize(op->action, bucket, key)
 *      with the condition keys of the query (s3:prefix, s3:delimiter,
 *      s3:max-keys for listings);
 *   4. op->handle(r), which answers the call exactly once.
 *
 * Handlers of operations that other files build are declared here.
 */
#ifndef OWS_S3_S3_PRIV_H
#define OWS_S3_S3_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/call.h"
#include "aws/service.h"
#include "common/buf.h"
#include "common/err.h"
#include "s3/s3_model.h"
#include "state/kinds.h"

#define OWS_S3_BUCKET_MAX 63       /* bucket names: 3 to 63 bytes */
#define OWS_S3_KEY_MAX 1024        /* object keys: UTF-8, at most 1024 */
#define OWS_S3_XML_LIMIT (1 << 20) /* XML bodies read whole: 1 MiB */
#define OWS_S3_PUT_MAX (5ULL << 30) /* one PUT: 5 GiB (EntityTooLarge) */
#define OWS_S3_META_MAX 2048       /* x-amz-meta-*: 2 KB (MetadataTooLarge) */
#define OWS_S3_DOMAIN_DEFAULT "s3.localhost"

/* ---- operations (s3.c: the table and the router) ---- */

enum ows__s3_opid {
	OWS_S3_LIST_BUCKETS,
	OWS_S3_CREATE_BUCKET,
	OWS_S3_DELETE_BUCKET,
	OWS_S3_HEAD_BUCKET,
	OWS_S3_GET_BUCKET_LOCATION,
	OWS_S3_GET_BUCKET_VERSIONING,
	OWS_S3_GET_BUCKET_ACL,
	OWS_S3_LIST_OBJECTS,
	OWS_S3_LIST_OBJECTS_V2,
	OWS_S3_DELETE_OBJECTS,
	OWS_S3_PUT_OBJECT,
	OWS_S3_COPY_OBJECT,
	OWS_S3_GET_OBJECT,
	OWS_S3_HEAD_OBJECT,
	OWS_S3_DELETE_OBJECT,
	OWS_S3_GET_OBJECT_ATTRIBUTES,
	OWS_S3_GET_OBJECT_ACL,
	OWS_S3_GET_OBJECT_TAGGING,
	OWS_S3_PUT_OBJECT_TAGGING,
	OWS_S3_DELETE_OBJECT_TAGGING,
	OWS_S3_GET_BUCKET_TAGGING,
	OWS_S3_PUT_BUCKET_TAGGING,
	OWS_S3_DELETE_BUCKET_TAGGING,
	OWS_S3_CREATE_MULTIPART_UPLOAD,
	OWS_S3_UPLOAD_PART,
	OWS_S3_UPLOAD_PART_COPY,
	OWS_S3_COMPLETE_MULTIPART_UPLOAD,
	OWS_S3_ABORT_MULTIPART_UPLOAD,
	OWS_S3_LIST_PARTS,
	OWS_S3_LIST_MULTIPART_UPLOADS,
	OWS_S3_GET_BUCKET_POLICY,
	OWS_S3_PUT_BUCKET_POLICY,
	OWS_S3_DELETE_BUCKET_POLICY,
	OWS_S3_GET_BUCKET_CORS,
	OWS_S3_PUT_BUCKET_CORS,
	OWS_S3_DELETE_BUCKET_CORS,
	OWS_S3_PREFLIGHT,
	OWS_S3_POST_OBJECT,
	OWS_S3_NOT_IMPLEMENTED, /* a sub-resource OWS does not serve */
	OWS_S3_OP_COUNT
};

struct ows__s3_req;
typedef void (*ows__s3_handler)(struct ows__s3_req *r);

/* One row of the operation table (s3.c, ows__s3_ops[id]). */
struct ows__s3_op {
	const char *name;   /* "PutObject", as the S3 API Reference */
	const char *action; /* IAM action "s3:PutObject"; NULL: none */
	ows__s3_handler handle;
	bool read;          /* waits on the read barrier first */
	bool bucket;        /* needs an existing bucket (NoSuchBucket) */
	bool self_auth;     /* the handler authorizes (several resources,
			       conditions of its own, or none at all) */
};

extern const struct ows__s3_op ows__s3_ops[OWS_S3_OP_COUNT];

/* One parsed request (the call's arena; c->data points at it). */
struct ows__s3_req {
	struct ows_aws_call *c;
	enum ows__s3_opid id;
	const struct ows__s3_op *op;
	char bucket[OWS_S3_BUCKET_MAX + 8]; /* "" when the path names none;
					       not yet checked against the
					       naming rules (CreateBucket
					       does that) */
	const char *key;    /* percent-decoded, valid UTF-8, at most
			       OWS_S3_KEY_MAX bytes; "" when none */
	bool vhost;         /* the bucket came from the Host header */
	const char *query;  /* the raw query string ("" when none) */
	const char *domain; /* the node's S3 domain ("s3.localhost") */
	void *data;         /* the operation's own state */
	void *reading;      /* ows__s3_read_xml, _read_body, _sink's own */
	bool current;       /* a read barrier has passed (ows__s3_barrier):
			       the state holds every write acknowledged
			       before the request arrived */
};

/*
 * Parse method, path, query and Host of req into r (bucket, key, vhost,
 * id) for a node whose S3 domain is domain: 0, or OWS_EINVAL with the
 * S3 error code in *code and a message in err (InvalidURI for a key
 * that is not UTF-8 or has a NUL, KeyTooLongError past 1024 bytes,
 * MethodNotAllowed). Pure (no state): the unit tests call it.
 */
int ows__s3_route(const char *method, const char *path, const char *query,
		  const char *host, const char *content_type,
		  const char *copy_source, const char *domain,
		  struct ows_arena *arena, struct ows__s3_req *r,
		  const char **code, struct ows_err *err);

/*
 * The percent-decoded value of query parameter name into out (cap bytes,
 * truncated): true when present (also with no '=' or an empty value).
 */
bool ows__s3_query(const struct ows__s3_req *r, const char *name, char *out,
		   size_t cap);
/* Whether the query names parameter name at all. */
bool ows__s3_query_has(const struct ows__s3_req *r, const char *name);

/* ---- replies and errors (common.c) ---- */

/*
 * Answer an S3 error: code, status and message as the S3 API Reference
 * lists them, with <BucketName> (r->bucket, when set and bucket), <Key>
 * (when key) and <Resource> (the path, when resource) added.
 */
void ows__s3_error(struct ows__s3_req *r, int status, const char *code,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ows__s3_error_key(struct ows__s3_req *r, int status, const char *code,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ows__s3_no_such_bucket(struct ows__s3_req *r);
void ows__s3_no_such_key(struct ows__s3_req *r);
void ows__s3_access_denied(struct ows__s3_req *r);
void ows__s3_internal(struct ows__s3_req *r, int rv);
/* 501 NotImplemented: "A header you provided implies functionality
   that is not implemented". */
void ows__s3_not_implemented(struct ows__s3_req *r);
/* 400 MalformedXML: "The XML you provided was not well-formed or did
   not validate against our published schema". */
void ows__s3_malformed_xml(struct ows__s3_req *r);

/*
 * Reply status with headers (borrowed; x-amz-request-id and x-amz-id-2
 * are added) and body (copied; may be NULL). Content-Type
 * application/xml is added when body is set and headers name none.
 */
void ows__s3_reply(struct ows__s3_req *r, int status,
		   const struct ows_http_header *headers, size_t n,
		   const void *body, size_t len);
/* Reply 200 with the XML document in b (taken: freed). */
void ows__s3_reply_xml(struct ows__s3_req *r, struct ows_buf *b);

/*
 * A streamed reply (GetObject): the headers now (x-amz-request-id
 * added), then ows_http_respond_write / ows_http_respond_end on
 * r->c->req. content_length as ows_http_respond_start. After this the
 * call counts as answered (ows_aws_reply_start).
 */
int ows__s3_reply_start(struct ows__s3_req *r, int status,
			const struct ows_http_header *headers, size_t n,
			int64_t content_length);

/* ---- XML (xml.c) ---- */

/* Append s escaped for XML character data and attributes. */
void ows__s3_xml_esc(struct ows_buf *b, const char *s);
/* <name>escaped text</name> */
void ows__s3_xml_elem(struct ows_buf *b, const char *name, const char *text);
/* The XML declaration and <root xmlns="http://s3.amazonaws.com/doc/
   2006-03-01/">. */
void ows__s3_xml_open(struct ows_buf *b, const char *root);

/*
 * A small XML body parsed into a tree of JSON (expat): each element is
 * {"name": "Tag", "text": "...", "children": [ ... ]} with namespaces
 * dropped from names. NULL with err set when the text is not well-formed
 * XML, is nested deeper than 32 or has more than 100000 elements.
 */
json_t *ows__s3_xml_parse(const char *text, size_t len, struct ows_err *err);
/* The first child element of node named name, or NULL. */
const json_t *ows__s3_xml_child(const json_t *node, const char *name);
/* The text of the first child named name, or NULL. */
const char *ows__s3_xml_text(const json_t *node, const char *name);

/*
 * Read the request's whole body (at most limit bytes) and parse it as
 * XML: done(r, tree) with the tree (borrowed for the call), or done(r,
 * NULL) after an empty body when empty_ok. Errors are answered here
 * (MalformedXML, 400 past the limit, a bad signature) and done is not
 * called. The raw body stays in r->c->body / r->c->len (the arena;
 * Content-MD5 is checked when sent: BadDigest / InvalidDigest).
 */
typedef void (*ows__s3_xml_cb)(struct ows__s3_req *r, const json_t *tree);
void ows__s3_read_xml(struct ows__s3_req *r, size_t limit, bool empty_ok,
		      ows__s3_xml_cb done);
/* The same without parsing: done(r, body, len) with the whole body. */
typedef void (*ows__s3_body_cb)(struct ows__s3_req *r, const char *body,
				size_t len);
void ows__s3_read_body(struct ows__s3_req *r, size_t limit,
		       ows__s3_body_cb done);

/* ---- authorization, state, proposals (common.c) ---- */

/*
 * Judge action for r's caller on bucket (and key, when not NULL: the
 * object arn:aws:s3:::B/K and arn:ows:s3:::B/K; without it the bucket's
 * two ARNs), with the bucket's policy (from the state) and the extra
 * condition keys (borrowed, may be NULL). 0 when allowed; otherwise
 * AccessDenied (403) is answered here and OWS_EDENIED returned.
 */
int ows__s3_authorize(struct ows__s3_req *r, const char *action,
		      const char *bucket, const char *key,
		      const json_t *extra);
/* The same without answering: 0 or OWS_EDENIED. */
int ows__s3_allowed(struct ows__s3_req *r, const char *action,
		    const char *bucket, const char *key, const json_t *extra);

/* The spec of bucket (new reference), or NULL when there is none. */
json_t *ows__s3_bucket_get(const struct ows_aws_host *h, const char *bucket);

/* One object's row (s3_objects + s3_object_blobs). */
struct ows__s3_blob {
	char blob[65];
	uint64_t offset;   /* of this blob in the object */
	uint64_t size;
	char etag[80];     /* the part's ETag, unquoted */
	char *checksum;    /* the part's checksum (arena), or NULL */
};

struct ows__s3_object {
	const char *bucket, *key; /* borrowed from the caller */
	uint64_t size;
	char etag[80];     /* unquoted: "md5hex" or "md5hex-N" */
	int64_t modified;  /* ms */
	unsigned parts;    /* 0 for a PUT, N for a multipart object */
	uint64_t height;
	json_t *meta;      /* new reference: release with _object_release */
	struct ows__s3_blob *blobs; /* arena */
	size_t n_blobs;
};

/*
 * Look bucket/key up in the state into o (blobs in arena): 0,
 * OWS_ENOTFOUND, or -EIO.
 */
int ows__s3_object_get(const struct ows_aws_host *h, struct ows_arena *arena,
		       const char *bucket, const char *key,
		       struct ows__s3_object *o);
void ows__s3_object_release(struct ows__s3_object *o);
/*
 * r's own object (r->bucket, r->key) into o: 0; otherwise NoSuchKey (404)
 * or InternalError is answered here and the error returned.
 */
int ows__s3_object_load(struct ows__s3_req *r, struct ows__s3_object *o);
/* The ETag (unquoted) of bucket/key into out, or false when absent. */
bool ows__s3_object_etag(const struct ows_aws_host *h, const char *bucket,
			 const char *key, char out[80]);

/*
 * Propose actions (taken) as an attested entry of stack "" and, once it
 * committed and this node applied it, done(r, result) (result borrowed
 * for the call). A refusal is answered here as S3 says (the apply's
 * reason "Code: message" gives the code; 409 Conflict without one is
 * OperationAborted, 412 PreconditionFailed, 403 AccessDenied) and done
 * is not called; so are failures to commit (503 ServiceUnavailable /
 * 500 InternalError). With refused != NULL, a refusal goes to
 * refused(r, status, code, message) instead, to answer it itself.
 */
typedef void (*ows__s3_done_cb)(struct ows__s3_req *r, const json_t *result);
typedef void (*ows__s3_refused_cb)(struct ows__s3_req *r, int status,
				   const char *code, const char *message);
void ows__s3_propose(struct ows__s3_req *r, json_t *actions,
		     ows__s3_done_cb done, ows__s3_refused_cb refused);
/* One action {"action", "name", "spec"} (spec taken; may be NULL). */
json_t *ows__s3_action(const char *action, const char *bucket, json_t *spec);

/*
 * Wait on the host's read barrier, then next(r): so that a read sees
 * every write acknowledged before it arrived. A barrier that fails is
 * answered 503 ServiceUnavailable here.
 */
void ows__s3_barrier(struct ows__s3_req *r, ows__s3_handler next);

/* ---- headers (common.c) ---- */

/* "Wed, 02 Dec 2026 12:00:00 GMT" of ms since the epoch (30 bytes). */
void ows__s3_http_date(int64_t ms, char out[32]);
/* "2026-12-02T12:00:00.000Z" (ListObjects' LastModified). */
void ows__s3_iso_date(int64_t ms, char out[32]);
/* Parse an HTTP date (RFC 7231's three forms): 0 and *ms, or -EINVAL. */
int ows__s3_parse_http_date(const char *s, int64_t *ms);
/*
 * Append to h (cap entries, *n used) ETag ("\"etag\"", arena),
 * Last-Modified and x-amz-version-id: null for object o.
 */
void ows__s3_object_headers(struct ows__s3_req *r,
			    const struct ows__s3_object *o,
			    struct ows_http_header *h, size_t cap, size_t *n);

/* ---- checksums (checksum.c) ---- */

enum ows__s3_ck_alg {
	OWS_S3_CK_NONE,
	OWS_S3_CK_CRC32,
	OWS_S3_CK_CRC32C,
	OWS_S3_CK_CRC64NVME,
	OWS_S3_CK_SHA1,
	OWS_S3_CK_SHA256,
};

#define OWS_S3_CK_B64 48 /* base64 of the largest (SHA-256), NUL */

/* One running checksum of an object's bytes. */
struct ows__s3_ck {
	enum ows__s3_ck_alg alg;
	uint32_t crc32;   /* CRC32, CRC32C */
	uint64_t crc64;   /* CRC64NVME */
	void *md;         /* EVP_MD_CTX: SHA1, SHA256 */
};

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" ("" for NONE). */
const char *ows__s3_ck_name(enum ows__s3_ck_alg alg);
/* The algorithm named name, any case ("crc32", "CRC32"), or NONE. */
enum ows__s3_ck_alg ows__s3_ck_parse(const char *name);
/* 0 or -ENOMEM; _final writes base64 of the big-endian value, as S3. */
int ows__s3_ck_init(struct ows__s3_ck *ck, enum ows__s3_ck_alg alg);
void ows__s3_ck_update(struct ows__s3_ck *ck, const void *data, size_t len);
void ows__s3_ck_final(struct ows__s3_ck *ck, char out[OWS_S3_CK_B64]);
void ows__s3_ck_free(struct ows__s3_ck *ck);
/* CRC-32C and CRC-64/NVME, continued from crc (0 to start). */
uint32_t ows__s3_crc32c(uint32_t crc, const void *data, size_t len);
uint64_t ows__s3_crc64nvme(uint64_t crc, const void *data, size_t len);

/* The request header of alg's value ("x-amz-checksum-crc32"), or NULL. */
const char *ows__s3_ck_header(enum ows__s3_ck_alg alg);
/* Whether b64 is base64 of a value of alg's size. */
bool ows__s3_ck_value_valid(enum ows__s3_ck_alg alg, const char *b64);

/* ---- a body into a blob (upload.c) ---- */

/* What ows__s3_sink stored (the call's arena). */
struct ows__s3_stored {
	char blob[65];        /* SHA-256 hex: the blob's name */
	char md5[33];         /* hex: the ETag of a PUT or a part */
	uint64_t size;
	enum ows__s3_ck_alg ck; /* the checksum asked for, or NONE */
	char checksum[OWS_S3_CK_B64]; /* its value (verified), base64 */
};
typedef void (*ows__s3_sink_cb)(struct ows__s3_req *r,
				const struct ows__s3_stored *st);

/*
 * Stream r's body (at most max bytes: EntityTooLarge) into a new blob:
 * Content-MD5 (InvalidDigest, BadDigest), the one checksum of
 * x-amz-checksum-ALG, x-amz-trailer or x-amz-sdk-checksum-algorithm
 * (InvalidRequest, BadDigest) checked, MissingContentLength (411);
 * the blob committed and made durable on the replica count
 * (host->blob_replicate); then done(r, stored). Every error is answered
 * here (done not called) and stores nothing. Uses r->reading.
 */
void ows__s3_sink(struct ows__s3_req *r, uint64_t max, ows__s3_sink_cb done);
/*
 * The same, computing checksum dflt of the body when the request names
 * none (UploadPart of an upload made with a checksum algorithm: S3
 * computes the part's checksum itself); stored->ck and ->checksum then
 * hold it.
 */
void ows__s3_sink_alg(struct ows__s3_req *r, uint64_t max,
		      enum ows__s3_ck_alg dflt, ows__s3_sink_cb done);

/*
 * The same with a filter between the body and the blob (POST Object:
 * the blob is the form's file part): every piece of the body (data, len;
 * last on the final call, len maybe 0) goes to filter, which hands the
 * blob's bytes to ows__s3_sink_keep; a filter that returns non-zero has
 * its error (e) answered and nothing is stored. Content-MD5 and the
 * checksum headers are not looked at (they would be the form's).
 */
struct ows__s3_sink_err {
	int status;          /* 0: 500 InternalError */
	const char *code;    /* static */
	char msg[256];
};
typedef int (*ows__s3_sink_filter)(struct ows__s3_req *r, const void *data,
				   size_t len, bool last,
				   struct ows__s3_sink_err *e);
void ows__s3_sink_filtered(struct ows__s3_req *r, uint64_t max,
			   ows__s3_sink_filter filter, ows__s3_sink_cb done);
/* From a filter: len bytes of the blob. 0, or < 0 once answered. */
int ows__s3_sink_keep(struct ows__s3_req *r, const void *data, size_t len);

/* ---- names (names.c) ---- */

/*
 * AWS's bucket naming rules (general purpose buckets): 3 to 63 of
 * [a-z0-9.-], starting and ending with a letter or digit, no "..", not an
 * IP address, not starting with "xn--", "sthree-" or "amzn-s3-demo-",
 * not ending in "-s3alias", "--ol-s3" or ".mrap"... true when valid.
 */
bool ows__s3_bucket_name_valid(const char *name);
/* Valid UTF-8 without NUL, 1 to OWS_S3_KEY_MAX bytes: 0, or OWS_EINVAL
   (not UTF-8) / OWS_ETOOBIG (too long). */
int ows__s3_key_check(const char *key, size_t len);

/* ---- the buckets (buckets.c) ---- */

void ows__s3_list_buckets(struct ows__s3_req *r);
void ows__s3_create_bucket(struct ows__s3_req *r);
void ows__s3_delete_bucket(struct ows__s3_req *r);
void ows__s3_head_bucket(struct ows__s3_req *r);
void ows__s3_get_bucket_location(struct ows__s3_req *r);
void ows__s3_get_bucket_versioning(struct ows__s3_req *r);
void ows__s3_get_acl(struct ows__s3_req *r); /* bucket and object ACLs */

/* ---- the kinds (kinds.c) ---- */

/* buckets, objects and uploads (NULL-terminated) */
extern const struct ows_kind *const ows__s3_kinds[];
/* Whether bucket holds objects or in-progress uploads (state). */
bool ows__s3_bucket_has_content(struct ows_state *s, const char *bucket);
/*
 * At apply: S3's conditional write of spec ("if_match", "if_none_match",
 * "seen", s3_model.h) against bucket/key's row. 0 when it holds;
 * OWS_EPRECOND "PreconditionFailed: ...", OWS_ECONFLICT
 * "ConditionalRequestConflict: ...", OWS_ENOTFOUND "NoSuchKey: ..." (If-
 * Match of an absent key) with the reason in err; -EIO.
 */
int ows__s3_object_conditions(struct ows_state *s, const char *bucket,
			      const char *key, const json_t *spec,
			      struct ows_err *err);
/*
 * At apply: write the object row of bucket/key (replacing it and its
 * blobs): size, etag (unquoted), parts (0 for a PUT), meta (borrowed),
 * blobs [{"blob", "size", "etag", "checksum"}] in order (offsets are
 * computed); modified and height are the entry's. 0 or -EIO.
 */
int ows__s3_object_write(const struct ows_apply_ctx *c, const char *bucket,
			 const char *key, json_int_t size, const char *etag,
			 unsigned parts, const json_t *meta,
			 const json_t *blobs);
/* The apply of the uploads.* entries (s3_model.h), in mpu_apply.c. */
int ows__s3_uploads_apply(const struct ows_apply_ctx *c, const char *verb,
			  const char *name, const json_t *spec,
			  json_t *result, struct ows_err *err);

/* ---- objects (objects.c, object_get.c) ---- */

void ows__s3_put_object(struct ows__s3_req *r);
void ows__s3_get_object(struct ows__s3_req *r); /* GET and HEAD */
void ows__s3_delete_object(struct ows__s3_req *r);
/*
 * The meta (s3_model.h) of a write from r's headers: Content-Type
 * (default binary/octet-stream), Content-Encoding, -Disposition,
 * -Language, Cache-Control, Expires, x-amz-meta-* (MetadataTooLarge past
 * 2 KB), x-amz-tagging (InvalidTag), owner. A new reference, or NULL
 * once answered. CreateMultipartUpload and CopyObject (REPLACE) use it.
 */
json_t *ows__s3_meta_of_request(struct ows__s3_req *r);
/*
 * If-None-Match: * and If-Match: ETAG of a write to r's key into spec
 * ("if_none_match", "if_match", "seen": the ETag now, or null), for the
 * apply to decide (s3_model.h). Refused at once (412 PreconditionFailed,
 * 404 NoSuchKey, 501 for If-None-Match other than *) when they fail
 * already: then answered and -EINVAL. 0 otherwise.
 */
int ows__s3_write_conditions(struct ows__s3_req *r, json_t *spec);
/*
 * A single HTTP range "bytes=A-B", "bytes=A-", "bytes=-N" of an object of
 * size bytes: 1 and [*a, *b), 0 when absent or to be ignored (malformed,
 * several ranges), -1 when it cannot be satisfied (416 InvalidRange).
 */
int ows__s3_parse_range(const char *v, uint64_t size, uint64_t *a,
			uint64_t *b);

/* ---- built by other files ---- */

void ows__s3_list_objects(struct ows__s3_req *r); /* v1 and v2 (r->id) */
void ows__s3_delete_objects(struct ows__s3_req *r);
void ows__s3_copy_object(struct ows__s3_req *r);
void ows__s3_get_object_attributes(struct ows__s3_req *r);
void ows__s3_object_tagging_get(struct ows__s3_req *r);
void ows__s3_object_tagging_put(struct ows__s3_req *r);
void ows__s3_object_tagging_delete(struct ows__s3_req *r);
void ows__s3_bucket_tagging_get(struct ows__s3_req *r);
void ows__s3_bucket_tagging_put(struct ows__s3_req *r);
void ows__s3_bucket_tagging_delete(struct ows__s3_req *r);
void ows__s3_mpu_create(struct ows__s3_req *r);
void ows__s3_mpu_upload_part(struct ows__s3_req *r);
void ows__s3_mpu_upload_part_copy(struct ows__s3_req *r);
void ows__s3_mpu_complete(struct ows__s3_req *r);
void ows__s3_mpu_abort(struct ows__s3_req *r);
void ows__s3_mpu_list_parts(struct ows__s3_req *r);
void ows__s3_mpu_list_uploads(struct ows__s3_req *r);
void ows__s3_bucket_policy_get(struct ows__s3_req *r);
void ows__s3_bucket_policy_put(struct ows__s3_req *r);
void ows__s3_bucket_policy_delete(struct ows__s3_req *r);
void ows__s3_bucket_cors_get(struct ows__s3_req *r);
void ows__s3_bucket_cors_put(struct ows__s3_req *r);
void ows__s3_bucket_cors_delete(struct ows__s3_req *r);
void ows__s3_preflight(struct ows__s3_req *r);   /* OPTIONS */
void ows__s3_post_object(struct ows__s3_req *r); /* browser form upload */

/*
 * The CORS headers of an actual response (access_api.c): when the
 * request has an Origin that a rule of r->bucket's CORS configuration
 * allows for its method, Access-Control-Allow-Origin and the rest, into
 * h (at most cap; values in the call's arena). Returns how many. The
 * replies of common.c (ows__s3_reply, ows__s3_reply_start) add them.
 */
#define OWS_S3_CORS_MAX_HEADERS 8
size_t ows__s3_cors_response(struct ows__s3_req *r, struct ows_http_header *h,
			     size_t cap);

#endif
