/*
 * The Lambda management API (src/lambda/) against the fake host: a
 * function's whole life over HTTP (create from a zip, update code and
 * configuration, publish versions, aliases with weights, qualifiers,
 * delete), and the errors Lambda gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/unit.h"
#include "common/buf.h"
#include "common/enc.h"
#include "common/json.h"
#include "fake_host.h"
#include "fn/bundle.h"
#include "lambda/lambda.h"
#include "lambda/lambda_priv.h"

#define CHECK OWS_CHECK
#define CHECK_INT OWS_CHECK_INT
#define CHECK_STR OWS_CHECK_STR

static void handle(struct ows_aws_call *c)
{
	if (!ows__lambda_route(c))
		ows_aws_error(c, 404, "NotHere", "left to lambda.c");
}

/* A zip holding app.py with text, base64 (malloc'd); its SHA-256 hex. */
/*
 * The zip of one file app.py, base64; sha gets its SHA-256 in hex and,
 * when b64sha is not NULL, in base64 (as Lambda shows CodeSha256),
 * computed here, not by the code under test.
 */
static char *zip_b64(const char *text, char sha[65], char b64sha[64])
{
	uint8_t raw[32];
	char dir[] = "/tmp/ows-lambda-zip-XXXXXX", path[300], cmd[320];
	struct ows_buf zip;
	struct ows_err err;
	FILE *f;
	char *out;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/app.py", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
	ows_buf_init(&zip);
	CHECK(ows_bundle_zip_dir(dir, &zip, &err) == 0);
	ows_sha256_hex(zip.data, zip.len, sha);
	ows_sha256(zip.data, zip.len, raw);
	if (b64sha != NULL)
		ows_b64_encode(raw, sizeof(raw), b64sha);
	out = malloc(zip.len * 4 / 3 + 8);
	CHECK(out != NULL);
	ows_b64_encode(zip.data, zip.len, out);
	ows_buf_free(&zip);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	return out;
}

static void req(struct fake_host *fh, const char *method, const char *target,
		const char *body, struct fake_reply *r)
{
	fake_reply_free(r);
	fake_host_request(fh, method, target, body, r);
}

static const char *str(const struct fake_reply *r, const char *key)
{
	return ows_json_str(r->body, key);
}

static char *create_body(const char *name, const char *runtime,
			 const char *zip, const char *extra)
{
	char *b = NULL;

	CHECK(asprintf(&b, "{\"FunctionName\": \"%s\", \"Runtime\": \"%s\", "
		       "\"Role\": \"arn:aws:iam::000000000000:role/runner\", "
		       "\"Handler\": \"app.handler\", \"Code\": {\"ZipFile\": "
		       "\"%s\"}%s}", name, runtime, zip, extra ? extra : "") > 0);
	return b;
}

static void setup(struct fake_host *fh)
{
	fake_host_init(fh, &ows_lambda_service, handle);
	fake_host_put(fh, "policies.put", "reader",
		      "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": "
		      "\"s3:GetObject\", \"Resource\": \"*\"}]}");
	fake_host_put(fh, "roles.put", "runner", "{\"policies\": [\"reader\"]}");
}

OWS_TEST(lambda_api_function_life)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char sha[65], sha2[65], b64sha[64], rev[64], *zip, *zip2, *body;
	json_t *spec;

	setup(&fh);
	zip = zip_b64("def handler(e, c):\n    return 1\n", sha, b64sha);
	body = create_body("hello", "python3.12", zip,
			   ", \"Tags\": {\"team\": \"a\"}, \"MemorySize\": 256");
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 201);
	CHECK_STR(str(&r, "FunctionName"), "hello");
	CHECK_STR(str(&r, "FunctionArn"),
		  "arn:aws:lambda:us-east-1:000000000000:function:hello");
	CHECK_STR(str(&r, "Runtime"), "python3.12");
	CHECK_STR(str(&r, "State"), "Active");
	CHECK_STR(str(&r, "LastUpdateStatus"), "Successful");
	CHECK_STR(str(&r, "Version"), "$LATEST");
	/* the entry's time: the setup made two entries before */
	CHECK_STR(str(&r, "LastModified"), "2024-01-01T00:00:02.000+0000");
	CHECK_INT(json_integer_value(json_object_get(r.body, "MemorySize")),
		  256);
	CHECK_STR(str(&r, "CodeSha256"), b64sha);
	CHECK(json_integer_value(json_object_get(r.body, "CodeSize")) > 0);
	snprintf(rev, sizeof(rev), "%s", str(&r, "RevisionId"));
	/* the spec OWS runs: its runtime, its role (read live), the blob */
	spec = ows_state_resource(&fh.state, "functions", "hello");
	CHECK_STR(ows_json_str(spec, "runtime"), "python3");
	CHECK_STR(ows_json_str(spec, "code_sha256"), sha);
	CHECK(json_object_get(spec, "policies") == NULL);
	CHECK_STR(ows_json_str(spec, "role"), "runner");
	json_decref(spec);
	{
		char path[400];

		CHECK(fh.host.blob_path(&fh.host, sha, path, sizeof(path)) == 0);
	}
	/* authorized on both ARN forms */
	CHECK_STR(ows_json_str(json_array_get(fh.last_authorized, 0),
			       "action"), "lambda:CreateFunction");
	CHECK_STR(json_string_value(json_array_get(json_object_get(
		  json_array_get(fh.last_authorized, 0), "arns"), 1)),
		  "arn:ows:lambda::function/hello");

	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 409);
	CHECK_STR(r.error_type, "ResourceConflictException");
	free(body);

	req(&fh, "GET", "/2015-03-31/functions/hello", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(ows_json_str(json_object_get(r.body, "Tags"), "team"), "a");
	CHECK_STR(ows_json_str(json_object_get(r.body, "Code"),
			       "RepositoryType"), "S3");
	CHECK_STR(ows_json_str(json_object_get(r.body, "Configuration"),
			       "State"), "Active");

	/* update code: new hash, new revision, a later LastModified */
	zip2 = zip_b64("def handler(e, c):\n    return 2\n", sha2, b64sha);
	CHECK(asprintf(&body, "{\"ZipFile\": \"%s\"}", zip2) > 0);
	req(&fh, "PUT", "/2015-03-31/functions/hello/code", body, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(str(&r, "CodeSha256"), b64sha);
	CHECK(strcmp(str(&r, "RevisionId"), rev) != 0);
	CHECK(strcmp(str(&r, "LastModified"), "2024-01-01T00:00:02.000+0000")
	      > 0);
	free(body);
	/* a stale revision id: 412 */
	CHECK(asprintf(&body, "{\"Timeout\": 10, \"RevisionId\": \"%s\"}",
		       rev) > 0);
	req(&fh, "PUT", "/2015-03-31/functions/hello/configuration", body, &r);
	CHECK_INT(r.status, 412);
	CHECK_STR(r.error_type, "PreconditionFailedException");
	free(body);
	req(&fh, "PUT", "/2015-03-31/functions/hello/configuration",
	    "{\"Timeout\": 10, \"Environment\": {\"Variables\": "
	    "{\"GREETING\": \"hi\"}}, \"Description\": \"v1\"}", &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_integer_value(json_object_get(r.body, "Timeout")), 10);
	CHECK_STR(ows_json_str(json_object_get(json_object_get(r.body,
		  "Environment"), "Variables"), "GREETING"), "hi");
	CHECK_STR(str(&r, "Description"), "v1");

	/* versions: numbered in apply; nothing changed, the same one */
	req(&fh, "POST", "/2015-03-31/functions/hello/versions", "{}", &r);
	CHECK_INT(r.status, 201);
	CHECK_STR(str(&r, "Version"), "1");
	CHECK_STR(str(&r, "FunctionArn"),
		  "arn:aws:lambda:us-east-1:000000000000:function:hello:1");
	req(&fh, "POST", "/2015-03-31/functions/hello/versions", "{}", &r);
	CHECK_STR(str(&r, "Version"), "1");
	req(&fh, "PUT", "/2015-03-31/functions/hello/configuration",
	    "{\"Timeout\": 20}", &r);
	req(&fh, "POST", "/2015-03-31/functions/hello/versions",
	    "{\"Description\": \"second\"}", &r);
	CHECK_STR(str(&r, "Version"), "2");
	CHECK_STR(str(&r, "Description"), "second");
	req(&fh, "GET", "/2015-03-31/functions/hello/versions", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_array_size(json_object_get(r.body, "Versions")), 3);
	CHECK_STR(ows_json_str(json_array_get(json_object_get(r.body,
		  "Versions"), 2), "Version"), "2");
	/* a version is the spec itself (the node runs it as a function) */
	spec = ows_state_resource(&fh.state, "function_versions", "hello:2");
	CHECK_STR(ows_json_str(spec, "runtime"), "python3");
	CHECK_INT(json_integer_value(json_object_get(spec, "timeout_s")), 20);
	json_decref(spec);
	/* version 1 keeps its frozen configuration */
	req(&fh, "GET", "/2015-03-31/functions/hello:1/configuration", NULL,
	    &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_integer_value(json_object_get(r.body, "Timeout")), 10);
	CHECK_STR(str(&r, "Version"), "1");

	/* an alias with weighted routing */
	req(&fh, "POST", "/2015-03-31/functions/hello/aliases",
	    "{\"Name\": \"live\", \"FunctionVersion\": \"1\", \"RoutingConfig\":"
	    " {\"AdditionalVersionWeights\": {\"2\": 0.25}}}", &r);
	CHECK_INT(r.status, 201);
	CHECK_STR(str(&r, "AliasArn"),
		  "arn:aws:lambda:us-east-1:000000000000:function:hello:live");
	CHECK_STR(str(&r, "FunctionVersion"), "1");
	req(&fh, "GET", "/2015-03-31/functions/hello/aliases/live", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(json_number_value(json_object_get(json_object_get(json_object_get(
		  r.body, "RoutingConfig"), "AdditionalVersionWeights"), "2"))
	      == 0.25);
	{
		json_t *alias = ows_state_resource(&fh.state, "aliases",
						   "hello:live");

		CHECK_STR(ows__lambda_pick(alias, 0.1), "2");
		CHECK_STR(ows__lambda_pick(alias, 0.3), "1");
		json_decref(alias);
	}
	/* qualifiers: ?Qualifier=, NAME:ALIAS, the full ARN (encoded) */
	req(&fh, "GET", "/2015-03-31/functions/hello/configuration"
	    "?Qualifier=live", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(str(&r, "Version"), "1");
	CHECK_STR(str(&r, "FunctionArn"),
		  "arn:aws:lambda:us-east-1:000000000000:function:hello:live");
	req(&fh, "GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1"
	    "%3A000000000000%3Afunction%3Ahello%3A2/configuration", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(str(&r, "Version"), "2");
	req(&fh, "GET", "/2015-03-31/functions/000000000000:function:hello",
	    NULL, &r);
	CHECK_INT(r.status, 200);
	req(&fh, "GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1"
	    "%3A111111111111%3Afunction%3Ahello", NULL, &r);
	CHECK_INT(r.status, 404);
	CHECK_STR(r.error_type, "ResourceNotFoundException");
	req(&fh, "GET", "/2015-03-31/functions/hello:nope", NULL, &r);
	CHECK_INT(r.status, 404);
	CHECK_STR(r.error_type, "ResourceNotFoundException");
	req(&fh, "GET", "/2015-03-31/functions/hello:7/configuration", NULL,
	    &r);
	CHECK_INT(r.status, 404);
	req(&fh, "GET", "/2015-03-31/functions/hello:1?Qualifier=2", NULL, &r);
	CHECK_INT(r.status, 400);
	CHECK_STR(r.error_type, "InvalidParameterValueException");

	/* a version an alias routes to cannot go */
	req(&fh, "DELETE", "/2015-03-31/functions/hello?Qualifier=2", NULL, &r);
	CHECK_INT(r.status, 409);
	CHECK_STR(r.error_type, "ResourceConflictException");
	req(&fh, "PUT", "/2015-03-31/functions/hello/aliases/live",
	    "{\"FunctionVersion\": \"2\", \"RoutingConfig\": "
	    "{\"AdditionalVersionWeights\": {}}}", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(str(&r, "FunctionVersion"), "2");
	CHECK(json_object_get(r.body, "RoutingConfig") == NULL);
	req(&fh, "DELETE", "/2015-03-31/functions/hello?Qualifier=1", NULL, &r);
	CHECK_INT(r.status, 204);
	req(&fh, "GET", "/2015-03-31/functions/hello/aliases", NULL, &r);
	CHECK_INT(json_array_size(json_object_get(r.body, "Aliases")), 1);

	/* delete: the function, its versions, aliases and meta */
	req(&fh, "DELETE", "/2015-03-31/functions/hello", NULL, &r);
	CHECK_INT(r.status, 204);
	req(&fh, "GET", "/2015-03-31/functions/hello", NULL, &r);
	CHECK_INT(r.status, 404);
	CHECK_STR(r.error_type, "ResourceNotFoundException");
	CHECK(!ows_state_resource_exists(&fh.state, "function_versions",
					 "hello:2"));
	CHECK(!ows_state_resource_exists(&fh.state, "aliases", "hello:live"));
	CHECK(!ows_state_resource_exists(&fh.state, "function_meta", "hello"));
	fake_reply_free(&r);
	free(zip);
	free(zip2);
	fake_host_close(&fh);
}

OWS_TEST(lambda_api_errors)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char sha[65], *zip, *body;
	unsigned before;

	setup(&fh);
	zip = zip_b64("x = 1\n", sha, NULL);
	body = create_body("f", "python2.7", zip, NULL);
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 400);
	CHECK_STR(r.error_type, "InvalidParameterValueException");
	free(body);
	body = create_body("f", "python3.12", "bm90IGEgemlw", NULL);
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 400);
	CHECK(strstr(str(&r, "message"), "Could not unzip") != NULL);
	free(body);
	CHECK(asprintf(&body, "{\"FunctionName\": \"f\", \"Runtime\": "
		       "\"nodejs20.x\", \"Handler\": \"a.b\", \"Role\": "
		       "\"arn:aws:iam::000000000000:role/ghost\", \"Code\": "
		       "{\"ZipFile\": \"%s\"}}", zip) > 0);
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 400);
	CHECK(strstr(str(&r, "message"), "cannot be assumed") != NULL);
	free(body);
	req(&fh, "POST", "/2015-03-31/functions", "{not json", &r);
	CHECK_INT(r.status, 400);
	CHECK_STR(r.error_type, "InvalidRequestContentException");

	/* refused by policy: 403 and nothing proposed */
	snprintf(fh.deny, sizeof(fh.deny), "lambda:CreateFunction");
	before = fh.proposals;
	body = create_body("f", "python3.12", zip, NULL);
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 403);
	CHECK_STR(r.error_type, "AccessDeniedException");
	CHECK_INT(fh.proposals, before);
	fh.deny[0] = '\0';
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 201);
	free(body);
	snprintf(fh.deny, sizeof(fh.deny), "lambda:GetFunction");
	req(&fh, "GET", "/2015-03-31/functions/f", NULL, &r);
	CHECK_INT(r.status, 403);
	fh.deny[0] = '\0';

	/* operations OWS does not offer: not a missing resource */
	req(&fh, "GET", "/2018-10-31/layers", NULL, &r);
	CHECK_INT(r.status, 404);
	CHECK_STR(r.error_type, "UnknownOperationException");
	/* none: read by deploy tools after a create (Terraform) */
	req(&fh, "GET", "/2020-06-30/functions/f/code-signing-config", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(str(&r, "CodeSigningConfigArn"), "");
	req(&fh, "PUT", "/2020-06-30/functions/f/code-signing-config", "{}",
	    &r);
	CHECK_STR(r.error_type, "UnknownOperationException");
	req(&fh, "GET", "/2021-10-31/functions/f/url", NULL, &r);
	CHECK_STR(r.error_type, "UnknownOperationException");
	req(&fh, "GET", "/2015-03-31/functions/missing", NULL, &r);
	CHECK_STR(r.error_type, "ResourceNotFoundException");
	CHECK(strstr(str(&r, "message"), "Function not found: arn:aws:lambda:"
		     "us-east-1:000000000000:function:missing") != NULL);
	/* Invoke stays lambda.c's */
	req(&fh, "POST", "/2015-03-31/functions/f/invocations", "{}", &r);
	CHECK_STR(r.error_type, "NotHere");
	req(&fh, "DELETE", "/2015-03-31/functions/f?Qualifier=%24LATEST", NULL,
	    &r);
	CHECK_INT(r.status, 400);
	fake_reply_free(&r);
	free(zip);
	fake_host_close(&fh);
}

OWS_TEST(lambda_api_settings_and_policy)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char sha[65], *zip, *body;
	json_t *spec, *doc;

	setup(&fh);
	zip = zip_b64("x = 1\n", sha, NULL);
	body = create_body("g", "python3.11", zip, NULL);
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 201);
	free(body);

	/* tags, by the function's ARN (encoded or not) */
	req(&fh, "POST", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A"
	    "000000000000%3Afunction%3Ag", "{\"Tags\": {\"a\": \"1\", "
	    "\"b\": \"2\"}}", &r);
	CHECK_INT(r.status, 204);
	req(&fh, "DELETE", "/2017-03-31/tags/arn:aws:lambda:us-east-1:"
	    "000000000000:function:g?tagKeys=a", NULL, &r);
	CHECK_INT(r.status, 204);
	req(&fh, "GET", "/2017-03-31/tags/arn:aws:lambda:us-east-1:"
	    "000000000000:function:g", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(json_object_get(json_object_get(r.body, "Tags"), "a") == NULL);
	CHECK_STR(ows_json_str(json_object_get(r.body, "Tags"), "b"), "2");

	/* reserved concurrency is the spec's concurrency */
	req(&fh, "PUT", "/2017-10-31/functions/g/concurrency",
	    "{\"ReservedConcurrentExecutions\": 5}", &r);
	CHECK_INT(r.status, 200);
	spec = ows_state_resource(&fh.state, "functions", "g");
	CHECK_INT(json_integer_value(json_object_get(spec, "concurrency")), 5);
	json_decref(spec);
	req(&fh, "GET", "/2019-09-30/functions/g/concurrency", NULL, &r);
	CHECK_INT(json_integer_value(json_object_get(r.body,
		  "ReservedConcurrentExecutions")), 5);
	req(&fh, "GET", "/2016-08-19/account-settings/", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body,
		  "AccountLimit"), "UnreservedConcurrentExecutions")), 995);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r.body,
		  "AccountUsage"), "FunctionCount")), 1);
	req(&fh, "DELETE", "/2017-10-31/functions/g/concurrency", NULL, &r);
	CHECK_INT(r.status, 204);
	spec = ows_state_resource(&fh.state, "functions", "g");
	CHECK(json_object_get(spec, "concurrency") == NULL);
	json_decref(spec);

	/* event invoke config */
	req(&fh, "GET", "/2019-09-25/functions/g/event-invoke-config", NULL,
	    &r);
	CHECK_INT(r.status, 404);
	req(&fh, "PUT", "/2019-09-25/functions/g/event-invoke-config",
	    "{\"MaximumRetryAttempts\": 1}", &r);
	CHECK_INT(r.status, 200);
	req(&fh, "POST", "/2019-09-25/functions/g/event-invoke-config",
	    "{\"MaximumEventAgeInSeconds\": 600}", &r);
	CHECK_INT(r.status, 200);
	req(&fh, "GET", "/2019-09-25/functions/g/event-invoke-config", NULL,
	    &r);
	CHECK_INT(json_integer_value(json_object_get(r.body,
		  "MaximumRetryAttempts")), 1);
	CHECK_INT(json_integer_value(json_object_get(r.body,
		  "MaximumEventAgeInSeconds")), 600);
	req(&fh, "PUT", "/2019-09-25/functions/g/event-invoke-config",
	    "{\"MaximumRetryAttempts\": 3}", &r);
	CHECK_INT(r.status, 400);
	req(&fh, "DELETE", "/2019-09-25/functions/g/event-invoke-config", NULL,
	    &r);
	CHECK_INT(r.status, 204);

	/* resource policy */
	req(&fh, "GET", "/2015-03-31/functions/g/policy", NULL, &r);
	CHECK_INT(r.status, 404);
	req(&fh, "POST", "/2015-03-31/functions/g/policy",
	    "{\"StatementId\": \"s3\", \"Action\": \"lambda:InvokeFunction\", "
	    "\"Principal\": \"s3.amazonaws.com\", \"SourceArn\": "
	    "\"arn:aws:s3:::bucket\"}", &r);
	CHECK_INT(r.status, 201);
	CHECK(strstr(str(&r, "Statement"), "\"Sid\":\"s3\"") != NULL ||
	      strstr(str(&r, "Statement"), "\"Sid\": \"s3\"") != NULL);
	req(&fh, "POST", "/2015-03-31/functions/g/policy",
	    "{\"StatementId\": \"s3\", \"Action\": \"lambda:InvokeFunction\", "
	    "\"Principal\": \"s3.amazonaws.com\"}", &r);
	CHECK_INT(r.status, 409);
	req(&fh, "GET", "/2015-03-31/functions/g/policy", NULL, &r);
	CHECK_INT(r.status, 200);
	doc = json_loads(str(&r, "Policy"), 0, NULL);
	CHECK_STR(ows_json_str(json_object_get(json_array_get(json_object_get(
		  doc, "Statement"), 0), "Principal"), "Service"),
		  "s3.amazonaws.com");
	json_decref(doc);
	req(&fh, "DELETE", "/2015-03-31/functions/g/policy/nope", NULL, &r);
	CHECK_INT(r.status, 404);
	req(&fh, "DELETE", "/2015-03-31/functions/g/policy/s3", NULL, &r);
	CHECK_INT(r.status, 204);
	CHECK(ows__lambda_resource_policy(&fh.state, "g") == NULL);
	fake_reply_free(&r);
	free(zip);
	fake_host_close(&fh);
}

OWS_TEST(lambda_api_runtimes_and_refs)
{
	const char *code;
	char msg[200];
	json_t *http = json_pack("{s:s}", "runtime", "http");

	CHECK_STR(ows__lambda_runtime("python3.13"), "python3");
	CHECK_STR(ows__lambda_runtime("nodejs22.x"), "nodejs");
	CHECK_STR(ows__lambda_runtime("provided.al2023"), "provided");
	CHECK(ows__lambda_runtime("java21") == NULL);
	CHECK(ows__lambda_runtime("python3.7") == NULL);
	CHECK(!ows__lambda_invokable(http, &code, msg, sizeof(msg)));
	CHECK_STR(code, "InvalidRuntimeException");
	json_decref(http);
}

/* Environment values only to readers of the function (docs/security.md). */
OWS_TEST(lambda_api_env_needs_functions_read)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char sha[65], *zip, *body;

	setup(&fh);
	zip = zip_b64("x = 1\n", sha, NULL);
	body = create_body("e", "python3.12", zip, ", \"Environment\": "
			   "{\"Variables\": {\"SECRET\": \"s3cr3t\"}}");
	req(&fh, "POST", "/2015-03-31/functions", body, &r);
	CHECK_INT(r.status, 201);
	free(body);
	snprintf(fh.deny, sizeof(fh.deny), "ows:functions.read");
	req(&fh, "GET", "/2015-03-31/functions/e", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK(strstr(r.raw, "s3cr3t") == NULL);
	req(&fh, "GET", "/2015-03-31/functions/e/configuration", NULL, &r);
	CHECK(strstr(r.raw, "s3cr3t") == NULL);
	fh.deny[0] = '\0';
	req(&fh, "GET", "/2015-03-31/functions/e/configuration", NULL, &r);
	CHECK(strstr(r.raw, "s3cr3t") != NULL);
	fake_reply_free(&r);
	free(zip);
	fake_host_close(&fh);
}

/* A function made by a stack (no Lambda fields) reads as Lambda shows it. */
OWS_TEST(lambda_api_stack_function_reads)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char spec[200];

	setup(&fh);
	snprintf(spec, sizeof(spec), "{\"runtime\": \"nodejs\", \"handler\": "
		 "\"index.handler\", \"code_sha256\": \"%064d\"}", 0);
	fake_host_put(&fh, "functions.put", "st", spec);
	req(&fh, "GET", "/2015-03-31/functions/st", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(ows_json_str(json_object_get(r.body, "Configuration"),
			       "Runtime"), "nodejs");
	CHECK_INT(json_object_size(json_object_get(r.body, "Tags")), 0);
	req(&fh, "GET", "/2017-03-31/tags/arn:aws:lambda:us-east-1:"
	    "000000000000:function:st", NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_INT(json_object_size(json_object_get(r.body, "Tags")), 0);
	req(&fh, "GET", "/2015-03-31/functions/", NULL, &r);
	CHECK_INT(json_array_size(json_object_get(r.body, "Functions")), 1);
	fake_reply_free(&r);
	fake_host_close(&fh);
}
