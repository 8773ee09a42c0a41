/*
 * Read barriers without log entries: Raft's ReadIndex (Ongaro's thesis,
 * section 6.4). A consistent read used to append an empty entry (libraft's
 * barrier) and wait for it: a log append, an fsync on a majority and an
 * apply per read. Here a read costs a round of small questions instead, and
 * every read that arrives while a round is in flight shares the next one.
 *
 * On the leader, as in the thesis:
 *   1. The leader must have committed an entry of its own term, or its
 *      commit index may lag entries committed by earlier leaders. libraft
 *      0.15 appends nothing when a node is elected, so the first read of a
 *      term appends one empty entry (a barrier, once per term) and waits
 *      for it.
 *   2. The read index R is the commit index when a round starts. A round
 *      starts only after the reads it serves arrived: a read that arrives
 *      while round k is in flight waits for round k + 1, since round k's
 *      questions may have been answered before it arrived.
 *   3. The leader asks every other voter of its configuration, with a
 *      message sent after R was taken, "is node X the leader of term T?"
 *      (ops->confirm, answered by ows_raft_leader_confirm). When the yes
 *      answers and the leader itself make a majority of the voters, and
 *      the leader is still the leader of T, the round is confirmed.
 *   4. Each read of the round waits until this node has applied R.
 * On a follower, the reads waiting together send one question to the
 * leader (ops->ask, which the leader answers with a read index from its
 * own rounds: steps 1 to 3), then wait until they have applied that index
 * here.
 *
 * Why a confirmed round makes the read linearizable. Let the read arrive at
 * time t0 on leader L of term T, and let e be any entry committed by t0, in
 * term Te. The read must see e, i.e. e must be in L's log at an index <= R.
 *  - Te > T is impossible: a leader of term Te was elected by a majority of
 *    voters, each of which raised its current term to Te, persistently,
 *    before t0 and never lowers it. The voters who answered yes form, with
 *    L, a majority of L's configuration, so one of them, P, is in both
 *    (single-server membership changes keep any two majorities of
 *    successive configurations intersecting; libraft makes no other kind).
 *    P answered after R was taken, so after t0, that its term was T < Te:
 *    a contradiction.
 *  - Te == T: e was committed by L itself, so L's commit index at t0, and
 *    hence R, covers it (L's commit index only grows within its term).
 *  - Te < T: by Leader Completeness e is in L's log, before the first
 *    entry of term T; step 1 made that entry committed, so R is past it.
 * The proof needs: answers counted only for the round whose questions
 * were sent after R was taken (rounds are numbered, late answers to an
 * older round are dropped); the majority taken over L's current
 * configuration, the one libraft commits with, with each voter's yes
 * counted once and only when that voter gave it (ops->confirm's duty);
 * voters that persist their term before they vote (libraft does, it is
 * Raft's rule); member nodes that answer honestly, and answers that reach
 * the leader unaltered (the questions travel signed with a node's key,
 * the answers unsigned: the node network is trusted as the Raft streams
 * are after their handshake).
 * It needs no clock: there is no lease, so a leader paused or cut off for
 * any time never serves a stale read. It gives nothing for liveness: a
 * leader cut off from the majority gets no round confirmed, and its reads
 * fail after the deadline (or when libraft deposes it). The yes answer also
 * checks that P knows L as the leader; the proof does not need that (a
 * term T voter that has not yet heard from L is as good), it only keeps the
 * answer to what the question says.
 *
 * Nothing here blocks and no callback runs from within the call that
 * started the read: completions happen in a check handle (after the loop's
 * poll), which an idle handle wakes when something became ready.
 */
#include "raft/raft.h"

#include <errno.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/list.h"
#include "raft/raft_priv.h"

#define TICK_MS 20	 /* deadlines and retries are looked at this often */
#define RETRY_MS 50	 /* pause after a round that failed */
#define READ_TIMEOUTS 3	 /* a read barrier's deadline, in election timeouts */
#define INDEX_TIMEOUTS 2 /* a read index's (the leader's end) */

enum read_kind { READ_BARRIER, READ_INDEX };

struct read {
	struct ows_link link;
	enum read_kind kind;
	ows_raft_change_cb barrier_cb;
	ows_raft_index_cb index_cb;
	void *ud;
	uint64_t index;	   /* the read index, once known */
	uint64_t deadline; /* loop time */
};

/*
 * One question in flight (ops->confirm or ops->ask) or the empty entry of
 * a term; detached (rs NULL) when its round ends or the member closes, and
 * freed by its own callback, which always comes.
 */
struct probe {
	struct ows_link link; /* in rs->probes */
	struct ows__raft_reads *rs;
	uint64_t round;
};

struct ows__raft_reads {
	struct ows_raft *r;
	uv_loop_t *loop;
	const struct ows_raft_read_ops *ops; /* the last one passed */
	uv_check_t check;
	uv_idle_t wake;
	uv_timer_t tick;
	int open_handles;
	bool closing;
	struct ows_link queued;	  /* arrived, waiting for the next round */
	struct ows_link round;	  /* served by the round in flight */
	struct ows_link applying; /* index known, waiting to apply it */
	struct ows_link probes;
	bool in_flight;
	bool leader_round; /* confirm questions, else one ask */
	bool confirmed;
	uint64_t round_id;
	uint64_t round_term;
	uint64_t round_index;
	uint64_t round_deadline;
	unsigned voters, needed, acks, nacks;
	struct probe *noop; /* the empty entry in flight, not in probes */
	bool noop_pending;
	uint64_t noop_term;
	uint64_t retry_at;
	struct ows_raft_read_stats stats;
};

static uint64_t election_ms(struct ows__raft_reads *rs)
{
	return ows_raft_election_timeout(rs->r);
}

static bool list_empty(const struct ows_link *head)
{
	return head->next == head;
}

/* Move every element of from to the end (or the front) of to. */
static void list_splice(struct ows_link *to, struct ows_link *from, bool front)
{
	struct ows_link *at = front ? to->next : to;

	if (list_empty(from))
		return;
	from->next->prev = at->prev;
	at->prev->next = from->next;
	from->prev->next = at;
	at->prev = from->prev;
	ows_list_init(from);
}

/* An active idle handle makes the loop's poll return at once. */
static void wake_cb(uv_idle_t *h)
{
	(void)h;
}

/* The tick only wakes the loop, so that the check handle looks at times. */
static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Let the check handle run soon: something is ready. */
static void kick(struct ows__raft_reads *rs)
{
	if (!rs->closing)
		uv_idle_start(&rs->wake, wake_cb);
}

static void end(struct read *rd, int status)
{
	ows_list_remove(&rd->link);
	if (rd->kind == READ_BARRIER)
		rd->barrier_cb(rd->ud, status);
	else
		rd->index_cb(rd->ud, status, status == 0 ? rd->index : 0);
	free(rd);
}

/* Forget the questions in flight: their answers will be ignored. */
static void detach_probes(struct ows__raft_reads *rs)
{
	while (!list_empty(&rs->probes)) {
		struct probe *p =
		    OWS_CONTAINER_OF(rs->probes.next, struct probe, link);

		ows_list_remove(&p->link);
		p->rs = NULL;
	}
}

static struct probe *probe_new(struct ows__raft_reads *rs)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->rs = rs;
	p->round = rs->round_id;
	ows_list_append(&rs->probes, &p->link);
	return p;
}

/* A probe's callback came: its round if it still counts, else NULL. */
static struct ows__raft_reads *probe_done(struct probe *p)
{
	struct ows__raft_reads *rs = p->rs;
	uint64_t round = p->round;

	ows_list_remove(&p->link);
	free(p);
	if (rs == NULL || rs->closing || !rs->in_flight ||
	    round != rs->round_id)
		return NULL;
	return rs;
}

/*
 * The round in flight failed (no majority, leadership changed, no answer
 * in time): its reads go back to the front of the queue, each keeping its
 * deadline, and are tried again in a new round after a pause.
 */
static void round_fail(struct ows__raft_reads *rs)
{
	rs->in_flight = false;
	detach_probes(rs);
	list_splice(&rs->queued, &rs->round, true);
	rs->retry_at = uv_now(rs->loop) + RETRY_MS;
	kick(rs);
}

/* The round's reads have their index: wait to apply it, or answer it. */
static void round_done(struct ows__raft_reads *rs, uint64_t index)
{
	rs->in_flight = false;
	detach_probes(rs);
	while (!list_empty(&rs->round)) {
		struct read *rd =
		    OWS_CONTAINER_OF(rs->round.next, struct read, link);

		rd->index = index;
		ows_list_remove(&rd->link);
		ows_list_append(&rs->applying, &rd->link);
	}
	kick(rs);
}

static void confirm_cb(void *ud, int status)
{
	struct ows__raft_reads *rs = probe_done(ud);

	if (rs == NULL || !rs->leader_round)
		return;
	if (status == 0)
		rs->acks++;
	else
		rs->nacks++;
	if (rs->acks >= rs->needed) {
		rs->confirmed = true;
		kick(rs);
	} else if (rs->nacks > rs->voters - rs->needed) {
		round_fail(rs);
	}
}

static void ask_cb(void *ud, int status, uint64_t index)
{
	struct ows__raft_reads *rs = probe_done(ud);

	if (rs == NULL || rs->leader_round)
		return;
	if (status == 0)
		round_done(rs, index);
	else
		round_fail(rs);
}

/* The empty entry of a term is in (or failed: the next round looks). */
static void noop_cb(void *ud, int status)
{
	struct probe *p = ud;
	struct ows__raft_reads *rs = p->rs;

	(void)status;
	free(p);
	if (rs == NULL || rs->closing)
		return;
	rs->noop = NULL;
	rs->noop_pending = false;
	kick(rs);
}

/*
 * Step 1 of the thesis: no round before the leader has committed an entry
 * of its term. One empty entry per term, shared by every read waiting;
 * the queue waits meanwhile (its reads keep their deadlines).
 */
static int commit_own_term(struct ows__raft_reads *rs, uint64_t term)
{
	struct probe *p;
	int rv;

	if (rs->noop_pending && rs->noop_term == term)
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	ows_list_init(&p->link);
	p->rs = rs;
	rv = ows_raft_barrier(rs->r, noop_cb, p);
	if (rv != 0) {
		free(p);
		return rv;
	}
	if (rs->noop != NULL)
		rs->noop->rs = NULL; /* an earlier term's, still in flight */
	rs->noop = p;
	rs->noop_pending = true;
	rs->noop_term = term;
	rs->stats.noops++;
	return 0;
}

/* Ask every other voter; the leader's own yes counts when it votes. */
static void send_confirms(struct ows__raft_reads *rs,
			  const struct ows_raft_server *srv, size_t n)
{
	uint64_t self = ows_raft_id(rs->r);

	for (size_t i = 0; i < n && rs->in_flight; i++) {
		struct probe *p;
		int rv = -ENOMEM;

		if (srv[i].role != OWS_RAFT_VOTER || srv[i].id == self)
			continue;
		p = probe_new(rs);
		if (p != NULL && rs->ops != NULL && rs->ops->confirm != NULL)
			rv = rs->ops->confirm(rs->ops->ud, srv[i].id, self,
					      rs->round_term, confirm_cb, p);
		if (rv == 0)
			continue;
		if (p != NULL) {
			ows_list_remove(&p->link);
			free(p);
		}
		if (++rs->nacks > rs->voters - rs->needed)
			round_fail(rs);
	}
}

static void leader_round(struct ows__raft_reads *rs)
{
	uint64_t term = ows_raft_term(rs->r), self = ows_raft_id(rs->r);
	size_t n = ows_raft_servers(rs->r, NULL, 0);
	struct ows_raft_server *srv;

	if (ows__raft_commit_term(rs->r) != term) {
		if (commit_own_term(rs, term) != 0)
			rs->retry_at = uv_now(rs->loop) + RETRY_MS;
		return;
	}
	/* The whole configuration: a majority of part of it proves nothing. */
	srv = calloc(n > 0 ? n : 1, sizeof(*srv));
	if (srv == NULL) {
		rs->retry_at = uv_now(rs->loop) + RETRY_MS;
		return;
	}
	n = ows_raft_servers(rs->r, srv, n);
	rs->round_id++;
	rs->in_flight = true;
	rs->leader_round = true;
	rs->confirmed = false;
	rs->round_term = term;
	rs->round_index = ows_raft_commit_index(rs->r);
	rs->round_deadline = uv_now(rs->loop) + election_ms(rs);
	rs->voters = rs->acks = rs->nacks = 0;
	for (size_t i = 0; i < n; i++) {
		if (srv[i].role != OWS_RAFT_VOTER)
			continue;
		rs->voters++;
		if (srv[i].id == self)
			rs->acks++;
	}
	rs->needed = rs->voters / 2 + 1;
	list_splice(&rs->round, &rs->queued, false);
	rs->stats.rounds++;
	if (rs->voters == 0) { /* a leader outside its configuration */
		round_fail(rs);
	} else if (rs->acks >= rs->needed) {
		rs->confirmed = true; /* the only voter */
		kick(rs);
	} else {
		send_confirms(rs, srv, n);
	}
	free(srv);
}

static void follower_round(struct ows__raft_reads *rs, uint64_t leader)
{
	struct probe *p;
	int rv = -ENOMEM;

	rs->round_id++;
	rs->in_flight = true;
	rs->leader_round = false;
	rs->round_deadline =
	    uv_now(rs->loop) + INDEX_TIMEOUTS * election_ms(rs) + TICK_MS;
	list_splice(&rs->round, &rs->queued, false);
	rs->stats.rounds++;
	p = probe_new(rs);
	if (p != NULL && rs->ops != NULL && rs->ops->ask != NULL)
		rv = rs->ops->ask(rs->ops->ud, leader, ask_cb, p);
	if (rv != 0) {
		if (p != NULL) {
			ows_list_remove(&p->link);
			free(p);
		}
		round_fail(rs);
	}
}

/* Reads of the queue that a follower cannot serve: the leader's end. */
static void fail_index_reads(struct ows__raft_reads *rs)
{
	struct ows_link *l = rs->queued.next;

	while (l != &rs->queued) {
		struct read *rd = OWS_CONTAINER_OF(l, struct read, link);

		l = l->next;
		if (rd->kind == READ_INDEX)
			end(rd, OWS_ENOTLEADER);
		if (rs->closing)
			return;
	}
}

static void start_round(struct ows__raft_reads *rs)
{
	uint64_t leader;
	char addr[64];

	if (rs->in_flight || rs->closing || list_empty(&rs->queued) ||
	    uv_now(rs->loop) < rs->retry_at)
		return;
	if (ows_raft_role(rs->r) == OWS_RAFT_LEADER) {
		leader_round(rs);
		return;
	}
	fail_index_reads(rs);
	ows_raft_leader(rs->r, &leader, addr);
	if (rs->closing || list_empty(&rs->queued) || leader == 0 ||
	    leader == ows_raft_id(rs->r))
		return; /* no leader known: wait for one, until the deadline */
	follower_round(rs, leader);
}

/* Fail the reads of list whose deadline has passed. */
static void expire(struct ows__raft_reads *rs, struct ows_link *head,
		   int status)
{
	uint64_t now = uv_now(rs->loop);
	struct ows_link *l = head->next;

	while (l != head && !rs->closing) {
		struct read *rd = OWS_CONTAINER_OF(l, struct read, link);

		l = l->next;
		if (now >= rd->deadline)
			end(rd, status);
	}
}

/*
 * Hand the read indexes out, and end the barriers that have applied. A
 * stalled node (raft.h: its state machine failed) counts as applied the
 * entries it holds without having them in its state: its reads wait.
 */
static void settle_applying(struct ows__raft_reads *rs)
{
	struct ows_link *l = rs->applying.next;
	bool stalled = ows_raft_stalled(rs->r, NULL) != 0;

	while (l != &rs->applying && !rs->closing) {
		struct read *rd = OWS_CONTAINER_OF(l, struct read, link);

		l = l->next;
		if (rd->kind == READ_INDEX ||
		    (!stalled && ows_raft_applied_index(rs->r) >= rd->index))
			end(rd, 0);
	}
}

static void settle_round(struct ows__raft_reads *rs)
{
	if (!rs->in_flight)
		return;
	if (rs->leader_round && (ows_raft_role(rs->r) != OWS_RAFT_LEADER ||
				 ows_raft_term(rs->r) != rs->round_term)) {
		round_fail(rs); /* deposed meanwhile: its reads go elsewhere */
	} else if (rs->leader_round && rs->confirmed) {
		/* still the leader of the term the voters confirmed */
		round_done(rs, rs->round_index);
	} else if (uv_now(rs->loop) >= rs->round_deadline) {
		round_fail(rs);
	}
}

static bool pending(struct ows__raft_reads *rs)
{
	return !list_empty(&rs->queued) || !list_empty(&rs->round) ||
	       !list_empty(&rs->applying) || rs->in_flight;
}

static int no_leader_status(struct ows__raft_reads *rs)
{
	uint64_t leader;
	char addr[64];

	ows_raft_leader(rs->r, &leader, addr);
	return leader == 0 ? OWS_ENOTLEADER : -ETIMEDOUT;
}

static void check_cb(uv_check_t *h)
{
	struct ows__raft_reads *rs = h->data;

	uv_idle_stop(&rs->wake);
	if (rs->closing)
		return;
	settle_round(rs);
	settle_applying(rs);
	if (!rs->closing)
		expire(rs, &rs->applying,
		       ows_raft_stalled(rs->r, NULL) != 0 ? OWS_EIO
							  : -ETIMEDOUT);
	if (!rs->closing)
		expire(rs, &rs->round, -ETIMEDOUT);
	if (!rs->closing)
		expire(rs, &rs->queued, no_leader_status(rs));
	if (!rs->closing)
		start_round(rs);
	if (rs->closing)
		return;
	if (pending(rs) && !uv_is_active((uv_handle_t *)&rs->tick))
		uv_timer_start(&rs->tick, tick_cb, TICK_MS, TICK_MS);
	if (!pending(rs)) {
		/*
		 * A round that ended in this check kicked the wake handle;
		 * with the check stopped nothing would stop it, and the
		 * loop would poll without sleeping until the next read.
		 */
		uv_idle_stop(&rs->wake);
		uv_timer_stop(&rs->tick);
		uv_check_stop(&rs->check);
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct ows__raft_reads *rs = h->data;

	if (--rs->open_handles == 0)
		free(rs);
}

struct ows__raft_reads *ows__raft_reads_new(struct ows_raft *r, uv_loop_t *loop)
{
	struct ows__raft_reads *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->r = r;
	rs->loop = loop;
	ows_list_init(&rs->queued);
	ows_list_init(&rs->round);
	ows_list_init(&rs->applying);
	ows_list_init(&rs->probes);
	uv_check_init(loop, &rs->check);
	uv_idle_init(loop, &rs->wake);
	uv_timer_init(loop, &rs->tick);
	rs->check.data = rs->wake.data = rs->tick.data = rs;
	rs->open_handles = 3;
	return rs;
}

static void cancel_list(struct ows_link *head)
{
	while (!list_empty(head))
		end(OWS_CONTAINER_OF(head->next, struct read, link),
		    -ECANCELED);
}

void ows__raft_reads_close(struct ows__raft_reads *rs)
{
	rs->closing = true;
	detach_probes(rs);
	if (rs->noop != NULL)
		rs->noop->rs = NULL;
	cancel_list(&rs->queued);
	cancel_list(&rs->round);
	cancel_list(&rs->applying);
	uv_close((uv_handle_t *)&rs->check, handle_closed);
	uv_close((uv_handle_t *)&rs->wake, handle_closed);
	uv_close((uv_handle_t *)&rs->tick, handle_closed);
}

/* Queue a read; the check handle starts its round. */
static int read_new(struct ows_raft *r, const struct ows_raft_read_ops *ops,
		    enum read_kind kind, unsigned timeouts, struct read **out)
{
	struct ows__raft_reads *rs = ows__raft_reads_of(r);
	struct read *rd;

	if (ows__raft_closing(r) || rs->closing)
		return -ECANCELED;
	if (ows_raft_stalled(r, NULL) != 0)
		return OWS_EIO; /* its state is behind: ask another node */
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		return -ENOMEM;
	rd->kind = kind;
	rd->deadline = uv_now(rs->loop) + timeouts * election_ms(rs);
	if (ops != NULL)
		rs->ops = ops;
	ows_list_append(&rs->queued, &rd->link);
	rs->stats.reads++;
	if (!uv_is_active((uv_handle_t *)&rs->check))
		uv_check_start(&rs->check, check_cb);
	kick(rs);
	*out = rd;
	return 0;
}

int ows_raft_read_barrier(struct ows_raft *r,
			  const struct ows_raft_read_ops *ops,
			  ows_raft_change_cb cb, void *ud)
{
	struct read *rd;
	int rv = read_new(r, ops, READ_BARRIER, READ_TIMEOUTS, &rd);

	if (rv != 0)
		return rv;
	rd->barrier_cb = cb;
	rd->ud = ud;
	return 0;
}

int ows_raft_read_index(struct ows_raft *r, const struct ows_raft_read_ops *ops,
			ows_raft_index_cb cb, void *ud)
{
	struct read *rd;
	int rv;

	if (ows_raft_role(r) != OWS_RAFT_LEADER)
		return OWS_ENOTLEADER;
	rv = read_new(r, ops, READ_INDEX, INDEX_TIMEOUTS, &rd);
	if (rv != 0)
		return rv;
	rd->index_cb = cb;
	rd->ud = ud;
	return 0;
}

bool ows_raft_leader_confirm(struct ows_raft *r, uint64_t leader, uint64_t term)
{
	uint64_t known;
	char addr[64];

	if (ows__raft_closing(r) || leader == 0 || ows_raft_term(r) != term)
		return false;
	ows_raft_leader(r, &known, addr);
	return known == leader;
}

void ows_raft_read_stats(struct ows_raft *r, struct ows_raft_read_stats *out)
{
	*out = ows__raft_reads_of(r)->stats;
}
