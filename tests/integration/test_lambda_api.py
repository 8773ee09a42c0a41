"""The Lambda management API through the real aws cli v2 and boto3 against
a real owsd: a function's whole life (create from a zip, wait until active,
invoke, update code and configuration, publish a version, point an alias
at it, invoke through the alias and the versioned ARN, delete), made as
ledger entries in no stack; an operation OWS does not offer is not a
missing function."""
import io
import json
import os
import subprocess
import zipfile

from owstest import Node, check, tmpdir

AWS = "/usr/bin/aws"
PY = "/usr/bin/python3"


def app_zip(text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", text)
    return buf.getvalue()


V1 = "import os\ndef handler(e, c):\n    return {'v': 1, 'g': os.environ.get('G'), 'fn': c.invoked_function_arn}\n"
V2 = "import os\ndef handler(e, c):\n    return {'v': 2, 'g': os.environ.get('G'), 'fn': c.invoked_function_arn}\n"


def started():
    n = Node()
    n.init()
    n.start()
    d = tmpdir()
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump({"stack": "iam", "roles": {"runner": {}}}, f)
    n.ows("apply", path, "--yes")
    return n


def env(n):
    return dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_DEFAULT_REGION="us-east-1",
                AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="",
                AWS_SHARED_CREDENTIALS_FILE=os.path.join(n.dir, "credentials"))


def aws(n, *args, ok=True):
    p = subprocess.run([AWS, "--endpoint-url", "http://" + n.edge, "--output", "json",
                        "lambda"] + list(args), capture_output=True, text=True, timeout=120,
                       env=env(n))
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
    check(os.path.exists(AWS), "aws cli missing (make deps installs awscli)")
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
    p = subprocess.run([PY, "-c", BOTO, "http://" + n.edge, V1, V2], capture_output=True,
                       text=True, timeout=300, env=env(n))
    check(p.returncode == 0, p.stderr)
    out = json.loads(p.stdout)
    check(out == {"missing": "ResourceNotFoundException", "v1": 1, "mem": 256, "ver": "1",
                  "alias": 2, "arn": 2, "latest": 1, "tags": {"team": "a"},
                  "gone": "ResourceNotFoundException"}, out)
