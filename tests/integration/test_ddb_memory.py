"""What DynamoDB requests in progress hold (issue 11): the node's budget of
parsed JSON values (src/ddb/ddb.c, OWS_DDB_VALUES_HELD, 2^20 values, and
aws/call.c's ows_aws_call_reserve / ows_aws_call_wait) is given back by
every request however it ends (its client gone while it waits for the log
or for a consistent read, its body cut short, its node's leader killed
under it), and a large legal request is not kept out for ever by a steady
flow of small ones: it waits its turn instead of being throttled."""
import json
import socket
import threading
import urllib.request


from owstest import (Peak, boto3_client, check, cluster3_shared_root, ddb_raw, ddb_signed,
                     root_creds, sanitized, started, wait_for)

PREFIX = "com.amazonaws.dynamodb.v20120810#"


signed = ddb_signed
raw = ddb_raw


def sent_and_gone(n, key, op, data, cut=0):
    """Send the request (all of it but its last cut bytes) and close the
    connection without reading the answer."""
    url, headers, body = signed(n, key, op, data)
    host, port = n.edge.split(":")
    head = "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (n.edge, len(body))
    head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items()
                    if k.lower() not in ("host", "content-length"))
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(head.encode() + b"\r\n" + body[:len(body) - cut])
    s.close()


def sent_unread(n, key, op, data):
    """Send the request and keep the connection open without reading the
    answer (a small receive buffer): the socket."""
    url, headers, body = signed(n, key, op, data)
    host, port = n.edge.split(":")
    head = "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (n.edge, len(body))
    head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items()
                    if k.lower() not in ("host", "content-length"))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect((host, int(port)))
    s.sendall(head.encode() + b"\r\n" + body)
    return s


def metric(n, name):
    text = urllib.request.urlopen("http://%s/metrics" % n.edge, timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric %s" % name)


def make_table(c, name="mem"):
    c.create_table(TableName=name,
                   KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")


# More values than the whole budget: such a request is admitted only when
# no request in progress holds any, so it is answered (here, refused as
# invalid) only if everything the earlier requests reserved came back.
WHOLE_BUDGET = b'{"RequestItems":{},"x":[' + b",".join([b"0"] * 1100000) + b"]}"


def budget_is_whole(n, key):
    st, r = raw(n, key, "BatchWriteItem", WHOLE_BUDGET, timeout=60)
    check(st == 400 and r.get("__type") != PREFIX + "ThrottlingException", (st, r))


def big_put(i, prefix="g"):
    elems = ",".join(['{"NULL":true}'] * 60000)
    return ('{"TableName":"mem","Item":{"id":{"S":"%s%d"},"l":{"L":[%s]}}}'
            % (prefix, i, elems)).encode()


def test_requests_whose_clients_leave_give_their_budget_back():
    """Clients that send a request and leave at once: 24 PutItems of 60000
    values each (more than the budget: some wait for room, some for the
    log), 24 ConsistentRead GetItems, 8 PutItems whose body is cut short,
    a PutItem of a table the node does not know (it catches up with the
    leader first). Each is answered into the void, and the budget is whole
    afterwards: a request of more values than the budget is served."""
    n = started()
    key = root_creds(n)
    make_table(boto3_client(n, "dynamodb", key=key))
    get = b'{"TableName":"mem","Key":{"id":{"S":"g1"}},"ConsistentRead":true}'
    jobs = [("PutItem", big_put(i), 0) for i in range(24)]
    jobs += [("GetItem", get, 0) for _ in range(24)]
    jobs += [("PutItem", big_put(100 + i), 1000) for i in range(8)]
    jobs += [("PutItem", b'{"TableName":"nope","Item":{"id":{"S":"a"}}}', 0)]
    threads = [threading.Thread(target=sent_and_gone, args=(n, key) + j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    budget_is_whole(n, key)
    c = boto3_client(n, "dynamodb", key=key)
    check(c.get_item(TableName="mem", Key={"id": {"S": "g100"}},
                     ConsistentRead=True).get("Item") is None)


def test_a_large_write_gets_its_turn_under_a_steady_flow_of_small_ones():
    """Four clients write small items without pause; a BatchWriteItem of
    25 items, each a list of 40000 numbers (2 million values, legal in
    DynamoDB, more than the budget) is admitted only when no request holds
    any of the budget. It used to be throttled as long as the small writes
    went on (boto3's 10 attempts over 36 s all throttled); now it waits its
    turn and goes in at its first attempt, while the node's peak RSS stays
    bounded."""
    n = started()
    key = root_creds(n)
    c = boto3_client(n, "dynamodb", key=key)
    make_table(c)
    stop = threading.Event()
    done = [0]
    errors = []

    def small(i):
        cc = boto3_client(n, "dynamodb", key=key)
        j = 0
        while not stop.is_set():
            try:
                cc.put_item(TableName="mem", Item={"id": {"S": "s%d-%d" % (i, j % 20)},
                                                   "v": {"N": str(j)}})
                done[0] += 1
            except Exception as e:  # noqa: BLE001 (collected, checked below)
                errors.append(e)
            j += 1

    threads = [threading.Thread(target=small, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: done[0] >= 100, 60, "the small writes to flow")
    peak = Peak(n)
    big = boto3_client(n, "dynamodb", key=key, retries=1)
    items = [{"PutRequest": {"Item": {"id": {"S": "big%d" % k},
                                      "l": {"L": [{"N": "1"}] * 40000}}}}
             for k in range(25)]
    try:
        r = big.batch_write_item(RequestItems={"mem": items})
    finally:
        stop.set()
        for t in threads:
            t.join()
    peak.check(1500 << 20, "a 2M-value BatchWriteItem among small writes",
               not sanitized(n.proc.pid))
    check(r.get("UnprocessedItems") == {}, r.get("UnprocessedItems"))
    check(not errors, errors[:1])
    got = c.get_item(TableName="mem", Key={"id": {"S": "big24"}}, ConsistentRead=True)
    check(len(got["Item"]["l"]["L"]) == 40000)
    budget_is_whole(n, key)


def test_the_budget_comes_back_when_the_leader_dies_under_writes():
    """Three nodes; PutItems of 60000 values each in flight through the
    leader and through both followers (forwarded to the leader) when the
    leader is killed (-9). Every writer is answered, and on both survivors
    the budget is whole afterwards."""
    nodes = cluster3_shared_root()
    key = root_creds(nodes[0])
    make_table(boto3_client(nodes[0], "dynamodb", key=key))
    leader = next(n for n in nodes if n.status()["node"]["role"] == "leader")
    answers = []

    def put(n, i):
        try:
            answers.append(raw(n, key, "PutItem", big_put(i), timeout=90)[0])
        except Exception as e:  # noqa: BLE001 (a dead node's connection)
            answers.append(repr(e))

    threads = [threading.Thread(target=put, args=(n, 10 * k + i))
               for k, n in enumerate(nodes) for i in range(6)]
    for t in threads:
        t.start()
    wait_for(lambda: len(answers) >= 1, 60, "a first write to be answered")
    leader.kill9()
    for t in threads:
        t.join()
    check(len(answers) == 18, answers)
    rest = [n for n in nodes if n is not leader]
    wait_for(lambda: any(n.status()["node"]["role"] == "leader" for n in rest), 60,
             "a new leader")
    for n in rest:
        budget_is_whole(n, key)


def big_answers():
    """A node with 40 items of 36000 numbers each: (node, key, the body of
    a BatchGetItem of all of them, a ~10 MB answer)."""
    n = started()
    key = root_creds(n)
    make_table(boto3_client(n, "dynamodb", key=key))
    elems = ",".join(['{"N":"1"}'] * 36000)
    for i in range(40):
        st, r = raw(n, key, "PutItem", ('{"TableName":"mem","Item":{"id":{"S":"k%d"},'
                                        '"l":{"L":[%s]}}}' % (i, elems)).encode())
        check(st == 200, (st, r))
    return n, key, ('{"RequestItems":{"mem":{"Keys":[%s]}}}'
                    % ",".join('{"id":{"S":"k%d"}}' % i for i in range(40))).encode()


def test_answers_their_clients_do_not_take_hold_a_bounded_share():
    """An answer is built whole and waits in the node until its client
    takes it: 16 connections asking for a 10 MB BatchGetItem each and
    reading nothing held 16 answers (40 held 420 MB). Past 128 MiB of
    answers not taken, the node closes the connections that have waited
    longest to take theirs; a client that reads gets its answer whole,
    meanwhile and after."""
    n, key, body = big_answers()

    def whole():
        st, r = raw(n, key, "BatchGetItem", body)
        got = r.get("Responses", {}).get("mem", [])
        return st == 200 and len(got) == 40 and all(len(x["l"]["L"]) == 36000 for x in got)

    check(whole(), "one BatchGetItem read whole")
    socks = [sent_unread(n, key, "BatchGetItem", body) for _ in range(16)]
    try:
        check(wait_for(lambda: metric(n, 'ows_http_connections_closed_unsent_total'
                                         '{port="edge"}') >= 1, 60),
              "no connection closed for its answers")
        unsent = metric(n, 'ows_http_unsent_bytes{port="edge"}')
        check(unsent <= (128 + 16) << 20, "%.0f MiB of answers not taken" % (unsent / (1 << 20)))
        check(whole(), "a BatchGetItem read whole beside the unread ones")
        closed = 0
        for s in socks:
            # a closed one ends (after what it was sent); a live one has
            # its whole answer to give, then nothing more (the closes were
            # made before: the metric said so)
            s.settimeout(0.3)
            try:
                while s.recv(1 << 20):
                    pass
                closed += 1
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
        check(1 <= closed < len(socks), "%d of %d unread connections closed"
              % (closed, len(socks)))
    finally:
        for s in socks:
            s.close()
    check(wait_for(lambda: metric(n, 'ows_http_unsent_bytes{port="edge"}') == 0, 30),
          "answers still held after their clients left")
    check(whole(), "a BatchGetItem read whole after")


def test_a_client_that_reads_its_big_answer_is_not_closed_for_those_that_do_not():
    """A client takes a 13 MB answer steadily while others ask for as much
    and read nothing. The answer went out as one write, done only once all
    of it was handed to the kernel: its clock stood at its start however
    much the client read, so the unread answers asked for after it looked
    younger and the reading client was closed first. Past 128 MiB the
    connections closed are those that took nothing since, not it."""
    n, key, body = big_answers()
    victim = sent_unread(n, key, "BatchGetItem", body)
    got = bytearray()

    def take(size):
        while len(got) < size:
            b = victim.recv(65536)
            check(b, "the reading client's connection ended after %d bytes" % len(got))
            got.extend(b)

    def unsent():
        return metric(n, 'ows_http_unsent_bytes{port="edge"}')

    take(1)
    socks = []
    try:
        for i in range(13):
            s = sent_unread(n, key, "BatchGetItem", body)
            socks.append(s)
            s.recv(1, socket.MSG_PEEK)  # its answer is being written
            if i < 5:
                continue
            # the reading client takes more (about 1 MB lets the node's
            # socket take more of its answer), after the first five unread
            # answers began: those are older than its last progress
            before, start = unsent(), len(got)
            while unsent() >= before:
                check(len(got) - start < (4 << 20), "the reading client took %d bytes, "
                      "none counted as taken" % (len(got) - start))
                take(len(got) + (128 << 10))
        check(metric(n, 'ows_http_connections_closed_unsent_total{port="edge"}') >= 1,
              "no connection closed for its answers")
        head_end = got.find(b"\r\n\r\n")
        while head_end < 0:
            take(len(got) + 1)
            head_end = got.find(b"\r\n\r\n")
        length = int([ln.split(b":")[1] for ln in got[:head_end].split(b"\r\n")
                      if ln.lower().startswith(b"content-length:")][0])
        take(head_end + 4 + length)
        check(got.startswith(b"HTTP/1.1 200"), bytes(got[:100]))
        answer = json.loads(bytes(got[head_end + 4:head_end + 4 + length]))
        check(len(answer["Responses"]["mem"]) == 40, "the reading client's answer whole")
    finally:
        victim.close()
        for s in socks:
            s.close()
    check(wait_for(lambda: metric(n, 'ows_http_unsent_bytes{port="edge"}') == 0, 30),
          "answers still held after their clients left")
