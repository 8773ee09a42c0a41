"""Integration-test helpers: real owsd processes on loopback, the real ows
client, raw HTTP, and Ed25519 signing through the openssl command line (so
that tests can craft change sets that ows would never send).

For a test of an AWS-compatible service, the usual start is:

    n = started()                                    # one node, serving
    deploy(n, {"stack": "s", "functions": {...}},    # files, then ows apply
           files={"py/app.py": CODE})
    key = root_creds(n)                              # (key id, secret)
    p = aws_cli(n, key, "lambda", "list-functions")  # aws cli v1 (PATH)
    p = aws_cli(n, key, "sts", "get-caller-identity", debian=True)  # 2.9
    c = boto3_client(n, "lambda", key)               # boto3 of this Python
    r = js_json(n, key, JS)                          # node + JS SDK v3

aws_env(n, key) is the environment all of them use. Every node a test
starts is stopped by cleanup(), which the runner calls after each test.
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("OWS_BIN", os.path.join(ROOT, "bin"))
if not os.path.isabs(BIN):
    BIN = os.path.join(ROOT, BIN)
OWSD = os.path.join(BIN, "owsd")
OWS = os.path.join(BIN, "ows")

_nodes = []
_dirs = []


class Skip(Exception):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def tmpdir():
    d = tempfile.mkdtemp(prefix="owstest-")
    _dirs.append(d)
    return d


_used_ports = set()


def free_port():
    """A loopback port nobody listens on now (and that we did not hand out)."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _used_ports:
            _used_ports.add(port)
            return port


def wait_for(fn, timeout=30, what="condition", interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 (retry on anything)
            last = e
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last error: %r)" % (what, last))


class Node:
    def __init__(self, base=None, env=None):
        self.dir = os.path.join(base or tmpdir(), "node")
        self.edge = "127.0.0.1:%d" % free_port()
        self.gateway = "127.0.0.1:%d" % free_port()
        self.raft = "127.0.0.1:%d" % free_port()
        self.proc = None
        self.env = dict(os.environ, **(env or {}))
        self.log = self.dir + ".log"
        _nodes.append(self)

    def addr_args(self):
        return ["--edge", self.edge, "--gateway", self.gateway, "--raft", self.raft]

    def init(self, root_key=None, extra=()):
        args = [OWSD, "init", "-d", self.dir] + self.addr_args() + list(extra)
        if root_key:
            args += ["--root-key", root_key]
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "owsd init failed: %s %s" % (p.stdout, p.stderr))
        return p.stdout

    def join(self, peer, token):
        p = subprocess.run([OWSD, "join", "-d", self.dir, "--peer", peer.edge,
                            "--token", token] + self.addr_args(),
                           capture_output=True, text=True, timeout=60)
        return p

    @property
    def root_key(self):
        return os.path.join(self.dir, "root.key")

    def start(self, wait=True):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([OWSD, "run", "-d", self.dir], stdout=logf,
                                     stderr=subprocess.STDOUT, env=self.env)
        logf.close()
        if wait:
            wait_for(self.healthy, 30, "node %s to serve" % self.edge)
        return self

    def healthy(self):
        st, body = http(self.edge, "GET", "/_ows/v1/health")
        return st == 200

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def ows(self, *args, key=None, check_rc=True, input=None):
        return ows(*args, endpoint=self.edge, key=key or self.root_key,
                   check_rc=check_rc, input=input)

    def ows_json(self, *args, key=None):
        p = self.ows("--json", *args, key=key)
        return json.loads(p.stdout)

    def status(self, key=None):
        return self.ows_json("status", key=key)


def ows(*args, endpoint=None, key=None, check_rc=True, input=None):
    env = dict(os.environ)
    if endpoint:
        env["OWS_ENDPOINT"] = endpoint
    if key:
        env["OWS_KEY"] = key
    p = subprocess.run([OWS] + list(args), capture_output=True, text=True,
                       env=env, timeout=120, input=input)
    if check_rc:
        check(p.returncode == 0, "ows %s failed (%d): %s %s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def keygen(path=None):
    path = path or os.path.join(tmpdir(), "user.key")
    p = ows("key", "gen", path)
    return path, p.stdout.strip()


def write_json(obj, name="stack.json"):
    path = os.path.join(tmpdir(), name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def http(addr, method, target, body=b"", headers=None, timeout=10):
    """One HTTP/1.1 request on a fresh connection: (status, body bytes)."""
    host, port = addr.rsplit(":", 1)
    if isinstance(body, str):
        body = body.encode()
    h = {"Host": addr, "Content-Length": str(len(body)), "Connection": "close"}
    h.update(headers or {})
    raw = "%s %s HTTP/1.1\r\n" % (method, target)
    raw += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
    return raw_http(addr, raw.encode() + body, timeout)


def applied(n):
    """Node n's last applied Raft index (its /metrics), or -1."""
    st, body = http(n.edge, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith("ows_raft_applied_index "):
            return int(line.split()[1])
    return -1


def raw_http(addr, data, timeout=10):
    """Send raw bytes, read the response until close: (status, body)."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    resp = b"".join(chunks)
    if not resp:
        return None, b""
    head, _, rest = resp.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), rest


# ---- a node, a stack on it, and AWS clients against it ----

AWS_CLI_DEBIAN = "/usr/bin/aws"       # aws cli 2.9: ignores AWS_ENDPOINT_URL
PYTHON_DEBIAN = "/usr/bin/python3"    # boto3 1.26 (make deps installs it)
REGION = "us-east-1"


def started(**node_kw):
    """A new single-node cloud: Node(**node_kw) (e.g. env={...}),
    initialized and serving. `owsd init`'s output is n.init_output."""
    n = Node(**node_kw)
    n.init_output = n.init()
    n.start()
    return n


def write_stack(stack, files=None, name="stack.json"):
    """A fresh directory holding files ({"py/app.py": text, ...}) and the
    stack (a dict; its code paths, like "./py", are relative to that
    directory) as JSON in name. Returns the stack file's path."""
    d = tmpdir()
    for rel, text in (files or {}).items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        json.dump(stack, f)
    return path


def deploy(node, stack, files=None, key=None, check_rc=True, name="stack.json"):
    """write_stack(stack, files, name), then `ows apply --yes` it on node,
    signed with key (the root key by default). Returns the ows process
    (checked for success unless check_rc is false)."""
    return node.ows("apply", write_stack(stack, files, name), "--yes", key=key,
                    check_rc=check_rc)


def root_creds(node):
    """The root access key that `owsd init` wrote: (key id, secret)."""
    with open(os.path.join(node.dir, "credentials")) as f:
        text = f.read()
    return (text.split("aws_access_key_id = ")[1].split()[0],
            text.split("aws_secret_access_key = ")[1].split()[0])


def aws_env(node, key=None):
    """The environment for an AWS client against node's edge: no config
    file, region us-east-1, no instance metadata, AWS_ENDPOINT_URL set;
    credentials from key, a (key id, secret[, session token]) tuple, or
    without one the node's credentials file (the root key)."""
    env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_DEFAULT_REGION=REGION,
               AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
               AWS_ENDPOINT_URL="http://" + node.edge,
               AWS_SHARED_CREDENTIALS_FILE=os.path.join(node.dir, "credentials"))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
              "AWS_PROFILE"):
        env.pop(k, None)
    if key:
        env.update(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])
        if len(key) > 2 and key[2]:
            env["AWS_SESSION_TOKEN"] = key[2]
    return env


def aws_cli(node, key, *args, debian=False, timeout=60):
    """Run the aws cli against node with aws_env(node, key) and
    --endpoint-url: the one on PATH (v1), or with debian Debian's 2.9
    (which ignores AWS_ENDPOINT_URL). Returns the process (text); check
    its returncode yourself."""
    if debian:
        check(os.path.exists(AWS_CLI_DEBIAN), "aws cli missing (make deps installs awscli)")
        exe = AWS_CLI_DEBIAN
    else:
        exe = shutil.which("aws") or AWS_CLI_DEBIAN
    return subprocess.run([exe, "--endpoint-url", "http://" + node.edge] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=aws_env(node, key))


def boto3_client(node, service, key=None, region=REGION, retries=None):
    """A boto3 client (this Python's boto3) for service on node's edge,
    with key (a (key id, secret[, token]) tuple; default: the root key).
    retries: botocore's max_attempts (None: botocore's default)."""
    import boto3
    import botocore.config
    key = key or root_creds(node)
    cfg = botocore.config.Config(retries={"max_attempts": retries}) \
        if retries is not None else None
    return boto3.client(service, endpoint_url="http://" + node.edge, region_name=region,
                        aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        aws_session_token=key[2] if len(key) > 2 else None,
                        config=cfg)


# ---- S3 clients: s3cmd and rclone (Debian packages) ----

def s3_env(node, key=None):
    """aws_env without the CA bundle variables that rclone cannot use
    over plain HTTP."""
    env = aws_env(node, key)
    env.pop("AWS_CA_BUNDLE", None)
    return env


def s3cmd_config(node, key=None, vhost=False):
    """An s3cmd config file for node's edge (path style, or virtual-host
    style under s3.localhost when vhost), key as aws_env takes it
    (default: the root key). Returns its path."""
    key = key or root_creds(node)
    port = node.edge.rsplit(":", 1)[1]
    path = os.path.join(tmpdir(), "s3cfg")
    with open(path, "w") as f:
        f.write("[default]\naccess_key = %s\nsecret_key = %s\n"
                "host_base = %s\nhost_bucket = %s\nuse_https = False\n"
                "signature_v2 = False\nbucket_location = us-east-1\n"
                "check_ssl_certificate = False\n"
                % (key[0], key[1], node.edge,
                   "%%(bucket)s.s3.localhost:%s" % port if vhost else node.edge))
    return path


def s3cmd(node, *args, key=None, config=None, timeout=60):
    """Run s3cmd against node (config: s3cmd_config's, made when None).
    Returns the process (text); check its returncode yourself."""
    config = config or s3cmd_config(node, key)
    return subprocess.run(["s3cmd", "-c", config] + list(args), capture_output=True,
                          text=True, timeout=timeout, env=s3_env(node, key))


def rclone_config(node, key=None, name="ows"):
    """An rclone config with an s3 remote `name` (provider Other, path
    style) for node's edge. Returns its path."""
    key = key or root_creds(node)
    path = os.path.join(tmpdir(), "rclone.conf")
    with open(path, "w") as f:
        f.write("[%s]\ntype = s3\nprovider = Other\naccess_key_id = %s\n"
                "secret_access_key = %s\nendpoint = http://%s\n"
                "region = us-east-1\nforce_path_style = true\n"
                % (name, key[0], key[1], node.edge))
    return path


def rclone(node, *args, key=None, config=None, timeout=60):
    """Run rclone with rclone_config's remote "ows" (made when config is
    None). Returns the process (text)."""
    config = config or rclone_config(node, key)
    return subprocess.run(["rclone", "--config", config] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          env=s3_env(node, key))


# ---- the AWS SDK for JavaScript v3 (installed by make deps) ----

JS_DIR = os.path.join(ROOT, "tests", "js")
JS_MODULES = os.path.join(JS_DIR, "node_modules")


def run_js(node, key, code, *args, timeout=60):
    """Run code (a CommonJS script, for /usr/bin/node) with the JS SDK v3
    of tests/js/node_modules resolvable (require("@aws-sdk/client-lambda"))
    and aws_env(node, key) as its environment (the SDK reads
    AWS_ENDPOINT_URL, the region and the credentials from it); args are
    process.argv[2:]. Returns the process (text). Fails at once when make
    deps has not installed the SDK."""
    check(os.path.isdir(os.path.join(JS_MODULES, "@aws-sdk", "client-lambda")),
          "the JS SDK v3 is missing from tests/js (make deps installs it)")
    path = os.path.join(tmpdir(), "script.js")
    with open(path, "w") as f:
        f.write(code)
    env = aws_env(node, key)
    env["NODE_PATH"] = JS_MODULES
    return subprocess.run(["/usr/bin/node", path] + list(args), capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=JS_DIR)


def js_json(node, key, code, *args, timeout=60):
    """run_js, which must succeed; its last line of stdout, parsed as
    JSON (print it with console.log(JSON.stringify(...)))."""
    p = run_js(node, key, code, *args, timeout=timeout)
    check(p.returncode == 0, "node script failed (%d): %s %s" % (
        p.returncode, p.stdout, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---- Ed25519 signing with the openssl command line ----

def sign(keyfile, data):
    d = tmpdir()
    msg = os.path.join(d, "msg")
    with open(msg, "wb") as f:
        f.write(data)
    p = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", keyfile,
                        "-rawin", "-in", msg], capture_output=True, check=True)
    return base64.b64encode(p.stdout).decode()


def pubkey(keyfile):
    p = subprocess.run(["openssl", "pkey", "-in", keyfile, "-pubout",
                        "-outform", "DER"], capture_output=True, check=True)
    return base64.b64encode(p.stdout[-32:]).decode()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def envelope(keyfile, cluster, actions, stack=None, nonce=None, t=None):
    cs = {"cluster": cluster, "nonce": nonce or os.urandom(16).hex(),
          "time": int(t if t is not None else time.time()), "actions": actions}
    if stack:
        cs["stack"] = stack
    return {"changeset": cs, "signatures": [
        {"key": pubkey(keyfile), "sig": sign(keyfile, canonical(cs))}]}


def auth_header(keyfile, method, target, body=b""):
    """The admin API's Authorization value (auth/reqsig.h) for a request."""
    if not isinstance(body, bytes):
        body = body.encode()
    t = int(time.time())
    sts = "OWS-Ed25519\n%d\n%s\n%s\n%s" % (t, method, target,
                                            hashlib.sha256(body).hexdigest())
    return "OWS-Ed25519 Key=%s, Time=%d, Signature=%s" % (
        pubkey(keyfile), t, sign(keyfile, sts.encode()))


def ddb_signed(node, key, op, data):
    """(url, headers, body) of a DynamoDB request of exactly these body
    bytes, SigV4-signed with key (access key id, secret) by botocore."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(
        method="POST", url="http://%s/" % node.edge, data=data,
        headers={"X-Amz-Target": "DynamoDB_20120810." + op,
                 "Content-Type": "application/x-amz-json-1.0"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(*key),
                            "dynamodb", REGION).add_auth(req)
    return req.url, dict(req.headers), req.body


def ddb_raw(node, key, op, data, timeout=120):
    """ddb_signed's request sent: (status, parsed reply)."""
    import urllib.error
    import urllib.request
    url, headers, body = ddb_signed(node, key, op, data)
    r = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def signed_request(node, keyfile, method, target, body=b""):
    if not isinstance(body, bytes):
        body = body.encode()
    auth = auth_header(keyfile, method, target, body)
    st, resp = http(node.edge, method, target, body,
                    {"Authorization": auth, "Content-Type": "application/json"})
    try:
        return st, json.loads(resp or b"null")
    except ValueError:
        return st, resp


# ---- clusters and networks of the tests' own ----

def voters(node):
    """The voters' ids, when the Raft configuration and the node table
    agree; else None."""
    st = node.status()
    conf = sorted(s["id"] for s in st["configuration"] if s["role"] == "voter")
    table = sorted(x["id"] for x in st["nodes"])
    return conf if conf == table else None


def cluster3_shared_root():
    """Three voters, each node directory holding the root key (so that
    n.ows works against any of them)."""
    base = tmpdir()
    n1 = Node(base + "/1")
    n1.init()
    n1.start()
    nodes = [n1]
    for i in (2, 3):
        tok = n1.ows("node", "token").stdout.strip()
        n = Node(base + "/%d" % i)
        p = n.join(n1, tok)
        check(p.returncode == 0, p.stderr)
        shutil.copy(n1.root_key, n.root_key)
        n.start()
        nodes.append(n)
    wait_for(lambda: voters(n1) == [1, 2, 3], 60, "three voters")
    return nodes


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, capture_output=True)


def other_host(ns, host_if, ns_if, net, route=False):
    """A machine of the test's own: network namespace ns joined to the host
    by a veth pair, the host at net.1/30, the namespace at net.2/30 (with
    a default route back through the host when route)."""
    ip("netns", "add", ns)
    ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
    ip("link", "set", ns_if, "netns", ns)
    ip("addr", "add", net + ".1/30", "dev", host_if)
    ip("link", "set", host_if, "up")
    ip("-n", ns, "addr", "add", net + ".2/30", "dev", ns_if)
    ip("-n", ns, "link", "set", ns_if, "up")
    ip("-n", ns, "link", "set", "lo", "up")
    if route:
        ip("-n", ns, "route", "add", "default", "via", net + ".1")


# ---- cleanup ----

# ---- memory ----

def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def sanitized(pid):
    """Whether the process runs under a sanitizer, whose own allocator
    (quarantine, shadow memory) is not the node's memory."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return "libasan" in maps or "libubsan" in maps or "libtsan" in maps


class Peak:
    """The node's peak RSS growth from now on, in bytes."""

    def __init__(self, node):
        self.pid = node.proc.pid
        try:
            # 5: reset the peak RSS to the current RSS (proc(5), clear_refs).
            with open("/proc/%d/clear_refs" % self.pid, "w") as f:
                f.write("5")
            self.base = status_kb(self.pid, "VmRSS")
        except OSError:
            self.base = status_kb(self.pid, "VmHWM")

    def growth(self):
        return (status_kb(self.pid, "VmHWM") - self.base) * 1024

    def check(self, limit, what, enforce):
        """Print the growth; with enforce, fail when it reached limit bytes."""
        g = self.growth()
        print("  %s: node peak RSS grew by %.1f MiB" % (what, g / (1 << 20)))
        if enforce:
            check(g < limit, "%s: the node's peak RSS grew by %.1f MiB (limit %d MiB)"
                  % (what, g / (1 << 20), limit >> 20))


def dump_logs():
    for n in _nodes:
        try:
            with open(n.log) as f:
                tail = f.read()[-4000:]
            print("---- %s (%s) ----\n%s" % (n.log, n.edge, tail))
        except OSError:
            pass


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "Assertion `")


def cleanup():
    """Stop every node (SIGTERM, so that LeakSanitizer runs) and return the
    problems found: a node that did not exit cleanly, or a sanitizer or
    assertion report in any node's log."""
    problems = []
    for n in _nodes:
        if n.proc is not None:
            rc = n.stop(signal.SIGTERM, timeout=30)
            if rc != 0:
                problems.append("%s exited %s on SIGTERM" % (n.log, rc))
        try:
            with open(n.log, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for mark in SANITIZER_MARKS:
            if mark in text:
                i = text.index(mark)
                problems.append("%s: %s" % (n.log, text[max(0, i - 200):i + 3000]))
                break
    _nodes.clear()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)
    _dirs.clear()
    return problems
