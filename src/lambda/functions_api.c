/*
 * CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
 * DeleteFunction, GetFunction, GetFunctionConfiguration, ListFunctions.
 *
 * A function made here is the spec OWS runs (functions.put, checked by
 * the state machine as a stack file's would be) plus its Lambda-only
 * fields (function_meta.put), proposed together in one entry attested
 * by this node, in no stack. The zip is checked as the node will unpack
 * it (fn/bundle.h) and stored as a blob before the entry is proposed.
 *
 * A role (Role: arn:aws:iam::ACCOUNT:role/NAME, or arn:ows:iam::role/NAME)
 * must be one of the cluster's roles; the function's spec names it
 * ("role") and the function runs with that role's policies as they are at
 * each call (the state's directory reads them live), and Role is shown
 * back as given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "fn/bundle.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

#define ZIP_ERROR "Could not unzip uploaded file. Please check your file, " \
		  "then try to upload again."

/*
 * One write in flight: what it needs across blob_put and propose. It is
 * malloc'd until proposed (write_free on every failure before), then
 * the arena's.
 */
struct write {
	struct ows_aws_call *c;
	char name[OWS_LAMBDA_NAME_MAX];
	json_t *spec;    /* the new functions spec (taken) */
	json_t *meta;    /* the new function_meta (taken) */
	bool publish;
	const void *zip; /* arena */
	size_t zip_len;
	int status;      /* reply status */
};

static void write_free(struct write *w)
{
	if (w == NULL)
		return;
	json_decref(w->spec);
	json_decref(w->meta);
	free(w);
}

/* Role ARN -> the role's policies; false with the call answered. */
static bool map_role(struct ows_aws_call *c, const char *role, json_t *spec)
{
	char want[64], name[256];
	const char *p;
	json_t *r;

	snprintf(want, sizeof(want), "arn:aws:iam::%s:role/", c->host->account);
	if (strncmp(role, want, strlen(want)) == 0)
		p = role + strlen(want);
	else if (strncmp(role, "arn:ows:iam::role/", 18) == 0)
		p = role + 18;
	else
		goto bad;
	/* a role's path (role/service-role/NAME): the name is the last part */
	if (strrchr(p, '/') != NULL)
		p = strrchr(p, '/') + 1;
	snprintf(name, sizeof(name), "%s", p);
	r = ows_state_resource(c->host->state, "roles", name);
	if (r == NULL)
		goto bad;
	{
		/* judged on the role's own ARNs, never on the path as given:
		 * OWS roles have no path, and "role/team-x/admin" must not pass
		 * a PassRole allowed on "role/team-*" */
		char aws[320], ows[320];
		const char *arns[] = {aws, ows, NULL};

		snprintf(aws, sizeof(aws), "%s%s", want, name);
		snprintf(ows, sizeof(ows), "arn:ows:iam::role/%s", name);
		if (c->host->authorize(c, "iam:PassRole", arns, NULL) != 0) {
			json_decref(r);
			ows_aws_error(c, 403, "AccessDeniedException",
				      "User: %s is not authorized to perform: "
				      "iam:PassRole on resource: %s",
				      c->caller.name, role);
			return false;
		}
	}
	/* the function runs with the role's policies as they are, live */
	json_object_set_new(spec, "role", json_string(name));
	json_object_del(spec, "policies");
	json_decref(r);
	return true;
bad:
	ows__lambda_invalid(c, "The role defined for the function cannot be "
			    "assumed by Lambda.");
	return false;
}

/*
 * Lambda's configuration fields of body onto spec and meta. false with
 * the call answered when one is invalid.
 */

/*
 * The variables Lambda sets itself, which a function may not set ("...
 * contains reserved keys that are currently not supported for
 * modification"): false with 400 InvalidParameterValueException answered.
 */
static bool env_unreserved(struct ows_aws_call *c, const json_t *vars)
{
	static const char *const reserved[] = {
		"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION",
		"AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
		"AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
		"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
		"LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
	};
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)vars, key, v) {
		for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]);
		     i++) {
			if (strcmp(key, reserved[i]) != 0)
				continue;
			ows__lambda_invalid(c, "Lambda was unable to configure "
					    "your environment variables because "
					    "the environment variables you have "
					    "provided contains reserved keys "
					    "that are currently not supported "
					    "for modification. Reserved keys "
					    "used in this request: %s", key);
			return false;
		}
	}
	return true;
}

static bool apply_config(struct ows_aws_call *c, const json_t *body,
			 json_t *spec, json_t *meta)
{
	const json_t *v;
	const char *rt;

	if ((v = json_object_get(body, "Runtime")) != NULL) {
		rt = ows__lambda_runtime(json_string_value(v));
		if (rt == NULL) {
			ows__lambda_invalid(c, "Value %s at 'runtime' failed to "
					    "satisfy constraint: Member must "
					    "satisfy enum value set: [python3.8, "
					    "python3.9, python3.10, python3.11, "
					    "python3.12, python3.13, nodejs18.x, "
					    "nodejs20.x, nodejs22.x, provided, "
					    "provided.al2, provided.al2023]",
					    json_string_value(v)
						    ? json_string_value(v) : "");
			return false;
		}
		json_object_set_new(spec, "runtime", json_string(rt));
		json_object_set(meta, "runtime", (json_t *)v);
	}
	if ((v = json_object_get(body, "Handler")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) > 128) {
			ows__lambda_invalid(c, "Handler must be a string of at "
					    "most 128 characters");
			return false;
		}
		json_object_set(spec, "handler", (json_t *)v);
	}
	if ((v = json_object_get(body, "MemorySize")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 128 ||
		    json_integer_value(v) > 10240) {
			ows__lambda_invalid(c, "MemorySize must be from 128 to "
					    "10240");
			return false;
		}
		json_object_set(spec, "memory_mb", (json_t *)v);
	}
	if ((v = json_object_get(body, "Timeout")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 900) {
			ows__lambda_invalid(c, "Timeout must be from 1 to 900");
			return false;
		}
		json_object_set(spec, "timeout_s", (json_t *)v);
	}
	if ((v = json_object_get(body, "Description")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) > 256) {
			ows__lambda_invalid(c, "Description must be a string "
					    "of at most 256 characters");
			return false;
		}
		json_object_set(meta, "description", (json_t *)v);
	}
	if ((v = json_object_get(body, "Environment")) != NULL) {
		const json_t *vars = json_object_get(v, "Variables");

		if (vars != NULL && !json_is_object(vars)) {
			ows__lambda_invalid(c, "Environment.Variables must be "
					    "a map of strings");
			return false;
		}
		if (!env_unreserved(c, vars))
			return false;
		if (json_object_size(vars) > 0)
			json_object_set(spec, "env", (json_t *)vars);
		else
			json_object_del(spec, "env");
	}
	if ((v = json_object_get(body, "Role")) != NULL) {
		if (!json_is_string(v)) {
			ows__lambda_invalid(c, "Role must be an ARN");
			return false;
		}
		if (!map_role(c, json_string_value(v), spec))
			return false;
		json_object_set(meta, "role", (json_t *)v);
	}
	if ((v = json_object_get(body, "PackageType")) != NULL &&
	    strcmp(json_string_value(v) ? json_string_value(v) : "",
		   "Zip") != 0) {
		ows__lambda_invalid(c, "OWS runs .zip functions only: "
				    "PackageType Image is not supported");
		return false;
	}
	if ((v = json_object_get(body, "Architectures")) != NULL) {
		if (json_array_size(v) != 1 ||
		    strcmp(json_string_value(json_array_get(v, 0))
				   ? json_string_value(json_array_get(v, 0))
				   : "", "x86_64") != 0) {
			ows__lambda_invalid(c, "OWS runs the host's "
					    "architecture: Architectures must "
					    "be [x86_64]");
			return false;
		}
	}
	return true;
}

/* ZipFile of code (base64) into the arena and checked. */
static bool take_zip(struct ows_aws_call *c, const json_t *code,
		     struct write *w)
{
	const char *b64 = ows_json_str(code, "ZipFile");
	struct ows_err err;
	size_t cap;
	long n;
	void *buf;

	if (b64 == NULL) {
		if (json_object_get(code, "S3Bucket") != NULL ||
		    json_object_get(code, "ImageUri") != NULL)
			ows__lambda_invalid(c, "OWS takes the code as "
					    "Code.ZipFile; S3Bucket and ImageUri "
					    "are not supported");
		else
			ows__lambda_invalid(c, "Please provide a source for "
					    "function code.");
		return false;
	}
	cap = strlen(b64) / 4 * 3 + 3;
	buf = ows_arena_alloc(c->arena, cap);
	if (buf == NULL) {
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		return false;
	}
	n = ows_b64_decode_n(b64, strlen(b64), buf, cap);
	if (n <= 0 || ows_bundle_check(buf, (size_t)n, &err) != 0) {
		ows__lambda_invalid(c, ZIP_ERROR);
		return false;
	}
	w->zip = buf;
	w->zip_len = (size_t)n;
	return true;
}

static void written(struct ows_aws_call *c, const json_t *result, void *ud)
{
	struct write *w = ud;
	const char *ver = ows_json_str(result, "version");
	json_t *cfg = ows__lambda_config(c, w->name,
					 w->publish && ver ? ver : "$LATEST");

	/* w is the arena's now (propose_write) */
	if (cfg == NULL) {
		ows__lambda_not_found(c, w->name, NULL);
		return;
	}
	ows_aws_reply_json(c, w->status, cfg);
}

static void propose_write(struct write *w)
{
	json_t *actions = json_array();
	struct ows_aws_call *c = w->c;
	struct write *a;

	json_object_set_new(w->meta, "stamp", json_true());
	json_array_append_new(actions, ows__lambda_action("functions.put",
							  w->name, w->spec));
	json_array_append_new(actions, ows__lambda_action("function_meta.put",
							  w->name, w->meta));
	w->spec = w->meta = NULL;
	if (w->publish)
		json_array_append_new(actions, ows__lambda_action(
			"function_versions.publish", w->name, json_object()));
	/*
	 * Nothing of w needs freeing from here: it moves to the arena, so
	 * that a refusal (answered without calling written) leaks nothing.
	 */
	a = ows_arena_alloc(c->arena, sizeof(*a));
	if (a == NULL) {
		json_decref(actions);
		write_free(w);
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		return;
	}
	*a = *w;
	free(w);
	ows__lambda_propose(c, actions, written, a);
}

static void blob_stored(void *ud, int status, const char *sha256)
{
	struct write *w = ud;
	struct ows_aws_call *c = w->c;

	if (status != 0) {
		write_free(w);
		ows_aws_error(c, 500, "ServiceException", "the code could "
			      "not be stored: %s", ows_strerror(status));
		return;
	}
	json_object_set_new(w->spec, "code_sha256", json_string(sha256));
	json_object_set_new(w->meta, "code_size", json_integer(
						  (json_int_t)w->zip_len));
	propose_write(w);
}

static void store_and_propose(struct write *w)
{
	struct ows_aws_call *c = w->c;
	int rv = c->host->blob_put(c, w->zip, w->zip_len, blob_stored, w);

	if (rv != 0) {
		write_free(w);
		ows_aws_error(c, 500, "ServiceException", "the code could "
			      "not be stored: %s", ows_strerror(rv));
	}
}

static struct write *write_new(struct ows_aws_call *c, const char *name)
{
	struct write *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		return NULL;
	}
	w->c = c;
	w->status = 200;
	snprintf(w->name, sizeof(w->name), "%s", name);
	return w;
}

/* The revision check of writes: false with 412 answered. */
static bool revision_ok(struct ows_aws_call *c, const json_t *body,
			const json_t *meta)
{
	const char *want = ows_json_str(body, "RevisionId");
	const char *have = ows_json_str(meta, "revision_id");

	if (want == NULL || (have != NULL && strcmp(want, have) == 0))
		return true;
	ows_aws_error(c, 412, "PreconditionFailedException", "The Revision Id "
		      "provided does not match the latest Revision Id. Call "
		      "the GetFunction/GetAlias API to retrieve the latest "
		      "Revision Id");
	return false;
}

/* RevisionId judged again when the entry applies (kinds.c). */
static void if_revision(const json_t *body, json_t *meta)
{
	if (ows_json_str(body, "RevisionId") != NULL)
		json_object_set(meta, "if_revision",
				json_object_get(body, "RevisionId"));
}

void ows__lambda_create_function(struct ows_aws_call *c)
{
	json_t *body = ows__lambda_body(c), *tags;
	const char *name;
	struct ows_lambda_ref ref;
	struct write *w = NULL;
	char msg[300];
	const char *rt;

	if (body == NULL)
		return;
	name = ows_json_str(body, "FunctionName");
	if (name == NULL) {
		ows__lambda_invalid(c, "FunctionName is required");
		goto cleanup;
	}
	if (ows__lambda_parse_ref(c, name, NULL, &ref, msg, sizeof(msg)) != 0 ||
	    ref.qualifier[0] != '\0') {
		ows__lambda_invalid(c, "1 validation error detected: Value "
				    "'%.200s' at 'functionName' failed to "
				    "satisfy constraint", name);
		goto cleanup;
	}
	if (!ows__lambda_allow(c, "lambda:CreateFunction", ref.name, NULL))
		goto cleanup;
	if (ows_json_str(body, "Runtime") == NULL) {
		ows__lambda_invalid(c, "Runtime is required for a .zip "
				    "function");
		goto cleanup;
	}
	if (ows_state_resource_exists(c->host->state, "functions",
				      ref.name)) {
		ows_aws_error(c, 409, "ResourceConflictException",
			      "Function already exist: %s", ref.name);
		goto cleanup;
	}
	if ((w = write_new(c, ref.name)) == NULL)
		goto cleanup;
	w->status = 201;
	w->spec = json_object();
	w->meta = json_pack("{s:b}", "create", 1);
	if (!apply_config(c, body, w->spec, w->meta))
		goto fail;
	rt = ows_json_str(w->spec, "runtime");
	if ((strcmp(rt, "python3") == 0 || strcmp(rt, "nodejs") == 0) &&
	    ows_json_str(w->spec, "handler") == NULL) {
		ows__lambda_invalid(c, "Handler is required for runtime %s",
				    ows_json_str(body, "Runtime"));
		goto fail;
	}
	if (strcmp(rt, "http") == 0) {
		ows__lambda_invalid(c, "the http runtime is made with a stack "
				    "file (it needs a command)");
		goto fail;
	}
	tags = json_object_get(body, "Tags");
	if (tags != NULL && !json_is_object(tags)) {
		ows__lambda_invalid(c, "Tags must be a map of strings");
		goto fail;
	}
	if (json_object_size(tags) > 50) {
		ows__lambda_invalid(c, "A function has at most 50 tags");
		goto fail;
	}
	json_object_set_new(w->meta, "tags",
			    tags ? json_deep_copy(tags) : json_object());
	w->publish = json_is_true(json_object_get(body, "Publish"));
	if (!take_zip(c, json_object_get(body, "Code"), w))
		goto fail;
	store_and_propose(w);
	goto cleanup;
fail:
	write_free(w);
cleanup:
	json_decref(body);
}


static json_t *config_for(struct ows_aws_call *c,
			  const struct ows_lambda_ref *r)
{
	json_t *cfg = ows__lambda_config(c, r->name, r->version);
	char arn[512];

	if (cfg != NULL && r->qualifier[0] != '\0') {
		ows__lambda_arn(c, r->name, r->qualifier, arn, sizeof(arn));
		json_object_set_new(cfg, "FunctionArn", json_string(arn));
	}
	return cfg;
}

void ows__lambda_get_configuration(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *cfg;

	if (!ows__lambda_ref_of(c, ref, true, &r) ||
	    !ows__lambda_allow(c, "lambda:GetFunctionConfiguration", r.name,
			       r.qualifier))
		return;
	cfg = config_for(c, &r);
	if (cfg == NULL)
		ows__lambda_not_found(c, r.name, r.qualifier);
	else
		ows_aws_reply_json(c, 200, cfg);
}

void ows__lambda_get_function(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *cfg, *meta, *out, *spec;
	const char *host = ows_aws_header(c, "Host");
	char loc[512];

	if (!ows__lambda_ref_of(c, ref, true, &r) ||
	    !ows__lambda_allow(c, "lambda:GetFunction", r.name, r.qualifier))
		return;
	cfg = config_for(c, &r);
	if (cfg == NULL) {
		ows__lambda_not_found(c, r.name, r.qualifier);
		return;
	}
	spec = ows_state_resource(c->host->state, "functions", r.name);
	meta = ows_state_resource(c->host->state, "function_meta", r.name);
	/* the bundle: the node's blob download (needs ows:functions.read) */
	snprintf(loc, sizeof(loc), "http://%s/_ows/v1/blobs/%s?function=%s",
		 host ? host : "localhost", ows_json_str(spec, "code_sha256")
						? ows_json_str(spec,
							       "code_sha256")
						: "",
		 r.name);
	out = json_pack("{s:o, s:{s:s, s:s}, s:o}", "Configuration", cfg,
			"Code", "RepositoryType", "S3", "Location", loc, "Tags",
			json_object_get(meta, "tags")
				? json_incref(json_object_get(meta, "tags"))
				: json_object());
	if (json_object_get(meta, "reserved") != NULL)
		json_object_set_new(out, "Concurrency",
				    json_pack("{s:O}",
					      "ReservedConcurrentExecutions",
					      json_object_get(meta,
							      "reserved")));
	json_decref(spec);
	json_decref(meta);
	ows_aws_reply_json(c, 200, out);
}

void ows__lambda_list_functions(struct ows_aws_call *c)
{
	const char *arns[] = {"*", NULL};
	json_t *all, *list, *row, *out, *vers;
	char all_v[8] = "", marker[32] = "", max[16] = "";
	size_t i, j, start = 0, limit = 50;

	if (c->host->authorize(c, "lambda:ListFunctions", arns, NULL) != 0) {
		ows_aws_error(c, 403, "AccessDeniedException", "User: %s is "
			      "not authorized to perform: lambda:ListFunctions "
			      "on resource: *", c->caller.name);
		return;
	}
	ows__lambda_query(c, "FunctionVersion", all_v, sizeof(all_v));
	if (ows__lambda_query(c, "Marker", marker, sizeof(marker)))
		start = strtoul(marker, NULL, 10);
	if (ows__lambda_query(c, "MaxItems", max, sizeof(max)) &&
	    atoi(max) >= 1 && atoi(max) <= 10000)
		limit = (size_t)atoi(max);
	all = ows_state_resources(c->host->state, "functions", NULL);
	vers = strcmp(all_v, "ALL") == 0
		       ? ows_state_resources(c->host->state,
					     "function_versions", NULL)
		       : json_array();
	list = json_array();
	json_array_foreach(all, i, row) {
		const char *name = ows_json_str(row, "name");
		json_t *cfg = ows__lambda_config(c, name, "$LATEST");

		if (cfg != NULL)
			json_array_append_new(list, cfg);
		json_array_foreach(vers, j, row) {
			const char *key = ows_json_str(row, "name");
			size_t n = strlen(name);

			if (strncmp(key, name, n) != 0 || key[n] != ':')
				continue;
			cfg = ows__lambda_config(c, name, key + n + 1);
			if (cfg != NULL)
				json_array_append_new(list, cfg);
		}
	}
	out = json_object();
	{
		json_t *page = json_array();

		for (i = start; i < json_array_size(list) && i < start + limit;
		     i++)
			json_array_append(page, json_array_get(list, i));
		json_object_set_new(out, "Functions", page);
		if (start + limit < json_array_size(list))
			json_object_set_new(out, "NextMarker",
					    json_sprintf("%zu", start + limit));
	}
	json_decref(list);
	json_decref(all);
	json_decref(vers);
	ows_aws_reply_json(c, 200, out);
}

void ows__lambda_update_code(struct ows_aws_call *c, const char *ref)
{
	json_t *body = ows__lambda_body(c);
	struct ows_lambda_ref r;
	struct write *w = NULL;

	if (body == NULL)
		return;
	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:UpdateFunctionCode", r.name, NULL))
		goto cleanup;
	if (r.qualifier[0] != '\0') {
		ows__lambda_invalid(c, "Unsupported qualifier: only $LATEST "
				    "can be updated");
		goto cleanup;
	}
	if ((w = write_new(c, r.name)) == NULL)
		goto cleanup;
	w->spec = ows_state_resource(c->host->state, "functions", r.name);
	w->meta = ows_state_resource(c->host->state, "function_meta", r.name);
	if (w->meta == NULL)
		w->meta = json_object();
	if (w->spec == NULL) {
		ows__lambda_not_found(c, r.name, NULL);
		goto fail;
	}
	if (!revision_ok(c, body, w->meta) ||
	    !take_zip(c, body, w))
		goto fail;
	if_revision(body, w->meta);
	w->publish = json_is_true(json_object_get(body, "Publish"));
	if (json_is_true(json_object_get(body, "DryRun"))) {
		json_t *cfg = ows__lambda_config(c, r.name, "$LATEST");

		write_free(w);
		json_decref(body);
		ows_aws_reply_json(c, 200, cfg);
		return;
	}
	store_and_propose(w);
	goto cleanup;
fail:
	write_free(w);
cleanup:
	json_decref(body);
}

void ows__lambda_update_configuration(struct ows_aws_call *c, const char *ref)
{
	json_t *body = ows__lambda_body(c);
	struct ows_lambda_ref r;
	struct write *w = NULL;

	if (body == NULL)
		return;
	if (!ows__lambda_ref_of(c, ref, false, &r) ||
	    !ows__lambda_allow(c, "lambda:UpdateFunctionConfiguration",
			       r.name, NULL))
		goto cleanup;
	if ((w = write_new(c, r.name)) == NULL)
		goto cleanup;
	w->spec = ows_state_resource(c->host->state, "functions", r.name);
	w->meta = ows_state_resource(c->host->state, "function_meta", r.name);
	if (w->meta == NULL)
		w->meta = json_object();
	if (w->spec == NULL) {
		ows__lambda_not_found(c, r.name, NULL);
		goto fail;
	}
	if (!revision_ok(c, body, w->meta) ||
	    !apply_config(c, body, w->spec, w->meta))
		goto fail;
	if_revision(body, w->meta);
	propose_write(w);
	goto cleanup;
fail:
	write_free(w);
cleanup:
	json_decref(body);
}

static void deleted(struct ows_aws_call *c, const json_t *result, void *ud)
{
	(void)result;
	(void)ud;
	ows_aws_reply(c, 204, NULL, 0, NULL, 0);
}

void ows__lambda_delete_function(struct ows_aws_call *c, const char *ref)
{
	struct ows_lambda_ref r;
	json_t *actions, *rows, *row;
	size_t i, n;
	char key[200];

	if (!ows__lambda_ref_of(c, ref, true, &r) ||
	    !ows__lambda_allow(c, "lambda:DeleteFunction", r.name,
			       r.qualifier))
		return;
	if (r.alias) {
		ows__lambda_invalid(c, "Deletion of aliases is not supported "
				    "by DeleteFunction: use DeleteAlias");
		return;
	}
	actions = json_array();
	if (r.qualifier[0] != '\0' && strcmp(r.qualifier, "$LATEST") != 0) {
		snprintf(key, sizeof(key), "%s:%s", r.name, r.qualifier);
		json_array_append_new(actions, ows__lambda_action(
			"function_versions.delete", key, NULL));
		ows__lambda_propose(c, actions, deleted, NULL);
		return;
	}
	if (r.qualifier[0] != '\0') {
		json_decref(actions);
		ows__lambda_invalid(c, "$LATEST version cannot be deleted "
				    "without deleting the function.");
		return;
	}
	n = strlen(r.name);
	rows = ows_state_resources(c->host->state, "aliases", NULL);
	json_array_foreach(rows, i, row) {
		const char *k = ows_json_str(row, "name");

		if (strncmp(k, r.name, n) == 0 && k[n] == ':')
			json_array_append_new(actions, ows__lambda_action(
				"aliases.delete", k, NULL));
	}
	json_decref(rows);
	rows = ows_state_resources(c->host->state, "function_versions", NULL);
	json_array_foreach(rows, i, row) {
		const char *k = ows_json_str(row, "name");

		if (strncmp(k, r.name, n) == 0 && k[n] == ':')
			json_array_append_new(actions, ows__lambda_action(
				"function_versions.delete", k, NULL));
	}
	json_decref(rows);
	if (ows_state_resource_exists(c->host->state, "function_meta", r.name))
		json_array_append_new(actions, ows__lambda_action(
			"function_meta.delete", r.name, NULL));
	json_array_append_new(actions, ows__lambda_action("functions.delete",
							  r.name, NULL));
	ows__lambda_propose(c, actions, deleted, NULL);
}
