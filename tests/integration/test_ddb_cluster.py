"""DynamoDB on three nodes (issue 11, "Three nodes"): writes through every
node and consistent reads on every node; kill -9 of the leader under a
write load from clients on every node, after which every acknowledged
write is there on every node; transactions that move units between two
items under the same crash, after which no node shows half of one."""
import threading
import time

from owstest import boto3_client, check, cluster3_shared_root, root_creds, wait_for


def leader_of(nodes):
    for n in nodes:
        if n.proc is None:
            continue
        try:
            if n.status()["node"]["role"] == "leader":
                return n
        except AssertionError:
            continue
    return None


def clients(nodes, retries=None):
    key = root_creds(nodes[0])
    return [boto3_client(n, "dynamodb", key=key, retries=retries) for n in nodes]


def make_table(c, name, sort=False):
    schema = [{"AttributeName": "id", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "id", "AttributeType": "S"}]
    if sort:
        schema.append({"AttributeName": "n", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "n", "AttributeType": "N"})
    c.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=attrs,
                   BillingMode="PAY_PER_REQUEST")


def all_ids(c, table):
    ids, kw = set(), {"TableName": table, "ConsistentRead": True}
    while True:
        r = c.scan(**kw)
        ids.update(i["id"]["S"] for i in r["Items"])
        if "LastEvaluatedKey" not in r:
            return ids
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def test_writes_through_every_node_consistent_reads_on_every_node():
    nodes = cluster3_shared_root()
    c = clients(nodes)
    make_table(c[1], "tbl")
    for round_ in range(3):
        for i, w in enumerate(c):
            key = "r%d-n%d" % (round_, i)
            w.put_item(TableName="tbl", Item={"id": {"S": key}, "v": {"N": str(round_)}})
            # read-after-write on every node, at once
            for j, r in enumerate(c):
                got = r.get_item(TableName="tbl", Key={"id": {"S": key}},
                                 ConsistentRead=True).get("Item")
                check(got is not None and got["v"]["N"] == str(round_),
                      "node %d did not see %s written through node %d: %r"
                      % (j + 1, key, i + 1, got))
    # a conditional write raced through all three nodes: exactly one wins
    wins, errs = [], []

    def race(w):
        try:
            w.put_item(TableName="tbl", Item={"id": {"S": "race"}},
                       ConditionExpression="attribute_not_exists(id)")
            wins.append(1)
        except w.exceptions.ConditionalCheckFailedException:
            errs.append(1)
    ts = [threading.Thread(target=race, args=(w,)) for w in c]
    [t.start() for t in ts]
    [t.join() for t in ts]
    check(len(wins) == 1 and len(errs) == 2, (wins, errs))


def test_kill9_of_the_leader_under_write_load_loses_no_acknowledged_write():
    nodes = cluster3_shared_root()
    c = clients(nodes, retries=1)
    make_table(c[0], "load")
    make_table(c[0], "bank")
    c[0].put_item(TableName="bank", Item={"id": {"S": "a"}, "units": {"N": "1000"}})
    c[0].put_item(TableName="bank", Item={"id": {"S": "b"}, "units": {"N": "0"}})
    acked, moved, stop = set(), [0], threading.Event()
    lock = threading.Lock()

    def writer(w, tag):
        i = 0
        while not stop.is_set():
            key = "%s-%d" % (tag, i)
            i += 1
            try:
                w.put_item(TableName="load", Item={"id": {"S": key}, "pad": {"S": "x" * 200}})
            except Exception:
                continue  # not acknowledged: may or may not be there
            with lock:
                acked.add(key)

    def mover(w):
        while not stop.is_set():
            try:
                w.transact_write_items(TransactItems=[
                    {"Update": {"TableName": "bank", "Key": {"id": {"S": "a"}},
                                "UpdateExpression": "ADD units :m",
                                "ConditionExpression": "units >= :one",
                                "ExpressionAttributeValues": {":m": {"N": "-1"}, ":one": {"N": "1"}}}},
                    {"Update": {"TableName": "bank", "Key": {"id": {"S": "b"}},
                                "UpdateExpression": "ADD units :p",
                                "ExpressionAttributeValues": {":p": {"N": "1"}}}}])
                moved[0] += 1
            except Exception:
                pass

    threads = [threading.Thread(target=writer, args=(c[i % 3], "w%d" % i)) for i in range(6)]
    threads += [threading.Thread(target=mover, args=(c[i],)) for i in range(3)]
    [t.start() for t in threads]
    wait_for(lambda: len(acked) >= 200, 120, "200 acknowledged writes")
    victim = leader_of(nodes)
    check(victim is not None, "no leader")
    victim.kill9()
    before = len(acked)
    wait_for(lambda: len(acked) >= before + 200, 120,
             "200 more acknowledged writes after the kill")
    stop.set()
    [t.join(60) for t in threads]
    victim.start()
    for n, w in zip(nodes, clients(nodes)):
        got = wait_for(lambda: (lambda ids: ids if acked <= ids else None)(all_ids(w, "load")),
                       60, "every acknowledged write on %s" % n.edge)
        check(acked <= got, "lost %d acknowledged writes" % len(acked - got))
        bank = {i["id"]["S"]: int(i["units"]["N"]) for i in
                w.scan(TableName="bank", ConsistentRead=True)["Items"]}
        check(bank["a"] + bank["b"] == 1000, ("half a transaction", bank))
        check(bank["b"] >= moved[0], ("acknowledged moves lost", bank, moved))


def test_a_table_made_again_is_the_new_one_on_every_node_at_once():
    """A table deleted and made again with another key schema through one
    node is the new table for writes and reads through the others as soon
    as they have applied the change (each node keeps tables loaded per
    ledger height: the proposing node checks a write against its own,
    every node applies it against its own)."""
    nodes = cluster3_shared_root()
    c = clients(nodes)
    make_table(c[0], "again")
    for i, w in enumerate(c):
        w.put_item(TableName="again", Item={"id": {"S": "n%d" % i}})
    c[0].delete_table(TableName="again")
    make_table(c[0], "again", sort=True)
    for i, w in enumerate(c):
        # once node i has the new table (DescribeTable reads it afresh),
        # a write through it is checked against the new schema: a key
        # without the sort key is refused, one with it is written
        wait_for(lambda: len(w.describe_table(TableName="again")["Table"]["KeySchema"]) == 2,
                 what="node %d to apply the new table" % (i + 1))
        try:
            w.put_item(TableName="again", Item={"id": {"S": "m%d" % i}})
            check(False, "node %d took a write of the old schema" % (i + 1))
        except w.exceptions.ClientError as e:
            check(e.response["Error"]["Code"] == "ValidationException", e.response)
        w.put_item(TableName="again", Item={"id": {"S": "m%d" % i}, "n": {"N": str(i)}})
    for j, r in enumerate(c):
        check(all_ids(r, "again") == {"m0", "m1", "m2"}, (j, all_ids(r, "again")))
