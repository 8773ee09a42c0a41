/*
 * Session credentials (auth/session.c): what one node mints, any node with
 * the same cluster secret opens, and nothing else does.
 */
#include <errno.h>
#include <string.h>

#include "auth/session.h"
#include "common/err.h"
#include "../lib/unit.h"

static void key_of(const char *secret, uint8_t key[OWS_SESSION_KEY_LEN])
{
	ows_session_key_derive((const uint8_t *)secret, strlen(secret), key);
}

static void mint(const uint8_t *key, struct ows_session *s, char *secret,
		 char *token)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->kind, "roles");
	strcpy(s->name, "ci");
	strcpy(s->source, "dev");
	strcpy(s->session_name, "build-1");
	s->expires = 2000000000;
	OWS_CHECK_INT(ows_session_mint(key, s, secret, token,
				       OWS_SESSION_TOKEN_MAX),
		      0);
}

OWS_TEST(session_roundtrip)
{
	uint8_t key[OWS_SESSION_KEY_LEN];
	struct ows_session s, o;
	char secret[OWS_SESSION_SECRET_LEN + 1], token[OWS_SESSION_TOKEN_MAX];
	char again[OWS_SESSION_SECRET_LEN + 1];

	key_of("the cluster secret of thirty-two", key);
	mint(key, &s, secret, token);
	OWS_CHECK(strncmp(s.key_id, "ASIA", 4) == 0 && strlen(s.key_id) == 20);
	OWS_CHECK_INT((int)strlen(secret), OWS_SESSION_SECRET_LEN);
	OWS_CHECK(strstr(token, "dev") == NULL); /* not in clear */
	OWS_CHECK_INT(ows_session_open(key, s.key_id, token, 1000, &o, again),
		      0);
	OWS_CHECK_STR(o.kind, "roles");
	OWS_CHECK_STR(o.name, "ci");
	OWS_CHECK_STR(o.source, "dev");
	OWS_CHECK_STR(o.session_name, "build-1");
	OWS_CHECK(o.expires == 2000000000);
	OWS_CHECK_STR(again, secret);
}

OWS_TEST(session_refuses_forgeries_and_expiry)
{
	uint8_t key[OWS_SESSION_KEY_LEN], other[OWS_SESSION_KEY_LEN];
	struct ows_session s, o;
	char secret[OWS_SESSION_SECRET_LEN + 1], token[OWS_SESSION_TOKEN_MAX];
	char out[OWS_SESSION_SECRET_LEN + 1];
	char *p;

	key_of("the cluster secret of thirty-two", key);
	key_of("another cluster's secret, 32 b..", other);
	mint(key, &s, secret, token);
	/* another cluster's key */
	OWS_CHECK_INT(ows_session_open(other, s.key_id, token, 1000, &o, out),
		      OWS_EAUTH);
	/* another key id */
	OWS_CHECK_INT(ows_session_open(key, "ASIAAAAAAAAAAAAAAAAA", token,
				       1000, &o, out),
		      OWS_EAUTH);
	/* expired */
	OWS_CHECK_INT(ows_session_open(key, s.key_id, token, 2000000000, &o,
				       out),
		      -ETIMEDOUT);
	/* a changed payload byte */
	p = token + 6;
	*p = *p == 'A' ? 'B' : 'A';
	OWS_CHECK_INT(ows_session_open(key, s.key_id, token, 1000, &o, out),
		      OWS_EAUTH);
	/* not ours at all */
	OWS_CHECK_INT(ows_session_open(key, s.key_id, "FwoGZXIvYXdzE", 1000,
				       &o, out),
		      OWS_EAUTH);
	OWS_CHECK_INT(ows_session_open(key, s.key_id, NULL, 1000, &o, out),
		      OWS_EAUTH);
}
