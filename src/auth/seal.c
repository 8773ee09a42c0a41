/* AES-256-GCM sealing; see seal.h. */
#include "auth/seal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/enc.h"
#include "common/err.h"

#define NONCE 12
#define TAG 16
#define MAX_PLAIN 1024

int ows_seal(const uint8_t key[OWS_SEAL_KEY_LEN], const void *plain,
	     size_t len, struct ows_buf *out)
{
	unsigned char raw[NONCE + MAX_PLAIN + TAG];
	char text[OWS_B64_LEN(sizeof(raw))];
	EVP_CIPHER_CTX *c;
	int n = 0, fin = 0, ok;

	if (len > MAX_PLAIN)
		return -EINVAL;
	if (ows_random(raw, NONCE) != 0)
		return -EIO;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
	     EVP_EncryptUpdate(c, raw + NONCE, &n, plain, (int)len) == 1 &&
	     EVP_EncryptFinal_ex(c, raw + NONCE + n, &fin) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG,
				 raw + NONCE + n + fin) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return -EIO;
	ows_b64_encode(raw, (size_t)(NONCE + n + fin + TAG), text);
	return ows_buf_puts(out, text);
}

int ows_unseal(const uint8_t key[OWS_SEAL_KEY_LEN], const char *sealed,
	       struct ows_buf *out)
{
	unsigned char raw[NONCE + MAX_PLAIN + TAG], plain[MAX_PLAIN];
	EVP_CIPHER_CTX *c;
	int len, n = 0, fin = 0, ok;

	len = ows_b64_decode(sealed, raw, sizeof(raw));
	if (len < NONCE + TAG)
		return OWS_EAUTH;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return -ENOMEM;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
	     EVP_DecryptUpdate(c, plain, &n, raw + NONCE,
			       len - NONCE - TAG) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG,
				 raw + len - TAG) == 1 &&
	     EVP_DecryptFinal_ex(c, plain + n, &fin) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return OWS_EAUTH;
	return ows_buf_append(out, plain, (size_t)(n + fin));
}

int ows_access_key_make(char id[21], char secret[41])
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t raw[30];

	if (ows_random(raw, sizeof(raw)) != 0)
		return -EIO;
	memcpy(id, "AKIA", 4);
	for (int i = 0; i < 16; i++)
		id[4 + i] = alpha[raw[i] & 31];
	id[20] = '\0';
	if (ows_random(raw, sizeof(raw)) != 0)
		return -EIO;
	ows_b64_encode(raw, sizeof(raw), secret);
	memset(raw, 0, sizeof(raw));
	return 0;
}

/* ---- sealed boxes (X25519) ---- */

struct ows_box_key {
	EVP_PKEY *pkey;
};

static int raw_public(EVP_PKEY *p, char out[45])
{
	unsigned char raw[32];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(p, raw, &len) != 1 || len != 32)
		return -EIO;
	ows_b64_encode(raw, 32, out);
	return 0;
}

static EVP_PKEY *x25519_generate(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *p = NULL;

	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_keygen(ctx, &p) <= 0)
		p = NULL;
	EVP_PKEY_CTX_free(ctx);
	return p;
}

int ows_box_key_new(struct ows_box_key **out, char pub[45])
{
	struct ows_box_key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	k->pkey = x25519_generate();
	if (k->pkey == NULL || raw_public(k->pkey, pub) != 0) {
		ows_box_key_free(k);
		return -EIO;
	}
	*out = k;
	return 0;
}

int ows_box_key_derive(const uint8_t secret[OWS_SEAL_KEY_LEN],
		       struct ows_box_key **out, char pub[45])
{
	uint8_t msg[15 + OWS_SEAL_KEY_LEN], priv[32];
	struct ows_box_key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	memcpy(msg, "ows-cluster-box", 15);
	memcpy(msg + 15, secret, OWS_SEAL_KEY_LEN);
	ows_sha256(msg, sizeof(msg), priv);
	k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	memset(msg, 0, sizeof(msg));
	memset(priv, 0, sizeof(priv));
	if (k->pkey == NULL || raw_public(k->pkey, pub) != 0) {
		ows_box_key_free(k);
		return -EIO;
	}
	*out = k;
	return 0;
}

void ows_box_key_free(struct ows_box_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* The AES key both sides derive from mine and the peer's public key. */
static int box_secret(EVP_PKEY *mine, const char *peer_b64,
		      const char *recipient, const char *sender,
		      uint8_t key[OWS_SEAL_KEY_LEN])
{
	unsigned char raw[32], shared[32], msg[7 + 32 + 90];
	size_t slen = sizeof(shared), n;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer;
	int ok;

	if (peer_b64 == NULL || strlen(peer_b64) != 44 ||
	    ows_b64_decode(peer_b64, raw, sizeof(raw)) != 32)
		return OWS_EAUTH;
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, raw, 32);
	ctx = peer ? EVP_PKEY_CTX_new(mine, NULL) : NULL;
	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
	     EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
	     EVP_PKEY_derive(ctx, shared, &slen) == 1 && slen == 32;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	if (!ok)
		return OWS_EAUTH;
	memcpy(msg, "ows-box", 7);
	memcpy(msg + 7, shared, 32);
	n = 39;
	memcpy(msg + n, recipient, 44);
	memcpy(msg + n + 44, sender, 44);
	ows_sha256(msg, n + 88, key);
	memset(shared, 0, sizeof(shared));
	memset(msg, 0, sizeof(msg));
	return 0;
}

int ows_box_seal(const char *pub, const void *plain, size_t len,
		 struct ows_buf *sealed, char sender[45])
{
	uint8_t key[OWS_SEAL_KEY_LEN];
	EVP_PKEY *eph = x25519_generate();
	int rv = eph != NULL ? raw_public(eph, sender) : -EIO;

	if (rv == 0)
		rv = box_secret(eph, pub, pub, sender, key);
	EVP_PKEY_free(eph);
	if (rv == 0)
		rv = ows_seal(key, plain, len, sealed);
	memset(key, 0, sizeof(key));
	return rv;
}

int ows_box_open(const struct ows_box_key *k, const char *sender,
		 const char *sealed, struct ows_buf *out)
{
	uint8_t key[OWS_SEAL_KEY_LEN];
	char pub[45];
	int rv = raw_public(k->pkey, pub);

	if (rv == 0)
		rv = box_secret(k->pkey, sender, pub, sender, key);
	if (rv == 0)
		rv = ows_unseal(key, sealed, out);
	memset(key, 0, sizeof(key));
	return rv;
}
