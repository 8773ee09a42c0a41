/*
 * Function references as Lambda takes them (a name, "NAME:QUALIFIER", a
 * partial "ACCOUNT:function:NAME" or a full ARN in either partition) and
 * qualifiers ("$LATEST", a published version, an alias), and weighted
 * routing of aliases.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lambda/lambda_priv.h"
#include "state/state.h"

static bool name_valid(const char *s, size_t n)
{
	return n > 0 && n < OWS_LAMBDA_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_") >= n;
}

static bool qual_valid(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "$LATEST") == 0)
		return true;
	return n > 0 && n < OWS_LAMBDA_QUAL_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_") == n;
}

int ows__lambda_parse_ref(const struct ows_aws_call *c, const char *ref,
			  const char *qualifier, struct ows_lambda_ref *out,
			  char *msg, size_t cap)
{
	const char *region = c->region[0] ? c->region : c->host->region;
	const char *rest = ref, *colon;
	char acct[16];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strncmp(ref, "arn:ows:lambda::function/", 25) == 0) {
		rest = ref + 25;
	} else if (strncmp(ref, "arn:", 4) == 0) {
		/* arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:Q] */
		const char *p = ref + 4;
		char part[16], svc[16], reg[32];

		if (sscanf(p, "%15[^:]:%15[^:]:%31[^:]:%15[^:]:", part, svc,
			   reg, acct) != 4 || strcmp(svc, "lambda") != 0 ||
		    strncmp(strstr(p, acct) + strlen(acct), ":function:",
			    10) != 0) {
			snprintf(msg, cap, "1 validation error detected: Value "
				 "'%.200s' at 'functionName' failed to satisfy "
				 "constraint", ref);
			return OWS_EINVAL;
		}
		if (strcmp(part, "aws") != 0 || strcmp(reg, region) != 0 ||
		    strcmp(acct, c->host->account) != 0)
			return OWS_ENOTFOUND;
		rest = strstr(p, ":function:") + 10;
	} else if ((colon = strstr(ref, ":function:")) != NULL) {
		n = (size_t)(colon - ref);
		if (n >= sizeof(acct) || n != strspn(ref, "0123456789")) {
			snprintf(msg, cap, "1 validation error detected: Value "
				 "'%.200s' at 'functionName' failed to satisfy "
				 "constraint", ref);
			return OWS_EINVAL;
		}
		if (strncmp(ref, c->host->account, n) != 0 ||
		    c->host->account[n] != '\0')
			return OWS_ENOTFOUND;
		rest = colon + 10;
	}
	n = strcspn(rest, ":");
	if (!name_valid(rest, n)) {
		snprintf(msg, cap, "1 validation error detected: Value '%.200s' "
			 "at 'functionName' failed to satisfy constraint: "
			 "Member must satisfy regular expression pattern",
			 ref);
		return OWS_EINVAL;
	}
	snprintf(out->name, sizeof(out->name), "%.*s", (int)n, rest);
	if (rest[n] == ':') {
		if (!qual_valid(rest + n + 1)) {
			snprintf(msg, cap, "Invalid qualifier in '%.200s'",
				 ref);
			return OWS_EINVAL;
		}
		snprintf(out->qualifier, sizeof(out->qualifier), "%s",
			 rest + n + 1);
	}
	if (qualifier != NULL && qualifier[0] != '\0') {
		if (!qual_valid(qualifier)) {
			snprintf(msg, cap, "1 validation error detected: Value "
				 "'%.200s' at 'qualifier' failed to satisfy "
				 "constraint", qualifier);
			return OWS_EINVAL;
		}
		if (out->qualifier[0] != '\0' &&
		    strcmp(out->qualifier, qualifier) != 0) {
			snprintf(msg, cap, "The derived qualifier from the "
				 "function name does not match the specified "
				 "qualifier.");
			return OWS_EINVAL;
		}
		snprintf(out->qualifier, sizeof(out->qualifier), "%s",
			 qualifier);
	}
	return 0;
}

int ows__lambda_resolve(struct ows_state *s, struct ows_lambda_ref *r)
{
	char key[OWS_LAMBDA_NAME_MAX + OWS_LAMBDA_QUAL_MAX + 2];
	const char *q = r->qualifier;
	json_t *alias;

	if (!ows_state_resource_exists(s, "functions", r->name))
		return OWS_ENOTFOUND;
	if (q[0] == '\0' || strcmp(q, "$LATEST") == 0) {
		snprintf(r->version, sizeof(r->version), "$LATEST");
		return 0;
	}
	snprintf(key, sizeof(key), "%s:%s", r->name, q);
	if (strspn(q, "0123456789") == strlen(q)) {
		if (!ows_state_resource_exists(s, "function_versions", key))
			return OWS_ENOTFOUND;
		snprintf(r->version, sizeof(r->version), "%s", q);
		return 0;
	}
	alias = ows_state_resource(s, "aliases", key);
	if (alias == NULL)
		return OWS_ENOTFOUND;
	snprintf(r->version, sizeof(r->version), "%s",
		 ows_json_str(alias, "version") ? ows_json_str(alias, "version")
						: "$LATEST");
	r->alias = true;
	json_decref(alias);
	return 0;
}

const char *ows__lambda_pick(const json_t *alias, double u)
{
	const json_t *weights = json_object_get(alias, "weights");
	const char *k;
	json_t *w;
	double acc = 0;

	json_object_foreach((json_t *)weights, k, w) {
		acc += (double)json_integer_value(w) / OWS_LAMBDA_WEIGHT_ONE;
		if (u < acc)
			return k;
	}
	return ows_json_str(alias, "version");
}

int ows__lambda_invoke_target(struct ows_aws_call *c, const char *ref,
			      const char *qualifier, char *name, size_t ncap,
			      char *version, size_t vcap)
{
	struct ows_lambda_ref r;
	char msg[300], key[200];
	int rv;

	rv = ows__lambda_parse_ref(c, ref, qualifier, &r, msg, sizeof(msg));
	if (rv == 0)
		rv = ows__lambda_resolve(c->host->state, &r);
	if (rv != 0)
		return rv;
	snprintf(name, ncap, "%s", r.name);
	snprintf(version, vcap, "%s", r.version);
	if (r.alias) {
		json_t *alias;
		uint32_t x;

		snprintf(key, sizeof(key), "%s:%s", r.name, r.qualifier);
		alias = ows_state_resource(c->host->state, "aliases", key);
		if (alias != NULL && json_object_size(json_object_get(
					     alias, "weights")) > 0) {
			x = (uint32_t)random();
			snprintf(version, vcap, "%s",
				 ows__lambda_pick(alias, (double)x /
						  ((double)RAND_MAX + 1)));
		}
		json_decref(alias);
	}
	return 0;
}

bool ows__lambda_invokable(const json_t *spec, const char **code, char *msg,
			   size_t cap)
{
	const char *rt = ows_json_str(spec, "runtime");

	if (rt != NULL && strcmp(rt, "http") == 0) {
		*code = "InvalidRuntimeException";
		snprintf(msg, cap, "The function runs the http runtime: it "
			 "serves HTTP requests through the gateway and cannot "
			 "be invoked through the Lambda API.");
		return false;
	}
	return true;
}

json_t *ows__lambda_resource_policy(struct ows_state *s, const char *name)
{
	json_t *meta = ows_state_resource(s, "function_meta", name), *out;
	json_t *st = json_object_get(meta, "policy");

	if (json_array_size(st) == 0) {
		json_decref(meta);
		return NULL;
	}
	out = json_pack("{s:s, s:s, s:O}", "Version", "2012-10-17", "Id",
			"default", "Statement", st);
	json_decref(meta);
	return out;
}
