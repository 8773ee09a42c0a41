/*
 * What every part of a running node shares (node.c makes it; each part is
 * handed a pointer at init): the loop, the node's directory and
 * configuration, the state machine, the Raft member, the node's key, the
 * cluster's box and session keys, and whether the node is stopping. Also
 * the calls on them that several parts make: propose an entry, forward a
 * request to the leader, look up a node key or an access key's secret.
 *
 * The parts (functions.h, gateway.h, blobs.h, host.h, admin.h) depend on
 * this header and on the part they call, never on node.h: node.h wires
 * them and is included by node.c, main.c and init.c only
 * (scripts/include-graph checks it).
 */
#ifndef OWS_DAEMON_CORE_H
#define OWS_DAEMON_CORE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "auth/key.h"
#include "auth/seal.h"
#include "common/buf.h"
#include "common/err.h"
#include "http/http.h"
#include "raft/raft.h"
#include "state/state.h"

/* The region a node serves when node.json names none. */
#define OWS_NODE_REGION_DEFAULT "us-east-1"
/* Connections one client address may hold on the edge or the gateway. */
#define OWS_NODE_PER_ADDRESS_DEFAULT 256
/* Bounds of "segment_mb" in node.json and of --segment-mb. */
#define OWS_NODE_SEGMENT_MB_MIN 1
#define OWS_NODE_SEGMENT_MB_MAX 1024
/* The S3 domain when node.json names none. */
#define OWS_NODE_S3_DOMAIN_DEFAULT "s3.localhost"

struct ows_node_config {
	uint64_t id;
	char cluster[65];
	char raft[64];
	char edge[64];
	char gateway[64];
	/* Optional in node.json: "region", the region of the AWS APIs (the
	   SigV4 credential scope must name it); "max_connections_per_address"
	   on the edge and gateway ports. */
	char region[64];
	unsigned max_per_address;
	/* Optional "segment_mb": the size of each Raft log segment file,
	   which libraft preallocates; 0 keeps its default (8 MB). */
	unsigned segment_mb;
	/* Optional "s3_domain" (`owsd init --s3-domain`): S3's virtual-host
	   style names BUCKET.S3_DOMAIN; "" means OWS_NODE_S3_DOMAIN_DEFAULT. */
	char s3_domain[254];
};

/* DIR/node.json (config.c) */
int ows_node_config_load(const char *dir, struct ows_node_config *cfg,
			 struct ows_err *err);
int ows_node_config_save(const char *dir, const struct ows_node_config *cfg);
/* A DNS name in lowercase (labels of [a-z0-9-], 1 to 63 each)? */
bool ows_node_s3_domain_valid(const char *domain);

/* Milliseconds since the epoch (the leader's clock stamps entries). */
int64_t ows_now_ms(void);

struct ows_core {
	uv_loop_t *loop;
	char dir[PATH_MAX - 64];
	struct ows_node_config cfg;
	struct ows_state state;
	/* The Raft member; node.c replaces it when it reopens the member
	   after a storage failure (so parts read it here, never keep it). */
	struct ows_raft *raft;
	struct ows_key *key;
	struct ows_box_key *box;    /* the cluster's box key (access keys) */
	char box_pub[48];
	uint8_t session_key[32];    /* from the cluster secret: auth/session.h */
	char account[13];           /* 12-digit account id of the cluster */
	bool stopping;
};

/* Propose a Raft entry {"type", "time", "body"}; body is borrowed. */
int ows_core_propose(struct ows_core *c, const char *type, const json_t *body,
		     ows_raft_apply_cb cb, void *ud);

/*
 * Send a request to the leader (id, its edge address addr) for this node
 * and hand cb the leader's response, or status < 0: -EAGAIN when another
 * node leads (or none) before it answered, or the client's error
 * (twice the election timeout at most). resp is borrowed for the call.
 * 0, or < 0 without calling cb.
 */
typedef void (*ows_forward_cb)(void *ud, int status,
			       const struct ows_http_response *resp);
int ows_core_forward(struct ows_core *c, uint64_t id, const char *addr,
		     const char *method, const char *target,
		     const struct ows_http_header *hs, size_t nh,
		     const void *body, size_t len, ows_forward_cb cb, void *ud);

/*
 * The user and the secret of access key id (for SigV4): 0, -ENOENT, or
 * OWS_EAUTH when the sealed secret does not open. secret is cleared by
 * the caller after use.
 */
int ows_core_access_secret(struct ows_core *c, const char *id,
			   char user[256], struct ows_buf *secret);

/* Is pub (base64) the key of a node in the nodes table? */
bool ows_core_key_is_member(struct ows_core *c, const char *pub);

#endif
