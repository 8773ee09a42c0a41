/*
 * Stand-in for src/aws/call.c's replies until the seam's part lands on
 * main (then this file goes and the real replies run): REST-JSON only,
 * through ows_http_respond as the real ones do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/call.h"
#include "common/json.h"

void ows_aws_reply(struct ows_aws_call *c, int status,
		   const struct ows_http_header *headers, size_t n_headers,
		   const void *body, size_t len)
{
	struct ows_http_header h[16];
	size_t n = 0;

	for (size_t i = 0; i < n_headers && n < 15; i++)
		h[n++] = headers[i];
	h[n++] = (struct ows_http_header){"x-amzn-RequestId", c->request_id};
	ows_http_respond(c->req, status, h, n, body, len);
}

void ows_aws_reply_json(struct ows_aws_call *c, int status, json_t *v)
{
	struct ows_http_header h[] = {{"Content-Type", "application/json"}};
	char *text = ows_json_dump(v);

	ows_aws_reply(c, status, h, 1, text, text ? strlen(text) : 0);
	free(text);
	json_decref(v);
}

void ows_aws_reply_xml(struct ows_aws_call *c, int status, const char *xml)
{
	struct ows_http_header h[] = {{"Content-Type", "text/xml"}};

	ows_aws_reply(c, status, h, 1, xml, strlen(xml));
}

static void verror(struct ows_aws_call *c, int status, const char *code,
		   const json_t *extra, const char *fmt, va_list ap)
{
	struct ows_http_header h[] = {{"Content-Type", "application/json"},
				      {"X-Amzn-ErrorType", code}};
	char msg[1024], *text;
	json_t *v;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	v = json_pack("{s:s, s:s}", "Type", status >= 500 ? "Service" : "User",
		      "message", msg);
	if (extra != NULL)
		json_object_update(v, (json_t *)extra);
	text = ows_json_dump(v);
	ows_aws_reply(c, status, h, 2, text, text ? strlen(text) : 0);
	free(text);
	json_decref(v);
}

void ows_aws_error(struct ows_aws_call *c, int status, const char *code,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, status, code, NULL, fmt, ap);
	va_end(ap);
}

void ows_aws_error_with(struct ows_aws_call *c, int status, const char *code,
			const json_t *extra, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, status, code, extra, fmt, ap);
	va_end(ap);
}

const char *ows_aws_header(const struct ows_aws_call *c, const char *name)
{
	return ows_http_req_header(c->req, name);
}
