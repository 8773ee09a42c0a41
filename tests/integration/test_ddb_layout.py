"""DynamoDB's storage layout (ddb_model.h: ddb_items holds each row's keys
and a rid, ddb_data the item under that rid) checked in the state
databases of real nodes, not only through the API.

After every kind of write (PutItem over live, missing and expired items,
UpdateItem creating and changing, DeleteItem of missing items, failed
conditions, cancelled transactions, rejected batches, 400 KB items, GSIs
and LSIs of every projection, a GSI added to a full table and one
removed, a table deleted with its items and indexes, TTL on, off and its
sweep) through all three nodes, one of them killed, one stopped long
enough to come back through a snapshot: on every node each ddb_items row has its own
ddb_data row and no ddb_data row is without one, the counts of
ddb_tables and ddb_indexes are the rows' and what DescribeTable says,
every node holds the same rows and items, and the API reads back what
DynamoDB's semantics say (a model kept by the test).

A state database of the older layout (the item inside ddb_items), made
from a real one as a node of the previous build left it, is moved to the
current layout when the node starts, once; a move that fails leaves the
node down with the reason in its log and the older data intact."""
import random
import re
import sqlite3
import time
from collections import Counter

from owstest import Node, applied, boto3_client, check, http, root_creds, tmpdir, wait_for

# small snapshots, so that a stopped node comes back through one
SNAP = {"OWS_RAFT_SNAPSHOT_THRESHOLD": "64", "OWS_RAFT_SNAPSHOT_TRAILING": "8"}
FAR = 4102444800  # 2100-01-01: an expiry that never comes in a test


# ---- the state database ----

def open_ro(node):
    return sqlite3.connect("file:%s/state.db?mode=ro" % node.dir, uri=True)


def layout(node):
    """The ddb rows and items of node's state database (the node stopped,
    or committed), after checking the layout's invariants; returns
    (rows, tables, indexes): rows as (table name, index name, h, pk, sk,
    expires, item bytes), sorted; tables name -> (items, bytes); indexes
    (table, index) -> (items, bytes)."""
    db = open_ro(node)
    try:
        n_rows, n_rids = db.execute(
            "SELECT count(*), count(DISTINCT rid) FROM ddb_items").fetchone()
        n_data = db.execute("SELECT count(*) FROM ddb_data").fetchone()[0]
        orphans = db.execute("SELECT count(*) FROM ddb_items WHERE rid NOT IN"
                             " (SELECT rid FROM ddb_data)").fetchone()[0]
        check(n_rids == n_rows, "%s: %d rows share rids" % (node.dir, n_rows - n_rids))
        check(orphans == 0, "%s: %d rows without their item" % (node.dir, orphans))
        check(n_data == n_rows, "%s: %d items without a row" % (node.dir, n_data - n_rows))
        tname = dict(db.execute("SELECT tid, name FROM ddb_tables"))
        iname = {(t, i): n for t, n, i in
                 db.execute("SELECT tid, name, iid FROM ddb_indexes")}
        iname.update({(t, 0): "" for t in tname})
        rows = []
        for tid, iid, h, pk, sk, exp, item in db.execute(
                "SELECT tid, iid, h, pk, sk, expires, item FROM ddb_items"
                " CROSS JOIN ddb_data USING(rid)"):
            check(tid in tname and (tid, iid) in iname,
                  "%s: a row of no table or index: %r" % (node.dir, (tid, iid)))
            rows.append((tname[tid], iname[(tid, iid)], h, bytes(pk), bytes(sk),
                         exp, bytes(item)))
        rows.sort()
        per = {}
        for r in rows:
            per[(r[0], r[1])] = per.get((r[0], r[1]), 0) + 1
        tables = {n: (i, b) for n, i, b in
                  db.execute("SELECT name, items, bytes FROM ddb_tables")}
        indexes = {(tname[t], n): (i, b) for t, n, i, b in
                   db.execute("SELECT tid, name, items, bytes FROM ddb_indexes")}
        for name, (items, _) in tables.items():
            check(per.get((name, ""), 0) == items,
                  "%s: table %s counts %d items, has %d rows"
                  % (node.dir, name, items, per.get((name, ""), 0)))
        for key, (items, _) in indexes.items():
            check(per.get(key, 0) == items, "%s: index %r counts %d items, has %d rows"
                  % (node.dir, key, items, per.get(key, 0)))
        for t, b in list(tables.values()) + list(indexes.values()):
            check(b >= 0 and (t > 0 or b == 0), (node.dir, tables, indexes))
        return rows, tables, indexes
    finally:
        db.close()


def expired_rows(node):
    db = open_ro(node)
    try:
        return db.execute("SELECT count(*) FROM ddb_items WHERE expires <= ?",
                          (int(time.time()),)).fetchone()[0]
    finally:
        db.close()


# ---- the model: what DynamoDB's semantics say the items are ----

GSIS = {  # name: (partition key, sort key or None, projection, include)
    "g-all": ("g", None, "ALL", None),
    "g-keys": ("g", "v", "KEYS_ONLY", None),
    "g-inc": ("g2", None, "INCLUDE", ["a"]),
}
LSIS = {"l-all": ("id", "v", "ALL", None), "l-keys": ("id", "a", "KEYS_ONLY", None)}
TYPES = {"id": "S", "n": "N", "g": "S", "v": "N", "g2": "S", "a": "S"}


def index_def(name, spec):
    pk, sk, proj, inc = spec
    d = {"IndexName": name,
         "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}] +
         ([{"AttributeName": sk, "KeyType": "RANGE"}] if sk else []),
         "Projection": {"ProjectionType": proj}}
    if inc:
        d["Projection"]["NonKeyAttributes"] = inc
    return d


def live(item, now):
    """item, or None when it has expired (reads and conditions skip it)."""
    if item is None:
        return None
    e = item.get("exp")
    return None if e is not None and int(e["N"]) <= now else item


def projected(item, spec):
    pk, sk, proj, inc = spec
    if pk not in item or (sk and sk not in item):
        return None
    if proj == "ALL":
        return item
    keep = {"id", "n", pk} | ({sk} if sk else set()) | set(inc or ())
    return {k: v for k, v in item.items() if k in keep}


def canon(items):
    return sorted(repr(sorted((k, sorted(v.items())) for k, v in i.items()))
                  for i in items)


def scan_all(c, consistent=True, **kw):
    out, kw = [], dict(kw, ConsistentRead=consistent)
    while True:
        r = c.scan(**kw)
        out += r["Items"]
        if "LastEvaluatedKey" not in r:
            return out
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def check_reads(c, model, gsis, lsis, what):
    now = int(time.time())
    items = [i for i in (live(x, now) for x in model.values()) if i]
    got = scan_all(c, TableName="main")
    check(canon(got) == canon(items), "%s: Scan of main: %d items, model %d"
          % (what, len(got), len(items)))
    for name, spec in list(gsis.items()) + list(lsis.items()):
        want = [p for p in (projected(i, spec) for i in items) if p]
        # a GSI's Scan is eventually consistent only (OWS's, consistent)
        got = scan_all(c, name not in gsis, TableName="main", IndexName=name)
        check(canon(got) == canon(want), "%s: Scan of %s: %d items, model %d"
              % (what, name, len(got), len(want)))


def random_item(rnd, key, now):
    it = {"id": {"S": key[0]}, "n": {"N": str(key[1])}}
    if rnd.random() < 0.7:
        it["g"] = {"S": "g%d" % rnd.randrange(4)}
    if rnd.random() < 0.6:
        it["v"] = {"N": str(rnd.randrange(100))}
    if rnd.random() < 0.5:
        it["g2"] = {"S": "h%d" % rnd.randrange(3)}
    if rnd.random() < 0.5:
        it["a"] = {"S": "a%d" % rnd.randrange(5)}
    r = rnd.random()
    if r < 0.2:
        it["exp"] = {"N": str(now - 1000)}  # expired at once
    elif r < 0.35:
        it["exp"] = {"N": str(FAR)}
    it["pad"] = {"S": "p" * rnd.randrange(1, 3000)}
    return it


def ddb_key(key):
    return {"id": {"S": key[0]}, "n": {"N": str(key[1])}}


def one_write(rnd, c, model, keys):
    """One random write through client c, the model following DynamoDB."""
    now = int(time.time())
    key = rnd.choice(keys)
    cur = live(model.get(key), now)
    op = rnd.random()
    if op < 0.35:
        it = random_item(rnd, key, now)
        c.put_item(TableName="main", Item=it)
        model[key] = it
    elif op < 0.55:
        # UpdateItem: creates the item when missing (an expired one too)
        base = dict(cur) if cur else dict(ddb_key(key))
        val = {":p": {"S": "u" * rnd.randrange(1, 500)},
               ":g": {"S": "g%d" % rnd.randrange(4)}}
        expr, names = "SET #p = :p, #g = :g", {"#p": "pad", "#g": "g"}
        if rnd.random() < 0.5:
            expr += " REMOVE #h, #e"
            names.update({"#h": "g2", "#e": "exp"})
            base.pop("g2", None)
            base.pop("exp", None)
        c.update_item(TableName="main", Key=ddb_key(key), UpdateExpression=expr,
                      ExpressionAttributeValues=val, ExpressionAttributeNames=names)
        base["pad"], base["g"] = val[":p"], val[":g"]
        model[key] = base
    elif op < 0.7:
        c.delete_item(TableName="main", Key=ddb_key(key))
        model.pop(key, None)
    elif op < 0.8:
        # a condition that fails on a live item writes nothing
        it = random_item(rnd, key, now)
        try:
            c.put_item(TableName="main", Item=it,
                       ConditionExpression="attribute_not_exists(#i)",
                       ExpressionAttributeNames={"#i": "id"})
            check(cur is None, "a put over a live item passed attribute_not_exists")
            model[key] = it
        except c.exceptions.ConditionalCheckFailedException:
            check(cur is not None, "attribute_not_exists failed on %r" % (key,))
    elif op < 0.9:
        # a transaction with a member that fails: none of it is written
        other = rnd.choice([k for k in keys if k != key])
        fresh = ("tx%d" % rnd.randrange(10 ** 9), 0)
        try:
            c.transact_write_items(TransactItems=[
                {"Put": {"TableName": "main", "Item": random_item(rnd, fresh, now)}},
                {"Put": {"TableName": "main", "Item": random_item(rnd, key, now)}}
                if rnd.random() < 0.5 else
                {"Delete": {"TableName": "main", "Key": ddb_key(key)}},
                {"ConditionCheck": {"TableName": "main", "Key": ddb_key(other),
                                    "ConditionExpression": "attribute_exists(#x)",
                                    "ExpressionAttributeNames": {"#x": "nope"}}}])
            check(False, "a transaction with a failing check was written")
        except c.exceptions.TransactionCanceledException:
            pass
    else:
        # BatchWriteItem: duplicates refused whole; then a good batch
        it = random_item(rnd, key, now)
        try:
            c.batch_write_item(RequestItems={"main": [
                {"PutRequest": {"Item": it}},
                {"DeleteRequest": {"Key": ddb_key(key)}}]})
            check(False, "a batch with a key twice was taken")
        except c.exceptions.ClientError as e:
            check(e.response["Error"]["Code"] == "ValidationException", e.response)
        other = rnd.choice(keys)
        reqs = [{"PutRequest": {"Item": it}}]
        if other != key:
            reqs.append({"DeleteRequest": {"Key": ddb_key(other)}})
        r = c.batch_write_item(RequestItems={"main": reqs})
        check(not r.get("UnprocessedItems"), r)
        model[key] = it
        if other != key:
            model.pop(other, None)


def make_main(c):
    c.create_table(
        TableName="main", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t}
                              for a, t in TYPES.items()],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                   {"AttributeName": "n", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[index_def(n, s) for n, s in GSIS.items()],
        LocalSecondaryIndexes=[index_def(n, s) for n, s in LSIS.items()])
    c.update_time_to_live(TableName="main", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "exp"})


def cluster3(env):
    base = tmpdir()
    nodes = [Node(base + "/1", env=env)]
    nodes[0].init()
    nodes[0].start()
    for i in (2, 3):
        tok = nodes[0].ows("node", "token").stdout.strip()
        n = Node(base + "/%d" % i, env=env)
        check(n.join(nodes[0], tok).returncode == 0)
        import shutil
        shutil.copy(nodes[0].root_key, n.root_key)
        n.start()
        nodes.append(n)
    wait_for(lambda: sorted(x["id"] for x in nodes[0].status()["nodes"]) == [1, 2, 3]
             and all(x["member"] == "voter" for x in nodes[0].status()["nodes"]),
             60, "three voters")
    return nodes


def same_applied(nodes):
    """Every node has applied the same entries (item writes are not in
    the ledger: its head is not enough), twice in a row."""
    for _ in range(2):
        idx = [applied(n) for n in nodes]
        if len(set(idx)) != 1 or idx[0] < 0:
            return False
        time.sleep(0.3)
    return True



def stop_and_compare(nodes):
    """Stop every node; their state databases must hold the same rows,
    items and counts. Each node's layout(), in order."""
    for n in nodes:
        check(n.stop() == 0)
    seen = [layout(n) for n in nodes]
    for n, s in zip(nodes, seen):
        check(s == seen[0], "%s holds other rows, items or counts than %s: %s"
              % (n.dir, nodes[0].dir, differences(s, seen[0])))
    return seen

def check_counts_described(c, tables, indexes):
    for name, (items, size) in tables.items():
        d = c.describe_table(TableName=name)["Table"]
        check((d["ItemCount"], d["TableSizeBytes"]) == (items, size),
              (name, d["ItemCount"], d["TableSizeBytes"], items, size))
        for g in d.get("GlobalSecondaryIndexes", []) + d.get("LocalSecondaryIndexes", []):
            want = indexes[(name, g["IndexName"])]
            check((g["ItemCount"], g["IndexSizeBytes"]) == want, (name, g, want))


def test_every_write_path_through_three_nodes_keeps_one_item_per_row_everywhere():
    nodes = cluster3(SNAP)
    key = root_creds(nodes[0])
    cs = [boto3_client(n, "dynamodb", key=key) for n in nodes]
    make_main(cs[0])
    cs[1].create_table(TableName="gone", BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                             {"AttributeName": "g", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                       GlobalSecondaryIndexes=[{
                           "IndexName": "by-g",
                           "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                           "Projection": {"ProjectionType": "ALL"}}])
    for i in range(20):
        cs[i % 3].put_item(TableName="gone", Item={"id": {"S": "x%d" % i}, "g": {"S": "y"}})
    rnd = random.Random(11)
    keys = [("k%d" % (i % 13), i % 3) for i in range(39)]
    model, gsis = {}, dict(GSIS)
    for i in range(150):
        one_write(rnd, cs[i % 3], model, keys)
    # items of 400 KB, written over and over
    big = ("big", 1)
    for i in range(3):
        it = {"id": {"S": "big"}, "n": {"N": "1"}, "g": {"S": "g1"}, "a": {"S": "a1"},
              "pad": {"S": chr(ord("a") + i) * (400 * 1024 - 40)}}
        cs[i].put_item(TableName="main", Item=it)
        model[big] = it
    # a GSI added to a table with items (backfill), one removed
    cs[1].update_table(TableName="main",
                       AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S" if a == "a" else "N"}
                                             for a in ("a", "v")],
                       GlobalSecondaryIndexUpdates=[{"Create": index_def("g-new", ("a", "v", "INCLUDE", ["g2"]))}])
    gsis["g-new"] = ("a", "v", "INCLUDE", ["g2"])
    cs[2].update_table(TableName="main", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "g-keys"}}])
    del gsis["g-keys"]
    cs[0].delete_table(TableName="gone")
    # a follower killed (its last batch of applied entries not committed:
    # applied again from the log when it starts), then one away for more
    # than a snapshot's worth of entries (not the leader: a write retried
    # across an election could apply twice, and the model would not know)
    leader = wait_for(lambda: [n for n in nodes if n.status()["node"]["role"] == "leader"],
                      30, "a leader")[0]
    killed = [n for n in nodes if n is not leader][0]
    killed.kill9()
    here = [c for n, c in zip(nodes, cs) if n is not killed]
    for i in range(30):
        one_write(rnd, here[i % 2], model, keys)
    killed.start()
    away = [n for n in nodes if n is not leader][-1]
    here = [c for n, c in zip(nodes, cs) if n is not away]
    check(away.stop() == 0)
    for i in range(120):
        one_write(rnd, here[i % 2], model, keys)
    # TTL off and on again: the expires column follows (no writes while
    # off: an expired item not yet swept is an item again then)
    here[0].update_time_to_live(TableName="main", TimeToLiveSpecification={
        "Enabled": False, "AttributeName": "exp"})
    here[1].update_time_to_live(TableName="main", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "exp"})
    away.start()
    for i in range(60):
        one_write(rnd, cs[i % 3], model, keys)
    wait_for(lambda: same_applied(nodes), 60, "every node at the same applied index")
    for n, c in zip(nodes, cs):
        check_reads(c, model, gsis, LSIS, n.dir)
    # the sweep deletes the expired items through the log
    wait_for(lambda: all(expired_rows(n) == 0 for n in nodes), 120,
             "the TTL sweep on every node")
    wait_for(lambda: same_applied(nodes), 60, "every node at the same applied index")
    described = []
    for n, c in zip(nodes, cs):
        check_reads(c, model, gsis, LSIS, n.dir)
        described.append({t: (d["Table"]["ItemCount"], d["Table"]["TableSizeBytes"])
                          for t in ["main"] for d in [c.describe_table(TableName=t)]})
    for n in nodes:
        check(n.stop() == 0)
    seen = [layout(n) for n in nodes]
    for n, (rows, tables, indexes) in zip(nodes, seen):
        check(set(tables) == {"main"}, tables)
        check({i for _, i in indexes} == set(gsis) | set(LSIS), indexes)
        check(rows == seen[0][0], "%s holds other rows or items than %s"
              % (n.dir, nodes[0].dir))
        check((tables, indexes) == (seen[0][1], seen[0][2]), (tables, seen[0][1]))
    check(all(d == {"main": seen[0][1]["main"]} for d in described), (described, seen[0][1]))
    # and DescribeTable's index counts, with the nodes back
    for n in nodes:
        n.start()
    for c in cs:
        check_counts_described(c, seen[0][1], seen[0][2])


# ---- the older layout ----

OLDER = (  # the layout before ddb_data: the item inside its ddb_items row
    "BEGIN;"
    "CREATE TABLE ddb_items_v1(tid INTEGER NOT NULL, iid INTEGER NOT NULL,"
    " h INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL,"
    " item BLOB NOT NULL, expires INTEGER,"
    " PRIMARY KEY(tid, iid, h, pk, sk)) WITHOUT ROWID;"
    "INSERT INTO ddb_items_v1 SELECT tid, iid, h, pk, sk, item, expires"
    " FROM ddb_items CROSS JOIN ddb_data USING(rid);"
    "DROP TABLE ddb_items; DROP TABLE ddb_data;"
    "ALTER TABLE ddb_items_v1 RENAME TO ddb_items;"
    "CREATE INDEX ddb_items_expires ON ddb_items(tid, expires)"
    " WHERE expires IS NOT NULL AND iid = 0;"
    "COMMIT;")


def to_older_layout(node):
    """node (stopped) as the previous build leaves it; its rows returned."""
    db = sqlite3.connect(node.dir + "/state.db")
    try:
        db.executescript(OLDER)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sorted(db.execute("SELECT tid, iid, h, pk, sk, expires, item"
                                 " FROM ddb_items"))
    finally:
        db.close()


def unexpired(rows):
    """rows (expires in column 5) but those the TTL sweep may take."""
    return [r for r in rows if r[5] is None or r[5] > time.time()]


def raw_rows(node):
    db = open_ro(node)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(ddb_items)")]
        col = "item" if "item" in cols else "(SELECT item FROM ddb_data d WHERE d.rid = ddb_items.rid)"
        return sorted(db.execute("SELECT tid, iid, h, pk, sk, expires, %s FROM ddb_items" % col))
    finally:
        db.close()


def node_with_items(n_items, pad, base=None):
    n = Node(base)
    n.log = tmpdir() + "/node.log"  # not on base: a full disk there
    n.init()
    n.start()
    c = boto3_client(n, "dynamodb")
    make_main(c)
    rnd, model, now = random.Random(3), {}, int(time.time())
    for b in range(0, n_items, 25):
        reqs = []
        for i in range(b, min(b + 25, n_items)):
            it = random_item(rnd, ("u%d" % i, i), now)
            it["pad"] = {"S": "q" * pad}
            reqs.append({"PutRequest": {"Item": it}})
            model[("u%d" % i, i)] = it
        check(not c.batch_write_item(RequestItems={"main": reqs}).get("UnprocessedItems"))
    return n, c, model


def test_a_state_of_the_older_layout_is_moved_when_the_node_starts_once():
    n, c, model = node_with_items(60, 100)
    for i in range(20):  # rows with and without expiry, index rows of every kind
        one_write(random.Random(i), c, model, list(model)[:20])
    check(n.stop() == 0)
    before = to_older_layout(n)
    check(len(before) > 60, len(before))
    n.start()
    log = open(n.log).read()
    check(log.count("items moved to the current layout") == 1, log[-2000:])
    check_reads(c, model, GSIS, LSIS, "moved")
    # writes go on; the rids the move gave are not given again
    rnd = random.Random(99)
    for i in range(60):
        one_write(rnd, c, model, list(model)[:30] + [("new%d" % i, i) for i in range(10)])
    check_reads(c, model, GSIS, LSIS, "written after the move")
    d = c.describe_table(TableName="main")["Table"]
    check(n.stop() == 0)
    rows, tables, indexes = layout(n)
    check(tables["main"] == (d["ItemCount"], d["TableSizeBytes"]), (tables, d))
    # a second start moves nothing
    n.start()
    check(open(n.log).read().count("items moved to the current layout") == 1)
    check_reads(c, model, GSIS, LSIS, "started again")
    check(n.stop() == 0)
    # (the sweep may have taken expired items since: the others)
    check(unexpired(layout(n)[0]) == unexpired(rows), "the second start changed rows")


def test_a_move_that_fails_leaves_the_node_down_and_the_older_data_intact():
    """The move needs room for a copy of the items; on a full disk it
    fails: the node does not start, says why, and the database is as the
    older build left it; with room again, the move is made."""
    import os
    import subprocess
    base = tmpdir()
    mnt = os.path.join(base, "small")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", mnt], check=True)
    try:
        n, c, model = node_with_items(1500, 3000, base=mnt)
        check(n.stop() == 0)
        before = to_older_layout(n)
        st = os.statvfs(mnt)
        fill = st.f_bavail * st.f_frsize - 2 * 1024 * 1024  # 2 MB left, ~15 MB needed
        with open(os.path.join(mnt, "fill"), "wb") as f:
            f.write(b"\0" * fill)
        n.start(wait=False)
        rc = n.proc.wait(60)
        n.proc = None
        log = open(n.log).read()
        check(rc != 0, "the node started without room for the move")
        check("cannot move items to the current layout, the older one kept: "
              "database or disk is full" in log and
              "cannot bring" in log and "not an error" not in log, log[-2000:])
        check(raw_rows(n) == before, "the older data changed")
        os.unlink(os.path.join(mnt, "fill"))
        n.start()
        check(open(n.log).read().count("items moved to the current layout") == 1)
        check_reads(c, model, GSIS, LSIS, "moved once there was room")
        check(n.stop() == 0)
        layout(n)
        # (the sweep may have taken expired items since: the others)
        check(unexpired(raw_rows(n)) == unexpired(before), "the move changed rows or items")
    finally:
        owstest_cleanup_and_umount(mnt)


def owstest_cleanup_and_umount(mnt):
    import subprocess
    import owstest
    for n in owstest._nodes:
        if n.dir.startswith(mnt):
            n.stop()
    subprocess.run(["umount", "-l", mnt], capture_output=True)


def test_a_write_load_through_every_node_with_the_leader_killed_leaves_the_same_items_everywhere():
    """Clients on every node racing on a few keys (puts, updates,
    deletes, conditions, transactions, batches; items that expire and are
    swept meanwhile), the leader killed and back: whatever was written,
    each node holds the same rows and items, one item per row, and counts
    that are its rows'."""
    import threading
    nodes = cluster3(SNAP)
    key = root_creds(nodes[0])
    make_main(boto3_client(nodes[0], "dynamodb", key=key))
    keys = [("k%d" % (i % 7), i % 2) for i in range(14)]
    stop, done = threading.Event(), [0]

    def worker(n, seed):
        c = boto3_client(n, "dynamodb", key=key, retries=1)
        rnd, model = random.Random(seed), {}
        while not stop.is_set():
            try:
                one_write(rnd, c, model, keys)
                done[0] += 1
            except Exception:  # noqa: BLE001 (a race lost, a node down)
                pass

    threads = [threading.Thread(target=worker, args=(nodes[i % 3], i)) for i in range(6)]
    [t.start() for t in threads]
    wait_for(lambda: done[0] >= 150, 120, "150 writes")
    leader = wait_for(lambda: [n for n in nodes if n.proc and
                               n.status()["node"]["role"] == "leader"], 30, "a leader")[0]
    leader.kill9()
    before = done[0]
    wait_for(lambda: done[0] >= before + 150, 120, "150 writes without the leader")
    leader.start()
    before = done[0]
    wait_for(lambda: done[0] >= before + 100, 120, "100 writes with it back")
    stop.set()
    [t.join(60) for t in threads]
    # the sweep's entries are the last ones
    wait_for(lambda: all(expired_rows(n) == 0 for n in nodes), 120,
             "the TTL sweep on every node")
    wait_for(lambda: same_applied(nodes), 60, "every node at the same applied index")
    seen = stop_and_compare(nodes)
    check(seen[0][1]["main"][0] > 0, seen[0][1])


def differences(a, b):
    """What differs between two layout()s, shortly."""
    ra, rb = set(a[0]), set(b[0])
    short = lambda rows: sorted((r[0], r[1], r[3][:12], r[4][:12], r[5], len(r[6])) for r in rows)
    return {"only in the first": short(ra - rb)[:10], "only in the second": short(rb - ra)[:10],
            "counts": (a[1], b[1], a[2], b[2]) if a[1:] != b[1:] else "same"}


# ---- the counters after each kind of write ----

def num_size(s):
    """A number's size as DynamoDB counts it: a byte per two significant
    digits, and one."""
    digits = s.lstrip("+-").split("e")[0].split("E")[0].replace(".", "")
    return (len(digits.strip("0")) + 1) // 2 + 1


def av_size(av):
    (t, v), = av.items()
    if t == "S":
        return len(v.encode())
    if t == "N":
        return num_size(v)
    if t == "B":
        return len(v)
    if t in ("BOOL", "NULL"):
        return 1
    if t == "M":
        return sum(len(k.encode()) + av_size(m) + 1 for k, m in v.items()) + 3
    if t == "L":
        return sum(av_size(m) + 1 for m in v) + 3
    if t == "SS":
        return sum(len(m.encode()) for m in v)
    if t == "NS":
        return sum(num_size(m) for m in v)
    return sum(len(m) for m in v)  # BS


def item_size(item):
    return sum(len(k.encode()) + av_size(v) for k, v in item.items())


def rids(node):
    """Each row's rid by its key: (tid, iid, h, pk, sk) -> (rid, expires)."""
    db = open_ro(node)
    try:
        return {(t, i, h, bytes(p), bytes(s)): (r, e) for t, i, h, p, s, r, e in
                db.execute("SELECT tid, iid, h, pk, sk, rid, expires FROM ddb_items")}
    finally:
        db.close()


def iid_of(node, index):
    db = open_ro(node)
    try:
        return db.execute("SELECT iid FROM ddb_indexes WHERE name = ?",
                          (index,)).fetchone()[0]
    finally:
        db.close()


def check_sizes(c, node, items, specs, what, table="main"):
    """DescribeTable's and the state's counts of table and of each index
    (specs: name -> GSIS' form) are those of items (the live items, none
    expired and unswept) and of their projections, as DynamoDB sizes them."""
    d = c.describe_table(TableName=table)["Table"]
    want = (len(items), sum(item_size(i) for i in items))
    check((d["ItemCount"], d["TableSizeBytes"]) == want,
          "%s: table counts %r, items %r" % (what, (d["ItemCount"], d["TableSizeBytes"]), want))
    got = {g["IndexName"]: (g["ItemCount"], g["IndexSizeBytes"])
           for g in d.get("GlobalSecondaryIndexes", []) + d.get("LocalSecondaryIndexes", [])}
    check(set(got) == set(specs), (what, got, specs))
    for name, spec in specs.items():
        ps = [p for p in (projected(i, spec) for i in items) if p]
        want = (len(ps), sum(item_size(p) for p in ps))
        check(got[name] == want, "%s: index %s counts %r, items %r" % (what, name, got[name], want))
    _, tables, indexes = layout(node)
    check(tables[table] == (d["ItemCount"], d["TableSizeBytes"]), (what, tables))


def test_each_kind_of_write_moves_the_counters_by_what_it_changed():
    """On one node, an item written over in place, its index rows kept,
    moved, gone and back, projected and unprojected attributes, an LSI's
    sort key, its TTL attribute changed and removed, transactions, a put
    with ALL_OLD: after each, the rows keep their rids where their keys
    stayed, and DescribeTable's and the state's item and byte counts are
    those of the items (sized as DynamoDB sizes them) and of their
    projections."""
    n = Node()
    n.init()
    n.start()
    c = boto3_client(n, "dynamodb")
    make_main(c)
    specs = dict(GSIS, **LSIS)
    model = {}
    key = lambda i: (i["id"]["S"], int(i["n"]["N"]))

    def verify(what):
        check_reads(c, model, GSIS, LSIS, what)
        check_sizes(c, n, list(model.values()), specs, what)

    def put(item, **kw):
        r = c.put_item(TableName="main", Item=item, **kw)
        model[key(item)] = item
        return r

    def update(k, expr, values=None, names=None, **kw):
        kw = dict(kw, TableName="main", Key=ddb_key(k), UpdateExpression=expr,
                  ReturnValues="ALL_NEW")
        if values:
            kw["ExpressionAttributeValues"] = values
        names = dict({w: w[1:] for w in re.findall(r"#\w+", expr)}, **(names or {}))
        if names:
            kw["ExpressionAttributeNames"] = names
        new = c.update_item(**kw)["Attributes"]
        model[k] = new
        return new

    A, B = ("a", 1), ("b", 1)
    put({"id": {"S": "a"}, "n": {"N": "1"}, "g": {"S": "g1"}, "v": {"N": "5"},
         "g2": {"S": "h1"}, "a": {"S": "a1"}, "pad": {"S": "x" * 100}})
    put({"id": {"S": "b"}, "n": {"N": "1"}, "pad": {"S": "q" * 10}})
    verify("two puts")
    nrows = len(rids(n))
    check(nrows == 2 + 5, nrows)  # a: the table and five indexes; b: the table
    # a non-key attribute, projected into ALL only: every row in place
    before = rids(n)
    update(A, "SET #pad = :p", {":p": {"S": "y" * 300}})
    check(rids(n) == before, "an update of a non-key attribute moved rows")
    verify("pad longer")
    update(A, "SET #pad = :p", {":p": {"S": "z"}})
    check(rids(n) == before, "an update of a non-key attribute moved rows")
    verify("pad shorter")
    # a, projected into g-inc (INCLUDE) and the sort key of l-keys: g-inc's
    # row in place with its projection changed, l-keys' row moved
    update(A, "SET #a = :a", {":a": {"S": "a2-longer"}})
    after = rids(n)
    lk = iid_of(n, "l-keys")
    check({k: v for k, v in after.items() if k[1] != lk} ==
          {k: v for k, v in before.items() if k[1] != lk}, "rows moved that kept their keys")
    check(len([k for k in after if k[1] == lk]) == 1 and
          [k for k in after if k[1] == lk] != [k for k in before if k[1] == lk])
    verify("a, projected and a sort key")
    # a GSI's partition key changed, removed (the rows go), added (they come)
    update(A, "SET #g = :g", {":g": {"S": "g2-other"}})
    verify("g changed")
    update(A, "REMOVE #g")
    check(len(rids(n)) == nrows - 2, "g removed: g-all's and g-keys' rows stay")
    verify("g removed")
    update(A, "SET #g = :g", {":g": {"S": "g3"}})
    check(len(rids(n)) == nrows)
    verify("g back")
    # an LSI's (and g-keys') sort key
    before = rids(n)
    update(A, "SET #v = :v", {":v": {"N": "700"}})
    moved = {k[1] for k in set(rids(n)) ^ set(before)}
    check(moved == {iid_of(n, "l-all"), iid_of(n, "g-keys")}, moved)
    verify("v changed")
    # numbers of other forms, the same values: no row moves, same sizes
    before = rids(n)
    update(A, "SET #v = :v", {":v": {"N": "7.00E2"}})
    check(rids(n) == before, "a number of another form moved rows")
    model[A]["v"] = {"N": "700"}
    verify("v in another form")
    # a put over b with ALL_OLD: the old item back, its new index rows come
    r = put({"id": {"S": "b"}, "n": {"N": "1"}, "g": {"S": "g1"}, "v": {"N": "1"},
             "a": {"S": "b"}, "pad": {"S": "r" * 50}}, ReturnValues="ALL_OLD")
    check(r["Attributes"] == {"id": {"S": "b"}, "n": {"N": "1"}, "pad": {"S": "q" * 10}}, r)
    verify("put over with ALL_OLD")
    # TTL: the expires column follows an item written in place, the sweep
    # deletes it once it has passed; an item whose TTL attribute is
    # removed is no longer swept
    C = ("c", 1)
    put({"id": {"S": "c"}, "n": {"N": "1"}, "g": {"S": "g1"}, "exp": {"N": str(FAR)}})
    update(A, "SET #e = :e", {":e": {"N": str(FAR)}}, {"#e": "exp"})
    # a: the table and five indexes; b: the table and four; c: two
    check(Counter(e for r, e in rids(n).values()) == {FAR: 8, None: 5}, rids(n))
    verify("exp far")
    before = rids(n)
    soon = int(time.time()) + 3
    update(A, "SET #e = :e", {":e": {"N": str(soon)}}, {"#e": "exp"})
    update(C, "REMOVE #e", names={"#e": "exp"})
    after = rids(n)
    check(set(after) == set(before) and
          all(after[k][0] == before[k][0] for k in after), "TTL changes moved rows")
    check(Counter(e for r, e in after.values()) == {soon: 6, None: 7}, after)
    verify("exp soon")
    wait_for(lambda: len(rids(n)) == 13 - 6, 60, "a's rows swept")
    model.pop(A)
    time.sleep(2)  # another sweep or two: c stays
    check(len(rids(n)) == 13 - 6, rids(n))
    verify("a swept, c kept")
    # an expired item written over (swept or not), in place or not
    D = ("d", 1)
    put({"id": {"S": "d"}, "n": {"N": "1"}, "g": {"S": "g0"}, "exp": {"N": "1000"}})
    model.pop(D)
    update(D, "SET #pad = :p", {":p": {"S": "new"}})
    check(model[D] == {"id": {"S": "d"}, "n": {"N": "1"}, "pad": {"S": "new"}}, model[D])
    verify("an expired item updated")
    D2 = ("d2", 1)
    put({"id": {"S": "d2"}, "n": {"N": "1"}, "v": {"N": "3"}, "exp": {"N": "1000"}})
    model.pop(D2)
    r = put({"id": {"S": "d2"}, "n": {"N": "1"}, "a": {"S": "a"}}, ReturnValues="ALL_OLD")
    check("Attributes" not in r, "a put over an expired item returned it: %r" % r)
    verify("a put over an expired item with ALL_OLD")
    # every type, changed in place by paths, set and list operations
    T = ("t", 1)
    put({"id": {"S": "t"}, "n": {"N": "1"}, "g": {"S": "g1"}, "v": {"N": "-0.00120"},
         "m": {"M": {"x": {"N": "1e3"}, "\u00e9t\u00e9": {"L": [{"B": b"\x00\x01"}, {"NULL": True}]}}},
         "ss": {"SS": ["a", "bb"]}, "ns": {"NS": ["1", "22.50"]}, "bs": {"BS": [b"x", b"yz"]},
         "t": {"BOOL": False}, "b": {"B": b"\xff" * 7}})
    # (read back: numbers in their shortest form, sets in their order)
    got = c.get_item(TableName="main", Key=ddb_key(T), ConsistentRead=True)["Item"]
    check(item_size(got) == item_size(model[T]), (got, model[T]))
    model[T] = got
    verify("every type")
    before = rids(n)
    update(T, "SET #m.#x = #m.#x + :one, #m.#y = :l, #b = :b ADD #ss :s, #ns :ns DELETE #bs :bs",
           {":one": {"N": "0.5"}, ":l": {"L": [{"S": "\u20ac"}, {"M": {}}]}, ":b": {"B": b"\x00"},
            ":s": {"SS": ["ccc"]}, ":ns": {"NS": ["0.001"]}, ":bs": {"BS": [b"x"]}},
           {"#y": "\u00e9t\u00e9"})
    check(rids(n) == before, "an update of non-key attributes moved rows")
    verify("every type changed")
    # transactions: two items at once; one cancelled writes nothing
    c.transact_write_items(TransactItems=[
        {"Put": {"TableName": "main", "Item": {"id": {"S": "e"}, "n": {"N": "1"},
                                               "g2": {"S": "h2"}, "a": {"S": "x"}}}},
        {"Update": {"TableName": "main", "Key": ddb_key(B),
                    "UpdateExpression": "SET #g = :g, #a = :a REMOVE #v",
                    "ExpressionAttributeNames": {"#g": "g", "#a": "a", "#v": "v"},
                    "ExpressionAttributeValues": {":g": {"S": "g9"}, ":a": {"S": "bb"}}}}])
    model[("e", 1)] = {"id": {"S": "e"}, "n": {"N": "1"}, "g2": {"S": "h2"}, "a": {"S": "x"}}
    model[B] = dict(model[B], g={"S": "g9"}, a={"S": "bb"})
    del model[B]["v"]
    verify("a transaction of two")
    before = rids(n)
    try:
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": "main", "Item": {"id": {"S": "f"}, "n": {"N": "1"},
                                                   "g": {"S": "g1"}}}},
            {"Update": {"TableName": "main", "Key": ddb_key(B), "UpdateExpression": "SET #g = :g",
                        "ExpressionAttributeNames": {"#g": "g"},
                        "ExpressionAttributeValues": {":g": {"S": "g8"}}}},
            {"Put": {"TableName": "main", "Item": {"id": {"S": "e"}, "n": {"N": "1"}},
                     "ConditionExpression": "attribute_not_exists(id)"}}])
        check(False, "a transaction with a failing condition was written")
    except c.exceptions.TransactionCanceledException:
        pass
    check(rids(n) == before, "a cancelled transaction changed rows")
    verify("a cancelled transaction")
    # and all gone
    for k in list(model):
        c.delete_item(TableName="main", Key=ddb_key(k))
        model.pop(k)
    check(rids(n) == {}, rids(n))
    verify("all deleted")


# ---- twenty GSIs, filled while clients write through every node ----

def gsi20(i, variant=0):
    """The i-th of twenty GSIs (GSIS' form): keys among k0..k6 (S) and
    s0..s4 (N), every projection; variant gives another one of that name."""
    proj = ("ALL", "KEYS_ONLY", "INCLUDE")[(i + variant) % 3]
    return ("k%d" % (i % 7), "s%d" % (i % 5) if i % 2 else None, proj,
            ["p0", "k%d" % ((i + 1) % 7)] if proj == "INCLUDE" else None)


def random_item20(rnd, key):
    it = ddb_key(key)
    for a in range(7):
        if rnd.random() < 0.6:
            it["k%d" % a] = {"S": "v%d" % rnd.randrange(3)}
    for a in range(5):
        if rnd.random() < 0.6:
            it["s%d" % a] = {"N": str(rnd.randrange(-50, 50))}
    if rnd.random() < 0.7:
        it["p0"] = {"S": "p" * rnd.randrange(1, 200)}
    it["pad"] = {"S": "q" * rnd.randrange(1, 1500)}
    return it


def one_write20(rnd, c, keys):
    key = rnd.choice(keys)
    op = rnd.random()
    if op < 0.35:
        c.put_item(TableName="wide", Item=random_item20(rnd, key))
    elif op < 0.75:
        # some key and projected attributes set, others removed, others kept
        sets, removes, vals, names = [], [], {}, {}
        for j, a in enumerate(rnd.sample(["k%d" % i for i in range(7)] +
                                         ["s%d" % i for i in range(5)] + ["p0", "pad"], 5)):
            names["#a%d" % j] = a
            if rnd.random() < 0.3:
                removes.append("#a%d" % j)
                continue
            vals[":v%d" % j] = ({"N": str(rnd.randrange(-50, 50))} if a[0] == "s" else
                                {"S": "v%d" % rnd.randrange(3)} if a[0] == "k" else
                                {"S": "u" * rnd.randrange(1, 300)})
            sets.append("#a%d = :v%d" % (j, j))
        expr = ("SET " + ", ".join(sets) if sets else "") + \
               (" REMOVE " + ", ".join(removes) if removes else "")
        kw = {"ExpressionAttributeValues": vals} if vals else {}
        c.update_item(TableName="wide", Key=ddb_key(key), UpdateExpression=expr.strip(),
                      ExpressionAttributeNames=names, **kw)
    elif op < 0.85:
        c.delete_item(TableName="wide", Key=ddb_key(key))
    else:
        other = rnd.choice([k for k in keys if k != key])
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": "wide", "Item": random_item20(rnd, key)}},
            {"Update": {"TableName": "wide", "Key": ddb_key(other),
                        "UpdateExpression": "SET #k = :k", "ExpressionAttributeNames": {"#k": "k0"},
                        "ExpressionAttributeValues": {":k": {"S": "v%d" % rnd.randrange(3)}}}}])


def wide_attrs():
    return [{"AttributeName": "k%d" % i, "AttributeType": "S"} for i in range(7)] + \
        [{"AttributeName": "s%d" % i, "AttributeType": "N"} for i in range(5)]


def test_twenty_gsis_filled_while_every_node_writes_count_what_they_hold():
    """A table of twenty GSIs (nineteen made with it, one added while
    clients write through all three nodes, one removed and made again with
    another projection): every node holds the same rows, each index holds
    the projection of every item that has its keys, and the counts are
    those of the items as DynamoDB sizes them."""
    import threading
    nodes = cluster3(SNAP)
    key = root_creds(nodes[0])
    c0 = boto3_client(nodes[0], "dynamodb", key=key)
    specs = {"x%02d" % i: gsi20(i) for i in range(19)}
    c0.create_table(
        TableName="wide", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "n", "AttributeType": "N"}] + wide_attrs(),
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                   {"AttributeName": "n", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[index_def(n, s) for n, s in specs.items()])
    keys = [("w%d" % (i % 11), i % 3) for i in range(33)]
    stop, done = threading.Event(), [0]

    def worker(n, seed):
        c = boto3_client(n, "dynamodb", key=key)
        rnd = random.Random(seed)
        while not stop.is_set():
            one_write20(rnd, c, keys)
            done[0] += 1

    threads = [threading.Thread(target=worker, args=(nodes[i % 3], i)) for i in range(3)]
    [t.start() for t in threads]
    try:
        wait_for(lambda: done[0] >= 60, 120, "60 writes")
        c0.update_table(TableName="wide", AttributeDefinitions=wide_attrs(),
                        GlobalSecondaryIndexUpdates=[{"Create": index_def("x19", gsi20(19))}])
        specs["x19"] = gsi20(19)
        wait_for(lambda: done[0] >= 120, 120, "60 writes more")
        c1 = boto3_client(nodes[1], "dynamodb", key=key)
        c1.update_table(TableName="wide", GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "x04"}}])
        del specs["x04"]
        wait_for(lambda: done[0] >= 150, 120, "30 writes more")
        c1.update_table(TableName="wide", AttributeDefinitions=wide_attrs(),
                        GlobalSecondaryIndexUpdates=[{"Create": index_def("x04", gsi20(4, 1))}])
        specs["x04"] = gsi20(4, 1)
        wait_for(lambda: done[0] >= 210, 120, "60 writes more")
    finally:
        stop.set()
        [t.join(60) for t in threads]
    check(all(not t.is_alive() for t in threads))
    wait_for(lambda: same_applied(nodes), 60, "every node at the same applied index")
    for n in nodes:
        c = boto3_client(n, "dynamodb", key=key)
        items = scan_all(c, TableName="wide")
        check(len(items) > 0)
        for name, spec in specs.items():
            want = [p for p in (projected(i, spec) for i in items) if p]
            got = scan_all(c, TableName="wide", IndexName=name)
            check(canon(got) == canon(want), "%s: Scan of %s: %d items, the table's %d"
                  % (n.dir, name, len(got), len(want)))
        check_sizes(c, n, items, specs, n.dir, table="wide")
    stop_and_compare(nodes)
