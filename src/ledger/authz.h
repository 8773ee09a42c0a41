/*
 * Who may apply a change set: every signer must be a user, and the union of
 * the signers' attached policies must allow every action (ows:<kind>.<verb>
 * on the action's ARN); explicit Deny wins (DESIGN.md). The root user, named
 * in genesis, may do everything.
 *
 * The users and policies come from a directory: the node's SQLite state, or
 * the in-memory replay of `ows ledger verify`, so both judge alike.
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
};

/*
 * Resolve the signers to users (OWS_EAUTH "unknown signer" otherwise) and
 * check every action (OWS_EDENIED naming the first refused one).
 */
int ows_changeset_authorize(const struct ows_changeset_info *info,
			    const struct ows_directory *dir,
			    struct ows_err *err);

/*
 * Judge one action for one user (the admin API's reads use this too):
 * action like "ows:status.read", resource an ARN. 0 or OWS_EDENIED.
 */
int ows_user_authorize(const struct ows_directory *dir, const char *user,
		       const char *action, const char *resource);

/* The same for a resource named by kind and name (its ARN as actions'). */
int ows_user_authorize_resource(const struct ows_directory *dir,
				const char *user, const char *action,
				const char *kind, const char *name);

#endif
