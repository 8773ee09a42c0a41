/*
 * Tags (ListTags, TagResource, UntagResource), GetAccountSettings,
 * reserved concurrency (Put/Get/DeleteFunctionConcurrency) and
 * asynchronous invocation settings (Put/Update/Get/Delete/List
 * FunctionEventInvokeConfig). All of them live in the function's
 * function_meta; reserved concurrency is also the spec's "concurrency"
 * (the most instances the node runs at once), so it is enforced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/enc.h"
#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

#define ACCOUNT_CONCURRENCY 1000


static json_t *meta_of(struct ows_aws_call *c, const char *name)
{
	json_t *m = ows_state_resource(c->host->state, "function_meta", name);

	return m != NULL ? m : json_object();
}

static void no_content(struct ows_aws_call *c, const json_t *result, void *ud)
{
	(void)result;
	(void)ud;
	ows_aws_reply(c, 204, NULL, 0, NULL, 0);
}

/* Reply with the JSON prepared before the proposal (taken). */
static void reply_prepared(struct ows_aws_call *c, const json_t *result,
			   void *ud)
{
	(void)result;
	ows_aws_reply_json(c, 200, ud);
}

/* Propose function_meta.put name meta (taken), then done. */
static void put_meta(struct ows_aws_call *c, const char *name, json_t *meta,
		     json_t *spec, ows_lambda_done_fn done, void *ud)
{
	json_t *actions = json_array();

	if (spec != NULL)
		json_array_append_new(actions, ows__lambda_action(
			"functions.put", name, spec));
	json_array_append_new(actions, ows__lambda_action("function_meta.put",
							  name, meta));
	ows__lambda_propose(c, actions, done, ud);
}

/* ---- tags ---- */

static bool tag_target(struct ows_aws_call *c, const char *arn,
		       const char *action, struct ows_lambda_ref *r)
{
	char msg[300];
	int rv = ows__lambda_parse_ref(c, arn, NULL, r, msg, sizeof(msg));

	if (rv == OWS_EINVAL || strncmp(arn, "arn:", 4) != 0) {
		ows__lambda_invalid(c, "%s", rv == OWS_EINVAL
						     ? msg
						     : "The resource ARN is "
						       "not valid");
		return false;
	}
	if (rv == 0 && r->qualifier[0] != '\0') {
		ows__lambda_invalid(c, "Tags are not supported on a qualified "
				    "function ARN");
		return false;
	}
	if (rv != 0 ||
	    !ows_state_resource_exists(c->host->state, "functions", r->name)) {
		ows__lambda_not_found(c, r->name[0] ? r->name : arn, NULL);
		return false;
	}
	return ows__lambda_allow(c, action, r->name, NULL);
}

void ows__lambda_list_tags(struct ows_aws_call *c, const char *arn)
{
	struct ows_lambda_ref r;
	json_t *meta, *tags;

	if (!tag_target(c, arn, "lambda:ListTags", &r))
		return;
	meta = meta_of(c, r.name);
	tags = json_object_get(meta, "tags");
	ows_aws_reply_json(c, 200, json_pack("{s:o}", "Tags",
					     tags ? json_incref(tags)
						  : json_object()));
	json_decref(meta);
}

void ows__lambda_tag_resource(struct ows_aws_call *c, const char *arn)
{
	json_t *body = ows__lambda_body(c), *meta, *tags, *add, *v;
	struct ows_lambda_ref r;
	const char *k;

	if (body == NULL)
		return;
	if (!tag_target(c, arn, "lambda:TagResource", &r))
		goto cleanup;
	add = json_object_get(body, "Tags");
	if (!json_is_object(add)) {
		ows__lambda_invalid(c, "Tags must be a map of strings");
		goto cleanup;
	}
	meta = meta_of(c, r.name);
	tags = json_object_get(meta, "tags");
	if (tags == NULL) {
		tags = json_object();
		json_object_set_new(meta, "tags", tags);
	}
	json_object_foreach(add, k, v) {
		if (!json_is_string(v)) {
			json_decref(meta);
			ows__lambda_invalid(c, "Tag values are strings");
			goto cleanup;
		}
		json_object_set(tags, k, v);
	}
	if (json_object_size(tags) > 50) {
		json_decref(meta);
		ows__lambda_invalid(c, "A function has at most 50 tags");
		goto cleanup;
	}
	put_meta(c, r.name, meta, NULL, no_content, NULL);
cleanup:
	json_decref(body);
}

void ows__lambda_untag_resource(struct ows_aws_call *c, const char *arn)
{
	const char *q = c->req->query, *p;
	struct ows_lambda_ref r;
	json_t *meta, *tags;

	if (!tag_target(c, arn, "lambda:UntagResource", &r))
		return;
	meta = meta_of(c, r.name);
	tags = json_object_get(meta, "tags");
	/* tagKeys=a&tagKeys=b: every value of the repeated key */
	for (p = q; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "&");

		if (strncmp(p, "tagKeys=", 8) == 0 && n > 8) {
			char *key = ows_url_decode(p + 8, n - 8, true, NULL);

			if (key != NULL)
				json_object_del(tags, key);
			free(key);
		}
		p += n;
		if (*p == '&')
			p++;
	}
	put_meta(c, r.name, meta, NULL, no_content, NULL);
}

/* ---- account settings ---- */

void ows__lambda_account_settings(struct ows_aws_call *c)
{
	const char *arns[] = {"*", NULL};
	json_t *metas, *fns, *row;
	json_int_t total = 0, reserved = 0;
	size_t i;

	if (c->host->authorize(c, "lambda:GetAccountSettings", arns,
			       NULL) != 0) {
		ows_aws_error(c, 403, "AccessDeniedException", "User: %s is "
			      "not authorized to perform: "
			      "lambda:GetAccountSettings on resource: *",
			      c->caller.name);
		return;
	}
	fns = ows_state_resources(c->host->state, "functions", NULL);
	metas = ows_state_resources(c->host->state, "function_meta", NULL);
	json_array_foreach(metas, i, row) {
		json_t *spec = json_object_get(row, "spec");

		total += json_integer_value(json_object_get(spec,
							    "code_size"));
		reserved += json_integer_value(json_object_get(spec,
							       "reserved"));
	}
	ows_aws_reply_json(c, 200, json_pack(
		"{s:{s:I, s:I, s:I, s:i, s:I}, s:{s:I, s:I}}",
		"AccountLimit", "TotalCodeSize", (json_int_t)80530636800LL,
		"CodeSizeUnzipped", (json_int_t)262144000,
		"CodeSizeZipped", (json_int_t)52428800,
		"ConcurrentExecutions", ACCOUNT_CONCURRENCY,
		"UnreservedConcurrentExecutions",
		(json_int_t)ACCOUNT_CONCURRENCY - reserved,
		"AccountUsage", "TotalCodeSize", total, "FunctionCount",
		(json_int_t)json_array_size(fns)));
	json_decref(fns);
	json_decref(metas);
}

/* ---- reserved concurrency ---- */

void ows__lambda_put_concurrency(struct ows_aws_call *c, const char *ref)
{
	json_t *body = ows__lambda_body(c), *meta, *spec;
	const json_t *n;
	struct ows_lambda_ref r;

	if (body == NULL)
		return;
	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:PutFunctionConcurrency", r.name,
			       NULL))
		goto cleanup;
	n = json_object_get(body, "ReservedConcurrentExecutions");
	if (!json_is_integer(n) || json_integer_value(n) < 0) {
		ows__lambda_invalid(c, "ReservedConcurrentExecutions must be "
				    "an integer of at least 0");
		goto cleanup;
	}
	if (json_integer_value(n) > ACCOUNT_CONCURRENCY) {
		ows__lambda_invalid(c, "OWS takes a reserved concurrency from "
				    "0 to %d", ACCOUNT_CONCURRENCY);
		goto cleanup;
	}
	spec = ows_state_resource(c->host->state, "functions", r.name);
	meta = meta_of(c, r.name);
	json_object_set(spec, "concurrency", (json_t *)n);
	json_object_set(meta, "reserved", (json_t *)n);
	put_meta(c, r.name, meta, spec, reply_prepared,
		 json_pack("{s:O}", "ReservedConcurrentExecutions", n));
cleanup:
	json_decref(body);
}

void ows__lambda_get_concurrency(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *meta, *out;

	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:GetFunctionConcurrency", r.name,
			       NULL))
		return;
	meta = meta_of(c, r.name);
	out = json_object();
	if (json_object_get(meta, "reserved") != NULL)
		json_object_set(out, "ReservedConcurrentExecutions",
				json_object_get(meta, "reserved"));
	json_decref(meta);
	ows_aws_reply_json(c, 200, out);
}

void ows__lambda_delete_concurrency(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *meta, *spec;

	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:DeleteFunctionConcurrency", r.name,
			       NULL))
		return;
	spec = ows_state_resource(c->host->state, "functions", r.name);
	meta = meta_of(c, r.name);
	if (json_object_get(meta, "reserved") != NULL)
		json_object_del(spec, "concurrency");
	json_object_del(meta, "reserved");
	put_meta(c, r.name, meta, spec, no_content, NULL);
}

/* ---- asynchronous invocation settings ---- */

static json_t *event_json(struct ows_aws_call *c, const char *name,
			  const char *qual, const json_t *cfg)
{
	char arn[512];
	json_t *out;

	ows__lambda_arn(c, name, strcmp(qual, "$LATEST") ? qual : "$LATEST",
			arn, sizeof(arn));
	out = json_deep_copy(cfg);
	json_object_set_new(out, "FunctionArn", json_string(arn));
	return out;
}

static const char *qual_of(const struct ows_lambda_ref *r)
{
	return r->qualifier[0] ? r->qualifier : "$LATEST";
}

void ows__lambda_put_event_config(struct ows_aws_call *c, const char *ref,
				  bool update)
{
	json_t *body = ows__lambda_body(c), *meta = NULL, *all, *cfg;
	const json_t *v;
	struct ows_lambda_ref r;

	if (body == NULL)
		return;
	if (!ows__lambda_ref_of(c, ref, true, &r) ||
	    !ows__lambda_allow(c, update ? "lambda:UpdateFunctionEventInvokeConfig"
					 : "lambda:PutFunctionEventInvokeConfig",
			       r.name, r.qualifier))
		goto cleanup;
	v = json_object_get(body, "MaximumRetryAttempts");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
			  json_integer_value(v) > 2)) {
		ows__lambda_invalid(c, "MaximumRetryAttempts must be from 0 "
				    "to 2");
		goto cleanup;
	}
	v = json_object_get(body, "MaximumEventAgeInSeconds");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 60 ||
			  json_integer_value(v) > 21600)) {
		ows__lambda_invalid(c, "MaximumEventAgeInSeconds must be from "
				    "60 to 21600");
		goto cleanup;
	}
	if (json_object_size(json_object_get(json_object_get(
		    body, "DestinationConfig"), "OnSuccess")) > 0 ||
	    json_object_size(json_object_get(json_object_get(
		    body, "DestinationConfig"), "OnFailure")) > 0) {
		ows__lambda_invalid(c, "OWS has no destinations for "
				    "asynchronous invocations yet");
		goto cleanup;
	}
	meta = meta_of(c, r.name);
	all = json_object_get(meta, "event_invoke");
	if (all == NULL) {
		all = json_object();
		json_object_set_new(meta, "event_invoke", all);
	}
	cfg = json_object_get(all, qual_of(&r));
	if (update && cfg == NULL) {
		ows_aws_error(c, 404, "ResourceNotFoundException", "The "
			      "function %s doesn't have an EventInvokeConfig",
			      r.name);
		goto cleanup;
	}
	cfg = update ? json_deep_copy(cfg) : json_object();
	json_object_del(body, "FunctionName");
	json_object_del(body, "Qualifier");
	json_object_update(cfg, body);
	/* epoch seconds, an integer: entries hold no real numbers */
	json_object_set_new(cfg, "LastModified",
			    json_integer((json_int_t)time(NULL)));
	json_object_set_new(all, qual_of(&r), cfg);
	put_meta(c, r.name, meta, NULL, reply_prepared,
		 event_json(c, r.name, qual_of(&r), cfg));
	meta = NULL;
cleanup:
	json_decref(meta);
	json_decref(body);
}

void ows__lambda_get_event_config(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *meta, *cfg;

	if (!ows__lambda_ref_of(c, ref, true, &r) ||
	    !ows__lambda_allow(c, "lambda:GetFunctionEventInvokeConfig",
			       r.name, r.qualifier))
		return;
	meta = meta_of(c, r.name);
	cfg = json_object_get(json_object_get(meta, "event_invoke"),
			      qual_of(&r));
	if (cfg == NULL)
		ows_aws_error(c, 404, "ResourceNotFoundException", "The "
			      "function %s doesn't have an EventInvokeConfig",
			      r.name);
	else
		ows_aws_reply_json(c, 200, event_json(c, r.name, qual_of(&r),
						      cfg));
	json_decref(meta);
}

void ows__lambda_delete_event_config(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *meta, *all;

	if (!ows__lambda_ref_of(c, ref, true, &r) ||
	    !ows__lambda_allow(c, "lambda:DeleteFunctionEventInvokeConfig",
			       r.name, r.qualifier))
		return;
	meta = meta_of(c, r.name);
	all = json_object_get(meta, "event_invoke");
	if (json_object_get(all, qual_of(&r)) == NULL) {
		json_decref(meta);
		ows_aws_error(c, 404, "ResourceNotFoundException", "The "
			      "function %s doesn't have an EventInvokeConfig",
			      r.name);
		return;
	}
	json_object_del(all, qual_of(&r));
	put_meta(c, r.name, meta, NULL, no_content, NULL);
}

void ows__lambda_list_event_configs(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *meta, *list, *v;
	const char *k;

	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:ListFunctionEventInvokeConfigs",
			       r.name, NULL))
		return;
	meta = meta_of(c, r.name);
	list = json_array();
	json_object_foreach(json_object_get(meta, "event_invoke"), k, v)
		json_array_append_new(list, event_json(c, r.name, k, v));
	json_decref(meta);
	ows_aws_reply_json(c, 200, json_pack("{s:o}",
					     "FunctionEventInvokeConfigs",
					     list));
}

/* ---- code signing: OWS has none, and says so ---- */

void ows__lambda_get_code_signing(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;

	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:GetFunctionCodeSigningConfig",
			       r.name, NULL))
		return;
	ows_aws_reply_json(c, 200, json_pack("{s:s, s:s}",
					     "CodeSigningConfigArn", "",
					     "FunctionName", r.name));
}
