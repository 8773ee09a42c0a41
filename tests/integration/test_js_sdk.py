"""The AWS SDK for JavaScript v3 (installed by make deps into tests/js)
against a real node: it finds the node through AWS_ENDPOINT_URL, signs
with the root key, and reads Lambda and STS."""
from owstest import check, deploy, js_json, root_creds, run_js, started

LIST = '''
const { LambdaClient, ListFunctionsCommand } = require("@aws-sdk/client-lambda");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
(async () => {
  const lambda = new LambdaClient({});
  const fns = await lambda.send(new ListFunctionsCommand({}));
  const who = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({
    functions: fns.Functions.map((f) => [f.FunctionName, f.Runtime]).sort(),
    arn: who.Arn,
  }));
})();
'''

DENIED = '''
const { LambdaClient, ListFunctionsCommand } = require("@aws-sdk/client-lambda");
new LambdaClient({ maxAttempts: 1 }).send(new ListFunctionsCommand({})).then(
  () => console.log(JSON.stringify({ ok: true })),
  (e) => console.log(JSON.stringify({ name: e.name,
                                      status: e.$metadata.httpStatusCode })));
'''


def test_js_sdk_v3_lists_functions():
    n = started()
    deploy(n, {"stack": "js", "functions": {
        "hello": {"runtime": "python3", "handler": "app.handler", "code": "./py"}}},
        {"py/app.py": "def handler(event, context):\n    return event\n"})
    out = js_json(n, root_creds(n), LIST)
    check([f[0] for f in out["functions"]] == ["hello"], out)
    check(out["functions"][0][1].startswith("python3"), out)
    check(out["arn"].endswith(":user/root"), out)
    # A wrong secret: the SDK sees the error Lambda names. (The first
    # character changed, whatever it was: "x" + secret[1:] was the same
    # secret whenever it began with "x".)
    kid, secret = root_creds(n)
    wrong = ("y" if secret[0] == "x" else "x") + secret[1:]
    out = js_json(n, (kid, wrong), DENIED)
    check(out == {"name": "InvalidSignatureException", "status": 403}, out)
    check(run_js(n, None, "process.exit(3)").returncode == 3)
