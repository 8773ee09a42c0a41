/*
 * The checksum of a multipart object from its parts' checksums
 * (multipart.h), as S3 makes it (S3 User Guide, "Checking object
 * integrity", "Using part-level checksums for multipart uploads"):
 *
 *   COMPOSITE    base64(ALG(raw1 || raw2 || ... || rawN)) + "-N", where
 *                rawI is part I's checksum (big-endian bytes);
 *   FULL_OBJECT  the CRC of the whole object (CRC32, CRC32C, CRC64NVME
 *                only), which a CRC lets us compute from the parts' CRCs
 *                and sizes without reading a byte.
 *
 * CRC combination: for the reflected CRCs of checksum.c, CRC(A||B) =
 * CRC(A) * x^(8 len(B)) mod P  xor  CRC(B) (the pre- and post-inversions
 * cancel). zlib does this for CRC-32 (crc32_combine64, used here); no
 * library OWS links has it for CRC-32C or CRC-64/NVME, so the same
 * polynomial arithmetic (zlib's multmodp and x2nmodp) is written here
 * for 64-bit registers, with each polynomial's reflected form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/enc.h"
#include "s3/multipart.h"

#define CRC32C_POLY 0x82F63B78ull
#define CRC64NVME_POLY 0x9A6C9329AC4BC9B5ull

/* a * b mod P for reflected polynomials of width bits (top bit x^0). */
static uint64_t multmodp(uint64_t a, uint64_t b, uint64_t poly, int width)
{
	uint64_t m = 1ull << (width - 1), p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ poly : b >> 1;
	}
	return p;
}

/* x^(n * 2^k) mod P, from repeated squaring of x. */
static uint64_t x2nmodp(uint64_t n, unsigned k, uint64_t poly, int width)
{
	uint64_t p = 1ull << (width - 1); /* x^0 */
	uint64_t sq = 1ull << (width - 2); /* x^1, squared k times below */

	for (unsigned i = 0; i < k; i++)
		sq = multmodp(sq, sq, poly, width);
	while (n) {
		if (n & 1)
			p = multmodp(sq, p, poly, width);
		n >>= 1;
		sq = multmodp(sq, sq, poly, width);
	}
	return p;
}

uint32_t ows__s3_crc32c_combine(uint32_t crc_a, uint32_t crc_b,
				uint64_t len_b)
{
	return (uint32_t)(multmodp(x2nmodp(len_b, 3, CRC32C_POLY, 32), crc_a,
				   CRC32C_POLY, 32) ^ crc_b);
}

uint64_t ows__s3_crc64nvme_combine(uint64_t crc_a, uint64_t crc_b,
				   uint64_t len_b)
{
	return multmodp(x2nmodp(len_b, 3, CRC64NVME_POLY, 64), crc_a,
			CRC64NVME_POLY, 64) ^ crc_b;
}

static const size_t raw_sizes[] = {
	[OWS_S3_CK_NONE] = 0, [OWS_S3_CK_CRC32] = 4, [OWS_S3_CK_CRC32C] = 4,
	[OWS_S3_CK_CRC64NVME] = 8, [OWS_S3_CK_SHA1] = 20,
	[OWS_S3_CK_SHA256] = 32,
};

/* A part's raw checksum into raw: 0 or OWS_EINVAL. */
static int raw_of(enum ows__s3_ck_alg alg, const char *b64, unsigned char *raw)
{
	if (b64 == NULL ||
	    ows_b64_decode_n(b64, strlen(b64), raw, 40) != (long)raw_sizes[alg])
		return OWS_EINVAL;
	return 0;
}

static uint64_t be(const unsigned char *raw, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | raw[i];
	return v;
}

static int full_object(enum ows__s3_ck_alg alg,
		       const struct ows__s3_part_ck *parts, size_t n,
		       char *out)
{
	unsigned char raw[40];
	uint64_t crc = 0;
	size_t w = raw_sizes[alg];

	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		if (raw_of(alg, parts[i].b64, raw) != 0)
			return OWS_EINVAL;
		v = be(raw, w);
		if (i == 0)
			crc = v;
		else if (alg == OWS_S3_CK_CRC32)
			crc = (uint32_t)crc32_combine64((uLong)crc, (uLong)v,
							(z_off64_t)parts[i].size);
		else if (alg == OWS_S3_CK_CRC32C)
			crc = ows__s3_crc32c_combine((uint32_t)crc, (uint32_t)v,
						     parts[i].size);
		else
			crc = ows__s3_crc64nvme_combine(crc, v, parts[i].size);
	}
	for (size_t i = 0; i < w; i++)
		raw[i] = (unsigned char)(crc >> (8 * (w - 1 - i)));
	ows_b64_encode(raw, w, out);
	return 0;
}

int ows__s3_mpu_checksum(enum ows__s3_ck_alg alg, bool full,
			 const struct ows__s3_part_ck *parts, size_t n,
			 char out[OWS_S3_CK_B64 + 8])
{
	struct ows__s3_ck ck;
	unsigned char raw[40];
	size_t len;

	if (alg == OWS_S3_CK_NONE || n == 0)
		return OWS_EINVAL;
	if (full) {
		if (alg == OWS_S3_CK_SHA1 || alg == OWS_S3_CK_SHA256)
			return OWS_EINVAL;
		return full_object(alg, parts, n, out);
	}
	if (ows__s3_ck_init(&ck, alg) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (raw_of(alg, parts[i].b64, raw) != 0) {
			ows__s3_ck_free(&ck);
			return OWS_EINVAL;
		}
		ows__s3_ck_update(&ck, raw, raw_sizes[alg]);
	}
	ows__s3_ck_final(&ck, out);
	ows__s3_ck_free(&ck);
	len = strlen(out);
	snprintf(out + len, OWS_S3_CK_B64 + 8 - len, "-%zu", n);
	return 0;
}
