/*
 * The sandbox's root file system, built by the launcher's child in its own
 * mount namespace (so nothing here is seen by the host) the way crun builds
 * a container's: every mount made private first, so that nothing propagates
 * back; a small tmpfs on spec->root_dir as the new root; the host's runtime
 * paths bound read-only (bind, then a remount, because MS_RDONLY is ignored
 * on the first bind); the bundle read-only at /var/task, and the spec's
 * extra read-only binds (the shipped runtimes); a private tmpfs
 * /tmp; a proc of the new PID namespace; a /dev with only null, zero, full,
 * random, urandom and tty bound from the host; a synthesized /etc (passwd
 * and group naming the sandbox user, copies of hosts, resolv.conf and
 * ld.so.cache); then pivot_root into it, detach the host's root, and remount
 * the new root and /dev read-only.
 */
#include "fn/sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs.h"

#define ROOT_TMPFS_BYTES (16u << 20)
#define MAX_COPY_BYTES (8u << 20)

static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty", NULL,
};

/* Host files copied into the synthesized /etc when they exist. */
static const char *const etc_copies[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/ld.so.cache",
	"/etc/nsswitch.conf", NULL,
};

static int fail(struct ows_err *err, int rv, const char *what,
		const char *path)
{
	ows_err_printf(err, "%s '%s': %s", what, path, strerror(-rv));
	return rv;
}

static int join(char *out, const char *root, const char *path)
{
	if (snprintf(out, PATH_MAX, "%s%s", root, path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Flags a remount must keep: in a user namespace the kernel refuses to
 * clear the "locked" ones of the source, and keeping them is right anyway.
 */
static unsigned long kept_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) != 0)
		return 0;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Bind src on dst (which exists), then remount it with flags. */
static int bind_mount(const char *src, const char *dst, unsigned long flags,
		struct ows_err *err)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
		return fail(err, -errno, "bind", src);
	flags |= MS_BIND | MS_REMOUNT | kept_flags(dst);
	if (mount(NULL, dst, NULL, flags, NULL) != 0)
		return fail(err, -errno, "remount", dst);
	return 0;
}

/* Make an empty file or directory at dst to mount src on. */
static int make_target(const char *dst, int is_dir)
{
	char parent[PATH_MAX];
	char *slash;
	int fd, rv;

	snprintf(parent, sizeof(parent), "%s", dst);
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		rv = ows_mkdir_p(parent, 0755);
		if (rv != 0)
			return rv;
	}
	if (is_dir)
		return mkdir(dst, 0755) == 0 || errno == EEXIST ? 0 : -errno;
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* One host path, read-only at the same place; links are recreated. */
static int add_ro_path(const char *root, const char *path, struct ows_err *err)
{
	char dst[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int rv;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : fail(err, -errno, "stat", path);
	rv = join(dst, root, path);
	if (rv != 0)
		return fail(err, rv, "path", path);
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return fail(err, -errno, "readlink", path);
		target[n] = '\0';
		rv = make_target(dst, 0);
		if (rv == 0 && unlink(dst) != 0)
			rv = -errno;
		if (rv == 0 && symlink(target, dst) != 0)
			rv = -errno;
		return rv == 0 ? 0 : fail(err, rv, "symlink", dst);
	}
	rv = make_target(dst, S_ISDIR(st.st_mode));
	if (rv != 0)
		return fail(err, rv, "mkdir", dst);
	return bind_mount(path, dst, MS_RDONLY | MS_NOSUID | MS_NODEV, err);
}

static int mount_tmpfs(const char *dst, const char *opts, unsigned long flags,
		       struct ows_err *err)
{
	int rv = make_target(dst, 1);

	if (rv != 0)
		return fail(err, rv, "mkdir", dst);
	if (mount("tmpfs", dst, "tmpfs", flags, opts) != 0)
		return fail(err, -errno, "mount tmpfs", dst);
	return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd, rv = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len > 0 && rv == 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno != EINTR)
			rv = -errno;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	close(fd);
	return rv;
}

/* passwd and group name the sandbox user; the rest are host copies. */
static int make_etc(const char *root, const struct ows_sandbox_spec *spec,
		    struct ows_err *err)
{
	char dst[PATH_MAX], text[512];
	int n, rv;

	snprintf(dst, sizeof(dst), "%s/etc", root);
	rv = ows_mkdir_p(dst, 0755);
	for (const char *const *p = etc_copies; rv == 0 && *p; p++) {
		struct ows_buf b = OWS_BUF_INIT;

		rv = ows_file_read(*p, MAX_COPY_BYTES, &b);
		if (rv == 0 && join(dst, root, *p) == 0)
			rv = write_file(dst, b.data ? b.data : "", b.len);
		ows_buf_free(&b);
		if (rv == -ENOENT)
			rv = 0;
	}
	if (rv != 0)
		return fail(err, rv, "copy", "/etc");
	n = snprintf(text, sizeof(text),
		     "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		     "sbx_user:x:%u:%u:sandbox:/tmp:/usr/sbin/nologin\n",
		     (unsigned)spec->uid, (unsigned)spec->gid);
	snprintf(dst, sizeof(dst), "%s/etc/passwd", root);
	rv = write_file(dst, text, (size_t)n);
	if (rv == 0) {
		n = snprintf(text, sizeof(text), "root:x:0:\nsbx_user:x:%u:\n",
			     (unsigned)spec->gid);
		snprintf(dst, sizeof(dst), "%s/etc/group", root);
		rv = write_file(dst, text, (size_t)n);
	}
	return rv == 0 ? 0 : fail(err, rv, "write", dst);
}

static int make_dev(const char *root, const struct ows_sandbox_spec *spec,
		    struct ows_err *err)
{
	static const char *const links[][2] = {
		{"fd", "/proc/self/fd"},	{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},	{"stderr", "/proc/self/fd/2"},
	};
	char dst[PATH_MAX], src[PATH_MAX], opts[64];
	int rv;

	snprintf(dst, sizeof(dst), "%s/dev", root);
	rv = mount_tmpfs(dst, "mode=0755,size=65536", MS_NOSUID | MS_NOEXEC,
			 err);
	for (const char *const *d = dev_nodes; rv == 0 && *d; d++) {
		snprintf(src, sizeof(src), "/dev/%s", *d);
		snprintf(dst, sizeof(dst), "%s/dev/%s", root, *d);
		if (access(src, F_OK) != 0)
			continue;
		rv = make_target(dst, 0);
		if (rv != 0)
			return fail(err, rv, "create", dst);
		rv = bind_mount(src, dst, MS_NOSUID | MS_NOEXEC, err);
	}
	for (size_t i = 0; rv == 0 && i < sizeof(links) / sizeof(links[0]);
	     i++) {
		snprintf(dst, sizeof(dst), "%s/dev/%s", root, links[i][0]);
		if (symlink(links[i][1], dst) != 0)
			return fail(err, -errno, "symlink", dst);
	}
	if (rv != 0)
		return rv;
	/* POSIX shared memory (Python's multiprocessing) lives here. */
	snprintf(dst, sizeof(dst), "%s/dev/shm", root);
	snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
		 (unsigned long long)spec->tmp_bytes);
	return mount_tmpfs(dst, opts, MS_NOSUID | MS_NODEV, err);
}

/* spec->binds: host path, sandbox path, ...; each read-only. */
static int add_binds(const char *root, const char *const *binds,
		     struct ows_err *err)
{
	char dst[PATH_MAX];
	struct stat st;
	int rv = 0;

	for (const char *const *p = binds; rv == 0 && p && p[0] && p[1];
	     p += 2) {
		if (stat(p[0], &st) != 0)
			return fail(err, -errno, "stat", p[0]);
		rv = join(dst, root, p[1]);
		if (rv == 0)
			rv = make_target(dst, S_ISDIR(st.st_mode));
		if (rv != 0)
			return fail(err, rv, "mkdir", dst);
		rv = bind_mount(p[0], dst, MS_RDONLY | MS_NOSUID | MS_NODEV,
				err);
	}
	return rv;
}

static int make_mounts(const char *root, const struct ows_sandbox_spec *spec,
		       struct ows_err *err)
{
	char dst[PATH_MAX], opts[64];
	int rv = 0;

	for (const char *const *p = spec->ro_paths; rv == 0 && *p; p++)
		rv = add_ro_path(root, *p, err);
	if (rv != 0)
		return rv;
	snprintf(dst, sizeof(dst), "%s/var/task", root);
	rv = make_target(dst, 1);
	if (rv != 0)
		return fail(err, rv, "mkdir", dst);
	rv = bind_mount(spec->bundle_dir, dst, MS_RDONLY | MS_NOSUID | MS_NODEV,
		  err);
	if (rv == 0)
		rv = add_binds(root, spec->binds, err);
	if (rv != 0)
		return rv;
	snprintf(dst, sizeof(dst), "%s/tmp", root);
	snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
		 (unsigned long long)spec->tmp_bytes);
	rv = mount_tmpfs(dst, opts, MS_NOSUID | MS_NODEV, err);
	if (rv != 0)
		return rv;
	snprintf(dst, sizeof(dst), "%s/proc", root);
	rv = make_target(dst, 1);
	if (rv == 0 && mount("proc", dst, "proc",
			     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
		rv = -errno;
	if (rv != 0)
		return fail(err, rv, "mount proc", dst);
	rv = make_dev(root, spec, err);
	if (rv == 0)
		rv = make_etc(root, spec, err);
	return rv;
}

/*
 * pivot_root(".", ".") stacks the old root on the new one, so no put_old
 * directory is needed; detaching it leaves the host's tree unreachable.
 */
static int pivot(const char *root, struct ows_err *err)
{
	if (chdir(root) != 0)
		return fail(err, -errno, "chdir", root);
	if (syscall(SYS_pivot_root, ".", ".") != 0)
		return fail(err, -errno, "pivot_root", root);
	if (umount2(".", MNT_DETACH) != 0)
		return fail(err, -errno, "detach old root", "/");
	if (chdir("/") != 0)
		return fail(err, -errno, "chdir", "/");
	if (mount(NULL, "/", NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) != 0)
		return fail(err, -errno, "remount read-only", "/");
	if (mount(NULL, "/dev", NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  NULL) != 0)
		return fail(err, -errno, "remount read-only", "/dev");
	return 0;
}

int ows__sandbox_root_build(const struct ows_sandbox_spec *spec,
			    struct ows_err *err)
{
	const char *root = spec->root_dir;
	char opts[64];
	int rv;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return fail(err, -errno, "make private", "/");
	rv = ows_mkdir_p(root, 0755);
	if (rv != 0)
		return fail(err, rv, "mkdir", root);
	snprintf(opts, sizeof(opts), "mode=0755,size=%u", ROOT_TMPFS_BYTES);
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
		return fail(err, -errno, "mount tmpfs", root);
	rv = make_mounts(root, spec, err);
	if (rv == 0)
		rv = pivot(root, err);
	if (rv == 0 && chdir(spec->cwd) != 0)
		rv = fail(err, -errno, "chdir", spec->cwd);
	return rv;
}
