/*
 * What the files of src/raft/ share and nobody else sees: raft.c owns the
 * member (struct ows_raft and its libraft instance); propose.c hands the
 * proposals to libraft in batches and matches each to its entry; batch.c
 * applies the committed entries in batches, holds them when the FSM
 * fails, and counts the log's writes; readindex.c keeps the read barriers
 * of one member in a struct ows__raft_reads that raft.c creates with the
 * member and closes with it.
 */
#ifndef OWS_RAFT_RAFT_PRIV_H
#define OWS_RAFT_RAFT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <raft.h>
#include <raft/uv.h>

#include "common/list.h"
#include "raft/raft.h"

struct ows__raft_reads;

/* The read state of member r on loop: NULL on -ENOMEM. Nothing runs yet. */
struct ows__raft_reads *ows__raft_reads_new(struct ows_raft *r,
					    uv_loop_t *loop);

/*
 * At the member's close: every pending read gets -ECANCELED (from within
 * this call), questions still in flight are forgotten, and the memory is
 * freed once the handles are closed (after the member may be gone).
 */
void ows__raft_reads_close(struct ows__raft_reads *rs);

/* Member r's read state. */
struct ows__raft_reads *ows__raft_reads_of(struct ows_raft *r);

/*
 * The term of the entry at the commit index, read from libraft's log
 * (the snapshot's term when that index is the snapshot's last); 0 when
 * not known. Equal to the current term once the leader has committed an
 * entry of its own term.
 */
uint64_t ows__raft_commit_term(struct ows_raft *r);

/* The member is closing: nothing new may start. */
bool ows__raft_closing(struct ows_raft *r);

/* ---- the member (raft.c), its proposals (propose.c) and its apply
   pipeline (batch.c) ---- */

/*
 * Proposals (propose.c). ows_raft_apply queues a proposal; the loop
 * turn's flush hands every queued one to libraft in one raft_apply of n
 * entries (struct apply_batch), so that the leader appends and sends
 * them to each follower together. libraft answers such a request once,
 * for its first entry only, so each proposal is matched to its own entry
 * here instead: by index, and by the term it was proposed in (an entry
 * of that index and term can only be the one this node appended as the
 * leader of that term).
 */
struct apply_batch;

/* A proposal: queued, then waiting for its entry, then answered. */
struct apply_req {
	/* in ows_raft.proposed, then .applies (index order), then .done */
	struct ows_link link;
	struct ows_raft *r;
	struct apply_batch *batch; /* its libraft request, until answered */
	struct raft_buffer buf;    /* the framed entry, until handed over */
	uint64_t index;            /* set once handed to libraft */
	uint64_t term;
	ows_raft_apply_cb cb;
	void *ud;
	void *result; /* the FSM's result for this entry, once applied */
	int status;   /* on .done: what cb gets (0: result) */
};

/* One raft_apply of the proposals of one flush. */
struct apply_batch {
	struct raft_apply req;
	struct ows_raft *r;
};

struct ows_raft {
	uv_loop_t *loop;
	struct raft raft;
	struct raft_io io;
	struct raft_uv_transport transport;
	struct raft_fsm raft_fsm;
	struct ows_raft_fsm fsm;
	uint64_t id;
	char address[64];
	bool authenticated; /* transport is ours, not raft_uv_tcp */
	bool closing;
	bool failed; /* malformed entry, or too much held: apply nothing more */
	/*
	 * Stalled: an apply failed (disk full, I/O error). libraft has moved
	 * on (it counts an entry applied whatever the FSM says), so the entry
	 * and every later one are kept here, in order, and applied again
	 * from a timer until the state machine takes them.
	 */
	int stalled; /* the FSM's error; 0 when applying */
	struct ows_link held;
	size_t held_bytes;
	uv_timer_t retry;
	bool retry_open;
	struct ows_link proposed; /* apply_reqs queued for the next flush */
	struct ows_link applies;
	uint64_t applies_term; /* the leader's term the applies were checked in */
	struct ows_link ctls;
	/* Batches: see the file's comment and batch_commit. */
	struct ows_link batch;  /* held_entry copies applied, not committed */
	unsigned batch_n;       /* entries applied since the last commit */
	struct ows_link done;   /* apply_reqs applied, answered once committed */
	uv_check_t flush;       /* commits the loop turn's batch */
	uv_idle_t flush_wake;   /* keeps the poll from sleeping until then */
	uint64_t write_pending; /* entries whose log append completed this turn */
	int (*io_append)(struct raft_io *io, struct raft_io_append *req,
			 const struct raft_entry entries[], unsigned n,
			 raft_io_append_cb cb); /* the storage's own */
	struct ows_raft_batch_stats stats;
	uint64_t append_bytes; /* of the entries of stats.append_entries */
	/* Snapshots scaled to the state's size (fsm_snapshot): the default
	   threshold is then the least; a threshold given stays as it is. */
	bool snapshot_scaled;
	unsigned snapshot_floor;
	struct ows__raft_reads *reads; /* readindex.c */
	uv_check_t drain; /* closes libraft from the check phase, see close_cb */
	uv_idle_t wake;   /* keeps the loop from sleeping until that check */
	int open_handles; /* of drain, wake and retry, once closing */
	uint64_t drain_deadline;
	void (*close_cb)(void *ud);
	void *close_ud;
};

#define HELD_MAX_BYTES (256u << 20) /* beyond it: restart to recover */
#define HELD_RETRY_MS 500

/* A committed entry kept: held (not applied) or in the open batch. */
struct held_entry {
	struct ows_link link;
	uint64_t index;
	size_t len;
	char data[];
};

/* Keep an entry the state machine could not take; false past the bound. */
bool ows__raft_hold(struct ows_raft *r, uint64_t index, const void *data,
		    size_t len);
/* Hold the entry and stall: applied again from a timer, in order. */
void ows__raft_stall(struct ows_raft *r, uint64_t index, const void *data,
		     size_t len, int error);
/* The FSM is back at its last commit: hold the batch, fail its answers. */
void ows__raft_batch_lost(struct ows_raft *r, int error);
/* An entry the FSM took into the open batch: kept until its commit. */
void ows__raft_batch_add(struct ows_raft *r, uint64_t index, const void *data,
			 size_t len);
/* Commit the open batch: 0, or the FSM's error (the batch is then lost). */
int ows__raft_batch_commit(struct ows_raft *r);
/* Answer the proposals whose entries are committed. */
void ows__raft_deliver(struct ows_raft *r);
/* The check handle's callback: count the log write, commit, answer. */
void ows__raft_flush_check(uv_check_t *h);
/* Have the check run in this turn of the loop. */
void ows__raft_flush_kick(struct ows_raft *r);
/* An idle handle's callback: its being active is what matters. */
void ows__raft_wake_idle(uv_idle_t *h);
/* The storage's append, counted (installed in r->io by raft.c). */
int ows__raft_counted_append(struct raft_io *io, struct raft_io_append *req,
			     const struct raft_entry entries[], unsigned n,
			     raft_io_append_cb cb);
/* At the close: appends of r never completed are forgotten. */
void ows__raft_forget_appends(struct ows_raft *r);
/* The next snapshot's threshold after one of len bytes (raft.c, MAX). */
void ows__raft_snapshot_rescale(struct ows_raft *r, size_t len);
/* Hand the queued proposals to libraft (or fail them). */
void ows__raft_propose_flush(struct ows_raft *r);
/* Whether a proposal on this node waits for entry index (else the FSM
   builds no result for it). */
bool ows__raft_proposal_waits(struct ows_raft *r, uint64_t index);
/*
 * Entry index was applied with the FSM's result res (taken): the proposal
 * it answers, if any, is answered after the commit.
 */
void ows__raft_proposal_applied(struct ows_raft *r, uint64_t index, void *res);
/* Fail the proposals whose entries this node no longer leads for. */
void ows__raft_proposals_sweep(struct ows_raft *r);
/* At the close: every proposal left gets -ECANCELED. */
void ows__raft_proposals_cancel(struct ows_raft *r);
/* The status a proposal gets for a libraft status (not 0). */
int ows__raft_apply_status(struct ows_raft *r, int status);
/* Log a failed libraft call and translate its code (raft.c). */
int ows__raft_failed(struct ows_raft *r, const char *what, int rv);
/* Frame an entry into a raft_malloc'd buffer: 0 or -ENOMEM (raft.c). */
int ows__raft_frame(const void *data, size_t len, struct raft_buffer *buf);
/* The term of the entry at index i in libraft's log; 0 if not there. */
uint64_t ows__raft_entry_term(struct ows_raft *r, uint64_t i);
/* A leader that cannot apply hands leadership on (raft.c). */
void ows__raft_stalled_steps_down(struct ows_raft *r);

#endif
