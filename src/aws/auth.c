/*
 * SigV4 for the services of the seam (aws/auth.h): the head check before
 * any body byte, the check over a whole body, and the streamed check
 * (a running hash of the body, or aws-chunked with chunk signatures).
 *
 * A secret is held only while its signing key is derived (or, with the
 * keys' cache, not at all: aws/keycache.c). The signing key is held from
 * the head check until the signature over the body is verified (or,
 * streamed, until the chunk decoder has its own copy), and is wiped then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws/auth.h"
#include "common/enc.h"

static int64_t clock_s(void)
{
	uv_timeval64_t tv;

	uv_gettimeofday(&tv);
	return tv.tv_sec;
}

static int64_t now_of(const struct ows_aws_auth *x)
{
	return x->now != 0 ? x->now : clock_s();
}

/* Is name in SignedHeaders ("host;x-amz-date;...")? */
static bool signs_header(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p; p = strchr(p, ';')) {
		if (*p == ';')
			p++;
		if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return true;
	}
	return false;
}

static void wipe_key(struct ows_aws_auth *x)
{
	OPENSSL_cleanse(x->key, sizeof(x->key));
	x->has_key = false;
}

void ows_aws_auth_clear(struct ows_aws_auth *x)
{
	wipe_key(x);
}

/* The signing key of x's scope from secret (which the caller wipes). */
static void derive_key(struct ows_aws_auth *x, const char *secret)
{
	ows_sigv4_signing_key(secret, x->a.date, x->a.region, x->a.service,
			      x->key);
	x->has_key = true;
}

/*
 * The signature verified (rv 0) with a key that came from the secret:
 * keep it, unless the keys changed since it was looked up (the key may
 * be gone now: this request passes, as it would have without the cache,
 * but the next one looks again).
 */
static void remember(struct ows_aws_auth *x, int rv)
{
	const struct ows_aws_keys *keys = x->keys;

	if (rv == 0 && x->to_cache && x->has_key &&
	    keys->generation(keys->ud) == x->gen)
		ows_aws_keycache_put(keys->cache, x->gen, &x->a,
				     x->caller.user, x->key);
	x->to_cache = false;
}

/* Verify with the key held; body_hex NULL: the headers' part only. */
static int verify(struct ows_aws_auth *x, const char *body_hex,
		  struct ows_err *err)
{
	int rv;

	if (!x->has_key)
		return -EINVAL;
	rv = ows_sigv4_verify_key(&x->sr, &x->a, x->key, now_of(x), body_hex,
				  err);
	remember(x, rv);
	return rv;
}

/*
 * Session credentials: the token (header, or query of a presigned URL)
 * must be ours, for this key id, signed and unexpired; the secret comes
 * from it.
 */
static int session_secret(struct ows_aws_auth *x,
			  const struct ows_http_req *req,
			  const struct ows_aws_keys *keys, struct ows_err *err)
{
	char qtoken[OWS_SESSION_TOKEN_MAX], secret[OWS_SESSION_SECRET_LEN + 1];
	const char *token = ows_http_req_header(req, "X-Amz-Security-Token");
	struct ows_aws_caller *who = &x->caller;
	int rv;

	if (token == NULL &&
	    ows_query_get(req->query, "X-Amz-Security-Token", qtoken,
			  sizeof(qtoken)))
		token = qtoken;
	else if (token != NULL && !x->a.presigned &&
		 !signs_header(x->a.signed_headers, "x-amz-security-token")) {
		/* the token must be under the signature, as AWS requires */
		ows_err_printf(err, "x-amz-security-token must be a signed "
			       "header");
		return OWS_ESIG_SIGNATURE;
	}
	rv = ows_session_open(keys->session_key, x->a.access_key, token,
			      now_of(x), &x->sess, secret);
	if (rv == -ETIMEDOUT) {
		x->expired_token = true;
		ows_err_printf(err, "The security token included in the "
			       "request is expired");
		return OWS_ESIG_ACCESS_KEY;
	}
	if (rv != 0) {
		ows_err_printf(err, "The security token included in the "
			       "request is invalid.");
		return OWS_ESIG_ACCESS_KEY;
	}
	derive_key(x, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	who->session = true;
	snprintf(who->kind, sizeof(who->kind), "%s", x->sess.kind);
	snprintf(who->name, sizeof(who->name), "%s", x->sess.name);
	if (strcmp(x->sess.kind, "users") == 0)
		snprintf(who->user, sizeof(who->user), "%s", x->sess.name);
	return rv;
}

/*
 * A long-term key's user and signing key: from the keys' cache, or from
 * its secret (then to be cached once the signature verifies).
 */
static int long_term_key(struct ows_aws_auth *x,
			 const struct ows_aws_keys *keys)
{
	struct ows_buf secret = OWS_BUF_INIT;
	char *user = x->caller.user;
	int rv;

	if (keys->cache != NULL) {
		x->gen = keys->generation(keys->ud);
		if (ows_aws_keycache_get(keys->cache, x->gen, &x->a, user,
					 x->key) == 0) {
			x->has_key = true;
			return 0;
		}
	}
	rv = keys->secret(keys->ud, x->a.access_key, user, &secret);
	if (rv == 0 && secret.data == NULL)
		rv = -ENOENT;
	if (rv == 0) {
		derive_key(x, (const char *)secret.data);
		x->to_cache = keys->cache != NULL;
	}
	if (secret.data != NULL)
		OPENSSL_cleanse(secret.data, secret.len);
	ows_buf_free(&secret);
	return rv;
}

/* Parse, check the scope, look the key up: on 0 the signing key is held. */
static int prepare(struct ows_aws_auth *x, const struct ows_http_req *req,
		   const struct ows_aws_keys *keys, const char *service,
		   bool unsigned_ok, struct ows_err *err)
{
	size_t n = req->n_headers < 128 ? req->n_headers : 128;
	struct ows_aws_caller *who = &x->caller;
	int rv;

	x->keys = keys;
	x->sr = (struct ows_sigv4_request){req->method, req->path, req->query,
					   x->hs, n};
	for (size_t i = 0; i < n; i++)
		x->hs[i] = (struct ows_sigv4_header){req->headers[i].name,
						     req->headers[i].value};
	rv = ows_sigv4_parse(&x->sr, &x->a, err);
	if (rv != 0)
		return rv;
	snprintf(who->access_key, sizeof(who->access_key), "%s",
		 x->a.access_key);
	if (unsigned_ok) {
		/* streamed services take what SigV4 allows: check the scope
		   without the payload rule (only the region and service) */
		struct ows_sigv4_auth probe = x->a;

		probe.payload = OWS_SIGV4_PAYLOAD_HASH;
		rv = ows_sigv4_check_scope(&probe, keys->region, service, err);
	} else {
		rv = ows_sigv4_check_scope(&x->a, keys->region, service, err);
	}
	if (rv != 0)
		return rv;
	if (strncmp(x->a.access_key, "ASIA", 4) == 0)
		return session_secret(x, req, keys, err);
	if (x->a.has_security_token) {
		/* a token with a long-term key: not one we issued */
		ows_err_printf(err, "The security token included in the "
			       "request is invalid.");
		return OWS_ESIG_ACCESS_KEY;
	}
	rv = long_term_key(x, keys);
	if (rv != 0) {
		wipe_key(x);
		ows_err_printf(err, "The AWS Access Key Id you provided does not "
			       "exist in our records.");
		return OWS_ESIG_ACCESS_KEY;
	}
	snprintf(who->kind, sizeof(who->kind), "users");
	snprintf(who->name, sizeof(who->name), "%s", who->user);
	return 0;
}

int ows_aws_auth_head(struct ows_aws_auth *x, const struct ows_http_req *req,
		      const struct ows_aws_keys *keys, const char *service,
		      bool unsigned_ok, struct ows_err *err)
{
	int rv;

	memset(x, 0, sizeof(*x));
	x->now = keys->now;
	rv = prepare(x, req, keys, service, unsigned_ok, err);
	/* The signature covers what a header gives, or nothing of the body:
	   check it now. Streaming modes check their seed signature here. */
	if (rv == 0 && x->a.payload != OWS_SIGV4_PAYLOAD_BODY) {
		rv = verify(x, NULL, err);
		x->verified = rv == 0;
		/* only the hash is left to compare: no key needed, except
		   by the chunk decoder */
		if (x->a.payload == OWS_SIGV4_PAYLOAD_HASH ||
		    x->a.payload == OWS_SIGV4_PAYLOAD_UNSIGNED)
			wipe_key(x);
	}
	if (rv != 0) {
		wipe_key(x);
		return rv;
	}
	x->prepared = true;
	return 0;
}

int ows__aws_auth_anonymous(struct ows_aws_auth *x)
{
	const struct ows_aws_keys *keys = x->keys;
	int64_t now = x->now;

	wipe_key(x);
	memset(x, 0, sizeof(*x));
	x->now = now;
	x->keys = keys;
	/* nothing is signed: the body passes through unchecked */
	x->a.payload = OWS_SIGV4_PAYLOAD_UNSIGNED;
	x->prepared = true;
	x->verified = true;
	x->anonymous = true;
	return 0;
}

int ows_aws_auth_body(struct ows_aws_auth *x, const void *body, size_t len,
		      struct ows_err *err)
{
	char hash[65];
	int rv;

	if (!x->prepared)
		return -EINVAL;
	ows_sha256_hex(body ? body : "", body ? len : 0, hash);
	if (x->verified)
		rv = ows_sigv4_payload_check(&x->a, hash, err);
	else
		rv = verify(x, hash, err);
	wipe_key(x);
	return rv;
}

/* ---- streamed ---- */

struct ows_aws_verifier {
	struct ows_aws_auth *x;
	EVP_MD_CTX *sha; /* PAYLOAD_HASH, PAYLOAD_BODY */
	bool chunked;
	struct ows_sigv4_chunked d;
};

/* The aws-chunked decoder, from the (verified) seed and the key held. */
static int chunked_init(struct ows_aws_verifier *v, int64_t decoded_length)
{
	const struct ows_sigv4_auth *a = &v->x->a;
	char scope[3 * OWS_SIGV4_SCOPE_PART_MAX];

	if (a->payload == OWS_SIGV4_PAYLOAD_STREAMING_UNSIGNED_TRAILER)
		return ows_sigv4_chunked_init(&v->d, a->payload, NULL, NULL,
					      NULL, NULL, decoded_length);
	if (!v->x->has_key)
		return -EINVAL;
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->date,
		 a->region, a->service);
	return ows_sigv4_chunked_init(&v->d, a->payload, v->x->key,
				      a->amz_date, scope, a->signature,
				      decoded_length);
}

int ows__aws_verifier_new(struct ows_aws_auth *x, int64_t decoded_length,
			  struct ows_aws_verifier **out)
{
	struct ows_aws_verifier *v = calloc(1, sizeof(*v));
	int rv = 0;

	if (v == NULL)
		return -ENOMEM;
	v->x = x;
	switch (x->a.payload) {
	case OWS_SIGV4_PAYLOAD_HASH:
	case OWS_SIGV4_PAYLOAD_BODY:
		v->sha = EVP_MD_CTX_new();
		if (v->sha == NULL ||
		    EVP_DigestInit_ex(v->sha, EVP_sha256(), NULL) != 1)
			rv = -ENOMEM;
		break;
	case OWS_SIGV4_PAYLOAD_UNSIGNED:
		break;
	default:
		rv = chunked_init(v, decoded_length);
		v->chunked = rv == 0;
		/* the decoder holds the signing key now */
		wipe_key(x);
		break;
	}
	if (rv != 0) {
		ows__aws_verifier_free(v);
		return rv;
	}
	*out = v;
	return 0;
}

int ows__aws_verifier_feed(struct ows_aws_verifier *v, const void *data,
			   size_t len,
			   int (*out)(void *ud, const char *data, size_t len),
			   void *ud, struct ows_err *err)
{
	if (v->chunked) {
		struct ows_sigv4_chunked_cb cb = {out, NULL, ud};

		return ows_sigv4_chunked_feed(&v->d, data, len, &cb, err);
	}
	if (v->sha != NULL && EVP_DigestUpdate(v->sha, data, len) != 1)
		return -ENOMEM;
	return len > 0 ? out(ud, data, len) : 0;
}

int ows__aws_verifier_finish(struct ows_aws_verifier *v, struct ows_err *err)
{
	struct ows_aws_auth *x = v->x;
	unsigned char md[32];
	unsigned int n = 0;
	char hash[65];
	int rv;

	if (v->chunked)
		return ows_sigv4_chunked_finish(&v->d, err);
	if (v->sha == NULL)
		return 0; /* UNSIGNED-PAYLOAD: nothing of the body is signed */
	if (EVP_DigestFinal_ex(v->sha, md, &n) != 1 || n != 32)
		return -ENOMEM;
	ows_hex_encode(md, 32, hash);
	if (x->verified)
		rv = ows_sigv4_payload_check(&x->a, hash, err);
	else
		rv = verify(x, hash, err);
	wipe_key(x);
	return rv;
}

bool ows__aws_verifier_trailer(const struct ows_aws_verifier *v,
			       const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	const char *p;

	if (v == NULL || !v->chunked)
		return false;
	/* canonical "name:value\n" lines, names lowercase */
	for (p = v->d.trailers; *p != '\0'; p += strcspn(p, "\n") + 1) {
		size_t len = strcspn(p, "\n");

		if (len > n && strncmp(p, name, n) == 0 && p[n] == ':') {
			snprintf(out, cap, "%.*s", (int)(len - n - 1),
				 p + n + 1);
			return true;
		}
		if (p[len] == '\0')
			break;
	}
	return false;
}

void ows__aws_verifier_free(struct ows_aws_verifier *v)
{
	if (v == NULL)
		return;
	if (v->chunked)
		ows_sigv4_chunked_close(&v->d);
	EVP_MD_CTX_free(v->sha);
	free(v);
}
