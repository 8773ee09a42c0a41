/*
 * The Raft member of a node: the only module that includes <raft.h>
 * (canonical raft with its libuv backend), so that the library can be
 * swapped for its maintained fork later.
 *
 * The state machine is supplied as callbacks (struct ows_raft_fsm). Raft log
 * entries are opaque byte strings to this module. All calls and callbacks
 * happen on the loop thread.
 */
#ifndef OWS_RAFT_RAFT_H
#define OWS_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct ows_raft; /* opaque */

struct ows_raft_fsm {
	void *ud;
	/*
	 * Apply the committed entry at index. *result is handed to the
	 * ows_raft_apply callback on the node that proposed the entry (and
	 * freed with free() by this module). result is NULL when no proposal
	 * on this node waits for the entry (on followers, always): there is
	 * nobody to build one for. Must be
	 * deterministic; must ignore an index it has already applied. Returns
	 * 0, or < 0 for a failure that must stop the node (storage broken).
	 */
	int (*apply)(void *ud, uint64_t index, const void *data, size_t len,
		     void **result);
	/*
	 * Serialize the whole state into one buffer, released with
	 * snapshot_free once libraft has written it (free() when that is
	 * NULL): the state machine may hand over its own buffer, so that a
	 * snapshot costs one copy of the state, not two.
	 */
	int (*snapshot)(void *ud, void **data, size_t *len);
	/* Replace the state with a snapshot; data is borrowed. */
	int (*restore)(void *ud, const void *data, size_t len);
	void (*snapshot_free)(void *ud, void *data); /* may be NULL */
	/*
	 * Batches (NULL: every apply is durable on its own). The entries
	 * applied in one turn of the loop share one commit: applies go into
	 * an open batch, and commit, called once the turn's applies are done
	 * (and before a snapshot, a restore or the close), makes them durable
	 * together. On a failure of apply or of commit the state machine is
	 * back as its last commit left it: every entry applied since is held
	 * and applied again (ows_raft_stalled), none twice, none lost. A
	 * proposal's callback gets its result only once its entry's batch is
	 * committed. Returns 0 or < 0.
	 */
	int (*commit)(void *ud);
};

enum ows_raft_role {
	OWS_RAFT_UNAVAILABLE,
	OWS_RAFT_FOLLOWER,
	OWS_RAFT_CANDIDATE,
	OWS_RAFT_LEADER,
};

enum ows_raft_member_role { OWS_RAFT_VOTER, OWS_RAFT_STANDBY, OWS_RAFT_SPARE };

struct ows_raft_server {
	uint64_t id;
	char address[64];
	enum ows_raft_member_role role;
};

/*
 * Node-to-node authentication. Every Raft connection opens with a mutual
 * Ed25519 challenge-response bound to the cluster id and to both node ids
 * (the protocol is described in src/raft/transport.c); a peer that fails it
 * never reaches libraft. Both callbacks run on the loop thread, during the
 * handshake.
 */
struct ows_raft_auth {
	const char *cluster; /* copied; 1 to 64 bytes */
	void *ud;            /* borrowed: must outlive the member */
	/* Sign msg with this node's key: 0 or <0. */
	int (*sign)(void *ud, const void *msg, size_t len, char sig[89]);
	/* True when sig is node id's valid signature of msg (false if id unknown). */
	bool (*verify)(void *ud, uint64_t id, const void *msg, size_t len,
		       const char *sig);
};

struct ows_raft_options {
	unsigned election_timeout_ms;   /* default 1000 */
	unsigned heartbeat_timeout_ms;  /* default 100 */
	unsigned snapshot_threshold;    /* entries between snapshots; 0: at
					   least 8192, more as the state
					   grows (raft.c) */
	unsigned snapshot_trailing;     /* entries kept after one; 4096 */
	/*
	 * Borrowed for the call (its contents are copied). NULL: libraft's
	 * plain TCP transport, which lets anyone who reaches the port speak
	 * Raft. Authenticated and plain nodes cannot talk to each other.
	 */
	const struct ows_raft_auth *auth;
	/*
	 * Bytes of each log segment file; 0: libraft's default, 8 MB.
	 * libraft preallocates the open segment and keeps two more ready, so
	 * the log takes three segments of disk before its first entry.
	 */
	size_t segment_size;
};

/*
 * Create the member for node id (nonzero) whose Raft address is "HOST:PORT",
 * with its log and snapshots in dir (created if missing). opts may be NULL.
 * Nothing is started yet. OWS_EINVAL for a bad argument, auth included.
 */
int ows_raft_new(uv_loop_t *loop, const char *dir, uint64_t id,
		 const char *address, const struct ows_raft_options *opts,
		 const struct ows_raft_fsm *fsm, struct ows_raft **out);

/*
 * Write the first configuration (this node alone, as a voter) into an empty
 * dir: used once, by "owsd init". -EEXIST (or the raft error) otherwise.
 */
int ows_raft_bootstrap(struct ows_raft *r);

/* Load the log and snapshots, restore the FSM, start timers and transport. */
int ows_raft_start(struct ows_raft *r);

/*
 * Close: stops everything; cb runs once every handle is closed. The struct
 * is freed after cb returns.
 */
void ows_raft_close(struct ows_raft *r, void (*cb)(void *ud), void *ud);

/*
 * Propose an entry (data is copied). On commit and apply on this node cb
 * gets status 0 and the FSM's result (which cb then owns); otherwise a
 * status < 0 (OWS_ENOTLEADER when this node is not or no longer the leader,
 * -ECANCELED on shutdown) and NULL. Returns < 0 without calling cb when the
 * proposal cannot even be made (OWS_ENOTLEADER, -ENOMEM).
 */
typedef void (*ows_raft_apply_cb)(void *ud, int status, void *result);
int ows_raft_apply(struct ows_raft *r, const void *data, size_t len,
		   ows_raft_apply_cb cb, void *ud);

/*
 * Leader only: cb(ud, 0) once every entry committed before the call has
 * been applied on this node (libraft's barrier: an empty entry committed
 * in this term, which also proves the leadership), or < 0 (OWS_ENOTLEADER,
 * -ECANCELED). Returns < 0 without calling cb when it cannot start.
 */
typedef void (*ows_raft_change_cb)(void *ud, int status);
int ows_raft_barrier(struct ows_raft *r, ows_raft_change_cb cb, void *ud);

/*
 * Consistent reads without log entries: Raft's ReadIndex (Ongaro's thesis,
 * section 6.4), in src/raft/readindex.c, which also proves it safe.
 *
 * libraft has no way to ask the voters on demand whether this node still
 * leads, nor to ask the leader for its commit index from a follower, so
 * the caller carries those questions (the node sends them over its signed
 * node-to-node HTTP endpoints). Both functions follow libuv's rule: on 0
 * cb_ud's callback runs exactly once, later, on the loop thread (also
 * after the member is closed: what it carries is then ignored); on < 0
 * never. ops, and its ud, must outlive every member they are passed to.
 */
typedef void (*ows_raft_index_cb)(void *ud, int status, uint64_t index);
typedef void (*ows_raft_confirm_cb)(void *ud, int status);
struct ows_raft_read_ops {
	void *ud;
	/*
	 * Leader: ask voter id, with a message sent after this call, whether
	 * it holds node leader as the leader of term (its answer is
	 * ows_raft_leader_confirm on that node). cb gets 0 for a yes given
	 * by node id itself (each voter's yes is counted once: a yes from
	 * another node, reached by mistake, must not pass for id's),
	 * OWS_ENOTLEADER for no, another < 0 when no answer came.
	 */
	int (*confirm)(void *ud, uint64_t id, uint64_t leader, uint64_t term,
		       ows_raft_confirm_cb cb, void *cb_ud);
	/*
	 * Follower: ask node leader for a read index (its answer is
	 * ows_raft_read_index on that node): cb gets 0 and the index, or < 0.
	 */
	int (*ask)(void *ud, uint64_t leader, ows_raft_index_cb cb,
		   void *cb_ud);
};

/*
 * A read barrier, on any node: cb(ud, 0) once this node has applied every
 * entry committed anywhere in the cluster before the call, so that a read
 * of the local state made from cb is linearizable; nothing is appended to
 * the log (but the first read of a leader's term may wait for the empty
 * entry that proves its term committed). Reads that arrive together share
 * one round of questions. Fails (cb with < 0) within three election
 * timeouts: OWS_ENOTLEADER when no leader is known, -ETIMEDOUT when no
 * majority confirmed one or the state did not catch up, -ECANCELED on
 * close. Returns OWS_EIO when this node cannot apply the log now,
 * -ECANCELED when closing, -ENOMEM.
 */
int ows_raft_read_barrier(struct ows_raft *r,
			  const struct ows_raft_read_ops *ops,
			  ows_raft_change_cb cb, void *ud);

/*
 * Leader only: a read index for a follower's read barrier. cb(ud, 0, R)
 * once a majority of voters confirmed, after this call, that this node
 * leads; R is the commit index as of the round that confirmed it (at or
 * after this call), not necessarily applied here yet. OWS_ENOTLEADER
 * (returned, or to cb when leadership is lost on the way), -ETIMEDOUT
 * after two election timeouts.
 */
int ows_raft_read_index(struct ows_raft *r,
			const struct ows_raft_read_ops *ops,
			ows_raft_index_cb cb, void *ud);

/*
 * A voter's answer to the leader's question (ops->confirm): true when
 * this node's current term is term and the leader it knows for that term
 * is leader (itself included). A true answer means that this node had not
 * raised its term, hence not voted, beyond term at the moment it answered.
 */
bool ows_raft_leader_confirm(struct ows_raft *r, uint64_t leader,
			     uint64_t term);

/* Counters of the read barriers since the member was created. */
struct ows_raft_read_stats {
	uint64_t reads;     /* read barriers and read indexes asked */
	uint64_t rounds;    /* confirmation rounds (leader) or asks (follower) */
	uint64_t noops;     /* empty entries appended for a term's first read */
};
void ows_raft_read_stats(struct ows_raft *r, struct ows_raft_read_stats *out);

/*
 * Counters of batching since the member was created (or reopened). Log
 * writes: libraft's storage writes the entries of every append request
 * queued while the previous write ran in one write and one fsync; a
 * write is counted as the appends that complete in one turn of the loop.
 * Commits: the FSM's commits (struct ows_raft_fsm, commit), each holding
 * the entries applied in one turn of the loop.
 */
struct ows_raft_batch_stats {
	uint64_t appends;        /* append requests handed to the storage */
	uint64_t append_entries; /* entries in them */
	uint64_t writes;         /* log writes completed */
	uint64_t write_entries;  /* entries in them */
	uint64_t write_max;      /* the most entries in one */
	uint64_t commits;        /* state machine commits (batches applied) */
	uint64_t commit_entries; /* entries in them */
	uint64_t commit_max;     /* the most entries in one */
};
void ows_raft_batch_stats(struct ows_raft *r, struct ows_raft_batch_stats *out);

/* Membership changes (leader only). cb gets 0 or < 0. */
int ows_raft_add(struct ows_raft *r, uint64_t id, const char *address,
		 ows_raft_change_cb cb, void *ud);
int ows_raft_assign(struct ows_raft *r, uint64_t id,
		    enum ows_raft_member_role role, ows_raft_change_cb cb,
		    void *ud);
int ows_raft_remove(struct ows_raft *r, uint64_t id, ows_raft_change_cb cb,
		    void *ud);
/* Hand leadership to id (0: the most up to date voter). */
int ows_raft_transfer(struct ows_raft *r, uint64_t id, ows_raft_change_cb cb,
		      void *ud);

enum ows_raft_role ows_raft_role(struct ows_raft *r);

/*
 * 0 while the node applies the log; else the error that stopped its state
 * machine (a full disk: -ENOSPC, OWS_EIO, ...). A stalled node holds the
 * entries it could not apply (*held, when not NULL, gets how many),
 * retries them every half second, hands leadership on, and refuses
 * proposals with OWS_EIO; it applies again, without a restart, once the
 * state machine takes them.
 */
int ows_raft_stalled(struct ows_raft *r, uint64_t *held);
/* Leader's id and address (address buffer of 64); id 0 when unknown. */
void ows_raft_leader(struct ows_raft *r, uint64_t *id, char address[64]);
uint64_t ows_raft_term(struct ows_raft *r);
uint64_t ows_raft_commit_index(struct ows_raft *r);
uint64_t ows_raft_applied_index(struct ows_raft *r);
uint64_t ows_raft_last_index(struct ows_raft *r);
/* Leader only: the highest index known replicated on id; 0 otherwise. */
uint64_t ows_raft_match_index(struct ows_raft *r, uint64_t id);
uint64_t ows_raft_id(struct ows_raft *r);
/*
 * The election timeout in milliseconds: the shortest wait, to which
 * libraft adds up to as much again at random.
 */
unsigned ows_raft_election_timeout(struct ows_raft *r);

/*
 * The current configuration: fills up to max servers, returns how many
 * there are in all.
 */
size_t ows_raft_servers(struct ows_raft *r, struct ows_raft_server *out,
			size_t max);

/* A human-readable name for a role ("leader"). */
const char *ows_raft_role_name(enum ows_raft_role role);

#endif
