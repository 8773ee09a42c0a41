/*
 * The function sandbox: one function instance runs as crun would run a
 * container, without an image. The node creates a cgroup for the instance
 * (ows__sandbox_cgroup_create, with the memory and process limits), encodes a
 * struct ows_sandbox_spec to JSON (ows__sandbox_spec_encode) and spawns the
 * launcher, `owsd sandbox-exec --spec-fd N` (or with the JSON in the
 * environment variable OWS_SANDBOX_SPEC), with uv_spawn so that libuv reaps
 * it. The launcher (ows_sandbox_main) joins the cgroup, starts the function
 * as PID 1 of new mount, PID, IPC and UTS namespaces over a read-only root
 * made of the host's runtime directories, the bundle at /var/task and a
 * private /tmp, drops to an unprivileged uid with no new privileges and a
 * seccomp filter, execs the runtime, and exits with its status (128 + signal
 * when it was killed). The network namespace is the one the node made for
 * the instance (fn/netns.h), handed to the launcher as a descriptor. When the instance ends, the node asks whether the kernel
 * OOM-killed in it (ows__sandbox_cgroup_oom_killed) and removes the cgroup
 * (ows__sandbox_cgroup_destroy), which kills anything left.
 *
 * Needs root (CAP_SYS_ADMIN in the initial user namespace) and libseccomp.
 */
#ifndef OWS_FN_SANDBOX_H
#define OWS_FN_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"

/* Environment variable that may carry the spec to the launcher. */
#define OWS_SANDBOX_SPEC_ENV "OWS_SANDBOX_SPEC"

/* Defaults used when a spec field is left 0 or NULL. */
#define OWS_SANDBOX_ROOT_DIR "/run/ows-sandbox"
#define OWS_SANDBOX_HOSTNAME "ows-sandbox"
#define OWS_SANDBOX_CWD "/var/task"
#define OWS_SANDBOX_UID 65534
#define OWS_SANDBOX_TMP_BYTES (512ull << 20) /* Lambda's default /tmp */

/* Exit statuses of the launcher for failures of its own (as crun's). */
#define OWS_SANDBOX_EXIT_SETUP 125  /* the sandbox could not be built */
#define OWS_SANDBOX_EXIT_NOEXEC 126 /* argv[0] found but not executable */
#define OWS_SANDBOX_EXIT_NOENT 127  /* argv[0] not found */

#define OWS_SANDBOX_CGROUP_PATH 1024

/*
 * An instance's cgroup. On cgroup v2 (the unified hierarchy) dir is the one
 * directory; on v1 dir is in the memory hierarchy, pids_dir in the pids
 * hierarchy, cpu_dir and freezer_dir in those (empty when the host does
 * not mount that controller). Plain data: it can be copied and is encoded
 * into the spec.
 */
struct ows_sandbox_cgroup {
	int version; /* 1 or 2; 0 when there is none */
	char dir[OWS_SANDBOX_CGROUP_PATH];
	char pids_dir[OWS_SANDBOX_CGROUP_PATH];	   /* v1 only, else "" */
	char cpu_dir[OWS_SANDBOX_CGROUP_PATH];	   /* v1 only, maybe "" */
	char freezer_dir[OWS_SANDBOX_CGROUP_PATH]; /* v1 only, maybe "" */
};

/*
 * What to run and how. Every pointer is borrowed; arrays end with NULL.
 * Zero or NULL fields take the defaults above.
 */
struct ows_sandbox_spec {
	const char *bundle_dir; /* host directory, mounted at /var/task ro */
	/*
	 * Host paths bound read-only at the same place in the sandbox; a path
	 * that is a symbolic link (merged /usr: /bin -> usr/bin) is recreated as
	 * the same link, one that is missing is skipped. NULL: /usr, /lib,
	 * /lib64, /bin, /sbin, /etc/ssl/certs, /etc/alternatives.
	 */
	const char *const *ro_paths;
	/*
	 * More read-only binds, as pairs: a host path, then where it appears
	 * in the sandbox (absolute, without '..'); NULL after the last pair.
	 * The node binds the shipped runtimes at /opt/ows/runtimes this way.
	 */
	const char *const *binds;
	/* Empty host directory the new root is built on (created if needed). */
	const char *root_dir;
	const char *hostname;
	const char *cwd;
	uid_t uid; /* 0 means OWS_SANDBOX_UID: root is refused */
	gid_t gid; /* 0 means the same as uid */
	uint64_t tmp_bytes; /* size of the tmpfs at /tmp (and /dev/shm) */
	/* argv[0] without a '/' is looked up in PATH of env (or a default). */
	const char *const *argv;
	const char *const *env; /* "NAME=value"; the whole environment */
	const struct ows_sandbox_cgroup *cgroup; /* joined first; may be NULL */
	void *priv; /* owned storage of a decoded spec */
};

/*
 * The launcher: `sandbox-exec [--spec-fd N] [--netns-fd N] [--cgroup-v1
 * MEMORY_DIR PIDS_DIR CPU_DIR FREEZER_DIR | --cgroup-v2 DIR]` (a v1 CPU or
 * FREEZER dir of "-" means none). --netns-fd names an inherited network
 * namespace that the launcher enters first, so that the function runs in
 * it. argv[0] is the subcommand's name; a word
 * "sandbox-exec" is skipped wherever it is, so both argv and argv + 1 of
 * owsd may be passed. Without --spec-fd the spec is read from
 * OWS_SANDBOX_SPEC. With a --cgroup option the launcher joins that cgroup
 * first and then waits for the spec (a launcher started ahead of need);
 * an empty spec then means "not needed" and the launcher exits 0. Returns the function's exit status, 128 + the signal
 * that killed it, or one of OWS_SANDBOX_EXIT_* after printing why to stderr.
 * The caller should exit with it at once. Signals SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the function; a second
 * SIGTERM or SIGINT becomes SIGKILL (PID 1 ignores signals it does not
 * handle). When the launcher itself is killed, the function gets SIGKILL.
 */
int ows_sandbox_main(int argc, char **argv);

/*
 * Remove the cgroups that nodes killed without cleaning up left behind:
 * those beside the caller's instance cgroups named prefix..."-PID-N" whose
 * PID no longer runs, which hold no process and are at least min_age_s
 * old. Returns how many directories went.
 */
unsigned ows_sandbox_cgroup_sweep(const char *prefix, unsigned min_age_s);

#endif
