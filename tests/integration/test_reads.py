"""Consistent reads on three nodes (Raft ReadIndex, src/raft/readindex.c):
a write acknowledged through one node is seen by a consistent read through
each of the others at once; many concurrent consistent reads share rounds
and append nothing to the Raft log; a paused leader, and a node cut off
from the others by a partition, never answer a consistent read from a
stale state.

The consistent read is GET /_ows/v1/status?consistent=true: the node's
status once it has passed the same read barrier (host read_barrier) that
the services' consistent reads take, so its ledger height shows what it
had applied."""
import json
import os
import signal
import subprocess
import threading
import time

from owstest import (OWSD, Node, auth_header, check, cluster3_shared_root,
                     envelope, free_port, http, other_host, tmpdir, voters,
                     wait_for)

CUT_TABLE = "owsricut"


def cut(ns):
    """Drop every packet into and out of ns but its loopback's (as
    test_net_faults.py does): connections stay open, segments are lost."""
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


def status(n, consistent=False, timeout=10):
    target = "/_ows/v1/status" + ("?consistent=true" if consistent else "")
    st, body = http(n.edge, "GET", target, headers={
        "Authorization": auth_header(n.root_key, "GET", target)},
        timeout=timeout)
    return st, json.loads(body)


def consistent(n):
    st, r = status(n, True)
    check(st == 200, (n.edge, st, r))
    return r


def plain(n):
    st, r = status(n)
    check(st == 200, (n.edge, st, r))
    return r


def write(node, cluster, name):
    """A change set through node creating user name: its ledger height,
    once acknowledged."""
    env = envelope(node.root_key, cluster,
                   [{"action": "users.put", "name": name, "spec": {}}])
    body = json.dumps(env).encode()
    st, text = http(node.edge, "POST", "/_ows/v1/changesets", body, {
        "Authorization": auth_header(node.root_key, "POST",
                                     "/_ows/v1/changesets", body),
        "Content-Type": "application/json"}, timeout=30)
    check(st == 200, (st, text))
    return json.loads(text)["height"]


def leader_of(nodes):
    return wait_for(lambda: [n for n in nodes if plain(n)["node"]["role"] == "leader"],
                    30, "a leader")[0]


def test_write_through_one_node_read_through_the_others():
    nodes = cluster3_shared_root()
    cluster = plain(nodes[0])["cluster"]
    for i in range(6):
        via = nodes[i % 3]
        height = write(via, cluster, "w%d" % i)
        others = [n for n in nodes if n is not via]
        got = {}

        def read(n):
            got[n.edge] = consistent(n)["ledger"]["height"]
        ts = [threading.Thread(target=read, args=(n,)) for n in others]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        check(len(got) == 2 and all(h >= height for h in got.values()),
              "write at height %d through %s, read %s" % (height, via.edge, got))


def test_concurrent_reads_share_rounds_and_append_nothing():
    nodes = cluster3_shared_root()
    leader = leader_of(nodes)
    for n in nodes:  # a term's first read may append one empty entry
        consistent(n)
    before = {n.edge: plain(n) for n in nodes}
    results = []

    def read(n):
        st, r = status(n, True, timeout=30)
        results.append((st, r["ledger"]["height"] if st == 200 else r))
    ts = [threading.Thread(target=read, args=(nodes[i % 3],)) for i in range(60)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    check(len(results) == 60 and all(st == 200 for st, _ in results), results)
    after = {n.edge: plain(n) for n in nodes}
    b, a = before[leader.edge], after[leader.edge]
    print("60 consistent reads: leader's log %d -> %d, rounds %s" % (
        b["last_index"], a["last_index"],
        {e: after[e]["reads"]["rounds"] - before[e]["reads"]["rounds"]
         for e in after}))
    # Nothing else writes meanwhile: the log did not grow at all.
    check(a["last_index"] == b["last_index"] and
          a["ledger"]["height"] == b["ledger"]["height"], (b, a))
    for n in nodes:
        reads = after[n.edge]["reads"]["reads"] - before[n.edge]["reads"]["reads"]
        check(reads >= 20, (n.edge, reads))
        check(after[n.edge]["reads"]["noops"] == before[n.edge]["reads"]["noops"],
              (before[n.edge]["reads"], after[n.edge]["reads"]))


def test_paused_leader_never_answers_a_stale_read():
    """The leader is paused (SIGSTOP) while the others elect a leader and
    take a write; consistent reads are sent to the old leader before it
    resumes. Whatever it handles first, its reads are refused (503) or
    show the write, never the state before it."""
    nodes = cluster3_shared_root()
    cluster = plain(nodes[0])["cluster"]
    old = leader_of(nodes)
    rest = [n for n in nodes if n is not old]
    write(rest[0], cluster, "before")
    old.proc.send_signal(signal.SIGSTOP)
    try:
        new = wait_for(lambda: [n for n in rest if plain(n)["node"]["role"] == "leader"],
                       30, "a new leader")[0]
        height = write(new, cluster, "during")
        answers = []

        def read():
            try:
                st, r = status(old, True, timeout=30)
                answers.append((st, r["ledger"]["height"] if st == 200 else r.get("code")))
            except OSError as e:
                answers.append((None, str(e)))
        ts = [threading.Thread(target=read) for _ in range(4)]
        for t in ts:
            t.start()
        time.sleep(0.5)  # the requests wait in the paused node's sockets
    finally:
        old.proc.send_signal(signal.SIGCONT)
    for t in ts:
        t.join(60)
    print("paused leader's reads after it resumed: %s" % answers)
    check(len(answers) == 4, answers)
    for st, v in answers:
        check(st == 503 or (st == 200 and v >= height),
              "a stale read: %s (the write is at height %d)" % ((st, v), height))
    # Later it follows, and reads the write.
    wait_for(lambda: status(old, True)[0] == 200, 30, "the old leader to read again")
    check(consistent(old)["ledger"]["height"] >= height)


def test_cut_off_node_never_answers_a_consistent_read():
    """A node in a network namespace of its own, cut off by dropping all
    its packets while the two others take writes: every consistent read on
    it is refused while the cut lasts (it cannot reach a majority, as a
    leader or as a follower), however long it waits; plain reads still
    answer, from its stale state. After the heal it reads the writes."""
    pid = os.getpid()
    ns, h_if, t_if = "owsri%d" % pid, "owsr%dh" % (pid % 10000), "owsr%dt" % (pid % 10000)
    net = "10.252.%d" % (pid % 250)
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
        cluster = plain(near[0])["cluster"]
        write(near[0], cluster, "before")
        wait_for(lambda: status(far, True)[0] == 200, 30, "a consistent read on the far node")
        height = consistent(far)["ledger"]["height"]

        cut(ns)
        t_cut = time.time()
        written = 0
        while time.time() - t_cut < 4:
            height_w = write(near[written % 2], cluster, "during%d" % written)
            written += 1
            time.sleep(0.3)
        # Its edge is reachable from inside its namespace only.
        answers = ns_reads(ns, far, 3)
        heal(ns)
        print("cut-off node's consistent reads: %s" % answers)
        check(answers and all(st == 503 for st, _ in answers),
              "a consistent read answered while cut off: %s (writes up to %d, "
              "it had %d)" % (answers, height_w, height))
        wait_for(lambda: status(far, True, timeout=30)[0] == 200, 60,
                 "a consistent read after the heal")
        check(consistent(far)["ledger"]["height"] >= height_w)
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


def ns_reads(ns, node, count):
    """count consistent status reads of node, made from inside namespace ns
    (the only place that reaches it while it is cut off): [(status, code
    or ledger height)]."""
    target = "/_ows/v1/status?consistent=true"
    script = (
        "import http.client, json, sys\n"
        "out = []\n"
        "for h in json.loads(sys.argv[1]):\n"
        "    host, port = %r.rsplit(':', 1)\n"
        "    c = http.client.HTTPConnection(host, int(port), timeout=30)\n"
        "    c.request('GET', %r, headers={'Authorization': h})\n"
        "    r = c.getresponse(); b = json.loads(r.read())\n"
        "    out.append((r.status, b['ledger']['height'] if r.status == 200 else b.get('code')))\n"
        "print(json.dumps(out))\n" % (node.edge, target))
    headers = [auth_header(node.root_key, "GET", target) for _ in range(count)]
    p = subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", script,
                        json.dumps(headers)], capture_output=True, text=True,
                       timeout=150)
    check(p.returncode == 0, p.stderr)
    return [tuple(a) for a in json.loads(p.stdout)]
