/*
 * The running node (owsd run): wires the state machine to Raft, serves the
 * edge and gateway ports, reconciles membership while leader, and shuts
 * down cleanly on SIGTERM or SIGINT.
 */
#include "daemon/node.h"

#include <errno.h>
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
#include "daemon/functions.h"
#include "daemon/edge.h"
#include "daemon/gateway.h"

#define RECONCILE_MS 500

static int fsm_apply(void *ud, uint64_t index, const void *data, size_t len,
		     void **result)
{
	char *text = NULL;
	int rv = ows_state_apply(ud, index, data, len, &text);

	if (rv != 0)
		ows_log(OWS_LOG_ERROR, "state", "apply of entry %" PRIu64
			" failed: %s", index, ows_strerror(rv));
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

void ows_node_fsm(struct ows_state *state, struct ows_raft_fsm *fsm)
{
	fsm->ud = state;
	fsm->apply = fsm_apply;
	fsm->snapshot = fsm_snapshot;
	fsm->snapshot_free = fsm_snapshot_free;
	fsm->restore = fsm_restore;
}

int ows_node_propose(struct ows_node *n, const char *type, const json_t *body,
		     ows_raft_apply_cb cb, void *ud)
{
	json_t *e = json_pack("{s:s, s:I, s:O}", "type", type, "time",
			      (json_int_t)ows_now_ms(), "body", body);
	char *text = e ? ows_json_dump(e) : NULL;
	int rv;

	json_decref(e);
	if (text == NULL)
		return -ENOMEM;
	rv = ows_raft_apply(n->raft, text, strlen(text), cb, ud);
	free(text);
	return rv;
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

	if (id == n->cfg.id)
		return true;
	if (n->leaving != id) {
		n->leaving = id;
		n->leaving_index = n->state.applied;
		n->leaving_since = now;
		return false;
	}
	if (now - n->leaving_since >= LEAVE_MAX_MS)
		return true;
	return now - n->leaving_since >= LEAVE_GRACE_MS &&
	       ows_raft_match_index(n->raft, id) >= n->leaving_index;
}

/* One change per tick: the Raft library allows one at a time. */
static void reconcile_step(struct ows_node *n, json_t *nodes)
{
	struct ows_raft_server servers[64];
	size_t count = ows_raft_servers(n->raft, servers, 64), i;
	const char *addr;
	json_t *row;
	int rv = 1;

	for (i = 0; i < count && i < 64 && rv == 1; i++) {
		if (!in_table(nodes, servers[i].id, &addr)) {
			if (!removal_due(n, servers[i].id))
				continue;
			ows_log(OWS_LOG_INFO, "raft", "removing node %" PRIu64,
				servers[i].id);
			rv = servers[i].id == n->cfg.id
				     ? ows_raft_transfer(n->raft, 0, change_cb, n)
				     : ows_raft_remove(n->raft, servers[i].id,
						       change_cb, n);
		} else if (servers[i].role != OWS_RAFT_VOTER) {
			ows_log(OWS_LOG_INFO, "raft", "promoting node %" PRIu64
				" to voter", servers[i].id);
			rv = ows_raft_assign(n->raft, servers[i].id,
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
		rv = ows_raft_add(n->raft, id, ows_json_str(row, "raft"),
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
	if (!ows_state_node_removed(&n->state, n->cfg.id))
		return;
	ows_log(OWS_LOG_WARN, "node", "node %" PRIu64 " was removed from "
		"cluster %s; stopping", n->cfg.id, n->cfg.cluster);
	stop(n);
}

static void closed_one(struct ows_node *n);
static int open_raft(struct ows_node *n);

/* The old member is gone: the node's Raft member is opened anew. */
static void reopened_cb(void *ud)
{
	struct ows_node *n = ud;
	int rv;

	n->raft = NULL;
	n->raft_reopening = false;
	if (n->stopping) {
		closed_one(n); /* stop() left the member's close to us */
		return;
	}
	rv = open_raft(n);
	if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "node", "cannot reopen raft on %s: %s; "
			"stopping", n->cfg.raft, ows_strerror(rv));
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
	if (ows_raft_stalled(n->raft, NULL) != 0) {
		n->raft_was_stalled = true;
		return;
	}
	if (!n->raft_was_stalled || n->raft_reopening)
		return;
	n->raft_was_stalled = false;
	n->raft_reopening = true;
	ows_log(OWS_LOG_INFO, "node", "storage is back: reopening raft");
	ows_raft_close(n->raft, reopened_cb, n);
}

static void reconcile_cb(uv_timer_t *t)
{
	struct ows_node *n = t->data;
	json_t *nodes;

	if (n->stopping || n->state.cluster[0] == '\0')
		return;
	watch_storage(n);
	if (n->raft_reopening)
		return;
	nodes = ows_state_nodes(&n->state);
	check_removed(n);
	ows_blobs_gc(n);
	if (nodes != NULL && json_array_size(nodes) > 0 && !n->stopping &&
	    !n->changing && ows_raft_role(n->raft) == OWS_RAFT_LEADER)
		reconcile_step(n, nodes);
	json_decref(nodes);
}

/* ---- shutdown ---- */

static void closed_one(struct ows_node *n)
{
	if (--n->pending_closes == 0)
		uv_stop(n->loop);
}

static void server_closed_cb(struct ows_http_server *s)
{
	closed_one(s->ud);
}

static void raft_closed_cb(void *ud)
{
	struct ows_node *n = ud;

	n->raft = NULL;
	closed_one(n);
}

static void functions_closed_cb(struct ows_node *n)
{
	closed_one(n);
}

static void handle_closed_cb(uv_handle_t *h)
{
	closed_one(h->data);
}

static void stop(struct ows_node *n)
{
	if (n->stopping)
		return;
	n->stopping = true;
	ows_log(OWS_LOG_INFO, "node", "shutting down");
	n->pending_closes = 5 + n->edge_up + n->gateway_up;
	ows_functions_close(n, functions_closed_cb);
	if (n->edge_up)
		ows_http_server_close(&n->edge, server_closed_cb);
	if (n->gateway_up)
		ows_http_server_close(&n->gateway, server_closed_cb);
	if (n->raft == NULL)
		closed_one(n); /* a reopen that failed */
	else if (!n->raft_reopening)
		ows_raft_close(n->raft, raft_closed_cb, n);
	uv_close((uv_handle_t *)&n->reconcile, handle_closed_cb);
	uv_close((uv_handle_t *)&n->sigterm, handle_closed_cb);
	uv_close((uv_handle_t *)&n->sigint, handle_closed_cb);
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
	cfg.max_per_address = n->cfg.max_per_address;
	rv = ows_http_server_init(&n->edge, n->loop, &cfg, ows_admin_handle, n);
	n->edge_up = rv == 0;
	if (rv == 0)
		rv = ows_http_server_listen(&n->edge, n->cfg.edge);
	if (rv != 0) {
		ows_err_printf(err, "cannot listen on edge %s: %s", n->cfg.edge,
			       ows_strerror(rv));
		return rv;
	}
	rv = ows_http_server_init(&n->gateway, n->loop, &cfg, ows_gateway_handle,
				  n);
	n->gateway_up = rv == 0;
	if (rv == 0)
		rv = ows_http_server_listen(&n->gateway, n->cfg.gateway);
	if (rv != 0)
		ows_err_printf(err, "cannot listen on gateway %s: %s",
			       n->cfg.gateway, ows_strerror(rv));
	return rv;
}

/* ---- node-to-node authentication of Raft connections ---- */

static int raft_sign(void *ud, const void *msg, size_t len, char sig[89])
{
	struct ows_node *n = ud;

	return ows_key_sign(n->key, msg, len, sig);
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
	json_t *row = ows_state_node(&n->state, id), *p;
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

void ows_node_request_ctx(const struct ows_http_req *req, const char *region,
			  char ip[64], struct ows_authz_ctx *out)
{
	const char *p = req->peer, *end = strrchr(p, ':');
	size_t len;

	/* "1.2.3.4:PORT" or "[::1]:PORT" */
	if (*p == '[') {
		p++;
		end = strchr(p, ']');
	}
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	if (len >= 64)
		len = 63;
	memcpy(ip, p, len);
	ip[len] = '\0';
	*out = (struct ows_authz_ctx){ip[0] != '\0' ? ip : NULL, false,
				      ows_now_ms(), region};
}

bool ows_node_key_is_member(struct ows_node *n, const char *pub)
{
	json_t *nodes = ows_state_nodes(&n->state), *row;
	bool ok = false;
	size_t i;

	json_array_foreach(nodes, i, row) {
		const char *key = ows_json_str(row, "key");

		ok |= key != NULL && strcmp(key, pub) == 0;
	}
	json_decref(nodes);
	return ok;
}

int ows_node_access_secret(struct ows_node *n, const char *id,
			   char user[256], struct ows_buf *secret)
{
	struct ows_access_key ak;
	int rv = ows_state_access_key(&n->state, id, &ak);

	if (rv != 0)
		return rv;
	memcpy(user, ak.user, sizeof(ak.user));
	return ows_box_open(n->box, ak.sender, ak.sealed, secret);
}

static int load_box(struct ows_node *n, struct ows_err *err)
{
	struct ows_buf secret = OWS_BUF_INIT;
	char path[PATH_MAX];
	int rv;

	snprintf(path, sizeof(path), "%s/cluster.secret", n->dir);
	rv = ows_file_read(path, 64, &secret);
	if (rv == 0 && secret.len != OWS_SEAL_KEY_LEN)
		rv = -EINVAL;
	if (rv == 0)
		rv = ows_box_key_derive((const uint8_t *)secret.data, &n->box,
					n->box_pub);
	if (rv == 0)
		ows_session_key_derive((const uint8_t *)secret.data, secret.len,
				       n->session_key);
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

	ows_sha256(n->cfg.cluster, strlen(n->cfg.cluster), h);
	for (int i = 0; i < 12; i++)
		n->account[i] = (char)('0' + h[i] % 10);
	n->account[12] = '\0';
}

static void load_peers(struct ows_node *n)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/peers.json", n->dir);
	n->peers = json_load_file(path, 0, NULL);
	if (!json_is_array(n->peers)) {
		json_decref(n->peers);
		n->peers = json_array();
	}
	n->auth = (struct ows_raft_auth){n->cfg.cluster, n, raft_sign,
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

	ro.segment_size = (size_t)n->cfg.segment_mb << 20; /* 0: default */
	ows_node_fsm(&n->state, &fsm);
	snprintf(path, sizeof(path), "%s/raft", n->dir);
	rv = ows_raft_new(n->loop, path, n->cfg.id, n->cfg.raft, &ro, &fsm,
			  &n->raft);
	if (rv == 0)
		rv = ows_raft_start(n->raft);
	return rv;
}

static int start(struct ows_node *n, struct ows_err *err)
{
	char path[PATH_MAX];
	int rv;

	rv = ows_node_config_load(n->dir, &n->cfg, err);
	if (rv != 0)
		return rv;
	snprintf(path, sizeof(path), "%s/node.key", n->dir);
	rv = ows_key_load(path, &n->key, err);
	if (rv != 0)
		return rv;
	snprintf(path, sizeof(path), "%s/state.db", n->dir);
	rv = ows_state_open(&n->state, path, err);
	if (rv != 0)
		return rv;
	load_peers(n);
	account_id(n);
	rv = load_box(n, err);
	if (rv != 0)
		return rv;
	rv = open_raft(n);
	if (rv != 0) {
		ows_err_printf(err, "cannot start raft on %s: %s", n->cfg.raft,
			       ows_strerror(rv));
		return rv;
	}
	rv = start_servers(n, err);
	if (rv == 0)
		rv = ows_functions_start(n);
	return rv;
}

static void setup_handles(struct ows_node *n)
{
	uv_signal_init(n->loop, &n->sigterm);
	uv_signal_init(n->loop, &n->sigint);
	n->sigterm.data = n->sigint.data = n;
	uv_signal_start(&n->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&n->sigint, signal_cb, SIGINT);
	uv_timer_init(n->loop, &n->reconcile);
	n->reconcile.data = n;
	uv_timer_start(&n->reconcile, reconcile_cb, RECONCILE_MS, RECONCILE_MS);
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
	n->loop = &loop;
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	setup_handles(n);
	rv = start(n, &err);
	if (rv != 0) {
		ows_log(OWS_LOG_ERROR, "node", "%s", err.msg);
		n->exit_code = 1;
		if (n->raft == NULL) {
			/* Nothing async started yet but the handles. */
			n->stopping = true;
			uv_close((uv_handle_t *)&n->reconcile, NULL);
			uv_close((uv_handle_t *)&n->sigterm, NULL);
			uv_close((uv_handle_t *)&n->sigint, NULL);
			uv_run(&loop, UV_RUN_DEFAULT);
			goto out;
		}
		stop(n);
	} else {
		ows_log(OWS_LOG_INFO, "node", "node %" PRIu64 " of cluster %s: "
			"edge http://%s gateway http://%s raft %s", n->cfg.id,
			n->cfg.cluster, n->edge.bound, n->gateway.bound,
			n->cfg.raft);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	/* Let close callbacks that uv_stop cut short run. */
	uv_run(&loop, UV_RUN_DEFAULT);
	/* Kept-alive client connections (to peers, to http instances). */
	ows_http_client_close_idle(&loop);
	uv_run(&loop, UV_RUN_DEFAULT);
out:
	code = n->exit_code;
	ows_state_close(&n->state);
	ows_key_free(n->key);
	json_decref(n->peers);
	ows_box_key_free(n->box);
	ows_gateway_close(n);
	ows_host_free(n);
	if (uv_loop_close(&loop) != 0)
		ows_log(OWS_LOG_WARN, "node", "loop closed with live handles");
	free(n);
	ows_log(OWS_LOG_INFO, "node", "stopped");
	return code;
}
