"""The Lambda API's second part, through boto3 against a real owsd:
resource policies judged with identity policies, CreateFunction with a
zip up to Lambda's 50 MB (Invoke keeps 6 MB), the event-invoke config
honoured by Event invocations, reserved concurrency 0 throttling every
invocation, and a function's role read live."""
import io
import json
import os
import zipfile

import botocore.exceptions

import owstest
from owstest import boto3_client, check, deploy, tmpdir, wait_for


def app_zip(text, extra=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", text)
        for name, data in (extra or {}).items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


OK = "def handler(e, c):\n    return {'ok': True}\n"


def started():
    n = owstest.started()
    deploy(n, {"stack": "iam", "roles": {"runner": {}}})
    return n


def code_of(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def user(n, name, statements):
    """A user with an access key and a policy of statements (may be [])."""
    k, pub = owstest.keygen()
    stack = {"stack": "u-" + name,
             "users": {name: {"public_keys": [pub], "policies": [name + "-p"] if statements else []}}}
    if statements:
        stack["policies"] = {name + "-p": {"Statement": statements}}
    deploy(n, stack)
    made = n.ows_json("key", "access", "create", name)
    return (made["access_key_id"], made["secret_access_key"])


def test_resource_policy_judged_with_identity_policies():
    n = started()
    root = boto3_client(n, "lambda")
    f = root.create_function(FunctionName="rp", Runtime="python3.12", Handler="app.handler",
                             Role="arn:ows:iam::role/runner", Code={"ZipFile": app_zip(OK)})
    acct = f["FunctionArn"].split(":")[4]
    key = user(n, "inv", [])
    c = boto3_client(n, "lambda", key=key)
    inv = lambda: c.invoke(FunctionName="rp", Payload=b"{}")
    check(code_of(inv) == ("AccessDeniedException", 403))
    # a service principal grants nothing to a user
    root.add_permission(FunctionName="rp", StatementId="s3", Action="lambda:InvokeFunction",
                        Principal="s3.amazonaws.com")
    check(code_of(inv) == ("AccessDeniedException", 403))
    # nor does the account: it delegates to the identity policies
    root.add_permission(FunctionName="rp", StatementId="acct", Action="lambda:InvokeFunction",
                        Principal=acct)
    check(code_of(inv) == ("AccessDeniedException", 403))
    # a condition on the source ARN does not match a user's call
    root.add_permission(FunctionName="rp", StatementId="src", Action="lambda:InvokeFunction",
                        Principal="arn:aws:iam::%s:user/inv" % acct,
                        SourceArn="arn:aws:s3:::bucket")
    check(code_of(inv) == ("AccessDeniedException", 403))
    root.add_permission(FunctionName="rp", StatementId="inv", Action="lambda:InvokeFunction",
                        Principal="arn:aws:iam::%s:user/inv" % acct)
    r = c.invoke(FunctionName="rp", Payload=b"{}")
    check(json.loads(r["Payload"].read()) == {"ok": True}, r)
    # a write allowed by the resource policy: the attested entry records it
    # and its apply judges it again with it
    root.add_permission(FunctionName="rp", StatementId="cfg",
                        Action="lambda:UpdateFunctionConfiguration",
                        Principal="arn:aws:iam::%s:user/inv" % acct)
    cfg = c.update_function_configuration(FunctionName="rp", Timeout=7)
    check(cfg["Timeout"] == 7, cfg)
    log = n.ows("ledger", "log").stdout
    check("inv" in log, log)
    n.ows("ledger", "verify")
    root.remove_permission(FunctionName="rp", StatementId="inv")
    check(code_of(inv) == ("AccessDeniedException", 403))
    # an explicit Deny in the identity policy beats the resource policy's Allow
    root.add_permission(FunctionName="rp", StatementId="inv2", Action="lambda:InvokeFunction",
                        Principal="arn:aws:iam::%s:user/inv" % acct)
    check(code_of(inv) == (None, 200))
    k2 = user(n, "den", [{"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*"}])
    root.add_permission(FunctionName="rp", StatementId="den", Action="lambda:InvokeFunction",
                        Principal="arn:aws:iam::%s:user/den" % acct)
    c2 = boto3_client(n, "lambda", key=k2)
    check(code_of(lambda: c2.invoke(FunctionName="rp", Payload=b"{}")) ==
          ("AccessDeniedException", 403))
    # "*" grants everyone (no Deny of theirs applies)
    k3 = user(n, "any", [])
    c3 = boto3_client(n, "lambda", key=k3)
    check(code_of(lambda: c3.invoke(FunctionName="rp", Payload=b"{}")) ==
          ("AccessDeniedException", 403))
    root.add_permission(FunctionName="rp", StatementId="all", Action="lambda:InvokeFunction",
                        Principal="*")
    check(code_of(lambda: c3.invoke(FunctionName="rp", Payload=b"{}")) == (None, 200))
    check(code_of(lambda: c2.invoke(FunctionName="rp", Payload=b"{}")) ==
          ("AccessDeniedException", 403))


def test_reserved_concurrency_zero_throttles_every_invocation():
    n = started()
    c = boto3_client(n, "lambda", retries=1)
    c.create_function(FunctionName="rc", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/runner", Code={"ZipFile": app_zip(OK)})
    check(json.loads(c.invoke(FunctionName="rc", Payload=b"{}")["Payload"].read()) == {"ok": True})
    r = c.put_function_concurrency(FunctionName="rc", ReservedConcurrentExecutions=0)
    check(r["ReservedConcurrentExecutions"] == 0, r)
    check(c.get_function_concurrency(FunctionName="rc")["ReservedConcurrentExecutions"] == 0)
    for _ in range(2):
        try:
            c.invoke(FunctionName="rc", Payload=b"{}")
            check(False, "invoked with reserved concurrency 0")
        except botocore.exceptions.ClientError as e:
            check(e.response["Error"]["Code"] == "TooManyRequestsException", e.response)
            check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 429, e.response)
            check(e.response.get("Reason") ==
                  "ReservedFunctionConcurrentInvocationLimitExceeded", e.response)
    # ows invoke is throttled too: the node runs nothing
    p = n.ows("invoke", "rc", check_rc=False)
    check(p.returncode != 0, (p.stdout, p.stderr))
    c.delete_function_concurrency(FunctionName="rc")
    check(json.loads(c.invoke(FunctionName="rc", Payload=b"{}")["Payload"].read()) == {"ok": True})


FAIL = "def handler(e, c):\n    print('attempt', c.aws_request_id)\n    raise RuntimeError('no')\n"


def attempts(n, name, rid):
    recs = [json.loads(l) for l in n.ows("--json", "logs", name).stdout.splitlines()]
    return len([r for r in recs if r.get("request_id") == rid and
                "START RequestId: %s" % rid in r.get("text", "")])


def event_attempts(n, c, name, logs=True, **kw):
    """Invoke name with Event (kw: Qualifier), wait until the node drops it,
    and count the attempts the node made (with logs, checked against the
    function's log: one START line per attempt)."""
    r = c.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}", **kw)
    check(r["StatusCode"] == 202, r)
    rid = r["ResponseMetadata"]["RequestId"]
    wait_for(lambda: ("event invocation %s of '%s' failed" % (rid, name)) in open(n.log).read()
             and "dropped after" in open(n.log).read().split(rid, 1)[1]
             if rid in open(n.log).read() else False, timeout=60, what="the event dropped")
    line = [l for l in open(n.log).read().splitlines() if rid in l and "dropped after" in l]
    check(len(line) == 1, line)
    want = int(line[0].split("dropped after ")[1].split()[0])
    if logs:
        wait_for(lambda: attempts(n, name, rid) >= want, timeout=30,
                 what="the attempts' logs")
        check(attempts(n, name, rid) == want, (attempts(n, name, rid), want))
    return want


def test_event_invoke_config_sets_the_retries():
    n = started()
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName="ev", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/runner", Code={"ZipFile": app_zip(FAIL)})
    # without a config: Lambda's default, two retries
    check(event_attempts(n, c, "ev") == 3)
    c.put_function_event_invoke_config(FunctionName="ev", MaximumRetryAttempts=0,
                                       MaximumEventAgeInSeconds=60)
    check(event_attempts(n, c, "ev") == 1)
    c.update_function_event_invoke_config(FunctionName="ev", MaximumRetryAttempts=1)
    check(event_attempts(n, c, "ev") == 2)
    # the config of the qualifier invoked: an alias's own
    v = c.publish_version(FunctionName="ev")["Version"]
    c.create_alias(FunctionName="ev", Name="live", FunctionVersion=v)
    c.put_function_event_invoke_config(FunctionName="ev", Qualifier="live",
                                       MaximumRetryAttempts=0)
    check(event_attempts(n, c, "ev", logs=False, Qualifier="live") == 1)
    c.delete_function_event_invoke_config(FunctionName="ev")
    check(event_attempts(n, c, "ev") == 3)


def test_zip_up_to_50_mb_while_invoke_keeps_6_mb():
    n = started()
    c = boto3_client(n, "lambda", retries=1)
    big = app_zip(OK, {"blob.bin": os.urandom(20 * 1024 * 1024)})
    check(len(big) > 20 * 1024 * 1024, len(big))
    f = c.create_function(FunctionName="big", Runtime="python3.12", Handler="app.handler",
                          Role="arn:ows:iam::role/runner", Code={"ZipFile": big})
    check(f["CodeSize"] == len(big), f["CodeSize"])
    c.get_waiter("function_active_v2").wait(FunctionName="big")
    check(json.loads(c.invoke(FunctionName="big", Payload=b"{}")["Payload"].read()) == {"ok": True})
    # UpdateFunctionCode takes as much
    big2 = app_zip("def handler(e, c):\n    return 2\n", {"blob.bin": os.urandom(20 * 1024 * 1024)})
    c.update_function_code(FunctionName="big", ZipFile=big2)
    c.get_waiter("function_updated_v2").wait(FunctionName="big")
    check(json.loads(c.invoke(FunctionName="big", Payload=b"{}")["Payload"].read()) == 2)
    # past Lambda's 50 MB: its error, before the body is read
    huge = app_zip(OK, {"blob.bin": os.urandom(51 * 1024 * 1024)})
    for call in (lambda: c.create_function(FunctionName="huge", Runtime="python3.12",
                                           Handler="app.handler",
                                           Role="arn:ows:iam::role/runner",
                                           Code={"ZipFile": huge}),
                 lambda: c.update_function_code(FunctionName="big", ZipFile=huge)):
        check(code_of(call) == ("RequestEntityTooLargeException", 413))
    # Invoke keeps its 6 MB payload
    payload = json.dumps({"x": "a" * (6 * 1024 * 1024 + 10)}).encode()
    check(code_of(lambda: c.invoke(FunctionName="big", Payload=payload)) ==
          ("RequestTooLargeException", 413))
    check(json.loads(c.invoke(FunctionName="big", Payload=b"{}")["Payload"].read()) == 2)


def signed_head(n, length):
    """The head of a signed CreateFunction request of length body bytes,
    with Expect: 100-continue (the body is never sent)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    key = owstest.root_creds(n)
    body = b"x" * 16  # the signature is never checked: no body comes
    req = AWSRequest("POST", "http://%s/2015-03-31/functions" % n.edge, data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key[0], key[1]), "lambda", owstest.REGION).add_auth(req)
    lines = ["POST /2015-03-31/functions HTTP/1.1", "Host: %s" % n.edge,
             "Content-Length: %d" % length, "Expect: 100-continue"]
    lines += ["%s: %s" % (k, v) for k, v in req.headers.items()
              if k.lower() not in ("content-length", "host")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_large_bodies_are_bounded_per_node():
    import socket
    n = started()
    host, port = n.edge.rsplit(":", 1)
    held = []
    for _ in range(2):  # OWS_AWS_LARGE_BODIES
        s = socket.create_connection((host, int(port)), timeout=30)
        s.sendall(signed_head(n, 40 * 1024 * 1024))
        check(s.recv(64).startswith(b"HTTP/1.1 100"), "not admitted")
        held.append(s)
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(signed_head(n, 40 * 1024 * 1024))
    answer = s.recv(4096)
    check(answer.startswith(b"HTTP/1.1 429") and b"TooManyRequestsException" in answer, answer)
    s.close()
    # a body under Lambda's usual 6 MB still goes through meanwhile
    c = boto3_client(n, "lambda", retries=1)
    c.create_function(FunctionName="small", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/runner", Code={"ZipFile": app_zip(OK)})
    # an unknown key never gets that far
    held[0].close()
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(signed_head(n, 40 * 1024 * 1024).replace(
        owstest.root_creds(n)[0].encode(), b"AKIAUNKNOWNKEY000000"))
    answer = s.recv(4096)
    check(answer.startswith(b"HTTP/1.1 403"), answer)
    for s in held[1:]:
        s.close()


WHO = r'''
import json
import boto3

def handler(event, context):
    try:
        r = boto3.client("lambda").invoke(FunctionName="target", Payload=b"{}")
        return json.loads(r["Payload"].read())
    except Exception as e:
        return getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))
'''

INVOKE_TARGET = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunction",
     "Resource": "arn:ows:lambda::function/target"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"}]}


def role_stack(policy):
    return {"stack": "fnroles", "policies": {"invoke-target": INVOKE_TARGET,
                                             "read-only": READ_ONLY},
            "roles": {"fnrole": {"policies": [policy]}}}


def test_function_role_is_read_live():
    n = started()
    deploy(n, role_stack("read-only"))
    c = boto3_client(n, "lambda")
    c.create_function(FunctionName="target", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/runner",
                      Code={"ZipFile": app_zip("def handler(e, c):\n    return 'target ran'\n")})
    c.create_function(FunctionName="who", Runtime="python3.12", Handler="app.handler",
                      Role="arn:ows:iam::role/fnrole",
                      Timeout=20, Code={"ZipFile": app_zip(WHO)})
    call = lambda: json.loads(c.invoke(FunctionName="who", Payload=b"{}")["Payload"].read())
    check(call() == "AccessDeniedException")
    # the role changes through ows apply; the function is not updated
    deploy(n, role_stack("invoke-target"))
    check(call() == "target ran")
    check(c.get_function_configuration(FunctionName="who")["Role"] ==
          "arn:ows:iam::role/fnrole")
    deploy(n, role_stack("read-only"))
    check(call() == "AccessDeniedException")
    n.ows("ledger", "verify")


def test_stack_function_naming_a_role_needs_pass_role():
    n = started()
    deploy(n, role_stack("invoke-target"))
    d = tmpdir()
    k, pub = owstest.keygen(os.path.join(d, "dep.key"))
    deploy(n, {"stack": "people", "users": {"dep": {"public_keys": [pub],
                                                      "policies": ["deployer"]}},
               "policies": {"deployer": {"Statement": [
                   {"Effect": "Allow", "Action": ["ows:functions.*", "ows:stacks.*"],
                    "Resource": "*"}]}}})
    fn = {"stack": "app", "functions": {"who": {"runtime": "python3", "handler": "app.handler",
                                                "code": "./who", "role": "fnrole"}}}
    p = deploy(n, fn, files={"who/app.py": WHO}, key=k, check_rc=False)
    check(p.returncode != 0 and "iam:PassRole" in p.stdout + p.stderr, (p.stdout, p.stderr))
    # with iam:PassRole on the role it deploys, and runs with the role's policies
    deploy(n, {"stack": "people", "users": {"dep": {"public_keys": [pub],
                                                      "policies": ["deployer"]}},
               "policies": {"deployer": {"Statement": [
                   {"Effect": "Allow", "Action": ["ows:functions.*", "ows:stacks.*"],
                    "Resource": "*"},
                   {"Effect": "Allow", "Action": "iam:PassRole",
                    "Resource": "arn:ows:iam::role/fnrole"}]}}})
    deploy(n, fn, files={"who/app.py": WHO}, key=k)
    deploy(n, {"stack": "t", "functions": {"target": {
        "runtime": "python3", "handler": "app.handler", "code": "./t"}}},
        files={"t/app.py": "def handler(e, c):\n    return 'target ran'\n"})
    p = n.ows("invoke", "who", "--payload", "{}")
    check(json.loads(p.stdout) == "target ran", p.stdout)
    # the role cannot be deleted while the function runs with it
    gone = role_stack("invoke-target")
    del gone["roles"]
    p = deploy(n, gone, check_rc=False)
    check(p.returncode != 0 and "still the role of 1 function" in p.stdout + p.stderr,
          (p.stdout, p.stderr))
