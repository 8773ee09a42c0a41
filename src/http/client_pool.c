/*
 * Idle client connections kept for reuse, one pool per uv loop. libuv gives
 * a loop no slot of its own that a library may use (loop->data belongs to
 * the program), so the pools sit in a small registry keyed by the loop
 * pointer, guarded by a mutex because loops in other threads (the CLI's
 * private loops, tests) may use it at the same time. A pool's contents are
 * only touched from its loop's thread. A pool exists while it holds at
 * least one idle connection and is freed with its last one, so a loop that
 * was emptied with ows_http_client_close_idle leaves nothing behind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/client_pool.h"
#include "http/http.h"

struct ows_http_pool {
	uv_loop_t *loop;
	struct ows_http_cconn *head, *tail; /* newest first */
	unsigned n_idle;
	struct ows_http_pool *next;
};

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ows_http_pool *pools;

/* The loop's pool; created when create is set (NULL on ENOMEM). */
static struct ows_http_pool *pool_find(uv_loop_t *loop, bool create)
{
	struct ows_http_pool *p;

	pthread_mutex_lock(&pools_lock);
	for (p = pools; p != NULL; p = p->next)
		if (p->loop == loop)
			break;
	if (p == NULL && create && (p = calloc(1, sizeof(*p))) != NULL) {
		p->loop = loop;
		p->next = pools;
		pools = p;
	}
	pthread_mutex_unlock(&pools_lock);
	return p;
}

static void pool_free(struct ows_http_pool *p)
{
	struct ows_http_pool **pp;

	pthread_mutex_lock(&pools_lock);
	for (pp = &pools; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&pools_lock);
	free(p);
}

/* Take c off its pool's list; the pool goes with its last connection. */
static void unlink_idle(struct ows_http_cconn *c)
{
	struct ows_http_pool *p = c->pool;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		p->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		p->tail = c->prev;
	c->next = c->prev = NULL;
	c->pool = NULL;
	if (--p->n_idle == 0)
		pool_free(p);
}

static void cconn_close_cb(uv_handle_t *h)
{
	struct ows_http_cconn *c = h->data;

	if (--c->pending_closes == 0)
		free(c);
}

void ows__http_cconn_close(struct ows_http_cconn *c)
{
	c->owner = NULL;
	c->tcp.data = c->timer.data = c;
	c->pending_closes = 2;
	uv_close((uv_handle_t *)&c->tcp, cconn_close_cb);
	uv_close((uv_handle_t *)&c->timer, cconn_close_cb);
}

int ows__http_cconn_new(uv_loop_t *loop, const char *key,
			struct ows_http_cconn **out)
{
	struct ows_http_cconn *c;
	int rv;

	if (strlen(key) >= sizeof(c->key))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	rv = uv_tcp_init(loop, &c->tcp);
	if (rv != 0) {
		free(c);
		return rv;
	}
	uv_timer_init(loop, &c->timer);
	uv_unref((uv_handle_t *)&c->timer);
	/* Requests go out in one write; waiting for an ACK only adds delay. */
	uv_tcp_nodelay(&c->tcp, 1);
	strcpy(c->key, key);
	c->tcp.data = c->timer.data = c->connect.data = c->write.data = c;
	*out = c;
	return 0;
}

/* Drop an idle connection: off the list and closed. */
static void discard(struct ows_http_cconn *c)
{
	unlink_idle(c);
	ows__http_cconn_close(c);
}

static void idle_timer_cb(uv_timer_t *t)
{
	discard(t->data);
}

void ows__http_pool_idle_input(struct ows_http_cconn *c)
{
	if (c->pool != NULL)
		discard(c);
}

struct ows_http_cconn *ows__http_pool_take(uv_loop_t *loop, const char *key)
{
	struct ows_http_pool *p = pool_find(loop, false);
	struct ows_http_cconn *c;

	if (p == NULL)
		return NULL;
	/* Newest first: the least likely to have been closed by the peer. */
	for (c = p->head; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	if (c == NULL)
		return NULL;
	unlink_idle(c);
	uv_timer_stop(&c->timer);
	uv_ref((uv_handle_t *)&c->tcp);
	return c;
}

static unsigned count_key(const struct ows_http_pool *p, const char *key)
{
	unsigned n = 0;

	for (const struct ows_http_cconn *c = p->head; c != NULL; c = c->next)
		n += strcmp(c->key, key) == 0;
	return n;
}

void ows__http_pool_put(uv_loop_t *loop, struct ows_http_cconn *c)
{
	struct ows_http_pool *p = pool_find(loop, true);

	c->owner = NULL;
	if (p == NULL || count_key(p, c->key) >= OWS_HTTP_POOL_PER_HOST ||
	    !c->reading) {
		if (p != NULL && p->n_idle == 0)
			pool_free(p);
		ows__http_cconn_close(c);
		return;
	}
	if (p->n_idle >= OWS_HTTP_POOL_MAX)
		discard(p->tail); /* leaves p alive: n_idle stays > 0 */
	uv_unref((uv_handle_t *)&c->tcp);
	uv_timer_start(&c->timer, idle_timer_cb, OWS_HTTP_POOL_IDLE_MS, 0);
	c->pool = p;
	c->prev = NULL;
	c->next = p->head;
	if (p->head != NULL)
		p->head->prev = c;
	else
		p->tail = c;
	p->head = c;
	p->n_idle++;
}

void ows_http_client_close_idle(uv_loop_t *loop)
{
	struct ows_http_pool *p;

	/* The pool is freed with its last connection: look it up each time. */
	while ((p = pool_find(loop, false)) != NULL)
		discard(p->head);
}
