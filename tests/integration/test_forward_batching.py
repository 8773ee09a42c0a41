"""Batching of the writes a follower forwards to the leader (issue 11,
section 6): the DynamoDB writes that reach a follower in one turn of its
loop go to the leader in one signed POST /_ows/v1/entry, which proposes
them together (one raft_apply: one log append, one AppendEntries to each
follower). Each client still gets its own write's answer; a batch whose
leader is killed with kill -9 loses no acknowledged write; and the
counters in /metrics show more than one entry per log append request."""
import json
import os
import socket
import threading
import time

from owstest import (auth_header, boto3_client, check, cluster3_shared_root,
                     free_port, http, root_creds, signed_request, started,
                     wait_for)

N = 64


def metrics(n):
    st, body = http(n.edge, "GET", "/metrics")
    check(st == 200, st)
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#") and "{" not in line:
            k, v = line.split()
            out[k] = float(v)
    return out


def per_append(before, after):
    appends = (after["ows_raft_log_appends_total"] -
               before["ows_raft_log_appends_total"])
    entries = (after["ows_raft_log_append_entries_total"] -
               before["ows_raft_log_append_entries_total"])
    return entries / max(appends, 1), entries, appends


def roles(nodes):
    leader = [n for n in nodes if n.proc is not None and
              n.status()["node"]["role"] == "leader"]
    check(len(leader) == 1, "no single leader")
    return leader[0], [n for n in nodes if n is not leader[0]]


def make_table(c, name):
    c.create_table(TableName=name,
                   KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id",
                                          "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")


def test_concurrent_writes_through_a_follower_get_their_own_results():
    """64 clients of one follower start together; each makes three
    conditional puts: one that races another client for the same item
    (exactly one of each pair wins, and the item holds the winner's
    value), one whose condition cannot hold (refused) and one whose
    condition holds (done). Every answer is the client's own."""
    nodes = cluster3_shared_root()
    leader, followers = roles(nodes)
    f = followers[0]
    key = root_creds(leader)
    make_table(boto3_client(leader, "dynamodb", key=key), "cond")
    lc = boto3_client(leader, "dynamodb", key=key)
    for j in range(N // 2):
        lc.put_item(TableName="cond", Item={"id": {"S": "k%d" % j},
                                            "v": {"N": "-1"}})
    before = [metrics(n) for n in nodes]
    clients = [boto3_client(f, "dynamodb", key=key, retries=1)
               for _ in range(N)]
    start = threading.Barrier(N)
    out = [None] * N

    def put(c, item, cond, values=None):
        kw = {"TableName": "cond", "Item": item, "ConditionExpression": cond}
        if values:
            kw["ExpressionAttributeValues"] = values
        try:
            c.put_item(**kw)
            return "ok"
        except c.exceptions.ConditionalCheckFailedException:
            return "failed"

    def run(i):
        c = clients[i]
        start.wait()
        race = put(c, {"id": {"S": "k%d" % (i // 2)}, "v": {"N": str(i)}},
                   "v = :none", {":none": {"N": "-1"}})
        absent = put(c, {"id": {"S": "x%d" % i}}, "attribute_exists(id)")
        fresh = put(c, {"id": {"S": "n%d" % i}, "v": {"N": str(i)}},
                    "attribute_not_exists(id)")
        out[i] = (race, absent, fresh)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    check(all(o is not None for o in out), out)
    for j in range(N // 2):
        pair = [out[2 * j][0], out[2 * j + 1][0]]
        check(sorted(pair) == ["failed", "ok"], (j, pair))
        winner = 2 * j if pair[0] == "ok" else 2 * j + 1
        got = lc.get_item(TableName="cond", Key={"id": {"S": "k%d" % j}},
                          ConsistentRead=True)["Item"]
        check(got["v"]["N"] == str(winner), (j, winner, got))
    check(all(o[1] == "failed" for o in out), [o[1] for o in out])
    check(all(o[2] == "ok" for o in out), [o[2] for o in out])
    for i in range(N):
        got = lc.get_item(TableName="cond", Key={"id": {"S": "n%d" % i}},
                          ConsistentRead=True)["Item"]
        check(got["v"]["N"] == str(i), (i, got))
        check("Item" not in lc.get_item(TableName="cond",
                                        Key={"id": {"S": "x%d" % i}},
                                        ConsistentRead=True), i)
    # the writes were proposed and replicated together: more than one
    # entry per log append request, on the leader and on the followers
    for n, b in zip(nodes, before):
        ratio, entries, appends = per_append(b, metrics(n))
        print("%s: %d entries in %d append requests (%.1f per append "
              "request)" % (n.edge, entries, appends, ratio))
        check(entries >= 2 * N, (n.edge, entries))
        check(ratio > 1, (n.edge, entries, appends))


def test_kill9_of_the_leader_during_forwarded_batches_loses_nothing():
    """32 clients write through the two followers only, so every write
    travels in a forwarded batch; the leader is killed with kill -9 while
    batches are in flight. Every acknowledged write is on every node once
    the killed one is back, and holds the value its client wrote."""
    nodes = cluster3_shared_root()
    leader, followers = roles(nodes)
    key = root_creds(leader)
    make_table(boto3_client(leader, "dynamodb", key=key), "crash")
    acked, stop, lock = {}, threading.Event(), threading.Lock()

    def writer(c, tag):
        i = 0
        while not stop.is_set():
            k = "%s-%d" % (tag, i)
            i += 1
            try:
                c.put_item(TableName="crash",
                           Item={"id": {"S": k}, "v": {"S": k + "!"},
                                 "pad": {"S": "x" * 500}})
            except Exception:
                continue  # not acknowledged: may or may not be there
            with lock:
                acked[k] = k + "!"
    threads = [threading.Thread(target=writer, args=(
        boto3_client(followers[i % 2], "dynamodb", key=key, retries=1),
        "w%d" % i)) for i in range(32)]
    [t.start() for t in threads]
    wait_for(lambda: len(acked) >= 300, 120, "300 acknowledged writes")
    leader.kill9()
    at_kill = len(acked)
    wait_for(lambda: len(acked) >= at_kill + 300, 120,
             "300 more acknowledged writes after the kill")
    stop.set()
    [t.join(60) for t in threads]
    print("acknowledged: %d (%d before the kill)" % (len(acked), at_kill))
    leader.start()
    for n in nodes:
        c = boto3_client(n, "dynamodb", key=key)

        def items():
            got, kw = {}, {"TableName": "crash", "ConsistentRead": True}
            while True:
                r = c.scan(**kw)
                got.update((i["id"]["S"], i["v"]["S"]) for i in r["Items"])
                if "LastEvaluatedKey" not in r:
                    return got
                kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
        got = wait_for(lambda: (lambda g: g if set(acked) <= set(g)
                                else None)(items()),
                       120, "every acknowledged write on %s" % n.edge)
        wrong = [k for k, v in acked.items() if got[k] != v]
        check(not wrong, ("writes with another value", wrong[:5]))


def test_frozen_leader_batches_answered_503_and_writes_go_on():
    """The leader is stopped (SIGSTOP) while 16 clients write through a
    follower: the batches in flight to it are answered 503 for each of
    their writes as soon as the follower sees another leader (or at their
    deadline), and writes are acknowledged again while the old leader is
    still stopped. Every answer is 200 or 503; every acknowledged write
    is on every node once the old leader is back."""
    import signal
    import time
    nodes = cluster3_shared_root()
    leader, followers = roles(nodes)
    f = followers[0]
    key = root_creds(leader)
    make_table(boto3_client(leader, "dynamodb", key=key), "frozen")
    answers, stop, lock = [], threading.Event(), threading.Lock()

    def writer(c, tag):
        i = 0
        while not stop.is_set():
            k = "%s-%d" % (tag, i)
            i += 1
            try:
                c.put_item(TableName="frozen", Item={"id": {"S": k}})
                st = 200
            except c.exceptions.ClientError as e:
                st = e.response["ResponseMetadata"]["HTTPStatusCode"]
            except Exception:  # noqa: BLE001 (cut off: not acknowledged)
                st = -1
            with lock:
                answers.append((time.time(), st, k))
    threads = [threading.Thread(target=writer, args=(
        boto3_client(f, "dynamodb", key=key, retries=1), "w%d" % i))
        for i in range(16)]
    [t.start() for t in threads]
    wait_for(lambda: sum(a[1] == 200 for a in answers) >= 50, 60,
             "50 acknowledged writes")
    t_stop = time.time()
    leader.proc.send_signal(signal.SIGSTOP)
    try:
        wait_for(lambda: any(a[1] == 200 and a[0] > t_stop + 0.5
                             for a in list(answers)) and
                 any(n.status()["node"]["role"] == "leader"
                     for n in followers), 60,
                 "a write acknowledged while the old leader is stopped")
    finally:
        leader.proc.send_signal(signal.SIGCONT)
    stop.set()
    [t.join(90) for t in threads]
    check(not any(t.is_alive() for t in threads), "a writer hangs")
    during = [a for a in answers if a[0] > t_stop]
    print("after the stop: %d acknowledged, %d answered 503" % (
        sum(a[1] == 200 for a in during), sum(a[1] == 503 for a in during)))
    check(all(a[1] in (200, 503) for a in answers),
          [a for a in answers if a[1] not in (200, 503)][:5])
    acked = {a[2] for a in answers if a[1] == 200}
    for n in nodes:
        c = boto3_client(n, "dynamodb", key=key)

        def ids():
            got, kw = set(), {"TableName": "frozen", "ConsistentRead": True}
            while True:
                r = c.scan(**kw)
                got.update(i["id"]["S"] for i in r["Items"])
                if "LastEvaluatedKey" not in r:
                    return got
                kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
        wait_for(lambda: acked <= ids(), 120,
                 "every acknowledged write on %s" % n.edge)


def test_strangers_bodies_to_the_entry_doors_are_not_read():
    """The leader's doors for forwarded entries (/_ows/v1/entry, up to
    8 MB, and /_ows/v1/attested, up to 4 MB) refuse a request from its
    head when it is not signed by a node of the cluster: no header, a
    malformed one, a user's key, a node key's header out of its time
    window. The answer comes before any body byte is sent (else anyone
    could make a node hold 8 MB per connection, 4096 connections); a
    member node's head is still read to its body and judged by it."""
    n = started()
    nkey = os.path.join(n.dir, "node.key")
    host, port = n.edge.rsplit(":", 1)
    old = auth_header(nkey, "POST", "/_ows/v1/entry").replace(
        "Time=%d" % int(time.time()), "Time=%d" % (int(time.time()) - 3600))
    for path, size in (("/_ows/v1/entry", 8 * 1024 * 1024),
                       ("/_ows/v1/attested", 4 * 1024 * 1024 - 16)):
        for auth in (None, "OWS-Ed25519 nonsense",
                     auth_header(n.root_key, "POST", path, b"x" * size),
                     old.replace("/_ows/v1/entry", path)):
            head = "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (
                path, n.edge, size)
            if auth is not None:
                head += "Authorization: %s\r\n" % auth
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall((head + "\r\n").encode())
                try:
                    got = s.recv(200)
                except socket.timeout:
                    got = b"no answer: the body is being read"
            check(got.startswith(b"HTTP/1.1 403 "), (path, auth, got))
    # a node's own head: its body is read, and its signature judged
    st = n.status()
    body = json.dumps({"entries": [{"type": "ddb", "body": {}}],
                       "leader": st["node"]["id"], "term": st["term"],
                       "nonce": os.urandom(16).hex()})
    st, r = signed_request(n, nkey, "POST", "/_ows/v1/entry", body)
    check(st == 200 and len(r["results"]) == 1, (st, r))
    auth = auth_header(nkey, "POST", "/_ows/v1/entry", body + " ")
    st, r = http(n.edge, "POST", "/_ows/v1/entry", body.encode(),
                 {"Authorization": auth})
    check(st == 403, (st, r))


class EntryProxy:
    """Stands at a node's recorded edge address (the one other nodes
    forward to) in front of where the node now listens, passing every
    request through, one per connection, and rewriting the node's answers
    to POST /_ows/v1/entry as self.mode says: a hostile, or broken,
    leader as its followers see it."""

    def __init__(self, listen, backend):
        host, port = listen.rsplit(":", 1)
        self.backend = backend
        self.mode = None
        self.tampered = 0
        self.entries = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((host, int(port)))
        self.srv.listen(256)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def read_message(s, data=b""):
        while b"\r\n\r\n" not in data:
            b = s.recv(65536)
            if not b:
                return None, None
            data += b
        head, _, body = data.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(body) < n:
            b = s.recv(65536)
            if not b:
                break
            body += b
        return head, body

    def serve(self, c):
        try:
            c.settimeout(60)
            head, body = self.read_message(c)
            if head is None:
                return
            lines = [l for l in head.split(b"\r\n")
                     if not l.lower().startswith(b"connection:")]
            host, port = self.backend.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=60) as b:
                b.sendall(b"\r\n".join(lines + [b"Connection: close"]) +
                          b"\r\n\r\n" + body)
                rhead, rbody = self.read_message(b)
            mode = self.mode
            is_entry = lines[0].startswith(b"POST /_ows/v1/entry ")
            self.entries += is_entry
            if mode is not None and is_entry:
                self.tampered += 1
                self.answer(c, mode, rhead, rbody)
            else:
                c.sendall(rhead + b"\r\n\r\n" + rbody)
        except OSError:
            pass
        finally:
            c.close()

    @staticmethod
    def answer(c, mode, rhead, rbody):
        status, body = 200, rbody
        try:
            results = json.loads(rbody)["results"]
        except (ValueError, KeyError):
            results = []
        if mode == "fewer":
            body = json.dumps({"results": results[:-1]}).encode()
        elif mode == "more":
            body = json.dumps({"results": results + results[:1]}).encode()
        elif mode == "scalars":
            body = json.dumps({"results": [1] * len(results)}).encode()
        elif mode == "no-result":
            body = json.dumps({"results": [{"status": 200, "result": 7}] *
                                          len(results)}).encode()
        elif mode == "not-json":
            body = b'{"results": [' + b"\xff" * 10
        elif mode in (201, 204, 302, 404, 429, 500, 503):
            status = mode
        if mode == "trickle":
            # a reply that never ends: one byte every half second
            for b in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n":
                c.sendall(bytes([b]))
                time.sleep(0.5)
            return
        c.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (status, len(body)) + body)


def test_followers_survive_a_hostile_leaders_replies_to_batches():
    """A leader whose answers to forwarded batches are wrong (fewer or more
    results than entries, results that are not objects, no result object,
    a body that is not JSON, other HTTP statuses, a reply trickled
    forever): every writer of the follower gets an error of its own (500
    or 503), none hangs past the forward's deadline, the follower serves
    on, and once the leader answers rightly writes through it work."""
    import botocore.config
    import botocore.exceptions
    nodes = cluster3_shared_root()
    recorded = [n.edge for n in nodes]
    for n in nodes:
        n.stop()
    proxies = []
    for n, edge in zip(nodes, recorded):
        path = os.path.join(n.dir, "node.json")
        with open(path) as f:
            cfg = json.load(f)
        n.edge = "127.0.0.1:%d" % free_port()
        cfg["edge"] = n.edge
        with open(path, "w") as f:
            json.dump(cfg, f)
        proxies.append(EntryProxy(edge, n.edge))
    for n in nodes:
        n.start(wait=False)
    for n in nodes:
        wait_for(n.healthy, 60, "node %s to serve" % n.edge)
    wait_for(lambda: len([n for n in nodes if n.status()["node"]["role"] ==
                          "leader"]) == 1, 60, "a leader")
    leader, followers = roles(nodes)
    proxy = proxies[nodes.index(leader)]
    key = root_creds(nodes[0])
    make_table(boto3_client(leader, "dynamodb", key=key), "hostile")
    f = followers[0]
    cfg = botocore.config.Config(retries={"max_attempts": 0},
                                 read_timeout=120, connect_timeout=10)
    import boto3
    clients = [boto3.client("dynamodb", endpoint_url="http://" + f.edge,
                            region_name="us-east-1", aws_access_key_id=key[0],
                            aws_secret_access_key=key[1], config=cfg)
               for _ in range(8)]

    def writes(tag):
        out = [None] * len(clients)

        def one(i):
            try:
                clients[i].put_item(TableName="hostile",
                                    Item={"id": {"S": "%s-%d" % (tag, i)}})
                out[i] = 200
            except botocore.exceptions.ClientError as e:
                out[i] = e.response["ResponseMetadata"]["HTTPStatusCode"]
            except Exception as e:  # noqa: BLE001 (a hang or a reset)
                out[i] = repr(e)
        ts = [threading.Thread(target=one, args=(i,)) for i in range(len(clients))]
        [t.start() for t in ts]
        [t.join() for t in ts]
        return out
    check(writes("before") == [200] * len(clients), "pass-through")
    for mode in ("fewer", "more", "scalars", "no-result", "not-json", 201,
                 204, 302, 404, 429, 500, 503, "trickle"):
        proxy.mode, before = mode, proxy.tampered
        got = writes(str(mode))
        print(mode, got)
        check(proxy.tampered > before, (mode, "not forwarded"))
        check(all(s in (500, 503) for s in got), (mode, got))
        check(f.healthy(), (mode, "follower down"))
    proxy.mode = None
    wait_for(lambda: writes("after") == [200] * len(clients), 60,
             "writes through the follower again")
    # a batch signed by one follower and posted to the other is not
    # passed on (no loop between nodes): 503, nothing proposed there
    st = leader.status()
    body = json.dumps({"entries": [{"type": "ddb", "body": {}}],
                       "leader": st["node"]["id"], "term": st["term"],
                       "nonce": os.urandom(16).hex()})
    forwarded = proxy.entries
    st, r = signed_request(followers[1], os.path.join(f.dir, "node.key"),
                           "POST", "/_ows/v1/entry", body)
    check(st == 503 and r["code"] == "NoLeader", (st, r))
    check(proxy.entries == forwarded, "a follower passed a batch on")


def test_a_captured_batch_is_taken_once_by_its_leader_in_its_term():
    """A batch is signed for one leader, in one term, under a nonce
    ({"entries", "leader", "term", "nonce"}), and the leader takes a nonce
    once: the same signed request sent again (a copy captured on the
    network, inside the signature's five minutes) is refused 403 and
    proposes nothing; a batch signed for another leader or another term is refused 503
    (the follower's retry goes to the leader it now knows), one without
    them 400."""
    n = started()
    nkey = os.path.join(n.dir, "node.key")
    st = n.status()
    me, term = st["node"]["id"], st["term"]

    def batch(leader=me, term=term, nonce=None, drop=()):
        b = {"entries": [{"type": "ddb", "body": {}}], "leader": leader,
             "term": term, "nonce": nonce or os.urandom(16).hex()}
        for k in drop:
            del b[k]
        return json.dumps(b).encode()

    def post(body, auth=None):
        auth = auth or auth_header(nkey, "POST", "/_ows/v1/entry", body)
        st, r = http(n.edge, "POST", "/_ows/v1/entry", body,
                     {"Authorization": auth,
                      "Content-Type": "application/json"})
        return st, json.loads(r), auth

    def rejected():
        return n.status()["ledger"]["rejected"]
    captured = batch()
    st, r, auth = post(captured)
    check(st == 200 and len(r["results"]) == 1, (st, r))
    taken = rejected()
    st, r, _ = post(captured, auth)
    check(st == 403 and r["code"] == "AccessDenied", (st, r))
    check(rejected() == taken, (rejected(), taken))
    # the same entries under a fresh nonce are another batch
    st, r, _ = post(batch())
    check(st == 200, (st, r))
    check(rejected() == taken + 1, (rejected(), taken))
    for other in (batch(leader=me + 1), batch(term=term + 1),
                  batch(term=term - 1)):
        st, r, _ = post(other)
        check(st == 503, (other, st, r))
    for bad in (batch(drop=("nonce",)), batch(drop=("leader",)),
                batch(drop=("term",)), batch(nonce="x" * 32),
                batch(nonce=1)):
        st, r, _ = post(bad)
        check(st == 400 and r["code"] == "MalformedEntry", (bad, st, r))
    check(rejected() == taken + 1, (rejected(), taken))


def test_a_captured_batch_is_refused_by_every_node_after_an_election():
    """A follower's batch, captured, is refused by every node once its
    leader has been restarted (the leader's memory of nonces is gone with
    it, but the batch names a term no longer current); nothing is
    proposed."""
    nodes = cluster3_shared_root()
    leader, followers = roles(nodes)
    st = leader.status()
    body = json.dumps({"entries": [{"type": "ddb", "body": {}}],
                       "leader": st["node"]["id"], "term": st["term"],
                       "nonce": os.urandom(16).hex()}).encode()
    fkey = os.path.join(followers[0].dir, "node.key")
    hdr = {"Authorization": auth_header(fkey, "POST", "/_ows/v1/entry", body),
           "Content-Type": "application/json"}
    code, r = http(leader.edge, "POST", "/_ows/v1/entry", body, hdr)
    check(code == 200, (code, r))
    taken = leader.status()["ledger"]["rejected"]
    leader.stop()
    leader.start()
    wait_for(lambda: len([n for n in nodes if n.status()["node"]["role"] ==
                          "leader"]) == 1, 60, "a leader")
    for n in nodes:
        wait_for(lambda: n.status()["ledger"]["rejected"] == taken, 30,
                 "node %s to apply the batch" % n.edge)
    for n in nodes:
        code, r = http(n.edge, "POST", "/_ows/v1/entry", body, hdr)
        check(code in (403, 503), (n.edge, code, r))
    for n in nodes:
        check(n.status()["ledger"]["rejected"] == taken, n.edge)


def test_large_results_of_one_writer_do_not_fail_the_others_of_a_batch():
    """A write's result can hold whole items (ReturnValues, and every
    write on a table with indexes), six times their size in JSON when they
    are control characters: 30 updates returning a 390 KB item each make
    70 MB of results, more than a follower reads of a reply (64 MB), which
    failed every writer of the batch, other callers' included, though all
    were applied. The leader leaves the largest results out until the
    reply fits, each answered 500 'applied' for its own writer; the other
    entries get their results, and every entry is applied."""
    import sqlite3
    n = started()
    key = root_creds(n)
    c = boto3_client(n, "dynamodb", key=key)
    make_table(c, "big")
    for a in "abc":
        c.update_item(TableName="big", Key={"id": {"S": "big"}},
                      UpdateExpression="SET %s = :v" % a,
                      ExpressionAttributeValues={":v": {"S": "\x01" * 130000}})
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(n.dir, "state.db"),
                         uri=True)
    tid = db.execute("SELECT tid FROM ddb_tables WHERE name='big'").fetchone()[0]
    db.close()

    def update(i):
        return {"type": "ddb", "body": {"op": "write", "writes": [{
            "kind": "update", "table": "big", "tid": tid,
            "key": {"id": {"S": "big"}}, "UpdateExpression": "ADD n :n",
            "ExpressionAttributeValues": {":n": {"N": "1"}},
            "ReturnValues": "ALL_OLD"}]}}

    def put(i):
        return {"type": "ddb", "body": {"op": "write", "writes": [{
            "kind": "put", "table": "big", "tid": tid,
            "item": {"id": {"S": "small-%d" % i}}}]}}
    entries = [put(0)] + [update(i) for i in range(30)] + [put(1)]
    st = n.status()
    body = json.dumps({"entries": entries, "leader": st["node"]["id"],
                       "term": st["term"],
                       "nonce": os.urandom(16).hex()}).encode()
    nkey = os.path.join(n.dir, "node.key")
    code, r = http(n.edge, "POST", "/_ows/v1/entry", body,
                   {"Authorization": auth_header(nkey, "POST",
                                                 "/_ows/v1/entry", body)},
                   timeout=120)
    check(code == 200, (code, r[:200]))
    check(len(r) < 64 * 1024 * 1024, len(r))
    results = json.loads(r)["results"]
    check(len(results) == 32, len(results))
    for i in (0, 31):
        check(results[i]["status"] == 200 and
              results[i]["result"]["ok"] is True, results[i])
    kept = [x for x in results[1:31] if x["status"] == 200]
    left = [x for x in results[1:31] if x["status"] != 200]
    check(kept and left, (len(kept), len(left)))
    for x in left:
        check(x["status"] == 500 and "applied" in x["message"], x)
    got = c.get_item(TableName="big", Key={"id": {"S": "big"}},
                     ConsistentRead=True)["Item"]
    check(got["n"] == {"N": "30"}, got["n"])
    for i in (0, 1):
        check("Item" in c.get_item(TableName="big",
                                   Key={"id": {"S": "small-%d" % i}}))
