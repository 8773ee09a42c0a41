"""Handlers behave as on AWS Lambda, through a real node: a Node.js ES
module (.js in a "type": "module" package) with top-level await loads; log
lines carry the Lambda runtimes' prefixes (python's logging module,
node's console), plain output does not; Invoke's ClientContext reaches the
handler's context."""
import base64
import json
import re

from owstest import boto3_client, check, deploy, started

ESM = '''
import { setTimeout as sleep } from 'node:timers/promises';
const loaded = await sleep(5, 'top-level await');
export const handler = async (event) => ({ loaded, event });
'''

PY = '''
import logging
logging.getLogger().warning("loading %s", "app")

def handler(event, context):
    logging.getLogger().warning("warned %s", "here")
    logging.getLogger("app").error("an error")
    logging.info("not shown: the root level is WARNING, as on Lambda")
    print("plain print")
    cc = context.client_context
    if cc is None:
        return None
    client = cc.client
    return {"client": {"installation_id": client.installation_id,
                       "app_title": client.app_title},
            "custom": cc.custom, "env": cc.env}
'''

NODE = '''
exports.handler = async (event, context) => {
  console.log("log %d", 1);
  console.warn("warn");
  console.error("error");
  process.stdout.write("plain write\\n");
  return context.clientContext === undefined ? null : context.clientContext;
};
'''

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def fidelity_stack(n):
    deploy(n, {"stack": "fidelity", "functions": {
        "esm": {"runtime": "nodejs", "handler": "index.handler", "code": "./esm"},
        "py": {"runtime": "python3", "handler": "app.handler", "code": "./py"},
        "js": {"runtime": "nodejs", "handler": "index.handler", "code": "./js"}}},
        {"esm/package.json": '{"type": "module"}', "esm/index.js": ESM,
         "py/app.py": PY, "js/index.js": NODE})


def tail_of(c, name, **kw):
    """Invoke with LogType Tail: (result, log text, request id)."""
    r = c.invoke(FunctionName=name, LogType="Tail", **kw)
    check(r["StatusCode"] == 200 and "FunctionError" not in r, r)
    log = base64.b64decode(r["LogResult"]).decode()
    rid = re.search(r"START RequestId: (\S+)", log)
    check(rid is not None, log)
    return json.loads(r["Payload"].read()), log, rid.group(1)


def lines(log, pattern):
    return [l for l in log.splitlines() if re.fullmatch(pattern, l)]


def test_esm_package_with_top_level_await():
    n = started()
    fidelity_stack(n)
    out = json.loads(n.ows("invoke", "esm", "--payload", '{"a": 1}').stdout)
    check(out == {"loaded": "top-level await", "event": {"a": 1}}, out)


def test_log_lines_carry_lambdas_prefix():
    n = started()
    fidelity_stack(n)
    c = boto3_client(n, "lambda")
    out, log, rid = tail_of(c, "py")
    check(out is None, out)
    r = re.escape(rid)
    check(lines(log, r"\[WARNING\]\t%s\t%s\twarned here" % (TIME, r)), log)
    check(lines(log, r"\[ERROR\]\t%s\t%s\tan error" % (TIME, r)), log)
    check("not shown" not in log and "plain print" in log.splitlines(), log)
    # Output of the module's import (init) has no request id yet.
    logs = n.ows("logs", "py").stdout
    check(lines(logs, r"\[WARNING\]\t%s\t\tloading app" % TIME), logs)
    out, log, rid = tail_of(c, "js")
    r = re.escape(rid)
    check(lines(log, r"%s\t%s\tINFO\tlog 1" % (TIME, r)), log)
    check(lines(log, r"%s\t%s\tWARN\twarn" % (TIME, r)), log)
    check(lines(log, r"%s\t%s\tERROR\terror" % (TIME, r)), log)
    check("plain write" in log.splitlines(), log)


def test_client_context_reaches_the_handler():
    """Through the Lambda API (X-Amz-Client-Context): the host hands it to
    the pool (ows_fn_pool_invoke_opts), also to an invocation that waits
    for its pool to start (the first one here)."""
    n = started()
    fidelity_stack(n)
    c = boto3_client(n, "lambda")
    cc = {"client": {"installation_id": "inst-1", "app_title": "demo"},
          "custom": {"k": "v"}, "env": {"platform": "linux"}}
    b64 = base64.b64encode(json.dumps(cc).encode()).decode()
    got = {}
    for name in ("py", "js"):
        got[name], _, _ = tail_of(c, name, ClientContext=b64)
    check(got["py"] == cc, got)
    check(got["js"] == cc, got)
