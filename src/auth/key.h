/*
 * Ed25519 keys: users sign change sets and admin requests with them; nodes
 * sign their join request and prove who they are on every Raft connection
 * (raft/transport.c). A public key travels as the base64 of
 * its 32 raw bytes (44 characters); a private key lives in a PKCS#8 PEM file
 * of mode 0600, as OpenSSL writes it.
 */
#ifndef OWS_AUTH_KEY_H
#define OWS_AUTH_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define OWS_PUBKEY_B64_LEN 45 /* 44 characters and the NUL */
#define OWS_SIG_B64_LEN 89    /* 64 bytes: 88 characters and the NUL */

struct ows_key; /* a private key; opaque */

int ows_key_generate(struct ows_key **out);
/* Load a PEM private key; OWS_EINVAL with the reason in err. */
int ows_key_load(const char *path, struct ows_key **out, struct ows_err *err);
/* Write the private key as PEM, mode 0600, atomically. */
int ows_key_save(const struct ows_key *k, const char *path);
void ows_key_free(struct ows_key *k);
void ows_key_public(const struct ows_key *k, char out[OWS_PUBKEY_B64_LEN]);
/* Sign msg; out gets the base64 signature. */
int ows_key_sign(const struct ows_key *k, const void *msg, size_t len,
		 char out[OWS_SIG_B64_LEN]);

/* True when pub_b64 is a well-formed public key. */
bool ows_pubkey_valid(const char *pub_b64);
/* True when sig_b64 is pub_b64's valid signature of msg. */
bool ows_sig_verify(const char *pub_b64, const void *msg, size_t len,
		    const char *sig_b64);

#endif
