/*
 * Unit tests for src/fn/pool*.c and instance*.c: real sandboxed instances
 * (root needed) running the real bootstraps of runtimes/ on the handlers in
 * tests/fixtures/ (py_pool, node_echo, provided_sh, http_py). The test
 * binary is its own launcher: started as `<exe> sandbox-exec ...` it runs
 * ows_sandbox_main before anything else (see launcher_mode), so the tests
 * do not depend on a fresh bin/owsd. Paths are relative to the repo root.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/unit.h"
#include "common/buf.h"
#include "common/json.h"
#include "fn/pool.h"
#include "fn/sandbox.h"
#include "http/http.h"

#define MAX_RES 32

/* glibc passes main's arguments to constructors: be the launcher. */
__attribute__((constructor)) static void launcher_mode(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sandbox-exec") == 0)
		_exit(ows_sandbox_main(argc - 1, argv + 1));
}

struct res {
	enum ows_fn_result_kind kind;
	int status;
	char id[72];
	char error_type[64];
	char *body;
	char *tail;
	uint64_t log_seq;
};

struct fx {
	uv_loop_t loop;
	uv_timer_t tick; /* UV_RUN_ONCE returns at least this often */
	struct ows_fn_pool *pool;
	struct ows_fn_spares *spares; /* optional */
	bool closed, spares_closed;
	int spare_errors;
	bool spares_gave_up;
	struct res res[MAX_RES];
	int n_res;
	char exe[PATH_MAX], runtimes[PATH_MAX], bundle[PATH_MAX];
	struct ows_fn_config cfg;
	/* http */
	int http_status;
	struct ows_fn_instance *inst;
	struct ows_fn_instance *insts[8]; /* each lease, in order */
	char addr[32];
	int got_http;
	struct ows_buf http_body;
	int http_code;
};

#define RUN_UNTIL(f, cond)                                                \
	do {                                                              \
		while (!(cond))                                           \
			OWS_CHECK(uv_run(&(f)->loop, UV_RUN_ONCE) != 0 || \
				  (cond));                                \
	} while (0)

static void result_cb(void *ud, const struct ows_fn_result *r)
{
	struct fx *f = ud;
	struct res *out;

	OWS_CHECK(f->n_res < MAX_RES);
	out = &f->res[f->n_res++];
	out->kind = r->kind;
	out->status = r->status;
	snprintf(out->id, sizeof(out->id), "%s", r->request_id);
	snprintf(out->error_type, sizeof(out->error_type), "%s",
		 r->error_type ? r->error_type : "");
	out->body = strndup(r->body, r->len);
	out->tail = strndup(r->log_tail, r->log_tail_len);
	out->log_seq = r->log_seq;
	if (r->kind != OWS_FN_OK && getenv("OWS_TEST_VERBOSE"))
		fprintf(stderr, "result %s: %d/%d %s\n", r->request_id, r->kind,
			r->status, out->body);
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

static void fx_init(struct fx *f, const char *runtime, const char *fixture,
		    const char *handler)
{
	if (geteuid() != 0)
		OWS_SKIP("the sandbox needs root");
	memset(f, 0, sizeof(*f));
	OWS_CHECK(realpath("/proc/self/exe", f->exe) != NULL);
	OWS_CHECK(realpath("runtimes", f->runtimes) != NULL);
	OWS_CHECK(realpath(fixture, f->bundle) != NULL);
	OWS_CHECK_INT(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->tick);
	uv_timer_start(&f->tick, tick_cb, 10, 10);
	f->cfg.name = "pooltest";
	f->cfg.runtime = runtime;
	f->cfg.handler = handler;
	f->cfg.bundle_dir = f->bundle;
	f->cfg.runtimes_dir = f->runtimes;
	f->cfg.owsd_path = f->exe;
	f->cfg.memory_mb = 256;
	f->cfg.timeout_s = 5;
	f->cfg.concurrency = 4;
	f->cfg.idle_s = 60;
}

static void fx_start(struct fx *f)
{
	OWS_CHECK_INT(ows_fn_pool_new(&f->loop, &f->cfg, &f->pool), 0);
}

static void closed_cb(void *ud)
{
	((struct fx *)ud)->closed = true;
}

static void spares_closed_cb(void *ud)
{
	((struct fx *)ud)->spares_closed = true;
}

static void fx_done(struct fx *f)
{
	ows_fn_pool_close(f->pool, closed_cb, f);
	RUN_UNTIL(f, f->closed);
	if (f->spares != NULL) {
		ows_fn_spares_close(f->spares, spares_closed_cb, f);
		RUN_UNTIL(f, f->spares_closed);
	}
	uv_close((uv_handle_t *)&f->tick, NULL);
	OWS_CHECK_INT(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	/* Kept-alive client connections go first. */
	ows_http_client_close_idle(&f->loop);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&f->loop), 0);
	for (int i = 0; i < f->n_res; i++) {
		free(f->res[i].body);
		free(f->res[i].tail);
	}
	ows_buf_free(&f->http_body);
}

static void invoke(struct fx *f, const char *id, const char *payload)
{
	OWS_CHECK_INT(ows_fn_pool_invoke(f->pool, id, payload, strlen(payload),
					 result_cb, f),
		      0);
}

static struct res *call(struct fx *f, const char *id, const char *payload)
{
	int n = f->n_res;

	invoke(f, id, payload);
	RUN_UNTIL(f, f->n_res > n);
	OWS_CHECK_STR(f->res[n].id, id);
	return &f->res[n];
}

static json_t *parse(const struct res *r)
{
	struct ows_err err;
	json_t *v = ows_json_parse(r->body, strlen(r->body), &err);

	if (v == NULL)
		fprintf(stderr, "bad JSON: %.300s\n", r->body);
	OWS_CHECK(v != NULL);
	return v;
}

static void check_ok(const struct res *r)
{
	if (r->kind != OWS_FN_OK)
		fprintf(stderr, "%s: kind %d status %d: %.400s\nlog: %s\n",
			r->id, r->kind, r->status, r->body, r->tail);
	OWS_CHECK_INT(r->kind, OWS_FN_OK);
}

static long long int_of(const struct res *r, const char *key)
{
	json_t *v = parse(r);
	long long n = json_integer_value(json_object_get(v, key));

	json_decref(v);
	return n;
}

static void check_error(const struct res *r, const char *type,
			const char *msg)
{
	json_t *v = parse(r);
	const char *m = ows_json_str(v, "errorMessage");

	if (strcmp(r->error_type, type) != 0 || m == NULL ||
	    strstr(m, msg) == NULL)
		fprintf(stderr, "%s: %s\n", r->error_type, r->body);
	OWS_CHECK_INT(r->kind, OWS_FN_FUNCTION_ERROR);
	OWS_CHECK_STR(r->error_type, type);
	OWS_CHECK_STR(ows_json_str(v, "errorType"), type);
	OWS_CHECK(m != NULL && strstr(m, msg) != NULL);
	json_decref(v);
}

static struct ows_fn_pool_stats stats(struct fx *f)
{
	struct ows_fn_pool_stats s;

	ows_fn_pool_stats(f->pool, &s);
	return s;
}

/* This process's cgroups named prefix-<pid>-* (v1 memory or v2). */
static int cgroups_named(const char *prefix)
{
	char pattern[64];
	int n = 0;
	/* v1: the memory hierarchy (pids has the same names); v2: one */
	const char *root = access("/sys/fs/cgroup/memory", F_OK) == 0
				   ? "/sys/fs/cgroup/memory"
				   : "/sys/fs/cgroup";
	char path[PATH_MAX], cmd[PATH_MAX + 128];
	FILE *p;

	snprintf(pattern, sizeof(pattern), "%s-%d-", prefix, (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "find %s -maxdepth 4 -type d -name '%s*' 2>/dev/null", root,
		 pattern);
	p = popen(cmd, "r");
	OWS_CHECK(p != NULL);
	while (fgets(path, sizeof(path), p) != NULL)
		n++;
	pclose(p);
	return n;
}

/* No cgroup of this process's instances is left. */
static int cgroups_left(void)
{
	return cgroups_named("ows-fn-pooltest");
}

/* The pids in this process's cgroups named prefix-<pid>-* (at most max). */
static int pids_in(const char *prefix, pid_t *pids, int max)
{
	const char *root = access("/sys/fs/cgroup/memory", F_OK) == 0
				   ? "/sys/fs/cgroup/memory"
				   : "/sys/fs/cgroup";
	char cmd[PATH_MAX + 160], line[64];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd),
		 "for d in $(find %s -maxdepth 4 -type d -name "
		 "'%s-%d-*'); do cat $d/cgroup.procs; done 2>/dev/null",
		 root, prefix, (int)getpid());
	p = popen(cmd, "r");
	OWS_CHECK(p != NULL);
	while (n < max && fgets(line, sizeof(line), p) != NULL)
		pids[n++] = (pid_t)atoi(line);
	pclose(p);
	return n;
}

/* The pids in this process's instance cgroups (at most max). */
static int instance_pids(pid_t *pids, int max)
{
	return pids_in("ows-fn-pooltest", pids, max);
}

/*
 * Thaw this process's instance cgroups (v1 freezer): an idle instance is
 * frozen, and a frozen process acts on SIGKILL only once thawed.
 */
static void thaw_instances(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "for d in $(find /sys/fs/cgroup -maxdepth 5 -type d -name "
		 "'ows-fn-pooltest-%d-*'); do echo THAWED > $d/freezer.state;"
		 " echo 0 > $d/cgroup.freeze; done 2>/dev/null; true",
		 (int)getpid());
	OWS_CHECK(system(cmd) == 0);
}

/* How many of pids still run; a zombie (dead, its reaper not yet
 * scheduled) does not count. */
static int alive(const pid_t *pids, int n)
{
	int left = 0;

	for (int i = 0; i < n; i++) {
		char path[64], stat[256] = "";
		FILE *fp;
		const char *paren;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[i]);
		fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		if (fgets(stat, sizeof(stat), fp) == NULL)
			stat[0] = '\0';
		fclose(fp);
		paren = strrchr(stat, ')');
		left += paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
	}
	return left;
}

OWS_TEST(fn_pool_warm_reuse)
{
	struct fx f;
	struct res *a, *b;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	fx_start(&f);
	a = call(&f, "req-1", "{}");
	check_ok(a);
	b = call(&f, "req-2", "{}");
	check_ok(b);
	OWS_CHECK_INT(int_of(b, "pid"), int_of(a, "pid"));
	OWS_CHECK_INT(int_of(a, "count"), 1);
	OWS_CHECK_INT(int_of(b, "count"), 2);
	OWS_CHECK_INT(stats(&f).started, 1);
	OWS_CHECK_INT(stats(&f).idle, 1);
	fx_done(&f);
}

/*
 * python3 runs with -S (site's .pth files cost as much as the start); the
 * bootstrap puts the task root first and adds the package directories.
 */
OWS_TEST(fn_pool_python_paths)
{
	struct fx f;
	struct res *r;
	json_t *v, *path;
	bool dist = false;
	size_t i;
	json_t *p;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.paths");
	fx_start(&f);
	r = call(&f, "pp-1", "{}");
	check_ok(r);
	v = parse(r);
	OWS_CHECK(json_is_false(json_object_get(v, "site")));
	OWS_CHECK_INT(json_integer_value(json_object_get(v, "no_site")), 1);
	path = json_object_get(v, "path");
	OWS_CHECK_STR(json_string_value(json_array_get(path, 0)), "/var/task");
	json_array_foreach(path, i, p)
		dist |= strcmp(json_string_value(p),
			       "/usr/lib/python3/dist-packages") == 0;
	OWS_CHECK(dist == (access("/usr/lib/python3/dist-packages", F_OK) == 0));
	json_decref(v);
	fx_done(&f);
}

OWS_TEST(fn_pool_nodejs_and_provided)
{
	struct fx f;
	struct res *r;
	json_t *v;

	/* make deps installs both: without them this fails, never skips. */
	OWS_CHECK(access("/usr/bin/node", X_OK) == 0);
	OWS_CHECK(access("/usr/bin/curl", X_OK) == 0);
	fx_init(&f, "nodejs", "tests/fixtures/node_echo", "index.echo");
	fx_start(&f);
	r = call(&f, "node-1", "{\"n\": 7}");
	check_ok(r);
	OWS_CHECK(strstr(r->body, "\"n\"") != NULL);
	fx_done(&f);

	fx_init(&f, "provided", "tests/fixtures/provided_sh", NULL);
	fx_start(&f);
	r = call(&f, "sh-1", "{\"k\": \"v\"}");
	check_ok(r);
	v = parse(r);
	OWS_CHECK(json_is_true(json_object_get(v, "shell")));
	OWS_CHECK_STR(ows_json_str(json_object_get(v, "event"), "k"), "v");
	json_decref(v);
	OWS_CHECK(strstr(r->tail, "provided runtime got sh-1") != NULL);
	fx_done(&f);
}

/*
 * Invoke's ClientContext (base64 JSON, as X-Amz-Client-Context carries it)
 * reaches the handler's context.clientContext through the Runtime API;
 * what is not base64 of a JSON object, or is over Lambda's 3583 bytes, is
 * refused before anything runs.
 */
OWS_TEST(fn_pool_client_context)
{
	struct fx f;
	struct res *r;
	static char big[OWS_FN_CLIENT_CONTEXT_MAX + 2];
	/* {"custom":{"k":"v\u00f6"},"env":{"platform":"linux"}} in UTF-8 */
	const char *cc = "eyJjdXN0b20iOnsiayI6InbDtiJ9LCJlbnYiOnsicGxhdGZvcm0iOiJsaW"
			 "51eCJ9fQ==";
	struct ows_fn_invoke_opts o = {.client_context = cc};
	struct ows_fn_invoke_opts bad = {.client_context = "bm90IGpzb24="};
	struct ows_fn_invoke_opts arr = {.client_context = "WzFd"}; /* [1] */
	struct ows_fn_invoke_opts huge = {.client_context = big};
	json_t *v;

	memset(big, 'A', sizeof(big) - 1);
	OWS_CHECK_INT(ows_fn_client_context_check(cc), 0);
	OWS_CHECK_INT(ows_fn_client_context_check(NULL), 0);
	OWS_CHECK_INT(ows_fn_client_context_check("!!!"), -EINVAL);
	OWS_CHECK_INT(ows_fn_client_context_check(bad.client_context), -EINVAL);
	OWS_CHECK_INT(ows_fn_client_context_check(arr.client_context), -EINVAL);
	OWS_CHECK_INT(ows_fn_client_context_check(big), -EMSGSIZE);
	fx_init(&f, "nodejs", "tests/fixtures/node_echo", "index.logs");
	fx_start(&f);
	OWS_CHECK_INT(ows_fn_pool_invoke_opts(f.pool, "cc-bad", "{}", 2, &bad,
					      result_cb, &f),
		      -EINVAL);
	OWS_CHECK_INT(ows_fn_pool_invoke_opts(f.pool, "cc-arr", "{}", 2, &arr,
					      result_cb, &f),
		      -EINVAL);
	OWS_CHECK_INT(ows_fn_pool_invoke_opts(f.pool, "cc-big", "{}", 2, &huge,
					      result_cb, &f),
		      -EMSGSIZE);
	OWS_CHECK_INT(ows_fn_pool_invoke_opts(f.pool, "cc-1", "{}", 2, &o,
					      result_cb, &f),
		      0);
	RUN_UNTIL(&f, f.n_res > 0);
	r = &f.res[0];
	OWS_CHECK_STR(r->id, "cc-1");
	check_ok(r);
	v = parse(r);
	/* Non-ASCII survives the header (sent as \u escapes). */
	OWS_CHECK_STR(ows_json_str(json_object_get(v, "custom"), "k"),
		      "v\xc3\xb6");
	OWS_CHECK_STR(ows_json_str(json_object_get(v, "env"), "platform"),
		      "linux");
	json_decref(v);
	/* The log carries Lambda's console prefix. */
	OWS_CHECK(strstr(r->tail, "\tcc-1\tINFO\tlog 1\n") != NULL);
	/* Without one, as before: no client context. */
	r = call(&f, "cc-2", "{}");
	check_ok(r);
	OWS_CHECK_STR(r->body, "null");
	fx_done(&f);
}

OWS_TEST(fn_pool_scale_to_zero)
{
	struct fx f;
	struct ows_fn_pool_stats s;
	pid_t pids[16];
	int n;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	f.cfg.idle_s = 1;
	fx_start(&f);
	check_ok(call(&f, "z-1", "{}"));
	OWS_CHECK_INT(stats(&f).live, 1);
	OWS_CHECK_INT(cgroups_left(), 1);
	n = instance_pids(pids, 16);
	OWS_CHECK(n >= 2); /* the launcher and the runtime */
	OWS_CHECK_INT(alive(pids, n), n);
	RUN_UNTIL(&f, (s = stats(&f)).live == 0 && s.stopping == 0);
	OWS_CHECK_INT(cgroups_left(), 0);
	OWS_CHECK_INT(alive(pids, n), 0);
	/* the next request starts one again */
	check_ok(call(&f, "z-2", "{}"));
	OWS_CHECK_INT(stats(&f).started, 2);
	fx_done(&f);
	OWS_CHECK_INT(cgroups_left(), 0);
}

OWS_TEST(fn_pool_min_instances_warm)
{
	struct fx f;
	struct ows_fn_pool_stats s;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	f.cfg.min_instances = 1;
	f.cfg.idle_s = 1;
	fx_start(&f);
	RUN_UNTIL(&f, stats(&f).idle == 1);
	check_ok(call(&f, "w-1", "{}"));
	/* after idle_s it stays: it is the warm one */
	uv_sleep(1300);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	s = stats(&f);
	OWS_CHECK_INT(s.live, 1);
	OWS_CHECK_INT(s.started, 1);
	fx_done(&f);
}

OWS_TEST(fn_pool_concurrency_queue_throttle)
{
	struct fx f;
	char id[32];
	int ok = 0, throttled = 0;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.slow");
	f.cfg.concurrency = 3;
	f.cfg.queue_max = 2;
	fx_start(&f);
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof(id), "c-%d", i);
		invoke(&f, id, "{\"ms\": 400}");
	}
	/* 3 run, 2 wait, 2 are throttled */
	OWS_CHECK_INT(stats(&f).live, 3);
	OWS_CHECK_INT(stats(&f).busy, 3);
	OWS_CHECK_INT(stats(&f).queued, 2);
	RUN_UNTIL(&f, f.n_res == 7);
	for (int i = 0; i < 7; i++) {
		ok += f.res[i].kind == OWS_FN_OK;
		throttled += f.res[i].kind == OWS_FN_THROTTLED;
	}
	OWS_CHECK_INT(ok, 5);
	OWS_CHECK_INT(throttled, 2);
	OWS_CHECK_STR(f.res[0].error_type, "TooManyRequestsException");
	OWS_CHECK_INT(stats(&f).started, 3);
	fx_done(&f);
}

OWS_TEST(fn_pool_timeout_replaces_instance)
{
	struct fx f;
	struct res *r;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.slow");
	f.cfg.timeout_s = 1;
	fx_start(&f);
	check_ok(call(&f, "t-0", "{\"ms\": 1}")); /* warm: init not counted */
	r = call(&f, "t-1", "{\"ms\": 5000}");
	check_error(r, "Sandbox.Timedout", "Task timed out after 1.00 seconds");
	OWS_CHECK_INT(r->status, -ETIMEDOUT);
	OWS_CHECK(strstr(r->tail, "t-1 Task timed out after 1.00 seconds") !=
		  NULL);
	OWS_CHECK(strstr(r->tail, "END RequestId: t-1") != NULL);
	r = call(&f, "t-2", "{\"ms\": 1}");
	check_ok(r);
	OWS_CHECK_INT(stats(&f).started, 2);
	fx_done(&f);
}

OWS_TEST(fn_pool_crash_and_oom)
{
	struct fx f;
	struct res *r;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.crash");
	fx_start(&f);
	r = call(&f, "x-1", "{}");
	check_error(r, "Runtime.ExitError",
		    "Runtime exited with error: exit status 3");
	fx_done(&f);

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.oom");
	f.cfg.memory_mb = 64;
	fx_start(&f);
	r = call(&f, "m-1", "{\"mb\": 256}");
	check_error(r, "Runtime.OutOfMemory",
		    "RequestId: m-1 Error: Runtime exited with error: "
		    "signal: killed");
	OWS_CHECK_INT(r->status, -ENOMEM);
	/* the node is fine, and the next instance too */
	r = call(&f, "m-2", "{\"mb\": 1}");
	check_ok(r);
	fx_done(&f);
}

OWS_TEST(fn_pool_sandbox_contains)
{
	struct fx f;
	struct res *r;
	json_t *v;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.forkbomb");
	fx_start(&f);
	r = call(&f, "fb-1", "{\"max\": 500}");
	check_ok(r);
	v = parse(r);
	OWS_CHECK(json_integer_value(json_object_get(v, "forked")) <
		  OWS_FN_MAX_PROCS);
	OWS_CHECK_STR(ows_json_str(v, "error"), "EAGAIN");
	json_decref(v);
	check_ok(call(&f, "fb-2", "{\"max\": 1}"));
	fx_done(&f);

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.write");
	fx_start(&f);
	r = call(&f, "wr-1", "{}");
	check_ok(r);
	v = parse(r);
	OWS_CHECK_STR(ows_json_str(v, "/var/task/x"), "EROFS");
	OWS_CHECK_STR(ows_json_str(v, "/etc/x"), "EROFS");
	OWS_CHECK_STR(ows_json_str(v, "/usr/x"), "EROFS");
	OWS_CHECK_STR(ows_json_str(v, "/tmp/x"), "ok");
	OWS_CHECK(strcmp(ows_json_str(v, "/etc/shadow"), "read") != 0);
	OWS_CHECK_INT(json_integer_value(json_object_get(v, "uid")),
		      OWS_SANDBOX_UID);
	json_decref(v);
	fx_done(&f);
}

struct seen {
	int n;
	bool start, end, report, output, ordered;
	uint64_t last;
};

static void log_cb(void *ud, const struct ows_fn_log_record *rec)
{
	struct seen *s = ud;
	const char *st, *out, *end;

	s->n++;
	s->ordered = rec->seq > s->last;
	s->last = rec->seq;
	if (rec->request_id == NULL || strcmp(rec->request_id, "log-2") != 0)
		return;
	st = strstr(rec->text, "START RequestId: log-2 Version: $LATEST\n");
	out = strstr(rec->text, "pid called for log-2\n");
	end = strstr(rec->text, "END RequestId: log-2\n");
	s->start = st != NULL;
	s->output = out != NULL && out > st;
	s->end = end != NULL && end > out;
	s->report = strstr(rec->text, "REPORT RequestId: log-2\tDuration: ") &&
		    strstr(rec->text, "\tMemory Size: 256 MB\tMax Memory Used: ");
}

OWS_TEST(fn_pool_logs)
{
	struct fx f;
	struct seen s = {0};
	struct res *r;
	uint64_t last;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	fx_start(&f);
	r = call(&f, "log-1", "{}");
	check_ok(r);
	OWS_CHECK(strstr(r->tail, "Init Duration: ") != NULL);
	OWS_CHECK(strstr(r->tail, "pid called for log-1") != NULL);
	last = r->log_seq;
	r = call(&f, "log-2", "{}");
	check_ok(r);
	OWS_CHECK(strstr(r->tail, "Init Duration: ") == NULL);
	OWS_CHECK(strstr(r->tail, "START RequestId: log-2") == r->tail);
	/* follow: only what came after the last record seen */
	OWS_CHECK_INT(ows_fn_pool_logs(f.pool, last, log_cb, &s), r->log_seq);
	OWS_CHECK_INT(s.n, 1);
	OWS_CHECK(s.start && s.output && s.end && s.report && s.ordered);
	OWS_CHECK_INT(ows_fn_pool_logs(f.pool, r->log_seq, log_cb, &s),
		      r->log_seq);
	OWS_CHECK_INT(s.n, 1);
	fx_done(&f);
}

OWS_TEST(fn_pool_update_drains)
{
	struct fx f;
	struct res *r;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	fx_start(&f);
	check_ok(call(&f, "u-1", "{}"));
	f.cfg.handler = "app.slow";
	OWS_CHECK_INT(ows_fn_pool_update(f.pool, &f.cfg), 0);
	r = call(&f, "u-2", "{\"ms\": 1}");
	check_ok(r);
	OWS_CHECK_STR(r->body, "\"slept\"");
	OWS_CHECK_INT(stats(&f).started, 2);
	OWS_CHECK_INT(stats(&f).live, 1);
	fx_done(&f);
}

static void http_cb(void *ud, int status, struct ows_fn_instance *inst,
		    const char *addr)
{
	struct fx *f = ud;

	if (f->got_http < 8)
		f->insts[f->got_http] = inst;
	f->got_http++;
	f->http_status = status;
	f->inst = inst;
	if (addr != NULL)
		snprintf(f->addr, sizeof(f->addr), "%s", addr);
}

static void get_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct fx *f = ud;

	f->http_code = status == 0 ? r->status : status;
	if (r != NULL)
		ows_buf_append(&f->http_body, r->body, r->body_len);
}

OWS_TEST(fn_pool_http_runtime)
{
	static const char *const cmd[] = {"/usr/bin/python3",
					  "/var/task/server.py", NULL};
	struct ows_http_client_opts hopts = {3000, 0};
	struct fx f;

	fx_init(&f, "http", "tests/fixtures/http_py", NULL);
	f.cfg.command = cmd;
	f.cfg.runtimes_dir = NULL;
	fx_start(&f);
	OWS_CHECK_INT(ows_fn_pool_invoke(f.pool, "h", "{}", 2, result_cb, &f),
		      -EINVAL);
	OWS_CHECK_INT(ows_fn_pool_http_acquire(f.pool, http_cb, &f), 0);
	OWS_CHECK_INT(f.got_http, 0);
	RUN_UNTIL(&f, f.got_http == 1);
	OWS_CHECK_INT(f.http_status, 0);
	OWS_CHECK_INT(stats(&f).busy, 1);
	OWS_CHECK_INT(ows_http_client_request(&f.loop, f.addr, "GET", "/hi",
					      NULL, 0, NULL, 0, &hopts, get_cb,
					      &f),
		      0);
	RUN_UNTIL(&f, f.http_code != 0);
	OWS_CHECK_INT(f.http_code, 200);
	OWS_CHECK(f.http_body.data && strstr(f.http_body.data, "hello from /hi"));
	ows_fn_pool_http_release(f.pool, f.inst);
	OWS_CHECK_INT(stats(&f).idle, 1);
	/* a second lease reuses it */
	OWS_CHECK_INT(ows_fn_pool_http_acquire(f.pool, http_cb, &f), 0);
	RUN_UNTIL(&f, f.got_http == 2);
	OWS_CHECK_INT(f.http_status, 0);
	OWS_CHECK_INT(stats(&f).started, 1);
	ows_fn_pool_http_release(f.pool, f.inst);
	fx_done(&f);
}

/*
 * An http instance serves requests_per_instance requests at once: a burst
 * packs onto the first instance (starting, too) before a second starts;
 * ows_fn_pool_http_take lends at once while there is room; an instance
 * that dies while lent stays valid until its loans end.
 */
OWS_TEST(fn_pool_http_requests_per_instance)
{
	static const char *const cmd[] = {"/usr/bin/python3",
					  "/var/task/server.py", NULL};
	struct ows_fn_instance *inst, *other;
	const char *addr;
	pid_t pids[8];
	struct fx f;
	int n;

	fx_init(&f, "http", "tests/fixtures/http_py", NULL);
	f.cfg.command = cmd;
	f.cfg.runtimes_dir = NULL;
	f.cfg.requests_per_instance = 2;
	fx_start(&f);
	OWS_CHECK_INT(ows_fn_pool_http_take(f.pool, &inst, &addr), -EAGAIN);
	for (int i = 0; i < 3; i++)
		OWS_CHECK_INT(ows_fn_pool_http_acquire(f.pool, http_cb, &f),
			      0);
	RUN_UNTIL(&f, f.got_http == 3);
	OWS_CHECK_INT(f.http_status, 0);
	OWS_CHECK_INT(stats(&f).started, 2);
	/* two loans share an instance (whichever listened first answered
	 * first), the third has the other one */
	if (f.insts[0] == f.insts[1])
		other = f.insts[2];
	else if (f.insts[0] == f.insts[2])
		other = f.insts[1];
	else
		other = f.insts[0];
	OWS_CHECK((f.insts[0] == f.insts[1]) + (f.insts[0] == f.insts[2]) +
		      (f.insts[1] == f.insts[2]) == 1);
	/* at once: the instance with one loan has room for one more */
	OWS_CHECK_INT(ows_fn_pool_http_take(f.pool, &inst, &addr), 0);
	OWS_CHECK(inst == other && addr != NULL && addr[0] != '\0');
	OWS_CHECK_INT(ows_fn_pool_http_take(f.pool, &other, &addr), -EAGAIN);
	OWS_CHECK_INT(stats(&f).busy, 2);
	/* give back all but one loan of the shared instance */
	ows_fn_pool_http_release(f.pool, inst);
	ows_fn_pool_http_release(f.pool, other);
	inst = other == f.insts[0] ? f.insts[1] : f.insts[0];
	ows_fn_pool_http_release(f.pool, inst);
	OWS_CHECK_INT(stats(&f).idle, 1);
	OWS_CHECK_INT(stats(&f).busy, 1);
	/* an instance dies while still lent once */
	n = instance_pids(pids, 8);
	OWS_CHECK(n >= 2);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	thaw_instances();
	RUN_UNTIL(&f, stats(&f).live == 0 && stats(&f).stopping >= 1);
	ows_fn_pool_http_release(f.pool, inst); /* not freed before */
	RUN_UNTIL(&f, stats(&f).stopping == 0);
	fx_done(&f);
	OWS_CHECK_INT(cgroups_left(), 0);
}

OWS_TEST(fn_pool_close_cancels)
{
	struct fx f;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.slow");
	f.cfg.concurrency = 1;
	fx_start(&f);
	invoke(&f, "k-1", "{\"ms\": 3000}");
	invoke(&f, "k-2", "{}");
	OWS_CHECK_INT(stats(&f).queued, 1);
	fx_done(&f);
	OWS_CHECK_INT(f.n_res, 2);
	for (int i = 0; i < 2; i++) {
		OWS_CHECK_INT(f.res[i].kind, OWS_FN_FAILED);
		OWS_CHECK_INT(f.res[i].status, -ECANCELED);
	}
	OWS_CHECK_INT(cgroups_left(), 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Cold start through the pool against bare `python3 -c pass`: medians of
 * 7, printed (a measurement, not a check). */
OWS_TEST(fn_pool_cold_start)
{
	double pool_ms[7], bare_ms[7];
	struct fx f;

	for (int i = 0; i < 7; i++) {
		uint64_t t0;
		char id[16];

		fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
		fx_start(&f);
		snprintf(id, sizeof(id), "cold-%d", i);
		t0 = uv_hrtime();
		check_ok(call(&f, id, "{}"));
		pool_ms[i] = (double)(uv_hrtime() - t0) / 1e6;
		fx_done(&f);
		t0 = uv_hrtime();
		OWS_CHECK_INT(system("/usr/bin/python3 -c pass"), 0);
		bare_ms[i] = (double)(uv_hrtime() - t0) / 1e6;
	}
	qsort(pool_ms, 7, sizeof(double), cmp_double);
	qsort(bare_ms, 7, sizeof(double), cmp_double);
	fprintf(stderr, "cold start: pool %.1f ms, bare python3 %.1f ms\n",
		pool_ms[3], bare_ms[3]);
}

/* ---- spare launchers (spare.c) ---- */

static void spare_error_cb(void *ud, const char *msg, bool gave_up)
{
	struct fx *f = ud;

	(void)msg;
	f->spare_errors++;
	f->spares_gave_up = gave_up;
}

static unsigned spares_ready(struct fx *f)
{
	unsigned ready;
	bool disabled;

	ows_fn_spares_stats(f->spares, &ready, &disabled);
	return ready;
}

/* Give f count spares of launcher (to be closed by fx_done). */
static void fx_spares(struct fx *f, const char *launcher, unsigned count)
{
	OWS_CHECK_INT(ows_fn_spares_new(&f->loop, launcher, count,
					spare_error_cb, f, &f->spares),
		      0);
	f->cfg.spares = f->spares;
}

/*
 * The memory limit (bytes; 0 when unlimited) of this process's spare
 * cgroup that holds the most processes, and that count: the taken one
 * runs the launcher and the function, a waiting spare its launcher only.
 */
static long long busiest_spare_limit(int *procs)
{
	const char *v1 = "/sys/fs/cgroup/memory";
	bool is_v1 = access(v1, F_OK) == 0;
	char cmd[PATH_MAX + 256], line[PATH_MAX];
	long long limit = -1;
	FILE *p;

	*procs = 0;
	snprintf(cmd, sizeof(cmd),
		 "for d in $(find %s -maxdepth 4 -type d -name "
		 "'ows-spare-%d-*'); do echo $(wc -l < $d/cgroup.procs) "
		 "$(cat $d/%s); done",
		 is_v1 ? v1 : "/sys/fs/cgroup", (int)getpid(),
		 is_v1 ? "memory.limit_in_bytes" : "memory.max");
	p = popen(cmd, "r");
	OWS_CHECK(p != NULL);
	while (fgets(line, sizeof(line), p) != NULL) {
		int n = atoi(line);
		const char *l = strchr(line, ' ');

		if (n <= *procs || l == NULL)
			continue;
		*procs = n;
		/* v1 shows "no limit" as a huge number, v2 as "max" */
		limit = strncmp(l + 1, "max", 3) == 0 ||
				atoll(l + 1) >= (1ll << 50)
			    ? 0
			    : atoll(l + 1);
	}
	pclose(p);
	return limit;
}

OWS_TEST(fn_pool_spares_start_instances)
{
	struct fx f;
	struct res *r;
	int procs;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.slow");
	fx_spares(&f, f.exe, 2);
	RUN_UNTIL(&f, spares_ready(&f) == 2);
	fx_start(&f);
	/* A slow invocation: while it runs, its cgroup is a spare's with
	 * the function's memory limit; the other spare has none. */
	invoke(&f, "sp-1", "{\"ms\": 1500}");
	RUN_UNTIL(&f, stats(&f).busy == 1 &&
			  (busiest_spare_limit(&procs), procs >= 2));
	OWS_CHECK_INT(busiest_spare_limit(&procs), 256ll << 20);
	RUN_UNTIL(&f, f.n_res == 1);
	check_ok(&f.res[0]);
	/* refilled in the background */
	RUN_UNTIL(&f, spares_ready(&f) == 2);
	OWS_CHECK_INT(cgroups_left(), 0); /* no on-demand cgroup was made */
	OWS_CHECK_INT(f.spare_errors, 0);
	fx_done(&f);
	/* closing stops the waiting spares and removes every cgroup */
	OWS_CHECK_INT(cgroups_named("ows-spare"), 0);

	/* The limit is real: a spare-started instance is OOM-killed at it. */
	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.oom");
	fx_spares(&f, f.exe, 1);
	f.cfg.memory_mb = 64;
	RUN_UNTIL(&f, spares_ready(&f) == 1);
	fx_start(&f);
	r = call(&f, "so-1", "{\"mb\": 256}");
	check_error(r, "Runtime.OutOfMemory", "signal: killed");
	check_ok(call(&f, "so-2", "{\"mb\": 1}"));
	OWS_CHECK_INT(stats(&f).started, 2);
	fx_done(&f);
	OWS_CHECK_INT(cgroups_named("ows-spare"), 0);
}

OWS_TEST(fn_pool_spares_broken_launcher)
{
	struct fx f;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	/* exits at once with an error: each spare dies unused */
	fx_spares(&f, "/bin/false", 2);
	RUN_UNTIL(&f, f.spares_gave_up && spares_ready(&f) == 0);
	OWS_CHECK_INT(f.spare_errors, 3); /* then it stops reporting */
	/* pools start their launchers on demand */
	fx_start(&f);
	check_ok(call(&f, "b-1", "{}"));
	OWS_CHECK_INT(cgroups_named("ows-spare"), 0);
	fx_done(&f);
	OWS_CHECK_INT(ows_fn_spares_new(&f.loop, "x", 0, NULL, NULL,
					&f.spares),
		      -EINVAL);
}

/*
 * A spare that died before the loop heard of it is taken: writing its spec
 * fails, it counts against the set, and the instance starts on demand.
 */
OWS_TEST(fn_pool_spares_dead_when_taken)
{
	pid_t pids[8];
	struct fx f;
	int n;

	fx_init(&f, "python3", "tests/fixtures/py_pool", "app.pid");
	fx_spares(&f, f.exe, 1);
	RUN_UNTIL(&f, spares_ready(&f) == 1);
	fx_start(&f);
	/* the launcher has joined its cgroup when its pid shows there */
	while ((n = pids_in("ows-spare", pids, 8)) == 0)
		uv_run(&f.loop, UV_RUN_NOWAIT);
	OWS_CHECK_INT(n, 1);
	kill(pids[0], SIGKILL);
	while (alive(pids, 1) > 0)
		usleep(1000); /* a zombie now, not reaped: the loop did not run */
	invoke(&f, "dead-1", "{}");
	RUN_UNTIL(&f, f.n_res == 1);
	check_ok(&f.res[0]);
	OWS_CHECK_INT(f.spare_errors, 1);
	OWS_CHECK(!f.spares_gave_up);
	fx_done(&f);
	OWS_CHECK_INT(cgroups_named("ows-spare"), 0);
}
