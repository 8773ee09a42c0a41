/*
 * Session credentials, as STS issues them: a temporary access key id
 * ("ASIA..."), its secret and a session token, valid until an expiry. They
 * are what a function instance gets for its role, what AssumeRole gives for
 * a role and what GetSessionToken gives a user.
 *
 * Nothing is stored: the token carries who the session is for (a user, a
 * role or a function, and for a role the user who assumed it) and its
 * expiry, authenticated with an HMAC under a key every node derives from
 * the cluster secret; the secret is derived from the token the same way.
 * So any node checks a session on its own, and nothing of it reaches the
 * ledger, the state or a log. A session ends at its expiry; what it may do
 * is decided at each call by the policies its principal has then.
 *
 *   token  = "OWS1." base64(payload) "." hex(HMAC-SHA256(k_token, payload))
 *   secret = base64(HMAC-SHA256(k_secret, payload))[0..40)
 *
 * with payload the compact JSON {"e": expiry, "k": key id, "n": name,
 * "p": kind, "s": session name, "u": source user}, k_token and k_secret
 * HMAC-SHA256(key, "ows session token v1" / "... secret v1").
 */
#ifndef OWS_AUTH_SESSION_H
#define OWS_AUTH_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define OWS_SESSION_KEY_LEN 32
#define OWS_SESSION_SECRET_LEN 40
#define OWS_SESSION_TOKEN_MAX 1024

struct ows_session {
	char key_id[21];	/* "ASIA" + 16 of [A-Z2-7] */
	char kind[16];		/* "users", "roles" or "functions" */
	char name[129];		/* the user, role or function */
	char source[129];	/* roles: the user who assumed it; else "" */
	char session_name[65];	/* roles: RoleSessionName; functions: name */
	int64_t expires;	/* Unix seconds */
};

/*
 * Issue credentials for s (kind, name, source, session_name and expires
 * set by the caller; key_id is filled in). secret gets
 * OWS_SESSION_SECRET_LEN + 1 bytes, token at most cap (OWS_SESSION_TOKEN_MAX
 * is enough). key is the cluster's session key. Returns 0, -EINVAL (a field
 * too long or empty), -E2BIG or -ENOMEM.
 */
int ows_session_mint(const uint8_t key[OWS_SESSION_KEY_LEN],
		     struct ows_session *s, char *secret, char *token,
		     size_t cap);

/*
 * Check token for access key key_id at time now (Unix seconds): 0 with the
 * session in out and its secret (OWS_SESSION_SECRET_LEN + 1 bytes) in
 * secret; OWS_EAUTH when the token is not one of ours or not for key_id;
 * -ETIMEDOUT when it has expired (out is filled then, for the message).
 */
int ows_session_open(const uint8_t key[OWS_SESSION_KEY_LEN],
		     const char *key_id, const char *token, int64_t now,
		     struct ows_session *out, char *secret);

/* The session key derived from the cluster secret (32 bytes). */
void ows_session_key_derive(const uint8_t *cluster_secret, size_t len,
			    uint8_t key[OWS_SESSION_KEY_LEN]);

#endif
