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
