/*
 * CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases. An alias
 * names a version ("$LATEST" or N) and may send a share of invocations to
 * one other published version (RoutingConfig.AdditionalVersionWeights);
 * Invoke picks the version (ows__lambda_invoke_target).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

struct alias_op {
	char fn[OWS_LAMBDA_NAME_MAX];
	char alias[OWS_LAMBDA_QUAL_MAX];
	int status;
};

static json_t *alias_json(struct ows_aws_call *c, const char *fn,
			  const char *alias, const json_t *spec)
{
	char arn[512];
	json_t *out;

	ows__lambda_arn(c, fn, alias, arn, sizeof(arn));
	out = json_pack("{s:s, s:s, s:s, s:s, s:s}", "AliasArn", arn, "Name",
			alias, "FunctionVersion",
			ows_json_str(spec, "version") ? ows_json_str(spec,
								     "version")
						      : "$LATEST",
			"Description",
			ows_json_str(spec, "description")
				? ows_json_str(spec, "description") : "",
			"RevisionId",
			ows_json_str(spec, "revision_id")
				? ows_json_str(spec, "revision_id") : "");
	if (json_object_size(json_object_get(spec, "weights")) > 0) {
		json_t *w = json_object(), *v;
		const char *k;

		json_object_foreach(json_object_get(spec, "weights"), k, v)
			json_object_set_new(w, k, json_real(
				(double)json_integer_value(v) /
				OWS_LAMBDA_WEIGHT_ONE));
		json_object_set_new(out, "RoutingConfig",
				    json_pack("{s:o}",
					      "AdditionalVersionWeights", w));
	}
	return out;
}

/* The function of ref (unqualified): false with the call answered. */
static bool function_of(struct ows_aws_call *c, const char *ref,
			struct ows_lambda_ref *r)
{
	char msg[300];
	int rv = ows__lambda_parse_ref(c, ref, NULL, r, msg, sizeof(msg));

	if (rv == OWS_EINVAL) {
		ows__lambda_invalid(c, "%s", msg);
		return false;
	}
	if (rv != 0 ||
	    !ows_state_resource_exists(c->host->state, "functions", r->name)) {
		ows__lambda_not_found(c, r->name[0] ? r->name : ref, NULL);
		return false;
	}
	return true;
}

static bool alias_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 129 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_") == n &&
	       strspn(s, "0123456789") != n;
}

static void alias_missing(struct ows_aws_call *c, const char *fn,
			  const char *alias)
{
	char arn[512];

	ows__lambda_arn(c, fn, alias, arn, sizeof(arn));
	ows_aws_error(c, 404, "ResourceNotFoundException",
		      "Cannot find alias arn: %s", arn);
}

static void alias_done(struct ows_aws_call *c, const json_t *result, void *ud)
{
	struct alias_op *op = ud;
	char key[200];
	json_t *spec;

	(void)result;
	snprintf(key, sizeof(key), "%s:%s", op->fn, op->alias);
	spec = ows_state_resource(c->host->state, "aliases", key);
	if (spec == NULL) {
		alias_missing(c, op->fn, op->alias);
		return;
	}
	ows_aws_reply_json(c, op->status, alias_json(c, op->fn, op->alias,
						     spec));
	json_decref(spec);
}

/* Body fields onto spec: false with the call answered. */
static bool alias_fields(struct ows_aws_call *c, const json_t *body,
			 json_t *spec)
{
	const json_t *v = json_object_get(body, "FunctionVersion"), *rc;

	if (v != NULL) {
		if (!json_is_string(v)) {
			ows__lambda_invalid(c, "FunctionVersion must be a "
					    "string");
			return false;
		}
		json_object_set(spec, "version", (json_t *)v);
	}
	if ((v = json_object_get(body, "Description")) != NULL)
		json_object_set(spec, "description", (json_t *)v);
	if ((rc = json_object_get(body, "RoutingConfig")) != NULL) {
		v = json_object_get(rc, "AdditionalVersionWeights");
		if (v != NULL && !json_is_object(v)) {
			ows__lambda_invalid(c, "AdditionalVersionWeights must "
					    "be a map");
			return false;
		}
		if (json_object_size(v) > 1) {
			ows__lambda_invalid(c, "Number of items in "
					    "AdditionalVersionWeights cannot be "
					    "greater than 1");
			return false;
		}
		json_object_del(spec, "weights");
		if (json_object_size(v) > 0) {
			json_t *w = json_object(), *x;
			const char *k;

			json_object_foreach((json_t *)v, k, x) {
				double d = json_number_value(x);

				if (!json_is_number(x) || d < 0 || d > 1) {
					json_decref(w);
					ows__lambda_invalid(c, "weight of "
							    "version %s must "
							    "be from 0.0 to "
							    "1.0", k);
					return false;
				}
				json_object_set_new(w, k, json_integer(
					(json_int_t)(d * OWS_LAMBDA_WEIGHT_ONE +
						     0.5)));
			}
			json_object_set_new(spec, "weights", w);
		}
	}
	return true;
}

void ows__lambda_create_alias(struct ows_aws_call *c, const char *ref)
{
	json_t *body = ows__lambda_body(c), *spec = NULL, *actions;
	struct ows_lambda_ref r;
	struct alias_op *op;
	const char *name;
	char key[200];

	if (body == NULL)
		return;
	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:CreateAlias", r.name, NULL))
		goto cleanup;
	name = ows_json_str(body, "Name");
	if (name == NULL || !alias_name_valid(name)) {
		ows__lambda_invalid(c, "1 validation error detected: Value "
				    "'%.128s' at 'name' failed to satisfy "
				    "constraint", name ? name : "");
		goto cleanup;
	}
	if (ows_json_str(body, "FunctionVersion") == NULL) {
		ows__lambda_invalid(c, "FunctionVersion is required");
		goto cleanup;
	}
	snprintf(key, sizeof(key), "%s:%s", r.name, name);
	if (ows_state_resource_exists(c->host->state, "aliases", key)) {
		char arn[512];

		ows__lambda_arn(c, r.name, name, arn, sizeof(arn));
		ows_aws_error(c, 409, "ResourceConflictException",
			      "Alias already exists: %s", arn);
		goto cleanup;
	}
	spec = json_object();
	if (!alias_fields(c, body, spec))
		goto cleanup;
	op = ows_arena_alloc(c->arena, sizeof(*op));
	if (op == NULL) {
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		goto cleanup;
	}
	snprintf(op->fn, sizeof(op->fn), "%s", r.name);
	snprintf(op->alias, sizeof(op->alias), "%s", name);
	op->status = 201;
	actions = json_array();
	json_array_append_new(actions, ows__lambda_action("aliases.put", key,
							  spec));
	spec = NULL;
	ows__lambda_propose(c, actions, alias_done, op);
cleanup:
	json_decref(spec);
	json_decref(body);
}

void ows__lambda_get_alias(struct ows_aws_call *c, const char *ref,
			   const char *alias)
{
	struct ows_lambda_ref r;
	char key[200];
	json_t *spec;

	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:GetAlias", r.name, alias))
		return;
	snprintf(key, sizeof(key), "%s:%s", r.name, alias);
	spec = ows_state_resource(c->host->state, "aliases", key);
	if (spec == NULL) {
		alias_missing(c, r.name, alias);
		return;
	}
	ows_aws_reply_json(c, 200, alias_json(c, r.name, alias, spec));
	json_decref(spec);
}

void ows__lambda_update_alias(struct ows_aws_call *c, const char *ref,
			      const char *alias)
{
	json_t *body = ows__lambda_body(c), *spec = NULL, *actions;
	struct ows_lambda_ref r;
	struct alias_op *op;
	const char *rev;
	char key[200];

	if (body == NULL)
		return;
	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:UpdateAlias", r.name, alias))
		goto cleanup;
	snprintf(key, sizeof(key), "%s:%s", r.name, alias);
	spec = ows_state_resource(c->host->state, "aliases", key);
	if (spec == NULL) {
		alias_missing(c, r.name, alias);
		goto cleanup;
	}
	rev = ows_json_str(body, "RevisionId");
	if (rev != NULL && strcmp(rev, ows_json_str(spec, "revision_id")
					       ? ows_json_str(spec,
							      "revision_id")
					       : "") != 0) {
		ows_aws_error(c, 412, "PreconditionFailedException", "The "
			      "Revision Id provided does not match the latest "
			      "Revision Id. Call the GetFunction/GetAlias API "
			      "to retrieve the latest Revision Id");
		goto cleanup;
	}
	json_object_del(spec, "revision_id");
	if (!alias_fields(c, body, spec))
		goto cleanup;
	op = ows_arena_alloc(c->arena, sizeof(*op));
	if (op == NULL) {
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		goto cleanup;
	}
	snprintf(op->fn, sizeof(op->fn), "%s", r.name);
	snprintf(op->alias, sizeof(op->alias), "%s", alias);
	op->status = 200;
	actions = json_array();
	json_array_append_new(actions, ows__lambda_action("aliases.put", key,
							  spec));
	spec = NULL;
	ows__lambda_propose(c, actions, alias_done, op);
cleanup:
	json_decref(spec);
	json_decref(body);
}

static void alias_deleted(struct ows_aws_call *c, const json_t *result,
			  void *ud)
{
	(void)result;
	(void)ud;
	ows_aws_reply(c, 204, NULL, 0, NULL, 0);
}

void ows__lambda_delete_alias(struct ows_aws_call *c, const char *ref,
			      const char *alias)
{
	struct ows_lambda_ref r;
	json_t *actions;
	char key[200];

	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:DeleteAlias", r.name, alias))
		return;
	snprintf(key, sizeof(key), "%s:%s", r.name, alias);
	if (!ows_state_resource_exists(c->host->state, "aliases", key)) {
		alias_missing(c, r.name, alias);
		return;
	}
	actions = json_array();
	json_array_append_new(actions, ows__lambda_action("aliases.delete",
							  key, NULL));
	ows__lambda_propose(c, actions, alias_deleted, NULL);
}

void ows__lambda_list_aliases(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *rows, *row, *list;
	char ver[24] = "";
	size_t i, n;

	if (!function_of(c, ref, &r) ||
	    !ows__lambda_allow(c, "lambda:ListAliases", r.name, NULL))
		return;
	ows__lambda_query(c, "FunctionVersion", ver, sizeof(ver));
	rows = ows_state_resources(c->host->state, "aliases", NULL);
	list = json_array();
	n = strlen(r.name);
	json_array_foreach(rows, i, row) {
		const char *k = ows_json_str(row, "name");
		json_t *spec = json_object_get(row, "spec");

		if (strncmp(k, r.name, n) != 0 || k[n] != ':')
			continue;
		if (ver[0] != '\0' &&
		    strcmp(ver, ows_json_str(spec, "version")
					? ows_json_str(spec, "version") : "") != 0)
			continue;
		json_array_append_new(list, alias_json(c, r.name, k + n + 1,
						       spec));
	}
	json_decref(rows);
	ows_aws_reply_json(c, 200, json_pack("{s:o}", "Aliases", list));
}
