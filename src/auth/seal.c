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
