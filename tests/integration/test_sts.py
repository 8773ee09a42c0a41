"""SigV4 on the edge, through the real aws cli and boto3: STS
GetCallerIdentity with the root access key from owsd init and with a user's
key from ows key access create; a wrong secret gets SignatureDoesNotMatch,
an unknown or deleted key InvalidClientTokenId (as STS names it)."""
import json
import os
import subprocess

from owstest import Node, check, write_json

AWS = "/usr/bin/aws"
PY = "/usr/bin/python3"  # Debian's python3, where make deps puts boto3


def clients():
    check(os.path.exists(AWS), "aws cli missing (make deps installs awscli)")


def aws_env(node, key_id=None, secret=None):
    env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_DEFAULT_REGION="us-east-1",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               AWS_SHARED_CREDENTIALS_FILE=os.path.join(node.dir, "credentials"))
    if key_id:
        env.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
    return env


def aws(node, *args, key_id=None, secret=None):
    return subprocess.run([AWS, "--endpoint-url", "http://" + node.edge, "--output", "json"]
                          + list(args), capture_output=True, text=True, timeout=60,
                          env=aws_env(node, key_id, secret))


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
    p = subprocess.run([PY, "-c", BOTO, "http://" + node.edge, key_id, secret],
                       capture_output=True, text=True, timeout=60, env=aws_env(node))
    check(p.returncode == 0, p.stderr)
    return json.loads(p.stdout)


def root_creds(node):
    text = open(os.path.join(node.dir, "credentials")).read()
    return (text.split("aws_access_key_id = ")[1].split()[0],
            text.split("aws_secret_access_key = ")[1].split()[0])


def started():
    clients()
    n = Node()
    n.init()
    n.start()
    return n


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
    p = aws(n, "sts", "get-caller-identity", key_id=kid, secret=wrong)
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
