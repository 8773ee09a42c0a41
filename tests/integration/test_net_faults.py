"""Three nodes under network faults: a follower cut off by a partition and
healed (pre-vote keeps the leader in its term; the Raft links carry traffic
again soon after the heal), and a leader frozen with SIGSTOP while a writer
sends change sets through a follower (forwards to the frozen leader are
answered 503 when the follower learns of a new leader, and writes are
acknowledged again while the old leader is still stopped).

The partitioned follower is another machine of the test's own: a network
namespace joined to the host by a veth pair, with an nftables table in it
that drops everything but loopback while the partition lasts. Each test
ends with every acknowledged write present and one verified ledger head on
every node. The timings are printed for docs/cluster.md, never asserted.
"""
import json
import os
import signal
import subprocess
import threading
import time

from owstest import (OWSD, Node, auth_header, check, cluster3_shared_root,
                     envelope, free_port, http, other_host, tmpdir, voters,
                     wait_for, write_json)

CUT_TABLE = "owscut"






def cut(ns):
    """Drop every packet into and out of ns but its loopback's: the
    connections stay open, their segments are lost, as in a real
    partition (no reset, no unreachable)."""
    rules = ("table inet %s {\n"
             " chain in { type filter hook input priority -50; policy drop;\n"
             "  iifname \"lo\" accept\n }\n"
             " chain out { type filter hook output priority -50; policy drop;\n"
             "  oifname \"lo\" accept\n }\n"
             "}\n" % CUT_TABLE)
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules,
                   text=True, check=True, capture_output=True)


def heal(ns):
    subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet",
                    CUT_TABLE], check=True, capture_output=True)


def status(n):
    st, body = http(n.edge, "GET", "/_ows/v1/status", headers={
        "Authorization": auth_header(n.root_key, "GET", "/_ows/v1/status")},
        timeout=5)
    check(st == 200, (st, body))
    return json.loads(body)


def stack(name):
    return write_json({"stack": name, "users": {name: {}}})




def ledger(n):
    """n's ledger entries, and every user name a change set in it created."""
    names = set()

    def walk(v):
        if isinstance(v, dict):
            if v.get("action") == "users.put":
                names.add(v.get("name"))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    entries = json.loads(n.ows("--json", "ledger", "log").stdout)
    walk(entries)
    return entries, names


def check_ledgers(nodes, acked):
    """One verified head everywhere, the same entry at each height on every
    node, and every acknowledged write in it."""
    heads = set(n.ows_json("ledger", "verify")["head"] for n in nodes)
    check(len(heads) == 1, "ledger heads differ: %s" % heads)
    logs = [ledger(n) for n in nodes]
    for entries, names in logs:
        check(entries == logs[0][0], "two different entries at one height")
        check(acked <= names, "acknowledged writes missing: %s" %
              sorted(acked - names))


def test_partitioned_follower_heals_without_deposing_the_leader():
    pid = os.getpid()
    ns, h_if, t_if = "owscut%d" % pid, "owsc%dh" % (pid % 10000), "owsc%dt" % (pid % 10000)
    net = "10.251.%d" % (pid % 250)
    far = None
    try:
        other_host(ns, h_if, t_if, net)
        base = tmpdir()
        near = []
        for i in (1, 2):
            n = Node(base + "/%d" % i)
            n.edge, n.gateway, n.raft = ["%s.1:%d" % (net, free_port()) for _ in range(3)]
            near.append(n)
        near[0].init()
        near[0].start()
        tok = near[0].ows("node", "token").stdout.strip()
        check(near[1].join(near[0], tok).returncode == 0)
        import shutil
        shutil.copy(near[0].root_key, near[1].root_key)
        near[1].start()
        far = Node(base + "/3")
        far.edge, far.gateway, far.raft = ["%s.2:%d" % (net, free_port()) for _ in range(3)]
        tok = near[0].ows("node", "token").stdout.strip()
        p = subprocess.run(["ip", "netns", "exec", ns, OWSD, "join", "-d", far.dir,
                            "--peer", near[0].edge, "--token", tok] + far.addr_args(),
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, p.stderr)
        shutil.copy(near[0].root_key, far.root_key)
        logf = open(far.log, "a")
        far.proc = subprocess.Popen(["ip", "netns", "exec", ns, OWSD, "run", "-d", far.dir],
                                    stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        wait_for(lambda: voters(near[0]) == [1, 2, 3], 60, "three voters")
        nodes = near + [far]
        acked = set()
        for i in range(3):
            near[i % 2].ows("apply", stack("before%d" % i), "--yes")
            acked.add("before%d" % i)
        leader = wait_for(lambda: [n for n in near if status(n)["node"]["role"] == "leader"],
                          30, "a leader on the host")[0]
        before = status(leader)["term"]
        wait_for(lambda: status(far)["ledger"]["height"] == status(leader)["ledger"]["height"],
                 30, "the far node to be in step")

        cut(ns)
        # Long enough for the far node's election timer (1 to 2 s) to run
        # out several times: without pre-vote each one raises its term.
        t_cut = time.time()
        i = 0
        while time.time() - t_cut < 8:
            near[i % 2].ows("apply", stack("during%d" % i), "--yes")
            acked.add("during%d" % i)
            i += 1
            time.sleep(0.5)
        during = status(leader)["term"]
        check(during == before, "the leader's term moved during the partition: "
              "%d -> %d" % (before, during))

        heal(ns)
        t_heal = time.time()
        target = status(leader)["ledger"]["height"]

        def caught_up():
            try:
                return status(far)["ledger"]["height"] >= target
            except Exception:  # noqa: BLE001 (its edge may not answer yet)
                return False
        wait_for(caught_up, 60, "the healed node to catch up", interval=0.05)
        took = time.time() - t_heal
        print("partition of %.1f s healed: the far node caught up in %.2f s" %
              (t_heal - t_cut, took))
        # Writes after the heal reach the far node too.
        leader.ows("apply", stack("after"), "--yes")
        acked.add("after")
        st = status(leader)
        check(st["node"]["role"] == "leader" and st["term"] == before,
              "the leader was deposed after the heal: term %d -> %d, role %s" %
              (before, st["term"], st["node"]["role"]))
        wait_for(lambda: len(set(status(n)["ledger"]["head"] for n in nodes)) == 1,
                 30, "one head on every node")
        check_ledgers(nodes, acked)
    finally:
        if far is not None and far.proc is not None:
            far.proc.terminate()
            try:
                far.proc.wait(20)
            except subprocess.TimeoutExpired:
                far.proc.kill()
                far.proc.wait()
            far.proc = None
        subprocess.run(["ip", "link", "del", h_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)




class Writer(threading.Thread):
    """Signed change sets, one at a time, through one node, each creating a
    user of its own: records when each was answered and how."""

    def __init__(self, node, cluster):
        super().__init__(daemon=True)
        self.node, self.cluster = node, cluster
        self.stop = threading.Event()
        self.answers = []  # (time answered, status, user name)

    def run(self):
        i = 0
        while not self.stop.is_set():
            name = "w%d" % i
            i += 1
            env = envelope(self.node.root_key, self.cluster,
                           [{"action": "users.put", "name": name, "spec": {}}])
            body = json.dumps(env).encode()
            try:
                st, _ = http(self.node.edge, "POST", "/_ows/v1/changesets", body, {
                    "Authorization": auth_header(self.node.root_key, "POST",
                                                 "/_ows/v1/changesets", body),
                    "Content-Type": "application/json"}, timeout=60)
            except OSError:
                st = None
            self.answers.append((time.time(), st, name))
            if st != 200:
                time.sleep(0.1)


def test_frozen_leader_writes_acknowledged_again_while_it_is_stopped():
    nodes = cluster3_shared_root()
    cluster = nodes[0].status()["cluster"]
    leader = wait_for(lambda: [n for n in nodes if status(n)["node"]["role"] == "leader"],
                      30, "a leader")[0]
    rest = [n for n in nodes if n is not leader]
    writer = Writer(rest[0], cluster)
    writer.start()
    wait_for(lambda: any(a[1] == 200 for a in writer.answers), 30, "a first write")
    t_stop = time.time()
    leader.proc.send_signal(signal.SIGSTOP)
    elected = None
    try:
        while time.time() - t_stop < 15:
            if elected is None:
                for n in rest:
                    try:
                        if status(n)["node"]["role"] == "leader":
                            elected = time.time()
                    except Exception:  # noqa: BLE001 (a node busy electing)
                        pass
            time.sleep(0.1)
    finally:
        t_cont = time.time()
        leader.proc.send_signal(signal.SIGCONT)
    time.sleep(3)
    writer.stop.set()
    writer.join(90)
    check(not writer.is_alive(), "the writer hangs")
    during = [a for a in writer.answers if t_stop < a[0] < t_cont]
    acked_during = [a for a in during if a[1] == 200]
    print("leader frozen %.1f s: new leader seen after %s s, first write "
          "acknowledged after %s s, %d writes acknowledged and %d answered "
          "503 while it was stopped" % (
              t_cont - t_stop,
              "%.2f" % (elected - t_stop) if elected else "-",
              "%.2f" % (acked_during[0][0] - t_stop) if acked_during else "-",
              len(acked_during), len([a for a in during if a[1] == 503])))
    check(acked_during, "no write acknowledged while the old leader was stopped: %s" %
          [(round(a[0] - t_stop, 2), a[1]) for a in during])
    check(all(a[1] in (200, 503) for a in writer.answers),
          "unexpected answers: %s" % [a for a in writer.answers if a[1] not in (200, 503)])
    acked = set(a[2] for a in writer.answers if a[1] == 200)
    wait_for(lambda: len(set(status(n)["ledger"]["head"] for n in nodes)) == 1,
             60, "one head on every node")
    check_ledgers(nodes, acked)
