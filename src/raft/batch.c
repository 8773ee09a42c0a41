/*
 * The apply pipeline of a member (raft.c owns it; see raft.c's opening
 * comment, "Batching"): entries applied into the FSM's open batch and
 * committed once per turn of the loop from a check handle, the proposals
 * answered after that commit; entries held and applied again from a timer
 * when the FSM fails (a full disk), the whole uncommitted batch with them;
 * and the counters of log writes, taken by wrapping the storage's append.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/list.h"
#include "common/log.h"
#include "raft/raft_priv.h"

/* An idle handle's callback: its being active is what matters. */
void ows__raft_wake_idle(uv_idle_t *h)
{
	(void)h;
}

/* Keep an entry the state machine could not take; false past the bound. */
bool ows__raft_hold(struct ows_raft *r, uint64_t index, const void *data,
		    size_t len)
{
	struct held_entry *e;

	if (r->held_bytes + len > HELD_MAX_BYTES ||
	    (e = malloc(sizeof(*e) + len)) == NULL) {
		r->failed = true;
		ows_log(OWS_LOG_ERROR, "raft", "node %" PRIu64 ": %zu bytes of "
			"entries wait to be applied; applying nothing more "
			"until a restart", r->id, r->held_bytes);
		return false;
	}
	e->index = index;
	e->len = len;
	memcpy(e->data, data, len);
	ows_list_append(&r->held, &e->link);
	r->held_bytes += len;
	return true;
}

static void stall_start(struct ows_raft *r, uint64_t index, int error);

/*
 * Apply what is held, in order; when all is in (and committed, for an FSM
 * with batches: all of it or none), the node applies again.
 */
static void retry_cb(uv_timer_t *t)
{
	struct ows_raft *r = t->data;
	struct ows_link *l = r->held.next;
	uint64_t last = 0;
	int rv = 0;

	while (l != &r->held && !r->failed) {
		struct held_entry *e = OWS_CONTAINER_OF(l, struct held_entry,
							link);
		/* the proposals these were held for have been answered */
		rv = r->fsm.apply(r->fsm.ud, e->index, e->data, e->len, NULL);
		if (rv != 0)
			break;
		last = e->index;
		l = l->next;
		if (r->fsm.commit == NULL) {
			ows_list_remove(&e->link);
			r->held_bytes -= e->len;
			free(e);
		}
	}
	if (rv == 0 && r->fsm.commit != NULL && !r->failed)
		rv = r->fsm.commit(r->fsm.ud);
	if (rv != 0) {
		r->stalled = rv;
		ows__raft_stalled_steps_down(r);
		return;
	}
	if (r->failed)
		return;
	while (r->held.next != &r->held) {
		struct held_entry *e =
		    OWS_CONTAINER_OF(r->held.next, struct held_entry, link);

		ows_list_remove(&e->link);
		free(e);
	}
	r->held_bytes = 0;
	r->stalled = 0;
	uv_timer_stop(t);
	ows_log(OWS_LOG_INFO, "raft", "node %" PRIu64 ": applying again, "
		"held entries applied up to %" PRIu64, r->id, last);
}

static void stall_start(struct ows_raft *r, uint64_t index, int error)
{
	if (r->closing) {
		/* the log has them: a reopen applies them again */
		r->stalled = error;
		return;
	}
	if (r->stalled == 0)
		ows_log(OWS_LOG_ERROR, "raft", "node %" PRIu64 ": apply of "
			"entry %" PRIu64 " failed: %s; holding entries and "
			"retrying", r->id, index, ows_strerror(error));
	r->stalled = error;
	if (!r->retry_open) {
		uv_timer_init(r->loop, &r->retry);
		r->retry.data = r;
		r->retry_open = true;
	}
	if (!uv_is_active((uv_handle_t *)&r->retry))
		uv_timer_start(&r->retry, retry_cb, HELD_RETRY_MS, HELD_RETRY_MS);
	ows__raft_stalled_steps_down(r);
}

void ows__raft_stall(struct ows_raft *r, uint64_t index, const void *data,
		     size_t len, int error)
{
	if (!ows__raft_hold(r, index, data, len))
		return;
	stall_start(r, index, error);
}

/* Run the loop's check (ows__raft_flush_check) in this turn, without sleeping. */
void ows__raft_flush_kick(struct ows_raft *r)
{
	if (!r->closing)
		uv_idle_start(&r->flush_wake, ows__raft_wake_idle);
}

/*
 * The batch is lost (its commit or a later apply failed: the FSM is back
 * at its last commit): every entry of it is held, ahead of any held
 * later, to be applied again; the proposals answered from it get OWS_EIO
 * (their entries are committed and will be applied: the outcome is
 * unknown to the caller, as after a timeout).
 */
void ows__raft_batch_lost(struct ows_raft *r, int error)
{
	struct ows_link *first = r->held.next;
	uint64_t index = 0;

	while (r->batch.next != &r->batch) {
		struct held_entry *e =
		    OWS_CONTAINER_OF(r->batch.next, struct held_entry, link);

		ows_list_remove(&e->link);
		/* before first: the held list stays in index order */
		e->link.prev = first->prev;
		e->link.next = first;
		first->prev->next = &e->link;
		first->prev = &e->link;
		r->held_bytes += e->len;
		if (index == 0)
			index = e->index;
	}
	r->batch_n = 0;
	while (r->done.next != &r->done) {
		struct apply_req *req =
		    OWS_CONTAINER_OF(r->done.next, struct apply_req, link);

		ows_list_remove(&req->link);
		free(req->result);
		req->cb(req->ud, OWS_EIO, NULL);
		free(req);
	}
	if (index != 0)
		stall_start(r, index, error);
}

/*
 * Commit the entries applied since the last commit: 0, or the FSM's error
 * (the batch is then lost: ows__raft_batch_lost).
 */
int ows__raft_batch_commit(struct ows_raft *r)
{
	int rv = 0;

	if (r->batch_n == 0)
		return 0;
	if (r->fsm.commit != NULL)
		rv = r->fsm.commit(r->fsm.ud);
	if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "raft", "node %" PRIu64 ": commit of "
			"%u applied entries failed: %s", r->id, r->batch_n,
			ows_strerror(rv));
		ows__raft_batch_lost(r, rv);
		return rv;
	}
	r->stats.commits++;
	r->stats.commit_entries += r->batch_n;
	if (r->batch_n > r->stats.commit_max)
		r->stats.commit_max = r->batch_n;
	r->batch_n = 0;
	while (r->batch.next != &r->batch) {
		struct held_entry *e =
		    OWS_CONTAINER_OF(r->batch.next, struct held_entry, link);

		ows_list_remove(&e->link);
		free(e);
	}
	return 0;
}

/*
 * Answer the proposals whose entries are committed, in index order (or
 * whose index went to another leader's entry: status says which).
 */
void ows__raft_deliver(struct ows_raft *r)
{
	while (r->done.next != &r->done) {
		struct apply_req *req =
		    OWS_CONTAINER_OF(r->done.next, struct apply_req, link);
		void *res = req->result;

		ows_list_remove(&req->link);
		req->cb(req->ud, req->status, res);
		free(req);
	}
}

/*
 * After every turn's poll: count the log write, commit, answer, then hand
 * the turn's proposals to libraft together (propose.c).
 */
void ows__raft_flush_check(uv_check_t *h)
{
	struct ows_raft *r = h->data;

	uv_idle_stop(&r->flush_wake);
	if (r->write_pending > 0) {
		r->stats.writes++;
		r->stats.write_entries += r->write_pending;
		if (r->write_pending > r->stats.write_max)
			r->stats.write_max = r->write_pending;
		r->write_pending = 0;
	}
	if (ows__raft_batch_commit(r) == 0)
		ows__raft_deliver(r);
	/* the turn's proposals, those of the answers above included */
	ows__raft_proposals_sweep(r);
	ows__raft_propose_flush(r);
}

/* An entry the FSM took into the open batch: keep a copy until commit. */
void ows__raft_batch_add(struct ows_raft *r, uint64_t index, const void *data,
			 size_t len)
{
	struct held_entry *e;

	r->batch_n++;
	ows__raft_flush_kick(r);
	if (r->fsm.commit == NULL)
		return;
	e = malloc(sizeof(*e) + len);
	if (e == NULL) {
		/* no copy to apply again from: commit it now */
		if (ows__raft_batch_commit(r) != 0)
			ows__raft_stall(r, index, data, len, -ENOMEM);
		return;
	}
	e->index = index;
	e->len = len;
	memcpy(e->data, data, len);
	ows_list_append(&r->batch, &e->link);
}

/*
 * The storage's append, counted: every append request in flight, in the
 * order given (libraft's storage completes them in that order), with
 * libraft's callback and its member. Loop thread only, as every call.
 */
struct append_rec {
	struct ows_link link;
	struct raft_io_append *req;
	raft_io_append_cb cb;
	struct ows_raft *r;
	unsigned n;
};

static struct ows_link appends_in_flight = {&appends_in_flight,
					    &appends_in_flight};

static void counted_append_cb(struct raft_io_append *req, int status)
{
	struct ows_link *l;

	for (l = appends_in_flight.next; l != &appends_in_flight; l = l->next) {
		struct append_rec *a = OWS_CONTAINER_OF(l, struct append_rec,
							link);
		raft_io_append_cb cb = a->cb;

		if (a->req != req)
			continue;
		ows_list_remove(&a->link);
		if (status == 0) {
			a->r->write_pending += a->n;
			ows__raft_flush_kick(a->r);
		}
		free(a);
		cb(req, status);
		return;
	}
	assert(!"an append completed that was never started");
}

int ows__raft_counted_append(struct raft_io *io, struct raft_io_append *req,
			     const struct raft_entry entries[], unsigned n,
			     raft_io_append_cb cb)
{
	struct ows_raft *r = OWS_CONTAINER_OF(io, struct ows_raft, io);
	struct append_rec *a = malloc(sizeof(*a));
	int rv;

	if (a == NULL)
		return RAFT_NOMEM;
	*a = (struct append_rec){.req = req, .cb = cb, .r = r, .n = n};
	ows_list_append(&appends_in_flight, &a->link);
	rv = r->io_append(io, req, entries, n, counted_append_cb);
	if (rv != 0) {
		ows_list_remove(&a->link);
		free(a);
		return rv;
	}
	r->stats.appends++;
	r->stats.append_entries += n;
	for (unsigned i = 0; i < n; i++)
		r->append_bytes += entries[i].buf.len;
	return 0;
}

/* Appends of r that libraft never completed: none may outlive r. */
void ows__raft_forget_appends(struct ows_raft *r)
{
	struct ows_link *l = appends_in_flight.next;

	while (l != &appends_in_flight) {
		struct append_rec *a = OWS_CONTAINER_OF(l, struct append_rec,
							link);

		l = l->next;
		if (a->r == r) {
			ows_list_remove(&a->link);
			free(a);
		}
	}
}

void ows_raft_batch_stats(struct ows_raft *r, struct ows_raft_batch_stats *out)
{
	*out = r->stats;
}
