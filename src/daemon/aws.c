/*
 * SigV4 front door of the AWS-compatible APIs; see aws.h. The credentials
 * are checked against the access key before any body byte is read; the
 * body is then read whole (up to 6 MB, Lambda's and STS's limits) because
 * the signature of non-S3 services covers its hash. S3's streamed bodies
 * get their own path with the S3 service. Failures are answered in the
 * protocol of the API called (rest-json for Lambda, query XML for STS).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "common/enc.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/aws.h"

#define AWS_BODY_LIMIT (6 * 1024 * 1024)

static void call_free(struct ows_aws_call *c)
{
	ows_aws_call_clear(c);
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


/* ---- errors in the protocol of the API called ---- */

void ows_aws_reply_json_error(struct ows_aws_call *c, int status,
			      const char *code, const char *message)
{
	struct ows_http_header h[3] = {
		{"Content-Type", "application/json"},
		{"X-Amzn-ErrorType", code},
		{"x-amzn-RequestId", c->request_id},
	};
	json_t *v = json_pack("{s:s, s:s, s:s}", "Type",
			      status >= 500 ? "Service" : "User", "message",
			      message, "__type", code);
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

	ows_http_respond(c->req, status, h, 3, text, text ? strlen(text) : 0);
	free(text);
	json_decref(v);
	call_free(c);
}

/*
 * The rest-json services' names for the SigV4 failures (as Lambda sends
 * them: boto3 and the aws cli read X-Amzn-ErrorType).
 */
static int json_auth_error(int rc, const char **code, const char **msg)
{
	switch (rc) {
	case OWS_SIGV4_EMISSING:
		*code = "MissingAuthenticationTokenException";
		*msg = "Missing Authentication Token";
		return 403;
	case OWS_SIGV4_EMALFORMED:
	case OWS_SIGV4_EQUERY:
	case OWS_SIGV4_EARGUMENT:
		*code = "IncompleteSignatureException";
		*msg = "The request signature does not conform to AWS "
		       "standards.";
		return 400;
	case OWS_SIGV4_EACCESSKEY:
		*code = "UnrecognizedClientException";
		*msg = "The security token included in the request is "
		       "invalid.";
		return 403;
	case OWS_SIGV4_ESIGNATURE:
	case OWS_SIGV4_ESCOPE:
	case OWS_SIGV4_ESKEW:
	case OWS_SIGV4_EEXPIRED:
	case OWS_SIGV4_ENOTYET:
	case OWS_SIGV4_EUNSIGNED:
	case OWS_SIGV4_ESHA256:
		*code = "InvalidSignatureException";
		*msg = "The request signature we calculated does not match "
		       "the signature you provided. Check your AWS Secret "
		       "Access Key and signing method. Consult the service "
		       "documentation for details.";
		return 403;
	default:
		*code = "ServiceException";
		*msg = "The service encountered an internal error.";
		return 500;
	}
}

/* Lambda speaks rest-json; routed by the scope, or by path when unsigned. */
static bool json_protocol(const struct ows_aws_call *c)
{
	if (c->service[0] != '\0')
		return strcmp(c->service, "lambda") == 0;
	return strncmp(c->req->path, "/2015-03-31/", 12) == 0;
}

void ows_aws_reply_auth_error(struct ows_aws_call *c, int rc, const char *msg)
{
	const char *code, *dflt;
	int http;

	if (json_protocol(c)) {
		http = json_auth_error(rc, &code, &dflt);
		/* Only the signature's own failures keep AWS's fixed text. */
		if (rc == OWS_SIGV4_ESIGNATURE && msg != NULL &&
		    strstr(msg, "signature we calculated") != NULL)
			msg = NULL;
	} else {
		http = ows_sigv4_error(rc, false, &code, &dflt);
		/* STS's (and IAM's) name for an unknown key. */
		if (rc == OWS_SIGV4_EACCESSKEY) {
			code = "InvalidClientTokenId";
			dflt = "The security token included in the request is "
			       "invalid.";
			msg = NULL;
		}
	}
	if (c->expired_token) {
		/* STS's ExpiredToken, Lambda's ExpiredTokenException */
		http = json_protocol(c) ? 403 : 400;
		code = json_protocol(c) ? "ExpiredTokenException"
					: "ExpiredToken";
		msg = "The security token included in the request is expired";
	}
	ows_log(OWS_LOG_INFO, "aws", "%s %s from %s refused: %s%s%s",
		c->req->method, c->req->path, c->req->peer, code,
		msg ? ": " : "", msg ? msg : "");
	if (json_protocol(c))
		ows_aws_reply_json_error(c, http, code,
					 msg && msg[0] ? msg : dflt);
	else
		ows_aws_reply_query_error(c, http, code,
					  msg && msg[0] ? msg : dflt);
}

/* ---- SigV4 ---- */

struct ows_aws_sig {
	struct ows_sigv4_header hs[128];
	struct ows_sigv4_request sr;
	struct ows_sigv4_auth a;
	struct ows_buf secret;
	bool verified; /* the whole signature held over the header's hash */
};

/* Is name in SignedHeaders ("host;x-amz-date;...")? */
static bool signs_header(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p; p = strchr(p, ';')) {
		if (*p == ';')
			p++;
		if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return true;
	}
	return false;
}

/*
 * Session credentials: the token (header, or query of a presigned URL)
 * must be ours, for this key id and unexpired; the secret comes from it.
 */
static int session_secret(struct ows_aws_call *c, struct ows_aws_sig *x,
			  struct ows_err *err)
{
	char qtoken[OWS_SESSION_TOKEN_MAX], secret[OWS_SESSION_SECRET_LEN + 1];
	const char *token =
	    ows_http_req_header(c->req, "X-Amz-Security-Token");
	int rv;

	if (token == NULL &&
	    ows_query_get(c->req->query, "X-Amz-Security-Token", qtoken,
			  sizeof(qtoken)))
		token = qtoken;
	else if (token != NULL && !x->a.presigned &&
		 !signs_header(x->a.signed_headers, "x-amz-security-token")) {
		/* the token must be under the signature, as AWS requires */
		ows_err_printf(err, "x-amz-security-token must be a signed "
			       "header");
		return OWS_SIGV4_ESIGNATURE;
	}
	rv = ows_session_open(c->n->session_key, x->a.access_key, token,
			      ows_now_ms() / 1000, &c->sess, secret);
	if (rv == -ETIMEDOUT) {
		c->expired_token = true;
		ows_err_printf(err, "The security token included in the "
			       "request is expired");
		return OWS_SIGV4_EACCESSKEY;
	}
	if (rv != 0) {
		ows_err_printf(err, "The security token included in the "
			       "request is invalid.");
		return OWS_SIGV4_EACCESSKEY;
	}
	if (ows_buf_puts(&x->secret, secret) != 0)
		rv = -ENOMEM;
	memset(secret, 0, sizeof(secret));
	c->session = true;
	snprintf(c->kind, sizeof(c->kind), "%s", c->sess.kind);
	snprintf(c->name, sizeof(c->name), "%s", c->sess.name);
	if (strcmp(c->sess.kind, "users") == 0)
		snprintf(c->user, sizeof(c->user), "%s", c->sess.name);
	return rv;
}

/*
 * What both steps share: parse, check the scope, look the key up. On 0 the
 * secret is in x->secret (the caller wipes it with sig_done).
 */
static int sig_prepare(struct ows_aws_call *c, const char *service,
		       struct ows_aws_sig *x, struct ows_err *err)
{
	size_t n = c->req->n_headers < 128 ? c->req->n_headers : 128;
	int rv;

	x->secret = (struct ows_buf)OWS_BUF_INIT;
	x->sr = (struct ows_sigv4_request){c->req->method, c->req->path,
					   c->req->query, x->hs, n};
	for (size_t i = 0; i < n; i++)
		x->hs[i] = (struct ows_sigv4_header){c->req->headers[i].name,
						     c->req->headers[i].value};
	rv = ows_sigv4_parse(&x->sr, &x->a, err);
	if (rv != 0)
		return rv;
	snprintf(c->access_key, sizeof(c->access_key), "%s", x->a.access_key);
	snprintf(c->region, sizeof(c->region), "%s", x->a.region);
	snprintf(c->service, sizeof(c->service), "%s", x->a.service);
	rv = ows_sigv4_check_scope(&x->a, c->n->cfg.region, service, err);
	if (rv != 0)
		return rv;
	if (strncmp(x->a.access_key, "ASIA", 4) == 0)
		return session_secret(c, x, err);
	if (x->a.has_security_token) {
		/* a token with a long-term key: not one we issued */
		ows_err_printf(err, "The security token included in the "
			       "request is invalid.");
		return OWS_SIGV4_EACCESSKEY;
	}
	rv = ows_node_access_secret(c->n, x->a.access_key, c->user,
				    &x->secret);
	if (rv != 0) {
		ows_err_printf(err, "The AWS Access Key Id you provided does not "
			       "exist in our records.");
		return OWS_SIGV4_EACCESSKEY;
	}
	snprintf(c->kind, sizeof(c->kind), "users");
	snprintf(c->name, sizeof(c->name), "%s", c->user);
	return 0;
}

static void sig_done(struct ows_aws_sig *x)
{
	if (x->secret.data != NULL)
		memset(x->secret.data, 0, x->secret.len);
	ows_buf_free(&x->secret);
}

void ows_aws_call_clear(struct ows_aws_call *c)
{
	if (c->sig == NULL)
		return;
	sig_done(c->sig);
	free(c->sig);
	c->sig = NULL;
}

int ows_aws_authenticate_head(struct ows_aws_call *c, const char *service,
			      struct ows_err *err)
{
	struct ows_aws_sig *x = calloc(1, sizeof(*x));
	int rv;

	if (x == NULL)
		return -ENOMEM;
	ows_aws_call_clear(c);
	rv = sig_prepare(c, service, x, err);
	/* The signature covers a hash given in a header: check it now. */
	if (rv == 0 && x->a.payload == OWS_SIGV4_PAYLOAD_HASH) {
		rv = ows_sigv4_verify(&x->sr, &x->a, x->secret.data,
				      ows_now_ms() / 1000, NULL, err);
		x->verified = rv == 0;
		/* only the body's hash is left to compare: no secret needed */
		sig_done(x);
	}
	if (rv != 0) {
		sig_done(x);
		free(x);
		return rv;
	}
	c->sig = x;
	return 0;
}

int ows_aws_authenticate(struct ows_aws_call *c, const char *service,
			 struct ows_err *err)
{
	struct ows_aws_sig *x = c->sig;
	char body_hash[65];
	int rv = 0;

	if (x == NULL) {
		x = calloc(1, sizeof(*x));
		if (x == NULL)
			return -ENOMEM;
		c->sig = x;
		rv = sig_prepare(c, service, x, err);
	}
	if (rv == 0) {
		ows_sha256_hex(c->body ? c->body : "", c->body ? c->len : 0,
			       body_hash);
		rv = x->verified
			 ? ows_sigv4_payload_check(&x->a, body_hash, err)
			 : ows_sigv4_verify(&x->sr, &x->a, x->secret.data,
					    ows_now_ms() / 1000, body_hash,
					    err);
	}
	ows_aws_call_clear(c);
	return rv;
}

/* ---- the edge ---- */

static bool served(const char *service)
{
	return strcmp(service, "sts") == 0 || strcmp(service, "lambda") == 0;
}

static void body_cb(struct ows_http_req *req, int status, const char *body,
		    size_t len)
{
	struct ows_aws_call *c = req->data;
	struct ows_err err = {{0}};
	int rv;

	if (status != 0) {
		call_free(c);
		return;
	}
	c->body = body;
	c->len = len;
	rv = ows_aws_authenticate(c, NULL, &err);
	if (rv != 0) {
		ows_aws_reply_auth_error(c, rv, err.msg[0] ? err.msg : NULL);
		return;
	}
	if (strcmp(c->service, "sts") == 0)
		ows_sts_handle(c);
	else
		ows_lambda_handle(c);
}

/*
 * Authenticate before buffering: a request whose credentials do not hold
 * up to the key (form, region, service, clock, known key, and the whole
 * signature when the body's hash is in a header) is answered before any
 * body byte is read; the server then drains at most a small body or
 * closes the connection.
 */
void ows_aws_handle(struct ows_node *n, struct ows_http_req *req)
{
	struct ows_aws_call *c = calloc(1, sizeof(*c));
	struct ows_err err = {{0}};
	int rv;

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
	rv = ows_aws_authenticate_head(c, NULL, &err);
	if (rv != 0) {
		ows_aws_reply_auth_error(c, rv, err.msg[0] ? err.msg : NULL);
		return;
	}
	if (!served(c->service)) {
		ows_aws_reply_query_error(c, 400, "InvalidAction", "this node "
					  "does not serve that AWS service yet");
		return;
	}
	if (ows_http_req_read_body(req, AWS_BODY_LIMIT, body_cb) != 0) {
		call_free(c);
		ows_admin_reply_error(req, 500, "InternalError",
				      "cannot read the body");
	}
}
