/*
 * Who may apply a change set: every signer must be a user, and the union of
 * the signers' attached policies must allow every action (ows:<kind>.<verb>
 * on the action's ARN); explicit Deny wins (DESIGN.md). The root user, named
 * in genesis, may do everything.
 *
 * The users and policies come from a directory: the node's SQLite state, or
 * the in-memory replay of `ows ledger verify`, so both judge alike.
 *
 * Beyond one action per resource, a change set is judged for what it does
 * to permissions themselves (docs/security.md, "Permissions"):
 *
 * - access_keys.put/delete on the ARN of the user the key is for, as IAM's
 *   CreateAccessKey/DeleteAccessKey;
 * - users.put, roles.put and functions.put with the condition keys
 *   ows:RequestedPolicies (ARNs of every policy the spec names) and
 *   iam:PolicyARN (those it newly attaches), and ows:policies.attach on
 *   each newly attached policy; a roles.put that trusts a user it did not
 *   trust attaches every policy it names;
 * - policies.put of a policy attached to a signer: ows:policies.attach on it
 *   too, since rewriting one's own policy is attaching a new one;
 * - functions.put of a spec naming a "role": iam:PassRole on
 *   arn:ows:iam::role/NAME (the function runs with the role's policies,
 *   read live);
 * - a change set naming a stack: ows:stacks.put on arn:ows:ows::stack/NAME.
 *
 * Each signer is judged with its own policies and request context (its
 * aws:username); an explicit Deny for any signer refuses, an Allow for any
 * signer allows.
 */
#ifndef OWS_LEDGER_AUTHZ_H
#define OWS_LEDGER_AUTHZ_H

#include <jansson.h>

#include "common/err.h"
#include "ledger/changeset.h"

#define OWS_ROOT_USER "root"

struct ows_directory {
	void *ud;
	/* Name of the user holding public key pub into user; -ENOENT if none. */
	int (*user_of_key)(void *ud, const char *pub, char *user, size_t cap);
	/* Append (new references to) the user's policy documents to out. */
	int (*user_policies)(void *ud, const char *user, json_t *out);
	/* Append the names of the user's attached policies (strings) to out. */
	int (*user_policy_names)(void *ud, const char *user, json_t *out);
	/* The user access key id belongs to, into user; -ENOENT if none. */
	int (*access_key_user)(void *ud, const char *id, char *user,
			       size_t cap);
	/*
	 * Append the policy documents named by the spec of resource kind/name
	 * ("users", "roles" or "functions") to out; -ENOENT when it does not
	 * exist. NULL: only users have policies (user_policies).
	 */
	int (*principal_policies)(void *ud, const char *kind, const char *name,
				  json_t *out);
	/*
	 * Append the names (strings) listed under field ("policies",
	 * "trusted_users") of the spec of kind/name to out; 0 with nothing
	 * appended when it does not exist. NULL: only users' "policies" are
	 * known (user_policy_names); for any other kind nothing is, so every
	 * policy it names counts as newly attached.
	 */
	int (*spec_names)(void *ud, const char *kind, const char *name,
			  const char *field, json_t *out);
	/*
	 * Append the names (strings) of the roles whose "trusted_users" name
	 * user to out. NULL: no role trusts anyone.
	 */
	int (*roles_trusting)(void *ud, const char *user, json_t *out);
	/*
	 * Append the names (strings) of the functions whose "policies" name
	 * policy to out. NULL: none does.
	 */
	int (*functions_naming)(void *ud, const char *policy, json_t *out);
};

/*
 * What the request looked like, for Condition keys. For a change set it is
 * recorded in the Raft entry by the node that received it (the envelope's
 * "context", entry time), so every node and `ows ledger verify` judge it
 * alike; for API calls it is the live request.
 */
struct ows_authz_ctx {
	const char *source_ip; /* aws:SourceIp; NULL when unknown */
	bool secure_transport; /* aws:SecureTransport */
	int64_t time_ms;       /* aws:CurrentTime, aws:EpochTime */
	const char *region;    /* aws:RequestedRegion; NULL when none */
};

/* The Condition keys a policy may name; any other is refused at apply. */
extern const char *const ows_authz_condition_keys[];
extern const size_t ows_authz_n_condition_keys;

/* A policy document for policies.put: valid, and only known keys. */
int ows_authz_policy_check(const json_t *doc, struct ows_err *err);

/*
 * The context recorded in a change-set envelope's "context" object
 * ({"source_ip": "...", "secure_transport": bool}), with time_ms. Pointers
 * borrow from envelope.
 */
void ows_authz_ctx_from_envelope(const json_t *envelope, int64_t time_ms,
				 struct ows_authz_ctx *out);

/*
 * Resolve the signers to users (OWS_EAUTH "unknown signer" otherwise) and
 * check every action (OWS_EDENIED naming the first refused one).
 */
int ows_changeset_authorize(const struct ows_changeset_info *info,
			    const struct ows_directory *dir,
			    const struct ows_authz_ctx *rc,
			    struct ows_err *err);

/*
 * Judge one action for one user (the admin API's reads use this too):
 * action like "ows:status.read", resource an ARN. 0 or OWS_EDENIED.
 */
int ows_user_authorize(const struct ows_directory *dir, const char *user,
		       const char *action, const char *resource,
		       const struct ows_authz_ctx *rc);

/* The same for a resource named by kind and name (its ARN as actions'). */
int ows_user_authorize_resource(const struct ows_directory *dir,
				const char *user, const char *action,
				const char *kind, const char *name,
				const struct ows_authz_ctx *rc);

/*
 * Who is acting: a user, or a session for a role or a function; or
 * nobody (kind "", an unsigned request), whom only a resource policy's
 * "Principal": "*" may allow a read (ows_authz_anonymous_action).
 */
struct ows_principal {
	const char *kind; /* "users", "roles", "functions" or "" */
	const char *name;
};

/*
 * Judge one action for a principal: a user exactly as ows_user_authorize
 * (root may do all); a role or a function by the policies its spec names
 * (never root; aws:username and aws:userid unset; aws:PrincipalArn
 * arn:ows:iam::role/NAME or arn:ows:lambda::function/NAME). 0 or
 * OWS_EDENIED (also when the role or function no longer exists, or the
 * directory has no principal_policies).
 */
int ows_principal_authorize(const struct ows_directory *dir,
			    const struct ows_principal *p, const char *action,
			    const char *resource, const struct ows_authz_ctx *rc);

/* The same for a resource named by kind and name (its ARN as actions'). */
int ows_principal_authorize_resource(const struct ows_directory *dir,
				     const struct ows_principal *p,
				     const char *action, const char *kind,
				     const char *name,
				     const struct ows_authz_ctx *rc);

/*
 * Judge action for a principal (as ows_principal_authorize) on one
 * resource named by several ARNs (arns, NULL-terminated: the same
 * resource in both partitions, "arn:ows:..." and "arn:aws:..."), with
 * extra condition keys (extra: an object of "key": value, a string, a
 * bool, an integer or a list of strings; borrowed; may be NULL). An
 * explicit Deny on any of the ARNs refuses; otherwise an Allow on any of
 * them allows. 0 or OWS_EDENIED (also for no ARN at all), or -ENOMEM.
 * The node's live checks of API calls and the replay of attested entries
 * (ledger/attest.h) both judge with this.
 */
int ows_principal_authorize_arns(const struct ows_directory *dir,
				 const struct ows_principal *p,
				 const char *action, const char *const *arns,
				 const json_t *extra,
				 const struct ows_authz_ctx *rc);

/*
 * The same, judged together with a resource-based policy (a Lambda
 * function's, AddPermission's statements; borrowed, may be NULL), as IAM
 * judges a call within one account: allowed when the caller's identity
 * policies or the resource policy allow it on one of the ARNs and no
 * explicit Deny in either applies. A resource-policy statement applies to
 * the caller when its Principal is "*", {"AWS": "*"} or names the
 * caller's ARN (arn:aws:iam::ACCOUNT:user/NAME, ...:role/NAME, or the
 * arn:ows:iam:: forms); {"AWS": ACCOUNT or arn:aws:iam::ACCOUNT:root}
 * applies only to a Deny (an Allow to the account delegates to the
 * identity policies); {"Service": ...} names no caller of OWS. Its
 * Condition is evaluated with the call's keys (a statement conditioned
 * on AWS:SourceArn or AWS:SourceAccount never matches a user's call).
 * account: the cluster's 12-digit account (ows_authz_account).
 */
int ows_principal_authorize_rp(const struct ows_directory *dir,
			       const struct ows_principal *p,
			       const char *action, const char *const *arns,
			       const json_t *extra,
			       const json_t *resource_policy,
			       const char *account,
			       const struct ows_authz_ctx *rc);

/*
 * May an anonymous caller (an unsigned request: principal kind "") ever
 * be allowed action? Only reads ("svc:Get*", "svc:List*"): a resource
 * policy's "Principal": "*" opens reads to everyone, never writes
 * (issue 10). ows_principal_authorize_rp judges an anonymous caller with
 * no identity policies, by the resource policy's statements to "*" (or
 * {"AWS": "*"}) only, and refuses every other action outright.
 */
bool ows_authz_anonymous_action(const char *action);

/*
 * The cluster's 12-digit account id, derived from its id (the node's
 * n->account is the same: daemon/node.c).
 */
void ows_authz_account(const char *cluster, char out[13]);

#endif
