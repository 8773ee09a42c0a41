/*
 * Multipart uploads (S3 API Reference): CreateMultipartUpload,
 * UploadPart, CompleteMultipartUpload and AbortMultipartUpload; the copy
 * of a part is multipart_copy.c, the listings multipart_list.c, and the
 * apply of the uploads.* entries they propose kinds_uploads.c.
 *
 * An upload id is 24 random bytes in base64url, made on the node that
 * takes CreateMultipartUpload. A part's body streams into a blob exactly
 * as a PutObject's does (ows__s3_sink: hashes, checksums, durable on the
 * replica count) before uploads.part names it. Completing proposes the
 * list of parts; the apply judges it against the parts the state holds,
 * so that two completes, or a complete racing a part, agree on every
 * node.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/enc.h"
#include "common/json.h"
#include "s3/multipart.h"
#include "state/state.h"

#define COMPLETE_XML_LIMIT (4u << 20) /* 10,000 parts with checksums */

/* ---- shared ---- */

static const char *or_(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

void ows__s3_no_such_upload(struct ows__s3_req *r)
{
	ows__s3_error(r, 404, "NoSuchUpload", "The specified upload does not "
		      "exist. The upload ID may be invalid, or the upload may "
		      "have been aborted or completed.");
}

bool ows__s3_part_number(struct ows__s3_req *r, unsigned *part)
{
	char v[16], *end;
	long n;

	if (ows__s3_query(r, "partNumber", v, sizeof(v)) && v[0] != '\0') {
		n = strtol(v, &end, 10);
		if (*end == '\0' && n >= 1 && n <= OWS_S3_PART_MAX) {
			*part = (unsigned)n;
			return true;
		}
	}
	ows__s3_error(r, 400, "InvalidArgument", "Part number must be an "
		      "integer between 1 and 10000, inclusive");
	return false;
}

bool ows__s3_mpu_upload_of(struct ows__s3_req *r, struct ows__s3_upload *u)
{
	char id[OWS_S3_UPLOAD_ID_LEN + 8];
	int rv;

	if (!ows__s3_query(r, "uploadId", id, sizeof(id)))
		id[0] = '\0';
	rv = ows__s3_upload_get(r->c->host->state, r->c->arena, r->bucket, id,
				u);
	if (rv == 0 && strcmp(u->key, r->key) != 0) {
		json_decref(u->meta);
		u->meta = NULL;
		rv = OWS_ENOTFOUND;
	}
	if (rv == OWS_ENOTFOUND)
		ows__s3_no_such_upload(r);
	else if (rv != 0)
		ows__s3_internal(r, rv);
	return rv == 0;
}

/* Refusals whose apply gave a short text: S3's own. */
static void refused(struct ows__s3_req *r, int status, const char *code,
		    const char *message)
{
	if (strcmp(code, "NoSuchUpload") == 0)
		ows__s3_no_such_upload(r);
	else if (strcmp(code, "InvalidPart") == 0)
		ows__s3_error(r, 400, code, "One or more of the specified "
			      "parts could not be found.  The part may not have "
			      "been uploaded, or the specified entity tag may "
			      "not match the part's entity tag. (%s)", message);
	else if (strcmp(code, "NoSuchKey") == 0 ||
		 strcmp(code, "PreconditionFailed") == 0 ||
		 strcmp(code, "ConditionalRequestConflict") == 0)
		ows__s3_error_key(r, status, code, "%s", message);
	else
		ows__s3_error(r, status, code, "%s", message);
}

/* ---- CreateMultipartUpload ---- */

/*
 * x-amz-checksum-algorithm and x-amz-checksum-type into meta.checksum:
 * false once answered. COMPOSITE is the default but for CRC64NVME,
 * which has FULL_OBJECT only; the SHAs have COMPOSITE only.
 */
static bool checksum_of(struct ows__s3_req *r, json_t *meta)
{
	const char *a = ows_aws_header(r->c, "x-amz-checksum-algorithm");
	const char *t = ows_aws_header(r->c, "x-amz-checksum-type");
	enum ows__s3_ck_alg alg = a ? ows__s3_ck_parse(a) : OWS_S3_CK_NONE;
	bool full;

	if (a == NULL && t == NULL)
		return true;
	if (a == NULL || alg == OWS_S3_CK_NONE) {
		ows__s3_error(r, 400, "InvalidRequest", a ? "Checksum algorithm "
			      "provided is unsupported. Please try again with "
			      "any of the valid types: [CRC32, CRC32C, "
			      "CRC64NVME, SHA1, SHA256]" : "The "
			      "x-amz-checksum-type header can only be used with "
			      "the x-amz-checksum-algorithm header.");
		return false;
	}
	if (t != NULL && strcasecmp(t, "COMPOSITE") != 0 &&
	    strcasecmp(t, "FULL_OBJECT") != 0) {
		ows__s3_error(r, 400, "InvalidRequest", "Value for "
			      "x-amz-checksum-type header is invalid.");
		return false;
	}
	full = t ? strcasecmp(t, "FULL_OBJECT") == 0
		 : alg == OWS_S3_CK_CRC64NVME;
	if ((full && (alg == OWS_S3_CK_SHA1 || alg == OWS_S3_CK_SHA256)) ||
	    (!full && alg == OWS_S3_CK_CRC64NVME)) {
		ows__s3_error(r, 400, "InvalidRequest", "The %s checksum "
			      "algorithm does not support the %s checksum type.",
			      ows__s3_ck_name(alg), full ? "FULL_OBJECT"
							 : "COMPOSITE");
		return false;
	}
	json_object_set_new(meta, "checksum", json_pack(
		"{s:s, s:s}", "algorithm", ows__s3_ck_name(alg), "type",
		full ? "FULL_OBJECT" : "COMPOSITE"));
	return true;
}

/* What CreateMultipartUpload answers once the upload exists. */
struct create_state {
	char id[OWS_S3_UPLOAD_ID_LEN + 8];
	char alg[16], type[16]; /* the upload's checksum, or "" */
};

static void created(struct ows__s3_req *r, const json_t *result)
{
	struct create_state *cs = r->data;
	struct ows_http_header h[2];
	struct ows_buf b = OWS_BUF_INIT;
	size_t n = 0;

	(void)result;
	if (cs->alg[0] != '\0') {
		h[n++] = (struct ows_http_header){"x-amz-checksum-algorithm",
						  cs->alg};
		h[n++] = (struct ows_http_header){"x-amz-checksum-type",
						  cs->type};
	}
	ows__s3_xml_open(&b, "InitiateMultipartUploadResult");
	ows__s3_xml_elem(&b, "Bucket", r->bucket);
	ows__s3_xml_elem(&b, "Key", r->key);
	ows__s3_xml_elem(&b, "UploadId", cs->id);
	ows_buf_puts(&b, "</InitiateMultipartUploadResult>");
	if (b.data == NULL) {
		ows_buf_free(&b);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	ows__s3_reply(r, 200, h, n, b.data, b.len);
	ows_buf_free(&b);
}

void ows__s3_mpu_create(struct ows__s3_req *r)
{
	struct create_state *cs = ows_arena_alloc(r->c->arena, sizeof(*cs));
	unsigned char raw[24];
	char id[OWS_B64_LEN(24)];
	json_t *meta, *spec, *ck;

	if (cs == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(cs, 0, sizeof(*cs));
	meta = ows__s3_meta_of_request(r);
	if (meta == NULL)
		return;
	if (!checksum_of(r, meta)) {
		json_decref(meta);
		return;
	}
	if (ows_random(raw, sizeof(raw)) != 0) {
		json_decref(meta);
		ows__s3_internal(r, -EIO);
		return;
	}
	ows_b64_encode(raw, sizeof(raw), id);
	for (char *p = id; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	/* not '-' first: command lines would read the id as an option
	   (the aws cli's --upload-id -abc... fails) */
	if (id[0] == '-' || id[0] == '_')
		id[0] = (char)('a' + raw[1] % 26);
	snprintf(cs->id, sizeof(cs->id), "%s", id);
	ck = json_object_get(meta, "checksum");
	snprintf(cs->alg, sizeof(cs->alg), "%s",
		 or_(ows_json_str(ck, "algorithm"), ""));
	snprintf(cs->type, sizeof(cs->type), "%s", or_(ows_json_str(ck, "type"), ""));
	r->data = cs;
	spec = json_pack("{s:s, s:s, s:o}", "upload_id", id, "key", r->key,
			 "meta", meta);
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("uploads.create",
							   r->bucket, spec)),
			created, refused);
}

/* ---- UploadPart ---- */

struct part_reply {
	unsigned part;
	bool copy;
	enum ows__s3_ck_alg ck;
	char md5[33];
	char checksum[OWS_S3_CK_B64];
};

static void part_done(struct ows__s3_req *r, const json_t *result)
{
	struct part_reply *p = r->data;
	struct ows_http_header h[2];
	char *etag = ows_arena_printf(r->c->arena, "\"%s\"", p->md5);
	size_t n = 0;
	struct ows_buf b = OWS_BUF_INIT;
	char date[32];

	if (!p->copy) {
		h[n++] = (struct ows_http_header){"ETag", etag};
		if (p->ck != OWS_S3_CK_NONE)
			h[n++] = (struct ows_http_header){
				ows__s3_ck_header(p->ck), p->checksum};
		ows__s3_reply(r, 200, h, n, NULL, 0);
		return;
	}
	ows__s3_iso_date(json_integer_value(json_object_get(result,
							    "modified")),
			 date);
	ows__s3_xml_open(&b, "CopyPartResult");
	ows__s3_xml_elem(&b, "LastModified", date);
	ows__s3_xml_elem(&b, "ETag", etag);
	if (p->ck != OWS_S3_CK_NONE) {
		char name[24];

		snprintf(name, sizeof(name), "Checksum%s",
			 ows__s3_ck_name(p->ck));
		ows__s3_xml_elem(&b, name, p->checksum);
	}
	ows_buf_puts(&b, "</CopyPartResult>");
	ows__s3_reply_xml(r, &b);
}

void ows__s3_mpu_part_propose(struct ows__s3_req *r, const char *upload_id,
			      unsigned part, const char *blob, uint64_t size,
			      const char *md5, enum ows__s3_ck_alg ck,
			      const char *checksum, bool copy)
{
	struct part_reply *p = ows_arena_alloc(r->c->arena, sizeof(*p));
	json_t *spec;

	if (p == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	*p = (struct part_reply){.part = part, .copy = copy, .ck = ck};
	snprintf(p->md5, sizeof(p->md5), "%s", md5);
	snprintf(p->checksum, sizeof(p->checksum), "%s",
		 ck != OWS_S3_CK_NONE ? checksum : "");
	r->data = p;
	spec = json_pack("{s:s, s:i, s:s, s:I, s:s}", "upload_id", upload_id,
			 "part", (int)part, "blob", blob, "size",
			 (json_int_t)size, "etag", md5);
	if (spec != NULL && ck != OWS_S3_CK_NONE)
		json_object_set_new(spec, "checksum", json_string(checksum));
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("uploads.part",
							   r->bucket, spec)),
			part_done, refused);
}

static void part_stored(struct ows__s3_req *r, const struct ows__s3_stored *st)
{
	char id[OWS_S3_UPLOAD_ID_LEN + 8];
	unsigned part = 0;

	ows__s3_query(r, "uploadId", id, sizeof(id));
	if (!ows__s3_part_number(r, &part))
		return;
	ows__s3_mpu_part_propose(r, id, part, st->blob, st->size, st->md5,
				 st->ck, st->checksum, false);
}

/* The checksum algorithm the part's request names (header, trailer or
   SDK header), or NONE. */
static enum ows__s3_ck_alg part_alg(struct ows__s3_req *r)
{
	const char *tr = ows_aws_header(r->c, "x-amz-trailer");
	const char *sdk = ows_aws_header(r->c, "x-amz-sdk-checksum-algorithm");

	for (int i = OWS_S3_CK_CRC32; i <= OWS_S3_CK_SHA256; i++) {
		const char *h = ows__s3_ck_header((enum ows__s3_ck_alg)i);

		if (ows_aws_header(r->c, h) != NULL ||
		    (tr != NULL && strcasecmp(tr, h) == 0))
			return (enum ows__s3_ck_alg)i;
	}
	return sdk ? ows__s3_ck_parse(sdk) : OWS_S3_CK_NONE;
}

static void upload_part_run(struct ows__s3_req *r)
{
	struct ows__s3_upload u;
	enum ows__s3_ck_alg alg = part_alg(r);
	unsigned part;

	if (!ows__s3_part_number(r, &part) || !ows__s3_mpu_upload_of(r, &u))
		return;
	json_decref(u.meta);
	if (u.ck != OWS_S3_CK_NONE && alg != OWS_S3_CK_NONE && alg != u.ck) {
		ows__s3_error(r, 400, "InvalidRequest", "Checksum Type mismatch "
			      "occurred, expected checksum Type: %s, actual "
			      "checksum Type: %s", ows__s3_ck_name(u.ck),
			      ows__s3_ck_name(alg));
		return;
	}
	/* a part sent without a checksum gets the upload's, computed here */
	ows__s3_sink_alg(r, OWS_S3_PART_SIZE_MAX, u.ck, part_stored);
}

void ows__s3_mpu_upload_part(struct ows__s3_req *r)
{
	char id[OWS_S3_UPLOAD_ID_LEN + 8];
	struct ows__s3_upload u;

	/* An upload made through another node moments ago may not be
	   applied here yet: wait for the leader's commit index first. */
	if (!ows__s3_query(r, "uploadId", id, sizeof(id)) ||
	    ows__s3_upload_get(r->c->host->state, r->c->arena, r->bucket, id,
			       &u) != 0) {
		ows__s3_barrier(r, upload_part_run);
		return;
	}
	json_decref(u.meta);
	upload_part_run(r);
}

/* ---- CompleteMultipartUpload ---- */

/* ETag text as clients send it ("\"hex\"", &quot;hex&quot;, hex) into
   out: the 32 hex digits, lowercase, or "". */
static void etag_of(const char *text, char out[40])
{
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = text; p && *p && n < 33; p++) {
		if (ows_hex_digit(*p) >= 0)
			out[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a'
								 : *p);
		else if (*p != '"' && *p != ' ' && *p != '\n' && *p != '\t')
			n = 99;
	}
	if (n != 32)
		out[0] = '\0';
	else
		out[32] = '\0';
}

/* The parts of the XML body into a list for the spec: NULL once
   answered. */
static json_t *parts_of(struct ows__s3_req *r, const json_t *tree)
{
	const json_t *children = json_object_get(tree, "children"), *ch;
	json_t *list = json_array();
	size_t i;

	if (tree == NULL || strcmp(or_(ows_json_str(tree, "name"), ""),
				   "CompleteMultipartUpload") != 0)
		goto malformed;
	json_array_foreach(children, i, ch) {
		const char *pn = ows__s3_xml_text(ch, "PartNumber");
		char etag[40], name[24], *end;
		long n = pn ? strtol(pn, &end, 10) : 0;
		json_t *p;

		if (strcmp(or_(ows_json_str(ch, "name"), ""), "Part") != 0)
			continue;
		etag_of(ows__s3_xml_text(ch, "ETag"), etag);
		if (pn == NULL || *end != '\0' || etag[0] == '\0')
			goto malformed;
		if (n < 1 || n > OWS_S3_PART_MAX) {
			json_decref(list);
			ows__s3_error(r, 400, "InvalidArgument", "Part number "
				      "must be an integer between 1 and 10000, "
				      "inclusive");
			return NULL;
		}
		p = json_pack("{s:i, s:s}", "part", (int)n, "etag", etag);
		for (int a = OWS_S3_CK_CRC32; p && a <= OWS_S3_CK_SHA256; a++) {
			const char *v;

			snprintf(name, sizeof(name), "Checksum%s",
				 ows__s3_ck_name((enum ows__s3_ck_alg)a));
			v = ows__s3_xml_text(ch, name);
			if (v != NULL)
				json_object_set_new(p, "checksum",
						    json_string(v));
		}
		json_array_append_new(list, p);
	}
	if (json_array_size(list) == 0 ||
	    json_array_size(list) > OWS_S3_PART_MAX)
		goto malformed;
	return list;
malformed:
	json_decref(list);
	ows__s3_malformed_xml(r);
	return NULL;
}

/* If-Match, If-None-Match (decided at apply, s3_model.h) and the
   checksum of the whole object the request sends into spec: false once
   answered. */
static bool complete_conditions(struct ows__s3_req *r, json_t *spec)
{
	if (ows__s3_write_conditions(r, spec) != 0)
		return false;
	for (int a = OWS_S3_CK_CRC32; a <= OWS_S3_CK_SHA256; a++) {
		const char *v = ows_aws_header(r->c, ows__s3_ck_header(
						       (enum ows__s3_ck_alg)a));

		if (v != NULL)
			json_object_set_new(spec, "checksum", json_string(v));
	}
	return true;
}

static void completed(struct ows__s3_req *r, const json_t *result)
{
	const json_t *ck = json_object_get(result, "checksum");
	const char *host = ows_aws_header(r->c, "Host");
	struct ows_buf b = OWS_BUF_INIT;
	char name[24];

	ows__s3_xml_open(&b, "CompleteMultipartUploadResult");
	/* the request's own (percent-encoded) path: /BUCKET/KEY or /KEY */
	ows_buf_puts(&b, "<Location>");
	ows__s3_xml_esc(&b, ows_arena_printf(r->c->arena, "http://%s%s",
					     host ? host : "",
					     r->c->req->path));
	ows_buf_puts(&b, "</Location>");
	ows__s3_xml_elem(&b, "Bucket", r->bucket);
	ows__s3_xml_elem(&b, "Key", r->key);
	ows__s3_xml_elem(&b, "ETag", ows_arena_printf(r->c->arena, "\"%s\"",
		or_(ows_json_str(result, "etag"), "")));
	if (ows_json_str(ck, "value") != NULL) {
		snprintf(name, sizeof(name), "Checksum%s",
			 ows_json_str(ck, "algorithm"));
		ows__s3_xml_elem(&b, name, ows_json_str(ck, "value"));
		ows__s3_xml_elem(&b, "ChecksumType", ows_json_str(ck, "type"));
	}
	ows_buf_puts(&b, "</CompleteMultipartUploadResult>");
	ows__s3_reply_xml(r, &b);
}

/*
 * The ETag an object made of the listed parts gets (kinds_uploads.c's
 * rule), for a complete sent again once it succeeded.
 */
static char *listed_etag(struct ows__s3_req *r, const json_t *parts)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char raw[16], sum[16];
	unsigned int len = 0;
	const json_t *p;
	char hex[33];
	size_t i;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return NULL;
	}
	json_array_foreach(parts, i, p) {
		ows_hex_decode(ows_json_str(p, "etag"), raw, 16);
		EVP_DigestUpdate(md, raw, 16);
	}
	EVP_DigestFinal_ex(md, sum, &len);
	EVP_MD_CTX_free(md);
	ows_hex_encode(sum, 16, hex);
	return ows_arena_printf(r->c->arena, "%s-%zu", hex,
				json_array_size(parts));
}

/*
 * A complete sent again after it succeeded (its answer was lost, the
 * client retries) gets the same answer, as S3 gives it, when the object
 * at the key is still the one this upload made of these parts. true
 * once answered.
 */
static bool answered_again(struct ows__s3_req *r, const char *id,
			   const char *etag)
{
	struct ows__s3_object o;
	json_t *result;
	bool same;

	if (etag == NULL || ows__s3_object_get(r->c->host, r->c->arena,
					       r->bucket, r->key, &o) != 0)
		return false;
	same = ows_json_str(o.meta, "upload_id") != NULL &&
	       strcmp(ows_json_str(o.meta, "upload_id"), id) == 0 &&
	       strcmp(o.etag, etag) == 0;
	result = same ? json_pack("{s:s, s:O*}", "etag", o.etag, "checksum",
				  json_object_get(o.meta, "checksum"))
		      : NULL;
	ows__s3_object_release(&o);
	if (result == NULL)
		return false;
	completed(r, result);
	json_decref(result);
	return true;
}

/* What a complete keeps for a refusal of its entry. */
struct complete_state {
	char id[OWS_S3_UPLOAD_ID_LEN + 8];
	char *etag; /* the listed parts' object ETag (arena) */
};

static void complete_refused(struct ows__s3_req *r, int status,
			     const char *code, const char *message)
{
	struct complete_state *cs = r->data;

	/* another complete of these parts committed first */
	if (strcmp(code, "NoSuchUpload") == 0 &&
	    answered_again(r, cs->id, cs->etag))
		return;
	refused(r, status, code, message);
}

static void complete_body(struct ows__s3_req *r, const json_t *tree)
{
	struct complete_state *cs = ows_arena_alloc(r->c->arena, sizeof(*cs));
	struct ows__s3_upload u;
	json_t *parts, *spec;
	int rv;

	if (cs == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	parts = parts_of(r, tree);
	if (parts == NULL)
		return;
	if (!ows__s3_query(r, "uploadId", cs->id, sizeof(cs->id)))
		cs->id[0] = '\0';
	cs->etag = listed_etag(r, parts);
	rv = ows__s3_upload_get(r->c->host->state, r->c->arena, r->bucket,
				cs->id, &u);
	if (rv == 0 && strcmp(u.key, r->key) != 0)
		rv = OWS_ENOTFOUND;
	json_decref(u.meta);
	if (rv != 0) {
		json_decref(parts);
		if (rv != OWS_ENOTFOUND)
			ows__s3_internal(r, rv);
		else if (!answered_again(r, cs->id, cs->etag))
			ows__s3_no_such_upload(r);
		return;
	}
	spec = json_pack("{s:s, s:o}", "upload_id", cs->id, "parts", parts);
	if (spec == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	if (!complete_conditions(r, spec)) {
		json_decref(spec);
		return;
	}
	r->data = cs;
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("uploads.complete",
							   r->bucket, spec)),
			completed, complete_refused);
}

void ows__s3_mpu_complete(struct ows__s3_req *r)
{
	char id[OWS_S3_UPLOAD_ID_LEN + 8];

	/* NoSuchUpload before reading a body that would be thrown away,
	   unless the id has the form of one (it may have completed) */
	if (!ows__s3_query(r, "uploadId", id, sizeof(id)) ||
	    !ows__s3_upload_id_valid(id)) {
		ows__s3_no_such_upload(r);
		return;
	}
	ows__s3_read_xml(r, COMPLETE_XML_LIMIT, false, complete_body);
}

/* ---- AbortMultipartUpload ---- */

static void aborted(struct ows__s3_req *r, const json_t *result)
{
	(void)result;
	ows__s3_reply(r, 204, NULL, 0, NULL, 0);
}

static void abort_run(struct ows__s3_req *r)
{
	struct ows__s3_upload u;
	json_t *spec;

	if (!ows__s3_mpu_upload_of(r, &u))
		return;
	json_decref(u.meta);
	spec = json_pack("{s:s}", "upload_id", u.id);
	ows__s3_propose(r, json_pack("[o]", ows__s3_action("uploads.abort",
							   r->bucket, spec)),
			aborted, refused);
}

void ows__s3_mpu_abort(struct ows__s3_req *r)
{
	/* the upload may have been made through another node just now */
	ows__s3_barrier(r, abort_run);
}
