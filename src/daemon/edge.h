/*
 * The AWS-compatible services on the edge port (DESIGN.md, "Services plug
 * into one seam"): edge.c routes each request that is not for /_ows/ or
 * /metrics to a service of aws/registry.c; host.c implements the host
 * (aws/service.h) the services are handed, on the node.
 */
#ifndef OWS_DAEMON_EDGE_H
#define OWS_DAEMON_EDGE_H

#include <jansson.h>

#include "aws/auth.h"
#include "aws/service.h"
#include "daemon/node.h"
#include "ledger/authz.h"

struct ows_node_host {
	struct ows_aws_host host;   /* host.ud is this */
	struct ows_aws_keys keys;   /* SigV4's secret lookup */
	struct ows_node *n;
	/* Policies by principal ("users/NAME"), valid at cache_height. */
	json_t *policies;
	uint64_t cache_height;
	struct ows_directory base;  /* the state's directory */
};

/* The node's host, made on first use; freed by ows_host_free. */
struct ows_node_host *ows_host_get(struct ows_node *n);
void ows_host_free(struct ows_node *n);

/* Route req (not /_ows/, not /metrics) to its service. */
void ows_edge_handle(struct ows_node *n, struct ows_http_req *req);

/*
 * The leader's end of a forwarded attested entry (POST
 * /_ows/v1/attested, body {"attestation", "signature"}): checked for a
 * member node's signature, then proposed; the reply is the entry's result.
 */
void ows_host_attested_handle(struct ows_node *n, struct ows_http_req *req);
/*
 * The leader's end of a follower's read barrier (POST /_ows/v1/barrier,
 * signed by a member node): a Raft barrier, then {"index": applied}.
 */
void ows_host_barrier_handle(struct ows_node *n, struct ows_http_req *req);

#endif
