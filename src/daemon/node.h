/*
 * A running node: the loop, the state machine, the Raft member, the edge
 * and gateway HTTP servers, signal handling, and the leader's membership
 * reconciler (which turns the nodes table into the Raft configuration).
 */
#ifndef OWS_DAEMON_NODE_H
#define OWS_DAEMON_NODE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "auth/key.h"
#include "auth/seal.h"
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
};

struct ows_node {
	uv_loop_t *loop;
	char dir[PATH_MAX - 64];
	struct ows_node_config cfg;
	struct ows_state state;
	struct ows_raft *raft;
	bool raft_was_stalled; /* its state machine could not apply */
	bool raft_reopening;   /* closed to be opened again (node.c) */
	struct ows_key *key;
	struct ows_http_server edge;
	struct ows_http_server gateway;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_timer_t reconcile;
	bool edge_up;        /* the servers were initialized */
	bool gateway_up;
	bool changing;       /* a membership change is in flight */
	uint64_t leaving;    /* node whose removal waits for it to hear of it */
	uint64_t leaving_index;
	int64_t leaving_since;
	bool stopping;
	int exit_code;
	unsigned pending_closes;
	json_t *peers;       /* DIR/peers.json: keys known at join time */
	struct ows_box_key *box; /* the cluster's box key (access key secrets) */
	uint8_t session_key[32]; /* from the cluster secret: auth/session.h */
	struct ows_fn_entry *fns; /* functions.c: the functions run here */
	struct ows_gw_table *gw_table; /* gateway.c: routes at gw_height */
	uint64_t gw_height;
	char account[13];          /* 12-digit account id of the cluster */
	unsigned fn_closing, fn_pools;
	void (*fn_close_cb)(struct ows_node *n);
	struct ows_fn_spares *fn_spares; /* functions.c: spare launchers */
	uv_check_t fn_watch;	/* functions.c: deploys on ledger changes */
	uint64_t fn_synced;
	char *fn_peers; /* functions.c: the peers' hosts blocked for functions */
	bool fn_started;	/* ledger height the functions were deployed at */
	char box_pub[48];
	struct ows_raft_auth auth;
	struct ows_node_host *aws_host; /* host.c: the services' host */
	int64_t blob_gc_at;  /* blobs.c: last collection of unnamed blobs */
	bool blob_gc_busy;
};

/* DIR/node.json */
int ows_node_config_load(const char *dir, struct ows_node_config *cfg,
			 struct ows_err *err);
int ows_node_config_save(const char *dir, const struct ows_node_config *cfg);

/* The Raft FSM callbacks bound to a state (used by init and run). */
void ows_node_fsm(struct ows_state *state, struct ows_raft_fsm *fsm);

/* Run the node in the foreground until SIGTERM/SIGINT. Exit status. */
int ows_node_run(const char *dir);

/* Milliseconds since the epoch (the leader's clock stamps entries). */
int64_t ows_now_ms(void);

/* Propose a Raft entry {"type", "time", "body"}; body is borrowed. */
int ows_node_propose(struct ows_node *n, const char *type, const json_t *body,
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
int ows_node_forward(struct ows_node *n, uint64_t id, const char *addr,
		     const char *method, const char *target,
		     const struct ows_http_header *hs, size_t nh,
		     const void *body, size_t len, ows_forward_cb cb, void *ud);

/*
 * The user and the secret of access key id (for SigV4): 0, -ENOENT, or
 * OWS_EAUTH when the sealed secret does not open. secret is cleared by
 * the caller after use.
 */
int ows_node_access_secret(struct ows_node *n, const char *id,
			   char user[256], struct ows_buf *secret);

/*
 * The live context of req for policy conditions (ledger/authz.h): the
 * peer's address into ip, plain HTTP (the edge has no TLS), the node's
 * clock. region (the SigV4 scope's) may be NULL.
 */
void ows_node_request_ctx(const struct ows_http_req *req, const char *region,
			  char ip[64], struct ows_authz_ctx *out);

/* Is pub (base64) the key of a node in the nodes table? */
bool ows_node_key_is_member(struct ows_node *n, const char *pub);

/* The blob store's endpoints and paths (blobs.c). */
void ows_blobs_handle(struct ows_node *n, struct ows_http_req *req);
void ows_blob_path(const struct ows_node *n, const char *hash, char *out,
		   size_t cap);
/* Start a collection of unnamed blobs if one is due (blobs.c). */
void ows_blobs_gc(struct ows_node *n);

/* Edge request handler (admin API, metrics); admin.c. */
void ows_admin_handle(struct ows_http_req *req, void *ud);
/* Send a JSON value (borrowed) as the response. */
void ows_admin_reply_json(struct ows_http_req *req, int status,
			  const json_t *v);
void ows_admin_reply_error(struct ows_http_req *req, int status,
			   const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* metrics.c */
void ows_metrics_handle(struct ows_node *n, struct ows_http_req *req);

#endif
