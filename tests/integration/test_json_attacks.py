"""Hostile JSON through the edge (issue 11): DynamoDB request bodies go
through OWS's own parser (src/common/json.c). Bodies that are not JSON, or
JSON that jansson refuses, get DynamoDB's SerializationException in its
shape ({"__type": "com.amazonaws.dynamodb.v20120810#...", "message"}) and
change nothing; bodies built to cost the most (16 MB of nesting, a million
keys, millions of array elements) are answered and leave the node serving."""

from owstest import Peak, boto3_client, check, ddb_raw, root_creds, sanitized, started

PREFIX = "com.amazonaws.dynamodb.v20120810#"


def raw(n, key, op, data):
    """A DynamoDB request of exactly these body bytes, SigV4-signed:
    (status, parsed reply)."""
    return ddb_raw(n, key, op, data)


def table(n, key, name="hostile"):
    c = boto3_client(n, "dynamodb", key=key)
    c.create_table(TableName=name,
                   KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id",
                                          "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
    return c


def refused(st, r, code="SerializationException"):
    return st == 400 and r.get("__type") == PREFIX + code and \
        isinstance(r.get("message"), str)


def test_hostile_json_bodies_are_serialization_exceptions_and_change_nothing():
    """Each body below is refused with SerializationException, whatever
    the byte that breaks it and wherever it sits (near the end of the body
    and on both sides of a 16-byte boundary, where the parser's scan
    changes pace); nothing is written."""
    n = started()
    key = root_creds(n)
    c = table(n, key)
    put = b'{"TableName":"hostile","Item":{"id":{"S":"%s"}}}'
    bodies = [b"", b"{", b"[", b"nul", b'{"TableName"', b"\x00",
              put % b"a\x00b", put % b"\\u0000", put % b"\\ud800",
              put % b"\\udc00\\ud800", put % b"\\ud800\\u0041",
              put % b"\xed\xa0\x80", put % b"\xc0\xaf", put % b"\xf4\x90\x80\x80",
              put % b"\xff", put % b"\\x41", put % b"\t",
              b'{"TableName":"hostile","TableName":"hostile","Item":{}}',
              b'{"TableName":"hostile","Item":{"id":{"S":"a","S":"b"}}}',
              b'{"TableName":"hostile","Item":{"id":{"N":1e400}}}',
              b'{"TableName":"hostile","Item":{"id":{"N":-01}}}',
              (put % b"x") + b"\x00", (put % b"x") + b" x",
              (put % b"x") + (put % b"x"), b"[" * 3000 + b"]" * 3000]
    # a string cut inside a multi-byte character, at every offset around
    # the scan's 16-byte steps, and a body that ends inside one
    for i in range(30):
        bodies.append(put % (b"a" * i + b"\xf0\x9f\x98"))
        bodies.append(put % (b"a" * i + b"\\ud83d"))
        bodies.append(b'{"TableName":"' + b"h" * i + b"\xe2\x82")
    for b in bodies:
        st, r = raw(n, key, "PutItem", b)
        check(refused(st, r), (b[:80], st, r))
    # the same characters, well formed, are taken as they are
    st, r = raw(n, key, "PutItem", put % (b"a" * 13 + b"\\ud83d\\ude00"))
    check(st == 200, (st, r))
    st, r = raw(n, key, "PutItem", put % (b"b" * 14 + "\U0001F600".encode()))
    check(st == 200, (st, r))
    got = sorted(i["id"]["S"] for i in c.scan(TableName="hostile")["Items"])
    check(got == ["a" * 13 + "\U0001F600", "b" * 14 + "\U0001F600"], got)


def test_costly_json_bodies_are_answered_and_the_node_serves_on():
    """BatchWriteItem takes bodies up to 16 MB: 16 MB of '[', of '{"a":',
    of white space, 1.5 million keys, 8 million array elements and 5
    million strings are each answered 400 in DynamoDB's shape (the depth
    limit stops the nesting at once), and the node answers the next
    request; nothing is written."""
    n = started()
    key = root_creds(n)
    c = table(n, key)
    mb16 = 16 * 1024 * 1024
    cases = [(b"[" * (mb16 - 16), "SerializationException"),
             (b'{"a":' * (mb16 // 5 - 16), "SerializationException"),
             (b" " * (mb16 - 16) + b"{}", "ValidationException"),
             (b"{" + b",".join(b'"%x":1' % i for i in range(1500000)) + b"}",
              "ValidationException"),
             (b"[" + b"1," * (mb16 // 2 - 16) + b"1]",
              "SerializationException"),
             (b"[" + b'"",' * (mb16 // 3 - 16) + b'""]',
              "SerializationException")]
    for body, code in cases:
        check(len(body) <= mb16, len(body))
        st, r = raw(n, key, "BatchWriteItem", body)
        check(refused(st, r, code), (body[:20], st, r))
        st, r = raw(n, key, "ListTables", b"{}")
        check(st == 200 and r["TableNames"] == ["hostile"], (st, r))
    check(c.scan(TableName="hostile")["Count"] == 0)


def test_writes_waiting_for_the_log_hold_a_bounded_share_of_memory():
    """A write's parsed request lives until its answer, through the wait
    for the log, at some 140 bytes a JSON value: 32 PutItems at once, each
    an 840 KB list of 60000 {"NULL": true}, made the node's peak RSS grow
    by 1.1 GB. The requests in progress now hold at most about a million
    values (the peak grew by 270-330 MB: those, the bodies, one request
    being applied, and what the allocator keeps); past that a request
    waits for room holding only its body's bytes (test_ddb_memory), and
    when 64 wait already it is answered ThrottlingException, in DynamoDB's
    shape, and writes nothing; those answered 200 are whole.
    boto3 retries the throttled ones (as it does DynamoDB's) until all
    are in."""
    import threading
    n = started()
    key = root_creds(n)
    c = table(n, key)
    elems = ",".join(['{"NULL":true}'] * 60000)
    peak = Peak(n)
    answers = {}

    def put(i):
        body = ('{"TableName":"hostile","Item":{"id":{"S":"r%d"},"l":{"L":[%s]}}}'
                % (i, elems)).encode()
        answers[i] = raw(n, key, "PutItem", body)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    peak.check(600 << 20, "32 PutItems of 60000 values each", not sanitized(n.proc.pid))
    for i, (st, r) in answers.items():
        got = c.get_item(TableName="hostile", Key={"id": {"S": "r%d" % i}},
                         ConsistentRead=True).get("Item")
        if st == 200:
            check(r == {} and got is not None and len(got["l"]["L"]) == 60000, (i, st, r))
        else:
            check(refused(st, r, "ThrottlingException") and got is None, (i, st, r, got))
    print("  %d of 32 throttled" % sum(st != 200 for st, _ in answers.values()))

    item = {"id": {"S": ""}, "l": {"L": [{"NULL": True}] * 60000}}
    failures = []

    def put_boto3(i):
        try:
            c.put_item(TableName="hostile", Item=dict(item, id={"S": "b%d" % i}))
        except Exception as e:  # noqa: BLE001 (collected, checked below)
            failures.append(e)

    threads = [threading.Thread(target=put_boto3, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not failures, failures[:1])
    for i in range(16):
        got = c.get_item(TableName="hostile", Key={"id": {"S": "b%d" % i}},
                         ProjectionExpression="id")
        check(got.get("Item") == {"id": {"S": "b%d" % i}}, (i, got.get("Item")))
