/*
 * Errors in the wire protocol of the service called (aws/call.h): every
 * error a service sends, and every authentication failure of a call to
 * it, takes the service's shape, so that SDKs read the code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/auth.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"

static void xml_elem(struct ows_buf *b, const char *name, const char *text)
{
	ows_buf_printf(b, "<%s>", name);
	ows_buf_xml_escape(b, text);
	ows_buf_printf(b, "</%s>", name);
}

/* DynamoDB's JSON 1.0 names its error types after its API version. */
static const char *json10_prefix(const char *svc)
{
	if (strcmp(svc, "dynamodb") == 0)
		return "com.amazonaws.dynamodb.v20120810#";
	return NULL;
}

static void error_v(struct ows_aws_call *c, int status, const char *code,
		    const json_t *extra, const char *msg)
{
	struct ows_buf b = OWS_BUF_INIT;
	const char *k;
	json_t *v, *e;
	char *text;

	switch (c->svc->protocol) {
	case OWS_AWS_QUERY_XML:
		ows_buf_printf(&b, "<ErrorResponse xmlns=\"https://%s."
			       "amazonaws.com/doc/2011-06-15/\"><Error>",
			       c->svc->name ? c->svc->name : "sts");
		xml_elem(&b, "Type", status >= 500 ? "Receiver" : "Sender");
		xml_elem(&b, "Code", code);
		xml_elem(&b, "Message", msg);
		json_object_foreach((json_t *)extra, k, e)
			if (json_is_string(e))
				xml_elem(&b, k, json_string_value(e));
		ows_buf_puts(&b, "</Error>");
		xml_elem(&b, "RequestId", c->request_id);
		ows_buf_puts(&b, "</ErrorResponse>");
		break;
	case OWS_AWS_REST_XML:
		ows_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			     "\n<Error>");
		xml_elem(&b, "Code", code);
		xml_elem(&b, "Message", msg);
		json_object_foreach((json_t *)extra, k, e)
			if (json_is_string(e))
				xml_elem(&b, k, json_string_value(e));
		xml_elem(&b, "RequestId", c->request_id);
		ows_buf_puts(&b, "</Error>");
		break;
	case OWS_AWS_REST_JSON: {
		struct ows_http_header h[2] = {
			{"Content-Type", "application/json"},
			{"X-Amzn-ErrorType", code},
		};

		/* __type too, as older Lambda endpoints send it */
		v = json_pack("{s:s, s:s, s:s}", "Type",
			      status >= 500 ? "Service" : "User", "message",
			      msg, "__type", code);
		if (v != NULL && extra != NULL)
			json_object_update(v, (json_t *)extra);
		text = v ? ows_json_dumps(v, JSON_COMPACT) : NULL;
		json_decref(v);
		ows_aws_reply(c, status, h, 2, text, text ? strlen(text) : 0);
		free(text);
		return;
	}
	case OWS_AWS_JSON_1_0: {
		const char *svc = c->svc->name ? c->svc->name : "unknown";
		const char *pre = json10_prefix(svc);
		char type[300];
		struct ows_http_header h = {"Content-Type",
					    "application/x-amz-json-1.0"};

		if (pre != NULL)
			snprintf(type, sizeof(type), "%s%s", pre, code);
		else
			snprintf(type, sizeof(type), "com.amazonaws.%s#%s",
				 svc, code);
		v = json_pack("{s:s, s:s}", "__type", type, "message", msg);
		if (v != NULL && extra != NULL)
			json_object_update(v, (json_t *)extra);
		text = v ? ows_json_dumps(v, JSON_COMPACT) : NULL;
		json_decref(v);
		ows_aws_reply(c, status, &h, 1, text, text ? strlen(text) : 0);
		free(text);
		return;
	}
	}
	if (b.data == NULL)
		ows_aws_reply(c, 500, NULL, 0, NULL, 0);
	else
		ows_aws_reply_xml(c, status, (const char *)b.data);
	ows_buf_free(&b);
}

void ows_aws_error(struct ows_aws_call *c, int status, const char *code,
		   const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_v(c, status, code, NULL, msg);
}

void ows_aws_error_with(struct ows_aws_call *c, int status, const char *code,
			const json_t *extra, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_v(c, status, code, extra, msg);
}

/* ---- authentication failures ---- */

/*
 * The JSON services' names for the SigV4 failures (as Lambda and DynamoDB
 * send them: SDKs read X-Amzn-ErrorType or __type). DynamoDB answers them
 * all 400.
 */
static int json_auth_error(int rc, const char **code, const char **msg)
{
	switch (rc) {
	case OWS_ESIG_MISSING:
		*code = "MissingAuthenticationTokenException";
		*msg = "Missing Authentication Token";
		return 403;
	case OWS_ESIG_MALFORMED:
	case OWS_ESIG_QUERY:
	case OWS_ESIG_ARGUMENT:
		*code = "IncompleteSignatureException";
		*msg = "The request signature does not conform to AWS "
		       "standards.";
		return 400;
	case OWS_ESIG_ACCESS_KEY:
		*code = "UnrecognizedClientException";
		*msg = "The security token included in the request is "
		       "invalid.";
		return 403;
	case OWS_ESIG_SIGNATURE:
	case OWS_ESIG_SCOPE:
	case OWS_ESIG_SKEW:
	case OWS_ESIG_EXPIRED:
	case OWS_ESIG_NOT_YET:
	case OWS_ESIG_UNSIGNED:
	case OWS_ESIG_SHA256:
	case OWS_ESIG_BODY:
	case OWS_ESIG_CHUNK_SIZE:
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

void ows__aws_reply_auth_error(struct ows_aws_call *c, int rc, const char *msg)
{
	enum ows_aws_protocol proto = c->svc->protocol;
	bool json = proto == OWS_AWS_REST_JSON || proto == OWS_AWS_JSON_1_0;
	bool expired = ((struct ows_aws_call_priv *)c->priv)->auth.expired_token;
	const char *code, *dflt;
	int http;

	if (json) {
		http = json_auth_error(rc, &code, &dflt);
		/* Only the signature's own failures keep AWS's fixed text. */
		if (rc == OWS_ESIG_SIGNATURE && msg != NULL &&
		    strstr(msg, "signature we calculated") != NULL)
			msg = NULL;
		if (proto == OWS_AWS_JSON_1_0 && http == 403)
			http = 400;
	} else {
		http = ows_sigv4_error(rc, proto == OWS_AWS_REST_XML, &code,
				       &dflt);
		/* S3 words these two its own way, whatever the reason */
		if (proto == OWS_AWS_REST_XML && (rc == OWS_ESIG_EXPIRED ||
		    (rc == OWS_ESIG_SIGNATURE && msg != NULL &&
		     strstr(msg, "signature we calculated") != NULL)))
			msg = NULL;
		/* STS's (and IAM's) name for an unknown key. */
		if (rc == OWS_ESIG_ACCESS_KEY && proto == OWS_AWS_QUERY_XML) {
			code = "InvalidClientTokenId";
			dflt = "The security token included in the request is "
			       "invalid.";
			msg = NULL;
		}
	}
	if (expired) {
		/* STS's ExpiredToken, the JSON services' ExpiredTokenException,
		   S3's ExpiredToken (400) */
		http = proto == OWS_AWS_REST_JSON ? 403 : 400;
		code = json ? "ExpiredTokenException" : "ExpiredToken";
		msg = "The security token included in the request is expired";
	}
	ows_log(OWS_LOG_INFO, "aws", "%s %s from %s refused: %s%s%s",
		c->req->method, c->req->path, c->req->peer, code,
		msg ? ": " : "", msg ? msg : "");
	ows_aws_error(c, http, code, "%s", msg && msg[0] ? msg : dflt);
}

void ows_aws_reply_auth_error(struct ows_aws_call *c, int rc, const char *msg)
{
	ows__aws_reply_auth_error(c, rc, msg);
}
