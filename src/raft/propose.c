/*
 * The proposals of a member (raft.c owns it): ows_raft_apply queues each
 * entry, and the check handle of the loop turn (ows__raft_flush_check)
 * hands every entry queued in that turn to libraft in one raft_apply of n
 * buffers. libraft then appends them to the leader's log in one append
 * request and sends them to each follower in one AppendEntries, where one
 * raft_apply each cost an append and a message per follower per entry.
 *
 * What libraft 0.15 does with such a request, and what it does not
 * promise: it sets the request's index to the first entry's, appends the
 * n entries in the current term, and calls the request's callback once,
 * either with 0 when that first entry is applied (its replication.c finds
 * the request by the applied index, which matches the first entry only)
 * or with a failure while the first entry is still unapplied (leadership
 * lost, shutdown). Nothing reaches the owner of entries 2..n. So each
 * proposal here remembers its own index and the term it was appended in,
 * and fsm_apply answers it (ows__raft_proposal_applied) when the entry of
 * that index is applied: with the FSM's result when the entry's term in
 * the log is the proposal's term (the leader of a term appends at most
 * one entry per index, and this node was that leader: Raft's Log Matching
 * property makes it the same entry), with OWS_ENOTLEADER otherwise. The
 * answer is delivered after the batch's commit, as before.
 *
 * A proposal whose entry is never applied here must still be answered:
 * while libraft holds its batch's request, libraft's failure reaches it;
 * once the request is answered (its first entry applied), the check
 * handle's sweep fails every such proposal as soon as this node no longer
 * leads in that term (ows__raft_proposals_sweep), which is what libraft
 * does to its own requests when a leader steps down; and the close cancels
 * what is left.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/list.h"
#include "raft/raft_priv.h"

/*
 * At most this many entries, and bytes, in one raft_apply (one entry
 * larger than that goes alone, as before batching): the smallest log
 * segment a node may have (segment_mb) is 1 MB, so a batch never makes
 * an append larger than one entry already could.
 */
#define PROPOSE_BATCH_MAX 256u
#define PROPOSE_BATCH_BYTES (1u << 20)

int ows__raft_apply_status(struct ows_raft *r, int status)
{
	if (r->closing)
		return -ECANCELED;
	switch (status) {
	case RAFT_NOTLEADER:
	case RAFT_LEADERSHIPLOST: return OWS_ENOTLEADER;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED: return -ECANCELED;
	default: return OWS_EIO;
	}
}

/* Answer req with a failure now, wherever it is. */
static void proposal_fail(struct apply_req *req, int status)
{
	ows_list_remove(&req->link);
	if (req->buf.base != NULL)
		raft_free(req->buf.base);
	free(req->result);
	req->cb(req->ud, status, NULL);
	free(req);
}

int ows_raft_apply(struct ows_raft *r, const void *data, size_t len,
		   ows_raft_apply_cb cb, void *ud)
{
	struct apply_req *req;

	if (r->closing)
		return -ECANCELED;
	if (r->failed || r->stalled != 0)
		return OWS_EIO; /* this node cannot apply now: 503, retry */
	if (raft_state(&r->raft) != RAFT_LEADER)
		return OWS_ENOTLEADER;
	req = calloc(1, sizeof(*req));
	if (req == NULL)
		return -ENOMEM;
	/* libraft takes the entry's memory and frees it with raft_free. */
	if (ows__raft_frame(data, len, &req->buf) != 0) {
		free(req);
		return -ENOMEM;
	}
	req->r = r;
	req->cb = cb;
	req->ud = ud;
	ows_list_append(&r->proposed, &req->link);
	ows__raft_flush_kick(r);
	return 0;
}

/*
 * libraft's answer for a batch: 0 once its first entry is applied (its
 * proposal answered by fsm_apply already), a failure before that, which
 * then holds for every entry of the batch not applied.
 */
static void batch_done(struct raft_apply *rreq, int status, void *result)
{
	struct apply_batch *b = rreq->data;
	struct ows_raft *r = b->r;
	struct ows_link *l = r->applies.next;

	(void)result; /* always NULL: fsm_apply keeps the results */
	while (l != &r->applies) {
		struct apply_req *req = OWS_CONTAINER_OF(l, struct apply_req,
							 link);

		l = l->next;
		if (req->batch != b)
			continue;
		req->batch = NULL;
		if (status != 0)
			proposal_fail(req, ows__raft_apply_status(r, status));
	}
	free(b);
}

/* Hand up to PROPOSE_BATCH_MAX queued proposals to libraft in one call. */
static void propose_some(struct ows_raft *r)
{
	struct raft_buffer bufs[PROPOSE_BATCH_MAX] = {{0}};
	struct apply_batch *b = NULL;
	struct ows_link *l = r->proposed.next;
	size_t bytes = 0;
	unsigned n = 0, i;
	int rv;

	while (l != &r->proposed && n < PROPOSE_BATCH_MAX) {
		struct apply_req *req = OWS_CONTAINER_OF(l, struct apply_req,
							 link);

		if (n > 0 && bytes + req->buf.len > PROPOSE_BATCH_BYTES)
			break;
		bytes += req->buf.len;
		bufs[n++] = req->buf;
		l = l->next;
	}
	if (r->closing)
		rv = -ECANCELED;
	else if (r->failed || r->stalled != 0)
		rv = OWS_EIO;
	else if ((b = malloc(sizeof(*b))) == NULL)
		rv = -ENOMEM;
	else {
		b->req.data = b;
		b->r = r;
		rv = raft_apply(&r->raft, &b->req, bufs, n, batch_done);
		if (rv != 0) /* the buffers stay ours */
			rv = ows__raft_failed(r, "apply", rv);
	}
	/*
	 * Proposals of an older term at the indexes this batch now takes
	 * lost their entries (a later leader truncated them): the sweep
	 * fails them first as a rule; this keeps .applies in index order
	 * whatever the order of libraft's callbacks.
	 */
	while (rv == 0 && r->applies.prev != &r->applies) {
		struct apply_req *last = OWS_CONTAINER_OF(
		    r->applies.prev, struct apply_req, link);

		if (last->index < b->req.index)
			break;
		proposal_fail(last, OWS_ENOTLEADER);
	}
	for (i = 0; i < n; i++) {
		struct apply_req *req = OWS_CONTAINER_OF(r->proposed.next,
							 struct apply_req, link);

		if (rv != 0) {
			proposal_fail(req, rv);
			continue;
		}
		/* raft_apply set the first index; the rest follow it */
		req->buf.base = NULL;
		req->index = b->req.index + i;
		req->term = r->raft.current_term;
		req->batch = b;
		ows_list_remove(&req->link);
		/* indexes only grow while one term lasts: see the sweep */
		ows_list_append(&r->applies, &req->link);
	}
	if (rv != 0)
		free(b);
}

void ows__raft_propose_flush(struct ows_raft *r)
{
	while (r->proposed.next != &r->proposed)
		propose_some(r);
}

/* The oldest proposal waiting for entry index, if any. */
static struct apply_req *apply_find(struct ows_raft *r, uint64_t index)
{
	struct ows_link *l;

	for (l = r->applies.next; l != &r->applies; l = l->next) {
		struct apply_req *req = OWS_CONTAINER_OF(l, struct apply_req,
							 link);

		if (req->index == index)
			return req;
		/* Proposals are queued in index order. */
		if (req->index > index)
			break;
	}
	return NULL;
}

bool ows__raft_proposal_waits(struct ows_raft *r, uint64_t index)
{
	return apply_find(r, index) != NULL;
}

void ows__raft_proposal_applied(struct ows_raft *r, uint64_t index, void *res)
{
	struct apply_req *req = apply_find(r, index);

	if (req == NULL) {
		free(res);
		return;
	}
	if (ows__raft_entry_term(r, index) == req->term) {
		req->result = res;
		req->status = 0;
	} else {
		/* another leader's entry took the index: ours is gone */
		free(res);
		req->status = OWS_ENOTLEADER;
	}
	ows_list_remove(&req->link);
	ows_list_append(&r->done, &req->link);
	ows__raft_flush_kick(r);
}

/*
 * The proposals libraft no longer answers for, while this node does not
 * lead in their term: their entries may yet be committed by another
 * leader, or replaced, so they get OWS_ENOTLEADER, as libraft's own
 * requests do when their leader steps down. Cheap while nothing changed:
 * all the proposals are then of the current term.
 */
void ows__raft_proposals_sweep(struct ows_raft *r)
{
	bool leader = raft_state(&r->raft) == RAFT_LEADER;
	uint64_t term = r->raft.current_term;
	struct ows_link *l = r->applies.next;

	if (leader && term == r->applies_term)
		return;
	while (l != &r->applies) {
		struct apply_req *req = OWS_CONTAINER_OF(l, struct apply_req,
							 link);

		l = l->next;
		if (req->batch == NULL && (!leader || req->term != term))
			proposal_fail(req, r->closing ? -ECANCELED
						       : OWS_ENOTLEADER);
	}
	/* a batch libraft still holds is failed by libraft on a change */
	if (leader)
		r->applies_term = term;
}

void ows__raft_proposals_cancel(struct ows_raft *r)
{
	while (r->proposed.next != &r->proposed)
		proposal_fail(OWS_CONTAINER_OF(r->proposed.next,
					       struct apply_req, link),
			      -ECANCELED);
	while (r->applies.next != &r->applies)
		proposal_fail(OWS_CONTAINER_OF(r->applies.next,
					       struct apply_req, link),
			      -ECANCELED);
}
