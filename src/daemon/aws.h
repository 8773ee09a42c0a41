/*
 * The AWS-compatible APIs on the edge port: every request that is not for
 * /_ows/ or /metrics is authenticated with SigV4 (auth/sigv4.h) against the
 * cluster's access keys and handed, with the user it belongs to, to the
 * service named in its credential scope.
 */
#ifndef OWS_DAEMON_AWS_H
#define OWS_DAEMON_AWS_H

#include "auth/session.h"
#include "daemon/node.h"

struct ows_aws_sig;

struct ows_aws_call {
	struct ows_node *n;
	struct ows_http_req *req;
	const char *body;        /* the whole body (request arena) */
	size_t len;
	char user[256];          /* the access key's user ("" for a role's
				    or a function's session) */
	/* Who acts: kind "users", "roles" or "functions", and its name. */
	char kind[16];
	char name[256];
	bool session;            /* session credentials (auth/session.h) */
	bool expired_token;      /* refused: the session has expired */
	struct ows_session sess; /* when session */
	/* What ows_aws_authenticate_head found, for ows_aws_authenticate: the
	   key is looked up once per request. Owned; ows_aws_call_clear wipes
	   the secret in it and frees it. */
	struct ows_aws_sig *sig;
	char access_key[129];
	char region[64];
	char service[64];
	char request_id[37];     /* a UUID for x-amzn-RequestId */
	char account[13];        /* the cluster's 12-digit account id */
};

/*
 * SigV4 in two steps, so that nobody makes the node hold a body before it
 * knows the key. Both fill c->user, access_key, region and service on 0,
 * or return an OWS_SIGV4_E* code (see ows_sigv4_error) with the reason in
 * err; c->n and req must be set. service is the scope's service the caller
 * serves (NULL: any; the edge routes by it); the scope's region must be the
 * node's (node.json "region").
 *
 * ows_aws_authenticate_head, before any body byte is read: the credentials'
 * form, scope, clock and access key; and when x-amz-content-sha256 gives
 * the body's hash, the whole signature (the body is then compared with that
 * hash by ows_aws_authenticate).
 *
 * ows_aws_authenticate, once the body is read (c->body, len): the whole
 * check, signature over the body's hash included. After a successful
 * ows_aws_authenticate_head on c (which keeps c->sig) it only finishes that
 * check: the key is not looked up again.
 */
int ows_aws_authenticate_head(struct ows_aws_call *c, const char *service,
			      struct ows_err *err);
int ows_aws_authenticate(struct ows_aws_call *c, const char *service,
			 struct ows_err *err);

/* Wipe and free what the head check kept in c (c itself is the caller's). */
void ows_aws_call_clear(struct ows_aws_call *c);

/*
 * Answer a failed authentication (rc from the calls above, reason msg or
 * NULL) in the protocol of the API called: Lambda's rest-json
 * (X-Amzn-ErrorType: UnrecognizedClientException, InvalidSignatureException,
 * ...) or the query protocol's XML (STS and the rest). Frees the call.
 */
void ows_aws_reply_auth_error(struct ows_aws_call *call, int rc,
			      const char *msg);

/*
 * Answer in the rest-json error shape (Lambda): X-Amzn-ErrorType: code and
 * {"Type", "message", "__type"}. Frees the call.
 */
void ows_aws_reply_json_error(struct ows_aws_call *call, int status,
			      const char *code, const char *message);

/* Edge entry point for AWS API requests. */
void ows_aws_handle(struct ows_node *n, struct ows_http_req *req);

/*
 * Answer in the query protocol's XML error shape (STS, IAM, ...):
 * <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
 * Frees the call.
 */
void ows_aws_reply_query_error(struct ows_aws_call *call, int status,
			       const char *code, const char *message);
/* Answer 200 with an XML body (copied). Frees the call. */
void ows_aws_reply_xml(struct ows_aws_call *call, const char *xml);

/* Services. */
void ows_sts_handle(struct ows_aws_call *call);
void ows_lambda_handle(struct ows_aws_call *call);

#endif
