/*
 * What the reads keep between calls: the
 * statements they run on the state's database, prepared once per text
 * (SQLITE_PREPARE_PERSISTENT) instead of once per call, the tables they
 * read, loaded once per ledger height, and ConsumedCapacity. GetItem is
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

#define TABLES_MAX 32

/* ---- tables ---- */

static struct {
	sqlite3 *db;
	uint64_t height;
	size_t n;
	struct ows_ddb_table *t[TABLES_MAX];
} tables;

static void tables_clear(void)
{
	for (size_t i = 0; i < tables.n; i++)
		ows__ddb_table_free(tables.t[i]);
	tables.n = 0;
}

int ows__ddb_table_cached(struct ows_state *s, const char *name,
			  const struct ows_ddb_table **out)
{
	struct ows_ddb_table *t = NULL;
	int rv;

	*out = NULL;
	if (tables.db != s->db || tables.height != s->height) {
		tables_clear();
		tables.db = s->db;
		tables.height = s->height;
	}
	for (size_t i = 0; i < tables.n; i++) {
		if (strcmp(tables.t[i]->name, name) == 0) {
			*out = tables.t[i];
			return 0;
		}
	}
	rv = ows__ddb_table_load(s, name, &t);
	if (rv != 0)
		return rv;
	/* Only one table is borrowed at a time: start again when full. */
	if (tables.n == TABLES_MAX)
		tables_clear();
	tables.t[tables.n++] = t;
	*out = t;
	return 0;
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
