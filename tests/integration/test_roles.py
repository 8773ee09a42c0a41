"""Roles and the policies functions run with (issue 7, "Role credentials
for functions"): roles in stack files, applied and planned; validation of
roles and of functions' "policies"; deletion refused while a policy or a
user is still named; and naming policies judged as attaching them, for
functions.put and roles.put as for users.put."""
import json
import os
import sys

from owstest import check, keygen, signed_request, started, tmpdir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_permissions import ALL, root_apply, submit, user_with

DEV_PUB = {}  # one key for dev per stack directory
CODE = "0" * 64  # a well-formed bundle name; these tests never invoke
READ = {"Effect": "Allow", "Action": "ows:functions.read", "Resource": "*"}


def write_stack(d, roles=None, fn_policies=None, extra=None):
    """A stack with policies orders-rw and admin, users dev and ops, roles,
    and function hello (with fn_policies when given)."""
    os.makedirs(os.path.join(d, "hello"), exist_ok=True)
    with open(os.path.join(d, "hello", "app.py"), "w") as f:
        f.write("def handler(event, context):\n    return event\n")
    fn = {"runtime": "python3", "handler": "app.handler", "code": "./hello"}
    if fn_policies is not None:
        fn["policies"] = fn_policies
    stack = {"stack": "shop",
             "policies": {"orders-rw": {"Version": "2012-10-17", "Statement": [READ]},
                          "admin": {"Version": "2012-10-17", "Statement": [ALL]}},
             "users": {"dev": {"public_keys": [DEV_PUB.setdefault(d, keygen()[1])]},
                       "ops": {}},
             "functions": {"hello": fn}}
    if roles is not None:
        stack["roles"] = roles
    stack.update(extra or {})
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump(stack, f)
    return path


def resources(n, kind):
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/resources?kind=" + kind)
    check(st == 200, (st, r))
    return {x["name"]: x["spec"] for x in r["resources"]}


def test_roles_and_function_policies_apply_and_plan():
    n = started()
    d = tmpdir()
    role = {"trusted_users": ["dev", "ops"], "policies": ["orders-rw"],
            "max_session_s": 3600}
    stack = write_stack(d, {"orders": role}, ["orders-rw"])
    out = n.ows("apply", stack, "--yes").stdout
    check("+ roles 'orders'" in out and "+ functions 'hello'" in out, out)
    # Roles come after the users and policies they name.
    check(out.index("+ users 'ops'") < out.index("+ roles 'orders'")
          < out.index("+ functions 'hello'"), out)
    check(resources(n, "roles") == {"orders": role}, resources(n, "roles"))
    check(resources(n, "functions")["hello"]["policies"] == ["orders-rw"])
    # Re-applying the same file: nothing to do (a missing max_session_s is
    # not filled in either, so the plan stays empty).
    out = n.ows("apply", stack, "--yes").stdout
    check("nothing to do" in out, out)
    stack = write_stack(d, {"orders": {"trusted_users": ["dev"]}}, ["orders-rw"])
    n.ows("apply", stack, "--yes")
    plan = n.ows_json("plan", stack)
    check(plan["changes"] == [], plan)
    # Without the role, the plan deletes it; with everything gone, all goes.
    stack = write_stack(d, None, ["orders-rw"])
    plan = n.ows_json("plan", stack)
    check([(c["op"], c["kind"], c["name"]) for c in plan["changes"]] ==
          [("-", "roles", "orders")], plan)
    n.ows("apply", write_stack(d, {"orders": role}, ["orders-rw"]), "--yes")
    out = n.ows("apply", write_json_stack(d, {"stack": "shop"}), "--yes").stdout
    check(out.index("- functions 'hello'") < out.index("- roles 'orders'")
          < out.index("- users 'dev'") < out.index("- policies 'orders-rw'"), out)
    check(resources(n, "roles") == {} and resources(n, "policies") == {})


def write_json_stack(d, obj):
    path = os.path.join(d, "empty.json")
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def test_invalid_roles_and_function_policies_are_refused():
    n = started()
    d = tmpdir()
    for roles, fnp, why in (
            ({"r": {"policies": ["nosuch"]}}, None, "policies[0]: no such policy"),
            ({"r": {"trusted_users": ["dev", "nobody"]}}, None,
             "trusted_users[1]: no such user"),
            ({"r": {"trusted_users": ["dev", "dev"]}}, None, "'dev' is named twice"),
            ({"r": {"trusted_users": "dev"}}, None, "'trusted_users' is a list"),
            ({"r": {"max_session_s": 899}}, None, "'max_session_s' must be an integer "
             "from 900 to 43200"),
            ({"r": {"max_session_s": 43201}}, None, "'max_session_s' must be"),
            ({"r": {"max_session_s": "3600"}}, None, "'max_session_s' must be"),
            ({"r": {"trust": ["dev"]}}, None, "unknown field 'trust'"),
            (None, ["nosuch"], "policies[0]: no such policy"),
            (None, ["orders-rw", "orders-rw"], "'orders-rw' is named twice"),
            (None, "orders-rw", "'policies' is a list"),
            (None, [1], "policies[0]: no such policy")):
        p = n.ows("apply", write_stack(d, roles, fnp), "--yes", check_rc=False)
        check(p.returncode != 0 and why in p.stderr, (roles, fnp, p.stderr))
    check(n.status()["ledger"]["height"] == 1)


def test_deletion_refused_while_named():
    n = started()
    d = tmpdir()
    n.ows("apply", write_stack(d, {"orders": {"trusted_users": ["ops"],
                                              "policies": ["admin"]}},
                               ["orders-rw"]), "--yes")
    # A policy named by a role, or by a function, stays while named.
    st, r = submit(n, n.root_key, [{"action": "policies.delete", "name": "admin"}],
                   stack="shop")
    check(st == 409 and "policy 'admin' is still attached to 1 role(s)" in r["message"],
          (st, r))
    st, r = submit(n, n.root_key, [{"action": "policies.delete", "name": "orders-rw"}],
                   stack="shop")
    check(st == 409 and "still attached to 1 function(s)" in r["message"], (st, r))
    # A user a role trusts: a later user of that name would inherit the trust.
    st, r = submit(n, n.root_key, [{"action": "users.delete", "name": "ops"}],
                   stack="shop")
    check(st == 409 and "user 'ops' is still trusted by 1 role(s)" in r["message"],
          (st, r))
    # In one change set, the role first: allowed.
    st, r = submit(n, n.root_key, [{"action": "roles.delete", "name": "orders"},
                                   {"action": "users.delete", "name": "ops"},
                                   {"action": "policies.delete", "name": "admin"}],
                   stack="shop")
    check(st == 200, (st, r))
    st, r = submit(n, n.root_key, [{"action": "roles.delete", "name": "orders"}],
                   stack="shop")
    check(st == 404, (st, r))


# ---- naming policies is attaching them ----

def base(n):
    root_apply(n, {"stack": "base", "policies": {
        "admin": {"Statement": [ALL]},
        "team-ro": {"Statement": [READ]}}})


def fn_put(name, policies):
    return {"action": "functions.put", "name": name, "spec": {
        "runtime": "python3", "handler": "app.handler", "code_sha256": CODE,
        "policies": policies}}


def test_functions_put_cannot_name_policies_without_attach():
    n = started()
    base(n)
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": ["ows:functions.*",
                                                             "ows:stacks.put"],
                              "Resource": "*"}])
    st, r = submit(n, k, [fn_put("f", ["admin"])], stack="apps")
    check(st == 403 and r["code"] == "AccessDenied" and "ows:policies.attach" in
          r["message"] and "arn:ows:iam::policy/admin" in r["message"], (st, r))
    # Without policies it deploys.
    st, r = submit(n, k, [fn_put("f", [])], stack="apps")
    check(st == 200, (st, r))
    # Root gives f team-ro; dev may then redeploy f keeping it, not add admin.
    st, r = submit(n, n.root_key, [fn_put("f", ["team-ro"])], stack="apps")
    check(st == 200, (st, r))
    st, r = submit(n, k, [fn_put("f", ["team-ro"])], stack="apps")
    check(st == 200, (st, r))
    st, r = submit(n, k, [fn_put("f", ["team-ro", "admin"])], stack="apps")
    check(st == 403 and "arn:ows:iam::policy/admin" in r["message"], (st, r))


def test_function_policies_bounded_by_iam_policy_arn():
    n = started()
    base(n)
    k = user_with(n, "lead", [
        {"Effect": "Allow", "Action": ["ows:functions.*", "ows:stacks.put"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": "ows:policies.attach", "Resource": "*",
         "Condition": {"ArnLike": {"iam:PolicyARN": "arn:ows:iam::policy/team-*"}}}])
    st, r = submit(n, k, [fn_put("f", ["team-ro"])], stack="apps")
    check(st == 200, (st, r))
    st, r = submit(n, k, [fn_put("g", ["team-ro", "admin"])], stack="apps")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/admin" in r["message"], (st, r))
    # ows:RequestedPolicies is in the context of functions.put too.
    k2 = user_with(n, "lead2", [
        {"Effect": "Allow", "Action": ["ows:functions.*", "ows:stacks.put",
                                       "ows:policies.attach"], "Resource": "*"},
        {"Effect": "Deny", "Action": "ows:functions.put", "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {
             "ows:RequestedPolicies": "arn:ows:iam::policy/admin"}}}])
    st, r = submit(n, k2, [fn_put("h", ["admin"])], stack="apps")
    check(st == 403 and "'ows:functions.put'" in r["message"], (st, r))


def test_roles_put_cannot_name_policies_without_attach():
    n = started()
    base(n)
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": ["ows:roles.*",
                                                             "ows:stacks.put"],
                              "Resource": "*"}])
    # Trusting itself in a role with the admin policy: refused.
    st, r = submit(n, k, [{"action": "roles.put", "name": "r", "spec": {
        "trusted_users": ["dev"], "policies": ["admin"]}}], stack="people")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/admin" in r["message"], (st, r))
    st, r = submit(n, k, [{"action": "roles.put", "name": "r", "spec": {
        "trusted_users": ["dev"]}}], stack="people")
    check(st == 200, (st, r))
    st, r = submit(n, k, [{"action": "roles.put", "name": "r", "spec": {
        "trusted_users": ["dev"], "policies": ["admin"]}}], stack="people")
    check(st == 403 and "ows:policies.attach" in r["message"], (st, r))


def test_trusting_oneself_in_a_strong_role_is_an_attach():
    n = started()
    base(n)
    check(submit(n, n.root_key, [{"action": "roles.put", "name": "admins", "spec": {
        "trusted_users": ["root"], "policies": ["admin", "team-ro"]}}],
        stack="ops")[0] == 200)
    k = user_with(n, "dev", [
        {"Effect": "Allow", "Action": ["ows:roles.*", "ows:stacks.put"], "Resource": "*"},
        {"Effect": "Allow", "Action": "ows:policies.attach",
         "Resource": "arn:ows:iam::policy/team-ro"}])
    # The role's policies are not new, but dev would gain them all.
    st, r = submit(n, k, [{"action": "roles.put", "name": "admins", "spec": {
        "trusted_users": ["root", "dev"], "policies": ["admin", "team-ro"]}}],
        stack="ops")
    check(st == 403 and "ows:policies.attach" in r["message"] and
          "arn:ows:iam::policy/admin" in r["message"], (st, r))
    # Changing the role without trusting anyone new needs no attach.
    st, r = submit(n, k, [{"action": "roles.put", "name": "admins", "spec": {
        "trusted_users": ["root"], "policies": ["admin", "team-ro"],
        "max_session_s": 900}}], stack="ops")
    check(st == 200, (st, r))
    # A role with only what dev may attach, dev may trust itself in.
    st, r = submit(n, k, [{"action": "roles.put", "name": "ro", "spec": {
        "trusted_users": ["dev"], "policies": ["team-ro"]}}], stack="ops")
    check(st == 200, (st, r))


def test_role_policies_bounded_by_iam_policy_arn():
    n = started()
    base(n)
    k = user_with(n, "lead", [
        {"Effect": "Allow", "Action": ["ows:roles.*", "ows:stacks.put"], "Resource": "*"},
        {"Effect": "Allow", "Action": "ows:policies.attach", "Resource": "*",
         "Condition": {"ArnLike": {"iam:PolicyARN": "arn:ows:iam::policy/team-*"}}}])
    st, r = submit(n, k, [{"action": "roles.put", "name": "r", "spec": {
        "trusted_users": ["lead"], "policies": ["team-ro"]}}], stack="people")
    check(st == 200, (st, r))
    st, r = submit(n, k, [{"action": "roles.put", "name": "r", "spec": {
        "trusted_users": ["lead"], "policies": ["team-ro", "admin"]}}], stack="people")
    check(st == 403 and "arn:ows:iam::policy/admin" in r["message"], (st, r))
    # roles.put itself is judged on the role's ARN.
    k2 = user_with(n, "other", [
        {"Effect": "Allow", "Action": ["ows:roles.put", "ows:stacks.put"],
         "Resource": ["arn:ows:iam::role/team-*", "arn:ows:ows::stack/*"]}])
    st, r = submit(n, k2, [{"action": "roles.put", "name": "r", "spec": {
        "trusted_users": ["other"]}}], stack="people")
    check(st == 403 and "'ows:roles.put' on 'arn:ows:iam::role/r'" in r["message"], (st, r))


def test_roles_read_judged_per_role():
    n = started()
    root_apply(n, {"stack": "rs", "roles": {"a": {}, "b": {}}})
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": "ows:roles.read",
                              "Resource": "arn:ows:iam::role/a"}])
    st, r = signed_request(n, k, "GET", "/_ows/v1/resources?kind=roles")
    check(st == 200 and [x["name"] for x in r["resources"]] == ["a"], (st, r))


def test_ledger_verify_replays_roles_and_functions():
    n = started()
    base(n)
    # Root gives f and r team-ro; dev, who may not attach it, redeploys both
    # keeping it. The verifier must know what f and r had to judge alike.
    k = user_with(n, "dev", [{"Effect": "Allow", "Action": [
        "ows:functions.*", "ows:roles.*", "ows:stacks.put"], "Resource": "*"}])
    role = {"action": "roles.put", "name": "r", "spec": {"policies": ["team-ro"]}}
    check(submit(n, n.root_key, [fn_put("f", ["team-ro"]), role], stack="apps")[0] == 200)
    st, r = submit(n, k, [fn_put("f", ["team-ro"]), role], stack="apps")
    check(st == 200, (st, r))
    p = n.ows("ledger", "verify", check_rc=False)
    check(p.returncode == 0, p.stdout + p.stderr)
