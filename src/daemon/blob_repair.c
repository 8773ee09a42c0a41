/*
 * The blob repair (issue 10, "Where the bytes go"): every node, on a
 * timer, walks the blobs the state names (function bundles and each
 * service's blob_list, daemon/blobs.h) in order of their names, a batch
 * of REPAIR_BATCH per round, and for each blob computes where it belongs
 * (rendezvous placement over the members, blob/blob.h ows_blob_place):
 *
 *   - a holder that lacks it fetches it from the peers (holders first);
 *     a node that was down catches up this way;
 *   - a node that has it pushes it to the holders that lack it (HEAD to
 *     ask, then a streamed PUT);
 *   - a node that has it but is no holder (it took the upload, or the
 *     members changed) drops its copy once every holder confirmed one and
 *     the copy is older than the collection's grace.
 *
 * One transfer at a time per node, paced at OWS_BLOB_REPAIR_BPS (default
 * 100 MiB/s), so that the repair leaves room for clients; the transfers
 * stream from and to disk on the thread pool (blob/peer.c). Each round
 * starts with a health probe of every member (GET /_ows/v1/health); a
 * member whose last two probes failed is left out of placement, so its
 * blobs go to the next node in each blob's order until it is back (then
 * it catches up, and the stand-in's extra copy is dropped). Rounds start every OWS_BLOB_REPAIR_MS (default 1 s) after
 * the last one ended.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aws/registry.h"
#include "aws/service.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/blobs.h"

#define REPAIR_BATCH 64
#define REPAIR_EVERY_MS 1000
#define PROBE_TIMEOUT_MS 2000
#define FAILED_LOG_MS 60000
#define REPAIR_BPS ((uint64_t)100 << 20) /* 100 MiB/s */

/* Every function bundle: the code of functions and of their versions. */
#define BUNDLE_LIST                                                     \
	"SELECT DISTINCT json_extract(spec, '$.code_sha256') AS blob FROM " \
	"resources WHERE kind IN ('functions', 'function_versions')"

static int64_t every_ms(void)
{
	const char *e = getenv("OWS_BLOB_REPAIR_MS");
	long long v = e != NULL ? atoll(e) : 0;

	return v > 0 ? (int64_t)v : REPAIR_EVERY_MS;
}

/* The repair's bandwidth: OWS_BLOB_REPAIR_BPS bytes per second. */
static uint64_t rate_bps(void)
{
	const char *e = getenv("OWS_BLOB_REPAIR_BPS");
	long long v = e != NULL ? atoll(e) : 0;

	return v > 0 ? (uint64_t)v : REPAIR_BPS;
}

/* Add to set the first REPAIR_BATCH blobs of list after cursor. */
static void batch_of(struct ows_core *n, const char *list, const char *cursor,
		     json_t *set)
{
	char sql[2048];
	sqlite3_stmt *st;

	if (snprintf(sql, sizeof(sql), "SELECT blob FROM (%s) WHERE blob > ?1 "
		     "ORDER BY blob LIMIT %d", list, REPAIR_BATCH) >=
		    (int)sizeof(sql) ||
	    ows_state_prepare(&n->state, sql, &st) != 0)
		return;
	sqlite3_bind_text(st, 1, cursor, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);

		if (ows_blob_name_valid(h))
			json_object_set_new(set, h, json_true());
	}
	sqlite3_finalize(st);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The next REPAIR_BATCH named blobs after the cursor, in order; fewer
 * when the walk reached the end (the next round starts over).
 */
static json_t *next_batch(struct ows_blobs *b)
{
	const struct ows_aws_service *const *sv;
	json_t *set = json_object(), *out = json_array();
	const char *keys[REPAIR_BATCH * 17], *k;
	json_t *v;
	size_t n = 0;

	if (set == NULL || out == NULL)
		goto cleanup;
	batch_of(b->core, BUNDLE_LIST, b->cursor, set);
	for (sv = ows_aws_services; *sv != NULL; sv++)
		if ((*sv)->blob_list != NULL)
			batch_of(b->core, (*sv)->blob_list, b->cursor, set);
	json_object_foreach(set, k, v)
		if (n < sizeof(keys) / sizeof(keys[0]))
			keys[n++] = k;
	qsort(keys, n, sizeof(keys[0]), by_name);
	for (size_t i = 0; i < n && i < REPAIR_BATCH; i++)
		json_array_append_new(out, json_string(keys[i]));
cleanup:
	json_decref(set);
	return out;
}

static void step(struct ows_blobs *b);

static void round_end(struct ows_blobs *b)
{
	size_t n = json_array_size(b->batch);

	if (n == REPAIR_BATCH)
		snprintf(b->cursor, sizeof(b->cursor), "%s",
			 json_string_value(json_array_get(b->batch, n - 1)));
	else
		b->cursor[0] = '\0'; /* the walk is over: start again */
	/*
	 * Quiet while all is in place (pushes log each PUT, peer.c); a
	 * failure that lasts (a blob no peer has) once a minute.
	 */
	if (b->round.fetched + b->round.dropped > 0 ||
	    (b->round.failed > 0 && ows_now_ms() - b->failed_logged_at >=
					    FAILED_LOG_MS)) {
		if (b->round.failed > 0)
			b->failed_logged_at = ows_now_ms();
		ows_log(OWS_LOG_INFO, "blob", "repair: %zu blobs checked, %u "
			"fetched, %u in place on their holders, %u extra "
			"copies dropped, %u failed", n, b->round.fetched,
			b->round.in_place, b->round.dropped, b->round.failed);
	}
	json_decref(b->batch);
	b->batch = NULL;
	b->repair_busy = false;
	b->repair_at = ows_now_ms();
}

static const char *current(struct ows_blobs *b)
{
	return json_string_value(json_array_get(b->batch, b->at - 1));
}

static void fetched_cb(void *ud, int status)
{
	struct ows_blobs *b = ud;

	if (status == 0) {
		b->round.fetched++;
		ows_log(OWS_LOG_INFO, "blob", "repair: fetched %.16s...",
			current(b));
	} else {
		b->round.failed++;
		ows_log(OWS_LOG_DEBUG, "blob", "repair: cannot fetch %.16s...: "
			"%s", current(b), ows_strerror(status));
	}
	step(b);
}

/* Not a holder: the copy goes once the holders have theirs. */
static void drop_extra(struct ows_blobs *b, const char *hash)
{
	char path[PATH_MAX];
	struct stat st;

	ows_blob_path(&b->store, hash, path, sizeof(path));
	if (stat(path, &st) != 0 ||
	    time(NULL) - st.st_mtime < ows_blobs_grace_s())
		return;
	if (ows_blob_remove(&b->store, hash) == 0) {
		b->round.dropped++;
		ows_log(OWS_LOG_INFO, "blob", "repair: dropped the extra copy "
			"of %.16s... (its holders have it)", hash);
	}
}

static void pushed_cb(void *ud, int status)
{
	struct ows_blobs *b = ud;

	if (status != 0) {
		b->round.failed++;
	} else {
		b->round.in_place++; /* pushed, or found there by HEAD */
		if (!b->self_holds && b->holders >= b->want)
			drop_extra(b, current(b));
	}
	step(b);
}

/* 0 when an exchange is out for hash (step follows), 1 when none. */
static int repair_one(struct ows_blobs *b, const char *hash)
{
	struct ows_core *n = b->core;
	const char *peers[OWS_BLOBS_PEERS_MAX];
	json_t *nodes = ows_state_nodes(&n->state);
	size_t members, np;
	unsigned replicas = ows_blobs_replicas(n, &members), holders;
	uint64_t size;
	bool self, local = ows_blob_size(&b->store, hash, &size) == 0;
	int rv = 1;

	if (nodes == NULL)
		return 1;
	np = ows_blobs_placed(n, nodes, hash, replicas, b, peers, &self,
			      &holders);
	if (!local && self) {
		rv = ows_blob_fetch_paced(&b->store, n->loop, n->key, peers,
					  np, hash, rate_bps(), fetched_cb,
					  b) == 0 ? 0 : 1;
	} else if (local && holders > 0) {
		/* Only the holders are asked: each must have a copy. */
		b->self_holds = self;
		b->holders = holders;
		b->want = self ? replicas - 1 : replicas;
		rv = ows_blob_replicate(&b->store, n->loop, n->key, peers,
					holders, hash, holders, holders,
					rate_bps(), pushed_cb, b) == 0 ? 0 : 1;
	}
	json_decref(nodes);
	return rv;
}

static void step(struct ows_blobs *b)
{
	while (!b->core->stopping && b->at < json_array_size(b->batch)) {
		const char *hash = json_string_value(
			json_array_get(b->batch, b->at++));

		if (repair_one(b, hash) == 0)
			return;
	}
	round_end(b);
}

/* ---- members' health: a GET /_ows/v1/health each round ---- */

struct probe {
	struct ows_blobs *b;
	uint64_t id;
};

static struct ows_blobs_peer *peer_of(struct ows_blobs *b, uint64_t id)
{
	for (size_t i = 0; i < b->n_peers; i++)
		if (b->peers[i].id == id)
			return &b->peers[i];
	return NULL;
}

static void probed_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct probe *p = ud;
	struct ows_blobs_peer *m = peer_of(p->b, p->id);
	bool up = status == 0 && r->status == 200;

	if (m != NULL) {
		m->probing = false;
		if (up && m->failed >= 2)
			ows_log(OWS_LOG_INFO, "blob", "repair: node %" PRIu64
				" is back", p->id);
		else if (!up && m->failed == 1)
			ows_log(OWS_LOG_INFO, "blob", "repair: node %" PRIu64
				" is down: its blobs go to the next nodes",
				p->id);
		m->failed = up ? 0 : m->failed + 1;
	}
	free(p);
}

/* The members as the state has them now, each probed once at a time. */
static void probe_members(struct ows_blobs *b)
{
	struct ows_http_client_opts opts = {PROBE_TIMEOUT_MS, 4096};
	json_t *nodes = ows_state_nodes(&b->core->state), *row;
	struct ows_blobs_peer next[OWS_BLOBS_PEERS_MAX];
	size_t i, k = 0;

	json_array_foreach(nodes, i, row) {
		uint64_t id = (uint64_t)json_integer_value(
			json_object_get(row, "id"));
		struct ows_blobs_peer *m = peer_of(b, id);

		if (id == b->core->cfg.id || k == OWS_BLOBS_PEERS_MAX)
			continue;
		next[k++] = m != NULL ? *m : (struct ows_blobs_peer){.id = id};
	}
	memcpy(b->peers, next, k * sizeof(next[0]));
	b->n_peers = k;
	json_array_foreach(nodes, i, row) {
		const char *edge = ows_json_str(row, "edge");
		uint64_t id = (uint64_t)json_integer_value(
			json_object_get(row, "id"));
		struct ows_blobs_peer *m = peer_of(b, id);
		struct probe *p;

		if (m == NULL || m->probing || edge == NULL ||
		    (p = malloc(sizeof(*p))) == NULL)
			continue;
		*p = (struct probe){b, m->id};
		m->probing = ows_http_client_request(b->core->loop, edge, "GET",
						     "/_ows/v1/health", NULL, 0,
						     NULL, 0, &opts, probed_cb,
						     p) == 0;
		if (!m->probing)
			free(p);
	}
	json_decref(nodes);
}

void ows_blobs_repair(struct ows_blobs *b)
{
	struct ows_core *n = b->core;

	if (b->repair_busy || n->stopping ||
	    ows_now_ms() - b->repair_at < every_ms())
		return;
	probe_members(b);
	b->batch = next_batch(b);
	if (b->batch == NULL)
		return;
	b->repair_busy = true;
	b->at = 0;
	memset(&b->round, 0, sizeof(b->round));
	step(b);
}
