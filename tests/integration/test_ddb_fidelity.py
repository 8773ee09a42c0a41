"""DynamoDB fidelity: OWS against moto_server by differential testing, and
the regressions that testing found.

test_ddb_fidelity_differential runs tests/lib/ddbdiff.py's seeded random
sequence of requests (every key schema, conditions, update expressions,
ReturnValues, Query and Scan with filters, projections and Limit paging,
batches, transactions, values at the edges) against a real owsd and a
moto_server on loopback, and fails on any difference that is not one of
moto's own deviations from DynamoDB (ddbdiff.known_moto and its
OWS_VALIDATES list, each checked against the AWS documentation). It skips when moto_server is not
installed. The regressions below need only OWS."""
import os
import shutil
import subprocess
import sys
import time

from owstest import (Skip, boto3_client, check, free_port, root_creds, started,
                     wait_for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
import ddbdiff  # noqa: E402

SEEDS = (7, 11)          # fixed: the same sequence every run
OPS_PER_SEED = 100


def error(fn, **kw):
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError("%s(%r) did not fail" % (fn.__name__, kw))


def table(db, name, hash_type="S", range_type=None):
    attrs = [{"AttributeName": "pk", "AttributeType": hash_type}]
    ks = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_type:
        attrs.append({"AttributeName": "sk", "AttributeType": range_type})
        ks.append({"AttributeName": "sk", "KeyType": "RANGE"})
    db.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=ks,
                    BillingMode="PAY_PER_REQUEST")


def test_ddb_fidelity_delete_under_missing_parent():
    """DELETE from a set under a missing map or list is refused as SET,
    REMOVE and ADD are ("The document path provided in the update
    expression is invalid for update"), and changes nothing; a missing set
    under a map that is there is still a no-op."""
    n = started()
    db = boto3_client(n, "dynamodb")
    table(db, "fid")
    db.put_item(TableName="fid", Item={"pk": {"S": "k"}, "m": {"M": {}},
                                       "s": {"SS": ["a", "b"]}})
    path_msg = "The document path provided in the update expression is invalid for update"
    for expr in ("DELETE nope.x :v", "DELETE nope[0] :v", "DELETE s :v, nope.y :v"):
        code, msg = error(db.update_item, TableName="fid", Key={"pk": {"S": "k"}},
                          UpdateExpression=expr,
                          ExpressionAttributeValues={":v": {"SS": ["a"]}})
        check(code == "ValidationException" and msg == path_msg, (expr, code, msg))
    # on an item that does not exist either: refused, and not created
    code, msg = error(db.update_item, TableName="fid", Key={"pk": {"S": "new"}},
                      UpdateExpression="DELETE l[0] :v",
                      ExpressionAttributeValues={":v": {"SS": ["a"]}})
    check(code == "ValidationException" and msg == path_msg, (code, msg))
    check("Item" not in db.get_item(TableName="fid", Key={"pk": {"S": "new"}},
                                    ConsistentRead=True))
    it = db.get_item(TableName="fid", Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
    check(sorted(it["s"]["SS"]) == ["a", "b"], it)      # nothing changed
    r = db.update_item(TableName="fid", Key={"pk": {"S": "k"}},
                       UpdateExpression="DELETE m.x :v",
                       ExpressionAttributeValues={":v": {"SS": ["a"]}},
                       ReturnValues="ALL_NEW")
    check(r["Attributes"]["m"] == {"M": {}} and
          sorted(r["Attributes"]["s"]["SS"]) == ["a", "b"], r)


def test_ddb_fidelity_query_empty_partition_key():
    """A Query for an empty string or binary partition key is refused as
    GetItem's key is (no item can have one), not answered with no items."""
    n = started()
    db = boto3_client(n, "dynamodb")
    table(db, "fids", "S", "N")
    table(db, "fidb", "B")
    code, msg = error(db.query, TableName="fids", KeyConditionExpression="pk = :v",
                      ExpressionAttributeValues={":v": {"S": ""}})
    check(code == "ValidationException" and msg ==
          "One or more parameter values are not valid. The AttributeValue for a "
          "key attribute cannot contain an empty string value. Key: pk", (code, msg))
    code, msg = error(db.query, TableName="fidb", KeyConditionExpression="pk = :v",
                      ExpressionAttributeValues={":v": {"B": b""}})
    check(code == "ValidationException" and "empty binary value. Key: pk" in msg,
          (code, msg))
    # a non-empty one is fine, and an empty sort key bound is only a bound
    r = db.query(TableName="fids", KeyConditionExpression="pk = :v AND sk > :s",
                 ExpressionAttributeValues={":v": {"S": "x"}, ":s": {"N": "0"}})
    check(r["Count"] == 0, r)


def moto_server():
    """A moto_server on a free loopback port, or Skip."""
    exe = shutil.which("moto_server")
    if exe is None:
        raise Skip("moto_server is not installed")
    port = free_port()
    log = open(os.devnull, "w")
    p = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                         stderr=subprocess.STDOUT)
    log.close()
    url = "http://127.0.0.1:%d" % port
    try:
        c = ddbdiff.client(url)
        wait_for(lambda: c.list_tables() is not None, 30, "moto_server")
    except Exception:
        p.kill()
        p.wait()
        raise
    return p, url


def test_ddb_fidelity_differential():
    p, url = moto_server()
    try:
        n = started()
        a = ddbdiff.client_with("http://" + n.edge, root_creds(n))
        b = ddbdiff.client(url)
        t0 = time.time()
        for seed in SEEDS:
            diffs = ddbdiff.run(a, b, seed, OPS_PER_SEED)
            check(not diffs, "OWS and moto differ:\n" +
                  "\n".join(ddbdiff.show(d) for d in diffs))
        print("  %d operations in %.1f s; moto's known deviations met: %s" % (
            len(SEEDS) * OPS_PER_SEED, time.time() - t0, ddbdiff.KNOWN_COUNTS))
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
