/*
 * The instance's cgroup, managed by the node: created with the memory and
 * process limits before the launcher starts (the launcher only joins it, so
 * the limits are in force before the function's first instruction), read
 * after the instance ends to tell an out-of-memory kill from a crash, and
 * removed, which also kills whatever is left. Both cgroup versions are
 * served, chosen at run time: v2 when /sys/fs/cgroup is a cgroup2 file
 * system (memory.max, memory.swap.max, pids.max, memory.events, cgroup.kill),
 * else v1 with the memory and pids hierarchies (memory.limit_in_bytes,
 * memory.memsw.limit_in_bytes, pids.max, memory.oom_control). Instance
 * cgroups are made below the node's own cgroup, found in /proc/self/cgroup
 * and placed with /proc/self/mountinfo, so that a node running in a
 * delegated subtree (systemd Delegate=yes, a container) works unchanged.
 */
#include "fn/sandbox.h"
#include "fn/sandbox_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define NODE_LEAF "ows-node"
#define SMALL_FILE (1u << 20)
#define SETTLE_TRIES 200 /* of 10 ms: how long dying processes may take */

static void pause_10ms(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

static int write_str(const char *dir, const char *file, const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= PATH_MAX)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EIO;
}

static int read_file(const char *dir, const char *file, struct ows_buf *out)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= PATH_MAX)
		return -ENAMETOOLONG;
	return ows_file_read(path, SMALL_FILE, out);
}

/* Is word one of the comma-separated items of list? */
static int has_item(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * The caller's cgroup path for a v1 controller, or the v2 path when
 * controller is NULL, from lines "id:controllers:path".
 */
static int own_path(const char *controller, char *out, size_t size)
{
	struct ows_buf b = OWS_BUF_INIT;
	char *line, *save = NULL;
	int rv = ows_file_read("/proc/self/cgroup", SMALL_FILE, &b);

	if (rv != 0 || b.data == NULL)
		return rv != 0 ? rv : -ENOENT;
	rv = -ENOENT;
	for (line = strtok_r(b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *path;

		if (ctl == NULL || (path = strchr(++ctl, ':')) == NULL)
			continue;
		*path++ = '\0';
		if (controller == NULL ? ctl[0] == '\0' && line[0] == '0'
				       : has_item(ctl, controller)) {
			rv = snprintf(out, size, "%s", path) < (int)size
				     ? 0 : -ENAMETOOLONG;
			break;
		}
	}
	ows_buf_free(&b);
	return rv;
}

/*
 * Where a v1 controller's hierarchy is mounted, and the cgroup path its
 * mount shows as root (not "/" when a subtree was bound or namespaced).
 */
static int v1_mount(const char *controller, char *mnt, char *root)
{
	struct ows_buf b = OWS_BUF_INIT;
	char *line, *save = NULL;
	int rv = ows_file_read("/proc/self/mountinfo", SMALL_FILE, &b);

	if (rv != 0 || b.data == NULL)
		return rv != 0 ? rv : -ENOENT;
	rv = -ENOENT;
	for (line = strtok_r(b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char r[PATH_MAX], m[PATH_MAX], fstype[32], opts[512];
		const char *dash = strstr(line, " - ");

		if (dash == NULL ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(dash, " - %31s %*s %511s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, "cgroup") == 0 && has_item(opts, controller)) {
			strcpy(mnt, m);
			strcpy(root, r);
			rv = 0;
			break;
		}
	}
	ows_buf_free(&b);
	return rv;
}

/* mnt + (path relative to root) + "/" + name, into out. */
static int place(char *out, const char *mnt, const char *root,
		 const char *path, const char *name)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") != 0 && strncmp(path, root, n) == 0)
		path += n;
	if (strcmp(path, "/") == 0)
		path = "";
	if (snprintf(out, OWS_SANDBOX_CGROUP_PATH, "%s%s/%s", mnt, path,
		     name) >= OWS_SANDBOX_CGROUP_PATH)
		return -ENAMETOOLONG;
	return 0;
}

static int v1_dir(const char *controller, const char *name, char *out)
{
	char mnt[PATH_MAX], root[PATH_MAX], path[PATH_MAX];
	int rv = v1_mount(controller, mnt, root);

	if (rv == 0)
		rv = own_path(controller, path, sizeof(path));
	if (rv == 0)
		rv = place(out, mnt, root, path, name);
	if (rv == 0 && mkdir(out, 0755) != 0 && errno != EEXIST)
		rv = -errno;
	return rv;
}

static int create_v1(struct ows_sandbox_cgroup *cg, const char *name,
		     struct ows_err *err)
{
	int rv = v1_dir("memory", name, cg->dir);

	if (rv == 0)
		rv = v1_dir("pids", name, cg->pids_dir);
	/* Optional: a host without them runs instances unthrottled. */
	if (rv == 0 && v1_dir("cpu", name, cg->cpu_dir) != 0)
		cg->cpu_dir[0] = '\0';
	if (rv == 0 && v1_dir("freezer", name, cg->freezer_dir) != 0)
		cg->freezer_dir[0] = '\0';
	if (rv != 0)
		ows_err_printf(err, "cgroup v1 '%s': %s", name, strerror(-rv));
	return rv;
}

/* v1 memory: memory plus swap at the same limit, so no swap. */
static int memory_v1(const struct ows_sandbox_cgroup *cg, const char *value)
{
	/* memsw may not be below the memory limit: when lowering, the
	 * memory limit goes first, when raising, memsw. The memsw file is
	 * absent when the kernel does not account swap. */
	int rv = write_str(cg->dir, "memory.limit_in_bytes", value);

	if (write_str(cg->dir, "memory.memsw.limit_in_bytes", value) == 0 &&
	    rv != 0)
		rv = write_str(cg->dir, "memory.limit_in_bytes", value);
	return rv;
}

/*
 * v2's "no internal processes" rule: a cgroup holding processes cannot give
 * controllers to children. Move its processes (the node) to a leaf first.
 */
static int v2_delegate(const char *base)
{
	struct ows_buf b = OWS_BUF_INIT;
	char leaf[PATH_MAX];
	char *pid, *save = NULL;
	int rv = write_str(base, "cgroup.subtree_control", "+memory +pids");

	if (rv == 0)
		write_str(base, "cgroup.subtree_control", "+cpu"); /* optional */
	if (rv != -EBUSY)
		return rv;
	if (snprintf(leaf, sizeof(leaf), "%s/" NODE_LEAF, base) >=
	    (int)sizeof(leaf))
		return -ENAMETOOLONG;
	if (mkdir(leaf, 0755) != 0 && errno != EEXIST)
		return -errno;
	rv = read_file(base, "cgroup.procs", &b);
	for (pid = rv == 0 && b.data ? strtok_r(b.data, "\n", &save) : NULL;
	     pid != NULL;
	     pid = strtok_r(NULL, "\n", &save))
		write_str(leaf, "cgroup.procs", pid); /* gone ones: ESRCH */
	ows_buf_free(&b);
	if (rv == 0)
		rv = write_str(base, "cgroup.subtree_control", "+memory +pids");
	if (rv == 0)
		write_str(base, "cgroup.subtree_control", "+cpu");
	return rv;
}

static int v2_base(char *base)
{
	char path[PATH_MAX];
	char *slash;
	int rv = own_path(NULL, path, sizeof(path));

	if (rv != 0)
		return rv;
	/* After v2_delegate the node sits in the leaf: use its parent. */
	slash = strrchr(path, '/');
	if (slash != NULL && strcmp(slash + 1, NODE_LEAF) == 0)
		*slash = '\0';
	if (strcmp(path, "/") == 0)
		path[0] = '\0';
	if (snprintf(base, PATH_MAX, CGROUP_ROOT "%s", path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int create_v2(struct ows_sandbox_cgroup *cg, const char *name,
		     struct ows_err *err)
{
	char base[PATH_MAX];
	int rv = v2_base(base);

	if (rv == 0)
		rv = v2_delegate(base);
	if (rv == 0 && snprintf(cg->dir, sizeof(cg->dir), "%s/%s", base,
				name) >= (int)sizeof(cg->dir))
		rv = -ENAMETOOLONG;
	if (rv == 0 && mkdir(cg->dir, 0755) != 0 && errno != EEXIST)
		rv = -errno;
	if (rv != 0)
		ows_err_printf(err, "cgroup v2 '%s' below '%s': %s", name, base,
			       strerror(-rv));
	return rv;
}

/* v2 memory: no swap, and one OOM kill takes the whole instance, as
 * Lambda does. */
static int memory_v2(const struct ows_sandbox_cgroup *cg, const char *value)
{
	int rv = write_str(cg->dir, "memory.max", value);

	write_str(cg->dir, "memory.swap.max", "0");
	write_str(cg->dir, "memory.oom.group", "1");
	return rv;
}

int ows__sandbox_cgroup_limit(const struct ows_sandbox_cgroup *cg,
			      uint64_t memory_bytes, unsigned max_procs,
			      struct ows_err *err)
{
	char value[32];
	int rv = 0;

	if (cg->version == 0)
		return -ENOENT;
	if (memory_bytes != 0) {
		snprintf(value, sizeof(value), "%llu",
			 (unsigned long long)memory_bytes);
		rv = cg->version == 2 ? memory_v2(cg, value)
				      : memory_v1(cg, value);
	}
	if (rv == 0 && max_procs != 0) {
		snprintf(value, sizeof(value), "%u", max_procs);
		rv = write_str(cg->version == 2 ? cg->dir : cg->pids_dir,
			       "pids.max", value);
	}
	if (rv != 0)
		ows_err_printf(err, "cgroup limits '%s': %s", cg->dir,
			       strerror(-rv));
	return rv;
}

int ows__sandbox_cgroup_create(struct ows_sandbox_cgroup *cg, const char *name,
			       uint64_t memory_bytes, unsigned max_procs,
			       struct ows_err *err)
{
	struct statfs sf;
	int rv;

	memset(cg, 0, sizeof(*cg));
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		ows_err_printf(err, "cgroup name '%s' is not one component",
			       name);
		return -EINVAL;
	}
	if (statfs(CGROUP_ROOT, &sf) != 0) {
		ows_err_printf(err, "statfs " CGROUP_ROOT ": %s",
			       strerror(errno));
		return -errno;
	}
	cg->version = sf.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
	if (cg->version == 2)
		rv = create_v2(cg, name, err);
	else
		rv = create_v1(cg, name, err);
	if (rv == 0)
		rv = ows__sandbox_cgroup_limit(cg, memory_bytes, max_procs, err);
	if (rv != 0)
		ows__sandbox_cgroup_destroy(cg);
	return rv;
}

int ows__sandbox_cgroup_cpu(const struct ows_sandbox_cgroup *cg,
			    unsigned millicpus)
{
	char value[48];
	int rv;

	if (cg->version == 2) {
		if (millicpus == 0)
			snprintf(value, sizeof(value), "max 100000");
		else
			snprintf(value, sizeof(value), "%u 100000",
				 millicpus * 100);
		rv = write_str(cg->dir, "cpu.max", value);
		return rv == -ENOENT ? -ENOTSUP : rv;
	}
	if (cg->version != 1 || cg->cpu_dir[0] == '\0')
		return -ENOTSUP;
	rv = write_str(cg->cpu_dir, "cpu.cfs_period_us", "100000");
	snprintf(value, sizeof(value), "%lld",
		 millicpus == 0 ? -1LL : (long long)millicpus * 100);
	if (rv == 0)
		rv = write_str(cg->cpu_dir, "cpu.cfs_quota_us", value);
	return rv;
}

int ows__sandbox_cgroup_freeze(const struct ows_sandbox_cgroup *cg,
			       bool frozen)
{
	int rv;

	if (cg->version == 2) {
		rv = write_str(cg->dir, "cgroup.freeze", frozen ? "1" : "0");
		return rv == -ENOENT ? -ENOTSUP : rv;
	}
	if (cg->version != 1 || cg->freezer_dir[0] == '\0')
		return -ENOTSUP;
	return write_str(cg->freezer_dir, "freezer.state",
			 frozen ? "FROZEN" : "THAWED");
}

int ows__sandbox_cgroup_join(const struct ows_sandbox_cgroup *cg, pid_t pid)
{
	const char *const dirs[] = {cg->dir, cg->pids_dir, cg->cpu_dir,
				    cg->freezer_dir};
	char value[24];
	int rv = 0;

	snprintf(value, sizeof(value), "%d", pid ? (int)pid : (int)getpid());
	for (size_t i = 0; i < 4 && rv == 0; i++)
		if (dirs[i][0] != '\0')
			rv = write_str(dirs[i], "cgroup.procs", value);
	return rv;
}

/* SIGKILL each process listed in dir; 1 when there was one, 0 when none. */
static int kill_listed(const char *dir)
{
	struct ows_buf b = OWS_BUF_INIT;
	char *pid, *save = NULL;
	int rv = read_file(dir, "cgroup.procs", &b);

	if (rv != 0 || b.data == NULL)
		return rv == -ENOENT ? 0 : rv;
	for (pid = strtok_r(b.data, "\n", &save); pid != NULL;
	     pid = strtok_r(NULL, "\n", &save)) {
		kill((pid_t)atoi(pid), SIGKILL);
		rv = 1;
	}
	ows_buf_free(&b);
	return rv;
}

/*
 * Without cgroup.kill a fork may slip between reading the list and the
 * kills; the pids limit bounds how long that can go on, so loop until the
 * list stays empty.
 */
int ows__sandbox_cgroup_kill_all(const struct ows_sandbox_cgroup *cg)
{
	if (cg->version == 0)
		return 0;
	/* A frozen process acts on SIGKILL only once thawed (v1). */
	ows__sandbox_cgroup_freeze(cg, false);
	if (cg->version == 2)
		write_str(cg->dir, "cgroup.kill", "1"); /* from Linux 5.14 */
	for (int i = 0; i < SETTLE_TRIES; i++) {
		int a = kill_listed(cg->dir);
		int b = cg->pids_dir[0] ? kill_listed(cg->pids_dir) : 0;

		if (a < 0 || b < 0)
			return a < 0 ? a : b;
		if (a == 0 && b == 0)
			return 0;
		pause_10ms();
	}
	return -EBUSY;
}

/*
 * The number after key in lines "key value"; -1 (a value, not an error
 * code) when key is absent.
 */
static long long stat_value(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
	}
	return -1;
}

int ows__sandbox_cgroup_oom_killed(const struct ows_sandbox_cgroup *cg)
{
	struct ows_buf b = OWS_BUF_INIT;
	long long v;
	int rv;

	if (cg->version == 0)
		return -ENOENT;
	rv = read_file(cg->dir, cg->version == 2 ? "memory.events"
						  : "memory.oom_control", &b);
	if (rv != 0)
		goto out;
	v = stat_value(b.data ? b.data : "", "oom_kill");
	if (v >= 0 || cg->version == 2) {
		rv = v > 0;
		goto out;
	}
	/* v1 before Linux 4.13: no counter, only the state and failures. */
	if (stat_value(b.data, "under_oom") > 0) {
		rv = 1;
		goto out;
	}
	ows_buf_reset(&b);
	rv = read_file(cg->dir, "memory.failcnt", &b);
	if (rv == 0)
		rv = atoll(b.data ? b.data : "0") > 0;
out:
	ows_buf_free(&b);
	return rv;
}

/*
 * The pid in a name "<prefix><anything>-<pid>-<n>" (how the node names
 * the cgroups it makes), or 0.
 */
static pid_t owner_of(const char *name)
{
	const char *last = strrchr(name, '-'), *p;

	if (last == NULL || last == name)
		return 0;
	for (p = last - 1; p > name && *p != '-'; p--)
		;
	if (*p != '-' || strspn(p + 1, "0123456789") != (size_t)(last - p - 1))
		return 0;
	return (pid_t)atoi(p + 1);
}

/*
 * rmdir each empty cgroup in dir named prefix... whose owner is gone and
 * that is older than min_age_s: a node in another PID namespace sees no
 * process where a live node is, and must not remove the cgroup that node
 * just made and is about to join.
 */
static unsigned sweep_dir(const char *dir, const char *prefix,
			  unsigned min_age_s)
{
	time_t now = time(NULL);
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		pid_t pid;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    (pid = owner_of(e->d_name)) <= 0 ||
		    (kill(pid, 0) == 0 || errno != ESRCH) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
			(int)sizeof(path) ||
		    stat(path, &st) != 0 ||
		    now - st.st_mtime < (time_t)min_age_s)
			continue;
		/* Left frozen by a dead node: thawed, its processes act on
		 * the SIGKILL their launcher's death sent them. */
		write_str(path, "freezer.state", "THAWED");
		write_str(path, "cgroup.freeze", "0");
		n += rmdir(path) == 0; /* EBUSY while processes remain */
	}
	closedir(d);
	return n;
}

unsigned ows_sandbox_cgroup_sweep(const char *prefix, unsigned min_age_s)
{
	char mnt[PATH_MAX], root[PATH_MAX], path[PATH_MAX];
	char dir[OWS_SANDBOX_CGROUP_PATH];
	static const char *const v1[] = {"freezer", "memory", "pids", "cpu"};
	struct statfs sf;
	unsigned n = 0;

	if (statfs(CGROUP_ROOT, &sf) != 0)
		return 0;
	if (sf.f_type == CGROUP2_SUPER_MAGIC)
		return v2_base(dir) == 0 ? sweep_dir(dir, prefix, min_age_s) : 0;
	for (size_t i = 0; i < 4; i++)
		if (v1_mount(v1[i], mnt, root) == 0 &&
		    own_path(v1[i], path, sizeof(path)) == 0 &&
		    place(dir, mnt, root, path, "") == 0)
			n += sweep_dir(dir, prefix, min_age_s);
	return n;
}

static int remove_dir(const char *dir)
{
	for (int i = 0; i < SETTLE_TRIES; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		pause_10ms();
	}
	return -EBUSY;
}

int ows__sandbox_cgroup_destroy(struct ows_sandbox_cgroup *cg)
{
	char *const dirs[] = {cg->dir, cg->pids_dir, cg->cpu_dir,
			      cg->freezer_dir};
	int rv = 0;

	if (cg->version == 0)
		return 0;
	ows__sandbox_cgroup_kill_all(cg);
	for (size_t i = 0; i < 4; i++) {
		int r = dirs[i][0] != '\0' ? remove_dir(dirs[i]) : 0;

		if (rv == 0)
			rv = r;
	}
	if (rv == 0)
		cg->version = 0;
	return rv;
}
