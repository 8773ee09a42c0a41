/*
 * The sandbox launcher, `owsd sandbox-exec`: the process the node spawns
 * (with uv_spawn, so that libuv waits for it) for one function instance.
 * It does what crun does for a container, in this order, each step before
 * the ones that depend on it:
 *
 *  1. Join the instance's cgroup, made by the node with its limits, so
 *     that every process forked later is counted and limited from its
 *     first page: the one given on the command line (a spare launcher,
 *     started before it is needed, joins it and then waits), then the
 *     spec's (read from --spec-fd or OWS_SANDBOX_SPEC).
 *  2. Block the signals it forwards, then clone the child into new mount,
 *     PID, IPC and UTS namespaces (clone rather than unshare + fork, so that
 *     the launcher itself stays wholly outside and can still fork and make
 *     threads, as sanitizers need). The child is PID 1 of its namespace:
 *     when it exits the kernel kills everything else in it.
 *  3. Outside, the launcher sets the forwarding handlers, unblocks, reads
 *     the child's error pipe until exec closes it, waits, and exits with the
 *     child's status (128 + signal when killed), printing a setup error the
 *     child reported, as OWS_SANDBOX_EXIT_*.
 *  4. Inside, the child resets signals, builds the new root and pivots into
 *     it (sandbox_mount.c), sets the hostname, drops supplementary groups,
 *     then gid, then uid (for all of real, effective and saved), sets no new
 *     privileges, asks for SIGKILL when the launcher dies (after the uid
 *     change, which clears that setting) and checks that the launcher did
 *     not die first, marks every descriptor above 2 close-on-exec, loads the
 *     seccomp filter (sandbox_seccomp.c; last, because it refuses mount and
 *     friends used above) and execs argv with exactly the given environment.
 *
 * The network namespace is the instance's own, made by the node (netns.h)
 * and handed over as --netns-fd: the function sees its loopback, where the
 * node serves its Runtime API, and a link out through the node.
 */
#include "fn/sandbox_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SPEC_BYTES (1u << 20)
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)
#endif

/* What the child sends up its error pipe when a step fails. */
struct child_error {
	int status;
	char msg[OWS_ERR_MSG_SIZE];
};

static const int forwarded[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
};

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t terminations;

static void forward_cb(int sig)
{
	int saved = errno;

	/* PID 1 ignores signals it has no handler for: insist the 2nd time. */
	if ((sig == SIGTERM || sig == SIGINT) && terminations++ > 0)
		sig = SIGKILL;
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static void set_forwarding(int on, sigset_t *old)
{
	struct sigaction sa;
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	if (!on) {
		sigprocmask(SIG_BLOCK, &set, old);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_cb;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, old, NULL);
}

static _Noreturn void child_fail(int fd, int status, const char *msg)
{
	struct child_error ce;

	memset(&ce, 0, sizeof(ce));
	ce.status = status;
	snprintf(ce.msg, sizeof(ce.msg), "%s", msg);
	if (write(fd, &ce, sizeof(ce)) < 0) {
		/* the launcher is gone; nobody to tell */
	}
	_exit(status);
}

/* The launcher may die between clone and PR_SET_PDEATHSIG: see if the
 * read end of the error pipe, held only by it, is still open. */
static int launcher_alive(int fd)
{
	struct pollfd p = {fd, 0, 0};

	return !(poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)));
}

static int drop_privileges(const struct ows_sandbox_spec *spec,
			   struct ows_err *err)
{
	if (setgroups(0, NULL) != 0 ||
	    setresgid(spec->gid, spec->gid, spec->gid) != 0 ||
	    setresuid(spec->uid, spec->uid, spec->uid) != 0) {
		ows_err_printf(err, "set uid %u gid %u: %s", (unsigned)spec->uid,
			       (unsigned)spec->gid, strerror(errno));
		return -errno;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		ows_err_printf(err, "no_new_privs: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* execvpe, but with PATH taken from the function's environment. */
static int exec_argv(const struct ows_sandbox_spec *spec)
{
	char *const *argv = (char *const *)spec->argv;
	char *const *env = (char *const *)spec->env;
	static char *const no_env[] = {NULL};
	const char *path = DEFAULT_PATH, *p;
	char file[PATH_MAX];
	int rv = -ENOENT;

	if (env == NULL)
		env = no_env;
	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, env);
		return -errno;
	}
	for (char *const *e = env; *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (p = path; p != NULL; p = strchr(p, ':')) {
		size_t n;

		p += *p == ':';
		n = strcspn(p, ":");
		if (n == 0 || snprintf(file, sizeof(file), "%.*s/%s", (int)n, p,
				       argv[0]) >= (int)sizeof(file))
			continue;
		execve(file, argv, env);
		if (errno != ENOENT && errno != ENOTDIR)
			rv = -errno; /* found, but not runnable: report that */
	}
	return rv;
}

static int sys_fail(struct ows_err *err, const char *what)
{
	int rv = -errno;

	ows_err_printf(err, "%s: %s", what, strerror(errno));
	return rv;
}

/* Every descriptor above 2 closes at exec; the error pipe until then. */
static int cloexec_all(struct ows_err *err)
{
	DIR *d;
	struct dirent *e;

	if (syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* Before Linux 5.11: walk the descriptors (our /proc by now). */
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return sys_fail(err, "open /proc/self/fd");
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

static int child_setup(const struct ows_sandbox_spec *spec, int fd,
		       struct ows_err *err)
{
	int rv = ows__sandbox_root_build(spec, err);

	if (rv != 0)
		return rv;
	if (sethostname(spec->hostname, strlen(spec->hostname)) != 0)
		return sys_fail(err, "sethostname");
	rv = drop_privileges(spec, err);
	if (rv != 0)
		return rv;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return sys_fail(err, "pdeathsig");
	if (!launcher_alive(fd))
		_exit(OWS_SANDBOX_EXIT_SETUP);
	rv = cloexec_all(err);
	if (rv != 0)
		return rv;
	return ows__sandbox_seccomp_load(err);
}

static _Noreturn void child_main(const struct ows_sandbox_spec *spec, int fd)
{
	struct ows_err err = {{0}};
	sigset_t none;
	int rv;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	rv = child_setup(spec, fd, &err);
	if (rv != 0)
		child_fail(fd, OWS_SANDBOX_EXIT_SETUP, err.msg);
	rv = exec_argv(spec);
	ows_err_printf(&err, "exec '%s': %s", spec->argv[0], strerror(-rv));
	child_fail(fd, rv == -ENOENT ? OWS_SANDBOX_EXIT_NOENT
				     : OWS_SANDBOX_EXIT_NOEXEC, err.msg);
}

/* The child's report: empty when exec succeeded (close-on-exec). */
static void read_report(int fd, struct child_error *ce)
{
	size_t got = 0;

	memset(ce, 0, sizeof(*ce));
	while (got < sizeof(*ce)) {
		ssize_t n = read(fd, (char *)ce + got, sizeof(*ce) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != sizeof(*ce))
		memset(ce, 0, sizeof(*ce));
	ce->msg[sizeof(ce->msg) - 1] = '\0';
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return OWS_SANDBOX_EXIT_SETUP;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int launch(const struct ows_sandbox_spec *spec, struct ows_err *err)
{
	const long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
			   CLONE_NEWUTS | SIGCHLD;
	struct child_error ce;
	sigset_t old;
	int fds[2], status;
	long pid;

	if (spec->cgroup != NULL) {
		int rv = ows__sandbox_cgroup_join(spec->cgroup, 0);

		if (rv != 0) {
			ows_err_printf(err, "join cgroup '%s': %s",
				       spec->cgroup->dir, strerror(-rv));
			return OWS_SANDBOX_EXIT_SETUP;
		}
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		ows_err_printf(err, "pipe: %s", strerror(errno));
		return OWS_SANDBOX_EXIT_SETUP;
	}
	/* An ignored SIGCHLD would make the kernel reap the child for us. */
	signal(SIGCHLD, SIG_DFL);
	set_forwarding(0, &old);
	/* A NULL stack makes clone fork-like: the child runs on a copy. */
	pid = syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		close(fds[0]);
		child_main(spec, fds[1]);
	}
	close(fds[1]);
	if (pid < 0) {
		ows_err_printf(err, "clone: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(fds[0]);
		return OWS_SANDBOX_EXIT_SETUP;
	}
	child_pid = (sig_atomic_t)pid;
	set_forwarding(1, &old);
	read_report(fds[0], &ce);
	close(fds[0]);
	status = wait_child((pid_t)pid);
	if (ce.status != 0) {
		ows_err_printf(err, "%s", ce.msg);
		return ce.status;
	}
	return status;
}

static int read_fd(int fd, struct ows_buf *out)
{
	char tmp[8192];

	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > MAX_SPEC_BYTES)
			return -EFBIG;
		if (ows_buf_append(out, tmp, (size_t)n) != 0)
			return -ENOMEM;
	}
}

/*
 * The arguments: --spec-fd N, and for a launcher started ahead of need,
 * the cgroup to join before the spec comes: --cgroup-v1 MEMORY_DIR
 * PIDS_DIR or --cgroup-v2 DIR.
 */
/* A v1 directory argument: "-" for a controller the host lacks. */
static void v1_arg(char *dst, const char *arg)
{
	snprintf(dst, OWS_SANDBOX_CGROUP_PATH, "%s",
		 strcmp(arg, "-") == 0 ? "" : arg);
}

static int parse_args(int argc, char **argv, int *fd, int *netns,
		      struct ows_sandbox_cgroup *cg, struct ows_err *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int left = argc - i - 1;

		if (strcmp(a, "sandbox-exec") == 0)
			continue;
		if (strcmp(a, "--spec-fd") == 0 && left >= 1) {
			*fd = atoi(argv[++i]);
		} else if (strncmp(a, "--spec-fd=", 10) == 0) {
			*fd = atoi(a + 10);
		} else if (strcmp(a, "--netns-fd") == 0 && left >= 1) {
			*netns = atoi(argv[++i]);
		} else if (strcmp(a, "--cgroup-v2") == 0 && left >= 1) {
			cg->version = 2;
			snprintf(cg->dir, sizeof(cg->dir), "%s", argv[++i]);
		} else if (strcmp(a, "--cgroup-v1") == 0 && left >= 4) {
			cg->version = 1;
			snprintf(cg->dir, sizeof(cg->dir), "%s", argv[++i]);
			snprintf(cg->pids_dir, sizeof(cg->pids_dir), "%s",
				 argv[++i]);
			v1_arg(cg->cpu_dir, argv[++i]);
			v1_arg(cg->freezer_dir, argv[++i]);
		} else {
			ows_err_printf(err, "unknown argument '%s'", a);
			return OWS_EINVAL;
		}
	}
	return 0;
}

/* The spec, from fd (or, when fd is -1, OWS_SANDBOX_SPEC) into b. */
static int read_spec(int fd, struct ows_buf *b, struct ows_err *err)
{
	const char *env;
	int rv;

	if (fd >= 0) {
		rv = read_fd(fd, b);
		close(fd);
	} else if ((env = getenv(OWS_SANDBOX_SPEC_ENV)) != NULL) {
		rv = ows_buf_puts(b, env);
		unsetenv(OWS_SANDBOX_SPEC_ENV);
	} else {
		rv = -ENOENT;
	}
	if (rv == 0 && b->len == 0)
		rv = -ENODATA;
	if (rv != 0)
		ows_err_printf(err, "no spec: %s", strerror(-rv));
	return rv;
}

int ows_sandbox_main(int argc, char **argv)
{
	struct ows_sandbox_cgroup early = {0};
	struct ows_sandbox_spec spec;
	struct ows_buf b = OWS_BUF_INIT;
	struct ows_err err = {{0}};
	int fd = -1, netns = -1, status, rv;

	/*
	 * If the node dies, its instances die with it: the launcher gets
	 * SIGKILL, and PID 1 inside has the same signal for the launcher.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rv = parse_args(argc, argv, &fd, &netns, &early, &err);
	/* The instance's network: entered first, so the child is born in
	 * it and the launcher keeps nothing of the node's. */
	if (rv == 0 && netns >= 0) {
		if (setns(netns, CLONE_NEWNET) != 0) {
			rv = -errno;
			ows_err_printf(&err, "enter network namespace: %s",
				       strerror(errno));
		}
		close(netns);
	}
	/* The same for every function: done before the spec comes (a spare
	 * waits for it meanwhile). A failure is reported by the child. */
	if (rv == 0)
		(void)ows__sandbox_seccomp_prepare(NULL);
	/*
	 * A launcher started ahead of need joins its cgroup now, while the
	 * node has no request waiting (on cgroup v1 a move waits for an RCU
	 * grace period, milliseconds), then waits for its spec. A node that
	 * no longer needs it closes the pipe: that is not an error.
	 */
	if (rv == 0 && early.version != 0 &&
	    (rv = ows__sandbox_cgroup_join(&early, 0)) != 0)
		ows_err_printf(&err, "join cgroup '%s': %s", early.dir,
			       strerror(-rv));
	if (rv == 0)
		rv = read_spec(fd, &b, &err);
	if (rv == -ENODATA && early.version != 0) {
		ows_buf_free(&b);
		return 0;
	}
	if (rv == 0)
		rv = ows__sandbox_spec_decode(b.data, b.len, &spec, &err);
	ows_buf_free(&b);
	if (rv != 0) {
		fprintf(stderr, "ows: sandbox: %s\n", err.msg);
		return OWS_SANDBOX_EXIT_SETUP;
	}
	status = launch(&spec, &err);
	if (err.msg[0] != '\0')
		fprintf(stderr, "ows: sandbox: %s\n", err.msg);
	ows__sandbox_spec_close(&spec);
	return status;
}
