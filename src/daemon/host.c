/*
 * The host of the AWS-compatible services (aws/service.h), on the node:
 * the state read only, authorization with policies cached per ledger
 * height, attested entries proposed on the leader or forwarded to it,
 * read barriers, the blob store, function invocation.
 *
 * Authorization records every allowed (action, arns, extra) in the call;
 * propose puts them in the "attested" entry, so that every node (and
 * `ows ledger verify`) judges them again at apply with the recorded
 * context. A service's own entries (propose_entry) carry no attestation:
 * the service judged the caller, and only member nodes reach the log
 * (a follower forwards them to the leader's POST /_ows/v1/entry, in
 * batches signed with its node key: entries.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/key.h"
#include "auth/reqsig.h"
#include "aws/registry.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/blobs.h"
#include "daemon/host.h"
#include "daemon/reply.h"
#include "ledger/attest.h"

#define ATTESTED_LIMIT (4 * 1024 * 1024)

static struct ows_node_host *host_of(const struct ows_aws_host *h)
{
	return h->ud;
}

/* One allowed judgement, kept in the call's arena for propose. */
struct judged {
	struct judged *next;
	const char *action;
	const char **arns;
	char *extra; /* canonical-free compact JSON, or NULL */
	char *rp;    /* the resource policy judged with, or NULL */
};

struct call_data {
	struct judged *judged, **tail;
};

static struct call_data *call_data(struct ows_aws_call *c)
{
	struct ows_aws_call_priv *p = c->priv;
	struct call_data *d = p->host_data;

	if (d == NULL) {
		d = ows_arena_alloc(c->arena, sizeof(*d));
		if (d == NULL)
			return NULL;
		d->judged = NULL;
		d->tail = &d->judged;
		p->host_data = d;
	}
	return d;
}

/* ---- authorize, with the principals' policies cached per height ---- */

/* A new ledger height: every cached policy may have changed. */
static void refresh(struct ows_node_host *nh)
{
	if (nh->policies != NULL && nh->cache_height == nh->core->state.height)
		return;
	json_decref(nh->policies);
	nh->policies = json_object();
	nh->cache_height = nh->core->state.height;
	ows_state_directory(&nh->core->state, &nh->base);
}

static json_t *cached(struct ows_node_host *nh, const char *kind,
		      const char *name, int *rv)
{
	char key[300];
	json_t *docs;

	refresh(nh);
	if (nh->policies == NULL) {
		*rv = -ENOMEM;
		return NULL;
	}
	snprintf(key, sizeof(key), "%s/%s", kind, name);
	docs = json_object_get(nh->policies, key);
	if (docs != NULL) {
		*rv = json_is_null(docs) ? -ENOENT : 0;
		return docs;
	}
	docs = json_array();
	if (docs == NULL) {
		*rv = -ENOMEM;
		return NULL;
	}
	if (strcmp(kind, "users") == 0)
		*rv = nh->base.user_policies(nh->base.ud, name, docs);
	else
		*rv = nh->base.principal_policies(nh->base.ud, kind, name, docs);
	if (*rv == -ENOENT) {
		json_decref(docs);
		docs = json_null();
	} else if (*rv != 0) {
		json_decref(docs);
		return NULL; /* not cached: an error may pass */
	}
	json_object_set_new(nh->policies, key, docs);
	return docs;
}

static int cached_user_policies(void *ud, const char *user, json_t *out)
{
	int rv;
	json_t *docs = cached(ud, "users", user, &rv);

	if (rv == 0)
		json_array_extend(out, docs);
	return rv == -ENOENT ? 0 : rv;
}

static int cached_principal_policies(void *ud, const char *kind,
				     const char *name, json_t *out)
{
	int rv;
	json_t *docs = cached(ud, kind, name, &rv);

	if (rv == 0)
		json_array_extend(out, docs);
	return rv;
}

/* Keep one allowed judgement (j, in the call's arena) for propose. */
static int record(struct ows_aws_call *c, struct judged *j,
		  const char *action, const char *const *arns, size_t n,
		  const json_t *extra, const json_t *rp)
{
	if (j == NULL)
		return -ENOMEM;
	j->next = NULL;
	j->action = ows_arena_strdup(c->arena, action);
	j->arns = ows_arena_alloc(c->arena, (n + 1) * sizeof(*j->arns));
	j->extra = NULL;
	j->rp = NULL;
	if (j->action == NULL || j->arns == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((j->arns[i] = ows_arena_strdup(c->arena, arns[i])) == NULL)
			return -ENOMEM;
	j->arns[n] = NULL;
	if (extra != NULL) {
		char *text = ows_json_dump(extra);

		j->extra = text ? ows_arena_strdup(c->arena, text) : NULL;
		free(text);
		if (j->extra == NULL)
			return -ENOMEM;
	}
	if (rp != NULL) {
		char *text = ows_json_dump(rp);

		j->rp = text ? ows_arena_strdup(c->arena, text) : NULL;
		free(text);
		if (j->rp == NULL)
			return -ENOMEM;
	}
	return 0;
}

/*
 * extra (borrowed, may be NULL) plus the condition keys read from the
 * request's headers, aws:Referer and aws:UserAgent (as AWS sets them,
 * when the request has the header): a new reference, or NULL.
 */
static json_t *with_request_keys(struct ows_aws_call *c, const json_t *extra)
{
	const char *referer = ows_aws_header(c, "Referer");
	const char *agent = ows_aws_header(c, "User-Agent");
	json_t *all;

	/* nothing to add: extra is what a copy of it would be (read only) */
	if (extra != NULL && referer == NULL && agent == NULL)
		return json_incref((json_t *)extra);
	all = extra != NULL ? json_copy((json_t *)extra) : json_object();
	if (all == NULL)
		return NULL;
	if ((referer != NULL &&
	     json_object_set_new(all, "aws:Referer", json_string(referer))) ||
	    (agent != NULL &&
	     json_object_set_new(all, "aws:UserAgent", json_string(agent)))) {
		json_decref(all);
		return NULL;
	}
	return all;
}

static int host_authorize_resource(struct ows_aws_call *c,
				   const char *action,
				   const char *const *arns,
				   const json_t *extra, const json_t *rp)
{
	struct ows_node_host *nh = host_of(c->host);
	struct ows_principal who = {c->caller.kind, c->caller.name};
	struct ows_directory dir;
	struct ows_authz_ctx rc;
	struct call_data *d;
	struct judged *j;
	json_t *all;
	size_t n = 0;
	char ip[64];
	int rv;

	refresh(nh);
	dir = nh->base;
	dir.ud = nh;
	dir.user_policies = cached_user_policies;
	dir.principal_policies = cached_principal_policies;
	ows_reply_request_ctx(c->req, c->region[0] ? c->region : NULL, ip, &rc);
	all = with_request_keys(c, extra);
	if (all == NULL)
		return -ENOMEM;
	extra = all;
	rv = ows_principal_authorize_rp(&dir, &who, action, arns, extra, rp,
					c->host->account, &rc);
	if (rv != 0) {
		json_decref(all);
		return rv == OWS_EDENIED ? rv : OWS_EDENIED;
	}
	/* Recorded for the attested entry (judged again at apply). */
	d = call_data(c);
	while (arns != NULL && arns[n] != NULL)
		n++;
	j = d ? ows_arena_alloc(c->arena, sizeof(*j)) : NULL;
	rv = record(c, j, action, arns, n, extra, rp);
	json_decref(all);
	if (rv != 0)
		return rv;
	*d->tail = j;
	d->tail = &j->next;
	return 0;
}

static int host_authorize(struct ows_aws_call *c, const char *action,
			  const char *const *arns, const json_t *extra)
{
	return host_authorize_resource(c, action, arns, extra, NULL);
}

/* ---- propose: the attested entry ---- */

struct proposal {
	struct ows_core *n;
	ows_aws_proposed_cb cb;
	void *ud;
};

static void proposal_done(struct proposal *p, int status, const char *text,
			  size_t len)
{
	json_t *r = NULL;

	if (status == 0) {
		r = text ? ows_json_loadb(text, len, 0, NULL) : NULL;
		if (!json_is_object(r))
			status = -EIO;
	}
	p->cb(p->ud, status, status == 0 ? r : NULL);
	json_decref(r);
	free(p);
}

static void proposed_cb(void *ud, int status, void *result)
{
	struct proposal *p = ud;

	if (status == OWS_EIO || (status != 0 && status != OWS_ENOTLEADER &&
				  status != -ECANCELED))
		status = -EIO;
	proposal_done(p, status, result, result ? strlen(result) : 0);
	free(result);
}

int ows__host_forward_status(int status, const struct ows_http_response *resp)
{
	if (status == -EAGAIN)
		return OWS_ENOTLEADER;
	if (status != 0)
		return -ETIMEDOUT;
	return resp->status == 503 ? OWS_ENOTLEADER : 0;
}

static void forwarded_cb(void *ud, int status,
			 const struct ows_http_response *resp)
{
	struct proposal *p = ud;

	status = ows__host_forward_status(status, resp);
	if (status == 0 && (resp->status >= 500 || resp->status == 400 ||
		 resp->status == 403))
		status = -EIO;
	proposal_done(p, status, resp ? resp->body : NULL,
		      resp ? resp->body_len : 0);
}

int ows__host_leader_edge(struct ows_core *n, uint64_t *id, char addr[64])
{
	json_t *node;

	ows_raft_leader(n->raft, id, addr);
	node = *id != 0 ? ows_state_node(&n->state, *id) : NULL;
	if (node == NULL || *id == n->cfg.id) {
		json_decref(node);
		return OWS_ENOTLEADER;
	}
	snprintf(addr, 64, "%s", ows_json_str(node, "edge"));
	json_decref(node);
	return 0;
}

/* Send text (an attested entry's body, or a service entry {"type",
   "body"}) to the leader's end at path, signed by this node. */
static int forward_to_leader(struct ows_core *n, const char *path,
			     const char *text, struct proposal *p)
{
	char addr[64], sig[OWS_REQSIG_HEADER_MAX];
	struct ows_http_header hs[2] = {
		{"Content-Type", "application/json"},
		{"Authorization", sig},
	};
	uint64_t id;
	int rv = ows__host_leader_edge(n, &id, addr);

	if (rv != 0)
		return rv;
	rv = ows_reqsig_sign(n->key, "POST", path, text, strlen(text),
			     ows_now_ms() / 1000, sig);
	if (rv != 0)
		return rv;
	return ows_core_forward(n, id, addr, "POST", path, hs, 2, text,
				strlen(text), forwarded_cb, p);
}

static json_t *attestation(struct ows_aws_call *c, const json_t *actions,
			   const char *stack)
{
	struct ows_core *n = host_of(c->host)->core;
	struct call_data *d = call_data(c);
	struct ows_authz_ctx rc;
	char ip[64], node[24], pub[OWS_PUBKEY_B64_LEN], now[32];
	json_t *auth = json_array(), *a;
	time_t secs;
	struct tm tm;

	ows_reply_request_ctx(c->req, c->region[0] ? c->region : NULL, ip, &rc);
	secs = (time_t)(rc.time_ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (struct judged *j = d ? d->judged : NULL; j != NULL; j = j->next) {
		json_t *arns = json_array();

		for (size_t i = 0; j->arns[i] != NULL; i++)
			json_array_append_new(arns, json_string(j->arns[i]));
		json_array_append_new(auth, json_pack(
			"{s:s, s:o, s:o}", "action", j->action, "arns", arns,
			"extra", j->extra ? ows_json_loads(j->extra, 0, NULL)
					  : json_null()));
		if (j->rp != NULL)
			json_object_set_new(json_array_get(auth,
				json_array_size(auth) - 1), "resource_policy",
				ows_json_loads(j->rp, 0, NULL));
	}
	snprintf(node, sizeof(node), "%" PRIu64, n->cfg.id);
	ows_key_public(n->key, pub);
	a = json_pack("{s:s, s:s, s:s, s:s,"
		      " s:{s:s, s:s, s:s, s:s, s:b},"
		      " s:{s:s, s:s, s:s, s:s},"
		      " s:o, s:s, s:O, s:I}",
		      "cluster", n->cfg.cluster, "node", node, "node_key", pub,
		      "request_id", c->request_id,
		      "caller", "kind", c->caller.kind, "name", c->caller.name,
		      "user", c->caller.user, "access_key",
		      c->caller.access_key, "session", c->caller.session,
		      "context", "aws:SourceIp", ip, "aws:SecureTransport",
		      rc.secure_transport ? "true" : "false",
		      "aws:RequestedRegion", c->region[0] ? c->region
							  : c->host->region,
		      "aws:CurrentTime", now,
		      "authorized", auth, "stack", stack ? stack : "",
		      "actions", actions, "time", (json_int_t)rc.time_ms);
	return a;
}

static int host_propose(struct ows_aws_call *c, const json_t *actions,
			const char *stack, ows_aws_proposed_cb cb, void *ud)
{
	struct ows_core *n = host_of(c->host)->core;
	struct proposal *p = NULL;
	json_t *body;
	char *text = NULL;
	int rv = -ENOMEM;

	/* an anonymous caller only ever reads (ledger/authz.h) */
	if (c->caller.kind[0] == '\0')
		return OWS_EDENIED;
	/* ledger/attest.h builds and signs the body apply checks */
	body = ows_attest_body(attestation(c, actions, stack), n->key);
	p = calloc(1, sizeof(*p));
	if (body == NULL || p == NULL)
		goto cleanup;
	*p = (struct proposal){n, cb, ud};
	if (ows_raft_role(n->raft) == OWS_RAFT_LEADER) {
		rv = ows_core_propose(n, "attested", body, proposed_cb, p);
		if (rv != OWS_ENOTLEADER)
			goto cleanup;
	}
	text = ows_json_dump(body);
	rv = text ? forward_to_leader(n, "/_ows/v1/attested", text, p) : -ENOMEM;
cleanup:
	if (rv != 0)
		free(p);
	free(text);
	json_decref(body);
	return rv;
}

/* The leader's end: a member node's attested entry, proposed as it is. */
struct attested_req {
	struct ows_core *n;
	struct ows_http_req *req;
};

static void attested_applied(void *ud, int status, void *result)
{
	struct ows_http_req *req = ud;

	if (status != 0 || result == NULL) {
		free(result);
		ows_reply_error(req, 503, "LeadershipLost", "the entry "
				      "was not committed (%s); retry",
				      ows_strerror(status));
		return;
	}
	{
		struct ows_http_header h = {"Content-Type", "application/json"};

		ows_http_respond(req, 200, &h, 1, result, strlen(result));
	}
	free(result);
}

/* True when a check passed for pub, a member's key; else 403 sent. */
static bool member_or_refuse(struct ows_core *n, struct ows_http_req *req,
			     bool checked, const char *pub, const char *what)
{
	if (checked && ows_core_key_is_member(n, pub))
		return true;
	ows_reply_error(req, 403, "AccessDenied", "only a node of the cluster "
			"forwards %s", what);
	return false;
}

bool ows__host_member_head(struct ows_core *n, struct ows_http_req *req,
			   const char *what)
{
	char pub[OWS_PUBKEY_B64_LEN] = "";
	struct ows_err err = {{0}};

	return member_or_refuse(
	    n, req,
	    ows_reqsig_check_head(ows_http_req_header(req, "Authorization"),
				  ows_now_ms() / 1000, pub, &err) == 0,
	    pub, what);
}

bool ows__host_from_member(struct ows_core *n, struct ows_http_req *req,
			const char *body, size_t len, const char *what)
{
	const char *auth = ows_http_req_header(req, "Authorization");
	char pub[OWS_PUBKEY_B64_LEN] = "";
	struct ows_err err = {{0}};

	return member_or_refuse(
	    n, req,
	    auth != NULL &&
		ows_reqsig_verify(auth, "POST", req->target, body, len,
				  ows_now_ms() / 1000, pub, &err) == 0,
	    pub, what);
}

static void attested_body_cb(struct ows_http_req *req, int status,
			     const char *body, size_t len)
{
	struct ows_core *n = req->data;
	struct ows_err err = {{0}};
	json_t *v;
	int rv;

	if (status != 0 || !ows__host_from_member(n, req, body, len,
						  "attested entries"))
		return;
	v = ows_json_parse(body, len, &err);
	if (!json_is_object(v) ||
	    !json_is_object(json_object_get(v, "attestation"))) {
		json_decref(v);
		ows_reply_error(req, 400, "MalformedEntry", "expected "
				      "{\"attestation\", \"signature\"}");
		return;
	}
	/* apply checks the node's signature on it, on every node */
	rv = ows_core_propose(n, "attested", v, attested_applied, req);
	json_decref(v);
	if (rv != 0)
		ows_reply_error(req, 503, "NoLeader", "cannot propose "
				      "here: %s; retry", ows_strerror(rv));
}

void ows_host_attested_handle(struct ows_node_host *nh,
			      struct ows_http_req *req)
{
	struct ows_core *n = nh->core;

	if (strcmp(req->method, "POST") != 0) {
		ows_reply_error(req, 405, "MethodNotAllowed", "POST only");
		return;
	}
	if (!ows__host_member_head(n, req, "attested entries"))
		return;
	req->data = n;
	if (ows_http_req_read_body(req, ATTESTED_LIMIT, attested_body_cb) != 0)
		ows_reply_error(req, 500, "InternalError",
				      "cannot read the body");
}

/* ---- propose_entry: a service's own entry type ---- */

bool ows__host_service_entry_type(const char *type)
{
	static const char *const core[] = {"genesis", "changeset", "join",
					   "attested"};

	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		if (strcmp(type, core[i]) == 0)
			return false;
	return ows_aws_entry_type_find(type) != NULL;
}

static int host_propose_entry(const struct ows_aws_host *h, const char *type,
			      const json_t *body, ows_aws_proposed_cb cb,
			      void *ud)
{
	struct ows_core *n = host_of(h)->core;
	struct proposal *p;
	int rv;

	if (type == NULL || !ows__host_service_entry_type(type) ||
	    !json_is_object(body))
		return OWS_EINVAL;
	if (ows_raft_role(n->raft) == OWS_RAFT_LEADER) {
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		*p = (struct proposal){n, cb, ud};
		rv = ows_core_propose(n, type, body, proposed_cb, p);
		if (rv != OWS_ENOTLEADER) {
			if (rv != 0)
				free(p);
			return rv;
		}
		free(p);
	}
	/* joins the loop turn's batch to the leader (entries.c) */
	return ows__host_entry_forward(host_of(h), type, body, cb, ud);
}

void ows_host_leader_tick(struct ows_node_host *nh)
{
	const struct ows_aws_service *const *sv;

	if (nh->core->stopping ||
	    ows_raft_role(nh->core->raft) != OWS_RAFT_LEADER ||
	    ows_raft_stalled(nh->core->raft, NULL) != 0)
		return;
	for (sv = ows_aws_services; *sv != NULL; sv++)
		if ((*sv)->leader_tick != NULL)
			(*sv)->leader_tick(&nh->host);
}

/* ---- blobs ---- */

static int host_blob_path(const struct ows_aws_host *h, const char *sha256,
			  char *out, size_t cap)
{
	const struct ows_blob_store *s = host_of(h)->store;
	uint64_t size;

	if (ows_blob_size(s, sha256, &size) != 0)
		return -ENOENT;
	ows_blob_path(s, sha256, out, cap);
	return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

/*
 * Push local blob sha256 to its holders (daemon/blobs.h: placement order,
 * the holders first) until `replicas` nodes hold it, this one included,
 * streamed from the file (blob/peer.c). With members down, a majority of
 * the members is enough (ows_blobs_want); the repair does the rest.
 */
static int replicate(struct ows_node_host *nh, const char *sha256,
		     ows_blob_done_cb cb, void *ud)
{
	struct ows_core *n = nh->core;
	const char *peers[OWS_BLOBS_PEERS_MAX];
	json_t *nodes = ows_state_nodes(&n->state);
	size_t members, np;
	unsigned replicas = ows_blobs_replicas(n, &members), want, need,
		 holders;
	bool self;
	int rv;

	if (nodes == NULL)
		return -ENOMEM;
	/* All members: one that is down fails at once, the next takes it. */
	np = ows_blobs_placed(n, nodes, sha256, replicas, NULL, peers, &self,
			      &holders);
	ows_blobs_want(replicas, members, &want, &need);
	/* A client waits: at full speed. */
	rv = ows_blob_replicate(nh->store, n->loop, n->key, peers, np, sha256,
				want, need, 0, cb, ud);
	json_decref(nodes);
	return rv;
}

/*
 * blob_put (function bundles, at most 50 MB, given in memory): written
 * here on the thread pool (blob/blob.h: temporary file, fsync, rename),
 * then replicated from the file as every blob is.
 */
struct blob_put {
	struct ows_node_host *nh;
	ows_aws_blob_cb cb;
	void *ud;
	char hash[65];
	char *data;
	size_t len;
	int status;
	uv_work_t work;
};

static void blob_put_end(struct blob_put *b, int status)
{
	b->cb(b->ud, status, status == 0 ? b->hash : NULL);
	free(b->data);
	free(b);
}

static void blob_replicated(void *ud, int status)
{
	blob_put_end(ud, status);
}

static void blob_write_work(uv_work_t *w)
{
	struct blob_put *b = w->data;

	b->status = ows_blob_write(b->nh->store, b->hash, b->data, b->len);
}

static void blob_write_done(uv_work_t *w, int status)
{
	struct blob_put *b = w->data;
	int rv = status != 0 ? status : b->status;

	free(b->data); /* on disk now: the push reads the file */
	b->data = NULL;
	if (rv == 0)
		rv = replicate(b->nh, b->hash, blob_replicated, b);
	if (rv != 0)
		blob_put_end(b, rv);
}

static int host_blob_put(struct ows_aws_call *c, const void *data, size_t len,
			 ows_aws_blob_cb cb, void *ud)
{
	struct ows_node_host *nh = host_of(c->host);
	struct blob_put *b = calloc(1, sizeof(*b));
	int rv;

	if (b == NULL || (b->data = malloc(len ? len : 1)) == NULL) {
		free(b);
		return -ENOMEM;
	}
	b->nh = nh;
	b->cb = cb;
	b->ud = ud;
	memcpy(b->data, data, len);
	b->len = len;
	ows_sha256_hex(data, len, b->hash);
	b->work.data = b;
	rv = uv_queue_work(nh->core->loop, &b->work, blob_write_work,
			   blob_write_done);
	if (rv != 0) {
		free(b->data);
		free(b);
	}
	return rv;
}

static int host_blob_replicate(struct ows_aws_call *c, const char *sha256,
			       ows_aws_done_cb cb, void *ud)
{
	if (!ows_blob_name_valid(sha256))
		return -ENOENT;
	return replicate(host_of(c->host), sha256, cb, ud);
}

/* From the blob's holders first (placement order), then the others. */
static int host_blob_fetch(struct ows_aws_call *c, const char *sha256,
			   ows_aws_done_cb cb, void *ud)
{
	struct ows_node_host *nh = host_of(c->host);
	const char *peers[OWS_BLOBS_PEERS_MAX];
	json_t *nodes;
	size_t np;
	unsigned holders;
	bool self;
	int rv;

	if (!ows_blob_name_valid(sha256))
		return -ENOENT;
	nodes = ows_state_nodes(&nh->core->state);
	if (nodes == NULL)
		return -ENOMEM;
	np = ows_blobs_placed(nh->core, nodes, sha256,
			      ows_blobs_replicas(nh->core, NULL), NULL, peers,
			      &self, &holders);
	rv = ows_blob_fetch(nh->store, nh->core->loop, nh->core->key, peers,
			    np, sha256, cb, ud);
	json_decref(nodes);
	return rv;
}

/* ---- invoke ---- */

static int host_invoke(const struct ows_aws_host *h,
		       const struct ows_aws_invoke *inv, ows_fn_result_cb cb,
		       void *ud)
{
	struct ows_fn_invoke_opts opts = {
		.client_context = inv->client_context};

	return ows_functions_invoke_version(host_of(h)->fns, inv->function,
					    inv->version, inv->request_id,
					    inv->payload, inv->len, &opts, cb,
					    ud);
}

/* ---- the host ---- */

static int access_secret(void *ud, const char *access_key, char user[256],
			 struct ows_buf *secret)
{
	return ows_core_access_secret(ud, access_key, user, secret);
}

/* Access keys change only with the ledger (access_keys.*, users.*). */
static uint64_t keys_generation(void *ud)
{
	struct ows_core *core = ud;

	return core->state.height;
}

void ows_host_init(struct ows_node_host *nh, struct ows_core *core,
		   struct ows_functions *fns,
		   const struct ows_blob_store *store)
{
	*nh = (struct ows_node_host){.core = core, .fns = fns, .store = store};
	nh->host = (struct ows_aws_host){
		.ud = nh,
		.loop = core->loop,
		.state = &core->state,
		.region = core->cfg.region,
		.account = core->account,
		.session_key = core->session_key,
		/* read at each call: node.json is loaded after this */
		.s3_domain = core->cfg.s3_domain,
		.authorize = host_authorize,
		.authorize_resource = host_authorize_resource,
		.propose = host_propose,
		.propose_entry = host_propose_entry,
		.read_barrier = ows_host_read_barrier,
		.blob_put = host_blob_put,
		.blob_path = host_blob_path,
		.blobs = store,
		.blob_replicate = host_blob_replicate,
		.blob_fetch = host_blob_fetch,
		.invoke = host_invoke,
	};
	nh->keys = (struct ows_aws_keys){
		.secret = access_secret,
		.ud = core,
		.session_key = core->session_key,
		.region = core->cfg.region,
		.cache = &nh->keycache,
		.generation = keys_generation,
	};
	ows_host_reads_init(nh);
}

void ows_host_close(struct ows_node_host *nh)
{
	ows__host_entries_close(nh);
	json_decref(nh->policies);
	nh->policies = NULL;
	ows_aws_keycache_clear(&nh->keycache);
}
