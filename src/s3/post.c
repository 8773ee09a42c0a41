/*
 * Browser form uploads: POST Object (s3_priv.h, ows__s3_post_object), as
 * the S3 API Reference's "POST Object" and "Browser-Based Uploads Using
 * POST" describe them. The request is a multipart/form-data form whose
 * fields carry the key, the signed policy document and the credentials,
 * and whose "file" field (the last one that counts: "fields after it are
 * ignored") is the object. aws/call.c lets it in as anonymous (its
 * credentials are in the body); the fields are read as they come
 * (form.c), and when the file part begins they are judged: the signature
 * (SigV4 or V2, aws/post_auth.c), the policy's expiration and conditions
 * (post_policy.c), then s3:PutObject on the key for the signer. The file
 * is streamed into a blob through the PutObject path (upload.c's sink,
 * with this file's reader as its filter), never held, its size checked
 * against the policy's content-length-range as it grows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/sigv4.h"
#include "common/enc.h"
#include "common/json.h"
#include "s3/access.h"
#include "s3/s3_priv.h"

#define FIELDS_MAX_BYTES (256 * 1024) /* all fields' names and values */
#define FIELDS_MAX 128

enum { P_NONE, P_FIELD, P_FILE, P_AFTER };

struct field {
	struct field *next;
	char *name; /* lowercase */
	char *value;
};

struct post {
	struct ows__s3_req *r;
	struct ows_s3_form form;
	struct ows__s3_sink_err *err; /* the current filter call's */
	struct field *fields;
	size_t n_fields, field_bytes;
	int part;
	char name[256];
	char *vbuf;	     /* every field's value, NUL-separated
				(arena, FIELDS_MAX_BYTES + FIELDS_MAX) */
	size_t vlen, vstart; /* used; where the current value begins */
	bool file_done;
	uint64_t size, min, max;
	char *spec;	      /* objects.put's, as text (arena) */
	char *key;	      /* arena */
	const char *status;   /* success_action_status, or NULL */
	const char *redirect; /* success_action_redirect, or NULL */
	char etag[40];
};

static int refuse(struct post *p, int status, const char *code, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct post *p, int status, const char *code, const char *fmt,
		  ...)
{
	va_list ap;

	p->err->status = status;
	p->err->code = code;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return OWS_EINVAL;
}

static const char *field(const struct post *p, const char *name)
{
	for (const struct field *f = p->fields; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f->value;
	return NULL;
}

/* The fields as an object of strings (new reference). */
static json_t *fields_json(const struct post *p)
{
	json_t *o = json_object();

	for (const struct field *f = p->fields; o != NULL && f != NULL;
	     f = f->next)
		if (json_object_get(o, f->name) == NULL)
			json_object_set_new(
			    o, f->name,
			    json_stringn_nocheck(f->value, strlen(f->value)));
	return o;
}

/* ---- when the file begins: who, what policy, what key ---- */

static int authenticate(struct post *p)
{
	struct ows_aws_call *c = p->r->c;
	struct ows_err err = {{0}};
	const char *code, *msg;
	int rv, status;

	if (field(p, "x-amz-signature") != NULL)
		rv = ows_aws_call_auth_post(
		    c, field(p, "x-amz-algorithm"),
		    field(p, "x-amz-credential"), field(p, "x-amz-date"),
		    field(p, "policy"), field(p, "x-amz-signature"),
		    field(p, "x-amz-security-token"), &err);
	else if (field(p, "signature") != NULL ||
		 field(p, "awsaccesskeyid") != NULL)
		rv = ows_aws_call_auth_v2(
		    c, field(p, "awsaccesskeyid"), field(p, "policy"),
		    field(p, "signature"), field(p, "x-amz-security-token"),
		    &err);
	else /* anonymous: never allowed to write (ledger/authz.h) */
		return refuse(p, 403, "AccessDenied", "Access Denied");
	if (rv == 0)
		return 0;
	status = ows_sigv4_error(rv, true, &code, &msg);
	return refuse(p, status, code, "%s", err.msg[0] ? err.msg : msg);
}

static int check_policy(struct post *p)
{
	struct ows_err err = {{0}};
	const char *code = "InvalidPolicyDocument";
	json_t *doc = NULL, *fields = fields_json(p);
	int rv;

	if (fields == NULL)
		return refuse(p, 500, "InternalError", "out of memory");
	rv = ows__s3_post_policy_read(field(p, "policy"), &doc, &code, &err);
	if (rv == 0)
		rv = ows__s3_post_policy_check(doc, fields, p->r->bucket,
					       (int64_t)time(NULL), &p->min,
					       &p->max, &code, &err);
	json_decref(doc);
	json_decref(fields);
	if (rv != 0)
		return refuse(p, strcmp(code, "AccessDenied") == 0 ? 403 : 400,
			      code, "%s", err.msg);
	return 0;
}

/* The key, with ${filename} made the file's name (its last part). */
static int key_of(struct post *p, const char *filename)
{
	const char *k = field(p, "key"), *at;
	const char *base = filename ? strrchr(filename, '/') : NULL;
	char *key;

	if (k == NULL || k[0] == '\0')
		return refuse(p, 400, "InvalidArgument",
			      "Bucket POST must "
			      "contain a field named 'key'.  If it is "
			      "specified, please check the order of the "
			      "fields.");
	base = base ? base + 1 : filename ? filename : "";
	if (strrchr(base, '\\') != NULL)
		base = strrchr(base, '\\') + 1;
	at = strstr(k, "${filename}");
	key = at ? ows_arena_printf(p->r->c->arena, "%.*s%s%s", (int)(at - k),
				    k, base, at + 11)
		 : ows_arena_strdup(p->r->c->arena, k);
	if (key == NULL)
		return refuse(p, 500, "InternalError", "out of memory");
	if (ows__s3_key_check(key, strlen(key)) != 0)
		return refuse(p, 400, "KeyTooLongError",
			      "Your key is too long "
			      "or not UTF-8");
	p->key = key;
	p->r->key = key;
	return 0;
}

/* The object's meta from the fields (s3_model.h), as text in p->spec. */
static int spec_of(struct post *p)
{
	static const char *const stored[][2] = {
	    {"cache-control", "cache_control"},
	    {"content-disposition", "content_disposition"},
	    {"content-encoding", "content_encoding"},
	    {"content-language", "content_language"},
	    {"expires", "expires"},
	};
	const struct ows_aws_caller *who = &p->r->c->caller;
	const char *ct = field(p, "content-type");
	json_t *meta = json_object(), *user = json_object(), *spec;
	size_t user_bytes = 0;
	char *text;

	/* S3's 2 KB of x-amz-meta-* holds for forms too: a policy's
	   ["starts-with", "$x-amz-meta-n", ""] must not let 256 KB of
	   fields into every object's row */
	for (const struct field *f = p->fields; f != NULL; f = f->next)
		if (strncmp(f->name, "x-amz-meta-", 11) == 0)
			user_bytes += strlen(f->name + 11) + strlen(f->value);
	if (user_bytes > OWS_S3_META_MAX) {
		json_decref(meta);
		json_decref(user);
		return refuse(p, 400, "MetadataTooLarge", "Your metadata "
			      "headers exceed the maximum allowed metadata "
			      "size");
	}
	for (size_t i = 0; i < sizeof(stored) / sizeof(stored[0]); i++)
		if (field(p, stored[i][0]) != NULL)
			json_object_set_new(
			    meta, stored[i][1],
			    json_string(field(p, stored[i][0])));
	/* the Content-Type field only, as S3: the file part's own header is
	   the client's, outside the policy, and would let a form whose
	   policy names no Content-Type store text/html */
	json_object_set_new(meta, "content_type",
			    json_string(ct ? ct : "binary/octet-stream"));
	for (const struct field *f = p->fields; f != NULL; f = f->next)
		if (strncmp(f->name, "x-amz-meta-", 11) == 0)
			json_object_set_new(user, f->name + 11,
					    json_string(f->value));
	if (json_object_size(user) > 0)
		json_object_set(meta, "user", user);
	json_decref(user);
	json_object_set_new(meta, "owner",
			    json_sprintf("%s/%s", who->kind, who->name));
	spec = json_pack("{s:s, s:o}", "key", p->key, "meta", meta);
	text = spec ? ows_json_dump(spec) : NULL;
	json_decref(spec);
	p->spec = text ? ows_arena_strdup(p->r->c->arena, text) : NULL;
	free(text);
	if (p->spec == NULL)
		return refuse(p, 500, "InternalError", "out of memory");
	return 0;
}

static int file_begins(struct post *p, const char *filename)
{
	int rv;

	if ((rv = authenticate(p)) != 0 || (rv = check_policy(p)) != 0 ||
	    (rv = key_of(p, filename)) != 0)
		return rv;
	if (ows__s3_allowed(p->r, "s3:PutObject", p->r->bucket, p->key, NULL) !=
	    0)
		return refuse(p, 403, "AccessDenied", "Access Denied");
	p->status = field(p, "success_action_status");
	p->redirect = field(p, "success_action_redirect");
	if (p->redirect == NULL)
		p->redirect = field(p, "redirect");
	return spec_of(p);
}

/* ---- the form, as it comes ---- */

static int part_cb(void *ud, const char *name, const char *filename,
		   const char *type)
{
	struct post *p = ud;

	(void)type; /* a part's Content-Type is not the object's: spec_of() */
	if (p->part == P_AFTER || p->file_done) {
		p->part = P_AFTER; /* fields after the file are ignored */
		return 0;
	}
	if (strcasecmp(name, "file") == 0) {
		p->part = P_FILE;
		return file_begins(p, filename);
	}
	if (p->n_fields >= FIELDS_MAX)
		return refuse(p, 400, "MaxPostPreDataLengthExceeded",
			      "Your POST "
			      "request fields preceeding the upload file were "
			      "too large.");
	snprintf(p->name, sizeof(p->name), "%s", name);
	for (char *c = p->name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (p->vbuf == NULL)
		p->vbuf = ows_arena_alloc(p->r->c->arena,
					  FIELDS_MAX_BYTES + FIELDS_MAX);
	if (p->vbuf == NULL)
		return refuse(p, 500, "InternalError", "out of memory");
	p->vstart = p->vlen;
	p->part = P_FIELD;
	return 0;
}

static int data_cb(void *ud, const char *data, size_t len)
{
	struct post *p = ud;

	if (p->part == P_FILE) {
		p->size += len;
		if (p->size > p->max)
			return refuse(
			    p, 400, "EntityTooLarge",
			    "Your proposed "
			    "upload exceeds the maximum allowed size");
		return ows__s3_sink_keep(p->r, data, len) == 0 ? 0 : -ECANCELED;
	}
	if (p->part != P_FIELD)
		return 0;
	p->field_bytes += len;
	if (p->field_bytes > FIELDS_MAX_BYTES)
		return refuse(p, 400, "MaxPostPreDataLengthExceeded",
			      "Your POST "
			      "request fields preceeding the upload file were "
			      "too large.");
	memcpy(p->vbuf + p->vlen, data, len);
	p->vlen += len;
	return 0;
}

static int end_cb(void *ud)
{
	struct post *p = ud;
	struct field *f;

	if (p->part == P_FILE)
		p->file_done = true;
	if (p->part != P_FIELD)
		return 0;
	p->part = P_NONE;
	if (field(p, p->name) != NULL)
		return 0; /* the first of a name counts */
	f = ows_arena_alloc(p->r->c->arena, sizeof(*f));
	if (f == NULL)
		return refuse(p, 500, "InternalError", "out of memory");
	p->vbuf[p->vlen++] = '\0';
	f->value = p->vbuf + p->vstart;
	f->name = ows_arena_strdup(p->r->c->arena, p->name);
	if (f->name == NULL)
		return refuse(p, 500, "InternalError", "out of memory");
	p->field_bytes += strlen(p->name);
	f->next = p->fields;
	p->fields = f;
	p->n_fields++;
	return 0;
}

static int filter(struct ows__s3_req *r, const void *data, size_t len,
		  bool last, struct ows__s3_sink_err *e)
{
	struct post *p = r->data;
	int rv = 0;

	p->err = e;
	if (len > 0)
		rv = ows__s3_form_feed(&p->form, data, len);
	if (rv == 0 && last)
		rv = ows__s3_form_finish(&p->form);
	if (rv == 0 && last && !p->file_done)
		rv = refuse(p, 400, "InvalidArgument",
			    "POST requires exactly "
			    "one file upload per request.");
	if (rv == 0 && last && p->size < p->min)
		rv = refuse(p, 400, "EntityTooSmall",
			    "Your proposed upload is "
			    "smaller than the minimum allowed size");
	if (rv == OWS_EPARSE)
		rv = refuse(p, 400, "MalformedPOSTRequest",
			    "The body of your "
			    "POST request is not well-formed "
			    "multipart/form-data.");
	return rv == -ECANCELED ? 0 : rv; /* -ECANCELED: answered already */
}

/* ---- stored: the entry, then the answer the form asked for ---- */

/* s percent-encoded (RFC 3986 unreserved kept; '/' kept when slash), in
   the arena. */
static char *pct(struct ows_arena *a, const char *s, bool slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = ows_arena_alloc(a, 3 * strlen(s) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~", c) != NULL ||
		    (slash && c == '/')) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static void posted(struct ows__s3_req *r, const json_t *result)
{
	struct post *p = r->data;
	const char *host = ows_aws_header(r->c, "Host");
	char *loc, *redir;
	struct ows_http_header h[2];
	struct ows_buf b = OWS_BUF_INIT;
	char *ekey = pct(r->c->arena, p->key, true);

	(void)result;
	loc = ows_arena_printf(r->c->arena, "http://%s/%s/%s", host ? host : "",
			       r->bucket, ekey ? ekey : "");
	h[0] = (struct ows_http_header){"ETag", p->etag};
	h[1] = (struct ows_http_header){"Location", loc ? loc : ""};
	if (p->redirect != NULL && p->redirect[0] != '\0') {
		char *eetag = pct(r->c->arena, p->etag, false);

		redir = ows_arena_printf(
		    r->c->arena,
		    "%s%sbucket=%s&key=%s&"
		    "etag=%s",
		    p->redirect, strchr(p->redirect, '?') ? "&" : "?",
		    r->bucket, ekey ? ekey : "", eetag ? eetag : "");
		h[1].value = redir ? redir : p->redirect;
		ows__s3_reply(r, 303, h, 2, NULL, 0);
	} else if (p->status != NULL && strcmp(p->status, "201") == 0) {
		ows__s3_xml_open(&b, "PostResponse");
		ows__s3_xml_elem(&b, "Location", loc ? loc : "");
		ows__s3_xml_elem(&b, "Bucket", r->bucket);
		ows__s3_xml_elem(&b, "Key", p->key);
		ows__s3_xml_elem(&b, "ETag", p->etag);
		ows_buf_puts(&b, "</PostResponse>");
		if (b.data == NULL)
			ows__s3_internal(r, -ENOMEM);
		else
			ows__s3_reply(r, 201, h, 2, b.data, b.len);
		ows_buf_free(&b);
	} else {
		ows__s3_reply(
		    r, p->status && strcmp(p->status, "200") == 0 ? 200 : 204,
		    h, 2, NULL, 0);
	}
}

static void refused(struct ows__s3_req *r, int status, const char *code,
		    const char *msg)
{
	ows__s3_error_key(r, status, code, "%s", msg);
}

static void stored(struct ows__s3_req *r, const struct ows__s3_stored *st)
{
	struct post *p = r->data;
	json_t *spec = ows_json_loads(p->spec, 0, NULL);

	if (spec == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	snprintf(p->etag, sizeof(p->etag), "\"%s\"", st->md5);
	json_object_set_new(spec, "size", json_integer((json_int_t)st->size));
	json_object_set_new(spec, "etag", json_string(st->md5));
	json_object_set_new(spec, "blobs",
			    json_pack("[{s:s, s:I, s:s}]", "blob", st->blob,
				      "size", (json_int_t)st->size, "etag",
				      st->md5));
	ows__s3_propose(
	    r, json_pack("[o]", ows__s3_action("objects.put", r->bucket, spec)),
	    posted, refused);
}

void ows__s3_post_object(struct ows__s3_req *r)
{
	struct post *p = ows_arena_alloc(r->c->arena, sizeof(*p));
	struct ows_s3_form_cb cb;

	if (p == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->r = r;
	p->max = UINT64_MAX;
	cb = (struct ows_s3_form_cb){part_cb, data_cb, end_cb, p};
	if (ows__s3_form_init(&p->form, ows_aws_header(r->c, "Content-Type"),
			      &cb) != 0) {
		ows__s3_error(r, 400, "MalformedPOSTRequest",
			      "The body of your "
			      "POST request is not well-formed "
			      "multipart/form-data.");
		return;
	}
	r->data = p;
	ows__s3_sink_filtered(r, OWS_S3_PUT_MAX, filter, stored);
}
