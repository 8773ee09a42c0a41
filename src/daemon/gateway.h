/*
 * The gateway port (gateway.c): API Gateway HTTP API routes of the ledger
 * (gw/route.h), each request mapped to a function invocation (payload
 * 2.0) or proxied to an http function's instance.
 */
#ifndef OWS_DAEMON_GATEWAY_H
#define OWS_DAEMON_GATEWAY_H

#include <stdint.h>

#include "daemon/core.h"
#include "daemon/functions.h"
#include "daemon/host.h"
#include "http/http.h"

struct ows_gw_table;

struct ows_gateway {
	struct ows_core *core;        /* borrowed, as fns and host */
	struct ows_functions *fns;
	struct ows_node_host *host;   /* SigV4 keys of "iam" routes */
	struct ows_gw_table *table;   /* routes at height */
	uint64_t height;
};

void ows_gateway_init(struct ows_gateway *gw, struct ows_core *core,
		      struct ows_functions *fns, struct ows_node_host *host);
/* Serve one request on the gateway port; ud is the gateway. */
void ows_gateway_handle(struct ows_http_req *req, void *ud);
/* Drop the cached route table (shutdown). */
void ows_gateway_close(struct ows_gateway *gw);

#endif
