/*
 * The blob store's endpoints under /_ows/v1/blobs/ (blobs.c) and the
 * collection of blobs no function names; the store itself is
 * blob/blob.h.
 */
#ifndef OWS_DAEMON_BLOBS_H
#define OWS_DAEMON_BLOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "daemon/core.h"
#include "http/http.h"

struct ows_blobs {
	struct ows_core *core;  /* borrowed */
	struct ows_blob_store store; /* DIR/blobs (blob/blob.h) */
	int64_t gc_at;          /* last collection of unnamed blobs */
	bool gc_busy;
};

void ows_blobs_init(struct ows_blobs *b, struct ows_core *core);

/* HEAD, GET, PUT /_ows/v1/blobs/HASH (see blobs.c). */
void ows_blobs_handle(struct ows_blobs *b, struct ows_http_req *req);
/* Start a collection of unnamed blobs if one is due. */
void ows_blobs_gc(struct ows_blobs *b);

#endif
