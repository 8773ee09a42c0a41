/*
 * The Lambda API on the edge port (rest-json, 2015-03-31), enough for
 * `aws lambda invoke|get-function|list-functions` and boto3:
 *
 *   POST /2015-03-31/functions/NAME/invocations   Invoke
 *   GET  /2015-03-31/functions/NAME               GetFunction
 *   GET  /2015-03-31/functions/                   ListFunctions
 *
 * Invoke follows the Lambda API reference: X-Amz-Invocation-Type
 * RequestResponse (default) answers with the function's result (200, and
 * X-Amz-Function-Error when the function failed), Event answers 202 at once
 * and retries a failed invocation twice, DryRun answers 204; X-Amz-Log-Type:
 * Tail returns the last 4 KB of the log, base64, in X-Amz-Log-Result.
 * Every call is judged by the caller's policies: lambda:InvokeFunction,
 * lambda:GetFunction, lambda:ListFunctions on arn:ows:lambda::function/NAME
 * (or its arn:aws:lambda:REGION:ACCOUNT:function:NAME form), by the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/json.h"
#include "common/log.h"
#include "aws/call.h"
#include "lambda/lambda.h"
#include "ledger/changeset.h"
#include "state/state.h"

#define PREFIX "/2015-03-31/functions"
#define ASYNC_RETRIES 2

/* The rest-json error shape: X-Amzn-ErrorType and {"Type", "message"}. */
static void lambda_error(struct ows_aws_call *c, int status, const char *code,
			 const char *msg)
{
	ows_aws_error(c, status, code, "%s", msg);
}

static void arn_of(const struct ows_aws_call *c, const char *name, char *out,
		   size_t cap)
{
	snprintf(out, cap, "arn:aws:lambda:%s:%s:function:%s",
		 c->region[0] ? c->region : "us-east-1", c->host->account, name);
}

/* NAME from "NAME", "arn:...:function:NAME" or "NAME:QUALIFIER". */
static void function_name(const char *seg, char *out, size_t cap)
{
	const char *p = strstr(seg, ":function:");
	size_t n;

	if (p != NULL)
		seg = p + strlen(":function:");
	n = strcspn(seg, ":/");
	snprintf(out, cap, "%.*s", (int)n, seg);
}

static void not_found(struct ows_aws_call *c, const char *name)
{
	char msg[1200], arn[512];

	arn_of(c, name, arn, sizeof(arn));
	snprintf(msg, sizeof(msg), "Function not found: %s", arn);
	lambda_error(c, 404, "ResourceNotFoundException", msg);
}

/*
 * Judged by the host, with the live request: source address, region,
 * now; the function named in both partitions.
 */
static bool allowed(struct ows_aws_call *c, const char *action,
		    const char *name)
{
	char ows[2 * OWS_NAME_MAX], aws[600];
	const char *arns[3] = {ows, aws, NULL};

	ows_action_arn("functions", name, ows, sizeof(ows));
	arn_of(c, name, aws, sizeof(aws));
	return c->host->authorize(c, action, arns, NULL) == 0;
}

static json_int_t int_or(const json_t *spec, const char *k, json_int_t dflt)
{
	const json_t *v = json_object_get(spec, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static json_t *configuration(struct ows_aws_call *c, const char *name,
			     const json_t *spec)
{
	char arn[512];
	const char *rt = ows_json_str(spec, "runtime");
	json_t *v = json_object_get(spec, "env");

	/* Environment values go only to readers of the function itself. */
	if (!allowed(c, "ows:functions.read", name))
		v = NULL;
	arn_of(c, name, arn, sizeof(arn));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:{s:o}}",
			 "FunctionName", name, "FunctionArn", arn, "Runtime",
			 strcmp(rt, "python3") == 0 ? "python3.11" :
			 strcmp(rt, "nodejs") == 0 ? "nodejs20.x" : rt,
			 "Handler", ows_json_str(spec, "handler") ?
			 ows_json_str(spec, "handler") : "",
			 "MemorySize", int_or(spec, "memory_mb", 128),
			 "Timeout", int_or(spec, "timeout_s", 3),
			 "CodeSha256", ows_json_str(spec, "code_sha256"),
			 "Version", "$LATEST", "Environment", "Variables",
			 v ? json_incref(v) : json_object());
}

static void reply_json(struct ows_aws_call *c, int status, json_t *v)
{
	ows_aws_reply_json(c, status, v);
}

static void get_function(struct ows_aws_call *c, const char *name)
{
	json_t *spec = ows_state_resource(c->host->state, "functions", name);

	if (!allowed(c, "lambda:GetFunction", name)) {
		lambda_error(c, 403, "AccessDeniedException", "not authorized "
			     "to perform lambda:GetFunction");
	} else if (spec == NULL) {
		not_found(c, name);
	} else {
		reply_json(c, 200, json_pack("{s:o, s:{s:s}}", "Configuration",
					     configuration(c, name, spec), "Code",
					     "RepositoryType", "S3"));
	}
	json_decref(spec);
}

static void list_functions(struct ows_aws_call *c)
{
	json_t *all = ows_state_resources(c->host->state, "functions", NULL);
	json_t *list = json_array(), *r;
	size_t i;

	if (!allowed(c, "lambda:ListFunctions", "*")) {
		json_decref(all);
		json_decref(list);
		lambda_error(c, 403, "AccessDeniedException", "not authorized "
			     "to perform lambda:ListFunctions");
		return;
	}
	json_array_foreach(all, i, r)
		json_array_append_new(list, configuration(
			c, ows_json_str(r, "name"), json_object_get(r, "spec")));
	json_decref(all);
	reply_json(c, 200, json_pack("{s:o}", "Functions", list));
}

/* ---- Invoke ---- */

struct async_inv {
	const struct ows_aws_host *host;
	char name[OWS_NAME_MAX];
	char request_id[37];
	char *payload;
	size_t len;
	int tries;
};

static void async_cb(void *ud, const struct ows_fn_result *r);

static void async_run(struct async_inv *a)
{
	struct ows_aws_invoke inv = {
		.function = a->name, .version = "$LATEST",
		.request_id = a->request_id, .payload = a->payload,
		.len = a->len, .event = true,
	};

	if (a->host->invoke(a->host, &inv, async_cb, a) != 0) {
		free(a->payload);
		free(a);
	}
}

/* Event invocations: Lambda retries a failed one twice. */
static void async_cb(void *ud, const struct ows_fn_result *r)
{
	struct async_inv *a = ud;

	if (r->kind != OWS_FN_OK && ++a->tries <= ASYNC_RETRIES) {
		ows_log(OWS_LOG_INFO, "lambda", "event invocation %s of '%s' "
			"failed (%s); retry %d", a->request_id, a->name,
			r->error_type ? r->error_type : "error", a->tries);
		async_run(a);
		return;
	}
	free(a->payload);
	free(a);
}

static void invoke_cb(void *ud, const struct ows_fn_result *r)
{
	struct ows_aws_call *c = ud;
	struct ows_http_header h[6];
	char tail[OWS_B64_LEN(8192)];
	size_t nh = 0;
	bool want_tail = ows_http_req_header(c->req, "X-Amz-Log-Type") &&
			 strcasecmp(ows_http_req_header(c->req, "X-Amz-Log-Type"),
				    "Tail") == 0;

	if (r->kind == OWS_FN_THROTTLED) {
		lambda_error(c, 429, "TooManyRequestsException", "Rate Exceeded.");
		return;
	}
	if (r->kind == OWS_FN_FAILED) {
		lambda_error(c, r->status == -EMSGSIZE ? 413 : 500,
			     r->status == -EMSGSIZE ? "RequestTooLargeException"
						    : "ServiceException",
			     r->body ? r->body : "the invocation failed");
		return;
	}
	h[nh++] = (struct ows_http_header){"Content-Type", "application/json"};
	h[nh++] = (struct ows_http_header){"x-amzn-RequestId", c->request_id};
	h[nh++] = (struct ows_http_header){"X-Amz-Executed-Version", "$LATEST"};
	if (r->kind == OWS_FN_FUNCTION_ERROR)
		h[nh++] = (struct ows_http_header){"X-Amz-Function-Error",
			r->function_error ? r->function_error : "Unhandled"};
	if (want_tail) {
		size_t n = r->log_tail_len < 4096 ? r->log_tail_len : 4096;

		ows_b64_encode(r->log_tail + r->log_tail_len - n, n, tail);
		h[nh++] = (struct ows_http_header){"X-Amz-Log-Result", tail};
	}
	ows_aws_reply(c, 200, h, nh, r->body, r->len);
}

static void invoke(struct ows_aws_call *c, const char *name)
{
	const char *type = ows_http_req_header(c->req, "X-Amz-Invocation-Type");
	const char *payload = c->len > 0 ? c->body : "{}";
	size_t len = c->len > 0 ? c->len : 2;
	struct ows_err err = {{0}};
	struct ows_aws_invoke inv;
	json_t *check;
	int rv;

	if (!allowed(c, "lambda:InvokeFunction", name)) {
		char msg[1200], arn[512];

		arn_of(c, name, arn, sizeof(arn));
		snprintf(msg, sizeof(msg), "User: %s is not authorized to "
			 "perform: lambda:InvokeFunction on resource: %s",
			 c->caller.name, arn);
		lambda_error(c, 403, "AccessDeniedException", msg);
		return;
	}
	check = ows_json_parse(payload, len, &err);
	if (check == NULL) {
		lambda_error(c, 400, "InvalidRequestContentException",
			     "Could not parse request body into json");
		return;
	}
	json_decref(check);
	/*
	 * DryRun and Event answer before anything runs, so they look the
	 * function up; RequestResponse learns it from the (cached) registry.
	 */
	if (type != NULL && (!strcmp(type, "DryRun") || !strcmp(type, "Event")) &&
	    !ows_state_resource_exists(c->host->state, "functions", name)) {
		not_found(c, name);
		return;
	}
	if (type != NULL && strcmp(type, "DryRun") == 0) {
		struct ows_http_header h = {"x-amzn-RequestId", c->request_id};

		ows_aws_reply(c, 204, &h, 1, NULL, 0);
		return;
	}
	if (type != NULL && strcmp(type, "Event") == 0) {
		struct async_inv *a = calloc(1, sizeof(*a));
		struct ows_http_header h = {"x-amzn-RequestId", c->request_id};

		if (a == NULL || (a->payload = malloc(len)) == NULL) {
			free(a);
			lambda_error(c, 500, "ServiceException", "out of memory");
			return;
		}
		a->host = c->host;
		snprintf(a->name, sizeof(a->name), "%s", name);
		memcpy(a->request_id, c->request_id, sizeof(a->request_id));
		memcpy(a->payload, payload, len);
		a->len = len;
		ows_aws_reply(c, 202, &h, 1, NULL, 0);
		async_run(a);
		return;
	}
	inv = (struct ows_aws_invoke){
		.function = name, .version = "$LATEST",
		.request_id = c->request_id, .payload = payload, .len = len,
		.client_context = ows_aws_header(c, "X-Amz-Client-Context"),
	};
	rv = c->host->invoke(c->host, &inv, invoke_cb, c);
	if (rv == -ENOENT)
		not_found(c, name);
	else if (rv != 0)
		lambda_error(c, 500, "ServiceException", ows_strerror(rv));
}

/*
 * The operations on one function: /2015-03-31/functions/NAME + rest.
 * Further operations (the management API) add rows here.
 */
static const struct {
	const char *method;
	const char *rest;
	void (*fn)(struct ows_aws_call *c, const char *name);
} function_ops[] = {
	{"POST", "/invocations", invoke},
	{"GET", "", get_function},
};

static void lambda_handle(struct ows_aws_call *c)
{
	const char *p = c->req->path;
	char seg[OWS_NAME_MAX], name[OWS_NAME_MAX];
	const char *rest;
	size_t n;

	if (strncmp(p, PREFIX, strlen(PREFIX)) != 0) {
		lambda_error(c, 404, "ResourceNotFoundException", "no such "
			     "Lambda API path");
		return;
	}
	p += strlen(PREFIX);
	if ((p[0] == '\0' || strcmp(p, "/") == 0) &&
	    strcmp(c->req->method, "GET") == 0) {
		list_functions(c);
		return;
	}
	n = p[0] == '/' ? strcspn(p + 1, "/") : 0;
	snprintf(seg, sizeof(seg), "%.*s", (int)n, p + 1);
	ows_percent_decode(seg);
	function_name(seg, name, sizeof(name));
	rest = p + 1 + n;
	for (size_t i = 0; i < sizeof(function_ops) / sizeof(function_ops[0]);
	     i++) {
		if (strcmp(c->req->method, function_ops[i].method) == 0 &&
		    strcmp(rest, function_ops[i].rest) == 0) {
			function_ops[i].fn(c, name);
			return;
		}
	}
	lambda_error(c, 404, "ResourceNotFoundException", "no such Lambda API "
		     "operation");
}

const struct ows_aws_service ows_lambda_service = {
	.name = "lambda",
	.target_prefix = NULL,
	.path_prefix = "/2015-03-31/",
	.protocol = OWS_AWS_REST_JSON,
	.body_mode = OWS_AWS_BODY_WHOLE,
	.body_limit = 6 * 1024 * 1024, /* Lambda's synchronous payload */
	.handle = lambda_handle,
	.close = NULL,
	.kinds = NULL, /* the LAMBDAAPI part adds its kinds */
};
