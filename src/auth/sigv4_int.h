/*
 * Internals shared by the SigV4 files (sigv4.c, sigv4_parse.c); not part of
 * the API in sigv4.h. Defined in sigv4_parse.c.
 */
#ifndef OWS_AUTH_SIGV4_INT_H
#define OWS_AUTH_SIGV4_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/sigv4.h"
#include "common/buf.h"

#define OWS_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* Linear white space inside header values. */
static inline bool ows_sigv4_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Append the percent-decoding of n bytes of s to b. A '%' not followed by
 * two hex digits stays literal, so every input has exactly one decoding.
 * 0 or -ENOMEM.
 */
int ows__sigv4_pct_decode(struct ows_buf *b, const char *s, size_t n);

/*
 * The first value of header name (case-insensitive), NULL when absent;
 * *count (when count is not NULL) gets how many there are.
 */
const char *ows__sigv4_header_get(const struct ows_sigv4_request *req,
				  const char *name, int *count);

/*
 * Copy v without surrounding white space into out; 0, or -ENOSPC if cap is
 * too small.
 */
int ows__sigv4_copy_trimmed(const char *v, char *out, size_t cap);

/* Strict "YYYYMMDDTHHMMSSZ" to Unix seconds; 0 or OWS_EPARSE. */
int ows__sigv4_parse_amz_date(const char *s, int64_t *t);

#endif
