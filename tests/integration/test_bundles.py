"""Bundles with symbolic links: what `npm install` leaves (node_modules/.bin
links into the packages) is zipped by `ows apply` as links and unpacked by
the node as links, and the function runs through them; links that leave the
bundle are refused by `ows apply` and, in a zip made elsewhere, by the node."""
import hashlib
import json
import os
import zipfile

from owstest import check, signed_request, started, tmpdir

INDEX_JS = r'''
const fs = require('fs');
const path = require('path');
/* Through the .bin link, as `npx greet` or a package.json script would. */
const greet = require('./node_modules/.bin/greet');
exports.handler = async (event) => ({
  greeting: greet(event.name),
  link: fs.readlinkSync(path.join(__dirname, 'node_modules/.bin/greet')),
  isLink: fs.lstatSync(path.join(__dirname, 'node_modules/.bin/greet')).isSymbolicLink(),
  real: fs.realpathSync(path.join(__dirname, 'node_modules/.bin/greet')),
});
'''

GREET_JS = "module.exports = (name) => 'hello ' + name;\n"


def npm_tree(d):
    """A function directory laid out as `npm install greet` leaves it."""
    os.makedirs(os.path.join(d, "node_modules", ".bin"))
    os.makedirs(os.path.join(d, "node_modules", "greet", "bin"))
    with open(os.path.join(d, "index.js"), "w") as f:
        f.write(INDEX_JS)
    with open(os.path.join(d, "node_modules", "greet", "bin", "greet.js"), "w") as f:
        f.write(GREET_JS)
    with open(os.path.join(d, "node_modules", "greet", "package.json"), "w") as f:
        json.dump({"name": "greet", "bin": {"greet": "bin/greet.js"}}, f)
    os.symlink("../greet/bin/greet.js", os.path.join(d, "node_modules", ".bin", "greet"))


def stack_file(d, code, name="bundles-demo", fn="greeter", spec=None):
    s = {"runtime": "nodejs", "handler": "index.handler", "code": code,
         "timeout_s": 10}
    s.update(spec or {})
    path = os.path.join(d, "stack-%s.json" % fn)
    with open(path, "w") as f:
        json.dump({"stack": name, "functions": {fn: s}}, f)
    return path


def test_nodejs_bundle_with_npm_bin_links_runs():
    n = started()
    d = tmpdir()
    npm_tree(os.path.join(d, "app"))
    n.ows("apply", "--yes", stack_file(d, "./app"))
    out = n.ows("invoke", "greeter", "--payload", '{"name": "links"}').stdout
    r = json.loads(out)
    check(r["greeting"] == "hello links", r)
    check(r["isLink"] is True and r["link"] == "../greet/bin/greet.js", r)
    check(r["real"] == "/var/task/node_modules/greet/bin/greet.js", r)
    # On the node the link is a link too, inside the unpacked bundle.
    bundles = os.path.join(n.dir, "bundles")
    (sha,) = [b for b in os.listdir(bundles) if not b.startswith(".")]
    link = os.path.join(bundles, sha, "node_modules", ".bin", "greet")
    check(os.path.islink(link) and os.readlink(link) == "../greet/bin/greet.js")


def test_links_that_leave_the_bundle_are_refused_by_apply():
    n = started()
    cases = (("/etc/passwd", "leaves the bundle (absolute target)"),
             ("../../../../../../etc/passwd", "leaves the bundle"),
             # Read as text it stays in node_modules/greet; followed
             # through the link bin/up (node_modules) it leaves.
             ("../greet/bin/up/../..", "leaves the bundle"))
    for target, why in cases:
        d = tmpdir()
        app = os.path.join(d, "app")
        npm_tree(app)
        # node_modules/greet/bin/up -> ../.. is node_modules: inside.
        os.symlink("../..", os.path.join(app, "node_modules", "greet", "bin", "up"))
        os.symlink(target, os.path.join(app, "node_modules", ".bin", "evil"))
        p = n.ows("apply", "--yes", stack_file(d, "./app"), check_rc=False)
        check(p.returncode == 1, p)
        check("function 'greeter'" in p.stderr and
              "link 'node_modules/.bin/evil' -> '%s' %s" % (target, why) in p.stderr,
              p.stderr)
        check("uploading" not in p.stdout, p.stdout)
    check(n.status()["ledger"]["height"] == 1)


def evil_zip(path):
    """A zip made elsewhere whose link leaves the bundle."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("index.js", "exports.handler = async () => 'ran';\n")
        info = zipfile.ZipInfo("passwd")
        info.create_system = 3  # unix, so the mode below is read
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")


def test_zip_with_a_link_that_leaves_is_refused_by_apply_and_by_the_node():
    n = started()
    d = tmpdir()
    zpath = os.path.join(d, "evil.zip")
    evil_zip(zpath)
    p = n.ows("apply", "--yes", stack_file(d, "./evil.zip"), check_rc=False)
    check(p.returncode == 1 and
          "link 'passwd' -> '/etc/passwd' leaves the bundle" in p.stderr, p.stderr)
    # Past the client: upload the blob and name it by its hash.
    data = open(zpath, "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    st, _ = signed_request(n, n.root_key, "PUT", "/_ows/v1/blobs/" + sha, data)
    check(st in (200, 201, 204), st)
    path = os.path.join(d, "stack.json")
    with open(path, "w") as f:
        json.dump({"stack": "bundles-evil", "functions": {"evil": {
            "runtime": "nodejs", "handler": "index.handler", "code_sha256": sha}}}, f)
    n.ows("apply", "--yes", path)
    p = n.ows("invoke", "evil", check_rc=False)
    check(p.returncode != 0 and "ran" not in p.stdout, p)
    with open(n.log) as f:
        log = f.read()
    check("link 'passwd' -> '/etc/passwd' leaves the bundle" in log, log[-3000:])
    bundles = os.path.join(n.dir, "bundles")
    check(not os.path.isdir(bundles) or
          not [b for b in os.listdir(bundles) if b.startswith(sha)], os.listdir(bundles))
