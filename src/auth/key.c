/* Ed25519 keys over OpenSSL's EVP interface; see key.h. */
#include "auth/key.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "common/enc.h"
#include "common/fs.h"

struct ows_key {
	EVP_PKEY *pkey;
};

int ows_key_generate(struct ows_key **out)
{
	EVP_PKEY_CTX *ctx;
	struct ows_key *k;
	int rv = -EIO;

	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_keygen(ctx, &k->pkey) <= 0)
		goto err_after_alloc;
	EVP_PKEY_CTX_free(ctx);
	*out = k;
	return 0;

err_after_alloc:
	EVP_PKEY_CTX_free(ctx);
	free(k);
	return rv;
}

int ows_key_load(const char *path, struct ows_key **out, struct ows_err *err)
{
	struct ows_buf pem = OWS_BUF_INIT;
	struct ows_key *k;
	BIO *bio;
	int rv;

	rv = ows_file_read(path, 64 * 1024, &pem);
	if (rv != 0) {
		ows_err_printf(err, "cannot read key '%s': %s", path,
			       ows_strerror(rv));
		return rv;
	}
	k = calloc(1, sizeof(*k));
	bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	if (k == NULL || bio == NULL) {
		free(k);
		BIO_free(bio);
		ows_buf_free(&pem);
		return -ENOMEM;
	}
	k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ows_buf_free(&pem);
	if (k->pkey == NULL || EVP_PKEY_id(k->pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k->pkey);
		free(k);
		ows_err_printf(err, "'%s' is not an Ed25519 private key", path);
		return OWS_EINVAL;
	}
	*out = k;
	return 0;
}

int ows_key_save(const struct ows_key *k, const char *path)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rv;

	if (bio == NULL)
		return -ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return -EIO;
	}
	len = BIO_get_mem_data(bio, &data);
	rv = ows_file_write(path, data, (size_t)len, 0600);
	BIO_free(bio);
	return rv;
}

void ows_key_free(struct ows_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

void ows_key_public(const struct ows_key *k, char out[OWS_PUBKEY_B64_LEN])
{
	unsigned char raw[32];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1 || len != 32) {
		out[0] = '\0';
		return;
	}
	ows_b64_encode(raw, 32, out);
}

int ows_key_sign(const struct ows_key *k, const void *msg, size_t len,
		 char out[OWS_SIG_B64_LEN])
{
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	if (md == NULL)
		return -ENOMEM;
	ok = EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(md, sig, &siglen, msg, len) == 1;
	EVP_MD_CTX_free(md);
	if (!ok || siglen != 64)
		return -EIO;
	ows_b64_encode(sig, 64, out);
	return 0;
}

static EVP_PKEY *public_from_b64(const char *pub_b64)
{
	unsigned char raw[32];

	if (pub_b64 == NULL || strlen(pub_b64) != 44 ||
	    ows_b64_decode(pub_b64, raw, sizeof(raw)) != 32)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
}

bool ows_pubkey_valid(const char *pub_b64)
{
	EVP_PKEY *p = public_from_b64(pub_b64);

	EVP_PKEY_free(p);
	return p != NULL;
}

bool ows_sig_verify(const char *pub_b64, const void *msg, size_t len,
		    const char *sig_b64)
{
	unsigned char sig[64];
	EVP_MD_CTX *md;
	EVP_PKEY *p;
	bool ok;

	if (sig_b64 == NULL || strlen(sig_b64) != 88 ||
	    ows_b64_decode(sig_b64, sig, sizeof(sig)) != 64)
		return false;
	p = public_from_b64(pub_b64);
	if (p == NULL)
		return false;
	md = EVP_MD_CTX_new();
	ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, p) == 1 &&
	     EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(p);
	return ok;
}
