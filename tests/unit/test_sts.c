/*
 * STS (src/sts/sts.c) against the fake host, over HTTP in the query
 * protocol (a form body Action=...&Version=2011-06-15): who
 * GetCallerIdentity says a user, a role session and a function session
 * are; GetSessionToken's credentials, opened with auth/session.h under
 * the host's session key; AssumeRole for a role that trusts the caller,
 * and its refusals in query-XML; DurationSeconds' bounds; an unknown
 * Action; Action in the query string. The replies are read with strstr:
 * the first element of a name is the one meant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/unit.h"
#include "auth/session.h"
#include "common/enc.h"
#include "fake_host.h"
#include "sts/sts.h"

#define CHECK OWS_CHECK
#define CHECK_INT OWS_CHECK_INT
#define CHECK_STR OWS_CHECK_STR

#define ACCOUNT "000000000000"
#define FORM(action) "Action=" action "&Version=2011-06-15"
/* arn:ows:iam::000000000000:role/ form-encoded, as SDKs send it */
#define ROLE_ARN(name) "arn%3Aows%3Aiam%3A%3A" ACCOUNT "%3Arole%2F" name

static void req(struct fake_host *fh, const char *method, const char *target,
		const char *body, struct fake_reply *r)
{
	fake_reply_free(r);
	fake_host_request(fh, method, target, body, r);
}

static void post(struct fake_host *fh, const char *body, struct fake_reply *r)
{
	req(fh, "POST", "/", body, r);
}

/* The text of the first <name>...</name> in xml, in a static buffer;
 * NULL when there is none. */
static const char *elem(const char *xml, const char *name)
{
	static char out[2][2048];
	static int turn;
	char open[64], close[64];
	const char *a, *b;
	char *o = out[turn++ & 1];

	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	if (xml == NULL || (a = strstr(xml, open)) == NULL)
		return NULL;
	a += strlen(open);
	if ((b = strstr(a, close)) == NULL || (size_t)(b - a) >= sizeof(out[0]))
		return NULL;
	memcpy(o, a, (size_t)(b - a));
	o[b - a] = '\0';
	return o;
}

/* A query-XML error: status, <ErrorResponse><Error><Code>, a RequestId. */
static void check_error(const struct fake_reply *r, int status,
			const char *code)
{
	CHECK_INT(r->status, status);
	CHECK(r->raw != NULL);
	CHECK(strstr(r->raw, "<ErrorResponse") == r->raw);
	CHECK(strstr(r->raw, "<Error><Type>") != NULL);
	CHECK_STR(elem(r->raw, "Type"), status >= 500 ? "Receiver" : "Sender");
	CHECK_STR(elem(r->raw, "Code"), code);
	CHECK(elem(r->raw, "RequestId") != NULL &&
	      strlen(elem(r->raw, "RequestId")) == 36);
	CHECK(strstr(r->raw, "<Credentials>") == NULL);
}

/* AWS's role id as sts.c documents it: "AROA" and the first 8 bytes of
 * SHA-256(role) in upper-case hex, computed here. */
static void role_id(const char *role, char out[21])
{
	uint8_t h[32];

	ows_sha256(role, strlen(role), h);
	snprintf(out, 21, "AROA");
	for (int i = 0; i < 8; i++)
		snprintf(out + 4 + 2 * i, 3, "%02X", h[i]);
}

static void iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void setup(struct fake_host *fh)
{
	fake_host_init(fh, &ows_sts_service, NULL);
	fake_host_put(fh, "users.put", "alice", "{}");
	fake_host_put(fh, "users.put", "bob", "{}");
	fake_host_put(fh, "roles.put", "deployer",
		      "{\"trusted_users\": [\"alice\"], "
		      "\"max_session_s\": 7200}");
	fake_host_put(fh, "roles.put", "bobs", "{\"trusted_users\": [\"bob\"]}");
}

/*
 * Credentials in r (a 200 of op), opened under the fake host's session
 * key: s gets the session; its expiry lies in [before + d, after + d]
 * with before/after the clock around the request; Expiration says it.
 */
static void open_credentials(const struct fake_reply *r, const char *op,
			     int64_t before, int64_t after, long d,
			     struct ows_session *s)
{
	static const uint8_t key[32] = {1};
	char open[160], secret[OWS_SESSION_SECRET_LEN + 1], akid[32];
	char token[OWS_SESSION_TOKEN_MAX], exp[32];

	CHECK_INT(r->status, 200);
	snprintf(open, sizeof(open), "<%sResponse xmlns=\"https://sts."
		 "amazonaws.com/doc/2011-06-15/\"><%sResult><Credentials>",
		 op, op);
	CHECK(strstr(r->raw, open) == r->raw);
	CHECK(elem(r->raw, "AccessKeyId") != NULL);
	snprintf(akid, sizeof(akid), "%s", elem(r->raw, "AccessKeyId"));
	CHECK_INT(strlen(akid), 20);
	CHECK(strncmp(akid, "ASIA", 4) == 0);
	CHECK(elem(r->raw, "SessionToken") != NULL);
	snprintf(token, sizeof(token), "%s", elem(r->raw, "SessionToken"));
	CHECK(strncmp(token, "OWS1.", 5) == 0);
	CHECK_INT(ows_session_open(key, akid, token, after, s, secret), 0);
	CHECK_STR(s->key_id, akid);
	CHECK_STR(elem(r->raw, "SecretAccessKey"), secret);
	CHECK(s->expires >= before + d && s->expires <= after + d);
	iso8601(s->expires, exp);
	CHECK_STR(elem(r->raw, "Expiration"), exp);
	CHECK(elem(r->raw, "RequestId") != NULL &&
	      strlen(elem(r->raw, "RequestId")) == 36);
	/* the token is for this key id only, and only under this key */
	{
		static const uint8_t other[32] = {2};
		struct ows_session t;

		CHECK(ows_session_open(key, "ASIAAAAAAAAAAAAAAAAA", token,
				       after, &t, secret) != 0);
		CHECK(ows_session_open(other, akid, token, after, &t,
				       secret) != 0);
	}
}

OWS_TEST(sts_caller_identity_user)
{
	struct fake_host fh;
	struct fake_reply r = {0};

	setup(&fh);
	fake_host_caller(&fh, "users", "bob", "bob", "AKIAB0B0000000000001",
			 NULL);
	post(&fh, FORM("GetCallerIdentity"), &r);
	CHECK_INT(r.status, 200);
	CHECK(strstr(r.raw, "<GetCallerIdentityResponse xmlns=\"https://sts."
			    "amazonaws.com/doc/2011-06-15/\">"
			    "<GetCallerIdentityResult>") == r.raw);
	CHECK_STR(elem(r.raw, "Arn"), "arn:ows:iam::" ACCOUNT ":user/bob");
	CHECK_STR(elem(r.raw, "UserId"), "AKIAB0B0000000000001");
	CHECK_STR(elem(r.raw, "Account"), ACCOUNT);
	CHECK(strlen(elem(r.raw, "RequestId")) == 36);

	/* the caller was for that request only: alice again */
	post(&fh, FORM("GetCallerIdentity"), &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"), "arn:ows:iam::" ACCOUNT ":user/alice");

	/* a user's own session (GetSessionToken's) is still the user */
	fake_host_caller(&fh, "users", "bob", "bob", "ASIAB0B0000000000002",
			 "");
	post(&fh, FORM("GetCallerIdentity"), &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"), "arn:ows:iam::" ACCOUNT ":user/bob");
	CHECK_STR(elem(r.raw, "UserId"), "ASIAB0B0000000000002");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(sts_caller_identity_sessions)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	char rid[21], uid[64];

	setup(&fh);
	/* a role's session, as AssumeRole made it */
	fake_host_caller(&fh, "roles", "deployer", "", "ASIADEP0000000000001",
			 "ci-run");
	post(&fh, FORM("GetCallerIdentity"), &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/deployer/ci-run");
	role_id("deployer", rid);
	snprintf(uid, sizeof(uid), "%s:ci-run", rid);
	CHECK_STR(elem(r.raw, "UserId"), uid);
	CHECK_STR(elem(r.raw, "Account"), ACCOUNT);

	/* a function's session: the role lambda-NAME, the session NAME */
	fake_host_caller(&fh, "functions", "resize", "", "ASIAFN00000000000001",
			 "resize");
	post(&fh, FORM("GetCallerIdentity"), &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/lambda-resize/resize");
	role_id("lambda-resize", rid);
	snprintf(uid, sizeof(uid), "%s:resize", rid);
	CHECK_STR(elem(r.raw, "UserId"), uid);
	CHECK_STR(elem(r.raw, "Account"), ACCOUNT);
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(sts_get_session_token)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	struct ows_session s;
	int64_t before, after;

	setup(&fh);
	before = (int64_t)time(NULL);
	post(&fh, FORM("GetSessionToken"), &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "GetSessionToken", before, after, 43200, &s);
	CHECK_STR(s.kind, "users");
	CHECK_STR(s.name, "alice");
	CHECK_STR(s.source, "");
	CHECK_STR(s.session_name, "");
	CHECK(strstr(r.raw, "<AssumedRoleUser>") == NULL);

	/* for the caller, not for whoever the form names */
	fake_host_caller(&fh, "users", "bob", "bob", "AKIAB0B0000000000001",
			 NULL);
	before = (int64_t)time(NULL);
	post(&fh, FORM("GetSessionToken") "&DurationSeconds=900", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "GetSessionToken", before, after, 900, &s);
	CHECK_STR(s.name, "bob");

	before = (int64_t)time(NULL);
	post(&fh, FORM("GetSessionToken") "&DurationSeconds=129600", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "GetSessionToken", before, after, 129600, &s);
	CHECK_STR(s.name, "alice");

	/* 900 s to 36 h */
	post(&fh, FORM("GetSessionToken") "&DurationSeconds=899", &r);
	check_error(&r, 400, "ValidationError");
	post(&fh, FORM("GetSessionToken") "&DurationSeconds=129601", &r);
	check_error(&r, 400, "ValidationError");
	post(&fh, FORM("GetSessionToken") "&DurationSeconds=3600s", &r);
	check_error(&r, 400, "ValidationError");

	/* not with session credentials, as on AWS */
	fake_host_caller(&fh, "users", "alice", "alice",
			 "ASIAA11CE00000000001", "");
	post(&fh, FORM("GetSessionToken"), &r);
	check_error(&r, 403, "AccessDenied");
	CHECK(strstr(elem(r.raw, "Message"), "session credentials") != NULL);
	fake_host_caller(&fh, "roles", "deployer", "", "ASIADEP0000000000001",
			 "ci-run");
	post(&fh, FORM("GetSessionToken"), &r);
	check_error(&r, 403, "AccessDenied");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(sts_assume_role)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	struct ows_session s;
	int64_t before, after;
	char rid[21], want[128], akid[32];

	setup(&fh);
	before = (int64_t)time(NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=ci-run", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "AssumeRole", before, after, 3600, &s);
	CHECK_STR(s.kind, "roles");
	CHECK_STR(s.name, "deployer");
	CHECK_STR(s.source, "alice");
	CHECK_STR(s.session_name, "ci-run");
	role_id("deployer", rid);
	snprintf(want, sizeof(want), "%s:ci-run", rid);
	CHECK(strstr(r.raw, "<AssumedRoleUser><AssumedRoleId>") != NULL);
	CHECK_STR(elem(r.raw, "AssumedRoleId"), want);
	/* the first <Arn> is AssumedRoleUser's */
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/deployer/ci-run");

	/* the session says the same of itself */
	snprintf(akid, sizeof(akid), "%s", s.key_id);
	fake_host_caller(&fh, s.kind, s.name, "", akid, s.session_name);
	post(&fh, FORM("GetCallerIdentity"), &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/deployer/ci-run");
	CHECK_STR(elem(r.raw, "UserId"), want);

	/* the other forms of a role ARN: aws, and ows's short form */
	post(&fh, FORM("AssumeRole") "&RoleArn=arn:aws:iam::" ACCOUNT
		  ":role/deployer&RoleSessionName=a.b@c", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/deployer/a.b@c");
	post(&fh, FORM("AssumeRole") "&RoleArn=arn:ows:iam::role/deployer"
		  "&RoleSessionName=short", &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/deployer/short");

	/* a user's own session may assume a role (AWS allows it too) */
	fake_host_caller(&fh, "users", "alice", "alice",
			 "ASIAA11CE00000000001", "");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=from-session", &r);
	CHECK_INT(r.status, 200);

	/* root is trusted by every role */
	fake_host_caller(&fh, "users", "root", "root", "AKIAR00T000000000001",
			 NULL);
	before = (int64_t)time(NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("bobs")
		  "&RoleSessionName=admin", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "AssumeRole", before, after, 3600, &s);
	CHECK_STR(s.name, "bobs");
	CHECK_STR(s.source, "root");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(sts_assume_role_refused)
{
	struct fake_host fh;
	struct fake_reply r = {0};

	setup(&fh);
	/* a role that does not trust alice */
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("bobs")
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	CHECK_STR(elem(r.raw, "Message"),
		  "User: alice is not authorized to perform: sts:AssumeRole "
		  "on resource: arn:ows:iam::" ACCOUNT ":role/bobs");
	/* ... which trusts bob */
	fake_host_caller(&fh, "users", "bob", "bob", "AKIAB0B0000000000001",
			 NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("bobs")
		  "&RoleSessionName=x1", &r);
	CHECK_INT(r.status, 200);
	/* and bob is not trusted by deployer */
	fake_host_caller(&fh, "users", "bob", "bob", "AKIAB0B0000000000001",
			 NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");

	/* no such role: the same answer, nothing told */
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("nosuch")
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	CHECK_STR(elem(r.raw, "Message"),
		  "User: alice is not authorized to perform: sts:AssumeRole "
		  "on resource: arn:ows:iam::" ACCOUNT ":role/nosuch");

	/* deployer's name, in another account */
	post(&fh, FORM("AssumeRole") "&RoleArn=arn:ows:iam::123456789012:"
		  "role/deployer&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	post(&fh, FORM("AssumeRole") "&RoleArn=arn:aws:iam::0000000000001:"
		  "role/deployer&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	/* not a role's ARN */
	post(&fh, FORM("AssumeRole") "&RoleArn=arn:ows:iam::" ACCOUNT
		  ":user/deployer&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	post(&fh, FORM("AssumeRole") "&RoleArn=arn:ows:s3:::deployer"
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");

	/* role chaining: a role's or a function's session is refused */
	fake_host_caller(&fh, "roles", "deployer", "", "ASIADEP0000000000001",
			 "ci-run");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	CHECK(strncmp(elem(r.raw, "Message"), "User: deployer is not "
		      "authorized", 32) == 0);
	/* ... even were the session's user filled in (from its source) */
	fake_host_caller(&fh, "roles", "deployer", "alice",
			 "ASIADEP0000000000001", "ci-run");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");
	fake_host_caller(&fh, "functions", "alice", "", "ASIAFN00000000000001",
			 "alice");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=x1", &r);
	check_error(&r, 403, "AccessDenied");

	/* the parameters: RoleArn, RoleSessionName of 2-64 [\w+=,.@-] */
	post(&fh, FORM("AssumeRole") "&RoleSessionName=x1", &r);
	check_error(&r, 400, "ValidationError");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer"), &r);
	check_error(&r, 400, "ValidationError");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=x", &r);
	check_error(&r, 400, "ValidationError");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=a%2Fb", &r);
	check_error(&r, 400, "ValidationError");
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName="
		  "12345678901234567890123456789012345678901234567890123456789"
		  "012345", &r);
	check_error(&r, 400, "ValidationError");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(sts_assume_role_duration)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	struct ows_session s;
	int64_t before, after;

	setup(&fh);
	/* deployer's max_session_s is 7200 */
	before = (int64_t)time(NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=long&DurationSeconds=7200", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "AssumeRole", before, after, 7200, &s);
	before = (int64_t)time(NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=short&DurationSeconds=900", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "AssumeRole", before, after, 900, &s);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=long&DurationSeconds=7201", &r);
	check_error(&r, 400, "ValidationError");
	CHECK(strstr(elem(r.raw, "Message"), "MaxSessionDuration") != NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("deployer")
		  "&RoleSessionName=short&DurationSeconds=899", &r);
	check_error(&r, 400, "ValidationError");

	/* a role without max_session_s: 1 h at most */
	fake_host_caller(&fh, "users", "bob", "bob", "AKIAB0B0000000000001",
			 NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("bobs")
		  "&RoleSessionName=b1&DurationSeconds=3601", &r);
	check_error(&r, 400, "ValidationError");
	fake_host_caller(&fh, "users", "bob", "bob", "AKIAB0B0000000000001",
			 NULL);
	before = (int64_t)time(NULL);
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("bobs")
		  "&RoleSessionName=b1&DurationSeconds=3600", &r);
	after = (int64_t)time(NULL);
	open_credentials(&r, "AssumeRole", before, after, 3600, &s);
	CHECK_STR(s.source, "bob");

	/* a refused caller is told AccessDenied whatever the duration */
	post(&fh, FORM("AssumeRole") "&RoleArn=" ROLE_ARN("bobs")
		  "&RoleSessionName=b1&DurationSeconds=99999", &r);
	check_error(&r, 403, "AccessDenied");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

OWS_TEST(sts_actions)
{
	struct fake_host fh;
	struct fake_reply r = {0};

	setup(&fh);
	/* an unknown Action, a missing one, a near miss */
	post(&fh, FORM("GetFederationTokenX"), &r);
	check_error(&r, 400, "InvalidAction");
	CHECK(strstr(r.raw, "<ErrorResponse xmlns=\"https://sts.amazonaws.com"
			    "/doc/2011-06-15/\"><Error><Type>Sender</Type>"
			    "<Code>InvalidAction</Code><Message>") == r.raw);
	post(&fh, "Version=2011-06-15", &r);
	check_error(&r, 400, "InvalidAction");
	post(&fh, FORM("getcalleridentity"), &r);
	check_error(&r, 400, "InvalidAction");

	/* Action in the query string, by POST with no body and by GET */
	req(&fh, "POST", "/?" FORM("GetCallerIdentity"), NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"), "arn:ows:iam::" ACCOUNT ":user/alice");
	req(&fh, "GET", "/?" FORM("GetCallerIdentity"), NULL, &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Account"), ACCOUNT);
	req(&fh, "GET", "/?" FORM("NoSuchThing"), NULL, &r);
	check_error(&r, 400, "InvalidAction");

	/* the other parameters may be in the query too */
	req(&fh, "POST", "/?RoleArn=" ROLE_ARN("deployer")
		"&RoleSessionName=q1", FORM("AssumeRole"), &r);
	CHECK_INT(r.status, 200);
	CHECK_STR(elem(r.raw, "Arn"),
		  "arn:ows:sts::" ACCOUNT ":assumed-role/deployer/q1");
	fake_reply_free(&r);
	fake_host_close(&fh);
}

/*
 * A form past 4 KB (AssumeRole with an inline session Policy, say) is
 * read whole: the parameters after the first 4 KB still count.
 */
OWS_TEST(sts_long_form_read_whole)
{
	struct fake_host fh;
	struct fake_reply r = {0};
	struct ows_session s;
	char *body, pad[6001];
	int64_t before, after;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	setup(&fh);
	CHECK(asprintf(&body, "%s&Padding=%s&RoleArn=%s&RoleSessionName=late",
		       FORM("AssumeRole"), pad, ROLE_ARN("deployer")) > 0);
	before = (int64_t)time(NULL);
	post(&fh, body, &r);
	after = (int64_t)time(NULL);
	free(body);
	open_credentials(&r, "AssumeRole", before, after, 3600, &s);
	CHECK_STR(s.name, "deployer");
	CHECK_STR(s.session_name, "late");
	fake_reply_free(&r);
	fake_host_close(&fh);
}
