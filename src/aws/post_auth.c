/*
 * Signatures carried elsewhere than SigV4's header and query: a browser
 * form upload's (S3's POST Object, SigV4 or V2), and S3's Signature
 * Version 2 (presigned URLs of clients that still make them).
 *
 * The signature of a browser form upload (S3's POST Object), which
 * carries its credentials in form fields rather than in the request's
 * headers or query: aws/call.c lets it in as anonymous (it has none of
 * those), and the service, once it has read the fields, asks here
 * whether they are signed. The S3 API Reference, "Calculating a
 * Signature" for browser-based uploads: the string to sign is the
 * base64 policy itself, signed with the SigV4 signing key of the
 * credential's date, region and service.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aws/auth.h"
#include "common/enc.h"

/* "AKID/YYYYMMDD/REGION/SERVICE/aws4_request" into its parts. */
static int split_credential(const char *cred, char akid[129], char date[9],
			    char region[64], char service[64])
{
	char buf[512], *parts[5], *save = NULL, *p;
	int n = 0;

	if (cred == NULL || strlen(cred) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", cred);
	for (p = strtok_r(buf, "/", &save); p != NULL && n < 5;
	     p = strtok_r(NULL, "/", &save))
		parts[n++] = p;
	if (n != 5 || p != NULL || strcmp(parts[4], "aws4_request") != 0 ||
	    strlen(parts[0]) > 128 || strlen(parts[1]) != 8 ||
	    strlen(parts[2]) >= 64 || strlen(parts[3]) >= 64)
		return -EINVAL;
	snprintf(akid, 129, "%s", parts[0]);
	snprintf(date, 9, "%s", parts[1]);
	snprintf(region, 64, "%s", parts[2]);
	snprintf(service, 64, "%s", parts[3]);
	return 0;
}

static int64_t now_s(const struct ows_aws_keys *keys)
{
	uv_timeval64_t tv;

	if (keys->now != 0)
		return keys->now;
	uv_gettimeofday(&tv);
	return tv.tv_sec;
}

/* The secret of akid into secret (the caller wipes it), and who it is. */
static int secret_of(struct ows_aws_call_priv *p, const char *akid,
		     const char *token, struct ows_buf *secret,
		     struct ows_aws_caller *who, struct ows_err *err)
{
	const struct ows_aws_keys *keys = p->keys;
	char s[OWS_SESSION_SECRET_LEN + 1];
	int rv;

	memset(who, 0, sizeof(*who));
	snprintf(who->access_key, sizeof(who->access_key), "%s", akid);
	if (strncmp(akid, "ASIA", 4) == 0) {
		rv = ows_session_open(keys->session_key, akid, token,
				      now_s(keys), &p->auth.sess, s);
		if (rv != 0) {
			p->auth.expired_token = rv == -ETIMEDOUT;
			ows_err_printf(err,
				       "The security token included in "
				       "the request is %s",
				       rv == -ETIMEDOUT ? "expired"
							: "invalid.");
			return OWS_ESIG_ACCESS_KEY;
		}
		rv = ows_buf_puts(secret, s);
		memset(s, 0, sizeof(s));
		who->session = true;
		snprintf(who->kind, sizeof(who->kind), "%s", p->auth.sess.kind);
		snprintf(who->name, sizeof(who->name), "%s", p->auth.sess.name);
		if (strcmp(p->auth.sess.kind, "users") == 0)
			snprintf(who->user, sizeof(who->user), "%s",
				 p->auth.sess.name);
		return rv;
	}
	if (token != NULL) {
		ows_err_printf(err, "The security token included in the "
				    "request is invalid.");
		return OWS_ESIG_ACCESS_KEY;
	}
	if (keys->secret(keys->ud, akid, who->user, secret) != 0) {
		ows_err_printf(err, "The AWS Access Key Id you provided does "
				    "not exist in our records.");
		return OWS_ESIG_ACCESS_KEY;
	}
	snprintf(who->kind, sizeof(who->kind), "users");
	snprintf(who->name, sizeof(who->name), "%s", who->user);
	return 0;
}

int ows_aws_call_auth_post(struct ows_aws_call *c, const char *algorithm,
			   const char *credential, const char *amz_date,
			   const char *policy_b64, const char *signature,
			   const char *token, struct ows_err *err)
{
	struct ows_aws_call_priv *p = c->priv;
	char akid[129], date[9], region[64], service[64], hex[65];
	struct ows_buf secret = OWS_BUF_INIT;
	struct ows_aws_caller who;
	uint8_t key[32], mac[32];
	unsigned int n = 0;
	int rv;

	if (algorithm == NULL || strcmp(algorithm, "AWS4-HMAC-SHA256") != 0) {
		ows_err_printf(err, "Only AWS4-HMAC-SHA256 is supported as "
				    "x-amz-algorithm");
		return OWS_ESIG_ARGUMENT;
	}
	if (split_credential(credential, akid, date, region, service) != 0 ||
	    amz_date == NULL || strncmp(amz_date, date, 8) != 0 ||
	    policy_b64 == NULL || signature == NULL) {
		ows_err_printf(err,
			       "x-amz-credential, x-amz-date, policy and "
			       "x-amz-signature must be given, the date that "
			       "of the credential");
		return OWS_ESIG_ARGUMENT;
	}
	if (strcmp(region, p->keys->region) != 0 ||
	    strcmp(service, c->svc->name) != 0) {
		ows_err_printf(err,
			       "Credential should be scoped to a valid "
			       "region and to service '%s'.",
			       c->svc->name);
		return OWS_ESIG_SCOPE;
	}
	rv = secret_of(p, akid, token, &secret, &who, err);
	if (rv == 0 && secret.data == NULL)
		rv = -ENOMEM;
	if (rv != 0)
		goto cleanup;
	ows_sigv4_signing_key((const char *)secret.data, date, region, service,
			      key);
	HMAC(EVP_sha256(), key, sizeof(key), (const uint8_t *)policy_b64,
	     strlen(policy_b64), mac, &n);
	OPENSSL_cleanse(key, sizeof(key));
	ows_hex_encode(mac, sizeof(mac), hex);
	if (n != 32 || strlen(signature) != 64 ||
	    CRYPTO_memcmp(hex, signature, 64) != 0) {
		ows_err_printf(err, "The request signature we calculated does "
				    "not match the signature you provided.");
		rv = OWS_ESIG_SIGNATURE;
		goto cleanup;
	}
	c->caller = who;
	p->auth.caller = who;
	p->auth.anonymous = false;
	snprintf(c->region, sizeof(c->region), "%s", region);
cleanup:
	if (secret.data != NULL)
		OPENSSL_cleanse(secret.data, secret.len);
	ows_buf_free(&secret);
	return rv;
}

int ows_aws_call_auth_v2(struct ows_aws_call *c, const char *akid,
			 const char *string_to_sign, const char *signature,
			 const char *token, struct ows_err *err)
{
	struct ows_aws_call_priv *p = c->priv;
	struct ows_buf secret = OWS_BUF_INIT;
	struct ows_aws_caller who;
	uint8_t mac[20];
	char b64[OWS_B64_LEN(20)];
	unsigned int n = 0;
	int rv;

	if (akid == NULL || string_to_sign == NULL || signature == NULL ||
	    strlen(akid) > 128) {
		ows_err_printf(err, "AWSAccessKeyId, policy and signature must "
				    "be given");
		return OWS_ESIG_ARGUMENT;
	}
	rv = secret_of(p, akid, token, &secret, &who, err);
	if (rv == 0 && secret.data == NULL)
		rv = -ENOMEM;
	if (rv != 0)
		goto cleanup;
	/* SigV2: Base64(HMAC-SHA1(secret, StringToSign)) */
	HMAC(EVP_sha1(), secret.data, (int)secret.len,
	     (const uint8_t *)string_to_sign, strlen(string_to_sign), mac, &n);
	ows_b64_encode(mac, sizeof(mac), b64);
	if (n != 20 || strlen(signature) != strlen(b64) ||
	    CRYPTO_memcmp(b64, signature, strlen(b64)) != 0) {
		ows_err_printf(err, "The request signature we calculated does "
				    "not match the signature you provided.");
		rv = OWS_ESIG_SIGNATURE;
		goto cleanup;
	}
	c->caller = who;
	p->auth.caller = who;
	p->auth.anonymous = false;
cleanup:
	if (secret.data != NULL)
		OPENSSL_cleanse(secret.data, secret.len);
	ows_buf_free(&secret);
	return rv;
}
