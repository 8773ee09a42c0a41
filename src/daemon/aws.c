/*
 * SigV4 front door of the AWS-compatible APIs; see aws.h. The body is read
 * whole (up to 6 MB, Lambda's and STS's limits) because the signature of
 * non-S3 services covers its hash; S3's streamed bodies get their own path
 * with the S3 service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "common/enc.h"
#include "common/log.h"
#include "daemon/aws.h"

#define AWS_BODY_LIMIT (6 * 1024 * 1024)

static void call_free(struct ows_aws_call *c)
{
	free(c);
}

/* Escape text for XML character data into out (cap bytes). */
static void xml_escape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 7 < cap; s++) {
		const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
				*s == '&' ? "&amp;" : *s == '"' ? "&quot;" : NULL;

		if (e != NULL) {
			memcpy(out + n, e, strlen(e));
			n += strlen(e);
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

static void respond_xml(struct ows_aws_call *c, int status, const char *xml)
{
	struct ows_http_header h[2] = {
		{"Content-Type", "text/xml"},
		{"x-amzn-RequestId", c->request_id},
	};

	ows_http_respond(c->req, status, h, 2, xml, strlen(xml));
	call_free(c);
}

void ows_aws_reply_xml(struct ows_aws_call *c, const char *xml)
{
	respond_xml(c, 200, xml);
}

void ows_aws_reply_query_error(struct ows_aws_call *c, int status,
			       const char *code, const char *message)
{
	char msg[512], xml[1024];

	xml_escape(message, msg, sizeof(msg));
	snprintf(xml, sizeof(xml),
		 "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
		 "2011-06-15/\"><Error><Type>%s</Type><Code>%s</Code>"
		 "<Message>%s</Message></Error><RequestId>%s</RequestId>"
		 "</ErrorResponse>", status >= 500 ? "Receiver" : "Sender",
		 code, msg, c->request_id);
	respond_xml(c, status, xml);
}


/* Authenticate; 0, or the SigV4 error code (secret wiped either way). */
int ows_aws_authenticate(struct ows_aws_call *c, struct ows_err *err)
{
	struct ows_sigv4_header hs[128];
	struct ows_sigv4_request sr = {c->req->method, c->req->path,
				       c->req->query, hs, 0};
	struct ows_buf secret = OWS_BUF_INIT;
	struct ows_sigv4_auth a;
	char body_hash[65];
	int rv;

	for (size_t i = 0; i < c->req->n_headers && i < 128; i++, sr.n_headers++)
		hs[i] = (struct ows_sigv4_header){c->req->headers[i].name,
						  c->req->headers[i].value};
	rv = ows_sigv4_parse(&sr, &a, err);
	if (rv != 0)
		return rv;
	snprintf(c->access_key, sizeof(c->access_key), "%s", a.access_key);
	snprintf(c->region, sizeof(c->region), "%s", a.region);
	snprintf(c->service, sizeof(c->service), "%s", a.service);
	rv = ows_node_access_secret(c->n, a.access_key, c->user, &secret);
	if (rv != 0) {
		ows_buf_free(&secret);
		ows_err_printf(err, "The AWS Access Key Id you provided does not "
			       "exist in our records.");
		return OWS_SIGV4_EACCESSKEY;
	}
	ows_sha256_hex(c->body, c->len, body_hash);
	rv = ows_sigv4_verify(&sr, &a, secret.data, ows_now_ms() / 1000,
			      body_hash, err);
	memset(secret.data, 0, secret.len);
	ows_buf_free(&secret);
	return rv;
}

static void body_cb(struct ows_http_req *req, int status, const char *body,
		    size_t len)
{
	struct ows_aws_call *c = req->data;
	struct ows_err err = {{0}};
	const char *code, *msg;
	int rv, http;

	if (status != 0) {
		call_free(c);
		return;
	}
	c->body = body;
	c->len = len;
	rv = ows_aws_authenticate(c, &err);
	if (rv != 0) {
		http = ows_sigv4_error(rv, false, &code, &msg);
		ows_log(OWS_LOG_INFO, "aws", "%s %s refused: %s", req->method,
			req->path, code);
		ows_aws_reply_query_error(c, http, code,
					  err.msg[0] ? err.msg : msg);
		return;
	}
	if (strcmp(c->service, "sts") == 0) {
		ows_sts_handle(c);
		return;
	}
	if (strcmp(c->service, "lambda") == 0) {
		ows_lambda_handle(c);
		return;
	}
	ows_aws_reply_query_error(c, 400, "InvalidAction", "this node does not "
				  "serve that AWS service yet");
}

void ows_aws_handle(struct ows_node *n, struct ows_http_req *req)
{
	struct ows_aws_call *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		ows_admin_reply_error(req, 503, "ServiceUnavailable",
				      "out of memory");
		return;
	}
	c->n = n;
	c->req = req;
	ows_uuid4(c->request_id);
	memcpy(c->account, n->account, sizeof(c->account));
	req->data = c;
	if (ows_http_req_read_body(req, AWS_BODY_LIMIT, body_cb) != 0) {
		call_free(c);
		ows_admin_reply_error(req, 500, "InternalError",
				      "cannot read the body");
	}
}
