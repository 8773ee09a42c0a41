/*
 * Resource kinds: what each change-set action does to the state. Every
 * resource lives in the generic table resources(kind, name, stack, spec);
 * a kind adds validation and side tables (user_keys, tokens, nodes). Later
 * services (functions, routes, buckets, tables) add their kinds here.
 */
#ifndef OWS_STATE_KINDS_H
#define OWS_STATE_KINDS_H

#include <jansson.h>
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
 * Apply one action ({"action", "name", "spec"}). Returns 0; OWS_EINVAL,
 * OWS_ECONFLICT or OWS_ENOTFOUND with the reason in err (the change set is
 * rejected); or -EIO (the database failed).
 */
int ows_kind_apply(const struct ows_apply_ctx *c, const json_t *action,
		   struct ows_err *err);

/*
 * Insert access key id of user from spec {"sealed", "sender"} (genesis uses
 * it for the root key). OWS_EINVAL, OWS_ECONFLICT (id taken) or -EIO.
 */
int ows_state_access_key_insert(struct ows_state *s, const char *id,
				const char *user, const json_t *spec,
				int64_t time_ms);

#endif
