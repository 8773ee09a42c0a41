/*
 * AWS Signature Version 4: verification of signed requests (Authorization
 * header or presigned query), a signer for the same, and the push decoder
 * for "aws-chunked" bodies (signed chunks, unsigned chunks with trailers).
 *
 * A server uses it in three steps:
 *
 *   1. ows_sigv4_parse() finds the credentials in the request and fills a
 *      struct ows_sigv4_auth (access key id, scope, signed headers,
 *      signature, payload mode). No secret is needed yet.
 *   2. The service looks up the secret of auth.access_key (unknown key:
 *      OWS_ESIG_ACCESS_KEY) and calls ows_sigv4_verify(), which checks the
 *      clock, rebuilds the canonical request and compares signatures in
 *      constant time.
 *   3. For STREAMING-* payloads the body goes through a struct
 *      ows_sigv4_chunked decoder, which checks every chunk signature (or,
 *      unsigned, only the framing) and hands the decoded bytes on. For a
 *      hex payload hash read as a stream, ows_sigv4_payload_check() compares
 *      the hash the server computed at the end.
 *
 * The rules follow the AWS General Reference, "Create a canonical request
 * for Signature Version 4", and the S3 API Reference, "Authenticating
 * Requests (AWS Signature Version 4)": "Normalize URI paths according to RFC
 * 3986 ... Each path segment must be URI-encoded twice (except for Amazon S3
 * which only gets URI-encoded once)". Concretely, for service "s3" the
 * canonical URI is the received path decoded and encoded once, with no dot
 * segment removal; for every other service the received (already encoded)
 * path has its "." / ".." / empty segments removed and is encoded again.
 *
 * Secrets never appear in error messages. Nothing here logs.
 */
#ifndef OWS_AUTH_SIGV4_H
#define OWS_AUTH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The AWS error for a result code rc (an OWS_ESIG_* code of common/err.h,
 * where the SigV4 codes live with the rest of the family; -ENOMEM, ...):
 * returns the HTTP status and sets *code (and *message, when not NULL) to
 * static strings. s3 selects the S3 spellings. Anything unknown is 500
 * InternalError.
 */
int ows_sigv4_error(int rc, bool s3, const char **code, const char **message);

/* Clock skew allowed for header signatures and presigned start times. */
#define OWS_SIGV4_SKEW_S 900
/* Longest X-Amz-Expires: seven days. */
#define OWS_SIGV4_EXPIRES_MAX 604800

#define OWS_SIGV4_KEY_MAX 128	    /* access key id length */
#define OWS_SIGV4_SCOPE_PART_MAX 64 /* region, service */
#define OWS_SIGV4_SIGNED_MAX 2048   /* SignedHeaders list length */

/* A request header, name as sent (any case), value as received. */
struct ows_sigv4_header {
	const char *name;
	const char *value;
};

/*
 * What the HTTP layer knows of a request. All pointers are borrowed for the
 * duration of each call.
 */
struct ows_sigv4_request {
	const char *method; /* "GET" */
	const char *path;   /* raw, still percent-encoded: "/a%20b" */
	const char *query;  /* raw, after '?'; "" or NULL when none */
	const struct ows_sigv4_header *headers;
	size_t n_headers;
};

/* How the payload is covered by the signature (x-amz-content-sha256). */
enum ows_sigv4_payload {
	/* A hex SHA-256 given in the header. */
	OWS_SIGV4_PAYLOAD_HASH,
	/* Header absent (services other than S3): the body's own hash. */
	OWS_SIGV4_PAYLOAD_BODY,
	/* UNSIGNED-PAYLOAD, and presigned S3 URLs. */
	OWS_SIGV4_PAYLOAD_UNSIGNED,
	/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	OWS_SIGV4_PAYLOAD_STREAMING,
	/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
	OWS_SIGV4_PAYLOAD_STREAMING_TRAILER,
	/* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
	OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
};

/* The credentials of a request, filled by ows_sigv4_parse(). */
struct ows_sigv4_auth {
	bool presigned;
	bool s3;		 /* service == "s3": single URI encoding */
	bool has_security_token; /* x-amz-security-token present */
	char access_key[OWS_SIGV4_KEY_MAX + 1];
	char date[9]; /* scope date, YYYYMMDD */
	char region[OWS_SIGV4_SCOPE_PART_MAX];
	char service[OWS_SIGV4_SCOPE_PART_MAX];
	char amz_date[17]; /* request time, YYYYMMDDTHHMMSSZ */
	int64_t time;	   /* the same in Unix seconds */
	int64_t expires;   /* presigned: X-Amz-Expires seconds, else 0 */
	char signed_headers[OWS_SIGV4_SIGNED_MAX]; /* "host;x-amz-date" */
	char signature[65];			   /* lowercase hex, as sent */
	enum ows_sigv4_payload payload;
	char payload_hash[65]; /* PAYLOAD_HASH: the header's value */
};

/*
 * Find and check the form of the credentials of req: the Authorization
 * header (request time from x-amz-date, else an RFC 1123 Date header) or
 * the X-Amz-* query parameters, never both. Returns 0 and fills out,
 * OWS_ESIG_MISSING when the request carries none (an anonymous request),
 * or another OWS_ESIG_* with a reason in err. The signature is not
 * checked here. The caller decides whether out->region and out->service
 * are ones it serves, and refuses has_security_token when it issues no
 * session tokens (the token is signed but not checked here).
 */
int ows_sigv4_parse(const struct ows_sigv4_request *req,
		    struct ows_sigv4_auth *out, struct ows_err *err);

/*
 * Check what a parsed request is for, before any secret is looked up: the
 * region of its credential scope must be region (the node's; AWS answers
 * another one with "Credential should be scoped to a valid region."), its
 * service must be service when that is not NULL ("Credential should be
 * scoped to correct service: 'execute-api'."), and only S3 takes a payload
 * the signature does not cover (UNSIGNED-PAYLOAD, STREAMING-*): every other
 * service signs the hash of the body itself. 0, OWS_ESIG_SCOPE or
 * OWS_ESIG_SIGNATURE with the reason in err.
 */
int ows_sigv4_check_scope(const struct ows_sigv4_auth *a, const char *region,
			  const char *service, struct ows_err *err);

/*
 * Verify a parsed request with the secret of a->access_key (borrowed, never
 * copied into err). now is the server's Unix time.
 *
 * Header signatures must be within OWS_SIGV4_SKEW_S of now; presigned ones
 * must not have expired (X-Amz-Date + X-Amz-Expires) nor start more than
 * OWS_SIGV4_SKEW_S in the future. host must be signed; on S3 every x-amz-*
 * header present must be signed.
 *
 * body_sha256_hex is the lowercase hex SHA-256 of the whole body when the
 * server has it, or NULL when the body is streamed. It is required for
 * OWS_SIGV4_PAYLOAD_BODY (-EINVAL without it); for PAYLOAD_HASH it is
 * compared with the header (OWS_ESIG_SHA256), and when NULL the caller
 * must call ows_sigv4_payload_check() once the body has been read.
 *
 * Returns 0 when the signature matches, else an OWS_ESIG_* code.
 */
int ows_sigv4_verify(const struct ows_sigv4_request *req,
		     const struct ows_sigv4_auth *a, const char *secret,
		     int64_t now, const char *body_sha256_hex,
		     struct ows_err *err);

/*
 * The same with the signing key of a's scope (ows_sigv4_signing_key of
 * the secret, a->date, a->region, a->service; borrowed) instead of the
 * secret: a server that keeps signing keys, as AWS's own services do,
 * need not open the secret for every request.
 */
int ows_sigv4_verify_key(const struct ows_sigv4_request *req,
			 const struct ows_sigv4_auth *a, const uint8_t key[32],
			 int64_t now, const char *body_sha256_hex,
			 struct ows_err *err);

/*
 * For PAYLOAD_HASH: compare the hash of the body as received with the one
 * that was signed. 0 or OWS_ESIG_SHA256. Other modes always pass.
 */
int ows_sigv4_payload_check(const struct ows_sigv4_auth *a,
			    const char *body_sha256_hex, struct ows_err *err);

/*
 * The signing key: HMAC chain "AWS4"+secret, date, region, service,
 * "aws4_request". The caller should wipe it after use.
 */
void ows_sigv4_signing_key(const char *secret, const char *date,
			   const char *region, const char *service,
			   uint8_t key[32]);

/*
 * Sign req with every header it has (it must have host and x-amz-date; the
 * signed list is their lowercase names, sorted) and write the Authorization
 * value into out (cap bytes):
 *
 *   AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
 *   SignedHeaders=..., Signature=...
 *
 * payload_hash is what the canonical request ends with (a hex hash,
 * UNSIGNED-PAYLOAD, STREAMING-...). Returns 0, -EINVAL for unusable input
 * (no host or x-amz-date, a header name that is not an HTTP token; names
 * repeated in another case count once),
 * -ENOSPC when out is too small, or -ENOMEM.
 */
int ows_sigv4_sign_header(const struct ows_sigv4_request *req,
			  const char *access_key, const char *secret,
			  const char *region, const char *service,
			  const char *payload_hash, char *out, size_t cap);

/*
 * The aws-chunked decoder. Body framing, per the S3 API Reference
 * ("Transferring Payload in Multiple Chunks", "Including Trailing
 * Headers"):
 *
 *   signed:   hex(size) ";chunk-signature=" sig CRLF data CRLF ...
 *             "0;chunk-signature=" sig CRLF [trailers] CRLF
 *   unsigned: hex(size) CRLF data CRLF ... "0" CRLF trailers CRLF
 *
 * with each chunk signature an HMAC over
 *
 *   "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous signature
 *   "\n" hex(SHA256("")) "\n" hex(SHA256(chunk data))
 *
 * chained from the seed (the request's own) signature, and the signed
 * trailer variant ending in "x-amz-trailer-signature:" over
 *
 *   "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" previous signature
 *   "\n" hex(SHA256(trailer lines as "name:value\n"))
 *
 * In the signed variants every data chunk but the last must hold at least
 * OWS_SIGV4_CHUNK_MIN bytes, as S3 requires (InvalidChunkSizeError).
 *
 * Memory is bounded: chunk data passes through as it arrives and is hashed
 * incrementally; header and trailer lines are limited to
 * OWS_SIGV4_CHUNK_LINE_MAX bytes, trailers to OWS_SIGV4_TRAILERS_MAX.
 * Because data is handed on before its chunk signature can be checked, the
 * consumer must not commit anything until ows_sigv4_chunked_finish()
 * returned 0.
 */
#define OWS_SIGV4_CHUNK_LINE_MAX 256
#define OWS_SIGV4_TRAILERS_MAX 1024
#define OWS_SIGV4_CHUNK_MIN 8192

struct ows_sigv4_chunked_cb {
	/* Decoded payload bytes, borrowed for the call; a negative code
	   aborts decoding with that code (positive: -ECANCELED). */
	int (*data_cb)(void *ud, const char *data, size_t len);
	/* Each trailer once the whole body checked out (may be NULL):
	   lowercase name, trimmed value; errors as for data_cb. */
	int (*trailer_cb)(void *ud, const char *name, const char *value);
	void *ud;
};

struct ows_sigv4_chunked {
	int mode; /* an enum ows_sigv4_payload STREAMING_* */
	int state;
	int rc; /* sticky error once failed */
	uint8_t key[32];
	char amz_date[17];
	char scope[3 * OWS_SIGV4_SCOPE_PART_MAX];
	char prev_sig[65];	/* signature of the previous chunk */
	char chunk_sig[65];	/* claimed signature of the current chunk */
	uint64_t remaining;	/* data bytes left in the current chunk */
	uint64_t last_size;	/* size of the previous data chunk */
	uint64_t total;		/* decoded bytes so far */
	int64_t decoded_length; /* x-amz-decoded-content-length or -1 */
	void *sha;		/* EVP_MD_CTX of the current chunk */
	size_t line_len;
	char line[OWS_SIGV4_CHUNK_LINE_MAX];
	size_t trailers_len;
	char trailers[OWS_SIGV4_TRAILERS_MAX]; /* canonical "name:value\n" */
	char trailer_sig[65];
};

/*
 * Start decoding. mode is one of the STREAMING_* payload modes; for the
 * unsigned one key, amz_date, scope and seed_signature may be NULL. scope is
 * "DATE/REGION/SERVICE/aws4_request". decoded_length is
 * x-amz-decoded-content-length, or -1 when unknown. Returns 0, -EINVAL or
 * -ENOMEM. Ends with ows_sigv4_chunked_close() in every case.
 */
int ows_sigv4_chunked_init(struct ows_sigv4_chunked *d,
			   enum ows_sigv4_payload mode, const uint8_t key[32],
			   const char *amz_date, const char *scope,
			   const char *seed_signature, int64_t decoded_length);

/* The same from a verified request's auth and secret. */
int ows_sigv4_chunked_init_auth(struct ows_sigv4_chunked *d,
				const struct ows_sigv4_auth *a,
				const char *secret, int64_t decoded_length);

/*
 * Feed the next len bytes of the body. Decoded data and trailers go to cb.
 * Returns 0 or an error (OWS_ESIG_SIGNATURE, OWS_ESIG_BODY,
 * OWS_ESIG_CHUNK_SIZE, a callback's own code) that also sticks: further
 * feeds return it again.
 */
int ows_sigv4_chunked_feed(struct ows_sigv4_chunked *d, const void *data,
			   size_t len, const struct ows_sigv4_chunked_cb *cb,
			   struct ows_err *err);

/*
 * The body has ended: 0 when it was complete and every signature matched,
 * OWS_ESIG_BODY when it stopped early (or the decoded length differs), or
 * the earlier error.
 */
int ows_sigv4_chunked_finish(struct ows_sigv4_chunked *d, struct ows_err *err);

void ows_sigv4_chunked_close(struct ows_sigv4_chunked *d);

#endif
