/*
 * Resource kinds: what each change-set action does to the state. Every
 * resource lives in the generic table resources(kind, name, stack, spec);
 * a kind adds validation and side tables (user_keys, tokens, nodes). Later
 * services (functions, routes, buckets, tables) add their kinds here.
 */
#ifndef OWS_STATE_KINDS_H
#define OWS_STATE_KINDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "state/state.h"

struct ows_apply_ctx {
	struct ows_state *s;
	const char *stack;   /* "" when the change set names none */
	int64_t time_ms;     /* the entry's time, from the leader */
	uint64_t height;     /* the height this change set will get */
};

/*
 * A resource kind: what its actions ("KIND.VERB") do to the state. The
 * core kinds (users, policies, roles, access_keys, nodes, routes) are
 * defined in state/; a service lists the kinds it adds in its table
 * (aws/service.h: lambda's functions, function_versions, aliases, ...),
 * and aws/registry.c gathers them all for the state machine, change-set
 * validation, ARNs and the CLI's plan/apply.
 *
 * Every resource lives in the generic table resources(kind, name, stack,
 * spec); a kind may add side tables (schema).
 */
struct ows_kind {
	const char *name;        /* "functions": action prefix and the
				    stack-file section */
	const char *arn_service; /* ARN form arn:ows:SERVICE::TYPE/NAME */
	const char *arn_type;
	unsigned rank;           /* plans create lower ranks first and
				    delete them last (dependencies) */
	bool in_stacks;          /* stack files may hold it */
	const char *schema;      /* SQL run when the state opens, or NULL */
	/*
	 * After schema, when the state opens and after a snapshot is
	 * installed (it may come from an older build): bring side tables
	 * of an older layout to this build's, in one transaction. 0 or
	 * -EIO. NULL: nothing to bring.
	 */
	int (*upgrade)(sqlite3 *db);
	/*
	 * Check spec for name without the state (ows apply runs it too):
	 * 0 or OWS_EINVAL with the reason in err. NULL: any object.
	 */
	int (*check)(const char *name, const json_t *spec,
		     struct ows_err *err);
	/*
	 * Apply verb ("put", "delete", or the kind's own) inside the
	 * entry's transaction. May add members to result (the entry's
	 * result object, e.g. a version number it assigned). Returns 0;
	 * OWS_EINVAL (400 InvalidAction), OWS_ECONFLICT (409 Conflict),
	 * OWS_ENOTFOUND (404 NotFound) or OWS_EPRECOND (412
	 * PreconditionFailed) with the reason in err (the whole entry is
	 * rejected with that status and code); or -EIO. NULL: put and delete of
	 * the generic row (ows_kind_put / ows_kind_delete).
	 */
	int (*apply)(const struct ows_apply_ctx *c, const char *verb,
		     const char *name, const json_t *spec, json_t *result,
		     struct ows_err *err);
};

/* The kind named name (core or a service's), or NULL. */
const struct ows_kind *ows_kind_find(const char *name);

/*
 * Call fn for every kind, the core kinds first, then each service's in
 * the order of aws/registry.c; stops at the first nonzero return of fn
 * and returns it (0 when every call returned 0).
 */
int ows_kind_each(int (*fn)(const struct ows_kind *k, void *ud), void *ud);

/*
 * The generic row: put (insert or replace, owned by c->stack; a row
 * owned by another stack is OWS_ECONFLICT) and delete (OWS_ENOTFOUND when
 * absent, OWS_ECONFLICT when owned by another stack).
 */
int ows_kind_put(const struct ows_apply_ctx *c, const char *kind,
		 const char *name, const json_t *spec, struct ows_err *err);
int ows_kind_delete(const struct ows_apply_ctx *c, const char *kind,
		    const char *name, struct ows_err *err);

/*
 * Replace the spec of the existing row kind/name, keeping its stack (a
 * change made through a service's API to a resource a stack may own:
 * a bucket's policy, a table's indexes). 0, -ENOMEM or -EIO.
 */
int ows_kind_spec_write(const struct ows_apply_ctx *c, const char *kind,
			const char *name, const json_t *spec);

/* ---- module-private: src/state/ only (and its unit tests) ---- */

/*
 * Apply one action ({"action", "name", "spec"}): the kind's check for a
 * "put", then its apply (or the generic row). result is the entry's
 * result object, for the kind's apply to add to. Returns 0; OWS_EINVAL
 * (also for an unknown kind or verb), OWS_ECONFLICT or OWS_ENOTFOUND with
 * the reason in err (the entry is rejected); or -EIO (the database
 * failed).
 */
int ows__kind_apply(const struct ows_apply_ctx *c, const json_t *action,
		    json_t *result, struct ows_err *err);

/*
 * Insert access key id of user from spec {"sealed", "sender"} (genesis uses
 * it for the root key). OWS_EINVAL, OWS_ECONFLICT (id taken) or -EIO.
 */
int ows__state_access_key_insert(struct ows_state *s, const char *id,
				 const char *user, const json_t *spec,
				 int64_t time_ms);

#endif
