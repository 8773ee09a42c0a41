/*
 * Attested entries: a change made through an AWS-compatible API (the
 * Lambda API's CreateFunction, ...) is a Raft entry that the node which
 * checked the request's SigV4 signature signs with its own key:
 *
 *   {"type": "attested", "time": ms, "body": B}
 *   B = {"attestation": A, "signature": SIG}
 *   A = {"cluster": ID, "node": "N" (decimal), "node_key": PUB,
 *        "request_id": UUID,
 *        "caller": {"kind", "name", "user", "access_key", "session"},
 *        "context": {"aws:SourceIp", "aws:SecureTransport",
 *                    "aws:RequestedRegion", ...},
 *        "authorized": [{"action", "arns": [...], "extra": {...}|null,
 *                        "resource_policy": {...} (only when judged
 *                        with one: ledger/authz.h)}],
 *        "stack": "" | NAME, "actions": [{"action", "name", "spec"}],
 *        "time": ms}
 *
 * SIG is the node's Ed25519 signature over the canonical JSON of A
 * (common/json.h, as change sets). Every node applying the entry, and
 * `ows ledger verify`, checks that node_key is node N's key, the
 * signature, the cluster, and judges every "authorized" item again for
 * the caller against the policies at that height with the recorded
 * context (aws:CurrentTime is A's time) and the recorded resource policy
 * (the one the node judged with: the entry proves what it saw); a stack
 * other than "" also needs ows:stacks.put on arn:ows:ows::stack/NAME, as
 * a change set's. Then the
 * actions apply all or nothing, as a change set's.
 */
#ifndef OWS_LEDGER_ATTEST_H
#define OWS_LEDGER_ATTEST_H

#include <jansson.h>
#include <stdint.h>

#include "auth/key.h"
#include "common/err.h"
#include "ledger/authz.h"

/* S3's DeleteObjects judges each of up to 1000 keys: one entry holds them */
#define OWS_ATTEST_MAX_AUTHORIZED 1024
#define OWS_ATTEST_MAX_ARNS 8

/* Borrowed pointers into an attested entry's body. */
struct ows_attest_info {
	const json_t *attestation;
	const char *cluster;
	uint64_t node;
	const char *node_key;
	const char *request_id;
	struct ows_principal caller; /* kind "users", "roles", "functions" */
	const json_t *context;
	const json_t *authorized;
	const char *stack;           /* "" for none */
	const json_t *actions;
	int64_t time;                /* ms */
};

/*
 * For the host (daemon/host.c): sign attestation A (borrowed) with the
 * node's key k: sig gets the base64 Ed25519 signature over A's canonical
 * JSON. 0, OWS_EPARSE (A holds a real number), or -ENOMEM.
 */
int ows_attest_sign(const struct ows_key *k, const json_t *attestation,
		    char sig[OWS_SIG_B64_LEN]);

/*
 * For the host: the entry body {"attestation": A, "signature": SIG} for
 * attestation A (taken), signed with k; NULL on failure. The Raft entry is
 * {"type": "attested", "time": ms, "body": this}. A resend after a timeout
 * must carry the same body (same request_id, same A): a request_id that
 * was accepted gets its recorded result (ows_state_attested_result), a
 * different A under it is refused (409 RequestIdReused).
 */
json_t *ows_attest_body(json_t *attestation, const struct ows_key *k);

/*
 * Check body's shape and A's signature by node_key (not whether that key
 * is a member's: the caller knows the nodes). Fills info. 0, OWS_EPARSE
 * (malformed) or OWS_EAUTH (the signature does not verify), with the
 * reason in err.
 */
int ows_attest_check(const json_t *body, struct ows_attest_info *info,
		     struct ows_err *err);

/* The recorded request context of info (borrows from it). */
void ows_attest_ctx(const struct ows_attest_info *info,
		    struct ows_authz_ctx *out);

/*
 * Judge every "authorized" item, and the stack, for the caller against
 * dir. 0, OWS_EDENIED naming the first refused item in err, or -ENOMEM.
 */
int ows_attest_authorize(const struct ows_attest_info *info,
			 const struct ows_directory *dir, struct ows_err *err);

/* SHA-256 hex of A's canonical JSON (identifies a resend). 0 or OWS_EPARSE. */
int ows_attest_digest(const struct ows_attest_info *info, char out[65]);

#endif
