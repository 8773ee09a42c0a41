/*
 * The pool of one function: its configuration, the queue of waiting
 * requests, and the choice of instance for each (instance.c runs them).
 * ows__fn_pool_pump is the one place that hands requests out: to a ready
 * idle instance of the current configuration, else to a new instance while
 * the function is below its concurrency, else they stay queued; it runs
 * whenever one of those conditions may have changed. Answers that must not
 * come from inside the caller's call (throttling, a lease of an instance
 * that is already listening) go through a zero-delay timer.
 */
#include "fn/pool_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/enc.h"
#include "common/json.h"

#define DEFAULT_MEMORY_MB 128
#define DEFAULT_TIMEOUT_S 3
#define DEFAULT_CONCURRENCY 10
#define DEFAULT_IDLE_S 300
#define DEFAULT_PER_INSTANCE 80 /* http: Cloud Run's default concurrency */
#define MAX_NAME 64

static const char throttle_body[] =
    "{\"Reason\": \"ReservedFunctionConcurrentInvocationLimitExceeded\", "
    "\"Type\": \"User\", \"message\": \"Rate Exceeded.\"}";

int64_t ows_fn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ows__fn_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- configuration ---- */

void ows__fn_conf_unref(struct pool_conf *conf)
{
	if (conf == NULL || --conf->refs > 0)
		return;
	for (size_t i = 0; i < conf->n_strings; i++)
		free(conf->strings[i]);
	free(conf->strings);
	free(conf->env);
	free(conf->command);
	free(conf);
}

/* A copy of s kept in conf; NULL stays NULL. Sets *nomem on failure. */
static const char *keep(struct pool_conf *conf, const char *s, bool *nomem)
{
	char *d;

	if (s == NULL || *nomem)
		return NULL;
	d = strdup(s);
	if (d == NULL) {
		*nomem = true;
		return NULL;
	}
	conf->strings[conf->n_strings++] = d;
	return d;
}

static bool name_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n > 0 && n <= MAX_NAME &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_") == n;
}

static int check_config(const struct ows_fn_config *c)
{
	static const char *const runtimes[] = {"python3", "nodejs",
					       "provided", "http", NULL};
	bool known = false;

	for (const char *const *r = runtimes; *r && c->runtime; r++)
		known |= strcmp(*r, c->runtime) == 0;
	if (!known || !name_ok(c->name) || c->bundle_dir == NULL ||
	    c->bundle_dir[0] != '/' || c->owsd_path == NULL)
		return -EINVAL;
	if (strcmp(c->runtime, "http") == 0 &&
	    (c->command == NULL || c->command[0] == NULL))
		return -EINVAL;
	if ((strcmp(c->runtime, "python3") == 0 ||
	     strcmp(c->runtime, "nodejs") == 0) &&
	    (c->handler == NULL || c->runtimes_dir == NULL))
		return -EINVAL;
	return 0;
}

static void apply_defaults(struct ows_fn_config *c)
{
	if (c->memory_mb == 0)
		c->memory_mb = DEFAULT_MEMORY_MB;
	if (c->timeout_s == 0)
		c->timeout_s = DEFAULT_TIMEOUT_S;
	if (c->concurrency == 0)
		c->concurrency = DEFAULT_CONCURRENCY;
	if (c->idle_s == 0)
		c->idle_s = DEFAULT_IDLE_S;
	if (c->queue_max == 0)
		c->queue_max = OWS_FN_QUEUE_MAX;
	if (c->min_instances > c->concurrency || c->stopped)
		c->min_instances = c->stopped ? 0 : c->concurrency;
	if (strcmp(c->runtime, "http") != 0)
		c->requests_per_instance = 1; /* Lambda: one at a time */
	else if (c->requests_per_instance == 0)
		c->requests_per_instance = DEFAULT_PER_INSTANCE;
	if (c->region == NULL)
		c->region = "local";
}

static int conf_new(const struct ows_fn_config *in, struct pool_conf **out)
{
	struct pool_conf *conf;
	size_t n_cmd = 0, n_str;
	bool nomem = false;

	if (check_config(in) != 0)
		return -EINVAL;
	while (in->command != NULL && in->command[n_cmd] != NULL)
		n_cmd++;
	n_str = 9 + n_cmd + 2 * in->n_env;
	conf = calloc(1, sizeof(*conf));
	if (conf == NULL)
		return -ENOMEM;
	conf->refs = 1;
	conf->c = *in;
	conf->strings = calloc(n_str + 1, sizeof(char *));
	conf->env = calloc(in->n_env + 1, sizeof(*conf->env));
	conf->command = calloc(n_cmd + 1, sizeof(char *));
	nomem = !conf->strings || !conf->env || !conf->command;
	conf->c.name = keep(conf, in->name, &nomem);
	conf->c.version = keep(conf, in->version ? in->version : "$LATEST",
			       &nomem);
	conf->c.runtime = keep(conf, in->runtime, &nomem);
	conf->c.handler = keep(conf, in->handler, &nomem);
	conf->c.bundle_dir = keep(conf, in->bundle_dir, &nomem);
	conf->c.runtimes_dir = keep(conf, in->runtimes_dir, &nomem);
	conf->c.owsd_path = keep(conf, in->owsd_path, &nomem);
	conf->c.region = keep(conf, in->region, &nomem);
	conf->c.root_dir = keep(conf, in->root_dir, &nomem);
	for (size_t i = 0; i < n_cmd; i++)
		if (conf->command != NULL)
			conf->command[i] = keep(conf, in->command[i], &nomem);
	for (size_t i = 0; i < in->n_env && conf->env != NULL; i++) {
		conf->env[i].name = keep(conf, in->env[i].name, &nomem);
		conf->env[i].value = keep(conf, in->env[i].value, &nomem);
	}
	conf->c.command = conf->command;
	conf->c.env = conf->env;
	conf->http = strcmp(in->runtime, "http") == 0;
	apply_defaults(&conf->c);
	if (nomem) {
		ows__fn_conf_unref(conf);
		return -ENOMEM;
	}
	*out = conf;
	return 0;
}

/* ---- answers ---- */

void ows__fn_waiter_free(struct waiter *w)
{
	if (w == NULL)
		return;
	free(w->payload);
	free(w->client_context);
	free(w);
}

/* Answer an invocation that never ran on an instance. */
static void answer_unrun(struct waiter *w, enum ows_fn_result_kind kind,
			 int status, const char *type, const char *msg)
{
	struct ows_fn_result res = {0};
	char *doc = NULL;

	res.kind = kind;
	res.status = status;
	res.request_id = w->request_id;
	res.error_type = type;
	res.log_tail = "";
	if (kind == OWS_FN_THROTTLED) {
		res.body = throttle_body;
	} else {
		json_t *o = json_pack("{s:s,s:s}", "errorMessage", msg,
				      "errorType", type);

		doc = o != NULL ? ows_json_dump(o) : NULL;
		json_decref(o);
		res.body = doc != NULL ? doc : "{}";
	}
	res.len = strlen(res.body);
	w->cb(w->ud, &res);
	free(doc);
}

/* Give w its failure now: w->status says which; w is freed. */
static void answer(struct waiter *w)
{
	if (w->kind == WAIT_HTTP)
		w->http_cb(w->ud, w->status, NULL, NULL);
	else if (w->status == OWS_ETOOBIG) {
		answer_unrun(w, OWS_FN_THROTTLED, w->status,
			     "TooManyRequestsException", "Rate Exceeded.");
	} else if (w->status == -ECANCELED) {
		answer_unrun(w, OWS_FN_FAILED, w->status, "Runtime.Closed",
			     "the function is being removed");
	} else {
		char msg[128];

		snprintf(msg, sizeof(msg), "could not start an instance: %s",
			 strerror(-w->status));
		answer_unrun(w, OWS_FN_FAILED, w->status, "ServiceException",
			     msg);
	}
	ows__fn_waiter_free(w);
}

static void defer_cb(uv_timer_t *t)
{
	struct ows_fn_pool *pool = t->data;

	while (pool->deferred.next != &pool->deferred) {
		struct waiter *w = OWS_CONTAINER_OF(pool->deferred.next,
						    struct waiter, link);

		ows_list_remove(&w->link);
		answer(w);
	}
}

void ows__fn_pool_defer(struct ows_fn_pool *pool, struct waiter *w)
{
	ows_list_append(&pool->deferred, &w->link);
	uv_timer_start(&pool->defer, defer_cb, 0, 0);
}

/* ---- dispatch ---- */

unsigned ows_fn_pool_live(const struct ows_fn_pool *pool)
{
	unsigned n = 0;

	for (const struct ows_link *l = pool->instances.next;
	     l != &pool->instances; l = l->next) {
		const struct ows_fn_instance *i =
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link);

		n += i->state != INST_STOPPING;
	}
	return n;
}

/*
 * An instance that can take a request: an idle one, or for http the
 * oldest one with room (a starting one too: its acquirers are answered
 * when it listens), so that requests pack onto few instances and the
 * others can idle away.
 */
static struct ows_fn_instance *find_free(struct ows_fn_pool *pool)
{
	for (struct ows_link *l = pool->instances.next; l != &pool->instances;
	     l = l->next) {
		struct ows_fn_instance *i =
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link);

		if (i->gen != pool->gen)
			continue;
		if (pool->conf->http ? ows__fn_instance_has_room(i)
				     : i->state == INST_READY && !i->busy)
			return i;
	}
	return NULL;
}

/* Hand queued requests out, as far as instances allow. */
void ows__fn_pool_pump(struct ows_fn_pool *pool)
{
	while (!pool->closing && pool->queue.next != &pool->queue) {
		struct waiter *w =
		    OWS_CONTAINER_OF(pool->queue.next, struct waiter, link);
		struct ows_fn_instance *inst = find_free(pool);
		int rv = 0;

		if (inst == NULL) {
			if (ows_fn_pool_live(pool) >= pool->conf->c.concurrency)
				return;
			rv = ows__fn_instance_start(pool, &inst);
		}
		ows_list_remove(&w->link);
		pool->n_queued--;
		if (rv == 0)
			rv = ows__fn_instance_assign(inst, w);
		if (rv != 0) {
			w->status = rv;
			ows__fn_pool_defer(pool, w);
		}
	}
}

static int enqueue(struct ows_fn_pool *pool, struct waiter *w)
{
	if (pool->conf->c.stopped ||
	    (pool->n_queued >= pool->conf->c.queue_max &&
	     find_free(pool) == NULL &&
	     ows_fn_pool_live(pool) >= pool->conf->c.concurrency)) {
		w->status = OWS_ETOOBIG;
		ows__fn_pool_defer(pool, w);
		return 0;
	}
	ows_list_append(&pool->queue, &w->link);
	pool->n_queued++;
	ows__fn_pool_pump(pool);
	return 0;
}

static bool request_id_ok(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= MAX_REQUEST_ID &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789-") == n;
}

/*
 * ClientContext (base64 of a JSON object) as compact ASCII JSON in *out
 * (NULL when b64 is NULL or empty): no CR or LF and no byte over 0x7f
 * (\u escapes), so it fits in a header that runtimes read as Latin-1.
 */
static int client_context_json(const char *b64, char **out)
{
	size_t n = b64 != NULL ? strlen(b64) : 0;
	json_error_t jerr;
	json_t *doc = NULL;
	char *raw;
	long len;
	int rv = -EINVAL;

	*out = NULL;
	if (n == 0)
		return 0;
	if (n > OWS_FN_CLIENT_CONTEXT_MAX)
		return -EMSGSIZE;
	raw = malloc(n + 1);
	if (raw == NULL)
		return -ENOMEM;
	len = ows_b64_decode_n(b64, n, raw, n);
	if (len < 0)
		goto cleanup;
	doc = json_loadb(raw, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc))
		goto cleanup;
	*out = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
	rv = *out != NULL ? 0 : -ENOMEM;
cleanup:
	json_decref(doc);
	free(raw);
	return rv;
}

int ows_fn_client_context_check(const char *b64)
{
	char *json;
	int rv = client_context_json(b64, &json);

	free(json);
	return rv;
}

int ows_fn_pool_invoke(struct ows_fn_pool *pool, const char *request_id,
		       const void *payload, size_t len, ows_fn_result_cb cb,
		       void *ud)
{
	return ows_fn_pool_invoke_opts(pool, request_id, payload, len, NULL, cb,
				       ud);
}

int ows_fn_pool_invoke_opts(struct ows_fn_pool *pool, const char *request_id,
			    const void *payload, size_t len,
			    const struct ows_fn_invoke_opts *opts,
			    ows_fn_result_cb cb, void *ud)
{
	struct waiter *w;
	char *client_context = NULL;
	int rv;

	if (pool->closing)
		return -ECANCELED;
	if (pool->conf->http || cb == NULL || !request_id_ok(request_id) ||
	    (payload == NULL && len > 0))
		return -EINVAL;
	if (len > OWS_RUNTIME_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (opts != NULL &&
	    (rv = client_context_json(opts->client_context, &client_context)) < 0)
		return rv;
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->payload = malloc(len + 1)) == NULL) {
		free(w);
		free(client_context);
		return -ENOMEM;
	}
	if (len > 0)
		memcpy(w->payload, payload, len);
	w->payload[len] = '\0';
	w->len = len;
	w->client_context = client_context;
	w->kind = WAIT_INVOKE;
	strcpy(w->request_id, request_id);
	w->cb = cb;
	w->ud = ud;
	ows_list_init(&w->link);
	return enqueue(pool, w);
}

int ows_fn_pool_http_acquire(struct ows_fn_pool *pool, ows_fn_http_cb cb,
			     void *ud)
{
	struct waiter *w;

	if (pool->closing)
		return -ECANCELED;
	if (!pool->conf->http || cb == NULL)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->kind = WAIT_HTTP;
	w->http_cb = cb;
	w->ud = ud;
	ows_list_init(&w->link);
	return enqueue(pool, w);
}

int ows_fn_pool_http_take(struct ows_fn_pool *pool,
			  struct ows_fn_instance **inst, const char **addr)
{
	struct ows_fn_instance *i;

	if (pool->closing)
		return -ECANCELED;
	if (!pool->conf->http)
		return -EINVAL;
	if (pool->n_queued > 0 || (i = find_free(pool)) == NULL ||
	    i->state != INST_READY)
		return -EAGAIN;
	if (i->n_lessees == 0)
		uv_timer_stop(&i->timer); /* the idle timer */
	i->leases++;
	ows__fn_instance_freeze(i, false);
	*inst = i;
	*addr = i->addr;
	return 0;
}

void ows_fn_pool_http_release(struct ows_fn_pool *pool,
			      struct ows_fn_instance *inst)
{
	(void)pool;
	ows__fn_instance_release(inst);
}

/* ---- life cycle ---- */

/* Start instances until min_instances of the current config are live. */
static void keep_warm(struct ows_fn_pool *pool)
{
	unsigned live = 0;

	for (struct ows_link *l = pool->instances.next; l != &pool->instances;
	     l = l->next) {
		struct ows_fn_instance *i =
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link);

		live += i->state != INST_STOPPING && i->gen == pool->gen;
	}
	while (live++ < pool->conf->c.min_instances) {
		struct ows_fn_instance *inst;

		if (ows__fn_instance_start(pool, &inst) != 0)
			break;
	}
}

int ows_fn_pool_new(uv_loop_t *loop, const struct ows_fn_config *cfg,
		    struct ows_fn_pool **out)
{
	struct ows_fn_pool *pool = calloc(1, sizeof(*pool));
	int rv;

	if (pool == NULL)
		return -ENOMEM;
	rv = conf_new(cfg, &pool->conf);
	if (rv != 0) {
		free(pool);
		return rv;
	}
	pool->loop = loop;
	ows_list_init(&pool->instances);
	ows_list_init(&pool->queue);
	ows_list_init(&pool->deferred);
	uv_timer_init(loop, &pool->defer);
	pool->defer.data = pool;
	keep_warm(pool);
	*out = pool;
	return 0;
}

int ows_fn_pool_update(struct ows_fn_pool *pool,
		       const struct ows_fn_config *cfg)
{
	struct pool_conf *conf;
	struct ows_link *l, *next;
	int rv;

	if (pool->closing)
		return -ECANCELED;
	if (cfg->name == NULL || strcmp(cfg->name, pool->conf->c.name) != 0)
		return -EINVAL;
	rv = conf_new(cfg, &conf);
	if (rv != 0)
		return rv;
	ows__fn_conf_unref(pool->conf);
	pool->conf = conf;
	pool->gen++;
	/* Old idle instances go now; busy ones when they are done. */
	for (l = pool->instances.next; l != &pool->instances; l = next) {
		struct ows_fn_instance *i =
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link);

		next = l->next;
		if (i->state == INST_READY && !inst_busy(i))
			ows__fn_instance_stop(i);
	}
	keep_warm(pool);
	ows__fn_pool_pump(pool);
	return 0;
}

void ows_fn_pool_stats(const struct ows_fn_pool *pool,
		       struct ows_fn_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (const struct ows_link *l = pool->instances.next;
	     l != &pool->instances; l = l->next) {
		const struct ows_fn_instance *i =
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link);

		if (i->state == INST_STOPPING) {
			out->stopping++;
			continue;
		}
		out->live++;
		out->starting += i->state == INST_STARTING;
		out->busy += inst_busy(i);
		out->idle += i->state == INST_READY && !inst_busy(i);
	}
	out->queued = pool->n_queued;
	out->started = pool->started;
}

static void pool_closed(uv_handle_t *h)
{
	struct ows_fn_pool *pool = h->data;

	if (pool->close_cb != NULL)
		pool->close_cb(pool->close_ud);
	ows__fn_logs_free(&pool->logs);
	ows__fn_conf_unref(pool->conf);
	free(pool);
}

/* An instance was freed: the pool may be done closing, or have room. */
void ows__fn_pool_instance_gone(struct ows_fn_pool *pool)
{
	if (!pool->closing) {
		ows__fn_pool_pump(pool);
		return;
	}
	if (pool->instances.next == &pool->instances &&
	    !uv_is_closing((uv_handle_t *)&pool->defer)) {
		defer_cb(&pool->defer);
		uv_close((uv_handle_t *)&pool->defer, pool_closed);
	}
}

void ows_fn_pool_close(struct ows_fn_pool *pool, void (*cb)(void *ud),
		       void *ud)
{
	struct ows_link *l, *next;

	pool->closing = true;
	pool->close_cb = cb;
	pool->close_ud = ud;
	while (pool->queue.next != &pool->queue) {
		struct waiter *w =
		    OWS_CONTAINER_OF(pool->queue.next, struct waiter, link);

		ows_list_remove(&w->link);
		pool->n_queued--;
		w->status = -ECANCELED;
		answer(w);
	}
	for (l = pool->instances.next; l != &pool->instances; l = next) {
		next = l->next;
		ows__fn_instance_stop(
		    OWS_CONTAINER_OF(l, struct ows_fn_instance, link));
	}
	ows__fn_pool_instance_gone(pool);
}
