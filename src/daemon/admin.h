/*
 * The edge port's handler (admin.c): the admin API under /_ows/v1/ (see
 * docs/admin-api.md), /metrics, the node-only endpoints (blobs, peer
 * logs, attested entries, barriers), and every other path to the AWS
 * services (edge.h).
 */
#ifndef OWS_DAEMON_ADMIN_H
#define OWS_DAEMON_ADMIN_H

#include "daemon/blobs.h"
#include "daemon/core.h"
#include "daemon/functions.h"
#include "daemon/host.h"
#include "http/http.h"

struct ows_admin {
	struct ows_core *core;        /* all borrowed */
	struct ows_functions *fns;
	struct ows_blobs *blobs;
	struct ows_node_host *host;
	/* the node's servers, for /metrics */
	const struct ows_http_server *edge;
	const struct ows_http_server *gateway;
};

/* Serve one request on the edge port; ud is the struct ows_admin. */
void ows_admin_handle(struct ows_http_req *req, void *ud);

#endif
