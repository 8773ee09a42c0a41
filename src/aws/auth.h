/*
 * The daemon's side of the seam (aws/service.h): SigV4 authentication of
 * a request on its own (the gateway's "iam" routes use it too), and the
 * entry point that turns an edge request into a call of a service.
 *
 * src/aws never includes a daemon/ header: what it needs of the node, the
 * secret of a long-term access key, comes through struct ows_aws_keys.
 */
#ifndef OWS_AWS_AUTH_H
#define OWS_AWS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/session.h"
#include "auth/sigv4.h"
#include "aws/call.h"
#include "common/buf.h"
#include "common/err.h"
#include "http/http.h"

/*
 * Signing keys of long-term access keys kept between requests
 * (aws/keycache.c), so that a request need not open its key's sealed
 * secret: one slot per (access key id, scope date, region, service), a
 * fixed number of them, the least recently used replaced. Each slot holds
 * the key's user and the SigV4 signing key of that scope, never the
 * secret. A key is put in only once a request's signature verified with
 * it. All slots belong to one generation of the keys (struct
 * ows_aws_keys, generation) and are wiped when it moves; a key leaving
 * the table is wiped. Used from one thread (the loop's).
 */
#define OWS_AWS_KEYCACHE_SLOTS 64

struct ows_aws_keycache_slot {
	bool used;
	uint64_t hash;
	uint64_t last_use;
	char access_key[OWS_SIGV4_KEY_MAX + 1];
	char date[9];
	char region[OWS_SIGV4_SCOPE_PART_MAX];
	char service[OWS_SIGV4_SCOPE_PART_MAX];
	char user[256];
	uint8_t key[32];
};

struct ows_aws_keycache {
	struct ows_aws_keycache_slot slot[OWS_AWS_KEYCACHE_SLOTS];
	uint64_t gen;  /* the generation the slots belong to */
	uint64_t tick; /* use counter, for the least recently used */
	uint64_t hits, misses, invalidations; /* for /metrics */
};

/*
 * The slot of a's access key and scope at generation gen: 0 with its user
 * and signing key copied out (key: the caller wipes it), or -ENOENT. A
 * generation other than the table's wipes the table first.
 */
int ows_aws_keycache_get(struct ows_aws_keycache *c, uint64_t gen,
			 const struct ows_sigv4_auth *a, char user[256],
			 uint8_t key[32]);
/* Keep key (copied) and user for a's access key and scope at gen. */
void ows_aws_keycache_put(struct ows_aws_keycache *c, uint64_t gen,
			  const struct ows_sigv4_auth *a, const char *user,
			  const uint8_t key[32]);
/* Wipe every slot (at close, or to forget everything at once). */
void ows_aws_keycache_clear(struct ows_aws_keycache *c);

/*
 * How aws/ learns the secret of a long-term access key: 0 with the key's
 * user (into user) and its secret (appended to secret, which the caller
 * wipes), or < 0 (-ENOENT: no such key).
 *
 * cache, when not NULL, keeps signing keys between requests; generation
 * (required with cache) must then return a value that changes whenever
 * what secret answers for some key may have changed (a key deleted,
 * rotated, given to another user): the daemon's is the ledger's height.
 */
struct ows_aws_keys {
	int (*secret)(void *ud, const char *access_key, char user[256],
		      struct ows_buf *secret);
	void *ud;
	const uint8_t *session_key; /* 32 bytes, auth/session.h */
	const char *region;         /* the node's region */
	int64_t now;                /* Unix seconds; 0: the clock (tests
				       set it) */
	struct ows_aws_keycache *cache;
	uint64_t (*generation)(void *ud);
};

/*
 * One request's SigV4 check in two steps, so that nobody makes the node
 * hold a body before it knows the key:
 *
 * ows_aws_auth_head, before any body byte: the credentials' form, scope
 * (region the node's; service, when not NULL, that one), clock, known key
 * (or a session token of ours, signed, unexpired), and the whole
 * signature when x-amz-content-sha256 gives the body's hash.
 * unsigned_ok allows UNSIGNED-PAYLOAD and STREAMING-* (streamed
 * services); otherwise only a hash or the body's own hash is accepted.
 *
 * ows_aws_auth_body, once the body is read: the rest of the check.
 *
 * Both return 0 or an OWS_ESIG_* code with the reason in err. The
 * signing key (derived from the secret, which is wiped at once) is kept
 * only between the two steps, and only when the signature could not be
 * checked in the first; ows_aws_auth_clear wipes it (the two steps do so
 * themselves once it is no longer needed). keys must outlive x.
 */
struct ows_aws_auth {
	struct ows_sigv4_header hs[128];
	struct ows_sigv4_request sr;
	struct ows_sigv4_auth a;
	/* the signing key of a's scope, while has_key (never the secret) */
	uint8_t key[32];
	bool has_key;
	/* put key in keys->cache once the signature verifies, if the keys'
	   generation is still gen */
	bool to_cache;
	uint64_t gen;
	const struct ows_aws_keys *keys;
	bool prepared;       /* head check passed */
	bool verified;       /* the signature held over the header's hash */
	bool expired_token;  /* refused: the session has expired */
	bool anonymous;      /* no credentials, taken as anonymous */
	bool sigv2;          /* anonymous, but SigV2 query credentials
				for the service to check */
	struct ows_aws_caller caller;
	struct ows_session sess; /* when caller.session */
	int64_t now;             /* keys->now */
};

int ows_aws_auth_head(struct ows_aws_auth *x, const struct ows_http_req *req,
		      const struct ows_aws_keys *keys, const char *service,
		      bool unsigned_ok, struct ows_err *err);
int ows_aws_auth_body(struct ows_aws_auth *x, const void *body, size_t len,
		      struct ows_err *err);
void ows_aws_auth_clear(struct ows_aws_auth *x);

struct ows_aws_verifier;
struct ows__aws_feeding;

/*
 * aws/'s part of a call (c->priv): the auth state, the host's own slot.
 */
struct ows_aws_call_priv {
	struct ows_aws_auth auth;
	const struct ows_aws_keys *keys;
	struct ows_aws_verifier *verifier; /* streamed bodies */
	ows_aws_chunk_cb chunk_cb;
	bool answered;
	bool large;      /* holds one of OWS_AWS_LARGE_BODIES */
	size_t reserved; /* of the budget (ows_aws_call_reserve) */
	/* waiting for room (ows_aws_call_wait): the next in line, the units
	   it needs at least, and what to call with room */
	struct ows_aws_call *wait_next;
	size_t wait_units, wait_budget;
	void (*wait_cb)(struct ows_aws_call *c);
	bool waiting;
	/* while the verifier hands body bytes to the service: the caller's
	   stack frame, told when the service answers (and so frees c) */
	struct ows__aws_feeding *feeding;
	void *host_data; /* the host's, per call (daemon/host.c) */
};

/* The session a call's credentials carry, or NULL for a long-term key. */
const struct ows_session *ows_aws_call_session(const struct ows_aws_call *c);

/*
 * Serve req as a call of svc on host: make the call in req's arena,
 * check SigV4 before any body byte (failures are answered in svc's
 * protocol), read the body whole (svc->body_limit; 413 past it) and check
 * it, or leave it to the service (BODY_STREAM), then svc->handle(c).
 */
void ows_aws_call_start(const struct ows_aws_service *svc,
			const struct ows_aws_host *host,
			const struct ows_aws_keys *keys,
			struct ows_http_req *req);

/* ---- module-private: src/aws/ only (and its unit tests) ---- */

/*
 * The streamed check (after a successful head check, the secret still
 * held when needed): a hash of the body for PAYLOAD_HASH / PAYLOAD_BODY,
 * the aws-chunked decoder for STREAMING-*, nothing for UNSIGNED-PAYLOAD.
 * feed hands decoded bytes to out (borrowed for the call); finish ends
 * with 0 when the whole body checked out.
 */
int ows__aws_verifier_new(struct ows_aws_auth *x, int64_t decoded_length,
			  struct ows_aws_verifier **out);
int ows__aws_verifier_feed(struct ows_aws_verifier *v, const void *data,
			   size_t len,
			   int (*out)(void *ud, const char *data, size_t len),
			   void *ud, struct ows_err *err);
int ows__aws_verifier_finish(struct ows_aws_verifier *v, struct ows_err *err);
void ows__aws_verifier_free(struct ows_aws_verifier *v);
/* A trailer of a checked aws-chunked body (see ows_aws_call_trailer). */
bool ows__aws_verifier_trailer(const struct ows_aws_verifier *v,
			       const char *name, char *out, size_t cap);

/*
 * A request without any credentials (ows_aws_auth_head said
 * OWS_ESIG_MISSING) to a service that takes anonymous requests
 * (svc->anonymous): x becomes an anonymous caller (caller.kind ""), its
 * body unsigned (read whole or streamed as an UNSIGNED-PAYLOAD one).
 * Returns 0.
 */
int ows__aws_auth_anonymous(struct ows_aws_auth *x);

/* Answer a failed authentication (rc, reason msg or NULL) in c's protocol. */
void ows__aws_reply_auth_error(struct ows_aws_call *c, int rc, const char *msg);

#endif
