"""The Lambda API through the real aws cli and boto3, against functions in
real sandboxes: python3 and nodejs handlers written as for AWS Lambda,
success, function error, log tail, Event and DryRun invocations,
GetFunction/ListFunctions, not found, and a user without
lambda:InvokeFunction denied."""
import base64
import json
import os
import subprocess

from owstest import PYTHON_DEBIAN, aws_cli, aws_env, check, deploy, keygen, started, tmpdir

PY_APP = '''
import os
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    print("hello from python", context.aws_request_id)
    return {"echo": event, "fn": context.function_name,
            "mem": context.memory_limit_in_mb, "greeting": os.environ.get("GREETING"),
            "left_ms": context.get_remaining_time_in_millis()}
'''

NODE_APP = '''
exports.handler = async (event, context) => {
  if (event.fail) { throw new TypeError("node asked to fail"); }
  console.log("hello from node");
  return {echo: event, fn: context.functionName};
};
'''


def deploy_fns(n, extra_users=None):
    """pyfn (python3) and jsfn (nodejs), with extra_users merged into the
    stack."""
    stack = {"stack": "fns", "functions": {
        "pyfn": {"runtime": "python3", "handler": "app.handler", "code": "./py",
                 "memory_mb": 256, "timeout_s": 5, "env": {"GREETING": "hej"}},
        "jsfn": {"runtime": "nodejs", "handler": "index.handler", "code": "./js"}}}
    stack.update(extra_users or {})
    deploy(n, stack, {"py/app.py": PY_APP, "js/index.js": NODE_APP})


def aws_invoke(n, name, payload, *extra, key=None):
    """`aws lambda invoke` (Debian's 2.9): (process, its JSON, the payload
    file's text)."""
    out = os.path.join(tmpdir(), "out.json")
    p = aws_cli(n, key, "lambda", "invoke", "--function-name", name,
                "--cli-binary-format", "raw-in-base64-out",
                "--payload", json.dumps(payload), *extra, out, debian=True, timeout=120)
    body = open(out).read() if os.path.exists(out) else None
    return p, (json.loads(p.stdout) if p.returncode == 0 else None), body


def test_aws_cli_invoke_python_and_node():
    n = started()
    deploy_fns(n)
    p, meta, body = aws_invoke(n, "pyfn", {"a": 1}, "--log-type", "Tail")
    check(p.returncode == 0 and meta["StatusCode"] == 200, p.stderr)
    r = json.loads(body)
    check(r["echo"] == {"a": 1} and r["fn"] == "pyfn" and r["mem"] == "256", r)
    check(r["greeting"] == "hej" and 0 < r["left_ms"] <= 5000, r)
    log = base64.b64decode(meta["LogResult"]).decode()
    check("START RequestId:" in log and "hello from python" in log and "REPORT" in log, log)
    p, meta, body = aws_invoke(n, "jsfn", {"b": 2})
    check(p.returncode == 0, p.stderr)
    check(json.loads(body) == {"echo": {"b": 2}, "fn": "jsfn"}, body)


def test_function_errors_and_not_found():
    n = started()
    deploy_fns(n)
    p, meta, body = aws_invoke(n, "pyfn", {"fail": True})
    check(p.returncode == 0 and meta.get("FunctionError") == "Unhandled", (p.stdout, p.stderr))
    err = json.loads(body)
    check(err["errorType"] == "ValueError" and err["errorMessage"] == "asked to fail", err)
    p, meta, body = aws_invoke(n, "jsfn", {"fail": True})
    check(meta.get("FunctionError") == "Unhandled" and json.loads(body)["errorType"] == "TypeError",
          body)
    p, meta, body = aws_invoke(n, "nosuch", {})
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)


BOTO = """
import json, sys, boto3, botocore
c = boto3.client("lambda", endpoint_url=sys.argv[1])
out = {}
r = c.invoke(FunctionName="pyfn", Payload=b'{"x": 1}')
out["sync"] = [r["StatusCode"], json.loads(r["Payload"].read())["echo"]]
r = c.invoke(FunctionName="pyfn", InvocationType="Event", Payload=b"{}")
out["event"] = r["StatusCode"]
r = c.invoke(FunctionName="pyfn", InvocationType="DryRun")
out["dry"] = r["StatusCode"]
out["get"] = c.get_function(FunctionName="pyfn")["Configuration"]["Handler"]
out["list"] = sorted(f["FunctionName"] for f in c.list_functions()["Functions"])
try:
    c.invoke(FunctionName="pyfn", Payload=b"not json")
except botocore.exceptions.ClientError as e:
    out["bad"] = e.response["Error"]["Code"]
print(json.dumps(out))
"""


def test_boto3_invoke_types_and_reads():
    n = started()
    deploy_fns(n)
    p = subprocess.run([PYTHON_DEBIAN, "-c", BOTO, "http://" + n.edge], capture_output=True,
                       text=True, timeout=120, env=aws_env(n))
    check(p.returncode == 0, p.stderr)
    out = json.loads(p.stdout)
    check(out == {"sync": [200, {"x": 1}], "event": 202, "dry": 204, "get": "app.handler",
                  "list": ["jsfn", "pyfn"], "bad": "InvalidRequestContentException"}, out)


def test_user_without_invoke_permission_is_denied():
    n = started()
    k, pub = keygen()
    deploy_fns(n, {"users": {"viewer": {"public_keys": [pub], "policies": ["ro"]}},
               "policies": {"ro": {"Statement": [{"Effect": "Allow",
                                                  "Action": ["lambda:GetFunction"],
                                                  "Resource": "*"}]}}})
    made = n.ows_json("key", "access", "create", "viewer")
    key = (made["access_key_id"], made["secret_access_key"])
    p, meta, body = aws_invoke(n, "pyfn", {}, key=key)
    check(p.returncode != 0 and "AccessDeniedException" in p.stderr and
          "lambda:InvokeFunction" in p.stderr, p.stderr)
    p = aws_cli(n, key, "lambda", "get-function", "--function-name", "pyfn", debian=True)
    check(p.returncode == 0 and "app.handler" in p.stdout, p.stderr)


def test_ows_invoke_and_logs():
    n = started()
    deploy_fns(n)
    p = n.ows("invoke", "pyfn", "--payload", '{"k": "v"}')
    check(json.loads(p.stdout)["echo"] == {"k": "v"}, p.stdout)
    full = n.ows_json("invoke", "pyfn")
    check(full["status"] == "ok" and "hello from python" in full["log"], full)
    p = n.ows("invoke", "pyfn", "--payload", '{"fail": true}', check_rc=False)
    check(p.returncode == 1 and "ValueError" in p.stderr, p.stderr)
    p = n.ows("invoke", "nosuch", check_rc=False)
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)
    logs = n.ows("logs", "pyfn").stdout
    check(logs.count("START RequestId:") == 3 and "hello from python" in logs and
          "REPORT RequestId:" in logs, logs)
    recs = [json.loads(l) for l in n.ows("--json", "logs", "pyfn").stdout.splitlines()]
    check(len(recs) >= 3 and all("seq" in r for r in recs), recs)
