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
