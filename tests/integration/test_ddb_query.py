"""DynamoDB's reads on a real owsd (issue 11, sections 3 and 4): GetItem,
BatchGetItem, TransactGetItems, Query and Scan with boto3 (this Python's
and Debian's 1.26), its resource API (Key and Attr conditions), the aws
cli v1 and Debian's 2.9; the order of number, string and binary sort
keys against Python's own (decimal for numbers), every key condition
operator, pagination by Limit and by the 1 MB page, parallel scan
segments that cover every item once, secondary indexes, Select COUNT,
and each error with DynamoDB's code and message."""
import decimal
import json
import os
import subprocess

from owstest import (PYTHON_DEBIAN, aws_cli, boto3_client, check, root_creds,
                     started)

D = decimal.Decimal


# ---- helpers ----

def table(c, name, pk=("id", "S"), sk=None, gsi=(), lsi=(), attrs=()):
    """Create table name: pk and sk are (name, type); gsi and lsi lists of
    (index name, pk, sk or None, projection dict)."""
    defs = {pk[0]: pk[1]}
    schema = [{"AttributeName": pk[0], "KeyType": "HASH"}]
    if sk:
        defs[sk[0]] = sk[1]
        schema.append({"AttributeName": sk[0], "KeyType": "RANGE"})
    for a, t in attrs:
        defs[a] = t
    kw = {}

    def ixdef(name_, ipk, isk, proj):
        ks = [{"AttributeName": ipk[0], "KeyType": "HASH"}]
        defs[ipk[0]] = ipk[1]
        if isk:
            ks.append({"AttributeName": isk[0], "KeyType": "RANGE"})
            defs[isk[0]] = isk[1]
        return {"IndexName": name_, "KeySchema": ks,
                "Projection": proj or {"ProjectionType": "ALL"}}
    if gsi:
        kw["GlobalSecondaryIndexes"] = [ixdef(*g) for g in gsi]
    if lsi:
        kw["LocalSecondaryIndexes"] = [ixdef(*x) for x in lsi]
    c.create_table(TableName=name, KeySchema=schema,
                   AttributeDefinitions=[{"AttributeName": k, "AttributeType": v}
                                         for k, v in defs.items()],
                   BillingMode="PAY_PER_REQUEST", **kw)


def put_all(c, name, items):
    for i in range(0, len(items), 25):
        req = {name: [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]}
        while req:
            req = c.batch_write_item(RequestItems=req).get("UnprocessedItems")


def expect_error(fn, code, message=None, contains=None):
    try:
        fn()
    except Exception as e:  # botocore.exceptions.ClientError
        err = getattr(e, "response", {}).get("Error", {})
        check(err.get("Code") == code, "expected %s, got %r" % (code, err))
        if message is not None:
            check(err.get("Message") == message,
                  "expected message %r, got %r" % (message, err.get("Message")))
        if contains is not None:
            check(contains in err.get("Message", ""),
                  "expected %r in %r" % (contains, err.get("Message")))
        return err
    check(False, "expected %s, got success" % code)


def query_all(c, **kw):
    """Every page of a Query (or Scan, with op="scan"): (items, pages)."""
    op = kw.pop("op", "query")
    items, pages = [], 0
    while True:
        r = getattr(c, op)(**kw)
        pages += 1
        items.extend(r.get("Items", []))
        if "LastEvaluatedKey" not in r:
            return items, pages
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def node_client():
    n = started()
    return n, boto3_client(n, "dynamodb")


NUMBERS = ["0", "1", "-1", "0.5", "-0.5", "10", "9", "-10", "-9", "100",
           "1E+125", "9.9999999999999999999999999999999999999E+125",
           "-9.9999999999999999999999999999999999999E+125", "-1E+125",
           "1E-130", "-1E-130", "1E-129", "0.1", "0.01", "0.011", "-0.011",
           "123456789012345678901234567890123456.78", "3.14159", "-3.14159",
           "1000000000000000000000", "999999999999999999999", "2", "20",
           "200", "-2", "-20", "-200", "1.0000000000000000000000000000000000001"]


# ---- ordering and key conditions ----

def test_ddb_query_number_order_and_every_operator():
    n, c = node_client()
    table(c, "nums", pk=("p", "S"), sk=("n", "N"))
    put_all(c, "nums", [{"p": {"S": "a"}, "n": {"N": x}, "v": {"S": x}}
                        for x in NUMBERS] + [{"p": {"S": "b"}, "n": {"N": "5"}}])
    want = sorted(NUMBERS, key=D)
    got, _ = query_all(c, TableName="nums", KeyConditionExpression="p = :p",
                       ExpressionAttributeValues={":p": {"S": "a"}})
    check([D(i["n"]["N"]) for i in got] == [D(x) for x in want],
          "number order: %r" % [i["n"]["N"] for i in got])
    back, _ = query_all(c, TableName="nums", KeyConditionExpression="p = :p",
                        ScanIndexForward=False,
                        ExpressionAttributeValues={":p": {"S": "a"}})
    check([i["n"]["N"] for i in back] == [i["n"]["N"] for i in reversed(got)])
    ops = {"=": lambda x, a: x == a, "<": lambda x, a: x < a,
           "<=": lambda x, a: x <= a, ">": lambda x, a: x > a,
           ">=": lambda x, a: x >= a}
    for arg in ["0", "-1E-130", "1E+125", "0.011", "5", "-9.9999999999999999999999999999999999999E+125"]:
        for op, f in ops.items():
            for forward in (True, False):
                items, _ = query_all(
                    c, TableName="nums", ScanIndexForward=forward,
                    KeyConditionExpression="p = :p AND n %s :a" % op,
                    ExpressionAttributeValues={":p": {"S": "a"}, ":a": {"N": arg}})
                exp = [x for x in want if f(D(x), D(arg))]
                if not forward:
                    exp.reverse()
                check([D(i["n"]["N"]) for i in items] == [D(x) for x in exp],
                      "n %s %s (forward %s): %r" % (op, arg, forward,
                                                    [i["n"]["N"] for i in items]))
    for lo, hi in [("-1", "1"), ("0.01", "0.011"), ("5", "5"), ("-1E+125", "1E+125")]:
        items, _ = query_all(c, TableName="nums",
                             KeyConditionExpression="p = :p AND n BETWEEN :lo AND :hi",
                             ExpressionAttributeValues={":p": {"S": "a"},
                                                        ":lo": {"N": lo}, ":hi": {"N": hi}})
        exp = [x for x in want if D(lo) <= D(x) <= D(hi)]
        check([D(i["n"]["N"]) for i in items] == [D(x) for x in exp], (lo, hi, items))
    # the legacy KeyConditions, the same range
    r = c.query(TableName="nums", KeyConditions={
        "p": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
        "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "100"}]}})
    check([D(i["n"]["N"]) for i in r["Items"]] == [D(x) for x in want if D(x) > 100])
    # numbers come back canonical: 1.0 == 1 is the same item
    r = c.get_item(TableName="nums", Key={"p": {"S": "a"}, "n": {"N": "1.000"}})
    check(r["Item"]["v"]["S"] == "1", r)


def test_ddb_query_string_and_binary_order_and_begins_with():
    n, c = node_client()
    table(c, "strs", pk=("p", "S"), sk=("s", "S"))
    words = ["a", "ab", "abc", "abd", "b", "B", "Z", "a b", "a\u00e9", "a\U0001F600",
             "\u00ff", "zz", "aa", "a\x7f", "ab\x7f\x7f", "abz", "ac", "0", "10", "9"]
    put_all(c, "strs", [{"p": {"S": "x"}, "s": {"S": w}} for w in words])
    got, _ = query_all(c, TableName="strs", KeyConditionExpression="p = :p",
                       ExpressionAttributeValues={":p": {"S": "x"}})
    want = sorted(words, key=lambda w: w.encode())
    check([i["s"]["S"] for i in got] == want, [i["s"]["S"] for i in got])
    for prefix in ["a", "ab", "a\x7f", "ab\x7f", "z", "\u00ff", "q"]:
        for forward in (True, False):
            r = c.query(TableName="strs", ScanIndexForward=forward,
                        KeyConditionExpression="p = :p AND begins_with(s, :b)",
                        ExpressionAttributeValues={":p": {"S": "x"}, ":b": {"S": prefix}})
            exp = [w for w in want if w.startswith(prefix)]
            if not forward:
                exp.reverse()
            check([i["s"]["S"] for i in r["Items"]] == exp, (prefix, r["Items"]))

    table(c, "bins", pk=("p", "S"), sk=("b", "B"))
    blobs = [b"\x00", b"\x00\x00", b"\x00\x01", b"\x01", b"\x7f", b"\x80", b"\xff",
             b"\xff\x00", b"\xff\xff", b"\xff\xff\xff", b"a", b"ab", b"\xfe\xff"]
    put_all(c, "bins", [{"p": {"S": "x"}, "b": {"B": v}} for v in blobs])
    got, _ = query_all(c, TableName="bins", KeyConditionExpression="p = :p",
                       ExpressionAttributeValues={":p": {"S": "x"}})
    check([i["b"]["B"] for i in got] == sorted(blobs), [i["b"]["B"] for i in got])
    for prefix in [b"\x00", b"\xff", b"\xff\xff", b"\xfe", b"a"]:
        r = c.query(TableName="bins",
                    KeyConditionExpression="p = :p AND begins_with(b, :b)",
                    ExpressionAttributeValues={":p": {"S": "x"}, ":b": {"B": prefix}})
        check([i["b"]["B"] for i in r["Items"]] ==
              [v for v in sorted(blobs) if v.startswith(prefix)], (prefix, r["Items"]))
    r = c.query(TableName="bins",
                KeyConditionExpression="p = :p AND b BETWEEN :a AND :z",
                ExpressionAttributeValues={":p": {"S": "x"}, ":a": {"B": b"\x00\x01"},
                                           ":z": {"B": b"\xff"}})
    check([i["b"]["B"] for i in r["Items"]] ==
          [v for v in sorted(blobs) if b"\x00\x01" <= v <= b"\xff"])


# ---- pages ----

def test_ddb_query_pagination_limit_and_one_megabyte():
    n, c = node_client()
    table(c, "pages", pk=("p", "S"), sk=("n", "N"))
    put_all(c, "pages", [{"p": {"S": "k"}, "n": {"N": str(i)}, "f": {"N": str(i % 3)}}
                         for i in range(95)])
    for limit in (1, 7, 10, 94, 95, 200):
        for forward in (True, False):
            items, pages = query_all(c, TableName="pages", Limit=limit,
                                     ScanIndexForward=forward,
                                     KeyConditionExpression="p = :p",
                                     ExpressionAttributeValues={":p": {"S": "k"}})
            want = list(range(95)) if forward else list(range(94, -1, -1))
            check([int(i["n"]["N"]) for i in items] == want, (limit, forward))
            check(pages >= -(-95 // limit), (limit, pages))
    # Limit counts items evaluated before the filter; Count what passed
    r = c.query(TableName="pages", Limit=10, KeyConditionExpression="p = :p",
                FilterExpression="f = :z",
                ExpressionAttributeValues={":p": {"S": "k"}, ":z": {"N": "0"}})
    check(r["ScannedCount"] == 10 and r["Count"] == 4, r)
    check(r["LastEvaluatedKey"] == {"p": {"S": "k"}, "n": {"N": "9"}}, r)
    r = c.query(TableName="pages", Select="COUNT", KeyConditionExpression="p = :p",
                FilterExpression="f = :z",
                ExpressionAttributeValues={":p": {"S": "k"}, ":z": {"N": "0"}})
    check("Items" not in r and r["Count"] == 32 and r["ScannedCount"] == 95, r)
    # the 1 MB page: ~300 KB items, four to a page at most
    big = "x" * 300000
    put_all(c, "pages", [{"p": {"S": "big"}, "n": {"N": str(i)}, "d": {"S": big}}
                         for i in range(10)])
    r = c.query(TableName="pages", KeyConditionExpression="p = :p",
                ExpressionAttributeValues={":p": {"S": "big"}})
    check(0 < r["Count"] < 10 and "LastEvaluatedKey" in r, r["Count"])
    items, pages = query_all(c, TableName="pages", KeyConditionExpression="p = :p",
                             ExpressionAttributeValues={":p": {"S": "big"}})
    check([int(i["n"]["N"]) for i in items] == list(range(10)) and pages >= 3, pages)
    scanned, pages = query_all(c, op="scan", TableName="pages")
    check(len(scanned) == 105 and pages >= 3, (len(scanned), pages))


def test_ddb_scan_parallel_segments_cover_every_item_once():
    n, c = node_client()
    table(c, "seg", pk=("id", "S"), sk=("n", "N"))
    all_keys = {("k%d" % (i % 97), i) for i in range(400)}
    put_all(c, "seg", [{"id": {"S": k}, "n": {"N": str(i)}} for k, i in all_keys])
    for total in (1, 2, 7, 64, 1000):
        seen = []
        for s in range(total):
            items, _ = query_all(c, op="scan", TableName="seg", Segment=s,
                                 TotalSegments=total, Limit=13)
            seen.extend((i["id"]["S"], int(i["n"]["N"])) for i in items)
        check(len(seen) == len(all_keys) and set(seen) == all_keys,
              "TotalSegments %d: %d items, %d distinct" % (total, len(seen), len(set(seen))))
    # order is the hash, then the keys: one partition's items stay together
    items, _ = query_all(c, op="scan", TableName="seg", Limit=50)
    parts = [i["id"]["S"] for i in items]
    runs = [p for j, p in enumerate(parts) if j == 0 or parts[j - 1] != p]
    check(len(runs) == 97, "a partition split in the scan order")
    expect_error(lambda: c.scan(TableName="seg", Segment=3, TotalSegments=3),
                 "ValidationException",
                 "The Segment parameter is zero-based and must be less than parameter "
                 "TotalSegments: Segment: 3 is not less than TotalSegments: 3")
    expect_error(lambda: c.scan(TableName="seg", Segment=0),
                 "ValidationException", contains="TotalSegments parameter is required")
    expect_error(lambda: c.scan(TableName="seg", TotalSegments=2),
                 "ValidationException", contains="Segment parameter is required")
    expect_error(lambda: c.scan(TableName="seg", Segment=0, TotalSegments=1000001),
                 "ValidationException", contains="less than or equal to 1000000")
    # a start key of another segment
    first = c.scan(TableName="seg", Segment=0, TotalSegments=2, Limit=1)
    expect_error(lambda: c.scan(TableName="seg", Segment=1, TotalSegments=2,
                                ExclusiveStartKey=first["LastEvaluatedKey"]),
                 "ValidationException",
                 "The provided Exclusive start key does not map to the provided segment")


# ---- indexes ----

def test_ddb_query_global_and_local_indexes():
    n, c = node_client()
    table(c, "idx", pk=("id", "S"), sk=("ts", "N"),
          gsi=[("by-email", ("email", "S"), ("ts", "N"), None),
               ("by-team", ("team", "S"), None, {"ProjectionType": "KEYS_ONLY"})],
          lsi=[("by-score", ("id", "S"), ("score", "N"),
                {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]})])
    items = []
    for i in range(30):
        it = {"id": {"S": "u%d" % (i % 3)}, "ts": {"N": str(i)},
              "team": {"S": "t%d" % (i % 2)}, "score": {"N": str(100 - i)},
              "name": {"S": "n%d" % i}, "extra": {"S": "e%d" % i}}
        if i % 5:  # a sparse index: some items have no email
            it["email"] = {"S": "m%d@x" % (i % 4)}
        items.append(it)
    put_all(c, "idx", items)
    # GSI with a sort key, across pages; ConsistentRead is accepted (OWS's
    # indexes are written with their items)
    got, pages = query_all(c, TableName="idx", IndexName="by-email", Limit=2,
                           ConsistentRead=True,
                           KeyConditionExpression="email = :e AND ts >= :t",
                           ExpressionAttributeValues={":e": {"S": "m1@x"}, ":t": {"N": "5"}})
    want = [i for i in range(30) if i % 5 and i % 4 == 1 and i >= 5]
    check([int(x["ts"]["N"]) for x in got] == want, got)
    check(pages >= len(want) // 2, pages)
    r = c.query(TableName="idx", IndexName="by-email", Limit=1,
                KeyConditionExpression="email = :e",
                ExpressionAttributeValues={":e": {"S": "m1@x"}})
    check(set(r["LastEvaluatedKey"]) == {"id", "ts", "email"}, r["LastEvaluatedKey"])
    # KEYS_ONLY GSI without sort key: many items per index key, paged
    got, _ = query_all(c, TableName="idx", IndexName="by-team", Limit=4,
                       KeyConditionExpression="team = :t",
                       ExpressionAttributeValues={":t": {"S": "t1"}})
    check(sorted(int(x["ts"]["N"]) for x in got) == [i for i in range(30) if i % 2], got)
    check(all(set(x) == {"id", "ts", "team"} for x in got), got[:2])
    expect_error(lambda: c.query(TableName="idx", IndexName="by-team",
                                 Select="ALL_ATTRIBUTES",
                                 KeyConditionExpression="team = :t",
                                 ExpressionAttributeValues={":t": {"S": "t1"}}),
                 "ValidationException",
                 "One or more parameter values were invalid: Select type ALL_ATTRIBUTES "
                 "is not supported for global secondary index by-team because its "
                 "projection type is not ALL")
    # LSI: ordered by its sort key; ALL_ATTRIBUTES reads the table's item
    r = c.query(TableName="idx", IndexName="by-score",
                KeyConditionExpression="id = :i AND score < :s",
                ExpressionAttributeValues={":i": {"S": "u0"}, ":s": {"N": "90"}})
    want = sorted((100 - i for i in range(30) if i % 3 == 0 and 100 - i < 90))
    check([int(x["score"]["N"]) for x in r["Items"]] == want, r["Items"])
    check(all("extra" not in x and "name" in x for x in r["Items"]), r["Items"][:1])
    r = c.query(TableName="idx", IndexName="by-score", Select="ALL_ATTRIBUTES",
                KeyConditionExpression="id = :i",
                ExpressionAttributeValues={":i": {"S": "u0"}})
    check(len(r["Items"]) == 10 and all("extra" in x for x in r["Items"]), r["Items"][:1])
    # scan of an index: only the items that have its keys
    got, _ = query_all(c, op="scan", TableName="idx", IndexName="by-email", Limit=5)
    check(len(got) == 24, len(got))
    r = c.query(TableName="idx", IndexName="by-email", Select="COUNT",
                ReturnConsumedCapacity="INDEXES",
                KeyConditionExpression="email = :e",
                ExpressionAttributeValues={":e": {"S": "m0@x"}})
    check(r["Count"] == 6 and "GlobalSecondaryIndexes" in r["ConsumedCapacity"], r)
    expect_error(lambda: c.query(TableName="idx", IndexName="nope",
                                 KeyConditionExpression="id = :i",
                                 ExpressionAttributeValues={":i": {"S": "u0"}}),
                 "ValidationException", "The table does not have the specified index: nope")


# ---- items by key ----

def test_ddb_get_batch_and_transact_get():
    n, c = node_client()
    table(c, "gt1", pk=("id", "S"))
    table(c, "gt2", pk=("k", "N"), sk=("s", "S"))
    put_all(c, "gt1", [{"id": {"S": "i%d" % i}, "n": {"N": str(i)},
                      "m": {"M": {"a": {"L": [{"S": "x"}, {"S": "y"}]}, "b": {"BOOL": True}}}}
                     for i in range(150)])
    put_all(c, "gt2", [{"k": {"N": str(i)}, "s": {"S": "a"}, "v": {"S": "x" * i}}
                      for i in range(10)])
    r = c.get_item(TableName="gt1", Key={"id": {"S": "i3"}}, ConsistentRead=True,
                   ProjectionExpression="#m.a[1], n", ExpressionAttributeNames={"#m": "m"},
                   ReturnConsumedCapacity="TOTAL")
    check(r["Item"] == {"m": {"M": {"a": {"L": [{"S": "y"}]}}}, "n": {"N": "3"}}, r)
    check(r["ConsumedCapacity"] == {"TableName": "gt1", "CapacityUnits": 1.0}, r)
    r = c.get_item(TableName="gt1", Key={"id": {"S": "i3"}}, AttributesToGet=["n"],
                   ReturnConsumedCapacity="TOTAL")
    check(r["Item"] == {"n": {"N": "3"}} and r["ConsumedCapacity"]["CapacityUnits"] == 0.5, r)
    check("Item" not in c.get_item(TableName="gt1", Key={"id": {"S": "none"}}))
    expect_error(lambda: c.get_item(TableName="gt1", Key={"id": {"N": "1"}}),
                 "ValidationException", "The provided key element does not match the schema")
    expect_error(lambda: c.get_item(TableName="gt1", Key={"id": {"S": "a"}, "x": {"S": "b"}}),
                 "ValidationException", "The provided key element does not match the schema")
    expect_error(lambda: c.get_item(TableName="nope", Key={"id": {"S": "a"}}),
                 "ResourceNotFoundException", "Requested resource not found")
    expect_error(lambda: c.get_item(TableName="gt1", Key={"id": {"S": "a"}},
                                    AttributesToGet=["n"], ProjectionExpression="n"),
                 "ValidationException",
                 "Can not use both expression and non-expression parameters in the same "
                 "request: Non-expression parameters: {AttributesToGet} Expression "
                 "parameters: {ProjectionExpression}")
    # BatchGetItem: two tables, projections, missing keys left out
    r = c.batch_get_item(RequestItems={
        "gt1": {"Keys": [{"id": {"S": "i%d" % i}} for i in (1, 2, 999)],
              "ProjectionExpression": "id"},
        "gt2": {"Keys": [{"k": {"N": "4"}, "s": {"S": "a"}}], "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL")
    check(sorted(x["id"]["S"] for x in r["Responses"]["gt1"]) == ["i1", "i2"], r)
    check(all(set(x) == {"id"} for x in r["Responses"]["gt1"]), r)
    check(r["Responses"]["gt2"][0]["v"]["S"] == "xxxx", r)
    check(r["UnprocessedKeys"] == {} and len(r["ConsumedCapacity"]) == 2, r)
    expect_error(lambda: c.batch_get_item(RequestItems={
        "gt1": {"Keys": [{"id": {"S": "i%d" % i}} for i in range(101)]}}),
        "ValidationException", "Too many items requested for the BatchGetItem call")
    expect_error(lambda: c.batch_get_item(RequestItems={
        "gt1": {"Keys": [{"id": {"S": "i1"}}, {"id": {"S": "i1"}}]}}),
        "ValidationException", "Provided list of item keys contains duplicates")
    expect_error(lambda: c.batch_get_item(RequestItems={
        "nope": {"Keys": [{"id": {"S": "i1"}}]}}),
        "ResourceNotFoundException", "Requested resource not found")
    # TransactGetItems: in order, {} for a missing item
    r = c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "gt1", "Key": {"id": {"S": "i7"}}, "ProjectionExpression": "n"}},
        {"Get": {"TableName": "gt1", "Key": {"id": {"S": "gone"}}}},
        {"Get": {"TableName": "gt2", "Key": {"k": {"N": "2"}, "s": {"S": "a"}}}}],
        ReturnConsumedCapacity="TOTAL")
    check([x.get("Item") for x in r["Responses"]] ==
          [{"n": {"N": "7"}}, None, {"k": {"N": "2"}, "s": {"S": "a"}, "v": {"S": "xx"}}], r)
    check(sum(x["CapacityUnits"] for x in r["ConsumedCapacity"]) == 6.0, r)
    err = expect_error(lambda: c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "gt1", "Key": {"id": {"S": "i7"}}}},
        {"Get": {"TableName": "gt1", "Key": {"id": {"N": "7"}}}}]),
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific "
        "reasons [None, ValidationError]")
    expect_error(lambda: c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "gt1", "Key": {"id": {"S": "i7"}}}},
        {"Get": {"TableName": "gt1", "Key": {"id": {"S": "i7"}}}}]),
        "ValidationException",
        "Transaction request cannot include multiple operations on one item")
    expect_error(lambda: c.transact_get_items(TransactItems=[
        {"Get": {"TableName": "nope", "Key": {"id": {"S": "i7"}}}}]),
        "ResourceNotFoundException")


def test_ddb_batch_get_unprocessed_keys_past_16_megabytes():
    n, c = node_client()
    table(c, "huge", pk=("id", "N"))
    big = "y" * 390000
    put_all(c, "huge", [{"id": {"N": str(i)}, "d": {"S": big}} for i in range(60)])
    keys = [{"id": {"N": str(i)}} for i in range(60)]
    r = c.batch_get_item(RequestItems={"huge": {"Keys": keys}})
    got = len(r["Responses"]["huge"])
    left = r["UnprocessedKeys"].get("huge", {}).get("Keys", [])
    check(got < 60 and got + len(left) == 60, (got, len(left)))
    r2 = c.batch_get_item(RequestItems=r["UnprocessedKeys"])
    check(len(r2["Responses"]["huge"]) == len(left) and not r2["UnprocessedKeys"])


# ---- errors of Query and Scan ----

def test_ddb_query_errors_with_dynamodb_messages():
    n, c = node_client()
    table(c, "err", pk=("id", "S"), sk=("n", "N"))
    put_all(c, "err", [{"id": {"S": "a"}, "n": {"N": "1"}}])
    v = {":a": {"S": "a"}}
    V = "ValidationException"
    cases = [
        (dict(), "Either the KeyConditions or KeyConditionExpression parameter must "
         "be specified in the request."),
        (dict(KeyConditionExpression="n = :n", ExpressionAttributeValues={":n": {"N": "1"}}),
         "Query condition missed key schema element: id"),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v, Select="NOPE"),
         None),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              Select="SPECIFIC_ATTRIBUTES"),
         "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
         "SPECIFIC_ATTRIBUTES"),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              Select="COUNT", ProjectionExpression="id"),
         "Cannot specify the ProjectionExpression when choosing to get only the Count"),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              Select="ALL_ATTRIBUTES", ProjectionExpression="id"),
         "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              Select="ALL_PROJECTED_ATTRIBUTES"),
         "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              FilterExpression="n > :a"),
         "Filter Expression can only contain non-primary key attributes: Primary key "
         "attribute: n"),
        (dict(KeyConditionExpression="id = :a AND n BETWEEN :h AND :l",
              ExpressionAttributeValues={":a": {"S": "a"}, ":h": {"N": "5"}, ":l": {"N": "1"}}),
         None),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              ExclusiveStartKey={"id": {"S": "a"}}),
         "The provided starting key is invalid: The provided key element does not match "
         "the schema"),
        (dict(KeyConditionExpression="id = :a AND n > :n",
              ExpressionAttributeValues={":a": {"S": "a"}, ":n": {"N": "5"}},
              ExclusiveStartKey={"id": {"S": "a"}, "n": {"N": "1"}}),
         "The provided starting key is outside query boundaries based on provided "
         "conditions"),
        (dict(KeyConditionExpression="id = :a", ExpressionAttributeValues=v,
              KeyConditions={"id": {"ComparisonOperator": "EQ",
                                    "AttributeValueList": [{"S": "a"}]}}),
         "Can not use both expression and non-expression parameters in the same request: "
         "Non-expression parameters: {KeyConditions} Expression parameters: "
         "{KeyConditionExpression}"),
    ]
    for kw, msg in cases:
        err = expect_error(lambda: c.query(TableName="err", **kw), V, msg)
        check(err["Message"], kw)
    # botocore checks Limit itself: send it unchecked, as other clients may
    import boto3
    import botocore.config
    key = root_creds(n)
    raw = boto3.client("dynamodb", endpoint_url="http://" + n.edge, region_name="us-east-1",
                       aws_access_key_id=key[0], aws_secret_access_key=key[1],
                       config=botocore.config.Config(parameter_validation=False))
    expect_error(lambda: raw.query(TableName="err", Limit=0, KeyConditionExpression="id = :a",
                                   ExpressionAttributeValues=v), V, contains="'limit'")
    expect_error(lambda: c.query(TableName="missing", KeyConditionExpression="id = :a",
                                 ExpressionAttributeValues=v),
                 "ResourceNotFoundException", "Requested resource not found")
    expect_error(lambda: c.scan(TableName="err", Select="ALL_PROJECTED_ATTRIBUTES"), V,
                 "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    # ScanFilter (legacy) and a FilterExpression on a key are fine for Scan
    r = c.scan(TableName="err", ScanFilter={"n": {"ComparisonOperator": "EQ",
                                                "AttributeValueList": [{"N": "1"}]}})
    check(r["Count"] == 1, r)
    r = c.scan(TableName="err", FilterExpression="n = :n",
               ExpressionAttributeValues={":n": {"N": "2"}})
    check(r["Count"] == 0 and r["ScannedCount"] == 1, r)


# ---- clients ----

def test_ddb_query_with_resource_api_cli_and_debian_clients():
    n, c = node_client()
    table(c, "cli", pk=("id", "S"), sk=("n", "N"))
    put_all(c, "cli", [{"id": {"S": "a"}, "n": {"N": str(i)}, "t": {"S": "v%d" % (i % 2)}}
                       for i in range(12)])
    import boto3
    from boto3.dynamodb.conditions import Attr, Key
    key = root_creds(n)
    res = boto3.resource("dynamodb", endpoint_url="http://" + n.edge, region_name="us-east-1",
                         aws_access_key_id=key[0], aws_secret_access_key=key[1])
    t = res.Table("cli")
    r = t.query(KeyConditionExpression=Key("id").eq("a") & Key("n").between(3, 6))
    check([int(x["n"]) for x in r["Items"]] == [3, 4, 5, 6], r["Items"])
    r = t.query(KeyConditionExpression=Key("id").eq("a") & Key("n").gt(9),
                ScanIndexForward=False)
    check([int(x["n"]) for x in r["Items"]] == [11, 10], r["Items"])
    r = t.scan(FilterExpression=Attr("t").eq("v1") & Attr("n").lt(5))
    check(sorted(int(x["n"]) for x in r["Items"]) == [1, 3], r["Items"])
    check(t.get_item(Key={"id": "a", "n": 4})["Item"]["t"] == "v0")
    q = json.dumps({":a": {"S": "a"}, ":n": {"N": "8"}})
    for debian in (False, True):
        p = aws_cli(n, key, "dynamodb", "query", "--table-name", "cli",
                    "--key-condition-expression", "id = :a AND n >= :n",
                    "--expression-attribute-values", q, "--output", "json",
                    debian=debian)
        check(p.returncode == 0, p.stderr)
        check([int(x["n"]["N"]) for x in json.loads(p.stdout)["Items"]] == [8, 9, 10, 11],
              p.stdout)
        # the cli pages by itself with --page-size: all 12 come back
        p = aws_cli(n, key, "dynamodb", "scan", "--table-name", "cli", "--page-size", "5",
                    "--output", "json", debian=debian)
        check(p.returncode == 0 and json.loads(p.stdout)["Count"] == 12, (p.stdout, p.stderr))
    # Debian's boto3 1.26
    if os.path.exists(PYTHON_DEBIAN):
        code = ("import boto3,sys,json\n"
                "from boto3.dynamodb.conditions import Key\n"
                "t=boto3.resource('dynamodb',endpoint_url=sys.argv[1],region_name='us-east-1',"
                "aws_access_key_id=sys.argv[2],aws_secret_access_key=sys.argv[3]).Table('cli')\n"
                "r=t.query(KeyConditionExpression=Key('id').eq('a')&Key('n').lte(2),Limit=2)\n"
                "print(json.dumps([int(x['n']) for x in r['Items']]+[len(r.get('LastEvaluatedKey',{}))]))\n")
        p = subprocess.run([PYTHON_DEBIAN, "-c", code, "http://" + n.edge, key[0], key[1]],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, p.stderr)
        check(json.loads(p.stdout) == [0, 1, 2], p.stdout)


def test_ddb_oversized_key_values_are_refused_not_missed():
    """A key value past DynamoDB's limits (2048 bytes for a partition
    key, 1024 for a sort key) is a ValidationException on every
    operation that takes a Key, as DynamoDB answers, not an item that
    is simply absent."""
    n = started()
    c = boto3_client(n, "dynamodb")
    table(c, "big-keys", sk=("s", "S"))
    hash_msg = ("One or more parameter values were invalid: Size of hashkey "
                "has exceeded the maximum size limit of2048 bytes")
    range_msg = ("One or more parameter values were invalid: Aggregated size "
                 "of all range keys has exceeded the size limit of 1024 bytes")
    for key, msg in (({"id": {"S": "x" * 2049}, "s": {"S": "a"}}, hash_msg),
                     ({"id": {"S": "a"}, "s": {"S": "y" * 1025}}, range_msg)):
        expect_error(lambda: c.get_item(TableName="big-keys", Key=key),
                     "ValidationException", msg)
        expect_error(lambda: c.delete_item(TableName="big-keys", Key=key),
                     "ValidationException", msg)
        expect_error(lambda: c.update_item(TableName="big-keys", Key=key,
                                           UpdateExpression="SET v = :v",
                                           ExpressionAttributeValues={":v": {"N": "1"}}),
                     "ValidationException", msg)
    # at the limits exactly: allowed
    key = {"id": {"S": "x" * 2048}, "s": {"S": "y" * 1024}}
    c.put_item(TableName="big-keys", Item=dict(key, v={"N": "7"}))
    check(c.get_item(TableName="big-keys", Key=key)["Item"]["v"] == {"N": "7"})
