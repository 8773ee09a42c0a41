/*
 * Routing on the edge port: each request that is not for /_ows/ or
 * /metrics goes to one service of aws/registry.c, found by
 *
 *   1. its X-Amz-Target prefix (the JSON protocols: "DynamoDB_20120810."),
 *   2. its SigV4 scope's service (Authorization header, or X-Amz-Credential
 *      of a presigned URL),
 *   3. a Host under the node's S3 domain (BUCKET.s3.localhost, or the
 *      domain itself): S3, whatever the request carries,
 *   4. its path prefix ("/2015-03-31/" for Lambda) or Host ("sts.*"),
 *   5. no credentials at all (no Authorization, no X-Amz-Credential): S3,
 *      which serves anonymous requests that a bucket policy allows and
 *      CORS preflights (OPTIONS).
 *
 * A request that names no service served here is still authenticated,
 * then answered InvalidAction in the shape of what it looks like: JSON
 * 1.0 with an X-Amz-Target, else query-XML.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/registry.h"
#include "common/enc.h"
#include "daemon/edge.h"
#include "s3/s3.h"


static void unknown_handle(struct ows_aws_call *c)
{
	if (c->svc->protocol == OWS_AWS_JSON_1_0)
		ows_aws_error(c, 400, "UnknownOperationException",
			      "this node does not serve that AWS service yet");
	else
		ows_aws_error(c, 400, "InvalidAction", "this node does not "
			      "serve that AWS service yet");
}

static const struct ows_aws_service unknown_xml = {
	.name = NULL, .protocol = OWS_AWS_QUERY_XML,
	.body_mode = OWS_AWS_BODY_WHOLE, .body_limit = 64 * 1024,
	.handle = unknown_handle,
};
static const struct ows_aws_service unknown_json = {
	.name = NULL, .protocol = OWS_AWS_JSON_1_0,
	.body_mode = OWS_AWS_BODY_WHOLE, .body_limit = 64 * 1024,
	.handle = unknown_handle,
};

/* The service of "Credential=AKID/DATE/REGION/SERVICE/aws4_request". */
static bool scope_service(const char *cred, char *out, size_t cap)
{
	const char *p = cred;

	for (int i = 0; i < 3; i++) {
		p = strchr(p, '/');
		if (p == NULL)
			return false;
		p++;
	}
	snprintf(out, cap, "%.*s", (int)strcspn(p, "/, "), p);
	return out[0] != '\0';
}

static const struct ows_aws_service *route(const struct ows_http_req *req,
					    const char *s3_domain)
{
	const char *target = ows_http_req_header(req, "X-Amz-Target");
	const char *auth = ows_http_req_header(req, "Authorization");
	const char *host = ows_http_req_header(req, "Host");
	const struct ows_aws_service *const *s;
	char cred[512], svc[64] = "";
	const char *p;
	bool creds = auth != NULL ||
		     ows_query_get(req->query, "X-Amz-Credential", cred,
				   sizeof(cred));

	if (target != NULL) {
		for (s = ows_aws_services; *s != NULL; s++)
			if ((*s)->target_prefix != NULL &&
			    strncmp(target, (*s)->target_prefix,
				    strlen((*s)->target_prefix)) == 0)
				return *s;
	}
	if (auth != NULL && (p = strstr(auth, "Credential=")) != NULL)
		scope_service(p + 11, svc, sizeof(svc));
	else if (ows_query_get(req->query, "X-Amz-Credential", cred,
			       sizeof(cred)))
		scope_service(cred, svc, sizeof(svc));
	if (svc[0] != '\0') {
		for (s = ows_aws_services; *s != NULL; s++)
			if (strcmp((*s)->name, svc) == 0)
				return *s;
		return target != NULL ? &unknown_json : &unknown_xml;
	}
	if (target == NULL && ows_s3_host_is_ours(host, s3_domain))
		return &ows_s3_service;
	/* Signature Version 2 ("AWS AKID:sig"): only S3 clients send it;
	   S3 tells them it is not supported */
	if (target == NULL && auth != NULL && strncmp(auth, "AWS ", 4) == 0)
		return &ows_s3_service;
	for (s = ows_aws_services; *s != NULL; s++)
		if ((*s)->path_prefix != NULL &&
		    strncmp(req->path, (*s)->path_prefix,
			    strlen((*s)->path_prefix)) == 0)
			return *s;
	if (host != NULL) {
		for (s = ows_aws_services; *s != NULL; s++) {
			size_t n = strlen((*s)->name);

			if (strncasecmp(host, (*s)->name, n) == 0 &&
			    host[n] == '.')
				return *s;
		}
	}
	if (target == NULL && !creds)
		return &ows_s3_service;
	return target != NULL ? &unknown_json : &unknown_xml;
}

bool ows_edge_is_bucket_host(const struct ows_node_host *nh,
			     const struct ows_http_req *req)
{
	const char *domain = nh->host.s3_domain;

	if (domain == NULL || domain[0] == '\0')
		domain = OWS_NODE_S3_DOMAIN_DEFAULT;
	return ows_s3_host_names_bucket(ows_http_req_header(req, "Host"),
					domain);
}

void ows_edge_handle(struct ows_node_host *nh, struct ows_http_req *req)
{
	const char *domain = nh->host.s3_domain;

	if (domain == NULL || domain[0] == '\0')
		domain = OWS_NODE_S3_DOMAIN_DEFAULT;
	ows_aws_call_start(route(req, domain), &nh->host, &nh->keys, req);
}
