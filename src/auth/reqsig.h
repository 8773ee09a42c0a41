/*
 * Signed admin requests: the ows client signs each request to /_ows/ with
 * a user's Ed25519 key, in the header
 *
 *   Authorization: OWS-Ed25519 Key=<pub b64>, Time=<unix s>, Signature=<b64>
 *
 * over the string
 *
 *   "OWS-Ed25519\n" <Time> "\n" <METHOD> "\n" <request target> "\n"
 *   <lowercase hex SHA-256 of the body>
 *
 * The server refuses a time more than OWS_REQSIG_SKEW_S away from its own
 * clock, so a captured request cannot be replayed for long.
 */
#ifndef OWS_AUTH_REQSIG_H
#define OWS_AUTH_REQSIG_H

#include <stddef.h>
#include <stdint.h>

#include "auth/key.h"
#include "common/err.h"

#define OWS_REQSIG_SKEW_S 300
#define OWS_REQSIG_HEADER_MAX 256

/* Fill out (OWS_REQSIG_HEADER_MAX bytes) with the Authorization value. */
int ows_reqsig_sign(const struct ows_key *k, const char *method,
		    const char *target, const void *body, size_t len,
		    int64_t now, char *out);

/*
 * The same, with the body given by its SHA-256 (lowercase hex): a body
 * streamed from a file, signed before it is read. The node-to-node blob
 * PUT signs its blob's name: the receiver's writer checks the bytes
 * against that name at commit, so the signature covers the content too.
 */
int ows_reqsig_sign_hash(const struct ows_key *k, const char *method,
			 const char *target, const char *body_hash,
			 int64_t now, char *out);

/*
 * Check an Authorization value against the request. On 0, pub gets the
 * signing key. OWS_EAUTH with the reason in err otherwise.
 */
int ows_reqsig_verify(const char *header, const char *method,
		      const char *target, const void *body, size_t len,
		      int64_t now, char pub[OWS_PUBKEY_B64_LEN],
		      struct ows_err *err);

/*
 * Before the body: check the form of an Authorization value and its time,
 * and give the key it names in pub. The signature is not checked (it
 * covers the body): the server uses this to refuse strangers before it
 * reads their body. 0, or OWS_EAUTH with the reason in err.
 */
int ows_reqsig_check_head(const char *header, int64_t now,
			  char pub[OWS_PUBKEY_B64_LEN], struct ows_err *err);

/* The same, with the body given by its SHA-256 (hex): streamed bodies. */
int ows_reqsig_verify_hash(const char *header, const char *method,
			   const char *target, const char *body_hash,
			   int64_t now, char pub[OWS_PUBKEY_B64_LEN],
			   struct ows_err *err);

#endif
