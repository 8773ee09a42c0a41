/*
 * Query, and the walk of a range of rows that Query and Scan share
 * (scan.c): one range scan of ddb_items' primary key (reads.h says which
 * range), each row's item read by its rid and decoded, counted against
 * Limit and the 1 MB page limit before the filter (as DynamoDB counts
 * them), filtered, projected and answered with Count, ScannedCount,
 * LastEvaluatedKey and ConsumedCapacity. Expired rows (TTL) are skipped
 * by the statement.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ddb/reads.h"

#define PAGE_MAX (1024 * 1024)

#define Q_FROM "SELECT item FROM " OWS_DDB_ITEMS_JOIN " "
#define Q_COLS Q_FROM "WHERE tid=?1 AND iid=?2 AND " \
	"h=?3 AND pk=?4 AND sk>=?5 "
#define Q_LIVE "AND (expires IS NULL OR expires>?7) "

static const char q_asc[] = Q_COLS Q_LIVE "ORDER BY sk";
static const char q_asc_hi[] = Q_COLS "AND sk<?6 " Q_LIVE "ORDER BY sk";
static const char q_desc[] = Q_COLS Q_LIVE "ORDER BY sk DESC";
static const char q_desc_hi[] = Q_COLS "AND sk<?6 " Q_LIVE
				"ORDER BY sk DESC";
static const char scan_sql[] =
	Q_FROM "WHERE tid=?1 AND iid=?2 AND "
	"(h, pk, sk) >= (?3, ?4, ?5) AND h<=?6 " Q_LIVE
	"ORDER BY h, pk, sk";

struct page {
	json_t *items;
	int64_t count, scanned;
	size_t bytes;
	json_t *last;   /* LastEvaluatedKey */
};

static sqlite3_stmt *range_stmt(struct ows_state *s,
				const struct ows__ddb_read *rd, int64_t now)
{
	const char *sql = rd->kind == OWS__DDB_READ_SCAN ? scan_sql
			  : rd->forward ? (rd->has_hi ? q_asc_hi : q_asc)
					: (rd->has_hi ? q_desc_hi : q_desc);
	sqlite3_stmt *st;

	if (ows_state_stmt(s, sql, &st) != 0)
		return NULL;
	sqlite3_bind_int64(st, 1, rd->t->tid);
	sqlite3_bind_int64(st, 2, rd->ix ? rd->ix->iid : 0);
	if (rd->kind == OWS__DDB_READ_SCAN) {
		sqlite3_bind_int64(st, 3, (sqlite3_int64)rd->start_h);
		sqlite3_bind_blob(st, 4, rd->start_pk.data ? rd->start_pk.data
				  : "", (int)rd->start_pk.len, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, rd->start_sk.data ? rd->start_sk.data
				  : "", (int)rd->start_sk.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)rd->h_hi);
	} else {
		sqlite3_bind_int64(st, 3, (sqlite3_int64)rd->h);
		sqlite3_bind_blob(st, 4, rd->pk.data ? rd->pk.data : "",
				  (int)rd->pk.len, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, rd->lo.data ? rd->lo.data : "",
				  (int)rd->lo.len, SQLITE_STATIC);
		if (rd->has_hi)
			sqlite3_bind_blob(st, 6, rd->hi.data ? rd->hi.data : "",
					  (int)rd->hi.len, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 7, now);
	return st;
}

/* The key attributes of item for LastEvaluatedKey (index's too). */
static json_t *last_key(const struct ows__ddb_read *rd, const json_t *item)
{
	const struct ows_ddb_keydef *defs[4] = {
		&rd->t->pk, &rd->t->sk, rd->ix ? &rd->ix->pk : NULL,
		rd->ix ? &rd->ix->sk : NULL};
	json_t *k = json_object();

	for (int i = 0; i < 4; i++) {
		json_t *v;

		if (defs[i] == NULL || defs[i]->name[0] == '\0')
			continue;
		v = json_object_get(item, defs[i]->name);
		if (v != NULL)
			json_object_set(k, defs[i]->name, v);
	}
	return k;
}

/* One row: counted, filtered, projected. 1: the page is full. */
static int take_row(struct ows_state *s, const struct ows__ddb_read *rd,
		    json_t *item, int64_t now, struct page *pg,
		    struct ows_err *err)
{
	json_t *full = item;
	bool keep = true;
	int rv;

	pg->scanned++;
	pg->bytes += ows_ddb_item_size(item);
	if (rd->fetch_table) {
		/* An LSI row lacks attributes asked for: the table has them. */
		rv = ows__ddb_item_get(s, rd->t, item, now, &full);
		if (rv != 0)
			return rv;
		if (full == NULL)
			full = json_incref(item);
		else
			pg->bytes += ows_ddb_item_size(full);
	} else {
		json_incref(full);
	}
	if (rd->filter != NULL &&
	    (rv = ows_ddb_cond_eval(rd->filter, full, &keep, err)) != 0) {
		json_decref(full);
		return rv;
	}
	if (keep) {
		pg->count++;
		if (rd->select == OWS__DDB_SELECT_COUNT)
			;
		else if (rd->projection != NULL)
			json_array_append_new(pg->items,
					      ows_ddb_project(rd->projection,
							      full));
		else
			json_array_append(pg->items, full);
	}
	json_decref(full);
	if ((rd->limit > 0 && pg->scanned >= rd->limit) ||
	    pg->bytes >= PAGE_MAX) {
		pg->last = last_key(rd, item);
		return 1;
	}
	return 0;
}

int ows__ddb_range_walk(struct ows_state *s, const struct ows__ddb_read *rd,
			json_t *out, struct ows_err *err)
{
	struct page pg = {.items = json_array()};
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *st = NULL;
	json_t *item;
	int rv = 0, step;

	if (!rd->empty && (st = range_stmt(s, rd, now)) == NULL) {
		rv = -EIO;
		goto out;
	}
	while (st != NULL && (step = sqlite3_step(st)) == SQLITE_ROW) {
		item = ows_ddb_item_decode(sqlite3_column_blob(st, 0),
					   (size_t)sqlite3_column_bytes(st, 0));
		if (item == NULL) {
			rv = -EIO;
			break;
		}
		rv = take_row(s, rd, item, now, &pg, err);
		json_decref(item);
		if (rv != 0)
			break;
	}
	if (st != NULL && rv == 0 && step != SQLITE_DONE)
		rv = -EIO;
	if (st != NULL)
		sqlite3_reset(st);
	if (rv < 0)
		goto out;
	rv = 0;
	if (rd->select != OWS__DDB_SELECT_COUNT)
		json_object_set(out, "Items", pg.items);
	json_object_set_new(out, "Count", json_integer(pg.count));
	json_object_set_new(out, "ScannedCount", json_integer(pg.scanned));
	if (pg.last != NULL)
		json_object_set(out, "LastEvaluatedKey", pg.last);
	item = ows__ddb_capacity_json(rd->capacity, rd->t, rd->ix,
				      ows__ddb_rcu(pg.bytes, rd->consistent));
	if (item != NULL)
		json_object_set_new(out, "ConsumedCapacity", item);
out:
	json_decref(pg.items);
	json_decref(pg.last);
	return rv;
}

/* ---- Query and Scan ---- */

static void range_barrier_failed(struct ows__ddb_req *r, int status)
{
	ows__ddb_error(r, 503, "ServiceUnavailable", "no leader confirmed the "
		       "consistent read (%s); retry", ows_strerror(status));
}

static void range_run(void *ud, int status)
{
	struct ows__ddb_req *r = ud;
	struct ows_state *s = r->c->host->state;
	bool scan = strcmp(r->op, "Scan") == 0;
	const char *name = ows__ddb_str(r, "TableName");
	bool indexed = json_is_string(json_object_get(r->body, "IndexName"));
	const struct ows_ddb_table *t = NULL;
	struct ows_ddb_table *own = NULL;
	struct ows__ddb_read rd;
	struct ows_err err = {{0}};
	const char *action = scan ? "dynamodb:Scan" : "dynamodb:Query";
	json_t *out, *attrs;
	int rv;

	if (status != 0) {
		range_barrier_failed(r, status);
		return;
	}
	ows__ddb_read_init(&rd);
	/* An index's status changes outside the ledger (backfills): read
	 * the table afresh when one is named. */
	if (indexed)
		rv = ows__ddb_table_load(s, name, &own), t = own;
	else
		rv = ows__ddb_table_cached(s, name, &t);
	if (rv == -ENOENT) {
		if (ows__ddb_authorize(r, action, name, NULL, NULL, NULL) == 0)
			ows__ddb_not_found(r);
		goto out;
	}
	if (rv != 0) {
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       ows_strerror(rv));
		goto out;
	}
	if (ows__ddb_read_parse(r->body, scan ? OWS__DDB_READ_SCAN
				: OWS__DDB_READ_QUERY, t, &rd, &err) != 0) {
		/* the table's schema and indexes are only for those who may
		 * read them */
		if (ows__ddb_authorize(r, action, name, ows__ddb_str(
				r, "IndexName"), NULL, NULL) == 0)
			ows__ddb_invalid(r, &err);
		goto out;
	}
	/* A Scan reads every partition. No leading keys at all would pass
	 * ForAllValues (true of an empty set): "", which no partition key
	 * can be, so that only a policy allowing every key allows it. */
	if (scan && (rd.leading = json_pack("[s]", "")) == NULL) {
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
		goto out;
	}
	attrs = ows__ddb_read_attributes(rd.projection, rd.filter, rd.keycond,
					 rd.select == OWS__DDB_SELECT_COUNT);
	rv = attrs == NULL ? -ENOMEM : ows__ddb_authorize(
		r, action, name, rd.ix ? rd.ix->name : NULL, rd.leading, attrs);
	json_decref(attrs);
	if (rv == -ENOMEM)
		ows__ddb_error(r, 500, "InternalServerError", "out of memory");
	if (rv != 0)
		goto out;
	out = json_object();
	rv = ows__ddb_range_walk(s, &rd, out, &err);
	if (rv == OWS_EINVAL) {
		json_decref(out);
		ows__ddb_invalid(r, &err);
	} else if (rv != 0) {
		json_decref(out);
		ows__ddb_error(r, 500, "InternalServerError", "%s",
			       ows_strerror(rv));
	} else {
		ows__ddb_reply(r, out);
	}
out:
	ows__ddb_read_close(&rd);
	ows__ddb_table_free(own);
}

void ows__ddb_range_read(struct ows__ddb_req *r)
{
	const char *name = ows__ddb_str(r, "TableName");
	int rv;

	if (name == NULL || name[0] == '\0') {
		ows__ddb_invalidf(r, "1 validation error detected: Value null "
				  "at 'tableName' failed to satisfy "
				  "constraint: Member must not be null");
		return;
	}
	/* OWS's indexes are written with their items: a consistent read
	 * of a GSI is served as one of the table (DynamoDB refuses it). */
	if (!json_is_true(json_object_get(r->body, "ConsistentRead"))) {
		range_run(r, 0);
		return;
	}
	rv = r->c->host->read_barrier(r->c, range_run, r);
	if (rv != 0)
		range_barrier_failed(r, rv);
}

void ows__ddb_query(struct ows__ddb_req *r)
{
	ows__ddb_range_read(r);
}

void ows__ddb_scan(struct ows__ddb_req *r)
{
	ows__ddb_range_read(r);
}
