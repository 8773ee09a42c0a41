/*
 * The AWS-compatible services on the edge port (DESIGN.md, "Services plug
 * into one seam"): edge.c routes each request that is not for /_ows/ or
 * /metrics to a service of aws/registry.c and hands it the node's host
 * (host.h).
 */
#ifndef OWS_DAEMON_EDGE_H
#define OWS_DAEMON_EDGE_H

#include "daemon/host.h"
#include "http/http.h"

/*
 * Whether req is for a bucket by its Host (BUCKET.DOMAIN): its path is an
 * object key whatever it is, so it goes to the edge, never to /_ows/ or
 * /metrics.
 */
bool ows_edge_is_bucket_host(const struct ows_node_host *nh,
			     const struct ows_http_req *req);

/* Route req (not /_ows/, not /metrics) to its service on host nh. */
void ows_edge_handle(struct ows_node_host *nh, struct ows_http_req *req);

#endif
