"""Role credentials: a function runs with the policies its spec names, through
short-lived session credentials the node hands each instance (boto3 inside
calls OWS with no set-up, even Debian's boto3 1.26 that ignores
AWS_ENDPOINT_URL); users get session credentials from STS GetSessionToken
and, for roles that trust them, AssumeRole; session tokens are checked on
every call; no secret reaches the ledger, the logs or the resources."""
import json
import os
import subprocess

from owstest import check, signed_request, started, tmpdir, write_stack

WHO = r'''
import os
import boto3

def handler(event, context):
    out = {"key": os.environ.get("AWS_ACCESS_KEY_ID", ""),
           "has_token": bool(os.environ.get("AWS_SESSION_TOKEN")),
           "region": os.environ.get("AWS_DEFAULT_REGION")}
    out["arn"] = boto3.client("sts").get_caller_identity()["Arn"]
    lam = boto3.client("lambda")
    try:
        r = lam.invoke(FunctionName="target", Payload=b"{}")
        out["invoke"] = r["Payload"].read().decode()
    except Exception as e:
        out["invoke"] = getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))
    return out
'''

TARGET = r'''
def handler(event, context):
    return "target ran"
'''

POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunction",
     "Resource": "arn:ows:lambda::function/target"}]}


def stack(policies=None, extra=None):
    who = {"runtime": "python3", "handler": "app.handler", "code": "./who",
           "timeout_s": 20}
    if policies is not None:
        who["policies"] = policies
    s = {"stack": "roles", "policies": {"invoke-target": POLICY},
         "functions": {"who": who, "target": {"runtime": "python3",
                                              "handler": "app.handler",
                                              "code": "./target"}}}
    s.update(extra or {})
    return write_stack(s, {"who/app.py": WHO, "target/app.py": TARGET})


def invoke(n, name):
    p = n.ows("invoke", name, "--payload", "{}")
    return json.loads(p.stdout)


def test_function_calls_ows_with_its_role():
    n = started()
    n.ows("apply", stack(), "--yes")
    r = invoke(n, "who")
    check(r["key"].startswith("ASIA") and r["has_token"], r)
    check(r["region"] == "us-east-1", r)
    # Debian's boto3 1.26 (the host's, in the sandbox) with no set-up.
    check(r["arn"].endswith(":assumed-role/lambda-who/who"), r)
    # No policies: its role may do nothing.
    check(r["invoke"] == "AccessDeniedException", r)
    n.ows("apply", stack(["invoke-target"]), "--yes")
    r = invoke(n, "who")
    check(r["invoke"] == '"target ran"', r)


def boto(n, creds, code):
    """Run code with boto3 (the Python on PATH) against n; creds a dict."""
    prog = r'''
import boto3, json, sys
c = json.loads(sys.argv[1])
def client(svc, creds=c):
    return boto3.client(svc, endpoint_url=sys.argv[2], region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"))
def code(e):
    return e.response["Error"]["Code"]
out = {}
''' + code + '''
print(json.dumps(out))
'''
    p = subprocess.run(["python3", "-c", prog, json.dumps(creds), "http://" + n.edge],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, p.stderr)
    return json.loads(p.stdout)


def user_key(n, user):
    made = n.ows_json("key", "access", "create", user)
    return {"AccessKeyId": made["access_key_id"],
            "SecretAccessKey": made["secret_access_key"]}


def test_session_token_and_assume_role():
    n = started()
    extra = {"users": {"dev": {"policies": []}, "eve": {}},
             "roles": {"ci": {"trusted_users": ["dev"],
                              "policies": ["invoke-target"]}}}
    n.ows("apply", stack(extra=extra), "--yes")
    dev, eve = user_key(n, "dev"), user_key(n, "eve")
    r = boto(n, dev, r'''
s = client("sts").get_session_token(DurationSeconds=900)["Credentials"]
out["key"] = s["AccessKeyId"]
out["who"] = client("sts", s).get_caller_identity()["Arn"]
try:
    client("sts", s).get_session_token()
except Exception as e:
    out["again"] = code(e)
try:
    client("lambda", s).invoke(FunctionName="target", Payload=b"{}")
except Exception as e:
    out["invoke"] = code(e)
a = client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/ci" %
                              client("sts").get_caller_identity()["Account"],
                              RoleSessionName="build-7")
out["assumed"] = a["AssumedRoleUser"]["Arn"]
rc = a["Credentials"]
out["role_who"] = client("sts", rc).get_caller_identity()["Arn"]
out["role_invoke"] = client("lambda", rc).invoke(
    FunctionName="target", Payload=b"{}")["Payload"].read().decode()
try:
    client("lambda", rc).invoke(FunctionName="who", Payload=b"{}")
except Exception as e:
    out["role_other"] = code(e)
bad = dict(rc, SessionToken=rc["SessionToken"][:-2] + ("00" if rc["SessionToken"][-2:] != "00" else "11"))
try:
    client("sts", bad).get_caller_identity()
except Exception as e:
    out["forged"] = code(e)
nokey = dict(rc)
del nokey["SessionToken"]
try:
    client("sts", nokey).get_caller_identity()
except Exception as e:
    out["no_token"] = code(e)
for arg in ({"DurationSeconds": 7200}, {"RoleSessionName": "bad name"}):
    kw = dict(RoleArn="arn:ows:iam::role/ci", RoleSessionName="ok-name")
    kw.update(arg)
    try:
        client("sts").assume_role(**kw)
    except Exception as e:
        out.setdefault("invalid", []).append(code(e))
''')
    check(r["key"].startswith("ASIA"), r)
    check(r["who"].endswith(":user/dev"), r)
    check(r["again"] == "AccessDenied", r)
    check(r["invoke"] == "AccessDeniedException", r)  # dev has no policy
    check(r["assumed"].endswith(":assumed-role/ci/build-7"), r)
    check(r["role_who"] == r["assumed"], r)
    check(r["role_invoke"] == '"target ran"', r)
    check(r["role_other"] == "AccessDeniedException", r)
    check(r["forged"] == "InvalidClientTokenId", r)
    check(r["no_token"] == "InvalidClientTokenId", r)
    check(r["invalid"] == ["ValidationError", "ValidationError"], r)
    # eve is not trusted by the role; nor is a role that does not exist.
    r = boto(n, eve, r'''
for arn in ("arn:ows:iam::role/ci", "arn:ows:iam::role/nope"):
    try:
        client("sts").assume_role(RoleArn=arn, RoleSessionName="s1")
    except Exception as e:
        out[arn] = code(e)
''')
    check(set(r.values()) == {"AccessDenied"} and len(r) == 2, r)
    # Nothing of the secrets anywhere the node shows or keeps.
    made = boto(n, dev, r'''
s = client("sts").get_session_token()["Credentials"]
out = {"secret": s["SecretAccessKey"], "token": s["SessionToken"]}
''')
    st, resources = signed_request(n, n.root_key, "GET", "/_ows/v1/resources")
    check(st == 200, resources)
    with open(n.log) as f:
        log = f.read()
    texts = [n.ows("--json", "ledger", "log").stdout, json.dumps(resources), log]
    for t in texts:
        check(made["secret"] not in t and made["token"] not in t, "secret leaked")
    # ... nor in any file of the node's directory.
    for root, _, files in os.walk(n.dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            check(made["secret"].encode() not in data and
                  made["token"].encode() not in data, "secret in " + name)


def test_nodejs_sdk_v2_is_pointed_at_the_node():
    """aws-sdk (v2) ignores AWS_ENDPOINT_URL; the nodejs runtime points its
    global config at the node when a function requires it. A stand-in
    module with v2's config.update records what it gets."""
    n = started()
    d = tmpdir()
    os.makedirs(os.path.join(d, "js", "node_modules", "aws-sdk"))
    with open(os.path.join(d, "js", "node_modules", "aws-sdk", "index.js"), "w") as f:
        f.write("const c = {}; module.exports = { config: { update(o) "
                "{ Object.assign(c, o); }, get: () => c } };\n")
    with open(os.path.join(d, "js", "index.js"), "w") as f:
        f.write("const AWS = require('aws-sdk');\n"
                "exports.handler = async () => ({config: AWS.config.get(),\n"
                "  key: process.env.AWS_ACCESS_KEY_ID.slice(0, 4),\n"
                "  token: !!process.env.AWS_SESSION_TOKEN});\n")
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump({"stack": "js", "functions": {"js": {
            "runtime": "nodejs", "handler": "index.handler", "code": "./js"}}}, f)
    n.ows("apply", path, "--yes")
    r = invoke(n, "js")
    check(r == {"config": {"endpoint": "http://127.0.0.1:4566", "s3ForcePathStyle": True},
                "key": "ASIA", "token": True}, r)


def test_session_token_must_be_signed():
    """The token travels under the signature: a token header added after
    signing is refused, as AWS refuses it."""
    n = started()
    root = {}
    with open(os.path.join(n.dir, "credentials")) as f:
        for line in f:
            k, _, v = line.partition("=")
            root[k.strip()] = v.strip()
    creds = {"AccessKeyId": root["aws_access_key_id"],
             "SecretAccessKey": root["aws_secret_access_key"]}
    r = boto(n, creds, r'''
import urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
s = client("sts").get_session_token()["Credentials"]
def call(signed_token):
    req = AWSRequest("POST", sys.argv[2] + "/", data="Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(s["AccessKeyId"], s["SecretAccessKey"],
                          s["SessionToken"] if signed_token else None),
              "sts", "us-east-1").add_auth(req)
    req.headers["X-Amz-Security-Token"] = s["SessionToken"]
    p = req.prepare()
    try:
        with urllib.request.urlopen(urllib.request.Request(
                p.url, data=p.body.encode() if isinstance(p.body, str) else p.body,
                headers=dict(p.headers), method="POST")) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
out["signed"] = call(True)
out["unsigned"] = call(False)
''')
    check(r == {"signed": 200, "unsigned": 403}, r)
