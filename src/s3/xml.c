/*
 * S3's XML: the writer of every reply document (escaped text), and the
 * reader of the small request bodies (CreateBucketConfiguration,
 * DeleteObjects, CompleteMultipartUpload, CORS, Tagging): read whole up
 * to a limit through the streamed, verified body, then parsed with expat
 * into a small JSON tree that the operations walk.
 */
#include <errno.h>
#include <expat.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "s3/s3_priv.h"

#define XML_DEPTH_MAX 32
#define XML_NODES_MAX 100000

/* ---- writing ---- */

void ows__s3_xml_esc(struct ows_buf *b, const char *s)
{
	ows_buf_xml_escape(b, s);
}

void ows__s3_xml_elem(struct ows_buf *b, const char *name, const char *text)
{
	ows_buf_printf(b, "<%s>", name);
	ows__s3_xml_esc(b, text);
	ows_buf_printf(b, "</%s>", name);
}

void ows__s3_xml_open(struct ows_buf *b, const char *root)
{
	ows_buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s "
		       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
		       root);
}

/* ---- parsing ---- */

struct parse {
	json_t *root;
	json_t *stack[XML_DEPTH_MAX + 1];
	struct ows_buf text[XML_DEPTH_MAX + 1];
	int depth;
	size_t nodes;
	bool failed;
	XML_Parser p;
};

static void start_cb(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct parse *ps = ud;
	const char *local = strrchr(name, ' '); /* "ns name" */
	json_t *node;

	(void)attrs;
	if (ps->failed)
		return;
	if (ps->depth >= XML_DEPTH_MAX || ++ps->nodes > XML_NODES_MAX ||
	    (ps->depth == 0 && ps->root != NULL)) {
		ps->failed = true;
		XML_StopParser(ps->p, XML_FALSE);
		return;
	}
	node = json_pack("{s:s, s:[]}", "name", local ? local + 1 : name,
			 "children");
	if (node == NULL) {
		ps->failed = true;
		XML_StopParser(ps->p, XML_FALSE);
		return;
	}
	if (ps->depth == 0)
		ps->root = node;
	else
		json_array_append_new(json_object_get(ps->stack[ps->depth - 1],
						      "children"), node);
	ps->stack[ps->depth] = node;
	ows_buf_reset(&ps->text[ps->depth]);
	ps->depth++;
}

static void end_cb(void *ud, const XML_Char *name)
{
	struct parse *ps = ud;
	struct ows_buf *t;

	(void)name;
	if (ps->failed || ps->depth == 0)
		return;
	ps->depth--;
	t = &ps->text[ps->depth];
	json_object_set_new(ps->stack[ps->depth], "text",
			    json_stringn(t->data ? (const char *)t->data : "",
					 t->len));
}

static void text_cb(void *ud, const XML_Char *s, int len)
{
	struct parse *ps = ud;

	if (ps->failed || ps->depth == 0)
		return;
	if (ps->text[ps->depth - 1].len + (size_t)len > OWS_S3_XML_LIMIT ||
	    ows_buf_append(&ps->text[ps->depth - 1], s, (size_t)len) != 0) {
		ps->failed = true;
		XML_StopParser(ps->p, XML_FALSE);
	}
}

/* No DTDs: no entity expansion ("billion laughs"), no external entities. */
static void doctype_cb(void *ud, const XML_Char *name, const XML_Char *sysid,
		       const XML_Char *pubid, int internal)
{
	struct parse *ps = ud;

	(void)name, (void)sysid, (void)pubid, (void)internal;
	ps->failed = true;
	XML_StopParser(ps->p, XML_FALSE);
}

json_t *ows__s3_xml_parse(const char *text, size_t len, struct ows_err *err)
{
	struct parse ps;
	enum XML_Status st;

	memset(&ps, 0, sizeof(ps));
	ps.p = XML_ParserCreateNS("UTF-8", ' ');
	if (ps.p == NULL) {
		ows_err_printf(err, "out of memory");
		return NULL;
	}
	XML_SetUserData(ps.p, &ps);
	XML_SetElementHandler(ps.p, start_cb, end_cb);
	XML_SetCharacterDataHandler(ps.p, text_cb);
	XML_SetStartDoctypeDeclHandler(ps.p, doctype_cb);
	st = XML_Parse(ps.p, text, (int)(len > 0x7fffffff ? 0x7fffffff : len),
		       XML_TRUE);
	if (st != XML_STATUS_OK || ps.failed || ps.root == NULL ||
	    ps.depth != 0) {
		ows_err_printf(err, "%s", ps.failed ? "too deep, too large or "
			       "a DTD" : XML_ErrorString(XML_GetErrorCode(ps.p)));
		json_decref(ps.root);
		ps.root = NULL;
	}
	for (int i = 0; i <= XML_DEPTH_MAX; i++)
		ows_buf_free(&ps.text[i]);
	XML_ParserFree(ps.p);
	return ps.root;
}

const json_t *ows__s3_xml_child(const json_t *node, const char *name)
{
	const json_t *ch;
	size_t i;

	json_array_foreach(json_object_get(node, "children"), i, ch)
		if (strcmp(json_string_value(json_object_get(ch, "name")),
			   name) == 0)
			return ch;
	return NULL;
}

const char *ows__s3_xml_text(const json_t *node, const char *name)
{
	const json_t *ch = ows__s3_xml_child(node, name);

	return ch ? json_string_value(json_object_get(ch, "text")) : NULL;
}

/* ---- reading small bodies ---- */

struct body_read {
	struct ows__s3_req *r;
	struct ows_buf buf;
	size_t limit;
	bool empty_ok;
	ows__s3_xml_cb xml_done;
	ows__s3_body_cb done;
};

/* Content-MD5, when sent, must be the body's: false once answered. */
static bool md5_ok(struct ows__s3_req *r, const void *body, size_t len)
{
	const char *want = ows_aws_header(r->c, "Content-MD5");
	unsigned char md[16], sent[20];
	unsigned int n = 0;

	if (want == NULL)
		return true;
	if (ows_b64_decode_n(want, strlen(want), sent, sizeof(sent)) != 16) {
		ows__s3_error(r, 400, "InvalidDigest", "The Content-MD5 you "
			      "specified was invalid.");
		return false;
	}
	EVP_Digest(body, len, md, &n, EVP_md5(), NULL);
	if (memcmp(md, sent, 16) != 0) {
		ows__s3_error(r, 400, "BadDigest", "The Content-MD5 you "
			      "specified did not match what we received.");
		return false;
	}
	return true;
}

static void finish(struct body_read *br)
{
	struct ows__s3_req *r = br->r;
	struct ows_err err = {{0}};
	char *body = ows_arena_alloc(r->c->arena, br->buf.len + 1);
	size_t len = br->buf.len;
	json_t *tree;

	if (body == NULL) {
		ows_buf_free(&br->buf);
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	if (len > 0)
		memcpy(body, br->buf.data, len);
	body[len] = '\0';
	ows_buf_free(&br->buf);
	r->c->body = body;
	r->c->len = len;
	if (!md5_ok(r, body, len))
		return;
	if (br->done != NULL) {
		br->done(r, body, len);
		return;
	}
	if (len == 0 && br->empty_ok) {
		br->xml_done(r, NULL);
		return;
	}
	tree = ows__s3_xml_parse(body, len, &err);
	if (tree == NULL) {
		ows__s3_malformed_xml(r);
		return;
	}
	br->xml_done(r, tree);
	json_decref(tree);
}

static void chunk_cb(struct ows_aws_call *c, int status, const void *data,
		     size_t len, bool last)
{
	struct ows__s3_req *r = c->data;
	struct body_read *br = r->reading;

	if (status != 0) {
		ows_buf_free(&br->buf);
		if (status == OWS_EAUTH)
			ows__s3_error(r, 403, "SignatureDoesNotMatch", "The "
				      "request signature we calculated does "
				      "not match the signature you provided.");
		else if (status == -EMSGSIZE)
			ows__s3_error(r, 400, "MaxMessageLengthExceeded",
				      "Your request was too big.");
		else if (status != -ECANCELED)
			ows__s3_error(r, 400, "IncompleteBody", "You did not "
				      "provide the number of bytes specified "
				      "by the Content-Length HTTP header");
		else
			ows__s3_internal(r, status);
		return;
	}
	if (len > 0 && (br->buf.len + len > br->limit ||
			ows_buf_append(&br->buf, data, len) != 0)) {
		ows_buf_free(&br->buf);
		ows__s3_error(r, 400, "MaxMessageLengthExceeded",
			      "Your request was too big.");
		return;
	}
	if (last)
		finish(br);
}

static void read_start(struct ows__s3_req *r, size_t limit, bool empty_ok,
		       ows__s3_xml_cb xml_done, ows__s3_body_cb done)
{
	struct body_read *br = ows_arena_alloc(r->c->arena, sizeof(*br));
	int64_t cl = r->c->req->content_length;
	int rv;

	if (br == NULL) {
		ows__s3_internal(r, -ENOMEM);
		return;
	}
	if (cl > 0 && (uint64_t)cl > limit) {
		ows__s3_error(r, 400, "MaxMessageLengthExceeded",
			      "Your request was too big.");
		return;
	}
	*br = (struct body_read){r, OWS_BUF_INIT, limit, empty_ok, xml_done,
				 done};
	r->reading = br;
	/* the stream limit counts framing too (aws-chunked) */
	rv = ows_aws_call_stream(r->c, (uint64_t)limit * 2 + 65536, chunk_cb);
	if (rv != 0)
		ows__s3_internal(r, rv);
}

void ows__s3_read_xml(struct ows__s3_req *r, size_t limit, bool empty_ok,
		      ows__s3_xml_cb done)
{
	read_start(r, limit, empty_ok, done, NULL);
}

void ows__s3_read_body(struct ows__s3_req *r, size_t limit,
		       ows__s3_body_cb done)
{
	read_start(r, limit, false, NULL, done);
}
