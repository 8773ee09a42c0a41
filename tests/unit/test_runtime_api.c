/*
 * Unit tests for src/fn/runtime_api: the Runtime API on a uv loop, driven
 * either by the module's own HTTP client (protocol cases) or by the REAL
 * bootstraps (runtimes/python3, runtimes/nodejs) started with uv_spawn
 * against the handlers in tests/fixtures/. Paths are relative to the repo
 * root, where the test runner runs.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/unit.h"
#include "common/buf.h"
#include "common/json.h"
#include "fn/runtime_api.h"
#include "http/http.h"

#define PYTHON "/usr/bin/python3"
#define NODE "/usr/bin/node"
#define N_ENV 12

struct result {
	enum ows_runtime_result_kind kind;
	int status;
	char *request_id;
	char *error_type;
	char *function_error;
	char *body;
	size_t len;
};

struct fx {
	uv_loop_t loop;
	struct ows_runtime_api *api;
	bool api_closed;
	int ready;
	int init_errors;
	char init_type[64];
	/* the instance */
	uv_process_t proc;
	uv_pipe_t out;
	bool spawned, exited, out_open;
	int64_t exit_status;
	int term_signal;
	struct ows_buf stdout_text;
	char env[N_ENV][PATH_MAX + 64];
	/* results, in order */
	struct result res[4];
	int n_res;
};

/* ---- fixture ---- */

static void ready_cb(struct ows_runtime_api *api, void *ud)
{
	struct fx *f = ud;

	(void)api;
	f->ready++;
}

static void init_error_cb(struct ows_runtime_api *api, void *ud,
			  const char *type, const char *body, size_t len)
{
	struct fx *f = ud;

	(void)api;
	(void)body;
	(void)len;
	f->init_errors++;
	snprintf(f->init_type, sizeof(f->init_type), "%s", type);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void result_cb(void *ud, const struct ows_runtime_result *r)
{
	struct fx *f = ud;
	struct result *out;

	OWS_CHECK(f->n_res < 4);
	out = &f->res[f->n_res++];
	out->kind = r->kind;
	out->status = r->status;
	out->request_id = dup_or_null(r->request_id);
	out->error_type = dup_or_null(r->error_type);
	out->function_error = dup_or_null(r->function_error);
	OWS_CHECK(r->body != NULL);
	out->body = malloc(r->len + 1);
	OWS_CHECK(out->body != NULL);
	memcpy(out->body, r->body, r->len);
	out->body[r->len] = '\0';
	out->len = r->len;
}

static void fx_init(struct fx *f)
{
	static const struct ows_runtime_api_cbs cbs = {ready_cb, init_error_cb,
							       NULL};

	memset(f, 0, sizeof(*f));
	OWS_CHECK_INT(uv_loop_init(&f->loop), 0);
	OWS_CHECK_INT(
	    ows_runtime_api_new(&f->loop, "127.0.0.1:0", &cbs, f, &f->api), 0);
	OWS_CHECK(strncmp(ows__runtime_api_address(f->api), "127.0.0.1:", 10) ==
		  0);
}

#define RUN_UNTIL(f, cond)                                                     \
	do {                                                                   \
		while (!(cond))                                                \
			OWS_CHECK(uv_run(&(f)->loop, UV_RUN_ONCE) != 0 ||      \
				  (cond));                                     \
	} while (0)

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct fx *f = p->data;

	f->exited = true;
	f->exit_status = status;
	f->term_signal = sig;
	if (!f->api_closed)
		ows__runtime_api_instance_exited(f->api, status, sig);
	uv_close((uv_handle_t *)p, NULL);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char mem[65536];

	(void)h;
	(void)hint;
	*buf = uv_buf_init(mem, sizeof(mem));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct fx *f = s->data;

	if (n > 0)
		ows_buf_append(&f->stdout_text, buf->base, (size_t)n);
	else if (n < 0 && f->out_open) {
		f->out_open = false;
		uv_close((uv_handle_t *)s, NULL);
	}
}

/* Start the real bootstrap of runtime ("python3" or "nodejs"). */
static void spawn(struct fx *f, const char *runtime, const char *fixture,
		  const char *handler)
{
	char root[PATH_MAX], boot[64], *env[N_ENV + 1], *args[3];
	uv_stdio_container_t stdio[3];
	uv_process_options_t o = {0};
	bool py = strcmp(runtime, "python3") == 0;
	int i = 0;

	/* make deps installs nodejs: without it this fails, never skips. */
	OWS_CHECK(py || access(NODE, X_OK) == 0);
	OWS_CHECK(realpath(fixture, root) != NULL);
	snprintf(boot, sizeof(boot), "runtimes/%s/bootstrap", runtime);
#define ENV(...) snprintf(f->env[i], sizeof(f->env[i]), __VA_ARGS__), i++
	ENV("AWS_LAMBDA_RUNTIME_API=%s", ows__runtime_api_address(f->api));
	ENV("_HANDLER=%s", handler);
	ENV("LAMBDA_TASK_ROOT=%s", root);
	ENV("AWS_LAMBDA_FUNCTION_NAME=fn-test");
	ENV("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256");
	ENV("AWS_LAMBDA_FUNCTION_VERSION=$LATEST");
	ENV("AWS_REGION=local");
	ENV("AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn-test");
	ENV("AWS_LAMBDA_LOG_STREAM_NAME=2024/01/01/[$LATEST]abc");
	ENV("PATH=/usr/bin:/bin");
#undef ENV
	for (int j = 0; j < i; j++)
		env[j] = f->env[j];
	env[i] = NULL;
	args[0] = py ? PYTHON : NODE;
	args[1] = boot;
	args[2] = NULL;
	OWS_CHECK_INT(uv_pipe_init(&f->loop, &f->out, 0), 0);
	f->out.data = f;
	f->out_open = true;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&f->out;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	o.exit_cb = exit_cb;
	o.file = args[0];
	o.args = args;
	o.env = env;
	o.stdio = stdio;
	o.stdio_count = 3;
	f->proc.data = f;
	OWS_CHECK_INT(uv_spawn(&f->loop, &f->proc, &o), 0);
	f->spawned = true;
	OWS_CHECK_INT(uv_read_start((uv_stream_t *)&f->out, alloc_cb, read_cb),
		      0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queue an invocation; deadline_in_ms 0 means none. */
static int invoke(struct fx *f, const char *id, const char *payload, size_t len,
		  int64_t deadline_in_ms)
{
	struct ows_runtime_invocation inv = {0};

	inv.request_id = id;
	inv.payload = payload;
	inv.len = len;
	inv.deadline_ms = deadline_in_ms ? now_ms() + deadline_in_ms : 0;
	inv.function_arn = "arn:aws:lambda:local:000000000000:function:fn-test";
	inv.trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793";
	return ows__runtime_api_invoke(f->api, &inv, result_cb, f);
}

/* Invoke and wait for the result. */
static struct result *call(struct fx *f, const char *id, const char *payload,
			   int64_t deadline_in_ms)
{
	int n = f->n_res;

	OWS_CHECK_INT(invoke(f, id, payload, strlen(payload), deadline_in_ms),
		      0);
	RUN_UNTIL(f, f->n_res > n);
	OWS_CHECK_STR(f->res[n].request_id, id);
	return &f->res[n];
}

/* Invoke with a client context (JSON text, as the header carries it). */
static struct result *call_cc(struct fx *f, const char *id, const char *cc)
{
	struct ows_runtime_invocation inv = {0};
	int n = f->n_res;

	inv.request_id = id;
	inv.payload = "{}";
	inv.len = 2;
	inv.deadline_ms = now_ms() + 5000;
	inv.function_arn = "arn:aws:lambda:local:000000000000:function:fn-test";
	inv.client_context = cc;
	OWS_CHECK_INT(ows__runtime_api_invoke(f->api, &inv, result_cb, f), 0);
	RUN_UNTIL(f, f->n_res > n);
	OWS_CHECK_STR(f->res[n].request_id, id);
	return &f->res[n];
}

/* "2024-01-02T03:04:05.678Z": an ISO time in UTC with milliseconds. */
static bool iso_time(const char *s)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < sizeof(form) - 1; i++)
		if (form[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != form[i])
			return false;
	return true;
}

/* Does text have the line "<before><ISO time><after>"? */
static bool has_log_line(const char *text, const char *before,
			 const char *after)
{
	size_t nb = strlen(before), na = strlen(after);

	for (const char *l = text; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end != NULL ? (size_t)(end - l) : strlen(l);

		if (len == nb + 24 + na && strncmp(l, before, nb) == 0 &&
		    iso_time(l + nb) && strncmp(l + nb + 24, after, na) == 0)
			return true;
		l = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* Is line (with its newline) a whole line of text? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define CC_JSON                                                        \
	"{\"client\":{\"installation_id\":\"inst-1\",\"app_title\":\"t\"}," \
	"\"custom\":{\"k\":\"v\"},\"env\":{\"platform\":\"linux\"}}"

static void api_closed_cb(void *ud)
{
	struct fx *f = ud;

	f->api_closed = true;
}

/* Close everything; the loop must end with no handle left. */
static void fx_done(struct fx *f)
{
	ows__runtime_api_close(f->api, api_closed_cb);
	if (f->spawned && !f->exited)
		uv_process_kill(&f->proc, SIGKILL);
	RUN_UNTIL(f, f->api_closed && (!f->spawned || f->exited));
	OWS_CHECK_INT(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	/* Kept-alive client connections go first. */
	ows_http_client_close_idle(&f->loop);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&f->loop), 0);
	for (int i = 0; i < f->n_res; i++) {
		free(f->res[i].request_id);
		free(f->res[i].error_type);
		free(f->res[i].function_error);
		free(f->res[i].body);
	}
	ows_buf_free(&f->stdout_text);
}

static json_t *parse(const struct result *r)
{
	struct ows_err err;
	json_t *v = ows_json_parse(r->body, r->len, &err);

	if (v == NULL)
		fprintf(stderr, "bad JSON (%s): %.200s\n", err.msg, r->body);
	OWS_CHECK(v != NULL);
	return v;
}

static void check_same_json(const struct result *r, const char *want)
{
	struct ows_err err;
	json_t *a = parse(r), *b = ows_json_parse(want, strlen(want), &err);

	OWS_CHECK(b != NULL);
	OWS_CHECK(json_equal(a, b));
	json_decref(a);
	json_decref(b);
}

static void check_ok(const struct result *r)
{
	if (r->kind != OWS_RUNTIME_OK)
		fprintf(stderr, "result %d/%d: %.300s\n", r->kind, r->status,
			r->body);
	OWS_CHECK_INT(r->kind, OWS_RUNTIME_OK);
	OWS_CHECK_INT(r->status, 0);
	OWS_CHECK(r->error_type == NULL);
}

/* A function error: errorType, errorMessage and a non-empty trace. */
static void check_fn_error(const struct result *r, const char *type,
			   const char *msg, const char *trace_key)
{
	json_t *doc;

	OWS_CHECK_INT(r->kind, OWS_RUNTIME_FUNCTION_ERROR);
	OWS_CHECK_STR(r->error_type, type);
	OWS_CHECK_STR(r->function_error, "Unhandled");
	doc = parse(r);
	OWS_CHECK_STR(ows_json_str(doc, "errorType"), type);
	OWS_CHECK_STR(ows_json_str(doc, "errorMessage"), msg);
	OWS_CHECK(json_array_size(json_object_get(doc, trace_key)) > 0);
	json_decref(doc);
}

static void check_failed(const struct result *r, int status, const char *type,
			 const char *msg_part)
{
	json_t *doc;

	OWS_CHECK_INT(r->kind, OWS_RUNTIME_FAILED);
	OWS_CHECK_INT(r->status, status);
	OWS_CHECK_STR(r->error_type, type);
	doc = parse(r);
	OWS_CHECK_STR(ows_json_str(doc, "errorType"), type);
	OWS_CHECK(strstr(ows_json_str(doc, "errorMessage"), msg_part) != NULL);
	json_decref(doc);
}

static json_int_t int_member(const struct result *r, const char *key)
{
	json_t *doc = parse(r);
	json_int_t v = json_integer_value(json_object_get(doc, key));

	json_decref(doc);
	return v;
}

/* ---- protocol, with the HTTP client as the runtime ---- */

struct reply {
	bool done;
	int status;
	char id[80];
	char deadline[32];
	char arn[128];
	char trace[128];
	char error_type[64];
	struct ows_buf body;
};

static void reply_cb(void *ud, int status, const struct ows_http_response *r)
{
	struct reply *out = ud;
	const char *h;

	out->done = true;
	OWS_CHECK_INT(status, 0);
	out->status = r->status;
#define COPY(field, name)                                                      \
	h = ows_http_response_header(r, name);                                 \
	snprintf(out->field, sizeof(out->field), "%s", h ? h : "")
	COPY(id, "Lambda-Runtime-Aws-Request-Id");
	COPY(deadline, "Lambda-Runtime-Deadline-Ms");
	COPY(arn, "Lambda-Runtime-Invoked-Function-Arn");
	COPY(trace, "Lambda-Runtime-Trace-Id");
#undef COPY
	ows_buf_append(&out->body, r->body, r->body_len);
	if (r->status >= 400) {
		struct ows_err err;
		json_t *doc = ows_json_parse(r->body, r->body_len, &err);
		const char *t = doc ? ows_json_str(doc, "errorType") : NULL;

		snprintf(out->error_type, sizeof(out->error_type), "%s",
			 t ? t : "");
		json_decref(doc);
	}
}

static void http(struct fx *f, struct reply *out, const char *method,
		 const char *target, const char *body)
{
	memset(out, 0, sizeof(*out));
	OWS_CHECK_INT(ows_http_client_request(
			  &f->loop, ows__runtime_api_address(f->api), method,
			  target, NULL, 0, body, body ? strlen(body) : 0, NULL,
			  reply_cb, out),
		      0);
}

#define NEXT "/2018-06-01/runtime/invocation/next"
#define INV "/2018-06-01/runtime/invocation/"

/* With req-1 delivered and unanswered: the runtime's possible mistakes. */
static void protocol_answers(struct fx *f)
{
	struct reply r;

	/* Another /next while req-1 is unanswered is refused. */
	http(f, &r, "GET", NEXT, NULL);
	RUN_UNTIL(f, r.done);
	OWS_CHECK_INT(r.status, 403);
	ows_buf_free(&r.body);
	/* A wrong request id is 400 InvalidRequestID. */
	http(f, &r, "POST", INV "nope/response", "1");
	RUN_UNTIL(f, r.done);
	OWS_CHECK_INT(r.status, 400);
	OWS_CHECK_STR(r.error_type, "InvalidRequestID");
	ows_buf_free(&r.body);
	http(f, &r, "POST", INV "req-1/response", "{\"ok\":true}");
	RUN_UNTIL(f, r.done);
	OWS_CHECK_INT(r.status, 202);
	OWS_CHECK_INT(f->n_res, 1);
	check_ok(&f->res[0]);
	OWS_CHECK_STR(f->res[0].body, "{\"ok\":true}");
	ows_buf_free(&r.body);
	/* Answered already. */
	http(f, &r, "POST", INV "req-1/response", "2");
	RUN_UNTIL(f, r.done);
	OWS_CHECK_INT(r.status, 400);
	ows_buf_free(&r.body);
	/* init/error after init is a state error; unknown paths 404. */
	http(f, &r, "POST", "/2018-06-01/runtime/init/error", "{}");
	RUN_UNTIL(f, r.done);
	OWS_CHECK_INT(r.status, 403);
	ows_buf_free(&r.body);
	http(f, &r, "GET", "/2018-06-01/runtime/nothing", NULL);
	RUN_UNTIL(f, r.done);
	OWS_CHECK_INT(r.status, 404);
	ows_buf_free(&r.body);
}

OWS_TEST(runtime_api_protocol)
{
	struct fx f;
	struct reply next;
	int64_t deadline;

	fx_init(&f);
	/* GET /next waits until there is an invocation. */
	http(&f, &next, "GET", NEXT, NULL);
	for (int i = 0; i < 20; i++)
		uv_run(&f.loop, UV_RUN_NOWAIT);
	usleep(50 * 1000);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	OWS_CHECK(!next.done);
	OWS_CHECK_INT(f.ready, 1);
	OWS_CHECK_INT(invoke(&f, "req-1", "{\"a\":1}", 7, 3000), 0);
	OWS_CHECK_INT(invoke(&f, "req-2", "{}", 2, 0), -EBUSY);
	RUN_UNTIL(&f, next.done);
	OWS_CHECK_INT(next.status, 200);
	OWS_CHECK_STR(next.id, "req-1");
	OWS_CHECK_STR(next.body.data, "{\"a\":1}");
	OWS_CHECK_STR(next.arn,
		      "arn:aws:lambda:local:000000000000:function:fn-test");
	OWS_CHECK_STR(next.trace, "Root=1-5759e988-bd862e3fe1be46a994272793");
	deadline = strtoll(next.deadline, NULL, 10);
	OWS_CHECK(deadline > now_ms() && deadline <= now_ms() + 3000);
	protocol_answers(&f);
	ows_buf_free(&next.body);
	/* A held /next gets its answer (500) when the API closes. */
	http(&f, &next, "GET", NEXT, NULL);
	for (int i = 0; i < 20; i++)
		uv_run(&f.loop, UV_RUN_NOWAIT);
	ows__runtime_api_close(f.api, api_closed_cb);
	RUN_UNTIL(&f, f.api_closed && next.done);
	OWS_CHECK_INT(next.status, 500);
	ows_buf_free(&next.body);
	OWS_CHECK_INT(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	/* Kept-alive client connections go first. */
	ows_http_client_close_idle(&f.loop);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&f.loop), 0);
	for (int i = 0; i < f.n_res; i++) {
		free(f.res[i].request_id);
		free(f.res[i].body);
	}
}

/*
 * A second poller (another process of the instance, or anything that could
 * reach the port) is refused while the runtime's GET /next is held, and the
 * next invocation still goes to the runtime that was waiting.
 */
OWS_TEST(runtime_api_second_poller_is_refused)
{
	struct reply first, second;
	struct fx f;

	fx_init(&f);
	http(&f, &first, "GET", NEXT, NULL);
	for (int i = 0; i < 20; i++)
		uv_run(&f.loop, UV_RUN_NOWAIT);
	usleep(50 * 1000);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	OWS_CHECK(!first.done);
	http(&f, &second, "GET", NEXT, NULL);
	RUN_UNTIL(&f, second.done);
	OWS_CHECK_INT(second.status, 403);
	OWS_CHECK_STR(second.error_type, "InvalidStateTransition");
	OWS_CHECK(!first.done);
	OWS_CHECK_INT(invoke(&f, "req-a", "{\"a\":1}", 7, 3000), 0);
	RUN_UNTIL(&f, first.done);
	OWS_CHECK_INT(first.status, 200);
	OWS_CHECK_STR(first.id, "req-a");
	ows_buf_free(&first.body);
	ows_buf_free(&second.body);
	fx_done(&f);
}

OWS_TEST(runtime_api_invoke_args)
{
	struct fx f;
	static char huge[OWS_RUNTIME_MAX_PAYLOAD + 1];

	fx_init(&f);
	OWS_CHECK_INT(invoke(&f, "", "{}", 2, 0), -EINVAL);
	OWS_CHECK_INT(invoke(&f, "a/b", "{}", 2, 0), -EINVAL);
	OWS_CHECK_INT(invoke(&f, "a\r\nX: y", "{}", 2, 0), -EINVAL);
	OWS_CHECK_INT(invoke(&f, "big", huge, sizeof(huge), 0), -EMSGSIZE);
	/* Close with an invocation queued: it fails with -ECANCELED. */
	OWS_CHECK_INT(invoke(&f, "queued", "{}", 2, 0), 0);
	ows__runtime_api_close(f.api, api_closed_cb);
	OWS_CHECK_INT(f.n_res, 1);
	check_failed(&f.res[0], -ECANCELED, "Runtime.Closed", "stopped");
	OWS_CHECK_INT(invoke(&f, "late", "{}", 2, 0), -ECANCELED);
	RUN_UNTIL(&f, f.api_closed);
	OWS_CHECK_INT(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	/* Kept-alive client connections go first. */
	ows_http_client_close_idle(&f.loop);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&f.loop), 0);
	free(f.res[0].request_id);
	free(f.res[0].error_type);
	free(f.res[0].function_error);
	free(f.res[0].body);
}

/* ---- python3 bootstrap ---- */

#define PY_ROOT "tests/fixtures/py_echo"

OWS_TEST(runtime_api_py_echo)
{
	struct fx f;
	const char *ev = "{\"hello\":\"w\\u00f6rld\",\"n\":[1,2.5,null]}";

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.echo");
	check_ok(call(&f, "r1", ev, 5000));
	check_same_json(&f.res[0], ev);
	/* None is "null". */
	fx_done(&f);
	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.nothing");
	check_ok(call(&f, "r2", "{}", 5000));
	OWS_CHECK_STR(f.res[0].body, "null");
	fx_done(&f);
}

OWS_TEST(runtime_api_py_context)
{
	struct fx f;
	struct result *r;
	json_t *doc;
	json_int_t left;
	char line[64];

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.ctx");
	r = call(&f, "ctx-req-1", "{}", 5000);
	check_ok(r);
	doc = parse(r);
	OWS_CHECK_STR(ows_json_str(doc, "request_id"), "ctx-req-1");
	OWS_CHECK_STR(ows_json_str(doc, "function_name"), "fn-test");
	OWS_CHECK_STR(ows_json_str(doc, "function_version"), "$LATEST");
	OWS_CHECK_STR(ows_json_str(doc, "memory"), "256");
	OWS_CHECK_STR(ows_json_str(doc, "log_group"), "/aws/lambda/fn-test");
	OWS_CHECK_STR(ows_json_str(doc, "arn"),
		      "arn:aws:lambda:local:000000000000:function:fn-test");
	left = json_integer_value(json_object_get(doc, "remaining"));
	OWS_CHECK(left > 0 && left <= 5000);
	json_decref(doc);
	/* print() went to stdout, flushed before the result. */
	snprintf(line, sizeof(line), "ctx called for ctx-req-1\n");
	OWS_CHECK(f.stdout_text.data != NULL &&
		  strstr(f.stdout_text.data, line) != NULL);
	fx_done(&f);
}

/*
 * The logging module's root logger prints Lambda's "[LEVEL]\tTIME\tID\t"
 * prefix (WARNING and up: the root level is Python's), print() does not;
 * the client context reaches context.client_context.
 */
OWS_TEST(runtime_api_py_logging_and_client_context)
{
	struct fx f;
	const char *out;

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.logs");
	/* .client is an object with Lambda's attributes; .identity is there,
	 * empty, without a Cognito identity. */
	check_ok(call_cc(&f, "lg-1", CC_JSON));
	check_same_json(&f.res[0], "{\"identity\":[null,null],\"client_context\":"
			CC_JSON "}");
	check_ok(call(&f, "lg-2", "{}", 5000));
	check_same_json(&f.res[1], "{\"identity\":[null,null]}");
	out = f.stdout_text.data;
	OWS_CHECK(out != NULL);
	OWS_CHECK(has_log_line(out, "[WARNING]\t", "\tlg-1\twarned here"));
	OWS_CHECK(has_log_line(out, "[ERROR]\t", "\tlg-1\tan error"));
	OWS_CHECK(has_log_line(out, "[WARNING]\t", "\tlg-2\twarned here"));
	OWS_CHECK(strstr(out, "not shown") == NULL);
	OWS_CHECK(has_line(out, "plain print"));
	fx_done(&f);
}

OWS_TEST(runtime_api_py_warm)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.ctx");
	check_ok(call(&f, "w1", "{}", 5000));
	check_ok(call(&f, "w2", "{}", 5000));
	check_ok(call(&f, "w3", "{}", 0));
	/* One process served all three, after one init. */
	OWS_CHECK_INT(int_member(&f.res[0], "pid"), f.proc.pid);
	OWS_CHECK_INT(int_member(&f.res[1], "pid"), f.proc.pid);
	OWS_CHECK_INT(int_member(&f.res[2], "pid"), f.proc.pid);
	OWS_CHECK_INT(int_member(&f.res[2], "remaining"), 0);
	OWS_CHECK_INT(f.ready, 1);
	fx_done(&f);
}

OWS_TEST(runtime_api_py_error)
{
	struct fx f;
	struct result *r;

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.boom");
	r = call(&f, "e1", "{\"why\":\"x\"}", 5000);
	check_fn_error(r, "ValueError", "bad thing: x", "stackTrace");
	OWS_CHECK(strstr(r->body, "app.py") != NULL);
	OWS_CHECK(strstr(r->body, "bootstrap") == NULL);
	/* The instance survives a function error. */
	r = call(&f, "e2", "{}", 5000);
	check_fn_error(r, "ValueError", "bad thing: None", "stackTrace");
	fx_done(&f);
}

static void check_init_error(const char *runtime, const char *root,
			     const char *handler, const char *type)
{
	struct fx f;
	struct result *r;

	fx_init(&f);
	spawn(&f, runtime, root, handler);
	OWS_CHECK_INT(invoke(&f, "i1", "{}", 2, 5000), 0);
	RUN_UNTIL(&f, f.n_res == 1 && f.exited);
	r = &f.res[0];
	if (r->kind != OWS_RUNTIME_INIT_ERROR)
		fprintf(stderr, "%s: %d %.300s\n", handler, r->kind, r->body);
	OWS_CHECK_INT(r->kind, OWS_RUNTIME_INIT_ERROR);
	OWS_CHECK_STR(r->error_type, type);
	OWS_CHECK_INT(f.init_errors, 1);
	OWS_CHECK_STR(f.init_type, type);
	OWS_CHECK_INT(f.ready, 0);
	OWS_CHECK(f.exit_status != 0);
	OWS_CHECK_INT(invoke(&f, "i2", "{}", 2, 0), -EPIPE);
	fx_done(&f);
}

OWS_TEST(runtime_api_py_init_error)
{
	check_init_error("python3", PY_ROOT, "nosuch.handler",
			 "Runtime.ImportModuleError");
	check_init_error("python3", PY_ROOT, "app.missing",
			 "Runtime.HandlerNotFound");
	check_init_error("python3", PY_ROOT, "nodots",
			 "Runtime.MalformedHandlerName");
	check_init_error("python3", PY_ROOT, "broken.handler", "RuntimeError");
}

/* A JSON string payload of exactly len bytes: "xxx...". */
static char *json_string_of(size_t len)
{
	char *p = malloc(len + 1);

	OWS_CHECK(p != NULL && len >= 2);
	memset(p, 'x', len);
	p[0] = p[len - 1] = '"';
	p[len] = '\0';
	return p;
}

OWS_TEST(runtime_api_py_large)
{
	struct fx f;
	size_t n = OWS_RUNTIME_MAX_PAYLOAD - 100;
	char *ev = json_string_of(n);

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.echo");
	check_ok(call(&f, "big-1", ev, 10000));
	OWS_CHECK_INT(f.res[0].len, n);
	OWS_CHECK(memcmp(f.res[0].body, ev, n) == 0);
	free(ev);
	fx_done(&f);
}

OWS_TEST(runtime_api_py_too_big)
{
	struct fx f;
	char ev[64];

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.big");
	snprintf(ev, sizeof(ev), "{\"n\":%d}", OWS_RUNTIME_MAX_PAYLOAD + 1);
	check_failed(call(&f, "tb-1", ev, 10000), -EMSGSIZE,
		     "Function.ResponseSizeTooLarge", "6291556 bytes");
	/* The bootstrap got its 413 and goes on with the next event. */
	check_ok(call(&f, "tb-2", "{\"n\":3}", 10000));
	OWS_CHECK_STR(f.res[1].body, "\"xxx\"");
	fx_done(&f);
}

OWS_TEST(runtime_api_py_exit)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.die");
	check_failed(call(&f, "x1", "{}", 5000), -EPIPE, "Runtime.ExitError",
		     "exit status 3");
	OWS_CHECK_INT(invoke(&f, "x2", "{}", 2, 0), -EPIPE);
	fx_done(&f);
}

OWS_TEST(runtime_api_py_timeout)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.sleep");
	check_failed(call(&f, "t1", "{\"seconds\":30}", 500), -ETIMEDOUT,
		     "Sandbox.Timedout", "Task timed out after 0.50 seconds");
	OWS_CHECK_INT(invoke(&f, "t2", "{}", 2, 0), -EPIPE);
	fx_done(&f);
}

static void close_timer_cb(uv_timer_t *t)
{
	struct fx *f = t->data;

	ows__runtime_api_close(f->api, api_closed_cb);
	uv_close((uv_handle_t *)t, NULL);
}

OWS_TEST(runtime_api_py_close_outstanding)
{
	struct fx f;
	uv_timer_t t;

	fx_init(&f);
	spawn(&f, "python3", PY_ROOT, "app.sleep");
	OWS_CHECK_INT(invoke(&f, "c1", "{\"seconds\":30}", 14, 0), 0);
	RUN_UNTIL(&f, f.ready);
	/* Close while the handler sleeps with the invocation. */
	uv_timer_init(&f.loop, &t);
	t.data = &f;
	uv_timer_start(&t, close_timer_cb, 200, 0);
	RUN_UNTIL(&f, f.n_res == 1);
	check_failed(&f.res[0], -ECANCELED, "Runtime.Closed", "c1");
	RUN_UNTIL(&f, f.api_closed);
	uv_process_kill(&f.proc, SIGKILL);
	RUN_UNTIL(&f, f.exited);
	OWS_CHECK_INT(f.term_signal, SIGKILL);
	OWS_CHECK_INT(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	/* Kept-alive client connections go first. */
	ows_http_client_close_idle(&f.loop);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	OWS_CHECK_INT(uv_loop_close(&f.loop), 0);
	free(f.res[0].request_id);
	free(f.res[0].error_type);
	free(f.res[0].function_error);
	free(f.res[0].body);
	ows_buf_free(&f.stdout_text);
}

/* ---- nodejs bootstrap ---- */

#define NODE_ROOT "tests/fixtures/node_echo"

OWS_TEST(runtime_api_node_async)
{
	struct fx f;
	const char *ev = "{\"hello\":\"w\\u00f6rld\",\"n\":[1,2.5,null]}";

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.echo");
	check_ok(call(&f, "n1", ev, 5000));
	check_same_json(&f.res[0], ev);
	/* Warm: the same process answers again. */
	check_ok(call(&f, "n2", "[1,2]", 5000));
	check_same_json(&f.res[1], "[1,2]");
	OWS_CHECK_INT(f.ready, 1);
	fx_done(&f);
}

OWS_TEST(runtime_api_node_context)
{
	struct fx f;
	struct result *r;
	json_t *doc;
	json_int_t left;

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.ctx");
	r = call(&f, "nctx-1", "{}", 5000);
	check_ok(r);
	doc = parse(r);
	OWS_CHECK_STR(ows_json_str(doc, "request_id"), "nctx-1");
	OWS_CHECK_STR(ows_json_str(doc, "function_name"), "fn-test");
	OWS_CHECK_STR(ows_json_str(doc, "memory"), "256");
	OWS_CHECK(json_is_true(json_object_get(doc, "waits")));
	left = json_integer_value(json_object_get(doc, "remaining"));
	OWS_CHECK(left > 0 && left <= 5000);
	OWS_CHECK_INT(json_integer_value(json_object_get(doc, "pid")),
		      f.proc.pid);
	json_decref(doc);
	OWS_CHECK(f.stdout_text.data != NULL &&
		  strstr(f.stdout_text.data, "ctx called for nctx-1") != NULL);
	fx_done(&f);
}

/*
 * console.* print Lambda's "TIME\tID\tLEVEL\t" prefix (log and info are
 * INFO), process.stdout.write does not; the client context reaches
 * context.clientContext.
 */
OWS_TEST(runtime_api_node_logging_and_client_context)
{
	struct fx f;
	const char *out;

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.logs");
	check_ok(call_cc(&f, "nl-1", CC_JSON));
	check_same_json(&f.res[0], CC_JSON);
	check_ok(call(&f, "nl-2", "{}", 5000));
	OWS_CHECK_STR(f.res[1].body, "null");
	out = f.stdout_text.data;
	OWS_CHECK(out != NULL);
	OWS_CHECK(has_log_line(out, "", "\tnl-1\tINFO\tlog 1"));
	OWS_CHECK(has_log_line(out, "", "\tnl-1\tINFO\tinfo"));
	OWS_CHECK(has_log_line(out, "", "\tnl-1\tWARN\twarn"));
	OWS_CHECK(has_log_line(out, "", "\tnl-1\tERROR\terror"));
	OWS_CHECK(has_log_line(out, "", "\tnl-2\tINFO\tlog 1"));
	OWS_CHECK(has_line(out, "plain write"));
	fx_done(&f);
}

OWS_TEST(runtime_api_node_callback)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.callback");
	check_ok(call(&f, "cb1", "{\"k\":1}", 5000));
	check_same_json(&f.res[0],
			"{\"via\":\"callback\",\"event\":{\"k\":1}}");
	fx_done(&f);
	/* callbackWaitsForEmptyEventLoop: the pending timer runs first. */
	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.waits");
	check_ok(call(&f, "cb2", "{}", 5000));
	check_same_json(&f.res[0], "{\"timerRan\":true}");
	fx_done(&f);
}

OWS_TEST(runtime_api_node_errors)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.throws");
	check_fn_error(call(&f, "ne1", "{}", 5000), "TypeError", "nope",
		       "trace");
	OWS_CHECK(strstr(f.res[0].body, "index.js") != NULL);
	fx_done(&f);
	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.rejects");
	check_fn_error(call(&f, "ne2", "{}", 5000), "RangeError", "async nope",
		       "trace");
	fx_done(&f);
	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.cberror");
	check_fn_error(call(&f, "ne3", "{}", 5000), "Error", "cb nope",
		       "trace");
	/* Still serving after an error. */
	check_fn_error(call(&f, "ne4", "{}", 5000), "Error", "cb nope",
		       "trace");
	fx_done(&f);
}

OWS_TEST(runtime_api_node_init_error)
{
	check_init_error("nodejs", NODE_ROOT, "nosuch.handler",
			 "Runtime.ImportModuleError");
	check_init_error("nodejs", NODE_ROOT, "index.missing",
			 "Runtime.HandlerNotFound");
	check_init_error("nodejs", NODE_ROOT, "broken.handler", "Error");
}

OWS_TEST(runtime_api_node_esm_nested)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "esm.handler");
	check_ok(call(&f, "m1", "7", 5000));
	check_same_json(&f.res[0], "{\"esm\":true,\"event\":7}");
	fx_done(&f);
	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.nested.deep");
	check_ok(call(&f, "m2", "{}", 5000));
	OWS_CHECK_STR(f.res[0].body, "\"deep\"");
	fx_done(&f);
}

/*
 * A .js file in a "type": "module" package, with top-level await: loaded
 * through import(), as on Lambda (require() would refuse it, or on newer
 * nodes fail on the await).
 */
OWS_TEST(runtime_api_node_esm_package_top_level_await)
{
	struct fx f;

	fx_init(&f);
	spawn(&f, "nodejs", "tests/fixtures/node_esm_pkg", "index.handler");
	check_ok(call(&f, "tla-1", "[1]", 5000));
	check_same_json(&f.res[0],
			"{\"loadedBy\":\"top-level await\",\"event\":[1]}");
	fx_done(&f);
}

OWS_TEST(runtime_api_node_too_big_and_exit)
{
	struct fx f;
	char ev[64];

	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.big");
	snprintf(ev, sizeof(ev), "{\"n\":%d}", OWS_RUNTIME_MAX_PAYLOAD + 1);
	check_failed(call(&f, "nb1", ev, 10000), -EMSGSIZE,
		     "Function.ResponseSizeTooLarge", "6291556 bytes");
	check_ok(call(&f, "nb2", "{\"n\":2}", 10000));
	OWS_CHECK_STR(f.res[1].body, "\"xx\"");
	fx_done(&f);
	fx_init(&f);
	spawn(&f, "nodejs", NODE_ROOT, "index.die");
	check_failed(call(&f, "nx1", "{}", 5000), -EPIPE, "Runtime.ExitError",
		     "exit status 3");
	fx_done(&f);
}
