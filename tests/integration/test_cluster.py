"""Three nodes on loopback: join, writes through any node, kill -9 of the
leader, catch-up of a restarted node, catch-up through a snapshot, node
removal, and the same verified ledger head everywhere."""
import json

from owstest import Node, check, keygen, tmpdir, wait_for, write_json

# Small snapshot thresholds so that catch-up through snapshots is exercised.
SNAP = {"OWS_RAFT_SNAPSHOT_THRESHOLD": "16", "OWS_RAFT_SNAPSHOT_TRAILING": "4"}


def voters(node):
    """Voters in the Raft configuration that are also in the nodes table."""
    st = node.status()
    conf = sorted(s["id"] for s in st["configuration"] if s["role"] == "voter")
    table = sorted(n["id"] for n in st["nodes"])
    return conf if conf == table else None


def leader_of(nodes):
    for n in nodes:
        try:
            st = n.status()
        except AssertionError:
            continue
        if st["node"]["role"] == "leader":
            return n
    return None


def heights(nodes):
    return [n.status()["ledger"]["height"] for n in nodes]


def cluster3(env=None):
    base = tmpdir()
    n1 = Node(base + "/1", env=env)
    n1.init()
    n1.start()
    nodes = [n1]
    for i in (2, 3):
        tok = n1.ows("node", "token").stdout.strip()
        check(len(tok) == 64, tok)
        n = Node(base + "/%d" % i, env=env)
        p = n.join(n1, tok)
        check(p.returncode == 0, p.stderr)
        check("as node %d" % i in p.stdout, p.stdout)
        # The joined node gets the root's key file for the tests' ows calls.
        import shutil
        shutil.copy(n1.root_key, n.root_key)
        n.start()
        nodes.append(n)
    wait_for(lambda: voters(n1) == [1, 2, 3], 60, "three voters")
    return nodes


def stack(i):
    return write_json({"stack": "s%d" % i, "users": {"user%d" % i: {}}})


def test_join_and_write_through_any_node():
    nodes = cluster3()
    # A token is single use.
    tok = nodes[0].ows("node", "token").stdout.strip()
    extra = Node(tmpdir())
    check(extra.join(nodes[1], tok).returncode == 0)
    again = Node(tmpdir())
    p = again.join(nodes[2], tok)
    check(p.returncode != 0 and "unknown, used or expired" in p.stderr, p.stderr)
    # A change through each node (followers forward to the leader) is
    # visible on every node.
    for i, n in enumerate(nodes):
        n.ows("apply", stack(i), "--yes")
    want = nodes[0].status()["ledger"]
    for n in nodes:
        wait_for(lambda: n.status()["ledger"]["height"] == want["height"], 30,
                 "replication to %s" % n.edge)
        entries = json.loads(n.ows("--json", "ledger", "log").stdout)
        check(len(entries) == want["height"])
    heads = set(n.ows_json("ledger", "verify")["head"] for n in nodes)
    check(heads == {want["head"]}, heads)
    human = nodes[2].ows("node", "ls").stdout
    check(human.count("voter") == 3, human)
    # Every node unsealed the same cluster secret from its join reply.
    secrets = set(open(n.dir + "/cluster.secret", "rb").read() for n in nodes)
    check(len(secrets) == 1 and len(secrets.pop()) == 32, "cluster secrets differ")


def test_leader_killed_new_leader_and_catch_up():
    nodes = cluster3()
    nodes[0].ows("apply", stack(0), "--yes")
    old = leader_of(nodes)
    check(old is not None, "no leader")
    old.kill9()
    rest = [n for n in nodes if n is not old]
    new = wait_for(lambda: leader_of(rest), 30, "a new leader")
    check(new is not old)
    # Changes still apply through either survivor.
    for i, n in enumerate(rest):
        n.ows("apply", stack(10 + i), "--yes")
    st = new.status()
    dead = [x for x in st["nodes"] if x["health"] == "down"]
    check(len(dead) == 1 and dead[0]["role"] == "unknown", st["nodes"])
    # The killed node comes back and catches up.
    old.start()
    target = new.status()["ledger"]
    wait_for(lambda: old.status()["ledger"]["head"] == target["head"], 60,
             "the restarted node to catch up")
    heads = set(n.ows_json("ledger", "verify")["head"] for n in nodes)
    check(heads == {target["head"]}, heads)


def test_catch_up_through_snapshot():
    nodes = cluster3(env=SNAP)
    lagging = nodes[2]
    check(lagging.stop() == 0)
    for i in range(30):
        nodes[i % 2].ows("apply", stack(i), "--yes")
    lagging.start()
    target = nodes[0].status()["ledger"]
    wait_for(lambda: lagging.status()["ledger"]["head"] == target["head"], 60,
             "catch-up through a snapshot")
    check(lagging.ows_json("ledger", "verify")["head"] == target["head"])
    # A brand-new node also starts from a snapshot (the log is compacted).
    tok = nodes[0].ows("node", "token").stdout.strip()
    n4 = Node(tmpdir(), env=SNAP)
    check(n4.join(nodes[0], tok).returncode == 0)
    import shutil
    shutil.copy(nodes[0].root_key, n4.root_key)
    n4.start()
    wait_for(lambda: voters(nodes[0]) == [1, 2, 3, 4], 60, "four voters")
    target = nodes[0].status()["ledger"]
    wait_for(lambda: n4.status()["ledger"]["head"] == target["head"], 60, "n4 catch-up")


def test_node_rm():
    nodes = cluster3()
    out = nodes[0].ows("node", "rm", "3").stdout
    check("node 3 removed" in out, out)
    wait_for(lambda: voters(nodes[0]) == [1, 2], 30, "node 3 out of the configuration")
    # The removed node notices and stops by itself, cleanly.
    wait_for(lambda: nodes[2].proc.poll() is not None, 30, "node 3 to stop")
    check(nodes[2].proc.returncode == 0, nodes[2].proc.returncode)
    check("was removed from cluster" in open(nodes[2].log).read())
    nodes[2].proc = None
    p = nodes[0].ows("node", "rm", "9", check_rc=False)
    check(p.returncode != 0 and "does not exist" in p.stderr, p.stderr)
    # A removed node's id is never given again; a join refused for a taken
    # address does not use up its token.
    tok = nodes[0].ows("node", "token", "--ttl", "120", "--json").stdout
    tok = json.loads(tok)
    check(tok["ttl_s"] == 120, tok)
    # owsd join itself refuses a Raft address in use on this machine, so
    # the clash is with a node that joined but never started.
    ghost = Node(tmpdir())
    p = ghost.join(nodes[0], nodes[0].ows("node", "token").stdout.strip())
    check(p.returncode == 0 and "as node 4" in p.stdout, p.stdout + p.stderr)
    clash = Node(tmpdir())
    clash.raft = ghost.raft
    p = clash.join(nodes[0], tok["token"])
    check(p.returncode != 0 and "is taken" in p.stderr, p.stderr)
    clash.raft = nodes[1].raft
    p = clash.join(nodes[0], tok["token"])
    check(p.returncode != 0 and "address already in use" in p.stderr, p.stderr)
    n4 = Node(tmpdir())
    p = n4.join(nodes[0], tok["token"])
    check(p.returncode == 0 and "as node 5" in p.stdout, p.stdout + p.stderr)
    # Two nodes still commit, and agree.
    nodes[1].ows("apply", stack(1), "--yes")
    target = nodes[0].status()["ledger"]["head"]
    wait_for(lambda: nodes[1].status()["ledger"]["head"] == target, 30, "node 2")
    heads = set(n.ows_json("ledger", "verify")["head"] for n in nodes[:2])
    check(heads == {target}, heads)


def test_function_deployed_on_one_node_answers_on_every_gateway():
    import os
    import subprocess
    nodes = cluster3()
    d = tmpdir()
    os.makedirs(os.path.join(d, "hello"))
    with open(os.path.join(d, "hello", "app.py"), "w") as f:
        f.write("import socket\n"
                "def handler(event, context):\n"
                "    return {'statusCode': 200, 'body': 'hi ' + "
                "event['pathParameters']['name']}\n")
    with open(os.path.join(d, "stack.json"), "w") as f:
        json.dump({"stack": "web", "functions": {"hello": {
            "runtime": "python3", "handler": "app.handler", "code": "./hello"}},
            "routes": {"GET /hello/{name}": "hello"}}, f)
    nodes[0].ows("apply", os.path.join(d, "stack.json"), "--yes")
    target = nodes[0].status()["ledger"]["head"]
    for n in nodes:
        wait_for(lambda: n.status()["ledger"]["head"] == target, 30, "replication")
    # Deployed before any request: every node fetches and unpacks the
    # bundle as the change set applies, as Lambda readies a new function.
    for n in nodes:
        bundles = os.path.join(n.dir, "bundles")
        wait_for(lambda: os.path.isdir(bundles) and
                 [b for b in os.listdir(bundles) if ".tmp" not in b], 30,
                 "the bundle unpacked on node %s" % n.dir)
    for i, n in enumerate(nodes):
        p = subprocess.run(["curl", "-s", "--max-time", "30",
                            "http://%s/hello/n%d" % (n.gateway, i)],
                           capture_output=True, text=True, timeout=60)
        check(p.stdout == "hi n%d" % i, (n.gateway, p.stdout, p.stderr))
    # Nodes 2 and 3 got the bundle from a peer (only node 1 got it): each
    # fetched it to ready the function, or the blob repair brought it
    # first (fetched by the node, or pushed to it by node 1).
    pushes = open(nodes[0].log).read()
    for n in nodes[1:]:
        log = open(n.log).read()
        check("fetched bundle" in log or "repair: fetched" in log or
              "to %s\n" % n.edge in pushes, n.log)
    # Each node ran one invocation; any node shows all three, by time.
    for n in (nodes[0], nodes[2]):
        recs = [json.loads(l) for l in
                n.ows("--json", "logs", "hello").stdout.splitlines()]
        ran = [r for r in recs if r.get("request_id")]
        check(sorted(r["node"] for r in ran) == [1, 2, 3], recs)
        check([r["time"] for r in recs] == sorted(r["time"] for r in recs), recs)
        check(all("START RequestId: %s" % r["request_id"] in r["text"]
                  for r in ran), ran)
    # The peer endpoint answers nodes only: a user, even root, is refused,
    # and so is a node key used without a signature.
    from owstest import signed_request, http
    st, r = signed_request(nodes[1], nodes[0].root_key, "GET",
                           "/_ows/v1/peer/logs/hello?since=0")
    check(st == 403 and r["code"] == "AccessDenied", (st, r))
    st, _ = http(nodes[1].edge, "GET", "/_ows/v1/peer/logs/hello", b"", {})
    check(st == 403, st)
    st, r = signed_request(nodes[1], nodes[0].dir + "/node.key", "GET",
                           "/_ows/v1/peer/logs/hello?since=0")
    check(st == 200 and [x["request_id"] for x in r["records"]
                         if x.get("request_id")], (st, r))
    # A decoded name that a URL would read differently ("hello?x" would be
    # "hello" on a peer) is not a function name.
    st, r = signed_request(nodes[0], nodes[0].root_key, "GET",
                           "/_ows/v1/functions/hello%3Fx/logs")
    check(st == 400 and r["code"] == "InvalidParameterValue", (st, r))
    # A cursor naming nodes that are not members changes nothing.
    st, r = signed_request(nodes[0], nodes[0].root_key, "GET",
                           "/_ows/v1/functions/hello/logs?since=77:5,88:9")
    check(st == 200 and len([x for x in r["records"] if x.get("request_id")]) == 3
          and "77" not in r["last"], (st, r))
    # A node that is down is named, and the others' logs still come.
    nodes[2].kill9()
    p = nodes[0].ows("logs", "hello")
    check(p.stdout.count("START RequestId") == 2, p.stdout)
    check("node 3 did not answer" in p.stderr, p.stderr)
