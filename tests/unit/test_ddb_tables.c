/*
 * Unit tests: the kind "tables" (ddb/tables.c): its check of the spec
 * (names, keys, local and global index rules, projections, throughput),
 * and its apply on a real state: ids that two tables of one entry never
 * share, a global index added to a table with items filled from them,
 * TTL expiry recomputed, an index removed with its rows, and a stack's
 * delete refused while items remain unless "force_delete" is set.
 */
#include "../lib/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/ddb_priv.h"
#include "state/kinds.h"

static int check_spec(const char *name, const char *spec_json)
{
	json_t *spec = json_loads(spec_json, 0, NULL);
	struct ows_err err = {{0}};
	int rv;

	OWS_CHECK(spec != NULL);
	rv = ows__ddb_tables_kind.check(name, spec, &err);
	json_decref(spec);
	return rv;
}

OWS_TEST(ddb_tables_check_specs)
{
	char many[4096];
	size_t n;

	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\"}"), 0);
	OWS_CHECK_INT(check_spec("a.b-c_1", "{\"partition_key\": \"id:S\", "
				 "\"sort_key\": \"ts:N\", \"indexes\": {"
				 "\"by-email\": {\"partition_key\": \"email:S\", "
				 "\"projection\": \"ALL\"}, \"lsi\": {"
				 "\"partition_key\": \"id:S\", \"sort_key\": "
				 "\"n:B\", \"projection\": [\"x\"], \"local\": "
				 "true}}, \"ttl_attribute\": \"exp\", "
				 "\"billing_mode\": \"PROVISIONED\", "
				 "\"provisioned\": {\"read\": 5, \"write\": 5}, "
				 "\"tags\": {\"k\": \"v\"}, \"force_delete\": "
				 "true}"), 0);
	/* names */
	OWS_CHECK_INT(check_spec("ab", "{\"partition_key\": \"id:S\"}"),
		      OWS_EINVAL);
	OWS_CHECK_INT(check_spec("a b", "{\"partition_key\": \"id:S\"}"),
		      OWS_EINVAL);
	/* keys */
	OWS_CHECK_INT(check_spec("users", "{}"), OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:BOOL\"}"),
		      OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id\"}"),
		      OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"sort_key\": \"id:N\"}"), OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"colour\": 1}"), OWS_EINVAL);
	/* an LSI: the table's partition key, a sort key, a table with one */
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"indexes\": {\"lsi\": {\"partition_key\": "
				 "\"id:S\", \"sort_key\": \"x:S\", \"local\": "
				 "true}}}"), OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"sort_key\": \"ts:N\", \"indexes\": {\"lsi\": "
				 "{\"partition_key\": \"other:S\", \"sort_key\": "
				 "\"x:S\", \"local\": true}}}"), OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"sort_key\": \"ts:N\", \"indexes\": {\"lsi\": "
				 "{\"partition_key\": \"id:S\", \"local\": "
				 "true}}}"), OWS_EINVAL);
	/* one attribute, one type */
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"indexes\": {\"g\": {\"partition_key\": "
				 "\"id:N\"}}}"), OWS_EINVAL);
	/* projections and throughput */
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"indexes\": {\"g\": {\"partition_key\": "
				 "\"e:S\", \"projection\": \"SOME\"}}}"),
		      OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"indexes\": {\"g\": {\"partition_key\": "
				 "\"e:S\", \"projection\": []}}}"), OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"provisioned\": {\"read\": 0, \"write\": 1}}"),
		      OWS_EINVAL);
	OWS_CHECK_INT(check_spec("users", "{\"partition_key\": \"id:S\", "
				 "\"billing_mode\": \"PROVISIONED\"}"),
		      OWS_EINVAL);
	/* 20 global indexes are allowed, 21 are not */
	for (int k = 20; k <= 21; k++) {
		n = (size_t)snprintf(many, sizeof(many), "{\"partition_key\": "
				     "\"id:S\", \"indexes\": {");
		for (int i = 0; i < k; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
					      "%s\"gsi%02d\": {\"partition_key\":"
					      " \"a%02d:S\"}", i ? ", " : "", i,
					      i);
		snprintf(many + n, sizeof(many) - n, "}}");
		OWS_CHECK_INT(check_spec("users", many),
			      k == 20 ? 0 : OWS_EINVAL);
	}
}

/* ---- apply on a real state ---- */

struct fx {
	struct ows_state s;
	char dir[64];
	uint64_t height;
};

static void fx_open(struct fx *f)
{
	struct ows_err err = {{0}};
	char path[128];

	strcpy(f->dir, "/tmp/ows-ddbt-XXXXXX");
	OWS_CHECK(mkdtemp(f->dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", f->dir);
	OWS_CHECK_INT(ows_state_open(&f->s, path, &err), 0);
	f->height = 10;
}

/* Apply actions (JSON) as one entry of stack; the status. */
static int fx_apply(struct fx *f, const char *stack, const char *actions)
{
	struct ows_apply_ctx c = {&f->s, stack, 1700000000000, ++f->height};
	json_t *a = json_loads(actions, 0, NULL), *v;
	json_t *result = json_object();
	struct ows_err err = {{0}};
	size_t i;
	int rv = 0;

	OWS_CHECK(a != NULL);
	OWS_CHECK_INT(ows__state_exec(&f->s, "BEGIN IMMEDIATE"), 0);
	json_array_foreach(a, i, v)
		if ((rv = ows__kind_apply(&c, v, result, &err)) != 0)
			break;
	OWS_CHECK_INT(ows__state_exec(&f->s, rv ? "ROLLBACK" : "COMMIT"), 0);
	json_decref(a);
	json_decref(result);
	return rv;
}

static int64_t count(struct fx *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	OWS_CHECK_INT(ows_state_prepare(&f->s, sql, &st), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A new state with the table "users" (id:S) and its GSI by-email, with
   TTL on attribute exp when ttl. */
static void users_by_email(struct fx *f, bool ttl)
{
	fx_open(f);
	OWS_CHECK_INT(fx_apply(f, "app", ttl
		? "[{\"action\": \"tables.put\", \"name\": \"users\", "
		  "\"spec\": {\"partition_key\": \"id:S\", \"indexes\": {"
		  "\"by-email\": {\"partition_key\": \"email:S\"}}, "
		  "\"ttl_attribute\": \"exp\"}}]"
		: "[{\"action\": \"tables.put\", \"name\": \"users\", "
		  "\"spec\": {\"partition_key\": \"id:S\", \"indexes\": {"
		  "\"by-email\": {\"partition_key\": \"email:S\"}}}}]"),
		      0);
}

/* Rows of ddb_items whose item is missing, items of no row (ddb_model.h). */
#define ROWS_WITHOUT_ITEM "SELECT COUNT(*) FROM ddb_items WHERE rid NOT IN " \
	"(SELECT rid FROM ddb_data)"
#define ITEMS_WITHOUT_ROW "SELECT COUNT(*) FROM ddb_data WHERE rid NOT IN " \
	"(SELECT rid FROM ddb_items)"

static void put_item(struct fx *f, const char *table, const char *item_json)
{
	struct ows_ddb_table *t = NULL;
	json_t *item = json_loads(item_json, 0, NULL);

	OWS_CHECK_INT(ows__ddb_table_load(&f->s, table, &t), 0);
	OWS_CHECK_INT(ows__state_exec(&f->s, "BEGIN IMMEDIATE"), 0);
	OWS_CHECK_INT(ows__ddb_item_store(&f->s, t, NULL, item), 0);
	OWS_CHECK_INT(ows__state_exec(&f->s, "COMMIT"), 0);
	ows__ddb_table_free(t);
	json_decref(item);
}

OWS_TEST(ddb_tables_apply_ids_backfill_ttl_force_delete)
{
	struct fx f;

	fx_open(&f);
	/* two tables in one entry: two ids */
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.put\", "
			       "\"name\": \"users\", \"spec\": {"
			       "\"partition_key\": \"id:S\"}}, {\"action\": "
			       "\"tables.put\", \"name\": \"other\", \"spec\": "
			       "{\"partition_key\": \"k:N\"}}]"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(DISTINCT tid) FROM ddb_tables"),
		      2);
	/* CreateTable of a name that exists */
	OWS_CHECK_INT(fx_apply(&f, "", "[{\"action\": \"tables.create\", "
			       "\"name\": \"users\", \"spec\": {"
			       "\"partition_key\": \"id:S\"}}]"), OWS_ECONFLICT);
	put_item(&f, "users", "{\"id\": {\"S\": \"a\"}, \"email\": {\"S\": "
		 "\"a@x\"}, \"exp\": {\"N\": \"1800000000\"}}");
	put_item(&f, "users", "{\"id\": {\"S\": \"b\"}}");
	OWS_CHECK_INT(count(&f, "SELECT items FROM ddb_tables WHERE "
			    "name='users'"), 2);
	/* a GSI added: filled from the items that have its key */
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.put\", "
			       "\"name\": \"users\", \"spec\": {"
			       "\"partition_key\": \"id:S\", \"indexes\": {"
			       "\"by-email\": {\"partition_key\": \"email:S\"}},"
			       " \"ttl_attribute\": \"exp\"}}]"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items i JOIN "
			    "ddb_indexes x ON x.tid=i.tid AND x.iid=i.iid "
			    "WHERE x.name='by-email'"), 1);
	OWS_CHECK_INT(count(&f, "SELECT iid FROM ddb_indexes WHERE "
			    "name='by-email'") >= 1000, 1);
	/* TTL on: the item with a number there expires */
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE "
			    "iid=0 AND expires=1800000000"), 1);
	/* the key schema never changes */
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.put\", "
			       "\"name\": \"users\", \"spec\": {"
			       "\"partition_key\": \"id:N\"}}]"), OWS_EINVAL);
	/* the GSI removed, TTL off: its rows go, expiry is cleared */
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.put\", "
			       "\"name\": \"users\", \"spec\": {"
			       "\"partition_key\": \"id:S\"}}]"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE "
			    "iid<>0"), 0);
	/* and their items with them: one item per row, always */
	OWS_CHECK_INT(count(&f, ROWS_WITHOUT_ITEM), 0);
	OWS_CHECK_INT(count(&f, ITEMS_WITHOUT_ROW), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE "
			    "expires IS NOT NULL"), 0);
	/* API updates: TTL twice is DynamoDB's error */
	OWS_CHECK_INT(fx_apply(&f, "", "[{\"action\": \"tables.update\", "
			       "\"name\": \"users\", \"spec\": {\"ttl\": {"
			       "\"enabled\": true, \"attribute\": \"exp\"}}}]"),
		      0);
	OWS_CHECK_INT(fx_apply(&f, "", "[{\"action\": \"tables.update\", "
			       "\"name\": \"users\", \"spec\": {\"ttl\": {"
			       "\"enabled\": true, \"attribute\": \"exp\"}}}]"),
		      OWS_EINVAL);
	OWS_CHECK_INT(fx_apply(&f, "", "[{\"action\": \"tables.update\", "
			       "\"name\": \"ghost\", \"spec\": {}}]"),
		      OWS_ENOTFOUND);
	/* a stack's delete with items: refused, then forced */
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.delete\", "
			       "\"name\": \"users\"}]"), OWS_ECONFLICT);
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.delete\", "
			       "\"name\": \"other\"}]"), 0);
	/* DeleteTable of a stack's table: the stack's to delete */
	OWS_CHECK_INT(fx_apply(&f, "", "[{\"action\": \"tables.drop\", "
			       "\"name\": \"users\"}]"), OWS_ECONFLICT);
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.put\", "
			       "\"name\": \"users\", \"spec\": {"
			       "\"partition_key\": \"id:S\", \"force_delete\": "
			       "true}}]"), 0);
	OWS_CHECK_INT(fx_apply(&f, "app", "[{\"action\": \"tables.delete\", "
			       "\"name\": \"users\"}]"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_tables"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_indexes"), 0);
	ows_state_close(&f.s);
}

/* Item key's item in table as compact JSON ("" when none); free it. */
static char *get_json(struct fx *f, const char *table, const char *key_json)
{
	struct ows_ddb_table *t = NULL;
	json_t *key = json_loads(key_json, 0, NULL), *item = NULL;
	char *out;

	OWS_CHECK_INT(ows__ddb_table_load(&f->s, table, &t), 0);
	OWS_CHECK_INT(ows__ddb_item_get(&f->s, t, key, 0, &item), 0);
	out = item ? json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS)
		   : strdup("");
	json_decref(item);
	json_decref(key);
	ows__ddb_table_free(t);
	return out;
}

static const char *const layout_keys[] = {
	"{\"id\": {\"S\": \"a\"}}", "{\"id\": {\"S\": \"b\"}}",
	"{\"id\": {\"S\": \"c\"}}",
};

/* Every item of layout_keys reads as want[i]. */
static void same_items(struct fx *f, char *const want[3])
{
	for (size_t i = 0; i < 3; i++) {
		char *got = get_json(f, "users", layout_keys[i]);

		OWS_CHECK_STR(got, want[i]);
		free(got);
	}
}

/* The database of f in the layout before ddb_data: items in ddb_items. */
static void to_older_layout(struct fx *f)
{
	OWS_CHECK_INT(ows__state_exec(&f->s,
		"BEGIN;"
		"CREATE TABLE ddb_items_v1(tid INTEGER NOT NULL, iid INTEGER "
		"NOT NULL, h INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT "
		"NULL, item BLOB NOT NULL, expires INTEGER, PRIMARY KEY(tid, "
		"iid, h, pk, sk)) WITHOUT ROWID;"
		"INSERT INTO ddb_items_v1 SELECT tid, iid, h, pk, sk, item, "
		"expires FROM ddb_items CROSS JOIN ddb_data USING(rid);"
		"DROP TABLE ddb_items; DROP TABLE ddb_data;"
		"ALTER TABLE ddb_items_v1 RENAME TO ddb_items;"
		"CREATE INDEX ddb_items_expires ON ddb_items(tid, expires) "
		"WHERE expires IS NOT NULL AND iid = 0;"
		"INSERT OR REPLACE INTO meta(k, v) VALUES('applied', 1000);"
		"COMMIT;"), 0);
}

/*
 * A database of the older layout (each item inside its ddb_items row) is
 * moved to the current one when it opens, and when a snapshot of it is
 * installed: the same items, the index rows and TTL column kept, one
 * ddb_data row per row, and writes go on.
 */
OWS_TEST(ddb_tables_older_layout_moves_on_open_and_on_restore)
{
	struct fx f, g;
	struct ows_err err = {{0}};
	char *want[3], path[128];
	void *img;
	size_t len;

	users_by_email(&f, true);
	put_item(&f, "users", "{\"id\": {\"S\": \"a\"}, \"email\": {\"S\": "
		 "\"a@x\"}, \"exp\": {\"N\": \"1800000000\"}}");
	put_item(&f, "users", "{\"id\": {\"S\": \"b\"}, \"email\": {\"S\": "
		 "\"b@x\"}, \"l\": {\"L\": [{\"N\": \"1\"}, {\"M\": {}}]}}");
	put_item(&f, "users", "{\"id\": {\"S\": \"c\"}}");
	for (size_t i = 0; i < 3; i++)
		want[i] = get_json(&f, "users", layout_keys[i]);
	OWS_CHECK(strstr(want[1], "b@x") != NULL);

	to_older_layout(&f);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM pragma_table_info("
			    "'ddb_items') WHERE name='item'"), 1);
	OWS_CHECK_INT(ows_state_snapshot(&f.s, &img, &len), 0);

	/* opened again: moved */
	ows_state_close(&f.s);
	snprintf(path, sizeof(path), "%s/state.db", f.dir);
	OWS_CHECK_INT(ows_state_open(&f.s, path, &err), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM pragma_table_info("
			    "'ddb_items') WHERE name='item'"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items"), 5);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 5);
	OWS_CHECK_INT(count(&f, ROWS_WITHOUT_ITEM), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE "
			    "iid=0 AND expires=1800000000"), 1);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM sqlite_schema WHERE "
			    "name='ddb_items_expires'"), 1);
	same_items(&f, want);
	/* and it is written on as any other */
	put_item(&f, "users", "{\"id\": {\"S\": \"d\"}, \"email\": {\"S\": "
		 "\"d@x\"}}");
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items"), 7);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 7);
	OWS_CHECK_INT(count(&f, ITEMS_WITHOUT_ROW), 0);

	/* a new node installs the older build's snapshot: moved too */
	fx_open(&g);
	OWS_CHECK_INT(ows_state_restore(&g.s, img, len), 0);
	OWS_CHECK_INT(count(&g, "SELECT COUNT(*) FROM pragma_table_info("
			    "'ddb_items') WHERE name='rid'"), 1);
	OWS_CHECK_INT(count(&g, "SELECT COUNT(*) FROM ddb_data"), 5);
	same_items(&g, want);

	ows_state_snapshot_free(img);
	for (size_t i = 0; i < 3; i++)
		free(want[i]);
	ows_state_close(&f.s);
	ows_state_close(&g.s);
}

/* Raw count on the database at path (the state closed). */
static int64_t raw_count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	OWS_CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
		      SQLITE_OK);
	OWS_CHECK_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/*
 * A move to the current layout that fails (here: a table in the way of
 * its rename) changes nothing: the state does not open, says why, and
 * keeps the older layout with all its rows; an installed snapshot of it
 * fails the same way and leaves no transaction open.
 */
OWS_TEST(ddb_tables_older_layout_move_that_fails_changes_nothing)
{
	struct fx f, g;
	struct ows_err err = {{0}};
	char path[128];
	void *img;
	size_t len;

	users_by_email(&f, false);
	put_item(&f, "users", "{\"id\": {\"S\": \"a\"}, \"email\": {\"S\": "
		 "\"a@x\"}}");
	put_item(&f, "users", "{\"id\": {\"S\": \"b\"}}");
	to_older_layout(&f);
	OWS_CHECK_INT(ows__state_exec(&f.s, "CREATE TABLE ddb_items_old(x)"),
		      0);
	OWS_CHECK_INT(ows_state_snapshot(&f.s, &img, &len), 0);
	ows_state_close(&f.s);

	snprintf(path, sizeof(path), "%s/state.db", f.dir);
	OWS_CHECK_INT(ows_state_open(&f.s, path, &err), -EIO);
	OWS_CHECK(strstr(err.msg, "cannot bring") != NULL);
	OWS_CHECK(f.s.db == NULL);
	OWS_CHECK_INT(raw_count(path, "SELECT COUNT(*) FROM pragma_table_info("
				"'ddb_items') WHERE name='item'"), 1);
	OWS_CHECK_INT(raw_count(path, "SELECT COUNT(*) FROM ddb_items"), 3);
	OWS_CHECK_INT(raw_count(path, "SELECT COUNT(*) FROM ddb_data"), 0);

	fx_open(&g);
	OWS_CHECK_INT(ows_state_restore(&g.s, img, len), -EIO);
	OWS_CHECK(sqlite3_get_autocommit(g.s.db));
	OWS_CHECK_INT(count(&g, "SELECT COUNT(*) FROM pragma_table_info("
			    "'ddb_items') WHERE name='item'"), 1);
	OWS_CHECK_INT(count(&g, "SELECT COUNT(*) FROM ddb_items"), 3);

	ows_state_snapshot_free(img);
	ows_state_close(&g.s);
}

/* Store item (JSON; NULL: none) where old (JSON; NULL: none) was. */
static void store(struct fx *f, const char *old_json, const char *item_json)
{
	struct ows_ddb_table *t = NULL;
	json_t *old = old_json ? json_loads(old_json, 0, NULL) : NULL;
	json_t *item = item_json ? json_loads(item_json, 0, NULL) : NULL;

	OWS_CHECK_INT(ows__ddb_table_load(&f->s, "users", &t), 0);
	OWS_CHECK_INT(ows__state_exec(&f->s, "BEGIN IMMEDIATE"), 0);
	OWS_CHECK_INT(ows__ddb_item_store(&f->s, t, old, item), 0);
	OWS_CHECK_INT(ows__state_exec(&f->s, "COMMIT"), 0);
	ows__ddb_table_free(t);
	json_decref(old);
	json_decref(item);
}

#define A1 "{\"id\": {\"S\": \"a\"}, \"email\": {\"S\": \"a@x\"}}"
#define A2 "{\"id\": {\"S\": \"a\"}, \"email\": {\"S\": \"a@x\"}, " \
	"\"v\": {\"S\": \"0123456789\"}}"
/* z has no email: one row, the table's; its rid, taken when stored */
#define Z_RID "(SELECT v FROM meta WHERE k='test_z_rid')"
#define Z "{\"id\": {\"S\": \"z\"}}"
#define A3 "{\"id\": {\"S\": \"a\"}, \"email\": {\"S\": \"b@x\"}}"

/*
 * An item written over one with the same key keeps its rows' rids (its
 * item written in place) where the row key stays, in the table and in an
 * index whose key did not change; an index row whose key changed is
 * replaced. The counters follow the sizes; no item outlives its row.
 */
OWS_TEST(ddb_tables_items_written_over_in_place)
{
	struct fx f;
	int64_t table_rid, index_rid;

	users_by_email(&f, false);
	store(&f, NULL, A1);
	table_rid = count(&f, "SELECT rid FROM ddb_items WHERE iid=0");
	index_rid = count(&f, "SELECT rid FROM ddb_items WHERE iid<>0");
	/* a later item takes the next rids: a new row would not get these */
	store(&f, NULL, Z);
	store(&f, Z, NULL);
	store(&f, NULL, Z);
	OWS_CHECK_INT(ows__state_exec(&f.s, "INSERT INTO meta(k, v) SELECT "
				      "'test_z_rid', MAX(rid) FROM ddb_data"),
		      0);
	OWS_CHECK(table_rid > 0 && index_rid > 0 && table_rid != index_rid);
	/* same keys: both rows written over, bytes grow by the new member */
	store(&f, A1, A2);
	OWS_CHECK_INT(count(&f, "SELECT rid FROM ddb_items WHERE iid=0 "
			    "AND rid <> " Z_RID), table_rid);
	OWS_CHECK_INT(count(&f, "SELECT rid FROM ddb_items WHERE iid<>0"),
		      index_rid);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 3);
	OWS_CHECK_INT(count(&f, "SELECT items FROM ddb_tables"), 2);
	/* id 2+1, email 5+3, v 1+10; z's id 2+1 */
	OWS_CHECK_INT(count(&f, "SELECT bytes FROM ddb_tables"), 25);
	OWS_CHECK_INT(count(&f, "SELECT bytes FROM ddb_indexes"), 22);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data WHERE rid=(SELECT "
			    "rid FROM ddb_items WHERE iid=0 AND rid <> " Z_RID
			    ") AND instr(item, '0123456789') > 0"), 1);
	/* the index key changed: the table row in place, the index row new */
	store(&f, A2, A3);
	OWS_CHECK_INT(count(&f, "SELECT rid FROM ddb_items WHERE iid=0 "
			    "AND rid <> " Z_RID), table_rid);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE iid<>0"),
		      1);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 3);
	OWS_CHECK_INT(count(&f, ROWS_WITHOUT_ITEM), 0);
	OWS_CHECK_INT(count(&f, ITEMS_WITHOUT_ROW), 0);
	OWS_CHECK_INT(count(&f, "SELECT items FROM ddb_indexes"), 1);
	OWS_CHECK_INT(count(&f, "SELECT bytes FROM ddb_tables"), 14);
	OWS_CHECK_INT(count(&f, "SELECT bytes FROM ddb_indexes"), 11);
	/* stored again as if new (old not named): written over all the same,
	   one row and one item each, counted as INSERT OR REPLACE did */
	store(&f, NULL, A3);
	OWS_CHECK_INT(count(&f, "SELECT rid FROM ddb_items WHERE iid=0 "
			    "AND rid <> " Z_RID), table_rid);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 3);
	OWS_CHECK_INT(count(&f, ROWS_WITHOUT_ITEM), 0);
	OWS_CHECK_INT(count(&f, ITEMS_WITHOUT_ROW), 0);
	OWS_CHECK_INT(count(&f, "SELECT items FROM ddb_tables"), 3);
	OWS_CHECK_INT(ows__state_exec(&f.s, "UPDATE ddb_tables SET items=2, "
				      "bytes=14; UPDATE ddb_indexes SET "
				      "items=1, bytes=11"), 0);
	/* and gone */
	store(&f, A3, NULL);
	store(&f, Z, NULL);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_data"), 0);
	OWS_CHECK_INT(count(&f, "SELECT items FROM ddb_tables"), 0);
	OWS_CHECK_INT(count(&f, "SELECT bytes FROM ddb_tables"), 0);
	ows_state_close(&f.s);
}

/* The rows, items and counts of the state, as of SNAP_TAKE; SNAP_DIFF
   counts what differs from them now, both ways. */
#define SNAP_TAKE "DROP TABLE IF EXISTS temp.si; DROP TABLE IF EXISTS " \
	"temp.sd; DROP TABLE IF EXISTS temp.sc; CREATE TEMP TABLE si AS " \
	"SELECT * FROM ddb_items; CREATE TEMP TABLE sd AS SELECT * FROM " \
	"ddb_data; CREATE TEMP TABLE sc AS SELECT 0 AS iid, items, bytes " \
	"FROM ddb_tables UNION ALL SELECT iid, items, bytes FROM ddb_indexes"
#define SNAP_NOW "(SELECT 0 AS iid, items, bytes FROM ddb_tables UNION " \
	"ALL SELECT iid, items, bytes FROM ddb_indexes)"
#define SNAP_DIFF "SELECT (SELECT COUNT(*) FROM (SELECT * FROM ddb_items " \
	"EXCEPT SELECT * FROM si)) + (SELECT COUNT(*) FROM (SELECT * FROM si " \
	"EXCEPT SELECT * FROM ddb_items)) + (SELECT COUNT(*) FROM (SELECT * " \
	"FROM ddb_data EXCEPT SELECT * FROM sd)) + (SELECT COUNT(*) FROM " \
	"(SELECT * FROM sd EXCEPT SELECT * FROM ddb_data)) + (SELECT " \
	"COUNT(*) FROM (SELECT * FROM " SNAP_NOW " EXCEPT SELECT * FROM sc))" \
	" + (SELECT COUNT(*) FROM (SELECT * FROM sc EXCEPT SELECT * FROM " \
	SNAP_NOW "))"

/* Store item where old was, in the transaction open (no BEGIN). */
static void store_open(struct fx *f, const char *old_json,
		       const char *item_json)
{
	struct ows_ddb_table *t = NULL;
	json_t *old = old_json ? json_loads(old_json, 0, NULL) : NULL;
	json_t *item = item_json ? json_loads(item_json, 0, NULL) : NULL;

	OWS_CHECK_INT(ows__ddb_table_load(&f->s, "users", &t), 0);
	OWS_CHECK_INT(ows__ddb_item_store(&f->s, t, old, item), 0);
	ows__ddb_table_free(t);
	json_decref(old);
	json_decref(item);
}

/*
 * Writes over in place, rows moved, the insert whose constraint fails
 * and falls back to writing over the row that was there (old not named),
 * new rows, inside a savepoint as apply's "SAVEPOINT service": rolled
 * back (an entry that fails), nothing of them is left, not a row, an
 * item nor a count; released, one item per row, the rids of the rows
 * written over kept, the expiry the last write gave.
 */
OWS_TEST(ddb_tables_writes_over_rolled_back_leave_nothing)
{
	struct fx f;
	int64_t rid, irid;
	char sql[128];

	users_by_email(&f, true);
	store(&f, NULL, A1);
	store(&f, NULL, Z);
	/* a's rows came first */
	rid = count(&f, "SELECT MIN(rid) FROM ddb_items WHERE iid=0");
	irid = count(&f, "SELECT rid FROM ddb_items WHERE iid<>0");
	OWS_CHECK_INT(ows__state_exec(&f.s, SNAP_TAKE), 0);
	for (int release = 0; release < 2; release++) {
		OWS_CHECK_INT(ows__state_exec(&f.s, "BEGIN IMMEDIATE; "
					      "SAVEPOINT service"), 0);
		/* in place; the fallback, in the table and the index; the
		   index key changed with an expiry; a new item; one gone */
		store_open(&f, A1, A2);
		store_open(&f, NULL, A2);
		OWS_CHECK_INT(count(&f, "SELECT rid FROM ddb_items WHERE "
				    "iid<>0"), irid);
		store_open(&f, A2, "{\"id\": {\"S\": \"a\"}, \"email\": "
			   "{\"S\": \"b@x\"}, \"exp\": {\"N\": "
			   "\"1800000000.5\"}}");
		store_open(&f, NULL, "{\"id\": {\"S\": \"n\"}, \"email\": "
			   "{\"S\": \"n@x\"}}");
		store_open(&f, Z, NULL);
		OWS_CHECK(count(&f, SNAP_DIFF) > 0);
		OWS_CHECK_INT(count(&f, ROWS_WITHOUT_ITEM), 0);
		OWS_CHECK_INT(count(&f, ITEMS_WITHOUT_ROW), 0);
		if (release)
			break;
		OWS_CHECK_INT(ows__state_exec(&f.s, "ROLLBACK TO service; "
					      "RELEASE service; COMMIT"), 0);
		OWS_CHECK_INT(count(&f, SNAP_DIFF), 0);
	}
	OWS_CHECK_INT(ows__state_exec(&f.s, "RELEASE service; COMMIT"), 0);
	OWS_CHECK_INT(count(&f, ROWS_WITHOUT_ITEM), 0);
	OWS_CHECK_INT(count(&f, ITEMS_WITHOUT_ROW), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items"), 4);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE iid=0 "
			    "AND expires IS NULL"), 1);
	/* a's table row written over each time; its index row, new and
	   with the expiry */
	snprintf(sql, sizeof(sql), "SELECT expires FROM ddb_items WHERE "
		 "iid=0 AND rid=%lld", (long long)rid);
	OWS_CHECK_INT(count(&f, sql), 1800000000);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_items WHERE iid<>0 "
			    "AND expires=1800000000"), 1);
	ows_state_close(&f.s);
}
