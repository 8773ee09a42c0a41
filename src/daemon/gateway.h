/* The gateway port's handler (gateway.c). */
#ifndef OWS_DAEMON_GATEWAY_H
#define OWS_DAEMON_GATEWAY_H

#include "http/http.h"

struct ows_node;

/* Serve one request on the gateway port; ud is the node. */
void ows_gateway_handle(struct ows_http_req *req, void *ud);
/* Drop the cached route table (shutdown). */
void ows_gateway_close(struct ows_node *n);

#endif
