/*
 * The state machine's database: schema, cached metadata, snapshots and the
 * read queries. Apply lives in apply.c, resource kinds in kinds.c (their
 * side tables too: each kind's schema runs when the state opens).
 */
#include "state/state.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "state/kinds.h"

static const char schema[] =
	/* A new database's page size (an existing one keeps its own). Items
	   live whole in a WITHOUT ROWID b-tree (ddb_model.h), where a row
	   larger than about a quarter of a page spills into overflow pages,
	   and every seek that lands on such a row reads it whole (SQLite's
	   index compare): at 4 KB pages a 1 KB item already spills, at 8 KB
	   items up to about 2 KB stay in their page. */
	"PRAGMA page_size=8192;"
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"PRAGMA foreign_keys=OFF;"
	/* Reads of tables (GetItem, Query) go through this one connection:
	   a page cache of 2 MB (the default) sends most of them to pread(2)
	   once a table outgrows it. 64 MB at most, taken as pages are read. */
	"PRAGMA cache_size=-65536;"
	/* Savepoints' sub-journals (an entry's "SAVEPOINT service") in
	   memory: in a temporary file they spilled past 64 KB and then
	   wrote every page an entry changed a second time, 8 KB and its
	   number in two pwrites, twice the WAL's own writes per put
	   (strace of a leader under PutItem load). They hold what one
	   entry changed (a 4 MB transaction at most) and are emptied when
	   its savepoint is released. Sorts' temporary b-trees too: ours
	   are of small sets (resources, parts). */
	"PRAGMA temp_store=MEMORY;"
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v);"
	"CREATE TABLE IF NOT EXISTS ledger(height INTEGER PRIMARY KEY,"
	"  hash TEXT NOT NULL, entry TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS rejections(id INTEGER PRIMARY KEY,"
	"  raft_index INTEGER, time INTEGER, code TEXT, message TEXT,"
	"  entry TEXT);"
	"CREATE TABLE IF NOT EXISTS nonces(nonce TEXT PRIMARY KEY,"
	"  height INTEGER);"
	"CREATE TABLE IF NOT EXISTS results(nonce TEXT PRIMARY KEY,"
	"  digest TEXT NOT NULL, result TEXT NOT NULL, time INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS results_time ON results(time);"
	"CREATE TABLE IF NOT EXISTS resources(kind TEXT NOT NULL,"
	"  name TEXT NOT NULL, stack TEXT NOT NULL DEFAULT '',"
	"  spec TEXT NOT NULL, height INTEGER, PRIMARY KEY(kind, name));"
	"CREATE INDEX IF NOT EXISTS resources_stack ON resources(stack);";

/* The side tables of each kind (state/kinds.h: user_keys, nodes, ...). */
static int kind_schema(const struct ows_kind *k, void *ud)
{
	sqlite3 *db = ud;

	if (k->schema == NULL)
		return 0;
	return sqlite3_exec(db, k->schema, NULL, NULL, NULL) == SQLITE_OK
		       ? 0 : -EIO;
}

/* An older database's side tables in this build's layout (kinds.h). */
static int kind_upgrade(const struct ows_kind *k, void *ud)
{
	return k->upgrade != NULL ? k->upgrade(ud) : 0;
}

int ows__state_exec(struct ows_state *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0
									: -EIO;
}

int ows_state_prepare(struct ows_state *s, const char *sql,
		      sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v2(s->db, sql, -1, stmt, NULL) == SQLITE_OK
		       ? 0
		       : -EIO;
}

int ows__state_run(struct ows_state *s, const char *sql)
{
	sqlite3_stmt *st;
	int rv = ows_state_stmt(s, sql, &st);

	/* a full cache costs a parse, nothing else */
	if (rv == -ENOMEM)
		return ows__state_exec(s, sql);
	if (rv != 0)
		return rv;
	rv = sqlite3_step(st);
	sqlite3_reset(st);
	return rv == SQLITE_DONE ? 0 : -EIO;
}

static void load_meta(struct ows_state *s);

/* ows_state's gen: unique in the process, so never one a cache saw */
static uint64_t gen_next(void)
{
	static uint64_t last;

	return ++last;
}

static const char read_begin_sql[] = "BEGIN";
static const char read_end_sql[] = "COMMIT";

void ows_state_read_hold(struct ows_state *s)
{
	if (s->read_held || s->db == NULL || !sqlite3_get_autocommit(s->db))
		return;
	/* DEFERRED: the read transaction starts with the first read */
	s->read_held = ows__state_run(s, read_begin_sql) == 0;
}

void ows_state_read_release(struct ows_state *s)
{
	if (!s->read_held)
		return;
	s->read_held = false;
	/* a read-only transaction: COMMIT only ends it */
	if (ows__state_run(s, read_end_sql) != 0 &&
	    !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void ows__state_rollback(struct ows_state *s)
{
	s->read_held = false;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->uncommitted = 0;
	s->gen = gen_next();
	load_meta(s);
}

static const char meta_set_sql[] =
	"INSERT OR REPLACE INTO meta(k, v) VALUES(?1, ?2)";
static const char commit_sql[] = "COMMIT";

int ows__state_meta_set(struct ows_state *s, const char *k,
			sqlite3_int64 iv, const char *tv)
{
	sqlite3_stmt *st;
	bool own = false;
	int rv = ows_state_stmt(s, meta_set_sql, &st);

	if (rv == -ENOMEM) {
		own = true;
		rv = ows_state_prepare(s, meta_set_sql, &st);
	}
	if (rv != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (tv != NULL)
		sqlite3_bind_text(st, 2, tv, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, iv);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	if (own)
		sqlite3_finalize(st);
	else
		sqlite3_reset(st);
	return rv;
}

int ows_state_commit(struct ows_state *s)
{
	ows_state_read_release(s);
	if (sqlite3_get_autocommit(s->db)) {
		s->uncommitted = 0;
		return 0;
	}
	/* the index of the transaction's last entry, in it */
	if (ows__state_meta_set(s, "applied", (sqlite3_int64)s->applied,
				NULL) != 0 ||
	    ows__state_run(s, commit_sql) != 0) {
		ows__state_rollback(s);
		return -EIO;
	}
	s->uncommitted = 0;
	return 0;
}

static void meta_text(struct ows_state *s, const char *k, char *out,
		      size_t cap)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	if (ows_state_prepare(s, "SELECT v FROM meta WHERE k=?", &st) != 0)
		return;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, cap, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static uint64_t meta_int(struct ows_state *s, const char *k)
{
	char buf[32];

	meta_text(s, k, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

/* Refresh the cached metadata from the database. */
static void load_meta(struct ows_state *s)
{
	meta_text(s, "cluster", s->cluster, sizeof(s->cluster));
	meta_text(s, "head", s->head, sizeof(s->head));
	s->applied = meta_int(s, "applied");
	s->height = meta_int(s, "height");
	s->rejected = meta_int(s, "rejected");
	if (s->head[0] == '\0')
		memset(s->head, '0', 64), s->head[64] = '\0';
}

int ows_state_open(struct ows_state *s, const char *path, struct ows_err *err)
{
	bool failed = false;

	memset(s, 0, sizeof(*s));
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		ows_err_printf(err, "cannot open '%s': %s", path,
			       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		s->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    ows_kind_each(kind_schema, s->db) != 0) {
		ows_err_printf(err, "cannot create the schema in '%s': %s",
			       path, sqlite3_errmsg(s->db));
		failed = true;
	} else if (ows_kind_each(kind_upgrade, s->db) != 0) {
		/* the hook logged why: its rollback has cleared the error */
		ows_err_printf(err, "cannot bring '%s' to this build's "
			       "layout (the error before says why)", path);
		failed = true;
	}
	if (failed) {
		sqlite3_close(s->db);
		s->db = NULL;
		return -EIO;
	}
	s->gen = gen_next();
	load_meta(s);
	return 0;
}

int ows_state_stmt(struct ows_state *s, const char *sql, sqlite3_stmt **stmt)
{
	size_t i;

	for (i = 0; i < OWS_STATE_STMTS && s->stmts[i].sql != NULL; i++) {
		if (s->stmts[i].sql == sql) {
			*stmt = s->stmts[i].st;
			sqlite3_reset(*stmt);
			sqlite3_clear_bindings(*stmt);
			return 0;
		}
	}
	if (i == OWS_STATE_STMTS)
		return -ENOMEM;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->stmts[i].st, NULL) != SQLITE_OK) {
		sqlite3_finalize(s->stmts[i].st);
		s->stmts[i].st = NULL;
		return -EIO;
	}
	s->stmts[i].sql = sql;
	*stmt = s->stmts[i].st;
	return 0;
}

void ows_state_close(struct ows_state *s)
{
	if (s->db != NULL)
		ows_state_commit(s);
	for (size_t i = 0; i < OWS_STATE_STMTS && s->stmts[i].sql; i++)
		sqlite3_finalize(s->stmts[i].st);
	memset(s->stmts, 0, sizeof(s->stmts));
	sqlite3_close(s->db);
	s->db = NULL;
}

int ows_state_snapshot(struct ows_state *s, void **data, size_t *len)
{
	sqlite3_int64 size = 0;
	unsigned char *img;

	/* never an uncommitted batch, nor an index it does not hold */
	if (ows_state_commit(s) != 0)
		return -EIO;
	/* SQLite's buffer itself: a copy of it would double the memory a
	 * snapshot takes, and the time, as the ledger grows. */
	img = sqlite3_serialize(s->db, "main", &size, 0);
	if (img == NULL)
		return -ENOMEM;
	/*
	 * A deserialized image must not claim WAL mode (SQLite then refuses
	 * to use it): mark the header's read/write versions as legacy.
	 */
	if (size >= 20)
		img[18] = img[19] = 1;
	*data = img;
	*len = (size_t)size;
	return 0;
}

void ows_state_snapshot_free(void *data)
{
	sqlite3_free(data);
}

static int open_image(const void *data, size_t len, sqlite3 **out)
{
	unsigned char *img;
	sqlite3 *mem;

	if (sqlite3_open(":memory:", &mem) != SQLITE_OK) {
		sqlite3_close(mem);
		return -ENOMEM;
	}
	/* Read in place, not copied: the image is only read (backed up
	 * into the database), and data outlives mem. */
	img = (unsigned char *)(uintptr_t)data;
	if (sqlite3_deserialize(mem, "main", img, (sqlite3_int64)len,
				(sqlite3_int64)len,
				SQLITE_DESERIALIZE_READONLY) !=
	    SQLITE_OK) {
		sqlite3_close(mem);
		return -EINVAL;
	}
	*out = mem;
	return 0;
}

static uint64_t image_applied(sqlite3 *mem)
{
	sqlite3_stmt *st;
	uint64_t v = 0;

	if (sqlite3_prepare_v2(mem, "SELECT v FROM meta WHERE k='applied'", -1,
			       &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int ows_state_restore(struct ows_state *s, const void *data, size_t len)
{
	sqlite3_backup *b;
	sqlite3 *mem;
	int rv;

	/* a batch that cannot commit is in the newer snapshot anyway */
	ows_state_commit(s);
	rv = open_image(data, len, &mem);
	if (rv != 0)
		return rv;
	if (image_applied(mem) <= s->applied) {
		sqlite3_close(mem);
		return 0;
	}
	b = sqlite3_backup_init(s->db, "main", mem, "main");
	rv = b != NULL && sqlite3_backup_step(b, -1) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_backup_finish(b);
	sqlite3_close(mem);
	s->gen = gen_next();
	/* an older build's snapshot: the side tables it lacks, and its
	   tables in this build's layout (cached statements prepare again
	   by themselves when the schema changed) */
	if (rv == 0 && (ows_kind_each(kind_schema, s->db) != 0 ||
			ows_kind_each(kind_upgrade, s->db) != 0))
		rv = -EIO;
	if (rv == 0)
		load_meta(s);
	return rv;
}

/* Run a query whose rows become JSON objects with the given column names. */
static json_t *rows(sqlite3_stmt *st, const char *const *cols,
		    const char *json_col)
{
	json_t *out = json_array(), *row, *v;
	int n = sqlite3_column_count(st);

	while (out != NULL && sqlite3_step(st) == SQLITE_ROW) {
		row = json_object();
		for (int i = 0; i < n && row != NULL; i++) {
			int t = sqlite3_column_type(st, i);
			const char *txt = (const char *)sqlite3_column_text(st, i);

			if (json_col && strcmp(cols[i], json_col) == 0 && txt)
				v = ows_json_loads(txt, 0, NULL);
			else if (t == SQLITE_INTEGER)
				v = json_integer(sqlite3_column_int64(st, i));
			else if (t == SQLITE_NULL)
				v = json_null();
			else
				v = json_string(txt ? txt : "");
			json_object_set_new(row, cols[i], v);
		}
		json_array_append_new(out, row);
	}
	sqlite3_finalize(st);
	return out;
}

json_t *ows_state_ledger(struct ows_state *s, uint64_t from, unsigned limit)
{
	static const char *const cols[] = {"height", "hash", "entry"};
	sqlite3_stmt *st;

	if (ows_state_prepare(s, "SELECT height, hash, entry FROM ledger WHERE "
			      "height >= ? ORDER BY height LIMIT ?", &st) != 0)
		return NULL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, limit);
	return rows(st, cols, "entry");
}

json_t *ows_state_resources(struct ows_state *s, const char *kind,
			    const char *stack)
{
	static const char *const cols[] = {"kind", "name", "stack", "spec",
					   "height"};
	sqlite3_stmt *st;

	if (ows_state_prepare(s, "SELECT kind, name, stack, spec, height FROM "
			      "resources WHERE (?1 IS NULL OR kind = ?1) AND "
			      "(?2 IS NULL OR stack = ?2) ORDER BY kind, name",
			      &st) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stack, -1, SQLITE_STATIC);
	return rows(st, cols, "spec");
}

int ows_state_resource_exists(struct ows_state *s, const char *kind,
			      const char *name)
{
	json_t *spec = ows_state_resource(s, kind, name);

	json_decref(spec);
	return spec != NULL;
}

json_t *ows_state_resource(struct ows_state *s, const char *kind,
			   const char *name)
{
	sqlite3_stmt *st;
	json_t *spec = NULL;

	if (ows_state_prepare(s, "SELECT spec FROM resources WHERE kind=? AND "
			      "name=?", &st) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		spec = ows_json_loads(
			(const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	return spec;
}

static const char *const node_cols[] = {"id", "raft", "edge", "gateway",
					"key", "joined"};

json_t *ows_state_nodes(struct ows_state *s)
{
	sqlite3_stmt *st;

	if (ows_state_prepare(s, "SELECT id, raft, edge, gateway, key, joined "
			      "FROM nodes ORDER BY id", &st) != 0)
		return NULL;
	return rows(st, node_cols, NULL);
}

/* One row by its key: Raft handshakes and forwarded writes look nodes up. */
json_t *ows_state_node(struct ows_state *s, uint64_t id)
{
	sqlite3_stmt *st;
	json_t *list, *row;

	if (ows_state_prepare(s, "SELECT id, raft, edge, gateway, key, joined "
			      "FROM nodes WHERE id = ?", &st) != 0)
		return NULL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	list = rows(st, node_cols, NULL);
	row = json_incref(json_array_get(list, 0));
	json_decref(list);
	return row;
}

bool ows_state_node_removed(struct ows_state *s, uint64_t id)
{
	sqlite3_stmt *st;
	bool removed = false;

	if (ows_state_prepare(s, "SELECT 1 FROM removed_nodes WHERE id=?",
			      &st) != 0)
		return false;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	removed = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return removed;
}

json_t *ows_state_rejections(struct ows_state *s, unsigned limit)
{
	static const char *const cols[] = {"id", "raft_index", "time", "code",
					   "message"};
	sqlite3_stmt *st;

	if (ows_state_prepare(s, "SELECT id, raft_index, time, code, message "
			      "FROM rejections ORDER BY id DESC LIMIT ?",
			      &st) != 0)
		return NULL;
	sqlite3_bind_int64(st, 1, limit);
	return rows(st, cols, NULL);
}

int ows_state_access_key(struct ows_state *s, const char *id,
			 struct ows_access_key *out)
{
	sqlite3_stmt *st;
	int rv = -ENOENT;

	if (ows_state_prepare(s, "SELECT user, sealed, sender FROM access_keys "
			      "WHERE id = ?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out->user, sizeof(out->user), "%s",
			 sqlite3_column_text(st, 0));
		snprintf(out->sealed, sizeof(out->sealed), "%s",
			 sqlite3_column_text(st, 1));
		snprintf(out->sender, sizeof(out->sender), "%s",
			 sqlite3_column_text(st, 2));
		rv = 0;
	}
	sqlite3_finalize(st);
	return rv;
}

json_t *ows_state_access_keys(struct ows_state *s, const char *user)
{
	static const char *const cols[] = {"id", "user", "created"};
	sqlite3_stmt *st;

	if (ows_state_prepare(s, "SELECT id, user, created FROM access_keys "
			      "WHERE ?1 IS NULL OR user = ?1 ORDER BY user, id",
			      &st) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	return rows(st, cols, NULL);
}

static int dir_user_of_key(void *ud, const char *pub, char *user, size_t cap)
{
	struct ows_state *s = ud;
	sqlite3_stmt *st;
	int rv = -ENOENT;

	if (ows_state_prepare(s, "SELECT user FROM user_keys WHERE key = ?",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, pub, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(user, cap, "%s", sqlite3_column_text(st, 0));
		rv = 0;
	}
	sqlite3_finalize(st);
	return rv;
}

/*
 * The policy documents named by the spec of kind/name, in one query for
 * users, roles and functions; the LEFT JOINs keep one row for a resource
 * that names none, so no row at all means it does not exist. A function
 * whose spec names a "role" has that role's policies too, as they are now.
 */
static int dir_principal_policies(void *ud, const char *kind, const char *name,
				  json_t *out)
{
	struct ows_state *s = ud;
	sqlite3_stmt *st;
	json_t *doc;
	int rv = -ENOENT;

	if (ows_state_prepare(s, "SELECT p.spec FROM resources r "
			      "LEFT JOIN json_each(r.spec, '$.policies') j "
			      "LEFT JOIN resources p ON p.kind='policies' AND "
			      "p.name=j.value WHERE r.kind=? AND r.name=? "
			      "UNION ALL SELECT p.spec FROM resources r "
			      "JOIN resources o ON o.kind='roles' AND "
			      "o.name=json_extract(r.spec, '$.role') "
			      "JOIN json_each(o.spec, '$.policies') j "
			      "JOIN resources p ON p.kind='policies' AND "
			      "p.name=j.value WHERE r.kind='functions' AND "
			      "r.kind=? AND r.name=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	while (rv != -ENOMEM && sqlite3_step(st) == SQLITE_ROW) {
		rv = 0;
		if (sqlite3_column_type(st, 0) != SQLITE_TEXT)
			continue;
		doc = ows_json_loads(
			(const char *)sqlite3_column_text(st, 0), 0, NULL);
		if (doc != NULL && json_array_append_new(out, doc) != 0)
			rv = -ENOMEM;
	}
	sqlite3_finalize(st);
	return rv;
}

static int dir_user_policies(void *ud, const char *user, json_t *out)
{
	int rv = dir_principal_policies(ud, "users", user, out);

	return rv == -ENOENT ? 0 : rv;
}

static int dir_spec_names(void *ud, const char *kind, const char *name,
			  const char *field, json_t *out)
{
	struct ows_state *s = ud;
	char path[64];
	sqlite3_stmt *st;
	int rv = 0;

	snprintf(path, sizeof(path), "$.%s", field);
	if (ows_state_prepare(s, "SELECT j.value FROM resources r, "
			      "json_each(r.spec, ?) j WHERE r.kind=? AND "
			      "r.name=?", &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_type(st, 0) == SQLITE_TEXT &&
		    json_array_append_new(out, json_string((const char *)
				sqlite3_column_text(st, 0))) != 0)
			rv = -ENOMEM;
	sqlite3_finalize(st);
	return rv;
}

static int dir_user_policy_names(void *ud, const char *user, json_t *out)
{
	return dir_spec_names(ud, "users", user, "policies", out);
}

/* The first column of sql's rows (one text parameter) appended to out. */
static int names_query(struct ows_state *s, const char *sql, const char *arg,
		       json_t *out)
{
	sqlite3_stmt *st;
	int rv = 0;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	while (rv == 0 && sqlite3_step(st) == SQLITE_ROW)
		if (json_array_append_new(out, json_string((const char *)
				sqlite3_column_text(st, 0))) != 0)
			rv = -ENOMEM;
	sqlite3_finalize(st);
	return rv;
}

static int dir_roles_trusting(void *ud, const char *user, json_t *out)
{
	return names_query(ud, "SELECT DISTINCT r.name FROM resources r, "
			   "json_each(r.spec, '$.trusted_users') j WHERE "
			   "r.kind='roles' AND j.value=?", user, out);
}

static int dir_functions_naming(void *ud, const char *policy, json_t *out)
{
	return names_query(ud, "SELECT DISTINCT f.name FROM resources f, "
			   "json_each(f.spec, '$.policies') j WHERE "
			   "f.kind='functions' AND j.value=?1 UNION "
			   "SELECT f.name FROM resources f, resources o, "
			   "json_each(o.spec, '$.policies') j WHERE "
			   "f.kind='functions' AND o.kind='roles' AND "
			   "o.name=json_extract(f.spec, '$.role') AND "
			   "j.value=?1", policy, out);
}

static int dir_access_key_user(void *ud, const char *id, char *user,
			       size_t cap)
{
	struct ows_state *s = ud;
	sqlite3_stmt *st;
	int rv = -ENOENT;

	if (ows_state_prepare(s, "SELECT user FROM access_keys WHERE id = ?",
			      &st) != 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(user, cap, "%s", sqlite3_column_text(st, 0));
		rv = 0;
	}
	sqlite3_finalize(st);
	return rv;
}

void ows_state_directory(struct ows_state *s, struct ows_directory *out)
{
	out->ud = s;
	out->user_of_key = dir_user_of_key;
	out->user_policies = dir_user_policies;
	out->user_policy_names = dir_user_policy_names;
	out->access_key_user = dir_access_key_user;
	out->principal_policies = dir_principal_policies;
	out->spec_names = dir_spec_names;
	out->roles_trusting = dir_roles_trusting;
	out->functions_naming = dir_functions_naming;
}
