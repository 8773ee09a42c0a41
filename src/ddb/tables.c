/*
 * The resource kind "tables" (ddb_model.h): the check of a table's spec,
 * the same for stack files and for the tables made through the API, and
 * its apply inside the entry's transaction. The spec lives in the
 * generic resources row; what apply assigns (the table's id and creation
 * time, each index's id and status) lives in ddb_tables and ddb_indexes.
 *
 * Verbs:
 *   put     a stack file's table: create it, or change it (add and remove
 *           global secondary indexes, TTL attribute, tags, billing); its
 *           key schema and local indexes never change
 *   create  CreateTable: refused when the table exists
 *   update  UpdateTable, UpdateTimeToLive, TagResource, UntagResource: a
 *           change (spec below) to a table that must exist
 *   delete  a stack file's delete: refused while the table holds items
 *           unless its stored spec has "force_delete": true
 *   drop    DeleteTable: the table with its items
 *
 * The spec of "update" is a change, applied to the stored spec here so
 * that two API calls at once never undo each other:
 *   {"indexes": {NAME: INDEX (add) | null (remove)},
 *    "index_provisioned": {NAME: {"read", "write"}},
 *    "ttl": {"enabled": BOOL, "attribute": NAME},
 *    "tags": {K: V} (set), "untag": [K],
 *    "billing_mode": MODE, "provisioned": {"read", "write"} | null}
 *
 * Ids: a table's tid, and the iid of a global index added after the
 * table was made, are height * 1000 + n, n counting those the same entry
 * assigned before (a stack file may make several tables at one height),
 * so that no id is ever used twice; the indexes a table is made with are
 * 1, 2, ... in the order of their names. An index added to a table with
 * items is filled from them inside the same apply (its status is ACTIVE
 * when the entry is applied; no CREATING phase is visible).
 *
 * Refusals carry DynamoDB's code before the message ("ResourceInUse
 * Exception: Table already exists: users"), which table_api.c turns into
 * the error it answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "ddb/ddb_priv.h"
#include "ddb/tables.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		   "0123456789_.-"
#define ID_SCALE 1000
#define PAGE 256

bool ows__ddb_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n >= 3 && n <= 255 && strspn(name, NAME_CHARS) == n;
}

/* ---- check ---- */

/* Every member of obj is one of allowed (NULL-terminated). */
static int members_known(const json_t *obj, const char *const *allowed,
			 const char *what, struct ows_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;

		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			ows_err_printf(err, "%s: unknown member '%.64s'", what,
				       k);
			return OWS_EINVAL;
		}
	}
	return 0;
}

/* A key "NAME:TYPE" at member of obj (absent: out->name ""). */
static int key_check(const json_t *obj, const char *member, bool need,
		     const char *what, struct ows_ddb_keydef *out,
		     struct ows_err *err)
{
	const json_t *v = json_object_get(obj, member);

	memset(out, 0, sizeof(*out));
	if (v == NULL && !need)
		return 0;
	if (!json_is_string(v) ||
	    ows__ddb_keydef_parse(json_string_value(v), out) != 0) {
		ows_err_printf(err, "%s: '%s' is \"NAME:TYPE\" with TYPE S, N "
			       "or B", what, member);
		return OWS_EINVAL;
	}
	return 0;
}

int ows__ddb_provisioned_check(const json_t *v, const char *what,
			       struct ows_err *err)
{
	static const char *const known[] = {"read", "write", NULL};
	const json_t *r = json_object_get(v, "read");
	const json_t *w = json_object_get(v, "write");

	if (!json_is_object(v) || members_known(v, known, what, err) != 0 ||
	    !json_is_integer(r) || !json_is_integer(w) ||
	    json_integer_value(r) < 1 || json_integer_value(w) < 1 ||
	    json_integer_value(r) > 40000 || json_integer_value(w) > 40000) {
		ows_err_printf(err, "%s: 'provisioned' is {\"read\": N, "
			       "\"write\": N}, each 1 to 40000", what);
		return OWS_EINVAL;
	}
	return 0;
}

static int projection_check(const json_t *p, const char *what,
			    struct ows_err *err)
{
	const json_t *a;
	size_t i;

	if (p == NULL || (json_is_string(p) &&
			  (strcmp(json_string_value(p), "ALL") == 0 ||
			   strcmp(json_string_value(p), "KEYS_ONLY") == 0)))
		return 0;
	if (json_is_array(p) && json_array_size(p) >= 1 &&
	    json_array_size(p) <= 100) {
		json_array_foreach(p, i, a)
			if (!json_is_string(a) ||
			    json_string_length(a) == 0 ||
			    json_string_length(a) > 255)
				break;
		if (i == json_array_size(p))
			return 0;
	}
	ows_err_printf(err, "%s: 'projection' is \"ALL\", \"KEYS_ONLY\" or a "
		       "list of 1 to 100 attribute names (INCLUDE)", what);
	return OWS_EINVAL;
}

/* One attribute name has one type across every key of the table. */
static int type_agrees(const struct ows_ddb_keydef *a,
		       const struct ows_ddb_keydef *b, const char *table,
		       struct ows_err *err)
{
	if (a->name[0] == '\0' || b->name[0] == '\0' ||
	    strcmp(a->name, b->name) != 0 || a->type == b->type)
		return 0;
	ows_err_printf(err, "table '%s': attribute '%.64s' has two types "
		       "(%s and %s)", table, a->name, ows_ddb_type_name(a->type),
		       ows_ddb_type_name(b->type));
	return OWS_EINVAL;
}

static int index_check(const char *table, const char *iname,
		       const json_t *ix, const struct ows_ddb_keydef keys[2],
		       struct ows_ddb_keydef out[2], struct ows_err *err)
{
	static const char *const known[] = {
		"partition_key", "sort_key", "projection", "local",
		"provisioned", NULL};
	const json_t *local = json_object_get(ix, "local");
	char what[300];

	snprintf(what, sizeof(what), "table '%s' index '%.64s'", table, iname);
	if (!ows__ddb_name_valid(iname)) {
		ows_err_printf(err, "table '%s': index name '%.64s' is 3 to 255 "
			       "of a-z, A-Z, 0-9, '_', '-', '.'", table, iname);
		return OWS_EINVAL;
	}
	if (!json_is_object(ix)) {
		ows_err_printf(err, "%s: an index is an object", what);
		return OWS_EINVAL;
	}
	if (members_known(ix, known, what, err) != 0 ||
	    key_check(ix, "partition_key", true, what, &out[0], err) != 0 ||
	    key_check(ix, "sort_key", false, what, &out[1], err) != 0 ||
	    projection_check(json_object_get(ix, "projection"), what,
			     err) != 0)
		return OWS_EINVAL;
	if (local != NULL && !json_is_boolean(local)) {
		ows_err_printf(err, "%s: 'local' is true or false", what);
		return OWS_EINVAL;
	}
	if (json_object_get(ix, "provisioned") != NULL &&
	    ows__ddb_provisioned_check(json_object_get(ix, "provisioned"),
				       what, err) != 0)
		return OWS_EINVAL;
	if (out[1].name[0] && strcmp(out[0].name, out[1].name) == 0) {
		ows_err_printf(err, "%s: the partition and sort keys have the "
			       "same name", what);
		return OWS_EINVAL;
	}
	if (json_is_true(local)) {
		if (keys[1].name[0] == '\0' || out[1].name[0] == '\0') {
			ows_err_printf(err, "%s: a local index needs a sort key, "
				       "and a table with one", what);
			return OWS_EINVAL;
		}
		if (strcmp(out[0].name, keys[0].name) != 0 ||
		    out[0].type != keys[0].type) {
			ows_err_printf(err, "%s: a local index has the table's "
				       "partition key", what);
			return OWS_EINVAL;
		}
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (type_agrees(&out[i], &keys[j], table, err) != 0)
				return OWS_EINVAL;
	return 0;
}

static int indexes_check(const char *name, const json_t *indexes,
			 const struct ows_ddb_keydef keys[2],
			 struct ows_err *err)
{
	struct ows_ddb_keydef all[OWS_DDB_INDEXES_MAX][2];
	unsigned n_local = 0, n_global = 0, n = 0;
	const char *iname;
	json_t *ix;

	if (indexes == NULL)
		return 0;
	if (!json_is_object(indexes)) {
		ows_err_printf(err, "table '%s': 'indexes' is an object of "
			       "indexes by name", name);
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)indexes, iname, ix) {
		if (json_is_true(json_object_get(ix, "local")))
			n_local++;
		else
			n_global++;
		if (n_local > OWS_DDB_LSI_MAX || n_global > OWS_DDB_GSI_MAX) {
			ows_err_printf(err, "table '%s': at most %d local and "
				       "%d global indexes", name,
				       OWS_DDB_LSI_MAX, OWS_DDB_GSI_MAX);
			return OWS_EINVAL;
		}
		if (index_check(name, iname, ix, keys, all[n], err) != 0)
			return OWS_EINVAL;
		/* one attribute, one type, across the indexes too */
		for (unsigned m = 0; m < n; m++)
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 2; j++)
					if (type_agrees(&all[n][i], &all[m][j],
							name, err) != 0)
						return OWS_EINVAL;
		n++;
	}
	return 0;
}

static int tags_check(const char *name, const json_t *tags,
		      struct ows_err *err)
{
	const char *k;
	json_t *v;

	if (tags == NULL)
		return 0;
	if (!json_is_object(tags) || json_object_size(tags) > 50)
		goto bad;
	json_object_foreach((json_t *)tags, k, v)
		if (strlen(k) < 1 || strlen(k) > 128 || !json_is_string(v) ||
		    json_string_length(v) > 256)
			goto bad;
	return 0;
bad:
	ows_err_printf(err, "table '%s': 'tags' is an object of at most 50 "
		       "keys of 1 to 128 characters, values strings of at most "
		       "256", name);
	return OWS_EINVAL;
}

static int tables_check(const char *name, const json_t *spec,
			struct ows_err *err)
{
	static const char *const known[] = {
		"partition_key", "sort_key", "indexes", "ttl_attribute",
		"billing_mode", "provisioned", "tags", "force_delete", NULL};
	const json_t *ttl = json_object_get(spec, "ttl_attribute");
	const json_t *fd = json_object_get(spec, "force_delete");
	const char *bm = ows_json_str(spec, "billing_mode");
	struct ows_ddb_keydef keys[2];
	char what[300];

	if (!ows__ddb_name_valid(name)) {
		ows_err_printf(err, "a table name is 3 to 255 of a-z, A-Z, "
			       "0-9, '_', '-', '.'");
		return OWS_EINVAL;
	}
	snprintf(what, sizeof(what), "table '%s'", name);
	if (!json_is_object(spec)) {
		ows_err_printf(err, "%s: a table's spec is an object", what);
		return OWS_EINVAL;
	}
	if (members_known(spec, known, what, err) != 0 ||
	    key_check(spec, "partition_key", true, what, &keys[0], err) != 0 ||
	    key_check(spec, "sort_key", false, what, &keys[1], err) != 0)
		return OWS_EINVAL;
	if (keys[1].name[0] && strcmp(keys[0].name, keys[1].name) == 0) {
		ows_err_printf(err, "%s: the partition and sort keys have the "
			       "same name", what);
		return OWS_EINVAL;
	}
	if (ttl != NULL && (!json_is_string(ttl) ||
			    json_string_length(ttl) < 1 ||
			    json_string_length(ttl) > 255)) {
		ows_err_printf(err, "%s: 'ttl_attribute' is an attribute name",
			       what);
		return OWS_EINVAL;
	}
	if ((json_object_get(spec, "billing_mode") != NULL &&
	     (bm == NULL || (strcmp(bm, "PAY_PER_REQUEST") != 0 &&
			     strcmp(bm, "PROVISIONED") != 0))) ||
	    (fd != NULL && !json_is_boolean(fd))) {
		ows_err_printf(err, "%s: 'billing_mode' is PAY_PER_REQUEST or "
			       "PROVISIONED, 'force_delete' true or false",
			       what);
		return OWS_EINVAL;
	}
	if (json_object_get(spec, "provisioned") != NULL &&
	    ows__ddb_provisioned_check(json_object_get(spec, "provisioned"),
				       what, err) != 0)
		return OWS_EINVAL;
	if (bm != NULL && strcmp(bm, "PROVISIONED") == 0 &&
	    json_object_get(spec, "provisioned") == NULL) {
		ows_err_printf(err, "%s: billing_mode PROVISIONED needs "
			       "'provisioned'", what);
		return OWS_EINVAL;
	}
	if (tags_check(name, json_object_get(spec, "tags"), err) != 0)
		return OWS_EINVAL;
	return indexes_check(name, json_object_get(spec, "indexes"), keys,
			     err);
}

/* ---- apply: storage ---- */

/* Run sql with int64 parameters a, b (and text t at ?3, or none). */
static int exec_ii(struct ows_state *s, const char *sql, int64_t a,
		   int64_t b, const char *t)
{
	sqlite3_stmt *st;
	int rc;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (t != NULL)
		sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

/* The first int64 column of sql's first row (bound as exec_ii), or dflt. */
static int64_t query_i(struct ows_state *s, const char *sql, int64_t a,
		       int64_t b, int64_t dflt)
{
	sqlite3_stmt *st;
	int64_t v = dflt;

	if (ows_state_prepare(s, sql, &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t table_tid(struct ows_state *s, const char *name)
{
	sqlite3_stmt *st;
	int64_t tid = -1;

	if (ows_state_prepare(s, "SELECT tid FROM ddb_tables WHERE name=?",
			      &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		tid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return tid;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of obj's members, sorted (*n of them; free the array). */
static const char **sorted_names(const json_t *obj, size_t *n)
{
	const char **v = calloc(json_object_size(obj) + 1, sizeof(*v));
	const char *k;
	json_t *x;

	*n = 0;
	if (v == NULL)
		return NULL;
	json_object_foreach((json_t *)obj, k, x)
		v[(*n)++] = k;
	qsort(v, *n, sizeof(*v), name_cmp);
	return v;
}

/* ---- apply: rows ---- */

typedef int (*item_fn)(struct ows_state *s, const struct ows_ddb_table *t,
		       const json_t *item, void *ud);

/*
 * Call fn for each item of t's table rows, a page at a time, so that
 * what fn writes never runs under an open statement.
 */
static int each_item(struct ows_state *s, const struct ows_ddb_table *t,
		     item_fn fn, void *ud)
{
	json_t *page = json_array(), *item;
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	int64_t h = -1;
	sqlite3_stmt *st;
	size_t i;
	int rv = 0, rc;

	if (page == NULL)
		return -ENOMEM;
	for (;;) {
		if (ows_state_prepare(s, "SELECT h, pk, sk, item FROM "
				      OWS_DDB_ITEMS_JOIN " WHERE tid=?1 AND "
				      "iid=0 AND (h, pk, sk) > (?2, ?3, ?4) "
				      "ORDER BY h, pk, sk LIMIT 256",
				      &st) != 0) {
			rv = -EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, t->tid);
		sqlite3_bind_int64(st, 2, h);
		sqlite3_bind_blob(st, 3, pk.data ? pk.data : "", (int)pk.len,
				  SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, sk.data ? sk.data : "", (int)sk.len,
				  SQLITE_TRANSIENT);
		json_array_clear(page);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			h = sqlite3_column_int64(st, 0);
			pk.len = sk.len = 0;
			ows_buf_append(&pk, sqlite3_column_blob(st, 1),
				    (size_t)sqlite3_column_bytes(st, 1));
			ows_buf_append(&sk, sqlite3_column_blob(st, 2),
				    (size_t)sqlite3_column_bytes(st, 2));
			item = ows_ddb_item_decode(sqlite3_column_blob(st, 3),
						   (size_t)sqlite3_column_bytes(
							   st, 3));
			if (item == NULL) {
				rc = SQLITE_CORRUPT;
				break;
			}
			json_array_append_new(page, item);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			rv = -EIO;
			break;
		}
		json_array_foreach(page, i, item)
			if ((rv = fn(s, t, item, ud)) != 0)
				break;
		if (rv != 0 || json_array_size(page) < PAGE)
			break;
	}
	json_decref(page);
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	return rv;
}

static int fill_one(struct ows_state *s, const struct ows_ddb_table *t,
		    const json_t *item, void *ud)
{
	return ows__ddb_index_fill(s, t, ud, item);
}

/* Set the expires column of one row of item (table or index ix). */
static int expires_row(struct ows_state *s, const struct ows_ddb_table *t,
		       const struct ows_ddb_index *ix, const json_t *item,
		       int64_t e)
{
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	sqlite3_stmt *st;
	uint32_t h;
	int rv = ows__ddb_row_key(t, ix, item, &h, &pk, &sk);

	if (rv == 1) {
		rv = -EIO;
		if (ows_state_prepare(s, "UPDATE ddb_items SET expires=?1 WHERE "
				      "tid=?2 AND iid=?3 AND h=?4 AND pk=?5 "
				      "AND sk=?6", &st) == 0) {
			if (e > 0)
				sqlite3_bind_int64(st, 1, e);
			sqlite3_bind_int64(st, 2, t->tid);
			sqlite3_bind_int64(st, 3, ix ? ix->iid : 0);
			sqlite3_bind_int64(st, 4, h);
			sqlite3_bind_blob(st, 5, pk.data ? pk.data : "",
					  (int)pk.len, SQLITE_STATIC);
			sqlite3_bind_blob(st, 6, sk.data ? sk.data : "",
					  (int)sk.len, SQLITE_STATIC);
			rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
			sqlite3_finalize(st);
		}
	} else if (rv == 0 && ix == NULL) {
		rv = -EIO; /* a stored item without its keys */
	} else if (rv > 0 || rv == OWS_EINVAL) {
		rv = 0;
	}
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	return rv;
}

static int expires_one(struct ows_state *s, const struct ows_ddb_table *t,
		       const json_t *item, void *ud)
{
	int64_t e = ows__ddb_item_expires(t, item);
	int rv = expires_row(s, t, NULL, item, e);

	(void)ud;
	for (size_t i = 0; rv == 0 && i < t->n_indexes; i++)
		rv = expires_row(s, t, &t->indexes[i], item, e);
	return rv;
}

/* ---- apply: tables and indexes ---- */

/* A new id: height * ID_SCALE + n, n past those this entry gave. */
static int64_t new_id(const struct ows_apply_ctx *c, const char *sql,
		      int64_t tid)
{
	int64_t base = (int64_t)c->height * ID_SCALE;
	int64_t last = query_i(c->s, sql, tid, base, base - 1);

	return last < -1 ? -1 : last + 1;
}

static int index_row(const struct ows_apply_ctx *c, int64_t tid,
		     const char *iname, int64_t iid)
{
	return exec_ii(c->s, "INSERT INTO ddb_indexes(tid, iid, name, status) "
		       "VALUES(?1, ?2, ?3, 'ACTIVE')", tid, iid, iname);
}

static int table_create(const struct ows_apply_ctx *c, const char *name,
			const json_t *spec, struct ows_err *err)
{
	const json_t *indexes = json_object_get(spec, "indexes");
	int64_t tid = new_id(c, "SELECT MAX(tid) FROM ddb_tables WHERE "
			     "tid >= ?2 AND tid < ?2 + 1000 AND ?1 = 0", 0);
	const char **names;
	size_t n;
	int rv;

	if (tid < 0)
		return -EIO;
	rv = ows_kind_put(c, "tables", name, spec, err);
	if (rv != 0)
		return rv;
	/* rows a table of this name left behind cannot be: tids are new */
	rv = exec_ii(c->s, "INSERT INTO ddb_tables(tid, created, name) "
		     "VALUES(?1, ?2, ?3)", tid, c->time_ms, name);
	names = sorted_names(indexes, &n);
	if (names == NULL)
		return -ENOMEM;
	for (size_t i = 0; rv == 0 && i < n; i++)
		rv = index_row(c, tid, names[i], (int64_t)i + 1);
	free(names);
	return rv;
}

/* The spec of index ix without its provisioned numbers. */
static bool index_same(const json_t *a, const json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	bool eq;

	json_object_del(x, "provisioned");
	json_object_del(y, "provisioned");
	eq = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

static int index_drop(const struct ows_apply_ctx *c, int64_t tid,
		      const char *iname)
{
	sqlite3_stmt *st;
	int64_t iid;
	int rv;

	if (ows_state_prepare(c->s, "SELECT iid FROM ddb_indexes WHERE tid=? "
			      "AND name=?", &st) != 0)
		return -EIO;
	sqlite3_bind_int64(st, 1, tid);
	sqlite3_bind_text(st, 2, iname, -1, SQLITE_STATIC);
	iid = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0)
					     : -1;
	sqlite3_finalize(st);
	if (iid < 0)
		return 0;
	rv = ows__ddb_rows_drop(c->s, tid, iid);
	if (rv == 0)
		rv = exec_ii(c->s, "DELETE FROM ddb_indexes WHERE tid=?1 AND "
			     "iid=?2", tid, iid, NULL);
	return rv;
}

/* Add index iname to table name (its spec written) and fill it. */
static int index_add(const struct ows_apply_ctx *c, const char *name,
		     int64_t tid, const char *iname)
{
	int64_t iid = new_id(c, "SELECT MAX(iid) FROM ddb_indexes WHERE "
			     "tid=?1 AND iid >= ?2 AND iid < ?2 + 1000", tid);
	struct ows_ddb_table *t = NULL;
	const struct ows_ddb_index *ix;
	int rv;

	if (iid < 0)
		return -EIO;
	rv = index_row(c, tid, iname, iid);
	if (rv == 0)
		rv = ows__ddb_table_load(c->s, name, &t);
	if (rv != 0)
		return rv == -ENOENT ? -EIO : rv;
	ix = ows__ddb_table_index(t, iname);
	rv = ix == NULL ? -EIO : each_item(c->s, t, fill_one, (void *)ix);
	ows__ddb_table_free(t);
	return rv;
}

static int refuse_keys(const json_t *old, const json_t *new,
		       const char *name, struct ows_err *err)
{
	const json_t *oi = json_object_get(old, "indexes");
	const json_t *ni = json_object_get(new, "indexes");
	const char *k;
	json_t *v;

	const json_t *os = json_object_get(old, "sort_key");
	const json_t *ns = json_object_get(new, "sort_key");

	if (!json_equal(json_object_get(old, "partition_key"),
			json_object_get(new, "partition_key")) ||
	    ((os != NULL || ns != NULL) && !json_equal(os, ns))) {
		ows_err_printf(err, "ValidationException: table '%s': its key "
			       "schema cannot change (delete it and make it "
			       "again)", name);
		return OWS_EINVAL;
	}
	json_object_foreach((json_t *)oi, k, v)
		if (json_is_true(json_object_get(v, "local")) &&
		    !json_equal(v, json_object_get(ni, k)))
			goto lsi;
	json_object_foreach((json_t *)ni, k, v)
		if (json_is_true(json_object_get(v, "local")) &&
		    !json_equal(v, json_object_get(oi, k)))
			goto lsi;
	return 0;
lsi:
	ows_err_printf(err, "ValidationException: table '%s': local index "
		       "'%.64s' cannot be added, removed or changed after the "
		       "table is made", name, k);
	return OWS_EINVAL;
}

/*
 * Make table name's spec new where it was old (written already): drop
 * the indexes that went or changed, add and fill the ones that came,
 * recompute expiry when the TTL attribute changed.
 */
static int table_change(const struct ows_apply_ctx *c, const char *name,
			const json_t *old, const json_t *new)
{
	const json_t *oi = json_object_get(old, "indexes");
	const json_t *ni = json_object_get(new, "indexes");
	int64_t tid = table_tid(c->s, name);
	const char **names;
	size_t n;
	int rv = 0;

	if (tid < 0)
		return -EIO;
	names = sorted_names(oi, &n);
	for (size_t i = 0; names && rv == 0 && i < n; i++) {
		const json_t *now = json_object_get(ni, names[i]);

		if (now == NULL || !index_same(now, json_object_get(oi,
								    names[i])))
			rv = index_drop(c, tid, names[i]);
	}
	free(names);
	names = sorted_names(ni, &n);
	for (size_t i = 0; names && rv == 0 && i < n; i++) {
		const json_t *was = json_object_get(oi, names[i]);

		if (was == NULL || !index_same(was, json_object_get(ni,
								    names[i])))
			rv = index_add(c, name, tid, names[i]);
	}
	free(names);
	if (names == NULL && rv == 0)
		return -ENOMEM;
	if (rv == 0 && !json_equal(json_object_get(old, "ttl_attribute"),
				   json_object_get(new, "ttl_attribute"))) {
		struct ows_ddb_table *t = NULL;

		rv = ows__ddb_table_load(c->s, name, &t);
		if (rv == 0)
			rv = each_item(c->s, t, expires_one, NULL);
		ows__ddb_table_free(t);
	}
	return rv;
}

static int table_put(const struct ows_apply_ctx *c, const char *name,
		     const json_t *spec, struct ows_err *err)
{
	json_t *old = ows_state_resource(c->s, "tables", name);
	int rv;

	if (old == NULL)
		return table_create(c, name, spec, err);
	rv = refuse_keys(old, spec, name, err);
	if (rv == 0)
		rv = ows_kind_put(c, "tables", name, spec, err);
	if (rv == 0)
		rv = table_change(c, name, old, spec);
	json_decref(old);
	return rv;
}

static void not_found(const char *name, struct ows_err *err)
{
	ows_err_printf(err, "ResourceNotFoundException: Requested resource "
		       "not found: Table: %s not found", name);
}

static int table_update(const struct ows_apply_ctx *c, const char *name,
			const json_t *delta, struct ows_err *err)
{
	json_t *old = ows_state_resource(c->s, "tables", name), *new;
	int rv;

	if (old == NULL) {
		not_found(name, err);
		return OWS_ENOTFOUND;
	}
	new = json_deep_copy(old);
	rv = new == NULL ? -ENOMEM : ows__ddb_spec_change(new, delta, err);
	if (rv == 0 && tables_check(name, new, err) != 0) {
		ows_err_wrapf(err, "ValidationException: One or more parameter "
			      "values were invalid");
		rv = OWS_EINVAL;
	}
	if (rv == 0)
		rv = refuse_keys(old, new, name, err);
	if (rv == 0)
		rv = ows_kind_spec_write(c, "tables", name, new);
	if (rv == 0)
		rv = table_change(c, name, old, new);
	json_decref(old);
	json_decref(new);
	return rv;
}

/* The table's rows and side rows; the resources row is the caller's. */
static int table_forget(const struct ows_apply_ctx *c, const char *name)
{
	int64_t tid = table_tid(c->s, name);
	int rv;

	if (tid < 0)
		return 0;
	rv = ows__ddb_rows_drop(c->s, tid, -1);
	if (rv == 0)
		rv = exec_ii(c->s, "DELETE FROM ddb_indexes WHERE tid=?1", tid,
			     0, NULL);
	if (rv == 0)
		rv = exec_ii(c->s, "DELETE FROM ddb_tables WHERE tid=?1", tid,
			     0, NULL);
	return rv;
}

bool ows__ddb_table_has_items(struct ows_state *s, const char *name)
{
	int64_t tid = table_tid(s, name);

	/* refuse rather than lose data when the state cannot say */
	return tid >= 0 && query_i(s, "SELECT 1 FROM ddb_items WHERE tid=?1 "
				   "AND iid=0 LIMIT 1", tid, 0,
				   0) != 0;
}

static int table_delete(const struct ows_apply_ctx *c, const char *name,
			bool drop, struct ows_err *err)
{
	json_t *old = ows_state_resource(c->s, "tables", name);
	bool force = drop || (json_is_true(json_object_get(old,
							   "force_delete")) &&
			      c->stack[0] != '\0');
	int rv;

	if (old == NULL) {
		not_found(name, err);
		return OWS_ENOTFOUND;
	}
	json_decref(old);
	if (!force && ows__ddb_table_has_items(c->s, name)) {
		ows_err_printf(err, "ResourceInUseException: table '%s' holds "
			       "items: a stack deletes it only with "
			       "\"force_delete\": true", name);
		return OWS_ECONFLICT;
	}
	rv = ows_kind_delete(c, "tables", name, err);
	if (rv == OWS_ECONFLICT)
		ows_err_wrapf(err, "ResourceInUseException");
	if (rv == 0)
		rv = table_forget(c, name);
	return rv;
}

static int tables_apply(const struct ows_apply_ctx *c, const char *verb,
			const char *name, const json_t *spec, json_t *result,
			struct ows_err *err)
{
	int rv;

	(void)result;
	if (strcmp(verb, "put") == 0)
		return table_put(c, name, spec, err);
	if (strcmp(verb, "create") == 0) {
		if (ows_state_resource_exists(c->s, "tables", name) == 1) {
			ows_err_printf(err, "ResourceInUseException: Table "
				       "already exists: %s", name);
			return OWS_ECONFLICT;
		}
		rv = tables_check(name, spec, err);
		return rv ? rv : table_create(c, name, spec, err);
	}
	if (strcmp(verb, "update") == 0)
		return table_update(c, name, spec, err);
	if (strcmp(verb, "delete") == 0 || strcmp(verb, "drop") == 0)
		return table_delete(c, name, verb[1] == 'r', err);
	ows_err_printf(err, "unknown action 'tables.%s'", verb);
	return OWS_EINVAL;
}

/*
 * A database of the older layout, the items inside ddb_items, in this
 * one (ddb_model.h): each row's item moves to ddb_data under a rid given
 * in key order, the same on every node. Once, when such a database opens
 * or is installed from an older build's snapshot; the schema has just
 * made ddb_data (empty).
 */
static int tables_upgrade(sqlite3 *db)
{
	static const char old_sql[] =
		"SELECT 1 FROM pragma_table_info('ddb_items')"
		" WHERE name = 'item'";
	static const char move_sql[] =
		"ALTER TABLE ddb_items RENAME TO ddb_items_old;"
		"DROP INDEX IF EXISTS ddb_items_expires;"
		OWS_DDB_SCHEMA
		"INSERT INTO ddb_data(rid, item) SELECT row_number() OVER"
		"  (ORDER BY tid, iid, h, pk, sk), item FROM ddb_items_old;"
		"INSERT INTO ddb_items(tid, iid, h, pk, sk, rid, expires)"
		"  SELECT tid, iid, h, pk, sk, row_number() OVER"
		"  (ORDER BY tid, iid, h, pk, sk), expires FROM ddb_items_old;"
		"DROP TABLE ddb_items_old;";
	sqlite3_stmt *st;
	bool old, outer;
	int rv;

	if (sqlite3_prepare_v2(db, old_sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	old = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!old)
		return 0;
	outer = sqlite3_get_autocommit(db);
	rv = sqlite3_exec(db, "SAVEPOINT ddb_layout", NULL, NULL, NULL);
	if (rv == SQLITE_OK)
		rv = sqlite3_exec(db, move_sql, NULL, NULL, NULL);
	/* the moved items wait in the page cache until the savepoint ends:
	   a full disk shows here as often as in the move itself */
	if (rv == SQLITE_OK)
		rv = sqlite3_exec(db, "RELEASE ddb_layout", NULL, NULL, NULL);
	if (rv != SQLITE_OK) {
		ows_log(OWS_LOG_ERROR, "ddb", "cannot move items to the "
			"current layout, the older one kept: %s",
			sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK TO ddb_layout", NULL, NULL, NULL);
		sqlite3_exec(db, "RELEASE ddb_layout", NULL, NULL, NULL);
		/* a failed commit may leave the transaction open */
		if (outer && !sqlite3_get_autocommit(db))
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	ows_log(OWS_LOG_INFO, "ddb", "items moved to the current layout "
		"(items apart from their keys)");
	return 0;
}

const struct ows_kind ows__ddb_tables_kind = {
	.name = "tables",
	.arn_service = "dynamodb",
	.arn_type = "table",
	.rank = 75,
	.in_stacks = true,
	.schema = OWS_DDB_SCHEMA,
	.upgrade = tables_upgrade,
	.check = tables_check,
	.apply = tables_apply,
};
