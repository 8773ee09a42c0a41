"""Hostile tenants and hostile clients against DynamoDB on a real owsd.

Each test is a hole found by attacking the service, fixed (or an attack
that held, kept so that it keeps holding): a caller denied on a table
probing its key schema and indexes through validation errors; sets of
tens of thousands of members under ADD and DELETE (n x m inside apply);
another caller's ClientRequestToken; a LeadingKeys policy and Scan; a
dynamodb:Attributes policy (never set before); kill -9 of a follower under
transactions (the nodes agree); a denied partition key spelled otherwise
(non-canonical base64 and numbers)."""
import json

from owstest import boto3_client, check, deploy, started, write_json

TABLES = {
    "stack": "atk",
    "tables": {
        "pub": {"partition_key": "id:S"},
        "secret": {"partition_key": "sid:S", "sort_key": "n:N",
                   "indexes": {"hidden-ix": {"partition_key": "gx:S",
                                             "projection": "ALL"}}},
    },
}


def error(fn, **kw):
    """The (code, message) of a call that must fail."""
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("%s(%r) did not fail" % (fn.__name__, kw))


def user_client(n, name, statements):
    """A boto3 client of a new user whose only policy has statements."""
    n.ows("apply", write_json({
        "stack": "people-" + name,
        "policies": {name + "-p": {"Version": "2012-10-17",
                                   "Statement": statements}},
        "users": {name: {"policies": [name + "-p"]}}}), "--yes")
    made = n.ows_json("key", "access", "create", name)
    return boto3_client(n, "dynamodb", key=(made["access_key_id"],
                                            made["secret_access_key"]))


def test_ddb_attack_no_schema_leak_to_a_caller_denied_on_the_table():
    """A caller with rights on table "pub" only sends requests to "secret"
    whose keys, key conditions or index are wrong: each must be
    AccessDeniedException, never the ValidationException that names
    secret's key attributes or says whether an index exists."""
    n = started()
    deploy(n, TABLES)
    eve = user_client(n, "eve", [{
        "Effect": "Allow", "Action": "dynamodb:*",
        "Resource": "arn:aws:dynamodb:*:*:table/pub"}])
    bad_key = {"id": {"S": "a"}}
    kv = {":v": {"S": "x"}}
    probes = [
        (eve.put_item, dict(TableName="secret", Item=bad_key)),
        (eve.update_item, dict(TableName="secret", Key=bad_key,
                               UpdateExpression="SET a = :v",
                               ExpressionAttributeValues=kv)),
        (eve.delete_item, dict(TableName="secret", Key=bad_key)),
        (eve.get_item, dict(TableName="secret", Key=bad_key)),
        (eve.query, dict(TableName="secret", KeyConditionExpression="zz = :v",
                         ExpressionAttributeValues=kv)),
        (eve.query, dict(TableName="secret", IndexName="no-such-ix",
                         KeyConditionExpression="zz = :v",
                         ExpressionAttributeValues=kv)),
        (eve.query, dict(TableName="secret", IndexName="hidden-ix",
                         KeyConditionExpression="zz = :v",
                         ExpressionAttributeValues=kv)),
        (eve.scan, dict(TableName="secret", IndexName="no-such-ix")),
        (eve.scan, dict(TableName="secret", FilterExpression="zz = :v")),
        (eve.batch_get_item, dict(RequestItems={"secret": {"Keys": [bad_key]}})),
        (eve.batch_write_item, dict(RequestItems={"secret": [
            {"PutRequest": {"Item": bad_key}}]})),
        (eve.batch_write_item, dict(RequestItems={"secret": [
            {"DeleteRequest": {"Key": bad_key}}]})),
        (eve.transact_write_items, dict(TransactItems=[
            {"Put": {"TableName": "pub", "Item": {"id": {"S": "ok"}}}},
            {"Put": {"TableName": "secret", "Item": bad_key}}])),
        (eve.transact_write_items, dict(TransactItems=[
            {"ConditionCheck": {"TableName": "secret", "Key": bad_key,
                                "ConditionExpression": "attribute_exists(q)"}}])),
        (eve.transact_get_items, dict(TransactItems=[
            {"Get": {"TableName": "secret", "Key": bad_key}}])),
    ]
    for fn, kw in probes:
        code, msg = error(fn, **kw)
        check(code == "AccessDeniedException" and "secret" in msg,
              (fn.__name__, kw, code, msg))
        said = msg.split(" on resource: ")[0]
        for leak in ("sid", "hidden-ix", "schema", "index"):
            check(leak not in said, (fn.__name__, code, msg))
    # the same mistakes on a table eve may use are still the validation
    # errors DynamoDB gives
    code, msg = error(eve.get_item, TableName="pub", Key={"zz": {"S": "a"}})
    check(code == "ValidationException" and "schema" in msg, (code, msg))
    code, msg = error(eve.query, TableName="pub", KeyConditionExpression="zz = :v",
                      ExpressionAttributeValues=kv)
    check(code == "ValidationException" and "id" in msg, (code, msg))


def test_ddb_attack_add_and_delete_on_sets_of_tens_of_thousands():
    """An item's 400 KB hold sets of ~50,000 members. ADD and DELETE of
    such sets ran member by member against the whole set (n x m string
    compares inside apply, on every node: 17 s for 40,000 + 10,000, minutes
    for a DELETE of 40,000 from 50,000), stalling the log for everyone.
    The results must be exact, and each round quick enough that the rounds
    finish within the runner's time limit; the node answers others after."""
    n = started()
    deploy(n, TABLES)
    db = boto3_client(n, "dynamodb")
    key = {"id": {"S": "big"}}
    have = set(range(40000))
    db.put_item(TableName="pub", Item={"id": {"S": "big"}, "s": {
        "NS": [str(i) for i in sorted(have)]}})
    for r in range(3):
        add = set(range(30000 + r * 5000, 45000 + r * 5000))
        db.update_item(TableName="pub", Key=key, UpdateExpression="ADD s :a",
                       ExpressionAttributeValues={":a": {
                           "NS": [str(i) for i in sorted(add)]}})
        have |= add
        gone = set(range(r * 13000, r * 13000 + 20000))
        db.update_item(TableName="pub", Key=key, UpdateExpression="DELETE s :d",
                       ExpressionAttributeValues={":d": {
                           "NS": [str(i) for i in sorted(gone)]}})
        have -= gone
        got = db.get_item(TableName="pub", Key=key, ConsistentRead=True)
        check({int(x) for x in got["Item"]["s"]["NS"]} == have, r)
    # numbers are members by value, not by their text
    for text in ("55000.0", "5.5E4", "55000"):
        db.update_item(TableName="pub", Key=key, UpdateExpression="ADD s :a",
                       ExpressionAttributeValues={":a": {"NS": [text]}})
    got = db.get_item(TableName="pub", Key=key, ConsistentRead=True)
    check(sorted(got["Item"]["s"]["NS"]).count("55000") == 1 and
          len(got["Item"]["s"]["NS"]) == len(have | {55000}), len(got["Item"]["s"]["NS"]))


def test_ddb_attack_client_request_token_is_the_callers_own():
    """A ClientRequestToken is idempotency for one caller. Another caller
    who sends the same token (guessed, or seen in a log) must neither have
    its own write silently skipped as a "replay" of someone else's, nor be
    refused with IdempotentParameterMismatchException because of it."""
    n = started()
    deploy(n, TABLES)
    db = boto3_client(n, "dynamodb")
    allow = [{"Effect": "Allow", "Action": "dynamodb:*",
              "Resource": "arn:aws:dynamodb:*:*:table/pub"}]
    ann = user_client(n, "ann", allow)
    bob = user_client(n, "bob", allow)
    put = lambda v: [{"Put": {"TableName": "pub", "Item": {
        "id": {"S": "t"}, "v": {"S": v}}}}]
    ann.transact_write_items(TransactItems=put("ann"), ClientRequestToken="tok-1")
    db.delete_item(TableName="pub", Key={"id": {"S": "t"}})
    # bob's identical request is bob's: it writes
    bob.transact_write_items(TransactItems=put("ann"), ClientRequestToken="tok-1")
    got = db.get_item(TableName="pub", Key={"id": {"S": "t"}}, ConsistentRead=True)
    check(got.get("Item", {}).get("v") == {"S": "ann"}, got)
    # a different request of bob's with ann's token is not a mismatch
    bob.transact_write_items(TransactItems=put("bob"), ClientRequestToken="tok-2")
    ann.transact_write_items(TransactItems=put("ann2"), ClientRequestToken="tok-2")
    got = db.get_item(TableName="pub", Key={"id": {"S": "t"}}, ConsistentRead=True)
    check(got["Item"]["v"] == {"S": "ann2"}, got)
    # each caller's own replays are still replays, and mismatches mismatches
    ann.transact_write_items(TransactItems=put("ann"), ClientRequestToken="tok-1")
    got = db.get_item(TableName="pub", Key={"id": {"S": "t"}}, ConsistentRead=True)
    check(got["Item"]["v"] == {"S": "ann2"}, got)
    code, _ = error(bob.transact_write_items, TransactItems=put("x"),
                    ClientRequestToken="tok-2")
    check(code == "IdempotentParameterMismatchException", code)


def test_ddb_attack_leading_keys_policy_does_not_allow_scan():
    """A user held to its own partition by ForAllValues:StringEquals on
    dynamodb:LeadingKeys, even with dynamodb:*, must not Scan the table or
    its index: a Scan reads every partition (docs/dynamodb-reads.md). A
    policy allowing every leading key (StringLike "*") still allows it."""
    n = started()
    deploy(n, TABLES)
    db = boto3_client(n, "dynamodb")
    db.put_item(TableName="pub", Item={"id": {"S": "bob"}, "pw": {"S": "b0b"}})
    db.put_item(TableName="pub", Item={"id": {"S": "ann"}})
    own = user_client(n, "ann", [{
        "Effect": "Allow", "Action": "dynamodb:*",
        "Resource": ["arn:aws:dynamodb:*:*:table/pub",
                     "arn:aws:dynamodb:*:*:table/secret",
                     "arn:aws:dynamodb:*:*:table/secret/index/*"],
        "Condition": {"ForAllValues:StringEquals": {
            "dynamodb:LeadingKeys": ["ann"]}}}])
    for kw in (dict(TableName="pub"), dict(TableName="secret"),
               dict(TableName="secret", IndexName="hidden-ix"),
               dict(TableName="pub", Segment=0, TotalSegments=2),
               dict(TableName="pub", Select="COUNT")):
        code, msg = error(own.scan, **kw)
        check(code == "AccessDeniedException" and "dynamodb:Scan" in msg,
              (kw, code, msg))
    got = own.query(TableName="pub", KeyConditionExpression="id = :a",
                    ExpressionAttributeValues={":a": {"S": "ann"}})
    check([i["id"]["S"] for i in got["Items"]] == ["ann"], got)
    code, _ = error(own.query, TableName="pub", KeyConditionExpression="id = :a",
                    ExpressionAttributeValues={":a": {"S": "bob"}})
    check(code == "AccessDeniedException", code)
    every = user_client(n, "cid", [{
        "Effect": "Allow", "Action": "dynamodb:Scan",
        "Resource": "arn:aws:dynamodb:*:*:table/pub",
        "Condition": {"ForAllValues:StringLike": {
            "dynamodb:LeadingKeys": ["*"]}}}])
    check(every.scan(TableName="pub")["Count"] == 2)


def test_ddb_attack_attributes_policy_holds_writes_and_reads():
    """docs/dynamodb-writes.md lets a policy hold a user to some attributes
    with ForAllValues:StringEquals on dynamodb:Attributes. The key was
    never set, and ForAllValues of an absent key is true: the user wrote
    and read every attribute. Now a write's attributes are its item's (or
    key's) names and every name its condition and update expressions
    touch; a read's are its projection's and filter's names, and a read of
    whole items (no projection) is [""], which no policy of names allows."""
    n = started()
    deploy(n, TABLES)
    db = boto3_client(n, "dynamodb")
    db.put_item(TableName="pub", Item={"id": {"S": "bob"}, "name": {"S": "Bob"},
                                       "salary": {"N": "100"}})
    dan = user_client(n, "dan", [{
        "Effect": "Allow", "Action": "dynamodb:*",
        "Resource": "arn:aws:dynamodb:*:*:table/pub",
        "Condition": {"ForAllValues:StringEquals": {
            "dynamodb:Attributes": ["id", "name"]}}}])
    bob = {"id": {"S": "bob"}}
    denied = [
        (dan.put_item, dict(TableName="pub", Item={"id": {"S": "d"},
                                                   "salary": {"N": "1"}})),
        (dan.put_item, dict(TableName="pub", Item={"id": {"S": "d"}},
                            ConditionExpression="salary > :z",
                            ExpressionAttributeValues={":z": {"N": "0"}})),
        (dan.update_item, dict(TableName="pub", Key=bob,
                               UpdateExpression="SET salary = :v",
                               ExpressionAttributeValues={":v": {"N": "1"}})),
        (dan.update_item, dict(TableName="pub", Key=bob,
                               UpdateExpression="SET #n = salary",
                               ExpressionAttributeNames={"#n": "name"})),
        (dan.update_item, dict(TableName="pub", Key=bob,
                               UpdateExpression="REMOVE salary")),
        (dan.update_item, dict(TableName="pub", Key=bob,
                               AttributeUpdates={"salary": {"Action": "DELETE"}})),
        (dan.delete_item, dict(TableName="pub", Key=bob,
                               ConditionExpression="attribute_exists(salary)")),
        (dan.batch_write_item, dict(RequestItems={"pub": [
            {"PutRequest": {"Item": {"id": {"S": "d"}, "name": {"S": "D"}}}},
            {"PutRequest": {"Item": {"id": {"S": "e"}, "salary": {"N": "1"}}}}]})),
        (dan.transact_write_items, dict(TransactItems=[
            {"Update": {"TableName": "pub", "Key": bob,
                        "UpdateExpression": "ADD salary :v",
                        "ExpressionAttributeValues": {":v": {"N": "1"}}}}])),
        # a whole item back is a read of every attribute
        (dan.put_item, dict(TableName="pub", Item={"id": {"S": "d"}},
                            ReturnValues="ALL_OLD")),
        (dan.update_item, dict(TableName="pub", Key=bob,
                               UpdateExpression="SET #n = :v",
                               ExpressionAttributeNames={"#n": "name"},
                               ExpressionAttributeValues={":v": {"S": "x"}},
                               ReturnValues="ALL_NEW")),
        (dan.delete_item, dict(TableName="pub", Key=bob, ReturnValues="ALL_OLD")),
        (dan.delete_item, dict(TableName="pub", Key=bob,
                               ConditionExpression="attribute_not_exists(id)",
                               ReturnValuesOnConditionCheckFailure="ALL_OLD")),
        (dan.get_item, dict(TableName="pub", Key=bob)),
        (dan.get_item, dict(TableName="pub", Key=bob,
                            ProjectionExpression="id, salary")),
        (dan.get_item, dict(TableName="pub", Key=bob, AttributesToGet=["salary"])),
        (dan.batch_get_item, dict(RequestItems={"pub": {"Keys": [bob]}})),
        (dan.transact_get_items, dict(TransactItems=[
            {"Get": {"TableName": "pub", "Key": bob}}])),
        (dan.query, dict(TableName="pub", KeyConditionExpression="id = :b",
                         ExpressionAttributeValues={":b": {"S": "bob"}})),
        (dan.query, dict(TableName="pub", KeyConditionExpression="id = :b",
                         ProjectionExpression="id", FilterExpression="salary > :z",
                         ExpressionAttributeValues={":b": {"S": "bob"},
                                                    ":z": {"N": "0"}})),
        (dan.scan, dict(TableName="pub")),
        (dan.scan, dict(TableName="pub", Select="COUNT",
                        FilterExpression="salary > :z",
                        ExpressionAttributeValues={":z": {"N": "50"}})),
    ]
    for fn, kw in denied:
        code, msg = error(fn, **kw)
        check(code == "AccessDeniedException", (fn.__name__, kw, code, msg))
    got = db.get_item(TableName="pub", Key=bob, ConsistentRead=True)["Item"]
    check(got == {"id": {"S": "bob"}, "name": {"S": "Bob"},
                  "salary": {"N": "100"}}, got)
    check(db.get_item(TableName="pub", Key={"id": {"S": "d"}}).get("Item") is None)
    # what the policy allows still works
    dan.put_item(TableName="pub", Item={"id": {"S": "d"}, "name": {"S": "D"}})
    dan.update_item(TableName="pub", Key=bob, UpdateExpression="SET #n = :v",
                    ExpressionAttributeNames={"#n": "name"},
                    ExpressionAttributeValues={":v": {"S": "Robert"}},
                    ConditionExpression="attribute_exists(id)")
    got = dan.update_item(TableName="pub", Key=bob, UpdateExpression="SET #n = :v",
                          ExpressionAttributeNames={"#n": "name"},
                          ExpressionAttributeValues={":v": {"S": "Robert"}},
                          ReturnValues="UPDATED_OLD")
    check(got["Attributes"] == {"name": {"S": "Robert"}}, got)
    dan.delete_item(TableName="pub", Key={"id": {"S": "d"}})
    got = dan.get_item(TableName="pub", Key=bob, ProjectionExpression="id, #n",
                       ExpressionAttributeNames={"#n": "name"})
    check(got["Item"] == {"id": {"S": "bob"}, "name": {"S": "Robert"}}, got)
    got = dan.query(TableName="pub", KeyConditionExpression="id = :b",
                    ProjectionExpression="#n", ExpressionAttributeNames={"#n": "name"},
                    ExpressionAttributeValues={":b": {"S": "bob"}})
    check(got["Items"] == [{"name": {"S": "Robert"}}], got)
    got = dan.batch_get_item(RequestItems={"pub": {"Keys": [bob],
                                                   "ProjectionExpression": "id"}})
    check(got["Responses"]["pub"] == [bob], got)
    got = dan.scan(TableName="pub", Select="COUNT")
    check(got["Count"] == 1, got)


def _scan_all(c, table, index=None):
    """Every item of table (or its index) by a consistent paginated scan
    (OWS serves a consistent read of a GSI: its rows are written with the
    items), as sorted canonical JSON."""
    kw = {"TableName": table, "ConsistentRead": True}
    if index:
        kw["IndexName"] = index
    out = []
    while True:
        r = c.scan(**kw)
        out += [json.dumps(i, sort_keys=True) for i in r["Items"]]
        if "LastEvaluatedKey" not in r:
            return sorted(out)
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def test_ddb_attack_kill9_of_a_follower_under_transactions_nodes_agree():
    """Three nodes; clients on every node run transactions that move an
    item's index key and units between items, puts that replace, deletes,
    and replays of tokens; a follower is killed with -9 in the middle and
    started again. Afterwards every node's table and global index must be
    the same item for item, and the units add up (no half transaction)."""
    import random
    import threading

    from owstest import cluster3_shared_root, root_creds, wait_for
    nodes = cluster3_shared_root()
    key = root_creds(nodes[0])
    cs = [boto3_client(n, "dynamodb", key=key, retries=1) for n in nodes]
    cs[0].create_table(
        TableName="acct", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "grp", "AttributeType": "S"},
                              {"AttributeName": "u", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-grp", "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"},
                          {"AttributeName": "u", "KeyType": "RANGE"}]}])
    ids = ["a%d" % i for i in range(12)]
    for i in ids:
        cs[0].put_item(TableName="acct", Item={"id": {"S": i}, "grp": {"S": "g0"},
                                               "u": {"N": "100"}})
    stop, done = threading.Event(), [0]

    def worker(c, seed):
        rnd = random.Random(seed)
        while not stop.is_set():
            a, b = rnd.sample(ids, 2)
            g = "g%d" % rnd.randrange(4)
            tok = "t%d-%d" % (seed, rnd.randrange(50))
            try:
                c.transact_write_items(ClientRequestToken=tok, TransactItems=[
                    {"Update": {"TableName": "acct", "Key": {"id": {"S": a}},
                                "UpdateExpression": "ADD u :m SET grp = :g",
                                "ConditionExpression": "u >= :one",
                                "ExpressionAttributeValues": {
                                    ":m": {"N": "-1"}, ":one": {"N": "1"},
                                    ":g": {"S": g}}}},
                    {"Update": {"TableName": "acct", "Key": {"id": {"S": b}},
                                "UpdateExpression": "ADD u :p",
                                "ExpressionAttributeValues": {":p": {"N": "1"}}}}])
                done[0] += 1
            except Exception:  # noqa: BLE001 (cancelled, mismatch, node down)
                pass
            try:
                k = "x%d" % rnd.randrange(20)
                if rnd.random() < 0.5:
                    c.put_item(TableName="acct", Item={
                        "id": {"S": k}, "grp": {"S": g},
                        "u": {"N": str(rnd.randrange(-5, 5))},
                        "pad": {"S": "p" * rnd.randrange(3000)}})
                else:
                    c.delete_item(TableName="acct", Key={"id": {"S": k}})
            except Exception:  # noqa: BLE001
                pass

    ts = [threading.Thread(target=worker, args=(cs[i % 3], i)) for i in range(6)]
    [t.start() for t in ts]
    wait_for(lambda: done[0] >= 60, 120, "60 transactions")
    leader = [n for n in nodes if n.status()["node"]["role"] == "leader"][0]
    victim = [n for n in nodes if n is not leader][0]
    victim.kill9()
    before = done[0]
    wait_for(lambda: done[0] >= before + 60, 120, "60 more transactions")
    victim.start()
    wait_for(lambda: done[0] >= before + 120, 120, "transactions after the restart")
    stop.set()
    [t.join(60) for t in ts]
    cs = [boto3_client(n, "dynamodb", key=key) for n in nodes]
    tables = [_scan_all(c, "acct") for c in cs]
    check(tables[0] == tables[1] == tables[2],
          [len(t) for t in tables])
    units = sum(int(json.loads(i)["u"]["N"]) for i in tables[0]
                if json.loads(i)["id"]["S"].startswith("a"))
    check(units == 1200, units)
    # the index follows the table on every node
    want = sorted(i for i in tables[0])
    for c in cs:
        got = _scan_all(c, "acct", "by-grp")
        check(got == want, (len(got), len(want)))


def _signed(n, key, op, body):
    """A DynamoDB request of body exactly as given (boto3 would encode
    binaries itself), signed with key: (status, parsed reply)."""
    import urllib.error
    import urllib.request

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(
        method="POST", url="http://%s/" % n.edge, data=json.dumps(body).encode(),
        headers={"X-Amz-Target": "DynamoDB_20120810." + op,
                 "Content-Type": "application/x-amz-json-1.0"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(*key), "dynamodb",
                            "us-east-1").add_auth(req)
    r = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers),
                               method="POST")
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_ddb_attack_deny_on_a_leading_key_holds_for_every_spelling_of_it():
    """A Deny on one partition (ForAnyValue:StringEquals LeadingKeys) must
    hold however the key is spelled: base64 with other padding bits or no
    padding ("YR==", "YQ" are the byte "a", "YQ=="), a number with another
    exponent ("1.0E2" is 100), through every operation."""
    from owstest import root_creds
    n = started()
    deploy(n, {"stack": "bin", "tables": {
        "bkeys": {"partition_key": "id:B"}, "nkeys": {"partition_key": "id:N"}}})
    root = root_creds(n)
    check(_signed(n, root, "PutItem", {"TableName": "bkeys", "Item": {
        "id": {"B": "YR=="}, "v": {"S": "a"}}})[0] == 200)
    check(_signed(n, root, "GetItem", {"TableName": "bkeys", "Key": {
        "id": {"B": "YQ=="}}})[1]["Item"]["v"] == {"S": "a"})
    user_client(n, "eve", [
        {"Effect": "Allow", "Action": "dynamodb:*",
         "Resource": "arn:aws:dynamodb:*:*:table/*"},
        {"Effect": "Deny", "Action": "dynamodb:*",
         "Resource": "arn:aws:dynamodb:*:*:table/*",
         "Condition": {"ForAnyValue:StringEquals": {
             "dynamodb:LeadingKeys": ["YQ==", "100"]}}}])
    made = n.ows_json("key", "access", "create", "eve")
    eve = (made["access_key_id"], made["secret_access_key"])
    for table, t, spellings in (("bkeys", "B", ["YR==", "YQ", "YQ=="]),
                                ("nkeys", "N", ["1.0E2", "100.000", "1e2"])):
        for s in spellings:
            k = {"id": {t: s}}
            for op, body in (
                    ("PutItem", {"TableName": table, "Item": k}),
                    ("GetItem", {"TableName": table, "Key": k}),
                    ("UpdateItem", {"TableName": table, "Key": k}),
                    ("DeleteItem", {"TableName": table, "Key": k}),
                    ("Query", {"TableName": table,
                               "KeyConditionExpression": "id = :v",
                               "ExpressionAttributeValues": {":v": {t: s}}}),
                    ("BatchGetItem", {"RequestItems": {table: {"Keys": [k]}}}),
                    ("BatchWriteItem", {"RequestItems": {table: [
                        {"DeleteRequest": {"Key": k}}]}}),
                    ("TransactGetItems", {"TransactItems": [
                        {"Get": {"TableName": table, "Key": k}}]}),
                    ("TransactWriteItems", {"TransactItems": [
                        {"Delete": {"TableName": table, "Key": k}}]})):
                status, reply = _signed(n, eve, op, body)
                check(status == 400 and "AccessDenied" in reply.get("__type", ""),
                      (op, s, status, reply))
    # another partition is eve's
    check(_signed(n, eve, "PutItem", {"TableName": "bkeys", "Item": {
        "id": {"B": "Yg=="}}})[0] == 200)
