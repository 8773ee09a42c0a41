"""The Lambda management API through the real aws cli v2, boto3 and the JS
SDK v3 against
a real owsd: a function's whole life (create from a zip, wait until active,
invoke, update code and configuration, publish a version, point an alias
at it, invoke through the alias and the versioned ARN, delete), made as
ledger entries in no stack; an operation OWS does not offer is not a
missing function."""
import io
import json
import base64
import hashlib
import os
import subprocess
import zipfile

import owstest
from owstest import (PYTHON_DEBIAN, aws_cli, aws_env, boto3_client, check, deploy, js_json,
                     keygen, tmpdir)


def app_zip(text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", text)
    return buf.getvalue()


V1 = "import os\ndef handler(e, c):\n    return {'v': 1, 'g': os.environ.get('G'), 'fn': c.function_name, 'ver': c.function_version}\n"
V2 = "import os\ndef handler(e, c):\n    return {'v': 2, 'g': os.environ.get('G'), 'fn': c.function_name, 'ver': c.function_version}\n"


def started():
    """A node with the role "runner" the functions name."""
    n = owstest.started()
    deploy(n, {"stack": "iam", "roles": {"runner": {}}})
    return n


def aws(n, *args, ok=True, key=None):
    """aws cli v2 (Debian's) lambda ARGS; with ok, checked and parsed."""
    p = aws_cli(n, key, "--output", "json", "lambda", *args, debian=True, timeout=120)
    if ok:
        check(p.returncode == 0, (args, p.stdout, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None
    return p


def invoke(n, *args):
    out = os.path.join(tmpdir(), "out.json")
    meta = aws(n, "invoke", *args, "--cli-binary-format", "raw-in-base64-out",
               "--payload", "{}", out)
    check(meta["StatusCode"] == 200 and "FunctionError" not in meta, meta)
    return json.loads(open(out).read())


def test_aws_cli_function_life():
    n = started()
    d = tmpdir()
    z1, z2 = os.path.join(d, "v1.zip"), os.path.join(d, "v2.zip")
    open(z1, "wb").write(app_zip(V1))
    open(z2, "wb").write(app_zip(V2))
    acct = "000000000000"
    fn = aws(n, "create-function", "--function-name", "life", "--runtime", "python3.12",
             "--handler", "app.handler", "--role", "arn:ows:iam::role/runner",
             "--zip-file", "fileb://" + z1)
    check(fn["Runtime"] == "python3.12" and fn["Version"] == "$LATEST", fn)
    # CodeSha256 is base64 of the zip's SHA-256 bytes, as Lambda gives it
    want = base64.b64encode(hashlib.sha256(open(z1, "rb").read()).digest()).decode()
    check(fn["CodeSha256"] == want, fn)
    acct = fn["FunctionArn"].split(":")[4]
    aws(n, "wait", "function-active-v2", "--function-name", "life")
    check(invoke(n, "--function-name", "life")["v"] == 1)
    # the change is an attested ledger entry, in no stack
    log = n.ows("ledger", "log").stdout
    check("functions.put" in log or "life" in log, log)
    # a stack cannot take the function over
    aws(n, "update-function-code", "--function-name", "life", "--zip-file", "fileb://" + z2)
    aws(n, "wait", "function-updated-v2", "--function-name", "life")
    cfg = aws(n, "update-function-configuration", "--function-name", "life",
              "--environment", "Variables={G=hi}", "--timeout", "9")
    check(cfg["Timeout"] == 9 and cfg["Environment"]["Variables"] == {"G": "hi"}, cfg)
    aws(n, "wait", "function-updated-v2", "--function-name", "life")
    r = invoke(n, "--function-name", "life")
    check(r["v"] == 2 and r["g"] == "hi", r)
    ver = aws(n, "publish-version", "--function-name", "life")
    check(ver["Version"] == "1", ver)
    alias = aws(n, "create-alias", "--function-name", "life", "--name", "live",
                "--function-version", "1")
    check(alias["FunctionVersion"] == "1", alias)
    # $LATEST moves on; version 1 and the alias stay
    aws(n, "update-function-code", "--function-name", "life", "--zip-file", "fileb://" + z1)
    check(invoke(n, "--function-name", "life")["v"] == 1)
    check(invoke(n, "--function-name", "life", "--qualifier", "live")["v"] == 2)
    arn1 = "arn:aws:lambda:us-east-1:%s:function:life:1" % acct
    check(invoke(n, "--function-name", arn1)["v"] == 2)
    check(invoke(n, "--function-name", "life:live")["v"] == 2)
    # the log's START line names the version that ran, as Lambda's does
    out = os.path.join(tmpdir(), "out.json")
    meta = aws(n, "invoke", "--function-name", "life:live", "--log-type", "Tail",
               "--cli-binary-format", "raw-in-base64-out", "--payload", "{}", out)
    check(meta["ExecutedVersion"] == "1", meta)
    tail = base64.b64decode(meta["LogResult"]).decode()
    check(" Version: 1\n" in tail, tail)
    p = aws(n, "get-function", "--function-name", "life", "--qualifier", "nope", ok=False)
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)
    p = aws(n, "get-function", "--function-name",
            "arn:aws:lambda:us-east-1:111111111111:function:life", ok=False)
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)
    vers = aws(n, "list-versions-by-function", "--function-name", "life")
    check([v["Version"] for v in vers["Versions"]] == ["$LATEST", "1"], vers)
    p = aws(n, "list-layers", ok=False)
    check(p.returncode != 0 and "UnknownOperationException" in p.stderr, p.stderr)
    aws(n, "delete-function", "--function-name", "life")
    p = aws(n, "get-function", "--function-name", "life", ok=False)
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)


BOTO = """
import io, json, sys, zipfile, boto3, botocore
def z(text):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as f:
        f.writestr("app.py", text)
    return b.getvalue()
c = boto3.client("lambda", endpoint_url=sys.argv[1])
v1, v2 = sys.argv[2], sys.argv[3]
out = {}
try:
    c.get_function(FunctionName="bf")
except botocore.exceptions.ClientError as e:
    out["missing"] = e.response["Error"]["Code"]
f = c.create_function(FunctionName="bf", Runtime="python3.11", Handler="app.handler",
                      Role="arn:ows:iam::role/runner", Code={"ZipFile": z(v1)},
                      Tags={"team": "a"})
c.get_waiter("function_exists").wait(FunctionName="bf")
c.get_waiter("function_active_v2").wait(FunctionName="bf")
inv = lambda **k: json.loads(c.invoke(Payload=b"{}", **k)["Payload"].read())
out["v1"] = inv(FunctionName="bf")["v"]
c.update_function_code(FunctionName="bf", ZipFile=z(v2))
c.get_waiter("function_updated_v2").wait(FunctionName="bf")
c.update_function_configuration(FunctionName="bf", MemorySize=256)
out["mem"] = c.get_function_configuration(FunctionName="bf")["MemorySize"]
out["ver"] = c.publish_version(FunctionName="bf")["Version"]
c.create_alias(FunctionName="bf", Name="prod", FunctionVersion=out["ver"])
c.update_function_code(FunctionName="bf", ZipFile=z(v1))
out["alias"] = inv(FunctionName="bf", Qualifier="prod")["v"]
out["arn"] = inv(FunctionName=f["FunctionArn"] + ":" + out["ver"])["v"]
out["latest"] = inv(FunctionName="bf")["v"]
out["tags"] = c.list_tags(Resource=f["FunctionArn"])["Tags"]
c.delete_function(FunctionName="bf")
try:
    c.get_function_configuration(FunctionName="bf")
except botocore.exceptions.ClientError as e:
    out["gone"] = e.response["Error"]["Code"]
print(json.dumps(out))
"""


def test_boto3_function_life():
    n = started()
    p = subprocess.run([PYTHON_DEBIAN, "-c", BOTO, "http://" + n.edge, V1, V2],
                       capture_output=True, text=True, timeout=300, env=aws_env(n))
    check(p.returncode == 0, p.stderr)
    out = json.loads(p.stdout)
    check(out == {"missing": "ResourceNotFoundException", "v1": 1, "mem": 256, "ver": "1",
                  "alias": 2, "arn": 2, "latest": 1, "tags": {"team": "a"},
                  "gone": "ResourceNotFoundException"}, out)


def test_api_functions_are_attested_and_kept_from_stacks():
    n = started()
    z = os.path.join(tmpdir(), "f.zip")
    open(z, "wb").write(app_zip(V1))
    aws(n, "create-function", "--function-name", "apifn", "--runtime", "python3.12",
        "--handler", "app.handler", "--role", "arn:ows:iam::role/runner",
        "--zip-file", "fileb://" + z)
    log = n.ows("ledger", "log").stdout
    check("attested" in log and "root" in log, log)
    # a stack that names it is refused; a stack's apply leaves it alone
    d = tmpdir()
    os.makedirs(os.path.join(d, "code"))
    open(os.path.join(d, "code", "app.py"), "w").write(V2)
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump({"stack": "other", "functions": {"apifn": {
            "runtime": "python3", "handler": "app.handler", "code": "./code"}}}, f)
    p = n.ows("apply", path, "--yes", check_rc=False)
    check(p.returncode != 0 and "apifn" in p.stderr, (p.stdout, p.stderr))
    with open(path, "w") as f:
        json.dump({"stack": "other", "functions": {}}, f)
    n.ows("apply", path, "--yes")
    check(invoke(n, "--function-name", "apifn")["v"] == 1)


def test_http_function_through_lambda_invoke_is_a_clear_error():
    n = started()
    d = tmpdir()
    os.makedirs(os.path.join(d, "web"))
    open(os.path.join(d, "web", "server.py"), "w").write("print('x')\n")
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump({"stack": "web", "functions": {"web": {
            "runtime": "http", "command": ["/usr/bin/python3", "server.py"],
            "code": "./web"}}}, f)
    n.ows("apply", path, "--yes")
    out = os.path.join(tmpdir(), "out.json")
    p = aws(n, "invoke", "--function-name", "web", out, ok=False)
    check(p.returncode != 0 and "InvalidRuntimeException" in p.stderr and
          "http runtime" in p.stderr, p.stderr)


def test_user_without_create_permission_makes_nothing():
    n = started()
    k, pub = keygen()
    d = tmpdir()
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump({"stack": "people", "users": {"viewer": {"public_keys": [pub],
                                                            "policies": ["ro"]}},
                   "policies": {"ro": {"Statement": [{"Effect": "Allow",
                                                      "Action": ["lambda:Get*"],
                                                      "Resource": "*"}]}}}, f)
    n.ows("apply", path, "--yes")
    made = n.ows_json("key", "access", "create", "viewer")
    z = os.path.join(d, "f.zip")
    open(z, "wb").write(app_zip(V1))
    p = aws(n, "create-function", "--function-name", "nope", "--runtime", "python3.12",
            "--handler", "app.handler", "--role", "arn:ows:iam::role/runner", "--zip-file",
            "fileb://" + z, ok=False,
            key=(made["access_key_id"], made["secret_access_key"]))
    check(p.returncode != 0 and "AccessDeniedException" in p.stderr and
          "lambda:CreateFunction" in p.stderr, p.stderr)
    p = aws(n, "get-function", "--function-name", "nope", ok=False)
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)


def test_boto3_waiters_and_weighted_alias():
    """This Python's boto3 (1.4x): waiters, an alias with weights sends
    invocations to both versions."""
    n = started()
    c = boto3_client(n, "lambda")
    acct = boto3_client(n, "sts").get_caller_identity()["Account"]
    c.create_function(FunctionName="w", Runtime="python3.13", Handler="app.handler",
                      Role="arn:aws:iam::%s:role/service-role/runner" % acct,
                      Code={"ZipFile": app_zip(V1)})
    c.get_waiter("function_active_v2").wait(FunctionName="w")
    c.publish_version(FunctionName="w")
    c.update_function_code(FunctionName="w", ZipFile=app_zip(V2))
    c.get_waiter("function_updated_v2").wait(FunctionName="w")
    c.publish_version(FunctionName="w")
    a = c.create_alias(FunctionName="w", Name="split", FunctionVersion="1",
                       RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    check(a["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.5}, a)
    seen = set()
    for _ in range(40):
        r = c.invoke(FunctionName="w", Qualifier="split", Payload=b"{}")
        p = json.loads(r["Payload"].read())
        # a version runs as the function, with its version number
        check(p["fn"] == "w" and p["ver"] == r["ExecutedVersion"], (p, r))
        seen.add((r["ExecutedVersion"], p["v"]))
        if len(seen) == 2:
            break
    check(seen == {("1", 1), ("2", 2)}, seen)


JS = """
const L = require("@aws-sdk/client-lambda");
const c = new L.LambdaClient({});
(async () => {
  const zip = Buffer.from(process.argv[2], "base64");
  const out = {};
  const f = await c.send(new L.CreateFunctionCommand({FunctionName: "jsf",
    Runtime: "python3.12", Handler: "app.handler", Role: "arn:ows:iam::role/runner",
    Code: {ZipFile: zip}}));
  out.state = f.State;
  await L.waitUntilFunctionActiveV2({client: c, maxWaitTime: 60}, {FunctionName: "jsf"});
  const r = await c.send(new L.InvokeCommand({FunctionName: "jsf", Payload: Buffer.from("{}")}));
  out.v = JSON.parse(Buffer.from(r.Payload).toString()).v;
  await c.send(new L.DeleteFunctionCommand({FunctionName: "jsf"}));
  try { await c.send(new L.GetFunctionCommand({FunctionName: "jsf"})); }
  catch (e) { out.gone = e.name; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_js_sdk_v3_create_invoke_delete():
    import base64
    n = started()
    out = js_json(n, None, JS, base64.b64encode(app_zip(V1)).decode())
    check(out == {"state": "Active", "v": 1, "gone": "ResourceNotFoundException"}, out)
