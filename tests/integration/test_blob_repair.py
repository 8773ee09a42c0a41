"""Blobs across three nodes (issue 10, "Where the bytes go"): a new blob is
on `replicas` nodes before the entry naming it is proposed, the repair
brings a node that was down up to date and keeps the copy count the
cluster setting asks for (settings/cluster blob_replicas), a blob nothing
names is collected after the grace, and a large blob crosses nodes without
their memory growing with it.

The nodes run with OWS_BLOB_REPAIR_MS (repair rounds every 300 ms) and
OWS_BLOB_GRACE_S (collection grace of 3 s), knobs for tests."""
import hashlib
import io
import json
import os
import shutil
import zipfile

from owstest import (Node, auth_header, boto3_client, check, deploy,
                     envelope, http, signed_request, started, tmpdir, voters,
                     wait_for)

ENV = {"OWS_BLOB_REPAIR_MS": "300", "OWS_BLOB_GRACE_S": "3"}
ROLE = "arn:ows:iam::role/runner"


def cluster3(env=ENV, count=3):
    base = tmpdir()
    n1 = Node(base + "/1", env=env)
    n1.init()
    n1.start()
    nodes = [n1]
    for i in range(2, count + 1):
        tok = n1.ows("node", "token").stdout.strip()
        n = Node(base + "/%d" % i, env=env)
        p = n.join(n1, tok)
        check(p.returncode == 0, p.stderr)
        shutil.copy(n1.root_key, n.root_key)
        shutil.copy(os.path.join(n1.dir, "credentials"),
                    os.path.join(n.dir, "credentials"))
        n.start()
        nodes.append(n)
    if count == 3:
        wait_for(lambda: voters(n1) == [1, 2, 3], 60, "three voters")
    else:
        wait_for(lambda: len(n1.status()["nodes"]) == count, 60, "members")
    deploy(n1, {"stack": "iam", "roles": {"runner": {}}})
    return nodes


def app_zip(tag):
    """A bundle whose bytes depend on tag only (a fixed time stamp), so
    that each test places the same blobs on the same nodes every run."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("app.py", (2020, 1, 1, 0, 0, 0)),
                   "def handler(e, c):\n    return %r\n" % tag)
    return buf.getvalue()


def has(n, h):
    return os.path.exists(os.path.join(n.dir, "blobs", h))


def holders_of(nodes, h):
    return sorted(i + 1 for i, n in enumerate(nodes) if has(n, h))


def create_function(n, name, code):
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName=name, Runtime="python3.12",
                      Handler="app.handler", Role=ROLE,
                      Code={"ZipFile": code})
    return hashlib.sha256(code).hexdigest()


def changeset(n, actions):
    cluster = n.status()["cluster"]
    env = json.dumps(envelope(n.root_key, cluster, actions))
    return signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", env)


def placed(h, ids, replicas):
    """The holders, as blob/peer.c's rendezvous placement picks them."""
    w = lambda i: int.from_bytes(
        hashlib.sha256(("%s:%d" % (h, i)).encode()).digest()[:8], "big")
    return sorted(sorted(ids, key=lambda i: (-w(i), i))[:replicas])


def test_bundle_on_three_nodes_kill9_and_catch_up():
    nodes = cluster3()
    n1, n2, n3 = nodes
    h1 = create_function(n1, "f1", app_zip("one"))
    # Durable on the three before the entry was proposed: there at once.
    check(holders_of(nodes, h1) == [1, 2, 3], holders_of(nodes, h1))
    # A node holding it dies: the others still serve it.
    n3.kill9()
    st, body = signed_request(n2, n2.root_key, "GET", "/_ows/v1/blobs/" + h1)
    check(st == 200 and hashlib.sha256(body).hexdigest() == h1, st)
    # With one member down, a majority of copies is enough to go on.
    h2 = create_function(n1, "f2", app_zip("two"))
    check(holders_of(nodes, h2) == [1, 2], holders_of(nodes, h2))
    # The node that was down catches up on the blob it should hold.
    n3.start()
    wait_for(lambda: has(n3, h2), 60, "node 3 to fetch the new bundle")
    check(hashlib.sha256(open(os.path.join(n3.dir, "blobs", h2), "rb")
                         .read()).hexdigest() == h2)
    logs = "".join(open(n.log).read() for n in nodes)
    check("repair: fetched " + h2[:16] in logs or
          "pushed " + h2[:16] in logs, logs[-3000:])
    # kill -9 of the node that took the PUT: the function runs elsewhere.
    n1.kill9()
    out = boto3_client(n2, "lambda").invoke(FunctionName="f2")
    check(json.loads(out["Payload"].read()) == "two", out)


def test_dead_holder_replaced_then_back():
    """Four nodes, three copies: when a holder dies the fourth node takes a
    copy; when it is back it catches up and the stand-in drops its own."""
    nodes = cluster3(count=4)
    n1 = nodes[0]
    code = app_zip("four")
    h = hashlib.sha256(code).hexdigest()
    want = placed(h, [1, 2, 3, 4], 3)
    # Node 1 takes the upload (an extra copy when it is no holder, dropped
    # after the grace); a holder other than node 1 dies.
    create_function(n1, "four", code)
    wait_for(lambda: holders_of(nodes, h) == want, 30, "the three holders")
    dead = [i for i in want if i != 1][0]
    stand_in = [i for i in (1, 2, 3, 4) if i not in want][0]
    nodes[dead - 1].kill9()
    wait_for(lambda: has(nodes[stand_in - 1], h), 60,
             "node %d to stand in for node %d" % (stand_in, dead))
    nodes[dead - 1].start()
    wait_for(lambda: holders_of(nodes, h) == want, 60,
             "the stand-in's copy dropped once node %d is back" % dead)


def test_joining_node_takes_its_share():
    nodes = cluster3()
    n1 = nodes[0]
    hashes = [create_function(n1, "j%d" % i, app_zip("j%d" % i))
              for i in range(4)]
    for h in hashes:
        check(holders_of(nodes, h) == [1, 2, 3])
    tok = n1.ows("node", "token").stdout.strip()
    n4 = Node(os.path.dirname(os.path.dirname(n1.dir)) + "/4", env=ENV)
    p = n4.join(n1, tok)
    check(p.returncode == 0, p.stderr)
    n4.start()
    nodes.append(n4)
    # Each blob ends on its three holders among four: node 4 fetches the
    # ones it holds, the node it displaced drops its copy after the grace.
    for h in hashes:
        want = placed(h, [1, 2, 3, 4], 3)
        wait_for(lambda: holders_of(nodes, h) == want, 60,
                 "the holders %r of %s" % (want, h[:12]))
    check(any(4 in placed(h, [1, 2, 3, 4], 3) for h in hashes))


def test_replicas_setting_is_respected():
    nodes = cluster3()
    n1 = nodes[0]
    st, r = changeset(n1, [{"action": "settings.put", "name": "cluster",
                            "spec": {"blob_replicas": 0}}])
    check(st == 400, (st, r))
    st, r = changeset(n1, [{"action": "settings.put", "name": "cluster",
                            "spec": {"blob_replicas": 2}}])
    check(st == 200 and r.get("ok") is True, (st, r))
    hashes = [create_function(n1, "r%d" % i, app_zip("r%d" % i))
              for i in range(4)]
    for h in hashes:
        want = placed(h, [1, 2, 3], 2)
        # At least the holders at once; a copy on node 1 (it took the
        # upload) that is not a holder goes after the grace.
        check(set(want) <= set(holders_of(nodes, h)), (h, want))
        wait_for(lambda: holders_of(nodes, h) == want, 30,
                 "exactly the holders %r of %s" % (want, h[:12]))
    # Back to the default, min(3, nodes): the repair adds the third copy.
    st, r = changeset(n1, [{"action": "settings.delete", "name": "cluster"}])
    check(st == 200 and r.get("ok") is True, (st, r))
    for h in hashes:
        wait_for(lambda: holders_of(nodes, h) == [1, 2, 3], 30,
                 "three copies of %s" % h[:12])


def test_unnamed_blob_collected_after_the_grace():
    n = started(env={"OWS_BLOB_GRACE_S": "2"})
    deploy(n, {"stack": "iam", "roles": {"runner": {}}})
    c = boto3_client(n, "lambda")
    old = create_function(n, "keep", app_zip("v1"))
    c.get_waiter("function_active_v2").wait(FunctionName="keep")
    c.publish_version(FunctionName="keep")
    new = hashlib.sha256(app_zip("v2")).hexdigest()
    c.update_function_code(FunctionName="keep", ZipFile=app_zip("v2"))
    data = os.urandom(4096)
    h = hashlib.sha256(data).hexdigest()
    st, r = signed_request(n, n.root_key, "PUT", "/_ows/v1/blobs/" + h, data)
    check(st == 200, (st, r))
    check(has(n, h))
    wait_for(lambda: not has(n, h), 30, "the unnamed blob to be collected")
    check("collected " + h[:16] in open(n.log).read())
    # The function's code and version 1's (named by the version only) stay.
    check(has(n, new) and has(n, old), "named bundles kept")
    out = c.invoke(FunctionName="keep", Qualifier="1")
    check(json.loads(out["Payload"].read()) == "v1", out)


def vm(pid, field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(field)


def test_200mib_blob_crosses_nodes_in_bounded_memory():
    nodes = cluster3()
    n1 = nodes[0]
    size = 200 * 1024 * 1024
    data = os.urandom(size)
    h = hashlib.sha256(data).hexdigest()
    before = [vm(n.proc.pid, "VmHWM") for n in nodes]
    t = "/_ows/v1/blobs/" + h
    st, r = http(n1.edge, "PUT", t, data,
                 {"Authorization": auth_header(n1.root_key, "PUT", t, data)},
                 timeout=300)
    check(st == 200, (st, r))
    del data
    # Named by a function: the repair takes it to the two other nodes
    # (fetched by them, or pushed by node 1: both stream).
    st, r = changeset(n1, [{"action": "functions.put", "name": "big",
                            "spec": {"runtime": "python3",
                                     "handler": "app.handler",
                                     "code_sha256": h}}])
    check(st == 200 and r.get("ok") is True, (st, r))
    wait_for(lambda: holders_of(nodes, h) == [1, 2, 3], 300,
             "the 200 MiB blob on three nodes")
    for n in nodes:
        p = os.path.join(n.dir, "blobs", h)
        check(os.path.getsize(p) == size)
    after = [vm(n.proc.pid, "VmHWM") for n in nodes]
    grew = [(a - b) // (1024 * 1024) for a, b in zip(after, before)]
    check(all(a - b < 32 * 1024 * 1024 for a, b in zip(after, before)),
          "peak RSS grew by %r MiB" % grew)
