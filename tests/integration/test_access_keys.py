"""Access keys: created by ows with the secret sealed to the cluster's box
key, listed without secrets, deleted; the secret appears nowhere on disk or
in any reply but the one ows prints; permissions apply."""
import glob
import json

from owstest import check, keygen, started, write_json


def files_containing(root, needle):
    hits = []
    for path in glob.glob(root + "/**", recursive=True):
        try:
            with open(path, "rb") as f:
                if needle.encode() in f.read():
                    hits.append(path)
        except (IsADirectoryError, PermissionError):
            pass
    return hits


def test_create_list_delete_and_secret_stays_secret():
    n = started()
    n.ows("apply", write_json({"stack": "s", "users": {"dev": {}}}), "--yes")
    made = n.ows_json("key", "access", "create", "dev")
    kid, secret = made["access_key_id"], made["secret_access_key"]
    check(kid.startswith("AKIA") and len(kid) == 20 and len(secret) == 40, made)
    keys = n.ows_json("key", "access", "ls")
    check(sorted(k["user"] for k in keys) == ["dev", "root"], keys)
    check(secret not in json.dumps(keys))
    check(n.ows_json("key", "access", "ls", "dev")[0]["id"] == kid)
    # Nowhere in clear: ledger (as served), node directory (state.db, the
    # Raft log and snapshots), the node's log.
    check(secret not in n.ows("--json", "ledger", "log").stdout)
    check(files_containing(n.dir, secret) == [], files_containing(n.dir, secret))
    check(secret not in open(n.log).read())
    # The root key's secret from owsd init is sealed the same way.
    root_secret = open(n.dir + "/credentials").read().split("aws_secret_access_key = ")[1].strip()
    hits = [p for p in files_containing(n.dir, root_secret) if not p.endswith("/credentials")]
    check(hits == [], hits)
    check(n.ows_json("ledger", "verify")["ok"])
    out = n.ows("key", "access", "rm", kid).stdout
    check("deleted" in out, out)
    check([k["user"] for k in n.ows_json("key", "access", "ls")] == ["root"])
    p = n.ows("key", "access", "rm", kid, check_rc=False)
    check(p.returncode != 0 and "does not exist" in p.stderr, p.stderr)


def test_refusals():
    n = started()
    p = n.ows("key", "access", "create", "nobody", check_rc=False)
    check(p.returncode != 0 and "no such user 'nobody'" in p.stderr, p.stderr)
    k, pub = keygen()
    n.ows("apply", write_json({"stack": "s", "users": {"dev": {"public_keys": [pub]}}}), "--yes")
    p = n.ows("key", "access", "create", "dev", key=k, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr and "access_keys.put" in p.stderr,
          p.stderr)
    p = n.ows("key", "access", "ls", key=k, check_rc=False)
    check(p.returncode != 0 and "HTTP 403" in p.stderr, p.stderr)
    # Deleting a user deletes its access keys.
    n.ows("key", "access", "create", "dev")
    n.ows("apply", write_json({"stack": "s"}), "--yes")
    check([x["user"] for x in n.ows_json("key", "access", "ls")] == ["root"])


def _error(fn):
    """The AWS error code of fn(), or None when it succeeded."""
    import botocore.exceptions
    try:
        fn()
        return None
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def test_deleted_or_rotated_key_refused_at_once():
    """The node keeps signing keys between requests (aws/keycache.c): a key
    deleted, or replaced by another, must be refused by the very next
    request, on every service it was used with, and the new one taken."""
    from owstest import boto3_client
    n = started()
    n.ows("apply", write_json({"stack": "s", "users": {"dev": {"policies": ["all"]}},
                               "policies": {"all": {"Version": "2012-10-17", "Statement": [
                                   {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}}),
          "--yes")
    old = n.ows_json("key", "access", "create", "dev")
    k1 = (old["access_key_id"], old["secret_access_key"])
    ddb1, sts1 = boto3_client(n, "dynamodb", k1, retries=0), boto3_client(n, "sts", k1, retries=0)
    # Used more than once on two services: its signing keys are kept.
    for _ in range(3):
        check(_error(ddb1.list_tables) is None)
        check(sts1.get_caller_identity()["Arn"].endswith(":user/dev"))
    # Rotation: a second key, both work; the first deleted is refused at
    # once on both services, the second still works.
    new = n.ows_json("key", "access", "create", "dev")
    k2 = (new["access_key_id"], new["secret_access_key"])
    ddb2 = boto3_client(n, "dynamodb", k2, retries=0)
    check(_error(ddb2.list_tables) is None)
    n.ows("key", "access", "rm", k1[0])
    check(_error(ddb1.list_tables) == "UnrecognizedClientException")
    check(_error(sts1.get_caller_identity) == "InvalidClientTokenId")
    check(_error(ddb2.list_tables) is None)
    # The user deleted (and so its keys): refused at once too.
    check(_error(ddb2.list_tables) is None)
    n.ows("apply", write_json({"stack": "s"}), "--yes")
    check(_error(ddb2.list_tables) == "UnrecognizedClientException")
    # A key whose secret is wrong is refused even while the right one's
    # signing key is kept.
    root = boto3_client(n, "dynamodb", retries=0)
    check(_error(root.list_tables) is None)
    from owstest import root_creds
    bad = boto3_client(n, "dynamodb", (root_creds(n)[0], "x" * 40), retries=0)
    check(_error(bad.list_tables) == "InvalidSignatureException")
