/*
 * Method and path to a management operation of the Lambda API (the
 * REST paths of botocore's lambda/2015-03-31/service-2.json). Invoke
 * (.../invocations) and InvokeAsync are left to lambda.c. A path that
 * names an operation OWS does not offer (layers, code signing, function
 * URLs, provisioned concurrency, event source mappings, ...) or no
 * operation at all is answered 404 UnknownOperationException, never
 * ResourceNotFoundException: a "get, else create" script must not take it
 * for a missing function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "lambda/lambda_priv.h"

#define MAX_SEGS 8

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static void unknown(struct ows_aws_call *c)
{
	ows_aws_error(c, 404, "UnknownOperationException",
		      "Unknown operation: %s %s (docs/lambda.md lists the "
		      "operations OWS offers)", c->req->method, c->req->path);
}

/* /DATE/functions/F/...: the operations keyed by the date and the tail. */
static bool function_op(struct ows_aws_call *c, const char *date,
			char **seg, size_t n)
{
	const char *m = c->req->method, *f = seg[2];

	if (is(date, "2015-03-31")) {
		if (n == 3 && is(m, "GET"))
			ows__lambda_get_function(c, f);
		else if (n == 3 && is(m, "DELETE"))
			ows__lambda_delete_function(c, f);
		else if (n == 4 && is(seg[3], "invocations"))
			return false;
		else if (n == 4 && is(seg[3], "code") && is(m, "PUT"))
			ows__lambda_update_code(c, f);
		else if (n == 4 && is(seg[3], "configuration") && is(m, "GET"))
			ows__lambda_get_configuration(c, f);
		else if (n == 4 && is(seg[3], "configuration") && is(m, "PUT"))
			ows__lambda_update_configuration(c, f);
		else if (n == 4 && is(seg[3], "versions") && is(m, "POST"))
			ows__lambda_publish_version(c, f);
		else if (n == 4 && is(seg[3], "versions") && is(m, "GET"))
			ows__lambda_list_versions(c, f);
		else if (n == 4 && is(seg[3], "aliases") && is(m, "POST"))
			ows__lambda_create_alias(c, f);
		else if (n == 4 && is(seg[3], "aliases") && is(m, "GET"))
			ows__lambda_list_aliases(c, f);
		else if (n == 5 && is(seg[3], "aliases") && is(m, "GET"))
			ows__lambda_get_alias(c, f, seg[4]);
		else if (n == 5 && is(seg[3], "aliases") && is(m, "PUT"))
			ows__lambda_update_alias(c, f, seg[4]);
		else if (n == 5 && is(seg[3], "aliases") && is(m, "DELETE"))
			ows__lambda_delete_alias(c, f, seg[4]);
		else if (n == 4 && is(seg[3], "policy") && is(m, "POST"))
			ows__lambda_add_permission(c, f);
		else if (n == 4 && is(seg[3], "policy") && is(m, "GET"))
			ows__lambda_get_policy(c, f);
		else if (n == 5 && is(seg[3], "policy") && is(m, "DELETE"))
			ows__lambda_remove_permission(c, f, seg[4]);
		else
			unknown(c);
		return true;
	}
	if (is(date, "2017-10-31") && n == 4 && is(seg[3], "concurrency") &&
	    is(m, "PUT"))
		ows__lambda_put_concurrency(c, f);
	else if (is(date, "2017-10-31") && n == 4 &&
		 is(seg[3], "concurrency") && is(m, "DELETE"))
		ows__lambda_delete_concurrency(c, f);
	else if (is(date, "2019-09-30") && n == 4 &&
		 is(seg[3], "concurrency") && is(m, "GET"))
		ows__lambda_get_concurrency(c, f);
	else if (is(date, "2019-09-25") && n == 4 &&
		 is(seg[3], "event-invoke-config") && is(m, "PUT"))
		ows__lambda_put_event_config(c, f, false);
	else if (is(date, "2019-09-25") && n == 4 &&
		 is(seg[3], "event-invoke-config") && is(m, "POST"))
		ows__lambda_put_event_config(c, f, true);
	else if (is(date, "2019-09-25") && n == 4 &&
		 is(seg[3], "event-invoke-config") && is(m, "GET"))
		ows__lambda_get_event_config(c, f);
	else if (is(date, "2019-09-25") && n == 4 &&
		 is(seg[3], "event-invoke-config") && is(m, "DELETE"))
		ows__lambda_delete_event_config(c, f);
	else if (is(date, "2019-09-25") && n == 5 &&
		 is(seg[3], "event-invoke-config") && is(seg[4], "list") &&
		 is(m, "GET"))
		ows__lambda_list_event_configs(c, f);
	else if (is(date, "2020-06-30") && n == 4 &&
		 is(seg[3], "code-signing-config") && is(m, "GET"))
		ows__lambda_get_code_signing(c, f);
	else if (is(date, "2014-11-13") && n == 4 &&
		 is(seg[3], "invoke-async"))
		return false;
	else
		unknown(c);
	return true;
}

bool ows__lambda_route(struct ows_aws_call *c)
{
	const char *m = c->req->method, *path = c->req->path;
	char *seg[MAX_SEGS];
	size_t n = 0, len;
	const char *p;

	/* split into percent-decoded segments (an ARN may be encoded) */
	for (p = path; *p == '/';) {
		p++;
		len = strcspn(p, "/");
		if (len == 0 && p[0] == '\0')
			break; /* a trailing slash */
		if (n == MAX_SEGS) {
			unknown(c);
			return true;
		}
		seg[n] = ows_arena_strndup(c->arena, p, len);
		if (seg[n] == NULL) {
			ows_aws_error(c, 500, "ServiceException",
				      "out of memory");
			return true;
		}
		ows_percent_decode(seg[n]);
		n++;
		p += len;
	}
	if (n == 0) {
		unknown(c);
		return true;
	}
	if (n == 2 && is(seg[0], "2015-03-31") && is(seg[1], "functions")) {
		if (is(m, "POST"))
			ows__lambda_create_function(c);
		else if (is(m, "GET"))
			ows__lambda_list_functions(c);
		else
			unknown(c);
		return true;
	}
	if (n >= 3 && is(seg[1], "functions"))
		return function_op(c, seg[0], seg, n);
	if (n == 2 && is(seg[0], "2016-08-19") &&
	    is(seg[1], "account-settings") && is(m, "GET")) {
		ows__lambda_account_settings(c);
		return true;
	}
	if (n >= 3 && is(seg[0], "2017-03-31") && is(seg[1], "tags")) {
		/* the ARN is one segment when encoded, several when not */
		char *arn = seg[2];

		for (size_t i = 3; i < n; i++)
			arn = ows_arena_printf(c->arena, "%s/%s", arn, seg[i]);
		if (is(m, "GET"))
			ows__lambda_list_tags(c, arn);
		else if (is(m, "POST"))
			ows__lambda_tag_resource(c, arn);
		else if (is(m, "DELETE"))
			ows__lambda_untag_resource(c, arn);
		else
			unknown(c);
		return true;
	}
	unknown(c);
	return true;
}
