/*
 * STS on the edge port (query protocol, 2011-06-15). GetCallerIdentity
 * answers who signed the request; as on AWS it needs no permission.
 * Session tokens (AssumeRole, GetSessionToken) are not issued yet.
 */
#include <stdio.h>
#include <string.h>

#include "common/enc.h"
#include "daemon/aws.h"

static void get_caller_identity(struct ows_aws_call *c)
{
	char xml[1024];

	snprintf(xml, sizeof(xml),
		 "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/"
		 "doc/2011-06-15/\"><GetCallerIdentityResult>"
		 "<Arn>arn:ows:iam::%s:user/%s</Arn><UserId>%s</UserId>"
		 "<Account>%s</Account></GetCallerIdentityResult>"
		 "<ResponseMetadata><RequestId>%s</RequestId>"
		 "</ResponseMetadata></GetCallerIdentityResponse>",
		 c->account, c->user, c->access_key, c->account, c->request_id);
	ows_aws_reply_xml(c, xml);
}

void ows_sts_handle(struct ows_aws_call *c)
{
	char form[4096], action[64] = "";

	/* The query protocol: Action in the form body, or in the query. */
	snprintf(form, sizeof(form), "%.*s", (int)(c->len < 4000 ? c->len : 4000),
		 c->body ? c->body : "");
	if (!ows_query_get(form, "Action", action, sizeof(action)))
		ows_query_get(c->req->query, "Action", action, sizeof(action));
	if (strcmp(action, "GetCallerIdentity") == 0) {
		get_caller_identity(c);
		return;
	}
	ows_aws_reply_query_error(c, 400, "InvalidAction", "The action or "
				  "operation requested is invalid. Verify that "
				  "the action is typed correctly.");
}
