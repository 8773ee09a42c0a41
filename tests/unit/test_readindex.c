/*
 * Tests of the read barriers of the Raft member (src/raft/readindex.c:
 * ReadIndex) over the raft harness: real libraft nodes over TCP on
 * 127.0.0.1. The questions ReadIndex asks between nodes travel over a
 * network of the test's own (the node uses signed HTTP for them), which can
 * hold messages, and loses those from or to a node that is cut off or
 * frozen (its loop not run, as a paused process), answering the asker
 * "no answer" after a while, as an HTTP client's timeout would.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/list.h"
#include "../lib/raft_harness.h"
#include "../lib/unit.h"

#define LOST_MS 200 /* a lost question's "no answer" comes after this */

struct net;

/* What node i hands its member as read ops. */
struct node_ops {
	struct ows_raft_read_ops ops;
	struct net *net;
	size_t i;
};

struct net {
	struct ows_test_raft_cluster *c;
	struct node_ops nodes[OWS_TEST_RAFT_MAX_NODES];
	bool cut[OWS_TEST_RAFT_MAX_NODES];
	bool hold;	    /* keep questions until net_release */
	bool answer_frozen; /* a frozen node's state answers anyway */
	struct ows_link held;
	unsigned confirms, asks, noes;
	unsigned stale_confirms, stale_noes; /* while a stale leader read */
};

struct msg {
	uv_timer_t timer; /* on the asking node's loop */
	struct ows_link link;
	struct net *net;
	size_t from, to;
	bool ask;
	uint64_t leader, term;
	ows_raft_confirm_cb confirm_cb;
	ows_raft_index_cb index_cb;
	void *cb_ud;
};

static uv_loop_t *loop_of(struct net *net, size_t i)
{
	uv_loop_t *l = net->c->nodes[i].loop;

	return l != NULL ? l : &net->c->loop;
}

static bool reachable(struct net *net, size_t i)
{
	struct ows_test_raft_node *nd = &net->c->nodes[i];
	bool frozen = nd->loop != NULL ? nd->frozen : net->c->frozen;

	if (net->answer_frozen)
		frozen = false;
	return nd->open && nd->r != NULL && !frozen && !net->cut[i];
}

static void msg_closed(uv_handle_t *h)
{
	free(h->data);
}

static void msg_end(struct msg *m)
{
	uv_close((uv_handle_t *)&m->timer, msg_closed);
}

static void index_answered(void *ud, int status, uint64_t index)
{
	struct msg *m = ud;

	m->index_cb(m->cb_ud, status, index);
	msg_end(m);
}

static void lost_cb(uv_timer_t *t)
{
	struct msg *m = t->data;

	if (m->ask)
		m->index_cb(m->cb_ud, -ETIMEDOUT, 0);
	else
		m->confirm_cb(m->cb_ud, -ETIMEDOUT);
	msg_end(m);
}

/* The question reaches node to now, and is answered from its state. */
static void deliver_cb(uv_timer_t *t)
{
	struct msg *m = t->data;
	struct net *net = m->net;
	struct ows_raft *to = net->c->nodes[m->to].r;
	int rv;

	if (!reachable(net, m->from) || !reachable(net, m->to)) {
		uv_timer_start(&m->timer, lost_cb, LOST_MS, 0);
		return;
	}
	if (!m->ask) {
		bool yes = ows_raft_leader_confirm(to, m->leader, m->term);

		net->noes += !yes;
		m->confirm_cb(m->cb_ud, yes ? 0 : OWS_ENOTLEADER);
		msg_end(m);
		return;
	}
	rv = ows_raft_read_index(to, &net->nodes[m->to].ops, index_answered, m);
	if (rv != 0)
		index_answered(m, rv, 0);
}

static int send_msg(struct net *net, struct msg *m)
{
	m->net = net;
	m->timer.data = m;
	OWS_CHECK_INT(uv_timer_init(loop_of(net, m->from), &m->timer), 0);
	ows_list_init(&m->link);
	if (net->hold)
		ows_list_append(&net->held, &m->link);
	else
		uv_timer_start(&m->timer, deliver_cb, 0, 0);
	return 0;
}

static void net_release(struct net *net)
{
	net->hold = false;
	while (net->held.next != &net->held) {
		struct msg *m =
		    OWS_CONTAINER_OF(net->held.next, struct msg, link);

		ows_list_remove(&m->link);
		uv_timer_start(&m->timer, deliver_cb, 0, 0);
	}
}

static int confirm(void *ud, uint64_t id, uint64_t leader, uint64_t term,
		   ows_raft_confirm_cb cb, void *cb_ud)
{
	struct node_ops *o = ud;
	struct msg *m = calloc(1, sizeof(*m));

	OWS_CHECK(m != NULL && id >= 1 && id <= o->net->c->n);
	*m = (struct msg){.from = o->i,
			  .to = id - 1,
			  .leader = leader,
			  .term = term,
			  .confirm_cb = cb,
			  .cb_ud = cb_ud};
	o->net->confirms++;
	return send_msg(o->net, m);
}

static int ask(void *ud, uint64_t leader, ows_raft_index_cb cb, void *cb_ud)
{
	struct node_ops *o = ud;
	struct msg *m = calloc(1, sizeof(*m));

	OWS_CHECK(m != NULL && leader >= 1 && leader <= o->net->c->n);
	*m = (struct msg){.from = o->i,
			  .to = leader - 1,
			  .ask = true,
			  .index_cb = cb,
			  .cb_ud = cb_ud};
	o->net->asks++;
	return send_msg(o->net, m);
}

static void net_init(struct net *net, struct ows_test_raft_cluster *c)
{
	*net = (struct net){.c = c};
	ows_list_init(&net->held);
	for (size_t i = 0; i < OWS_TEST_RAFT_MAX_NODES; i++)
		net->nodes[i] = (struct node_ops){.ops = {.ud = &net->nodes[i],
							  .confirm = confirm,
							  .ask = ask},
						  .net = net,
						  .i = i};
}

/* What came of one read barrier or read index. */
struct res {
	bool done;
	int status;
	uint64_t index;
	size_t applied; /* values in the node's FSM when it came */
	const struct ows_test_raft_fsm *fsm;
};

static void barrier_cb(void *ud, int status)
{
	struct res *r = ud;

	OWS_CHECK(!r->done);
	r->done = true;
	r->status = status;
	r->applied = r->fsm->n;
}

static void index_cb(void *ud, int status, uint64_t index)
{
	struct res *r = ud;

	OWS_CHECK(!r->done);
	r->done = true;
	r->status = status;
	r->index = index;
}

static bool res_done(void *arg)
{
	return ((struct res *)arg)->done;
}

static void read_barrier(struct net *net, size_t i, struct res *r)
{
	*r = (struct res){.fsm = &net->c->nodes[i].fsm};
	OWS_CHECK_INT(ows_raft_read_barrier(net->c->nodes[i].r,
					    &net->nodes[i].ops, barrier_cb, r),
		      0);
}

/* A barrier on node i, waited for (10 s): its status. */
static int read_barrier_wait(struct net *net, size_t i, struct res *r)
{
	read_barrier(net, i, r);
	OWS_CHECK(ows_test_raft_run_until(net->c, res_done, r, 10000));
	return r->status;
}

/* Propose value on node i and wait for it: its index. */
static uint64_t write_one(struct ows_test_raft_cluster *c, size_t i,
			  uint64_t value)
{
	struct ows_test_raft_waiter w = {0};

	OWS_CHECK_INT(ows_raft_apply(c->nodes[i].r, &value, sizeof(value),
				     ows_test_raft_apply_cb, &w),
		      0);
	OWS_CHECK(
	    ows_test_raft_run_until(c, ows_test_raft_waiter_done, &w, 10000));
	OWS_CHECK_INT(w.status, 0);
	return w.index;
}

static void start_three(struct ows_test_raft_cluster *c, struct net *net)
{
	ows_test_raft_cluster_init(c, 3);
	ows_test_raft_form_three(c);
	ows_test_raft_apply_values(c, 0, 0, 10);
	ows_test_raft_check_converged(c, 10);
	net_init(net, c);
}

OWS_TEST(readindex_single_node_appends_nothing)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_read_stats st;
	struct net net;
	struct res r[64];
	uint64_t last;

	ows_test_raft_cluster_init(&c, 1);
	ows_test_raft_node_open(&c, 0, true);
	ows_test_raft_wait_leader(&c, 0);
	net_init(&net, &c);
	ows_test_raft_apply_values(&c, 0, 0, 3);
	last = ows_raft_last_index(c.nodes[0].r);
	for (size_t k = 0; k < 64; k++)
		read_barrier(&net, 0, &r[k]);
	for (size_t k = 0; k < 64; k++) {
		OWS_CHECK(ows_test_raft_run_until(&c, res_done, &r[k], 10000));
		OWS_CHECK_INT(r[k].status, 0);
		OWS_CHECK_INT(r[k].applied, 3);
	}
	OWS_CHECK_INT(ows_raft_last_index(c.nodes[0].r), last);
	ows_raft_read_stats(c.nodes[0].r, &st);
	/* The 64 arrived together: one round, no question asked (alone). */
	OWS_CHECK_INT(st.reads, 64);
	OWS_CHECK_INT(st.rounds, 1);
	OWS_CHECK_INT(net.confirms, 0);
	ows_test_raft_cluster_fini(&c);
}

static void count_active_idle(uv_handle_t *h, void *arg)
{
	if (h->type == UV_IDLE && uv_is_active(h) && !uv_is_closing(h))
		(*(unsigned *)arg)++;
}

/*
 * Once the reads are answered, nothing is left that keeps the loop from
 * sleeping in its poll: no idle handle is active (an active one makes
 * the loop spin, a core's worth of CPU on an idle node).
 */
OWS_TEST(readindex_leaves_the_loop_free_to_sleep)
{
	struct ows_test_raft_cluster c;
	struct net net;
	struct res r[8];
	unsigned idle = 0;

	start_three(&c, &net);
	for (size_t i = 0; i < 3; i++)
		for (size_t k = 0; k < 8; k++)
			OWS_CHECK_INT(read_barrier_wait(&net, i, &r[k]), 0);
	ows_test_raft_run_for(&c, 300);
	uv_walk(&c.loop, count_active_idle, &idle);
	OWS_CHECK_INT(idle, 0);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(readindex_read_after_write_on_leader_and_followers)
{
	struct ows_test_raft_cluster c;
	struct net net;
	struct res r;
	uint64_t last, w;

	start_three(&c, &net);
	last = ows_raft_last_index(c.nodes[0].r);
	for (size_t i = 0; i < 3; i++) {
		/* The write is acknowledged by the leader; a follower may not
		 * have heard of its commit yet. The barrier waits for it. */
		write_one(&c, 0, 10 + i);
		OWS_CHECK_INT(read_barrier_wait(&net, i, &r), 0);
		OWS_CHECK_INT(r.applied, 11 + i);
		ows_test_raft_fsm_check(&c.nodes[i].fsm, 11 + i);
	}
	/* A read index taken after a write includes it. */
	w = write_one(&c, 0, 13);
	r = (struct res){0};
	OWS_CHECK_INT(
	    ows_raft_read_index(c.nodes[0].r, &net.nodes[0].ops, index_cb, &r),
	    0);
	OWS_CHECK(ows_test_raft_run_until(&c, res_done, &r, 10000));
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK(r.index >= w);
	/* Only the leader gives read indexes. */
	OWS_CHECK_INT(
	    ows_raft_read_index(c.nodes[1].r, &net.nodes[1].ops, index_cb, &r),
	    OWS_ENOTLEADER);
	/* Nothing but the four writes went into the log. */
	OWS_CHECK_INT(ows_raft_last_index(c.nodes[0].r), last + 4);
	OWS_CHECK(net.asks >= 2 && net.confirms >= 2);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(readindex_batches_share_rounds)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_read_stats lead, fol;
	struct net net;
	struct res r[2][40];
	uint64_t last;

	start_three(&c, &net);
	last = ows_raft_last_index(c.nodes[0].r);
	for (size_t k = 0; k < 40; k++) {
		read_barrier(&net, 0, &r[0][k]);
		read_barrier(&net, 1, &r[1][k]);
	}
	for (size_t k = 0; k < 40; k++)
		for (size_t i = 0; i < 2; i++) {
			OWS_CHECK(ows_test_raft_run_until(&c, res_done,
							  &r[i][k], 10000));
			OWS_CHECK_INT(r[i][k].status, 0);
		}
	ows_raft_read_stats(c.nodes[0].r, &lead);
	ows_raft_read_stats(c.nodes[1].r, &fol);
	/* 40 reads on the follower: one question to the leader. 40 reads
	 * there and the follower's question: two rounds at most. */
	OWS_CHECK_INT(fol.rounds, 1);
	OWS_CHECK_INT(net.asks, 1);
	OWS_CHECK(lead.rounds <= 2);
	OWS_CHECK(net.confirms <= 4);
	OWS_CHECK_INT(ows_raft_last_index(c.nodes[0].r), last);
	ows_test_raft_cluster_fini(&c);
}

OWS_TEST(readindex_read_arriving_during_a_round_waits_for_the_next)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_read_stats st;
	struct net net;
	struct res a = {0}, b = {0};
	uint64_t w;

	start_three(&c, &net);
	net.hold = true;
	OWS_CHECK_INT(
	    ows_raft_read_index(c.nodes[0].r, &net.nodes[0].ops, index_cb, &a),
	    0);
	ows_test_raft_run_for(&c, 30);
	ows_raft_read_stats(c.nodes[0].r, &st);
	OWS_CHECK_INT(st.rounds, 1); /* a's round: its questions held */
	OWS_CHECK(!a.done);
	w = write_one(&c, 0, 10);
	OWS_CHECK_INT(
	    ows_raft_read_index(c.nodes[0].r, &net.nodes[0].ops, index_cb, &b),
	    0);
	ows_test_raft_run_for(&c, 10);
	OWS_CHECK(!a.done && !b.done);
	net_release(&net);
	OWS_CHECK(ows_test_raft_run_until(&c, res_done, &a, 10000));
	OWS_CHECK(ows_test_raft_run_until(&c, res_done, &b, 10000));
	OWS_CHECK_INT(a.status, 0);
	OWS_CHECK_INT(b.status, 0);
	/* a's index was taken before the write; b, which arrived during a's
	 * round, got one of its own, taken after it. */
	OWS_CHECK(a.index < w);
	OWS_CHECK(b.index >= w);
	ows_raft_read_stats(c.nodes[0].r, &st);
	OWS_CHECK_INT(st.rounds, 2);
	ows_test_raft_cluster_fini(&c);
}

static bool other_leads(void *arg)
{
	struct ows_test_raft_cluster *c = arg;

	return ows_raft_role(c->nodes[1].r) == OWS_RAFT_LEADER ||
	       ows_raft_role(c->nodes[2].r) == OWS_RAFT_LEADER;
}

/*
 * The authenticated transport with trust for everyone: what matters here
 * is that a connection opens only once the listening node's process has
 * answered the handshake, so that a paused node receives nothing from a
 * node that dialed it while it was paused (with libraft's plain TCP, the
 * peer's messages would wait in its socket for it).
 */
static int trust_sign(void *ud, const void *msg, size_t len, char sig[89])
{
	(void)ud;
	(void)msg;
	(void)len;
	memset(sig, 'A', 86);
	strcpy(sig + 86, "==");
	return 0;
}

static bool trust_verify(void *ud, uint64_t id, const void *msg, size_t len,
			 const char *sig)
{
	(void)ud;
	(void)id;
	(void)msg;
	(void)len;
	(void)sig;
	return true;
}

static const struct ows_raft_auth trust = {
    .cluster = "ows-readindex-test",
    .sign = trust_sign,
    .verify = trust_verify,
};

/*
 * The key safety property. Node 1 leads in term T and is paused. Nodes 2
 * and 3 restart (so that they must dial node 1 again, which a paused node
 * never lets through), elect a leader of a later term and commit a write
 * that node 1 never sees. Then nodes 2 and 3 are paused and node 1 runs:
 * it still believes it leads term T (libraft deposes a leader only after
 * an election timeout without hearing from a majority). A read barrier on
 * it, or a read index, must never succeed, whether its questions are lost
 * or reach the others (who answer from their later term): both fail within
 * the bound, and node 1's state indeed misses the write.
 */
static void deposed_setup(struct ows_test_raft_cluster *c, uv_loop_t *own,
			  struct net *net)
{
	struct res r;
	uint64_t term;

	OWS_CHECK_INT(uv_loop_init(own), 0);
	ows_test_raft_cluster_init(c, 3);
	/* Node 1 stays leader for an election timeout after it resumes. */
	c->opts.election_timeout_ms = 1000;
	c->opts.heartbeat_timeout_ms = 100;
	for (size_t i = 0; i < 3; i++)
		c->nodes[i].auth = &trust;
	c->nodes[0].loop = own;
	ows_test_raft_form_three(c);
	ows_test_raft_apply_values(c, 0, 0, 10);
	ows_test_raft_check_converged(c, 10);
	net_init(net, c);
	term = ows_raft_term(c->nodes[0].r);
	OWS_CHECK_INT(read_barrier_wait(net, 0, &r), 0);

	c->nodes[0].frozen = true;
	for (size_t i = 1; i < 3; i++) {
		ows_test_raft_node_close(c, i);
		ows_test_raft_node_open(c, i, false);
	}
	OWS_CHECK(ows_test_raft_run_until(c, other_leads, c, 20000));
	write_one(c, ows_raft_role(c->nodes[1].r) == OWS_RAFT_LEADER ? 1 : 2,
		  10);
	c->frozen = true;
	c->nodes[0].frozen = false;
	OWS_CHECK(ows_raft_role(c->nodes[0].r) == OWS_RAFT_LEADER &&
		  ows_raft_term(c->nodes[0].r) == term);
	OWS_CHECK(ows_raft_term(c->nodes[1].r) > term);
	OWS_CHECK_INT(c->nodes[0].fsm.n, 10);
	net->confirms = net->noes = 0;
}

/* Reads on the stale leader fail; healed, it reads the write. */
static void deposed_check(struct ows_test_raft_cluster *c, uv_loop_t *own,
			  struct net *net)
{
	struct res r = {0}, ri = {0};

	read_barrier(net, 0, &r);
	OWS_CHECK_INT(ows_raft_read_index(c->nodes[0].r, &net->nodes[0].ops,
					  index_cb, &ri),
		      0);
	OWS_CHECK(ows_test_raft_run_until(c, res_done, &r, 10000));
	OWS_CHECK(ows_test_raft_run_until(c, res_done, &ri, 10000));
	OWS_CHECK(r.status == OWS_ENOTLEADER || r.status == -ETIMEDOUT);
	OWS_CHECK(ri.status == OWS_ENOTLEADER || ri.status == -ETIMEDOUT);
	OWS_CHECK_INT(c->nodes[0].fsm.n, 10);
	/* It did try as the leader: it asked the others. */
	OWS_CHECK(net->confirms >= 2);
	net->stale_confirms = net->confirms;
	net->stale_noes = net->noes;

	c->frozen = false;
	net->answer_frozen = false;
	OWS_CHECK_INT(read_barrier_wait(net, 0, &r), 0);
	OWS_CHECK_INT(r.applied, 11);
	ows_test_raft_check_converged(c, 11);
	ows_test_raft_node_close(c, 0);
	ows_test_raft_cluster_fini(c);
	uv_run(own, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(own), 0);
}

OWS_TEST(readindex_deposed_leader_cut_off_never_reads)
{
	struct ows_test_raft_cluster c;
	uv_loop_t own;
	struct net net;

	deposed_setup(&c, &own, &net);
	deposed_check(&c, &own, &net);
	OWS_CHECK_INT(net.stale_noes, 0); /* lost, all of them */
}

OWS_TEST(readindex_deposed_leader_told_no_never_reads)
{
	struct ows_test_raft_cluster c;
	uv_loop_t own;
	struct net net;

	deposed_setup(&c, &own, &net);
	net.answer_frozen = true; /* the questions reach the later term */
	deposed_check(&c, &own, &net);
	OWS_CHECK(net.stale_noes >= 2);
}

/*
 * A new leader's first read: libraft 0.15 appends nothing when a node is
 * elected, so the commit index may still be the previous term's (thesis
 * 6.4, step 1). The first read appends one empty entry of the term; the
 * reads after it append nothing.
 */
OWS_TEST(readindex_new_leader_commits_its_term_once)
{
	struct ows_test_raft_cluster c;
	struct ows_raft_read_stats st;
	struct net net;
	struct res r;
	uint64_t last;
	size_t leader;

	start_three(&c, &net);
	ows_test_raft_node_close(&c, 0);
	OWS_CHECK(ows_test_raft_run_until(&c, other_leads, &c, 20000));
	leader = ows_raft_role(c.nodes[1].r) == OWS_RAFT_LEADER ? 1 : 2;
	last = ows_raft_last_index(c.nodes[leader].r);
	OWS_CHECK_INT(read_barrier_wait(&net, leader, &r), 0);
	OWS_CHECK_INT(r.applied, 10);
	ows_raft_read_stats(c.nodes[leader].r, &st);
	OWS_CHECK_INT(st.noops, 1);
	OWS_CHECK_INT(ows_raft_last_index(c.nodes[leader].r), last + 1);
	for (size_t i = 1; i < 3; i++)
		OWS_CHECK_INT(read_barrier_wait(&net, i, &r), 0);
	ows_raft_read_stats(c.nodes[leader].r, &st);
	OWS_CHECK_INT(st.noops, 1);
	OWS_CHECK_INT(ows_raft_last_index(c.nodes[leader].r), last + 1);
	ows_test_raft_cluster_fini(&c);
}

static bool stalled_2(void *arg)
{
	return ows_raft_stalled(
		   ((struct ows_test_raft_cluster *)arg)->nodes[1].r, NULL) !=
	       0;
}

/*
 * A node whose state machine cannot apply (a full disk) refuses reads at
 * once: its state is behind what libraft counts applied. Closing a node
 * ends the reads still waiting with -ECANCELED, and the answers that come
 * after are ignored.
 */
OWS_TEST(readindex_stalled_node_refuses_and_close_cancels)
{
	struct ows_test_raft_cluster c;
	struct net net;
	struct res r, a = {0}, b = {0};

	start_three(&c, &net);
	c.nodes[1].fsm.fail = -ENOSPC;
	write_one(&c, 0, 10);
	OWS_CHECK(ows_test_raft_run_until(&c, stalled_2, &c, 10000));
	OWS_CHECK_INT(ows_raft_read_barrier(c.nodes[1].r, &net.nodes[1].ops,
					    barrier_cb, &r),
		      OWS_EIO);
	c.nodes[1].fsm.fail = 0;

	net.hold = true;
	a.fsm = &c.nodes[0].fsm;
	OWS_CHECK_INT(ows_raft_read_barrier(c.nodes[0].r, &net.nodes[0].ops,
					    barrier_cb, &a),
		      0);
	OWS_CHECK_INT(
	    ows_raft_read_index(c.nodes[0].r, &net.nodes[0].ops, index_cb, &b),
	    0);
	ows_test_raft_run_for(&c, 30);
	OWS_CHECK(!a.done && !b.done);
	ows_raft_close(c.nodes[0].r, NULL, NULL);
	OWS_CHECK(a.done && a.status == -ECANCELED);
	OWS_CHECK(b.done && b.status == -ECANCELED);
	net_release(&net); /* the held questions are answered: ignored */
	ows_test_raft_run_for(&c, 300);
	c.nodes[0].r = NULL;
	c.nodes[0].open = false;
	ows_test_raft_cluster_fini(&c);
}
