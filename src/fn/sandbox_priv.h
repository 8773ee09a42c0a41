/*
 * Internals shared by the sandbox's files: the launcher (sandbox.c) calls
 * into the root building (sandbox_mount.c) and the seccomp filter
 * (sandbox_seccomp.c) from the child, between its namespaces and its exec.
 */
#ifndef OWS_FN_SANDBOX_PRIV_H
#define OWS_FN_SANDBOX_PRIV_H

#include "fn/sandbox.h"

/*
 * In the child, in its new mount namespace: build the new root on
 * spec->root_dir, pivot into it, detach the host's root, and leave the
 * working directory at spec->cwd. Returns 0 or -errno with err set.
 */
int ows_sandbox_root_build(const struct ows_sandbox_spec *spec,
			   struct ows_err *err);

/*
 * Compile the seccomp filter (once; later calls return the first result),
 * so that loading it costs only the system call. 0 or -errno.
 */
int ows_sandbox_seccomp_prepare(struct ows_err *err);
/* Load the seccomp filter into the calling thread (compiling it first if
 * that was not done). 0 or -errno. */
int ows_sandbox_seccomp_load(struct ows_err *err);

/* Fill spec's zero fields with the defaults. */
void ows_sandbox_spec_defaults(struct ows_sandbox_spec *spec);

#endif
