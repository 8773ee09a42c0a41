"""The first hour of a new user: `make run` exactly as the README says (a
relative data directory; only the ports are moved, through OWS_EDGE,
OWS_GATEWAY and OWS_RAFT, so that it cannot clash), then the README's
function tutorial and the S3 one, read from README.md itself: its handler,
its stack file and each `$ ` command, run in a shell that ran the lines `make run` printed,
once with the clients first on PATH and once with Debian's (/usr/bin: aws
cli 2.9 and boto3 1.26, which ignore AWS_ENDPOINT_URL). Each command must
succeed and print what the README shows (ids, hashes and numbers aside)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

from owstest import BIN, OWSD, ROOT, check, free_port, ows, tmpdir, wait_for

README = os.path.join(ROOT, "README.md")
TUTORIAL = "## Tutorial: a function behind a route"
S3_TUTORIAL = "## Tutorial: store an object"


def section(text, title):
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end >= 0 else len(text)]


def blocks(text):
    """The fenced code blocks of text: [(language, body)]."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def commands(text):
    """[(command, expected output lines)] from the `$ ` blocks."""
    out = []
    for lang, body in blocks(text):
        if lang or "\n$ " not in "\n" + body:
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return out


def normal(line):
    """A line with what changes from run to run replaced by placeholders."""
    line = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", line)
    line = re.sub(r"AKIA[A-Z0-9]{16}", "AKID", line)
    line = re.sub(r"\b[0-9a-f]{12,}\b", "HEX", line)
    line = re.sub(r"\d+(\.\d+)?", "N", line)
    return " ".join(line.split())


def shows(expected, actual):
    """Every line the README shows appears in actual ('...' matches any)."""
    got = [normal(l) for l in actual.splitlines()]
    for line in expected:
        if not line.strip() or line.strip() == "...":
            continue
        pat = ".*".join(re.escape(p) for p in normal(line).split("..."))
        if not any(re.fullmatch(pat, g) for g in got):
            return "README line %r not in the output" % line
    return None


def make_env():
    env = dict(os.environ)
    # A nested make must not inherit the jobserver of a make check above.
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    for k in list(env):
        if k.startswith("AWS_") or k.startswith("OWS_"):
            del env[k]
    return env


def read_banner(proc):
    """make run's stdout up to its last banner line."""
    lines = []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Stop with Ctrl-C"):
            return lines
    raise AssertionError("make run printed no banner:\n" + "\n".join(lines))


def run_in_shell(prelude, cmd, cwd, path_first=None):
    env = make_env()
    env["HOME"] = cwd  # no ~/.aws of the machine's user
    if path_first:
        env["PATH"] = path_first + ":" + env["PATH"]
    script = "shopt -s expand_aliases\n" + prelude + "\n" + cmd + "\n"
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_make_run_then_the_function_tutorial():
    text = open(README).read()
    tut = section(text, TUTORIAL)
    code = dict((lang, body) for lang, body in blocks(tut) if lang)
    stack_name = re.search(r"a stack file, `([^`]+)`", tut).group(1)
    steps = commands(tut)
    check([c.split()[0] for c, _ in steps].count("aws") >= 2, steps)
    # the S3 tutorial's commands run after the function's, on the same node
    s3_steps = commands(section(text, S3_TUTORIAL))
    check(any(" s3 cp " in c for c, _ in s3_steps) and
          any(c.startswith("python3") for c, _ in s3_steps), s3_steps)
    steps = steps + s3_steps

    rel = ".ows-test-%s" % uuid.uuid4().hex[:8]
    absdir = os.path.join(os.path.realpath(ROOT), rel)
    edge, gw, raft = ("127.0.0.1:%d" % free_port() for _ in range(3))
    env = make_env()
    env.update(OWS_DIR="./" + rel, OWS_EDGE=edge, OWS_GATEWAY=gw, OWS_RAFT=raft)
    args = ["make", "--no-print-directory", "run"]
    if os.path.basename(BIN) == "bin-san":
        # The binaries under test, which make SANITIZE=... check built
        # (any value selects bin-san/; objects are not rebuilt for it).
        args.append("SANITIZE=address,undefined")
    proc = subprocess.Popen(args, cwd=ROOT,
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        banner = read_banner(proc)
        joined = "\n".join(banner)
        check(re.search(r"^created cluster ows-[0-9a-f]{12} in %s$" % re.escape(absdir),
                        joined, re.M), joined)
        check("OWS single-node cloud in %s\n" % absdir in joined, joined)
        check('export PATH="%s:$PATH"' % os.path.realpath(BIN) in joined, joined)
        i = banner.index("In another shell:")
        prelude = []
        for line in banner[i + 1:]:
            if not line.strip():
                break
            prelude.append(line.strip())
        check(prelude[-1] == "ows status", prelude)
        check("alias aws='aws --endpoint-url http://%s'" % edge in prelude, prelude)
        check("export AWS_ENDPOINT_URL=http://%s" % edge in prelude, prelude)
        prelude = "\n".join(prelude[:-1])

        work = tmpdir()
        os.makedirs(os.path.join(work, "hello"))
        with open(os.path.join(work, "hello", "app.py"), "w") as f:
            f.write(code["python"])
        with open(os.path.join(work, stack_name), "w") as f:
            f.write(code["json"])
        wait_for(lambda: run_in_shell(prelude, "ows status", work).returncode == 0,
                 60, "the node to answer 'ows status'")

        def port(cmd):
            return cmd.replace("127.0.0.1:4566", edge).replace("127.0.0.1:8080", gw)

        # The clients first on PATH, then Debian's.
        for first in (None, "/usr/bin"):
            for cmd, expected in steps:
                if first and cmd.startswith("ows apply"):
                    continue  # once is the tutorial; again is "nothing to do"
                p = run_in_shell(prelude, port(cmd), work, first)
                what = "%s (PATH first: %s)" % (cmd, first)
                check(p.returncode == 0, "%s failed (%d): %s %s" % (
                    what, p.returncode, p.stdout, p.stderr))
                bad = shows(expected, p.stdout)
                check(bad is None, "%s: %s\n%s" % (what, bad, p.stdout))
            # The forms make run printed, without --endpoint-url: the
            # alias for the aws cli, AWS_ENDPOINT_URL for the newer boto3.
            p = run_in_shell(prelude, "aws sts get-caller-identity", work, first)
            check(p.returncode == 0 and ":user/root" in p.stdout, (first, p))
        p = run_in_shell(prelude, "python3 -c 'import boto3; print(boto3.client("
                         "\"sts\").get_caller_identity()[\"Arn\"])'", work)
        check(p.returncode == 0 and ":user/root" in p.stdout, p)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, as the README says
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        shutil.rmtree(os.path.join(ROOT, rel), ignore_errors=True)
    # make itself reports the interrupt; the node must have stopped cleanly.
    check("info node: stopped" in err, err[-3000:])
    check("cannot start" not in err, err[-3000:])
    check(not os.path.exists(os.path.join(ROOT, rel)))


def test_owsd_with_relative_data_directories():
    """owsd init, join and run with -d relative to the working directory:
    the directory is resolved once, at start, and functions run (before,
    every function failed with 'cannot start: Invalid argument')."""
    work = tmpdir()
    addrs = [["--edge", "127.0.0.1:%d" % free_port(), "--gateway",
              "127.0.0.1:%d" % free_port(), "--raft", "127.0.0.1:%d" % free_port()]
             for _ in range(2)]
    procs = []

    def owsd(*args):
        return subprocess.run([OWSD] + list(args), cwd=work, capture_output=True,
                              text=True, timeout=60)

    def run(d):
        logf = open(os.path.join(work, d.strip("./") + ".log"), "w")
        procs.append(subprocess.Popen([OWSD, "run", "-d", d], cwd=work,
                                      stdout=logf, stderr=subprocess.STDOUT))
        logf.close()

    try:
        p = owsd("init", "-d", "./n1", *addrs[0])
        check(p.returncode == 0, p)
        check("created cluster" in p.stdout and
              "in %s/n1\n" % os.path.realpath(work) in p.stdout, p.stdout)
        run("./n1")
        edge = addrs[0][1]
        key = os.path.join(work, "n1", "root.key")
        wait_for(lambda: ows("status", endpoint=edge, key=key, check_rc=False).returncode == 0,
                 30, "node 1")
        os.makedirs(os.path.join(work, "fn"))
        with open(os.path.join(work, "fn", "app.py"), "w") as f:
            f.write("def handler(event, context):\n    return {'ok': event['n']}\n")
        with open(os.path.join(work, "s.json"), "w") as f:
            json.dump({"stack": "rel", "functions": {"f": {
                "runtime": "python3", "handler": "app.handler", "code": "./fn"}}}, f)
        ows("apply", "--yes", os.path.join(work, "s.json"), endpoint=edge, key=key)
        out = ows("invoke", "f", "--payload", '{"n": 1}', endpoint=edge, key=key).stdout
        check(json.loads(out) == {"ok": 1}, out)
        token = ows("node", "token", endpoint=edge, key=key).stdout.strip()
        p = owsd("join", "-d", "sub/../n2", "--peer", edge, "--token", token, *addrs[1])
        check(p.returncode == 0, p)
        check("start it with: owsd run -d %s/n2\n" % os.path.realpath(work) in p.stdout,
              p.stdout)
        run("n2")
        edge2 = addrs[1][1]
        out = wait_for(lambda: ows("invoke", "f", "--payload", '{"n": 2}', endpoint=edge2,
                                   key=key, check_rc=False).stdout, 60, "node 2 to invoke")
        check(json.loads(out) == {"ok": 2}, out)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    check(all(p.returncode == 0 for p in procs), [p.returncode for p in procs])
