/*
 * Encodings: hex, base64 (RFC 4648, standard alphabet with padding), SHA-256,
 * random bytes and constant-time comparison. Thin wrappers over OpenSSL.
 */
#ifndef OWS_COMMON_ENC_H
#define OWS_COMMON_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* out must hold 2*len+1 bytes. */
void ows_hex_encode(const void *data, size_t len, char *out);
/* Decode exactly outlen bytes from 2*outlen hex digits; -EINVAL otherwise. */
int ows_hex_decode(const char *hex, void *out, size_t outlen);

/* Size of the base64 text (with NUL) for len bytes. */
#define OWS_B64_LEN(len) ((((len) + 2) / 3) * 4 + 1)
void ows_b64_encode(const void *data, size_t len, char *out);
/*
 * Decode base64 text into out (at most outcap bytes); returns the decoded
 * length, or -EINVAL for malformed input or a result that does not fit.
 */
int ows_b64_decode(const char *text, void *out, size_t outcap);

void ows_sha256(const void *data, size_t len, uint8_t out[32]);
/* SHA-256 as 64 lowercase hex digits + NUL. */
void ows_sha256_hex(const void *data, size_t len, char out[65]);

/* Cryptographically secure random bytes; -EIO on failure. */
int ows_random(void *out, size_t len);
/* Random bytes as lowercase hex: out holds 2*len+1. */
int ows_random_hex(size_t len, char *out);

/* Decode %XX escapes in place (malformed ones are left as they are). */
void ows_percent_decode(char *s);

/* Constant-time equality of two equal-length byte strings. */
bool ows_ct_equal(const void *a, const void *b, size_t len);

#endif
