/*
 * Change sets: the only way infrastructure changes (DESIGN.md, "The
 * ledger"). A change set is
 *
 *   {"cluster": ID, "nonce": 32 hex, "time": unix s, "stack": NAME (optional),
 *    "actions": [{"action": "users.put", "name": "dev", "spec": {...}},
 *                {"action": "users.delete", "name": "old"}, ...]}
 *
 * and travels in an envelope with one or more Ed25519 signatures over its
 * canonical encoding (common/json.h):
 *
 *   {"changeset": {...}, "signatures": [{"key": PUB, "sig": SIG}, ...]}
 */
#ifndef OWS_LEDGER_CHANGESET_H
#define OWS_LEDGER_CHANGESET_H

#include <jansson.h>
#include <stdint.h>

#include "auth/key.h"
#include "common/err.h"

#define OWS_MAX_SIGNERS 16
#define OWS_MAX_ACTIONS 1024
#define OWS_NAME_MAX 256

struct ows_changeset_info {
	const json_t *changeset;
	const char *cluster;
	const char *nonce;
	int64_t time;
	const char *stack;    /* NULL when absent */
	const json_t *actions;
	const char *signers[OWS_MAX_SIGNERS]; /* borrowed public keys */
	size_t n_signers;
};

/*
 * A new unsigned envelope for actions (taken), with a fresh nonce. stack may
 * be NULL. Returns NULL on allocation failure.
 */
json_t *ows_envelope_new(const char *cluster, const char *stack,
			 json_t *actions, int64_t now);

/* Add k's signature over the canonical change set. */
int ows_envelope_sign(json_t *envelope, const struct ows_key *k);

/*
 * Check the envelope's shape and every signature. Fills info with borrowed
 * pointers into envelope. Returns 0, OWS_EPARSE (malformed) or OWS_EAUTH
 * (a signature that does not verify), with the reason in err.
 */
int ows_envelope_check(const json_t *envelope, struct ows_changeset_info *info,
		       struct ows_err *err);

/*
 * Split "users.put" into kind "users" and verb "put" (kind buffer of
 * OWS_NAME_MAX). -EINVAL when malformed.
 */
int ows_action_split(const char *action, char *kind, const char **verb);

/*
 * The ARN an action on kind/name is judged against, in the form of the
 * kind's table (state/kinds.h): arn:ows:SERVICE::TYPE/NAME, e.g.
 * users -> arn:ows:iam::user/NAME, functions -> arn:ows:lambda::function/NAME,
 * nodes -> arn:ows:ows::node/NAME, buckets (arn_type "") -> arn:ows:s3:::NAME;
 * an unknown kind arn:ows:ows::KIND/NAME.
 */
void ows_action_arn(const char *kind, const char *name, char *out, size_t cap);

/* True when name is a valid resource name (1..256 printable, no controls). */
bool ows_name_valid(const char *name);

/* ---- module-private: src/ledger/ only (and its unit tests) ---- */

/*
 * Check an action list's shape (1 to OWS_MAX_ACTIONS of {"action":
 * "kind.verb", "name", "spec": {...} (optional)}). 0, or OWS_EPARSE with
 * the reason in err. What each action means is the kind's (state/kinds.h).
 */
int ows__actions_check(const json_t *actions, struct ows_err *err);

#endif
