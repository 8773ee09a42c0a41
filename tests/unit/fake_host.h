/*
 * A small host (aws/service.h) for services' unit tests: a real SQLite
 * state in a temporary directory, whose propose() applies the actions at
 * once through the kinds (state/kinds.h and the services' tables) in one
 * transaction, as the state machine applies an attested entry, and whose
 * propose_entry() applies a service's own entry the same way (its type's
 * apply, found in aws/registry.h, in one transaction); authorize()
 * allows everything except the actions named in deny; blobs are files in
 * the directory. Every callback comes later, from the loop. A real HTTP
 * server on loopback turns each request into a call (the caller "users"
 * "alice" with a long-term key, unless fake_host_caller() says otherwise
 * for the next request) and hands it to a service's handler, so that
 * replies go the way they go in owsd.
 */
#ifndef OWS_TESTS_FAKE_HOST_H
#define OWS_TESTS_FAKE_HOST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/session.h"
#include "aws/call.h"
#include "aws/service.h"
#include "http/http.h"
#include "state/state.h"

struct fake_host {
	struct ows_aws_host host;
	struct ows_state state;
	uv_loop_t loop;
	struct ows_http_server server;
	char dir[256];
	char deny[512];         /* actions refused: "lambda:A lambda:B" */
	int64_t now_ms;         /* entries' time: +1000 per proposal */
	unsigned proposals;     /* entries applied (accepted or not) */
	json_t *last_actions;   /* the last proposal's actions */
	json_t *last_entry;     /* the last propose_entry's {"type", "body"} */
	uint64_t entry_index;   /* the last propose_entry's index (1, 2, ...) */
	json_t *last_authorized; /* [{"action", "arns"}] of the last call */
	const struct ows_aws_service *svc;
	void (*handle)(struct ows_aws_call *c);
	/* the next request's caller and session (fake_host_caller) */
	bool next_set;
	struct ows_aws_caller next_caller;
	struct ows_session next_session;
};

/*
 * Set up (state, server on 127.0.0.1:0) for service svc (its kinds are
 * the registry's); handle replaces svc->handle when not NULL.
 */
void fake_host_init(struct fake_host *fh, const struct ows_aws_service *svc,
		    void (*handle)(struct ows_aws_call *c));
void fake_host_close(struct fake_host *fh);

/*
 * The caller of the next request only; the requests after it are
 * "users" "alice" again. kind is "users", "roles" or "functions"; name the
 * user, role or function; user the user for "users" (aws/auth.c leaves it
 * "" for role and function sessions); access_key the key id it signed
 * with. session_name NULL means a long-term key; otherwise the call
 * carries session credentials (caller.session true) and
 * ows_aws_call_session() gives a session of that kind and name with this
 * session name (a role's RoleSessionName, a function's name, "" for a
 * user's GetSessionToken session).
 */
void fake_host_caller(struct fake_host *fh, const char *kind,
		      const char *name, const char *user,
		      const char *access_key, const char *session_name);

/* Put a core resource straight into the state (test setup). */
void fake_host_put(struct fake_host *fh, const char *action, const char *name,
		   const char *spec_json);

struct fake_reply {
	int status;
	char error_type[128];  /* X-Amzn-ErrorType */
	json_t *body;          /* parsed, or NULL */
	char *raw;
};

/* One request over loopback, the loop run until its answer. */
void fake_host_request(struct fake_host *fh, const char *method,
		       const char *target, const char *body,
		       struct fake_reply *out);
void fake_reply_free(struct fake_reply *r);

#endif
