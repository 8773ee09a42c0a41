/*
 * A table as the handlers and apply read it: the resource's spec (the
 * stack-file form of ddb_model.h) joined with what apply assigned in
 * ddb_tables and ddb_indexes (ids, creation time, index status,
 * counters); and the cache of tables loaded at the state's current
 * (gen, height) that the reads, the checks of writes and apply share
 * (ddb_priv.h, ows__ddb_table_get).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ddb/ddb_priv.h"

static const char table_sql[] =
	"SELECT r.spec, t.tid, t.created, t.items, t.bytes"
	" FROM resources r JOIN ddb_tables t ON t.name = r.name"
	" WHERE r.kind = 'tables' AND r.name = ?1";
static const char indexes_sql[] =
	"SELECT iid, status FROM ddb_indexes WHERE tid = ?1 AND name = ?2";

int ows__ddb_keydef_parse(const char *text, struct ows_ddb_keydef *out)
{
	const char *colon = text ? strrchr(text, ':') : NULL;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (colon == NULL)
		return OWS_EINVAL;
	n = (size_t)(colon - text);
	if (n == 0 || n >= sizeof(out->name))
		return OWS_EINVAL;
	out->type = ows_ddb_type_parse(colon + 1);
	if (out->type != OWS_DDB_S && out->type != OWS_DDB_N &&
	    out->type != OWS_DDB_B)
		return OWS_EINVAL;
	memcpy(out->name, text, n);
	out->name[n] = '\0';
	return 0;
}

/* The index's iid and status from ddb_indexes: 0, -ENOENT or -EIO. */
static int index_row(struct ows_state *s, int64_t tid,
		     struct ows_ddb_index *ix)
{
	sqlite3_stmt *st;
	int rv = ows_state_stmt(s, indexes_sql, &st);

	if (rv != 0)
		return rv;
	sqlite3_bind_int64(st, 1, tid);
	sqlite3_bind_text(st, 2, ix->name, -1, SQLITE_STATIC);
	rv = sqlite3_step(st);
	if (rv == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 1);

		ix->iid = sqlite3_column_int64(st, 0);
		ix->active = status != NULL && strcmp(status, "ACTIVE") == 0;
		rv = 0;
	} else {
		rv = rv == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_reset(st);
	return rv;
}

static int index_load(struct ows_state *s, struct ows_ddb_table *t,
		      const char *name, const json_t *spec)
{
	struct ows_ddb_index *ix = &t->indexes[t->n_indexes];
	const json_t *proj = json_object_get(spec, "projection");
	const char *sk = ows_json_str(spec, "sort_key");
	int rv;

	if (t->n_indexes == OWS_DDB_INDEXES_MAX ||
	    strlen(name) >= sizeof(ix->name))
		return -EIO;
	memset(ix, 0, sizeof(*ix));
	snprintf(ix->name, sizeof(ix->name), "%s", name);
	ix->local = json_is_true(json_object_get(spec, "local"));
	if (ows__ddb_keydef_parse(ows_json_str(spec, "partition_key"),
				  &ix->pk) != 0 ||
	    (sk != NULL && ows__ddb_keydef_parse(sk, &ix->sk) != 0))
		return -EIO;
	if (json_is_array(proj)) {
		ix->projection = OWS_DDB_PROJ_INCLUDE;
		ix->include = proj;
	} else if (json_is_string(proj) &&
		   strcmp(json_string_value(proj), "KEYS_ONLY") == 0) {
		ix->projection = OWS_DDB_PROJ_KEYS_ONLY;
	} else {
		ix->projection = OWS_DDB_PROJ_ALL;
	}
	rv = index_row(s, t->tid, ix);
	/* an index of the spec that apply has not assigned is not there */
	if (rv == -ENOENT)
		return 0;
	if (rv == 0)
		t->n_indexes++;
	return rv;
}

static int table_from_row(struct ows_state *s, sqlite3_stmt *st,
			  const char *name, struct ows_ddb_table *t)
{
	const char *text = (const char *)sqlite3_column_text(st, 0);
	const json_t *ixs, *v;
	const char *k, *sk, *ttl;
	int rv;

	t->spec = text ? ows_json_loadb(text, strlen(text), 0, NULL) : NULL;
	if (!json_is_object(t->spec))
		return -EIO;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->tid = sqlite3_column_int64(st, 1);
	t->created_ms = sqlite3_column_int64(st, 2);
	t->items = sqlite3_column_int64(st, 3);
	t->bytes = sqlite3_column_int64(st, 4);
	sk = ows_json_str(t->spec, "sort_key");
	if (ows__ddb_keydef_parse(ows_json_str(t->spec, "partition_key"),
				  &t->pk) != 0 ||
	    (sk != NULL && ows__ddb_keydef_parse(sk, &t->sk) != 0))
		return -EIO;
	ttl = ows_json_str(t->spec, "ttl_attribute");
	if (ttl != NULL)
		snprintf(t->ttl, sizeof(t->ttl), "%s", ttl);
	ixs = json_object_get(t->spec, "indexes");
	json_object_foreach((json_t *)ixs, k, v) {
		rv = index_load(s, t, k, v);
		if (rv != 0)
			return rv;
	}
	return 0;
}

int ows__ddb_table_load(struct ows_state *s, const char *name,
			struct ows_ddb_table **out)
{
	struct ows_ddb_table *t;
	sqlite3_stmt *st;
	int rv;

	*out = NULL;
	rv = ows_state_stmt(s, table_sql, &st);
	if (rv != 0)
		return rv;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->refs = 1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rv = sqlite3_step(st);
	if (rv == SQLITE_ROW)
		rv = table_from_row(s, st, name, t);
	else
		rv = rv == SQLITE_DONE ? -ENOENT : -EIO;
	sqlite3_reset(st);
	if (rv != 0) {
		ows__ddb_table_free(t);
		return rv;
	}
	*out = t;
	return 0;
}

void ows__ddb_table_free(struct ows_ddb_table *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	json_decref(t->spec);
	free(t);
}

/* ---- the cache ---- */

#define CACHE_MAX 32

/* One process, one loop thread: the handlers and apply share it. */
static struct {
	uint64_t gen, height;
	size_t n;
	struct ows_ddb_table *t[CACHE_MAX];  /* one reference each */
} cache;

static void cache_clear(void)
{
	for (size_t i = 0; i < cache.n; i++)
		ows__ddb_table_free(cache.t[i]);
	cache.n = 0;
}

int ows__ddb_table_get(struct ows_state *s, const char *name,
		       struct ows_ddb_table **out)
{
	struct ows_ddb_table *t;
	int rv;

	*out = NULL;
	if (cache.gen != s->gen || cache.height != s->height) {
		cache_clear();
		cache.gen = s->gen;
		cache.height = s->height;
	}
	for (size_t i = 0; i < cache.n; i++) {
		if (strcmp(cache.t[i]->name, name) == 0) {
			cache.t[i]->refs++;
			*out = cache.t[i];
			return 0;
		}
	}
	rv = ows__ddb_table_load(s, name, &t);
	if (rv != 0)
		return rv;
	/* full: start again (what others hold stays theirs) */
	if (cache.n == CACHE_MAX)
		cache_clear();
	t->refs++;
	cache.t[cache.n++] = t;
	*out = t;
	return 0;
}

const struct ows_ddb_index *ows__ddb_table_index(const struct ows_ddb_table *t,
						 const char *name)
{
	for (size_t i = 0; i < t->n_indexes; i++)
		if (strcmp(t->indexes[i].name, name) == 0)
			return &t->indexes[i];
	return NULL;
}
