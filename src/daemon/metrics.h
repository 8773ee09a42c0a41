/* /metrics on the edge port (metrics.c). */
#ifndef OWS_DAEMON_METRICS_H
#define OWS_DAEMON_METRICS_H

#include "daemon/core.h"
#include "http/http.h"

/* The node's counters and those of its edge and gateway servers. */
void ows_metrics_handle(struct ows_core *n, const struct ows_http_server *edge,
			const struct ows_http_server *gateway,
			struct ows_http_req *req);

#endif
