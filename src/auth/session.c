/*
 * Session credentials: minting and checking; see session.h.
 */
#include "auth/session.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/enc.h"
#include "common/err.h"
#include "common/json.h"

#define PREFIX "OWS1."
#define MAX_PAYLOAD 600

static void mac(const uint8_t key[OWS_SESSION_KEY_LEN], const char *label,
		const void *data, size_t len, uint8_t out[32])
{
	uint8_t sub[32];

	ows_hmac_sha256(key, OWS_SESSION_KEY_LEN, label, strlen(label), sub);
	ows_hmac_sha256(sub, sizeof(sub), data, len, out);
	memset(sub, 0, sizeof(sub));
}

static void derive_secret(const uint8_t key[OWS_SESSION_KEY_LEN],
			  const char *payload, size_t len, char *secret)
{
	uint8_t m[32];
	char b64[48];

	mac(key, "ows session secret v1", payload, len, m);
	ows_b64_encode(m, sizeof(m), b64);
	memcpy(secret, b64, OWS_SESSION_SECRET_LEN);
	secret[OWS_SESSION_SECRET_LEN] = '\0';
	memset(m, 0, sizeof(m));
	memset(b64, 0, sizeof(b64));
}

void ows_session_key_derive(const uint8_t *cluster_secret, size_t len,
			    uint8_t key[OWS_SESSION_KEY_LEN])
{
	static const char label[] = "ows session key v1";

	ows_hmac_sha256(cluster_secret, len, label, sizeof(label) - 1, key);
}

static int new_key_id(char out[21])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t r[16];

	if (ows_random(r, sizeof(r)) != 0)
		return -EIO;
	memcpy(out, "ASIA", 4);
	for (int i = 0; i < 16; i++)
		out[4 + i] = b32[r[i] & 31];
	out[20] = '\0';
	return 0;
}

static char *payload_of(const struct ows_session *s)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "e",
			      (json_int_t)s->expires, "k", s->key_id, "n",
			      s->name, "p", s->kind, "s", s->session_name,
			      "u", s->source);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)
			       : NULL;

	json_decref(o);
	return text;
}

int ows_session_mint(const uint8_t key[OWS_SESSION_KEY_LEN],
		     struct ows_session *s, char *secret, char *token,
		     size_t cap)
{
	char *payload, hexmac[65];
	uint8_t m[32];
	size_t len;
	int rv;

	if (s->kind[0] == '\0' || s->name[0] == '\0')
		return -EINVAL;
	rv = new_key_id(s->key_id);
	if (rv != 0)
		return rv;
	payload = payload_of(s);
	if (payload == NULL)
		return -ENOMEM;
	len = strlen(payload);
	if (len > MAX_PAYLOAD ||
	    strlen(PREFIX) + (len + 2) / 3 * 4 + 1 + 64 + 1 > cap) {
		free(payload);
		return -E2BIG;
	}
	mac(key, "ows session token v1", payload, len, m);
	ows_hex_encode(m, sizeof(m), hexmac);
	strcpy(token, PREFIX);
	ows_b64_encode(payload, len, token + strlen(PREFIX));
	strcat(token, ".");
	strcat(token, hexmac);
	derive_secret(key, payload, len, secret);
	free(payload);
	return 0;
}

static void copy_str(const json_t *o, const char *k, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, k));

	snprintf(out, cap, "%s", v != NULL ? v : "");
}

int ows_session_open(const uint8_t key[OWS_SESSION_KEY_LEN],
		     const char *key_id, const char *token, int64_t now,
		     struct ows_session *out, char *secret)
{
	char payload[MAX_PAYLOAD + 4], hexmac[65];
	const char *b64, *dot;
	uint8_t m[32];
	json_t *o;
	long len;

	memset(out, 0, sizeof(*out));
	if (token == NULL || strncmp(token, PREFIX, strlen(PREFIX)) != 0)
		return OWS_EAUTH;
	b64 = token + strlen(PREFIX);
	dot = strchr(b64, '.');
	if (dot == NULL || strlen(dot + 1) != 64)
		return OWS_EAUTH;
	len = ows_b64_decode_n(b64, (size_t)(dot - b64), payload,
			       sizeof(payload) - 1);
	if (len <= 0 || len > MAX_PAYLOAD)
		return OWS_EAUTH;
	payload[len] = '\0';
	mac(key, "ows session token v1", payload, (size_t)len, m);
	ows_hex_encode(m, sizeof(m), hexmac);
	if (!ows_ct_equal(hexmac, dot + 1, 64))
		return OWS_EAUTH;
	o = ows_json_loadb(payload, (size_t)len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return OWS_EAUTH;
	}
	copy_str(o, "k", out->key_id, sizeof(out->key_id));
	copy_str(o, "p", out->kind, sizeof(out->kind));
	copy_str(o, "n", out->name, sizeof(out->name));
	copy_str(o, "u", out->source, sizeof(out->source));
	copy_str(o, "s", out->session_name, sizeof(out->session_name));
	out->expires = json_integer_value(json_object_get(o, "e"));
	json_decref(o);
	if (key_id == NULL || strcmp(out->key_id, key_id) != 0)
		return OWS_EAUTH;
	if (now >= out->expires)
		return -ETIMEDOUT;
	derive_secret(key, payload, (size_t)len, secret);
	return 0;
}
