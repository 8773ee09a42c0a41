/*
 * The AWS-compatible APIs on the edge port: every request that is not for
 * /_ows/ or /metrics is authenticated with SigV4 (auth/sigv4.h) against the
 * cluster's access keys and handed, with the user it belongs to, to the
 * service named in its credential scope.
 */
#ifndef OWS_DAEMON_AWS_H
#define OWS_DAEMON_AWS_H

#include "daemon/node.h"

struct ows_aws_call {
	struct ows_node *n;
	struct ows_http_req *req;
	const char *body;        /* the whole body (request arena) */
	size_t len;
	char user[256];          /* the access key's user */
	char access_key[129];
	char region[64];
	char service[64];
	char request_id[37];     /* a UUID for x-amzn-RequestId */
	char account[13];        /* the cluster's 12-digit account id */
};

/*
 * Check the SigV4 signature of c->req with c->body: on 0, c->user,
 * access_key, region and service are set. Otherwise an OWS_SIGV4_E* code
 * (see ows_sigv4_error) with the reason in err. c->n, req, body, len must
 * be set. Used by the edge and by the gateway's "auth": "iam" routes.
 */
int ows_aws_authenticate(struct ows_aws_call *c, struct ows_err *err);

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
