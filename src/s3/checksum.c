/*
 * S3's additional checksums (S3 User Guide, "Checking object
 * integrity"): CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 of an object's
 * bytes, sent and returned in base64 of the big-endian value.
 *
 * CRC32 is zlib's crc32 and the SHAs are OpenSSL's. CRC32C (Castagnoli)
 * and CRC64NVME have no library in Debian that OWS links (zlib has only
 * CRC32, OpenSSL none of them), so they are computed here from a table,
 * the classic reflected byte-at-a-time algorithm (Williams, "A painless
 * guide to CRC error detection algorithms"): a few hundred MB/s, enough
 * beside the disk. tests/unit/test_s3.c checks them against the check
 * values of the CRC catalogue ("123456789").
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/enc.h"
#include "s3/s3_priv.h"

/* Reflected polynomials: CRC-32C (0x1EDC6F41) and CRC-64/NVME
   (0xAD93D23594C93659), bit-reversed for LSB-first processing. */
#define CRC32C_POLY 0x82F63B78u
#define CRC64NVME_POLY 0x9A6C9329AC4BC9B5ull

static uint32_t crc32c_table[256];
static uint64_t crc64_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint32_t c = i;
		uint64_t d = i;

		for (int k = 0; k < 8; k++) {
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
			d = d & 1 ? (d >> 1) ^ CRC64NVME_POLY : d >> 1;
		}
		crc32c_table[i] = c;
		crc64_table[i] = d;
	}
}

uint32_t ows__s3_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	pthread_once(&tables_once, tables_init);
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint64_t ows__s3_crc64nvme(uint64_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	pthread_once(&tables_once, tables_init);
	crc = ~crc;
	while (len--)
		crc = crc64_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static const char *const names[] = {
	[OWS_S3_CK_NONE] = "",        [OWS_S3_CK_CRC32] = "CRC32",
	[OWS_S3_CK_CRC32C] = "CRC32C", [OWS_S3_CK_CRC64NVME] = "CRC64NVME",
	[OWS_S3_CK_SHA1] = "SHA1",    [OWS_S3_CK_SHA256] = "SHA256",
};

const char *ows__s3_ck_name(enum ows__s3_ck_alg alg)
{
	return names[alg];
}

enum ows__s3_ck_alg ows__s3_ck_parse(const char *name)
{
	for (int i = OWS_S3_CK_CRC32; i <= OWS_S3_CK_SHA256; i++)
		if (strcasecmp(name, names[i]) == 0)
			return (enum ows__s3_ck_alg)i;
	return OWS_S3_CK_NONE;
}

int ows__s3_ck_init(struct ows__s3_ck *ck, enum ows__s3_ck_alg alg)
{
	memset(ck, 0, sizeof(*ck));
	ck->alg = alg;
	if (alg == OWS_S3_CK_SHA1 || alg == OWS_S3_CK_SHA256) {
		ck->md = EVP_MD_CTX_new();
		if (ck->md == NULL ||
		    EVP_DigestInit_ex(ck->md, alg == OWS_S3_CK_SHA1 ? EVP_sha1()
					      : EVP_sha256(), NULL) != 1) {
			ows__s3_ck_free(ck);
			return -ENOMEM;
		}
	}
	ck->crc32 = (uint32_t)crc32(0L, Z_NULL, 0);
	return 0;
}

void ows__s3_ck_update(struct ows__s3_ck *ck, const void *data, size_t len)
{
	const unsigned char *p = data;

	switch (ck->alg) {
	case OWS_S3_CK_CRC32:
		/* zlib's length is a uInt: feed it in pieces */
		while (len > 0) {
			uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

			ck->crc32 = (uint32_t)crc32(ck->crc32, p, n);
			p += n;
			len -= n;
		}
		break;
	case OWS_S3_CK_CRC32C:
		ck->crc32 = ows__s3_crc32c(ck->crc32, data, len);
		break;
	case OWS_S3_CK_CRC64NVME:
		ck->crc64 = ows__s3_crc64nvme(ck->crc64, data, len);
		break;
	case OWS_S3_CK_SHA1:
	case OWS_S3_CK_SHA256:
		EVP_DigestUpdate(ck->md, data, len);
		break;
	case OWS_S3_CK_NONE:
		break;
	}
}

void ows__s3_ck_final(struct ows__s3_ck *ck, char out[OWS_S3_CK_B64])
{
	unsigned char raw[32];
	unsigned int n = 0;

	switch (ck->alg) {
	case OWS_S3_CK_CRC32:
	case OWS_S3_CK_CRC32C:
		for (int i = 0; i < 4; i++)
			raw[i] = (unsigned char)(ck->crc32 >> (24 - 8 * i));
		n = 4;
		break;
	case OWS_S3_CK_CRC64NVME:
		for (int i = 0; i < 8; i++)
			raw[i] = (unsigned char)(ck->crc64 >> (56 - 8 * i));
		n = 8;
		break;
	case OWS_S3_CK_SHA1:
	case OWS_S3_CK_SHA256:
		EVP_DigestFinal_ex(ck->md, raw, &n);
		break;
	case OWS_S3_CK_NONE:
		out[0] = '\0';
		return;
	}
	ows_b64_encode(raw, n, out);
}

void ows__s3_ck_free(struct ows__s3_ck *ck)
{
	EVP_MD_CTX_free(ck->md);
	ck->md = NULL;
}
