"""owsd init and join making a node's directory: a taken port is named and
refused before anything is written, a failure leaves no directory behind,
init survives a loaded CPU on tmpfs, and the Raft segment size is a setting.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile

from owstest import Node, OWSD, check, free_port, started, tmpdir, wait_for


def listening():
    """A loopback socket listening on a port: the port is taken."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, "127.0.0.1:%d" % s.getsockname()[1]


def owsd(*args):
    return subprocess.run([OWSD] + list(args), capture_output=True, text=True,
                          timeout=60)


def addrs(**taken):
    a = {k: "127.0.0.1:%d" % free_port() for k in ("raft", "edge", "gateway")}
    a.update(taken)
    return ["--raft", a["raft"], "--edge", a["edge"], "--gateway", a["gateway"]]


def test_init_port_taken():
    for which in ("raft", "edge", "gateway"):
        base = tmpdir()
        d = os.path.join(base, "node")
        s, addr = listening()
        try:
            p = owsd("init", "-d", d, *addrs(**{which: addr}))
        finally:
            s.close()
        check(p.returncode != 0, "init on a taken %s port succeeded" % which)
        check("address already in use" in p.stderr and addr in p.stderr,
              "init on a taken %s port said: %r" % (which, p.stderr))
        check(os.listdir(base) == [],
              "init on a taken %s port left %s" % (which, os.listdir(base)))


def test_join_port_taken():
    base = tmpdir()
    d = os.path.join(base, "node")
    s, addr = listening()
    try:
        p = owsd("join", "-d", d, "--peer", "127.0.0.1:%d" % free_port(),
                 "--token", "00" * 32, *addrs(raft=addr))
    finally:
        s.close()
    check(p.returncode != 0, "join on a taken raft port succeeded")
    check("address already in use" in p.stderr and addr in p.stderr,
          "join on a taken raft port said: %r" % p.stderr)
    check(os.listdir(base) == [], "join left %s" % os.listdir(base))


def test_failed_init_or_join_leaves_nothing():
    # Past the port check: the node key is written, then init fails.
    base = tmpdir()
    p = owsd("init", "-d", os.path.join(base, "node"), "--root-key", "nope",
             *addrs())
    check(p.returncode != 0 and "--root-key" in p.stderr, p.stderr)
    check(os.listdir(base) == [], "failed init left %s" % os.listdir(base))
    # A join whose peer does not answer.
    p = owsd("join", "-d", os.path.join(base, "node"), "--peer",
             "127.0.0.1:%d" % free_port(), "--token", "00" * 32, *addrs())
    check(p.returncode != 0 and "cannot reach" in p.stderr, p.stderr)
    check(os.listdir(base) == [], "failed join left %s" % os.listdir(base))
    # Nothing that 'owsd run' would serve.
    p = owsd("run", "-d", os.path.join(base, "node"))
    check(p.returncode != 0, "run served a directory that init never made")


def test_init_into_existing_empty_dir():
    # A mount point, say: the node is made in it, not beside it.
    n = Node()
    os.mkdir(n.dir)
    ino = os.stat(n.dir).st_ino
    n.init()
    check(os.stat(n.dir).st_ino == ino, "init replaced the directory")
    check(sorted(os.listdir(n.dir)) == sorted([
        "cluster.secret", "credentials", "node.json", "node.key", "raft",
        "root.key", "state.db"]), "init wrote %s" % os.listdir(n.dir))
    check(os.stat(n.dir).st_mode & 0o777 == 0o700, "DIR is not 0700")
    n.start()
    n.ows("node", "token")
    # A directory holding something else is refused and left as it was.
    other = os.path.join(tmpdir(), "other")
    os.mkdir(other)
    open(os.path.join(other, "keep"), "w").close()
    p = owsd("init", "-d", other, *addrs())
    check(p.returncode != 0 and "not empty" in p.stderr, p.stderr)
    check(os.listdir(other) == ["keep"], "init touched %s" % os.listdir(other))


def segments(d):
    raft = os.path.join(d, "raft")
    return sorted(os.path.getsize(os.path.join(raft, f))
                  for f in os.listdir(raft) if f.startswith("open-"))


def test_segment_size_setting():
    n = Node()
    p = owsd("init", "-d", n.dir, "--segment-mb", "1", *n.addr_args())
    check(p.returncode == 0, p.stderr)
    with open(os.path.join(n.dir, "node.json")) as f:
        check(json.load(f).get("segment_mb") == 1, "node.json lacks segment_mb")
    n.start()
    n.ows("node", "token")
    # libraft prepares the open segment and two spare ones at the first write.
    # (the two spare ones are made in the background)
    wait_for(lambda: segments(n.dir) == [1 << 20] * 3, 30, "three 1 MB segments")
    n.stop()
    d = started()
    d.ows("node", "token")
    wait_for(lambda: segments(d.dir) == [8 << 20] * 3, 30, "three 8 MB segments")
    for bad in ("0", "1025", "x"):
        p = owsd("init", "-d", os.path.join(tmpdir(), "n"), "--segment-mb",
                 bad, *addrs())
        check(p.returncode != 0 and "--segment-mb" in p.stderr, p.stderr)


def test_init_under_load_on_tmpfs():
    # libraft 0.15 closed twice and crashed in about 1 init of 7 this way.
    base = tempfile.mkdtemp(prefix="owstest-", dir="/dev/shm"
                            if os.path.isdir("/dev/shm") else None)
    busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"])
            for _ in range(2)]
    failed = []
    try:
        for i in range(30):
            d = os.path.join(base, "n%d" % i)
            p = owsd("init", "-d", d, *addrs())
            if p.returncode != 0:
                failed.append((i, p.returncode, p.stderr[-300:]))
            shutil.rmtree(d, ignore_errors=True)
    finally:
        for b in busy:
            b.kill()
            b.wait()
        shutil.rmtree(base, ignore_errors=True)
    check(not failed, "inits failed under load: %s" % failed)
