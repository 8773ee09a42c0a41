/*
 * The host (aws/service.h) the AWS-compatible services are handed, on the
 * node (host.c): the state read only, authorization with the principals'
 * policies cached per ledger height, attested entries proposed on the
 * leader or forwarded to it, read barriers, the blob store, function
 * invocation. Also the leader's ends of the node-only endpoints that
 * forwarding and barriers use.
 */
#ifndef OWS_DAEMON_HOST_H
#define OWS_DAEMON_HOST_H

#include <jansson.h>

#include "aws/auth.h"
#include "aws/service.h"
#include "blob/blob.h"
#include "daemon/core.h"
#include "daemon/functions.h"
#include "ledger/authz.h"

struct ows_node_host {
	struct ows_aws_host host;   /* host.ud is this */
	struct ows_aws_keys keys;   /* SigV4's secret lookup */
	struct ows_aws_keycache keycache; /* keys.cache: signing keys */
	struct ows_core *core;      /* borrowed, as fns and store */
	struct ows_functions *fns;
	const struct ows_blob_store *store;
	/* Policies by principal ("users/NAME"), valid at cache_height. */
	json_t *policies;
	uint64_t cache_height;
	struct ows_directory base;  /* the state's directory */
	/* How ReadIndex asks other nodes (reads.c); ud is core. */
	struct ows_raft_read_ops read_ops;
	/* The service entries forwarded in this turn of the loop (entries.c);
	   NULL when none. */
	struct ows__entry_batch *entry_batch;
	/* The nonces of the batches taken as leader (entries.c); NULL
	   until the first. */
	struct ows__entry_nonces *entry_nonces;
};

/* The host on core, invoking through fns, storing blobs in store. */
void ows_host_init(struct ows_node_host *nh, struct ows_core *core,
		   struct ows_functions *fns,
		   const struct ows_blob_store *store);
void ows_host_close(struct ows_node_host *nh);

/*
 * The leader's end of a forwarded attested entry (POST
 * /_ows/v1/attested, body {"attestation", "signature"}): checked for a
 * member node's signature, then proposed; the reply is the entry's result.
 */
void ows_host_attested_handle(struct ows_node_host *nh,
			      struct ows_http_req *req);
/*
 * The leader's end of forwarded service entries (entries.c; POST
 * /_ows/v1/entry, body {"entries": [{"type", "body"}, ...], "leader",
 * "term", "nonce"}, signed by a member node; each type one that a service
 * adds, never a core type): proposed together, and the reply is
 * {"results": [...]}, each entry's result in order; 400 and nothing
 * proposed when any entry is malformed, 503 when none can be proposed
 * here or the batch is for another leader or term, 403 when this leader
 * took its nonce in this term already (a copy sent again).
 */
void ows_host_entry_handle(struct ows_node_host *nh, struct ows_http_req *req);

/* ---- shared by the files of the host (host.c, entries.c) ---- */

/*
 * A forward's outcome as both forwarding ends read it: OWS_ENOTLEADER
 * (no leader reached, or it answered 503), -ETIMEDOUT (no answer), or 0
 * with the leader's answer in resp for the caller to judge.
 */
int ows__host_forward_status(int status, const struct ows_http_response *resp);
/* The leader's id and edge address: 0, or OWS_ENOTLEADER. */
int ows__host_leader_edge(struct ows_core *n, uint64_t *id, char addr[64]);
/*
 * Before the body is read: whether req's Authorization header is well
 * formed, in its time window and names a node of the cluster's key (the
 * signature, over the body, is checked by ows__host_from_member); when
 * not, req is answered 403 at once, so that no stranger's body is held.
 */
bool ows__host_member_head(struct ows_core *n, struct ows_http_req *req,
			   const char *what);
/*
 * Whether req (body of len bytes) is signed by a node of the cluster, as
 * the leader's ends of forwarded entries require; when not, it is
 * answered 403 ("only a node of the cluster forwards WHAT").
 */
bool ows__host_from_member(struct ows_core *n, struct ows_http_req *req,
			   const char *body, size_t len, const char *what);
/* A service's entry type, never one of the core's. */
bool ows__host_service_entry_type(const char *type);
/*
 * A follower's service entry (body borrowed): joins the batch of this
 * turn of the loop to the leader; cb gets the entry's result, or < 0
 * (OWS_ENOTLEADER when the leader changed or answered 503). Returns < 0
 * without calling cb when no leader is known (OWS_ENOTLEADER), or the
 * entry is over the limit (OWS_ETOOBIG), -ENOMEM.
 */
/* Free what the leader's end of the batches keeps (entries.c). */
void ows__host_entries_close(struct ows_node_host *nh);
int ows__host_entry_forward(struct ows_node_host *nh, const char *type,
			    const json_t *body, ows_aws_proposed_cb cb,
			    void *ud);
/*
 * Every service's leader_tick (aws/service.h), when this node leads and
 * applies the log; the node calls it about once a second.
 */
void ows_host_leader_tick(struct ows_node_host *nh);
/*
 * Consistent reads (reads.c): Raft's ReadIndex, its questions carried
 * between nodes over signed HTTP. ows_host_reads_init fills nh->read_ops
 * (at ows_host_init); ows_host_read_barrier is the host's read_barrier.
 */
void ows_host_reads_init(struct ows_node_host *nh);
int ows_host_read_barrier(struct ows_aws_call *c, ows_aws_barrier_cb cb,
			  void *ud);
/*
 * The leader's end of a follower's read barrier (POST /_ows/v1/barrier,
 * signed by a member node): {"index": R}, a read index confirmed by a
 * majority of voters (ows_raft_read_index); 503 when this node does not
 * lead. Nothing is appended to the log.
 */
void ows_host_barrier_handle(struct ows_node_host *nh,
			     struct ows_http_req *req);
/*
 * A voter's end of the leader's confirmation round (POST
 * /_ows/v1/leadership, {"voter": V, "leader": X, "term": T}, signed by a
 * member node): {"leader": true|false, "term": this node's term, "node":
 * this node's id}; true only when this node is V.
 */
void ows_host_leadership_handle(struct ows_node_host *nh,
				struct ows_http_req *req);

#endif
