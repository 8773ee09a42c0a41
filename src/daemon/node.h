/*
 * A running node (node.c): wires the parts and runs them. The core
 * (core.h) is what the parts share; each part is its own struct with its
 * own header and gets what it needs at init: the functions (functions.h),
 * the blob store's endpoints (blobs.h), the services' host (host.h), the
 * gateway port (gateway.h) and the edge port's handler (admin.h). The
 * node itself keeps only its own business: the two HTTP servers, signal
 * handling, and the leader's membership reconciler (which turns the nodes
 * table into the Raft configuration).
 *
 * Included by node.c, main.c and init.c only: no part includes it.
 */
#ifndef OWS_DAEMON_NODE_H
#define OWS_DAEMON_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/admin.h"
#include "daemon/blobs.h"
#include "daemon/core.h"
#include "daemon/functions.h"
#include "daemon/gateway.h"
#include "daemon/host.h"
#include "http/http.h"
#include "raft/raft.h"
#include "state/state.h"

struct ows_node {
	struct ows_core core;        /* shared with every part */
	struct ows_blobs blobs;
	struct ows_functions fns;
	struct ows_node_host host;
	struct ows_gateway gw;
	struct ows_admin admin;
	struct ows_http_server edge;
	struct ows_http_server gateway;
	bool raft_was_stalled; /* its state machine could not apply */
	bool raft_reopening;   /* closed to be opened again */
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_timer_t reconcile;
	uv_prepare_t turn_end; /* ends the state's read hold every turn */
	bool edge_up;        /* the servers were initialized */
	bool gateway_up;
	bool changing;       /* a membership change is in flight */
	uint64_t leaving;    /* node whose removal waits for it to hear of it */
	uint64_t leaving_index;
	int64_t leaving_since;
	int64_t tick_at;     /* the services' last leader_tick */
	int exit_code;
	unsigned pending_closes;
	json_t *peers;       /* DIR/peers.json: keys known at join time */
	struct ows_raft_auth auth;
};

/* The Raft FSM callbacks bound to a state (used by init and run). */
void ows_node_fsm(struct ows_state *state, struct ows_raft_fsm *fsm);

/* Run the node in the foreground until SIGTERM/SIGINT. Exit status. */
int ows_node_run(const char *dir);

#endif
