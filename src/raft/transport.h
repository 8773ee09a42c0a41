/*
 * The authenticated Raft transport: a struct raft_uv_transport for libraft's
 * raft_uv backend whose connections open with a mutual Ed25519
 * challenge-response (see transport.c) before libraft sees the stream.
 * Private to src/raft/: raft.c picks it when ows_raft_options.auth is set.
 */
#ifndef OWS_RAFT_TRANSPORT_H
#define OWS_RAFT_TRANSPORT_H

#include <uv.h>

#include "raft/raft.h"

struct raft_uv_transport;

/*
 * Fill t (the caller's memory) with the authenticated implementation, like
 * raft_uv_tcp_init. auth is copied, cluster string included (at most 64
 * bytes); its ud must outlive the transport. 0, OWS_EINVAL or -ENOMEM.
 */
int ows__raft_transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
			     const struct ows_raft_auth *auth);

/*
 * Release what ows__raft_transport_init allocated, like raft_uv_tcp_close:
 * only once t->close has called back, or when it was never started.
 */
void ows__raft_transport_close(struct raft_uv_transport *t);

#endif
