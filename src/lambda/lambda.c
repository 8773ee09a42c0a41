/*
 * The Lambda API on the edge port (rest-json, 2015-03-31): the service's
 * table, and Invoke; the management operations (docs/lambda.md) are routed
 * first, by ows__lambda_route (lambda_priv.h):
 *
 *   POST /2015-03-31/functions/NAME[:QUALIFIER]/invocations[?Qualifier=]
 *
 * The version run is resolved here (a version, an alias with its weights,
 * an ARN; another account's is ResourceNotFoundException) and sent back in
 * X-Amz-Executed-Version; an http function is 400 InvalidRuntimeException.
 *
 * Invoke follows the Lambda API reference: X-Amz-Invocation-Type
 * RequestResponse (default) answers with the function's result (200, and
 * X-Amz-Function-Error when the function failed), Event answers 202 at once
 * and retries a failed invocation as the qualifier's event-invoke config
 * says (twice without one), DryRun answers 204; X-Amz-Log-Type:
 * Tail returns the last 4 KB of the log, base64, in X-Amz-Log-Result.
 * Every call is judged by the caller's policies (lambda:InvokeFunction on
 * arn:ows:lambda::function/NAME or its arn:aws:lambda:REGION:ACCOUNT:
 * function:NAME form), by the host.
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
#include "lambda/lambda_priv.h"
#include "ledger/changeset.h"
#include "state/state.h"

#define PREFIX "/2015-03-31/functions"
#define ASYNC_RETRIES 2         /* Lambda's default MaximumRetryAttempts */
#define ASYNC_MAX_AGE_S 21600   /* and MaximumEventAgeInSeconds */

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
 * now; the function named in both partitions, and name:qualifier too when
 * the reference names one ("" for none: a Deny of one version or alias
 * holds, and an Allow of an alias alone lets it be invoked, as on
 * Lambda); the function's resource policy (AddPermission's) judged with
 * the caller's identity policies.
 */
static bool allowed(struct ows_aws_call *c, const char *action,
		    const char *name, const char *qualifier)
{
	char ows[2 * OWS_NAME_MAX], aws[600], ows_q[700], aws_q[800];
	const char *arns[5] = {ows, aws, NULL, NULL, NULL};

	json_t *rp = ows__lambda_resource_policy(c->host->state, name);
	int rv;

	ows_action_arn("functions", name, ows, sizeof(ows));
	arn_of(c, name, aws, sizeof(aws));
	if (qualifier[0] != '\0') {
		snprintf(ows_q, sizeof(ows_q), "%s:%s", ows, qualifier);
		snprintf(aws_q, sizeof(aws_q), "%s:%s", aws, qualifier);
		arns[2] = ows_q;
		arns[3] = aws_q;
	}
	rv = c->host->authorize_resource(c, action, arns, NULL, rp);
	json_decref(rp);
	return rv == 0;
}

/* ---- Invoke ---- */

struct async_inv {
	const struct ows_aws_host *host;
	char name[OWS_NAME_MAX];
	char version[24];
	char request_id[37];
	char *payload;
	size_t len;
	int tries;
	int retries;      /* MaximumRetryAttempts: 0 to 2 (default 2) */
	uint64_t expires; /* loop time (ms) past MaximumEventAgeInSeconds */
};

static void async_cb(void *ud, const struct ows_fn_result *r);

static void async_run(struct async_inv *a)
{
	struct ows_aws_invoke inv = {
		.function = a->name, .version = a->version,
		.request_id = a->request_id, .payload = a->payload,
		.len = a->len, .event = true,
	};

	if (a->host->invoke(a->host, &inv, async_cb, a) != 0) {
		free(a->payload);
		free(a);
	}
}

/*
 * Event invocations: Lambda retries a failed one MaximumRetryAttempts
 * times (the event-invoke config of the qualifier invoked; 2 without
 * one) while the event is younger than MaximumEventAgeInSeconds.
 */
static void async_cb(void *ud, const struct ows_fn_result *r)
{
	struct async_inv *a = ud;

	if (r->kind != OWS_FN_OK && a->tries < a->retries &&
	    uv_now(a->host->loop) < a->expires) {
		ows_log(OWS_LOG_INFO, "lambda", "event invocation %s of '%s' "
			"failed (%s); retry %d", a->request_id, a->name,
			r->error_type ? r->error_type : "error", ++a->tries);
		async_run(a);
		return;
	}
	if (r->kind != OWS_FN_OK)
		ows_log(OWS_LOG_INFO, "lambda", "event invocation %s of '%s' "
			"failed (%s); dropped after %d attempts", a->request_id,
			a->name, r->error_type ? r->error_type : "error",
			a->tries + 1);
	free(a->payload);
	free(a);
}

/* The event-invoke config of ref as invoked (qualifier, else $LATEST). */
static void async_config(struct ows_aws_call *c, const char *ref,
			 const char *qual, const char *name,
			 struct async_inv *a)
{
	struct ows_lambda_ref r;
	char msg[300];
	json_t *meta = ows_state_resource(c->host->state, "function_meta",
					  name);
	const json_t *cfg, *v;

	a->retries = ASYNC_RETRIES;
	a->expires = uv_now(c->host->loop) + ASYNC_MAX_AGE_S * 1000;
	if (ows__lambda_parse_ref(c, ref, qual, &r, msg, sizeof(msg)) != 0)
		r.qualifier[0] = '\0';
	cfg = json_object_get(json_object_get(meta, "event_invoke"),
			      r.qualifier[0] ? r.qualifier : "$LATEST");
	if (json_is_integer(v = json_object_get(cfg, "MaximumRetryAttempts")))
		a->retries = (int)json_integer_value(v);
	if (json_is_integer(v = json_object_get(cfg,
						"MaximumEventAgeInSeconds")))
		a->expires = uv_now(c->host->loop) +
			     (uint64_t)json_integer_value(v) * 1000;
	json_decref(meta);
}

/* A synchronous invocation's own (c->data, in the call's arena). */
struct invoke_data {
	const char *version; /* run: X-Amz-Executed-Version */
	bool reserved;       /* the function has a reserved concurrency */
};

static void invoke_cb(void *ud, const struct ows_fn_result *r)
{
	struct ows_aws_call *c = ud;
	const struct invoke_data *d = c->data;
	struct ows_http_header h[6];
	char tail[OWS_B64_LEN(8192)];
	size_t nh = 0;
	bool want_tail = ows_http_req_header(c->req, "X-Amz-Log-Type") &&
			 strcasecmp(ows_http_req_header(c->req, "X-Amz-Log-Type"),
				    "Tail") == 0;

	if (r->kind == OWS_FN_THROTTLED) {
		json_t *ex = json_pack("{s:s}", "Reason",
				       d->reserved
					       ? "ReservedFunctionConcurrent"
						 "InvocationLimitExceeded"
					       : "ConcurrentInvocationLimit"
						 "Exceeded");

		ows_aws_error_with(c, 429, "TooManyRequestsException", ex,
				   "Rate Exceeded.");
		json_decref(ex);
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
	h[nh++] = (struct ows_http_header){"X-Amz-Executed-Version",
		d->version};
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

/*
 * ref as the path gives it (NAME, NAME:QUALIFIER, an ARN) with
 * ?Qualifier=: the version to run is resolved here, an alias's weights
 * applied (lambda_priv.h, ows__lambda_invoke_target).
 */
static void invoke_run(struct ows_aws_call *c, const char *ref)
{
	char name[OWS_NAME_MAX], qual[160] = "", version[24], code_msg[300];
	const char *code;
	json_t *spec;
	const char *type = ows_http_req_header(c->req, "X-Amz-Invocation-Type");
	const char *payload = c->len > 0 ? c->body : "{}";
	size_t len = c->len > 0 ? c->len : 2;
	struct ows_err err = {{0}};
	struct ows_aws_invoke inv;
	json_t *check;
	int rv;

	ows_query_get(c->req->query, "Qualifier", qual, sizeof(qual));
	rv = ows__lambda_invoke_target(c, ref, qual, name, sizeof(name),
				       version, sizeof(version));
	if (rv == OWS_EINVAL) {
		lambda_error(c, 400, "InvalidParameterValueException",
			     "The derived qualifier from the function name "
			     "does not match the specified qualifier.");
		return;
	}
	if (rv != 0) {
		char q[sizeof(name) + sizeof(qual) + 2];

		function_name(ref, name, sizeof(name));
		snprintf(q, sizeof(q), "%s%s%s", name, qual[0] ? ":" : "",
			 qual);
		not_found(c, q);
		return;
	}
	{
		struct invoke_data *d = ows_arena_alloc(c->arena, sizeof(*d));
		json_t *meta = ows_state_resource(c->host->state,
						  "function_meta", name);

		if (d == NULL || (d->version = ows_arena_strdup(
					  c->arena, version)) == NULL) {
			json_decref(meta);
			lambda_error(c, 500, "ServiceException",
				     "out of memory");
			return;
		}
		d->reserved = json_object_get(meta, "reserved") != NULL;
		json_decref(meta);
		c->data = d;
	}
	{
		struct ows_lambda_ref r;

		/* the qualifier as named (resolved above, so it parses) */
		if (ows__lambda_parse_ref(c, ref, qual, &r, code_msg,
					  sizeof(code_msg)) != 0)
			r.qualifier[0] = '\0';
		snprintf(qual, sizeof(qual), "%s", r.qualifier);
	}
	if (!allowed(c, "lambda:InvokeFunction", name, qual)) {
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
	spec = strcmp(version, "$LATEST") == 0
		       ? ows_state_resource(c->host->state, "functions", name)
		       : NULL;
	if (spec != NULL &&
	    !ows__lambda_invokable(spec, &code, code_msg, sizeof(code_msg))) {
		json_decref(spec);
		lambda_error(c, 400, code, code_msg);
		return;
	}
	json_decref(spec);
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
		snprintf(a->version, sizeof(a->version), "%s", version);
		memcpy(a->request_id, c->request_id, sizeof(a->request_id));
		memcpy(a->payload, payload, len);
		a->len = len;
		async_config(c, ref, qual, name, a);
		ows_aws_reply(c, 202, &h, 1, NULL, 0);
		async_run(a);
		return;
	}
	inv = (struct ows_aws_invoke){
		.function = name, .version = version,
		.request_id = c->request_id, .payload = payload, .len = len,
		.client_context = ows_aws_header(c, "X-Amz-Client-Context"),
	};
	rv = c->host->invoke(c->host, &inv, invoke_cb, c);
	if (rv == -ENOENT)
		not_found(c, name);
	else if (rv != 0)
		lambda_error(c, 500, "ServiceException", ows_strerror(rv));
}

struct invoke_wait {
	struct ows_aws_call *c;
	char *ref;
};

static void invoke_caught_up(void *ud, int status)
{
	struct invoke_wait *w = ud;

	(void)status; /* no leader: the answer from this node's state */
	invoke_run(w->c, w->ref);
}

/*
 * Invoke reads this node's state, without the management API's round
 * trip to the leader; but a function this node does not know may have
 * been created through another one a moment ago: it catches up first.
 */
static void invoke(struct ows_aws_call *c, const char *ref)
{
	struct invoke_wait *w;
	char name[OWS_NAME_MAX];

	function_name(ref, name, sizeof(name));
	if (ows_state_resource_exists(c->host->state, "functions", name)) {
		invoke_run(c, ref);
		return;
	}
	w = ows_arena_alloc(c->arena, sizeof(*w));
	if (w == NULL || (w->ref = ows_arena_strdup(c->arena, ref)) == NULL) {
		lambda_error(c, 500, "ServiceException", "out of memory");
		return;
	}
	w->c = c;
	if (c->host->read_barrier(c, invoke_caught_up, w) != 0)
		invoke_run(c, ref);
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
};

static void lambda_route(struct ows_aws_call *c)
{
	const char *p = c->req->path;
	char seg[OWS_NAME_MAX], name[OWS_NAME_MAX];
	const char *rest;
	size_t n;

	/* the management API (docs/lambda.md); it leaves Invoke here */
	if (ows__lambda_route(c))
		return;
	if (strncmp(p, PREFIX, strlen(PREFIX)) != 0) {
		lambda_error(c, 404, "UnknownOperationException", "Unknown "
			     "operation");
		return;
	}
	p += strlen(PREFIX);
	n = p[0] == '/' ? strcspn(p + 1, "/") : 0;
	snprintf(seg, sizeof(seg), "%.*s", (int)n, p + 1);
	ows_percent_decode(seg);
	function_name(seg, name, sizeof(name));
	rest = p + 1 + n;
	for (size_t i = 0; i < sizeof(function_ops) / sizeof(function_ops[0]);
	     i++) {
		if (strcmp(c->req->method, function_ops[i].method) == 0 &&
		    strcmp(rest, function_ops[i].rest) == 0) {
			function_ops[i].fn(c, function_ops[i].fn == invoke
						      ? seg : name);
			return;
		}
	}
	lambda_error(c, 404, "UnknownOperationException", "Unknown operation");
}

static bool ends_with(const char *s, const char *end);

static void caught_up(void *ud, int status)
{
	struct ows_aws_call *c = ud;

	if (status != 0) {
		ows_aws_error(c, 503, "ServiceException", "no leader "
			      "confirmed the state the request needs (%s); "
			      "retry", ows_strerror(status));
		return;
	}
	lambda_route(c);
}

/*
 * The management API reads this node's state at least as new as every
 * change acknowledged anywhere before the request came (Raft's ReadIndex,
 * the host's read_barrier): a function created through one node is there
 * for the next call through any other, as on Lambda. Invoke stays local,
 * from the registry, without the leader's round trip.
 */
static void lambda_handle(struct ows_aws_call *c)
{
	int rv;

	if (strcmp(c->req->method, "POST") == 0 &&
	    ends_with(c->req->path, "/invocations")) {
		lambda_route(c);
		return;
	}
	rv = c->host->read_barrier(c, caught_up, c);
	if (rv != 0)
		caught_up(c, rv);
}

/*
 * Lambda's request limits: CreateFunction and UpdateFunctionCode take a
 * 50 MB zip, base64 in the JSON body (69905067 bytes, as Lambda's own
 * front end says); Invoke's payload is 6 MiB (RequestTooLargeException);
 * every other operation 6 MiB too.
 */
#define CODE_BODY_LIMIT 69905067

static bool ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), k = strlen(end);

	return n >= k && strcmp(s + n - k, end) == 0;
}

static void lambda_body_limit(const struct ows_http_req *req,
			      struct ows_aws_body_limit *out)
{
	const char *p = req->path;

	out->code = "RequestEntityTooLargeException";
	if (strcmp(req->method, "POST") == 0 &&
	    (strcmp(p, PREFIX) == 0 || strcmp(p, PREFIX "/") == 0)) {
		out->limit = CODE_BODY_LIMIT;
		out->operation = "CreateFunction";
	} else if (strcmp(req->method, "PUT") == 0 &&
		   strncmp(p, PREFIX "/", strlen(PREFIX "/")) == 0 &&
		   ends_with(p, "/code")) {
		out->limit = CODE_BODY_LIMIT;
		out->operation = "UpdateFunctionCode";
	} else if (strcmp(req->method, "POST") == 0 &&
		   ends_with(p, "/invocations")) {
		out->code = "RequestTooLargeException";
		out->operation = "InvokeFunction";
	}
}

const struct ows_aws_service ows_lambda_service = {
	.name = "lambda",
	.target_prefix = NULL,
	.path_prefix = "/2015-03-31/",
	.protocol = OWS_AWS_REST_JSON,
	.body_mode = OWS_AWS_BODY_WHOLE,
	.body_limit = 6 * 1024 * 1024, /* Lambda's synchronous payload */
	.body_limit_for = lambda_body_limit,
	.handle = lambda_handle,
	.close = NULL,
	.kinds = ows_lambda_kinds,
};
