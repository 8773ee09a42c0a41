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
 * Decode base64 text into out (at most outcap bytes); padding optional.
 * Returns the decoded length, or -EINVAL for malformed input or a result
 * that does not fit. The _n form takes a length and may decode in place
 * (out == text).
 */
int ows_b64_decode(const char *text, void *out, size_t outcap);
long ows_b64_decode_n(const char *text, size_t len, void *out, size_t outcap);

/* The value of a hex digit (either case), or -1 (not an error code). */
int ows_hex_digit(char c);

void ows_sha256(const void *data, size_t len, uint8_t out[32]);
/* SHA-256 as 64 lowercase hex digits + NUL. */
void ows_sha256_hex(const void *data, size_t len, char out[65]);
/*
 * HMAC-SHA256 (RFC 2104) of n bytes at data under a key of klen bytes.
 * Safe from several threads; out may alias key (SigV4 chains keys).
 */
void ows_hmac_sha256(const void *key, size_t klen, const void *data,
		     size_t n, uint8_t out[32]);

/*
 * Whether len bytes at p are UTF-8 as jansson accepts it (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF; NUL allowed).
 * Runs of ASCII are checked eight bytes at a time.
 */
bool ows_utf8_valid(const void *p, size_t len);

/* Cryptographically secure random bytes; -EIO on failure. */
int ows_random(void *out, size_t len);
/* Random bytes as lowercase hex: out holds 2*len+1. */
int ows_random_hex(size_t len, char *out);

/*
 * URL decoding: %XX escapes (malformed ones, and %00, are left as they
 * are), and with form '+' as a space. ows_url_decode returns a malloc'd
 * NUL-terminated copy (its length in *out_len when not NULL);
 * ows_percent_decode decodes a C string in place, without form.
 */
char *ows_url_decode(const char *s, size_t len, bool form, size_t *out_len);
/* One step: the byte the text at s[*i] (of len) stands for; *i moves on. */
char ows_url_byte(const char *s, size_t len, size_t *i, bool form);
void ows_percent_decode(char *s);

/*
 * The form-decoded value of key in a query string ("a=1&b=2") into out (cap
 * bytes, truncated to fit); false when the key is absent.
 */
bool ows_query_get(const char *query, const char *key, char *out, size_t cap);

/*
 * A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", for
 * request ids: from a fast generator seeded per thread by ows_random, so
 * unique but not for secrets (use ows_random for those).
 */
void ows_uuid4(char out[37]);

/* Constant-time equality of two equal-length byte strings. */
bool ows_ct_equal(const void *a, const void *b, size_t len);

#endif
