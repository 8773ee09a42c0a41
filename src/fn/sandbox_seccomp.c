/*
 * The sandbox's seccomp filter, loaded last before exec. It allows by
 * default (a function may run any language runtime, and an allow list breaks
 * with each new libc) and refuses what a function never needs and what has
 * been the way out of containers: mounts and the new mount API, namespaces
 * (unshare, setns, clone with a CLONE_NEW* flag), tracing other processes,
 * kernel modules, kexec, bpf, perf, keyrings, swap, reboot, the clock,
 * handle-based opens, userfaultfd, raw I/O ports and exotic personalities.
 * Most of these already fail for an unprivileged uid; the filter is the
 * second wall, as Docker's default profile is. clone3 answers ENOSYS, since
 * its flags sit in memory a filter cannot read, so that libc falls back to
 * clone, whose flags it can. io_uring answers ENOSYS too: it bypasses the
 * filter for the operations it carries, and runtimes fall back to threads.
 * Sockets of the vsock family answer EAFNOSUPPORT, as on a kernel without
 * it: vsock is not per network namespace, so on a virtual machine they
 * would reach the hypervisor's services (and other guests') around the
 * instance's own network, as Docker's default profile also refuses.
 */
#include "fn/sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const denied[] = {
	"mount", "umount", "umount2", "pivot_root", "chroot",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr", "unshare", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "create_module", "bpf", "perf_event_open",
	"keyctl", "add_key", "request_key", "swapon", "swapoff", "reboot",
	"acct", "quotactl", "quotactl_fd", "open_by_handle_at",
	"name_to_handle_at", "userfaultfd", "iopl", "ioperm",
	"settimeofday", "clock_settime", "clock_adjtime", "stime",
	"lookup_dcookie", "nfsservctl", "uselib", "vm86", "vm86old",
	"syslog", "_sysctl", "vhangup", "fanotify_init",
	NULL,
};

static const char *const nosys[] = {
	"clone3", "io_uring_setup", "io_uring_enter", "io_uring_register",
	NULL,
};

static const unsigned long ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* Syscalls unknown on this architecture are skipped, not an error. */
static int add_names(scmp_filter_ctx ctx, const char *const *names,
		     uint32_t action, struct ows_err *err)
{
	for (; *names != NULL; names++) {
		int nr = seccomp_syscall_resolve_name(*names);
		int rv;

		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		rv = seccomp_rule_add(ctx, action, nr, 0);
		if (rv != 0) {
			ows_err_printf(err, "seccomp rule '%s': %s", *names,
				       strerror(-rv));
			return rv;
		}
	}
	return 0;
}

/*
 * clone's flags are its first argument except on s390, where the stack
 * comes first. One rule per flag: a rule's comparisons are ANDed.
 */
static int add_clone(scmp_filter_ctx ctx)
{
#if defined(__s390__) || defined(__s390x__)
	const unsigned arg = 1;
#else
	const unsigned arg = 0;
#endif
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		struct scmp_arg_cmp cmp = {
			arg, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i],
		};
		int rv = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM),
						SCMP_SYS(clone), 1, &cmp);

		if (rv != 0)
			return rv;
	}
	return 0;
}

/* socket(AF_VSOCK, ...): see the top. */
static int add_socket(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp cmp = {0, SCMP_CMP_EQ, AF_VSOCK, 0};

	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
				      SCMP_SYS(socket), 1, &cmp);
}

/*
 * personality: only PER_LINUX, PER_LINUX32 and the query 0xffffffff. A rule
 * may compare an argument once, so the refused set is written as rules of
 * one masked comparison each over the 32 bits the kernel reads: "bit 31
 * clear and bit i set" for every bit i but 3, and "bit 31 set and bit j
 * clear" for every other bit j, which together leave exactly 0, 8 and
 * 0xffffffff.
 */
static int add_personality(scmp_filter_ctx ctx)
{
	const uint64_t top = 1ull << 31;

	for (unsigned i = 0; i < 31; i++) {
		const uint64_t bit = 1ull << i;
		struct scmp_arg_cmp set = {0, SCMP_CMP_MASKED_EQ, top | bit, bit};
		struct scmp_arg_cmp clear = {0, SCMP_CMP_MASKED_EQ, top | bit,
					     top};
		int rv = 0;

		if (bit != PER_LINUX32)
			rv = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM),
						    SCMP_SYS(personality), 1,
						    &set);
		if (rv == 0)
			rv = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM),
						    SCMP_SYS(personality), 1,
						    &clear);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/*
 * The filter is the same for every function: it is compiled once per
 * launcher, before the spec comes (a spare launcher does it while it
 * waits), exported as BPF through a pipe, and loaded in the child with
 * prctl, which skips libseccomp's compile and its probing of the kernel
 * at load time (half a millisecond of every cold start).
 */
#define MAX_PROG 4096 /* BPF_MAXINSNS */

static struct sock_filter prog[MAX_PROG + 1];
static unsigned short prog_len;
static int prog_rv = 1; /* 1: not compiled yet */
static char prog_err[OWS_ERR_MSG_SIZE];

static int compile(scmp_filter_ctx ctx, struct ows_err *err)
{
	int rv = add_names(ctx, denied, SCMP_ACT_ERRNO(EPERM), err);

	if (rv == 0)
		rv = add_names(ctx, nosys, SCMP_ACT_ERRNO(ENOSYS), err);
	if (rv == 0) {
		rv = add_clone(ctx);
		if (rv == 0)
			rv = add_personality(ctx);
		if (rv == 0)
			rv = add_socket(ctx);
		if (rv != 0)
			ows_err_printf(err, "seccomp argument rule: %s",
				       strerror(-rv));
	}
	return rv;
}

/*
 * ctx's BPF into prog, through a memory file: a pipe could hold less than
 * the program when the user's pipe buffers run short, and the export
 * writes it all before anything reads.
 */
static int export(scmp_filter_ctx ctx, struct ows_err *err)
{
	size_t got = 0;
	int fd = memfd_create("ows-seccomp", MFD_CLOEXEC), rv;

	if (fd < 0) {
		ows_err_printf(err, "seccomp memfd: %s", strerror(errno));
		return -errno;
	}
	rv = seccomp_export_bpf(ctx, fd);
	if (rv == 0 && lseek(fd, 0, SEEK_SET) != 0)
		rv = -errno;
	while (rv == 0) {
		/* one byte more than fits: a program too long is seen */
		ssize_t n = read(fd, (char *)prog + got, sizeof(prog) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rv = -errno;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(prog))
			rv = -E2BIG;
	}
	close(fd);
	if (rv == 0 && (got == 0 || got % sizeof(prog[0]) != 0))
		rv = -EIO;
	if (rv != 0)
		ows_err_printf(err, "seccomp export: %s", strerror(-rv));
	prog_len = (unsigned short)(got / sizeof(prog[0]));
	return rv;
}

int ows__sandbox_seccomp_prepare(struct ows_err *err)
{
	struct ows_err mine = {{0}};
	scmp_filter_ctx ctx;

	if (prog_rv != 1)
		goto out;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		ows_err_printf(&mine, "seccomp_init failed");
		prog_rv = -ENOMEM;
	} else {
		prog_rv = compile(ctx, &mine);
		if (prog_rv == 0)
			prog_rv = export(ctx, &mine);
		seccomp_release(ctx);
	}
	snprintf(prog_err, sizeof(prog_err), "%s", mine.msg);
out:
	if (prog_rv != 0)
		ows_err_printf(err, "%s", prog_err);
	return prog_rv;
}

int ows__sandbox_seccomp_load(struct ows_err *err)
{
	struct sock_fprog fprog;
	int rv = ows__sandbox_seccomp_prepare(err);

	if (rv != 0)
		return rv;
	fprog = (struct sock_fprog){prog_len, prog};
	/* no_new_privs is set already (drop_privileges); it is required */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
		ows_err_printf(err, "seccomp load: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
