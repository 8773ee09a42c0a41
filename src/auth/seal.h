/*
 * Sealing secrets (access key secrets) under the cluster's 32-byte secret
 * with AES-256-GCM, so that they never appear in clear in the ledger, the
 * Raft log or the state. Sealed text: base64(12-byte nonce | ciphertext |
 * 16-byte tag).
 */
#ifndef OWS_AUTH_SEAL_H
#define OWS_AUTH_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define OWS_SEAL_KEY_LEN 32

/* Append the sealed text of plain to out. */
int ows_seal(const uint8_t key[OWS_SEAL_KEY_LEN], const void *plain,
	     size_t len, struct ows_buf *out);
/* Append the opened plaintext to out; OWS_EAUTH when tampered with. */
int ows_unseal(const uint8_t key[OWS_SEAL_KEY_LEN], const char *sealed,
	       struct ows_buf *out);

#endif

/*
 * A new AWS-shaped access key: id "AKIA" and 16 of [A-Z2-7], secret 40
 * base64 characters. 0 or -EIO (no randomness).
 */
int ows_access_key_make(char id[21], char secret[41]);

/*
 * Sealed boxes for one message to a key pair made for it (the join reply's
 * cluster secret): X25519 between the recipient's and a fresh sender key,
 * SHA-256 of "ows-box" | shared secret | recipient key | sender key as the
 * AES-256-GCM key. Keys travel as base64 of their 32 raw bytes.
 */
struct ows_box_key; /* an X25519 private key; opaque */

int ows_box_key_new(struct ows_box_key **out, char pub[45]);
/*
 * The cluster's box key, derived from the cluster secret (SHA-256 of
 * "ows-cluster-box" and the secret as the X25519 private key): access key
 * secrets are sealed to its public half, which every node can open.
 */
int ows_box_key_derive(const uint8_t secret[OWS_SEAL_KEY_LEN],
		       struct ows_box_key **out, char pub[45]);
void ows_box_key_free(struct ows_box_key *k);

/* Seal plain to recipient pub; sender gets the fresh sender key. */
int ows_box_seal(const char *pub, const void *plain, size_t len,
		 struct ows_buf *sealed, char sender[45]);

/* Open a box sealed to k by sender; OWS_EAUTH when it does not open. */
int ows_box_open(const struct ows_box_key *k, const char *sender,
		 const char *sealed, struct ows_buf *out);
