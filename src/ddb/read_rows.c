/*
 * What the reads keep between calls and how they fetch one item: the
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

#define STMTS_MAX 32
#define TABLES_MAX 32

struct stmt_slot {
	sqlite3 *db;
	const char *sql;
	sqlite3_stmt *st;
};

static struct stmt_slot stmts[STMTS_MAX];
static size_t stmts_next; /* the slot to reuse when all are taken */

sqlite3_stmt *ows__ddb_stmt(sqlite3 *db, const char *sql)
{
	struct stmt_slot *slot = NULL;
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < STMTS_MAX; i++) {
		if (stmts[i].db == db && stmts[i].sql == sql) {
			sqlite3_reset(stmts[i].st);
			sqlite3_clear_bindings(stmts[i].st);
			return stmts[i].st;
		}
		if (slot == NULL && stmts[i].st == NULL)
			slot = &stmts[i];
	}
	if (slot == NULL) {
		slot = &stmts[stmts_next];
		stmts_next = (stmts_next + 1) % STMTS_MAX;
		sqlite3_finalize(slot->st);
		*slot = (struct stmt_slot){0};
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	*slot = (struct stmt_slot){db, sql, st};
	return st;
}

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

/* ---- one item ---- */

int ows__ddb_read_item(struct ows_state *s, const struct ows_ddb_table *t,
		       const json_t *key, int64_t now_s, json_t **out)
{
	static const char sql[] =
		"SELECT item, expires FROM ddb_items WHERE tid=?1 AND iid=0 "
		"AND h=?2 AND pk=?3 AND sk=?4";
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	sqlite3_stmt *st;
	uint32_t h;
	int rv, step;

	*out = NULL;
	rv = ows__ddb_row_key(t, NULL, key, &h, &pk, &sk);
	if (rv != 1) {
		rv = rv == 0 ? 0 : -EIO;
		goto out;
	}
	st = ows__ddb_stmt(s->db, sql);
	if (st == NULL) {
		rv = -EIO;
		goto out;
	}
	sqlite3_bind_int64(st, 1, t->tid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)h);
	sqlite3_bind_blob(st, 3, pk.data ? pk.data : "", (int)pk.len,
			  SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, sk.data ? sk.data : "", (int)sk.len,
			  SQLITE_STATIC);
	step = sqlite3_step(st);
	rv = 0;
	if (step == SQLITE_ROW) {
		bool expired = sqlite3_column_type(st, 1) != SQLITE_NULL &&
			       now_s != 0 &&
			       sqlite3_column_int64(st, 1) <= now_s;

		if (!expired) {
			*out = ows_ddb_item_decode(sqlite3_column_blob(st, 0),
						   (size_t)sqlite3_column_bytes(
							   st, 0));
			if (*out == NULL)
				rv = -EIO;
		}
	} else if (step != SQLITE_DONE) {
		rv = -EIO;
	}
	sqlite3_reset(st);
out:
	ows_buf_free(&pk);
	ows_buf_free(&sk);
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
