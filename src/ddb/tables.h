/*
 * What tables.c (the kind "tables") shares with the table operations of
 * table_api.c and table_describe.c: names, the spec's pieces, and the
 * change an "update" entry carries (tables.c's opening comment).
 */
#ifndef OWS_DDB_TABLES_H
#define OWS_DDB_TABLES_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "state/state.h"

/* A table or index name: 3 to 255 of [a-zA-Z0-9_.-]. */
bool ows__ddb_name_valid(const char *name);

/* v is {"read": N, "write": N}, each 1..40000: 0 or OWS_EINVAL (what:
   the message's subject). */
int ows__ddb_provisioned_check(const json_t *v, const char *what,
			       struct ows_err *err);

/*
 * Apply delta (an "update" entry's spec, borrowed) to spec (a copy of
 * the stored one, changed in place): 0, or OWS_EINVAL / OWS_ENOTFOUND
 * with DynamoDB's code and message in err ("ValidationException:
 * TimeToLive is already enabled"). The result is checked by the caller.
 */
int ows__ddb_spec_change(json_t *spec, const json_t *delta,
			 struct ows_err *err);

/* Whether table name holds items (true when the state cannot say). */
bool ows__ddb_table_has_items(struct ows_state *s, const char *name);

#endif
