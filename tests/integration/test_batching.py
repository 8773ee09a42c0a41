"""Batching of concurrent writes (issue 11, section 4): the entries that
libraft commits together are applied in one SQLite transaction, and the
log's storage writes the appends queued meanwhile in one write; the
counters in /metrics and in the status JSON show the batch sizes reached.
Batching never weakens durability: a node killed with kill -9 in the
middle of a write load, with applied entries not yet committed to SQLite,
loses no acknowledged write (it applies them again from its Raft log), and
a disk that fills during a load of concurrent writes loses nothing
either."""
import json
import os
import subprocess
import threading

from owstest import (Node, boto3_client, check, cluster3_shared_root, http,
                     root_creds, signed_request, started, tmpdir, wait_for)


def metrics(n):
    st, body = http(n.edge, "GET", "/metrics")
    check(st == 200, st)
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#") and "{" not in line:
            k, v = line.split()
            out[k] = float(v)
    return out


def batch_line(name, before, after):
    """The batches reached between two metrics readings, as a line."""
    commits = after["ows_state_commits_total"] - before["ows_state_commits_total"]
    ce = (after["ows_state_commit_entries_total"] -
          before["ows_state_commit_entries_total"])
    writes = after["ows_raft_log_writes_total"] - before["ows_raft_log_writes_total"]
    we = (after["ows_raft_log_write_entries_total"] -
          before["ows_raft_log_write_entries_total"])
    return ("%s: %d entries in %d SQLite commits (mean %.1f, max %d), "
            "%d entries in %d log writes (mean %.1f, max %d)" %
            (name, ce, commits, ce / max(commits, 1),
             after["ows_state_commit_entries_max"], we, writes,
             we / max(writes, 1), after["ows_raft_log_write_entries_max"]))


def put_load(clients, bucket, prefix, per_client, acked, stop=None):
    """Each client puts per_client objects (or until stop is set) from a
    thread of its own; acked gets the keys acknowledged."""
    lock = threading.Lock()

    def run(i, c):
        for j in range(per_client):
            if stop is not None and stop.is_set():
                return
            key = "%s-%d-%d" % (prefix, i, j)
            try:
                c.put_object(Bucket=bucket, Key=key, Body=key.encode())
            except Exception:  # refused or cut off: not acknowledged
                continue
            with lock:
                acked.add(key)
    threads = [threading.Thread(target=run, args=(i, c))
               for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    return threads


def keys_of(c, bucket):
    keys, token = set(), None
    while True:
        kw = {"Bucket": bucket}
        if token:
            kw["ContinuationToken"] = token
        r = c.list_objects_v2(**kw)
        keys |= {o["Key"] for o in r.get("Contents", [])}
        if not r.get("IsTruncated"):
            return keys
        token = r["NextContinuationToken"]


def test_concurrent_writes_share_commits_and_log_writes():
    """64 clients writing at once through one node: the applies share
    SQLite transactions and the log appends share writes (batches of more
    than one entry), every write is acknowledged and present, and the
    status JSON shows the same counters."""
    n = started()
    key = root_creds(n)
    boto3_client(n, "s3", key=key).create_bucket(Bucket="batch")
    clients = [boto3_client(n, "s3", key=key, retries=1) for _ in range(64)]
    before = metrics(n)
    acked = set()
    for t in put_load(clients, "batch", "k", 8, acked):
        t.join()
    after = metrics(n)
    print(batch_line("one node, 64 clients", before, after))
    check(len(acked) == 64 * 8, len(acked))
    check(keys_of(clients[0], "batch") == acked)
    check(after["ows_state_commit_entries_max"] > 1, after)
    check(after["ows_raft_log_write_entries_max"] > 1, after)
    entries = (after["ows_state_commit_entries_total"] -
               before["ows_state_commit_entries_total"])
    check(entries >= 64 * 8, entries)
    st = n.status()["batches"]
    check(st["commits"]["max"] == after["ows_state_commit_entries_max"], st)
    check(st["commits"]["entries"] >= entries, st)
    check(st["writes"]["max"] == after["ows_raft_log_write_entries_max"], st)


def test_kill9_of_the_leader_under_write_load_loses_no_acknowledged_write():
    """Three nodes, writes through every node from 48 clients; the leader
    is killed with kill -9 in the middle (entries it applied but had not
    committed to SQLite are lost from its database, not from its log).
    Every acknowledged write is present on the two others and, once it is
    back and has caught up, on the killed node."""
    nodes = cluster3_shared_root()
    leader = nodes[0]
    check(leader.status()["node"]["role"] == "leader")
    key = root_creds(leader)
    boto3_client(leader, "s3", key=key).create_bucket(Bucket="crash")
    clients = [boto3_client(nodes[i % 3], "s3", key=key, retries=1)
               for i in range(48)]
    acked, stop = set(), threading.Event()
    before = [metrics(x) for x in nodes]
    threads = put_load(clients, "crash", "w", 10 ** 6, acked, stop)
    wait_for(lambda: len(acked) >= 300, 120, "300 writes before the kill")
    mid = [metrics(x) for x in nodes]
    leader.kill9()
    n_at_kill = len(acked)
    wait_for(lambda: len(acked) >= n_at_kill + 300, 120,
             "300 writes after the kill")
    stop.set()
    for t in threads:
        t.join()
    for i, x in enumerate(nodes):
        print(batch_line("node %d before the kill" % (i + 1), before[i], mid[i]))
    print("acknowledged: %d (%d before the kill)" % (len(acked), n_at_kill))
    live = [boto3_client(x, "s3", key=key) for x in nodes[1:]]
    for c in live:
        missing = acked - keys_of(c, "crash")
        check(not missing, "%d acknowledged writes missing: %r" %
              (len(missing), sorted(missing)[:5]))
    leader.start()
    top = max(metrics(x)["ows_raft_applied_index"] for x in nodes[1:])
    wait_for(lambda: metrics(leader)["ows_raft_applied_index"] >= top, 120,
             "the killed node to catch up")
    missing = acked - keys_of(boto3_client(leader, "s3", key=key), "crash")
    check(not missing, "%d acknowledged writes missing on the killed node" %
          len(missing))
    heads = {x.ows_json("ledger", "verify")["head"] for x in nodes}
    check(len(heads) == 1, heads)


def test_full_disk_during_concurrent_writes_loses_nothing():
    """The leader's disk fills while 16 writers write through the two
    followers: its batch's COMMIT (or an apply) fails, it holds what it
    could not apply and hands leadership on; once space returns it applies
    every held entry, and every acknowledged write is in every node's
    ledger, with one head."""
    base = tmpdir()
    mnt = os.path.join(base, "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", mnt],
                   check=True)
    nodes = []
    try:
        nodes = [Node(base=mnt)]
        nodes[0].init()
        nodes[0].start()
        for _ in range(2):
            tok = nodes[0].ows("node", "token").stdout.strip()
            n = Node()
            check(n.join(nodes[0], tok).returncode == 0)
            n.start()
            nodes.append(n)
        wait_for(lambda: len(nodes[0].status()["nodes"]) == 3 and
                 all(x["health"] == "up" and x["member"] == "voter"
                     for x in nodes[0].status()["nodes"]), 60, "three voters")
        leader, f1, f2 = nodes
        rkey = leader.root_key
        acked = [0]
        lock, stop = threading.Lock(), threading.Event()

        def writer(n):
            while not stop.is_set():
                p = n.ows("node", "token", key=rkey, check_rc=False)
                if p.returncode == 0:
                    with lock:
                        acked[0] += 1
        threads = [threading.Thread(target=writer, args=(nodes[1 + i % 2],))
                   for i in range(16)]
        for t in threads:
            t.start()
        wait_for(lambda: acked[0] >= 30, 60, "writes before the disk fills")
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(mnt, "fill"),
                        "bs=1M"], capture_output=True)
        wait_for(lambda: http(leader.edge, "GET", "/_ows/v1/health")[0] == 503,
                 60, "the leader to stall")
        at_fill = acked[0]
        wait_for(lambda: acked[0] >= at_fill + 30, 120,
                 "writes with the leader's disk full")
        os.remove(os.path.join(mnt, "fill"))
        wait_for(lambda: http(leader.edge, "GET", "/_ows/v1/health")[0] == 200,
                 60, "the node to apply again")
        stop.set()
        for t in threads:
            t.join()
        top = max(metrics(x)["ows_raft_applied_index"] for x in nodes[1:])
        wait_for(lambda: metrics(leader)["ows_raft_applied_index"] >= top, 60,
                 "the node to catch up")
        heads = set()
        for n in nodes:
            v = n.ows_json("ledger", "verify", key=rkey)
            heads.add(v["head"])
            check(v["height"] >= acked[0], (v, acked[0]))
        check(len(heads) == 1, heads)
        with open(leader.log) as f:
            log = f.read()
        print("acknowledged: %d; the leader's commit failed: %s" %
              (acked[0], "commit of" in log))
    finally:
        for n in nodes:
            n.stop()
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def test_entry_door_takes_only_service_entries_from_member_nodes():
    """POST /_ows/v1/entry (a follower's service entries forwarded to the
    leader, in batches {"entries": [...]}): refused without a node's
    signature, with a user's, and as a whole when any entry is of a core
    type, a type no service adds, or not an entry; nothing reaches the
    log."""
    n = started()
    nkey = os.path.join(n.dir, "node.key")
    before = n.status()

    def batch(*entries):
        return json.dumps({"entries": list(entries)})
    body = batch({"type": "changeset", "body": {}})
    st, r = http(n.edge, "POST", "/_ows/v1/entry", body.encode(),
                 {"Content-Type": "application/json"})
    check(st == 403, (st, r))
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/entry", body)
    check(st == 403 and r["code"] == "AccessDenied", (st, r))
    good = {"type": "ddb", "body": {}}
    for t in ("changeset", "genesis", "join", "attested", "nope"):
        # a good entry first: the batch is still refused as a whole
        st, r = signed_request(n, nkey, "POST", "/_ows/v1/entry",
                               batch(good, {"type": t, "body": {}}))
        check(st == 400 and r["code"] == "MalformedEntry" and
              "entry 1" in r["message"], (t, st, r))
    for bad in ("[1]", '{"type": "ddb", "body": {}}', batch(),
                batch(good, [1]), batch({"type": "ddb", "body": 1}),
                batch(*([good] * 1025)), "{"):
        st, r = signed_request(n, nkey, "POST", "/_ows/v1/entry", bad)
        check(st == 400 and r["code"] == "MalformedEntry", (bad[:40], st, r))
    st, r = signed_request(n, nkey, "GET", "/_ows/v1/entry")
    check(st == 405, (st, r))
    after = n.status()
    check(after["last_index"] == before["last_index"], (before, after))
    check(after["ledger"] == before["ledger"], (before, after))
    # A service's type (DynamoDB's "ddb") is proposed and applied; an
    # empty body is malformed: refused, recorded, no ledger entry. Each
    # entry of a batch gets its own result, in order.
    # (signed for this leader in its term, under a nonce: entries.c)
    body = json.loads(batch(good, good))
    body.update(leader=after["node"]["id"], term=after["term"],
                nonce=os.urandom(16).hex())
    st, r = signed_request(n, nkey, "POST", "/_ows/v1/entry",
                           json.dumps(body))
    check(st == 200 and len(r["results"]) == 2, (st, r))
    for res in r["results"]:
        check(res["status"] == 200 and res["result"]["ok"] is False and
              res["result"]["status"] == 400 and
              res["result"]["code"] == "MalformedEntry", (st, r))
    last = n.status()
    check(last["last_index"] > after["last_index"], (after, last))
    check(last["ledger"]["height"] == after["ledger"]["height"], (after, last))
    check(last["ledger"]["rejected"] == after["ledger"]["rejected"] + 2,
          (after, last))
