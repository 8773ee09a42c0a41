/*
 * Internals shared by the pool's files: the pool and its queue (pool.c),
 * one instance's process, pipes and lifetime (instance.c), and the kept
 * logs (logs.c).
 */
#ifndef OWS_FN_POOL_PRIV_H
#define OWS_FN_POOL_PRIV_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/list.h"
#include "fn/netns.h"
#include "fn/pool.h"
#include "fn/runtime_api.h"
#include "fn/sandbox_priv.h"

#define MAX_REQUEST_ID 64

/* A copied configuration, shared by the instances started with it. */
struct pool_conf {
	int refs;
	struct ows_fn_config c; /* pointers into the storage below */
	char **strings;		/* every owned string, NULL-terminated */
	size_t n_strings;
	struct ows_fn_env *env;
	const char **command;
	bool http;
};

enum waiter_kind { WAIT_INVOKE, WAIT_HTTP };

/* A request: queued, running on an instance, or about to be answered. */
struct waiter {
	struct ows_link link;
	enum waiter_kind kind;
	char request_id[MAX_REQUEST_ID + 1];
	char *payload;
	size_t len;
	char *client_context; /* compact JSON, or NULL */
	ows_fn_result_cb cb;
	ows_fn_http_cb http_cb;
	void *ud;
	int status; /* for a deferred failure */
};

/* One invocation's log while it is written. */
struct log_record {
	uint64_t seq;
	int64_t time_ms;
	char *request_id;
	struct ows_buf text;
	bool truncated;
};

struct fn_logs {
	struct log_record *ring[OWS_FN_LOG_KEEP];
	size_t head, n; /* oldest at head */
	uint64_t last_seq;
};

/*
 * A launcher started ahead of need (spare.c), waiting for its spec. The
 * process handle comes first: whoever owns the spare frees it from the
 * handle's close callback. Once taken, the instance owns the handle and
 * the descriptors.
 */
struct ows_fn_spare {
	uv_process_t proc;
	struct ows_link link;
	struct ows_fn_spares *owner;
	bool taken;
	int out[2];  /* the node's ends of stdout and stderr */
	int spec_fd; /* the node's end of the launcher's spec socket */
	struct ows_sandbox_cgroup cg; /* no memory limit until taken */
	struct ows_fn_netns ns;	      /* the launcher is in it already */
};

enum inst_state { INST_STARTING, INST_READY, INST_STOPPING };

/* The node's AWS endpoint inside one instance's namespace. */
struct inst_edge {
	struct ows_http_server srv;
	struct ows_fn_instance *inst;
};

struct ows_fn_instance {
	struct ows_link link; /* pool->instances */
	struct ows_fn_pool *pool;
	struct pool_conf *conf;
	unsigned gen;
	enum inst_state state;
	uint64_t id;
	struct ows_sandbox_cgroup cg;
	struct ows_fn_netns ns;
	bool frozen; /* between invocations (cgroup freezer) */
	int64_t creds_expire; /* Unix seconds; 0: no credentials */
	struct ows_runtime_api *api; /* NULL for http or once closed */
	struct inst_edge *edge;	     /* NULL when none or once closed */
	uv_process_t *proc; /* its own allocation (maybe a spare's), freed
			       when closed; NULL until spawned */
	uv_pipe_t out[2]; /* stdout, stderr */
	uv_timer_t timer; /* idle, or the http readiness poll */
	uv_timer_t freeze_timer; /* http: freezes it after a quiet moment */
	uv_tcp_t probe;
	uv_connect_t connect;
	int open_handles;
	bool spawned, exited, probe_open, closed_all;
	int64_t exit_status;
	int term_signal;
	uint64_t spawn_ns, ready_ns, w_start_ns; /* uv_hrtime */
	int port;
	char addr[32];
	/*
	 * busy: serving an invocation; w: the invocation it runs. http:
	 * lessees, the acquirers promised this instance and not answered yet
	 * (answered together once it is ready); leases, the loans not given
	 * back. inst_busy() tells either kind of work.
	 */
	bool busy;
	struct waiter *w;
	struct ows_link lessees;
	unsigned n_lessees, leases;
	bool cold, started_line;
	struct log_record *rec;
	struct log_record *stray; /* output between invocations */
};

struct ows_fn_pool {
	uv_loop_t *loop;
	struct pool_conf *conf;
	unsigned gen;
	struct ows_link instances;
	struct ows_link queue;
	unsigned n_queued;
	struct ows_link deferred; /* answers to give from the loop */
	uv_timer_t defer;
	uint64_t next_id, started;
	bool closing;
	void (*close_cb)(void *ud);
	void *close_ud;
	struct fn_logs logs;
};

/* pool.c */
void ows__fn_pool_pump(struct ows_fn_pool *pool);
void ows__fn_pool_instance_gone(struct ows_fn_pool *pool);
void ows__fn_pool_defer(struct ows_fn_pool *pool, struct waiter *w);
void ows__fn_waiter_free(struct waiter *w);
void ows__fn_conf_unref(struct pool_conf *conf);
unsigned ows_fn_pool_live(const struct ows_fn_pool *pool);
int64_t ows_fn_now_ms(void);	  /* monotonic */
int64_t ows__fn_unix_ms(void);

/* spare.c: a spare ready to use, or NULL; the caller owns it. */
struct ows_fn_spare *ows__fn_spare_take(struct ows_fn_spares *s);
/* Whether the taken spare took its spec (see spare.c). */
void ows__fn_spare_result(struct ows_fn_spare *sp, bool ok);

/* instance.c */
int ows__fn_instance_start(struct ows_fn_pool *pool,
			   struct ows_fn_instance **out);
/* Give w to inst (which must be free); 0 or -errno (w not taken). */
int ows__fn_instance_assign(struct ows_fn_instance *inst, struct waiter *w);
void ows__fn_instance_stop(struct ows_fn_instance *inst);
/* inst has nothing to do: idle it, or stop it when it is stale. */
void ows__fn_instance_idle(struct ows_fn_instance *inst);
/* Is inst serving, lent or promised? */
static inline bool inst_busy(const struct ows_fn_instance *i)
{
	return i->busy || i->leases > 0 || i->n_lessees > 0;
}

/* Answer the http acquirers of inst from the loop. */
void ows__fn_instance_lease_soon(struct ows_fn_instance *inst);
/* http: may inst take one more request? */
bool ows__fn_instance_has_room(const struct ows_fn_instance *inst);
/* An http lease ends. */
void ows__fn_instance_release(struct ows_fn_instance *inst);

/*
 * Freeze inst between invocations, or thaw it before one (a no-op when it
 * already is so, or when the host has no freezer).
 */
void ows__fn_instance_freeze(struct ows_fn_instance *inst, bool frozen);
/*
 * Once init is over: limit inst's CPU in proportion to its memory, as
 * Lambda does (one CPU at 1769 MB), so that init runs unthrottled.
 */
void ows__fn_instance_limit_cpu(struct ows_fn_instance *inst);

/* Serve the node's AWS endpoint in inst's namespace (when configured). */
int ows__fn_instance_edge_new(struct ows_fn_instance *inst);

/* instance_spawn.c calls back into instance.c */
int ows__fn_instance_api_new(struct ows_fn_instance *inst);
void ows__fn_instance_exit_cb(uv_process_t *p, int64_t status, int sig);
void ows__fn_instance_read_start(struct ows_fn_instance *inst);
void ows__fn_instance_probe(struct ows_fn_instance *inst);
/* instance_invoke.c calls back into instance.c */
void ows__fn_instance_drain(struct ows_fn_instance *inst);
void ows__fn_instance_flush_stray(struct ows_fn_instance *inst);

/* logs.c */
void ows__fn_logs_free(struct fn_logs *logs);
struct log_record *ows__fn_log_open(const char *request_id);
void ows__fn_log_append(struct log_record *rec, const void *data, size_t len);
void ows__fn_log_printf(struct log_record *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Keep rec (taken) as the newest record; returns its seq. */
uint64_t ows__fn_log_commit(struct fn_logs *logs, struct log_record *rec);
void ows__fn_log_free(struct log_record *rec);

#endif
