/*
 * The blob store's endpoints under /_ows/v1/blobs/ (blobs.c), what the
 * cluster names and how many copies it keeps (blobs.c), the collection of
 * blobs nothing names (blobs.c) and the repair that keeps each named blob
 * on its `replicas` nodes (blob_repair.c); the store itself is
 * blob/blob.h.
 *
 * Named blobs: the function bundles (code_sha256 of functions and of
 * function_versions) and, for each service, its blob_refs / blob_list SQL
 * (aws/service.h).
 */
#ifndef OWS_DAEMON_BLOBS_H
#define OWS_DAEMON_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "blob/blob.h"
#include "daemon/core.h"
#include "http/http.h"

#define OWS_BLOBS_PEERS_MAX 256

struct ows_blobs {
	struct ows_core *core;  /* borrowed */
	struct ows_blob_store store; /* DIR/blobs (blob/blob.h) */
	int64_t gc_at;          /* last collection of unnamed blobs */
	bool gc_busy;
	/* the repair (blob_repair.c) */
	int64_t repair_at;      /* start of the last round */
	bool repair_busy;
	char cursor[65];        /* the last blob of the last batch */
	json_t *batch;          /* the round's blobs */
	size_t at;              /* the one being repaired */
	struct {
		unsigned fetched, in_place, dropped, failed;
	} round;                /* what the round did, for its log line */
	int64_t failed_logged_at;
	bool self_holds;        /* the push out: is this node a holder */
	unsigned holders, want; /* ... holders asked, of replicas wanted */
	/* members' health as the repair's probes found it (blob_repair.c) */
	struct ows_blobs_peer {
		uint64_t id;
		unsigned failed; /* probes failed in a row */
		bool probing;
	} peers[OWS_BLOBS_PEERS_MAX];
	size_t n_peers;
};

void ows_blobs_init(struct ows_blobs *b, struct ows_core *core);
void ows_blobs_close(struct ows_blobs *b);

/* HEAD, GET, PUT /_ows/v1/blobs/HASH (see blobs.c). */
void ows_blobs_handle(struct ows_blobs *b, struct ows_http_req *req);
/* Start a collection of unnamed blobs if one is due. */
void ows_blobs_gc(struct ows_blobs *b);
/* Start a repair round if one is due (blob_repair.c). */
void ows_blobs_repair(struct ows_blobs *b);

/* Is blob hash named by the state (a bundle, or a service's blob_refs)? */
bool ows_blobs_named(struct ows_core *n, const char *hash);

/*
 * The copies of each blob the cluster keeps: the setting blob_replicas of
 * settings/cluster, else min(3, members); never more than the members.
 * members (may be NULL) gets their count.
 */
unsigned ows_blobs_replicas(struct ows_core *n, size_t *members);

/*
 * Where blob hash goes (blob/blob.h, ows_blob_place) among nodes (rows of
 * ows_state_nodes, borrowed): the other members' edge addresses into
 * peers (borrowed from nodes), in placement order (the blob's holders
 * first); returns their count. *self_holds: is this node one of the first
 * `replicas`. *holders: how many of peers are. live (may be NULL: all
 * are): the members found down (ows_blobs_down) are left out.
 */
size_t ows_blobs_placed(struct ows_core *n, json_t *nodes, const char *hash,
			unsigned replicas, const struct ows_blobs *live,
			const char **peers, bool *self_holds,
			unsigned *holders);

/* Did the repair's probes find member id down (two failures in a row)? */
bool ows_blobs_down(const struct ows_blobs *b, uint64_t id);

/*
 * How many other nodes must take a new blob before its entry is proposed:
 * replicas - 1 when that many peers answer, else (a member down) down to
 * a majority of the members - 1, as Raft's own writes; the repair brings
 * the count up later. want gets the first, need the second.
 */
void ows_blobs_want(unsigned replicas, size_t members, unsigned *want,
		    unsigned *need);

/* Test knobs, read from the environment (docs/blobs.md). */
int64_t ows_blobs_grace_s(void);

#endif
