/*
 * DeleteObjects (S3 API Reference): POST /BUCKET?delete with
 * <Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>, at
 * most 1000 keys (MalformedXML past that, as S3). S3 refuses the request
 * without an integrity check of its body: Content-MD5 (checked by
 * ows__s3_read_xml) or one x-amz-checksum-ALG, in a header or in an
 * aws-chunked trailer (checked here).
 *
 * Each key is authorized on its own (s3:DeleteObject on
 * arn:aws:s3:::B/K): a key the caller may not delete is an <Error>
 * AccessDenied in the result while the others go. The deletes that are
 * allowed are one attested entry of objects.delete actions, so the batch
 * commits at once; a key that does not exist is reported deleted, as S3
 * does. Quiet mode lists only the errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "s3/s3_priv.h"

#define DELETE_MAX 1000

struct batch {
	json_t *deleted;  /* [key] */
	json_t *errors;   /* [{"key", "code", "message"}] */
	bool quiet;
	char *answer;     /* the DeleteResult, rendered before proposing (in
			     the arena: nothing to free however the call
			     ends) */
	size_t len;
};

static bool named(const json_t *node, const char *name)
{
	const char *n = ows_json_str(node, "name");

	return n != NULL && strcmp(n, name) == 0;
}

/*
 * The body's integrity as S3 demands it for DeleteObjects: true, or
 * false once answered. Content-MD5 was checked when the body was read.
 */
static bool integrity_ok(struct ows__s3_req *r, const char *body, size_t len)
{
	static const enum ows__s3_ck_alg algs[] = {
		OWS_S3_CK_CRC32, OWS_S3_CK_CRC32C, OWS_S3_CK_CRC64NVME,
		OWS_S3_CK_SHA1, OWS_S3_CK_SHA256,
	};
	char sent[OWS_S3_CK_B64 + 8], got[OWS_S3_CK_B64];
	bool any = ows_aws_header(r->c, "Content-MD5") != NULL;

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		const char *name = ows__s3_ck_header(algs[i]);
		const char *h = ows_aws_header(r->c, name);
		struct ows__s3_ck ck;

		if (h != NULL)
			snprintf(sent, sizeof(sent), "%s", h);
		else if (!ows_aws_call_trailer(r->c, name, sent, sizeof(sent)))
			continue;
		any = true;
		if (ows__s3_ck_init(&ck, algs[i]) != 0) {
			ows__s3_internal(r, -ENOMEM);
			return false;
		}
		ows__s3_ck_update(&ck, body, len);
		ows__s3_ck_final(&ck, got);
		ows__s3_ck_free(&ck);
		if (strcmp(got, sent) != 0) {
			ows__s3_error(r, 400, "BadDigest", "The %s you specified "
				      "did not match the calculated checksum.",
				      ows__s3_ck_name(algs[i]));
			return false;
		}
	}
	if (!any)
		ows__s3_error(r, 400, "InvalidRequest", "Missing required "
			      "header for this request: Content-MD5 OR "
			      "x-amz-checksum-*");
	return any;
}

static void add_error(struct batch *b, const char *key, const char *code,
		      const char *message)
{
	json_array_append_new(b->errors, json_pack("{s:s, s:s, s:s}", "key",
						   key, "code", code,
						   "message", message));
}

/* Render the result into b->answer and free the lists: 0 or -ENOMEM. */
static int render(struct ows__s3_req *r, struct batch *b)
{
	struct ows_buf x = OWS_BUF_INIT;
	const json_t *v;
	size_t i;

	ows__s3_xml_open(&x, "DeleteResult");
	json_array_foreach(b->deleted, i, v) {
		if (b->quiet)
			break;
		ows_buf_puts(&x, "<Deleted>");
		ows__s3_xml_elem(&x, "Key", json_string_value(v));
		ows_buf_puts(&x, "</Deleted>");
	}
	json_array_foreach(b->errors, i, v) {
		ows_buf_puts(&x, "<Error>");
		ows__s3_xml_elem(&x, "Key", ows_json_str(v, "key"));
		ows__s3_xml_elem(&x, "Code", ows_json_str(v, "code"));
		ows__s3_xml_elem(&x, "Message", ows_json_str(v, "message"));
		ows_buf_puts(&x, "</Error>");
	}
	ows_buf_puts(&x, "</DeleteResult>");
	json_decref(b->deleted);
	json_decref(b->errors);
	b->deleted = b->errors = NULL;
	b->answer = x.data ? ows_arena_strndup(r->c->arena, x.data, x.len)
			   : NULL;
	b->len = x.len;
	ows_buf_free(&x);
	return b->answer != NULL ? 0 : -ENOMEM;
}

static void answer(struct ows__s3_req *r, const json_t *result)
{
	struct batch *b = r->data;

	(void)result;
	ows__s3_reply(r, 200, NULL, 0, b->answer, b->len);
}

/* One <Object>: judged, and added to the batch's actions or errors. */
static int one_object(struct ows__s3_req *r, struct batch *b,
		      const json_t *obj, json_t *actions)
{
	const char *key = ows__s3_xml_text(obj, "Key");
	const char *version = ows__s3_xml_text(obj, "VersionId");
	int rv;

	if (key == NULL || key[0] == '\0')
		return OWS_EINVAL;
	rv = ows__s3_key_check(key, strlen(key));
	if (rv == OWS_ETOOBIG) {
		add_error(b, key, "KeyTooLongError", "Your key is too long");
		return 0;
	}
	if (rv != 0) {
		add_error(b, key, "InvalidArgument", "Invalid key");
		return 0;
	}
	if (version != NULL && strcmp(version, "null") != 0) {
		add_error(b, key, "NoSuchVersion", "The specified version does "
			  "not exist.");
		return 0;
	}
	if (ows__s3_allowed(r, "s3:DeleteObject", r->bucket, key, NULL) != 0) {
		add_error(b, key, "AccessDenied", "Access Denied");
		return 0;
	}
	json_array_append_new(b->deleted, json_string(key));
	json_array_append_new(actions, ows__s3_action("objects.delete",
		r->bucket, json_pack("{s:s}", "key", key)));
	return 0;
}

static void got_body(struct ows__s3_req *r, const json_t *tree)
{
	struct batch *b = r->data;
	const char *quiet = ows__s3_xml_text(tree, "Quiet");
	json_t *actions = json_array(), *deleted, *errors;
	const json_t *obj;
	size_t i, n = 0;

	b->deleted = deleted = json_array();
	b->errors = errors = json_array();
	if (deleted == NULL || errors == NULL || actions == NULL) {
		ows__s3_internal(r, -ENOMEM);
		goto err_answered;
	}
	if (!integrity_ok(r, r->c->body, r->c->len))
		goto err_answered;
	json_array_foreach(json_object_get(tree, "children"), i, obj)
		n += named(obj, "Object");
	if (!named(tree, "Delete") || n == 0 || n > DELETE_MAX ||
	    (quiet && strcasecmp(quiet, "true") != 0 &&
	     strcasecmp(quiet, "false") != 0))
		goto err_malformed;
	b->quiet = quiet != NULL && strcasecmp(quiet, "true") == 0;
	json_array_foreach(json_object_get(tree, "children"), i, obj) {
		if (named(obj, "Object") &&
		    one_object(r, b, obj, actions) != 0)
			goto err_malformed;
	}
	if (render(r, b) != 0) {
		ows__s3_internal(r, -ENOMEM);
		json_decref(actions);
		return;
	}
	if (json_array_size(actions) == 0) {
		json_decref(actions);
		answer(r, NULL);
		return;
	}
	/* a refusal is answered by ows__s3_propose, as S3 answers it */
	ows__s3_propose(r, actions, answer, NULL);
	return;
err_malformed:
	ows__s3_malformed_xml(r);
err_answered:
	/* the answer freed b with the call's arena: the lists are freed
	   through the copies taken on the stack */
	json_decref(actions);
	json_decref(deleted);
	json_decref(errors);
}

void ows__s3_delete_objects(struct ows__s3_req *r)
{
	struct batch *b = ows_arena_alloc(r->c->arena, sizeof(*b));

	if (b == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	/* an anonymous caller never deletes: refused before the body, so
	   that no answer about it (Content-MD5, XML) tells a stranger the
	   bucket exists, as run() promises for the others */
	if (r->c->caller.kind[0] == '\0') {
		ows__s3_access_denied(r);
		return;
	}
	/* the lists are made once the body is in: a body that fails to
	   arrive is answered where no one would free them */
	memset(b, 0, sizeof(*b));
	r->data = b;
	ows__s3_read_xml(r, OWS_S3_XML_LIMIT, false, got_body);
}
