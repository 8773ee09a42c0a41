"""Attacks on permissions and role credentials (issue 7 review): a user who
may rewrite a role trusting itself into a role with stronger policies, or
rewrite a policy of a role it may assume, gains those policies; both are
judged as attaching them (ows:policies.attach), as users.put and
policies.put of one's own policies are."""
import json
import os
import sys

from owstest import check, pubkey, started, tmpdir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_permissions import ALL, root_apply, submit, user_with
from test_role_credentials import boto, user_key

READ = {"Effect": "Allow", "Action": "ows:status.read", "Resource": "*"}


def admin_role(n, trusted=()):
    root_apply(n, {"stack": "ops", "policies": {"admin": {"Statement": [ALL]}},
                   "roles": {"ops": {"trusted_users": list(trusted),
                                     "policies": ["admin"]}}})


def test_trusting_oneself_in_a_role_is_an_attach():
    n = started()
    admin_role(n)
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": ["ows:roles.put",
                                                             "ows:stacks.put"],
                              "Resource": "*"}])
    # dev rewrites the admin role to trust itself, keeping its policies.
    st, r = submit(n, k, [{"action": "roles.put", "name": "ops", "spec": {
        "trusted_users": ["dev"], "policies": ["admin"]}}], stack="ops")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/admin" in r["message"], (st, r))
    # Trusting someone else, or itself in a role with no policies, is fine.
    st, r = submit(n, k, [{"action": "roles.put", "name": "ops", "spec": {
        "trusted_users": ["root"], "policies": ["admin"]}}], stack="ops")
    check(st == 200, (st, r))
    st, r = submit(n, k, [{"action": "roles.put", "name": "empty", "spec": {
        "trusted_users": ["dev"]}}], stack="ops")
    check(st == 200, (st, r))
    p = n.ows("ledger", "verify", check_rc=False)
    check(p.returncode == 0, p.stdout + p.stderr)


def test_rewriting_a_policy_of_a_role_one_may_assume_is_an_attach():
    n = started()
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": ["ows:policies.put",
                                                             "ows:stacks.put"],
                              "Resource": "*"}])
    root_apply(n, {"stack": "ops", "policies": {"ci-pol": {"Statement": [READ]}},
                   "roles": {"ci": {"trusted_users": ["dev"], "policies": ["ci-pol"]}}})
    # dev may assume ci; rewriting ci's policy would give dev everything.
    st, r = submit(n, k, [{"action": "policies.put", "name": "ci-pol", "spec": {
        "Statement": [ALL]}}], stack="ops")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/ci-pol" in r["message"], (st, r))
    # A policy of a role that does not trust dev it may still write.
    root_apply(n, {"stack": "ops", "policies": {"ci-pol": {"Statement": [READ]}},
                   "roles": {"ci": {"trusted_users": [], "policies": ["ci-pol"]}}})
    st, r = submit(n, k, [{"action": "policies.put", "name": "ci-pol", "spec": {
        "Statement": [READ]}}], stack="ops")
    check(st == 200, (st, r))
    p = n.ows("ledger", "verify", check_rc=False)
    check(p.returncode == 0, p.stdout + p.stderr)


def test_taking_another_users_public_key_is_judged_on_that_user():
    n = started()
    # dev may manage only its own user.
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": ["ows:users.put",
                                                             "ows:stacks.put"],
                              "Resource": ["arn:ows:iam::user/dev",
                                           "arn:ows:ows::stack/people"]}])
    dev_pub = pubkey(k)
    root_pub = pubkey(n.root_key)
    # Naming root's public key in its own user would move the key (a key
    # belongs to one user): root's signatures would then be dev's.
    st, r = submit(n, k, [{"action": "users.put", "name": "dev", "spec": {
        "public_keys": [dev_pub, root_pub], "policies": ["dev-pol"]}}],
        stack="people")
    check(st == 409 and "belongs to user 'root'" in r["message"], (st, r))
    check(n.ows_json("key", "access", "ls") is not None, "root still signs as root")
    p = n.ows("ledger", "verify", check_rc=False)
    check(p.returncode == 0, p.stdout + p.stderr)


RELAY = r'''
import os
import boto3

def handler(event, context):
    lam = boto3.client("lambda", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                       aws_access_key_id=event["id"],
                       aws_secret_access_key=event["secret"],
                       aws_session_token=None)
    try:
        lam.invoke(FunctionName="target", Payload=b"{}")
        return "allowed"
    except Exception as e:
        return getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))
'''


def test_source_ip_of_calls_from_a_function_is_the_instance():
    """The node's API inside an instance is on the instance's loopback; a
    policy allowing only 127.0.0.1 (the node's host) must not be met by
    every function's code, which may hold any key it was given."""
    n = started()
    d = tmpdir()
    for sub, text in (("relay", RELAY), ("target", "def handler(e, c):\n    return 1\n")):
        os.makedirs(os.path.join(d, sub))
        with open(os.path.join(d, sub, "app.py"), "w") as f:
            f.write(text)
    fn = {"runtime": "python3", "handler": "app.handler", "timeout_s": 20}
    with open(os.path.join(d, "stack.json"), "w") as f:
        json.dump({"stack": "fns", "functions": {
            "relay": dict(fn, code="./relay"), "target": dict(fn, code="./target")}}, f)
    n.ows("apply", os.path.join(d, "stack.json"), "--yes")
    user_with(n, "local", [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                            "Resource": "*", "Condition": {"IpAddress": {
                                "aws:SourceIp": "127.0.0.1/32"}}}])
    made = user_key(n, "local")
    # From the node's host, the key works.
    r = boto(n, made, 'out["r"] = client("lambda").invoke(FunctionName="target")'
                      '["Payload"].read().decode()')
    check(r["r"] == "1", r)
    # From inside a function, it does not: the call comes from the instance.
    p = n.ows("invoke", "relay", "--payload", json.dumps(
        {"id": made["AccessKeyId"], "secret": made["SecretAccessKey"]}))
    check(json.loads(p.stdout) == "AccessDeniedException", p.stdout)


def test_rewriting_a_policy_of_a_function_one_may_deploy_is_an_attach():
    """A function's code runs with the policies it names: whoever may
    deploy it and rewrite one of those policies holds what the policy then
    grants, so the rewrite is judged as attaching it."""
    n = started()
    d = tmpdir()
    os.makedirs(os.path.join(d, "f"))
    with open(os.path.join(d, "f", "app.py"), "w") as f:
        f.write("def handler(e, c):\n    return 1\n")
    with open(os.path.join(d, "stack.json"), "w") as f:
        json.dump({"stack": "ops", "policies": {"f-pol": {"Statement": [READ]}},
                   "functions": {"f": {"runtime": "python3", "handler": "app.handler",
                                       "code": "./f", "policies": ["f-pol"]}}}, f)
    n.ows("apply", os.path.join(d, "stack.json"), "--yes")
    deployer = user_with(n, "dev", [{"Effect": "Allow", "Action": [
        "ows:policies.put", "ows:functions.put", "ows:stacks.put"], "Resource": "*"}])
    st, r = submit(n, deployer, [{"action": "policies.put", "name": "f-pol", "spec": {
        "Statement": [ALL]}}], stack="ops")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/f-pol" in r["message"], (st, r))
    # One who may not deploy f may still write its policy (as for any
    # policy of others: scope ows:policies.put by Resource).
    writer = user_with(n, "ed", [{"Effect": "Allow", "Action": [
        "ows:policies.put", "ows:stacks.put"], "Resource": "*"}], stack="writers")
    st, r = submit(n, writer, [{"action": "policies.put", "name": "f-pol", "spec": {
        "Statement": [READ]}}], stack="ops")
    check(st == 200, (st, r))
    p = n.ows("ledger", "verify", check_rc=False)
    check(p.returncode == 0, p.stdout + p.stderr)
