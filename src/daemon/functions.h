/*
 * The node's functions: for each function of the replicated state that is
 * invoked here, its bundle on this node's disk and its instance pool
 * (fn/pool.h). A bundle this node lacks is fetched from a peer; a changed
 * spec redeploys the pool on the next invocation.
 */
#ifndef OWS_DAEMON_FUNCTIONS_H
#define OWS_DAEMON_FUNCTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "blob/blob.h"
#include "daemon/core.h"
#include "fn/pool.h"

struct ows_fn_entry; /* functions.c */

struct ows_functions {
	struct ows_core *core;         /* borrowed */
	const struct ows_blob_store *store; /* borrowed: bundles are blobs */
	/* the edge's handler, served inside each instance (fn/pool.h) */
	ows_http_handler_cb edge_handler;
	void *edge_ud;
	struct ows_fn_entry *entries;  /* the functions run here */
	unsigned closing, pools;
	void (*close_cb)(void *ud);
	void *close_ud;
	struct ows_fn_spares *spares;  /* spare launchers */
	uv_check_t watch;              /* deploys on ledger changes */
	uint64_t synced;               /* ledger height deployed at */
	char *peers;                   /* the peers' hosts blocked */
	bool started;
};

/* Borrow core and store; edge_handler(req, edge_ud) serves instances. */
void ows_functions_init(struct ows_functions *f, struct ows_core *core,
			const struct ows_blob_store *store,
			ows_http_handler_cb edge_handler, void *edge_ud);

/*
 * Invoke function name with payload (copied). -ENOENT when the function
 * does not exist (cb not called); otherwise cb is called once, later.
 */
int ows_functions_invoke(struct ows_functions *f, const char *name,
			 const char *request_id, const void *payload,
			 size_t len, ows_fn_result_cb cb, void *ud);

/*
 * The same for a version of function name: version NULL or "$LATEST" is
 * the function; "N" the published version N (resource "NAME:N" of kind
 * "function_versions"), which has its own pool. -ENOENT when it does
 * not exist. opts (may be NULL) is borrowed: an invocation that waits for
 * its pool keeps a copy. A client_context that
 * ows_fn_client_context_check refuses is -EINVAL or -EMSGSIZE (cb not
 * called).
 */
int ows_functions_invoke_version(struct ows_functions *f, const char *name,
				 const char *version, const char *request_id,
				 const void *payload, size_t len,
				 const struct ows_fn_invoke_opts *opts,
				 ows_fn_result_cb cb, void *ud);

/*
 * http runtime: lend an instance of function name that is listening (see
 * ows_fn_pool_http_acquire); give it back with ows_functions_http_release.
 * -ENOENT when the function does not exist (cb not called).
 */
int ows_functions_http_acquire(struct ows_functions *f, const char *name,
			       ows_fn_http_cb cb, void *ud);
/*
 * The same at once, when the function is deployed here, current, and has
 * a listening instance with room (ows_fn_pool_http_take): 0 with *inst and
 * *addr, else -EAGAIN (use ows_functions_http_acquire).
 */
int ows_functions_http_take(struct ows_functions *f, const char *name,
			    struct ows_fn_instance **inst, const char **addr);
/* 1 when function name has runtime http, 0 when not, -ENOENT. */
int ows_functions_is_http(struct ows_functions *f, const char *name);
void ows_functions_http_release(struct ows_fn_instance *inst);

/* Log records of function name on this node with seq > since. */
uint64_t ows_functions_logs(struct ows_functions *f, const char *name,
			    uint64_t since, ows_fn_log_cb cb, void *ud);

/*
 * Start the node's function machinery: spare launchers (OWS_FN_SPARES,
 * default 4, 0 for none) and the watch that deploys functions as the
 * ledger changes them. Returns 0.
 */
int ows_functions_start(struct ows_functions *f);

/* Close every pool; cb(ud) once all are closed (at once if none). */
void ows_functions_close(struct ows_functions *f, void (*cb)(void *ud),
			 void *ud);

#endif
