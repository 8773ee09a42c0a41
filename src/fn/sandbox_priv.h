/*
 * Internals shared by the sandbox's files: the launcher (sandbox.c) calls
 * into the root building (sandbox_mount.c) and the seccomp filter
 * (sandbox_seccomp.c) from the child, between its namespaces and its exec.
 * The spec's JSON form (sandbox_spec.c) and the cgroups (sandbox_cgroup.c)
 * are used by the pool's files too (through fn/pool_priv.h); nothing outside
 * src/fn/ but its unit tests uses any of this.
 */
#ifndef OWS_FN_SANDBOX_PRIV_H
#define OWS_FN_SANDBOX_PRIV_H

#include "fn/sandbox.h"

/*
 * In the child, in its new mount namespace: build the new root on
 * spec->root_dir, pivot into it, detach the host's root, and leave the
 * working directory at spec->cwd. Returns 0 or -errno with err set.
 */
int ows__sandbox_root_build(const struct ows_sandbox_spec *spec,
			    struct ows_err *err);

/*
 * Compile the seccomp filter (once; later calls return the first result),
 * so that loading it costs only the system call. 0 or -errno.
 */
int ows__sandbox_seccomp_prepare(struct ows_err *err);
/* Load the seccomp filter into the calling thread (compiling it first if
 * that was not done). 0 or -errno. */
int ows__sandbox_seccomp_load(struct ows_err *err);

/* Fill spec's zero fields with the defaults. */
void ows_sandbox_spec_defaults(struct ows_sandbox_spec *spec);

/* ---- the spec's JSON form (sandbox_spec.c) ---- */

/*
 * Append the JSON form of spec to out. Strings must be UTF-8. Returns 0,
 * -EINVAL (no argv, no bundle, bad string) or -ENOMEM.
 */
int ows__sandbox_spec_encode(const struct ows_sandbox_spec *spec,
			     struct ows_buf *out);

/*
 * Parse the JSON form into spec, which then owns its storage until
 * ows__sandbox_spec_close. Returns 0 or OWS_EPARSE / OWS_EINVAL with err set
 * (err may be NULL), or -ENOMEM.
 */
int ows__sandbox_spec_decode(const char *text, size_t len,
			     struct ows_sandbox_spec *spec, struct ows_err *err);

/* Free the storage of a decoded spec; harmless on an encoded one. */
void ows__sandbox_spec_close(struct ows_sandbox_spec *spec);

/* ---- cgroups (sandbox_cgroup.c) ---- */

/*
 * Create the cgroup `name` (one path component) below the caller's own
 * cgroup, with memory_bytes (0: no limit) and max_procs (0: no limit) as
 * limits, swap disabled where the kernel accounts it. The version is chosen
 * at run time: v2 when /sys/fs/cgroup is cgroup2, else v1 with the memory
 * and pids controllers. On v2, when the caller's cgroup holds processes and
 * cannot delegate controllers ("no internal processes"), those processes
 * are first moved to a leaf "ows-node" and the instance cgroups are made
 * beside it. A stale cgroup of the same name is reused. Returns 0 or -errno
 * with err set (err may be NULL).
 */
int ows__sandbox_cgroup_create(struct ows_sandbox_cgroup *cg, const char *name,
			       uint64_t memory_bytes, unsigned max_procs,
			       struct ows_err *err);

/*
 * Set cg's limits, as ows__sandbox_cgroup_create does (0: leave that one
 * as it is); also on a cgroup that already holds processes, for launchers
 * started ahead of need. Returns 0 or -errno with err set (may be NULL).
 */
int ows__sandbox_cgroup_limit(const struct ows_sandbox_cgroup *cg,
			      uint64_t memory_bytes, unsigned max_procs,
			      struct ows_err *err);

/*
 * Limit cg to millicpus thousandths of one CPU (1000: one whole CPU) over
 * each 100 ms period (v2 cpu.max, v1 cpu.cfs_quota_us); 0 lifts the limit.
 * Returns 0, -ENOTSUP when the host has no cpu controller for cg, or
 * -errno.
 */
int ows__sandbox_cgroup_cpu(const struct ows_sandbox_cgroup *cg,
			    unsigned millicpus);

/*
 * Freeze (true) or thaw (false) every process in cg (v2 cgroup.freeze, v1
 * freezer.state), as Lambda freezes a sandbox between invocations: a frozen
 * process gets no CPU and no signal is acted on until it is thawed. The
 * call does not wait for the freeze to complete. Returns 0, -ENOTSUP when
 * the host has no freezer for cg, or -errno.
 */
int ows__sandbox_cgroup_freeze(const struct ows_sandbox_cgroup *cg,
			       bool frozen);

/* Move process pid (0: the caller) into cg. Returns 0 or -errno. */
int ows__sandbox_cgroup_join(const struct ows_sandbox_cgroup *cg, pid_t pid);

/*
 * SIGKILL every process in cg (v2: cgroup.kill; else kill each pid in
 * cgroup.procs until it stays empty). Returns 0 or -errno.
 */
int ows__sandbox_cgroup_kill_all(const struct ows_sandbox_cgroup *cg);

/*
 * 1 when the kernel's OOM killer killed a process in cg (v2: memory.events
 * oom_kill; v1: oom_kill in memory.oom_control, or on kernels without it,
 * under_oom or memory.failcnt, which the caller should trust only when the
 * instance died of SIGKILL), 0 when not, -errno when cg cannot be read.
 * Call it before ows__sandbox_cgroup_destroy.
 */
int ows__sandbox_cgroup_oom_killed(const struct ows_sandbox_cgroup *cg);

/*
 * Kill what is left in cg and remove it (waiting up to about two seconds
 * for dying processes to leave). Returns 0 or -errno (-ENOENT is success).
 */
int ows__sandbox_cgroup_destroy(struct ows_sandbox_cgroup *cg);

#endif
