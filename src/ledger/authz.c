/* Change-set authorization; see authz.h. */
#include "ledger/authz.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/policy.h"
#include "common/enc.h"
#include "common/json.h"

#define MAX_DOCS 256
#define POLICY_ARN "arn:ows:iam::policy/"

const char *const ows_authz_condition_keys[] = {
	"aws:SourceIp",       "aws:SecureTransport", "aws:CurrentTime",
	"aws:EpochTime",      "aws:username",        "aws:userid",
	"aws:PrincipalArn",   "aws:RequestedRegion", "iam:PolicyARN",
	"ows:RequestedPolicies",
	/* S3 calls: the host adds the first two from the request, the
	   service the others (ListObjects' parameters) */
	"aws:Referer",        "aws:UserAgent",       "s3:prefix",
	"s3:delimiter",       "s3:max-keys",
	/* DynamoDB calls: the partition keys and attributes they touch */
	"dynamodb:LeadingKeys", "dynamodb:Attributes",
};
const size_t ows_authz_n_condition_keys =
	sizeof(ows_authz_condition_keys) / sizeof(ows_authz_condition_keys[0]);

int ows_authz_policy_check(const json_t *doc, struct ows_err *err)
{
	if (ows_policy_validate(doc, err) != 0)
		return OWS_EINVAL;
	return ows_policy_check_keys(doc, ows_authz_condition_keys,
				     ows_authz_n_condition_keys, err);
}

void ows_authz_ctx_from_envelope(const json_t *envelope, int64_t time_ms,
				 struct ows_authz_ctx *out)
{
	const json_t *c = json_object_get(envelope, "context");

	out->source_ip = ows_json_str(c, "source_ip");
	out->secure_transport =
		json_is_true(json_object_get(c, "secure_transport"));
	out->time_ms = time_ms;
	out->region = NULL;
}

/*
 * One signer: its name, its policy documents, whether it is root; arn is
 * set for a role's or a function's session (no aws:username then).
 */
struct signer {
	const char *name;
	json_t *docs;
	bool root;
	const char *arn;
	bool anonymous; /* no identity: no aws:username, no PrincipalArn */
};

/* Extra condition values of one check: key, and a JSON array of strings. */
struct extra {
	const char *key;
	const json_t *values;
};

/*
 * The request context of one signer: the common keys, the signer's own,
 * and the extras (a multi-valued key is one entry per value). Strings live
 * in bufs, which must outlive the entries.
 */
struct ctx_bufs {
	char time[32], epoch[24], arn[OWS_NAME_MAX + 32];
};

static struct ows_policy_ctx_entry *
build_ctx(const struct ows_authz_ctx *rc, const struct signer *s,
	  const struct extra *ex, size_t n_ex, struct ctx_bufs *b, size_t *n)
{
	struct ows_policy_ctx_entry *e;
	size_t cap = 8, i, j;
	time_t secs = (time_t)(rc->time_ms / 1000);
	struct tm tm;

	for (i = 0; i < n_ex; i++)
		cap += json_array_size(ex[i].values);
	e = calloc(cap, sizeof(*e));
	if (e == NULL)
		return NULL;
	*n = 0;
	gmtime_r(&secs, &tm);
	strftime(b->time, sizeof(b->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(b->epoch, sizeof(b->epoch), "%" PRId64, rc->time_ms / 1000);
	if (s->anonymous)
		b->arn[0] = '\0';
	else if (s->arn != NULL)
		snprintf(b->arn, sizeof(b->arn), "%s", s->arn);
	else
		snprintf(b->arn, sizeof(b->arn), "arn:ows:iam::user/%s",
			 s->name);
	if (rc->source_ip != NULL)
		e[(*n)++] = (struct ows_policy_ctx_entry){"aws:SourceIp",
							  rc->source_ip};
	e[(*n)++] = (struct ows_policy_ctx_entry){
		"aws:SecureTransport", rc->secure_transport ? "true" : "false"};
	e[(*n)++] = (struct ows_policy_ctx_entry){"aws:CurrentTime", b->time};
	e[(*n)++] = (struct ows_policy_ctx_entry){"aws:EpochTime", b->epoch};
	if (s->arn == NULL && !s->anonymous) {
		e[(*n)++] = (struct ows_policy_ctx_entry){"aws:username",
							  s->name};
		e[(*n)++] = (struct ows_policy_ctx_entry){"aws:userid",
							  s->name};
	}
	if (!s->anonymous)
		e[(*n)++] = (struct ows_policy_ctx_entry){"aws:PrincipalArn",
							  b->arn};
	if (rc->region != NULL)
		e[(*n)++] = (struct ows_policy_ctx_entry){"aws:RequestedRegion",
							  rc->region};
	for (i = 0; i < n_ex; i++) {
		const json_t *v;

		json_array_foreach(ex[i].values, j, v)
			if (json_is_string(v))
				e[(*n)++] = (struct ows_policy_ctx_entry){
					ex[i].key, json_string_value(v)};
	}
	return e;
}

static enum ows_policy_decision eval_one(const struct signer *s,
					 const char *action, const char *arn,
					 const struct ows_authz_ctx *rc,
					 const struct extra *ex, size_t n_ex)
{
	const json_t *list[MAX_DOCS];
	struct ows_policy_request req = {action, arn, NULL, 0};
	struct ows_policy_ctx_entry *ctx;
	struct ctx_bufs b;
	enum ows_policy_decision d;
	size_t n = json_array_size(s->docs);

	if (s->root)
		return OWS_POLICY_ALLOW;
	if (n > MAX_DOCS)
		n = MAX_DOCS;
	for (size_t i = 0; i < n; i++)
		list[i] = json_array_get(s->docs, i);
	ctx = build_ctx(rc, s, ex, n_ex, &b, &req.n_ctx);
	if (ctx == NULL)
		return OWS_POLICY_EXPLICIT_DENY;
	req.ctx = ctx;
	d = ows_policy_eval(list, n, &req);
	free(ctx);
	return d;
}

/* Any signer's explicit Deny refuses; otherwise any signer's Allow allows. */
static bool allowed(const struct signer *sg, size_t n, const char *action,
		    const char *arn, const struct ows_authz_ctx *rc,
		    const struct extra *ex, size_t n_ex)
{
	bool allow = false;

	for (size_t i = 0; i < n; i++) {
		enum ows_policy_decision d = eval_one(&sg[i], action, arn, rc,
						      ex, n_ex);

		if (d == OWS_POLICY_EXPLICIT_DENY && !sg[i].root) {
			for (size_t j = 0; j < n; j++)
				if (sg[j].root)
					return true; /* root may do all */
			return false;
		}
		if (d == OWS_POLICY_ALLOW)
			allow = true;
	}
	return allow;
}

static int signers_load(const struct ows_directory *dir,
			const char *const *users, size_t n, struct signer *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].name = users[i];
		out[i].root = strcmp(users[i], OWS_ROOT_USER) == 0;
		out[i].arn = NULL;
		out[i].docs = json_array();
		if (out[i].docs == NULL)
			return -ENOMEM;
		if (!out[i].root &&
		    dir->user_policies(dir->ud, users[i], out[i].docs) != 0)
			return -ENOMEM;
	}
	return 0;
}

static void signers_free(struct signer *sg, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(sg[i].docs);
}

int ows_user_authorize(const struct ows_directory *dir, const char *user,
		       const char *action, const char *resource,
		       const struct ows_authz_ctx *rc)
{
	struct signer s = {0};
	int rv;

	rv = signers_load(dir, &user, 1, &s);
	if (rv == 0 && !allowed(&s, 1, action, resource, rc, NULL, 0))
		rv = OWS_EDENIED;
	signers_free(&s, 1);
	return rv;
}

int ows_user_authorize_resource(const struct ows_directory *dir,
				const char *user, const char *action,
				const char *kind, const char *name,
				const struct ows_authz_ctx *rc)
{
	char arn[2 * OWS_NAME_MAX];

	ows_action_arn(kind, name, arn, sizeof(arn));
	return ows_user_authorize(dir, user, action, arn, rc);
}

int ows_principal_authorize(const struct ows_directory *dir,
			    const struct ows_principal *p, const char *action,
			    const char *resource, const struct ows_authz_ctx *rc)
{
	char arn[2 * OWS_NAME_MAX];
	struct signer s = {0};
	int rv;

	if (strcmp(p->kind, "users") == 0)
		return ows_user_authorize(dir, p->name, action, resource, rc);
	if ((strcmp(p->kind, "roles") != 0 &&
	     strcmp(p->kind, "functions") != 0) ||
	    dir->principal_policies == NULL)
		return OWS_EDENIED;
	ows_action_arn(p->kind, p->name, arn, sizeof(arn));
	s.name = p->name;
	s.arn = arn;
	s.docs = json_array();
	if (s.docs == NULL)
		return -ENOMEM;
	rv = dir->principal_policies(dir->ud, p->kind, p->name, s.docs);
	if (rv == -ENOENT)
		rv = OWS_EDENIED; /* deleted since its session began */
	if (rv == 0 && !allowed(&s, 1, action, resource, rc, NULL, 0))
		rv = OWS_EDENIED;
	json_decref(s.docs);
	return rv;
}

int ows_principal_authorize_resource(const struct ows_directory *dir,
				     const struct ows_principal *p,
				     const char *action, const char *kind,
				     const char *name,
				     const struct ows_authz_ctx *rc)
{
	char arn[2 * OWS_NAME_MAX];

	ows_action_arn(kind, name, arn, sizeof(arn));
	return ows_principal_authorize(dir, p, action, arn, rc);
}

/* [one] (one taken), without json_pack's parse of a format each call. */
static json_t *list_of(json_t *one)
{
	json_t *a = one != NULL ? json_array() : NULL;

	if (a == NULL || json_array_append_new(a, one) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* A value of an extra condition key as a list of strings (new ref). */
static json_t *extra_values(const json_t *v)
{
	char num[32];

	if (json_is_array(v))
		return json_incref((json_t *)v);
	if (json_is_string(v))
		return list_of(json_incref((json_t *)v));
	if (json_is_boolean(v))
		return list_of(json_string(json_is_true(v) ? "true" : "false"));
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return list_of(json_string(num));
	}
	return json_array();
}

#define MAX_EXTRA 32

/* Does v (a string or a list of strings) name one of ids? */
static bool names_one(const json_t *v, const char *const *ids)
{
	const json_t *x;
	size_t i;

	if (json_is_string(v)) {
		for (size_t k = 0; ids[k] != NULL; k++)
			if (strcmp(json_string_value(v), ids[k]) == 0)
				return true;
		return false;
	}
	json_array_foreach(v, i, x)
		if (names_one(x, ids))
			return true;
	return false;
}

/*
 * Does statement st of a resource policy apply to the caller, named by
 * ids (its ARNs) in account? "*" (or {"AWS": "*"}) and the caller's own
 * ARN apply; the account ("ACCOUNT", "arn:aws:iam::ACCOUNT:root") only to
 * a Deny: within one account an Allow to the account delegates to the
 * identity policies, which decide (as IAM does). {"Service": ...} names
 * no caller of ours. A Deny with NotPrincipal applies (fail closed); an
 * Allow with it does not.
 */
static bool rp_applies(const json_t *st, const char *const *ids,
		       const char *account)
{
	const json_t *pr = json_object_get(st, "Principal");
	const char *eff = ows_json_str(st, "Effect");
	bool deny = eff != NULL && strcmp(eff, "Deny") == 0;
	char root[64];
	const char *acct[3] = {account, root, NULL};
	const char *star[2] = {"*", NULL};
	const json_t *aws;

	snprintf(root, sizeof(root), "arn:aws:iam::%s:root", account);
	if (pr == NULL)
		return deny && json_object_get(st, "NotPrincipal") != NULL;
	if (json_is_string(pr))
		return strcmp(json_string_value(pr), "*") == 0;
	aws = json_object_get(pr, "AWS");
	if (aws == NULL)
		return false;
	if (names_one(aws, star) || names_one(aws, ids))
		return true;
	return deny && names_one(aws, acct);
}

/* The statements of doc that apply to the caller, as an identity policy. */
static json_t *rp_for(const json_t *doc, const char *const *ids,
		      const char *account)
{
	const json_t *sts = json_object_get(doc, "Statement"), *st;
	json_t *out = json_array(), *one;
	size_t i;

	if (out == NULL)
		return NULL;
	if (json_is_object(sts)) {
		if (rp_applies(sts, ids, account) &&
		    (one = json_deep_copy(sts)) != NULL) {
			json_object_del(one, "Principal");
			json_object_del(one, "NotPrincipal");
			json_array_append_new(out, one);
		}
	} else {
		json_array_foreach(sts, i, st) {
			if (!rp_applies(st, ids, account) ||
			    (one = json_deep_copy(st)) == NULL)
				continue;
			json_object_del(one, "Principal");
			json_object_del(one, "NotPrincipal");
			json_array_append_new(out, one);
		}
	}
	return json_pack("{s:s, s:o}", "Version", "2012-10-17", "Statement",
			 out);
}

bool ows_authz_anonymous_action(const char *action)
{
	const char *verb = action != NULL ? strchr(action, ':') : NULL;

	if (verb == NULL)
		return false;
	verb++;
	return strncmp(verb, "Get", 3) == 0 || strncmp(verb, "List", 4) == 0;
}

void ows_authz_account(const char *cluster, char out[13])
{
	uint8_t h[32];

	ows_sha256(cluster, strlen(cluster), h);
	for (int i = 0; i < 12; i++)
		out[i] = (char)('0' + h[i] % 10);
	out[12] = '\0';
}

int ows_principal_authorize_arns(const struct ows_directory *dir,
				 const struct ows_principal *p,
				 const char *action, const char *const *arns,
				 const json_t *extra,
				 const struct ows_authz_ctx *rc)
{
	return ows_principal_authorize_rp(dir, p, action, arns, extra, NULL,
					  NULL, rc);
}

int ows_principal_authorize_rp(const struct ows_directory *dir,
			       const struct ows_principal *p,
			       const char *action, const char *const *arns,
			       const json_t *extra,
			       const json_t *resource_policy,
			       const char *account,
			       const struct ows_authz_ctx *rc)
{
	char parn[2 * OWS_NAME_MAX], aarn[2 * OWS_NAME_MAX + 64];
	const char *ids[3] = {parn, aarn, NULL};
	struct extra ex[MAX_EXTRA];
	struct signer s = {0}, r = {0};
	json_t *held = json_array(), *v;
	enum ows_policy_decision d;
	bool allow = false, deny = false;
	const char *key;
	size_t n_ex = 0;
	int rv = 0;

	if (held == NULL)
		return -ENOMEM;
	if (strcmp(p->kind, "users") == 0) {
		rv = signers_load(dir, &p->name, 1, &s);
	} else if ((strcmp(p->kind, "roles") == 0 ||
		    strcmp(p->kind, "functions") == 0) &&
		   dir->principal_policies != NULL) {
		ows_action_arn(p->kind, p->name, parn, sizeof(parn));
		s.name = p->name;
		s.arn = parn;
		s.docs = json_array();
		rv = s.docs == NULL ? -ENOMEM
				    : dir->principal_policies(dir->ud, p->kind,
							      p->name, s.docs);
		if (rv == -ENOENT)
			rv = OWS_EDENIED; /* deleted since its session began */
	} else if (p->kind[0] == '\0' && resource_policy != NULL &&
		   ows_authz_anonymous_action(action)) {
		/* anonymous: no identity policies; only the resource
		   policy's statements to "*" can allow */
		s.name = "";
		s.anonymous = true;
		s.docs = json_array();
		rv = s.docs == NULL ? -ENOMEM : 0;
	} else {
		rv = OWS_EDENIED;
	}
	/*
	 * Root may do all (eval_one) and no resource policy judges root:
	 * its extras are never read, only their count is bounded.
	 */
	if (rv == 0 && s.root && json_object_size(extra) > MAX_EXTRA)
		rv = OWS_EDENIED;
	json_object_foreach((json_t *)extra, key, v) {
		if (rv != 0 || s.root)
			break;
		if (n_ex == MAX_EXTRA || json_array_append_new(held,
				extra_values(v)) != 0) {
			rv = n_ex == MAX_EXTRA ? OWS_EDENIED : -ENOMEM;
			break;
		}
		ex[n_ex].key = key;
		ex[n_ex++].values = json_array_get(held, json_array_size(held) - 1);
	}
	/* the resource policy's statements for this caller, judged alike */
	if (rv == 0 && resource_policy != NULL && !s.root) {
		const char *acct = account != NULL ? account : "";

		ows_action_arn(p->kind, p->name, parn, sizeof(parn));
		snprintf(aarn, sizeof(aarn), "arn:aws:iam::%s:%s/%s", acct,
			 strcmp(p->kind, "users") == 0   ? "user"
			 : strcmp(p->kind, "roles") == 0 ? "role"
							 : "function",
			 p->name);
		if (strcmp(p->kind, "functions") == 0)
			ids[0] = NULL; /* a function is no IAM principal */
		if (s.anonymous)
			ids[0] = NULL; /* nobody: only "*" names it */
		r = s;
		r.root = false;
		r.docs = json_array();
		v = rp_for(resource_policy, ids, acct);
		if (r.docs == NULL || v == NULL ||
		    json_array_append_new(r.docs, v) != 0)
			rv = -ENOMEM;
		else if (json_array_size(json_object_get(v, "Statement")) == 0) {
			/* no statement names the caller: the policy has no
			   say (an empty Statement would read as malformed,
			   and malformed fails closed) */
			json_decref(r.docs);
			r.docs = NULL;
		}
	}
	for (size_t i = 0; rv == 0 && arns != NULL && arns[i] != NULL; i++) {
		d = eval_one(&s, action, arns[i], rc, ex, n_ex);
		if (d == OWS_POLICY_EXPLICIT_DENY)
			deny = true;
		else if (d == OWS_POLICY_ALLOW)
			allow = true;
		if (r.docs == NULL)
			continue;
		d = eval_one(&r, action, arns[i], rc, ex, n_ex);
		if (d == OWS_POLICY_EXPLICIT_DENY)
			deny = true;
		else if (d == OWS_POLICY_ALLOW)
			allow = true;
	}
	if (rv == 0 && (deny || !allow))
		rv = OWS_EDENIED;
	json_decref(s.docs);
	json_decref(r.docs);
	json_decref(held);
	return rv;
}

/* ---- change sets ---- */

struct judge {
	const struct ows_directory *dir;
	const struct ows_authz_ctx *rc;
	struct signer sg[OWS_MAX_SIGNERS];
	size_t n;
	struct ows_err *err;
};

static int check(struct judge *j, const char *action, const char *arn,
		 const struct extra *ex, size_t n_ex)
{
	if (allowed(j->sg, j->n, action, arn, j->rc, ex, n_ex))
		return 0;
	ows_err_printf(j->err, "user '%s' is not allowed '%s' on '%s'",
		       j->sg[0].name, action, arn);
	return OWS_EDENIED;
}

static bool has_string(const json_t *list, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static int append_arn(json_t *list, const char *name)
{
	char arn[OWS_NAME_MAX + 32];

	snprintf(arn, sizeof(arn), POLICY_ARN "%s", name);
	return json_array_append_new(list, json_string(arn));
}

/* ows:policies.attach on the policy arn, with iam:PolicyARN set to it. */
static int judge_attach(struct judge *j, const char *arn)
{
	json_t *one = json_pack("[s]", arn);
	struct extra e = {"iam:PolicyARN", one};
	int rv;

	if (one == NULL)
		return -ENOMEM;
	rv = check(j, "ows:policies.attach", arn, &e, 1);
	json_decref(one);
	return rv;
}

/* The names under field of kind/name's spec now (none when unknown). */
static int current_names(const struct ows_directory *dir, const char *kind,
			 const char *name, const char *field, json_t *out)
{
	if (dir->spec_names != NULL)
		return dir->spec_names(dir->ud, kind, name, field, out);
	if (strcmp(kind, "users") == 0 && strcmp(field, "policies") == 0)
		return dir->user_policy_names(dir->ud, name, out);
	return 0;
}

/* The roles that trust user now (none when the directory has no roles). */
static int trusting(const struct ows_directory *dir, const char *user,
		    json_t *out)
{
	if (dir->roles_trusting == NULL)
		return 0;
	return dir->roles_trusting(dir->ud, user, out);
}

/* Does roles.put trust a user the role did not trust? (Root may do all
 * already: trusting it hands it nothing.) */
static int trusts_anew(const struct ows_directory *dir, const char *name,
		       const json_t *spec, bool *anew)
{
	json_t *cur = json_array();
	const json_t *v;
	size_t i;

	*anew = false;
	if (cur == NULL || current_names(dir, "roles", name, "trusted_users",
					 cur) != 0) {
		json_decref(cur);
		return -ENOMEM;
	}
	json_array_foreach(json_object_get(spec, "trusted_users"), i, v)
		if (json_is_string(v) && !has_string(cur, json_string_value(v)) &&
		    strcmp(json_string_value(v), OWS_ROOT_USER) != 0)
			*anew = true;
	json_decref(cur);
	return 0;
}

/*
 * users.put, roles.put, functions.put: naming policies is attaching them.
 * Judged as ows:<kind>.put with ows:RequestedPolicies and iam:PolicyARN (as
 * IAM's AttachUserPolicy, AttachRolePolicy), then ows:policies.attach on
 * each policy the spec names that kind/name did not have. A role that
 * trusts a new user hands that user every policy it names: all count as
 * newly attached then.
 */
static int judge_attaching_put(struct judge *j, const char *kind,
			       const char *name, const json_t *spec,
			       const char *act, const char *arn)
{
	json_t *cur = json_array(), *req = json_array(), *added = json_array();
	const json_t *v;
	struct extra ex[2] = {{"ows:RequestedPolicies", req},
			      {"iam:PolicyARN", added}};
	bool anew = false;
	size_t i;
	int rv = 0;

	if (cur == NULL || req == NULL || added == NULL ||
	    current_names(j->dir, kind, name, "policies", cur) != 0 ||
	    (strcmp(kind, "roles") == 0 &&
	     trusts_anew(j->dir, name, spec, &anew) != 0))
		rv = -ENOMEM;
	json_array_foreach(json_object_get(spec, "policies"), i, v) {
		if (rv != 0 || !json_is_string(v))
			continue;
		rv = append_arn(req, json_string_value(v));
		if (rv == 0 && (anew || !has_string(cur, json_string_value(v))))
			rv = append_arn(added, json_string_value(v));
	}
	if (rv == 0)
		rv = check(j, act, arn, ex, 2);
	json_array_foreach(added, i, v) {
		if (rv == 0)
			rv = judge_attach(j, json_string_value(v));
	}
	json_decref(cur);
	json_decref(req);
	json_decref(added);
	return rv;
}

/*
 * The names of the policies a signer has: its user's, and those of every
 * role that trusts it (it may assume them).
 */
static int signer_policy_names(struct judge *j, const char *user, json_t *out)
{
	json_t *roles = json_array();
	const json_t *r;
	size_t i;
	int rv = roles == NULL ? -ENOMEM : 0;

	if (rv == 0 && (j->dir->user_policy_names(j->dir->ud, user, out) != 0 ||
			trusting(j->dir, user, roles) != 0))
		rv = -ENOMEM;
	json_array_foreach(roles, i, r) {
		if (rv == 0 &&
		    current_names(j->dir, "roles", json_string_value(r),
				  "policies", out) != 0)
			rv = -ENOMEM;
	}
	json_decref(roles);
	return rv;
}

/*
 * Is policy named by a function some signer may deploy (ows:functions.put
 * on it)? Its code would run with the rewritten policy.
 */
static int deploys_holder(struct judge *j, const char *policy, bool *yes)
{
	json_t *fns = json_array();
	const json_t *f;
	char arn[2 * OWS_NAME_MAX];
	size_t i;
	int rv = fns == NULL ? -ENOMEM : 0;

	*yes = false;
	if (rv == 0 && j->dir->functions_naming != NULL &&
	    j->dir->functions_naming(j->dir->ud, policy, fns) != 0)
		rv = -ENOMEM;
	json_array_foreach(fns, i, f) {
		if (rv != 0 || *yes)
			break;
		ows_action_arn("functions", json_string_value(f), arn,
			       sizeof(arn));
		*yes = allowed(j->sg, j->n, "ows:functions.put", arn, j->rc,
			       NULL, 0);
	}
	json_decref(fns);
	return rv;
}

/*
 * policies.put of a policy attached to a signer, to a role a signer may
 * assume, or to a function a signer may deploy, also needs the attach.
 */
static int judge_policies_put(struct judge *j, const char *name,
			      const char *arn)
{
	json_t *names;
	bool own = false;
	int rv = 0;

	for (size_t i = 0; i < j->n && !own && rv == 0; i++) {
		names = json_array();
		if (names == NULL ||
		    signer_policy_names(j, j->sg[i].name, names) != 0)
			rv = -ENOMEM;
		own = rv == 0 && has_string(names, name);
		json_decref(names);
	}
	if (rv == 0 && !own)
		rv = deploys_holder(j, name, &own);
	if (rv == 0)
		rv = check(j, "ows:policies.put", arn, NULL, 0);
	if (rv != 0 || !own)
		return rv;
	return judge_attach(j, arn);
}

/* access_keys: judged on the user the key is (or is to be) for. */
static int judge_access_key(struct judge *j, const char *act, const char *id,
			    const json_t *spec)
{
	char user[OWS_NAME_MAX], arn[OWS_NAME_MAX + 32];
	const char *u = ows_json_str(spec, "user");

	if (strcmp(act, "ows:access_keys.delete") == 0) {
		if (j->dir->access_key_user(j->dir->ud, id, user,
					    sizeof(user)) != 0)
			snprintf(user, sizeof(user), "%s", "");
		u = user;
	}
	if (u == NULL)
		u = "";
	ows_action_arn("users", u, arn, sizeof(arn));
	return check(j, act, arn, NULL, 0);
}

static int judge_action(struct judge *j, const json_t *a)
{
	const char *action = ows_json_str(a, "action");
	const char *name = ows_json_str(a, "name");
	const json_t *spec = json_object_get(a, "spec");
	char kind[OWS_NAME_MAX], arn[2 * OWS_NAME_MAX], act[OWS_NAME_MAX + 8];
	const char *verb;

	ows_action_split(action, kind, &verb);
	ows_action_arn(kind, name, arn, sizeof(arn));
	snprintf(act, sizeof(act), "ows:%s", action);
	if (strcmp(kind, "access_keys") == 0)
		return judge_access_key(j, act, name, spec);
	if (strcmp(action, "functions.put") == 0 &&
	    ows_json_str(spec, "role") != NULL) {
		/* a function that runs with a role: passing it, as IAM's */
		char role[2 * OWS_NAME_MAX];
		int rv;

		ows_action_arn("roles", ows_json_str(spec, "role"), role,
			       sizeof(role));
		rv = check(j, "iam:PassRole", role, NULL, 0);
		if (rv != 0)
			return rv;
	}
	if (strcmp(action, "users.put") == 0 ||
	    strcmp(action, "roles.put") == 0 ||
	    strcmp(action, "functions.put") == 0)
		return judge_attaching_put(j, kind, name, spec, act, arn);
	if (strcmp(action, "policies.put") == 0)
		return judge_policies_put(j, name, arn);
	return check(j, act, arn, NULL, 0);
}

int ows_changeset_authorize(const struct ows_changeset_info *info,
			    const struct ows_directory *dir,
			    const struct ows_authz_ctx *rc,
			    struct ows_err *err)
{
	char users[OWS_MAX_SIGNERS][OWS_NAME_MAX];
	const char *names[OWS_MAX_SIGNERS];
	struct judge j = {.dir = dir, .rc = rc, .n = info->n_signers,
			  .err = err};
	char arn[OWS_NAME_MAX + 32];
	json_t *a;
	size_t i;
	int rv;

	for (i = 0; i < info->n_signers; i++) {
		if (dir->user_of_key(dir->ud, info->signers[i], users[i],
				     sizeof(users[i])) != 0) {
			ows_err_printf(err, "unknown signer: key '%s' belongs "
				       "to no user", info->signers[i]);
			return OWS_EAUTH;
		}
		names[i] = users[i];
	}
	rv = signers_load(dir, names, info->n_signers, j.sg);
	json_array_foreach(info->actions, i, a) {
		if (rv != 0)
			break;
		rv = judge_action(&j, a);
	}
	if (rv == 0 && info->stack != NULL && info->stack[0] != '\0') {
		snprintf(arn, sizeof(arn), "arn:ows:ows::stack/%s", info->stack);
		rv = check(&j, "ows:stacks.put", arn, NULL, 0);
	}
	signers_free(j.sg, info->n_signers);
	return rv;
}
