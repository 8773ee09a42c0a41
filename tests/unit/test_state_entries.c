/*
 * Unit tests: the state machine's dispatch of a service's own entry types
 * (aws/service.h, struct ows_aws_entry_type), with a type of this test's
 * own registered through the registry's test hook, and batch mode (several
 * entries in one SQLite transaction, state.h: ows_state_commit): a
 * failure or a crash before the COMMIT loses the whole batch and nothing
 * else, and the entries applied again give the same results.
 */
#include "../lib/unit.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/key.h"
#include "aws/registry.h"
#include "common/json.h"
#include "state/state.h"

#define T0 1700000000000LL

/*
 * "test.put": {"k": K, "v": V} puts V under K in its table and adds
 * {"index", "time", "was"} to the result; {"fail": "einval"} writes and
 * then refuses, {"fail": "eio"} writes and then fails.
 */
static int test_put_apply(const struct ows_aws_entry_ctx *c,
			  const json_t *body, json_t *result,
			  struct ows_err *err)
{
	const char *fail = ows_json_str(body, "fail");
	sqlite3_stmt *st;
	json_t *was = json_null();

	if (ows_state_prepare(c->state, "CREATE TABLE IF NOT EXISTS "
			      "test_kv(k TEXT PRIMARY KEY, v TEXT)", &st) != 0)
		return -EIO;
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (ows_state_prepare(c->state, "SELECT v FROM test_kv WHERE k=?",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, ows_json_str(body, "k"), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		was = json_string((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (ows_state_prepare(c->state, "INSERT OR REPLACE INTO test_kv(k, v) "
			      "VALUES(?, ?)", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, ows_json_str(body, "k"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ows_json_str(body, "v"), -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (fail != NULL && strcmp(fail, "einval") == 0) {
		json_decref(was);
		ows_err_printf(err, "test.put refuses this body");
		return OWS_EINVAL;
	}
	if (fail != NULL) {
		json_decref(was);
		return -EIO;
	}
	json_object_set_new(result, "index", json_integer((json_int_t)c->index));
	json_object_set_new(result, "time", json_integer(c->time_ms));
	json_object_set_new(result, "was", was);
	return 0;
}

static const struct ows_aws_entry_type test_put = {"test.put", test_put_apply};
/* A service naming a core type is never reached: the core's comes first. */
static const struct ows_aws_entry_type test_join = {"join", test_put_apply};
static const struct ows_aws_entry_type *const test_types[] = {
	&test_put, &test_join, NULL};

static void state_new(struct ows_state *s, char *dir, char *path)
{
	struct ows_err err = {{0}};

	strcpy(dir, "/tmp/ows-entries-XXXXXX");
	OWS_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, 128, "%s/state.db", dir);
	OWS_CHECK_INT(ows_state_open(s, path, &err), 0);
}

static void state_rm(char *dir)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	OWS_CHECK_INT(system(cmd), 0);
}

/* Apply; the result parsed (NULL when applied before), rv in *rv. */
static json_t *apply_rv(struct ows_state *s, uint64_t index, const char *type,
			json_t *body, int *rv)
{
	json_t *e = json_pack("{s:s, s:I, s:o}", "type", type, "time",
			      (json_int_t)(T0 + (int64_t)index), "body", body);
	char *text = ows_json_dump(e), *result = NULL;
	json_t *r = NULL;

	*rv = ows_state_apply(s, index, text, strlen(text), &result);
	free(text);
	json_decref(e);
	if (result != NULL)
		r = json_loads(result, 0, NULL);
	free(result);
	return r;
}

static json_t *apply(struct ows_state *s, uint64_t index, const char *type,
		     json_t *body)
{
	int rv;
	json_t *r = apply_rv(s, index, type, body, &rv);

	OWS_CHECK_INT(rv, 0);
	return r;
}

static void genesis(struct ows_state *s)
{
	struct ows_key *root;
	char pub[OWS_PUBKEY_B64_LEN];
	json_t *r;

	ows_key_generate(&root);
	ows_key_public(root, pub);
	r = apply(s, 1, "genesis", json_pack(
		"{s:s, s:s, s:{s:i, s:s, s:s, s:s, s:s}}", "cluster", "c1",
		"root_key", pub, "node", "id", 1, "raft", "127.0.0.1:1", "edge",
		"127.0.0.1:2", "gateway", "127.0.0.1:3", "key", pub));
	OWS_CHECK(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	ows_key_free(root);
}

static json_t *put(const char *k, const char *v, const char *fail)
{
	json_t *b = json_pack("{s:s, s:s}", "k", k, "v", v);

	if (fail != NULL)
		json_object_set_new(b, "fail", json_string(fail));
	return b;
}

/* The value under k as a second connection sees it ("" for none). */
static void committed_value(const char *path, const char *k, char *out)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	out[0] = '\0';
	OWS_CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		  SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT v FROM test_kv WHERE k=?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			strcpy(out, (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

/* meta's applied as a second connection sees it. */
static long long committed_applied(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	OWS_CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		  SQLITE_OK);
	OWS_CHECK(sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE "
				     "k='applied'", -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

OWS_TEST(state_service_entry_dispatch)
{
	struct ows_state s;
	char dir[64], path[128], v[64];
	json_t *r, *rej;
	int rv;

	ows__aws_entry_types_extra(test_types);
	OWS_CHECK(ows_aws_entry_type_find("test.put") == &test_put);
	OWS_CHECK(ows_aws_entry_type_find("nope") == NULL);
	state_new(&s, dir, path);
	/* before genesis: refused like every other type */
	r = apply(&s, 1, "test.put", put("a", "0", NULL));
	OWS_CHECK_STR(ows_json_str(r, "code"), "NoGenesis");
	json_decref(r);
	s.applied = 0;
	genesis(&s);
	OWS_CHECK_INT(s.height, 1);
	/* accepted: the type's fields with ok, no ledger entry */
	r = apply(&s, 2, "test.put", put("a", "1", NULL));
	OWS_CHECK(json_is_true(json_object_get(r, "ok")));
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "index")), 2);
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "time")), T0 + 2);
	OWS_CHECK(json_is_null(json_object_get(r, "was")));
	OWS_CHECK(json_object_get(r, "height") == NULL);
	json_decref(r);
	OWS_CHECK_INT(s.height, 1);
	OWS_CHECK_INT(s.applied, 2);
	r = apply(&s, 3, "test.put", put("a", "2", NULL));
	OWS_CHECK_STR(ows_json_str(r, "was"), "1");
	json_decref(r);
	/* refused: 400 MalformedEntry, recorded, its writes rolled back */
	r = apply(&s, 4, "test.put", put("a", "bad", "einval"));
	OWS_CHECK(json_is_false(json_object_get(r, "ok")));
	OWS_CHECK_INT(json_integer_value(json_object_get(r, "status")), 400);
	OWS_CHECK_STR(ows_json_str(r, "code"), "MalformedEntry");
	OWS_CHECK_STR(ows_json_str(r, "message"), "test.put refuses this body");
	json_decref(r);
	OWS_CHECK_INT(s.applied, 4);
	OWS_CHECK_INT(s.rejected, 2);
	rej = ows_state_rejections(&s, 1);
	OWS_CHECK_INT(json_integer_value(json_object_get(json_array_get(rej, 0),
							 "raft_index")), 4);
	json_decref(rej);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "2");
	/* each entry commits with its index (not batch mode) */
	OWS_CHECK_INT(committed_applied(path), 4);
	/* the database failed: nothing of the entry, not applied */
	r = apply_rv(&s, 5, "test.put", put("a", "io", "eio"), &rv);
	OWS_CHECK_INT(rv, -EIO);
	OWS_CHECK(r == NULL);
	OWS_CHECK_INT(s.applied, 4);
	OWS_CHECK_INT(committed_applied(path), 4);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "2");
	/* a core type keeps its own apply; unknown types are refused */
	r = apply(&s, 5, "join", put("a", "3", NULL));
	OWS_CHECK_STR(ows_json_str(r, "code"), "MalformedJoin");
	json_decref(r);
	r = apply(&s, 6, "test.nope", put("a", "3", NULL));
	OWS_CHECK_STR(ows_json_str(r, "code"), "MalformedEntry");
	json_decref(r);
	OWS_CHECK_INT(s.height, 1);
	ows_state_close(&s);
	state_rm(dir);
}

OWS_TEST(state_batch_shares_one_commit)
{
	struct ows_state s;
	char dir[64], path[128], v[64];
	void *img;
	size_t len;
	json_t *r;
	int rv;

	ows__aws_entry_types_extra(test_types);
	state_new(&s, dir, path);
	s.batch = true;
	genesis(&s);
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	OWS_CHECK_INT(committed_applied(path), 1);
	for (uint64_t i = 2; i <= 4; i++) {
		char val[8];

		snprintf(val, sizeof(val), "%d", (int)i);
		json_decref(apply(&s, i, "test.put", put("a", val, NULL)));
	}
	/* applied here, not yet committed: a second connection sees none */
	OWS_CHECK_INT(s.applied, 4);
	OWS_CHECK_INT(s.uncommitted, 3);
	OWS_CHECK_INT(committed_applied(path), 1);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "");
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	OWS_CHECK_INT(s.uncommitted, 0);
	OWS_CHECK_INT(committed_applied(path), 4);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "4");
	/* a refusal inside a batch rolls back itself only */
	json_decref(apply(&s, 5, "test.put", put("b", "5", NULL)));
	json_decref(apply(&s, 6, "test.put", put("b", "x", "einval")));
	json_decref(apply(&s, 7, "test.put", put("c", "7", NULL)));
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	committed_value(path, "b", v);
	OWS_CHECK_STR(v, "5");
	committed_value(path, "c", v);
	OWS_CHECK_STR(v, "7");
	OWS_CHECK_INT(s.rejected, 1);
	/* a failure loses the whole batch: the state is the last commit's */
	json_decref(apply(&s, 8, "test.put", put("d", "8", NULL)));
	r = apply_rv(&s, 9, "test.put", put("d", "9", "eio"), &rv);
	OWS_CHECK_INT(rv, -EIO);
	OWS_CHECK(r == NULL);
	OWS_CHECK_INT(s.applied, 7);
	OWS_CHECK_INT(s.uncommitted, 0);
	OWS_CHECK_INT(committed_applied(path), 7);
	/* the rolled-back batch left no transaction open behind it */
	OWS_CHECK(sqlite3_get_autocommit(s.db));
	json_decref(apply(&s, 8, "test.put", put("d", "8", NULL)));
	OWS_CHECK_INT(s.applied, 8);
	/* a snapshot commits first: it holds every index it claims */
	OWS_CHECK_INT(ows_state_snapshot(&s, &img, &len), 0);
	OWS_CHECK_INT(committed_applied(path), 8);
	ows_state_snapshot_free(img);
	ows_state_close(&s);
	state_rm(dir);
}

/* The value under k as the state's own connection reads it. */
static void own_value(struct ows_state *s, const char *k, char *out)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	OWS_CHECK_INT(ows_state_prepare(s, "SELECT v FROM test_kv WHERE k=?",
					&st), 0);
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		strcpy(out, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* A read hold never hides a write: every write path ends it first. */
OWS_TEST(state_read_hold_sees_every_commit)
{
	struct ows_state s;
	char dir[64], path[128], v[64];
	void *img;
	size_t len;
	int rv;

	ows__aws_entry_types_extra(test_types);
	state_new(&s, dir, path);
	s.batch = true;
	genesis(&s);
	json_decref(apply(&s, 2, "test.put", put("a", "2", NULL)));
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	/* a hold is a read transaction, open past its statements */
	ows_state_read_hold(&s);
	OWS_CHECK(s.read_held);
	own_value(&s, "a", v);
	OWS_CHECK_STR(v, "2");
	OWS_CHECK(!sqlite3_get_autocommit(s.db));
	ows_state_read_hold(&s); /* twice: the same hold */
	/* an apply ends it and writes; the next hold sees the write */
	json_decref(apply(&s, 3, "test.put", put("a", "3", NULL)));
	OWS_CHECK(!s.read_held);
	OWS_CHECK_INT(s.uncommitted, 1);
	ows_state_read_hold(&s); /* inside the batch's transaction: nothing */
	OWS_CHECK(!s.read_held);
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "3");
	ows_state_read_hold(&s);
	own_value(&s, "a", v);
	OWS_CHECK_STR(v, "3");
	ows_state_read_release(&s);
	ows_state_read_release(&s);
	OWS_CHECK(sqlite3_get_autocommit(s.db));
	/* a commit with nothing applied ends a hold and writes nothing */
	ows_state_read_hold(&s);
	own_value(&s, "a", v);
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	OWS_CHECK(!s.read_held && sqlite3_get_autocommit(s.db));
	OWS_CHECK_INT(committed_applied(path), 3);
	/* a failed apply rolls back its batch, and the hold with it */
	ows_state_read_hold(&s);
	own_value(&s, "a", v);
	json_decref(apply_rv(&s, 4, "test.put", put("a", "4", "eio"), &rv));
	OWS_CHECK_INT(rv, -EIO);
	OWS_CHECK(!s.read_held && sqlite3_get_autocommit(s.db));
	own_value(&s, "a", v);
	OWS_CHECK_STR(v, "3");
	/* a snapshot and a restore under a hold */
	ows_state_read_hold(&s);
	own_value(&s, "a", v);
	OWS_CHECK_INT(ows_state_snapshot(&s, &img, &len), 0);
	OWS_CHECK(!s.read_held);
	json_decref(apply(&s, 4, "test.put", put("a", "4", NULL)));
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	ows_state_read_hold(&s);
	own_value(&s, "a", v);
	OWS_CHECK_STR(v, "4");
	OWS_CHECK_INT(ows_state_restore(&s, img, len), 0); /* older: kept */
	OWS_CHECK(!s.read_held);
	ows_state_snapshot_free(img);
	ows_state_read_hold(&s);
	own_value(&s, "a", v);
	OWS_CHECK_STR(v, "4");
	ows_state_close(&s); /* with the hold open */
	state_rm(dir);
}

/*
 * A savepoint that changes many pages (an entry's "SAVEPOINT service")
 * keeps its sub-journal in memory: no file is made in SQLite's temporary
 * directory (which may be small, full or elsewhere), seen by the
 * directory's modification time.
 */
OWS_TEST(state_savepoints_write_no_temporary_file)
{
	struct ows_state s;
	char dir[64], path[128], tmpd[] = "/tmp/ows-tmpd-XXXXXX";
	char *saved = sqlite3_temp_directory;
	struct stat before, after;

	state_new(&s, dir, path);
	OWS_CHECK(ows__state_exec(&s, "CREATE TABLE big(k INTEGER PRIMARY "
				  "KEY, v BLOB)") == 0);
	OWS_CHECK(ows__state_exec(&s, "WITH RECURSIVE n(i) AS (SELECT 1 "
				  "UNION ALL SELECT i + 1 FROM n WHERE i < 40) "
				  "INSERT INTO big SELECT i, randomblob(6000) "
				  "FROM n") == 0);
	OWS_CHECK(mkdtemp(tmpd) != NULL);
	sqlite3_temp_directory = tmpd;
	OWS_CHECK_INT(stat(tmpd, &before), 0);
	usleep(30000); /* past the file system's coarse clock */
	/* 40 pages, 320 KB of sub-journal: past SQLite's 64 KB spill */
	OWS_CHECK(ows__state_exec(&s, "BEGIN IMMEDIATE; SAVEPOINT service; "
				  "UPDATE big SET v = zeroblob(6000); RELEASE "
				  "service; COMMIT") == 0);
	OWS_CHECK_INT(stat(tmpd, &after), 0);
	OWS_CHECK(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		  before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
	sqlite3_temp_directory = saved;
	OWS_CHECK_INT(rmdir(tmpd), 0);
	ows_state_close(&s);
	state_rm(dir);
}

OWS_TEST(state_batch_crash_before_commit_replays)
{
	struct ows_state s;
	char dir[64], path[128], v[64];
	struct ows_err err = {{0}};
	json_t *first[3], *again;
	pid_t pid;
	int status;

	ows__aws_entry_types_extra(test_types);
	state_new(&s, dir, path);
	s.batch = true;
	genesis(&s);
	json_decref(apply(&s, 2, "test.put", put("a", "2", NULL)));
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	/* the same three entries, applied with a crash before COMMIT */
	pid = fork();
	OWS_CHECK(pid >= 0);
	if (pid == 0) {
		for (uint64_t i = 3; i <= 5; i++)
			json_decref(apply(&s, i, "test.put",
					  put("a", "n", NULL)));
		_exit(s.applied == 5 ? 0 : 1);
	}
	OWS_CHECK(waitpid(pid, &status, 0) == pid);
	OWS_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the crash lost the entries and their index together */
	OWS_CHECK_INT(committed_applied(path), 2);
	/* nothing of this process's own is uncommitted: close as is */
	ows_state_close(&s);
	OWS_CHECK_INT(ows_state_open(&s, path, &err), 0);
	s.batch = true;
	OWS_CHECK_INT(s.applied, 2);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "2");
	/* applied again from the log: as if the crash never was */
	first[0] = apply(&s, 3, "test.put", put("a", "3", NULL));
	first[1] = apply(&s, 4, "test.put", put("a", "4", NULL));
	first[2] = apply(&s, 5, "test.put", put("a", "5", NULL));
	OWS_CHECK_STR(ows_json_str(first[0], "was"), "2");
	OWS_CHECK_STR(ows_json_str(first[2], "was"), "4");
	OWS_CHECK_INT(ows_state_commit(&s), 0);
	/* an index at or below the applied one is skipped */
	again = apply(&s, 4, "test.put", put("a", "x", NULL));
	OWS_CHECK(again == NULL);
	committed_value(path, "a", v);
	OWS_CHECK_STR(v, "5");
	for (int i = 0; i < 3; i++)
		json_decref(first[i]);
	ows_state_close(&s);
	state_rm(dir);
}
