/* Encodings; see enc.h. */
#include "common/enc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void ows_hex_encode(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int ows_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ows_hex_decode(const char *hex, void *out, size_t outlen)
{
	uint8_t *p = out;

	if (strlen(hex) != 2 * outlen)
		return -EINVAL;
	for (size_t i = 0; i < outlen; i++) {
		int hi = ows_hex_digit(hex[2 * i]), lo = ows_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void ows_b64_encode(const void *data, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

/* The value of a base64 digit, or -1 (a value, not an error code). */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long ows_b64_decode_n(const char *text, size_t len, void *out, size_t outcap)
{
	unsigned char *dst = out;
	size_t n = 0, bits = 0, pad = 0;
	unsigned acc = 0;

	while (pad < 2 && len > 0 && text[len - 1] == '=') {
		len--;
		pad++;
	}
	if ((pad > 0 && (len + pad) % 4 != 0) || len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)text[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits < 8)
			continue;
		bits -= 8;
		/* Writing behind the read position: in-place use is safe. */
		if (n == outcap)
			return -EINVAL;
		dst[n++] = (unsigned char)(acc >> bits & 0xff);
	}
	return (long)n;
}

int ows_b64_decode(const char *text, void *out, size_t outcap)
{
	return (int)ows_b64_decode_n(text, strlen(text), out, outcap);
}

void ows_sha256(const void *data, size_t len, uint8_t out[32])
{
	SHA256(data, len, out);
}

/*
 * OpenSSL 3's one-shot SHA256() looks the algorithm up in its provider
 * store at every call (a fetch, under a lock): a few per cent of a small
 * request's CPU, hashed several times each. Fetched once here (and kept
 * for the life of the process).
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void ows_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];

	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL ||
	    EVP_Digest(data, len, md, NULL, sha256_md, NULL) != 1)
		SHA256(data, len, md);
	ows_hex_encode(md, 32, out);
}

/*
 * HMAC spelled out over the fetched digest: OpenSSL 3's HMAC() and its
 * EVP_MAC each look up or duplicate provider objects at every call, about
 * four times the cost of the two digests a short message needs; a request
 * makes one (SigV4 with a cached signing key) or several (a session token).
 */
void ows_hmac_sha256(const void *key, size_t klen, const void *data,
		     size_t n, uint8_t out[32])
{
	uint8_t k[64] = {0}, pad[64], inner[32];
	unsigned int len = 32;
	EVP_MD_CTX *ctx;
	bool ok;

	pthread_once(&sha256_once, sha256_fetch);
	if (klen > sizeof(k))
		ows_sha256(key, klen, k);
	else
		memcpy(k, key, klen);
	ctx = EVP_MD_CTX_new();
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	ok = ctx != NULL && sha256_md != NULL &&
	     EVP_DigestInit_ex2(ctx, sha256_md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, pad, sizeof(pad)) == 1 &&
	     EVP_DigestUpdate(ctx, data, n) == 1 &&
	     EVP_DigestFinal_ex(ctx, inner, &len) == 1;
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	ok = ok && EVP_DigestInit_ex2(ctx, sha256_md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, pad, sizeof(pad)) == 1 &&
	     EVP_DigestUpdate(ctx, inner, sizeof(inner)) == 1 &&
	     EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) /* out of memory: the library's own, slower path */
		HMAC(EVP_sha256(), k, klen > sizeof(k) ? 32 : (int)klen, data,
		     n, out, &len);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
}

/* The length of the UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t k;
	uint32_t cp;

	if (c < 0xc2 || c > 0xf4)
		return 0; /* continuation bytes, overlong 2-byte leads, > U+10FFFF */
	k = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (n < k)
		return 0;
	cp = c & (0xff >> (k + 1));
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

bool ows_utf8_valid(const void *p, size_t len)
{
	const uint8_t *s = p;
	size_t i = 0, k;
	uint64_t w;

	while (i < len) {
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq(s + i, len - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

int ows_random(void *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : -EIO;
}

int ows_random_hex(size_t len, char *out)
{
	uint8_t tmp[256];

	if (len > sizeof(tmp))
		return -EINVAL;
	if (ows_random(tmp, len) != 0)
		return -EIO;
	ows_hex_encode(tmp, len, out);
	return 0;
}

bool ows_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

char ows_url_byte(const char *s, size_t len, size_t *i, bool form)
{
	size_t k = *i;

	if (s[k] == '%' && k + 2 < len) {
		int hi = ows_hex_digit(s[k + 1]), lo = ows_hex_digit(s[k + 2]);

		/* %00 stays as it is: a NUL would cut C strings short. */
		if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
			*i = k + 3;
			return (char)(hi << 4 | lo);
		}
	}
	*i = k + 1;
	return form && s[k] == '+' ? ' ' : s[k];
}

/* Decode len bytes of s into out (at least len + 1 bytes; may be s). */
static size_t url_decode_into(const char *s, size_t len, bool form, char *out)
{
	size_t i = 0, n = 0;

	while (i < len)
		out[n++] = ows_url_byte(s, len, &i, form);
	out[n] = '\0';
	return n;
}

char *ows_url_decode(const char *s, size_t len, bool form, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t n;

	if (out == NULL)
		return NULL;
	n = url_decode_into(s, len, form, out);
	if (out_len != NULL)
		*out_len = n;
	return out;
}

void ows_percent_decode(char *s)
{
	url_decode_into(s, strlen(s), false, s);
}

bool ows_query_get(const char *query, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p != NULL && *p) {
		size_t n = strcspn(p, "&");

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = n - klen - 1;

			if (vlen >= cap)
				vlen = cap - 1;
			url_decode_into(p + klen + 1, vlen, true, out);
			return true;
		}
		p = p[n] ? p + n + 1 : NULL;
	}
	return false;
}

/*
 * xoshiro256** (Blackman and Vigna), seeded once per thread from the
 * system's generator: request ids need to be unique, not secret, and
 * RAND_bytes costs a getpid() (OpenSSL's fork check) and more per call.
 */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(void)
{
	static _Thread_local uint64_t s[4];
	static _Thread_local bool seeded;
	uint64_t result, t;

	if (!seeded) {
		if (ows_random(s, sizeof(s)) != 0 ||
		    (s[0] | s[1] | s[2] | s[3]) == 0) {
			/* never all zero; unique enough without entropy */
			s[0] = (uint64_t)time(NULL);
			s[1] = (uint64_t)getpid();
			s[2] = (uint64_t)(uintptr_t)&s;
			s[3] = 0x9e3779b97f4a7c15ull;
		}
		seeded = true;
	}
	result = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void ows_uuid4(char out[37])
{
	uint8_t r[16];
	char hex[33];
	uint64_t a = next_u64(), b = next_u64();

	memcpy(r, &a, 8);
	memcpy(r + 8, &b, 8);
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	ows_hex_encode(r, 16, hex);
	/* 8-4-4-4-12, without printf's parsing on every request */
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}
