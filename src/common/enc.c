/* Encodings; see enc.h. */
#include "common/enc.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
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

static int hexval(char c)
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
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

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

int ows_b64_decode(const char *text, void *out, size_t outcap)
{
	size_t tlen = strlen(text), pad = 0;
	unsigned char tmp[4096];
	unsigned char *dst = tmp;
	int n;

	if (tlen == 0)
		return 0;
	if (tlen % 4 != 0 || tlen / 4 * 3 > sizeof(tmp))
		return -EINVAL;
	for (size_t i = 0; i < tlen; i++) {
		char c = text[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '+' || c == '/' ||
			  (c == '=' && i >= tlen - 2);
		if (!ok)
			return -EINVAL;
	}
	if (text[tlen - 1] == '=')
		pad++;
	if (text[tlen - 2] == '=')
		pad++;
	if (pad == 1 && text[tlen - 2] == '=')
		return -EINVAL;
	n = EVP_DecodeBlock(dst, (const unsigned char *)text, (int)tlen);
	if (n < 0 || (size_t)n < pad)
		return -EINVAL;
	n -= (int)pad;
	if ((size_t)n > outcap)
		return -EINVAL;
	memcpy(out, dst, (size_t)n);
	return n;
}

void ows_sha256(const void *data, size_t len, uint8_t out[32])
{
	SHA256(data, len, out);
}

void ows_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];

	SHA256(data, len, md);
	ows_hex_encode(md, 32, out);
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

void ows_percent_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		int hi, lo;

		if (*s == '%' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0) {
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}
