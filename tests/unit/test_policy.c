/*
 * Unit tests for the IAM policy evaluator (src/auth/policy.c): the
 * wildcard matcher, statement matching, the Deny-over-Allow rule across
 * documents, each condition operator with its missing-key behaviour,
 * validation messages, and fail-closed evaluation of malformed input.
 */
#include <jansson.h>
#include <string.h>

#include "auth/policy.h"
#include "../lib/unit.h"

#define ALLOW OWS_POLICY_ALLOW
#define DENY OWS_POLICY_EXPLICIT_DENY
#define NONE OWS_POLICY_DEFAULT_DENY

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *doc = json_loads(text, JSON_DECODE_ANY, &je);

	if (doc == NULL)
		fprintf(stderr, "bad test JSON: %s: %s\n", je.text, text);
	OWS_CHECK(doc != NULL);
	return doc;
}

static enum ows_policy_decision eval_ctx(const char *policy,
					 const char *action,
					 const char *resource,
					 const struct ows_policy_ctx_entry *ctx,
					 size_t n_ctx)
{
	struct ows_policy_request req = {action, resource, ctx, n_ctx};
	json_t *doc = parse(policy);
	const json_t *docs[1] = {doc};
	enum ows_policy_decision d = ows_policy_eval(docs, 1, &req);

	json_decref(doc);
	return d;
}

static enum ows_policy_decision eval(const char *policy, const char *action,
				     const char *resource)
{
	return eval_ctx(policy, action, resource, NULL, 0);
}

/* Evaluate a one-statement Allow on s3:GetObject with this Condition. */
static enum ows_policy_decision cond(const char *condition,
				     const struct ows_policy_ctx_entry *ctx,
				     size_t n_ctx)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
		 "\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\","
		 "\"Condition\":%s}}", condition);
	return eval_ctx(text, "s3:GetObject", "arn:ows:s3:::b/k", ctx, n_ctx);
}

/* Validate text; returns the code and leaves the message in msg. */
static int validate(const char *policy, char *msg, size_t size)
{
	struct ows_err err = {""};
	json_t *doc = parse(policy);
	int rc = ows_policy_validate(doc, &err);

	json_decref(doc);
	snprintf(msg, size, "%s", err.msg);
	return rc;
}

static void check_invalid(const char *policy, const char *want)
{
	char msg[OWS_ERR_MSG_SIZE];

	OWS_CHECK_INT(validate(policy, msg, sizeof(msg)), OWS_EINVAL);
	OWS_CHECK_STR(msg, want);
}

static void check_valid(const char *policy)
{
	char msg[OWS_ERR_MSG_SIZE];
	int rc = validate(policy, msg, sizeof(msg));

	if (rc != 0)
		fprintf(stderr, "unexpected: %s\n", msg);
	OWS_CHECK_INT(rc, 0);
}

#define ONE(effect, action, resource)                                    \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"" effect \
	"\",\"Action\":" action ",\"Resource\":" resource "}]}"

/* ------------------------------------------------------------------ */
/* Wildcards                                                           */

OWS_TEST(policy_match_basic)
{
	OWS_CHECK(ows_policy_match("abc", "abc", false));
	OWS_CHECK(!ows_policy_match("abc", "abcd", false));
	OWS_CHECK(!ows_policy_match("abcd", "abc", false));
	OWS_CHECK(ows_policy_match("", "", false));
	OWS_CHECK(!ows_policy_match("", "a", false));
	OWS_CHECK(ows_policy_match("*", "", false));
	OWS_CHECK(ows_policy_match("*", "anything", false));
	OWS_CHECK(ows_policy_match("a*", "a", false));
	OWS_CHECK(ows_policy_match("a*c", "abbbc", false));
	OWS_CHECK(ows_policy_match("a*c", "ac", false));
	OWS_CHECK(!ows_policy_match("a*c", "abcd", false));
	OWS_CHECK(ows_policy_match("*c", "abcbc", false));
	OWS_CHECK(ows_policy_match("a?c", "abc", false));
	OWS_CHECK(!ows_policy_match("a?c", "ac", false));
	OWS_CHECK(ows_policy_match("??", "ab", false));
	OWS_CHECK(!ows_policy_match("?", "", false));
	OWS_CHECK(ows_policy_match("a**b", "axxb", false));
	OWS_CHECK(ows_policy_match("*a*b*", "xxaxxbxx", false));
	OWS_CHECK(!ows_policy_match("*a*b*", "xxbxxaxx", false));
	OWS_CHECK(!ows_policy_match(NULL, "a", false));
	OWS_CHECK(!ows_policy_match("a", NULL, false));
}

OWS_TEST(policy_match_case)
{
	OWS_CHECK(ows_policy_match("S3:get*", "s3:GetObject", true));
	OWS_CHECK(!ows_policy_match("S3:get*", "s3:GetObject", false));
	OWS_CHECK(ows_policy_match("s3:Get?bject", "S3:GETOBJECT", true));
}

OWS_TEST(policy_match_utf8_question_is_one_char)
{
	/* "\xc3\xa9" is one character, e with an acute accent */
	OWS_CHECK(ows_policy_match("a?b", "a\xc3\xa9"
				   "b", false));
	OWS_CHECK(!ows_policy_match("a??b", "a\xc3\xa9"
				    "b", false));
	OWS_CHECK(ows_policy_match("*?", "\xc3\xa9", false));
	OWS_CHECK(!ows_policy_match("*??", "\xc3\xa9", false));
}

OWS_TEST(policy_match_pathological_is_polynomial)
{
	static char s[10001];
	static char p[4001];
	size_t i;

	memset(s, 'a', sizeof(s) - 1);
	OWS_CHECK(!ows_policy_match("a*a*a*a*a*a*a*b", s, false));
	OWS_CHECK(ows_policy_match("a*a*a*a*a*a*a*a", s, false));
	/* many stars: still one saved position */
	for (i = 0; i + 1 < sizeof(p); i += 2) {
		p[i] = '*';
		p[i + 1] = 'a';
	}
	p[sizeof(p) - 2] = 'b';
	OWS_CHECK(!ows_policy_match(p, s, true));
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */

OWS_TEST(policy_allow_exact)
{
	const char *p = ONE("Allow", "\"s3:GetObject\"", "\"arn:ows:s3:::b/k\"");

	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::b/k"), ALLOW);
	OWS_CHECK_INT(eval(p, "s3:PutObject", "arn:ows:s3:::b/k"), NONE);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::b/j"), NONE);
}

OWS_TEST(policy_default_deny_without_docs)
{
	struct ows_policy_request req = {"s3:GetObject", "arn:x", NULL, 0};

	OWS_CHECK_INT(ows_policy_eval(NULL, 0, &req), NONE);
}

OWS_TEST(policy_deny_beats_allow_in_one_doc)
{
	const char *p =
		"{\"Statement\":["
		"{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\","
		"\"Resource\":\"arn:ows:s3:::prod/*\"}]}";

	OWS_CHECK_INT(eval(p, "s3:DeleteObject", "arn:ows:s3:::prod/k"), DENY);
	OWS_CHECK_INT(eval(p, "s3:DeleteObject", "arn:ows:s3:::dev/k"), ALLOW);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::prod/k"), ALLOW);
}

OWS_TEST(policy_deny_beats_allow_across_docs)
{
	json_t *allow = parse(ONE("Allow", "\"*\"", "\"*\""));
	json_t *deny = parse(ONE("Deny", "\"iam:*\"", "\"*\""));
	const json_t *both[2] = {allow, deny};
	const json_t *rev[2] = {deny, allow};
	struct ows_policy_request req = {"iam:CreateUser", "arn:x", NULL, 0};
	struct ows_policy_request other = {"s3:GetObject", "arn:x", NULL, 0};

	OWS_CHECK_INT(ows_policy_eval(both, 2, &req), DENY);
	OWS_CHECK_INT(ows_policy_eval(rev, 2, &req), DENY);
	OWS_CHECK_INT(ows_policy_eval(both, 2, &other), ALLOW);
	OWS_CHECK_INT(ows_policy_eval(both, 1, &req), ALLOW);
	OWS_CHECK_INT(ows_policy_eval(rev + 1, 1, &other), ALLOW);
	json_decref(allow);
	json_decref(deny);
}

OWS_TEST(policy_union_of_allows)
{
	json_t *a = parse(ONE("Allow", "\"s3:GetObject\"", "\"*\""));
	json_t *b = parse(ONE("Allow", "\"s3:PutObject\"", "\"*\""));
	const json_t *docs[2] = {a, b};
	struct ows_policy_request get = {"s3:GetObject", "r", NULL, 0};
	struct ows_policy_request put = {"s3:PutObject", "r", NULL, 0};
	struct ows_policy_request del = {"s3:DeleteObject", "r", NULL, 0};

	OWS_CHECK_INT(ows_policy_eval(docs, 2, &get), ALLOW);
	OWS_CHECK_INT(ows_policy_eval(docs, 2, &put), ALLOW);
	OWS_CHECK_INT(ows_policy_eval(docs, 2, &del), NONE);
	json_decref(a);
	json_decref(b);
}

OWS_TEST(policy_deny_alone_is_explicit)
{
	const char *p = ONE("Deny", "\"s3:*\"", "\"*\"");

	OWS_CHECK_INT(eval(p, "s3:GetObject", "x"), DENY);
	OWS_CHECK_INT(eval(p, "ddb:GetItem", "x"), NONE);
}

OWS_TEST(policy_action_wildcards_case_insensitive)
{
	const char *prefix = ONE("Allow", "\"s3:Get*\"", "\"*\"");
	const char *middle = ONE("Allow", "\"ows:users.*ut\"", "\"*\"");
	const char *one = ONE("Allow", "\"s3:?etObject\"", "\"*\"");

	OWS_CHECK_INT(eval(prefix, "s3:GetObject", "r"), ALLOW);
	OWS_CHECK_INT(eval(prefix, "S3:GETOBJECTACL", "r"), ALLOW);
	OWS_CHECK_INT(eval(prefix, "s3:PutObject", "r"), NONE);
	OWS_CHECK_INT(eval(middle, "ows:users.put", "r"), ALLOW);
	OWS_CHECK_INT(eval(middle, "OWS:Users.Input", "r"), ALLOW);
	OWS_CHECK_INT(eval(middle, "ows:users.get", "r"), NONE);
	OWS_CHECK_INT(eval(one, "s3:SetObject", "r"), ALLOW);
	OWS_CHECK_INT(eval(one, "s3:etObject", "r"), NONE);
}

OWS_TEST(policy_resource_wildcards_case_sensitive)
{
	const char *p = ONE("Allow", "\"*\"", "\"arn:ows:s3:::logs/*/2024-??\"");

	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::logs/a/b/2024-01"),
		      ALLOW);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::LOGS/a/2024-01"),
		      NONE);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::logs/a/2024-1"),
		      NONE);
	OWS_CHECK_INT(eval(ONE("Allow", "\"*\"", "\"*\""), "x:y", "anything"),
		      ALLOW);
}

OWS_TEST(policy_arrays_of_actions_and_resources)
{
	const char *p = ONE("Allow", "[\"s3:GetObject\",\"s3:PutObject\"]",
			    "[\"arn:a\",\"arn:b/*\"]");

	OWS_CHECK_INT(eval(p, "s3:PutObject", "arn:b/x"), ALLOW);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:a"), ALLOW);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:c"), NONE);
	OWS_CHECK_INT(eval(p, "s3:ListBucket", "arn:a"), NONE);
}

OWS_TEST(policy_statement_single_object)
{
	const char *p = "{\"Statement\":{\"Effect\":\"Allow\","
			"\"Action\":\"s3:*\",\"Resource\":\"*\"}}";

	OWS_CHECK_INT(eval(p, "s3:GetObject", "r"), ALLOW);
	check_valid(p);
}

OWS_TEST(policy_not_action)
{
	const char *p = "{\"Statement\":[{\"Effect\":\"Allow\","
			"\"NotAction\":[\"iam:*\",\"ows:users.*\"],"
			"\"Resource\":\"*\"}]}";
	const char *d = "{\"Statement\":[{\"Effect\":\"Deny\","
			"\"NotAction\":\"s3:Get*\",\"Resource\":\"*\"}]}";

	OWS_CHECK_INT(eval(p, "s3:GetObject", "r"), ALLOW);
	OWS_CHECK_INT(eval(p, "IAM:CreateUser", "r"), NONE);
	OWS_CHECK_INT(eval(p, "ows:users.put", "r"), NONE);
	OWS_CHECK_INT(eval(d, "s3:PutObject", "r"), DENY);
	OWS_CHECK_INT(eval(d, "s3:GetObject", "r"), NONE);
}

OWS_TEST(policy_not_resource)
{
	const char *p = "{\"Statement\":[{\"Effect\":\"Allow\","
			"\"Action\":\"s3:*\","
			"\"NotResource\":[\"arn:ows:s3:::secret\","
			"\"arn:ows:s3:::secret/*\"]}]}";

	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::pub/k"), ALLOW);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::secret/k"), NONE);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::secret"), NONE);
	/* case-sensitive: a different resource */
	OWS_CHECK_INT(eval(p, "s3:GetObject", "arn:ows:s3:::Secret"), ALLOW);
}

/* ------------------------------------------------------------------ */
/* Conditions                                                          */

static const struct ows_policy_ctx_entry ctx_std[] = {
	{"aws:username", "alice"},
	{"s3:prefix", "home/alice/docs"},
	{"s3:max-keys", "10"},
	{"aws:SecureTransport", "true"},
	{"aws:SourceIp", "192.168.1.20"},
};
#define N_STD (sizeof(ctx_std) / sizeof(ctx_std[0]))

OWS_TEST(policy_cond_string_equals)
{
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:username\":\"alice\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:username\":\"Alice\"}}",
			   ctx_std, N_STD), NONE);
	/* any listed value matches */
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:username\":"
			   "[\"bob\",\"alice\"]}}", ctx_std, N_STD), ALLOW);
	/* context keys are compared case-insensitively */
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"AWS:UserName\":\"alice\"}}",
			   ctx_std, N_STD), ALLOW);
	/* missing key: false */
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:userid\":\"alice\"}}",
			   ctx_std, N_STD), NONE);
	/* numbers in JSON compare by their text */
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"s3:max-keys\":10}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"s3:prefix\":0.1}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"s3:max-keys\":[0.1,10]}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:SecureTransport\":true}}",
			   ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_string_not_equals)
{
	OWS_CHECK_INT(cond("{\"StringNotEquals\":{\"aws:username\":"
			   "[\"bob\",\"carol\"]}}", ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringNotEquals\":{\"aws:username\":"
			   "[\"bob\",\"alice\"]}}", ctx_std, N_STD), NONE);
	/* AWS: a negated operator on a missing key is true */
	OWS_CHECK_INT(cond("{\"StringNotEquals\":{\"aws:userid\":\"x\"}}",
			   ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_string_ignore_case)
{
	OWS_CHECK_INT(cond("{\"StringEqualsIgnoreCase\":{\"aws:username\":"
			   "\"ALICE\"}}", ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEqualsIgnoreCase\":{\"aws:username\":"
			   "\"bob\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringNotEqualsIgnoreCase\":{\"aws:username\":"
			   "\"ALICE\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringNotEqualsIgnoreCase\":{\"aws:username\":"
			   "\"BOB\"}}", ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEqualsIgnoreCase\":{\"nope\":\"a\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringNotEqualsIgnoreCase\":{\"nope\":\"a\"}}",
			   ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_string_like)
{
	OWS_CHECK_INT(cond("{\"StringLike\":{\"s3:prefix\":\"home/*/docs\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringLike\":{\"s3:prefix\":\"HOME/*\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringLike\":{\"s3:prefix\":[\"x\",\"h?me*\"]}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringLike\":{\"nope\":\"*\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringNotLike\":{\"s3:prefix\":\"home/bob/*\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringNotLike\":{\"s3:prefix\":\"home/*\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringNotLike\":{\"nope\":\"*\"}}",
			   ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_numeric)
{
	static const struct {
		const char *op, *value;
		enum ows_policy_decision want;
	} cases[] = {
		{"NumericEquals", "10", ALLOW},
		{"NumericEquals", "10.0", ALLOW},
		{"NumericEquals", "11", NONE},
		{"NumericNotEquals", "11", ALLOW},
		{"NumericNotEquals", "10", NONE},
		{"NumericLessThan", "11", ALLOW},
		{"NumericLessThan", "10", NONE},
		{"NumericLessThanEquals", "10", ALLOW},
		{"NumericLessThanEquals", "9.5", NONE},
		{"NumericGreaterThan", "9", ALLOW},
		{"NumericGreaterThan", "10", NONE},
		{"NumericGreaterThanEquals", "10", ALLOW},
		{"NumericGreaterThanEquals", "-3", ALLOW},
		{"NumericGreaterThanEquals", "10.5", NONE},
	};
	char c[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(c, sizeof(c), "{\"%s\":{\"s3:max-keys\":\"%s\"}}",
			 cases[i].op, cases[i].value);
		if (cond(c, ctx_std, N_STD) != cases[i].want)
			fprintf(stderr, "case %zu: %s\n", i, c);
		OWS_CHECK_INT(cond(c, ctx_std, N_STD), cases[i].want);
	}
	/* JSON numbers, and a list: any value */
	OWS_CHECK_INT(cond("{\"NumericEquals\":{\"s3:max-keys\":[5,10]}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"NumericLessThan\":{\"s3:max-keys\":10.5}}",
			   ctx_std, N_STD), ALLOW);
	/* missing key */
	OWS_CHECK_INT(cond("{\"NumericLessThan\":{\"nope\":\"1\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"NumericNotEquals\":{\"nope\":\"1\"}}",
			   ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_numeric_bad_context_fails_closed)
{
	static const struct ows_policy_ctx_entry ctx[] = {{"n", "ten"}};
	const char *deny = "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":"
			   "\"*\",\"Resource\":\"*\",\"Condition\":"
			   "{\"NumericNotEquals\":{\"n\":\"10\"}}}}";

	OWS_CHECK_INT(cond("{\"NumericNotEquals\":{\"n\":\"10\"}}", ctx, 1),
		      NONE);
	OWS_CHECK_INT(cond("{\"NumericEquals\":{\"n\":\"10\"}}", ctx, 1), NONE);
	OWS_CHECK_INT(eval_ctx(deny, "s3:GetObject", "r", ctx, 1), DENY);
}

OWS_TEST(policy_cond_bool)
{
	static const struct ows_policy_ctx_entry no_tls[] = {
		{"aws:SecureTransport", "false"},
	};

	OWS_CHECK_INT(cond("{\"Bool\":{\"aws:SecureTransport\":\"true\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"Bool\":{\"aws:SecureTransport\":true}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"Bool\":{\"aws:SecureTransport\":\"false\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"Bool\":{\"aws:SecureTransport\":\"false\"}}",
			   no_tls, 1), ALLOW);
	OWS_CHECK_INT(cond("{\"Bool\":{\"aws:MultiFactorAuthPresent\":"
			   "\"false\"}}", ctx_std, N_STD), NONE);
}

OWS_TEST(policy_cond_ip_v4)
{
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"192.168.0.0/16\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"192.168.1.20\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "\"192.168.1.16/29\"}}", ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "\"192.168.1.24/29\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "[\"10.0.0.0/8\",\"0.0.0.0/0\"]}}", ctx_std, N_STD),
		      ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"NotIpAddress\":{\"aws:SourceIp\":"
			   "\"192.168.0.0/16\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:VpcSourceIp\":"
			   "\"0.0.0.0/0\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"NotIpAddress\":{\"aws:VpcSourceIp\":"
			   "\"0.0.0.0/0\"}}", ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_ip_v6)
{
	static const struct ows_policy_ctx_entry v6[] = {
		{"aws:SourceIp", "2001:db8:85a3::8a2e:370:7334"},
	};
	static const struct ows_policy_ctx_entry mapped[] = {
		{"aws:SourceIp", "::ffff:10.1.2.3"},
	};

	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "\"2001:db8::/32\"}}", v6, 1), ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "\"2001:db8:85a3::/49\"}}", v6, 1), ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "\"2001:db9::/32\"}}", v6, 1), NONE);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":"
			   "\"2001:db8:85a3:8000::/49\"}}", v6, 1), NONE);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"::/0\"}}",
			   v6, 1), ALLOW);
	/* families never match each other */
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}",
			   v6, 1), NONE);
	OWS_CHECK_INT(cond("{\"NotIpAddress\":{\"aws:SourceIp\":"
			   "\"2001:db8::/32\"}}", v6, 1), NONE);
	/* an IPv4-mapped client address is judged as IPv4 */
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
			   mapped, 1), ALLOW);
}

OWS_TEST(policy_cond_ip_bad_context_fails_closed)
{
	static const struct ows_policy_ctx_entry bad[] = {
		{"aws:SourceIp", "not-an-ip"},
	};

	OWS_CHECK_INT(cond("{\"NotIpAddress\":{\"aws:SourceIp\":"
			   "\"10.0.0.0/8\"}}", bad, 1), NONE);
	OWS_CHECK_INT(cond("{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}",
			   bad, 1), NONE);
}

OWS_TEST(policy_cond_null)
{
	OWS_CHECK_INT(cond("{\"Null\":{\"aws:TokenIssueTime\":\"true\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"Null\":{\"aws:TokenIssueTime\":\"false\"}}",
			   ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"Null\":{\"aws:username\":\"false\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"Null\":{\"aws:username\":true}}",
			   ctx_std, N_STD), NONE);
}

OWS_TEST(policy_cond_if_exists)
{
	OWS_CHECK_INT(cond("{\"StringEqualsIfExists\":{\"nope\":\"x\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEqualsIfExists\":{\"aws:username\":"
			   "\"bob\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringEqualsIfExists\":{\"aws:username\":"
			   "\"alice\"}}", ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"NumericLessThanIfExists\":{\"nope\":\"1\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"IpAddressIfExists\":{\"aws:SourceIp\":"
			   "\"10.0.0.0/8\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"BoolIfExists\":{\"nope\":\"true\"}}",
			   ctx_std, N_STD), ALLOW);
}

OWS_TEST(policy_cond_set_qualifiers)
{
	static const struct ows_policy_ctx_entry tags[] = {
		{"aws:TagKeys", "env"},
		{"aws:TagKeys", "team"},
	};

	OWS_CHECK_INT(cond("{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":"
			   "[\"env\",\"team\",\"cost\"]}}", tags, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":"
			   "[\"env\"]}}", tags, 2), NONE);
	OWS_CHECK_INT(cond("{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":"
			   "[\"team\"]}}", tags, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":"
			   "[\"cost\"]}}", tags, 2), NONE);
	/* empty set: ForAllValues true, ForAnyValue false */
	OWS_CHECK_INT(cond("{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":"
			   "\"env\"}}", NULL, 0), ALLOW);
	OWS_CHECK_INT(cond("{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":"
			   "\"env\"}}", NULL, 0), NONE);
	OWS_CHECK_INT(cond("{\"ForAnyValue:StringLikeIfExists\":"
			   "{\"aws:TagKeys\":\"x*\"}}", NULL, 0), ALLOW);
}

OWS_TEST(policy_cond_and_or)
{
	/* operators AND, keys AND, values OR */
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:username\":\"alice\","
			   "\"s3:max-keys\":[\"1\",\"10\"]},"
			   "\"Bool\":{\"aws:SecureTransport\":\"true\"}}",
			   ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:username\":\"alice\","
			   "\"s3:max-keys\":\"11\"}}", ctx_std, N_STD), NONE);
	OWS_CHECK_INT(cond("{\"StringEquals\":{\"aws:username\":\"alice\"},"
			   "\"Bool\":{\"aws:SecureTransport\":\"false\"}}",
			   ctx_std, N_STD), NONE);
}

OWS_TEST(policy_cond_deny_with_condition)
{
	const char *p =
		"{\"Version\":\"2012-10-17\",\"Statement\":["
		"{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\","
		"\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}";
	static const struct ows_policy_ctx_entry plain[] = {
		{"aws:SecureTransport", "false"},
	};

	OWS_CHECK_INT(eval_ctx(p, "s3:GetObject", "r", ctx_std, N_STD), ALLOW);
	OWS_CHECK_INT(eval_ctx(p, "s3:GetObject", "r", plain, 1), DENY);
	/* the key absent: Bool is false, the Deny does not apply */
	OWS_CHECK_INT(eval_ctx(p, "s3:GetObject", "r", NULL, 0), ALLOW);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

OWS_TEST(policy_validate_good)
{
	check_valid(ONE("Allow", "\"s3:GetObject\"", "\"arn:ows:s3:::b/*\""));
	check_valid("{\"Version\":\"2008-10-17\",\"Id\":\"x\",\"Statement\":"
		    "[{\"Sid\":\"A\",\"Effect\":\"Deny\",\"NotAction\":"
		    "[\"s3:*\"],\"NotResource\":\"arn:x\",\"Condition\":{"
		    "\"StringLike\":{\"s3:prefix\":[\"a*\",\"b\"]},"
		    "\"NumericLessThan\":{\"n\":5},"
		    "\"Bool\":{\"b\":true},"
		    "\"IpAddress\":{\"ip\":[\"10.0.0.0/8\",\"::1\"]},"
		    "\"Null\":{\"k\":\"false\"},"
		    "\"ForAnyValue:StringEqualsIfExists\":{\"t\":\"v\"}}}]}");
	check_valid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		    "\"Resource\":\"arn:${literal}\"}}");
}

OWS_TEST(policy_validate_top_level)
{
	struct ows_err err = {""};

	OWS_CHECK_INT(ows_policy_validate(NULL, &err), OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "policy must be a JSON object");
	check_invalid("[]", "policy must be a JSON object");
	check_invalid("\"x\"", "policy must be a JSON object");
	check_invalid("{}", "Statement is missing");
	check_invalid("{\"Version\":\"2012-10-17\"}", "Statement is missing");
	check_invalid("{\"Statement\":[]}",
		      "Statement must be an object or a non-empty array");
	check_invalid("{\"Statement\":\"Allow\"}",
		      "Statement must be an object or a non-empty array");
	check_invalid("{\"Version\":\"2012-10-18\",\"Statement\":[]}",
		      "Version must be \"2012-10-17\" or \"2008-10-17\"");
	check_invalid("{\"Version\":20121017,\"Statement\":[]}",
		      "Version must be \"2012-10-17\" or \"2008-10-17\"");
	check_invalid("{\"Id\":1,\"Statement\":[]}", "Id must be a string");
	check_invalid("{\"Statement\":[],\"Extra\":1}",
		      "unknown top-level key 'Extra'");
}

OWS_TEST(policy_validate_statement_shape)
{
	check_invalid("{\"Statement\":[1]}", "Statement[0]: must be an object");
	check_invalid("{\"Statement\":[" "{\"Effect\":\"Allow\",\"Action\":"
		      "\"*\",\"Resource\":\"*\"},{\"Effect\":\"allow\","
		      "\"Action\":\"*\",\"Resource\":\"*\"}]}",
		      "Statement[1]: unknown Effect 'allow'");
	check_invalid("{\"Statement\":{\"Action\":\"*\",\"Resource\":\"*\"}}",
		      "Statement[0]: Effect is missing");
	check_invalid("{\"Statement\":{\"Effect\":true,\"Action\":\"*\","
		      "\"Resource\":\"*\"}}",
		      "Statement[0]: Effect must be a string");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Sid\":1,"
		      "\"Action\":\"*\",\"Resource\":\"*\"}}",
		      "Statement[0]: Sid must be a string");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"Resource\":\"*\",\"Foo\":1}}",
		      "Statement[0]: unknown key 'Foo'");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"Resource\":\"*\",\"Principal\":\"*\"}}",
		      "Statement[0]: Principal is not allowed in an "
		      "identity-based policy");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"Resource\":\"*\",\"NotPrincipal\":{\"AWS\":\"x\"}}}",
		      "Statement[0]: NotPrincipal is not allowed in an "
		      "identity-based policy");
}

OWS_TEST(policy_validate_action_resource)
{
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}",
		      "Statement[0]: needs Action or NotAction");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"NotAction\":\"*\",\"Resource\":\"*\"}}",
		      "Statement[0]: has both Action and NotAction");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}",
		      "Statement[0]: needs Resource or NotResource");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"Resource\":\"*\",\"NotResource\":\"*\"}}",
		      "Statement[0]: has both Resource and NotResource");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":5,"
		      "\"Resource\":\"*\"}}",
		      "Statement[0]: Action must be a string or a non-empty "
		      "array of strings");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[],"
		      "\"Resource\":\"*\"}}",
		      "Statement[0]: Action must be a string or a non-empty "
		      "array of strings");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
		      "[\"s3:Get\",null],\"Resource\":\"*\"}}",
		      "Statement[0]: Action[1] must be a string");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":"
		      "\"GetObject\",\"Resource\":\"*\"}}",
		      "Statement[0]: NotAction 'GetObject' must be '*' or "
		      "'service:action'");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"NotResource\":[\"a\",{}]}}",
		      "Statement[0]: NotResource[1] must be a string");
	check_invalid("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		      "\"Resource\":\"\"}}",
		      "Statement[0]: Resource is an empty string");
	check_invalid("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
		      "\"Allow\",\"Action\":\"*\",\"Resource\":"
		      "\"arn:${aws:username}\"}}",
		      "Statement[0]: Resource 'arn:${aws:username}' uses a "
		      "policy variable, which is not supported");
}

OWS_TEST(policy_validate_condition)
{
#define C(c) "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"," \
	     "\"Resource\":\"*\",\"Condition\":" c "}}"
	check_invalid(C("[]"), "Statement[0]: Condition must be an object");
	check_invalid(C("{\"StringEqual\":{\"k\":\"v\"}}"),
		      "Statement[0]: unknown Condition operator 'StringEqual'");
	check_invalid(C("{\"stringequals\":{\"k\":\"v\"}}"),
		      "Statement[0]: unknown Condition operator 'stringequals'");
	check_invalid(C("{\"NullIfExists\":{\"k\":\"true\"}}"),
		      "Statement[0]: unknown Condition operator 'NullIfExists'");
	check_invalid(C("{\"ForSomeValues:StringLike\":{\"k\":\"v\"}}"),
		      "Statement[0]: unknown Condition operator "
		      "'ForSomeValues:StringLike'");
	check_invalid(C("{\"DateGreaterThan\":{\"k\":\"v\"}}"),
		      "Statement[0]: Condition DateGreaterThan 'k': value "
		      "must be a date (ISO 8601 or epoch seconds)");
	check_invalid(C("{\"DateGreaterThanIsh\":{\"k\":\"v\"}}"),
		      "Statement[0]: unknown Condition operator "
		      "'DateGreaterThanIsh'");
	check_invalid(C("{\"ArnLike\":{\"k\":1}}"),
		      "Statement[0]: Condition ArnLike 'k': value must be an "
		      "ARN");
	check_invalid(C("{\"StringLike\":\"v\"}"),
		      "Statement[0]: Condition StringLike must be a non-empty "
		      "object");
	check_invalid(C("{\"StringLike\":{}}"),
		      "Statement[0]: Condition StringLike must be a non-empty "
		      "object");
	check_invalid(C("{\"StringLike\":{\"k\":[]}}"),
		      "Statement[0]: Condition StringLike 'k': empty value list");
	check_invalid(C("{\"StringLike\":{\"k\":{\"a\":1}}}"),
		      "Statement[0]: Condition StringLike 'k': value must be a "
		      "string, number or boolean");
	check_invalid(C("{\"StringLike\":{\"k\":[\"a\",null]}}"),
		      "Statement[0]: Condition StringLike 'k': value must be a "
		      "string, number or boolean");
	check_invalid(C("{\"NumericEquals\":{\"k\":\"0x10\"}}"),
		      "Statement[0]: Condition NumericEquals 'k': value must be "
		      "a number");
	check_invalid(C("{\"Bool\":{\"k\":\"yes\"}}"),
		      "Statement[0]: Condition Bool 'k': value must be "
		      "\"true\" or \"false\"");
	check_invalid(C("{\"Null\":{\"k\":1}}"),
		      "Statement[0]: Condition Null 'k': value must be "
		      "\"true\" or \"false\"");
	check_invalid(C("{\"IpAddress\":{\"k\":\"10.0.0.0/33\"}}"),
		      "Statement[0]: Condition IpAddress 'k': value must be an "
		      "IP address or CIDR block");
	check_invalid(C("{\"NotIpAddress\":{\"k\":\"10.0.0\"}}"),
		      "Statement[0]: Condition NotIpAddress 'k': value must be "
		      "an IP address or CIDR block");
	check_invalid(C("{\"IpAddress\":{\"k\":\"::1/129\"}}"),
		      "Statement[0]: Condition IpAddress 'k': value must be an "
		      "IP address or CIDR block");
#undef C
}

/* ------------------------------------------------------------------ */
/* Fail-closed evaluation                                              */

OWS_TEST(policy_eval_garbage_never_allows)
{
	static const char *const docs[] = {
		"null", "1", "\"Allow\"", "[]", "{}", "{\"Statement\":null}",
		"{\"Statement\":[]}", "{\"Statement\":[null]}",
		"{\"Statement\":{\"Effect\":\"Allow\"}}",
		"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":1,"
		"\"Resource\":\"*\"}}",
		"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		"\"Resource\":\"*\",\"Condition\":{\"Bogus\":{\"k\":\"v\"}}}}",
		"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		"\"Resource\":\"*\",\"Principal\":\"*\"}}",
		"{\"Version\":\"1\",\"Statement\":{\"Effect\":\"Allow\","
		"\"Action\":\"*\",\"Resource\":\"*\"}}",
		"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
		"\"Resource\":\"*\"},\"Junk\":true}",
		"{\"Statement\":{\"Effect\":\"allow\",\"Action\":\"*\","
		"\"Resource\":\"*\"}}",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (eval(docs[i], "s3:GetObject", "r") == ALLOW)
			fprintf(stderr, "allowed: %s\n", docs[i]);
		OWS_CHECK(eval(docs[i], "s3:GetObject", "r") != ALLOW);
	}
}

OWS_TEST(policy_eval_malformed_allow_skipped_valid_allow_kept)
{
	const char *p = "{\"Statement\":["
			"{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
			"\"Resource\":\"*\",\"Condition\":{\"Nope\":{}}},"
			"{\"Effect\":\"Allow\",\"Action\":\"ddb:*\","
			"\"Resource\":\"*\"}]}";

	OWS_CHECK_INT(eval(p, "s3:GetObject", "r"), NONE);
	OWS_CHECK_INT(eval(p, "ddb:GetItem", "r"), ALLOW);
}

OWS_TEST(policy_eval_malformed_deny_denies)
{
	const char *p = "{\"Statement\":["
			"{\"Effect\":\"Allow\",\"Action\":\"*\","
			"\"Resource\":\"*\"},"
			"{\"Effect\":\"Deny\",\"Action\":\"s3:*\","
			"\"Resource\":\"*\",\"Condition\":{\"Nope\":{}}}]}";
	const char *unknown = "{\"Statement\":["
			      "{\"Effect\":\"Allow\",\"Action\":\"*\","
			      "\"Resource\":\"*\"},"
			      "{\"Effect\":\"DENY\",\"Action\":\"s3:*\","
			      "\"Resource\":\"*\"}]}";
	const char *var = "{\"Version\":\"2012-10-17\",\"Statement\":["
			  "{\"Effect\":\"Allow\",\"Action\":\"*\","
			  "\"Resource\":\"*\"},"
			  "{\"Effect\":\"Deny\",\"Action\":\"*\","
			  "\"Resource\":\"arn:${aws:username}\"}]}";

	OWS_CHECK_INT(eval(p, "ddb:GetItem", "r"), DENY);
	OWS_CHECK_INT(eval(unknown, "ddb:GetItem", "r"), DENY);
	OWS_CHECK_INT(eval(var, "ddb:GetItem", "r"), DENY);
}

OWS_TEST(policy_eval_bad_request_denies)
{
	json_t *doc = parse(ONE("Allow", "\"*\"", "\"*\""));
	const json_t *docs[2] = {doc, NULL};
	struct ows_policy_request req = {"s3:GetObject", "r", NULL, 0};
	struct ows_policy_ctx_entry bad[] = {{"k", NULL}};

	OWS_CHECK_INT(ows_policy_eval(docs, 1, &req), ALLOW);
	OWS_CHECK_INT(ows_policy_eval(docs, 2, &req), DENY);
	OWS_CHECK_INT(ows_policy_eval(NULL, 1, &req), DENY);
	OWS_CHECK_INT(ows_policy_eval(docs, 1, NULL), DENY);
	req.action = NULL;
	OWS_CHECK_INT(ows_policy_eval(docs, 1, &req), DENY);
	req.action = "s3:GetObject";
	req.resource = NULL;
	OWS_CHECK_INT(ows_policy_eval(docs, 1, &req), DENY);
	req.resource = "r";
	req.n_ctx = 1;
	OWS_CHECK_INT(ows_policy_eval(docs, 1, &req), DENY);
	req.ctx = bad;
	OWS_CHECK_INT(ows_policy_eval(docs, 1, &req), DENY);
	json_decref(doc);
}

OWS_TEST(policy_eval_version_2008_takes_dollar_literally)
{
	const char *p = "{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":"
			"\"Allow\",\"Action\":\"*\",\"Resource\":\"a${b}\"}}";

	OWS_CHECK_INT(eval(p, "s3:GetObject", "a${b}"), ALLOW);
	OWS_CHECK_INT(eval(p, "s3:GetObject", "ax"), NONE);
}

/* ------------------------------------------------------------------ */
/* Dates, ARNs and known keys (issue 7)                                */

OWS_TEST(policy_cond_dates)
{
	static const struct ows_policy_ctx_entry now[] = {
		{"aws:CurrentTime", "2024-05-01T12:00:00Z"},
		{"aws:EpochTime", "1714564800"},
	};

	OWS_CHECK_INT(cond("{\"DateLessThan\":{\"aws:CurrentTime\":"
			   "\"2024-05-01T12:00:01Z\"}}", now, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"DateLessThan\":{\"aws:CurrentTime\":"
			   "\"2024-05-01T12:00:00Z\"}}", now, 2), NONE);
	OWS_CHECK_INT(cond("{\"DateLessThanEquals\":{\"aws:CurrentTime\":"
			   "\"2024-05-01T12:00:00Z\"}}", now, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"DateGreaterThan\":{\"aws:CurrentTime\":"
			   "\"2024-05-01\"}}", now, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"DateGreaterThan\":{\"aws:CurrentTime\":"
			   "\"2024-05-02\"}}", now, 2), NONE);
	/* an offset, fractions, epoch seconds on either side */
	OWS_CHECK_INT(cond("{\"DateEquals\":{\"aws:CurrentTime\":"
			   "\"2024-05-01T14:00:00.000+02:00\"}}", now, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"DateEquals\":{\"aws:CurrentTime\":1714564800}}",
			   now, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"DateGreaterThanEquals\":{\"aws:EpochTime\":"
			   "\"2024-05-01T12:00:00Z\"}}", now, 2), ALLOW);
	OWS_CHECK_INT(cond("{\"DateNotEquals\":{\"aws:CurrentTime\":"
			   "\"2024-05-01T12:00:00Z\"}}", now, 2), NONE);
	/* absent key: false, IfExists: true */
	OWS_CHECK_INT(cond("{\"DateLessThan\":{\"x:t\":\"2030-01-01\"}}", now,
			   2), NONE);
	OWS_CHECK_INT(cond("{\"DateLessThanIfExists\":{\"x:t\":\"2030-01-01\"}}",
			   now, 2), ALLOW);
}

OWS_TEST(policy_cond_arns)
{
	static const struct ows_policy_ctx_entry pols[] = {
		{"iam:PolicyARN", "arn:ows:iam::policy/team-a-ro"},
		{"iam:PolicyARN", "arn:ows:iam::policy/team-a-rw"},
	};

	OWS_CHECK_INT(cond("{\"ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/team-a-*\"}}", pols, 1),
		      ALLOW);
	OWS_CHECK_INT(cond("{\"ArnEquals\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/team-a-ro\"}}", pols, 1),
		      ALLOW);
	/* a '*' in one part does not swallow a ':' */
	OWS_CHECK_INT(cond("{\"ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:*/team-a-ro\"}}", pols, 1), NONE);
	OWS_CHECK_INT(cond("{\"ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:*:*::policy/team-a-ro\"}}", pols, 1), ALLOW);
	OWS_CHECK_INT(cond("{\"ArnNotLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/team-b-*\"}}", pols, 1),
		      ALLOW);
	/* set operators over the multi-valued key */
	OWS_CHECK_INT(cond("{\"ForAllValues:ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/team-a-*\"}}", pols, 2),
		      ALLOW);
	OWS_CHECK_INT(cond("{\"ForAllValues:ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/team-a-ro\"}}", pols, 2),
		      NONE);
	OWS_CHECK_INT(cond("{\"ForAnyValue:ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/team-a-rw\"}}", pols, 2),
		      ALLOW);
	OWS_CHECK_INT(cond("{\"ForAnyValue:ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/admin\"}}", pols, 2), NONE);
}

OWS_TEST(policy_check_keys)
{
	static const char *const keys[] = {"aws:SourceIp", "iam:PolicyARN"};
	struct ows_err err = {""};
	json_t *ok = parse("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
			   "\"*\",\"Resource\":\"*\",\"Condition\":{"
			   "\"IpAddress\":{\"aws:sourceip\":\"10.0.0.0/8\"},"
			   "\"ArnLike\":{\"iam:PolicyARN\":\"arn:*\"}}}}");
	json_t *bad = parse("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
			    "\"*\",\"Resource\":\"*\"},{\"Effect\":\"Deny\","
			    "\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":"
			    "{\"IpAddress\":{\"aws:SorceIp\":\"10.0.0.1\"}}}]}");

	OWS_CHECK_INT(ows_policy_check_keys(ok, keys, 2, &err), 0);
	OWS_CHECK_INT(ows_policy_check_keys(bad, keys, 2, &err), OWS_EINVAL);
	OWS_CHECK_STR(err.msg, "Statement[1]: unknown Condition key "
		      "'aws:SorceIp'");
	json_decref(ok);
	json_decref(bad);
}

OWS_TEST(policy_cond_arn_resource_colons)
{
	static const struct ows_policy_ctx_entry colon[] = {
		{"iam:PolicyARN", "arn:ows:iam::policy/admin:x"},
	};

	/* a ':' in an OWS name stays inside the resource part */
	OWS_CHECK_INT(cond("{\"ArnLike\":{\"iam:PolicyARN\":"
			   "\"arn:ows:iam::policy/admin*\"}}", colon, 1), ALLOW);
}
