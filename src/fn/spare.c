/*
 * Spare launchers: sandbox launchers the node starts before any request
 * needs them, so that a cold start does not pay for what can be done
 * ahead: the fork of the node and exec of the launcher (uv_spawn forks the
 * whole node, a millisecond or two), the instance's cgroup directories,
 * and above all the move into the cgroup, which on cgroup v1 waits for an
 * RCU grace period of the global cgroup lock (5 to 15 ms seen here, and
 * the same lock is taken on v2). OpenWhisk calls these prewarmed "stem
 * cell" containers.
 *
 * Each spare is `ows-sandbox sandbox-exec --spec-fd 3 --netns-fd 4
 * --cgroup-v1 MEM PIDS CPU FREEZER` (or --cgroup-v2 DIR): it enters the
 * network namespace the node made for it (fn/netns.h: making one takes a
 * few milliseconds too), joins its own fresh cgroup (pids limit set, no
 * memory limit yet) and blocks reading the spec. The pool of the function
 * that takes one (ows__fn_spare_take) sets the memory limit, opens the
 * output sockets as its pipes, owns the process handle, and writes the
 * spec, after which the launcher goes on exactly as an on-demand one. The
 * set is refilled on the loop's next turn, after the spec is sent: the
 * spawn blocks the loop for well under a millisecond, and the slow cgroup
 * move happens in the new launcher, in parallel, so that a burst of cold
 * starts finds spares that are ready.
 *
 * A spare that dies before it is taken is reported (on_error) and
 * replaced; after a few deaths in a row the set gives up and pools start
 * their launchers on demand, as they do when no spare is ready.
 */
#include "fn/pool_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REFILL_MS 0	  /* after a take: on the next turn of the loop */
#define RETRY_MS 1000	  /* after a spare died */
#define MAX_FAILURES 3	  /* deaths in a row before giving up */
#define MAX_SPARES 16

struct ows_fn_spares {
	uv_loop_t *loop;
	char *launcher;
	unsigned want;
	unsigned ready;	     /* spares in the list */
	unsigned pending;    /* handles being closed */
	unsigned failures;   /* deaths in a row */
	uint64_t seq;
	bool closing, disabled;
	struct ows_link list;
	uv_timer_t refill;
	ows_fn_spare_error_cb on_error;
	void *ud;
	void (*close_cb)(void *ud);
	void *close_ud;
};

static void refill_cb(uv_timer_t *t);

/*
 * One more failure in a row, reported unless the set is closing or gave
 * up already: after MAX_FAILURES it gives up, else it tries again later.
 */
static void count_failure(struct ows_fn_spares *s, const char *msg)
{
	if (s->closing || s->disabled)
		return;
	if (++s->failures >= MAX_FAILURES)
		s->disabled = true;
	if (s->on_error != NULL)
		s->on_error(s->ud, msg, s->disabled);
	if (!s->disabled && !uv_is_active((uv_handle_t *)&s->refill))
		uv_timer_start(&s->refill, refill_cb, RETRY_MS, 0);
}

static void maybe_closed(struct ows_fn_spares *s)
{
	if (!s->closing || s->pending > 0 || s->ready > 0)
		return;
	s->closing = false; /* once */
	free(s->launcher);
	if (s->close_cb != NULL)
		s->close_cb(s->close_ud);
	free(s);
}

static void close_fds(struct ows_fn_spare *sp)
{
	for (int i = 0; i < 2; i++)
		if (sp->out[i] >= 0)
			close(sp->out[i]);
	if (sp->spec_fd >= 0)
		close(sp->spec_fd);
	sp->out[0] = sp->out[1] = sp->spec_fd = -1;
}

static void spare_closed(uv_handle_t *h)
{
	struct ows_fn_spare *sp = (struct ows_fn_spare *)h;
	struct ows_fn_spares *s = sp->owner;

	ows__sandbox_cgroup_destroy(&sp->cg);
	ows__fn_netns_close(&sp->ns);
	free(sp);
	s->pending--;
	maybe_closed(s);
}

/* What a dead spare said on stderr (it never reached a function). */
static void last_words(struct ows_fn_spare *sp, char *out, size_t size)
{
	ssize_t n = sp->out[1] >= 0
			? recv(sp->out[1], out, size - 1, MSG_DONTWAIT)
			: -1;

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static void spare_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct ows_fn_spare *sp = (struct ows_fn_spare *)p;
	struct ows_fn_spares *s = sp->owner;
	char msg[OWS_ERR_MSG_SIZE];

	if (sp->taken) {
		ows__fn_instance_exit_cb(p, status, sig);
		return;
	}
	ows_list_remove(&sp->link);
	s->ready--;
	last_words(sp, msg, sizeof(msg));
	count_failure(s, msg[0] ? msg : "the launcher exited");
	close_fds(sp);
	s->pending++;
	uv_close((uv_handle_t *)p, spare_closed);
}

static int start_one(struct ows_fn_spares *s)
{
	struct ows_fn_spare *sp = calloc(1, sizeof(*sp));
	char name[96], fdarg[16], *args[16];
	int out[2][2] = {{-1, -1}, {-1, -1}}, spec[2] = {-1, -1};
	uv_stdio_container_t stdio[5];
	uv_process_options_t o = {0};
	int rv = 0, n = 0;

	if (sp == NULL)
		return -ENOMEM;
	sp->owner = s;
	sp->out[0] = sp->out[1] = sp->spec_fd = -1;
	sp->ns = (struct ows_fn_netns)OWS_FN_NETNS_INIT;
	snprintf(name, sizeof(name), "ows-spare-%d-%llu", (int)getpid(),
		 (unsigned long long)++s->seq);
	rv = ows__sandbox_cgroup_create(&sp->cg, name, 0, OWS_FN_MAX_PROCS,
					NULL);
	if (rv == 0)
		rv = ows__fn_netns_new(&sp->ns, NULL);
	for (int i = 0; i < 2 && rv == 0; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
			       out[i]) != 0)
			rv = -errno;
	/* a socket, not a pipe: written with MSG_NOSIGNAL, as the launcher
	 * may be dead by then */
	if (rv == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, spec) != 0)
		rv = -errno;
	if (rv != 0)
		goto fail;
	args[n++] = s->launcher;
	args[n++] = "sandbox-exec";
	args[n++] = "--spec-fd";
	args[n++] = "3";
	args[n++] = "--netns-fd";
	args[n++] = fdarg;
	snprintf(fdarg, sizeof(fdarg), "4");
	args[n++] = sp->cg.version == 2 ? "--cgroup-v2" : "--cgroup-v1";
	args[n++] = sp->cg.dir;
	if (sp->cg.version == 1) {
		args[n++] = sp->cg.pids_dir;
		args[n++] = sp->cg.cpu_dir[0] ? sp->cg.cpu_dir : "-";
		args[n++] = sp->cg.freezer_dir[0] ? sp->cg.freezer_dir : "-";
	}
	args[n] = NULL;
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = stdio[2].flags = stdio[3].flags = UV_INHERIT_FD;
	stdio[4].flags = UV_INHERIT_FD;
	stdio[1].data.fd = out[0][1];
	stdio[2].data.fd = out[1][1];
	stdio[3].data.fd = spec[0];
	stdio[4].data.fd = sp->ns.fd;
	o.file = args[0];
	o.args = args;
	o.stdio = stdio;
	o.stdio_count = 5;
	o.exit_cb = spare_exit_cb;
	/* its own session: a Ctrl-C at the node's terminal is the node's to
	 * handle (it stops its instances), not the launchers' */
	o.flags = UV_PROCESS_DETACHED;
	rv = uv_spawn(s->loop, &sp->proc, &o);
	close(out[0][1]);
	close(out[1][1]);
	close(spec[0]);
	sp->out[0] = out[0][0];
	sp->out[1] = out[1][0];
	sp->spec_fd = spec[1];
	if (rv != 0) {
		/* the handle was initialized: it must be closed */
		close_fds(sp);
		s->pending++;
		uv_close((uv_handle_t *)&sp->proc, spare_closed);
		return rv;
	}
	ows_list_append(&s->list, &sp->link);
	s->ready++;
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (out[i][j] >= 0)
				close(out[i][j]);
	if (spec[0] >= 0)
		close(spec[0]);
	if (spec[1] >= 0)
		close(spec[1]);
	ows__sandbox_cgroup_destroy(&sp->cg);
	ows__fn_netns_close(&sp->ns);
	free(sp);
	return rv;
}

static void refill_cb(uv_timer_t *t)
{
	struct ows_fn_spares *s = t->data;
	char msg[OWS_ERR_MSG_SIZE];
	int rv = 0;

	while (!s->closing && !s->disabled && s->ready < s->want &&
	       (rv = start_one(s)) == 0)
		;
	if (rv == 0 || s->closing)
		return;
	snprintf(msg, sizeof(msg), "cannot start a spare launcher: %s",
		 strerror(-rv));
	count_failure(s, msg);
}

int ows_fn_spares_new(uv_loop_t *loop, const char *launcher, unsigned count,
		      ows_fn_spare_error_cb on_error, void *ud,
		      struct ows_fn_spares **out)
{
	struct ows_fn_spares *s;

	if (launcher == NULL || count == 0 || count > MAX_SPARES)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->launcher = strdup(launcher)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->loop = loop;
	s->want = count;
	s->on_error = on_error;
	s->ud = ud;
	ows_list_init(&s->list);
	uv_timer_init(loop, &s->refill);
	s->refill.data = s;
	uv_timer_start(&s->refill, refill_cb, 0, 0);
	*out = s;
	return 0;
}

struct ows_fn_spare *ows__fn_spare_take(struct ows_fn_spares *s)
{
	struct ows_fn_spare *sp;

	if (s == NULL || s->closing || s->ready == 0)
		return NULL;
	sp = OWS_CONTAINER_OF(s->list.next, struct ows_fn_spare, link);
	ows_list_remove(&sp->link);
	s->ready--;
	sp->taken = true;
	if (!uv_is_active((uv_handle_t *)&s->refill))
		uv_timer_start(&s->refill, refill_cb, REFILL_MS, 0);
	return sp;
}

/*
 * How a taken spare did: it took its spec (the run of failures ends), or
 * it was dead already (it counts as one more, and may make the set give
 * up). Counting at take would let a set whose spares always die, but are
 * taken before, never give up.
 */
void ows__fn_spare_result(struct ows_fn_spare *sp, bool ok)
{
	struct ows_fn_spares *s = sp->owner;

	if (ok)
		s->failures = 0;
	else
		count_failure(s, "a spare launcher had died when it was taken");
}

void ows_fn_spares_stats(const struct ows_fn_spares *s, unsigned *ready,
			 bool *disabled)
{
	*ready = s != NULL ? s->ready : 0;
	*disabled = s == NULL || s->disabled;
}

static void refill_closed(uv_handle_t *h)
{
	struct ows_fn_spares *s = h->data;

	s->pending--;
	maybe_closed(s);
}

/*
 * Each spare still waiting sees the end of its spec pipe and exits 0, and
 * gets SIGKILL too, in case it is stuck (in its cgroup move, say); its
 * exit callback closes it. Taken ones belong to their instances.
 */
void ows_fn_spares_close(struct ows_fn_spares *s, void (*cb)(void *ud),
			 void *ud)
{
	struct ows_link *l;

	s->closing = true;
	s->close_cb = cb;
	s->close_ud = ud;
	s->pending++;
	uv_close((uv_handle_t *)&s->refill, refill_closed);
	for (l = s->list.next; l != &s->list; l = l->next) {
		struct ows_fn_spare *sp =
		    OWS_CONTAINER_OF(l, struct ows_fn_spare, link);

		close(sp->spec_fd);
		sp->spec_fd = -1;
		uv_process_kill(&sp->proc, SIGKILL);
	}
}
