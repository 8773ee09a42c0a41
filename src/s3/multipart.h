/*
 * Multipart uploads, private to their files (multipart*.c and
 * kinds_uploads.c): the limits S3 sets, the upload row as the handlers
 * read it, and how the checksum of a whole object is made of its parts'.
 *
 * S3 User Guide, "Uploading and copying objects using multipart upload":
 * part numbers 1 to 10,000, parts of 5 MiB to 5 GiB (the last may be
 * smaller), an object's ETag the MD5 of its parts' binary MD5s with "-N".
 * "Checking object integrity": a COMPOSITE checksum is the checksum of the
 * parts' binary checksums with "-N"; a FULL_OBJECT one (CRC types only)
 * is the CRC of the whole object, combined from the parts' CRCs.
 */
#ifndef OWS_S3_MULTIPART_H
#define OWS_S3_MULTIPART_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "s3/s3_priv.h"

#define OWS_S3_PART_MAX 10000          /* part numbers 1..10000 */
#define OWS_S3_PART_SIZE_MAX (5ULL << 30) /* 5 GiB per part */
#define OWS_S3_PART_SIZE_MIN (5ULL << 20) /* 5 MiB, all but the last */
#define OWS_S3_UPLOAD_ID_LEN 32        /* base64url of 24 random bytes */

/* One in-progress upload, as s3_uploads holds it. */
struct ows__s3_upload {
	char id[OWS_S3_UPLOAD_ID_LEN + 8];
	const char *key;          /* arena */
	int64_t initiated;        /* ms */
	json_t *meta;             /* new reference (object_release) */
	const char *initiator;    /* arena: "users/NAME" */
	enum ows__s3_ck_alg ck;   /* meta.checksum.algorithm, or NONE */
	bool full_object;         /* meta.checksum.type is FULL_OBJECT */
};

/*
 * Upload id of bucket into u (strings in arena): 0, OWS_ENOTFOUND (no
 * such upload in that bucket) or -EIO. Release u->meta with json_decref.
 */
int ows__s3_upload_get(struct ows_state *s, struct ows_arena *arena,
		       const char *bucket, const char *id,
		       struct ows__s3_upload *u);

/* Whether id has the form of an upload id this node makes. */
bool ows__s3_upload_id_valid(const char *id);

/* Answer 404 NoSuchUpload. */
void ows__s3_no_such_upload(struct ows__s3_req *r);

/*
 * The part number of the query's partNumber into *part: true, or false
 * after answering 400 InvalidArgument ("Part number must be an integer
 * between 1 and 10000, inclusive").
 */
bool ows__s3_part_number(struct ows__s3_req *r, unsigned *part);

/*
 * The CRC of A||B from crc_a = CRC(A), crc_b = CRC(B) and B's length, for
 * the CRCs of checksum.c (zlib's convention: pre- and post-inverted).
 * zlib has crc32_combine for CRC-32 only; CRC-32C and CRC-64/NVME use the
 * same method (multiplication by x^(8 len_b) modulo the polynomial).
 */
uint32_t ows__s3_crc32c_combine(uint32_t crc_a, uint32_t crc_b,
				uint64_t len_b);
uint64_t ows__s3_crc64nvme_combine(uint64_t crc_a, uint64_t crc_b,
				   uint64_t len_b);

/* One part's share of an object's checksum. */
struct ows__s3_part_ck {
	const char *b64; /* the part's checksum, base64 */
	uint64_t size;
};

/*
 * The checksum of an object of n parts (in order) with algorithm alg
 * into out: COMPOSITE "base64-N", or FULL_OBJECT (CRC types only) the
 * combined CRC. 0, or OWS_EINVAL when a part's value is not base64 of
 * alg's size, -ENOMEM.
 */
int ows__s3_mpu_checksum(enum ows__s3_ck_alg alg, bool full_object,
			 const struct ows__s3_part_ck *parts, size_t n,
			 char out[OWS_S3_CK_B64 + 8]);

/* ---- handlers' helpers shared by multipart*.c ---- */

/*
 * The upload named by the query's uploadId for r's bucket and key into
 * u: true, or false after answering (NoSuchUpload, 500).
 */
bool ows__s3_mpu_upload_of(struct ows__s3_req *r, struct ows__s3_upload *u);

/* Propose uploads.part {upload_id, part, blob, size, etag, checksum} and
   answer with the reply of UploadPart or UploadPartCopy (copy). */
void ows__s3_mpu_part_propose(struct ows__s3_req *r, const char *upload_id,
			      unsigned part, const char *blob, uint64_t size,
			      const char *md5, enum ows__s3_ck_alg ck,
			      const char *checksum, bool copy);

#endif
