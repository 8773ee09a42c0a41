/*
 * The Raft member of a node over canonical raft (libraft 0.15) and its libuv
 * backend: raft_uv keeps the log, metadata and snapshots in the node's
 * directory, and the RPCs travel over our authenticated transport
 * (transport.c) or, without ows_raft_options.auth, libraft's plain TCP one.
 *
 * libraft's FSM interface differs from ours in three ways this file papers
 * over. Its apply has no index: the entry being applied is always
 * raft_last_applied() + 1, because libraft advances last_applied only after
 * apply returns, and barrier and configuration entries advance it without
 * reaching the FSM at all. Its apply result reaches only the raft_apply
 * callback on the proposing leader and is silently dropped everywhere else,
 * so results are kept here, next to the pending proposal they belong to, and
 * freed at once when no proposal waits for them. And it frees snapshot
 * buffers with raft_free, so the FSM's malloc'd snapshot is handed over
 * through snapshot_finalize (FSM interface version 2) and freed here.
 *
 * Batching. libraft's storage already writes the entries of every append
 * queued while its previous write ran in one write and one fsync, and a
 * leader sends every entry a follower lacks in one AppendEntries; a newly
 * committed run of entries reaches fsm_apply one by one within one call
 * of libraft. The FSM's commit (struct ows_raft_fsm) lets those share one
 * SQLite transaction: the entries applied in one turn of the loop are
 * committed together from a check handle (ows__raft_flush_check), and the
 * proposals' callbacks run only then, so nothing is answered before its
 * entry is committed by a majority and applied here on disk. libraft
 * counts an entry applied once fsm_apply returns, so each entry of the
 * open batch is copied (struct held_entry) until its commit: when the
 * commit or a later apply fails, the FSM is back at its last commit and
 * every entry since is held and applied again, as a failed apply is.
 * On the way in, the proposals of one turn of the loop reach libraft
 * together, in one raft_apply of n entries (propose.c), so that the
 * leader appends them in one request and sends them in one AppendEntries.
 *
 * Every request handed to libraft is heap-allocated and freed in its
 * callback; libraft calls every such callback before raft_close completes,
 * and anything left over is failed with -ECANCELED when closing. Closing
 * first waits for the log writes in flight, and happens from the loop's
 * check phase only (see drain_check), to dodge two crashes in libraft 0.15.
 */
#include "raft/raft.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>
#include <raft/uv.h>

#include "common/err.h"
#include "common/list.h"
#include "common/fs.h"
#include "common/log.h"
#include "raft/raft_priv.h"
#include "raft/transport.h"

#define DEFAULT_ELECTION_MS 1000
#define DEFAULT_HEARTBEAT_MS 100
/*
 * A snapshot is the whole state (sqlite3_serialize on the loop, then
 * compressed and written by libraft), so its cost grows with the tables:
 * at 1024 entries between snapshots, writes of 1 KB items took one of a
 * table of 20 MB every second. And a follower more than TRAILING entries
 * behind is sent a whole snapshot instead of the entries it lacks: 128
 * entries are a tenth of a second of such writes. The log kept is at most
 * THRESHOLD + TRAILING entries (about 12 MB of 1 KB items).
 */
#define DEFAULT_SNAPSHOT_THRESHOLD 8192
#define DEFAULT_SNAPSHOT_TRAILING 4096
/*
 * With the default threshold, each snapshot sets the next one's in
 * proportion to the state: as many entries as, at the mean size of the
 * entries this node has appended, make the snapshot's size, at least the
 * default and at most this. A snapshot then costs at most about as many
 * bytes as the log wrote since the last one, whatever the tables hold:
 * at 8,192 entries a state of 100 MB was serialized (on the loop) and
 * written every two seconds of a three-node PutItem load, more bytes than
 * the puts themselves, and a state of a few GB would have been serialized
 * every few seconds. The log kept grows with it, to at most about the
 * state's size (and MAX + TRAILING entries); a restart reads the entries
 * after the snapshot but applies none the state already holds.
 */
#define SNAPSHOT_THRESHOLD_MAX 262144
#define DRAIN_TIMEOUT_MS 10000
/*
 * libraft waits this long after a failed connect before the next (its
 * default is a second). The transport gives up on a connect that is not
 * answered within a second (see transport.c), so a healed link is dialed
 * again within about a second and a quarter.
 */
#define CONNECT_RETRY_MS 250


/* A membership change or leadership transfer. */
struct ctl_req {
	union {
		struct raft_change change;
		struct raft_transfer transfer;
	} u;
	struct ows_link link; /* in ows_raft.ctls */
	struct ows_raft *r;
	uint64_t term; /* transfers: the term when it was asked for */
	ows_raft_change_cb cb;
	void *ud;
};


/* A libraft error code as one of ours. */
static int translate(int rv)
{
	switch (rv) {
	case 0: return 0;
	case RAFT_NOMEM: return -ENOMEM;
	case RAFT_NOTLEADER:
	case RAFT_LEADERSHIPLOST: return OWS_ENOTLEADER;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED: return -ECANCELED;
	case RAFT_CANTBOOTSTRAP: return -EEXIST;
	case RAFT_BADID:
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
	case RAFT_BADROLE:
	case RAFT_INVALID: return OWS_EINVAL;
	case RAFT_NOTFOUND: return OWS_ENOTFOUND;
	case RAFT_CANTCHANGE:
	case RAFT_BUSY: return -EBUSY;
	case RAFT_NAMETOOLONG: return -ENAMETOOLONG;
	case RAFT_TOOBIG: return OWS_ETOOBIG;
	case RAFT_NOCONNECTION: return -ENOTCONN;
	case RAFT_UNAUTHORIZED: return -EACCES;
	case RAFT_NOSPACE: return -ENOSPC;
	case RAFT_TOOMANY: return -EAGAIN;
	default: return OWS_EIO;
	}
}

/*
 * Log a failed libraft call and translate its code. Losing leadership is
 * routine for callers, so it is not worth a warning.
 */
static int failed(struct ows_raft *r, const char *what, int rv)
{
	if (rv != RAFT_NOTLEADER && rv != RAFT_LEADERSHIPLOST)
		ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": %s: %s (%s)",
			r->id, what, raft_strerror(rv), raft_errmsg(&r->raft));
	return translate(rv);
}

int ows__raft_failed(struct ows_raft *r, const char *what, int rv)
{
	return failed(r, what, rv);
}

/*
 * Entry framing. libraft's disk format needs every entry's length to be a
 * multiple of 8 bytes (it reads batches back at 8-byte-aligned offsets), so
 * an entry is stored as an 8-byte little-endian length, the data, and zero
 * padding up to the next multiple of 8.
 */
int ows__raft_frame(const void *data, size_t len, struct raft_buffer *buf)
{
	size_t total = 8 + ((len + 7) & ~(size_t)7);
	uint8_t *p;

	p = raft_malloc(total);
	if (p == NULL)
		return -ENOMEM;
	memset(p, 0, total);
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)len >> (8 * i));
	if (len > 0)
		memcpy(p + 8, data, len);
	buf->base = p;
	buf->len = total;
	return 0;
}

static int unframe(const struct raft_buffer *buf, const void **data,
		   size_t *len)
{
	const uint8_t *p = buf->base;
	uint64_t n = 0;

	if (buf->len < 8)
		return -EINVAL;
	for (int i = 0; i < 8; i++)
		n |= (uint64_t)p[i] << (8 * i);
	if (n > buf->len - 8)
		return -EINVAL;
	*data = p + 8;
	*len = (size_t)n;
	return 0;
}

static int fsm_apply(struct raft_fsm *f, const struct raft_buffer *buf,
		     void **result)
{
	struct ows_raft *r = f->data;
	uint64_t index = raft_last_applied(&r->raft) + 1;
	void *res = NULL;
	const void *data;
	size_t len;
	int rv;

	/*
	 * libraft never sees the result: it would drop it on followers. The
	 * proposal's own callback picks it up from the request instead.
	 */
	*result = NULL;
	if (r->failed)
		return RAFT_IOERR;
	if (unframe(buf, &data, &len) != 0) {
		r->failed = true;
		ows_log(OWS_LOG_ERROR, "raft", "node %" PRIu64 ": entry %"
			PRIu64 " is not framed; applying nothing more",
			r->id, index);
		return RAFT_MALFORMED;
	}
	if (r->stalled != 0) {
		/* in order, after the one that failed */
		ows__raft_hold(r, index, data, len);
		return RAFT_IOERR;
	}
	/* a result only for a proposal waiting here (none on followers) */
	rv = r->fsm.apply(r->fsm.ud, index, data, len,
			  ows__raft_proposal_waits(r, index) ? &res : NULL);
	if (rv != 0 && !r->closing) {
		free(res);
		/* the FSM is back at its last commit: the batch first */
		ows__raft_batch_lost(r, rv);
		ows__raft_stall(r, index, data, len, rv);
		return RAFT_IOERR;
	}
	if (rv != 0) {
		free(res);
		r->failed = true;
		ows_log(OWS_LOG_ERROR, "raft",
			"node %" PRIu64 ": apply of entry %" PRIu64
			" failed: %s; applying nothing more",
			r->id, index, ows_strerror(rv));
		return RAFT_IOERR;
	}
	ows__raft_batch_add(r, index, data, len);
	ows__raft_proposal_applied(r, index, res);
	return 0;
}

void ows__raft_snapshot_rescale(struct ows_raft *r, size_t len)
{
	uint64_t n = r->stats.append_entries, mean, want;

	if (!r->snapshot_scaled || n == 0)
		return;
	mean = r->append_bytes / n;
	want = (uint64_t)len / (mean > 64 ? mean : 64);
	if (want < r->snapshot_floor)
		want = r->snapshot_floor;
	if (want > SNAPSHOT_THRESHOLD_MAX)
		want = SNAPSHOT_THRESHOLD_MAX;
	raft_set_snapshot_threshold(&r->raft, (unsigned)want);
}

static int fsm_snapshot(struct raft_fsm *f, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	struct ows_raft *r = f->data;
	struct raft_buffer *b;
	void *data = NULL;
	size_t len = 0;
	int rv;

	/*
	 * libraft names the snapshot after its last applied index: the
	 * state must hold every entry up to it, committed. A stalled node's
	 * does not (its held entries are counted applied).
	 */
	if (r->stalled != 0 || r->failed || r->held.next != &r->held ||
	    ows__raft_batch_commit(r) != 0)
		return RAFT_BUSY;
	b = malloc(sizeof(*b));
	if (b == NULL)
		return RAFT_NOMEM;
	rv = r->fsm.snapshot(r->fsm.ud, &data, &len);
	if (rv != 0) {
		free(data);
		free(b);
		ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": snapshot: %s",
			r->id, ows_strerror(rv));
		/* libraft retries a busy snapshot after the next apply. */
		return RAFT_BUSY;
	}
	b->base = data;
	b->len = len;
	*bufs = b;
	*n_bufs = 1;
	ows__raft_snapshot_rescale(r, len);
	return 0;
}

/*
 * With snapshot_finalize set, libraft leaves the buffers to us: they were
 * malloc'd by the FSM, not by raft_malloc.
 */
static int fsm_snapshot_finalize(struct raft_fsm *f, struct raft_buffer *bufs[],
				 unsigned *n_bufs)
{
	struct ows_raft *r = f->data;
	unsigned i;

	if (*bufs != NULL) {
		for (i = 0; i < *n_bufs; i++) {
			if (r->fsm.snapshot_free != NULL)
				r->fsm.snapshot_free(r->fsm.ud,
						     (*bufs)[i].base);
			else
				free((*bufs)[i].base);
		}
		free(*bufs);
	}
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/*
 * On success libraft hands the buffer's memory over to the FSM; on failure
 * it frees it itself.
 */
static int fsm_restore(struct raft_fsm *f, struct raft_buffer *buf)
{
	struct ows_raft *r = f->data;
	int rv;

	/* what the batch holds, the newer snapshot holds too */
	ows__raft_batch_commit(r);
	rv = r->fsm.restore(r->fsm.ud, buf->base, buf->len);
	if (rv != 0) {
		r->failed = true;
		ows_log(OWS_LOG_ERROR, "raft",
			"node %" PRIu64 ": restore of a snapshot failed: %s",
			r->id, ows_strerror(rv));
		return RAFT_IOERR;
	}
	raft_free(buf->base);
	buf->base = NULL;
	return 0;
}

static int resolve_options(const struct ows_raft_options *opts,
			   struct ows_raft_options *o)
{
	o->election_timeout_ms = DEFAULT_ELECTION_MS;
	o->heartbeat_timeout_ms = DEFAULT_HEARTBEAT_MS;
	o->snapshot_threshold = DEFAULT_SNAPSHOT_THRESHOLD;
	o->snapshot_trailing = DEFAULT_SNAPSHOT_TRAILING;
	if (opts != NULL) {
		if (opts->election_timeout_ms != 0)
			o->election_timeout_ms = opts->election_timeout_ms;
		if (opts->heartbeat_timeout_ms != 0)
			o->heartbeat_timeout_ms = opts->heartbeat_timeout_ms;
		if (opts->snapshot_threshold != 0)
			o->snapshot_threshold = opts->snapshot_threshold;
		if (opts->snapshot_trailing != 0)
			o->snapshot_trailing = opts->snapshot_trailing;
	}
	/* libraft asserts this in raft_start. */
	if (o->heartbeat_timeout_ms >= o->election_timeout_ms)
		return OWS_EINVAL;
	return 0;
}

static void configure(struct ows_raft *r, const struct ows_raft_options *o)
{
	raft_set_election_timeout(&r->raft, o->election_timeout_ms);
	raft_set_heartbeat_timeout(&r->raft, o->heartbeat_timeout_ms);
	raft_set_snapshot_threshold(&r->raft, o->snapshot_threshold);
	raft_set_snapshot_trailing(&r->raft, o->snapshot_trailing);
	/*
	 * libraft waits install_snapshot_timeout (30 s by default) before it
	 * sends a snapshot again; when the first one is lost because the
	 * follower was just reconnecting, catch-up stalled for that long.
	 */
	raft_set_install_snapshot_timeout(&r->raft, 5 * o->election_timeout_ms);
	/*
	 * Pre-vote (Raft thesis, 9.6): "a candidate would first ask other
	 * servers whether its log was up-to-date enough to get their vote",
	 * and only then raise its term. Without it, a follower cut off for a
	 * while comes back with a term raised by each of its lost elections,
	 * and the first answer it sends the leader deposes a healthy leader.
	 */
	raft_set_pre_vote(&r->raft, true);
	raft_uv_set_connect_retry_delay(&r->io, CONNECT_RETRY_MS);
}

static int open_transport(struct ows_raft *r, const struct ows_raft_auth *auth)
{
	int rv;

	if (auth != NULL) {
		r->authenticated = true;
		return ows__raft_transport_init(&r->transport, r->loop, auth);
	}
	rv = raft_uv_tcp_init(&r->transport, r->loop);
	if (rv != 0) {
		ows_log(OWS_LOG_WARN, "raft", "tcp transport: %s (%s)",
			raft_strerror(rv), r->transport.errmsg);
		return translate(rv);
	}
	return 0;
}

/* Release the transport's memory: its close has called back, or it never ran. */
static void close_transport(struct ows_raft *r)
{
	if (r->authenticated)
		ows__raft_transport_close(&r->transport);
	else
		raft_uv_tcp_close(&r->transport);
}

static int open_backend(struct ows_raft *r, const char *dir,
			const struct ows_raft_options *opts)
{
	int rv;

	rv = open_transport(r, opts != NULL ? opts->auth : NULL);
	if (rv != 0)
		return rv;
	rv = raft_uv_init(&r->io, r->loop, dir, &r->transport);
	if (rv != 0) {
		ows_log(OWS_LOG_WARN, "raft", "storage in '%s': %s (%s)", dir,
			raft_strerror(rv), r->io.errmsg);
		goto err_after_transport;
	}
	if (opts != NULL && opts->segment_size != 0)
		raft_uv_set_segment_size(&r->io, opts->segment_size);
	rv = raft_init(&r->raft, &r->io, &r->raft_fsm, r->id, r->address);
	if (rv != 0) {
		ows_log(OWS_LOG_WARN, "raft", "init: %s (%s)",
			raft_strerror(rv), r->raft.errmsg);
		goto err_after_io;
	}
	return 0;

err_after_io:
	raft_uv_close(&r->io);
err_after_transport:
	close_transport(r);
	return translate(rv);
}

int ows_raft_new(uv_loop_t *loop, const char *dir, uint64_t id,
		 const char *address, const struct ows_raft_options *opts,
		 const struct ows_raft_fsm *fsm, struct ows_raft **out)
{
	struct ows_raft_options o;
	struct ows_raft *r;
	int rv;

	if (id == 0 || address == NULL || strlen(address) >= sizeof(r->address) ||
	    fsm == NULL || fsm->apply == NULL || fsm->snapshot == NULL ||
	    fsm->restore == NULL)
		return OWS_EINVAL;
	rv = resolve_options(opts, &o);
	if (rv != 0)
		return rv;
	rv = ows_mkdir_p(dir, 0700);
	if (rv != 0)
		return rv;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->loop = loop;
	r->id = id;
	strcpy(r->address, address);
	r->fsm = *fsm;
	r->raft_fsm.version = 2;
	r->raft_fsm.data = r;
	r->raft_fsm.apply = fsm_apply;
	r->raft_fsm.snapshot = fsm_snapshot;
	r->raft_fsm.restore = fsm_restore;
	r->raft_fsm.snapshot_finalize = fsm_snapshot_finalize;
	ows_list_init(&r->proposed);
	ows_list_init(&r->applies);
	ows_list_init(&r->held);
	ows_list_init(&r->ctls);
	ows_list_init(&r->batch);
	ows_list_init(&r->done);
	r->reads = ows__raft_reads_new(r, loop);
	if (r->reads == NULL) {
		free(r);
		return -ENOMEM;
	}
	rv = open_backend(r, dir, opts);
	if (rv != 0) {
		ows__raft_reads_close(r->reads);
		free(r);
		return rv;
	}
	r->raft.data = r;
	configure(r, &o);
	r->snapshot_scaled = opts == NULL || opts->snapshot_threshold == 0;
	r->snapshot_floor = o.snapshot_threshold;
	r->io_append = r->io.append;
	r->io.append = ows__raft_counted_append;
	uv_check_init(loop, &r->flush);
	uv_idle_init(loop, &r->flush_wake);
	r->flush.data = r;
	r->flush_wake.data = r;
	uv_check_start(&r->flush, ows__raft_flush_check);
	*out = r;
	return 0;
}

int ows_raft_bootstrap(struct ows_raft *r)
{
	struct raft_configuration conf;
	int rv;

	raft_configuration_init(&conf);
	rv = raft_configuration_add(&conf, r->id, r->address, RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(&r->raft, &conf);
	raft_configuration_close(&conf);
	if (rv == RAFT_CANTBOOTSTRAP)
		return -EEXIST;
	if (rv != 0)
		return failed(r, "bootstrap", rv);
	return 0;
}

int ows_raft_start(struct ows_raft *r)
{
	int rv = raft_start(&r->raft);

	if (rv != 0)
		return failed(r, "start", rv);
	return 0;
}

/*
 * Requests libraft never answered (there should be none), and proposals
 * whose entries were not applied (queued, or past their batch's answer).
 */
static void cancel_leftovers(struct ows_raft *r)
{
	ows__raft_proposals_cancel(r);
	while (r->ctls.next != &r->ctls) {
		struct ctl_req *req =
			OWS_CONTAINER_OF(r->ctls.next, struct ctl_req, link);

		ows_list_remove(&req->link);
		if (req->cb != NULL)
			req->cb(req->ud, -ECANCELED);
		free(req);
	}
}

static void drop_held(struct ows_raft *r)
{
	/* entries applied during the close: commit them, answer */
	if (ows__raft_batch_commit(r) == 0)
		ows__raft_deliver(r);
	while (r->batch.next != &r->batch) {
		struct held_entry *e =
		    OWS_CONTAINER_OF(r->batch.next, struct held_entry, link);

		ows_list_remove(&e->link);
		free(e);
	}
	while (r->held.next != &r->held) {
		struct held_entry *e =
		    OWS_CONTAINER_OF(r->held.next, struct held_entry, link);

		ows_list_remove(&e->link);
		free(e);
	}
	r->held_bytes = 0;
}

static void handle_closed(uv_handle_t *h)
{
	struct ows_raft *r = h->data;

	if (--r->open_handles > 0)
		return;
	ows__raft_forget_appends(r);
	drop_held(r);
	cancel_leftovers(r);
	if (r->close_cb != NULL)
		r->close_cb(r->close_ud);
	free(r);
}

static void raft_closed(struct raft *raft)
{
	struct ows_raft *r = raft->data;

	/* The order of libraft's own example: storage, then transport. */
	raft_uv_close(&r->io);
	close_transport(r);
	/*
	 * We are still inside libraft's stack here: the user's callback and
	 * the free wait for our handles' close, on the next iteration.
	 */
	uv_close((uv_handle_t *)&r->drain, handle_closed);
	uv_close((uv_handle_t *)&r->wake, handle_closed);
	uv_close((uv_handle_t *)&r->flush, handle_closed);
	uv_close((uv_handle_t *)&r->flush_wake, handle_closed);
	if (r->retry_open) {
		r->open_handles++;
		uv_close((uv_handle_t *)&r->retry, handle_closed);
	}
}

/*
 * Two crashes of libraft 0.15 shape the close.
 *
 * It crashes when it closes with more than one log write of a leader in
 * flight: the cancelled write's callback truncates the log, and the next
 * one then releases entries that are gone (appendLeaderCb, logTruncate,
 * refsDecr). So the close waits, checking after each loop iteration, until
 * every entry in the log is stored; writes are local and quick, and a stuck
 * disk is given up on after a bound.
 *
 * And it fires its close callback twice when raft_close is called from a
 * phase of the loop that comes before the poll (a timer, as owsd init's
 * was): raft_close finalizes the open segment in the threadpool and closes
 * the segment's writer handles, whose close nobody waits for
 * (uvMaybeFireCloseCb does not track them). When the finalize's completion
 * is polled before those handles' close callbacks run, which a loaded CPU
 * makes likely, the close completes, we free the storage, and the writer's
 * close callback then runs uvMaybeFireCloseCb on freed memory: SEGV in
 * ioCloseCb (libraft.so.2+0xb5e5). From the check phase the writer's
 * handles are closed in the same iteration, before any later poll can
 * deliver the finalize, so raft_close is only ever called from drain_check.
 */
static bool writes_pending(struct ows_raft *r)
{
	return r->raft.last_stored < raft_last_index(&r->raft);
}

static void drain_check(uv_check_t *h)
{
	struct ows_raft *r = h->data;

	/* The first check has run: the loop may sleep again. */
	uv_idle_stop(&r->wake);
	if (writes_pending(r)) {
		if (uv_now(r->loop) < r->drain_deadline)
			return;
		ows_log(OWS_LOG_WARN, "raft",
			"node %" PRIu64 ": closing with log writes pending",
			r->id);
	}
	uv_check_stop(h);
	raft_close(&r->raft, raft_closed);
}

void ows_raft_close(struct ows_raft *r, void (*cb)(void *ud), void *ud)
{
	assert(!r->closing);
	r->closing = true;
	ows__raft_reads_close(r->reads);
	r->close_cb = cb;
	r->close_ud = ud;
	uv_check_init(r->loop, &r->drain);
	uv_idle_init(r->loop, &r->wake);
	r->drain.data = r;
	r->wake.data = r;
	r->open_handles = 4; /* drain, wake, flush, flush_wake */
	/* what is applied so far is committed and answered before the close */
	if (ows__raft_batch_commit(r) == 0)
		ows__raft_deliver(r);
	ows__raft_propose_flush(r); /* closing: each gets -ECANCELED */
	r->drain_deadline = uv_now(r->loop) + DRAIN_TIMEOUT_MS;
	uv_check_start(&r->drain, drain_check);
	/*
	 * An active idle handle makes the next poll return at once, so the
	 * check runs in this iteration or the next. Later waits for pending
	 * writes are woken by the writes and by libraft's timer.
	 */
	uv_idle_start(&r->wake, ows__raft_wake_idle);
}

/* A read barrier (raft_barrier) in flight. */
struct barrier_req {
	struct raft_barrier req;
	struct ows_raft *r;
	ows_raft_change_cb cb;
	void *ud;
};

static void barrier_done(struct raft_barrier *rreq, int status)
{
	struct barrier_req *req = rreq->data;

	req->cb(req->ud, status != 0 ? ows__raft_apply_status(req->r, status) : 0);
	free(req);
}

int ows_raft_barrier(struct ows_raft *r, ows_raft_change_cb cb, void *ud)
{
	struct barrier_req *req;
	int rv;

	if (r->closing)
		return -ECANCELED;
	if (r->failed || r->stalled != 0)
		return OWS_EIO;
	if (raft_state(&r->raft) != RAFT_LEADER)
		return OWS_ENOTLEADER;
	req = calloc(1, sizeof(*req));
	if (req == NULL)
		return -ENOMEM;
	req->req.data = req;
	req->r = r;
	req->cb = cb;
	req->ud = ud;
	rv = raft_barrier(&r->raft, &req->req, barrier_done);
	if (rv != 0) {
		free(req);
		return failed(r, "barrier", rv);
	}
	return 0;
}

static struct ctl_req *ctl_new(struct ows_raft *r, ows_raft_change_cb cb,
			       void *ud)
{
	struct ctl_req *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->r = r;
	req->cb = cb;
	req->ud = ud;
	ows_list_init(&req->link);
	return req;
}

static void ctl_finish(struct ctl_req *req, int status)
{
	ows_list_remove(&req->link);
	if (req->cb != NULL)
		req->cb(req->ud, status);
	free(req);
}

static void change_done(struct raft_change *rreq, int status)
{
	struct ctl_req *req = rreq->data;

	if (status != 0)
		status = req->r->closing ? -ECANCELED : translate(status);
	ctl_finish(req, status);
}

/* Shared tail of add, assign and remove: rv is what libraft returned. */
static int change_started(struct ows_raft *r, struct ctl_req *req,
			  const char *what, int rv)
{
	if (rv != 0) {
		free(req);
		return failed(r, what, rv);
	}
	ows_list_append(&r->ctls, &req->link);
	return 0;
}

int ows_raft_add(struct ows_raft *r, uint64_t id, const char *address,
		 ows_raft_change_cb cb, void *ud)
{
	struct ctl_req *req;

	if (r->closing)
		return -ECANCELED;
	if (id == 0 || address == NULL || strlen(address) >= 64)
		return OWS_EINVAL;
	req = ctl_new(r, cb, ud);
	if (req == NULL)
		return -ENOMEM;
	req->u.change.data = req;
	return change_started(r, req, "add",
			      raft_add(&r->raft, &req->u.change, id, address,
				       change_done));
}

/* libraft's role for ours, or -1 (not an error code) for none. */
static int raft_role_of(enum ows_raft_member_role role)
{
	switch (role) {
	case OWS_RAFT_VOTER: return RAFT_VOTER;
	case OWS_RAFT_STANDBY: return RAFT_STANDBY;
	case OWS_RAFT_SPARE: return RAFT_SPARE;
	}
	return -1;
}

int ows_raft_assign(struct ows_raft *r, uint64_t id,
		    enum ows_raft_member_role role, ows_raft_change_cb cb,
		    void *ud)
{
	struct ctl_req *req;
	int raft_role = raft_role_of(role);

	if (r->closing)
		return -ECANCELED;
	if (id == 0 || raft_role < 0)
		return OWS_EINVAL;
	req = ctl_new(r, cb, ud);
	if (req == NULL)
		return -ENOMEM;
	req->u.change.data = req;
	return change_started(r, req, "assign",
			      raft_assign(&r->raft, &req->u.change, id,
					  raft_role, change_done));
}

int ows_raft_remove(struct ows_raft *r, uint64_t id, ows_raft_change_cb cb,
		    void *ud)
{
	struct ctl_req *req;

	if (r->closing)
		return -ECANCELED;
	if (id == 0)
		return OWS_EINVAL;
	req = ctl_new(r, cb, ud);
	if (req == NULL)
		return -ENOMEM;
	req->u.change.data = req;
	return change_started(r, req, "remove",
			      raft_remove(&r->raft, &req->u.change, id,
					  change_done));
}

/*
 * libraft's transfer callback carries no status. It fires when this node
 * steps down (possibly before its state says so, from inside the step-down
 * triggered by the target's higher term), when the election timeout passes
 * without a new leader, or on close.
 */
static void transfer_done(struct raft_transfer *rreq)
{
	struct ctl_req *req = rreq->data;
	struct ows_raft *r = req->r;
	int status;

	if (r->closing)
		status = -ECANCELED;
	else if (raft_state(&r->raft) != RAFT_LEADER ||
		 r->raft.current_term > req->term)
		status = 0;
	else
		status = -ETIMEDOUT;
	ctl_finish(req, status);
}

int ows_raft_transfer(struct ows_raft *r, uint64_t id, ows_raft_change_cb cb,
		      void *ud)
{
	struct ctl_req *req;

	if (r->closing)
		return -ECANCELED;
	if (raft_state(&r->raft) != RAFT_LEADER)
		return OWS_ENOTLEADER;
	req = ctl_new(r, cb, ud);
	if (req == NULL)
		return -ENOMEM;
	req->u.transfer.data = req;
	req->term = r->raft.current_term;
	return change_started(r, req, "transfer",
			      raft_transfer(&r->raft, &req->u.transfer, id,
					    transfer_done));
}

/* A leader that cannot apply hands leadership on (libraft picks the most
 * up-to-date voter), so that the cluster's writes go on elsewhere. */
void ows__raft_stalled_steps_down(struct ows_raft *r)
{
	int rv;

	if (r->closing || raft_state(&r->raft) != RAFT_LEADER)
		return;
	rv = ows_raft_transfer(r, 0, NULL, NULL);
	if (rv == 0)
		ows_log(OWS_LOG_WARN, "raft", "node %" PRIu64 ": cannot apply: "
			"handing leadership to another node", r->id);
}

int ows_raft_stalled(struct ows_raft *r, uint64_t *held)
{
	size_t n = 0;

	for (struct ows_link *l = r->held.next; l != &r->held; l = l->next)
		n++;
	if (held != NULL)
		*held = n;
	return r->failed ? OWS_EIO : r->stalled;
}

enum ows_raft_role ows_raft_role(struct ows_raft *r)
{
	switch (raft_state(&r->raft)) {
	case RAFT_FOLLOWER: return OWS_RAFT_FOLLOWER;
	case RAFT_CANDIDATE: return OWS_RAFT_CANDIDATE;
	case RAFT_LEADER: return OWS_RAFT_LEADER;
	default: return OWS_RAFT_UNAVAILABLE;
	}
}

void ows_raft_leader(struct ows_raft *r, uint64_t *id, char address[64])
{
	raft_id lid = 0;
	const char *laddr = NULL;

	raft_leader(&r->raft, &lid, &laddr);
	if (lid == 0 || laddr == NULL) {
		*id = 0;
		address[0] = '\0';
		return;
	}
	*id = lid;
	snprintf(address, 64, "%s", laddr);
}

uint64_t ows_raft_term(struct ows_raft *r)
{
	return r->raft.current_term;
}

uint64_t ows_raft_commit_index(struct ows_raft *r)
{
	return r->raft.commit_index;
}

uint64_t ows_raft_applied_index(struct ows_raft *r)
{
	return raft_last_applied(&r->raft);
}

uint64_t ows_raft_match_index(struct ows_raft *r, uint64_t id)
{
	const struct raft_configuration *c = &r->raft.configuration;

	if (raft_state(&r->raft) != RAFT_LEADER ||
	    r->raft.leader_state.progress == NULL)
		return 0;
	/* progress[] runs parallel to the current configuration's servers. */
	for (unsigned i = 0; i < c->n; i++)
		if (c->servers[i].id == id)
			return r->raft.leader_state.progress[i].match_index;
	return 0;
}

uint64_t ows_raft_last_index(struct ows_raft *r)
{
	return raft_last_index(&r->raft);
}

struct ows__raft_reads *ows__raft_reads_of(struct ows_raft *r)
{
	return r->reads;
}

bool ows__raft_closing(struct ows_raft *r)
{
	return r->closing;
}

/*
 * libraft's log is a circular buffer of the entries after offset (its
 * log.c: the entry at index i sits at (front + i - offset - 1) % size);
 * the header shows the fields, 0.15 has no call that returns a term.
 */
uint64_t ows__raft_entry_term(struct ows_raft *r, uint64_t i)
{
	const struct raft_log *l = &r->raft.log;
	size_t n;

	if (i == 0)
		return 0;
	if (i == l->snapshot.last_index)
		return l->snapshot.last_term;
	if (l->size == 0)
		return 0;
	n = l->back >= l->front ? l->back - l->front
				: l->size - l->front + l->back;
	if (i <= l->offset || i - l->offset > n)
		return 0;
	return l->entries[(l->front + (size_t)(i - l->offset - 1)) % l->size]
	    .term;
}

uint64_t ows__raft_commit_term(struct ows_raft *r)
{
	return ows__raft_entry_term(r, r->raft.commit_index);
}

uint64_t ows_raft_id(struct ows_raft *r)
{
	return r->id;
}

unsigned ows_raft_election_timeout(struct ows_raft *r)
{
	return r->raft.election_timeout;
}

static enum ows_raft_member_role member_role(int raft_role)
{
	switch (raft_role) {
	case RAFT_VOTER: return OWS_RAFT_VOTER;
	case RAFT_STANDBY: return OWS_RAFT_STANDBY;
	default: return OWS_RAFT_SPARE;
	}
}

size_t ows_raft_servers(struct ows_raft *r, struct ows_raft_server *out,
			size_t max)
{
	const struct raft_configuration *c = &r->raft.configuration;
	size_t i;

	for (i = 0; i < c->n && i < max; i++) {
		out[i].id = c->servers[i].id;
		snprintf(out[i].address, sizeof(out[i].address), "%s",
			 c->servers[i].address);
		out[i].role = member_role(c->servers[i].role);
	}
	return c->n;
}

const char *ows_raft_role_name(enum ows_raft_role role)
{
	switch (role) {
	case OWS_RAFT_UNAVAILABLE: return "unavailable";
	case OWS_RAFT_FOLLOWER: return "follower";
	case OWS_RAFT_CANDIDATE: return "candidate";
	case OWS_RAFT_LEADER: return "leader";
	}
	return "unknown";
}
