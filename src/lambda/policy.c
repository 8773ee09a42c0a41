/*
 * AddPermission, RemovePermission and GetPolicy: a function's resource
 * policy, kept as a list of statements in its function_meta ("policy").
 * ows__lambda_resource_policy gives it as an IAM policy document, which
 * every function-scoped operation hands the host's authorize_resource to
 * judge together with the caller's identity policies (docs/lambda.md,
 * "Resource policies").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

static bool function_of(struct ows_aws_call *c, const char *ref,
			struct ows_lambda_ref *r)
{
	if (!ows__lambda_ref_of(c, ref, true, r))
		return false;
	if (r->qualifier[0] != '\0' && strcmp(r->qualifier, "$LATEST") != 0) {
		ows__lambda_invalid(c, "OWS keeps one resource policy per "
				    "function: qualified policies are not "
				    "supported");
		return false;
	}
	return true;
}

static void answer(struct ows_aws_call *c, const json_t *result, void *ud)
{
	(void)result;
	if (ud == NULL)
		ows_aws_reply(c, 204, NULL, 0, NULL, 0);
	else
		ows_aws_reply_json(c, 201, ud);
}

static bool rev_ok(struct ows_aws_call *c, const char *want,
		   const json_t *meta)
{
	const char *have = ows_json_str(meta, "revision_id");

	if (want == NULL || (have && strcmp(want, have) == 0))
		return true;
	ows_aws_error(c, 412, "PreconditionFailedException", "The Revision Id "
		      "provided does not match the latest Revision Id. Call "
		      "the GetFunction/GetAlias API to retrieve the latest "
		      "Revision Id");
	return false;
}

/*
 * Lambda keeps a function's resource policy under 20 KB: past it,
 * AddPermission is PolicyLengthExceededException (false, answered).
 */
static bool policy_fits(struct ows_aws_call *c, const json_t *list)
{
	char *text = ows_json_dump(list);
	size_t len = text != NULL ? strlen(text) : SIZE_MAX;

	free(text);
	if (len <= 20 * 1024)
		return true;
	ows_aws_error(c, 400, "PolicyLengthExceededException", "The final "
		      "policy size (%zu) is bigger than the limit (20480).",
		      len);
	return false;
}

void ows__lambda_add_permission(struct ows_aws_call *c, const char *ref)
{
	json_t *body = ows__lambda_body(c), *meta = NULL, *list, *st, *v;
	json_t *cond, *actions;
	const char *sid, *action, *principal, *s;
	struct ows_lambda_ref r;
	char arn[512];
	size_t i;

	if (body == NULL)
		return;
	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:AddPermission", r.name, NULL))
		goto cleanup;
	sid = ows_json_str(body, "StatementId");
	action = ows_json_str(body, "Action");
	principal = ows_json_str(body, "Principal");
	if (sid == NULL || action == NULL || principal == NULL ||
	    strlen(sid) > 100 ||
	    strspn(sid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789-_") != strlen(sid)) {
		ows__lambda_invalid(c, "StatementId, Action and Principal are "
				    "required");
		goto cleanup;
	}
	if (strncmp(action, "lambda:", 7) != 0) {
		ows__lambda_invalid(c, "1 validation error detected: Value "
				    "'%.100s' at 'action' failed to satisfy "
				    "constraint", action);
		goto cleanup;
	}
	meta = ows_state_resource(c->host->state, "function_meta", r.name);
	if (meta == NULL)
		meta = json_object();
	if (!rev_ok(c, ows_json_str(body, "RevisionId"), meta))
		goto cleanup;
	list = json_object_get(meta, "policy");
	if (list == NULL) {
		list = json_array();
		json_object_set_new(meta, "policy", list);
	}
	json_array_foreach(list, i, v) {
		if (strcmp(ows_json_str(v, "Sid") ? ows_json_str(v, "Sid") : "",
			   sid) == 0) {
			ows_aws_error(c, 409, "ResourceConflictException",
				      "The statement id (%s) provided already "
				      "exists. Please provide a new statement "
				      "id, or remove the existing statement.",
				      sid);
			goto cleanup;
		}
	}
	ows__lambda_arn(c, r.name, NULL, arn, sizeof(arn));
	st = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s}", "Sid", sid, "Effect",
		       "Allow", "Principal",
		       strstr(principal, ".amazonaws.com") ? "Service" : "AWS",
		       principal, "Action", action, "Resource", arn);
	cond = json_object();
	if ((s = ows_json_str(body, "SourceArn")) != NULL)
		json_object_set_new(cond, "ArnLike",
				    json_pack("{s:s}", "AWS:SourceArn", s));
	if ((s = ows_json_str(body, "SourceAccount")) != NULL)
		json_object_set_new(cond, "StringEquals",
				    json_pack("{s:s}", "AWS:SourceAccount", s));
	if ((s = ows_json_str(body, "PrincipalOrgID")) != NULL) {
		/* beside SourceAccount's StringEquals, never instead of it */
		if (json_object_get(cond, "StringEquals") == NULL)
			json_object_set_new(cond, "StringEquals",
					    json_object());
		json_object_set_new(json_object_get(cond, "StringEquals"),
				    "aws:PrincipalOrgID", json_string(s));
	}
	if (json_object_size(cond) > 0)
		json_object_set(st, "Condition", cond);
	json_decref(cond);
	json_array_append(list, st);
	if (!policy_fits(c, list))
		goto cleanup_st;
	/* a new revision; the caller's RevisionId is judged again at apply */
	json_object_set_new(meta, "stamp", json_true());
	if (ows_json_str(body, "RevisionId") != NULL)
		json_object_set_new(meta, "if_revision", json_string(
					    ows_json_str(body, "RevisionId")));
	actions = json_array();
	json_array_append_new(actions, ows__lambda_action("function_meta.put",
							  r.name, meta));
	meta = NULL;
	{
		char *text = ows_json_dump(st);

		ows__lambda_propose(c, actions, answer,
				    json_pack("{s:s}", "Statement",
					      text ? text : "{}"));
		free(text);
	}
cleanup_st:
	json_decref(st);
cleanup:
	json_decref(meta);
	json_decref(body);
}

void ows__lambda_remove_permission(struct ows_aws_call *c, const char *ref,
				   const char *sid)
{
	struct ows_lambda_ref r;
	json_t *meta, *list, *v, *actions;
	char rev[64] = "";
	size_t i;

	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:RemovePermission", r.name, NULL))
		return;
	meta = ows_state_resource(c->host->state, "function_meta", r.name);
	if (ows__lambda_query(c, "RevisionId", rev, sizeof(rev)) &&
	    !rev_ok(c, rev, meta)) {
		json_decref(meta);
		return;
	}
	list = json_object_get(meta, "policy");
	json_array_foreach(list, i, v) {
		if (strcmp(ows_json_str(v, "Sid") ? ows_json_str(v, "Sid") : "",
			   sid) == 0)
			break;
	}
	if (i >= json_array_size(list)) {
		json_decref(meta);
		ows_aws_error(c, 404, "ResourceNotFoundException", "Statement "
			      "%s is not found in resource policy.", sid);
		return;
	}
	json_array_remove(list, i);
	json_object_set_new(meta, "stamp", json_true());
	if (rev[0] != '\0')
		json_object_set_new(meta, "if_revision", json_string(rev));
	actions = json_array();
	json_array_append_new(actions, ows__lambda_action("function_meta.put",
							  r.name, meta));
	ows__lambda_propose(c, actions, answer, NULL);
}

void ows__lambda_get_policy(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *doc, *meta;
	char *text;

	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:GetPolicy", r.name, NULL))
		return;
	doc = ows__lambda_resource_policy(c->host->state, r.name);
	if (doc == NULL) {
		ows_aws_error(c, 404, "ResourceNotFoundException", "The "
			      "resource you requested does not exist.");
		return;
	}
	meta = ows_state_resource(c->host->state, "function_meta", r.name);
	text = ows_json_dump(doc);
	ows_aws_reply_json(c, 200, json_pack("{s:s, s:s}", "Policy",
					     text ? text : "{}", "RevisionId",
					     ows_json_str(meta, "revision_id")
						     ? ows_json_str(meta,
								    "revision_id")
						     : ""));
	free(text);
	json_decref(meta);
	json_decref(doc);
}
