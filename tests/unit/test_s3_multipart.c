/*
 * The checksums of multipart objects (src/s3/multipart_ck.c): CRC
 * combination against the CRC of the concatenated bytes, for CRC-32C and
 * CRC-64/NVME (zlib's crc32_combine64 is the reference for the method),
 * at lengths that cross byte, word and MiB boundaries; COMPOSITE and
 * FULL_OBJECT checksums of a list of parts against the same computed
 * from the bytes; the apply of the uploads.* entries on a real state
 * (NoSuchUpload, InvalidPartOrder, InvalidPart, EntityTooSmall, the
 * object's ETag, rows dropped by complete and abort).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../lib/unit.h"
#include "common/enc.h"
#include "common/json.h"
#include "s3/multipart.h"

#define CHECK OWS_CHECK
#define CHECK_STR OWS_CHECK_STR

static unsigned char *noise(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);

	for (size_t i = 0; p != NULL && i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

static const size_t lens[] = {0, 1, 7, 8, 1000, (1u << 20) + 3};

OWS_TEST(s3_crc_combine)
{
	size_t total = (1u << 20) + 3 + 1000;
	unsigned char *d = noise(2 * total, 7);

	CHECK(d != NULL);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			size_t la = lens[i], lb = lens[j];
			uint32_t a32 = ows__s3_crc32c(0, d, la);
			uint32_t b32 = ows__s3_crc32c(0, d + la, lb);
			uint64_t a64 = ows__s3_crc64nvme(0, d, la);
			uint64_t b64 = ows__s3_crc64nvme(0, d + la, lb);

			CHECK(ows__s3_crc32c_combine(a32, b32, lb) ==
			      ows__s3_crc32c(0, d, la + lb));
			CHECK(ows__s3_crc64nvme_combine(a64, b64, lb) ==
			      ows__s3_crc64nvme(0, d, la + lb));
		}
	}
	free(d);
}

/* base64 of crc as S3 writes it (big-endian, width bytes). */
static void b64_be(uint64_t crc, size_t width, char out[OWS_S3_CK_B64])
{
	unsigned char raw[8];

	for (size_t i = 0; i < width; i++)
		raw[i] = (unsigned char)(crc >> (8 * (width - 1 - i)));
	ows_b64_encode(raw, width, out);
}

OWS_TEST(s3_mpu_checksum_full_object)
{
	size_t n1 = 5u << 20, n2 = 12345, n3 = 1;
	unsigned char *d = noise(n1 + n2 + n3, 11);
	char v[3][OWS_S3_CK_B64], out[OWS_S3_CK_B64 + 8], want[OWS_S3_CK_B64];
	struct ows__s3_part_ck parts[3] = {
		{v[0], n1}, {v[1], n2}, {v[2], n3},
	};

	CHECK(d != NULL);
	/* CRC32, with zlib's crc32 of the whole */
	b64_be(crc32(0, d, (uInt)n1), 4, v[0]);
	b64_be(crc32(0, d + n1, (uInt)n2), 4, v[1]);
	b64_be(crc32(0, d + n1 + n2, (uInt)n3), 4, v[2]);
	CHECK(ows__s3_mpu_checksum(OWS_S3_CK_CRC32, true, parts, 3, out) == 0);
	b64_be(crc32(0, d, (uInt)(n1 + n2 + n3)), 4, want);
	CHECK_STR(out, want);
	/* CRC64NVME */
	b64_be(ows__s3_crc64nvme(0, d, n1), 8, v[0]);
	b64_be(ows__s3_crc64nvme(0, d + n1, n2), 8, v[1]);
	b64_be(ows__s3_crc64nvme(0, d + n1 + n2, n3), 8, v[2]);
	CHECK(ows__s3_mpu_checksum(OWS_S3_CK_CRC64NVME, true, parts, 3,
				   out) == 0);
	b64_be(ows__s3_crc64nvme(0, d, n1 + n2 + n3), 8, want);
	CHECK_STR(out, want);
	/* SHA256 has no FULL_OBJECT; a value of the wrong size is refused */
	CHECK(ows__s3_mpu_checksum(OWS_S3_CK_SHA256, true, parts, 3, out) ==
	      OWS_EINVAL);
	CHECK(ows__s3_mpu_checksum(OWS_S3_CK_CRC32, true, parts, 3, out) ==
	      OWS_EINVAL);
	free(d);
}

OWS_TEST(s3_mpu_checksum_composite)
{
	const char *a = "first part", *b = "second";
	unsigned char ra[32], rb[32], both[64], sum[32];
	char va[OWS_S3_CK_B64], vb[OWS_S3_CK_B64], out[OWS_S3_CK_B64 + 8];
	char want[OWS_S3_CK_B64 + 8];
	struct ows__s3_part_ck parts[2] = {{va, 10}, {vb, 6}};
	unsigned int n;

	EVP_Digest(a, strlen(a), ra, &n, EVP_sha256(), NULL);
	EVP_Digest(b, strlen(b), rb, &n, EVP_sha256(), NULL);
	ows_b64_encode(ra, 32, va);
	ows_b64_encode(rb, 32, vb);
	memcpy(both, ra, 32);
	memcpy(both + 32, rb, 32);
	EVP_Digest(both, 64, sum, &n, EVP_sha256(), NULL);
	ows_b64_encode(sum, 32, want);
	strcat(want, "-2");
	CHECK(ows__s3_mpu_checksum(OWS_S3_CK_SHA256, false, parts, 2, out) ==
	      0);
	CHECK_STR(out, want);
}

/* ---- the apply of uploads.* (kinds_uploads.c), on a real state ---- */

#include "aws/registry.h"
#include "fake_host.h"
#include "s3/s3.h"

static int apply(struct fake_host *fh, const char *kind, const char *verb,
		 const char *spec_json, char *msg, json_t **result)
{
	const struct ows_kind *k = ows_aws_kind_find(kind);
	struct ows_apply_ctx ctx = {&fh->state, "", fh->now_ms += 1000,
				    fh->state.height + 1};
	json_t *spec = json_loads(spec_json, 0, NULL), *res = json_object();
	struct ows_err err = {{0}};
	int rv;

	CHECK(k != NULL && spec != NULL);
	rv = k->apply(&ctx, verb, "bkt", spec, res, &err);
	if (rv == 0)
		fh->state.height++;
	snprintf(msg, 256, "%s", err.msg);
	json_decref(spec);
	if (result != NULL)
		*result = res;
	else
		json_decref(res);
	return rv;
}

static int count(struct fake_host *fh, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	if (ows_state_prepare(&fh->state, sql, &st) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

#define ID "abcdefghijklmnopqrstuvwxyz012345"
#define BLOB(c) "\"" c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c "\""
#define MD5A "0123456789abcdef0123456789abcdef"
#define MD5B "fedcba9876543210fedcba9876543210"
#define PART(n, blob, size, md5) \
	"{\"upload_id\": \"" ID "\", \"part\": " #n ", \"blob\": " blob \
	", \"size\": " #size ", \"etag\": \"" md5 "\"}"
#define LIST(parts) "{\"upload_id\": \"" ID "\", \"parts\": [" parts "]}"
#define P(n, md5) "{\"part\": " #n ", \"etag\": \"" md5 "\"}"

OWS_TEST(s3_apply_uploads)
{
	struct fake_host fh;
	char msg[256];
	json_t *res = NULL;
	unsigned char raw[32], sum[16];
	char want[48];
	unsigned int n;

	fake_host_init(&fh, &ows_s3_service, NULL);
	CHECK(apply(&fh, "buckets", "put", "{}", msg, NULL) == 0);
	CHECK(apply(&fh, "uploads", "part", PART(1, BLOB("a"), 5242880, MD5A),
		    msg, NULL) == OWS_ENOTFOUND);
	CHECK(strncmp(msg, "NoSuchUpload: ", 14) == 0);
	CHECK(apply(&fh, "uploads", "create", "{\"upload_id\": \"short\", "
		    "\"key\": \"k\", \"meta\": {}}", msg, NULL) == OWS_EINVAL);
	CHECK(apply(&fh, "uploads", "create", "{\"upload_id\": \"" ID "\", "
		    "\"key\": \"k\", \"meta\": {\"owner\": \"users/root\"}}",
		    msg, NULL) == 0);
	CHECK(apply(&fh, "uploads", "create", "{\"upload_id\": \"" ID "\", "
		    "\"key\": \"j\", \"meta\": {}}", msg, NULL) == OWS_ECONFLICT);
	CHECK(apply(&fh, "uploads", "part", PART(0, BLOB("a"), 1, MD5A), msg,
		    NULL) == OWS_EINVAL);
	CHECK(apply(&fh, "uploads", "part", PART(1, BLOB("a"), 4, MD5A), msg,
		    NULL) == 0);
	CHECK(apply(&fh, "uploads", "part", PART(2, BLOB("b"), 3, MD5B), msg,
		    NULL) == 0);
	/* order, unknown parts, ETags, sizes */
	CHECK(apply(&fh, "uploads", "complete", LIST(P(2, MD5B) "," P(1, MD5A)),
		    msg, NULL) == OWS_EINVAL);
	CHECK(strncmp(msg, "InvalidPartOrder: ", 18) == 0);
	CHECK(apply(&fh, "uploads", "complete", LIST(P(1, MD5A) "," P(3, MD5B)),
		    msg, NULL) == OWS_EINVAL);
	CHECK(strncmp(msg, "InvalidPart: ", 13) == 0);
	CHECK(apply(&fh, "uploads", "complete", LIST(P(1, MD5B)), msg, NULL) ==
	      OWS_EINVAL);
	CHECK(strncmp(msg, "InvalidPart: ", 13) == 0);
	CHECK(apply(&fh, "uploads", "complete", LIST(P(1, MD5A) "," P(2, MD5B)),
		    msg, NULL) == OWS_EINVAL);
	CHECK(strncmp(msg, "EntityTooSmall: ", 16) == 0);
	/* a part made big enough; then the object is parts 1 and 2 */
	CHECK(apply(&fh, "uploads", "part", PART(1, BLOB("a"), 5242880, MD5A),
		    msg, NULL) == 0);
	CHECK(apply(&fh, "uploads", "complete", LIST(P(1, MD5A) "," P(2, MD5B)),
		    msg, &res) == 0);
	ows_hex_decode(MD5A, raw, 16);
	ows_hex_decode(MD5B, raw + 16, 16);
	EVP_Digest(raw, 32, sum, &n, EVP_md5(), NULL);
	ows_hex_encode(sum, 16, want);
	strcat(want, "-2");
	CHECK_STR(ows_json_str(res, "etag"), want);
	CHECK(json_integer_value(json_object_get(res, "size")) == 5242883);
	json_decref(res);
	CHECK(count(&fh, "SELECT count(*) FROM s3_object_blobs WHERE key='k'")
	      == 2);
	CHECK(count(&fh, "SELECT parts FROM s3_objects WHERE key='k'") == 2);
	CHECK(count(&fh, "SELECT count(*) FROM s3_parts") == 0);
	CHECK(count(&fh, "SELECT count(*) FROM s3_uploads") == 0);
	CHECK(apply(&fh, "uploads", "abort", "{\"upload_id\": \"" ID "\"}",
		    msg, NULL) == OWS_ENOTFOUND);
	/* abort drops the parts */
	CHECK(apply(&fh, "uploads", "create", "{\"upload_id\": \"" ID "\", "
		    "\"key\": \"k\", \"meta\": {}}", msg, NULL) == 0);
	CHECK(apply(&fh, "uploads", "part", PART(7, BLOB("c"), 1, MD5A), msg,
		    NULL) == 0);
	CHECK(apply(&fh, "uploads", "abort", "{\"upload_id\": \"" ID "\"}",
		    msg, NULL) == 0);
	CHECK(count(&fh, "SELECT count(*) FROM s3_parts") == 0);
	fake_host_close(&fh);
}
