/*
 * Unit tests of the function sandbox (src/fn/sandbox*.c). They need root,
 * as the node does; each runs the launcher, ows_sandbox_main, in a forked
 * child with the spec on a pipe, and looks at what the sandboxed program
 * printed, the launcher's status and the instance's cgroup.
 */
#include "../lib/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "fn/sandbox.h"
#include "fn/sandbox_priv.h"

#define OUT_SIZE 65536

struct run {
	pid_t pid;   /* the launcher */
	int out;     /* read end of the program's stdout */
	int status;  /* the launcher's exit status, or 128 + signal */
	char text[OUT_SIZE];
};

static struct ows_sandbox_cgroup cg;
static char bundle[64];
static const char *const base_env[] = {"PATH=/usr/bin:/bin", NULL};

static void put_file(const char *name, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", bundle, name);
	OWS_CHECK_INT(ows_file_write(path, text, strlen(text), 0644), 0);
}

/* A bundle directory and a cgroup for this test; both removed at exit. */
static void cleanup(void)
{
	char cmd[128];

	ows__sandbox_cgroup_destroy(&cg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bundle);
	if (bundle[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", bundle);
}

static void setup(uint64_t memory_bytes, unsigned max_procs)
{
	struct ows_err err = {{0}};
	char name[64];

	if (geteuid() != 0)
		OWS_SKIP("the sandbox needs root");
	snprintf(bundle, sizeof(bundle), "/tmp/ows-sbx-XXXXXX");
	OWS_CHECK(mkdtemp(bundle) != NULL);
	OWS_CHECK_INT(chmod(bundle, 0755), 0);
	snprintf(name, sizeof(name), "ows-test-%d", (int)getpid());
	if (ows__sandbox_cgroup_create(&cg, name, memory_bytes, max_procs,
				       &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		OWS_CHECK(0);
	}
	atexit(cleanup);
}

static struct ows_sandbox_spec spec_of(const char *const *argv)
{
	struct ows_sandbox_spec s = {0};

	s.bundle_dir = bundle;
	s.hostname = "fn-test";
	s.argv = argv;
	s.env = base_env;
	s.tmp_bytes = 8 << 20;
	s.cgroup = &cg;
	return s;
}

/* Fork the launcher, with the spec on a pipe or, if via_env, in the
 * environment. */
static void start_with(const struct ows_sandbox_spec *spec, struct run *r,
		       int via_env)
{
	struct ows_buf json = OWS_BUF_INIT;
	int spec_pipe[2], out_pipe[2];

	OWS_CHECK_INT(ows__sandbox_spec_encode(spec, &json), 0);
	OWS_CHECK(json.len < 65536); /* fits in the pipe, no writer needed */
	OWS_CHECK_INT(pipe2(spec_pipe, O_CLOEXEC), 0);
	OWS_CHECK_INT(pipe2(out_pipe, O_CLOEXEC), 0);
	OWS_CHECK_INT(write(spec_pipe[1], json.data, json.len), json.len);
	close(spec_pipe[1]);
	fflush(stdout);
	fflush(stderr);
	r->pid = fork();
	OWS_CHECK(r->pid >= 0);
	if (r->pid == 0) {
		char fd[16];
		char *argv[] = {"sandbox-exec", "--spec-fd", fd, NULL};

		snprintf(fd, sizeof(fd), "%d", spec_pipe[0]);
		dup2(out_pipe[1], 1);
		if (via_env) {
			setenv(OWS_SANDBOX_SPEC_ENV, json.data, 1);
			_exit(ows_sandbox_main(1, argv));
		}
		_exit(ows_sandbox_main(3, argv)); /* not the test's atexit */
	}
	ows_buf_free(&json);
	close(spec_pipe[0]);
	close(out_pipe[1]);
	r->out = out_pipe[0];
	r->text[0] = '\0';
}

static void start(const struct ows_sandbox_spec *spec, struct run *r)
{
	start_with(spec, r, 0);
}

/* Read until the program printed a line (it is ready), or EOF. */
static void read_line(struct run *r)
{
	size_t len = strlen(r->text);

	while (len + 1 < sizeof(r->text) && strchr(r->text, '\n') == NULL) {
		ssize_t n = read(r->out, r->text + len, 1);

		if (n <= 0)
			break;
		r->text[len += (size_t)n] = '\0';
	}
}

static void finish(struct run *r)
{
	size_t len = strlen(r->text);
	int status;
	ssize_t n;

	while (len + 1 < sizeof(r->text) &&
	       (n = read(r->out, r->text + len, sizeof(r->text) - 1 - len)) > 0)
		len += (size_t)n;
	r->text[len] = '\0';
	close(r->out);
	OWS_CHECK_INT(waitpid(r->pid, &status, 0), r->pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status)
				      : 128 + WTERMSIG(status);
}

static void run(const struct ows_sandbox_spec *spec, struct run *r)
{
	start(spec, r);
	finish(r);
}

static void run_sh(const char *script, struct run *r)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct ows_sandbox_spec s = spec_of(argv);

	run(&s, r);
}

static long long cgroup_value(const char *dir, const char *file)
{
	struct ows_buf b = OWS_BUF_INIT;
	char path[PATH_MAX];
	long long v = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (ows_file_read(path, 4096, &b) == 0)
		v = b.data ? atoll(b.data) : 0;
	ows_buf_free(&b);
	return v;
}

/* How many processes the cgroup holds, after at most two seconds. */
static int settled_procs(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct ows_buf b = OWS_BUF_INIT;
	char path[PATH_MAX];
	int n = -1;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg.dir);
	for (int i = 0; i < 200 && n != 0; i++) {
		ows_buf_reset(&b);
		OWS_CHECK_INT(ows_file_read(path, 1 << 20, &b), 0);
		n = 0;
		for (size_t j = 0; j < b.len; j++)
			n += b.data[j] == '\n';
		if (n != 0)
			nanosleep(&ts, NULL);
	}
	ows_buf_free(&b);
	return n;
}

static void check_destroyed(void)
{
	char dir[sizeof(cg.dir)];

	snprintf(dir, sizeof(dir), "%s", cg.dir);
	OWS_CHECK_INT(ows__sandbox_cgroup_destroy(&cg), 0);
	OWS_CHECK(access(dir, F_OK) != 0);
}

static int decode(const char *text)
{
	struct ows_sandbox_spec spec;
	int rv = ows__sandbox_spec_decode(text, strlen(text), &spec, NULL);

	ows__sandbox_spec_close(&spec);
	return rv;
}

OWS_TEST(sandbox_spec_roundtrip)
{
	const char *argv[] = {"/bin/echo", "a b", NULL};
	const char *env[] = {"X=1", NULL};
	struct ows_sandbox_cgroup c = {.version = 1};
	struct ows_sandbox_spec in = {0}, out;
	struct ows_buf b = OWS_BUF_INIT;
	struct ows_err err = {{0}};

	strcpy(c.dir, "/sys/fs/cgroup/memory/x");
	strcpy(c.pids_dir, "/sys/fs/cgroup/pids/x");
	in.bundle_dir = "/srv/b";
	in.argv = argv;
	in.env = env;
	in.uid = 1000;
	in.cgroup = &c;
	OWS_CHECK_INT(ows__sandbox_spec_encode(&in, &b), 0);
	OWS_CHECK_INT(ows__sandbox_spec_decode(b.data, b.len, &out, &err), 0);
	OWS_CHECK_STR(out.bundle_dir, "/srv/b");
	OWS_CHECK_STR(out.argv[1], "a b");
	OWS_CHECK(out.argv[2] == NULL);
	OWS_CHECK_STR(out.env[0], "X=1");
	OWS_CHECK_INT(out.uid, 1000);
	OWS_CHECK_INT(out.gid, 1000);
	OWS_CHECK_STR(out.cwd, "/var/task");
	OWS_CHECK_STR(out.ro_paths[0], "/usr");
	OWS_CHECK_INT(out.tmp_bytes, OWS_SANDBOX_TMP_BYTES);
	OWS_CHECK_STR(out.cgroup->pids_dir, "/sys/fs/cgroup/pids/x");
	ows__sandbox_spec_close(&out);
	ows_buf_free(&b);

	/* Relative paths and garbage are refused before anything runs. */
	OWS_CHECK(decode("{\"bundle\":\"b\",\"argv\":[\"x\"]}") == OWS_EINVAL);
	OWS_CHECK(decode("{\"bundle\":\"/b\",\"argv\":[]}") == OWS_EINVAL);
	OWS_CHECK(decode("{\"bundle\":\"/b\",\"argv\":[1]}") == OWS_EINVAL);
	OWS_CHECK(decode("{\"bundle\":\"/b\",\"argv\":[\"x\"],"
			 "\"uid\":-1}") == OWS_EINVAL);
	OWS_CHECK(decode("[") == OWS_EPARSE);
	OWS_CHECK(decode("{\"bundle\":\"/b\",\"argv\":[\"x\"]}") == 0);
}

OWS_TEST(sandbox_pid1_hostname_uid)
{
	struct run r;

	setup(256 << 20, 64);
	run_sh("echo $$; cat /proc/sys/kernel/hostname; id -u; id -g; id -G; "
	       "pwd; ls /proc | grep -c '^1$'",
	       &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "1\nfn-test\n65534\n65534\n65534\n/var/task\n1\n");
	OWS_CHECK_INT(ows__sandbox_cgroup_oom_killed(&cg), 0);
	check_destroyed();
}

OWS_TEST(sandbox_filesystem_is_read_only_but_tmp)
{
	char mark[64], script[1024];
	struct run r;
	int fd;

	setup(256 << 20, 64);
	put_file("data.txt", "bundle data\n");
	/* Writable to everyone on the host: only the mount stops writes. */
	OWS_CHECK_INT(chmod(bundle, 0777), 0);
	snprintf(mark, sizeof(mark), "/tmp/ows-sbx-mark-%d", (int)getpid());
	fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	OWS_CHECK(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script),
		 "cat /var/task/data.txt; "
		 "touch /var/task/x 2>&1 | grep -o 'Read-only file system'; "
		 "awk '$5 ~ /^\\/(|usr|var\\/task|etc\\/ssl\\/certs|tmp|dev)$/ "
		 "{ print $5, substr($6, 1, 2) }' /proc/self/mountinfo; "
		 "touch /x 2>/dev/null && echo root-writable; "
		 "touch /etc/x 2>/dev/null && echo etc-writable; "
		 "touch /usr/x 2>/dev/null && echo usr-writable; "
		 "echo tmp > %s.in && cat %s.in; "
		 "test -e %s && echo tmp-shared; "
		 "cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable; "
		 "test -e /root && echo root-visible; "
		 "test -e /sys/fs && echo sys-visible; "
		 "grep -q sbx_user /etc/passwd && echo passwd; "
		 "echo > /dev/null && head -c 4 /dev/zero | wc -c",
		 mark, mark, mark);
	run_sh(script, &r);
	unlink(mark);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "bundle data\nRead-only file system\n"
			      "/ ro\n/usr ro\n/etc/ssl/certs ro\n/var/task ro\n"
			      "/tmp rw\n/dev ro\ntmp\npasswd\n4\n");
	strcat(mark, ".in");
	OWS_CHECK(access(mark, F_OK) != 0); /* the sandbox's /tmp is private */
}

OWS_TEST(sandbox_no_new_privs_and_seccomp)
{
	const char *argv[] = {"/usr/bin/python3", "/var/task/sys.py", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	/* EPERM from the filter, not from missing privileges: unshare of a
	 * user namespace needs none; clone3 must say ENOSYS. */
	put_file("sys.py",
		 "import ctypes\n"
		 "libc = ctypes.CDLL(None, use_errno=True)\n"
		 "def call(f, *a):\n"
		 "    r = f(*a)\n"
		 "    print(r, ctypes.get_errno())\n"
		 "call(libc.mount, b'none', b'/tmp', b'tmpfs', 0, None)\n"
		 "call(libc.unshare, 0x10000000)\n"
		 "call(libc.syscall, 435, None, 0)\n"
		 "call(libc.syscall, 56, 0x10000000 | 17, 0, 0, 0, 0)\n"
		 "call(libc.personality, 0x0040000)\n"
		 "print(libc.personality(0xffffffff) >= 0)\n"
		 "for l in open('/proc/self/status'):\n"
		 "    if l.startswith(('NoNewPrivs', 'Seccomp:')):\n"
		 "        print(l.split()[0], l.split()[1])\n");
	s = spec_of(argv);
	run(&s, &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "-1 1\n-1 1\n-1 38\n-1 1\n-1 1\nTrue\n"
			      "NoNewPrivs: 1\nSeccomp: 2\n");
}

/*
 * vsock is not per network namespace: on a virtual machine a function
 * would reach the hypervisor's services around its own network. The
 * filter answers as a kernel without vsock does.
 */
OWS_TEST(sandbox_refuses_vsock)
{
	const char *argv[] = {"/usr/bin/python3", "/var/task/vs.py", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	put_file("vs.py",
		 "import errno, socket\n"
		 "for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):\n"
		 "    try:\n"
		 "        socket.socket(40, t).close()\n"
		 "        print('created')\n"
		 "    except OSError as e:\n"
		 "        print(errno.errorcode[e.errno])\n"
		 "socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()\n"
		 "socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()\n"
		 "print('others fine')\n");
	s = spec_of(argv);
	run(&s, &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "EAFNOSUPPORT\nEAFNOSUPPORT\nothers fine\n");
}

OWS_TEST(sandbox_environment_is_exactly_the_given_one)
{
	const char *argv[] = {"env", NULL};
	const char *env[] = {"A=1", "B=two words", "PATH=/usr/bin:/bin", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	s = spec_of(argv);
	s.env = env;
	run(&s, &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "A=1\nB=two words\nPATH=/usr/bin:/bin\n");
	/* The spec may come in OWS_SANDBOX_SPEC; it does not leak through. */
	start_with(&s, &r, 1);
	finish(&r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "A=1\nB=two words\nPATH=/usr/bin:/bin\n");
}

OWS_TEST(sandbox_runs_python3)
{
	const char *argv[] = {"/usr/bin/python3", "hello.py", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	put_file("hello.py", "import os, sys, json, ssl, socket\n"
			     "print('py', sys.version_info.major, os.getpid(),"
			     " os.getcwd(), os.getuid())\n");
	s = spec_of(argv);
	run(&s, &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "py 3 1 /var/task 65534\n");
}

OWS_TEST(sandbox_runs_nodejs)
{
	const char *argv[] = {"/usr/bin/node", "hello.js", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	/* make deps installs nodejs: without it this fails, never skips. */
	OWS_CHECK(access("/usr/bin/node", X_OK) == 0);
	setup(512 << 20, 128);
	put_file("hello.js", "const fs = require('fs');\n"
			     "fs.writeFileSync('/tmp/n', 'ok');\n"
			     "console.log('node', process.pid, process.cwd(),"
			     " fs.readFileSync('/tmp/n', 'utf8'));\n");
	s = spec_of(argv);
	run(&s, &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "node 1 /var/task ok\n");
}

OWS_TEST(sandbox_fork_bomb_is_stopped_by_pids_limit)
{
	const char *argv[] = {"/usr/bin/python3", "bomb.py", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 32);
	/* Children fork forever; PID 1 checks that it cannot, then exits,
	 * which takes the whole PID namespace with it. */
	put_file("bomb.py", "import os, time\n"
			    "if os.fork() == 0:\n"
			    "    while True:\n"
			    "        try:\n"
			    "            os.fork()\n"
			    "        except OSError:\n"
			    "            pass\n"
			    "time.sleep(1)\n"
			    "try:\n"
			    "    if os.fork() == 0:\n"
			    "        os._exit(0)\n"
			    "    print('forked')\n"
			    "except OSError as e:\n"
			    "    print('limited', e.errno)\n");
	s = spec_of(argv);
	run(&s, &r);
	OWS_CHECK_INT(r.status, 0);
	OWS_CHECK_STR(r.text, "limited 11\n");
	OWS_CHECK(cgroup_value(cg.pids_dir[0] ? cg.pids_dir : cg.dir,
			       "pids.max") == 32);
	OWS_CHECK_INT(settled_procs(), 0);
	check_destroyed();
}

OWS_TEST(sandbox_memory_limit_oom_kills)
{
	struct run r;

	setup(64 << 20, 64);
	run_sh("echo start; exec /usr/bin/python3 -c "
	       "'s = b\"x\" * (256 << 20); print(\"survived\")'",
	       &r);
	OWS_CHECK_STR(r.text, "start\n");
	OWS_CHECK_INT(r.status, 128 + SIGKILL);
	OWS_CHECK_INT(ows__sandbox_cgroup_oom_killed(&cg), 1);
	check_destroyed();
}

OWS_TEST(sandbox_killing_launcher_leaves_nothing)
{
	const char *argv[] = {"/bin/sh", "-c",
			      "sleep 100 & sleep 100 & echo ready; wait", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	s = spec_of(argv);
	start(&s, &r);
	read_line(&r);
	OWS_CHECK_STR(r.text, "ready\n");
	OWS_CHECK_INT(kill(r.pid, SIGKILL), 0);
	finish(&r);
	OWS_CHECK_INT(r.status, 128 + SIGKILL);
	OWS_CHECK_INT(settled_procs(), 0);
	check_destroyed();
}

OWS_TEST(sandbox_kill_all_stops_instance)
{
	const char *argv[] = {"/bin/sh", "-c",
			      "sleep 100 & sleep 100 & echo ready; wait", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	s = spec_of(argv);
	start(&s, &r);
	read_line(&r);
	OWS_CHECK_STR(r.text, "ready\n");
	OWS_CHECK_INT(ows__sandbox_cgroup_kill_all(&cg), 0);
	finish(&r);
	OWS_CHECK_INT(r.status, 128 + SIGKILL);
	OWS_CHECK_INT(settled_procs(), 0);
	OWS_CHECK_INT(ows__sandbox_cgroup_oom_killed(&cg), 0);
	check_destroyed();
}

OWS_TEST(sandbox_forwards_sigterm)
{
	const char *argv[] = {"/usr/bin/python3", "term.py", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	/* os.write: the handler may run while 'ready' is still flushing. */
	put_file("term.py", "import os, signal, time\n"
			    "def on_term(sig, frame):\n"
			    "    os.write(1, b'term\\n')\n"
			    "    os._exit(3)\n"
			    "signal.signal(signal.SIGTERM, on_term)\n"
			    "os.write(1, b'ready\\n')\n"
			    "time.sleep(30)\n");
	s = spec_of(argv);
	start(&s, &r);
	read_line(&r);
	OWS_CHECK_STR(r.text, "ready\n");
	OWS_CHECK_INT(kill(r.pid, SIGTERM), 0);
	finish(&r);
	OWS_CHECK_STR(r.text, "ready\nterm\n");
	OWS_CHECK_INT(r.status, 3);
}

OWS_TEST(sandbox_reports_setup_and_exec_errors)
{
	const char *missing[] = {"no-such-program", NULL};
	const char *sh[] = {"/bin/sh", "-c", "exit 7", NULL};
	struct ows_sandbox_spec s;
	struct run r;

	setup(256 << 20, 64);
	s = spec_of(missing);
	run(&s, &r);
	OWS_CHECK_INT(r.status, OWS_SANDBOX_EXIT_NOENT);
	s = spec_of(sh);
	run(&s, &r);
	OWS_CHECK_INT(r.status, 7);
	s.bundle_dir = "/nonexistent/bundle";
	run(&s, &r);
	OWS_CHECK_INT(r.status, OWS_SANDBOX_EXIT_SETUP);
	OWS_CHECK_STR(r.text, "");
}

/*
 * The cgroup v2 paths that need no controller (join, cgroup.kill, removal)
 * on the v2 hierarchy a hybrid v1 host mounts at /sys/fs/cgroup/unified.
 * On a v2 host the tests above cover them already.
 */
OWS_TEST(sandbox_cgroup_v2_kill_and_destroy)
{
	const char *argv[] = {"/bin/sh", "-c",
			      "sleep 100 & sleep 100 & echo ready; wait", NULL};
	struct ows_sandbox_cgroup v2 = {.version = 2};
	struct ows_sandbox_spec s;
	struct statfs sf;
	struct run r;

	if (statfs("/sys/fs/cgroup/unified", &sf) != 0 ||
	    sf.f_type != CGROUP2_SUPER_MAGIC)
		OWS_SKIP("no hybrid cgroup v2 mount");
	setup(256 << 20, 64);
	snprintf(v2.dir, sizeof(v2.dir), "/sys/fs/cgroup/unified/ows-test-%d",
		 (int)getpid());
	OWS_CHECK_INT(mkdir(v2.dir, 0755), 0);
	s = spec_of(argv);
	s.cgroup = &v2;
	start(&s, &r);
	read_line(&r);
	OWS_CHECK_STR(r.text, "ready\n");
	OWS_CHECK(cgroup_value(v2.dir, "cgroup.procs") > 0);
	OWS_CHECK_INT(ows__sandbox_cgroup_kill_all(&v2), 0);
	finish(&r);
	OWS_CHECK_INT(r.status, 128 + SIGKILL);
	OWS_CHECK_INT(ows__sandbox_cgroup_oom_killed(&v2), -ENOENT);
	OWS_CHECK_INT(ows__sandbox_cgroup_destroy(&v2), 0);
	OWS_CHECK(access(v2.dir, F_OK) != 0);
}

/*
 * Sweeping what killed nodes left: an empty cgroup of a dead owner goes;
 * one of a live owner, one with a process in it, and other names stay.
 */
OWS_TEST(sandbox_cgroup_sweep_stale)
{
	struct ows_sandbox_cgroup dead, live, busy, other;
	char name[96];
	pid_t gone = fork(), sleeper;

	if (geteuid() != 0)
		OWS_SKIP("cgroups need root");
	if (gone == 0)
		_exit(0);
	OWS_CHECK(gone > 0 && waitpid(gone, NULL, 0) == gone);
	snprintf(name, sizeof(name), "ows-fn-sweep-x-%d-1", (int)gone);
	OWS_CHECK_INT(ows__sandbox_cgroup_create(&dead, name, 0, 8, NULL), 0);
	snprintf(name, sizeof(name), "ows-fn-sweep-x-%d-2", (int)getpid());
	OWS_CHECK_INT(ows__sandbox_cgroup_create(&live, name, 0, 8, NULL), 0);
	snprintf(name, sizeof(name), "ows-fn-sweep-y-%d-3", (int)gone);
	OWS_CHECK_INT(ows__sandbox_cgroup_create(&busy, name, 0, 8, NULL), 0);
	snprintf(name, sizeof(name), "ows-other-%d-4", (int)gone);
	OWS_CHECK_INT(ows__sandbox_cgroup_create(&other, name, 0, 8, NULL), 0);
	sleeper = fork();
	if (sleeper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	OWS_CHECK_INT(ows__sandbox_cgroup_join(&busy, sleeper), 0);

	/* one directory on v2, one per hierarchy on v1; more when an
	 * earlier run of this test was killed half-way */
	OWS_CHECK_INT(ows_sandbox_cgroup_sweep("ows-fn-sweep-", 3600), 0);
	OWS_CHECK(access(dead.dir, F_OK) == 0); /* too young */
	OWS_CHECK(ows_sandbox_cgroup_sweep("ows-fn-sweep-", 0) >=
		  (dead.version == 1 ? 2u : 1u));
	OWS_CHECK(access(dead.dir, F_OK) != 0);
	OWS_CHECK(access(live.dir, F_OK) == 0);
	OWS_CHECK(access(busy.dir, F_OK) == 0);
	OWS_CHECK(access(other.dir, F_OK) == 0);

	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	OWS_CHECK_INT(ows__sandbox_cgroup_destroy(&live), 0);
	OWS_CHECK_INT(ows__sandbox_cgroup_destroy(&busy), 0);
	OWS_CHECK_INT(ows__sandbox_cgroup_destroy(&other), 0);
}
