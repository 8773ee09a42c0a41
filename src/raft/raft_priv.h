/*
 * What the files of src/raft/ share and nobody else sees: raft.c owns the
 * member (struct ows_raft and its libraft instance); readindex.c keeps the
 * read barriers of one member in a struct ows__raft_reads that raft.c
 * creates with the member and closes with it.
 */
#ifndef OWS_RAFT_RAFT_PRIV_H
#define OWS_RAFT_RAFT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

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

#endif
