"""S3 across nodes when nodes die (issue 10, "Three nodes"): the node that
took a PUT is killed with kill -9 and the object stays readable through the
others while the repair brings its data back to the copy count; a node
that was down while objects were written catches up on both their metadata
(Raft) and their data (the blob repair), and serves them from its own
copies.

The nodes run with the blob tests' knobs (test_blob_repair.ENV): repair
rounds every 300 ms, a collection grace of 3 s."""
import hashlib
import os

from owstest import boto3_client, check, root_creds, voters, wait_for
from test_blob_repair import cluster3, has, placed


def body_of(tag, size=300 * 1024):
    """size bytes that depend on tag only: each run places the same blobs
    on the same nodes."""
    seed = hashlib.sha256(tag.encode()).digest()
    out = bytearray()
    while len(out) < size:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return bytes(out[:size])


def clients(nodes):
    key = root_creds(nodes[0])
    return [boto3_client(n, "s3", key=key) for n in nodes]


def test_s3_kill9_of_the_node_that_took_the_put():
    """Four nodes, three copies: the PUT is acknowledged with the data on
    three of them; node 1, which took it, dies; every other node reads
    it at once, and the repair puts a copy back on a live node where node
    1 held one."""
    nodes = cluster3(count=4)
    # members in the ledger at once, voters in Raft a moment later
    wait_for(lambda: voters(nodes[0]) == [1, 2, 3, 4], 60, "four voters")
    c = clients(nodes)
    c[0].create_bucket(Bucket="crash")
    # bytes whose holders include node 1: its death takes a copy away
    for i in range(100):
        data = body_of("crash%d" % i)
        h = hashlib.sha256(data).hexdigest()
        if 1 in placed(h, [1, 2, 3, 4], 3):
            break
    c[0].put_object(Bucket="crash", Key="k", Body=data)
    check(sum(1 for n in nodes if has(n, h)) >= 3,
          [i + 1 for i, n in enumerate(nodes) if has(n, h)])
    nodes[0].kill9()
    for i in (1, 2, 3):
        got = c[i].get_object(Bucket="crash", Key="k")["Body"].read()
        check(got == data, "node %d read other bytes" % (i + 1))
    live = lambda: sum(1 for n in nodes[1:] if has(n, h))
    # The holders among the live members: three of nodes 2..4.
    want = placed(h, [2, 3, 4], 3)
    wait_for(lambda: live() == 3 and
             all(has(nodes[i - 1], h) for i in want), 60,
             "three live copies (holders %r)" % want)
    keys = [o["Key"] for o in
            c[2].list_objects_v2(Bucket="crash").get("Contents", [])]
    check(keys == ["k"], keys)


def test_s3_node_down_catches_up_on_metadata_and_blobs():
    """Node 3 is down while objects are written and one is deleted; when
    it is back it has their rows through Raft and their blobs through the
    repair, before any read asks for them."""
    nodes = cluster3()
    n1, n2, n3 = nodes
    c = clients(nodes)
    c[0].create_bucket(Bucket="late")
    c[0].put_object(Bucket="late", Key="gone", Body=b"soon deleted")
    n3.kill9()
    datas = {"k%d" % i: body_of("late%d" % i) for i in range(4)}
    for k, d in datas.items():
        c[1].put_object(Bucket="late", Key=k, Body=d)
    c[0].delete_object(Bucket="late", Key="gone")
    hashes = {hashlib.sha256(d).hexdigest() for d in datas.values()}
    for h in hashes:
        check(not has(n3, h), "node 3 was down")
    n3.start()
    # The blobs come by the repair alone (no read has asked yet): every
    # node holds each one in a cluster of three.
    wait_for(lambda: all(has(n3, h) for h in hashes), 60,
             "node 3 to fetch the blobs written while it was down")
    keys = sorted(o["Key"] for o in
                  c[2].list_objects_v2(Bucket="late").get("Contents", []))
    check(keys == sorted(datas), keys)
    for k, d in datas.items():
        check(c[2].get_object(Bucket="late", Key=k)["Body"].read() == d, k)
    err = None
    try:
        c[2].head_object(Bucket="late", Key="gone")
    except Exception as e:  # botocore ClientError, 404
        err = e
    check(err is not None and "404" in str(err), err)
    check(os.path.isdir(os.path.join(n3.dir, "blobs")))
