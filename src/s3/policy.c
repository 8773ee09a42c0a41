/*
 * Bucket policies checked as PutBucketPolicy checks them (access.h),
 * before a buckets.policy entry is proposed and when a stack file names
 * one. The judgement itself is the host's (authorize_resource with the
 * bucket's policy: ledger/authz.c), where a statement's Principal says
 * whom it applies to and the rest is judged as an identity policy; so
 * the rest must pass the same validator (auth/policy.c) here, or a
 * statement that could never be judged would be stored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/policy.h"
#include "common/json.h"
#include "ledger/authz.h"
#include "s3/access.h"

/* S3's limit on a bucket policy's size. */
#define POLICY_MAX (20 * 1024)

/* "*" alone, or a name without wildcards (S3 takes no pattern there). */
static bool principal_name_ok(const char *s)
{
	return s[0] != '\0' && (strcmp(s, "*") == 0 || strchr(s, '*') == NULL);
}

/* Does one Principal value name someone S3 knows ("*", AWS, Service)? */
static bool principal_ok(const json_t *pr)
{
	const char *k;
	const json_t *v, *x;
	size_t i;

	if (json_is_string(pr))
		return strcmp(json_string_value(pr), "*") == 0;
	if (!json_is_object(pr) || json_object_size(pr) == 0)
		return false;
	json_object_foreach ((json_t *)pr, k, v) {
		if (strcmp(k, "AWS") != 0 && strcmp(k, "Service") != 0 &&
		    strcmp(k, "CanonicalUser") != 0)
			return false;
		if (json_is_string(v) &&
		    principal_name_ok(json_string_value(v)))
			continue;
		if (!json_is_array(v) || json_array_size(v) == 0)
			return false;
		json_array_foreach (v, i, x)
			if (!json_is_string(x) ||
			    !principal_name_ok(json_string_value(x)))
				return false;
	}
	return true;
}

/* Is arn this bucket or an object of it, in either partition? */
static bool in_bucket(const char *arn, const char *bucket)
{
	static const char *const parts[] = {"arn:aws:s3:::", "arn:ows:s3:::"};
	size_t n = strlen(bucket);

	for (size_t i = 0; i < 2; i++) {
		size_t p = strlen(parts[i]);

		if (strncmp(arn, parts[i], p) == 0 &&
		    strncmp(arn + p, bucket, n) == 0 &&
		    (arn[p + n] == '\0' || arn[p + n] == '/'))
			return true;
	}
	return false;
}

static bool resources_ok(const json_t *v, const char *bucket)
{
	const json_t *x;
	size_t i;

	if (json_is_string(v))
		return in_bucket(json_string_value(v), bucket);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	json_array_foreach (v, i, x)
		if (!json_is_string(x) ||
		    !in_bucket(json_string_value(x), bucket))
			return false;
	return true;
}

static int malformed(struct ows_err *err, const char *msg)
{
	ows_err_printf(err, "%s", msg);
	return OWS_EINVAL;
}

/* One statement: its S3 parts, and a copy without them in *rest. */
static int check_statement(const json_t *st, const char *bucket, json_t *rest)
{
	const json_t *pr = json_object_get(st, "Principal");
	const json_t *npr = json_object_get(st, "NotPrincipal");
	const json_t *res = json_object_get(st, "Resource");
	json_t *copy;

	if (!json_is_object(st))
		return -EINVAL;
	if (json_object_get(st, "Effect") == NULL)
		return 1;
	if (pr == NULL && npr == NULL)
		return 2;
	if ((pr != NULL && npr != NULL) || !principal_ok(pr != NULL ? pr : npr))
		return 3;
	if (json_object_get(st, "Action") == NULL &&
	    json_object_get(st, "NotAction") == NULL)
		return 4;
	if (res == NULL && json_object_get(st, "NotResource") == NULL)
		return 5;
	if (!resources_ok(
		res != NULL ? res : json_object_get(st, "NotResource"), bucket))
		return 6;
	copy = json_deep_copy(st);
	if (copy == NULL)
		return -ENOMEM;
	json_object_del(copy, "Principal");
	json_object_del(copy, "NotPrincipal");
	return json_array_append_new(rest, copy) != 0 ? -ENOMEM : 0;
}

int ows__s3_policy_check(const json_t *doc, const char *bucket,
			 struct ows_err *err)
{
	static const char *const why[] = {
	    NULL,
	    "Missing required field Effect",
	    "Missing required field Principal",
	    "Invalid principal in policy",
	    "Missing required field Action",
	    "Missing required field Resource",
	    "Policy has invalid resource",
	};
	const json_t *sts = json_object_get(doc, "Statement"), *st;
	json_t *rest = json_array(), *plain = NULL;
	struct ows_err inner = {{0}};
	size_t i;
	int rv = 0;

	if (rest == NULL)
		return -ENOMEM;
	if (!json_is_object(doc))
		rv = malformed(err, "This policy contains invalid Json");
	else if (sts == NULL)
		rv = malformed(err, "Missing required field Statement");
	else if (json_is_object(sts))
		rv = check_statement(sts, bucket, rest);
	else if (!json_is_array(sts) || json_array_size(sts) == 0)
		rv = malformed(err, "Statement must be an object or a "
				    "non-empty array");
	else
		json_array_foreach (sts, i, st)
			if (rv == 0)
				rv = check_statement(st, bucket, rest);
	if (rv > 0)
		rv = malformed(err, why[rv]);
	else if (rv == -EINVAL)
		rv = malformed(err, "Statement must be an object");
	if (rv != 0)
		goto cleanup;
	/* the rest as the evaluator reads it (rp_for in ledger/authz.c) */
	plain = json_deep_copy(doc);
	if (plain == NULL || json_object_set(plain, "Statement", rest) != 0) {
		rv = -ENOMEM;
		goto cleanup;
	}
	if (ows_policy_validate(plain, &inner) != 0) {
		rv = malformed(err, inner.msg);
	} else if (ows_policy_check_keys(plain, ows_authz_condition_keys,
					 ows_authz_n_condition_keys,
					 &inner) != 0) {
		ows_err_printf(err,
			       "Policy has an invalid condition key "
			       "(%s)",
			       inner.msg);
		rv = OWS_EINVAL;
	}
cleanup:
	json_decref(rest);
	json_decref(plain);
	return rv;
}

int ows__s3_policy_parse(const char *text, size_t len, const char *bucket,
			 json_t **out, const char **code, struct ows_err *err)
{
	json_t *doc;
	int rv;

	*out = NULL;
	*code = "MalformedPolicy";
	if (len > POLICY_MAX)
		return malformed(err, "Policies must be smaller than 20 KB");
	while (len > 0 && (*text == ' ' || *text == '\n' || *text == '\r' ||
			   *text == '\t')) {
		text++;
		len--;
	}
	if (len == 0 || text[0] != '{')
		return malformed(err, "Policies must be valid JSON and the "
				      "first byte must be '{'");
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (doc == NULL)
		return malformed(err, "This policy contains invalid Json");
	rv = ows__s3_policy_check(doc, bucket, err);
	if (rv != 0) {
		json_decref(doc);
		return rv;
	}
	*out = doc;
	return 0;
}
