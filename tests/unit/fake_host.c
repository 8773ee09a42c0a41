/* The unit tests' host; see fake_host.h. */
#include "fake_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/auth.h"
#include "aws/registry.h"
#include "common/enc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/json.h"
#include "state/kinds.h"
#include "../lib/unit.h"

#define CHECK(c) OWS_CHECK(c)

/* ---- deferring callbacks to the loop ---- */

struct later {
	uv_timer_t timer;
	void (*fn)(struct later *l);
	int status;
	json_t *result;
	ows_aws_proposed_cb pcb;
	ows_aws_barrier_cb bcb;
	ows_aws_blob_cb blob_cb;
	char sha[65];
	void *ud;
};

static void later_closed(uv_handle_t *h)
{
	struct later *l = h->data;

	json_decref(l->result);
	free(l);
}

static void later_fire(uv_timer_t *t)
{
	struct later *l = t->data;

	if (l->pcb != NULL)
		l->pcb(l->ud, l->status, l->result);
	else if (l->bcb != NULL)
		l->bcb(l->ud, l->status);
	else if (l->blob_cb != NULL)
		l->blob_cb(l->ud, l->status, l->sha);
	uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void later_start(struct fake_host *fh, struct later *l)
{
	uv_timer_init(&fh->loop, &l->timer);
	l->timer.data = l;
	uv_timer_start(&l->timer, later_fire, 0, 0);
}

/* ---- the host ---- */

static int fh_authorize(struct ows_aws_call *c, const char *action,
			const char *const *arns, const json_t *extra)
{
	struct fake_host *fh = c->host->ud;
	json_t *list = json_array();
	const char *p;
	size_t n = strlen(action);

	(void)extra;
	for (size_t i = 0; arns[i] != NULL; i++)
		json_array_append_new(list, json_string(arns[i]));
	if (fh->last_authorized == NULL)
		fh->last_authorized = json_array();
	json_array_append_new(fh->last_authorized,
			      json_pack("{s:s, s:o}", "action", action, "arns",
					list));
	for (p = strstr(fh->deny, action); p != NULL;
	     p = strstr(p + 1, action))
		if ((p == fh->deny || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return OWS_EDENIED;
	return 0;
}

/* As authorize; the resource policy is recorded ("resource_policy"). */
static int fh_authorize_resource(struct ows_aws_call *c, const char *action,
				 const char *const *arns, const json_t *extra,
				 const json_t *rp)
{
	struct fake_host *fh = c->host->ud;
	int rv = fh_authorize(c, action, arns, extra);

	if (rp != NULL)
		json_object_set_new(json_array_get(fh->last_authorized,
			json_array_size(fh->last_authorized) - 1),
			"resource_policy", json_deep_copy(rp));
	return rv;
}

/* Apply actions in one transaction; the result as the state gives it. */
static json_t *apply(struct fake_host *fh, const json_t *actions)
{
	struct ows_apply_ctx ctx = {
		.s = &fh->state, .stack = "", .time_ms = fh->now_ms,
		.height = fh->state.height + 1,
	};
	json_t *result = json_pack("{s:b}", "ok", 1), *a;
	struct ows_err err = {{0}};
	size_t i;
	int rv = 0;

	fh->now_ms += 1000;
	fh->proposals++;
	CHECK(ows__state_exec(&fh->state, "BEGIN IMMEDIATE") == 0);
	json_array_foreach(actions, i, a) {
		rv = ows__kind_apply(&ctx, a, result, &err);
		if (rv != 0)
			break;
	}
	if (rv != 0) {
		CHECK(ows__state_exec(&fh->state, "ROLLBACK") == 0);
		json_decref(result);
		return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "status",
				 rv == OWS_ENOTFOUND   ? 404
				 : rv == OWS_ECONFLICT ? 409
				 : rv == OWS_EINVAL    ? 400
				 : rv == OWS_EPRECOND  ? 412
						       : 500,
				 "code", "Rejected", "message", err.msg);
	}
	CHECK(ows__state_exec(&fh->state, "COMMIT") == 0);
	fh->state.height++;
	json_object_set_new(result, "height",
			    json_integer((json_int_t)fh->state.height));
	return result;
}

static int fh_propose(struct ows_aws_call *c, const json_t *actions,
		      const char *stack, ows_aws_proposed_cb cb, void *ud)
{
	struct fake_host *fh = c->host->ud;
	struct later *l;
	struct ows_buf canon;
	int rv;

	(void)stack;
	/* the real entry is signed over its canonical form: no reals */
	ows_buf_init(&canon);
	rv = ows_json_canonical(actions, &canon);
	ows_buf_free(&canon);
	if (rv != 0)
		return rv;
	l = calloc(1, sizeof(*l));
	CHECK(l != NULL);
	json_decref(fh->last_actions);
	json_decref(fh->last_entry);
	fh->last_actions = json_deep_copy(actions);
	l->result = apply(fh, actions);
	l->pcb = cb;
	l->ud = ud;
	later_start(fh, l);
	return 0;
}

/*
 * A service's own entry, applied at once in one transaction as the state
 * machine applies it (state/apply.c, apply_service): {"ok": true, ...}
 * with what the type's apply added, a refusal 400 MalformedEntry (the
 * entry's writes rolled back), or -EIO to cb.
 */
static int fh_propose_entry(const struct ows_aws_host *h, const char *type,
			    const json_t *body, ows_aws_proposed_cb cb,
			    void *ud)
{
	struct fake_host *fh = h->ud;
	const struct ows_aws_entry_type *t;
	struct ows_aws_entry_ctx ctx;
	struct ows_err err = {{0}};
	struct later *l;
	int rv;

	t = type != NULL ? ows_aws_entry_type_find(type) : NULL;
	if (t == NULL || !json_is_object(body))
		return OWS_EINVAL;
	l = calloc(1, sizeof(*l));
	CHECK(l != NULL);
	json_decref(fh->last_entry);
	fh->last_entry = json_pack("{s:s, s:O}", "type", type, "body", body);
	fh->now_ms += 1000;
	fh->proposals++;
	ctx = (struct ows_aws_entry_ctx){&fh->state, ++fh->entry_index,
					 fh->now_ms};
	l->result = json_pack("{s:b}", "ok", 1);
	CHECK(ows__state_exec(&fh->state, "BEGIN IMMEDIATE") == 0);
	rv = t->apply(&ctx, body, l->result, &err);
	CHECK(ows__state_exec(&fh->state, rv == 0 ? "COMMIT" : "ROLLBACK")
	      == 0);
	if (rv == OWS_EINVAL) {
		json_decref(l->result);
		l->result = json_pack("{s:b, s:i, s:s, s:s}", "ok", 0,
				      "status", 400, "code", "MalformedEntry",
				      "message", err.msg);
	} else if (rv != 0) {
		json_decref(l->result);
		l->result = NULL;
		l->status = -EIO;
	}
	l->pcb = cb;
	l->ud = ud;
	later_start(fh, l);
	return 0;
}

static int fh_read_barrier(struct ows_aws_call *c, ows_aws_barrier_cb cb,
			   void *ud)
{
	struct later *l = calloc(1, sizeof(*l));

	CHECK(l != NULL);
	l->bcb = cb;
	l->ud = ud;
	later_start(c->host->ud, l);
	return 0;
}

static int fh_blob_put(struct ows_aws_call *c, const void *data, size_t len,
		       ows_aws_blob_cb cb, void *ud)
{
	struct fake_host *fh = c->host->ud;
	struct later *l = calloc(1, sizeof(*l));
	char path[400];
	FILE *f;

	CHECK(l != NULL);
	ows_sha256_hex(data, len, l->sha);
	snprintf(path, sizeof(path), "%s/%s", fh->dir, l->sha);
	f = fopen(path, "wb");
	CHECK(f != NULL && fwrite(data, 1, len, f) == len);
	fclose(f);
	l->blob_cb = cb;
	l->ud = ud;
	later_start(fh, l);
	return 0;
}

static int fh_blob_path(const struct ows_aws_host *h, const char *sha256,
			char *out, size_t cap)
{
	struct fake_host *fh = h->ud;

	snprintf(out, cap, "%s/%s", fh->dir, sha256);
	return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

static int fh_invoke(const struct ows_aws_host *h,
		     const struct ows_aws_invoke *inv, ows_fn_result_cb cb,
		     void *ud)
{
	(void)h;
	(void)inv;
	(void)cb;
	(void)ud;
	return -ENOSYS;
}

/* ---- the server: each request becomes a call ---- */

static void got_body(struct ows_http_req *req, int status, const char *body,
		     size_t len)
{
	struct fake_host *fh = req->data;
	struct ows_aws_call *c;

	if (status != 0)
		return;
	/* the call as aws/call.c makes it, the caller given (no SigV4) */
	c = ows_arena_alloc(&req->arena, sizeof(*c));
	CHECK(c != NULL);
	memset(c, 0, sizeof(*c));
	c->priv = ows_arena_alloc(&req->arena, sizeof(struct ows_aws_call_priv));
	CHECK(c->priv != NULL);
	memset(c->priv, 0, sizeof(struct ows_aws_call_priv));
	c->svc = fh->svc;
	c->host = &fh->host;
	c->req = req;
	c->arena = &req->arena;
	c->body = body;
	c->len = len;
	if (fh->next_set) {
		c->caller = fh->next_caller;
		if (c->caller.session)
			((struct ows_aws_call_priv *)c->priv)->auth.sess =
				fh->next_session;
		fh->next_set = false;
	} else {
		snprintf(c->caller.kind, sizeof(c->caller.kind), "users");
		snprintf(c->caller.name, sizeof(c->caller.name), "alice");
		snprintf(c->caller.user, sizeof(c->caller.user), "alice");
	}
	snprintf(c->region, sizeof(c->region), "%s", fh->host.region);
	ows_uuid4(c->request_id);
	json_decref(fh->last_authorized);
	fh->last_authorized = NULL;
	fh->handle(c);
}

static void on_request(struct ows_http_req *req, void *ud)
{
	req->data = ud;
	CHECK(ows_http_req_read_body(req, 8 << 20, got_body) == 0);
}

void fake_host_init(struct fake_host *fh, const struct ows_aws_service *svc,
		    void (*handle)(struct ows_aws_call *c))
{
	static const uint8_t key[32] = {1};
	struct ows_err err;
	char path[300];

	memset(fh, 0, sizeof(*fh));
	snprintf(fh->dir, sizeof(fh->dir), "/tmp/ows-fake-host-XXXXXX");
	CHECK(mkdtemp(fh->dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", fh->dir);
	CHECK(ows_state_open(&fh->state, path, &err) == 0);
	CHECK(uv_loop_init(&fh->loop) == 0);
	fh->svc = svc;
	fh->handle = handle != NULL ? handle : svc->handle;
	fh->now_ms = 1704067200000LL; /* 2024-01-01T00:00:00Z */
	fh->host = (struct ows_aws_host){
		.ud = fh, .loop = &fh->loop, .state = &fh->state,
		.region = "us-east-1", .account = "000000000000",
		.session_key = key, .authorize = fh_authorize,
		.authorize_resource = fh_authorize_resource,
		.propose = fh_propose, .read_barrier = fh_read_barrier,
		.propose_entry = fh_propose_entry,
		.blob_put = fh_blob_put, .blob_path = fh_blob_path,
		.invoke = fh_invoke,
	};
	CHECK(ows_http_server_init(&fh->server, &fh->loop, NULL, on_request,
				   fh) == 0);
	CHECK(ows_http_server_listen(&fh->server, "127.0.0.1:0") == 0);
}

static void server_closed(struct ows_http_server *s)
{
	(void)s;
}

void fake_host_close(struct fake_host *fh)
{
	char cmd[300];

	ows_http_server_close(&fh->server, server_closed);
	ows_http_client_close_idle(&fh->loop);
	uv_run(&fh->loop, UV_RUN_DEFAULT);
	uv_loop_close(&fh->loop);
	ows_state_close(&fh->state);
	json_decref(fh->last_actions);
	json_decref(fh->last_authorized);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fh->dir);
	CHECK(system(cmd) == 0);
}

void fake_host_caller(struct fake_host *fh, const char *kind,
		      const char *name, const char *user,
		      const char *access_key, const char *session_name)
{
	struct ows_aws_caller *w = &fh->next_caller;
	struct ows_session *s = &fh->next_session;

	memset(w, 0, sizeof(*w));
	memset(s, 0, sizeof(*s));
	snprintf(w->kind, sizeof(w->kind), "%s", kind);
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->user, sizeof(w->user), "%s", user);
	snprintf(w->access_key, sizeof(w->access_key), "%s", access_key);
	w->session = session_name != NULL;
	if (w->session) {
		snprintf(s->key_id, sizeof(s->key_id), "%.20s", access_key);
		snprintf(s->kind, sizeof(s->kind), "%s", kind);
		snprintf(s->name, sizeof(s->name), "%s", name);
		snprintf(s->session_name, sizeof(s->session_name), "%s",
			 session_name);
		s->expires = fh->now_ms / 1000 + 3600;
	}
	fh->next_set = true;
}

void fake_host_put(struct fake_host *fh, const char *action, const char *name,
		   const char *spec_json)
{
	json_t *actions = json_pack("[{s:s, s:s, s:o}]", "action", action,
				    "name", name, "spec",
				    json_loads(spec_json, 0, NULL));
	json_t *r = apply(fh, actions);

	if (!json_is_true(json_object_get(r, "ok")))
		fprintf(stderr, "fake_host_put %s %s: %s\n", action, name,
			ows_json_str(r, "message"));
	CHECK(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	json_decref(actions);
}

struct pending {
	struct fake_reply *out;
	bool done;
};

static void got_reply(void *ud, int status,
		      const struct ows_http_response *resp)
{
	struct pending *p = ud;
	const char *et;

	p->done = true;
	CHECK(status == 0);
	p->out->status = resp->status;
	et = ows_http_response_header(resp, "X-Amzn-ErrorType");
	snprintf(p->out->error_type, sizeof(p->out->error_type), "%s",
		 et ? et : "");
	p->out->raw = strndup(resp->body, resp->body_len);
	p->out->body = resp->body_len ? json_loadb(resp->body, resp->body_len,
						   0, NULL)
				      : NULL;
}

void fake_host_request(struct fake_host *fh, const char *method,
		       const char *target, const char *body,
		       struct fake_reply *out)
{
	struct ows_http_header h[] = {{"Content-Type", "application/json"}};
	struct pending p = {out, false};

	memset(out, 0, sizeof(*out));
	CHECK(ows_http_client_request(&fh->loop, fh->server.bound, method,
				      target, h, 1, body,
				      body ? strlen(body) : 0, NULL, got_reply,
				      &p) == 0);
	while (!p.done)
		uv_run(&fh->loop, UV_RUN_ONCE);
}

void fake_reply_free(struct fake_reply *r)
{
	json_decref(r->body);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}
