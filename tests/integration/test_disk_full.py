"""A full disk on the leader: the node that cannot apply the log hands
leadership on, says so in /health and /metrics, refuses reads it would
answer from a state that is behind, and once space returns applies what
it holds and catches up, without a restart (its Raft member is reopened:
libraft's storage stays failed after one of its writes failed); writes go
on through the other nodes meanwhile, and no acknowledged write is
lost."""
import os
import subprocess
import time

from owstest import Node, applied, check, http, tmpdir, wait_for


def started_cluster(first_dir):
    nodes = [Node(base=first_dir)]
    nodes[0].init()
    nodes[0].start()
    for _ in range(2):
        tok = nodes[0].ows("node", "token").stdout.strip()
        n = Node()
        check(n.join(nodes[0], tok).returncode == 0)
        n.start()
        nodes.append(n)
    wait_for(lambda: all(x["health"] == "up" and x["member"] == "voter"
                         for x in nodes[0].status()["nodes"]) and
             len(nodes[0].status()["nodes"]) == 3, 60, "three voters")
    return nodes


def write(n, key):
    """One write through n, signed with key: True when acknowledged."""
    p = n.ows("node", "token", key=key, check_rc=False)
    return p.returncode == 0


def test_full_disk_on_the_leader():
    base = tmpdir()
    mnt = os.path.join(base, "small")
    os.makedirs(mnt)
    # libraft preallocates its segments (3 x 8 MB): room for them, and a
    # little more for the state.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", mnt], check=True)
    try:
        nodes = started_cluster(mnt)
        leader, f1, f2 = nodes
        key = leader.root_key
        check(leader.status()["node"]["role"] == "leader", leader.status())
        acked = 0
        for _ in range(5):
            check(write(f1, key), "a write before the disk fills")
            acked += 1
        # Fill the leader's disk.
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(mnt, "fill"), "bs=1M"],
                       capture_output=True)
        # Writes go on through the other nodes: some write is acknowledged
        # while the disk stays full (the leader hands leadership on).
        def a_write_goes_through():
            nonlocal acked
            if write(f1, key):
                acked += 1
                return True
            return False
        for _ in range(3):
            wait_for(a_write_goes_through, 60, "a write with the leader's disk full")
        st, body = http(leader.edge, "GET", "/_ows/v1/health")
        check(st == 503 and b"cannot apply the log" in body, (st, body))
        st, body = http(leader.edge, "GET", "/metrics")
        check(b"ows_raft_apply_stalled 1" in body, body[:300])
        # Reads it cannot serve correctly are refused.
        p = leader.ows("status", key=key, check_rc=False)
        check(p.returncode != 0 and "StateUnavailable" in p.stderr, p.stderr)
        # Space returns: the node applies again, without a restart.
        os.remove(os.path.join(mnt, "fill"))
        check(write(f1, key))
        acked += 1
        wait_for(lambda: http(leader.edge, "GET", "/_ows/v1/health")[0] == 200, 60,
                 "the node to apply again")
        pid = leader.proc.pid
        check(write(f1, key))
        acked += 1
        top = applied(f1)
        wait_for(lambda: applied(leader) >= top, 60, "the node to catch up")
        check(leader.proc.pid == pid and leader.proc.poll() is None, "the node restarted")
        # No acknowledged write lost; one head everywhere.
        heads = set()
        for n in nodes:
            v = n.ows_json("ledger", "verify", key=key)
            heads.add(v["head"])
            check(v["height"] >= acked, (v, acked))
        check(len(heads) == 1, heads)
    finally:
        for n in list(locals().get("nodes", [])):
            n.stop()
        try:  # the filled node's log lives on the small disk
            with open(os.path.join(mnt, "node.log")) as f:
                print("---- the filled node's log ----\n" + f.read()[-6000:])
        except OSError:
            pass
        subprocess.run(["umount", "-l", mnt], capture_output=True)
