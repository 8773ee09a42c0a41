/*
 * The Lambda Runtime API (version 2018-06-01), served for ONE function
 * instance on its own loopback port (inside the instance's network
 * namespace, so that only the instance reaches it). One runtime polls: a
 * second GET /next while one is held, or while an invocation is out, is
 * refused with 403 and takes nothing away. The node starts the instance with
 * AWS_LAMBDA_RUNTIME_API set to ows__runtime_api_address(); the runtime inside
 * (our python3 and nodejs bootstraps, or a custom "provided" bootstrap) then
 * loops on:
 *
 *   GET  /2018-06-01/runtime/invocation/next           long-polls; 200 with
 *        the event as body and the Lambda-Runtime-* headers
 *   POST /2018-06-01/runtime/invocation/{id}/response  202, or 400
 *        (InvalidRequestID), 413 (over 6 MB), 403 (InvalidStateTransition)
 *   POST /2018-06-01/runtime/invocation/{id}/error     202 / 400 / 403 / 413
 *   POST /2018-06-01/runtime/init/error                202 / 403
 *
 * As on Lambda, an instance runs one invocation at a time: the node queues it
 * with ows__runtime_api_invoke and gets exactly one result back, whatever
 * happens (success, function error, init error, timeout, instance exit,
 * close). The module does not start or kill processes: the node tells it
 * when the instance exited, and kills the instance after a timeout.
 *
 * Private to src/fn/ (and its unit tests), hence the ows__ names.
 */
#ifndef OWS_FN_RUNTIME_API_H
#define OWS_FN_RUNTIME_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Lambda's limit on an invocation payload and on a response: 6 MB. */
#define OWS_RUNTIME_MAX_PAYLOAD 6291556

struct ows_runtime_api; /* opaque */

enum ows_runtime_result_kind {
	OWS_RUNTIME_OK,		    /* body is the function's response */
	OWS_RUNTIME_FUNCTION_ERROR, /* body is the JSON error it posted */
	OWS_RUNTIME_INIT_ERROR,	    /* the instance failed to initialize */
	OWS_RUNTIME_FAILED,	    /* no answer: see status */
};

/*
 * The outcome of one invocation. Everything is borrowed for the duration of
 * the callback.
 *
 * body is never NULL. For every kind but OK it is a JSON document
 * {"errorMessage": ..., "errorType": ...} (for FUNCTION_ERROR and INIT_ERROR,
 * the one the runtime posted, with its stackTrace), ready to be returned as
 * the Invoke payload with X-Amz-Function-Error: function_error.
 *
 * status is 0 except for FAILED:
 *   -ETIMEDOUT  the deadline passed ("Sandbox.Timedout"); the node must kill
 *               the instance, which is no longer usable
 *   -EPIPE      the instance exited ("Runtime.ExitError")
 *   -EMSGSIZE   the response was over 6 MB ("Function.ResponseSizeTooLarge")
 *   -ECANCELED  the API was closed ("Runtime.Closed")
 */
struct ows_runtime_result {
	enum ows_runtime_result_kind kind;
	int status;
	const char *request_id;
	const char *error_type;	    /* errorType, e.g. "ZeroDivisionError";
				       NULL for OK */
	const char *function_error; /* "Unhandled" unless the runtime said
				       otherwise; NULL for OK */
	const char *body;
	size_t len;
};

typedef void (*ows_runtime_result_cb)(void *ud,
				      const struct ows_runtime_result *res);

/* Instance-level events; each member may be NULL. ud is the one given to
 * ows_runtime_api_new. */
struct ows_runtime_api_cbs {
	/* The runtime asked for its first invocation: init is over. */
	void (*ready_cb)(struct ows_runtime_api *api, void *ud);
	/*
	 * The runtime posted /runtime/init/error (error_type and the JSON
	 * body are borrowed). The instance is unusable from now on; the
	 * bootstrap exits on its own, the node should reap it. Called
	 * before the outstanding invocation, if any, gets its INIT_ERROR.
	 */
	void (*init_error_cb)(struct ows_runtime_api *api, void *ud,
			      const char *error_type, const char *body,
			      size_t len);
	/*
	 * The runtime waits in GET /next with nothing to deliver: it is
	 * between invocations (Lambda freezes the sandbox now).
	 */
	void (*wait_cb)(struct ows_runtime_api *api, void *ud);
};

/* One invocation; every pointer is borrowed (copied by invoke). */
struct ows_runtime_invocation {
	const char *request_id;	      /* required: [A-Za-z0-9-], 1..64 */
	const void *payload;	      /* the event, JSON text */
	size_t len;		      /* at most OWS_RUNTIME_MAX_PAYLOAD */
	int64_t deadline_ms;	      /* Unix time in ms; 0: no timeout */
	const char *function_arn;     /* Lambda-Runtime-Invoked-Function-Arn */
	const char *trace_id;	      /* optional: Lambda-Runtime-Trace-Id */
	const char *client_context;   /* optional, JSON text */
	const char *cognito_identity; /* optional, JSON text */
};

/*
 * Start serving the Runtime API on loop at listen_host_port (normally
 * "127.0.0.1:0": an ephemeral port). cbs (copied) may be NULL. On success
 * *out is the new endpoint, owned by the caller until ows__runtime_api_close
 * has called its callback. Returns 0 or -errno (the bind failing, -ENOMEM);
 * after a failure, memory already taken is released once the loop runs.
 */
int ows_runtime_api_new(uv_loop_t *loop, const char *listen_host_port,
			const struct ows_runtime_api_cbs *cbs, void *ud,
			struct ows_runtime_api **out);

/*
 * The same on fd, a bound TCP socket not yet listening (the node makes it
 * inside the instance's network namespace, so that nothing else can reach
 * it), which the API then owns, also on failure.
 */
int ows__runtime_api_open(uv_loop_t *loop, int fd,
			  const struct ows_runtime_api_cbs *cbs, void *ud,
			  struct ows_runtime_api **out);

/* "127.0.0.1:PORT": the value of AWS_LAMBDA_RUNTIME_API. Borrowed. */
const char *ows__runtime_api_address(const struct ows_runtime_api *api);

/*
 * Queue one invocation: it is handed to the pending GET /next, or to the
 * next one. cb is called exactly once, never from inside this call, with
 * ud. Returns 0, or without calling cb:
 *   -EBUSY      an invocation is already outstanding (one at a time)
 *   -EPIPE      the instance is unusable (init error, timeout, exited)
 *   -ECANCELED  the API is closing
 *   -EMSGSIZE   the payload is over OWS_RUNTIME_MAX_PAYLOAD
 *   -EINVAL     a bad request id, or a header value with CR or LF
 *   -ENOMEM
 * The deadline is also what the runtime sees as Lambda-Runtime-Deadline-Ms.
 */
int ows__runtime_api_invoke(struct ows_runtime_api *api,
			    const struct ows_runtime_invocation *inv,
			    ows_runtime_result_cb cb, void *ud);

/*
 * The node saw the instance's process end (as from uv_spawn's exit_cb).
 * The outstanding invocation, if any, fails at once (from inside this call)
 * with -EPIPE, "Runtime.ExitError"; later invokes return -EPIPE.
 */
void ows__runtime_api_instance_exited(struct ows_runtime_api *api,
				      int64_t exit_status, int term_signal);

/* True once the runtime has asked for an invocation (init succeeded). */
bool ows_runtime_api_ready(const struct ows_runtime_api *api);

/*
 * Close: the outstanding invocation fails at once (from inside this call)
 * with -ECANCELED, a held GET /next is answered 500, the server closes
 * gracefully (requests in flight get their answers), and then cb(ud) runs
 * (ud from ows_runtime_api_new) and api is freed. cb may be NULL. Call at
 * most once.
 */
void ows__runtime_api_close(struct ows_runtime_api *api, void (*cb)(void *ud));

#endif
