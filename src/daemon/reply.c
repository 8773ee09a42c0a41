/* Replies of the node's own endpoints; see reply.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core.h"
#include "daemon/reply.h"

void ows_reply_json(struct ows_http_req *req, int status, const json_t *v)
{
	struct ows_http_header h = {"Content-Type", "application/json"};
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	if (text == NULL) {
		ows_http_respond(req, 500, &h, 1, "{}", 2);
		return;
	}
	ows_http_respond(req, status, &h, 1, text, strlen(text));
	free(text);
}

void ows_reply_error(struct ows_http_req *req, int status, const char *code,
		     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v = json_pack("{s:s, s:s}", "code", code, "message", msg);
	ows_reply_json(req, status, v);
	json_decref(v);
}

void ows_reply_request_ctx(const struct ows_http_req *req, const char *region,
			   char ip[64], struct ows_authz_ctx *out)
{
	const char *p = req->peer, *end = strrchr(p, ':');
	size_t len;

	/* "1.2.3.4:PORT" or "[::1]:PORT" */
	if (*p == '[') {
		p++;
		end = strchr(p, ']');
	}
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	if (len >= 64)
		len = 63;
	memcpy(ip, p, len);
	ip[len] = '\0';
	*out = (struct ows_authz_ctx){ip[0] != '\0' ? ip : NULL, false,
				      ows_now_ms(), region};
}
