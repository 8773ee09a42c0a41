/*
 * The S3 service's data model: the state-machine tables and the entries
 * that change them. Every file of src/s3/ (and the blob store's
 * collection and repair, through the service's blob_refs) works from
 * this page; it changes only by agreement.
 *
 * Buckets are resources of kind "buckets" (state/kinds.h: the generic
 * row resources(kind, name, stack, spec)), so that stack files hold them:
 *
 *   spec = {"created": ms,                 set by the apply of a put
 *           "region": "us-east-1",
 *           "policy": {IAM policy} | absent,
 *           "cors": [CORSRule as JSON, see cors.c] | absent,
 *           "tags": {"k": "v"} | absent,
 *           "force_delete": true | absent}  stack files: a delete may
 *                                            drop the objects with it
 *
 * Objects, multipart uploads and their parts live in side tables (the
 * schema below, run by the "objects" kind). Sizes are bytes, times are
 * milliseconds of the entry's time (deterministic), ETags are stored
 * without their quotes ("md5hex" or "md5hex-N").
 *
 * An object's data is the concatenation of its blobs (content-addressed
 * SHA-256 files, blob/blob.h), in idx order: one blob for a PUT, one per
 * part for a multipart upload (completing an upload copies no data).
 *
 * meta (JSON text) holds what S3 returns as headers:
 *   {"content_type", "content_encoding", "content_disposition",
 *    "content_language", "cache_control", "expires": strings | absent,
 *    "user": {"name": "value"} (x-amz-meta-*, names lowercase),
 *    "checksum": {"algorithm": "CRC32" | "CRC32C" | "CRC64NVME" |
 *                 "SHA1" | "SHA256", "value": base64,
 *                 "type": "FULL_OBJECT" | "COMPOSITE"} | absent,
 *    "tags": {"k": "v"} | absent,
 *    "owner": "users/NAME" (the caller that wrote it)}
 */
#ifndef OWS_S3_MODEL_H
#define OWS_S3_MODEL_H

#define OWS_S3_SCHEMA \
	"CREATE TABLE IF NOT EXISTS s3_objects(" \
	"  bucket TEXT NOT NULL, key TEXT NOT NULL," \
	"  size INTEGER NOT NULL, etag TEXT NOT NULL," \
	"  modified INTEGER NOT NULL, parts INTEGER NOT NULL DEFAULT 0," \
	"  meta TEXT NOT NULL, height INTEGER NOT NULL," \
	"  PRIMARY KEY(bucket, key)) WITHOUT ROWID;" \
	"CREATE TABLE IF NOT EXISTS s3_object_blobs(" \
	"  bucket TEXT NOT NULL, key TEXT NOT NULL, idx INTEGER NOT NULL," \
	"  blob TEXT NOT NULL, offset INTEGER NOT NULL," \
	"  size INTEGER NOT NULL, etag TEXT NOT NULL, checksum TEXT," \
	"  PRIMARY KEY(bucket, key, idx)) WITHOUT ROWID;" \
	"CREATE INDEX IF NOT EXISTS s3_object_blobs_blob" \
	"  ON s3_object_blobs(blob);" \
	"CREATE TABLE IF NOT EXISTS s3_uploads(" \
	"  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL," \
	"  key TEXT NOT NULL, initiated INTEGER NOT NULL," \
	"  meta TEXT NOT NULL, initiator TEXT NOT NULL);" \
	"CREATE INDEX IF NOT EXISTS s3_uploads_key" \
	"  ON s3_uploads(bucket, key, initiated);" \
	"CREATE TABLE IF NOT EXISTS s3_parts(" \
	"  upload_id TEXT NOT NULL, part INTEGER NOT NULL," \
	"  blob TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL," \
	"  checksum TEXT, modified INTEGER NOT NULL," \
	"  PRIMARY KEY(upload_id, part)) WITHOUT ROWID;" \
	"CREATE INDEX IF NOT EXISTS s3_parts_blob ON s3_parts(blob);"

/* The blobs the S3 state names (aws/service.h, blob_refs). */
#define OWS_S3_BLOB_REFS \
	"SELECT 1 FROM s3_object_blobs WHERE blob=?1 " \
	"UNION ALL SELECT 1 FROM s3_parts WHERE blob=?1 LIMIT 1"

/* Every blob the S3 state names (aws/service.h, blob_list). */
#define OWS_S3_BLOB_LIST \
	"SELECT blob FROM s3_object_blobs UNION SELECT blob FROM s3_parts"

/*
 * The entries (change-set actions inside attested entries, proposed
 * with host->propose; name is always the bucket):
 *
 *   buckets.put     B  {"region", ...}   create (the API: refused with
 *                                        OWS_ECONFLICT when it exists) or
 *                                        a stack's put
 *   buckets.delete  B                    OWS_ECONFLICT "BucketNotEmpty"
 *                                        while objects or uploads remain,
 *                                        unless the stored spec says
 *                                        force_delete (they go with it)
 *   buckets.policy  B  {"policy": {...} | null}
 *   buckets.cors    B  {"cors": [...] | null}
 *   buckets.tags    B  {"tags": {...} | null}
 *
 *   objects.put     B  {"key", "size", "etag", "meta": {...},
 *                       "blobs": [{"blob", "size", "etag",
 *                                  "checksum"}],
 *                       "if_match": ETAG | absent,
 *                       "if_none_match": true | absent,
 *                       "seen": ETAG | null,  the ETag the node saw at
 *                                        the request's arrival, or null
 *                                        for none
 *                       "parts": N | absent,  a copy of a multipart object
 *                       "copy_of": {"bucket", "key", "etag"} | absent}
 *                                        CopyObject: written only while
 *                                        the source still has that ETag
 *                                        (else OWS_ECONFLICT
 *                                        "OperationAborted: ...")
 *       A condition that fails against the state at apply is OWS_EPRECOND
 *       (412 PreconditionFailed) when it failed against "seen" too, and
 *       OWS_ECONFLICT (409 ConditionalRequestConflict) when a write
 *       committed since the request arrived made it fail. Writes
 *       height and modified = the entry's time.
 *   objects.delete  B  {"key"}           absent is no error (S3)
 *   objects.tags    B  {"key", "tags": {...} | null}
 *
 *   uploads.create  B  {"upload_id", "key", "meta"}
 *   uploads.part    B  {"upload_id", "part", "blob", "size", "etag",
 *                       "checksum"}      replaces a part of that number
 *   uploads.complete B {"upload_id", "parts": [{"part", "etag"}],
 *                       "if_match", "if_none_match", "seen"}  the object
 *                       is made of those parts' blobs (from s3_parts),
 *                       the upload and its unlisted parts are dropped;
 *                       OWS_EINVAL for InvalidPart / InvalidPartOrder /
 *                       EntityTooSmall (the message starts with the code)
 *   uploads.abort   B  {"upload_id"}
 *
 * Refusals reach the service as propose()'s {"ok": false, "status",
 * "code", "message"}; where one status has several S3 codes, the apply's
 * reason (in the message, after run_actions' "actions[i] ACTION 'B': "
 * prefix) starts with the S3 code and ": ".
 */

#endif
