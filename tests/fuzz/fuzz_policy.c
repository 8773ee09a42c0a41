/*
 * Fuzz target for the IAM policy evaluator (src/auth/policy.c): the bytes
 * are parsed as JSON (any value, not only objects), then validated and
 * evaluated against a few fixed requests, alone and next to a copy of
 * themselves. Besides not crashing it checks two fail-closed promises that
 * hold for every input: no document can outvote a Deny-everything document,
 * and a missing request is denied.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "auth/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ows_policy_ctx_entry ctx[] = {
	{"aws:SourceIp", "10.1.2.3"},
	{"aws:SecureTransport", "true"},
	{"aws:username", "alice"},
	{"s3:max-keys", "10"},
	{"aws:TagKeys", "env"},
	{"aws:TagKeys", "team"},
};

static const struct ows_policy_request reqs[] = {
	{"s3:GetObject", "arn:ows:s3:::bucket/key", ctx, 6},
	{"ows:users.put", "arn:ows:iam::user/dev", ctx, 3},
	{"ddb:PutItem", "arn:ows:ddb:::table/t", NULL, 0},
	{"", "", NULL, 0},
};

static json_t *deny_all(void)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s}}", "Version", "2012-10-17",
			 "Statement", "Effect", "Deny", "Action", "*",
			 "Resource", "*");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ows_err err = {""};
	json_error_t je;
	json_t *doc, *deny;
	const json_t *docs[2];
	size_t i;

	doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (doc == NULL)
		return 0;
	(void)ows_policy_validate(doc, &err);
	deny = deny_all();
	if (deny == NULL)
		abort();
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		docs[0] = doc;
		docs[1] = doc;
		(void)ows_policy_eval(docs, 2, &reqs[i]);
		docs[1] = deny;
		if (ows_policy_eval(docs, 2, &reqs[i]) !=
		    OWS_POLICY_EXPLICIT_DENY)
			abort();
		if (ows_policy_eval(docs, 1, NULL) != OWS_POLICY_EXPLICIT_DENY)
			abort();
	}
	if (json_is_string(doc))
		(void)ows_policy_match(json_string_value(doc),
				       "arn:ows:s3:::bucket/key", true);
	json_decref(deny);
	json_decref(doc);
	return 0;
}
