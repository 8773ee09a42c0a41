/*
 * Proposal batching (src/raft/propose.c): the entries proposed in one turn
 * of the loop reach libraft in one raft_apply, so that the leader appends
 * them in one append request and each follower gets them in one
 * AppendEntries; every proposer still gets its own entry's result, and a
 * batch that cannot be committed fails every one of its proposers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "raft/raft_priv.h"
#include "../lib/raft_harness.h"
#include "../lib/unit.h"

#define N_BATCHED 200

/* Node 1 bootstraps, nodes 2 and 3 join as voters; 10 values applied. */
static void start_three(struct ows_test_raft_cluster *c)
{
	ows_test_raft_cluster_init(c, 3);
	ows_test_raft_form_three(c);
	ows_test_raft_apply_values(c, 0, 0, 10);
	ows_test_raft_check_converged(c, 10);
}

OWS_TEST(raft_proposals_of_one_turn_share_appends)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter *w = calloc(N_BATCHED, sizeof(*w));
	struct ows_test_raft_waiters ws = {w, N_BATCHED};
	struct ows_raft_batch_stats before[3], after[3];

	start_three(&c);
	for (size_t i = 0; i < 3; i++)
		ows_raft_batch_stats(c.nodes[i].r, &before[i]);
	/* all proposed before the loop runs: one turn's batch */
	for (uint64_t v = 10; v < 10 + N_BATCHED; v++)
		OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					     ows_test_raft_apply_cb,
					     &w[v - 10]),
			      0);
	OWS_CHECK(
	    ows_test_raft_run_until(&c, ows_test_raft_all_done, &ws, 20000));
	ows_test_raft_check_converged(&c, 10 + N_BATCHED);
	/* each proposer got the result of its own entry (the FSM's result
	   is the index it applied the proposer's value at) */
	for (size_t k = 0; k < N_BATCHED; k++) {
		OWS_CHECK_INT(w[k].status, 0);
		OWS_CHECK_INT(w[k].index, c.nodes[0].fsm.indexes[10 + k]);
	}
	for (size_t i = 0; i < 3; i++) {
		uint64_t appends, entries;

		ows_raft_batch_stats(c.nodes[i].r, &after[i]);
		appends = after[i].appends - before[i].appends;
		entries = after[i].append_entries - before[i].append_entries;
		OWS_CHECK(appends >= 1);
		OWS_CHECK_INT(entries, N_BATCHED);
		/* one append request per proposal before batching */
		OWS_CHECK(entries > appends);
	}
	free(w);
	ows_test_raft_cluster_fini(&c);
}

static bool not_leader(void *arg)
{
	struct ows_test_raft_node *nd = arg;

	return ows_raft_role(nd->r) != OWS_RAFT_LEADER;
}

OWS_TEST(raft_batch_without_quorum_fails_every_proposer)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter w[20] = {{0}};
	struct ows_test_raft_waiters ws = {w, 20};

	start_three(&c);
	ows_test_raft_node_close(&c, 1);
	ows_test_raft_node_close(&c, 2);
	/* stored on the leader, never committed: the leader steps down once
	   it has heard from no majority for an election timeout */
	for (uint64_t v = 0; v < 20; v++)
		OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w[v]),
			      0);
	OWS_CHECK(
	    ows_test_raft_run_until(&c, ows_test_raft_all_done, &ws, 20000));
	OWS_CHECK(ows_test_raft_run_until(&c, not_leader, &c.nodes[0], 1));
	for (size_t k = 0; k < 20; k++)
		OWS_CHECK_INT(w[k].status, OWS_ENOTLEADER);
	OWS_CHECK_INT(c.nodes[0].fsm.n, 10);
	/* no longer the leader: refused at once, without a callback */
	OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, "x", 1,
				     ows_test_raft_apply_cb, &w[0]),
		      OWS_ENOTLEADER);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(raft_close_cancels_queued_proposals)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter w[5] = {{0}};

	ows_test_raft_cluster_init(&c, 1);
	ows_test_raft_node_open(&c, 0, true);
	ows_test_raft_wait_leader(&c, 0);
	/* queued, not yet handed to libraft when the close comes */
	for (uint64_t v = 0; v < 5; v++)
		OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					     ows_test_raft_apply_cb, &w[v]),
			      0);
	ows_test_raft_node_close(&c, 0);
	for (size_t k = 0; k < 5; k++) {
		OWS_CHECK(w[k].done);
		OWS_CHECK_INT(w[k].status, -ECANCELED);
	}
	ows_test_raft_cluster_fini(&c);
}

/*
 * A close while libraft holds a batch (handed over, appended, not yet
 * committed: the followers are gone) and while later entries of it wait
 * for their own index: every proposer is answered once, -ECANCELED, and
 * none with another proposal's result.
 */
OWS_TEST(raft_close_cancels_a_batch_libraft_holds)
{
	struct ows_test_raft_cluster c;
	struct ows_test_raft_waiter w[8] = {{0}};
	struct ows_raft_batch_stats before, after;

	start_three(&c);
	ows_test_raft_node_close(&c, 1);
	ows_test_raft_node_close(&c, 2);
	ows_raft_batch_stats(c.nodes[0].r, &before);
	for (uint64_t v = 100; v < 108; v++)
		OWS_CHECK_INT(ows_raft_apply(c.nodes[0].r, &v, sizeof(v),
					     ows_test_raft_apply_cb,
					     &w[v - 100]),
			      0);
	/* the loop's check hands them to libraft, which appends them */
	ows_test_raft_run_for(&c, 30);
	ows_raft_batch_stats(c.nodes[0].r, &after);
	OWS_CHECK_INT(after.append_entries - before.append_entries, 8);
	for (size_t k = 0; k < 8; k++)
		OWS_CHECK(!w[k].done);
	ows_test_raft_node_close(&c, 0);
	for (size_t k = 0; k < 8; k++) {
		OWS_CHECK(w[k].done);
		OWS_CHECK_INT(w[k].status, -ECANCELED);
	}
	OWS_CHECK_INT(c.nodes[0].fsm.n, 10);
	ows_test_raft_cluster_fini(&c);
}

/*
 * With the default threshold a snapshot sets the next one's in proportion
 * to the state: its size in entries of the mean size appended, at least
 * the default (8192) and at most 262144; a threshold given stays fixed.
 */
OWS_TEST(raft_snapshot_threshold_grows_with_the_state)
{
	struct ows_raft *r = calloc(1, sizeof(*r));

	OWS_CHECK(r != NULL);
	r->snapshot_scaled = true;
	r->snapshot_floor = 8192;
	raft_set_snapshot_threshold(&r->raft, 8192);
	/* 1,000 entries of 1,200 bytes appended */
	r->stats.append_entries = 1000;
	r->append_bytes = 1200000;
	ows__raft_snapshot_rescale(r, 100u << 20); /* 100 MB: 87381 */
	OWS_CHECK_INT(r->raft.snapshot.threshold, (100u << 20) / 1200);
	ows__raft_snapshot_rescale(r, 1u << 20); /* 1 MB: the least */
	OWS_CHECK_INT(r->raft.snapshot.threshold, 8192);
	ows__raft_snapshot_rescale(r, (size_t)4 << 30); /* 4 GB: the most */
	OWS_CHECK_INT(r->raft.snapshot.threshold, 262144);
	/* tiny entries count as 64 bytes */
	r->append_bytes = 8000;
	ows__raft_snapshot_rescale(r, 10u << 20);
	OWS_CHECK_INT(r->raft.snapshot.threshold, (10u << 20) / 64);
	/* nothing appended yet: unchanged */
	r->stats.append_entries = 0;
	ows__raft_snapshot_rescale(r, 100u << 20);
	OWS_CHECK_INT(r->raft.snapshot.threshold, (10u << 20) / 64);
	/* a threshold the options gave is kept */
	r->stats.append_entries = 1000;
	r->snapshot_scaled = false;
	raft_set_snapshot_threshold(&r->raft, 16);
	ows__raft_snapshot_rescale(r, 100u << 20);
	OWS_CHECK_INT(r->raft.snapshot.threshold, 16);
	free(r);
}
