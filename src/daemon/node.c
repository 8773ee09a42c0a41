/*
 * The running node (owsd run): wires the state machine to Raft, serves the
 * edge and gateway ports, reconciles membership while leader, and shuts
 * down cleanly on SIGTERM or SIGINT.
 */
#include "daemon/node.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/session.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"

#define RECONCILE_MS 500
/* The services' leader_tick (aws/service.h): about once a second. */
#define LEADER_TICK_MS 1000

static int fsm_apply(void *ud, uint64_t index, const void *data, size_t len,
		     void **result)
{
	char *text = NULL;
	int rv = ows_state_apply(ud, index, data, len,
				 result != NULL ? &text : NULL);

	if (rv != 0)
		ows_log(OWS_LOG_ERROR, "state", "apply of entry %" PRIu64
			" failed: %s", index, ows_strerror(rv));
	if (result != NULL)
		*result = text;
	return rv;
}

static int fsm_snapshot(void *ud, void **data, size_t *len)
{
	return ows_state_snapshot(ud, data, len);
}

static void fsm_snapshot_free(void *ud, void *data)
{
	(void)ud;
	ows_state_snapshot_free(data);
}

static int fsm_restore(void *ud, const void *data, size_t len)
{
	return ows_state_restore(ud, data, len);
}

/* The loop turn's applies share one SQLite transaction (raft/raft.h). */
static int fsm_commit(void *ud)
{
	int rv = ows_state_commit(ud);

	if (rv != 0)
		ows_log(OWS_LOG_ERROR, "state", "commit of applied entries "
			"failed: %s", ows_strerror(rv));
	return rv;
}

void ows_node_fsm(struct ows_state *state, struct ows_raft_fsm *fsm)
{
	state->batch = true;
	fsm->commit = fsm_commit;
	fsm->ud = state;
	fsm->apply = fsm_apply;
	fsm->snapshot = fsm_snapshot;
	fsm->snapshot_free = fsm_snapshot_free;
	fsm->restore = fsm_restore;
}

/* ---- membership reconciliation (leader only) ---- */

static void change_cb(void *ud, int status)
{
	struct ows_node *n = ud;

	n->changing = false;
	if (status != 0)
		ows_log(OWS_LOG_WARN, "raft", "membership change failed: %s",
			ows_strerror(status));
}

static bool in_table(json_t *nodes, uint64_t id, const char **raft_addr)
{
	json_t *row;
	size_t i;

	json_array_foreach(nodes, i, row) {
		if ((uint64_t)json_integer_value(json_object_get(row, "id")) == id) {
			*raft_addr = ows_json_str(row, "raft");
			return true;
		}
	}
	return false;
}

/*
 * A node leaves the Raft configuration only once it holds the entry that
 * removed it (and a heartbeat has told it that entry is committed), so it
 * can see its removal and stop; a node that is down gets 10 s.
 */
#define LEAVE_GRACE_MS 1000
#define LEAVE_MAX_MS 10000

static bool removal_due(struct ows_node *n, uint64_t id)
{
	int64_t now = ows_now_ms();

	if (id == n->core.cfg.id)
		return true;
	if (n->leaving != id) {
		n->leaving = id;
		n->leaving_index = n->core.state.applied;
		n->leaving_since = now;
		return false;
	}
	if (now - n->leaving_since >= LEAVE_MAX_MS)
		return true;
	return now - n->leaving_since >= LEAVE_GRACE_MS &&
	       ows_raft_match_index(n->core.raft, id) >= n->leaving_index;
}

/* One change per tick: the Raft library allows one at a time. */
static void reconcile_step(struct ows_node *n, json_t *nodes)
{
	struct ows_raft_server servers[64];
	size_t count = ows_raft_servers(n->core.raft, servers, 64), i;
	const char *addr;
	json_t *row;
	int rv = 1;

	for (i = 0; i < count && i < 64 && rv == 1; i++) {
		if (!in_table(nodes, servers[i].id, &addr)) {
			if (!removal_due(n, servers[i].id))
				continue;
			ows_log(OWS_LOG_INFO, "raft", "removing node %" PRIu64,
				servers[i].id);
			rv = servers[i].id == n->core.cfg.id
				     ? ows_raft_transfer(n->core.raft, 0, change_cb, n)
				     : ows_raft_remove(n->core.raft, servers[i].id,
						       change_cb, n);
		} else if (servers[i].role != OWS_RAFT_VOTER) {
			ows_log(OWS_LOG_INFO, "raft", "promoting node %" PRIu64
				" to voter", servers[i].id);
			rv = ows_raft_assign(n->core.raft, servers[i].id,
					     OWS_RAFT_VOTER, change_cb, n);
		}
	}
	json_array_foreach(nodes, i, row) {
		uint64_t id = (uint64_t)json_integer_value(json_object_get(row, "id"));
		bool member = false;

		for (size_t j = 0; j < count && j < 64; j++)
			member |= servers[j].id == id;
		if (member || rv != 1)
			continue;
		ows_log(OWS_LOG_INFO, "raft", "adding node %" PRIu64 " at %s",
			id, ows_json_str(row, "raft"));
		rv = ows_raft_add(n->core.raft, id, ows_json_str(row, "raft"),
				  change_cb, n);
	}
	if (rv == 0)
		n->changing = true;
	else if (rv < 0)
		ows_log(OWS_LOG_WARN, "raft", "membership change refused: %s",
			ows_strerror(rv));
}

static void stop(struct ows_node *n);

/*
 * A node removed with nodes.delete applies its own removal before the
 * leader takes it out of the Raft configuration; after that nobody talks
 * to it, so it stops instead of campaigning forever.
 */
static void check_removed(struct ows_node *n)
{
	if (!ows_state_node_removed(&n->core.state, n->core.cfg.id))
		return;
	ows_log(OWS_LOG_WARN, "node", "node %" PRIu64 " was removed from "
		"cluster %s; stopping", n->core.cfg.id, n->core.cfg.cluster);
	stop(n);
}

static void closed_one(struct ows_node *n);
static int open_raft(struct ows_node *n);

/* The old member is gone: the node's Raft member is opened anew. */
static void reopened_cb(void *ud)
{
	struct ows_node *n = ud;
	int rv;

	n->core.raft = NULL;
	n->raft_reopening = false;
	if (n->core.stopping) {
		closed_one(n); /* stop() left the member's close to us */
		return;
	}
	rv = open_raft(n);
	if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "node", "cannot reopen raft on %s: %s; "
			"stopping", n->core.cfg.raft, ows_strerror(rv));
		stop(n);
		return;
	}
	ows_log(OWS_LOG_INFO, "node", "raft reopened: catching up");
}

/*
 * A node whose state machine could not apply the log applies again once
 * storage returns (raft/raft.h), but libraft 0.15's storage stays failed
 * after one of its own writes failed: the member is closed and opened
 * again on its directory, which loads the log and catches up with the
 * leader, without a restart of the node. Harmless when libraft's writes
 * never failed: the node is back as a follower a moment later.
 */
static void watch_storage(struct ows_node *n)
{
	if (ows_raft_stalled(n->core.raft, NULL) != 0) {
		n->raft_was_stalled = true;
		return;
	}
	if (!n->raft_was_stalled || n->raft_reopening)
		return;
	n->raft_was_stalled = false;
	n->raft_reopening = true;
	ows_log(OWS_LOG_INFO, "node", "storage is back: reopening raft");
	ows_raft_close(n->core.raft, reopened_cb, n);
}

static void reconcile_cb(uv_timer_t *t)
{
	struct ows_node *n = t->data;
	json_t *nodes;

	if (n->core.stopping || n->core.state.cluster[0] == '\0')
		return;
	watch_storage(n);
	if (n->raft_reopening)
		return;
	nodes = ows_state_nodes(&n->core.state);
	check_removed(n);
	ows_blobs_gc(&n->blobs);
	ows_blobs_repair(&n->blobs);
	if (ows_now_ms() - n->tick_at >= LEADER_TICK_MS) {
		n->tick_at = ows_now_ms();
		ows_host_leader_tick(&n->host);
	}
	if (nodes != NULL && json_array_size(nodes) > 0 && !n->core.stopping &&
	    !n->changing && ows_raft_role(n->core.raft) == OWS_RAFT_LEADER)
		reconcile_step(n, nodes);
	json_decref(nodes);
}

/* ---- shutdown ---- */

static void closed_one(struct ows_node *n)
{
	if (--n->pending_closes == 0)
		uv_stop(n->core.loop);
}

/* The servers' ud is the part that serves them: the node by offset. */
static void edge_closed_cb(struct ows_http_server *s)
{
	closed_one((struct ows_node *)((char *)s -
				       offsetof(struct ows_node, edge)));
}

static void gateway_closed_cb(struct ows_http_server *s)
{
	closed_one((struct ows_node *)((char *)s -
				       offsetof(struct ows_node, gateway)));
}

static void raft_closed_cb(void *ud)
{
	struct ows_node *n = ud;

	n->core.raft = NULL;
	closed_one(n);
}

static void functions_closed_cb(void *ud)
{
	closed_one(ud);
}

static void handle_closed_cb(uv_handle_t *h)
{
	closed_one(h->data);
}

static void stop(struct ows_node *n)
{
	if (n->core.stopping)
		return;
	n->core.stopping = true;
	ows_log(OWS_LOG_INFO, "node", "shutting down");
	n->pending_closes = 6 + n->edge_up + n->gateway_up;
	ows_functions_close(&n->fns, functions_closed_cb, n);
	if (n->edge_up)
		ows_http_server_close(&n->edge, edge_closed_cb);
	if (n->gateway_up)
		ows_http_server_close(&n->gateway, gateway_closed_cb);
	if (n->core.raft == NULL)
		closed_one(n); /* a reopen that failed */
	else if (!n->raft_reopening)
		ows_raft_close(n->core.raft, raft_closed_cb, n);
	uv_close((uv_handle_t *)&n->reconcile, handle_closed_cb);
	uv_close((uv_handle_t *)&n->sigterm, handle_closed_cb);
	uv_close((uv_handle_t *)&n->sigint, handle_closed_cb);
	uv_close((uv_handle_t *)&n->turn_end, handle_closed_cb);
}

static void signal_cb(uv_signal_t *s, int signum)
{
	ows_log(OWS_LOG_INFO, "node", "got signal %d", signum);
	stop(s->data);
}

static int start_servers(struct ows_node *n, struct ows_err *err)
{
	struct ows_http_server_config cfg;
	int rv;

	ows_http_server_config_default(&cfg);
	cfg.max_per_address = n->core.cfg.max_per_address;
	rv = ows_http_server_init(&n->edge, n->core.loop, &cfg, ows_admin_handle,
				  &n->admin);
	n->edge_up = rv == 0;
	if (rv == 0)
		rv = ows_http_server_listen(&n->edge, n->core.cfg.edge);
	if (rv != 0) {
		ows_err_printf(err, "cannot listen on edge %s: %s", n->core.cfg.edge,
			       ows_strerror(rv));
		return rv;
	}
	rv = ows_http_server_init(&n->gateway, n->core.loop, &cfg, ows_gateway_handle,
				  &n->gw);
	n->gateway_up = rv == 0;
	if (rv == 0)
		rv = ows_http_server_listen(&n->gateway, n->core.cfg.gateway);
	if (rv != 0)
		ows_err_printf(err, "cannot listen on gateway %s: %s",
			       n->core.cfg.gateway, ows_strerror(rv));
	return rv;
}

/* ---- node-to-node authentication of Raft connections ---- */

static int raft_sign(void *ud, const void *msg, size_t len, char sig[89])
{
	struct ows_node *n = ud;

	return ows_key_sign(n->core.key, msg, len, sig);
}

/*
 * A peer's key comes from the replicated nodes table; a node that has just
 * joined has no state yet, so it also trusts the keys the cluster gave it
 * in the join response (DIR/peers.json).
 */
static bool raft_verify(void *ud, uint64_t id, const void *msg, size_t len,
			const char *sig)
{
	struct ows_node *n = ud;
	json_t *row = ows_state_node(&n->core.state, id), *p;
	bool ok = false;
	size_t i;

	if (row != NULL) {
		ok = ows_sig_verify(ows_json_str(row, "key"), msg, len, sig);
		json_decref(row);
		return ok;
	}
	json_array_foreach(n->peers, i, p) {
		if ((uint64_t)json_integer_value(json_object_get(p, "id")) == id)
			ok = ows_sig_verify(ows_json_str(p, "key"), msg, len, sig);
	}
	return ok;
}

static int load_box(struct ows_node *n, struct ows_err *err)
{
	struct ows_buf secret = OWS_BUF_INIT;
	char path[PATH_MAX];
	int rv;

	snprintf(path, sizeof(path), "%s/cluster.secret", n->core.dir);
	rv = ows_file_read(path, 64, &secret);
	if (rv == 0 && secret.len != OWS_SEAL_KEY_LEN)
		rv = -EINVAL;
	if (rv == 0)
		rv = ows_box_key_derive((const uint8_t *)secret.data, &n->core.box,
					n->core.box_pub);
	if (rv == 0)
		ows_session_key_derive((const uint8_t *)secret.data, secret.len,
				       n->core.session_key);
	if (secret.data != NULL)
		memset(secret.data, 0, secret.len);
	ows_buf_free(&secret);
	if (rv != 0)
		ows_err_printf(err, "cannot read the cluster secret '%s': %s",
			       path, ows_strerror(rv));
	return rv;
}

/* A stable 12-digit account id per cluster, for ARNs and events. */
static void account_id(struct ows_node *n)
{
	uint8_t h[32];

	ows_sha256(n->core.cfg.cluster, strlen(n->core.cfg.cluster), h);
	for (int i = 0; i < 12; i++)
		n->core.account[i] = (char)('0' + h[i] % 10);
	n->core.account[12] = '\0';
}

static void load_peers(struct ows_node *n)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/peers.json", n->core.dir);
	n->peers = json_load_file(path, 0, NULL);
	if (!json_is_array(n->peers)) {
		json_decref(n->peers);
		n->peers = json_array();
	}
	n->auth = (struct ows_raft_auth){n->core.cfg.cluster, n, raft_sign,
					 raft_verify};
}

/* Tuning from the environment (docs/cluster.md); 0 keeps the default. */
static unsigned env_uint(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
}

/* The Raft member on DIR/raft, started: at start, and to reopen it. */
static int open_raft(struct ows_node *n)
{
	struct ows_raft_options ro = {
		env_uint("OWS_RAFT_ELECTION_MS"), env_uint("OWS_RAFT_HEARTBEAT_MS"),
		env_uint("OWS_RAFT_SNAPSHOT_THRESHOLD"),
		env_uint("OWS_RAFT_SNAPSHOT_TRAILING"), &n->auth, 0,
	};
	char path[PATH_MAX];
	struct ows_raft_fsm fsm;
	int rv;

	ro.segment_size = (size_t)n->core.cfg.segment_mb << 20; /* 0: default */
	ows_node_fsm(&n->core.state, &fsm);
	snprintf(path, sizeof(path), "%s/raft", n->core.dir);
	rv = ows_raft_new(n->core.loop, path, n->core.cfg.id, n->core.cfg.raft, &ro, &fsm,
			  &n->core.raft);
	if (rv == 0)
		rv = ows_raft_start(n->core.raft);
	return rv;
}

/* The parts, each handed the core and the parts it calls. */
static void wire(struct ows_node *n)
{
	struct ows_core *c = &n->core;

	ows_blobs_init(&n->blobs, c);
	ows_functions_init(&n->fns, c, &n->blobs.store, ows_admin_handle,
			   &n->admin);
	ows_host_init(&n->host, c, &n->fns, &n->blobs.store);
	ows_gateway_init(&n->gw, c, &n->fns, &n->host);
	n->admin = (struct ows_admin){c, &n->fns, &n->blobs, &n->host,
				      &n->edge, &n->gateway};
}

static int start(struct ows_node *n, struct ows_err *err)
{
	char path[PATH_MAX];
	int rv;

	wire(n);
	rv = ows_node_config_load(n->core.dir, &n->core.cfg, err);
	if (rv != 0)
		return rv;
	snprintf(path, sizeof(path), "%s/node.key", n->core.dir);
	rv = ows_key_load(path, &n->core.key, err);
	if (rv != 0)
		return rv;
	snprintf(path, sizeof(path), "%s/state.db", n->core.dir);
	rv = ows_state_open(&n->core.state, path, err);
	if (rv != 0)
		return rv;
	load_peers(n);
	account_id(n);
	rv = load_box(n, err);
	if (rv != 0)
		return rv;
	rv = open_raft(n);
	if (rv != 0) {
		ows_err_printf(err, "cannot start raft on %s: %s", n->core.cfg.raft,
			       ows_strerror(rv));
		return rv;
	}
	rv = start_servers(n, err);
	if (rv == 0)
		rv = ows_functions_start(&n->fns);
	return rv;
}

/* Before the loop waits: reads held open this turn end (state.h). */
static void turn_end_cb(uv_prepare_t *p)
{
	struct ows_node *n = p->data;

	ows_state_read_release(&n->core.state);
}

static void setup_handles(struct ows_node *n)
{
	uv_signal_init(n->core.loop, &n->sigterm);
	uv_signal_init(n->core.loop, &n->sigint);
	n->sigterm.data = n->sigint.data = n;
	uv_signal_start(&n->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&n->sigint, signal_cb, SIGINT);
	uv_timer_init(n->core.loop, &n->reconcile);
	n->reconcile.data = n;
	uv_timer_start(&n->reconcile, reconcile_cb, RECONCILE_MS, RECONCILE_MS);
	uv_prepare_init(n->core.loop, &n->turn_end);
	n->turn_end.data = n;
	uv_prepare_start(&n->turn_end, turn_end_cb);
}

int ows_node_run(const char *dir)
{
	struct ows_node *n;
	struct ows_err err = {{0}};
	uv_loop_t loop;
	int rv, code;

	signal(SIGPIPE, SIG_IGN);
	n = calloc(1, sizeof(*n));
	if (n == NULL || uv_loop_init(&loop) != 0) {
		free(n);
		fprintf(stderr, "owsd: out of memory\n");
		return 1;
	}
	n->core.loop = &loop;
	snprintf(n->core.dir, sizeof(n->core.dir), "%s", dir);
	setup_handles(n);
	rv = start(n, &err);
	if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "node", "%s", err.msg);
		n->exit_code = 1;
		if (n->core.raft == NULL) {
			/* Nothing async started yet but the handles. */
			n->core.stopping = true;
			uv_close((uv_handle_t *)&n->reconcile, NULL);
			uv_close((uv_handle_t *)&n->sigterm, NULL);
			uv_close((uv_handle_t *)&n->sigint, NULL);
			uv_close((uv_handle_t *)&n->turn_end, NULL);
			uv_run(&loop, UV_RUN_DEFAULT);
			goto out;
		}
		stop(n);
	} else {
		ows_log(OWS_LOG_INFO, "node", "node %" PRIu64 " of cluster %s: "
			"edge http://%s gateway http://%s raft %s", n->core.cfg.id,
			n->core.cfg.cluster, n->edge.bound, n->gateway.bound,
			n->core.cfg.raft);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	/* Let close callbacks that uv_stop cut short run. */
	uv_run(&loop, UV_RUN_DEFAULT);
	/* Kept-alive client connections (to peers, to http instances). */
	ows_http_client_close_idle(&loop);
	uv_run(&loop, UV_RUN_DEFAULT);
out:
	code = n->exit_code;
	ows_state_close(&n->core.state);
	ows_key_free(n->core.key);
	json_decref(n->peers);
	ows_box_key_free(n->core.box);
	ows_gateway_close(&n->gw);
	ows_host_close(&n->host);
	ows_blobs_close(&n->blobs);
	if (uv_loop_close(&loop) != 0)
		ows_log(OWS_LOG_WARN, "node", "loop closed with live handles");
	free(n);
	ows_log(OWS_LOG_INFO, "node", "stopped");
	return code;
}
