/*
 * What the reads keep between calls: the
 * statements they run on the state's database, prepared once per text
 * (SQLITE_PREPARE_PERSISTENT) instead of once per call, the tables they
 * read, borrowed from the tables cache (table.c: loaded once per ledger
 * height), and ConsumedCapacity. GetItem is
 * the hot path of the service: a cached table, one cached statement, one
 * row (reads.h).
 *
 * Reads never write the state: the statements are SELECTs on the node's
 * read-only view (host->state), reset as soon as they are stepped to the
 * end so that no read transaction outlives a call.
 */
#include <errno.h>
#include <string.h>

#include "ddb/reads.h"

/* ---- tables ---- */

int ows__ddb_table_cached(struct ows_state *s, const char *name,
			  const struct ows_ddb_table **out)
{
	struct ows_ddb_table *t;
	int rv;

	/* the reads of this turn of the loop share one read transaction */
	ows_state_read_hold(s);
	rv = ows__ddb_table_get(s, name, &t);
	*out = t;
	/* the cache holds another reference until its next call */
	ows__ddb_table_free(t);
	return rv;
}

/* ---- ConsumedCapacity ---- */

json_t *ows__ddb_capacity_json(enum ows__ddb_capacity cap,
			       const struct ows_ddb_table *t,
			       const struct ows_ddb_index *ix, double units)
{
	json_t *o, *idx;

	if (cap == OWS__DDB_CAP_NONE)
		return NULL;
	o = json_pack("{s:s, s:f}", "TableName", t->name, "CapacityUnits",
		      units);
	if (o == NULL || cap != OWS__DDB_CAP_INDEXES)
		return o;
	json_object_set_new(o, "Table", json_pack("{s:f}", "CapacityUnits",
						  ix ? 0.0 : units));
	if (ix != NULL) {
		idx = json_pack("{s:{s:f}}", ix->name, "CapacityUnits", units);
		json_object_set_new(o, ix->local ? "LocalSecondaryIndexes"
				    : "GlobalSecondaryIndexes", idx);
	}
	return o;
}
