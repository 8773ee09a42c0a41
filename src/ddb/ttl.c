/*
 * The TTL sweep: about once a second on the leader (leader_tick of the
 * seam), the items of tables with TTL on whose expiry has passed are
 * deleted through the log, as "expire" entries of at most
 * OWS__DDB_EXPIRE_BATCH keys (apply.c deletes each only if it is still
 * expired at the entry's time). Reads hide expired items at once
 * (ddb_model.h), so the sweep only reclaims space and index rows; it
 * may lag without anyone seeing the items.
 *
 * At most SWEEP_ENTRIES entries are in flight, and a new round starts
 * only when the last one is answered, so that one item is never
 * proposed twice at once and a large backlog does not crowd out
 * clients' writes.
 */
#include <errno.h>
#include <time.h>

#include "common/log.h"
#include "ddb/writes.h"

#define SWEEP_ENTRIES 4

/* A round whose answers never came (they always do) is given up after
   this long, so that the sweep cannot stop for good. */
#define SWEEP_STALE_S 120

static unsigned in_flight;
static int64_t round_started;

static void expired_cb(void *ud, int status, const json_t *result)
{
	(void)ud;
	(void)result;
	if (in_flight > 0)
		in_flight--;
	if (status < 0)
		ows_log(OWS_LOG_DEBUG, "ddb", "ttl sweep entry not committed: "
			"%s", ows_strerror(status));
}

static int propose_keys(const struct ows_aws_host *h,
			const struct ows_ddb_table *t, int64_t now,
			json_t *keys)
{
	json_t *body = json_pack("{s:s, s:s, s:I, s:I, s:o}", "op", "expire",
				 "table", t->name, "tid", (json_int_t)t->tid,
				 "now", (json_int_t)now, "keys",
				 json_deep_copy(keys));
	int rv;

	if (body == NULL)
		return -ENOMEM;
	rv = h->propose_entry(h, "ddb", body, expired_cb, NULL);
	json_decref(body);
	if (rv == 0)
		in_flight++;
	return rv;
}

/* Propose the expired items of t, up to *budget entries. */
static int sweep_table(const struct ows_aws_host *h,
		       const struct ows_ddb_table *t, int64_t now,
		       unsigned *budget)
{
	sqlite3_stmt *st = NULL;
	json_t *keys = json_array(), *item;
	int rv;

	if (keys == NULL)
		return -ENOMEM;
	rv = ows_state_prepare(h->state, "SELECT item FROM "
			       OWS_DDB_ITEMS_JOIN " WHERE tid = ?1 AND iid "
			       "= 0 AND expires IS NOT NULL AND expires <= ?2 "
			       "ORDER BY expires LIMIT ?3", &st);
	if (rv != 0) {
		json_decref(keys);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, t->tid);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, (int64_t)*budget * OWS__DDB_EXPIRE_BATCH);
	rv = 0;
	while (rv == 0 && *budget > 0 && sqlite3_step(st) == SQLITE_ROW) {
		item = ows_ddb_item_decode(sqlite3_column_blob(st, 0),
					   (size_t)sqlite3_column_bytes(st, 0));
		if (item != NULL)
			json_array_append_new(keys, ows__ddb_key_of(t, item));
		json_decref(item);
		if (json_array_size(keys) == OWS__DDB_EXPIRE_BATCH) {
			rv = propose_keys(h, t, now, keys);
			json_array_clear(keys);
			(*budget)--;
		}
	}
	if (rv == 0 && *budget > 0 && json_array_size(keys) > 0) {
		rv = propose_keys(h, t, now, keys);
		(*budget)--;
	}
	sqlite3_finalize(st);
	json_decref(keys);
	return rv;
}

void ows__ddb_leader_tick(const struct ows_aws_host *h)
{
	sqlite3_stmt *st = NULL;
	struct ows_ddb_table *t;
	unsigned budget = SWEEP_ENTRIES;
	int64_t now = (int64_t)time(NULL);

	if (h->propose_entry == NULL || h->state == NULL)
		return;
	if (in_flight > 0 && now - round_started < SWEEP_STALE_S)
		return;
	in_flight = 0;
	round_started = now;
	if (ows_state_prepare(h->state, "SELECT name FROM ddb_tables ORDER "
			      "BY tid", &st) != 0)
		return;
	while (budget > 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (ows__ddb_table_load(h->state, (const char *)
					sqlite3_column_text(st, 0), &t) != 0)
			continue;
		if (t->ttl[0] && sweep_table(h, t, now, &budget) != 0)
			budget = 0;
		ows__ddb_table_free(t);
	}
	sqlite3_finalize(st);
}
