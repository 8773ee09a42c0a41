/*
 * Invocations on a Lambda-style instance (python3, nodejs, provided): the
 * instance's Runtime API server, handing a request to it, and turning what
 * comes back into the result Lambda gives, with the invocation's log framed
 * as Lambda frames it:
 *
 *   START RequestId: <id> Version: <$LATEST or the published version>
 *   ...the function's output...
 *   END RequestId: <id>
 *   REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\t
 *     Memory Size: 128 MB\tMax Memory Used: 20 MB\t[Init Duration: ...]
 *
 * A timeout, an exit or an init error leaves the instance unusable: it is
 * stopped, and the next request gets a fresh one.
 */
#include "fn/pool_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fs.h"
#include "common/json.h"

static double ms_since(uint64_t from_ns)
{
	return (double)(uv_hrtime() - from_ns) / 1e6;
}

/* The cgroup's peak memory, in MB (Lambda's "Max Memory Used"). */
static unsigned long long peak_mb(const struct ows_sandbox_cgroup *cg)
{
	struct ows_buf b = OWS_BUF_INIT;
	char path[OWS_SANDBOX_CGROUP_PATH + 32];
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "%s/%s", cg->dir,
		 cg->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes");
	if (ows_file_read(path, 64, &b) == 0 && b.data != NULL)
		v = strtoull(b.data, NULL, 10);
	ows_buf_free(&b);
	return (v + (1u << 20) - 1) >> 20;
}

/* Lambda bills by the millisecond, rounded up. */
static long long billed_ms(double ms)
{
	long long whole = (long long)ms;

	return whole + (ms > (double)whole);
}

static void start_line(struct ows_fn_instance *inst)
{
	if (inst->started_line || inst->rec == NULL)
		return;
	inst->started_line = true;
	ows__fn_log_printf(inst->rec, "START RequestId: %s Version: %s\n",
			   inst->w->request_id, inst->conf->c.version != NULL ?
			   inst->conf->c.version : "$LATEST");
}

static void ready_cb(struct ows_runtime_api *api, void *ud)
{
	struct ows_fn_instance *inst = ud;

	(void)api;
	if (inst->state != INST_STARTING)
		return;
	inst->state = INST_READY;
	inst->ready_ns = uv_hrtime();
	ows__fn_instance_limit_cpu(inst);
	if (inst->w != NULL) {
		start_line(inst);
		return;
	}
	ows__fn_instance_idle(inst);
	ows__fn_pool_pump(inst->pool);
}

/* Between invocations the instance gets no CPU, as on Lambda. */
static void wait_cb(struct ows_runtime_api *api, void *ud)
{
	struct ows_fn_instance *inst = ud;

	(void)api;
	if (inst->state == INST_READY && !inst->busy)
		ows__fn_instance_freeze(inst, true);
}

/* The Runtime API on 127.0.0.1:9001 of the instance's own namespace. */
int ows__fn_instance_api_new(struct ows_fn_instance *inst)
{
	static const struct ows_runtime_api_cbs cbs = {ready_cb, NULL,
						       wait_cb};
	int fd = ows__fn_netns_listen(&inst->ns, OWS_FN_RUNTIME_PORT), rv;

	if (fd < 0)
		return fd;
	rv = ows__runtime_api_open(inst->pool->loop, fd, &cbs, inst,
				   &inst->api);
	if (rv == 0)
		inst->open_handles++;
	return rv;
}

/* Go's names for signals, which Lambda's messages use. */
static const char *signal_name(int sig, char *buf, size_t size)
{
	switch (sig) {
	case SIGKILL: return "killed";
	case SIGTERM: return "terminated";
	case SIGSEGV: return "segmentation fault";
	case SIGABRT: return "aborted";
	case SIGBUS: return "bus error";
	case SIGILL: return "illegal instruction";
	case SIGFPE: return "floating point exception";
	case SIGINT: return "interrupt";
	case SIGHUP: return "hangup";
	case SIGPIPE: return "broken pipe";
	default: break;
	}
	snprintf(buf, size, "signal %d", sig);
	return buf;
}

/*
 * Why the instance ended, as Lambda says it. The launcher passes the
 * function's death by a signal on as 128 + the signal.
 */
static void exit_reason(const struct ows_fn_instance *inst, char *out,
			size_t size)
{
	int64_t st = inst->exit_status;
	int sig = inst->term_signal;
	char buf[32];

	if (sig == 0 && st > 128 && st < 128 + 65)
		sig = (int)(st - 128);
	if (sig != 0)
		snprintf(out, size, "signal: %s",
			 signal_name(sig, buf, sizeof(buf)));
	else
		snprintf(out, size, "exit status %" PRId64, st);
}

/* The Lambda error document of a dead instance; *type is set. */
static char *exit_doc(struct ows_fn_instance *inst, const char *id,
		      const char **type, int *status, char *msg, size_t size)
{
	char reason[64];
	json_t *o;
	char *doc;

	exit_reason(inst, reason, sizeof(reason));
	*type = "Runtime.ExitError";
	if (ows__sandbox_cgroup_oom_killed(&inst->cg) == 1) {
		*type = "Runtime.OutOfMemory";
		*status = -ENOMEM;
	}
	snprintf(msg, size, "RequestId: %s Error: Runtime exited with error: %s",
		 id, reason);
	o = json_pack("{s:s,s:s}", "errorMessage", msg, "errorType", *type);
	doc = o != NULL ? ows_json_dump(o) : NULL;
	json_decref(o);
	return doc;
}

/* Write the end of the invocation's log; the result gets its tail. */
static void close_log(struct ows_fn_instance *inst, struct ows_fn_result *res,
		      const char *error_line)
{
	struct log_record *rec = inst->rec;
	const struct ows_fn_config *c = &inst->conf->c;
	uint64_t from = inst->w_start_ns;
	size_t tail;

	if (rec == NULL)
		return;
	start_line(inst);
	if (inst->cold && inst->ready_ns > from)
		from = inst->ready_ns;
	res->duration_ms = inst->state == INST_STARTING ? 0 : ms_since(from);
	if (error_line != NULL)
		ows__fn_log_printf(rec, "%s\n", error_line);
	ows__fn_log_printf(rec, "END RequestId: %s\n", res->request_id);
	ows__fn_log_printf(rec,
			   "REPORT RequestId: %s\tDuration: %.2f ms\t"
			   "Billed Duration: %lld ms\tMemory Size: %u MB\t"
			   "Max Memory Used: %llu MB\t",
			   res->request_id, res->duration_ms,
			   billed_ms(res->duration_ms), c->memory_mb,
			   peak_mb(&inst->cg));
	if (inst->cold && inst->ready_ns != 0)
		ows__fn_log_printf(rec, "Init Duration: %.2f ms\t",
				   (double)(inst->ready_ns - inst->spawn_ns) / 1e6);
	ows__fn_log_printf(rec, "\n");
	inst->rec = NULL;
	res->log_seq = ows__fn_log_commit(&inst->pool->logs, rec);
	tail = rec->text.len > OWS_FN_LOG_TAIL ? OWS_FN_LOG_TAIL : rec->text.len;
	res->log_tail = rec->text.data + rec->text.len - tail;
	res->log_tail_len = tail;
}

static void map_kind(const struct ows_runtime_result *r,
		     struct ows_fn_result *res)
{
	res->status = r->status;
	res->error_type = r->error_type;
	res->function_error = r->function_error;
	res->body = r->body;
	res->len = r->len;
	if (r->kind == OWS_RUNTIME_OK)
		res->kind = OWS_FN_OK;
	else if (r->kind == OWS_RUNTIME_FAILED && r->status == -ECANCELED)
		res->kind = OWS_FN_FAILED;
	else
		res->kind = OWS_FN_FUNCTION_ERROR;
}

static void result_cb(void *ud, const struct ows_runtime_result *r)
{
	struct ows_fn_instance *inst = ud;
	struct ows_fn_pool *pool = inst->pool;
	struct waiter *w = inst->w;
	struct ows_fn_result res = {0};
	char *doc = NULL, line[400], *error_line = NULL;
	bool dead = r->kind == OWS_RUNTIME_INIT_ERROR ||
		    (r->kind == OWS_RUNTIME_FAILED && r->status != -EMSGSIZE);

	ows__fn_instance_drain(inst);
	res.request_id = w->request_id;
	map_kind(r, &res);
	if (r->status == -EPIPE) {
		doc = exit_doc(inst, w->request_id, &res.error_type, &res.status,
			       line, sizeof(line));
		res.body = doc != NULL ? doc : r->body;
		res.len = strlen(res.body);
		error_line = line;
	} else if (r->status == -ETIMEDOUT) {
		/* "<id> Task timed out after 1.00 seconds", as Lambda logs */
		const char *msg = strstr(r->body, "Task timed out");

		snprintf(line, sizeof(line), "%s %.*s", w->request_id,
			 msg != NULL ? (int)strcspn(msg, "\"") : 0,
			 msg != NULL ? msg : "");
		error_line = line;
	}
	close_log(inst, &res, error_line);
	inst->w = NULL;
	inst->busy = false;
	if (dead)
		ows__fn_instance_stop(inst);
	else
		ows__fn_instance_idle(inst);
	w->cb(w->ud, &res);
	ows__fn_waiter_free(w);
	free(doc);
	ows__fn_pool_pump(pool);
}

static int invoke(struct ows_fn_instance *inst, struct waiter *w)
{
	const struct ows_fn_config *c = &inst->conf->c;
	struct ows_runtime_invocation inv = {0};
	char arn[160];

	snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:000000000000:function:%s",
		 c->region, c->name);
	inv.request_id = w->request_id;
	inv.payload = w->payload;
	inv.len = w->len;
	inv.deadline_ms = ows__fn_unix_ms() + (int64_t)c->timeout_s * 1000;
	inv.function_arn = arn;
	inv.client_context = w->client_context;
	return ows__runtime_api_invoke(inst->api, &inv, result_cb, inst);
}

int ows__fn_instance_assign(struct ows_fn_instance *inst, struct waiter *w)
{
	int rv;

	if (w->kind == WAIT_HTTP) {
		/* answered once the instance listens, from the loop */
		if (inst->n_lessees++ == 0 && inst->state == INST_READY)
			ows__fn_instance_lease_soon(inst);
		ows_list_append(&inst->lessees, &w->link);
		return 0;
	}
	inst->busy = true;
	inst->w = w;
	ows__fn_instance_freeze(inst, false);
	uv_timer_stop(&inst->timer);
	ows__fn_instance_flush_stray(inst);
	inst->rec = ows__fn_log_open(w->request_id);
	inst->started_line = false;
	inst->cold = inst->state == INST_STARTING;
	inst->w_start_ns = uv_hrtime();
	rv = inst->rec == NULL ? -ENOMEM : invoke(inst, w);
	if (rv != 0) {
		ows__fn_log_free(inst->rec);
		inst->rec = NULL;
		inst->w = NULL;
		inst->busy = false;
		ows__fn_instance_idle(inst);
		return rv;
	}
	if (inst->state == INST_READY)
		start_line(inst);
	return 0;
}
