/*
 * STS on the edge port (query protocol, 2011-06-15):
 *
 * - GetCallerIdentity answers who signed the request (a user, a role's
 *   session, a function's session); as on AWS it needs no permission.
 * - GetSessionToken gives a user temporary credentials with the user's own
 *   permissions (900 s to 36 h, 12 h by default); not with session
 *   credentials, as on AWS.
 * - AssumeRole gives credentials for a role (a resource kind of stack
 *   files) to a user its "trusted_users" name: the session may do what the
 *   role's policies allow, for 900 s up to the role's max_session_s (1 h by
 *   default). Role chaining (a session assuming a role) is refused.
 *
 * Credentials are minted by auth/session.c: nothing is stored, and no
 * secret reaches a log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/session.h"
#include "common/enc.h"
#include "common/json.h"
#include "common/log.h"
#include "aws/auth.h"
#include "aws/call.h"
#include "sts/sts.h"
#include "ledger/authz.h"
#include "state/state.h"

#define XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"

/* The form body: the call's whole body, NUL-terminated (aws/call.h). */
struct form {
	const char *text;
};

static bool param(struct ows_aws_call *c, const struct form *f,
		  const char *key, char *out, size_t cap)
{
	return ows_query_get(f->text, key, out, cap) ||
	       ows_query_get(c->req->query, key, out, cap);
}

/* The session name of c's role session ("" without a session). */
static const char *session_name(const struct ows_aws_call *c)
{
	const struct ows_session *s = ows_aws_call_session(c);

	return s != NULL ? s->session_name : "";
}

/* An id for a role, stable and not secret (AWS's "AROA..."). */
static void role_id(const char *role, char out[21])
{
	uint8_t h[32];
	char hex[65];

	ows_sha256(role, strlen(role), h);
	ows_hex_encode(h, 8, hex);
	snprintf(out, 21, "AROA%.16s", hex);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

/* The caller's ARN and UserId, as GetCallerIdentity says them. */
static void identity(const struct ows_aws_call *c, char *arn, size_t acap,
		     char *uid, size_t ucap)
{
	char rid[21];

	if (strcmp(c->caller.kind, "roles") == 0) {
		role_id(c->caller.name, rid);
		snprintf(arn, acap, "arn:ows:sts::%s:assumed-role/%s/%s",
			 c->host->account, c->caller.name, session_name(c));
		snprintf(uid, ucap, "%s:%s", rid, session_name(c));
	} else if (strcmp(c->caller.kind, "functions") == 0) {
		char role[300];

		snprintf(role, sizeof(role), "lambda-%s", c->caller.name);
		role_id(role, rid);
		snprintf(arn, acap, "arn:ows:sts::%s:assumed-role/%s/%s",
			 c->host->account, role, c->caller.name);
		snprintf(uid, ucap, "%s:%s", rid, c->caller.name);
	} else {
		snprintf(arn, acap, "arn:ows:iam::%s:user/%s", c->host->account,
			 c->caller.user);
		snprintf(uid, ucap, "%s", c->caller.access_key);
	}
}

static void get_caller_identity(struct ows_aws_call *c)
{
	char xml[2048], arn[600], uid[400];

	identity(c, arn, sizeof(arn), uid, sizeof(uid));
	snprintf(xml, sizeof(xml),
		 "<GetCallerIdentityResponse xmlns=\"" XMLNS "\">"
		 "<GetCallerIdentityResult>"
		 "<Arn>%s</Arn><UserId>%s</UserId>"
		 "<Account>%s</Account></GetCallerIdentityResult>"
		 "<ResponseMetadata><RequestId>%s</RequestId>"
		 "</ResponseMetadata></GetCallerIdentityResponse>",
		 arn, uid, c->host->account, c->request_id);
	ows_aws_reply_xml(c, 200, xml);
}

static void iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* DurationSeconds: def when absent; -1 when not a number in [lo, hi]. */
static long duration(struct ows_aws_call *c, const struct form *f, long def,
		     long lo, long hi)
{
	char v[32];
	char *end;
	long d;

	if (!param(c, f, "DurationSeconds", v, sizeof(v)))
		return def;
	d = strtol(v, &end, 10);
	if (*end != '\0' || end == v || d < lo || d > hi)
		return -1;
	return d;
}

/* Mint s and answer with its <Credentials> inside result (the rest of
 * the result's XML, may be ""). */
static void reply_credentials(struct ows_aws_call *c, const char *op,
			      struct ows_session *s, const char *extra)
{
	char secret[OWS_SESSION_SECRET_LEN + 1], token[OWS_SESSION_TOKEN_MAX];
	char exp[32], *xml;
	size_t cap = 4096;

	if (ows_session_mint(c->host->session_key, s, secret, token,
			     sizeof(token)) != 0) {
		ows_aws_error(c, 500, "InternalFailure",
			      "cannot issue credentials");
		return;
	}
	xml = malloc(cap);
	if (xml == NULL) {
		memset(secret, 0, sizeof(secret));
		ows_aws_error(c, 500, "InternalFailure", "out of memory");
		return;
	}
	iso8601(s->expires, exp);
	snprintf(xml, cap,
		 "<%sResponse xmlns=\"" XMLNS "\"><%sResult><Credentials>"
		 "<AccessKeyId>%s</AccessKeyId>"
		 "<SecretAccessKey>%s</SecretAccessKey>"
		 "<SessionToken>%s</SessionToken>"
		 "<Expiration>%s</Expiration></Credentials>%s</%sResult>"
		 "<ResponseMetadata><RequestId>%s</RequestId>"
		 "</ResponseMetadata></%sResponse>",
		 op, op, s->key_id, secret, token, exp, extra, op,
		 c->request_id, op);
	memset(secret, 0, sizeof(secret));
	ows_log(OWS_LOG_INFO, "sts", "%s: %s for %s '%s' until %s", op,
		s->key_id, s->kind, s->name, exp);
	ows_aws_reply_xml(c, 200, xml);
	memset(xml, 0, cap);
	free(xml);
}

static void get_session_token(struct ows_aws_call *c, const struct form *f)
{
	struct ows_session s = {0};
	long d;

	if (c->caller.session) {
		ows_aws_error(c, 403, "AccessDenied", "Cannot call "
			      "GetSessionToken with session credentials");
		return;
	}
	d = duration(c, f, 43200, 900, 129600);
	if (d < 0) {
		ows_aws_error(c, 400, "ValidationError", "DurationSeconds "
			      "must be between 900 and 129600");
		return;
	}
	snprintf(s.kind, sizeof(s.kind), "users");
	snprintf(s.name, sizeof(s.name), "%.128s", c->caller.user);
	s.expires = (int64_t)time(NULL) + d;
	reply_credentials(c, "GetSessionToken", &s, "");
}

/* The role name of a RoleArn: arn:ows|aws:iam::[ACCOUNT]:role/NAME (our
 * short form arn:ows:iam::role/NAME too); "" when it is not one. */
static void role_of_arn(const struct ows_aws_call *c, const char *arn,
			char *out, size_t cap)
{
	const char *rest, *name;
	size_t acct;

	out[0] = '\0';
	if (strncmp(arn, "arn:ows:iam::", 13) == 0 ||
	    strncmp(arn, "arn:aws:iam::", 13) == 0)
		rest = arn + 13;
	else
		return;
	if (strncmp(rest, "role/", 5) == 0) {
		name = rest + 5;
	} else {
		acct = strcspn(rest, ":");
		if (rest[acct] != ':' || strncmp(rest + acct + 1, "role/", 5) != 0)
			return;
		if (acct != 0 && (acct != 12 || strncmp(rest, c->host->account, 12)))
			return; /* another account's role */
		name = rest + acct + 6;
	}
	if (strlen(name) < cap)
		memcpy(out, name, strlen(name) + 1);
}

static bool session_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_+=,.@-") == n;
}

static bool trusts(const json_t *role, const char *user)
{
	const json_t *v;
	size_t i;

	if (strcmp(user, OWS_ROOT_USER) == 0)
		return true;
	json_array_foreach(json_object_get(role, "trusted_users"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), user) == 0)
			return true;
	return false;
}

static void assume_role(struct ows_aws_call *c, const struct form *f)
{
	char arn[512] = "", name[256], sname[128] = "", msg[1024], extra[1024];
	char rid[21];
	struct ows_session s = {0};
	json_t *role = NULL;
	long d, max;

	param(c, f, "RoleArn", arn, sizeof(arn));
	param(c, f, "RoleSessionName", sname, sizeof(sname));
	if (arn[0] == '\0' || !session_name_ok(sname)) {
		ows_aws_error(c, 400, "ValidationError", "%s",
			      arn[0] == '\0' ? "RoleArn is required"
					     : "RoleSessionName must be 2 to "
					       "64 of [A-Za-z0-9_+=,.@-]");
		return;
	}
	role_of_arn(c, arn, name, 129);
	if (name[0] != '\0')
		role = ows_state_resource(c->host->state, "roles", name);
	if (role == NULL || strcmp(c->caller.kind, "users") != 0 ||
	    !trusts(role, c->caller.user)) {
		snprintf(msg, sizeof(msg), "User: %s is not authorized to "
			 "perform: sts:AssumeRole on resource: %s",
			 c->caller.user[0] ? c->caller.user : c->caller.name,
			 arn);
		json_decref(role);
		ows_aws_error(c, 403, "AccessDenied", "%s", msg);
		return;
	}
	max = (long)json_integer_value(json_object_get(role, "max_session_s"));
	json_decref(role);
	if (max < 900)
		max = 3600;
	d = duration(c, f, 3600 < max ? 3600 : max, 900, max);
	if (d < 0) {
		ows_aws_error(c, 400, "ValidationError", "The requested "
			      "DurationSeconds exceeds the MaxSessionDuration "
			      "set for this role.");
		return;
	}
	snprintf(s.kind, sizeof(s.kind), "roles");
	snprintf(s.name, sizeof(s.name), "%.128s", name);
	snprintf(s.source, sizeof(s.source), "%.128s", c->caller.user);
	snprintf(s.session_name, sizeof(s.session_name), "%s", sname);
	s.expires = (int64_t)time(NULL) + d;
	role_id(name, rid);
	snprintf(extra, sizeof(extra),
		 "<AssumedRoleUser><AssumedRoleId>%s:%s</AssumedRoleId>"
		 "<Arn>arn:ows:sts::%s:assumed-role/%s/%s</Arn>"
		 "</AssumedRoleUser>", rid, sname, c->host->account, name, sname);
	reply_credentials(c, "AssumeRole", &s, extra);
}

static void sts_handle(struct ows_aws_call *c)
{
	struct form f;
	char action[64] = "";

	/*
	 * The query protocol: Action in the form body, or in the query. The
	 * whole body counts, up to the service's limit (no silent cut: a
	 * long inline Policy must not hide the parameters after it).
	 */
	f.text = c->body != NULL ? c->body : "";
	param(c, &f, "Action", action, sizeof(action));
	if (strcmp(action, "GetCallerIdentity") == 0) {
		get_caller_identity(c);
		return;
	}
	if (strcmp(action, "GetSessionToken") == 0) {
		get_session_token(c, &f);
		return;
	}
	if (strcmp(action, "AssumeRole") == 0) {
		assume_role(c, &f);
		return;
	}
	ows_aws_error(c, 400, "InvalidAction", "The action or operation "
		      "requested is invalid. Verify that the action is typed "
		      "correctly.");
}

const struct ows_aws_service ows_sts_service = {
	.name = "sts",
	.target_prefix = NULL,
	.path_prefix = NULL,
	.protocol = OWS_AWS_QUERY_XML,
	.body_mode = OWS_AWS_BODY_WHOLE,
	.body_limit = 6 * 1024 * 1024,
	.handle = sts_handle,
	.close = NULL,
	.kinds = NULL,
};
