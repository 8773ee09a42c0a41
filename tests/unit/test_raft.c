/*
 * Tests of the Raft member over real TCP on 127.0.0.1 and real directories
 * under /tmp: one node that applies, restarts and snapshots, and three nodes
 * on one loop that grow, fail over, hand over and shrink. The test FSM keeps
 * the payloads (8-byte sequence numbers) in apply order with their indexes,
 * so order, gaps and double applies all show.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "../lib/raft_harness.h"
#include "../lib/unit.h"

static void start_single(struct ows_test_raft_cluster *c)
{
	ows_test_raft_cluster_init(c, 1);
	ows_test_raft_node_open(c, 0, true);
	ows_test_raft_wait_leader(c, 0);
}

/* Node 1 bootstraps, nodes 2 and 3 join as voters; 10 values applied. */
static void start_three_with(struct ows_test_raft_cluster *c,
			     const struct ows_raft_options *opts)
{
	ows_test_raft_cluster_init(c, 3);
	if (opts != NULL)
		c->opts = *opts;
	ows_test_raft_form_three(c);
	ows_test_raft_apply_values(c, 0, 0, 10);
	ows_test_raft_check_converged(c, 10);
}

static void start_three(struct ows_test_raft_cluster *c)
{
	start_three_with(c, NULL);
}

OWS_TEST(raft_single_node_applies_in_order)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_server s[2];
	struct ows_test_raft_waiter w[100] = {0};
	struct ows_test_raft_waiters ws = {w, 100};
	struct ows_test_raft_node *n1;
	char addr[64];
	uint64_t id;

	start_single(&c);
	n1 = &c.nodes[0];
	OWS_CHECK_STR(ows_raft_role_name(ows_raft_role(n1->r)), "leader");
	ows_raft_leader(n1->r, &id, addr);
	OWS_CHECK_INT(id, 1);
	OWS_CHECK_STR(addr, n1->addr);
	OWS_CHECK_INT(ows_raft_id(n1->r), 1);
	OWS_CHECK(ows_raft_term(n1->r) >= 1);
	OWS_CHECK_INT(ows_raft_servers(n1->r, s, 2), 1);
	OWS_CHECK_INT(s[0].id, 1);
	OWS_CHECK_STR(s[0].address, n1->addr);
	OWS_CHECK_INT(s[0].role, OWS_RAFT_VOTER);

	/* All in flight at once: the results must still find their owners. */
	for (uint64_t v = 0; v < 100; v++)
		OWS_CHECK_INT(ows_raft_apply(n1->r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w[v]),
			      0);
	OWS_CHECK(
	    ows_test_raft_run_until(&c, ows_test_raft_all_done, &ws, 20000));
	ows_test_raft_fsm_check(&n1->fsm, 100);
	/* Entry 1 is the bootstrap configuration; nothing else is logged. */
	for (size_t k = 0; k < 100; k++) {
		OWS_CHECK_INT(w[k].status, 0);
		OWS_CHECK_INT(n1->fsm.indexes[k], k + 2);
		OWS_CHECK_INT(w[k].index, k + 2);
	}
	OWS_CHECK_INT(ows_raft_applied_index(n1->r), n1->fsm.max_index);
	OWS_CHECK_INT(ows_raft_commit_index(n1->r), n1->fsm.max_index);
	OWS_CHECK_INT(ows_raft_last_index(n1->r), n1->fsm.max_index);
	OWS_CHECK_INT(n1->fsm.ignored, 0);
	ows_test_raft_cluster_fini(&c);
}

static bool caught_up(void *arg)
{
	struct ows_test_raft_node *nd = arg;

	return ows_raft_applied_index(nd->r) == ows_raft_last_index(nd->r);
}

OWS_TEST(raft_restart_resumes)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_node *n1;
	uint64_t last;

	start_single(&c);
	n1 = &c.nodes[0];
	ows_test_raft_apply_values(&c, 0, 0, 50);
	last = n1->fsm.max_index;
	ows_test_raft_node_close(&c, 0);

	/* The same FSM (as if its state were durable): old indexes again. */
	OWS_CHECK_INT(ows_raft_new(&c.loop, n1->dir, 1, n1->addr, &c.opts,
				   &(struct ows_raft_fsm){
				       &n1->fsm, ows_test_raft_fsm_apply,
				       ows_test_raft_fsm_snapshot,
				       ows_test_raft_fsm_restore, NULL, NULL},
				   &n1->r),
		      0);
	OWS_CHECK_INT(ows_raft_bootstrap(n1->r), -EEXIST);
	OWS_CHECK_INT(ows_raft_start(n1->r), 0);
	n1->open = true;
	ows_test_raft_wait_leader(&c, 0);
	ows_test_raft_apply_values(&c, 0, 50, 1);
	OWS_CHECK(ows_test_raft_run_until(&c, caught_up, n1, 10000));
	ows_test_raft_fsm_check(&n1->fsm, 51);
	OWS_CHECK(n1->fsm.max_index > last);
	ows_test_raft_node_close(&c, 0);

	/* A fresh FSM: the whole log is applied again, in order. */
	memset(&n1->fsm, 0, sizeof(n1->fsm));
	ows_test_raft_node_open(&c, 0, false);
	ows_test_raft_wait_leader(&c, 0);
	ows_test_raft_apply_values(&c, 0, 51, 1);
	OWS_CHECK(ows_test_raft_run_until(&c, caught_up, n1, 10000));
	ows_test_raft_fsm_check(&n1->fsm, 52);
	OWS_CHECK_INT(n1->fsm.ignored, 0);
	OWS_CHECK_INT(n1->fsm.restores, 0);
	ows_test_raft_cluster_fini(&c);
}

static bool has_snapshot_file(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls %s | grep -q '^snapshot-'", dir);
	return system(cmd) == 0;
}

OWS_TEST(raft_snapshot_and_restore)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_node *n1;

	ows_test_raft_cluster_init(&c, 1);
	c.opts.snapshot_threshold = 16;
	c.opts.snapshot_trailing = 4;
	ows_test_raft_node_open(&c, 0, true);
	ows_test_raft_wait_leader(&c, 0);
	n1 = &c.nodes[0];
	for (uint64_t v = 0; v < 100; v += 10)
		ows_test_raft_apply_values(&c, 0, v, 10);
	ows_test_raft_fsm_check(&n1->fsm, 100);
	OWS_CHECK(n1->fsm.snapshots >= 1);
	ows_test_raft_node_close(&c, 0);
	OWS_CHECK(has_snapshot_file(n1->dir));

	memset(&n1->fsm, 0, sizeof(n1->fsm));
	ows_test_raft_node_open(&c, 0, false);
	OWS_CHECK_INT(n1->fsm.restores, 1);
	OWS_CHECK(n1->fsm.n > 0);
	ows_test_raft_wait_leader(&c, 0);
	ows_test_raft_apply_values(&c, 0, 100, 5);
	OWS_CHECK(ows_test_raft_run_until(&c, caught_up, n1, 10000));
	ows_test_raft_fsm_check(&n1->fsm, 105);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_three_nodes_converge)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_server s[4];
	struct ows_test_raft_waiter w = {0};
	uint64_t v = 99, id;
	char addr[64];

	start_three(&c);
	OWS_CHECK_INT(ows_raft_servers(c.nodes[0].r, s, 4), 3);
	for (size_t i = 0; i < 3; i++) {
		OWS_CHECK_INT(s[i].id, i + 1);
		OWS_CHECK_STR(s[i].address, c.nodes[i].addr);
		OWS_CHECK_INT(s[i].role, OWS_RAFT_VOTER);
	}
	ows_test_raft_apply_values(&c, 0, 10, 40);
	ows_test_raft_check_converged(&c, 50);
	for (size_t i = 1; i < 3; i++) {
		struct ows_raft *r = c.nodes[i].r;

		OWS_CHECK_INT(ows_raft_role(r), OWS_RAFT_FOLLOWER);
		OWS_CHECK_INT(ows_raft_apply(r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w),
			      OWS_ENOTLEADER);
		OWS_CHECK_INT(ows_raft_add(r, 9, "127.0.0.1:1",
					   ows_test_raft_change_cb, &w),
			      OWS_ENOTLEADER);
		ows_raft_leader(r, &id, addr);
		OWS_CHECK_INT(id, 1);
		OWS_CHECK_STR(addr, c.nodes[0].addr);
		OWS_CHECK_INT(ows_raft_servers(r, s, 4), 3);
	}
	OWS_CHECK(!w.done);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_leader_failover)
{
	struct ows_test_raft_cluster c;
	size_t leader;

	start_three(&c);
	ows_test_raft_node_close(&c, 0);
	OWS_CHECK(
	    ows_test_raft_run_until(&c, ows_test_raft_other_leader, &c, 20000));
	leader = ows_test_raft_is_leader(&c.nodes[1]) ? 1 : 2;
	ows_test_raft_apply_values(&c, leader, 10, 10);
	ows_test_raft_check_converged(&c, 20);
	ows_test_raft_cluster_fini(&c);
}

static bool is_leader_2(void *arg)
{
	return ows_test_raft_is_leader(
	    &((struct ows_test_raft_cluster *)arg)->nodes[1]);
}

OWS_TEST(raft_transfer_leadership)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter w = {0};

	start_three(&c);
	OWS_CHECK_INT(
	    ows_raft_transfer(c.nodes[0].r, 2, ows_test_raft_change_cb, &w), 0);
	OWS_CHECK(
	    ows_test_raft_run_until(&c, ows_test_raft_waiter_done, &w, 20000));
	OWS_CHECK_INT(w.status, 0);
	OWS_CHECK(ows_test_raft_run_until(&c, is_leader_2, &c, 20000));
	ows_test_raft_apply_values(&c, 1, 10, 5);
	ows_test_raft_check_converged(&c, 15);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_follower_catches_up_by_snapshot)
{
	struct ows_test_raft_cluster c;

	/* Snapshot often and keep little log, so node 3 falls behind it. */
	start_three_with(&c, &(struct ows_raft_options){
				 .election_timeout_ms = 300,
				 .heartbeat_timeout_ms = 50,
				 .snapshot_threshold = 16,
				 .snapshot_trailing = 4,
			     });
	ows_test_raft_node_close(&c, 2);
	for (uint64_t v = 10; v < 70; v += 10)
		ows_test_raft_apply_values(&c, 0, v, 10);
	OWS_CHECK(c.nodes[0].fsm.snapshots >= 1);
	ows_test_raft_node_open(&c, 2, false);
	ows_test_raft_check_converged(&c, 70);
	OWS_CHECK(c.nodes[2].fsm.restores >= 1);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_remove_member)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_server s[4];
	struct ows_test_raft_waiter w = {0};
	size_t n;

	start_three(&c);
	OWS_CHECK_INT(ows_raft_remove(c.nodes[0].r, c.nodes[2].id,
				      ows_test_raft_change_cb, &w),
		      0);
	OWS_CHECK(
	    ows_test_raft_run_until(&c, ows_test_raft_waiter_done, &w, 20000));
	OWS_CHECK_INT(w.status, 0);
	n = ows_raft_servers(c.nodes[0].r, s, 4);
	OWS_CHECK_INT(n, 2);
	for (size_t i = 0; i < n; i++)
		OWS_CHECK(s[i].id != 3);
	/* Two voters left: the leader still commits with node 2 alone. */
	ows_test_raft_node_close(&c, 2);
	ows_test_raft_apply_values(&c, 0, 10, 5);
	ows_test_raft_check_converged(&c, 15);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_close_cancels_pending)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter w[20] = {0};

	start_single(&c);
	for (uint64_t v = 0; v < 20; v++)
		OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w[v]),
			      0);
	ows_test_raft_node_close(&c, 0);
	for (size_t k = 0; k < 20; k++) {
		OWS_CHECK(w[k].done);
		OWS_CHECK(w[k].status == 0 || w[k].status == -ECANCELED);
	}
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_new_rejects_bad_arguments)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_options bad = {.election_timeout_ms = 100,
				       .heartbeat_timeout_ms = 100};
	struct ows_raft_fsm fsm = {NULL, ows_test_raft_fsm_apply,
				   ows_test_raft_fsm_snapshot,
				   ows_test_raft_fsm_restore, NULL, NULL};
	struct ows_raft *r = NULL;
	struct ows_test_raft_node *n1;

	ows_test_raft_cluster_init(&c, 1);
	n1 = &c.nodes[0];
	OWS_CHECK_INT(
	    ows_raft_new(&c.loop, n1->dir, 0, n1->addr, NULL, &fsm, &r),
	    OWS_EINVAL);
	OWS_CHECK_INT(
	    ows_raft_new(&c.loop, n1->dir, 1, n1->addr, &bad, &fsm, &r),
	    OWS_EINVAL);
	fsm.restore = NULL;
	OWS_CHECK_INT(
	    ows_raft_new(&c.loop, n1->dir, 1, n1->addr, NULL, &fsm, &r),
	    OWS_EINVAL);
	OWS_CHECK(r == NULL);
	/* Closing a member that never started is fine. */
	fsm.restore = ows_test_raft_fsm_restore;
	fsm.ud = &n1->fsm;
	OWS_CHECK_INT(
	    ows_raft_new(&c.loop, n1->dir, 1, n1->addr, NULL, &fsm, &n1->r), 0);
	OWS_CHECK_INT(ows_raft_role(n1->r), OWS_RAFT_UNAVAILABLE);
	OWS_CHECK_INT(
	    ows_raft_apply(n1->r, "x", 1, ows_test_raft_apply_cb, NULL),
	    OWS_ENOTLEADER);
	n1->open = true;
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_close_fails_uncommitted)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter w[5] = {0};

	start_three(&c);
	ows_test_raft_node_close(&c, 1);
	ows_test_raft_node_close(&c, 2);
	/* No quorum left: these are stored but never committed. */
	for (uint64_t v = 0; v < 5; v++) {
		int rv = ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					ows_test_raft_apply_cb, &w[v]);

		if (rv != 0) {
			OWS_CHECK_INT(rv, OWS_ENOTLEADER);
			w[v].done = true;
			w[v].status = rv;
		}
	}
	ows_test_raft_node_close(&c, 0);
	for (size_t k = 0; k < 5; k++) {
		OWS_CHECK(w[k].done);
		OWS_CHECK(w[k].status == -ECANCELED ||
			  w[k].status == OWS_ENOTLEADER);
	}
	OWS_CHECK_INT(c.nodes[0].fsm.n, 10);
	ows_test_raft_cluster_fini(&c);
}

static bool not_stalled(void *arg)
{
	struct ows_test_raft_node *nd = arg;

	return ows_raft_stalled(nd->r, NULL) == 0;
}

/*
 * A follower whose state machine cannot apply (a full disk) holds the
 * entries while libraft moves on, one entry per commit, with snapshots
 * due. A snapshot taken then would be labelled with libraft's index but
 * hold the state of before the stall, and the member reopened once
 * storage returns (as owsd does) would restore it and skip the entries in
 * between: the follower must end with every value, in order.
 */
OWS_TEST(raft_stalled_follower_reopened_has_everything)
{
	struct ows_raft_options opts = {.snapshot_threshold = 8,
					.snapshot_trailing = 2};
	struct ows_test_raft_cluster c;
	struct ows_test_raft_node *f = NULL;

	start_three_with(&c, &opts);
	f = &c.nodes[1];
	f->fsm.fail = -ENOSPC;
	/* One at a time: libraft moves on by one entry per commit. */
	for (uint64_t v = 10; v < 60; v++)
		ows_test_raft_apply_values(&c, 0, v, 1);
	ows_test_raft_run_for(&c, 300);
	OWS_CHECK(f->fsm.n == 10 && ows_raft_stalled(f->r, NULL) != 0);
	f->fsm.fail = 0;
	OWS_CHECK(ows_test_raft_run_until(&c, not_stalled, f, 10000));
	/* Storage is back: the member is closed and opened again. */
	ows_test_raft_node_close(&c, 1);
	ows_test_raft_node_open(&c, 1, false);
	ows_test_raft_apply_values(&c, 0, 60, 4);
	ows_test_raft_check_converged(&c, 64);
	ows_test_raft_cluster_fini(&c);
}
