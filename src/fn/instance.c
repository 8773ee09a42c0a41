/*
 * One running function instance, from ready to gone: its output (kept as
 * the log of the invocation it runs), its invocations through the Runtime
 * API (or, for the http runtime, its readiness poll and its leases), the
 * end of each invocation (the result Lambda would give, END and REPORT),
 * idling, and stopping. An instance is freed only from the close callbacks
 * of its handles (or, for http, the end of its last loan, since the gateway
 * holds a lent instance until it gives it back), so every callback that may
 * reach user code (and through it ows_fn_pool_close) leaves the instance
 * valid until it returns; stopping is idempotent. Starting is in
 * instance_spawn.c.
 */
#include "fn/pool_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"

#define READ_CHUNK 65536
#define PROBE_EVERY_MS 20
#define MIN_START_S 10 /* an http app gets at least this to listen */
#define CREDS_MARGIN_S 3600 /* stop idle instances this long before */

static char read_mem[READ_CHUNK]; /* output is copied out at once */

/* ---- output ---- */

static void take_output(struct ows_fn_instance *inst, const char *data,
			size_t len)
{
	if (inst->rec != NULL) {
		ows__fn_log_append(inst->rec, data, len);
		return;
	}
	if (inst->stray == NULL)
		inst->stray = ows__fn_log_open(NULL);
	ows__fn_log_append(inst->stray, data, len);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init(read_mem, sizeof(read_mem));
}

static void handle_closed(uv_handle_t *h);

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	if (n > 0)
		take_output(s->data, buf->base, (size_t)n);
	else if (n < 0 && !uv_is_closing((uv_handle_t *)s))
		uv_close((uv_handle_t *)s, handle_closed);
}

void ows__fn_instance_read_start(struct ows_fn_instance *inst)
{
	for (int i = 0; i < 2; i++)
		uv_read_start((uv_stream_t *)&inst->out[i], alloc_cb, read_cb);
}

/*
 * The function wrote its output before it answered or died, but the loop
 * may see the answer first: read what the pipes hold before closing the
 * invocation's log.
 */
void ows__fn_instance_drain(struct ows_fn_instance *inst)
{
	for (int i = 0; i < 2; i++) {
		uv_os_fd_t fd;
		ssize_t n;

		if (uv_is_closing((uv_handle_t *)&inst->out[i]) ||
		    uv_fileno((uv_handle_t *)&inst->out[i], &fd) != 0)
			continue;
		while ((n = read(fd, read_mem, sizeof(read_mem))) > 0)
			take_output(inst, read_mem, (size_t)n);
	}
}

void ows__fn_instance_flush_stray(struct ows_fn_instance *inst)
{
	struct log_record *rec = inst->stray;

	inst->stray = NULL;
	if (rec != NULL && rec->text.len > 0)
		ows__fn_log_commit(&inst->pool->logs, rec);
	else
		ows__fn_log_free(rec);
}

/* ---- end of life ---- */

static void instance_free(struct ows_fn_instance *inst)
{
	struct ows_fn_pool *pool = inst->pool;

	ows__sandbox_cgroup_destroy(&inst->cg);
	ows__fn_netns_close(&inst->ns);
	ows_list_remove(&inst->link);
	ows__fn_log_free(inst->rec);
	ows__fn_log_free(inst->stray);
	ows__fn_conf_unref(inst->conf);
	free(inst);
	ows__fn_pool_instance_gone(pool);
}

static void handle_closed(uv_handle_t *h)
{
	struct ows_fn_instance *inst = h->data;

	if (--inst->open_handles == 0 && inst->leases == 0)
		instance_free(inst);
}

static void api_closed(void *ud)
{
	struct ows_fn_instance *inst = ud;

	if (--inst->open_handles == 0 && inst->leases == 0)
		instance_free(inst);
}

static void probe_closed(uv_handle_t *h)
{
	struct ows_fn_instance *inst = h->data;

	inst->probe_open = false;
	handle_closed(h);
}

static void edge_closed(struct ows_http_server *srv)
{
	struct inst_edge *e = (struct inst_edge *)srv;
	struct ows_fn_instance *inst = e->inst;

	free(e);
	if (--inst->open_handles == 0 && inst->leases == 0)
		instance_free(inst);
}

/* A listener that never served: its data is the inst_edge. */
static void edge_failed(uv_handle_t *h)
{
	free(h->data);
}

int ows__fn_instance_edge_new(struct ows_fn_instance *inst)
{
	const struct ows_fn_config *c = &inst->conf->c;
	struct inst_edge *e;
	int fd, rv;

	if (c->edge_handler == NULL)
		return 0;
	fd = ows__fn_netns_listen(&inst->ns, OWS_FN_EDGE_PORT);
	if (fd < 0)
		return fd;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		close(fd);
		return -ENOMEM;
	}
	e->inst = inst;
	rv = ows_http_server_init(&e->srv, inst->pool->loop, NULL,
				  c->edge_handler, c->edge_ud);
	if (rv != 0) {
		close(fd);
		free(e);
		return rv;
	}
	/* aws:SourceIp of its calls is the instance's address, not loopback */
	if (inst->ns.veth)
		snprintf(e->srv.peer_as, sizeof(e->srv.peer_as), "%s:0",
			 inst->ns.addr);
	rv = ows_http_server_open(&e->srv, fd);
	if (rv != 0) {
		if (uv_fileno((uv_handle_t *)&e->srv.listener,
			      &(uv_os_fd_t){0}) != 0)
			close(fd); /* not taken by the handle */
		e->srv.listener.data = e;
		uv_close((uv_handle_t *)&e->srv.listener, edge_failed);
		return rv;
	}
	inst->edge = e;
	inst->open_handles++;
	return 0;
}

/* The process handle is its own allocation (a spare's, maybe). */
static void proc_closed(uv_handle_t *h)
{
	struct ows_fn_instance *inst = h->data;

	free(h);
	if (--inst->open_handles == 0 && inst->leases == 0)
		instance_free(inst);
}

static void close_handle(struct ows_fn_instance *inst, uv_handle_t *h)
{
	(void)inst;
	if (!uv_is_closing(h))
		uv_close(h, handle_closed);
}

/* The process is gone (or never was): close everything, once. */
static void close_all(struct ows_fn_instance *inst)
{
	if (inst->closed_all)
		return;
	inst->closed_all = true;
	ows__fn_instance_drain(inst);
	ows__fn_instance_flush_stray(inst);
	close_handle(inst, (uv_handle_t *)&inst->timer);
	close_handle(inst, (uv_handle_t *)&inst->freeze_timer);
	close_handle(inst, (uv_handle_t *)&inst->out[0]);
	close_handle(inst, (uv_handle_t *)&inst->out[1]);
	if (inst->proc != NULL && !uv_is_closing((uv_handle_t *)inst->proc))
		uv_close((uv_handle_t *)inst->proc, proc_closed);
	if (inst->probe_open && !uv_is_closing((uv_handle_t *)&inst->probe))
		uv_close((uv_handle_t *)&inst->probe, probe_closed);
}

/* The http acquirers that will not get this instance. */
static void fail_acquirers(struct ows_fn_instance *inst, int status)
{
	while (inst->lessees.next != &inst->lessees) {
		struct waiter *w = OWS_CONTAINER_OF(inst->lessees.next,
						    struct waiter, link);

		ows_list_remove(&w->link);
		inst->n_lessees--;
		w->status = status;
		ows__fn_pool_defer(inst->pool, w);
	}
}

void ows__fn_instance_stop(struct ows_fn_instance *inst)
{
	struct ows_runtime_api *api = inst->api;

	if (inst->state == INST_STOPPING)
		return;
	inst->state = INST_STOPPING;
	uv_timer_stop(&inst->timer);
	fail_acquirers(inst, inst->pool->closing ? -ECANCELED : -EPIPE);
	if (api != NULL) {
		/* fails a running invocation with Runtime.Closed */
		inst->api = NULL;
		ows__runtime_api_close(api, api_closed);
	}
	if (inst->edge != NULL) {
		struct inst_edge *e = inst->edge;

		inst->edge = NULL;
		ows_http_server_close(&e->srv, edge_closed);
	}
	if (inst->spawned && !inst->exited) {
		uv_process_kill(inst->proc, SIGKILL);
		ows__sandbox_cgroup_kill_all(&inst->cg);
		return; /* the exit callback closes the rest */
	}
	close_all(inst);
}

/*
 * The launcher ended: the instance is dead. A running invocation fails
 * (instance_invoke.c turns that into Runtime.ExitError or OutOfMemory).
 */
void ows__fn_instance_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct ows_fn_instance *inst = p->data;

	inst->exited = true;
	inst->exit_status = status;
	inst->term_signal = sig;
	ows__fn_instance_drain(inst);
	if (inst->api != NULL)
		ows__runtime_api_instance_exited(inst->api, status, sig);
	if (inst->state != INST_STOPPING)
		ows__fn_instance_stop(inst);
	else
		close_all(inst);
}

/* ---- CPU ---- */

#define LAMBDA_MB_PER_CPU 1769
#define MIN_MILLICPUS 20

void ows__fn_instance_freeze(struct ows_fn_instance *inst, bool frozen)
{
	if (!frozen)
		uv_timer_stop(&inst->freeze_timer);
	if (inst->frozen == frozen)
		return;
	if (ows__sandbox_cgroup_freeze(&inst->cg, frozen) == 0 || !frozen)
		inst->frozen = frozen;
}

void ows__fn_instance_limit_cpu(struct ows_fn_instance *inst)
{
	uint64_t m = (uint64_t)inst->conf->c.memory_mb * 1000 /
		     LAMBDA_MB_PER_CPU;

	ows__sandbox_cgroup_cpu(&inst->cg, m < MIN_MILLICPUS
					      ? MIN_MILLICPUS : (unsigned)m);
}

/*
 * An http instance between requests is frozen once it has been quiet for
 * HTTP_FREEZE_MS: under steady load it goes from no request to the next
 * many thousand times a second, and freezing and thawing each time would
 * cost the node more than the instance's CPU is worth (Cloud Run too
 * throttles an idle instance's CPU, not at each request's end). A Lambda-
 * style instance is frozen at once, as on Lambda.
 */
#define HTTP_FREEZE_MS 20

static void freeze_cb(uv_timer_t *t)
{
	struct ows_fn_instance *inst = t->data;

	if (inst->state == INST_READY && !inst_busy(inst))
		ows__fn_instance_freeze(inst, true);
}

static void http_quiet(struct ows_fn_instance *inst)
{
	if (!inst->frozen && inst->state == INST_READY)
		uv_timer_start(&inst->freeze_timer, freeze_cb, HTTP_FREEZE_MS,
			       0);
}

/* ---- idling ---- */

static void idle_cb(uv_timer_t *t)
{
	struct ows_fn_instance *inst = t->data;

	if (inst->state == INST_READY && !inst_busy(inst))
		ows__fn_instance_stop(inst);
}

void ows__fn_instance_idle(struct ows_fn_instance *inst)
{
	struct ows_fn_pool *pool = inst->pool;
	unsigned warm = 0;

	if (inst->state != INST_READY)
		return;
	/* Its credentials would expire: a fresh instance gets new ones. */
	if (pool->closing || inst->gen != pool->gen ||
	    (inst->creds_expire != 0 &&
	     ows__fn_unix_ms() / 1000 > inst->creds_expire - CREDS_MARGIN_S)) {
		ows__fn_instance_stop(inst);
		return;
	}
	/* The oldest min_instances instances stay; the others may go. */
	for (struct ows_link *l = pool->instances.next; l != &inst->link;
	     l = l->next) {
		struct ows_fn_instance *i =
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link);

		warm += i->state != INST_STOPPING && i->gen == pool->gen;
	}
	if (warm < pool->conf->c.min_instances) {
		/* kept warm, but not past its credentials */
		if (inst->creds_expire != 0) {
			int64_t left = inst->creds_expire - CREDS_MARGIN_S -
				       ows__fn_unix_ms() / 1000;

			uv_timer_start(&inst->timer, idle_cb,
				       left > 0 ? (uint64_t)left * 1000 : 0, 0);
		}
		return;
	}
	uv_timer_start(&inst->timer, idle_cb,
		       (uint64_t)inst->conf->c.idle_s * 1000, 0);
}

/* ---- the http runtime ---- */

bool ows__fn_instance_has_room(const struct ows_fn_instance *inst)
{
	return inst->state != INST_STOPPING &&
	       inst->leases + inst->n_lessees <
		   inst->conf->c.requests_per_instance;
}

/* Lend inst to each acquirer promised it. */
static void lease_cb(uv_timer_t *t)
{
	struct ows_fn_instance *inst = t->data;

	while (inst->state == INST_READY &&
	       inst->lessees.next != &inst->lessees) {
		struct waiter *w = OWS_CONTAINER_OF(inst->lessees.next,
						    struct waiter, link);

		ows_list_remove(&w->link);
		inst->n_lessees--;
		inst->leases++;
		ows__fn_instance_freeze(inst, false);
		/* may give it back at once, or lead to more acquires */
		w->http_cb(w->ud, 0, inst, inst->addr);
		ows__fn_waiter_free(w);
	}
}

void ows__fn_instance_lease_soon(struct ows_fn_instance *inst)
{
	/* not from inside the caller's acquire */
	uv_timer_start(&inst->timer, lease_cb, 0, 0);
}

static void http_ready(struct ows_fn_instance *inst)
{
	inst->state = INST_READY;
	inst->ready_ns = uv_hrtime();
	ows__fn_instance_limit_cpu(inst);
	uv_timer_stop(&inst->timer);
	lease_cb(&inst->timer);
	if (inst->state != INST_READY)
		return;
	if (!inst_busy(inst)) {
		http_quiet(inst);
		ows__fn_instance_idle(inst);
	}
	ows__fn_pool_pump(inst->pool);
}

static void probe_timer_cb(uv_timer_t *t);

static void connect_cb(uv_connect_t *req, int status)
{
	struct ows_fn_instance *inst = req->data;

	if (status == UV_ECANCELED || inst->state == INST_STOPPING)
		return;
	uv_close((uv_handle_t *)&inst->probe, probe_closed);
	if (status == 0)
		http_ready(inst);
	else
		uv_timer_start(&inst->timer, probe_timer_cb, PROBE_EVERY_MS, 0);
}

/* Ready when the port takes a connection, within the start limit. */
void ows__fn_instance_probe(struct ows_fn_instance *inst)
{
	unsigned secs = inst->conf->c.timeout_s > MIN_START_S
			    ? inst->conf->c.timeout_s : MIN_START_S;
	struct sockaddr_in sa;

	if (uv_hrtime() - inst->spawn_ns > (uint64_t)secs * 1000000000u) {
		fail_acquirers(inst, -ETIMEDOUT);
		ows__fn_instance_stop(inst);
		return;
	}
	if (inst->probe_open) {
		/* the last attempt's handle is still closing */
		uv_timer_start(&inst->timer, probe_timer_cb, 1, 0);
		return;
	}
	uv_ip4_addr(inst->ns.addr, inst->port, &sa);
	uv_tcp_init(inst->pool->loop, &inst->probe);
	inst->probe.data = inst;
	inst->probe_open = true;
	inst->open_handles++;
	inst->connect.data = inst;
	if (uv_tcp_connect(&inst->connect, &inst->probe,
			   (struct sockaddr *)&sa, connect_cb) != 0) {
		uv_close((uv_handle_t *)&inst->probe, probe_closed);
		uv_timer_start(&inst->timer, probe_timer_cb, PROBE_EVERY_MS, 0);
	}
}

static void probe_timer_cb(uv_timer_t *t)
{
	ows__fn_instance_probe(t->data);
}

/*
 * A loan ends. An instance that died meanwhile is freed by the last of
 * its handles to close or its last loan to end, whichever comes last.
 */
void ows__fn_instance_release(struct ows_fn_instance *inst)
{
	if (inst->leases > 0)
		inst->leases--;
	if (inst->state == INST_STOPPING) {
		if (inst->open_handles == 0 && inst->leases == 0)
			instance_free(inst);
		return;
	}
	if (!inst_busy(inst)) {
		http_quiet(inst);
		ows__fn_instance_idle(inst);
	}
	ows__fn_pool_pump(inst->pool);
}
