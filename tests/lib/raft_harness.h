/*
 * A harness for unit tests of the Raft member (src/raft/) over real TCP on
 * 127.0.0.1 and real directories under /tmp: a cluster of up to
 * OWS_TEST_RAFT_MAX_NODES nodes on one loop, each with a test FSM that keeps
 * its payloads (8-byte sequence numbers) in apply order with their indexes,
 * so order, gaps and double applies all show. It drives the loop with
 * timeouts, opens and closes nodes, proposes values, grows the cluster and
 * waits for it to converge. Every helper fails the test through OWS_CHECK
 * rather than returning an error. Used by tests/unit/test_raft.c and
 * tests/unit/test_raft_auth.c.
 */
#ifndef OWS_TESTS_RAFT_HARNESS_H
#define OWS_TESTS_RAFT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "raft/raft.h"

#define OWS_TEST_RAFT_MAX_VALUES 1024
#define OWS_TEST_RAFT_MAX_NODES 4

/* The test FSM's state; zero it for a fresh FSM. */
struct ows_test_raft_fsm {
	uint64_t max_index; /* the highest index applied */
	size_t n;
	uint64_t values[OWS_TEST_RAFT_MAX_VALUES];
	uint64_t indexes[OWS_TEST_RAFT_MAX_VALUES];
	unsigned ignored; /* applies of an index already applied */
	unsigned snapshots;
	unsigned restores;
	int fail; /* when not 0, apply returns it (a full disk) */
};

/*
 * The test FSM's callbacks (struct ows_raft_fsm), ud being a
 * struct ows_test_raft_fsm. apply returns fail when it is set, else ignores (and counts) an index at or below
 * max_index, otherwise appends the 8-byte payload and hands back its index
 * as a malloc'd uint64_t result that the apply callback takes. snapshot
 * returns a malloc'd image (max_index, n, then n values and n indexes) or
 * -ENOMEM; restore replaces the state with such an image.
 */
int ows_test_raft_fsm_apply(void *ud, uint64_t index, const void *data,
			    size_t len, void **result);
int ows_test_raft_fsm_snapshot(void *ud, void **data, size_t *len);
int ows_test_raft_fsm_restore(void *ud, const void *data, size_t len);

/* f holds exactly the payloads 0..n-1 in order, at growing indexes. */
void ows_test_raft_fsm_check(const struct ows_test_raft_fsm *f, size_t n);

struct ows_test_raft_node {
	struct ows_raft *r; /* NULL once closed */
	struct ows_test_raft_fsm fsm;
	uint64_t id;
	char dir[64];  /* a fresh temporary directory */
	char addr[64]; /* 127.0.0.1 and a free port */
	bool open;
	/*
	 * Borrowed; what each open passes as the options' auth. NULL (the
	 * default) is libraft's plain TCP transport.
	 */
	const struct ows_raft_auth *auth;
	/*
	 * Borrowed; the loop the node runs on (set before open). NULL (the
	 * default) is the cluster's. A node on a loop of its own can be
	 * frozen, as a paused process is: its loop is then not run.
	 */
	uv_loop_t *loop;
	bool frozen;
};

struct ows_test_raft_cluster {
	uv_loop_t loop;
	uv_timer_t tick; /* wakes the loop so waits can time out */
	struct ows_raft_options opts;
	struct ows_test_raft_node nodes[OWS_TEST_RAFT_MAX_NODES];
	size_t n;
	/* The nodes on the cluster's loop are frozen: it is not run. */
	bool frozen;
};

/*
 * Set up c with n nodes (n <= OWS_TEST_RAFT_MAX_NODES), none open: ids 1..n,
 * a temporary directory and a distinct free port each, election and
 * heartbeat timeouts of 300 and 50 ms, the loop with its tick timer. Also
 * ignores SIGPIPE and lowers logging to errors only. Undo with
 * ows_test_raft_cluster_fini.
 */
void ows_test_raft_cluster_init(struct ows_test_raft_cluster *c, size_t n);

/*
 * Close every open node, remove the directories and close the loop, which
 * must then have nothing left.
 */
void ows_test_raft_cluster_fini(struct ows_test_raft_cluster *c);

/*
 * Run the loops until pred(arg) holds; false after timeout_ms. The loops
 * are the cluster's and the nodes' own, those that are not frozen.
 */
bool ows_test_raft_run_until(struct ows_test_raft_cluster *c,
			     bool (*pred)(void *), void *arg,
			     unsigned timeout_ms);

/* Let the cluster run for ms. */
void ows_test_raft_run_for(struct ows_test_raft_cluster *c, unsigned ms);

/*
 * Create and start node i (not open) on its FSM with the cluster's options
 * and the node's auth, bootstrapping it as the only voter first if asked.
 */
void ows_test_raft_node_open(struct ows_test_raft_cluster *c, size_t i,
			     bool bootstrap);

/* Close node i (open) and wait up to 10 s for its close callback. */
void ows_test_raft_node_close(struct ows_test_raft_cluster *c, size_t i);

/* What came of one proposal or membership change. */
struct ows_test_raft_waiter {
	bool done;
	int status;
	uint64_t index; /* from the FSM's result */
};

/*
 * Callbacks for ows_raft_apply and the membership changes, ud being a
 * struct ows_test_raft_waiter (borrowed) that must not be done yet.
 * apply_cb frees the result, which only a success may carry.
 */
void ows_test_raft_apply_cb(void *ud, int status, void *result);
void ows_test_raft_change_cb(void *ud, int status);

/* Predicate for ows_test_raft_run_until: arg, a waiter, is done. */
bool ows_test_raft_waiter_done(void *arg);

/* An array of waiters. */
struct ows_test_raft_waiters {
	struct ows_test_raft_waiter *w; /* borrowed */
	size_t n;
};

/* Predicate for ows_test_raft_run_until: every waiter of arg is done. */
bool ows_test_raft_all_done(void *arg);

/* Predicate for ows_test_raft_run_until: arg, a node, is open and leads. */
bool ows_test_raft_is_leader(void *arg);

/* Predicate: node 2 or 3 of arg, a cluster, leads. */
bool ows_test_raft_other_leader(void *arg);

/* Wait up to 10 s for node i to lead. */
void ows_test_raft_wait_leader(struct ows_test_raft_cluster *c, size_t i);

/*
 * Propose values first..first+n-1 on node i, all in flight at once, and
 * wait up to 20 s for all of them: each must succeed, at a growing index.
 */
void ows_test_raft_apply_values(struct ows_test_raft_cluster *c, size_t i,
				uint64_t first, size_t n);

/* Add node j on leader i, then give it role; wait for each change. */
void ows_test_raft_join(struct ows_test_raft_cluster *c, size_t i, size_t j,
			enum ows_raft_member_role role);

/*
 * Wait up to 20 s for every open node to have applied exactly n values,
 * then check they are 0..n-1 in order and that every node saw each value
 * at the same index.
 */
void ows_test_raft_check_converged(struct ows_test_raft_cluster *c, size_t n);

/*
 * On c, set up with at least 3 nodes and none open: node 1 bootstraps and
 * leads, nodes 2 and 3 open and join as voters.
 */
void ows_test_raft_form_three(struct ows_test_raft_cluster *c);

#endif
