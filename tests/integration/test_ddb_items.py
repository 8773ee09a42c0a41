"""DynamoDB's item writes against a real owsd with real clients: boto3's
client and resource APIs (this Python's boto3 and Debian's 1.26 under
/usr/bin/python3), the aws cli (v1 and Debian's 2.9).

PutItem, UpdateItem and DeleteItem with every ReturnValues form, conditions
that hold and fail (ReturnValuesOnConditionCheckFailure), every update
action on nested paths, lists and sets, numbers at 38 digits (ADD exact),
the legacy Expected / AttributeUpdates, consumed write units; each error
with DynamoDB's code and message; BatchWriteItem (the batch writer, its
limits); TransactWriteItems (cancellation reasons, all or nothing, the
ClientRequestToken); dynamodb:LeadingKeys; TTL (an expired item is gone for
reads and conditions at once, and deleted through the log later)."""
import json
import os
import subprocess
import time
from decimal import Decimal

from owstest import (PYTHON_DEBIAN, aws_cli, aws_env, boto3_client, check,
                     deploy, root_creds, started, wait_for, write_json)

STACK = {
    "stack": "items",
    "tables": {
        "users": {"partition_key": "id:S",
                  "indexes": {"by-email": {"partition_key": "email:S",
                                           "projection": "ALL"}}},
        "events": {"partition_key": "pk:S", "sort_key": "ts:N",
                   "ttl_attribute": "expires"},
    },
}


def node_with_tables():
    n = started()
    deploy(n, STACK)
    return n, boto3_client(n, "dynamodb")


def error(fn, **kw):
    """The (code, message, whole error response) of a call that must fail."""
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], e.response
    raise AssertionError("%s(%r) did not fail" % (fn.__name__, kw))


def py(n, code, debian=False, key=None):
    """Run code (with `out` a dict it fills) under this Python or Debian's
    with boto3 pointed at n; returns out."""
    prog = ("import json, boto3, sys\n"
            "from decimal import Decimal\n"
            "from boto3.dynamodb.conditions import Attr, Key\n"
            "db = boto3.resource('dynamodb', endpoint_url=%r)\n"
            "client = boto3.client('dynamodb', endpoint_url=%r)\n"
            "out = {}\n%s\n"
            "print(json.dumps(out, default=str))\n") % (
                "http://" + n.edge, "http://" + n.edge, code)
    exe = PYTHON_DEBIAN if debian else "python3"
    check(os.path.exists(exe) or not debian, "Debian's python3 missing")
    p = subprocess.run([exe, "-c", prog], capture_output=True, text=True,
                       timeout=120, env=aws_env(n, key))
    check(p.returncode == 0, (exe, p.stdout, p.stderr[-3000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def get(db, table, key):
    return db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")



def test_get_item_reply_bytes_and_consumed_capacity():
    """GetItem's answer, byte for byte as the wire carries it: the item's
    attributes in the order they were written, strings escaped as JSON
    needs and no more ("/" and UTF-8 as they are), numbers canonical,
    binaries base64; ConsumedCapacity after the item, half a unit per 4 KB
    eventually consistent, one consistent, one for a missing item."""
    n, db = node_with_tables()
    raw = []
    db.meta.events.register("after-call.dynamodb.GetItem",
                            lambda http_response, **kw: raw.append(
                                http_response.content))

    def get_raw(**kw):
        db.get_item(TableName="users", **kw)
        return raw[-1].decode("utf-8")
    db.put_item(TableName="users", Item={
        "id": {"S": "g1"}, "z": {"N": "1.50"},
        "a": {"S": "caf\u00e9 \"q\" back\\slash a/b\n\t\u0001 \U0001F600"},
        "b": {"B": b"\x00\x01\xff"}, "t": {"BOOL": False}, "u": {"NULL": True},
        "m": {"M": {"k": {"L": [{"NS": ["2", "1.0"]}, {"SS": ["x"]}]}}}})
    item = ('{"id":{"S":"g1"},"z":{"N":"1.5"},'
            '"a":{"S":"caf\u00e9 \\"q\\" back\\\\slash a/b\\n\\t\\u0001 '
            '\U0001F600"},"b":{"B":"AAH/"},"t":{"BOOL":false},'
            '"u":{"NULL":true},"m":{"M":{"k":{"L":[{"NS":["2","1"]},'
            '{"SS":["x"]}]}}}}')
    key = {"id": {"S": "g1"}}
    got = get_raw(Key=key)
    check(got == '{"Item":' + item + '}', got)
    got = get_raw(Key=key, ReturnConsumedCapacity="TOTAL")
    check(got == '{"Item":' + item + ',"ConsumedCapacity":{"TableName":'
          '"users","CapacityUnits":0.5}}', got)
    got = get_raw(Key=key, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    check(got == '{"Item":' + item + ',"ConsumedCapacity":{"TableName":'
          '"users","CapacityUnits":1.0,"Table":{"CapacityUnits":1.0}}}', got)
    missing = {"id": {"S": "none"}}
    check(get_raw(Key=missing) == '{}', raw[-1])
    got = get_raw(Key=missing, ReturnConsumedCapacity="TOTAL")
    check(got == '{"ConsumedCapacity":{"TableName":"users","CapacityUnits":0.5}}',
          got)
    # 9 KB: three units consistent, one and a half not
    db.put_item(TableName="users", Item={"id": {"S": "big"},
                                         "v": {"S": "x" * 9000}})
    got = get_raw(Key={"id": {"S": "big"}}, ReturnConsumedCapacity="TOTAL")
    check(got.endswith('"ConsumedCapacity":{"TableName":"users",'
                       '"CapacityUnits":1.5}}'), got[-80:])
    got = get_raw(Key={"id": {"S": "big"}}, ConsistentRead=True,
                  ReturnConsumedCapacity="TOTAL")
    check(got == '{"Item":{"id":{"S":"big"},"v":{"S":"' + "x" * 9000 + '"}},'
          '"ConsumedCapacity":{"TableName":"users","CapacityUnits":3.0}}',
          got[-80:])
    # a projection still answers the attributes asked for
    got = get_raw(Key=key, ProjectionExpression="z, m.k[1]")
    check(got == '{"Item":{"z":{"N":"1.5"},"m":{"M":{"k":{"L":[{"SS":["x"]}]}}}}}',
          got)


# ---- PutItem, UpdateItem, DeleteItem ----

def test_put_and_delete_return_values_and_conditions():
    n, db = node_with_tables()
    item = {"id": {"S": "u1"}, "email": {"S": "a@x"}, "n": {"N": "1.50"},
            "tags": {"SS": ["a", "b"]}, "doc": {"M": {"l": {"L": [{"N": "1"}]}}}}
    r = db.put_item(TableName="users", Item=item, ReturnValues="ALL_OLD",
                    ReturnConsumedCapacity="TOTAL")
    check("Attributes" not in r, r)
    check(r["ConsumedCapacity"]["TableName"] == "users", r)
    # the table's unit and the by-email row's: TOTAL counts both
    check(r["ConsumedCapacity"]["CapacityUnits"] == 2.0, r)
    got = get(db, "users", {"id": {"S": "u1"}})
    check(got["n"] == {"N": "1.5"}, got)            # canonical number

    # The condition fails: nothing changes; ALL_OLD on failure brings the item.
    code, msg, resp = error(db.put_item, TableName="users",
                            Item={"id": {"S": "u1"}},
                            ConditionExpression="attribute_not_exists(id)")
    check((code, msg) == ("ConditionalCheckFailedException",
                          "The conditional request failed"), (code, msg))
    check("Item" not in resp, resp)
    code, msg, resp = error(db.put_item, TableName="users",
                            Item={"id": {"S": "u1"}},
                            ConditionExpression="attribute_not_exists(id)",
                            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    check(code == "ConditionalCheckFailedException", code)
    check(resp["Item"]["email"] == {"S": "a@x"}, resp)
    check(get(db, "users", {"id": {"S": "u1"}})["email"] == {"S": "a@x"})

    # It holds: replaced; the old item back; the index row costs its unit.
    r = db.put_item(TableName="users",
                    Item={"id": {"S": "u1"}, "email": {"S": "b@x"}},
                    ConditionExpression="#n = :n AND contains(tags, :t)",
                    ExpressionAttributeNames={"#n": "n"},
                    ExpressionAttributeValues={":n": {"N": "1.5"}, ":t": {"S": "b"}},
                    ReturnValues="ALL_OLD", ReturnConsumedCapacity="INDEXES")
    check(r["Attributes"]["tags"]["SS"] and r["Attributes"]["email"] == {"S": "a@x"}, r)
    cc = r["ConsumedCapacity"]
    check(cc["Table"]["CapacityUnits"] == 1.0, cc)
    check(cc["GlobalSecondaryIndexes"]["by-email"]["CapacityUnits"] == 2.0, cc)
    check(cc["CapacityUnits"] == 3.0, cc)

    # Only NONE and ALL_OLD for PutItem and DeleteItem.
    code, msg, _ = error(db.put_item, TableName="users", Item={"id": {"S": "u2"}},
                         ReturnValues="ALL_NEW")
    check((code, msg) == ("ValidationException", "Return values set to invalid value"),
          (code, msg))
    code, msg, _ = error(db.delete_item, TableName="users", Key={"id": {"S": "u1"}},
                         ReturnValues="UPDATED_NEW")
    check((code, msg) == ("ValidationException", "Return values set to invalid value"),
          (code, msg))

    # DeleteItem: conditions, ALL_OLD, and a delete of nothing.
    code, _, _ = error(db.delete_item, TableName="users", Key={"id": {"S": "u1"}},
                       ConditionExpression="email = :e",
                       ExpressionAttributeValues={":e": {"S": "a@x"}})
    check(code == "ConditionalCheckFailedException", code)
    r = db.delete_item(TableName="users", Key={"id": {"S": "u1"}},
                       ConditionExpression="email = :e",
                       ExpressionAttributeValues={":e": {"S": "b@x"}},
                       ReturnValues="ALL_OLD")
    check(r["Attributes"] == {"id": {"S": "u1"}, "email": {"S": "b@x"}}, r)
    check(get(db, "users", {"id": {"S": "u1"}}) is None)
    r = db.delete_item(TableName="users", Key={"id": {"S": "u1"}},
                       ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL")
    check("Attributes" not in r and r["ConsumedCapacity"]["CapacityUnits"] == 1.0, r)


def test_update_actions_on_nested_paths_sets_and_numbers():
    n, db = node_with_tables()
    key = {"id": {"S": "u"}}
    # A new item from the key and the update alone.
    r = db.update_item(TableName="users", Key=key,
                       UpdateExpression="SET a = :a, m = :m, l = :l ADD c :one, s :ss",
                       ExpressionAttributeValues={
                           ":a": {"S": "A"}, ":one": {"N": "1"},
                           ":m": {"M": {"x": {"M": {"y": {"N": "0"}}}}},
                           ":l": {"L": [{"S": "p"}, {"S": "q"}]},
                           ":ss": {"SS": ["k1", "k2"]}},
                       ReturnValues="ALL_NEW")
    check(r["Attributes"]["id"] == {"S": "u"} and r["Attributes"]["c"] == {"N": "1"}, r)

    # UPDATED_OLD / UPDATED_NEW: only the paths the update named.
    r = db.update_item(TableName="users", Key=key,
                       UpdateExpression="SET m.x.y = m.x.y + :d, l[1] = :z "
                                        "REMOVE a DELETE s :del",
                       ExpressionAttributeValues={":d": {"N": "2.5"}, ":z": {"S": "Z"},
                                                  ":del": {"SS": ["k1"]}},
                       ReturnValues="UPDATED_OLD")
    check(r["Attributes"] == {"m": {"M": {"x": {"M": {"y": {"N": "0"}}}}},
                              "l": {"L": [{"S": "q"}]}, "a": {"S": "A"},
                              "s": {"SS": ["k1", "k2"]}} or
          set(r["Attributes"]) == {"m", "l", "a", "s"}, r)
    r = db.update_item(TableName="users", Key=key,
                       UpdateExpression="SET l = list_append(l, :more), "
                                        "d = if_not_exists(d, :dflt)",
                       ExpressionAttributeValues={":more": {"L": [{"N": "7"}]},
                                                  ":dflt": {"BOOL": True}},
                       ReturnValues="UPDATED_NEW")
    check(r["Attributes"]["l"] == {"L": [{"S": "p"}, {"S": "Z"}, {"N": "7"}]}, r)
    check(r["Attributes"]["d"] == {"BOOL": True}, r)
    got = get(db, "users", key)
    check(got["m"]["M"]["x"]["M"]["y"] == {"N": "2.5"}, got)
    check("a" not in got and got["s"] == {"SS": ["k2"]}, got)

    # Numbers: 38 digits exact through ADD; past 38 digits refused.
    big = "9" * 37
    db.update_item(TableName="users", Key=key, UpdateExpression="SET big = :b",
                   ExpressionAttributeValues={":b": {"N": big}})
    r = db.update_item(TableName="users", Key=key, UpdateExpression="ADD big :one",
                       ExpressionAttributeValues={":one": {"N": "1"}},
                       ReturnValues="UPDATED_NEW")
    check(r["Attributes"]["big"] == {"N": "1" + "0" * 37}, r)
    r = db.update_item(TableName="users", Key=key, UpdateExpression="ADD f :f",
                       ExpressionAttributeValues={":f": {"N": "0.1"}},
                       ReturnValues="UPDATED_NEW")
    r = db.update_item(TableName="users", Key=key, UpdateExpression="ADD f :f",
                       ExpressionAttributeValues={":f": {"N": "0.2"}},
                       ReturnValues="UPDATED_NEW")
    check(r["Attributes"]["f"] == {"N": "0.3"}, r)     # never 0.30000000000000004
    code, msg, _ = error(db.update_item, TableName="users", Key=key,
                         UpdateExpression="SET x = :x",
                         ExpressionAttributeValues={":x": {"N": "1" * 39}})
    check((code, msg) == ("ValidationException", "ExpressionAttributeValues contains "
                          "invalid value: Attempting to store more than 38 "
                          "significant digits in a Number for key :x"), (code, msg))

    # Conditions on an update; the key may not change.
    code, _, resp = error(db.update_item, TableName="users", Key=key,
                          UpdateExpression="SET a = :a", ConditionExpression="c > :c",
                          ExpressionAttributeValues={":a": {"S": "B"}, ":c": {"N": "5"}},
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    check(code == "ConditionalCheckFailedException" and resp["Item"]["c"] == {"N": "1"},
          resp)
    code, msg, _ = error(db.update_item, TableName="users", Key=key,
                         UpdateExpression="SET id = :a",
                         ExpressionAttributeValues={":a": {"S": "B"}})
    check((code, msg) == ("ValidationException", "One or more parameter values were "
                          "invalid: Cannot update attribute id. This attribute is "
                          "part of the key"), (code, msg))
    # An index key of the wrong type is refused at apply.
    code, msg, _ = error(db.update_item, TableName="users", Key=key,
                         UpdateExpression="SET email = :e",
                         ExpressionAttributeValues={":e": {"N": "1"}})
    check(code == "ValidationException" and "by-email" in msg, (code, msg))
    # ADD to a string: found at apply, nothing changes.
    code, msg, _ = error(db.update_item, TableName="users", Key=key,
                         UpdateExpression="ADD l :one",
                         ExpressionAttributeValues={":one": {"N": "1"}})
    check(code == "ValidationException", (code, msg))
    check(get(db, "users", key)["l"]["L"][2] == {"N": "7"})


def test_legacy_parameters_and_validation_messages():
    n, db = node_with_tables()
    key = {"id": {"S": "old"}}
    r = db.update_item(TableName="users", Key=key,
                       AttributeUpdates={"a": {"Action": "PUT", "Value": {"S": "x"}},
                                         "c": {"Action": "ADD", "Value": {"N": "2"}}},
                       ReturnValues="ALL_NEW")
    check(r["Attributes"] == {"id": {"S": "old"}, "a": {"S": "x"}, "c": {"N": "2"}}, r)
    code, _, _ = error(db.put_item, TableName="users", Item={"id": {"S": "old"}},
                       Expected={"a": {"Value": {"S": "y"}}})
    check(code == "ConditionalCheckFailedException", code)
    db.put_item(TableName="users", Item={"id": {"S": "old"}},
                Expected={"a": {"Value": {"S": "x"}}, "zz": {"Exists": False}})
    check(get(db, "users", key) == {"id": {"S": "old"}})

    cases = [
        (db.put_item, dict(TableName="users", Item={"id": {"S": "z"}}, Expected={
            "a": {"Exists": False}}, ConditionExpression="attribute_exists(a)"),
         "Can not use both expression and non-expression parameters in the same "
         "request: Non-expression parameters: {Expected} Expression parameters: "
         "{ConditionExpression}"),
        (db.delete_item, dict(TableName="users", Key={"id": {"S": "z"}},
                              ConditionExpression="a = :a",
                              ExpressionAttributeValues={":a": {"S": "1"}, ":b": {"S": "2"}}),
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"),
        (db.put_item, dict(TableName="users", Item={"id": {"S": "z"}},
                           ExpressionAttributeNames={"#a": "a"}),
         "ExpressionAttributeNames can only be specified when using expressions"),
        (db.put_item, dict(TableName="users", Item={"id": {"N": "1"}}),
         "One or more parameter values were invalid: Type mismatch for key id "
         "expected: S actual: N"),
        (db.put_item, dict(TableName="users", Item={"x": {"S": "1"}}),
         "One or more parameter values were invalid: Missing the key id in the item"),
        (db.delete_item, dict(TableName="users", Key={"id": {"S": "z"}, "x": {"S": "1"}}),
         "The provided key element does not match the schema"),
        (db.put_item, dict(TableName="users", Item={"id": {"S": "z"},
                                                    "big": {"S": "x" * 400 * 1024}}),
         "Item size has exceeded the maximum allowed size"),
        (db.update_item, dict(TableName="users", Key={"id": {"S": "z"}},
                              UpdateExpression="SET a = :a"),
         "Invalid UpdateExpression: An expression attribute value used in expression "
         "is not defined; attribute value: :a"),
    ]
    for fn, kw, want in cases:
        code, msg, _ = error(fn, **kw)
        check((code, msg) == ("ValidationException", want), (kw, code, msg))
    code, msg, _ = error(db.put_item, TableName="nosuch", Item={"id": {"S": "z"}})
    check((code, msg) == ("ResourceNotFoundException", "Requested resource not found"),
          (code, msg))
    check(get(db, "users", {"id": {"S": "z"}}) is None)


# ---- the resource API, the batch writer, both boto3s ----

RESOURCE = r'''
t = db.Table("users")
t.put_item(Item={"id": "r-" + tag, "n": Decimal("12.50"), "tags": {"a", "b"},
                 "doc": {"k": [1, "two", None, True]}})
t.update_item(Key={"id": "r-" + tag}, UpdateExpression="SET n = n + :d",
              ConditionExpression=Attr("n").gt(10) & Attr("tags").contains("a"),
              ExpressionAttributeValues={":d": Decimal("0.5")})
try:
    t.update_item(Key={"id": "r-" + tag}, UpdateExpression="SET n = :z",
                  ConditionExpression=Attr("n").lt(1),
                  ExpressionAttributeValues={":z": 0})
    out["failed"] = None
except client.exceptions.ConditionalCheckFailedException as e:
    out["failed"] = e.response["Error"]["Code"]
with t.batch_writer() as bw:
    for i in range(60):
        bw.put_item(Item={"id": "b-%s-%d" % (tag, i), "i": i})
    bw.delete_item(Key={"id": "b-%s-0" % tag})
out["item"] = t.get_item(Key={"id": "r-" + tag}, ConsistentRead=True)["Item"]
out["item"]["tags"] = sorted(out["item"]["tags"])
out["b59"] = t.get_item(Key={"id": "b-%s-59" % tag}, ConsistentRead=True).get("Item")
out["b0"] = t.get_item(Key={"id": "b-%s-0" % tag}, ConsistentRead=True).get("Item")
'''


def test_resource_api_and_batch_writer_both_boto3s():
    n, db = node_with_tables()
    for debian in (False, True):
        tag = "deb" if debian else "new"
        out = py(n, "tag = %r\n" % tag + RESOURCE, debian=debian)
        check(out["failed"] == "ConditionalCheckFailedException", out)
        check(out["item"]["n"] == "13" and out["item"]["tags"] == ["a", "b"], out)
        check(out["b59"] is not None and out["b0"] is None, out)


# ---- BatchWriteItem ----

def test_batch_write_item_limits_and_results():
    n, db = node_with_tables()
    put = lambda i: {"PutRequest": {"Item": {"id": {"S": "k%d" % i}}}}
    r = db.batch_write_item(RequestItems={
        "users": [put(i) for i in range(20)],
        "events": [{"PutRequest": {"Item": {"pk": {"S": "p"}, "ts": {"N": str(i)}}}}
                   for i in range(5)]},
        ReturnConsumedCapacity="TOTAL")
    check(r["UnprocessedItems"] == {}, r)
    units = {c["TableName"]: c["CapacityUnits"] for c in r["ConsumedCapacity"]}
    check(units == {"users": 20.0, "events": 5.0}, r)
    check(get(db, "events", {"pk": {"S": "p"}, "ts": {"N": "4"}}) is not None)

    code, msg, _ = error(db.batch_write_item, RequestItems={
        "users": [put(i) for i in range(26)]})
    check(code == "ValidationException", (code, msg))
    code, msg, _ = error(db.batch_write_item, RequestItems={
        "users": [put(1), {"DeleteRequest": {"Key": {"id": {"S": "k1"}}}}]})
    check((code, msg) == ("ValidationException",
                          "Provided list of item keys contains duplicates"), (code, msg))
    code, msg, _ = error(db.batch_write_item, RequestItems={
        "users": [put(100)], "nosuch": [put(101)]})
    check((code, msg) == ("ResourceNotFoundException", "Requested resource not found"),
          (code, msg))
    # refused batches wrote nothing
    check(get(db, "users", {"id": {"S": "k100"}}) is None)
    r = db.batch_write_item(RequestItems={"users": [
        {"DeleteRequest": {"Key": {"id": {"S": "k%d" % i}}}} for i in range(20)]})
    check(r["UnprocessedItems"] == {}, r)
    check(get(db, "users", {"id": {"S": "k3"}}) is None)


# ---- TransactWriteItems ----

def test_transactions_all_or_nothing_with_reasons():
    n, db = node_with_tables()
    db.put_item(TableName="users", Item={"id": {"S": "acct"}, "bal": {"N": "10"}})
    db.put_item(TableName="users", Item={"id": {"S": "bank"}})
    txn = lambda amount: [
        {"Update": {"TableName": "users", "Key": {"id": {"S": "acct"}},
                    "UpdateExpression": "SET bal = bal - :a",
                    "ConditionExpression": "bal >= :a",
                    "ExpressionAttributeValues": {":a": {"N": str(amount)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Put": {"TableName": "events", "Item": {"pk": {"S": "acct"},
                                                 "ts": {"N": str(amount)}}}},
        {"ConditionCheck": {"TableName": "users", "Key": {"id": {"S": "bank"}},
                            "ConditionExpression": "attribute_exists(id)"}},
    ]
    r = db.transact_write_items(TransactItems=txn(4), ReturnConsumedCapacity="TOTAL")
    check({c["TableName"] for c in r["ConsumedCapacity"]} == {"users", "events"}, r)
    check(get(db, "users", {"id": {"S": "acct"}})["bal"] == {"N": "6"})

    code, msg, resp = error(db.transact_write_items, TransactItems=txn(7))
    check(code == "TransactionCanceledException", code)
    check(msg == "Transaction cancelled, please refer cancellation reasons for "
                 "specific reasons [ConditionalCheckFailed, None, None]", msg)
    reasons = resp["CancellationReasons"]
    check(reasons[0]["Code"] == "ConditionalCheckFailed", reasons)
    check(reasons[0]["Message"] == "The conditional request failed", reasons)
    check(reasons[0]["Item"]["bal"] == {"N": "6"}, reasons)
    check([x["Code"] for x in reasons[1:]] == ["None", "None"], reasons)
    # nothing of it was written
    check(get(db, "events", {"pk": {"S": "acct"}, "ts": {"N": "7"}}) is None)
    check(get(db, "users", {"id": {"S": "acct"}})["bal"] == {"N": "6"})

    code, msg, _ = error(db.transact_write_items, TransactItems=[
        {"Put": {"TableName": "users", "Item": {"id": {"S": "acct"}}}},
        {"Delete": {"TableName": "users", "Key": {"id": {"S": "acct"}}}}])
    check((code, msg) == ("ValidationException", "Transaction request cannot include "
                          "multiple operations on one item"), (code, msg))
    code, msg, _ = error(db.transact_write_items, TransactItems=[
        {"Put": {"TableName": "users", "Item": {"id": {"S": "x%d" % i}}}}
        for i in range(101)])
    check(code == "ValidationException" and "100" in msg, (code, msg))
    code, _, _ = error(db.transact_write_items, TransactItems=[
        {"Put": {"TableName": "nosuch", "Item": {"id": {"S": "x"}}}}])
    check(code == "ResourceNotFoundException", code)


def test_transaction_client_request_token():
    n, db = node_with_tables()
    items = lambda by: [{"Update": {
        "TableName": "users", "Key": {"id": {"S": "ctr"}},
        "UpdateExpression": "ADD c :one",
        "ExpressionAttributeValues": {":one": {"N": str(by)}}}}]
    for _ in range(3):
        db.transact_write_items(TransactItems=items(1), ClientRequestToken="tok-a")
    check(get(db, "users", {"id": {"S": "ctr"}})["c"] == {"N": "1"})
    code, _, _ = error(db.transact_write_items, TransactItems=items(2),
                       ClientRequestToken="tok-a")
    check(code == "IdempotentParameterMismatchException", code)
    # boto3 makes a token of its own for each call: two calls, two writes
    db.transact_write_items(TransactItems=items(1))
    db.transact_write_items(TransactItems=items(1))
    check(get(db, "users", {"id": {"S": "ctr"}})["c"] == {"N": "3"})


# ---- the aws cli ----

def test_aws_cli_put_update_delete():
    n, db = node_with_tables()
    key = root_creds(n)
    for debian in (False, True):
        id_ = "cli-deb" if debian else "cli-v1"
        p = aws_cli(n, key, "dynamodb", "put-item", "--table-name", "users",
                    "--item", json.dumps({"id": {"S": id_}, "v": {"N": "1"}}),
                    "--return-consumed-capacity", "TOTAL", debian=debian)
        check(p.returncode == 0, p.stderr)
        check(json.loads(p.stdout)["ConsumedCapacity"]["CapacityUnits"] == 1.0, p.stdout)
        p = aws_cli(n, key, "dynamodb", "update-item", "--table-name", "users",
                    "--key", json.dumps({"id": {"S": id_}}),
                    "--update-expression", "SET v = v + :one",
                    "--expression-attribute-values", '{":one": {"N": "1"}}',
                    "--return-values", "UPDATED_NEW", debian=debian)
        check(p.returncode == 0, p.stderr)
        check(json.loads(p.stdout)["Attributes"] == {"v": {"N": "2"}}, p.stdout)
        p = aws_cli(n, key, "dynamodb", "put-item", "--table-name", "users",
                    "--item", json.dumps({"id": {"S": id_}}),
                    "--condition-expression", "attribute_not_exists(id)", debian=debian)
        check(p.returncode != 0 and "ConditionalCheckFailedException" in p.stderr,
              p.stderr)
        p = aws_cli(n, key, "dynamodb", "delete-item", "--table-name", "users",
                    "--key", json.dumps({"id": {"S": id_}}), "--return-values",
                    "ALL_OLD", debian=debian)
        check(p.returncode == 0, p.stderr)
        check(json.loads(p.stdout)["Attributes"]["v"] == {"N": "2"}, p.stdout)


# ---- dynamodb:LeadingKeys ----

def test_leading_keys_limit_a_user_to_its_partition():
    n, db = node_with_tables()
    n.ows("apply", write_json({
        "stack": "people",
        "policies": {"own-rows": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem",
                       "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"],
            "Resource": "arn:aws:dynamodb:*:*:table/users",
            "Condition": {"ForAllValues:StringEquals":
                          {"dynamodb:LeadingKeys": ["ann"]}}}]}},
        "users": {"ann": {"policies": ["own-rows"]}}}), "--yes")
    made = n.ows_json("key", "access", "create", "ann")
    ann = boto3_client(n, "dynamodb", key=(made["access_key_id"],
                                           made["secret_access_key"]))
    ann.put_item(TableName="users", Item={"id": {"S": "ann"}})
    code, msg, _ = error(ann.put_item, TableName="users", Item={"id": {"S": "bob"}})
    check(code == "AccessDeniedException" and "dynamodb:PutItem" in msg, (code, msg))
    code, _, _ = error(ann.batch_write_item, RequestItems={"users": [
        {"PutRequest": {"Item": {"id": {"S": "ann"}, "x": {"N": "1"}}}},
        {"PutRequest": {"Item": {"id": {"S": "bob"}}}}]})
    check(code == "AccessDeniedException", code)
    # a transaction is judged action by action: Delete is not allowed
    code, _, _ = error(ann.transact_write_items, TransactItems=[
        {"Delete": {"TableName": "users", "Key": {"id": {"S": "ann"}}}}])
    check(code == "AccessDeniedException", code)
    check(get(db, "users", {"id": {"S": "bob"}}) is None)
    check(get(db, "users", {"id": {"S": "ann"}}) == {"id": {"S": "ann"}})



def test_leading_keys_and_attributes_judge_get_item_and_name_the_table_arn():
    """GetItem is judged with dynamodb:LeadingKeys (the key asked for) and
    dynamodb:Attributes ([""] for a whole item, else the projection's
    names); a denial names the caller, the action and the table's ARN in
    the request's region and the cluster's account, as DynamoDB's does,
    cut at 699 bytes like the rest of the message's parts."""
    n, db = node_with_tables()
    db.put_item(TableName="users", Item={"id": {"S": "ann"}, "a": {"S": "1"},
                                         "b": {"S": "2"}})
    db.put_item(TableName="users", Item={"id": {"S": "bob"}, "a": {"S": "3"}})
    n.ows("apply", write_json({
        "stack": "readers",
        "policies": {
            "own-get": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "dynamodb:GetItem",
                "Resource": "arn:aws:dynamodb:*:*:table/users",
                "Condition": {"ForAllValues:StringEquals":
                              {"dynamodb:LeadingKeys": ["ann"]}}}]},
            "only-a": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "dynamodb:GetItem",
                "Resource": "arn:aws:dynamodb:*:*:table/users",
                "Condition": {"ForAllValues:StringEquals":
                              {"dynamodb:Attributes": ["id", "a"]}}}]}},
        "users": {"ann": {"policies": ["own-get"]},
                  "cid": {"policies": ["only-a"]}}}), "--yes")

    def client(user):
        made = n.ows_json("key", "access", "create", user)
        return boto3_client(n, "dynamodb", key=(made["access_key_id"],
                                                made["secret_access_key"]))
    ann, cid = client("ann"), client("cid")
    arn = db.describe_table(TableName="users")["Table"]["TableArn"]
    got = ann.get_item(TableName="users", Key={"id": {"S": "ann"}})
    check(got["Item"] == {"id": {"S": "ann"}, "a": {"S": "1"}, "b": {"S": "2"}}, got)
    code, msg, _ = error(ann.get_item, TableName="users", Key={"id": {"S": "bob"}})
    check(code == "AccessDeniedException" and msg ==
          "User: ann is not authorized to perform: dynamodb:GetItem on "
          "resource: " + arn, (code, msg))
    # whole items are [""]: no list of names allows them; projections may
    code, msg, _ = error(cid.get_item, TableName="users", Key={"id": {"S": "ann"}})
    check(code == "AccessDeniedException" and msg.endswith(arn), (code, msg))
    got = cid.get_item(TableName="users", Key={"id": {"S": "ann"}},
                       ProjectionExpression="a")
    check(got["Item"] == {"a": {"S": "1"}}, got)
    code, _, _ = error(cid.get_item, TableName="users", Key={"id": {"S": "ann"}},
                       ProjectionExpression="a, b")
    check(code == "AccessDeniedException", code)
    # a table name too long for the ARN's buffer: the ARN is cut
    long_name = "t" * 800
    code, msg, _ = error(ann.get_item, TableName=long_name, Key={"id": {"S": "x"}})
    want = (arn[:-len("users")] + long_name)[:699]
    check(code == "AccessDeniedException" and msg ==
          "User: ann is not authorized to perform: dynamodb:GetItem on "
          "resource: " + want, (code, msg[:200]))


# ---- TTL ----

def test_ttl_expired_items_vanish_at_once_and_are_deleted_later():
    n, db = node_with_tables()
    past, future = int(time.time()) - 60, int(time.time()) + 3600
    for i in range(30):
        db.put_item(TableName="events", Item={"pk": {"S": "t"}, "ts": {"N": str(i)},
                                              "expires": {"N": str(past)}})
    db.put_item(TableName="events", Item={"pk": {"S": "t"}, "ts": {"N": "100"},
                                          "expires": {"N": str(future)}})
    # invisible to reads and to conditions at once
    check(get(db, "events", {"pk": {"S": "t"}, "ts": {"N": "3"}}) is None)
    db.put_item(TableName="events", Item={"pk": {"S": "t"}, "ts": {"N": "4"}},
                ConditionExpression="attribute_not_exists(pk)")
    # and deleted through the log: the table's count drops to the two live ones
    wait_for(lambda: db.describe_table(TableName="events")["Table"]["ItemCount"] == 2,
             timeout=60, what="the TTL sweep")
    check(get(db, "events", {"pk": {"S": "t"}, "ts": {"N": "100"}}) is not None)
    check(get(db, "events", {"pk": {"S": "t"}, "ts": {"N": "4"}}) == {
        "pk": {"S": "t"}, "ts": {"N": "4"}})
