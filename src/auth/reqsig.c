/* Signed admin requests; see reqsig.h. */
#include "auth/reqsig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/enc.h"

#define SCHEME "OWS-Ed25519"

static int sts_hash(struct ows_buf *out, int64_t t, const char *method,
		    const char *target, const char *hash)
{
	return ows_buf_printf(out, SCHEME "\n%" PRId64 "\n%s\n%s\n%s", t,
			      method, target, hash);
}

int ows_reqsig_sign(const struct ows_key *k, const char *method,
		    const char *target, const void *body, size_t len,
		    int64_t now, char *out)
{
	char hash[65];

	ows_sha256_hex(body != NULL ? body : "", body != NULL ? len : 0, hash);
	return ows_reqsig_sign_hash(k, method, target, hash, now, out);
}

int ows_reqsig_sign_hash(const struct ows_key *k, const char *method,
			 const char *target, const char *body_hash,
			 int64_t now, char *out)
{
	struct ows_buf sts = OWS_BUF_INIT;
	char pub[OWS_PUBKEY_B64_LEN], sig[OWS_SIG_B64_LEN];
	int rv;

	rv = sts_hash(&sts, now, method, target, body_hash);
	if (rv == 0)
		rv = ows_key_sign(k, sts.data, sts.len, sig);
	ows_buf_free(&sts);
	if (rv != 0)
		return rv;
	ows_key_public(k, pub);
	snprintf(out, OWS_REQSIG_HEADER_MAX,
		 SCHEME " Key=%s, Time=%" PRId64 ", Signature=%s", pub, now, sig);
	return 0;
}

/*
 * Copy the value of "Name=" up to ',' or the end into out: 0, OWS_ENOTFOUND,
 * or OWS_EPARSE when it is empty or does not fit.
 */
static int field(const char *h, const char *name, char *out, size_t cap)
{
	const char *p = strstr(h, name), *end;
	size_t n;

	if (p == NULL)
		return OWS_ENOTFOUND;
	p += strlen(name);
	end = strchr(p, ',');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n == 0 || n >= cap)
		return OWS_EPARSE;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int ows_reqsig_verify(const char *header, const char *method,
		      const char *target, const void *body, size_t len,
		      int64_t now, char pub[OWS_PUBKEY_B64_LEN],
		      struct ows_err *err)
{
	char hash[65];

	ows_sha256_hex(body != NULL ? body : "", body != NULL ? len : 0, hash);
	return ows_reqsig_verify_hash(header, method, target, hash, now, pub,
				      err);
}

/* Split the header into its key, time and signature, and check the time. */
static int parse_header(const char *header, int64_t now,
			char key[OWS_PUBKEY_B64_LEN], int64_t *t_out,
			char sig[OWS_SIG_B64_LEN], struct ows_err *err)
{
	char tbuf[24];
	char *endp;
	long long t;

	if (header == NULL) {
		ows_err_printf(err, "missing Authorization header");
		return OWS_EAUTH;
	}
	if (strncmp(header, SCHEME " ", strlen(SCHEME) + 1) != 0 ||
	    field(header, "Key=", key, OWS_PUBKEY_B64_LEN) != 0 ||
	    field(header, "Time=", tbuf, sizeof(tbuf)) != 0 ||
	    field(header, "Signature=", sig, OWS_SIG_B64_LEN) != 0) {
		ows_err_printf(err, "malformed Authorization header");
		return OWS_EAUTH;
	}
	errno = 0;
	t = strtoll(tbuf, &endp, 10);
	if (errno != 0 || *endp != '\0') {
		ows_err_printf(err, "malformed Time in Authorization header");
		return OWS_EAUTH;
	}
	if (llabs(t - now) > OWS_REQSIG_SKEW_S) {
		ows_err_printf(err, "request time is more than %d s from the "
			       "node's clock", OWS_REQSIG_SKEW_S);
		return OWS_EAUTH;
	}
	*t_out = t;
	return 0;
}

int ows_reqsig_check_head(const char *header, int64_t now,
			  char pub[OWS_PUBKEY_B64_LEN], struct ows_err *err)
{
	char key[OWS_PUBKEY_B64_LEN], sig[OWS_SIG_B64_LEN];
	int64_t t;
	int rv;

	rv = parse_header(header, now, key, &t, sig, err);
	if (rv == 0)
		memcpy(pub, key, OWS_PUBKEY_B64_LEN);
	return rv;
}

int ows_reqsig_verify_hash(const char *header, const char *method,
			   const char *target, const char *body_hash,
			   int64_t now, char pub[OWS_PUBKEY_B64_LEN],
			   struct ows_err *err)
{
	char key[OWS_PUBKEY_B64_LEN], sig[OWS_SIG_B64_LEN];
	struct ows_buf sts = OWS_BUF_INIT;
	int64_t t;
	bool ok;
	int rv;

	rv = parse_header(header, now, key, &t, sig, err);
	if (rv != 0)
		return rv;
	if (sts_hash(&sts, t, method, target, body_hash) != 0)
		return -ENOMEM;
	ok = ows_sig_verify(key, sts.data, sts.len, sig);
	ows_buf_free(&sts);
	if (!ok) {
		ows_err_printf(err, "request signature does not verify");
		return OWS_EAUTH;
	}
	memcpy(pub, key, OWS_PUBKEY_B64_LEN);
	return 0;
}
