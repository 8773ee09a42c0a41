"""Attacks on the Lambda management API and the seam under it, by a
hostile user or client against a real owsd: escalation through the role
a function is given, limits a deploy tool's request may break, races of
two writers, node-only endpoints replayed, and the ledger of attested
entries checked on every node of a cluster after many API writes."""
import io
import json
import os
import threading
import time
import uuid
import zipfile

import botocore

from owstest import (auth_header, boto3_client, canonical, check, cluster3_shared_root,
                     deploy, http, keygen, pubkey, sign, signed_request, started,
                     wait_for)

CODE = "def handler(e, c):\n    return {'ok': True}\n"


def app_zip(text=CODE):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", text)
    return buf.getvalue()


def user_client(n, name, statements, extra_stack=None):
    """Root makes user name with a policy of statements (in stack
    "people", with extra_stack's resources); a boto3 lambda client of an
    access key of that user."""
    k, pub = keygen()
    stack = {"stack": "people",
             "policies": {name + "-pol": {"Version": "2012-10-17",
                                          "Statement": statements}},
             "users": {name: {"public_keys": [pub], "policies": [name + "-pol"]}}}
    for kind, items in (extra_stack or {}).items():
        stack.setdefault(kind, {}).update(items)
    deploy(n, stack)
    made = n.ows_json("key", "access", "create", name)
    return boto3_client(n, "lambda", (made["access_key_id"], made["secret_access_key"]))


def error_of(fn, *args, **kw):
    """The error code fn(*args, **kw) fails with (None when it succeeds)."""
    try:
        fn(*args, **kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


def fn_spec(n, name):
    """The functions spec of name as the admin API shows it to root."""
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/resources?kind=functions")
    check(st == 200, (st, r))
    for row in r["resources"]:
        if row.get("name") == name:
            return row.get("spec")
    return None


# ---- escalation through the role a function runs with ----

def test_pass_role_is_judged_on_the_role_not_on_a_made_up_path():
    """iam:PassRole allowed on arn:ows:iam::role/team-* must not pass the
    role "admin" named with a path (role/team-x/admin, role/team-x/../admin):
    the function would run with admin's policies."""
    n = started()
    c = user_client(n, "dev", [
        {"Effect": "Allow", "Action": ["lambda:CreateFunction",
                                       "lambda:UpdateFunctionConfiguration"],
         "Resource": "arn:aws:lambda:*:*:function:team-*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:ows:iam::role/team-*"}],
        extra_stack={"policies": {"admin": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
            "roles": {"admin": {"policies": ["admin"]}, "team-x": {}}})
    acct = boto3_client(n, "sts").get_caller_identity()["Account"]
    base = dict(Runtime="python3.12", Handler="app.handler", Code={"ZipFile": app_zip()})
    for i, role in enumerate(["arn:ows:iam::role/team-x/admin",
                              "arn:ows:iam::role/team-x/../admin",
                              "arn:aws:iam::%s:role/team-x/admin" % acct]):
        code = error_of(c.create_function, FunctionName="team-a%d" % i, Role=role, **base)
        check(code == "AccessDeniedException", (role, code))
        check(fn_spec(n, "team-a%d" % i) is None, role)
    # The role the user may pass works, and so does it with a path.
    c.create_function(FunctionName="team-ok", Role="arn:ows:iam::role/team-x", **base)
    c.create_function(FunctionName="team-ok2", Role="arn:aws:iam::%s:role/svc/team-x" % acct,
                      **base)
    # Nor through UpdateFunctionConfiguration of a function one may change.
    code = error_of(c.update_function_configuration, FunctionName="team-ok",
                    Role="arn:ows:iam::role/team-x/admin")
    check(code == "AccessDeniedException", code)
    check("policies" not in fn_spec(n, "team-ok"), fn_spec(n, "team-ok"))


def test_create_function_takes_at_most_50_tags():
    """TagResource refuses a 51st tag; CreateFunction must too."""
    n = started()
    deploy(n, {"stack": "iam", "roles": {"r": {}}})
    c = boto3_client(n, "lambda")
    code = error_of(c.create_function, FunctionName="f", Runtime="python3.12",
                    Handler="app.handler", Role="arn:ows:iam::role/r",
                    Code={"ZipFile": app_zip()}, Tags={"k%d" % i: "v" for i in range(51)})
    check(code == "InvalidParameterValueException", code)
    check(error_of(c.get_function, FunctionName="f") == "ResourceNotFoundException")
