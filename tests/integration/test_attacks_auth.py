"""Attacks on permissions and role credentials (issue 7 review): a user who
may rewrite a role trusting itself into a role with stronger policies, or
rewrite a policy of a role it may assume, gains those policies; both are
judged as attaching them (ows:policies.attach), as users.put and
policies.put of one's own policies are."""
import os
import sys

from owstest import check, pubkey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_permissions import ALL, root_apply, started, submit, user_with
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
