/*
 * Items and index entries as rows of ddb_items (ddb_model.h): the keys
 * of a table checked as DynamoDB checks them, the row key of an item in
 * the table or in one of its indexes, an item's projection for an index,
 * and the reads and writes of rows that apply and the handlers share.
 * Writes happen only inside apply (the entry's transaction), so that an
 * item and its index entries change together on every node.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/ddb_priv.h"

#define ROW_KEY "tid = ?1 AND iid = ?2 AND h = ?3 AND pk = ?4 AND sk = ?5"

static const char get_sql[] =
	"SELECT item, expires FROM " OWS_DDB_ITEMS_JOIN
	" WHERE tid = ?1 AND iid = 0 AND h = ?2 AND pk = ?3 AND sk = ?4";
/* a row that is there keeps its rid: its item is written over */
static const char row_update_sql[] =
	"UPDATE ddb_items SET expires = ?6 WHERE " ROW_KEY " RETURNING rid";
static const char data_update_sql[] =
	"UPDATE ddb_data SET item = ?2 WHERE rid = ?1";
static const char data_insert_sql[] = "INSERT INTO ddb_data(item) VALUES(?1)";
static const char row_insert_sql[] =
	"INSERT INTO ddb_items(tid, iid, h, pk, sk, rid, expires)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char del_sql[] =
	"DELETE FROM ddb_items WHERE " ROW_KEY " RETURNING rid";
static const char data_del_sql[] = "DELETE FROM ddb_data WHERE rid = ?1";
static const char table_count_sql[] =
	"UPDATE ddb_tables SET items = items + ?2, bytes = bytes + ?3"
	" WHERE tid = ?1";
static const char index_count_sql[] =
	"UPDATE ddb_indexes SET items = items + ?3, bytes = bytes + ?4"
	" WHERE tid = ?1 AND iid = ?2";
static const char drop_data_sql[] =
	"DELETE FROM ddb_data WHERE rid IN"
	" (SELECT rid FROM ddb_items WHERE tid = ?1)";
static const char drop_sql[] = "DELETE FROM ddb_items WHERE tid = ?1";
static const char drop_index_data_sql[] =
	"DELETE FROM ddb_data WHERE rid IN"
	" (SELECT rid FROM ddb_items WHERE tid = ?1 AND iid = ?2)";
static const char drop_index_sql[] =
	"DELETE FROM ddb_items WHERE tid = ?1 AND iid = ?2";

/* ---- checks ---- */

static bool key_empty(const json_t *av)
{
	/* an AttributeValue's one member (none when av is not one) */
	const json_t *v = ows_ddb_type_of(av) != OWS_DDB_NONE
		? json_object_iter_value(json_object_iter((json_t *)av)) : NULL;

	return json_is_string(v) && json_string_length(v) == 0;
}

/* DynamoDB's limits on a key value's size (its messages verbatim). */
static int key_size_check(const json_t *av, bool sort, struct ows_err *err)
{
	if (!sort && ows_ddb_value_size(av) > OWS_DDB_PK_MAX) {
		ows_err_printf(err, "One or more parameter values were "
			       "invalid: Size of hashkey has exceeded the "
			       "maximum size limit of2048 bytes");
		return OWS_EINVAL;
	}
	if (sort && ows_ddb_value_size(av) > OWS_DDB_SK_MAX) {
		ows_err_printf(err, "One or more parameter values were "
			       "invalid: Aggregated size of all range keys "
			       "has exceeded the size limit of 1024 bytes");
		return OWS_EINVAL;
	}
	return 0;
}

int ows__ddb_key_check(const struct ows_ddb_table *t, json_t *key,
		       struct ows_err *err)
{
	const struct ows_ddb_keydef *defs[2] = {&t->pk, &t->sk};
	size_t want = t->sk.name[0] ? 2 : 1;

	if (!json_is_object(key) || json_object_size(key) != want)
		goto mismatch;
	for (size_t i = 0; i < want; i++) {
		json_t *av = json_object_get(key, defs[i]->name);

		if (av == NULL || ows_ddb_type_of(av) != defs[i]->type)
			goto mismatch;
		if (ows_ddb_value_check(av, err) != 0)
			return OWS_EINVAL;
		if (key_empty(av)) {
			ows_err_printf(err, "One or more parameter values are "
				       "not valid. The AttributeValue for a "
				       "key attribute cannot contain an empty "
				       "%s value. Key: %s",
				       defs[i]->type == OWS_DDB_B ? "binary"
								  : "string",
				       defs[i]->name);
			return OWS_EINVAL;
		}
		if (key_size_check(av, i == 1, err) != 0)
			return OWS_EINVAL;
	}
	return 0;
mismatch:
	ows_err_printf(err, "The provided key element does not match the "
		       "schema");
	return OWS_EINVAL;
}

static int table_key_check(const struct ows_ddb_keydef *d, const json_t *item,
			   bool sort, struct ows_err *err)
{
	const json_t *av = json_object_get(item, d->name);
	enum ows_ddb_type ty = ows_ddb_type_of(av);

	if (av == NULL) {
		ows_err_printf(err, "One or more parameter values were "
			       "invalid: Missing the key %s in the item",
			       d->name);
		return OWS_EINVAL;
	}
	if (ty != d->type) {
		ows_err_printf(err, "One or more parameter values were "
			       "invalid: Type mismatch for key %s expected: "
			       "%s actual: %s", d->name,
			       ows_ddb_type_name(d->type),
			       ows_ddb_type_name(ty));
		return OWS_EINVAL;
	}
	if (key_empty(av)) {
		ows_err_printf(err, "One or more parameter values are not "
			       "valid. The AttributeValue for a key attribute "
			       "cannot contain an empty %s value. Key: %s",
			       ty == OWS_DDB_B ? "binary" : "string", d->name);
		return OWS_EINVAL;
	}
	return key_size_check(av, sort, err);
}

static int index_key_check(const struct ows_ddb_index *ix,
			   const struct ows_ddb_keydef *d, const json_t *item,
			   struct ows_err *err)
{
	const json_t *av = json_object_get(item, d->name);
	enum ows_ddb_type ty = ows_ddb_type_of(av);

	if (av == NULL)
		return 0;
	if (ty != d->type) {
		ows_err_printf(err, "One or more parameter values were "
			       "invalid: Type mismatch for Index Key %s "
			       "Expected: %s Actual: %s IndexName: %s",
			       d->name, ows_ddb_type_name(d->type),
			       ows_ddb_type_name(ty), ix->name);
		return OWS_EINVAL;
	}
	if (key_empty(av)) {
		ows_err_printf(err, "One or more parameter values are not "
			       "valid. A value specified for a secondary index "
			       "key is not supported. The AttributeValue for a "
			       "key attribute cannot contain an empty %s "
			       "value. IndexName: %s, IndexKey: %s",
			       ty == OWS_DDB_B ? "binary" : "string", ix->name,
			       d->name);
		return OWS_EINVAL;
	}
	return 0;
}

int ows__ddb_item_keys_check(const struct ows_ddb_table *t, const json_t *item,
			     struct ows_err *err)
{
	if (table_key_check(&t->pk, item, false, err) != 0 ||
	    (t->sk.name[0] && table_key_check(&t->sk, item, true, err) != 0))
		return OWS_EINVAL;
	for (size_t i = 0; i < t->n_indexes; i++) {
		const struct ows_ddb_index *ix = &t->indexes[i];

		if (index_key_check(ix, &ix->pk, item, err) != 0 ||
		    (ix->sk.name[0] &&
		     index_key_check(ix, &ix->sk, item, err) != 0))
			return OWS_EINVAL;
	}
	return 0;
}

json_t *ows__ddb_key_of(const struct ows_ddb_table *t, const json_t *item)
{
	json_t *key = json_object();
	json_t *v;

	if (key == NULL)
		return NULL;
	v = json_object_get(item, t->pk.name);
	if (v != NULL)
		json_object_set_new(key, t->pk.name, json_deep_copy(v));
	v = t->sk.name[0] ? json_object_get(item, t->sk.name) : NULL;
	if (v != NULL)
		json_object_set_new(key, t->sk.name, json_deep_copy(v));
	return key;
}

/* ---- row keys and projections ---- */

/* Append the encoding of item's attribute d: 1, or 0 when absent. */
static int key_part(const struct ows_ddb_keydef *d, const json_t *item,
		    struct ows_buf *out)
{
	const json_t *av = json_object_get(item, d->name);

	if (av == NULL || ows_ddb_type_of(av) != d->type)
		return 0;
	return ows_ddb_key_encode(av, out) == 0 ? 1 : OWS_EINVAL;
}

int ows__ddb_row_key(const struct ows_ddb_table *t,
		     const struct ows_ddb_index *ix, const json_t *item,
		     uint32_t *h, struct ows_buf *pk, struct ows_buf *sk)
{
	int rv;

	if (ix != NULL) {
		rv = key_part(&ix->pk, item, pk);
		if (rv == 1 && ix->sk.name[0])
			rv = key_part(&ix->sk, item, sk);
		if (rv != 1)
			return rv;
		*h = ows_ddb_key_hash(pk->data, pk->len);
		/* then the table's keys: index rows are unique */
		if (key_part(&t->pk, item, sk) != 1 ||
		    (t->sk.name[0] && key_part(&t->sk, item, sk) != 1))
			return OWS_EINVAL;
		return 1;
	}
	if (key_part(&t->pk, item, pk) != 1 ||
	    (t->sk.name[0] && key_part(&t->sk, item, sk) != 1))
		return OWS_EINVAL;
	*h = ows_ddb_key_hash(pk->data, pk->len);
	return 1;
}

static void keep(json_t *out, const json_t *item, const char *name)
{
	json_t *v = name[0] ? json_object_get(item, name) : NULL;

	if (v != NULL)
		json_object_set_new(out, name, json_deep_copy(v));
}

json_t *ows__ddb_index_project(const struct ows_ddb_table *t,
			       const struct ows_ddb_index *ix,
			       const json_t *item)
{
	json_t *out;
	size_t i;
	const json_t *n;

	if (ix->projection == OWS_DDB_PROJ_ALL)
		return json_deep_copy(item);
	out = json_object();
	if (out == NULL)
		return NULL;
	keep(out, item, t->pk.name);
	keep(out, item, t->sk.name);
	keep(out, item, ix->pk.name);
	keep(out, item, ix->sk.name);
	if (ix->projection == OWS_DDB_PROJ_INCLUDE)
		json_array_foreach(ix->include, i, n)
			if (json_is_string(n))
				keep(out, item, json_string_value(n));
	return out;
}

int64_t ows__ddb_item_expires(const struct ows_ddb_table *t,
			      const json_t *item)
{
	struct ows_ddb_num n;
	struct ows_err err;
	int64_t v = 0;

	if (t->ttl[0] == '\0' ||
	    ows_ddb_value_num(json_object_get(item, t->ttl), &n, &err) != 0 ||
	    n.sign <= 0)
		return 0;
	/* the integer part: digits before the point (exp of them) */
	if (n.exp > 18)
		return 0;
	for (int i = 0; i < n.exp; i++)
		v = v * 10 + (i < (int)n.n ? n.d[i] : 0);
	return v;
}

/* ---- reads ---- */

/*
 * Step the get statement for key's row: 1 with *st on the live row (its
 * item in column 0; reset it after), 0 when there is none or it expired
 * before now_s (0: never), or -EIO. pk and sk hold the bound key until
 * the reset.
 */
static int item_row(struct ows_state *s, const struct ows_ddb_table *t,
		    const json_t *key, int64_t now_s, struct ows_buf *pk,
		    struct ows_buf *sk, sqlite3_stmt **st)
{
	uint32_t h;
	int rv;

	if (ows__ddb_row_key(t, NULL, key, &h, pk, sk) != 1)
		return 0; /* not a key of this table: no such item */
	rv = ows_state_stmt(s, get_sql, st);
	if (rv != 0)
		return rv;
	sqlite3_bind_int64(*st, 1, t->tid);
	sqlite3_bind_int64(*st, 2, h);
	sqlite3_bind_blob(*st, 3, pk->data, (int)pk->len, SQLITE_STATIC);
	sqlite3_bind_blob(*st, 4, sk->data ? (void *)sk->data : "",
			  (int)sk->len, SQLITE_STATIC);
	rv = sqlite3_step(*st);
	if (rv == SQLITE_ROW) {
		int64_t exp = sqlite3_column_int64(*st, 1);

		if (now_s == 0 ||
		    sqlite3_column_type(*st, 1) == SQLITE_NULL || exp > now_s)
			return 1;
		rv = 0;
	} else {
		rv = rv == SQLITE_DONE ? 0 : -EIO;
	}
	sqlite3_reset(*st);
	return rv;
}

int ows__ddb_item_get(struct ows_state *s, const struct ows_ddb_table *t,
		      const json_t *key, int64_t now_s, json_t **out)
{
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	sqlite3_stmt *st;
	int rv;

	*out = NULL;
	rv = item_row(s, t, key, now_s, &pk, &sk, &st);
	if (rv == 1) {
		rv = 0;
		*out = ows_ddb_item_decode(sqlite3_column_blob(st, 0),
					   (size_t)sqlite3_column_bytes(st, 0));
		if (*out == NULL)
			rv = -EIO;
		sqlite3_reset(st);
	}
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	return rv;
}

int ows__ddb_item_get_json(struct ows_state *s, const struct ows_ddb_table *t,
			   const json_t *key, int64_t now_s,
			   struct ows_buf *out, size_t *size)
{
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT;
	sqlite3_stmt *st;
	int rv;

	*size = 0;
	rv = item_row(s, t, key, now_s, &pk, &sk, &st);
	if (rv == 1) {
		rv = ows_ddb_item_json(sqlite3_column_blob(st, 0),
				       (size_t)sqlite3_column_bytes(st, 0),
				       out, size);
		/* as ows__ddb_item_get, whose decode fails one way */
		rv = rv == 0 ? 1 : -EIO;
		sqlite3_reset(st);
	}
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	return rv;
}

/* ---- writes (inside apply) ---- */

static int exec_counts(struct ows_state *s, const char *sql, int64_t tid,
		       int64_t iid, int64_t items, int64_t bytes)
{
	sqlite3_stmt *st;
	int rv = ows_state_stmt(s, sql, &st), n = 1;

	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, n++, tid);
	if (sql == index_count_sql)
		sqlite3_bind_int64(st, n++, iid);
	sqlite3_bind_int64(st, n++, items);
	sqlite3_bind_int64(st, n, bytes);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_reset(st);
	return rv;
}

static int counts(struct ows_state *s, const struct ows_ddb_table *t,
		  const struct ows_ddb_index *ix, int64_t items, int64_t bytes)
{
	if (ix == NULL)
		return exec_counts(s, table_count_sql, t->tid, 0, items, bytes);
	return exec_counts(s, index_count_sql, t->tid, ix->iid, items, bytes);
}

/* Bind a row's key as ROW_KEY's ?1..?5. */
static void bind_row_key(sqlite3_stmt *st, const struct ows_ddb_table *t,
			 const struct ows_ddb_index *ix, uint32_t h,
			 const struct ows_buf *pk, const struct ows_buf *sk)
{
	sqlite3_bind_int64(st, 1, t->tid);
	sqlite3_bind_int64(st, 2, ix ? ix->iid : 0);
	sqlite3_bind_int64(st, 3, h);
	sqlite3_bind_blob(st, 4, pk->data, (int)pk->len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, sk->data ? (void *)sk->data : "",
			  (int)sk->len, SQLITE_STATIC);
}

/*
 * Step st, a statement "... RETURNING rid" or a SELECT of one rid: 1 with
 * *rid when it gave a row, 0 when none, -EIO. st is reset after.
 */
static int step_rid(sqlite3_stmt *st, int64_t *rid)
{
	int rc = sqlite3_step(st), rv;

	if (rc == SQLITE_ROW) {
		*rid = sqlite3_column_int64(st, 0);
		/* the rest of the statement: it changed one row at most */
		rc = sqlite3_step(st);
		rv = rc == SQLITE_DONE ? 1 : -EIO;
	} else {
		rv = rc == SQLITE_DONE ? 0 : -EIO;
	}
	sqlite3_reset(st);
	return rv;
}

/* Run sql (ddb_data's by rid) with rid as ?1 and blob, if any, as ?2. */
static int data_exec(struct ows_state *s, const char *sql, int64_t rid,
		     const struct ows_buf *blob)
{
	sqlite3_stmt *st;
	int rv = ows_state_stmt(s, sql, &st);

	if (rv != 0)
		return rv;
	if (sql == data_insert_sql) {
		sqlite3_bind_blob(st, 1, blob->data, (int)blob->len,
				  SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(st, 1, rid);
		if (blob != NULL)
			sqlite3_bind_blob(st, 2, blob->data, (int)blob->len,
					  SQLITE_STATIC);
	}
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_reset(st);
	return rv;
}

static int64_t row_size(const struct ows_ddb_table *t,
			const struct ows_ddb_index *ix, const json_t *item);

/* Delete item's row of key (h, pk, sk) in the table (ix NULL) or in ix,
   if there is one: 0 or -EIO. */
static int row_delete(struct ows_state *s, const struct ows_ddb_table *t,
		      const struct ows_ddb_index *ix, const json_t *item,
		      uint32_t h, const struct ows_buf *pk,
		      const struct ows_buf *sk)
{
	sqlite3_stmt *st;
	int64_t rid = 0;
	int rv = ows_state_stmt(s, del_sql, &st);

	if (rv != 0)
		return rv;
	bind_row_key(st, t, ix, h, pk, sk);
	rv = step_rid(st, &rid);
	if (rv <= 0)
		return rv; /* an error, or no such row */
	rv = data_exec(s, data_del_sql, rid, NULL);
	return rv == 0 ? counts(s, t, ix, -1, -row_size(t, ix, item)) : rv;
}

/* Write the item enc over that of the row of key (h, pk, sk): 1, 0 when
   there is no such row, or -EIO. */
static int row_over(struct ows_state *s, const struct ows_ddb_table *t,
		    const struct ows_ddb_index *ix, uint32_t h,
		    const struct ows_buf *pk, const struct ows_buf *sk,
		    const struct ows_buf *enc, int64_t expires)
{
	sqlite3_stmt *st;
	int64_t rid = 0;
	int rv = ows_state_stmt(s, row_update_sql, &st);

	if (rv != 0)
		return rv;
	bind_row_key(st, t, ix, h, pk, sk);
	if (expires > 0)
		sqlite3_bind_int64(st, 6, expires);
	rv = step_rid(st, &rid);
	if (rv == 1 && data_exec(s, data_update_sql, rid, enc) != 0)
		rv = -EIO;
	return rv;
}

/*
 * Write the row of key (h, pk, sk) with the encoded item enc: over the
 * item of the row that is there (its rid kept), else as a new row and a
 * new item. there: whether the caller knows of such a row; when it does
 * not, the row is inserted at once (a new key costs no search for it)
 * and, should one be there after all, written over instead. 1 when it
 * wrote over, 0 when it made the row, or -EIO.
 */
static int row_write(struct ows_state *s, const struct ows_ddb_table *t,
		     const struct ows_ddb_index *ix, uint32_t h,
		     const struct ows_buf *pk, const struct ows_buf *sk,
		     const struct ows_buf *enc, int64_t expires, bool there)
{
	sqlite3_stmt *st;
	int64_t rid;
	int rv = there ? row_over(s, t, ix, h, pk, sk, enc, expires) : 0, rc;

	if (rv != 0)
		return rv;
	rv = data_exec(s, data_insert_sql, 0, enc);
	if (rv == 0)
		rv = ows_state_stmt(s, row_insert_sql, &st);
	if (rv != 0)
		return rv;
	rid = sqlite3_last_insert_rowid(s->db);
	bind_row_key(st, t, ix, h, pk, sk);
	sqlite3_bind_int64(st, 6, rid);
	if (expires > 0)
		sqlite3_bind_int64(st, 7, expires);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) != SQLITE_CONSTRAINT || there)
		return -EIO;
	/* the row was there: its item is written over, ours goes */
	rv = data_exec(s, data_del_sql, rid, NULL);
	if (rv == 0)
		rv = row_over(s, t, ix, h, pk, sk, enc, expires);
	return rv == 1 ? 1 : -EIO;
}

static bool buf_same(const struct ows_buf *a, const struct ows_buf *b)
{
	return a->len == b->len && (a->len == 0 ||
				    memcmp(a->data, b->data, a->len) == 0);
}

/* The size that item's row in ix (the table: NULL) counts. */
static int64_t row_size(const struct ows_ddb_table *t,
			const struct ows_ddb_index *ix, const json_t *item)
{
	json_t *p = ix ? ows__ddb_index_project(t, ix, item) : NULL;
	int64_t n = (int64_t)ows_ddb_item_size(p ? p : item);

	json_decref(p);
	return n;
}

/*
 * Make item (NULL: none) the row of the table (ix NULL) or of ix, where
 * old (NULL: none) was the item before. When both have the same row key
 * there (a table row always, an index row whose key attributes did not
 * change), item is written over old's in place: its rid kept, one data
 * page changed, the counters moved by the difference. Otherwise old's
 * row goes and item's, if it belongs there, comes.
 */
static int row_put(struct ows_state *s, const struct ows_ddb_table *t,
		   const struct ows_ddb_index *ix, const json_t *old,
		   const json_t *item)
{
	struct ows_buf pk = OWS_BUF_INIT, sk = OWS_BUF_INIT, enc = OWS_BUF_INIT;
	struct ows_buf opk = OWS_BUF_INIT, osk = OWS_BUF_INIT;
	json_t *p = NULL;
	uint32_t h = 0, oh = 0;
	int64_t size;
	bool over = false;
	int rv = item ? ows__ddb_row_key(t, ix, item, &h, &pk, &sk) : 0, orv;

	if (rv < 0)
		goto cleanup;
	if (old != NULL) {
		orv = ows__ddb_row_key(t, ix, old, &oh, &opk, &osk);
		over = rv == 1 && orv == 1 && oh == h && buf_same(&pk, &opk) &&
		       buf_same(&sk, &osk);
		if (orv < 0)
			rv = orv;
		else if (!over && orv == 1 &&
			 (orv = row_delete(s, t, ix, old, oh, &opk, &osk)) != 0)
			rv = orv;
	}
	if (rv != 1)
		goto cleanup; /* an error, or no row of item here */
	p = ix ? ows__ddb_index_project(t, ix, item) : NULL;
	rv = ows_ddb_item_encode(p ? p : item, &enc);
	if (rv == 0)
		rv = row_write(s, t, ix, h, &pk, &sk, &enc,
			       ows__ddb_item_expires(t, item), over);
	/* written over old's: the difference; a new row: one more. (A row
	   written over that old did not name is counted as the INSERT OR
	   REPLACE before the items moved to ddb_data counted it: apply
	   always names the stored item, expired or not.) */
	size = (int64_t)ows_ddb_item_size(p ? p : item);
	if (rv == 1 && over)
		rv = counts(s, t, ix, 0, size - row_size(t, ix, old));
	else if (rv >= 0)
		rv = counts(s, t, ix, 1, size);
cleanup:
	json_decref(p);
	ows_buf_free(&pk);
	ows_buf_free(&sk);
	ows_buf_free(&opk);
	ows_buf_free(&osk);
	ows_buf_free(&enc);
	return rv < 0 ? rv : 0;
}

int ows__ddb_item_store(struct ows_state *s, const struct ows_ddb_table *t,
			const json_t *old, const json_t *item)
{
	int rv = 0;

	/* row by row, the table's and each index's: the counters follow */
	for (size_t i = 0; rv == 0 && i <= t->n_indexes; i++)
		rv = row_put(s, t, i ? &t->indexes[i - 1] : NULL, old, item);
	return rv;
}

int ows__ddb_index_fill(struct ows_state *s, const struct ows_ddb_table *t,
			const struct ows_ddb_index *ix, const json_t *item)
{
	/* a row the item already has there is written over */
	return row_put(s, t, ix, item, item);
}

int ows__ddb_rows_drop(struct ows_state *s, int64_t tid, int64_t iid)
{
	/* the items first: they are found through the rows */
	const char *sqls[2] = {iid < 0 ? drop_data_sql : drop_index_data_sql,
			       iid < 0 ? drop_sql : drop_index_sql};
	sqlite3_stmt *st;
	int rv = 0;

	for (size_t i = 0; rv == 0 && i < 2; i++) {
		rv = ows_state_stmt(s, sqls[i], &st);
		if (rv != 0)
			break;
		sqlite3_bind_int64(st, 1, tid);
		if (iid >= 0)
			sqlite3_bind_int64(st, 2, iid);
		rv = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_reset(st);
	}
	return rv;
}

/* ---- capacity ---- */

double ows__ddb_rcu(size_t bytes, bool consistent)
{
	double units = bytes == 0 ? 1 : ceil((double)bytes / 4096.0);

	return consistent ? units : units / 2;
}

double ows__ddb_wcu(size_t bytes)
{
	return bytes == 0 ? 1 : ceil((double)bytes / 1024.0);
}
