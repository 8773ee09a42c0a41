/*
 * The hash chain. Every accepted ledger entry is
 *
 *   {"height": N, "prev": HASH(N-1), "time": ms, "type": T, "body": {...}}
 *
 * with type "genesis" (body: cluster, root_key, node, access_key), "changeset"
 * (body: the signed envelope), "join" (body: the node that joined and the
 * hash of the token it used) or "attested" (body: an API-made change signed
 * by the node that authenticated it, ledger/attest.h). Its hash is the
 * SHA-256 of its canonical encoding; genesis has height 1 and prev of 64 zeros.
 *
 * The verifier replays a chain from genesis: links, hashes, every signature,
 * and whether every change set's signers were users allowed to do what it
 * did at that point, with the same authorization code as the nodes; for an
 * attested entry, that its key was a member node's then, its signature,
 * and that its caller was allowed what the node says it checked.
 */
#ifndef OWS_LEDGER_CHAIN_H
#define OWS_LEDGER_CHAIN_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"

#define OWS_HASH_ZERO \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* A new entry; body is taken. NULL on allocation failure. */
json_t *ows_ledger_entry_new(uint64_t height, const char *prev, int64_t time_ms,
			     const char *type, json_t *body);

/* Hash of the entry's canonical encoding, as 64 hex digits. */
int ows_ledger_entry_hash(const json_t *entry, char out[65]);

struct ows_ledger_verifier {
	uint64_t height;
	char head[65];
	char cluster[65];
	json_t *users;    /* name -> spec, replayed */
	json_t *policies; /* name -> document, replayed */
	json_t *roles;    /* name -> spec, replayed */
	json_t *functions; /* name -> spec, replayed */
	json_t *tokens;   /* token hash -> true */
	json_t *keys;     /* access key id -> user */
	json_t *nodes;    /* node id (decimal) -> public key, replayed */
};

int ows_ledger_verifier_init(struct ows_ledger_verifier *v);
void ows_ledger_verifier_close(struct ows_ledger_verifier *v);

/*
 * Check the next entry, whose stored hash is claimed. 0, or OWS_EINVAL with
 * the reason in err (the chain is broken at this entry).
 */
int ows_ledger_verifier_feed(struct ows_ledger_verifier *v,
			     const json_t *entry, const char *claimed,
			     struct ows_err *err);

#endif
