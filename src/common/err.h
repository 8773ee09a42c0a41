/*
 * Error codes and the fixed error buffer.
 *
 * Functions return 0 on success or a negative code: -errno for system
 * failures, or one of the OWS_E* codes below for domain failures. Context for
 * a human travels up in a struct ows_err (raft's ErrMsg pattern), a fixed
 * buffer, so that error paths never allocate.
 */
#ifndef OWS_COMMON_ERR_H
#define OWS_COMMON_ERR_H

#include <stdbool.h>
#include <stddef.h>

enum {
	OWS_EPARSE = -1000, /* malformed input */
	OWS_EAUTH,          /* not authenticated: bad or missing signature */
	OWS_EDENIED,        /* authenticated, but not allowed */
	OWS_ENOTFOUND,      /* no such resource */
	OWS_ECONFLICT,      /* conflicts with current state (replay, owner) */
	OWS_ENOTLEADER,     /* this node cannot accept writes now */
	OWS_ETOOBIG,        /* input larger than the limit */
	OWS_EINVAL,         /* well-formed but invalid */
	OWS_EIO,            /* storage failure */
	OWS_EPRECOND,       /* a condition of the request does not hold
			       (S3's If-Match / If-None-Match: 412) */

	/*
	 * Signature Version 4 failures (auth/sigv4.h). Each maps to an AWS
	 * error code and HTTP status through ows_sigv4_error(); the S3
	 * spelling differs for a few of them.
	 */
	/* No credentials at all: 403 MissingAuthenticationToken (S3:
	   AccessDenied). */
	OWS_ESIG_MISSING = -1100,
	/* Bad Authorization header: 400 IncompleteSignature (S3:
	   AuthorizationHeaderMalformed). */
	OWS_ESIG_MALFORMED,
	/* Bad presigned query: 400 AuthorizationQueryParametersError. */
	OWS_ESIG_QUERY,
	/* Unknown access key (the caller's lookup): 403 InvalidAccessKeyId. */
	OWS_ESIG_ACCESS_KEY,
	/* 403 SignatureDoesNotMatch. */
	OWS_ESIG_SIGNATURE,
	/* 403 RequestTimeTooSkewed. */
	OWS_ESIG_SKEW,
	/* Presigned URL past its expiry: 403 AccessDenied "Request has
	   expired" (other services: ExpiredToken). */
	OWS_ESIG_EXPIRED,
	/* Presigned URL dated in the future: 403 AccessDenied. */
	OWS_ESIG_NOT_YET,
	/* S3: an x-amz-* header was not signed: 403 AccessDenied. */
	OWS_ESIG_UNSIGNED,
	/* Body does not match x-amz-content-sha256: 400
	   XAmzContentSHA256Mismatch. */
	OWS_ESIG_SHA256,
	/* 400 InvalidArgument. */
	OWS_ESIG_ARGUMENT,
	/* S3 without x-amz-content-sha256: 400 InvalidRequest. */
	OWS_ESIG_REQUEST,
	/* aws-chunked body cut short or malformed: 400 IncompleteBody. */
	OWS_ESIG_BODY,
	/* A chunk below 8 KiB before the last one, or a size that cannot be:
	   400 InvalidChunkSizeError. */
	OWS_ESIG_CHUNK_SIZE,
	/* The credential scope names another region or service than the one
	   called: 403 SignatureDoesNotMatch "Credential should be scoped to a
	   valid region." (S3: AuthorizationHeaderMalformed). */
	OWS_ESIG_SCOPE,
};

/* True for the OWS_ESIG_* codes (a refused request signature). */
static inline bool ows_err_is_sig(int code)
{
	return code >= OWS_ESIG_MISSING && code <= OWS_ESIG_SCOPE;
}

#define OWS_ERR_MSG_SIZE 256

struct ows_err {
	char msg[OWS_ERR_MSG_SIZE];
};

/* Replace the message. */
void ows_err_printf(struct ows_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message: "<new>: <old>". */
void ows_err_wrapf(struct ows_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A short static name for a code ("parse error", strerror for -errno). */
const char *ows_strerror(int code);

#endif
