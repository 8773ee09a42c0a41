/*
 * The policy document of a browser form upload (access.h), as the S3 API
 * Reference's "Creating a POST Policy" defines it: base64 of
 *
 *   {"expiration": "2026-01-01T12:00:00.000Z",
 *    "conditions": [{"bucket": "b"}, ["starts-with", "$key", "user/"],
 *                   ["content-length-range", 1, 10485760],
 *                   {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, ...]}
 *
 * "Each form field that you specify in a form (except x-amz-signature,
 * file, policy, and field names that have an x-ignore- prefix) must
 * appear in the list of conditions." The signature over the base64 text
 * is checked by the caller (aws/post_auth.c) before this is trusted.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/enc.h"
#include "s3/access.h"

#define POLICY_B64_MAX (64 * 1024)

/* "2026-01-01T12:00:00Z" or with ".000" fractions: Unix seconds. */
static int iso8601(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (p == NULL)
		return -EINVAL;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (strcmp(p, "Z") != 0)
		return -EINVAL;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int ows__s3_post_policy_read(const char *b64, json_t **doc, const char **code,
			     struct ows_err *err)
{
	char raw[POLICY_B64_MAX];
	json_t *v;
	int64_t t;
	long n;
	int rv = 0;

	*doc = NULL;
	n = b64 != NULL && strlen(b64) < POLICY_B64_MAX
		? ows_b64_decode_n(b64, strlen(b64), raw, sizeof(raw))
		: -EINVAL;
	if (n < 0)
		return ows__s3_refuse(code, "InvalidPolicyDocument", err,
				      "Invalid Policy: "
				      "Invalid Simple-Base64 value");
	v = json_loadb(raw, (size_t)n, 0, NULL);
	if (!json_is_object(v))
		rv = ows__s3_refuse(code, "InvalidPolicyDocument", err,
				    "Invalid Policy: "
				    "Invalid JSON.");
	else if (!json_is_string(json_object_get(v, "expiration")))
		rv = ows__s3_refuse(code, "InvalidPolicyDocument", err,
				    "Invalid Policy: "
				    "Policy missing expiration.");
	else if (iso8601(json_string_value(json_object_get(v, "expiration")),
			 &t) != 0)
		rv = ows__s3_refuse(
		    code, "InvalidPolicyDocument", err,
		    "Invalid Policy: "
		    "Invalid 'expiration' value: '%.64s'",
		    json_string_value(json_object_get(v, "expiration")));
	else if (!json_is_array(json_object_get(v, "conditions")))
		rv = ows__s3_refuse(code, "InvalidPolicyDocument", err,
				    "Invalid Policy: "
				    "Policy missing conditions.");
	if (rv != 0) {
		json_decref(v);
		return rv;
	}
	*doc = v;
	return 0;
}

/* The form field a condition names ("$Key" -> "key"), or NULL. */
static const char *field_name(const char *s, char *buf, size_t cap)
{
	size_t i;

	if (s == NULL)
		return NULL;
	if (*s == '$')
		s++;
	for (i = 0; s[i] && i + 1 < cap; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

/* The value a condition compares: the field's, or the bucket's. */
static const char *value_of(const json_t *fields, const char *bucket,
			    const char *name)
{
	if (strcmp(name, "bucket") == 0)
		return bucket;
	return json_string_value(json_object_get(fields, name));
}

static int mark(json_t *named, const char *name)
{
	return json_object_set_new(named, name, json_true());
}

/* A condition's text for the message, as S3 quotes it. */
static void cond_text(const json_t *c, char *out, size_t cap)
{
	char *t = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(out, cap, "%s", t ? t : "?");
	free(t);
}

/* One condition of the list; named collects the fields it names. */
static int check_one(const json_t *c, const json_t *fields, const char *bucket,
		     json_t *named, uint64_t *min, uint64_t *max,
		     const char **code, struct ows_err *err)
{
	char nbuf[256], text[200];
	const char *op, *name, *want, *have;
	const json_t *v;
	const char *k;

	cond_text(c, text, sizeof(text));
	if (json_is_object(c) && json_object_size(c) == 1) {
		json_object_foreach ((json_t *)c, k, v) {
			name = field_name(k, nbuf, sizeof(nbuf));
			want = json_string_value(v);
			have = value_of(fields, bucket, name);
			if (want == NULL)
				break;
			mark(named, name);
			if (have == NULL || strcmp(have, want) != 0)
				return ows__s3_refuse(
				    code, "AccessDenied", err,
				    "Invalid according to Policy: "
				    "Policy Condition failed: %s",
				    text);
			return 0;
		}
	}
	if (!json_is_array(c) || json_array_size(c) != 3)
		return ows__s3_refuse(code, "InvalidPolicyDocument", err,
				      "Invalid Policy: "
				      "Invalid Condition: %s",
				      text);
	op = json_string_value(json_array_get(c, 0));
	if (op != NULL && strcasecmp(op, "content-length-range") == 0) {
		const json_t *lo = json_array_get(c, 1),
			     *hi = json_array_get(c, 2);

		if (!json_is_integer(lo) || !json_is_integer(hi) ||
		    json_integer_value(lo) < 0 ||
		    json_integer_value(hi) < json_integer_value(lo))
			return ows__s3_refuse(
			    code, "InvalidPolicyDocument", err,
			    "Invalid Policy: Invalid content-length-"
			    "range: %s",
			    text);
		*min = (uint64_t)json_integer_value(lo);
		*max = (uint64_t)json_integer_value(hi);
		return 0;
	}
	name = field_name(json_string_value(json_array_get(c, 1)), nbuf,
			  sizeof(nbuf));
	want = json_string_value(json_array_get(c, 2));
	if (op == NULL || name == NULL || want == NULL ||
	    (strcasecmp(op, "eq") != 0 && strcasecmp(op, "starts-with") != 0))
		return ows__s3_refuse(code, "InvalidPolicyDocument", err,
				      "Invalid Policy: "
				      "Invalid Condition: %s",
				      text);
	mark(named, name);
	have = value_of(fields, bucket, name);
	if (strcasecmp(op, "eq") == 0
		? have == NULL || strcmp(have, want) != 0
		: (have == NULL && *want != '\0') ||
		      (have != NULL && strncmp(have, want, strlen(want)) != 0))
		return ows__s3_refuse(code, "AccessDenied", err,
				      "Invalid according to "
				      "Policy: Policy Condition failed: %s",
				      text);
	return 0;
}

/* Fields that need no condition. */
static bool exempt(const char *name)
{
	/* and Signature Version 2's own two */
	return strcmp(name, "x-amz-signature") == 0 ||
	       strcmp(name, "signature") == 0 ||
	       strcmp(name, "awsaccesskeyid") == 0 ||
	       strcmp(name, "policy") == 0 || strcmp(name, "file") == 0 ||
	       strncmp(name, "x-ignore-", 9) == 0;
}

int ows__s3_post_policy_check(const json_t *doc, const json_t *fields,
			      const char *bucket, int64_t now, uint64_t *min,
			      uint64_t *max, const char **code,
			      struct ows_err *err)
{
	const json_t *conds = json_object_get(doc, "conditions"), *c, *v;
	json_t *named = json_object();
	int64_t expires = 0;
	const char *k;
	size_t i;
	int rv = 0;

	*min = 0;
	*max = UINT64_MAX;
	if (named == NULL)
		return -ENOMEM;
	iso8601(json_string_value(json_object_get(doc, "expiration")),
		&expires);
	if (now >= expires)
		rv = ows__s3_refuse(code, "AccessDenied", err,
				    "Invalid according to "
				    "Policy: Policy expired.");
	json_array_foreach (conds, i, c) {
		if (rv != 0)
			break;
		rv = check_one(c, fields, bucket, named, min, max, code, err);
	}
	json_object_foreach ((json_t *)fields, k, v) {
		if (rv != 0)
			break;
		if (!exempt(k) && json_object_get(named, k) == NULL)
			rv = ows__s3_refuse(
			    code, "AccessDenied", err,
			    "Invalid according "
			    "to Policy: Extra input fields: %.100s",
			    k);
	}
	json_decref(named);
	return rv;
}
