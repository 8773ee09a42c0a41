"""One node: init, run, status, stacks with users and policies, the ledger,
refusals (no permission, unknown key, replay, wrong cluster, bad signature),
metrics, and restart keeping everything."""
import json
import os

from owstest import (Node, check, envelope, http, keygen, raw_http,
                     signed_request, started, wait_for, write_json)


def deployer_stack(dev_pub, stack="demo"):
    return {
        "stack": stack,
        "users": {"dev": {"public_keys": [dev_pub], "policies": ["deployer"]}},
        "policies": {"deployer": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ows:functions.*", "ows:routes.*"],
             "Resource": "*"}]}},
    }


def test_init_writes_keys_and_credentials():
    n = Node()
    out = n.init()
    check("root public key:" in out, out)
    for f, mode in (("root.key", 0o600), ("node.key", 0o600),
                    ("credentials", 0o600), ("cluster.secret", 0o600)):
        st = os.stat(os.path.join(n.dir, f))
        check(st.st_mode & 0o777 == mode, "%s has mode %o" % (f, st.st_mode & 0o777))
    creds = open(os.path.join(n.dir, "credentials")).read()
    check(creds.startswith("[default]\naws_access_key_id = AKIA"), creds)
    # The secret is sealed in the ledger, never in clear.
    secret = creds.split("aws_secret_access_key = ")[1].strip()
    n.start()
    ledger = n.ows("ledger", "log", "--json").stdout
    check(secret not in ledger and "AKIA" in ledger, "secret leaked or key missing")
    check(secret not in open(n.log).read(), "secret in the log")
    # A second init on the same directory is refused.
    import subprocess
    from owstest import OWSD
    r = subprocess.run([OWSD, "init", "-d", n.dir], capture_output=True, text=True)
    check(r.returncode != 0 and "already holds a node" in r.stderr, r.stderr)


def test_init_with_given_root_key():
    key, pub = keygen()
    n = Node()
    n.init(root_key=pub)
    check(not os.path.exists(n.root_key), "root.key written despite --root-key")
    n.start()
    st = n.status(key=key)
    check(st["ledger"]["height"] == 1, st)


def test_status_single_node():
    n = started()
    st = n.status()
    check(st["cluster"].startswith("ows-"), st)
    check(st["node"]["role"] == "leader", st)
    check(st["ledger"]["height"] == 1, st)
    check(len(st["nodes"]) == 1 and st["nodes"][0]["health"] == "up", st)
    check(st["nodes"][0]["member"] == "voter", st)
    human = n.ows("status").stdout
    check("leader:  node 1" in human and st["cluster"] in human, human)


def test_apply_plan_ledger_verify():
    n = started()
    dev_key, dev_pub = keygen()
    stack = write_json(deployer_stack(dev_pub))
    plan = n.ows_json("plan", stack)
    ops = [(c["op"], c["kind"], c["name"]) for c in plan["changes"]]
    check(ops == [("+", "policies", "deployer"), ("+", "users", "dev")], ops)
    out = n.ows("apply", stack, "--yes").stdout
    check("applied: ledger height 2" in out, out)
    check("nothing to do" in n.ows("apply", stack, "--yes").stdout)
    # A change and a delete, in one change set.
    s = deployer_stack(dev_pub)
    s["policies"]["deployer"]["Statement"][0]["Action"] = ["ows:functions.*"]
    s["policies"]["readers"] = {"Statement": [{"Effect": "Allow", "Action": "ows:status.read",
                                               "Resource": "*"}]}
    stack = write_json(s)
    plan = n.ows_json("plan", stack)
    ops = sorted((c["op"], c["name"]) for c in plan["changes"])
    check(ops == [("+", "readers"), ("~", "deployer")], ops)
    n.ows("apply", stack, "--yes")
    del s["policies"]["readers"]
    n.ows("apply", write_json(s), "--yes")
    log = n.ows("ledger", "log").stdout
    check("genesis" in log and "users.put 'dev'" in log and
          "policies.delete 'readers'" in log, log)
    v = n.ows_json("ledger", "verify")
    check(v["ok"] and v["height"] == 4, v)
    st = n.status()
    check(v["head"] == st["ledger"]["head"], (v, st))
    human = n.ows("ledger", "verify").stdout
    check(human.startswith("ledger verified: height 4"), human)


def test_user_without_permission_is_refused():
    n = started()
    dev_key, dev_pub = keygen()
    n.ows("apply", write_json(deployer_stack(dev_pub)), "--yes")
    before = n.status()["ledger"]
    other = write_json({"stack": "other", "users": {"eve": {"public_keys": []}}})
    p = n.ows("apply", other, "--yes", key=dev_key, check_rc=False)
    check(p.returncode != 0, p.stdout)
    check("AccessDenied" in p.stderr and "ows:users.put" in p.stderr, p.stderr)
    st = n.status()
    check(st["ledger"] == dict(before, rejected=before["rejected"] + 1), (before, st))
    # Reads the policy does not allow are refused with 403.
    p = n.ows("status", key=dev_key, check_rc=False)
    check(p.returncode != 0 and "HTTP 403" in p.stderr, p.stderr)
    # The user can do what the policy allows: nodes.token is not, so refused.
    p = n.ows("node", "token", key=dev_key, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr, p.stderr)


def test_explicit_deny_wins():
    n = started()
    k, pub = keygen()
    s = {"stack": "s", "users": {"ops": {"public_keys": [pub], "policies": ["all", "nodeny"]}},
         "policies": {
             "all": {"Statement": [{"Effect": "Allow", "Action": "ows:*", "Resource": "*"}]},
             "nodeny": {"Statement": [{"Effect": "Deny", "Action": "ows:users.*",
                                       "Resource": "arn:ows:iam::user/admin*"}]}}}
    n.ows("apply", write_json(s), "--yes")
    ok = write_json({"stack": "t", "users": {"bob": {}}})
    n.ows("apply", ok, "--yes", key=k)
    bad = write_json({"stack": "t2", "users": {"admin2": {}}})
    p = n.ows("apply", bad, "--yes", key=k, check_rc=False)
    check(p.returncode != 0 and "AccessDenied" in p.stderr, p.stderr)


def test_unknown_key_is_refused():
    n = started()
    stranger, _ = keygen()
    p = n.ows("status", key=stranger, check_rc=False)
    check(p.returncode != 0 and "UnknownKey" in p.stderr, p.stderr)
    p = n.ows("apply", write_json({"stack": "x", "users": {"a": {}}}), "--yes",
              key=stranger, check_rc=False)
    check(p.returncode != 0, p.stdout)
    # Signed by the stranger, sent with the root's request signature: the
    # change set itself is judged and refused as an unknown signer.
    cluster = n.status()["cluster"]
    env = envelope(stranger, cluster, [{"action": "users.put", "name": "a", "spec": {}}])
    st, body = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(env))
    check(st == 403 and body["code"] == "UnknownSigner", (st, body))
    # No signature at all.
    st, body = http(n.edge, "GET", "/_ows/v1/status")
    check(st == 401, (st, body))


def test_replayed_and_forged_changesets_are_refused():
    n = started()
    cluster = n.status()["cluster"]
    env = envelope(n.root_key, cluster, [{"action": "users.put", "name": "u1", "spec": {}}])
    body = json.dumps(env)
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", body)
    check(st == 200 and r["height"] == 2, (st, r))
    # The same bytes again are a resend: the first answer, nothing applied.
    st, r2 = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", body)
    check(st == 200 and r2 == r, (st, r2, r))
    check(n.status()["ledger"]["height"] == 2)
    # The nonce with other content is a replay.
    env["changeset"]["actions"][0]["name"] = "u9"
    env = envelope(n.root_key, cluster, env["changeset"]["actions"],
                   nonce=env["changeset"]["nonce"])
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(env))
    check(st == 409 and r["code"] == "NonceReused", (st, r))
    # Another cluster.
    env2 = envelope(n.root_key, "ows-elsewhere", [{"action": "users.put", "name": "u2", "spec": {}}])
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(env2))
    check(st == 400 and r["code"] == "WrongCluster", (st, r))
    # A signature over something else.
    env3 = envelope(n.root_key, cluster, [{"action": "users.put", "name": "u3", "spec": {}}])
    env3["changeset"]["actions"][0]["name"] = "u4"
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(env3))
    check(st == 403 and r["code"] == "InvalidSignature", (st, r))
    # Too old.
    env4 = envelope(n.root_key, cluster, [{"action": "users.put", "name": "u5", "spec": {}}],
                    t=1000)
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(env4))
    check(st == 400 and r["code"] == "ChangeSetTimeTooSkewed", (st, r))
    # Atomic: a valid action followed by an invalid one changes nothing.
    env5 = envelope(n.root_key, cluster, [
        {"action": "users.put", "name": "u6", "spec": {}},
        {"action": "users.put", "name": "u7", "spec": {"policies": ["missing"]}}])
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(env5))
    check(st == 400 and r["code"] == "InvalidAction" and "no such policy" in r["message"], (st, r))
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/resources?kind=users")
    names = sorted(x["name"] for x in r["resources"])
    check(names == ["root", "u1"], names)
    st = n.status()
    check(st["ledger"]["height"] == 2 and st["ledger"]["rejected"] == 5, st)
    check(n.ows_json("ledger", "verify")["ok"])


def test_stacks_do_not_touch_each_other():
    n = started()
    a = write_json({"stack": "a", "users": {"shared": {}}})
    n.ows("apply", a, "--yes")
    b = write_json({"stack": "b", "users": {"shared": {"policies": []}}})
    p = n.ows("apply", b, "--yes", check_rc=False)
    check(p.returncode != 0 and "belongs to stack 'a'" in p.stderr, p.stderr)
    # Removing everything from stack b's file never deletes stack a's user.
    empty = write_json({"stack": "b"})
    check("nothing to do" in n.ows("apply", empty, "--yes").stdout)


def test_restart_keeps_everything():
    n = started()
    dev_key, dev_pub = keygen()
    stack = write_json(deployer_stack(dev_pub))
    n.ows("apply", stack, "--yes")
    before = n.status()
    check(n.stop() == 0, "owsd did not exit 0 on SIGTERM")
    log = open(n.log).read()
    check("shutting down" in log and "stopped" in log, log)
    n.start()
    wait_for(lambda: n.status()["node"]["role"] == "leader", 30, "leader again")
    after = n.status()
    check(after["ledger"] == before["ledger"], (before, after))
    check("nothing to do" in n.ows("apply", stack, "--yes").stdout)
    check(n.ows_json("ledger", "verify")["head"] == before["ledger"]["head"])
    # And it still takes changes.
    n.ows("apply", write_json({"stack": "more", "users": {"x": {}}}), "--yes")
    check(n.status()["ledger"]["height"] == before["ledger"]["height"] + 1)


def test_metrics():
    n = started()
    http(n.edge, "GET", "/_ows/v1/status")  # 401
    raw_http(n.edge, b"BAD\r\n\r\n")     # 400 from the HTTP layer
    st, body = http(n.edge, "GET", "/metrics")
    text = body.decode()
    check(st == 200, st)
    for m in ("ows_raft_term 1", 'ows_raft_role{role="leader"} 1',
              "ows_ledger_height 1", "ows_raft_commit_index", "ows_raft_applied_index",
              'ows_http_requests_total{code="2xx"} 2', 'ows_http_requests_total{code="4xx"} 2'):
        check(m in text, "%s missing from\n%s" % (m, text))
