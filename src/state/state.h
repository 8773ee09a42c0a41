/*
 * The state machine: every node applies the same Raft entries in the same
 * order to its own SQLite database (DESIGN.md). Apply is deterministic (it
 * reads no clock: times come inside the entries, stamped by the leader) and
 * idempotent (the last applied index is stored in the same transaction as
 * the change, and an entry at or below it is skipped).
 *
 * Raft entries are JSON: {"type": T, "time": ms, "body": {...}} with T one of
 *   "genesis"    the cluster's first entry (owsd init)
 *   "changeset"  a signed change set (ledger/changeset.h)
 *   "join"       a node joining with a single-use token
 *
 * Each apply produces a result, JSON text handed back to the proposer:
 *   {"ok": true, "height": N, "hash": H, ...}
 *   {"ok": false, "status": 403, "code": "AccessDenied", "message": "..."}
 * Rejections are recorded (table rejections) and change nothing else.
 *
 * Resends: the result of each accepted change set is kept (table results,
 * written in the entry's transaction) under its nonce with the digest of
 * its signed envelope, for OWS_STATE_RESULT_KEEP_MS of entry time. A change
 * set whose nonce is taken and whose envelope has that digest is the same
 * request sent again (its first answer was lost): it changes nothing and
 * gets the recorded result again. Any other reuse of a nonce is NonceReused.
 * Results hold nothing secret: what ows must print (an access key's secret,
 * a join token) was made by ows itself and only a sealed or hashed form
 * ever reached the cluster.
 */
#ifndef OWS_STATE_STATE_H
#define OWS_STATE_STATE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "ledger/authz.h"

#define OWS_STATE_STMTS 96

struct ows_state {
	sqlite3 *db;
	/* ows_state_stmt's prepared statements, by their SQL's address */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[OWS_STATE_STMTS];
	char cluster[65];   /* "" before genesis */
	uint64_t applied;   /* last applied Raft index */
	uint64_t height;    /* ledger height */
	char head[65];      /* hash of the ledger's last entry */
	uint64_t rejected;  /* number of rejected entries */
	/*
	 * Batch mode (set by the owner after open): ows_state_apply leaves
	 * its transaction open, and consecutive applies share it until
	 * ows_state_commit. false: each apply commits.
	 */
	bool batch;
	unsigned uncommitted; /* entries applied since the last commit */
	/*
	 * Changes (to a value no state of this process had before) whenever
	 * what the database holds may go back or be replaced without the
	 * height moving on: open, ows__state_rollback, ows_state_restore.
	 * Caches of what changes only with the height (ddb's tables) are
	 * keyed by (gen, height).
	 */
	uint64_t gen;
	bool read_held; /* ows_state_read_hold's transaction is open */
};

/* Open (creating if needed) the database at path. */
int ows_state_open(struct ows_state *s, const char *path, struct ows_err *err);
void ows_state_close(struct ows_state *s);

/*
 * Apply the Raft entry at index. *result gets malloc'd JSON text (or NULL
 * when the entry was applied before); result may be NULL when nobody
 * wants it (the text is not built then: a follower's apply). Returns 0, or -EIO when the database
 * failed (the node must stop: its state can no longer follow the log). In
 * batch mode a failure rolls back every entry applied since the last
 * ows_state_commit too: the state is then as that commit left it, and
 * the caller applies those entries again.
 */
int ows_state_apply(struct ows_state *s, uint64_t index, const void *data,
		    size_t len, char **result);

/*
 * Make every entry applied since the last commit durable in one COMMIT,
 * with the last applied index (meta's "applied", written here once per
 * transaction and in it: a crash before the COMMIT loses the entries
 * and their index together). In batch mode ows_state_apply leaves the
 * transaction open for this (WAL, synchronous=NORMAL: the Raft log is
 * what makes an entry durable; the state is rebuilt from it after the
 * last applied index it holds). 0 (also when nothing waits); -EIO when
 * the COMMIT failed (a full disk): the state is then as the last commit
 * left it.
 */
int ows_state_commit(struct ows_state *s);

/*
 * Keep one read transaction open for the reads that follow, until
 * ows_state_read_release (the node calls it once per turn of its loop,
 * before it waits for I/O). Each statement of SQLite's autocommit mode
 * starts and ends a read transaction of its own, a lock and an unlock of
 * the WAL's shared memory (two fcntl(2) calls); reads under one hold
 * share them. Every write releases the hold first (ows_state_apply, and
 * ows_state_commit, restore, rollback and close), so that the reads of a
 * hold see everything committed before them. Does nothing while any
 * transaction is open.
 */
void ows_state_read_hold(struct ows_state *s);
void ows_state_read_release(struct ows_state *s);

/*
 * Results are kept this long: a resend is accepted only within 15 minutes of
 * its change set's time (ChangeSetTimeTooSkewed), the first attempt within
 * 15 minutes too, so 30 minutes of entry time cover every resend.
 */
#define OWS_STATE_RESULT_KEEP_MS (30 * 60 * 1000)

/*
 * The digest that identifies a change set envelope (borrowed) for resends:
 * SHA-256 hex of the canonical {"changeset", "signatures"}; the request
 * context the node adds is left out. 0, or OWS_EPARSE when malformed.
 */
int ows_state_envelope_digest(const json_t *envelope, char out[65]);

/*
 * The recorded result of the change set envelope (borrowed), when a change
 * set with its nonce and digest was accepted and its result is still kept:
 * 1 and *result a malloc'd JSON text. 0 and NULL when there is none.
 */
int ows_state_result(struct ows_state *s, const json_t *envelope,
		     char **result);

/*
 * The same for an attested entry's body (ledger/attest.h) sent again: 1
 * and *result when an attestation with its request_id and content was
 * accepted and its result is still kept; 0 and NULL otherwise.
 */
int ows_state_attested_result(struct ows_state *s, const json_t *body,
			      char **result);

/*
 * The whole database as one buffer, SQLite's own serialization (no second
 * copy is made), released with ows_state_snapshot_free. An open batch is
 * committed first (-EIO when that fails: no snapshot).
 */
int ows_state_snapshot(struct ows_state *s, void **data, size_t *len);
void ows_state_snapshot_free(void *data);
/*
 * Replace the state with a snapshot, unless the state is already at or past
 * the snapshot's index (restart after a crash: the database is newer).
 */
int ows_state_restore(struct ows_state *s, const void *data, size_t len);

/* Queries for the admin API; each returns a new reference or NULL. */
json_t *ows_state_ledger(struct ows_state *s, uint64_t from, unsigned limit);
json_t *ows_state_resources(struct ows_state *s, const char *kind,
			    const char *stack);
json_t *ows_state_nodes(struct ows_state *s);
/* 1 when resource kind/name exists, 0 when not. */
int ows_state_resource_exists(struct ows_state *s, const char *kind,
			      const char *name);
/* The spec of resource kind/name, or NULL when there is none. */
json_t *ows_state_resource(struct ows_state *s, const char *kind,
			   const char *name);
json_t *ows_state_rejections(struct ows_state *s, unsigned limit);
/* True when node id was removed with nodes.delete. */
bool ows_state_node_removed(struct ows_state *s, uint64_t id);
/* The node row for id, or NULL. */
json_t *ows_state_node(struct ows_state *s, uint64_t id);

/* Users and policies as a directory for ledger/authz.h. */
void ows_state_directory(struct ows_state *s, struct ows_directory *out);

/*
 * An access key: its user and its secret sealed to the cluster's box key
 * (auth/seal.h). Secrets are opened only where a signature is checked.
 */
struct ows_access_key {
	char user[256];
	char sealed[256];
	char sender[48];
};

/* Look up access key id; -ENOENT when there is none. */
int ows_state_access_key(struct ows_state *s, const char *id,
			 struct ows_access_key *out);
/* Access keys (id, user, created; never secrets), of one user or all. */
json_t *ows_state_access_keys(struct ows_state *s, const char *user);

/* Module-private: shared by state.c, apply.c and kinds.c. */
int ows__state_exec(struct ows_state *s, const char *sql);
/*
 * Run sql, a string constant of one statement without parameters or
 * rows (SAVEPOINT, BEGIN, COMMIT), through ows_state_stmt's cache: 0 or
 * -EIO.
 */
int ows__state_run(struct ows_state *s, const char *sql);
/* meta's k set to tv, or to iv when tv is NULL (borrowed): 0 or -EIO. */
int ows__state_meta_set(struct ows_state *s, const char *k,
			sqlite3_int64 iv, const char *tv);
/*
 * A prepared statement for sql on the state's database, kept until the
 * state closes: sql must be a string constant (it is cached by its
 * address, so that the hot paths of reads and applies do not parse SQL
 * each time). 0 and *stmt, reset and with no bindings; -EIO when it does
 * not prepare, -ENOMEM when the cache is full. The caller steps it and
 * resets it (sqlite3_reset) when done, before any other use of the same
 * statement: the same sql must not be in use twice at once.
 */
int ows_state_stmt(struct ows_state *s, const char *sql, sqlite3_stmt **stmt);
/* Roll back an open transaction and reload the cached metadata. */
void ows__state_rollback(struct ows_state *s);
/* Prepare sql on the state's database (the node's reads use it too). */
int ows_state_prepare(struct ows_state *s, const char *sql,
		      sqlite3_stmt **stmt);

#endif
