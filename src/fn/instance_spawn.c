/*
 * Starting one function instance: its cgroup (memory_mb and a process
 * limit), its network namespace (netns.h), the environment Lambda gives a runtime (or $PORT for the http
 * runtime), the sandbox spec, and the launcher, `owsd sandbox-exec
 * --spec-fd 3`, spawned with uv_spawn so that libuv reaps it, its stdout
 * and stderr on pipes the pool reads as the instance's log -- or, when the
 * node keeps spare launchers (spare.c), one of those, already in its
 * cgroup, which gets the memory limit and then the spec. The spec goes on
 * a plain pipe: it is small, so it fits in the pipe's buffer and no writer
 * has to wait on the loop.
 */
#include "fn/pool_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/enc.h"

#define SPEC_FD "3"
#define NETNS_FD "4"
#define MAX_SPEC_ON_PIPE 65536 /* the pipe's buffer: written at once */
#define FN_PATH "/usr/local/bin:/usr/bin:/bin"
#define BASE_ENV 24

/* A NULL-terminated list of "NAME=value" strings, built up. */
struct envv {
	char **v;
	size_t n, cap;
	bool nomem;
};

static void env_add(struct envv *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void env_add(struct envv *e, const char *name, const char *fmt, ...)
{
	struct ows_buf b = OWS_BUF_INIT;
	va_list ap;

	if (e->nomem || e->n + 1 >= e->cap) {
		e->nomem = true;
		return;
	}
	ows_buf_printf(&b, "%s=", name);
	va_start(ap, fmt);
	{
		char val[4096];

		vsnprintf(val, sizeof(val), fmt, ap);
		ows_buf_puts(&b, val);
	}
	va_end(ap);
	if (b.data == NULL) {
		e->nomem = true;
		return;
	}
	e->v[e->n++] = b.data;
}

static void env_free(struct envv *e)
{
	for (size_t i = 0; i < e->n; i++) {
		memset(e->v[i], 0, strlen(e->v[i])); /* credentials */
		free(e->v[i]);
	}
	free(e->v);
}

/* "2024/01/31/[$LATEST]<32 hex>", as Lambda names an instance's stream. */
static void stream_name(char *out, size_t size)
{
	char hex[33] = "00000000000000000000000000000000";
	time_t now = time(NULL);
	struct tm tm;

	ows_random_hex(16, hex);
	gmtime_r(&now, &tm);
	snprintf(out, size, "%04d/%02d/%02d/[$LATEST]%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, hex);
}

/*
 * The reserved variables come first: the first of two equal names is the
 * one getenv finds, so a function's own env cannot override them.
 */
static int build_env(struct ows_fn_instance *inst, struct envv *e)
{
	const struct ows_fn_config *c = &inst->conf->c;
	char stream[96];

	e->cap = BASE_ENV + c->n_env + 1;
	e->v = calloc(e->cap, sizeof(char *));
	if (e->v == NULL)
		return -ENOMEM;
	if (inst->conf->http) {
		env_add(e, "PORT", "%d", inst->port);
		env_add(e, "K_SERVICE", "%s", c->name);
	} else {
		stream_name(stream, sizeof(stream));
		env_add(e, "AWS_LAMBDA_RUNTIME_API", "%s",
			ows__runtime_api_address(inst->api));
		env_add(e, "_HANDLER", "%s", c->handler ? c->handler : "");
		env_add(e, "LAMBDA_TASK_ROOT", "/var/task");
		env_add(e, "AWS_LAMBDA_FUNCTION_NAME", "%s", c->name);
		env_add(e, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "%u",
			c->memory_mb);
		env_add(e, "AWS_LAMBDA_FUNCTION_VERSION", "%s",
			c->version ? c->version : "$LATEST");
		env_add(e, "AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/%s",
			c->name);
		env_add(e, "AWS_LAMBDA_LOG_STREAM_NAME", "%s", stream);
		env_add(e, "AWS_DEFAULT_REGION", "%s", c->region);
	}
	env_add(e, "AWS_REGION", "%s", c->region);
	if (inst->conf->http)
		env_add(e, "AWS_DEFAULT_REGION", "%s", c->region);
	if (c->creds_cb != NULL) {
		struct ows_fn_creds cr;

		if (c->creds_cb(c->creds_ud, c->name, &cr) == 0) {
			env_add(e, "AWS_ACCESS_KEY_ID", "%s", cr.key_id);
			env_add(e, "AWS_SECRET_ACCESS_KEY", "%s", cr.secret);
			env_add(e, "AWS_SESSION_TOKEN", "%s", cr.token);
			inst->creds_expire = cr.expires;
		}
		memset(&cr, 0, sizeof(cr));
	}
	if (c->edge_handler != NULL)
		env_add(e, "AWS_ENDPOINT_URL", "http://127.0.0.1:%d",
			OWS_FN_EDGE_PORT);
	env_add(e, "TZ", ":UTC");
	env_add(e, "PATH", FN_PATH);
	env_add(e, "LANG", "C.UTF-8");
	env_add(e, "HOME", "/tmp");
	for (size_t i = 0; i < c->n_env; i++)
		env_add(e, c->env[i].name, "%s", c->env[i].value);
	return e->nomem ? -ENOMEM : 0;
}

/* What runs in the sandbox, by runtime. */
static void fn_argv(const struct pool_conf *conf, const char **argv)
{
	const char *rt = conf->c.runtime;

	argv[1] = argv[2] = argv[3] = NULL;
	if (strcmp(rt, "python3") == 0) {
		/* -S: no site, whose .pth files cost as much as the start
		 * itself; the bootstrap adds the package directories. */
		argv[0] = "/usr/bin/python3";
		argv[1] = "-S";
		argv[2] = OWS_FN_RUNTIMES_MOUNT "/python3/bootstrap";
	} else if (strcmp(rt, "nodejs") == 0) {
		argv[0] = "/usr/bin/node";
		argv[1] = OWS_FN_RUNTIMES_MOUNT "/nodejs/bootstrap";
	} else {
		argv[0] = "/var/task/bootstrap";
	}
}

/* The spec's JSON for inst. */
static int spec_json(struct ows_fn_instance *inst, bool with_cgroup,
		     struct ows_buf *json)
{
	const struct pool_conf *conf = inst->conf;
	const char *lambda_argv[4];
	const char *binds[3] = {conf->c.runtimes_dir, OWS_FN_RUNTIMES_MOUNT,
				NULL};
	struct ows_sandbox_spec spec = {0};
	struct envv env = {0};
	int rv;

	fn_argv(conf, lambda_argv);
	spec.bundle_dir = conf->c.bundle_dir;
	spec.binds = conf->c.runtimes_dir != NULL ? binds : NULL;
	spec.root_dir = conf->c.root_dir;
	spec.argv = conf->http ? conf->c.command : lambda_argv;
	spec.cgroup = with_cgroup ? &inst->cg : NULL;
	rv = build_env(inst, &env);
	spec.env = (const char *const *)env.v;
	if (rv == 0)
		rv = ows__sandbox_spec_encode(&spec, json);
	env_free(&env);
	if (rv == 0 && json->len >= MAX_SPEC_ON_PIPE)
		rv = -E2BIG;
	return rv;
}

/*
 * Write all of json to fd, a pipe or socket with room for it, and close
 * fd. A spare's is a socket, written without SIGPIPE: its launcher may
 * have died (-EPIPE).
 */
static int send_spec(int fd, const struct ows_buf *json)
{
	ssize_t n = send(fd, json->data, json->len, MSG_NOSIGNAL);

	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, json->data, json->len);
	int rv = n == (ssize_t)json->len ? 0 : n < 0 ? -errno : -EIO;

	close(fd);
	return rv;
}

/* The spec's JSON on the read end of a new pipe, *fd. */
static int spec_pipe(struct ows_fn_instance *inst, int *fd)
{
	struct ows_buf json = OWS_BUF_INIT;
	int fds[2], rv = spec_json(inst, true, &json);

	if (rv == 0 && pipe2(fds, O_CLOEXEC) != 0)
		rv = -errno;
	if (rv == 0) {
		rv = send_spec(fds[1], &json);
		if (rv != 0)
			close(fds[0]);
		*fd = fds[0];
	}
	ows_buf_free(&json);
	return rv;
}

/*
 * The http runtime's $PORT, inside its namespace; the gateway reaches it
 * at the instance's own address, which nothing but the node can route to.
 */
static int http_address(struct ows_fn_instance *inst)
{
	if (!inst->ns.veth)
		return -ENETUNREACH; /* no nftables: see ows_fn_net_init */
	inst->port = OWS_FN_HTTP_PORT;
	snprintf(inst->addr, sizeof(inst->addr), "%s:%d", inst->ns.addr,
		 inst->port);
	return 0;
}

static int make_cgroup(struct ows_fn_instance *inst)
{
	char name[128];

	/* The node's pid keeps two nodes (or test runs) on one host apart. */
	snprintf(name, sizeof(name), "ows-fn-%s-%d-%llu", inst->conf->c.name,
		 (int)getpid(), (unsigned long long)inst->id);
	return ows__sandbox_cgroup_create(
	    &inst->cg, name, (uint64_t)inst->conf->c.memory_mb << 20,
	    OWS_FN_MAX_PROCS, NULL);
}

static int spawn(struct ows_fn_instance *inst)
{
	char *args[] = {(char *)inst->conf->c.owsd_path, "sandbox-exec",
			"--spec-fd", SPEC_FD, "--netns-fd", NETNS_FD, NULL};
	uv_stdio_container_t stdio[5];
	uv_process_options_t o = {0};
	int fd, rv = spec_pipe(inst, &fd);

	if (rv != 0)
		return rv;
	inst->proc = calloc(1, sizeof(*inst->proc));
	if (inst->proc == NULL) {
		close(fd);
		return -ENOMEM;
	}
	stdio[0].flags = UV_IGNORE;
	for (int i = 0; i < 2; i++) {
		stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i + 1].data.stream = (uv_stream_t *)&inst->out[i];
	}
	stdio[3].flags = UV_INHERIT_FD;
	stdio[3].data.fd = fd;
	stdio[4].flags = UV_INHERIT_FD;
	stdio[4].data.fd = inst->ns.fd;
	o.file = args[0];
	o.args = args;
	o.stdio = stdio;
	o.stdio_count = 5;
	o.exit_cb = ows__fn_instance_exit_cb;
	/* its own session: a Ctrl-C at the node's terminal is the node's to
	 * handle (it stops its instances), not the launchers' */
	o.flags = UV_PROCESS_DETACHED;
	/* The launcher inherits the node's environment; the function
	 * gets only the spec's. */
	inst->proc->data = inst;
	rv = uv_spawn(inst->pool->loop, inst->proc, &o);
	close(fd);
	/* Initialized even when the spawn failed: it must be closed. */
	inst->open_handles++;
	inst->spawned = rv == 0;
	return rv;
}

/*
 * Take over a spare launcher (spare.c): its cgroup gets the function's
 * memory limit, its process handle and output become the instance's.
 * It waits for the spec, which start_spare sends.
 */
static int adopt_spare(struct ows_fn_instance *inst, struct ows_fn_spare *sp)
{
	int rv = 0;

	inst->cg = sp->cg;
	inst->ns = sp->ns;
	sp->ns = (struct ows_fn_netns)OWS_FN_NETNS_INIT;
	inst->proc = &sp->proc;
	inst->proc->data = inst;
	inst->open_handles++;
	inst->spawned = true;
	for (int i = 0; i < 2; i++) {
		if (rv == 0)
			rv = uv_pipe_open(&inst->out[i], sp->out[i]);
		if (rv != 0)
			close(sp->out[i]);
	}
	if (rv == 0)
		rv = ows__sandbox_cgroup_limit(
		    &inst->cg, (uint64_t)inst->conf->c.memory_mb << 20, 0,
		    NULL);
	return rv;
}

static int start_spare(struct ows_fn_instance *inst, int spec_fd)
{
	struct ows_buf json = OWS_BUF_INIT;
	int rv = spec_json(inst, false, &json);

	if (rv == 0)
		rv = send_spec(spec_fd, &json);
	else
		close(spec_fd);
	ows_buf_free(&json);
	return rv;
}

/*
 * One attempt. A spare is used when allowed and one is ready; *dead_spare
 * tells that the spare taken had died already (its spec could not be
 * written), so that the caller tries again without.
 */
static int start_once(struct ows_fn_pool *pool, bool use_spare,
		      bool *dead_spare, struct ows_fn_instance **out)
{
	struct ows_fn_instance *inst = calloc(1, sizeof(*inst));
	struct ows_fn_spare *sp = NULL;
	int rv, spec_fd = -1;

	*dead_spare = false;
	if (inst == NULL)
		return -ENOMEM;
	inst->pool = pool;
	inst->conf = pool->conf;
	inst->conf->refs++;
	inst->gen = pool->gen;
	inst->id = ++pool->next_id;
	inst->state = INST_STARTING;
	inst->ns = (struct ows_fn_netns)OWS_FN_NETNS_INIT;
	inst->spawn_ns = uv_hrtime();
	ows_list_append(&pool->instances, &inst->link);
	ows_list_init(&inst->lessees);
	uv_timer_init(pool->loop, &inst->timer);
	inst->timer.data = inst;
	uv_timer_init(pool->loop, &inst->freeze_timer);
	inst->freeze_timer.data = inst;
	for (int i = 0; i < 2; i++) {
		uv_pipe_init(pool->loop, &inst->out[i], 0);
		inst->out[i].data = inst;
	}
	inst->open_handles = 4;
	if (use_spare)
		sp = ows__fn_spare_take(inst->conf->c.spares);
	if (sp != NULL) {
		spec_fd = sp->spec_fd;
		rv = adopt_spare(inst, sp);
	} else {
		rv = make_cgroup(inst);
		if (rv == 0)
			rv = ows__fn_netns_new(&inst->ns, NULL);
	}
	if (rv == 0)
		rv = inst->conf->http ? http_address(inst)
				      : ows__fn_instance_api_new(inst);
	if (rv == 0)
		rv = ows__fn_instance_edge_new(inst);
	if (rv == 0 && sp != NULL) {
		rv = start_spare(inst, spec_fd);
		*dead_spare = rv == -EPIPE;
		ows__fn_spare_result(sp, rv != -EPIPE);
	} else if (rv == 0) {
		rv = spawn(inst);
	} else if (spec_fd >= 0) {
		close(spec_fd);
	}
	if (rv != 0) {
		ows__fn_instance_stop(inst);
		return rv;
	}
	pool->started++;
	ows__fn_instance_read_start(inst);
	if (inst->conf->http)
		ows__fn_instance_probe(inst);
	*out = inst;
	return 0;
}

int ows__fn_instance_start(struct ows_fn_pool *pool,
			   struct ows_fn_instance **out)
{
	bool dead_spare;
	int rv = start_once(pool, true, &dead_spare, out);

	if (rv != 0 && dead_spare)
		rv = start_once(pool, false, &dead_spare, out);
	return rv;
}
