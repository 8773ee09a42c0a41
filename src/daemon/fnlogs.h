/*
 * A function's logs across the cluster (fnlogs.c): gathered by the node
 * asked from every node, merged by time.
 */
#ifndef OWS_DAEMON_FNLOGS_H
#define OWS_DAEMON_FNLOGS_H

#include <stdbool.h>
#include <jansson.h>

#include "daemon/functions.h"
#include "http/http.h"

/* The answer: {"records": [{node, seq, time, request_id, text}],
 * "last": CURSOR, "unreachable": [node ids]}, borrowed. */
typedef void (*ows_fnlogs_cb)(void *ud, const json_t *reply);

/*
 * The records of function name newer than cursor ("ID:SEQ,...", or ""
 * for all kept), from this node and the others. cb is called once, maybe
 * from inside this call. Returns 0 or -ENOMEM (cb not called).
 */
int ows_fnlogs_gather(struct ows_functions *f, const char *name,
		      const char *cursor, ows_fnlogs_cb cb, void *ud);

/* The node-signed peer endpoint GET /_ows/v1/peer/logs/NAME?since=SEQ. */
bool ows_fnlogs_is_peer_path(const char *path);
void ows_fnlogs_handle_peer(struct ows_functions *f,
			    struct ows_http_req *req);

#endif
