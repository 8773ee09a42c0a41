"""Attacks on the Lambda management API and the seam under it, by a
hostile user or client against a real owsd: escalation through the role
a function is given, limits a deploy tool's request may break, races of
two writers, node-only endpoints replayed, and the ledger of attested
entries checked on every node of a cluster after many API writes."""
import base64
import hashlib
import io
import json
import os
import threading
import time
import uuid
import zipfile

import botocore

from owstest import (Skip, boto3_client, canonical, check, cluster3_shared_root, deploy, http,
                     keygen, pubkey, raw_http, root_creds, sign, signed_request, started,
                     wait_for)

CODE = "def handler(e, c):\n    return {'ok': True}\n"


def app_zip(text=CODE):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", text)
    return buf.getvalue()


def user_client(n, name, statements, extra_stack=None):
    """Root makes user name with a policy of statements (in stack
    "people", with extra_stack's resources); a boto3 lambda client of an
    access key of that user."""
    k, pub = keygen()
    stack = {"stack": "people",
             "policies": {name + "-pol": {"Version": "2012-10-17",
                                          "Statement": statements}},
             "users": {name: {"public_keys": [pub], "policies": [name + "-pol"]}}}
    for kind, items in (extra_stack or {}).items():
        stack.setdefault(kind, {}).update(items)
    deploy(n, stack)
    made = n.ows_json("key", "access", "create", name)
    return boto3_client(n, "lambda", (made["access_key_id"], made["secret_access_key"]))


def error_of(fn, *args, **kw):
    """The error code fn(*args, **kw) fails with (None when it succeeds)."""
    try:
        fn(*args, **kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


def fn_spec(n, name):
    """The functions spec of name as the admin API shows it to root."""
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/resources?kind=functions")
    check(st == 200, (st, r))
    for row in r["resources"]:
        if row.get("name") == name:
            return row.get("spec")
    return None


# ---- escalation through the role a function runs with ----

def test_pass_role_is_judged_on_the_role_not_on_a_made_up_path():
    """iam:PassRole allowed on arn:ows:iam::role/team-* must not pass the
    role "admin" named with a path (role/team-x/admin, role/team-x/../admin):
    the function would run with admin's policies."""
    n = started()
    c = user_client(n, "dev", [
        {"Effect": "Allow", "Action": ["lambda:CreateFunction",
                                       "lambda:UpdateFunctionConfiguration"],
         "Resource": "arn:aws:lambda:*:*:function:team-*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:ows:iam::role/team-*"}],
        extra_stack={"policies": {"admin": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
            "roles": {"admin": {"policies": ["admin"]}, "team-x": {}}})
    acct = boto3_client(n, "sts").get_caller_identity()["Account"]
    base = dict(Runtime="python3.12", Handler="app.handler", Code={"ZipFile": app_zip()})
    for i, role in enumerate(["arn:ows:iam::role/team-x/admin",
                              "arn:ows:iam::role/team-x/../admin",
                              "arn:aws:iam::%s:role/team-x/admin" % acct]):
        code = error_of(c.create_function, FunctionName="team-a%d" % i, Role=role, **base)
        check(code == "AccessDeniedException", (role, code))
        check(fn_spec(n, "team-a%d" % i) is None, role)
    # The role the user may pass works, and so does it with a path.
    c.create_function(FunctionName="team-ok", Role="arn:ows:iam::role/team-x", **base)
    c.create_function(FunctionName="team-ok2", Role="arn:aws:iam::%s:role/svc/team-x" % acct,
                      **base)
    # Nor through UpdateFunctionConfiguration of a function one may change.
    code = error_of(c.update_function_configuration, FunctionName="team-ok",
                    Role="arn:ows:iam::role/team-x/admin")
    check(code == "AccessDeniedException", code)
    check("policies" not in fn_spec(n, "team-ok"), fn_spec(n, "team-ok"))


def test_create_function_takes_at_most_50_tags():
    """TagResource refuses a 51st tag; CreateFunction must too."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    code = error_of(c.create_function, FunctionName="f", Runtime="python3.12",
                    Handler="app.handler", Role="arn:ows:iam::role/r",
                    Code={"ZipFile": app_zip()}, Tags={"k%d" % i: "v" for i in range(51)})
    check(code == "InvalidParameterValueException", code)
    check(error_of(c.get_function, FunctionName="f") == "ResourceNotFoundException")


# ---- two writers at once ----

def at_once(calls):
    """Run the calls in threads at the same moment: a list of ("ok",
    result) or ("err", code), in the calls' order."""
    out = [None] * len(calls)
    go = threading.Barrier(len(calls))

    def run(i):
        go.wait()
        try:
            out[i] = ("ok", calls[i]())
        except botocore.exceptions.ClientError as e:
            out[i] = ("err", e.response["Error"]["Code"], e.response["Error"].get("Message"))
    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def test_concurrent_creates_of_one_name_make_one_function():
    """CreateFunction is a create: of four at once under one name, one
    makes the function and the others are ResourceConflictException (a
    caller allowed to create, not to update, must not replace code that
    way). The node checked each against the same state: apply judges it
    again."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    cs = [boto3_client(n, "lambda") for _ in range(4)]
    for trial in range(3):
        name = "race%d" % trial
        r = at_once([lambda i=i: cs[i].create_function(
            FunctionName=name, Runtime="python3.12", Handler="app.handler",
            Role="arn:ows:iam::role/r",
            Code={"ZipFile": app_zip(CODE + "# writer %d\n" % i)}) for i in range(4)])
        won = [x[1] for x in r if x[0] == "ok"]
        check(len(won) == 1 and sorted(x[1] for x in r if x[0] == "err") ==
              ["ResourceConflictException"] * 3, r)
        got = cs[0].get_function(FunctionName=name)["Configuration"]
        check(got["CodeSha256"] == won[0]["CodeSha256"] and
              got["RevisionId"] == won[0]["RevisionId"], (got, won))


def test_concurrent_updates_with_one_revision_id_one_wins():
    """Four UpdateFunctionConfiguration at once, each with the RevisionId
    read before: one applies, the others are 412 PreconditionFailed (the
    revision is judged again when the entry applies), and what is kept is
    the winner's."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    cs = [boto3_client(n, "lambda") for _ in range(4)]
    cs[0].create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                          Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    for trial in range(3):
        rev = cs[0].get_function(FunctionName="f")["Configuration"]["RevisionId"]
        r = at_once([lambda i=i: cs[i].update_function_configuration(
            FunctionName="f", RevisionId=rev,
            Environment={"Variables": {"W": "%d-%d" % (trial, i)}}) for i in range(4)])
        won = [i for i, x in enumerate(r) if x[0] == "ok"]
        check(len(won) == 1 and sorted(x[1] for x in r if x[0] == "err") ==
              ["PreconditionFailedException"] * 3, r)
        env = cs[0].get_function(FunctionName="f")["Configuration"]["Environment"]
        check(env["Variables"]["W"] == "%d-%d" % (trial, won[0]), (env, r))


def test_concurrent_publishes_number_versions_once():
    """Code updates published at once from four clients: every version
    number is given once, and each is the code its writer sent."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    cs = [boto3_client(n, "lambda") for _ in range(4)]
    cs[0].create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                          Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    sent = {}
    for trial in range(2):
        r = at_once([lambda i=i: cs[i].update_function_code(
            FunctionName="f", Publish=True,
            ZipFile=app_zip(CODE + "# %d %d\n" % (trial, i))) for i in range(4)])
        check(all(x[0] == "ok" for x in r), r)
        for x in r:
            check(x[1]["Version"] not in sent, (x[1]["Version"], sent))
            sent[x[1]["Version"]] = x[1]["CodeSha256"]
    vs = {v["Version"]: v["CodeSha256"]
          for v in cs[0].list_versions_by_function(FunctionName="f")["Versions"]}
    check(sorted(sent) == sorted(str(i) for i in range(1, 9)), sent)
    check(len(set(sent.values())) == 8, sent)
    check(all(vs[k] == sha for k, sha in sent.items()), (vs, sent))
    # One RevisionId, four publishers of the same code: one publishes.
    cs[0].update_function_code(FunctionName="f", ZipFile=app_zip(CODE + "# last\n"))
    rev = cs[0].get_function(FunctionName="f")["Configuration"]["RevisionId"]
    r = at_once([lambda i=i: cs[i].publish_version(FunctionName="f", RevisionId=rev,
                                                   Description="by %d" % i)
                 for i in range(4)])
    check(len([x for x in r if x[0] == "ok"]) >= 1 and
          all(x[1] == "PreconditionFailedException" for x in r if x[0] == "err"), r)


def test_code_sha256_is_the_zips_hash_and_publish_checks_it():
    """CodeSha256 is base64 of the zip's SHA-256 (deploy tools compare
    it with their own), and PublishVersion with that CodeSha256 publishes
    while another one is refused."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    z = app_zip()
    want = base64.b64encode(hashlib.sha256(z).digest()).decode()
    made = c.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                             Role="arn:ows:iam::role/r", Code={"ZipFile": z})
    check(made["CodeSha256"] == want, (made["CodeSha256"], want))
    check(c.get_function(FunctionName="f")["Configuration"]["CodeSha256"] == want)
    other = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    check(error_of(c.publish_version, FunctionName="f", CodeSha256=other) ==
          "InvalidParameterValueException")
    v = c.publish_version(FunctionName="f", CodeSha256=want)
    check(v["Version"] == "1" and v["CodeSha256"] == want, v)


# ---- stacks and the API ----

def test_stack_function_deleted_takes_its_api_versions_and_aliases():
    """A stack's function versioned, aliased and tagged through the API,
    then removed from its stack: a function made later under the name
    must not inherit the old versions (the old code, run with the old
    policies), the alias, the tags or the resource policy."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    deploy(n, {"stack": "s", "functions": {"sf": {"runtime": "python3",
                                                  "handler": "app.handler",
                                                  "code": "./py"}}},
           files={"py/app.py": CODE})
    c = boto3_client(n, "lambda")
    arn = c.get_function(FunctionName="sf")["Configuration"]["FunctionArn"]
    c.publish_version(FunctionName="sf")
    c.create_alias(FunctionName="sf", Name="live", FunctionVersion="1")
    c.tag_resource(Resource=arn, Tags={"owner": "team-a"})
    c.add_permission(FunctionName="sf", StatementId="s3", Action="lambda:InvokeFunction",
                     Principal="s3.amazonaws.com")
    deploy(n, {"stack": "s", "functions": {}})
    check(error_of(c.get_function, FunctionName="sf") == "ResourceNotFoundException")
    c.create_function(FunctionName="sf", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    check(error_of(c.get_alias, FunctionName="sf", Name="live") ==
          "ResourceNotFoundException")
    check(error_of(c.get_function, FunctionName="sf", Qualifier="1") ==
          "ResourceNotFoundException")
    check(c.list_aliases(FunctionName="sf")["Aliases"] == [])
    check([v["Version"] for v in c.list_versions_by_function(FunctionName="sf")["Versions"]]
          == ["$LATEST"])
    check(c.list_tags(Resource=arn)["Tags"] == {})
    check(error_of(c.get_policy, FunctionName="sf") == "ResourceNotFoundException")


# ---- the node-only endpoint: a forwarded entry replayed or altered ----

def attestation(n, actions, request_id=None, t_ms=None, caller="root"):
    st = n.status()
    return {"cluster": st["cluster"], "node": "1", "node_key": pubkey(node_key(n)),
            "request_id": request_id or str(uuid.uuid4()),
            "caller": {"kind": "users", "name": caller, "user": caller,
                       "access_key": "AKIAEXAMPLE", "session": False},
            "context": {"aws:SourceIp": "127.0.0.1", "aws:SecureTransport": "false",
                        "aws:RequestedRegion": "us-east-1",
                        "aws:CurrentTime": "2026-01-01T00:00:00Z"},
            "authorized": [{"action": "lambda:CreateFunction",
                            "arns": ["arn:ows:lambda::function/x"], "extra": None}],
            "stack": "", "actions": actions,
            "time": int(t_ms if t_ms is not None else time.time() * 1000)}


def node_key(n):
    return os.path.join(n.dir, "node.key")


def forwarded(n, a, keyfile=None, signer=None, t=None):
    """The request a follower sends the leader for attestation a: the
    body signed by signer (the node's key), the request by keyfile (the
    node's key) at time t. Returns the raw request bytes."""
    body = json.dumps({"attestation": a,
                       "signature": sign(signer or node_key(n), canonical(a))}).encode()
    keyfile = keyfile or node_key(n)
    t = int(t if t is not None else time.time())
    sts = "OWS-Ed25519\n%d\nPOST\n/_ows/v1/attested\n%s" % (t, hashlib.sha256(body).hexdigest())
    auth = "OWS-Ed25519 Key=%s, Time=%d, Signature=%s" % (pubkey(keyfile), t,
                                                           sign(keyfile, sts.encode()))
    return ("POST /_ows/v1/attested HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
            "Content-Type: application/json\r\nAuthorization: %s\r\nConnection: close\r\n\r\n"
            % (n.edge, len(body), auth)).encode() + body


def post_raw(n, raw):
    st, body = raw_http(n.edge, raw)
    try:
        return st, json.loads(body or b"null")
    except ValueError:
        return st, body


def test_forwarded_entry_replayed_applies_once_and_not_after_the_window():
    """A captured forwarding (node-signed body and request) sent again
    gets the first result and changes nothing; the same request id with
    other content is refused; a request signed outside the window, an
    attestation older than the entry's window, a body signed by a user's
    key, or a node's body under a user's request signature never apply."""
    n = started()
    height = lambda: n.status()["ledger"]["height"]  # noqa: E731
    mk = lambda name: [{"action": "function_meta.put", "name": name,  # noqa: E731
                        "spec": {"tags": {"t": name}}}]
    # A function to hang meta on (the action the entries carry).
    c = boto3_client(n, "lambda")
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c.create_function(FunctionName="x", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    a = attestation(n, mk("x"))
    raw = forwarded(n, a)
    h0 = height()
    st, r = post_raw(n, raw)
    check(st == 200 and r.get("ok") is True, (st, r))
    check(height() == h0 + 1, (h0, height()))
    st, r2 = post_raw(n, raw)
    check(st == 200 and r2.get("ok") is True and height() == h0 + 1, (st, r2))
    # Same request id, other content: refused.
    b = dict(a, actions=[{"action": "function_meta.put", "name": "x",
                          "spec": {"tags": {"t": "other"}}}])
    st, r = post_raw(n, forwarded(n, b))
    check(r.get("ok") is not True and r.get("code") == "RequestIdReused", (st, r))
    # Outside the request window (5 min): refused before Raft.
    st, r = post_raw(n, forwarded(n, attestation(n, mk("x")), t=time.time() - 400))
    check(st == 403, (st, r))
    # An attestation 20 minutes old in a fresh request: refused at apply.
    st, r = post_raw(n, forwarded(n, attestation(n, mk("x"), t_ms=(time.time() - 1200) * 1000)))
    check(r.get("ok") is not True and r.get("code") == "RequestTimeTooSkewed", (st, r))
    # The body signed by a user's key (root's), sent by the node.
    st, r = post_raw(n, forwarded(n, attestation(n, mk("x")), signer=n.root_key))
    check(r.get("ok") is not True and r.get("code") == "InvalidSignature", (st, r))
    # A node's body under root's request signature.
    st, r = post_raw(n, forwarded(n, attestation(n, mk("x")), keyfile=n.root_key))
    check(st == 403, (st, r))
    check(height() == h0 + 1, (h0, height()))
    check(c.list_tags(Resource=c.get_function(FunctionName="x")["Configuration"]
                      ["FunctionArn"])["Tags"] == {"t": "x"})


# ---- the ledger of API-made changes in a cluster ----

def test_a_function_made_through_one_node_is_there_through_the_others_at_once():
    """Lambda's management API is read-after-write across nodes: a
    function created through one follower is found at once through the
    other follower (which may not have applied it yet: it catches up to
    the leader's commit first), and one deleted is gone at once."""
    nodes = cluster3_shared_root()
    deploy(nodes[0], {"stack": "iam", "roles": {"r": {}}})
    wait_for(lambda: len({m.status()["ledger"]["height"] for m in nodes}) == 1,
             30, "the role on every node")
    key = root_creds(nodes[0])
    fol = [m for m in nodes if m.status()["node"]["role"] != "leader"]
    check(len(fol) == 2, "no single leader")
    a, b = boto3_client(fol[0], "lambda", key), boto3_client(fol[-1], "lambda", key)
    for i in range(8):
        a.create_function(FunctionName="g%d" % i, Runtime="python3.12",
                          Handler="app.handler", Role="arn:ows:iam::role/r",
                          Code={"ZipFile": app_zip()})
        got = b.get_function(FunctionName="g%d" % i)
        check(got["Configuration"]["FunctionName"] == "g%d" % i, got)
        if i % 2 == 1:  # Invoke, first thing through the other node
            a.create_function(FunctionName="h%d" % i, Runtime="python3.12",
                              Handler="app.handler", Role="arn:ows:iam::role/r",
                              Code={"ZipFile": app_zip()})
            out = b.invoke(FunctionName="h%d" % i, Payload=b"{}")
            check(out["StatusCode"] == 200 and "FunctionError" not in out, out)
            check(json.loads(out["Payload"].read()) == {"ok": True}, i)
        b.update_function_configuration(FunctionName="g%d" % i, Timeout=9)
        check(a.get_function_configuration(FunctionName="g%d" % i)["Timeout"] == 9)
        a.delete_function(FunctionName="g%d" % i)
        try:
            b.get_function(FunctionName="g%d" % i)
            check(False, "g%d still found after its deletion was acknowledged" % i)
        except botocore.exceptions.ClientError as e:
            check(e.response["Error"]["Code"] == "ResourceNotFoundException", e.response)


def test_ledger_verifies_after_many_api_writes_in_a_cluster_and_a_restart():
    """Writes through every node of three at once (followers forward
    them as attested entries): each lands once, every node holds the same
    ledger, and `ows ledger verify` passes on each, also after a node
    restarts and catches up."""
    nodes = cluster3_shared_root()

    def same_heights():
        hs = {m.status()["ledger"]["height"] for m in nodes}
        return len(hs) == 1
    deploy(nodes[0], {"stack": "iam", "roles": {"r": {}}})
    # A follower reads its own state: the role must have reached it.
    wait_for(same_heights, 30, "the role on every node")
    key = root_creds(nodes[0])
    cs = [boto3_client(m, "lambda", key) for m in nodes]
    r = at_once([lambda i=i: cs[i].create_function(
        FunctionName="f%d" % i, Runtime="python3.12", Handler="app.handler",
        Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip(CODE + "# %d\n" % i)})
        for i in range(3)])
    check(all(x[0] == "ok" for x in r), r)
    r = at_once([lambda i=i, j=j: cs[i].update_function_code(
        FunctionName="f%d" % j, ZipFile=app_zip(CODE + "# %d %d\n" % (i, j)), Publish=True)
        for i in range(3) for j in range(3)])
    check(all(x[0] == "ok" for x in r), r)
    for j in range(3):
        vs = [v["Version"] for v in cs[j].list_versions_by_function(
            FunctionName="f%d" % j)["Versions"]]
        check(vs == ["$LATEST", "1", "2", "3"], (j, vs))
        cs[(j + 1) % 3].create_alias(FunctionName="f%d" % j, Name="live", FunctionVersion="2")
    cs[1].delete_function(FunctionName="f0")
    wait_for(same_heights, 30, "every node at one height")
    for m in nodes:
        p = m.ows("ledger", "verify")
        check("attested" in m.ows("ledger", "log").stdout, m.edge)
        check(p.returncode == 0, p.stdout + p.stderr)
    nodes[2].stop()
    cs[0].update_function_configuration(FunctionName="f1", Timeout=30)
    nodes[2].start()
    wait_for(same_heights, 60, "the restarted node to catch up")
    for m in nodes:
        p = m.ows("ledger", "verify")
        check(p.returncode == 0, p.stdout + p.stderr)
    check(cs[2].get_function(FunctionName="f1")["Configuration"]["Timeout"] == 30)
    check(error_of(cs[2].get_function, FunctionName="f0") == "ResourceNotFoundException")


# ---- a reader tries every write ----

def test_reader_of_one_function_writes_nothing_by_any_name():
    """A user allowed lambda:GetFunction, ListVersionsByFunction and
    GetAlias on one function only: every write, on it and on another
    function, by name, qualified name, partial and full ARN (encoded or
    not, other account/region) and arn:ows, is refused and changes
    nothing; and the function's environment is not shown to it (it lacks
    ows:functions.read)."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    root = boto3_client(n, "lambda")
    for name in ("mine", "other"):
        root.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                             Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()},
                             Environment={"Variables": {"SECRET": "s3cr3t"}})
        root.publish_version(FunctionName=name)
        root.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    c = user_client(n, "reader", [
        {"Effect": "Allow", "Action": ["lambda:GetFunction", "lambda:ListVersionsByFunction",
                                       "lambda:GetAlias"],
         "Resource": ["arn:aws:lambda:*:*:function:mine", "arn:aws:lambda:*:*:function:mine:*"]}])
    acct = boto3_client(n, "sts").get_caller_identity()["Account"]
    before = root.get_function(FunctionName="mine")["Configuration"]["RevisionId"]
    got = c.get_function(FunctionName="mine")["Configuration"]
    check("Environment" not in got, got)
    check(all("Environment" not in v for v in
              c.list_versions_by_function(FunctionName="mine")["Versions"]))
    for name in ("mine", "other"):
        refs = [name, name + ":$LATEST", name + ":live", name + ":1",
                "%s:function:%s" % (acct, name),
                "arn:aws:lambda:us-east-1:%s:function:%s" % (acct, name),
                "arn:aws:lambda:us-east-1:%s:function:%s:live" % (acct, name),
                "arn:ows:lambda::function/" + name]
        for ref in refs:
            unq = ref.rsplit(":", 1)[0] if ref.endswith((":live", ":1", ":$LATEST")) else ref
            writes = [
                (c.update_function_configuration, dict(FunctionName=unq, Timeout=9)),
                (c.update_function_code, dict(FunctionName=unq, ZipFile=app_zip("x"))),
                (c.delete_function, dict(FunctionName=ref)),
                (c.publish_version, dict(FunctionName=unq)),
                (c.create_alias, dict(FunctionName=unq, Name="evil", FunctionVersion="1")),
                (c.update_alias, dict(FunctionName=unq, Name="live", FunctionVersion="$LATEST")),
                (c.delete_alias, dict(FunctionName=unq, Name="live")),
                (c.add_permission, dict(FunctionName=ref, StatementId="s",
                                        Action="lambda:InvokeFunction",
                                        Principal="s3.amazonaws.com")),
                (c.put_function_concurrency, dict(FunctionName=unq,
                                                  ReservedConcurrentExecutions=1)),
                (c.put_function_event_invoke_config, dict(FunctionName=ref,
                                                          MaximumRetryAttempts=0)),
            ]
            for fn, kw in writes:
                code = error_of(fn, **kw)
                check(code in ("AccessDeniedException", "ResourceNotFoundException",
                               "InvalidParameterValueException"), (fn.__name__, kw, code))
        arn = "arn:aws:lambda:us-east-1:%s:function:%s" % (acct, name)
        for fn, kw in [(c.tag_resource, dict(Resource=arn, Tags={"a": "b"})),
                       (c.untag_resource, dict(Resource=arn, TagKeys=["a"]))]:
            check(error_of(fn, **kw) == "AccessDeniedException", (fn.__name__, name))
        code = error_of(c.create_function, FunctionName=name + "2", Runtime="python3.12",
                        Handler="app.handler", Role="arn:ows:iam::role/r",
                        Code={"ZipFile": app_zip()})
        check(code == "AccessDeniedException", code)
    after = root.get_function(FunctionName="mine")
    check(after["Configuration"]["RevisionId"] == before and after["Tags"] == {}, after)
    check([a["Name"] for a in root.list_aliases(FunctionName="mine")["Aliases"]] == ["live"])
    check(root.get_alias(FunctionName="mine", Name="live")["FunctionVersion"] == "1")
    check(error_of(root.get_policy, FunctionName="mine") == "ResourceNotFoundException")


# ---- Invoke judged on the qualifier it names ----

def test_invoke_of_a_denied_version_is_refused():
    """Allowed to invoke f and f:*, denied f:1 (an old version): Invoke of
    f:1 (NAME:1, ?Qualifier=1, the versioned ARN) is AccessDenied, not run;
    $LATEST runs. Allowed only the alias f:live: invoking through it runs,
    as on Lambda."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    root = boto3_client(n, "lambda")
    root.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                         Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    root.publish_version(FunctionName="f")
    root.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    acct = boto3_client(n, "sts").get_caller_identity()["Account"]
    fa = "arn:aws:lambda:us-east-1:%s:function:f" % acct
    c = user_client(n, "inv", [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [fa, fa + ":*"]},
        {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": fa + ":1"}])
    for kw in (dict(FunctionName="f:1"), dict(FunctionName="f", Qualifier="1"),
               dict(FunctionName=fa + ":1")):
        check(error_of(c.invoke, Payload=b"{}", **kw) == "AccessDeniedException", kw)
    check(c.invoke(FunctionName="f", Payload=b"{}")["StatusCode"] == 200)
    only = user_client(n, "alias-only", [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fa + ":live"}])
    r = only.invoke(FunctionName="f", Qualifier="live", Payload=b"{}")
    check(r["StatusCode"] == 200 and r["ExecutedVersion"] == "1", r)
    check(error_of(only.invoke, FunctionName="f", Payload=b"{}") == "AccessDeniedException")


# ---- a function's own session credentials ----

INSIDE = r'''
import base64, io, json, zipfile
import boto3

def z():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as f:
        f.writestr("app.py", "def handler(e, c):\n    return 1\n")
    return b.getvalue()

def handler(event, context):
    lam = boto3.client("lambda")
    out = {}
    def attempt(label, fn, **kw):
        try:
            fn(**kw)
            out[label] = "ok"
        except Exception as e:
            out[label] = getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))
    base = dict(Runtime="python3.12", Handler="app.handler", Code={"ZipFile": z()})
    attempt("create_admin", lam.create_function, FunctionName="e1",
            Role="arn:ows:iam::role/admin", **base)
    attempt("create_admin_path", lam.create_function, FunctionName="e2",
            Role="arn:ows:iam::role/low/admin", **base)
    attempt("create_low", lam.create_function, FunctionName="e3",
            Role="arn:ows:iam::role/low", **base)
    attempt("self_config", lam.update_function_configuration, FunctionName="evil",
            Timeout=60)
    attempt("victim_role", lam.update_function_configuration, FunctionName="e3",
            Role="arn:ows:iam::role/admin")
    return out
'''


def test_function_session_cannot_pass_roles_it_may_not():
    """A function whose policies allow Lambda writes and iam:PassRole on
    the role "low" only, calling the Lambda API with its own session
    credentials: it makes a function with "low", but not with "admin" (by
    name or a made-up path), cannot change its own stack-owned spec, and
    cannot move a function it made to "admin"."""
    n = started()
    deploy(n, {"stack": "iam", "policies": {
        "admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        "writer": {"Statement": [
            {"Effect": "Allow", "Action": ["lambda:CreateFunction",
                                           "lambda:UpdateFunctionConfiguration"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:ows:iam::role/low"}]}},
        "roles": {"admin": {"policies": ["admin"]}, "low": {}}})
    deploy(n, {"stack": "fns", "functions": {"evil": {
        "runtime": "python3", "handler": "app.handler", "code": "./evil", "timeout_s": 60,
        "policies": ["writer"]}}}, files={"evil/app.py": INSIDE})
    c = boto3_client(n, "lambda")
    r = c.invoke(FunctionName="evil", Payload=b"{}")
    out = json.loads(r["Payload"].read())
    check(out == {"create_admin": "AccessDeniedException",
                  "create_admin_path": "AccessDeniedException",
                  "create_low": "ok", "self_config": "ResourceConflictException",
                  "victim_role": "AccessDeniedException"}, out)
    check(fn_spec(n, "e1") is None and fn_spec(n, "e2") is None)
    check("policies" not in fn_spec(n, "e3"), fn_spec(n, "e3"))
    log = n.ows("ledger", "log").stdout
    check("evil" in log, log)


# ---- hostile input ----

def signed_lambda(n, method, path, body=b""):
    """A request signed with root's key as botocore signs it, sent raw:
    (status, parsed JSON or bytes)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    key = root_creds(n)
    r = AWSRequest(method=method, url="http://%s%s" % (n.edge, path), data=body)
    SigV4Auth(Credentials(key[0], key[1]), "lambda", "us-east-1").add_auth(r)
    p = r.prepare()
    hs = {k: v for k, v in p.headers.items() if k.lower() != "content-length"}
    st, text = http(n.edge, method, p.url.split(n.edge, 1)[1], body, hs)
    try:
        return st, json.loads(text or b"null")
    except ValueError:
        return st, text


def test_malformed_requests_are_answered_as_lambda_and_change_nothing():
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    rev = c.get_function(FunctionName="f")["Configuration"]["RevisionId"]
    zip64 = base64.b64encode(app_zip()).decode()
    bad = [
        ("POST", "/2015-03-31/functions", b"{", "InvalidRequestContentException"),
        ("POST", "/2015-03-31/functions", b"[]", "InvalidRequestContentException"),
        ("PUT", "/2015-03-31/functions/f/configuration", b'{"MemorySize": 128.5}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/configuration", b'{"MemorySize": -128}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/configuration",
         b'{"Timeout": 99999999999999999999999}', "InvalidRequestContentException"),
        ("PUT", "/2015-03-31/functions/f/configuration", b'{"Timeout": "9"}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/configuration",
         b'{"Environment": {"Variables": {"A": "' + b"x" * 5000 + b'"}}}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/configuration", b'{"Runtime": "python3.7"}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/configuration", b'{"Role": 7}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f%2e%2e/configuration", b'{"Timeout": 9}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/" + "a" * 65 + "/configuration", b'{"Timeout": 9}',
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/code", json.dumps({"ZipFile": "!!notbase64"}).encode(),
         "InvalidParameterValueException"),
        ("PUT", "/2015-03-31/functions/f/code",
         json.dumps({"ZipFile": base64.b64encode(b"PK\x03\x04junk").decode()}).encode(),
         "InvalidParameterValueException"),
        ("POST", "/2015-03-31/functions", json.dumps({
            "FunctionName": "g", "Runtime": "python3.12", "Handler": "app.handler",
            "Role": "arn:ows:iam::role/r", "Code": {"ZipFile": zip64},
            "Tags": {"k%d" % i: "v" for i in range(51)}}).encode(),
         "InvalidParameterValueException"),
        ("GET", "/2015-03-31/functions/f?Qualifier=a%3Ab", b"", "InvalidParameterValueException"),
        ("GET", "/2015-03-31/functions/f?Qualifier=99999999999999999999", b"",
         "ResourceNotFoundException"),
        ("GET", "/2015-03-31/functions/f%3A1?Qualifier=2", b"",
         "InvalidParameterValueException"),
    ]
    for method, path, body, want in bad:
        st, r = signed_lambda(n, method, path, body)
        check(isinstance(r, dict) and r.get("__type", r.get("Type")) and
              want in json.dumps(r) and 400 <= st < 500, (method, path, st, r))
    got = c.get_function(FunctionName="f")
    check(got["Configuration"]["RevisionId"] == rev, got)
    check(error_of(c.get_function, FunctionName="g") == "ResourceNotFoundException")


# ---- resource policies ----

def test_add_permission_keeps_every_condition_given():
    """SourceAccount and PrincipalOrgID together are two conditions; the
    stored statement must not drop one (it would grant more than asked
    once resource policies are judged)."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    c.add_permission(FunctionName="f", StatementId="s3", Action="lambda:InvokeFunction",
                     Principal="s3.amazonaws.com", SourceAccount="111122223333",
                     SourceArn="arn:aws:s3:::bucket", PrincipalOrgID="o-abcdefgh12")
    st = json.loads(c.get_policy(FunctionName="f")["Policy"])["Statement"][0]
    cond = st.get("Condition", {})
    check(cond.get("StringEquals", {}).get("AWS:SourceAccount") == "111122223333" and
          cond.get("StringEquals", {}).get("aws:PrincipalOrgID") == "o-abcdefgh12" and
          cond.get("ArnLike", {}).get("AWS:SourceArn") == "arn:aws:s3:::bucket", st)


def test_add_permission_with_a_stale_revision_id_is_refused():
    """RevisionId guards a resource policy as Lambda documents it ("avoid
    modifying a policy that has changed since you last read it"): a
    policy change gives a new RevisionId, and a write with the old one is
    412."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    rev = c.get_function(FunctionName="f")["Configuration"]["RevisionId"]
    c.add_permission(FunctionName="f", StatementId="a", Action="lambda:InvokeFunction",
                     Principal="s3.amazonaws.com", RevisionId=rev)
    check(json.loads(c.get_policy(FunctionName="f")["Policy"]) and
          c.get_policy(FunctionName="f")["RevisionId"] != rev)
    check(error_of(c.add_permission, FunctionName="f", StatementId="b",
                   Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                   RevisionId=rev) == "PreconditionFailedException")
    check(error_of(c.remove_permission, FunctionName="f", StatementId="a",
                   RevisionId=rev) == "PreconditionFailedException")


def test_a_resource_policy_is_at_most_20_kb():
    """Lambda's limit on a function's resource policy: past 20 KB,
    AddPermission is PolicyLengthExceededException and stores nothing."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()})
    added, code = 0, None
    for i in range(200):
        code = error_of(c.add_permission, FunctionName="f", StatementId="s%03d" % i,
                        Action="lambda:InvokeFunction",
                        Principal="arn:aws:iam::123456789012:user/" + "u" * 60,
                        SourceArn="arn:aws:s3:::" + "b" * 60)
        if code is not None:
            break
        added += 1
    check(code == "PolicyLengthExceededException", (added, code))
    policy = json.loads(c.get_policy(FunctionName="f")["Policy"])
    check(len(policy["Statement"]) == added and len(json.dumps(policy)) < 24 * 1024, added)


def test_reserved_environment_keys_are_refused():
    """The variables Lambda sets itself (AWS_REGION, the credentials, the
    Runtime API's address, ...) cannot be set by a function's
    configuration, as on Lambda: 400, and nothing changes."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_LAMBDA_RUNTIME_API", "AWS_REGION"):
        check(error_of(c.create_function, FunctionName="f", Runtime="python3.12",
                       Handler="app.handler", Role="arn:ows:iam::role/r",
                       Code={"ZipFile": app_zip()},
                       Environment={"Variables": {key: "x"}}) ==
              "InvalidParameterValueException", key)
    check(error_of(c.get_function, FunctionName="f") == "ResourceNotFoundException")
    c.create_function(FunctionName="f", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/r", Code={"ZipFile": app_zip()},
                      Environment={"Variables": {"MY_AWS_REGION": "ok"}})
    check(error_of(c.update_function_configuration, FunctionName="f",
                   Environment={"Variables": {"AWS_SESSION_TOKEN": "x"}}) ==
          "InvalidParameterValueException")
    env = c.get_function_configuration(FunctionName="f")["Environment"]["Variables"]
    check(env == {"MY_AWS_REGION": "ok"}, env)
