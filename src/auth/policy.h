/*
 * IAM policy evaluation, as AWS documents it ("Policy evaluation logic"):
 * default deny; an Allow in any applicable statement allows; an explicit
 * Deny in any applicable statement wins over every Allow.
 *
 * Policies are AWS IAM JSON documents:
 *   {"Version": "2012-10-17",
 *    "Statement": [{"Sid": "...", "Effect": "Allow"|"Deny",
 *                   "Action"|"NotAction": "svc:Verb*" | [...],
 *                   "Resource"|"NotResource": "arn:..." | [...],
 *                   "Condition": {"StringEquals": {"key": "v" | [...]}, ...}}]}
 * "Statement" may be one object instead of an array. Action matching is
 * case-insensitive, resource matching case-sensitive; both support the "*"
 * (any run of characters) and "?" (one character) wildcards.
 *
 * This module judges every control-plane action (ows:users.put) and every
 * S3, DynamoDB and Lambda call, so it is pure: no I/O, no allocation that
 * outlives a call.
 */
#ifndef OWS_AUTH_POLICY_H
#define OWS_AUTH_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum ows_policy_decision {
	OWS_POLICY_DEFAULT_DENY, /* no statement applied */
	OWS_POLICY_ALLOW,
	OWS_POLICY_EXPLICIT_DENY,
};

/* Request context for Condition keys ("aws:SourceIp", "s3:prefix", ...). */
struct ows_policy_ctx_entry {
	const char *key;   /* compared case-insensitively, as AWS does */
	const char *value;
};

struct ows_policy_request {
	const char *action;    /* "ows:users.put", "s3:GetObject" */
	const char *resource;  /* "arn:ows:iam::user/dev" */
	const struct ows_policy_ctx_entry *ctx;
	size_t n_ctx;
};

/*
 * Check that doc is a policy this evaluator understands: Version
 * "2012-10-17" or "2008-10-17" (optional), Statement present, each statement
 * with a valid Effect, exactly one of Action/NotAction, exactly one of
 * Resource/NotResource, strings where strings belong, and only supported
 * Condition operators (String*, Numeric*, Date*, Bool, IpAddress,
 * NotIpAddress, Arn*, Null; ForAnyValue:/ForAllValues: and ...IfExists).
 * Returns 0, or OWS_EINVAL with the reason in err.
 */
int ows_policy_validate(const json_t *doc, struct ows_err *err);

/*
 * Check that every Condition key of the valid document doc is one of the n
 * keys (compared case-insensitively, as AWS compares keys): a policy that
 * names a key no request carries would be silently ignored, so it is
 * refused when it is applied. OWS_EINVAL naming the first unknown key.
 */
int ows_policy_check_keys(const json_t *doc, const char *const *keys,
			  size_t n, struct ows_err *err);

/*
 * Evaluate the request against the union of n policy documents (borrowed).
 * Invalid statements never allow (and a Deny statement that cannot be
 * evaluated is treated as matching: fail closed).
 */
enum ows_policy_decision ows_policy_eval(const json_t *const *docs, size_t n,
					 const struct ows_policy_request *req);

/* AWS-style wildcard match: '*' any run, '?' one char. */
bool ows_policy_match(const char *pattern, const char *s, bool nocase);

#endif
