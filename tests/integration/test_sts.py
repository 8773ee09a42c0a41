"""SigV4 on the edge, through the real aws cli and boto3: STS
GetCallerIdentity with the root access key from owsd init and with a user's
key from ows key access create; a wrong secret gets SignatureDoesNotMatch,
an unknown or deleted key InvalidClientTokenId (as STS names it)."""
import json
import subprocess

from owstest import PYTHON_DEBIAN, aws_cli, aws_env, check, root_creds, started, write_json

def aws(node, *args, key=None):
    """Debian's aws cli 2.9, JSON output."""
    return aws_cli(node, key, "--output", "json", *args, debian=True)


BOTO = """
import json, sys, boto3, botocore
c = boto3.client("sts", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2],
                 aws_secret_access_key=sys.argv[3])
try:
    print(json.dumps({"ok": c.get_caller_identity()["Arn"]}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"error": e.response["Error"]["Code"],
                      "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
"""


def boto(node, key_id, secret):
    p = subprocess.run([PYTHON_DEBIAN, "-c", BOTO, "http://" + node.edge, key_id, secret],
                       capture_output=True, text=True, timeout=60, env=aws_env(node))
    check(p.returncode == 0, p.stderr)
    return json.loads(p.stdout)


def test_aws_cli_and_boto3_with_root_key():
    n = started()
    p = aws(n, "sts", "get-caller-identity")
    check(p.returncode == 0, p.stderr)
    ident = json.loads(p.stdout)
    kid, secret = root_creds(n)
    check(ident["UserId"] == kid and ident["Arn"].endswith(":user/root"), ident)
    check(len(ident["Account"]) == 12 and ident["Account"].isdigit(), ident)
    r = boto(n, kid, secret)
    check(r["ok"] == ident["Arn"], r)


def test_wrong_secret_unknown_and_deleted_keys():
    n = started()
    kid, secret = root_creds(n)
    wrong = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    p = aws(n, "sts", "get-caller-identity", key=(kid, wrong))
    check(p.returncode != 0 and "SignatureDoesNotMatch" in p.stderr, p.stderr)
    r = boto(n, kid, "wrong")
    check(r == {"error": "SignatureDoesNotMatch", "status": 403}, r)
    r = boto(n, "AKIAUNKNOWNUNKNOWN00", secret)
    check(r == {"error": "InvalidClientTokenId", "status": 403}, r)
    # A user's own key works, and stops working once deleted.
    n.ows("apply", write_json({"stack": "s", "users": {"dev": {}}}), "--yes")
    made = n.ows_json("key", "access", "create", "dev")
    r = boto(n, made["access_key_id"], made["secret_access_key"])
    check(r.get("ok", "").endswith(":user/dev"), r)
    n.ows("key", "access", "rm", made["access_key_id"])
    r = boto(n, made["access_key_id"], made["secret_access_key"])
    check(r == {"error": "InvalidClientTokenId", "status": 403}, r)


def test_unsigned_and_unknown_action():
    n = started()
    from owstest import http
    st, body = http(n.edge, "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                    {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 403 and b"<Code>" in body, (st, body))
    kid, secret = root_creds(n)
    # An action STS has that OWS does not serve.
    p = aws(n, "sts", "decode-authorization-message", "--encoded-message", "x")
    check(p.returncode != 0 and "InvalidAction" in p.stderr, p.stderr)
