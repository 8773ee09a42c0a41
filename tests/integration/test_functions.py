"""Functions and routes in stack files: bundles zipped deterministically and
uploaded only when the cluster lacks them, code changes seen by the plan,
validation of specs and routes. (Invocation arrives with the instance
pool's wiring into the node.)"""
import json
import os

from owstest import check, signed_request, started, tmpdir


def write_stack(d, fn_spec=None, routes=None):
    os.makedirs(os.path.join(d, "hello"), exist_ok=True)
    with open(os.path.join(d, "hello", "app.py"), "w") as f:
        f.write("def handler(event, context):\n    return event\n")
    spec = {"runtime": "python3", "handler": "app.handler", "code": "./hello",
            "memory_mb": 128, "timeout_s": 3}
    spec.update(fn_spec or {})
    stack = {"stack": "demo", "functions": {"hello": spec},
             "routes": routes if routes is not None else {"GET /hello/{name}": "hello"}}
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump(stack, f)
    return path


def test_deploy_uploads_once_and_plans_code_changes():
    n = started()
    d = tmpdir()
    stack = write_stack(d)
    out = n.ows("apply", stack, "--yes").stdout
    check("uploading the bundle of function 'hello'" in out, out)
    check("+ functions 'hello'" in out and "+ routes 'GET /hello/{name}'" in out, out)
    out = n.ows("apply", stack, "--yes").stdout
    check("nothing to do" in out and "uploading" not in out, out)
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/resources?kind=functions")
    spec = r["resources"][0]["spec"]
    check("code" not in spec and len(spec["code_sha256"]) == 64, spec)
    check(os.path.exists(os.path.join(n.dir, "blobs", spec["code_sha256"])))
    routes = signed_request(n, n.root_key, "GET", "/_ows/v1/resources?kind=routes")[1]
    check(routes["resources"][0]["spec"] == {"function": "hello"}, routes)
    with open(os.path.join(d, "hello", "app.py"), "a") as f:
        f.write("# changed\n")
    plan = n.ows_json("plan", stack)
    check([(c["op"], c["name"]) for c in plan["changes"]] == [("~", "hello")], plan)


def test_invalid_functions_and_routes_are_refused():
    n = started()
    d = tmpdir()
    for bad, why in (({"runtime": "cobol"}, "'runtime' must be"),
                     ({"handler": "nodot"}, "module.function"),
                     ({"memory_mb": 64}, "'memory_mb' must be"),
                     ({"timeout_s": 901}, "'timeout_s' must be"),
                     ({"env": {"A": 1}}, "env 'A' must be a string"),
                     ({"env": {"1X": "y"}}, "must start with a letter"),
                     ({"env": {"A-B": "y"}}, "must start with a letter"),
                     ({"env": {"K%d" % i: "v" * 100 for i in range(40)}},
                      "at most 4096, as on Lambda"),
                     ({"colour": "red"}, "unknown field 'colour'"),
                     ({"requests_per_instance": 4}, "is for the http runtime")):
        p = n.ows("apply", write_stack(d, bad), "--yes", check_rc=False)
        check(p.returncode != 0 and why in p.stderr, (bad, p.stderr))
    p = n.ows("apply", write_stack(d, routes={"FETCH /x": "hello"}), "--yes", check_rc=False)
    check(p.returncode != 0 and "METHOD /path" in p.stderr, p.stderr)
    p = n.ows("apply", write_stack(d, routes={"GET /x": "nosuch"}), "--yes", check_rc=False)
    check(p.returncode != 0 and "no such function 'nosuch'" in p.stderr, p.stderr)
    check(n.status()["ledger"]["height"] == 1)
