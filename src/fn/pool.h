/*
 * The instance pool of one deployed function, on the node's uv loop. It
 * turns invocations into sandboxed instances (fn/sandbox.h) the way AWS
 * Lambda does: a warm idle instance serves the next request; otherwise a new
 * one starts while the function is below its concurrency; otherwise the
 * request waits in a bounded queue, and past that it is throttled (the API
 * answers 429 TooManyRequestsException). An instance idle for idle_s stops
 * (scale to zero); min_instances stay warm.
 *
 * Lambda-style runtimes (python3, nodejs, provided) get one Runtime API
 * server each (fn/runtime_api.h) and serve one invocation at a time. A
 * timeout, crash or out-of-memory kill ends the instance and is reported as
 * Lambda reports it; the next request gets a fresh instance. The http
 * runtime runs the user's command with $PORT set and lends the instance to
 * the gateway, which proxies to it (ows_fn_pool_http_acquire / _release).
 *
 * Each instance's stdout and stderr are kept as the log of the invocation
 * running at the time, framed by Lambda's START / END / REPORT lines; the
 * last OWS_FN_LOG_KEEP invocations are kept per function (ows_fn_pool_logs)
 * and each result carries the tail of its log (LogType: Tail).
 *
 * Needs root, as the sandbox does.
 */
#ifndef OWS_FN_POOL_H
#define OWS_FN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/http.h"

#define OWS_FN_LOG_KEEP 200	     /* invocations' logs kept per function */
#define OWS_FN_LOG_TAIL 4096	     /* bytes of log in each result */
#define OWS_FN_LOG_MAX (256u << 10) /* bytes kept of one invocation's log */
#define OWS_FN_QUEUE_MAX 100	     /* default bound of the wait queue */
#define OWS_FN_MAX_PROCS 64	     /* processes (and threads) per instance */
#define OWS_FN_RUNTIMES_MOUNT "/opt/ows/runtimes"

struct ows_fn_pool; /* opaque */
struct ows_fn_spares; /* opaque */
struct ows_fn_instance; /* opaque */

struct ows_fn_env {
	const char *name;
	const char *value;
};

/*
 * A function's configuration. Every pointer is borrowed; the pool copies
 * what it keeps. Zero fields take defaults: memory_mb 128, timeout_s 3,
 * concurrency 10, idle_s 300, queue_max OWS_FN_QUEUE_MAX, region "local".
 */
/* An instance's session credentials (see creds_cb below). */
struct ows_fn_creds {
	char key_id[32];
	char secret[64];
	char token[1024];
	int64_t expires; /* Unix seconds */
};

struct ows_fn_config {
	const char *name;    /* [A-Za-z0-9_-], 1..64 */
	const char *version; /* "$LATEST" (NULL) or a published version "N":
				AWS_LAMBDA_FUNCTION_VERSION */
	const char *runtime; /* "python3", "nodejs", "provided" or "http" */
	const char *handler; /* "module.function"; unused by provided, http */
	const char *bundle_dir;	     /* extracted bundle, at /var/task */
	const char *const *command;  /* http: argv, NULL-terminated, in the
					sandbox (cwd /var/task) */
	unsigned memory_mb;
	unsigned timeout_s;
	unsigned concurrency;	/* most instances at once */
	bool stopped;		/* reserved concurrency 0 (Lambda's
				   PutFunctionConcurrency): no instance
				   starts, every request is THROTTLED */
	unsigned idle_s;	/* an idle instance stops after this */
	unsigned min_instances; /* kept warm (at most concurrency) */
	unsigned requests_per_instance; /* http: requests one instance serves
					   at once (default 80, as Cloud
					   Run); always 1 for the others */
	unsigned queue_max;	/* waiting requests beyond this: THROTTLED */
	const struct ows_fn_env *env;
	size_t n_env;
	const char *runtimes_dir; /* host path of runtimes/, bound read-only
				     at OWS_FN_RUNTIMES_MOUNT */
	const char *owsd_path;	  /* run as `owsd sandbox-exec --spec-fd 3` */
	const char *region;	  /* AWS_REGION and the ARN's region */
	const char *root_dir;	  /* the sandbox's root_dir; NULL: default */
	struct ows_fn_spares *spares; /* launchers started ahead of need, to
					 take from; NULL: start on demand.
					 Borrowed: must outlive the pool */
	/*
	 * The node's AWS endpoint as an instance sees it: served by the node
	 * with this handler (and ud) on 127.0.0.1:OWS_FN_EDGE_PORT inside
	 * each instance's network namespace, and named by AWS_ENDPOINT_URL.
	 * NULL: none. ud must outlive the pool.
	 */
	ows_http_handler_cb edge_handler;
	void *edge_ud;
	/*
	 * Credentials for one instance, as Lambda hands a function its
	 * execution role's: called at each instance start with the
	 * function's name; 0 with out filled, or -errno (the instance then
	 * starts without). NULL: none. They are set as AWS_ACCESS_KEY_ID,
	 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and an instance stops
	 * (when idle) before they expire.
	 */
	int (*creds_cb)(void *ud, const char *function,
			struct ows_fn_creds *out);
	void *creds_ud;
};

enum ows_fn_result_kind {
	OWS_FN_OK,	       /* body is the function's response */
	OWS_FN_FUNCTION_ERROR, /* body is a Lambda error document */
	OWS_FN_THROTTLED,      /* the queue is full: 429 */
	OWS_FN_FAILED,	       /* not run: see status (the service's fault) */
};

/*
 * The outcome of one invocation, borrowed for the duration of the callback.
 *
 * FUNCTION_ERROR covers what Lambda returns with X-Amz-Function-Error
 * (function_error, "Unhandled" unless the runtime said otherwise): errors
 * the function raised, init errors, "Sandbox.Timedout" ("Task timed out
 * after N.NN seconds", status -ETIMEDOUT), "Runtime.ExitError" ("Runtime
 * exited with error: exit status N" or "signal: killed", status -EPIPE) and
 * "Runtime.OutOfMemory" (status -ENOMEM), and a response over 6 MB
 * ("Function.ResponseSizeTooLarge", -EMSGSIZE). body is then
 * {"errorMessage", "errorType", ...}. FAILED: status is -ECANCELED
 * ("Runtime.Closed": the pool closed) or the errno of starting an instance
 * ("ServiceException"); body is an error document too. THROTTLED: body is
 * {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", ...}.
 *
 * log_tail is the last OWS_FN_LOG_TAIL bytes of the invocation's log (not
 * base64; the API encodes it), empty when it did not run.
 */
struct ows_fn_result {
	enum ows_fn_result_kind kind;
	int status;
	const char *request_id;
	const char *error_type;	    /* NULL for OK */
	const char *function_error; /* NULL for OK */
	const char *body;
	size_t len;
	const char *log_tail;
	size_t log_tail_len;
	uint64_t log_seq; /* the invocation's log record; 0 if none */
	double duration_ms;
};

typedef void (*ows_fn_result_cb)(void *ud, const struct ows_fn_result *res);

/*
 * An http instance lent to the caller: status 0 and "127.0.0.1:PORT", or
 * status < 0 (-ETIMEDOUT: it did not listen in time, -ECANCELED, an errno
 * of starting it; OWS_ETOOBIG: throttled) with inst and addr NULL.
 */
typedef void (*ows_fn_http_cb)(void *ud, int status,
			       struct ows_fn_instance *inst, const char *addr);

/* Counts for tests and metrics. */
struct ows_fn_pool_stats {
	unsigned live;	   /* instances not stopping */
	unsigned starting; /* of which not ready yet */
	unsigned busy;	   /* of which serving */
	unsigned idle;	   /* of which ready and idle */
	unsigned stopping; /* killed, being cleaned up */
	unsigned queued;   /* requests waiting */
	uint64_t started;  /* instances started so far */
};

/* One invocation's log; borrowed during the callback. */
struct ows_fn_log_record {
	uint64_t seq;		/* increasing from 1 per pool */
	int64_t time_ms;	/* Unix time the record was opened */
	const char *request_id; /* NULL for output between invocations */
	const char *text;
	size_t len;
};

typedef void (*ows_fn_log_cb)(void *ud, const struct ows_fn_log_record *rec);

/*
 * Spare launchers (spare.c), shared by the pools of one node: count (1..16)
 * launchers of `launcher` (the path of ows-sandbox or owsd) are kept
 * started, each already in a cgroup of its own, and a pool whose config
 * names the set takes one for a new instance instead of spawning (so a
 * cold start skips the fork, the exec and, mainly, the cgroup move, which
 * waits for an RCU grace period). Refilled in the background. on_error
 * (may be NULL) hears of a spare that could not start or died unused, and
 * whether the set gave up (then pools start launchers on demand).
 */
typedef void (*ows_fn_spare_error_cb)(void *ud, const char *msg,
				      bool gave_up);
int ows_fn_spares_new(uv_loop_t *loop, const char *launcher, unsigned count,
		      ows_fn_spare_error_cb on_error, void *ud,
		      struct ows_fn_spares **out);
/* Spares ready now, and whether the set gave up. */
void ows_fn_spares_stats(const struct ows_fn_spares *s, unsigned *ready,
			 bool *disabled);
/* Stop the waiting spares; cb(ud) once they are gone and s is freed.
 * Close the pools that use s first. */
void ows_fn_spares_close(struct ows_fn_spares *s, void (*cb)(void *ud),
			 void *ud);

/*
 * Make the pool of cfg (copied) on loop and start min_instances. On success
 * *out is owned by the caller until ows_fn_pool_close has called back.
 * Returns 0, -EINVAL (a bad name or runtime, no bundle or owsd_path, http
 * without a command) or -ENOMEM.
 */
int ows_fn_pool_new(uv_loop_t *loop, const struct ows_fn_config *cfg,
		    struct ows_fn_pool **out);

/*
 * Run one invocation. request_id ([A-Za-z0-9-], 1..64) and payload (JSON
 * text) are copied. cb is called exactly once, never from inside this call.
 * Returns 0, or -EINVAL (http runtime, bad id), -EMSGSIZE (payload over
 * OWS_RUNTIME_MAX_PAYLOAD), -ECANCELED (closing) or -ENOMEM without
 * calling cb.
 */
int ows_fn_pool_invoke(struct ows_fn_pool *pool, const char *request_id,
		       const void *payload, size_t len, ows_fn_result_cb cb,
		       void *ud);

/*
 * Lambda limits Invoke's ClientContext to 3583 bytes of base64 (a JSON
 * object of up to 2.6 KB once decoded).
 */
#define OWS_FN_CLIENT_CONTEXT_MAX 3583

/* An invocation's optional parts; zero fields (and opts NULL) are absent. */
struct ows_fn_invoke_opts {
	/*
	 * Invoke's X-Amz-Client-Context as the caller sent it: base64 of a
	 * JSON object. The runtime gets the object (compact JSON) in
	 * Lambda-Runtime-Client-Context: context.client_context (python:
	 * .client, .custom, .env) or context.clientContext (nodejs).
	 */
	const char *client_context;
};

/*
 * Whether b64 is an acceptable ClientContext: 0, -EMSGSIZE (over
 * OWS_FN_CLIENT_CONTEXT_MAX) or -EINVAL (not base64 of a JSON object).
 * For the API to answer before invoking, as Lambda does (400
 * InvalidRequestContentException "Client context must be a valid Base64-
 * encoded JSON object."); ows_fn_pool_invoke_opts checks it too.
 */
int ows_fn_client_context_check(const char *b64);

/*
 * ows_fn_pool_invoke with opts (may be NULL; copied). Returns the same,
 * and -EINVAL or -EMSGSIZE for a client_context that
 * ows_fn_client_context_check refuses (cb is then not called).
 */
int ows_fn_pool_invoke_opts(struct ows_fn_pool *pool, const char *request_id,
			    const void *payload, size_t len,
			    const struct ows_fn_invoke_opts *opts,
			    ows_fn_result_cb cb, void *ud);

/*
 * http runtime: lend an instance that is listening (starting one, or
 * waiting, as for invocations). cb is called exactly once, never from
 * inside this call. The caller proxies to addr and then gives the instance
 * back with ows_fn_pool_http_release. Returns 0, -EINVAL (not http),
 * -ECANCELED or -ENOMEM.
 */
int ows_fn_pool_http_acquire(struct ows_fn_pool *pool, ows_fn_http_cb cb,
			     void *ud);

/*
 * http runtime, at once: when no request is queued and an instance that
 * is listening has room for one more request, lend it (*inst, *addr, which
 * stays valid until the release) and return 0; else -EAGAIN (use
 * ows_fn_pool_http_acquire), -EINVAL or -ECANCELED.
 */
int ows_fn_pool_http_take(struct ows_fn_pool *pool,
			  struct ows_fn_instance **inst, const char **addr);

/* Give back an instance from ows_fn_pool_http_acquire or _take (once);
 * pool is not needed (may be NULL): the instance knows its own. */
void ows_fn_pool_http_release(struct ows_fn_pool *pool,
			      struct ows_fn_instance *inst);

/*
 * Redeploy: new requests use cfg (copied); idle instances of the old
 * configuration stop now, busy ones when they finish; queued requests stay
 * queued and run on the new one. min_instances of cfg are started. The
 * name may not change. Returns 0, -EINVAL or -ENOMEM (nothing changed).
 */
int ows_fn_pool_update(struct ows_fn_pool *pool,
		       const struct ows_fn_config *cfg);

void ows_fn_pool_stats(const struct ows_fn_pool *pool,
		       struct ows_fn_pool_stats *out);

/*
 * Call cb for each kept log record with seq > since, oldest first (for
 * `ows logs --follow`: pass the last seq seen). Returns the last seq
 * given, or since when there was none.
 */
uint64_t ows_fn_pool_logs(const struct ows_fn_pool *pool, uint64_t since,
			  ows_fn_log_cb cb, void *ud);

/*
 * Close: queued requests fail with -ECANCELED, running ones with
 * "Runtime.Closed", every instance is killed and its cgroup removed; then
 * cb(ud) runs, from the loop, and the pool is freed. Call once.
 */
void ows_fn_pool_close(struct ows_fn_pool *pool, void (*cb)(void *ud),
		       void *ud);

#endif
