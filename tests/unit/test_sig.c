/* Unit tests: Ed25519 keys and signatures, signed admin requests. */
#include "../lib/unit.h"

#include <unistd.h>

#include "auth/key.h"
#include "auth/reqsig.h"

OWS_TEST(sig_sign_verify)
{
	struct ows_key *k;
	char pub[OWS_PUBKEY_B64_LEN], sig[OWS_SIG_B64_LEN];

	OWS_CHECK_INT(ows_key_generate(&k), 0);
	ows_key_public(k, pub);
	OWS_CHECK(strlen(pub) == 44 && ows_pubkey_valid(pub));
	OWS_CHECK_INT(ows_key_sign(k, "hello", 5, sig), 0);
	OWS_CHECK(ows_sig_verify(pub, "hello", 5, sig));
	OWS_CHECK(!ows_sig_verify(pub, "hellp", 5, sig));
	OWS_CHECK(!ows_sig_verify(pub, "hello", 4, sig));
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	OWS_CHECK(!ows_sig_verify(pub, "hello", 5, sig));
	OWS_CHECK(!ows_sig_verify("not-a-key", "hello", 5, sig));
	OWS_CHECK(!ows_sig_verify(pub, "hello", 5, "short"));
	OWS_CHECK(!ows_pubkey_valid("AAAA"));
	ows_key_free(k);
}

OWS_TEST(sig_key_file_round_trip)
{
	char dir[] = "/tmp/ows-key-XXXXXX", path[64];
	char pub1[OWS_PUBKEY_B64_LEN], pub2[OWS_PUBKEY_B64_LEN];
	struct ows_key *k, *k2;
	struct ows_err err = {{0}};

	OWS_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/k.pem", dir);
	OWS_CHECK_INT(ows_key_generate(&k), 0);
	OWS_CHECK_INT(ows_key_save(k, path), 0);
	OWS_CHECK_INT(ows_key_load(path, &k2, &err), 0);
	ows_key_public(k, pub1);
	ows_key_public(k2, pub2);
	OWS_CHECK_STR(pub1, pub2);
	ows_key_free(k);
	ows_key_free(k2);
	OWS_CHECK(ows_key_load("/nonexistent", &k2, &err) != 0);
	OWS_CHECK(strstr(err.msg, "cannot read") != NULL);
	unlink(path);
	rmdir(dir);
}

OWS_TEST(reqsig_round_trip_and_refusals)
{
	char hdr[OWS_REQSIG_HEADER_MAX], pub[OWS_PUBKEY_B64_LEN], mine[OWS_PUBKEY_B64_LEN];
	struct ows_err err = {{0}};
	struct ows_key *k;

	OWS_CHECK_INT(ows_key_generate(&k), 0);
	ows_key_public(k, mine);
	OWS_CHECK_INT(ows_reqsig_sign(k, "POST", "/_ows/v1/x?a=1", "{}", 2, 1000, hdr), 0);
	OWS_CHECK_INT(ows_reqsig_verify(hdr, "POST", "/_ows/v1/x?a=1", "{}", 2, 1100, pub, &err), 0);
	OWS_CHECK_STR(pub, mine);
	/* Anything signed changed: method, target, body, time. */
	OWS_CHECK(ows_reqsig_verify(hdr, "GET", "/_ows/v1/x?a=1", "{}", 2, 1000, pub, &err) == OWS_EAUTH);
	OWS_CHECK(ows_reqsig_verify(hdr, "POST", "/_ows/v1/x?a=2", "{}", 2, 1000, pub, &err) == OWS_EAUTH);
	OWS_CHECK(ows_reqsig_verify(hdr, "POST", "/_ows/v1/x?a=1", "[]", 2, 1000, pub, &err) == OWS_EAUTH);
	OWS_CHECK(ows_reqsig_verify(hdr, "POST", "/_ows/v1/x?a=1", "{}", 2, 1000 + 301, pub, &err) == OWS_EAUTH);
	OWS_CHECK(strstr(err.msg, "clock") != NULL);
	OWS_CHECK(ows_reqsig_verify(NULL, "POST", "/", NULL, 0, 1000, pub, &err) == OWS_EAUTH);
	OWS_CHECK(ows_reqsig_verify("Bearer x", "POST", "/", NULL, 0, 1000, pub, &err) == OWS_EAUTH);
	OWS_CHECK(ows_reqsig_verify("OWS-Ed25519 Key=a, Time=x, Signature=b", "POST", "/", NULL, 0,
				    1000, pub, &err) == OWS_EAUTH);
	ows_key_free(k);
}
