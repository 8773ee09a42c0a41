"""Attacks on the issue 8 fault handling: a FOLLOWER's full disk (not the
leader's) while writes run, with resends through the stalled node and a
kill -9 of it while stalled; owsd init on a disk too small for the Raft
log's preallocated segments; one disk under all three nodes filled and
freed. Each ends with every acknowledged write on every node and one
verified head."""
import json
import os
import subprocess
import threading
import time

from owstest import (Node, OWSD, Skip, auth_header, check, envelope, free_port, http,
                     started, tmpdir, wait_for)


def small_disk(size):
    mnt = os.path.join(tmpdir(), "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mnt],
                   check=True)
    return mnt


def fill(mnt):
    """Every byte of mnt taken: big blocks, then small ones for the rest."""
    for name, bs in (("fill", "1M"), ("fill2", "4k")):
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(mnt, name),
                        "bs=" + bs], capture_output=True)


def unfill(mnt):
    for name in ("fill", "fill2"):
        os.remove(os.path.join(mnt, name))


def metric(n, name):
    st, body = http(n.edge, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


def post(n, keyfile, body):
    auth = auth_header(keyfile, "POST", "/_ows/v1/changesets", body)
    st, resp = http(n.edge, "POST", "/_ows/v1/changesets", body,
                    {"Authorization": auth, "Content-Type": "application/json"})
    return st, json.loads(resp) if resp else None


def write(n, key):
    return n.ows("node", "token", key=key, check_rc=False).returncode == 0


def test_full_disk_on_a_follower_then_kill9_while_stalled():
    mnt = small_disk("40m")
    try:
        lead = started()
        nodes = [lead]
        for base in (mnt, None):
            tok = lead.ows("node", "token").stdout.strip()
            n = Node(base=base)
            check(n.join(lead, tok).returncode == 0)
            n.start()
            nodes.append(n)
        _, fol, other = nodes
        key = lead.root_key
        wait_for(lambda: len(lead.status()["nodes"]) == 3 and
                 all(x["member"] == "voter" and x["health"] == "up"
                     for x in lead.status()["nodes"]), 60, "three voters")
        cluster = lead.status()["cluster"]
        acked = 0
        env_a = json.dumps(envelope(key, cluster, [
            {"action": "users.put", "name": "before", "spec": {}}]))
        st, first_a = post(lead, key, env_a)
        check(st == 200, (st, first_a))
        acked += 1
        fill(mnt)

        def stalled_after_a_write():
            nonlocal acked
            if write(lead, key):
                acked += 1
            return metric(fol, "ows_raft_apply_stalled") == 1
        wait_for(stalled_after_a_write, 60, "the follower to stall")
        # Writes go on through the leader.
        for _ in range(5):
            check(write(lead, key), "a write with a follower's disk full")
            acked += 1
        st, body = http(fol.edge, "GET", "/_ows/v1/health")
        check(st == 503 and b"cannot apply the log" in body, (st, body))
        # A resend through the stalled node gets the first result.
        st, r = post(fol, key, env_a)
        check(st == 200 and (r["height"], r["hash"]) ==
              (first_a["height"], first_a["hash"]), (st, r, first_a))
        # A new change set through it: forwarded, or a retryable 503.
        env_b = json.dumps(envelope(key, cluster, [
            {"action": "users.put", "name": "during", "spec": {}}]))
        st, first_b = post(fol, key, env_b)
        check(st in (200, 503), (st, first_b))
        if st != 200:
            st, first_b = post(lead, key, env_b)
            check(st == 200, (st, first_b))
        acked += 1
        # Killed while stalled; its disk still full, it cannot start.
        fol.kill9()
        fol.start(wait=False)
        check(fol.proc.wait(30) != 0, "a node started on a full disk")
        fol.proc = None
        unfill(mnt)
        fol.start()
        check(write(lead, key))
        acked += 1
        wait_for(lambda: metric(fol, "ows_raft_applied_index") >=
                 metric(lead, "ows_raft_applied_index"), 60, "the follower to catch up")
        # The resend after the catch-up: still the first result.
        st, r = post(fol, key, env_b)
        check(st == 200 and (r["height"], r["hash"]) ==
              (first_b["height"], first_b["hash"]), (st, r, first_b))
        def one_head():
            v = [n.ows_json("ledger", "verify", key=key) for n in nodes]
            return all(x["ok"] for x in v) and len({(x["height"], x["head"]) for x in v}) == 1 and v
        v = wait_for(one_head, 30, "one verified head on all nodes")
        check(v[0]["height"] >= acked, (v, acked))
        for n in nodes:
            names = [a.get("name") for e in n.ows_json("ledger", "log", key=key)
                     if e["entry"]["type"] == "changeset"
                     for a in e["entry"]["body"]["changeset"]["actions"]]
            check(names.count("before") == 1 and names.count("during") == 1, names)
    finally:
        for n in list(locals().get("nodes", [])):
            n.stop()
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def test_init_on_a_disk_too_small_for_the_log():
    mnt = small_disk("2m")
    try:
        d = os.path.join(mnt, "node")
        p = subprocess.run([OWSD, "init", "-d", d, "--raft", "127.0.0.1:%d" % free_port(),
                            "--edge", "127.0.0.1:%d" % free_port(),
                            "--gateway", "127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0, p.stdout)
        # Named as what it is, with the way out; not "i/o error".
        check("no space left on device" in p.stderr and "--segment-mb" in p.stderr,
              p.stderr)
        check(os.listdir(mnt) == [], os.listdir(mnt))
        # And the way out works on that disk.
        p = subprocess.run([OWSD, "init", "-d", d, "--segment-mb", "1",
                            "--raft", "127.0.0.1:%d" % free_port(),
                            "--edge", "127.0.0.1:%d" % free_port(),
                            "--gateway", "127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, p.stderr)
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
