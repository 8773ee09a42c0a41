/*
 * The seam between the daemon and each AWS-compatible service (DESIGN.md,
 * "Services plug into one seam").
 *
 * A service (src/lambda/, src/sts/, later src/s3/, src/ddb/) is a folder
 * that never includes a daemon/ header. It describes itself with a
 * struct ows_aws_service; the daemon (daemon/edge.c) routes each request
 * on the edge port to one service, authenticates it with SigV4
 * (aws/call.h) before any body byte is buffered, and hands the service a
 * struct ows_aws_call that points at the host: everything the service may
 * use of the node (daemon/host.c implements it; tests/unit/fake_host.c
 * implements a small one for unit tests).
 *
 * Resource kinds that a service adds to the state machine (state/kinds.h,
 * struct ows_kind) are listed in its table, so that the state's schema and
 * apply, change-set validation, ARNs and the CLI's plan/apply learn them
 * from the tables (aws/registry.c) instead of from lists.
 */
#ifndef OWS_AWS_SERVICE_H
#define OWS_AWS_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "fn/pool.h"

struct ows_aws_call;
struct ows_aws_host;
struct ows_blob_store;
struct ows_err;
struct ows_http_req;
struct ows_kind;
struct ows_state;

/* The wire protocol of a service: every reply and error takes its shape. */
enum ows_aws_protocol {
	OWS_AWS_QUERY_XML, /* STS, IAM: <ErrorResponse><Error>...      */
	OWS_AWS_REST_JSON, /* Lambda: X-Amzn-ErrorType, {"message"}     */
	OWS_AWS_JSON_1_0,  /* DynamoDB: {"__type": "...#Code", ...}     */
	OWS_AWS_REST_XML,  /* S3: <Error><Code/><Message/>...</Error>   */
};

/*
 * A service's own Raft entries (struct ows_aws_service, entries): changes
 * that come at a rate the ledger must not record one by one (DynamoDB's
 * item writes). They are Raft entries {"type": NAME, "time": ms, "body"}
 * like every other, applied in order on every node, but not ledger
 * entries: no height, no attestation. The proposing node authenticated
 * and authorised the caller before proposing (host->propose_entry); only
 * nodes of the cluster reach the Raft log.
 */
struct ows_aws_entry_ctx {
	struct ows_state *state; /* writable: inside the entry's transaction */
	uint64_t index;          /* the entry's Raft index */
	int64_t time_ms;         /* the entry's time, stamped by the leader */
};

struct ows_aws_entry_type {
	const char *name; /* the Raft entry's type: "ddb" */
	/*
	 * Apply body (borrowed) inside the entry's transaction: deterministic
	 * (no clock but c->time_ms, no randomness), adding to result (the
	 * result object handed to the proposer: {"ok": true, ...}) what the
	 * proposer must learn. 0; OWS_EINVAL with the reason in err (a
	 * malformed body: the entry changes nothing and is refused 400
	 * MalformedEntry); or -EIO (the database failed: the node stops
	 * applying until it can).
	 */
	int (*apply)(const struct ows_aws_entry_ctx *c, const json_t *body,
		     json_t *result, struct ows_err *err);
};

/* How a request's body reaches handle(). */
enum ows_aws_body_mode {
	OWS_AWS_BODY_WHOLE,  /* read whole (up to body_limit), signature
				checked over it, then handle() */
	OWS_AWS_BODY_STREAM, /* handle() after the header check; the service
				reads with ows_aws_call_stream (aws/call.h) */
};

/*
 * A body limit for one request (body_limit_for): past limit bytes the
 * request is answered 413 with code in the service's protocol ("Request
 * must be smaller than LIMIT bytes for the OPERATION operation"), or with
 * the HTTP server's plain 413 when code is NULL.
 */
struct ows_aws_body_limit {
	size_t limit;
	const char *code;      /* "RequestEntityTooLargeException", or NULL */
	const char *operation; /* "CreateFunction", or NULL */
};

/*
 * At most this many requests at once read a body larger than their
 * service's body_limit (raised by body_limit_for); more answer 429
 * TooManyRequestsException before any body byte. Bounds the memory that
 * holders of access keys can make the node hold.
 */
#define OWS_AWS_LARGE_BODIES 2

struct ows_aws_service {
	const char *name;          /* SigV4 scope's service: "lambda" */
	const char *target_prefix; /* X-Amz-Target prefix, or NULL */
	const char *path_prefix;   /* routes unsigned or ambiguous requests
				      by path ("/2015-03-31/"), or NULL */
	enum ows_aws_protocol protocol;
	enum ows_aws_body_mode body_mode;
	size_t body_limit;         /* WHOLE: larger bodies get 413 */
	/*
	 * WHOLE: the limit of one request (after its header check, before
	 * any body byte), preset to {body_limit, NULL, NULL}; NULL: always
	 * body_limit. A raised limit counts against OWS_AWS_LARGE_BODIES.
	 */
	void (*body_limit_for)(const struct ows_http_req *req,
			       struct ows_aws_body_limit *out);
	/*
	 * Answer the call exactly once (any ows_aws_reply* of aws/call.h),
	 * now or later from the loop. The call is the service's until then.
	 */
	void (*handle)(struct ows_aws_call *c);
	/* Release what the service keeps between calls (may be NULL). */
	void (*close)(void);
	/* Resource kinds the service adds; NULL-terminated, or NULL. */
	const struct ows_kind *const *kinds;
	/*
	 * Requests without any credentials (no Authorization header, no
	 * X-Amz-Credential) reach handle() with caller.kind "" (anonymous)
	 * instead of being refused; the service allows them only what a
	 * resource policy grants to "Principal": "*" (S3's bucket policies)
	 * and answers CORS preflights. false: they are refused as before.
	 */
	bool anonymous;
	/*
	 * SQL naming the blobs the service's state refers to: one statement
	 * with one parameter ?1, a blob's SHA-256 hex, that returns a row
	 * when something names it ("SELECT 1 FROM s3_object_blobs WHERE
	 * blob=?1 UNION ALL ..."). The blob store's collection keeps every
	 * named blob and the repair keeps its copies. NULL: none.
	 */
	const char *blob_refs;
	/*
	 * SQL listing every blob the service's state names: one statement
	 * without parameters whose rows have one column named blob ("SELECT
	 * blob FROM s3_object_blobs UNION SELECT blob FROM s3_parts"). The
	 * repair walks it in order, a batch at a time (daemon/blob_repair.c).
	 * NULL: none.
	 */
	const char *blob_list;
	/* Raft entry types the service adds; NULL-terminated, or NULL. */
	const struct ows_aws_entry_type *const *entries;
	/*
	 * Called about once a second on the node that leads (NULL: never),
	 * for background work that goes through the log (DynamoDB's TTL
	 * deletes): it may read h->state and propose with h->propose_entry.
	 */
	void (*leader_tick)(const struct ows_aws_host *h);
};

/* ---- the host ---- */

/*
 * The caller of a call, as its credentials name it: kind "users",
 * "roles" or "functions", and its name. user is the access key's user
 * ("" for a role's or a function's session).
 */
struct ows_aws_caller {
	char kind[16];
	char name[256];
	char user[256];
	char access_key[129];
	bool session; /* session credentials (auth/session.h) */
};

/*
 * Result of propose(): status 0 and the entry's result object (borrowed
 * for the call: {"ok": true, "height": N, ...} as state/state.h shows it,
 * with whatever the kinds' apply added), or status 0 and a refusal
 * {"ok": false, "status": S, "code": C, "message": M}, or status < 0 when
 * the entry could not be committed (-ETIMEDOUT, OWS_ENOTLEADER: no leader
 * known, -EIO) and result NULL.
 */
typedef void (*ows_aws_proposed_cb)(void *ud, int status, const json_t *result);
/* read_barrier(): 0 once the state has every entry committed before it. */
typedef void (*ows_aws_barrier_cb)(void *ud, int status);
/* blob_put(): 0 and the blob's SHA-256 hex once durable on enough nodes. */
typedef void (*ows_aws_blob_cb)(void *ud, int status, const char *sha256);
/* blob_replicate(), blob_fetch(): 0, or < 0. */
typedef void (*ows_aws_done_cb)(void *ud, int status);

/* One invocation of a function version (resolved by the service). */
struct ows_aws_invoke {
	const char *function;       /* name */
	const char *version;        /* "$LATEST" or "N" (function_versions) */
	const char *request_id;
	const void *payload;        /* borrowed; copied by invoke */
	size_t len;
	const char *client_context; /* base64 JSON, or NULL */
	bool event;                 /* asynchronous ("Event") */
};

/*
 * What a service may use of the node. Every function pointer is set.
 * Functions that take a callback follow libuv's rule: on a negative
 * return the callback is never called; on 0 it is called once, later.
 */
struct ows_aws_host {
	void *ud;                       /* the implementation's */
	uv_loop_t *loop;
	struct ows_state *state;        /* read only: never written here */
	const char *region;             /* the node's region */
	const char *account;            /* the cluster's 12-digit account */
	const uint8_t *session_key;     /* 32 bytes, auth/session.h */
	/* The node's S3 domain (`owsd init --s3-domain`): virtual-host
	   style requests name BUCKET.DOMAIN. "" or NULL: "s3.localhost". */
	const char *s3_domain;

	/*
	 * Judge action on the resources named by arns (NULL-terminated; a
	 * resource may be named in both partitions, "arn:ows:..." and
	 * "arn:aws:..."), for c's caller, with the live condition context
	 * of c (source address, secure transport, region, time) plus extra
	 * keys (an object of "key": value, borrowed; may be NULL).
	 * Policies are parsed once per ledger height. 0 when allowed,
	 * OWS_EDENIED when not.
	 */
	int (*authorize)(struct ows_aws_call *c, const char *action,
			 const char *const *arns, const json_t *extra);
	/*
	 * The same, judged together with the resource's own policy
	 * (resource_policy: an IAM policy document with Principal, borrowed;
	 * NULL: as authorize), as IAM judges a call within one account:
	 * allowed when the caller's identity policies or the resource
	 * policy allow it and no explicit Deny in either applies
	 * (ledger/authz.h, ows_principal_authorize_rp, says which
	 * principals a statement names). The policy is recorded with the
	 * judgement, so that an attested entry is judged again with it.
	 */
	int (*authorize_resource)(struct ows_aws_call *c, const char *action,
				  const char *const *arns,
				  const json_t *extra,
				  const json_t *resource_policy);
	/*
	 * Append an entry attested by this node for c's caller: actions is
	 * a change-set action list [{"action", "name", "spec"}] (borrowed),
	 * applied all or nothing; stack is the stack the resources belong to
	 * ("" for none). On a follower the entry is forwarded to the leader.
	 */
	int (*propose)(struct ows_aws_call *c, const json_t *actions,
		       const char *stack, ows_aws_proposed_cb cb, void *ud);
	/*
	 * Propose a Raft entry of a service's own type (one of its entries,
	 * named by type) with body (borrowed); the leader stamps its time.
	 * cb gets the apply's result object ({"ok": true, ...what the entry
	 * type's apply added}), a refusal {"ok": false, "status", "code",
	 * "message"} (a malformed body), or status < 0 as propose's. From a
	 * follower the entry is forwarded to the leader. Concurrent
	 * proposals share Raft appends, fsyncs and SQLite transactions; none
	 * is answered before a majority has it on disk and it is applied
	 * here. The caller has authorised what the entry does.
	 */
	int (*propose_entry)(const struct ows_aws_host *h, const char *type,
			     const json_t *body, ows_aws_proposed_cb cb,
			     void *ud);
	/* Raft ReadIndex: cb once this node has applied the commit index. */
	int (*read_barrier)(struct ows_aws_call *c, ows_aws_barrier_cb cb,
			    void *ud);
	/*
	 * Store data (borrowed) as a blob: cb with its SHA-256 once it is
	 * durable on the cluster's replica count of nodes.
	 */
	int (*blob_put)(struct ows_aws_call *c, const void *data, size_t len,
			ows_aws_blob_cb cb, void *ud);
	/* The local path of blob sha256 into out: 0, or -ENOENT. */
	int (*blob_path)(const struct ows_aws_host *h, const char *sha256,
			 char *out, size_t cap);
	/*
	 * The node's blob store (blob/blob.h), for a service that streams a
	 * body into a blob itself (ows_blob_writer on the thread pool).
	 */
	const struct ows_blob_store *blobs;
	/*
	 * Make the local blob sha256 durable on the cluster's `replicas`
	 * nodes (default min(3, voters)), this one included: cb(ud, 0) once
	 * it is, before the entry naming it is proposed. -ENOENT when the
	 * blob is not here (cb not called).
	 */
	int (*blob_replicate)(struct ows_aws_call *c, const char *sha256,
			      ows_aws_done_cb cb, void *ud);
	/*
	 * Fetch blob sha256 from a peer that holds it into the local store
	 * (a GET on a node that lacks the copy): cb(ud, 0) once it is here,
	 * -ENOENT when no peer has it.
	 */
	int (*blob_fetch)(struct ows_aws_call *c, const char *sha256,
			  ows_aws_done_cb cb, void *ud);
	/*
	 * Invoke a function version. -ENOENT when it does not exist
	 * (cb not called); otherwise cb once, later.
	 */
	int (*invoke)(const struct ows_aws_host *h,
		      const struct ows_aws_invoke *inv, ows_fn_result_cb cb,
		      void *ud);
};

#endif
