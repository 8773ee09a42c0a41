/*
 * What the Lambda API's operations share: ARNs, authorization, Lambda's
 * errors, the request's body and query, times and hashes as Lambda
 * writes them, the FunctionConfiguration shape, and proposing a change
 * (then catching up before answering, so that a read right after a write
 * on the same node sees it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/enc.h"
#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

void ows__lambda_arn(const struct ows_aws_call *c, const char *name,
		     const char *qualifier, char *out, size_t cap)
{
	snprintf(out, cap, "arn:aws:lambda:%s:%s:function:%s%s%s",
		 c->region[0] ? c->region : c->host->region, c->host->account,
		 name, qualifier && qualifier[0] ? ":" : "",
		 qualifier ? qualifier : "");
}

bool ows__lambda_allow(struct ows_aws_call *c, const char *action,
		       const char *name, const char *qualifier)
{
	char aws[512], ows[512], aws_q[512], ows_q[512];
	const char *arns[5] = {aws, ows, NULL, NULL, NULL};
	json_t *rp;
	int rv;

	ows__lambda_arn(c, name, NULL, aws, sizeof(aws));
	snprintf(ows, sizeof(ows), "arn:ows:lambda::function/%s", name);
	if (qualifier != NULL && qualifier[0] != '\0') {
		ows__lambda_arn(c, name, qualifier, aws_q, sizeof(aws_q));
		snprintf(ows_q, sizeof(ows_q), "arn:ows:lambda::function/%s:%s",
			 name, qualifier);
		arns[2] = aws_q;
		arns[3] = ows_q;
	}
	rp = ows__lambda_resource_policy(c->host->state, name);
	rv = c->host->authorize_resource(c, action, arns, NULL, rp);
	json_decref(rp);
	if (rv == 0)
		return true;
	ows_aws_error(c, 403, "AccessDeniedException", "User: %s is not "
		      "authorized to perform: %s on resource: %s",
		      c->caller.name, action, arns[2] ? arns[2] : aws);
	return false;
}

void ows__lambda_not_found(struct ows_aws_call *c, const char *name,
			   const char *qualifier)
{
	char arn[512];

	ows__lambda_arn(c, name, qualifier, arn, sizeof(arn));
	ows_aws_error(c, 404, "ResourceNotFoundException",
		      "Function not found: %s", arn);
}

void ows__lambda_invalid(struct ows_aws_call *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ows_aws_error(c, 400, "InvalidParameterValueException", "%s", msg);
}

json_t *ows__lambda_body(struct ows_aws_call *c)
{
	struct ows_err err;
	json_t *v;

	if (c->len == 0)
		return json_object();
	v = ows_json_parse(c->body, c->len, &err);
	if (v == NULL || !json_is_object(v)) {
		json_decref(v);
		ows_aws_error(c, 400, "InvalidRequestContentException",
			      "Could not parse request body into json");
		return NULL;
	}
	return v;
}

bool ows__lambda_query(const struct ows_aws_call *c, const char *key,
		       char *out, size_t cap)
{
	return ows_query_get(c->req->query, key, out, cap);
}

void ows__lambda_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void ows__lambda_sha_b64(const char *hex, char *out, size_t cap)
{
	uint8_t raw[32];

	if (cap < 45 || hex == NULL ||
	    ows_hex_decode(hex, raw, sizeof(raw)) != 0) {
		snprintf(out, cap, "%s", "");
		return;
	}
	ows_b64_encode(raw, sizeof(raw), out);
}

json_t *ows__lambda_action(const char *action, const char *name, json_t *spec)
{
	json_t *a = json_pack("{s:s, s:s}", "action", action, "name", name);

	if (spec != NULL)
		json_object_set_new(a, "spec", spec);
	return a;
}

/* What Lambda says for a function made by `ows apply` (no meta). */
static const char *meta_str(const json_t *meta, const char *key,
			    const char *dflt)
{
	const char *v = ows_json_str(meta, key);

	return v != NULL ? v : dflt;
}

static bool may_read(struct ows_aws_call *c, const char *name)
{
	char aws[512], ows[512];
	const char *arns[] = {ows, aws, NULL};

	snprintf(ows, sizeof(ows), "arn:ows:lambda::function/%s", name);
	ows__lambda_arn(c, name, NULL, aws, sizeof(aws));
	return c->host->authorize(c, "ows:functions.read", arns, NULL) == 0;
}

json_t *ows__lambda_config(struct ows_aws_call *c, const char *name,
			   const char *version)
{
	json_t *spec, *meta, *out, *env;
	char arn[512], lm[40], sha[64], rev[65], key[160];
	const char *runtime;
	json_int_t memory, timeout;

	if (strcmp(version, "$LATEST") == 0) {
		spec = ows_state_resource(c->host->state, "functions", name);
		meta = ows_state_resource(c->host->state, "function_meta",
					  name);
	} else {
		snprintf(key, sizeof(key), "%s:%s", name, version);
		spec = ows_state_resource(c->host->state, "function_versions",
					  key);
		meta = ows_state_resource(c->host->state,
					  "function_version_meta", key);
	}
	if (spec == NULL) {
		json_decref(meta);
		return NULL;
	}
	ows__lambda_arn(c, name, strcmp(version, "$LATEST") ? version : NULL,
			arn, sizeof(arn));
	ows__lambda_time(json_integer_value(json_object_get(meta,
							    "last_modified")),
			 lm, sizeof(lm));
	ows__lambda_sha_b64(ows_json_str(spec, "code_sha256"), sha,
			    sizeof(sha));
	if (ows_json_str(meta, "revision_id") != NULL) {
		snprintf(rev, sizeof(rev), "%s",
			 ows_json_str(meta, "revision_id"));
	} else {
		char *text = ows_json_dump(spec), hex[65];

		ows_sha256_hex(text ? text : "", text ? strlen(text) : 0, hex);
		free(text);
		snprintf(rev, sizeof(rev), "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
			 hex + 8, hex + 12, hex + 16, hex + 20);
	}
	runtime = meta_str(meta, "runtime", ows_json_str(spec, "runtime"));
	memory = json_object_get(spec, "memory_mb")
			 ? json_integer_value(json_object_get(spec, "memory_mb"))
			 : 128;
	timeout = json_object_get(spec, "timeout_s")
			  ? json_integer_value(json_object_get(spec,
							       "timeout_s"))
			  : 3;
	out = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:s,"
			" s:s, s:s, s:s, s:s, s:s, s:[s], s:{s:i},"
			" s:{s:s}, s:{s:s, s:s}}",
			"FunctionName", name, "FunctionArn", arn,
			"Runtime", runtime ? runtime : "",
			"CodeSize",
			json_integer_value(json_object_get(meta, "code_size")),
			"Description", meta_str(meta, "description", ""),
			"Timeout", timeout, "MemorySize", memory,
			"LastModified", lm, "CodeSha256", sha,
			"Version", version, "RevisionId", rev,
			"State", "Active", "LastUpdateStatus", "Successful",
			"PackageType", "Zip",
			"Role", meta_str(meta, "role", ""),
			"Architectures", "x86_64",
			"EphemeralStorage", "Size", 512,
			"TracingConfig", "Mode", "PassThrough",
			"LoggingConfig", "LogFormat", "Text", "LogGroup",
			"/aws/lambda/");
	if (out == NULL)
		goto cleanup;
	json_object_set_new(json_object_get(out, "LoggingConfig"), "LogGroup",
			    json_sprintf("/aws/lambda/%s", name));
	if (ows_json_str(spec, "handler") != NULL)
		json_object_set_new(out, "Handler",
				    json_string(ows_json_str(spec, "handler")));
	env = json_object_get(spec, "env");
	/* environment values go only to readers of the function itself
	 * (docs/security.md), as the admin API gives them */
	if (env != NULL && json_object_size(env) > 0 && may_read(c, name))
		json_object_set_new(out, "Environment",
				    json_pack("{s:O}", "Variables", env));
	if (ows_json_str(meta, "error") != NULL) {
		/* never set today: the node readies code as it applies */
		json_object_set_new(out, "StateReason",
				    json_string(ows_json_str(meta, "error")));
	}
cleanup:
	json_decref(spec);
	json_decref(meta);
	return out;
}

/* ---- proposing ---- */

struct proposal {
	struct ows_aws_call *c;
	ows_lambda_done_fn done;
	void *ud;
	json_t *result;
};

static void caught_up(void *ud, int status)
{
	struct proposal *p = ud;
	json_t *result = p->result; /* p goes with the call's arena */

	(void)status; /* the local state is at least as new as the entry's */
	p->done(p->c, result, p->ud);
	json_decref(result);
}

/* A refusal from the state machine, in Lambda's words. */
static void refused(struct ows_aws_call *c, const json_t *r)
{
	json_int_t status = json_integer_value(json_object_get(r, "status"));
	const char *msg = ows_json_str(r, "message");
	const char *code = "ServiceException";

	if (msg == NULL)
		msg = "the change was refused";
	switch (status) {
	case 400:
		code = "InvalidParameterValueException";
		break;
	case 403:
		code = "AccessDeniedException";
		break;
	case 404:
		code = "ResourceNotFoundException";
		break;
	case 409:
		code = "ResourceConflictException";
		if (strstr(msg, "The Revision Id provided") != NULL) {
			status = 412; /* kinds.c's if_revision */
			code = "PreconditionFailedException";
		}
		break;
	case 429:
		code = "TooManyRequestsException";
		break;
	default:
		status = 500;
		break;
	}
	ows_aws_error(c, (int)status, code, "%s", msg);
}

static void proposed(void *ud, int status, const json_t *result)
{
	struct proposal *p = ud;
	json_t *ok = json_object_get(result, "ok");

	if (status < 0) {
		ows_aws_error(p->c, status == OWS_ENOTLEADER ? 503 : 500,
			      "ServiceException", "the change could not be "
			      "committed: %s", ows_strerror(status));
		return;
	}
	if (!json_is_true(ok)) {
		refused(p->c, result);
		return;
	}
	p->result = json_deep_copy(result);
	if (p->c->host->read_barrier(p->c, caught_up, p) != 0)
		caught_up(p, 0);
}

void ows__lambda_propose(struct ows_aws_call *c, json_t *actions,
			 ows_lambda_done_fn done, void *ud)
{
	struct proposal *p = ows_arena_alloc(c->arena, sizeof(*p));
	int rv;

	if (p == NULL) {
		json_decref(actions);
		ows_aws_error(c, 500, "ServiceException", "out of memory");
		return;
	}
	*p = (struct proposal){c, done, ud, NULL};
	rv = c->host->propose(c, actions, "", proposed, p);
	json_decref(actions);
	if (rv != 0)
		ows_aws_error(c, rv == OWS_ENOTLEADER ? 503 : 500,
			      "ServiceException", "the change could not be "
			      "proposed: %s", ows_strerror(rv));
}

bool ows__lambda_ref_of(struct ows_aws_call *c, const char *ref,
			bool qualified, struct ows_lambda_ref *r)
{
	char qual[OWS_LAMBDA_QUAL_MAX] = "", msg[300];
	int rv;

	if (qualified)
		ows__lambda_query(c, "Qualifier", qual, sizeof(qual));
	rv = ows__lambda_parse_ref(c, ref, qual, r, msg, sizeof(msg));
	if (rv == OWS_EINVAL) {
		ows__lambda_invalid(c, "%s", msg);
		return false;
	}
	if (rv != 0 || ows__lambda_resolve(c->host->state, r) != 0) {
		ows__lambda_not_found(c, r->name[0] ? r->name : ref,
				      r->qualifier);
		return false;
	}
	return true;
}
