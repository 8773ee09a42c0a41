/*
 * The calls on a node's shared core (core.h): proposing an entry,
 * forwarding a request to the leader, node and access keys.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/core.h"

int ows_core_propose(struct ows_core *n, const char *type, const json_t *body,
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

/* ---- forwarding writes to the leader ---- */

/* How often a forward looks at who leads, in milliseconds. */
#define FORWARD_CHECK_MS 50

/*
 * A write forwarded to the leader. The client is answered by whichever
 * comes first: the leader's reply; the deadline, twice the election
 * timeout (a leader that answers nothing for that long has been replaced,
 * or is cut off); or this node seeing another leader or none, checked
 * every FORWARD_CHECK_MS. Those two are answered 503, which clients retry:
 * a write held by a frozen or cut-off leader then goes to the new one as
 * soon as it is elected, instead of waiting out the HTTP client's 30 s.
 * The write may still have been committed by then (the old leader was slow,
 * not gone); the retry with the same nonce is the resend path's concern.
 * After an early answer the exchange with the old leader runs on, detached,
 * until its reply or its deadline; only then is the forward freed.
 */
struct forward {
	struct ows_core *n;
	ows_forward_cb cb;   /* NULL once the client is answered */
	void *ud;
	uint64_t leader;     /* the node the write went to */
	uv_timer_t timer;
	bool timer_open;
	bool in_flight;      /* the exchange has not called back yet */
};

static void forward_free(struct forward *fw)
{
	if (!fw->timer_open && !fw->in_flight)
		free(fw);
}

static void forward_timer_closed(uv_handle_t *h)
{
	struct forward *fw = h->data;

	fw->timer_open = false;
	forward_free(fw);
}

static void forward_stop_watch(struct forward *fw)
{
	if (fw->timer_open && !uv_is_closing((uv_handle_t *)&fw->timer))
		uv_close((uv_handle_t *)&fw->timer, forward_timer_closed);
}

static void forward_watch_cb(uv_timer_t *t)
{
	struct forward *fw = t->data;
	ows_forward_cb cb = fw->cb;
	char addr[64];
	uint64_t id;

	ows_raft_leader(fw->n->raft, &id, addr);
	if (id == fw->leader && !fw->n->stopping)
		return;
	if (cb != NULL) {
		if (id == 0)
			ows_log(OWS_LOG_INFO, "admin", "forward to node %" PRIu64
				" answered 503: the cluster has no leader now",
				fw->leader);
		else
			ows_log(OWS_LOG_INFO, "admin", "forward to node %" PRIu64
				" answered 503: node %" PRIu64 " leads now",
				fw->leader, id);
		fw->cb = NULL;
		cb(fw->ud, -EAGAIN, NULL);
	}
	forward_stop_watch(fw);
}

static void forward_cb(void *ud, int status,
		       const struct ows_http_response *resp)
{
	struct forward *fw = ud;
	ows_forward_cb cb = fw->cb;

	fw->in_flight = false;
	forward_stop_watch(fw);
	if (cb != NULL) {
		fw->cb = NULL;
		cb(fw->ud, status, status == 0 ? resp : NULL);
	}
	forward_free(fw);
}

int ows_core_forward(struct ows_core *n, uint64_t id, const char *addr,
		     const char *method, const char *target,
		     const struct ows_http_header *hs, size_t nh,
		     const void *body, size_t len, ows_forward_cb cb, void *ud)
{
	struct ows_http_client_opts opts = {
		2 * (uint64_t)ows_raft_election_timeout(n->raft), 0};
	struct forward *fw = calloc(1, sizeof(*fw));
	int rv;

	if (fw == NULL)
		return -ENOMEM;
	fw->n = n;
	fw->cb = cb;
	fw->ud = ud;
	fw->leader = id;
	rv = ows_http_client_request(n->loop, addr, method, target, hs, nh,
				     body, len, &opts, forward_cb, fw);
	if (rv != 0) {
		free(fw);
		return rv;
	}
	fw->in_flight = true;
	uv_timer_init(n->loop, &fw->timer);
	fw->timer.data = fw;
	fw->timer_open = true;
	uv_timer_start(&fw->timer, forward_watch_cb, FORWARD_CHECK_MS,
		       FORWARD_CHECK_MS);
	return 0;
}

bool ows_core_key_is_member(struct ows_core *n, const char *pub)
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

int ows_core_access_secret(struct ows_core *n, const char *id,
			   char user[256], struct ows_buf *secret)
{
	struct ows_access_key ak;
	int rv = ows_state_access_key(&n->state, id, &ak);

	if (rv != 0)
		return rv;
	memcpy(user, ak.user, sizeof(ak.user));
	return ows_box_open(n->box, ak.sender, ak.sealed, secret);
}
