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
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_tables"), 0);
	OWS_CHECK_INT(count(&f, "SELECT COUNT(*) FROM ddb_indexes"), 0);
	ows_state_close(&f.s);
}
