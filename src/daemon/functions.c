/*
 * The node's functions; see functions.h.
 *
 * An entry moves through: NEW -> (fetch blob from a peer) -> (extract the
 * bundle on the thread pool) -> READY (pool made). Invocations that arrive
 * before READY wait in the entry; if preparing fails they all get the
 * error. The entry remembers the spec it was made from: a different spec on
 * a later invocation redeploys (ows_fn_pool_update, or a new bundle first).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/reqsig.h"
#include "common/enc.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/functions.h"
#include "auth/session.h"
#include "fn/bundle.h"
#include "fn/netns.h"
#include "fn/sandbox.h"

#define MAX_ENV 256

struct waiter {
	struct waiter *next;
	char request_id[65];
	char *payload;
	size_t len;
	char *client_context;  /* base64 JSON (copied), or NULL */
	ows_fn_result_cb cb;   /* an invocation, or */
	ows_fn_http_cb hcb;    /* a loan of an http instance */
	void *ud;
};

struct ows_fn_entry {
	struct ows_fn_entry *next;
	struct ows_functions *f;
	char name[OWS_NAME_MAX];
	char *spec_text;       /* canonical spec the pool runs, or pending */
	json_t *spec;          /* being prepared */
	struct ows_fn_pool *pool;
	uint64_t checked;      /* ledger height at which spec_text was current */
	uint64_t prep_height;  /* ledger height when preparing began */
	bool http;             /* runtime http */
	bool preparing;
	bool closing;          /* the node is stopping: free when prepared */
	struct waiter *waiters;
	uv_work_t work;
	char sha[65];
	char blob[PATH_MAX];
	char bundle[PATH_MAX + 128];
	struct ows_err err;
	int work_rv;
};

static void waiter_free(struct waiter *w)
{
	free(w->payload);
	free(w->client_context);
	free(w);
}

/* The options of w's invocation (borrowed from w). */
static struct ows_fn_invoke_opts waiter_opts(const struct waiter *w)
{
	return (struct ows_fn_invoke_opts){.client_context = w->client_context};
}

/* Answer one waiter with a failure and free it. */
static void fail_one(struct waiter *w, int status, const char *msg)
{
	struct ows_fn_result r;
	char body[512];

	if (w->hcb != NULL) {
		w->hcb(w->ud, status, NULL, NULL);
		free(w);
		return;
	}
	snprintf(body, sizeof(body), "{\"errorMessage\":\"%s\",\"errorType\":"
		 "\"Runtime.InvalidEntrypoint\"}", msg);
	r = (struct ows_fn_result){.kind = OWS_FN_FAILED, .status = status,
				   .request_id = w->request_id, .body = body,
				   .len = strlen(body)};
	w->cb(w->ud, &r);
	waiter_free(w);
}

static void fail_waiters(struct ows_fn_entry *e, int status, const char *msg)
{
	struct waiter *w;

	while ((w = e->waiters) != NULL) {
		e->waiters = w->next;
		fail_one(w, status, msg);
	}
}

/*
 * The launcher and the runtimes, found from the running owsd: bin/owsd ->
 * bin/ows-sandbox (a small binary that starts in under a millisecond;
 * owsd itself, as `owsd sandbox-exec`, when it is missing) and runtimes/
 * beside bin/.
 */
static void self_paths(char exe[PATH_MAX], char runtimes[PATH_MAX])
{
	char copy[PATH_MAX], dir[PATH_MAX - 32], small[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);

	exe[n > 0 ? n : 0] = '\0';
	/* dirname() may return a pointer into its argument: copy out. */
	snprintf(copy, sizeof(copy), "%s", exe);
	snprintf(dir, sizeof(dir), "%s", dirname(copy));
	snprintf(runtimes, PATH_MAX, "%s/../runtimes", dir);
	snprintf(small, sizeof(small), "%s/ows-sandbox", dir);
	if (access(small, X_OK) == 0 && strlen(small) < PATH_MAX)
		memcpy(exe, small, strlen(small) + 1);
}

static unsigned num(const json_t *spec, const char *k, unsigned dflt)
{
	json_t *v = json_object_get(spec, k);

	return json_is_integer(v) ? (unsigned)json_integer_value(v) : dflt;
}

/*
 * An instance's credentials: a session for the function itself, which may
 * do what the policies its spec names allow (auth/session.h), for 12
 * hours; instances stop an hour before (fn/pool.h).
 */
#define CREDS_S (12 * 3600)

static int instance_creds(void *ud, const char *function,
			  struct ows_fn_creds *out)
{
	struct ows_core *n = ud;
	struct ows_session s = {0};
	int rv;

	/* a version ("NAME:N") acts as its function */
	snprintf(s.kind, sizeof(s.kind), "functions");
	snprintf(s.name, sizeof(s.name), "%.*s",
		 (int)(strcspn(function, ":") < 128 ? strcspn(function, ":")
						    : 128), function);
	snprintf(s.session_name, sizeof(s.session_name), "%.64s", s.name);
	s.expires = ows_now_ms() / 1000 + CREDS_S;
	rv = ows_session_mint(n->session_key, &s, out->secret, out->token,
			      sizeof(out->token));
	if (rv != 0)
		return rv;
	snprintf(out->key_id, sizeof(out->key_id), "%s", s.key_id);
	out->expires = s.expires;
	return 0;
}

static int make_pool(struct ows_fn_entry *e)
{
	struct ows_fn_env env[MAX_ENV];
	const char *command[65] = {NULL};
	char exe[PATH_MAX], runtimes[PATH_MAX], fname[OWS_NAME_MAX];
	struct ows_fn_config cfg = {0};
	const char *k;
	json_t *v;
	size_t n = 0, i;
	int rv;

	self_paths(exe, runtimes);
	json_object_foreach(json_object_get(e->spec, "env"), k, v)
		if (n < MAX_ENV)
			env[n++] = (struct ows_fn_env){k, json_string_value(v)};
	json_array_foreach(json_object_get(e->spec, "command"), i, v)
		if (i < 64)
			command[i] = json_string_value(v);
	/* a published version "NAME:N" runs as NAME, version N */
	snprintf(fname, sizeof(fname), "%.*s", (int)strcspn(e->name, ":"),
		 e->name);
	cfg = (struct ows_fn_config){
		.name = fname,
		.version = strchr(e->name, ':') ? strchr(e->name, ':') + 1
						: "$LATEST",
		.runtime = ows_json_str(e->spec, "runtime"),
		.handler = ows_json_str(e->spec, "handler"),
		.bundle_dir = e->bundle, .command = command,
		.memory_mb = num(e->spec, "memory_mb", 128),
		.timeout_s = num(e->spec, "timeout_s", 3),
		.concurrency = num(e->spec, "concurrency", 10),
		.stopped = num(e->spec, "concurrency", 10) == 0,
		.idle_s = num(e->spec, "idle_s", 300),
		.min_instances = num(e->spec, "min_instances", 0),
		.requests_per_instance = num(e->spec, "requests_per_instance",
					     0),
		.queue_max = 100, .env = env, .n_env = n,
		.runtimes_dir = runtimes, .owsd_path = exe, .region = e->f->core->cfg.region,
		.spares = e->f->spares,
		/* the edge's own handler, served inside each instance */
		.edge_handler = e->f->edge_handler, .edge_ud = e->f->edge_ud,
		.creds_cb = instance_creds, .creds_ud = e->f->core,
	};
	if (e->pool != NULL)
		rv = ows_fn_pool_update(e->pool, &cfg);
	else
		rv = ows_fn_pool_new(e->f->core->loop, &cfg, &e->pool);
	return rv;
}

static int invoke_now(struct ows_fn_entry *e, const struct waiter *w)
{
	struct ows_fn_invoke_opts opts = waiter_opts(w);

	return ows_fn_pool_invoke_opts(e->pool, w->request_id, w->payload,
				       w->len, &opts, w->cb, w->ud);
}

static void run_waiters(struct ows_fn_entry *e)
{
	struct waiter *w;
	int rv;

	while ((w = e->waiters) != NULL) {
		e->waiters = w->next;
		if (w->hcb != NULL)
			rv = ows_fn_pool_http_acquire(e->pool, w->hcb, w->ud);
		else
			rv = invoke_now(e, w);
		if (rv != 0) {
			fail_one(w, rv, "cannot start the invocation");
			continue;
		}
		waiter_free(w);
	}
}

/* ---- preparing: blob -> bundle -> pool ---- */

static void pool_closed_cb(void *ud);

static void prepared(struct ows_fn_entry *e, int rv)
{
	char *text = NULL;

	e->preparing = false;
	if (e->closing) {
		fail_waiters(e, -ECANCELED, "the node is shutting down");
		if (e->pool != NULL)
			ows_fn_pool_close(e->pool, pool_closed_cb, e);
		else
			pool_closed_cb(e);
		return;
	}
	if (rv == 0)
		rv = make_pool(e);
	if (rv != 0) {
		ows_log(OWS_LOG_WARN, "fn", "function '%s' cannot start: %s",
			e->name, e->err.msg[0] ? e->err.msg : ows_strerror(rv));
		fail_waiters(e, rv, e->err.msg[0] ? e->err.msg
				     : "the function's bundle is not available");
		free(e->spec_text);
		e->spec_text = NULL; /* try again on the next invocation */
		return;
	}
	text = ows_json_dump(e->spec);
	free(e->spec_text);
	e->spec_text = text;
	e->checked = e->prep_height;
	e->http = strcmp(ows_json_str(e->spec, "runtime"), "http") == 0;
	run_waiters(e);
}

static void extract_work(uv_work_t *w)
{
	struct ows_fn_entry *e = w->data;
	struct stat st;

	e->work_rv = 0;
	if (stat(e->bundle, &st) == 0)
		return; /* another invocation unpacked it first */
	e->work_rv = ows_bundle_extract(e->blob, e->bundle, &e->err);
	if (e->work_rv != 0 && stat(e->bundle, &st) == 0)
		e->work_rv = 0;
}

static void extract_done(uv_work_t *w, int status)
{
	struct ows_fn_entry *e = w->data;

	prepared(e, status != 0 ? status : e->work_rv);
}

static void extract(struct ows_fn_entry *e)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/bundles", e->f->core->dir);
	ows_mkdir_p(dir, 0755);
	e->work.data = e;
	if (uv_queue_work(e->f->core->loop, &e->work, extract_work, extract_done) != 0)
		prepared(e, -EIO);
}

static void fetched_cb(void *ud, int status)
{
	struct ows_fn_entry *e = ud;

	if (status != 0) {
		ows_err_printf(&e->err, "no node has the bundle %.12s", e->sha);
		prepared(e, -ENOENT);
		return;
	}
	ows_log(OWS_LOG_INFO, "fn", "fetched bundle %.12s of '%s' from a peer",
		e->sha, e->name);
	extract(e);
}

/* Ask the other nodes in turn for the blob (blob/blob.h). */
static void fetch(struct ows_fn_entry *e)
{
	struct ows_core *core = e->f->core;
	json_t *nodes = ows_state_nodes(&core->state), *row;
	const char *peers[256];
	size_t i, n = 0;
	int rv;

	json_array_foreach(nodes, i, row) {
		const char *edge = ows_json_str(row, "edge");

		if ((uint64_t)json_integer_value(json_object_get(row, "id")) !=
			    core->cfg.id &&
		    edge != NULL && n < 256)
			peers[n++] = edge;
	}
	rv = ows_blob_fetch(e->f->store, core->loop, core->key, peers,
			    n, e->sha, fetched_cb, e);
	json_decref(nodes);
	if (rv != 0) {
		ows_err_printf(&e->err, "no node has the bundle %.12s", e->sha);
		prepared(e, rv == -ENOMEM ? rv : -ENOENT);
	}
}

static void prepare(struct ows_fn_entry *e, json_t *spec)
{
	struct stat st;

	json_decref(e->spec);
	e->spec = json_incref(spec);
	e->preparing = true;
	e->prep_height = e->f->core->state.height;
	e->err.msg[0] = '\0';
	snprintf(e->sha, sizeof(e->sha), "%s", ows_json_str(spec, "code_sha256"));
	ows_blob_path(e->f->store, e->sha, e->blob, sizeof(e->blob));
	snprintf(e->bundle, sizeof(e->bundle), "%s/bundles/%s", e->f->core->dir, e->sha);
	if (stat(e->bundle, &st) == 0) {
		prepared(e, 0);
	} else if (stat(e->blob, &st) == 0) {
		extract(e);
	} else {
		fetch(e);
	}
}

/* ---- the registry ---- */

static struct ows_fn_entry *find(struct ows_functions *f, const char *name)
{
	for (struct ows_fn_entry *e = f->entries; e != NULL; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static struct ows_fn_entry *entry(struct ows_functions *f, const char *name)
{
	struct ows_fn_entry *e = find(f, name);

	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->f = f;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->next = f->entries;
	f->entries = e;
	return e;
}

static int submit(struct ows_functions *f, const char *name, struct waiter *tmpl);

/*
 * A published version is the resource "NAME:N" of kind
 * "function_versions" (its own spec, so its own pool); the function
 * itself ($LATEST) is "NAME" of kind "functions".
 */
static const char *kind_of(const char *name)
{
	return strchr(name, ':') != NULL ? "function_versions" : "functions";
}

int ows_functions_invoke_version(struct ows_functions *f, const char *name,
				 const char *version, const char *request_id,
				 const void *payload, size_t len,
				 const struct ows_fn_invoke_opts *opts,
				 ows_fn_result_cb cb, void *ud)
{
	struct waiter w = {.payload = (char *)payload, .len = len, .cb = cb,
			   .ud = ud};
	char key[2 * OWS_NAME_MAX + 2];
	int rv;

	if (strchr(name, ':') != NULL)
		return -ENOENT;
	if (version != NULL && strcmp(version, "$LATEST") != 0) {
		if (version[0] == '\0' ||
		    strspn(version, "0123456789") != strlen(version))
			return -ENOENT;
		snprintf(key, sizeof(key), "%s:%s", name, version);
		name = key;
	}
	/* refused now, not once a queued invocation reaches the pool */
	if (opts != NULL && opts->client_context != NULL) {
		rv = ows_fn_client_context_check(opts->client_context);
		if (rv != 0)
			return rv;
		w.client_context = (char *)opts->client_context;
	}
	snprintf(w.request_id, sizeof(w.request_id), "%s", request_id);
	return submit(f, name, &w);
}

int ows_functions_invoke(struct ows_functions *f, const char *name,
			 const char *request_id, const void *payload,
			 size_t len, ows_fn_result_cb cb, void *ud)
{
	struct waiter w = {.payload = (char *)payload, .len = len, .cb = cb,
			   .ud = ud};

	snprintf(w.request_id, sizeof(w.request_id), "%s", request_id);
	return submit(f, name, &w);
}

int ows_functions_http_acquire(struct ows_functions *f, const char *name,
			       ows_fn_http_cb cb, void *ud)
{
	struct waiter w = {.hcb = cb, .ud = ud};

	return submit(f, name, &w);
}

int ows_functions_http_take(struct ows_functions *f, const char *name,
			    struct ows_fn_instance **inst, const char **addr)
{
	struct ows_fn_entry *e = find(f, name);

	if (f->core->stopping)
		return -ECANCELED;
	if (e == NULL || e->pool == NULL || e->preparing || !e->http ||
	    e->checked != f->core->state.height)
		return -EAGAIN;
	return ows_fn_pool_http_take(e->pool, inst, addr);
}

int ows_functions_is_http(struct ows_functions *f, const char *name)
{
	struct ows_fn_entry *e = find(f, name);
	json_t *spec;
	int http;

	if (e != NULL && e->pool != NULL && e->checked == f->core->state.height)
		return e->http;
	spec = ows_state_resource(&f->core->state, "functions", name);
	if (spec == NULL)
		return -ENOENT;
	http = strcmp(ows_json_str(spec, "runtime"), "http") == 0;
	json_decref(spec);
	return http;
}

/*
 * By the instance, not the name: while the node stops, the registry is
 * empty already, and an instance is freed only once its loans are back.
 */
void ows_functions_http_release(struct ows_fn_instance *inst)
{
	ows_fn_pool_http_release(NULL, inst);
}

/* Run tmpl (borrowed) now on a ready pool, or queue a copy of it. */
static int run_now(struct ows_fn_entry *e, struct waiter *tmpl)
{
	if (tmpl->hcb != NULL)
		return ows_fn_pool_http_acquire(e->pool, tmpl->hcb, tmpl->ud);
	return invoke_now(e, tmpl);
}

/* Does e's ready pool run spec? Then it is marked current at this height. */
static bool runs_spec(struct ows_fn_entry *e, const json_t *spec)
{
	char *text;
	bool same;

	if (e->pool == NULL || e->preparing || e->spec_text == NULL)
		return false;
	text = ows_json_dump(spec);
	same = text != NULL && strcmp(e->spec_text, text) == 0;
	free(text);
	if (same)
		e->checked = e->f->core->state.height;
	return same;
}

/* Prepare e for spec, whose canonical text it keeps. */
static void start_preparing(struct ows_fn_entry *e, json_t *spec)
{
	free(e->spec_text);
	e->spec_text = ows_json_dump(spec);
	prepare(e, spec);
}

static int submit(struct ows_functions *f, const char *name, struct waiter *tmpl)
{
	struct ows_fn_entry *e = find(f, name);
	struct waiter *w;
	json_t *spec;

	if (f->core->stopping)
		return -ECANCELED; /* no new pool may start after the close */
	/*
	 * Specs change only with the ledger: while its height stands still, a
	 * ready pool needs no look-up (the warm path stays off SQLite).
	 */
	if (e != NULL && e->pool != NULL && !e->preparing &&
	    e->checked == f->core->state.height)
		return run_now(e, tmpl);
	spec = ows_state_resource(&f->core->state, kind_of(name), name);
	if (spec == NULL)
		return -ENOENT;
	e = entry(f, name);
	if (e == NULL) {
		json_decref(spec);
		return -ENOMEM;
	}
	if (runs_spec(e, spec)) {
		json_decref(spec);
		return run_now(e, tmpl);
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		json_decref(spec);
		return -ENOMEM;
	}
	*w = *tmpl;
	w->payload = NULL;
	w->client_context = NULL;
	if ((tmpl->len > 0 && (w->payload = malloc(tmpl->len)) == NULL) ||
	    (tmpl->client_context != NULL &&
	     (w->client_context = strdup(tmpl->client_context)) == NULL)) {
		waiter_free(w);
		json_decref(spec);
		return -ENOMEM;
	}
	if (tmpl->len > 0)
		memcpy(w->payload, tmpl->payload, tmpl->len);
	w->next = e->waiters;
	e->waiters = w;
	if (!e->preparing)
		start_preparing(e, spec);
	json_decref(spec);
	return 0;
}

uint64_t ows_functions_logs(struct ows_functions *f, const char *name,
			    uint64_t since, ows_fn_log_cb cb, void *ud)
{
	struct ows_fn_entry *e = find(f, name);

	if (e == NULL || e->pool == NULL)
		return since;
	return ows_fn_pool_logs(e->pool, since, cb, ud);
}

/* ---- deploying ahead of invocations ---- */

/*
 * When the ledger moves, every function whose spec changed is prepared
 * at once, as Lambda readies a function when it is created or updated:
 * the bundle is fetched from a peer when this node lacks it and
 * unpacked, and the pool made (starting min_instances), so that the
 * first invocation pays only for starting its instance. A function whose
 * spec did not change is marked current, which keeps later invocations
 * on the fast path.
 */
static void deploy_changed(struct ows_functions *f)
{
	json_t *all = ows_state_resources(&f->core->state, "functions", NULL), *row;
	size_t i;

	json_array_foreach(all, i, row) {
		const char *name = ows_json_str(row, "name");
		json_t *spec = json_object_get(row, "spec");
		struct ows_fn_entry *e;

		if (name == NULL || !json_is_object(spec))
			continue;
		e = entry(f, name);
		if (e != NULL && !e->preparing && !runs_spec(e, spec))
			start_preparing(e, spec);
	}
	json_decref(all);
}

/* The host part of "host:port" (IPv4) appended to list, once. */
static void add_host(json_t *list, const char *hp)
{
	const char *colon = hp != NULL ? strrchr(hp, ':') : NULL;
	json_t *v;
	size_t i;
	char host[64];

	if (colon == NULL || colon - hp >= (long)sizeof(host) || hp[0] == '[')
		return;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), host) == 0)
			return;
	json_array_append_new(list, json_string(host));
}

/*
 * Functions must not reach the cluster's other nodes either (their Raft
 * listeners above all): their addresses, kept current with membership,
 * are dropped for instances (fn/netns.h).
 */
static void block_peers(struct ows_functions *f)
{
	json_t *nodes = ows_state_nodes(&f->core->state), *row, *hosts = json_array();
	const char *addrs[192];
	size_t i, k = 0;
	char *text;
	struct ows_err err = {{0}};

	json_array_foreach(nodes, i, row) {
		add_host(hosts, ows_json_str(row, "raft"));
		add_host(hosts, ows_json_str(row, "edge"));
		add_host(hosts, ows_json_str(row, "gateway"));
	}
	text = json_dumps(hosts, JSON_COMPACT);
	if (text != NULL && (f->peers == NULL ||
			     strcmp(text, f->peers) != 0)) {
		json_t *v;

		json_array_foreach(hosts, i, v)
			if (k < 192)
				addrs[k++] = json_string_value(v);
		if (ows_fn_net_block_peers(addrs, k, &err) == 0) {
			free(f->peers);
			f->peers = text;
			text = NULL;
		} else {
			ows_log(OWS_LOG_WARN, "fn", "cannot keep functions from "
				"the cluster's nodes: %s", err.msg);
		}
	}
	free(text);
	json_decref(hosts);
	json_decref(nodes);
}

static void watch_cb(uv_check_t *c)
{
	struct ows_functions *f = c->data;

	if (f->synced == f->core->state.height || f->core->stopping)
		return;
	f->synced = f->core->state.height;
	if (geteuid() == 0)
		block_peers(f);
	deploy_changed(f);
}

static void spare_error_cb(void *ud, const char *msg, bool gave_up)
{
	(void)ud;
	ows_log(OWS_LOG_WARN, "fn", "spare launcher: %s%s", msg,
		gave_up ? "; starting launchers on demand from now on" : "");
}

#define DEFAULT_SPARES 4
#define SWEEP_AGE_S 60 /* cgroups younger than this are left alone */

void ows_functions_init(struct ows_functions *f, struct ows_core *core,
			const struct ows_blob_store *store,
			ows_http_handler_cb edge_handler, void *edge_ud)
{
	*f = (struct ows_functions){.core = core, .store = store,
				    .edge_handler = edge_handler,
				    .edge_ud = edge_ud};
}

int ows_functions_start(struct ows_functions *f)
{
	const char *v = getenv("OWS_FN_SPARES");
	char exe[PATH_MAX], runtimes[PATH_MAX];
	unsigned count = v != NULL ? (unsigned)strtoul(v, NULL, 10)
				   : DEFAULT_SPARES;
	unsigned swept = 0;
	int rv;

	if (geteuid() == 0)
		swept = ows_sandbox_cgroup_sweep("ows-fn-", SWEEP_AGE_S) +
			ows_sandbox_cgroup_sweep("ows-spare-", SWEEP_AGE_S);
	if (swept > 0)
		ows_log(OWS_LOG_INFO, "fn", "removed %u cgroups that stopped "
			"nodes left behind", swept);
	if (geteuid() == 0) {
		struct ows_err err = {{0}};

		if (ows_fn_net_init(&err) != 0)
			ows_log(OWS_LOG_WARN, "fn", "functions get no network "
				"egress and http functions cannot run: %s",
				err.msg);
	}
	f->started = true;
	uv_check_init(f->core->loop, &f->watch);
	f->watch.data = f;
	uv_check_start(&f->watch, watch_cb);
	if (count == 0)
		return 0;
	self_paths(exe, runtimes);
	rv = ows_fn_spares_new(f->core->loop, exe, count, spare_error_cb, f,
			       &f->spares);
	if (rv != 0)
		ows_log(OWS_LOG_WARN, "fn", "no spare launchers: %s",
			ows_strerror(rv));
	return 0;
}

/* ---- closing ---- */

static void closed_one(struct ows_functions *f)
{
	if (--f->closing != 0)
		return;
	/* Every instance is gone, and with it what the tables bounded. */
	ows_fn_net_fini();
	if (f->close_cb != NULL)
		f->close_cb(f->close_ud);
}

static void spares_closed_cb(void *ud)
{
	closed_one(ud);
}

/* The pools are closed: now the spare launchers they took from. */
static void pools_closed(struct ows_functions *f)
{
	struct ows_fn_spares *s = f->spares;

	f->spares = NULL;
	if (s != NULL)
		ows_fn_spares_close(s, spares_closed_cb, f);
	else
		closed_one(f);
}

static void pool_closed_cb(void *ud)
{
	struct ows_fn_entry *e = ud;
	struct ows_functions *f = e->f;

	json_decref(e->spec);
	free(e->spec_text);
	free(e);
	if (--f->pools == 0)
		pools_closed(f);
}

static void watch_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

/*
 * cb once everything is closed: the watch handle, the pools (each), then
 * the spares.
 */
void ows_functions_close(struct ows_functions *f, void (*cb)(void *ud),
			 void *ud)
{
	struct ows_fn_entry *e = f->entries, *next;

	f->entries = NULL;
	f->close_cb = cb;
	f->close_ud = ud;
	free(f->peers);
	f->peers = NULL;
	f->closing = 2; /* the watch, the pools and then the spares */
	f->pools = 1;
	if (f->started)
		uv_close((uv_handle_t *)&f->watch, watch_closed);
	else
		f->closing--;
	for (; e != NULL; e = next) {
		next = e->next;
		fail_waiters(e, -ECANCELED, "the node is shutting down");
		f->pools++;
		if (e->preparing)
			e->closing = true; /* prepared() finishes the close */
		else if (e->pool != NULL)
			ows_fn_pool_close(e->pool, pool_closed_cb, e);
		else
			pool_closed_cb(e);
	}
	if (--f->pools == 0)
		pools_closed(f);
}
