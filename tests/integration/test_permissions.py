"""Permissions without holes (issue 7): access keys judged on their user,
no self-escalation through users.put or policies.put, condition keys with
the request context recorded in the entry (aws:SourceIp, ...), unknown
condition keys refused at apply, stacks owned, reads judged per resource,
blobs judged by the functions that name them and collected when unnamed."""
import hashlib
import json
import os
import socket
import subprocess
import time

from owstest import (Node, check, deploy, envelope, keygen, pubkey, sign, signed_request,
                     started, tmpdir, wait_for, write_json)

PY = "/usr/bin/python3"
PY_APP = "def handler(event, context):\n    return {'ok': True}\n"


def root_apply(n, stack):
    n.ows("apply", write_json(stack), "--yes")


def submit(n, keyfile, actions, stack=None, source=None, extra=None):
    """POST a change set signed by keyfile, from the source address given."""
    cluster = n.status()["cluster"]
    env = envelope(keyfile, cluster, actions, stack=stack)
    env.update(extra or {})
    return post_signed(n.edge, keyfile, "/_ows/v1/changesets", json.dumps(env), source)


def post_signed(addr, keyfile, target, body, source=None):
    body = body.encode()
    t = int(time.time())
    sts = "OWS-Ed25519\n%d\nPOST\n%s\n%s" % (t, target, hashlib.sha256(body).hexdigest())
    auth = "OWS-Ed25519 Key=%s, Time=%d, Signature=%s" % (
        pubkey(keyfile), t, sign(keyfile, sts.encode()))
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nAuthorization: %s\r\n\r\n"
            % (target, addr, len(body), auth))
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30,
                                  source_address=(source, 0) if source else None) as s:
        s.sendall(head.encode() + body)
        resp = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            resp += b
    h, _, rest = resp.partition(b"\r\n\r\n")
    return int(h.split(b" ")[1]), json.loads(rest or b"null")


def user_with(n, name, statements, stack="people", extra_policies=()):
    """Root makes user name with one policy name-pol; returns its key file."""
    k, pub = keygen()
    root_apply(n, {"stack": stack,
                   "policies": {name + "-pol": {"Version": "2012-10-17",
                                                "Statement": statements}},
                   "users": {name: {"public_keys": [pub],
                                    "policies": [name + "-pol"] + list(extra_policies)}}})
    return k


ALL = {"Effect": "Allow", "Action": "ows:*", "Resource": "*"}


# ---- 1. access keys are judged on the user they are for ----

def test_access_key_for_root_is_refused():
    n = started()
    # The operator lets dev make keys for anyone but root.
    k = user_with(n, "dev", [
        {"Effect": "Allow", "Action": "ows:access_keys.*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ows:access_keys.*",
         "Resource": "arn:ows:iam::user/root"}])
    p = n.ows("key", "access", "create", "root", key=k, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr and
          "arn:ows:iam::user/root" in p.stderr, p.stderr)
    check([x["user"] for x in n.ows_json("key", "access", "ls")] == ["root"])
    # Its own key it may make, and delete.
    made = n.ows_json("key", "access", "create", "dev", key=k)
    # Deleting root's key is judged on root too.
    root_id = [x["id"] for x in n.ows_json("key", "access", "ls", "root")][0]
    p = n.ows("key", "access", "rm", root_id, key=k, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr, p.stderr)
    n.ows("key", "access", "rm", made["access_key_id"], key=k)
    check(n.ows_json("ledger", "verify")["ok"])


def test_access_key_allowed_only_on_own_user():
    n = started()
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": "ows:access_keys.put",
                              "Resource": "arn:ows:iam::user/dev"}])
    n.ows_json("key", "access", "create", "dev", key=k)
    p = n.ows("key", "access", "create", "root", key=k, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr, p.stderr)


# ---- 2. no self-escalation ----

def test_users_put_cannot_attach_new_policies_to_itself():
    n = started()
    root_apply(n, {"stack": "base", "policies": {"admin": {"Statement": [ALL]}}})
    k = user_with(n, "dev", [
        {"Effect": "Allow", "Action": ["ows:users.put", "ows:stacks.put"],
         "Resource": "*"}])
    pub = pubkey(k)
    st, r = submit(n, k, [{"action": "users.put", "name": "dev", "spec": {
        "public_keys": [pub], "policies": ["dev-pol", "admin"]}}], stack="people")
    check(st == 403 and r["code"] == "AccessDenied" and "ows:policies.attach" in r["message"]
          and "arn:ows:iam::policy/admin" in r["message"], (st, r))
    # Nor through a new user whose key dev holds.
    st, r = submit(n, k, [{"action": "users.put", "name": "dev2", "spec": {
        "public_keys": [keygen()[1]], "policies": ["admin"]}}], stack="people")
    check(st == 403 and "ows:policies.attach" in r["message"], (st, r))
    # What it already has, it may keep (no attach is needed).
    st, r = submit(n, k, [{"action": "users.put", "name": "dev", "spec": {
        "public_keys": [pub], "policies": ["dev-pol"]}}], stack="people")
    check(st == 200, (st, r))


def test_attach_bounded_by_iam_policy_arn():
    n = started()
    root_apply(n, {"stack": "base", "policies": {
        "admin": {"Statement": [ALL]},
        "team-ro": {"Statement": [{"Effect": "Allow", "Action": "ows:status.read",
                                   "Resource": "*"}]}}})
    # May attach team-* policies, to team users only; never anything else.
    k = user_with(n, "lead", [
        {"Effect": "Allow", "Action": ["ows:users.put", "ows:stacks.put"], "Resource": "*",
         "Condition": {"ForAllValues:ArnLike": {
             "iam:PolicyARN": "arn:ows:iam::policy/team-*"}}},
        {"Effect": "Allow", "Action": "ows:policies.attach", "Resource": "*",
         "Condition": {"ArnLike": {"iam:PolicyARN": "arn:ows:iam::policy/team-*"}}},
        {"Effect": "Deny", "Action": "ows:users.put", "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {
             "ows:RequestedPolicies": "arn:ows:iam::policy/admin"}}}])
    st, r = submit(n, k, [{"action": "users.put", "name": "member", "spec": {
        "policies": ["team-ro"]}}], stack="team")
    check(st == 200, (st, r))
    st, r = submit(n, k, [{"action": "users.put", "name": "member2", "spec": {
        "policies": ["team-ro", "admin"]}}], stack="team")
    check(st == 403 and "ows:users.put" in r["message"], (st, r))


def test_policies_put_of_own_policy_is_an_attach():
    n = started()
    k = user_with(n, "dev", [
        {"Effect": "Allow", "Action": ["ows:policies.put", "ows:stacks.put"],
         "Resource": "*"}])
    # Rewriting its own policy to allow everything: refused.
    st, r = submit(n, k, [{"action": "policies.put", "name": "dev-pol", "spec": {
        "Statement": [ALL]}}], stack="people")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/dev-pol" in r["message"], (st, r))
    # A policy attached to no signer it may write.
    st, r = submit(n, k, [{"action": "policies.put", "name": "other", "spec": {
        "Statement": [ALL]}}], stack="people")
    check(st == 200, (st, r))


# ---- 3. conditions with a real request context ----

def test_unknown_condition_key_or_operator_refused_at_apply():
    n = started()
    for cond, msg in (({"IpAddress": {"aws:SorceIp": "10.0.0.0/8"}},
                       "unknown Condition key 'aws:SorceIp'"),
                      ({"IpAdress": {"aws:SourceIp": "10.0.0.0/8"}},
                       "unknown Condition operator 'IpAdress'")):
        p = n.ows("apply", write_json({"stack": "s", "policies": {"p": {"Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": cond}]}}}),
                  "--yes", check_rc=False)
        check(p.returncode != 0 and msg in p.stderr and "InvalidAction" in p.stderr,
              p.stderr)


def test_source_ip_deny_on_changesets():
    n = started()
    k = user_with(n, "dev", [ALL, {"Effect": "Deny", "Action": "ows:*", "Resource": "*",
                                   "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.2/32"}}}])
    acts = [{"action": "users.put", "name": "u1", "spec": {}}]
    st, r = submit(n, k, acts, stack="x", source="127.0.0.2")
    check(st == 403 and r["code"] == "AccessDenied", (st, r))
    # A context the client writes itself is replaced by what the node saw.
    st, r = submit(n, k, acts, stack="x", source="127.0.0.2",
                   extra={"context": {"source_ip": "192.0.2.9", "secure_transport": True}})
    check(st == 403, (st, r))
    # From another address the same change set is allowed, and the ledger
    # records the address it was judged with; verify replays the judgement.
    st, r = submit(n, k, acts, stack="x", source="127.0.0.1")
    check(st == 200, (st, r))
    st, led = signed_request(n, n.root_key, "GET", "/_ows/v1/ledger")
    last = led["entries"][-1]["entry"]
    check(last["body"]["context"] == {"source_ip": "127.0.0.1", "secure_transport": False},
          last)
    check(n.ows_json("ledger", "verify")["ok"])


def two_nodes():
    base = tmpdir()
    n1 = Node(base + "/1")
    n1.init()
    n1.start()
    tok = n1.ows("node", "token").stdout.strip()
    n2 = Node(base + "/2")
    p = n2.join(n1, tok)
    check(p.returncode == 0, p.stderr)
    import shutil
    shutil.copy(n1.root_key, n2.root_key)
    n2.start()
    wait_for(lambda: len(n1.status()["nodes"]) == 2 and
             n2.status(key=n1.root_key)["leader"] is not None, 60, "two nodes")
    return n1, n2


def test_source_ip_survives_forwarding_from_a_follower():
    lead, follower = two_nodes()
    check(follower.status(key=lead.root_key)["node"]["role"] != "leader")
    k = user_with(lead, "dev", [ALL, {"Effect": "Deny", "Action": "ows:*", "Resource": "*",
                                      "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.2"}}}])
    wait_for(lambda: follower.status(key=lead.root_key)["ledger"]["height"] ==
             lead.status()["ledger"]["height"], 30, "the follower to catch up")
    acts = [{"action": "users.put", "name": "u1", "spec": {}}]
    # The follower forwards from 127.0.0.1; the leader judges 127.0.0.2.
    st, r = submit(follower, k, acts, stack="x", source="127.0.0.2")
    check(st == 403 and r["code"] == "AccessDenied", (st, r))
    st, r = submit(follower, k, acts, stack="x", source="127.0.0.1")
    check(st == 200, (st, r))


def test_if_exists_and_time_conditions():
    n = started()
    # No region in a change set: IfExists holds, the plain operator fails.
    k = user_with(n, "dev", [
        {"Effect": "Allow", "Action": "ows:*", "Resource": "*",
         "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"},
                       "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                       "StringEquals": {"aws:username": "dev",
                                        "aws:PrincipalArn": "arn:ows:iam::user/dev"},
                       "Bool": {"aws:SecureTransport": "false"}}}])
    st, r = submit(n, k, [{"action": "users.put", "name": "a", "spec": {}}], stack="x")
    check(st == 200, (st, r))
    k2 = user_with(n, "dev2", [
        {"Effect": "Allow", "Action": "ows:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}])
    st, r = submit(n, k2, [{"action": "users.put", "name": "b", "spec": {}}], stack="y")
    check(st == 403, (st, r))
    k3 = user_with(n, "dev3", [
        {"Effect": "Allow", "Action": "ows:*", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:EpochTime": "1577836800"}}}])
    st, r = submit(n, k3, [{"action": "users.put", "name": "c", "spec": {}}], stack="z")
    check(st == 403, (st, r))


def deploy_fn(n, name="fn", env=None, stack="fns", key=None):
    spec = {"runtime": "python3", "handler": "app.handler", "code": "./py"}
    if env:
        spec["env"] = env
    return deploy(n, {"stack": stack, "functions": {name: spec}}, {"py/app.py": PY_APP},
                  key=key, check_rc=key is None)


BOTO_INVOKE = r'''
import json, sys, boto3, botocore
c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
try:
    r = c.invoke(FunctionName="fn", Payload=b"{}")
    print(json.dumps({"ok": json.loads(r["Payload"].read())}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"error": e.response["Error"]["Code"]}))
'''


def test_source_ip_deny_on_lambda_invoke():
    n = started()
    deploy_fn(n)
    for name, cidr in (("far", "192.0.2.0/24"), ("near", "127.0.0.0/8")):
        user_with(n, name, [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                             "Resource": "*"},
                            {"Effect": "Deny", "Action": "lambda:*", "Resource": "*",
                             "Condition": {"IpAddress": {"aws:SourceIp": cidr}}}],
                  stack="people-" + name)
        made = n.ows_json("key", "access", "create", name)
        p = subprocess.run([PY, "-c", BOTO_INVOKE, "http://" + n.edge, made["access_key_id"],
                            made["secret_access_key"]], capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0, p.stderr)
        out = json.loads(p.stdout)
        want = {"ok": {"ok": True}} if name == "far" else {"error": "AccessDeniedException"}
        check(out == want, (name, out))


# ---- 4. stacks are owned ----

def team_policy(team):
    return [{"Effect": "Allow", "NotAction": "ows:stacks.*", "Resource": "*"},
            {"Effect": "Allow", "Action": "ows:stacks.put",
             "Resource": "arn:ows:ows::stack/%s-*" % team}]


def test_claiming_another_teams_stack_is_refused():
    n = started()
    root_apply(n, {"stack": "a-app", "users": {"alice": {}}})
    kb = user_with(n, "bob", team_policy("b"))
    # bob may do users.* anywhere, but the stack a-app is not his: an apply
    # of {"stack": "a-app"} would delete alice.
    p = n.ows("apply", write_json({"stack": "a-app"}), "--yes", key=kb, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr and
          "ows:stacks.put" in p.stderr and "arn:ows:ows::stack/a-app" in p.stderr, p.stderr)
    have = [(r["kind"], r["name"], r["stack"]) for r in resources_as(n, n.root_key)]
    check(("users", "alice", "a-app") in have, have)
    # His own stacks he may make and change.
    n.ows("apply", write_json({"stack": "b-app", "users": {"bobs": {}}}), "--yes", key=kb)
    n.ows("apply", write_json({"stack": "b-app"}), "--yes", key=kb)


# ---- 5. reads per resource, blobs ----

def resources_as(n, keyfile):
    st, r = signed_request(n, keyfile, "GET", "/_ows/v1/resources")
    check(st == 200, (st, r))
    return r["resources"]


def test_resources_and_function_env_need_read_permission():
    n = started()
    deploy_fn(n, env={"DB_PASSWORD": "hunter2"})
    blind = user_with(n, "blind", [{"Effect": "Allow", "Action": "ows:status.read",
                                    "Resource": "*"}])
    reader = user_with(n, "reader", [{"Effect": "Allow", "Action": "ows:functions.read",
                                      "Resource": "arn:ows:lambda::function/fn"}],
                       stack="people2")
    seen = resources_as(n, blind)
    check(seen == [], seen)
    check("hunter2" not in json.dumps(seen))
    seen = resources_as(n, reader)
    check([(r["kind"], r["name"]) for r in seen] == [("functions", "fn")], seen)
    check(seen[0]["spec"]["env"] == {"DB_PASSWORD": "hunter2"}, seen)
    # Lambda's GetFunction shows the environment only to functions.read.
    made = n.ows_json("key", "access", "create", "blind")
    user_with(n, "blind", [{"Effect": "Allow", "Action": ["ows:status.read",
                                                          "lambda:GetFunction"],
                            "Resource": "*"}])
    code = ('import json,sys,boto3\nc=boto3.client("lambda",endpoint_url=sys.argv[1],'
            'region_name="us-east-1",aws_access_key_id=sys.argv[2],'
            'aws_secret_access_key=sys.argv[3])\n'
            'print(json.dumps(c.get_function(FunctionName="fn")["Configuration"]))')
    p = subprocess.run([PY, "-c", code, "http://" + n.edge, made["access_key_id"],
                        made["secret_access_key"]], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and "hunter2" not in p.stdout and "app.handler" in p.stdout,
          (p.stdout, p.stderr))


def blob_req(n, keyfile, method, h, body=b"", query=""):
    return signed_request(n, keyfile, method, "/_ows/v1/blobs/" + h + query, body)


def test_blob_download_and_upload_need_function_permissions():
    n = started()
    deploy_fn(n)
    h = [r for r in resources_as(n, n.root_key)
         if r["kind"] == "functions"][0]["spec"]["code_sha256"]
    nobody = user_with(n, "nobody", [{"Effect": "Allow", "Action": "ows:status.read",
                                      "Resource": "*"}])
    st, r = blob_req(n, nobody, "GET", h)
    check(st == 403 and r["code"] == "AccessDenied", (st, r))
    reader = user_with(n, "reader", [{"Effect": "Allow", "Action": "ows:functions.read",
                                      "Resource": "arn:ows:lambda::function/fn"}],
                       stack="p2")
    st, body = blob_req(n, reader, "GET", h)
    check(st == 200 and len(body) > 0, st)
    # Upload: functions.put on the function named, or on "*".
    data = os.urandom(1000)
    dh = hashlib.sha256(data).hexdigest()
    st, r = blob_req(n, nobody, "PUT", dh, data)
    check(st == 403, (st, r))
    dep = user_with(n, "dep", [{"Effect": "Allow", "Action": "ows:functions.put",
                                "Resource": "arn:ows:lambda::function/mine-*"}], stack="p3")
    st, r = blob_req(n, dep, "PUT", dh, data)
    check(st == 403, (st, r))
    st, r = blob_req(n, dep, "PUT", dh, data, "?function=theirs")
    check(st == 403, (st, r))
    st, r = blob_req(n, dep, "PUT", dh, data, "?function=mine-1")
    check(st == 200, (st, r))
    # ows apply names the function: a deployer limited to its functions works.
    kd = user_with(n, "deployer", [{"Effect": "Allow", "Action": ["ows:functions.*",
                                                                   "ows:stacks.put"],
                                    "Resource": ["arn:ows:lambda::function/mine-*",
                                                 "arn:ows:ows::stack/*"]}], stack="p4")
    deploy_fn(n, name="mine-2", stack="mine", key=kd)


def test_unnamed_blobs_are_collected_after_the_grace():
    n = started(env={"OWS_BLOB_GRACE_S": "2"})
    deploy_fn(n)
    named = [r for r in resources_as(n, n.root_key)
             if r["kind"] == "functions"][0]["spec"]["code_sha256"]
    data = os.urandom(100)
    h = hashlib.sha256(data).hexdigest()
    st, r = blob_req(n, n.root_key, "PUT", h, data)
    check(st == 200, (st, r))
    path = os.path.join(n.dir, "blobs", h)
    check(os.path.exists(path))
    wait_for(lambda: not os.path.exists(path), 30, "the unnamed blob to be collected")
    check(os.path.exists(os.path.join(n.dir, "blobs", named)))
    check("collected" in open(n.log).read())
