/*
 * Unit tests: the tables cache (ddb_priv.h, ows__ddb_table_get) that the
 * reads, the checks of writes and the apply of "ddb" entries share, on
 * a real state machine in batch mode (state.h: several entries in one
 * SQLite transaction). A table dropped and made again with another key
 * schema by ledger entries of the same batch is the new one for the
 * writes after them, and a batch rolled back leaves no table of its own
 * behind, even when other entries then bring the state to the same
 * height.
 */
#include "../lib/unit.h"

#include <sqlite3.h>
#include <unistd.h>

#include "auth/key.h"
#include "common/json.h"
#include "ddb/ddb_priv.h"
#include "ledger/changeset.h"
#include "state/state.h"

#define T0 1700000000000LL

struct fixture {
	struct ows_state s;
	struct ows_key *root;
	char dir[64], path[128];
	uint64_t index;
};

/* Apply entry {type, body (taken)} at the next index: its result. */
static json_t *apply(struct fixture *f, const char *type, json_t *body)
{
	json_t *e = json_pack("{s:s, s:I, s:o}", "type", type, "time",
			      (json_int_t)T0, "body", body);
	char *text = ows_json_dump(e), *result = NULL;
	json_t *r = NULL;

	f->index++;
	OWS_CHECK_INT(ows_state_apply(&f->s, f->index, text, strlen(text),
				      &result), 0);
	free(text);
	json_decref(e);
	OWS_CHECK(result != NULL);
	r = json_loads(result, 0, NULL);
	free(result);
	return r;
}

static void setup(struct fixture *f)
{
	struct ows_err err = {{0}};
	char pub[OWS_PUBKEY_B64_LEN];
	json_t *r;

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/ows-tcache-XXXXXX");
	OWS_CHECK(mkdtemp(f->dir) != NULL);
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	OWS_CHECK_INT(ows_state_open(&f->s, f->path, &err), 0);
	f->s.batch = true;
	OWS_CHECK_INT(ows_key_generate(&f->root), 0);
	ows_key_public(f->root, pub);
	r = apply(f, "genesis", json_pack(
		"{s:s, s:s, s:{s:i, s:s, s:s, s:s, s:s}}", "cluster", "c1",
		"root_key", pub, "node", "id", 1, "raft", "127.0.0.1:1", "edge",
		"127.0.0.1:2", "gateway", "127.0.0.1:3", "key", pub));
	OWS_CHECK(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	OWS_CHECK_INT(ows_state_commit(&f->s), 0);
}

static void teardown(struct fixture *f)
{
	char cmd[160];

	ows_state_close(&f->s);
	ows_key_free(f->root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	OWS_CHECK_INT(system(cmd), 0);
}

/* A change set of actions (taken) signed by root, applied: accepted. */
static void changeset(struct fixture *f, json_t *actions)
{
	json_t *env = ows_envelope_new("c1", NULL, actions, T0 / 1000);
	json_t *r;

	OWS_CHECK(env != NULL);
	OWS_CHECK_INT(ows_envelope_sign(env, f->root), 0);
	r = apply(f, "changeset", env);
	if (!json_is_true(json_object_get(r, "ok")))
		fprintf(stderr, "changeset refused: %s\n",
			ows_json_str(r, "message"));
	OWS_CHECK(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}

/* Table tbl made anew (dropped first when it is there) with key pk. */
static void remake(struct fixture *f, const char *pk, bool drop)
{
	json_t *actions = json_array();

	if (drop)
		json_array_append_new(actions, json_pack(
			"{s:s, s:s}", "action", "tables.drop", "name", "tbl"));
	json_array_append_new(actions, json_pack(
		"{s:s, s:s, s:{s:s}}", "action", "tables.create", "name", "tbl",
		"spec", "partition_key", pk));
	changeset(f, actions);
}

/* tbl's tid as the state holds it now (read afresh). */
static int64_t tid_now(struct fixture *f)
{
	struct ows_ddb_table *t;
	int64_t tid;

	OWS_CHECK_INT(ows__ddb_table_load(&f->s, "tbl", &t), 0);
	tid = t->tid;
	ows__ddb_table_free(t);
	return tid;
}

/* A "ddb" put of item (JSON text) into tbl: its write's status or code. */
static char *put(struct fixture *f, const char *item, char *out, size_t cap)
{
	json_t *w = json_pack("{s:s, s:s, s:I, s:o}", "kind", "put", "table",
			      "tbl", "tid", (json_int_t)tid_now(f), "item",
			      json_loads(item, 0, NULL));
	json_t *r = apply(f, "ddb", json_pack("{s:s, s:[o]}", "op", "write",
					       "writes", w));
	const json_t *res = json_array_get(json_object_get(r, "writes"), 0);

	snprintf(out, cap, "%s", ows_json_str(res, "code") ?
		 ows_json_str(res, "code") : ows_json_str(res, "status"));
	json_decref(r);
	return out;
}

/* tbl's partition key name as the cache gives it. */
static void cached_pk(struct fixture *f, char *out, size_t cap)
{
	struct ows_ddb_table *t;

	OWS_CHECK_INT(ows__ddb_table_get(&f->s, "tbl", &t), 0);
	snprintf(out, cap, "%s", t->pk.name);
	ows__ddb_table_free(t);
}

OWS_TEST(ddb_table_cache_follows_a_table_made_again_in_one_batch)
{
	struct fixture f;
	struct ows_ddb_table *held;
	char st[64], pk[256];

	setup(&f);
	remake(&f, "id:S", false);
	OWS_CHECK_INT(ows_state_commit(&f.s), 0);
	OWS_CHECK_STR(put(&f, "{\"id\": {\"S\": \"a\"}}", st, sizeof(st)),
		      "ok");
	/* a holder keeps its table whatever the cache does later */
	OWS_CHECK_INT(ows__ddb_table_get(&f.s, "tbl", &held), 0);
	OWS_CHECK_STR(held->pk.name, "id");
	/* dropped and made again, then written, all in one batch */
	remake(&f, "k:N", true);
	cached_pk(&f, pk, sizeof(pk));
	OWS_CHECK_STR(pk, "k");
	OWS_CHECK_STR(put(&f, "{\"k\": {\"N\": \"1\"}}", st, sizeof(st)),
		      "ok");
	OWS_CHECK_STR(put(&f, "{\"id\": {\"S\": \"b\"}}", st, sizeof(st)),
		      "ValidationError");
	/* twice in a row, in two entries */
	remake(&f, "x:S", true);
	remake(&f, "y:B", true);
	OWS_CHECK_STR(put(&f, "{\"y\": {\"B\": \"AQ==\"}}", st, sizeof(st)),
		      "ok");
	OWS_CHECK_INT(ows_state_commit(&f.s), 0);
	OWS_CHECK_STR(held->pk.name, "id");
	ows__ddb_table_free(held);
	teardown(&f);
}

OWS_TEST(ddb_table_cache_keeps_nothing_of_a_rolled_back_batch)
{
	struct fixture f;
	struct ows_ddb_table *t;
	uint64_t height, index;
	char st[64], pk[256];

	setup(&f);
	remake(&f, "id:S", false);
	OWS_CHECK_INT(ows_state_commit(&f.s), 0);
	height = f.s.height;
	index = f.index;
	/* a batch that makes tbl again and writes to it, then fails */
	remake(&f, "z:S", true);
	OWS_CHECK_STR(put(&f, "{\"z\": {\"S\": \"a\"}}", st, sizeof(st)),
		      "ok");
	ows__state_rollback(&f.s);
	OWS_CHECK_INT(f.s.height, height);
	OWS_CHECK_INT(f.s.applied, index);
	f.index = index;
	OWS_CHECK_INT(ows__ddb_table_load(&f.s, "tbl", &t), 0);
	OWS_CHECK_STR(t->pk.name, "id");
	ows__ddb_table_free(t);
	/* other entries at the same indexes and height: tbl as they made it
	 * (same height, same tid), never the rolled-back one */
	remake(&f, "q:N", true);
	cached_pk(&f, pk, sizeof(pk));
	OWS_CHECK_STR(pk, "q");
	OWS_CHECK_STR(put(&f, "{\"q\": {\"N\": \"7\"}}", st, sizeof(st)),
		      "ok");
	OWS_CHECK_STR(put(&f, "{\"z\": {\"S\": \"a\"}}", st, sizeof(st)),
		      "ValidationError");
	OWS_CHECK_INT(ows_state_commit(&f.s), 0);
	teardown(&f);
}
