/*
 * Replies of the node's own endpoints under /_ows/ (admin API, blobs,
 * logs, the host's node endpoints): JSON bodies and {"code", "message"}
 * errors (docs/admin-api.md), and the request context policies judge.
 * The AWS-compatible services answer through aws/call.h instead.
 */
#ifndef OWS_DAEMON_REPLY_H
#define OWS_DAEMON_REPLY_H

#include <jansson.h>

#include "http/http.h"
#include "ledger/authz.h"

/* Send a JSON value (borrowed) as the response (frees req). */
void ows_reply_json(struct ows_http_req *req, int status, const json_t *v);
/* Send {"code": code, "message": printf(fmt, ...)} (frees req). */
void ows_reply_error(struct ows_http_req *req, int status, const char *code,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The live context of req for policy conditions (ledger/authz.h): the
 * peer's address into ip, plain HTTP (the edge has no TLS), the node's
 * clock. region (the SigV4 scope's) may be NULL.
 */
void ows_reply_request_ctx(const struct ows_http_req *req, const char *region,
			   char ip[64], struct ows_authz_ctx *out);

#endif
