"""The node's doors under abuse (issue 7, section 5): unauthenticated clients
that announce big bodies leave the node's memory bounded and slow bodies are
cut; a thousand idle clients under the default open file limit do not stop
the node from serving, and one address cannot hold more than its share of
connections; a flood of half-open Raft connections does not leave a cluster
without a leader; a bad join token costs no Raft entry. SigV4: Lambda's auth
failures in its own JSON protocol (boto3 and the aws cli show the code), the
credential scope's region must be the node's, the gateway's IAM routes take
only the execute-api scope, and UNSIGNED-PAYLOAD only S3."""
import hashlib
import json
import resource
import select
import socket
import subprocess
import threading
import time

from owstest import (Node, OWSD, aws_cli, boto3_client, check, cluster3_shared_root, deploy, http,
                     keygen, root_creds, started, tmpdir, wait_for, write_json)

MIB = 1024 * 1024


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def metric(node, name):
    st, body = http(node.edge, "GET", "/metrics")
    check(st == 200, st)
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric %s" % name)


def connect_from(src, addr, timeout=10):
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, int(port)))
    return s


def closed_by_peer(s, timeout):
    """Whether the node closes s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def sigv4_headers(method, url, body, key, secret, service, region, extra=None):
    """Headers of a request signed with botocore's own SigV4 signer."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers=dict(extra or {}))
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret),
                            service, region).add_auth(req)
    return dict(req.headers)


def boto_client(service, node, key, secret, region="us-east-1"):
    """One attempt only: the tests look at the first answer."""
    return boto3_client(node, service, (key, secret), region=region, retries=1)


def client_error(fn, **kw):
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"].get("Message", ""),
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    return None


# ---- bodies ----

def test_unauthenticated_big_bodies_leave_rss_bounded():
    """150 connections announce 6 MiB and push all the body the node takes:
    Lambda calls with an unknown key, admin calls with no signature. Once the
    node held every byte before any check (+130 MB); now it answers from the
    head and reads at most a small body."""
    n = started()
    before = rss_kb(n.proc.pid)
    amz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    fake = ("AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNUNKNOWN000/%s/us-east-1/lambda/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=%s" % (amz[:8], "0" * 64))
    socks = []
    for i in range(150):
        s = connect_from("127.0.0.1", n.edge)
        if i % 2:
            head = ("POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: %s\r\n"
                    "X-Amz-Date: %s\r\nAuthorization: %s\r\n" % (n.edge, amz, fake))
        else:
            head = "POST /_ows/v1/changesets HTTP/1.1\r\nHost: %s\r\n" % n.edge
        s.sendall((head + "Content-Length: %d\r\n\r\n" % (6 * MIB)).encode())
        s.setblocking(False)
        socks.append(s)
    chunk = b"x" * 65536
    sent = [0] * len(socks)
    live = set(range(len(socks)))
    give_up = time.time() + 60
    while live and time.time() < give_up:
        progress = False
        for i in list(live):
            try:
                k = socks[i].send(chunk)
                sent[i] += k
                progress = progress or k > 0
                if sent[i] >= MIB:
                    live.discard(i)
            except BlockingIOError:
                pass
            except OSError:
                live.discard(i)
        if not progress:
            time.sleep(0.02)
    grown_mb = (rss_kb(n.proc.pid) - before) / 1024
    for s in socks:
        s.close()
    check(grown_mb < 40, "node RSS grew %.1f MB for %d MB sent" % (grown_mb, sum(sent) // MIB))
    check(n.healthy())


def test_trickled_body_is_cut():
    """A signed request whose body comes a byte every half second: the body
    deadline does not restart on each byte, so the node cuts it (it used to
    wait for ever, one byte at a time)."""
    n = started()
    kid, secret = root_creds(n)
    url = "http://%s/2015-03-31/functions/f/invocations" % n.edge
    body = b"{" + b" " * 998 + b"}"
    hs = sigv4_headers("POST", url, body, kid, secret, "lambda", "us-east-1")
    s = connect_from("127.0.0.1", n.edge)
    head = "POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: %s\r\n" % n.edge
    head += "".join("%s: %s\r\n" % kv for kv in hs.items() if kv[0].lower() != "content-length")
    s.sendall((head + "Content-Length: %d\r\n\r\n" % len(body)).encode())
    cut = False
    for i in range(180):  # 90 s of the 500 the whole body would take
        r, _, _ = select.select([s], [], [], 0.5)
        if r:
            cut = True
            break
        try:
            s.send(body[i:i + 1])
        except OSError:
            cut = True
            break
    check(cut, "a body trickled for 90 s was not cut")
    check(closed_by_peer(s, 10))
    s.close()
    check(n.healthy())


# ---- connections ----

def test_idle_connections_past_the_default_file_limit():
    """1,100 idle connections (from five loopback addresses, under the
    per-address cap) to a node started with the usual soft limit of 1024
    open files: a request on a new connection is still served."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    check(hard >= 1400, "the test needs a hard open file limit of 1400, not %d" % hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = Node()
    n.init()
    logf = open(n.log, "a")
    n.proc = subprocess.Popen(
        [OWSD, "run", "-d", n.dir], stdout=logf, stderr=subprocess.STDOUT, env=n.env,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard)))
    logf.close()
    wait_for(n.healthy, 30, "node to serve")
    socks = []
    try:
        for i in range(1100):
            socks.append(connect_from("127.0.0.%d" % (10 + i % 5), n.edge))
        wait_for(lambda: metric(n, 'ows_http_connections{port="edge"}') >= 1100, 30,
                 "the node to accept 1100 connections")
        st, body = http(n.edge, "GET", "/_ows/v1/health", timeout=10)
        check(st == 200, (st, body))
        check(n.status()["node"]["role"] == "leader")
        check(metric(n, 'ows_http_connections_refused_total{port="edge",reason="total"}') == 0)
    finally:
        for s in socks:
            s.close()


def test_connections_per_address_are_capped():
    """Past 256 connections from one address, the next ones are closed at
    once and counted; other addresses are served."""
    n = started()
    socks = [connect_from("127.0.0.20", n.edge) for _ in range(300)]
    try:
        wait_for(lambda: metric(
            n, 'ows_http_connections_refused_total{port="edge",reason="per_address"}') == 44,
            30, "44 connections refused")
        closed = sum(1 for s in socks if closed_by_peer(s, 0.05))
        check(closed == 44, closed)
        s = connect_from("127.0.0.21", n.edge)
        s.sendall(b"GET /_ows/v1/health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        s.settimeout(10)
        check(s.recv(100).startswith(b"HTTP/1.1 200"))
        s.close()
    finally:
        for s in socks:
            s.close()


# ---- Raft ----





class HalfOpenFlood(threading.Thread):
    """Keeps `per_target` connections open to each Raft port from one
    address, sending nothing, and opens new ones as the node closes them."""

    def __init__(self, targets, per_target=100, src="127.0.0.30"):
        super().__init__(daemon=True)
        self.targets, self.per_target, self.src = targets, per_target, src
        self.stop = threading.Event()
        self.opened = 0

    def run(self):
        held = {t: [] for t in self.targets}
        while not self.stop.is_set():
            for t, socks in held.items():
                while len(socks) < self.per_target and not self.stop.is_set():
                    try:
                        socks.append(connect_from(self.src, t, timeout=0.5))
                        self.opened += 1
                    except OSError:
                        break
            every = [s for socks in held.values() for s in socks]
            r, _, _ = select.select(every, [], [], 0.05) if every else ([], [], [])
            for s in r:
                try:
                    gone = s.recv(4096) == b""
                except OSError:
                    gone = True
                if gone:
                    s.close()
                    for socks in held.values():
                        if s in socks:
                            socks.remove(s)
            if not every:
                time.sleep(0.05)
        for socks in held.values():
            for s in socks:
                s.close()


def test_raft_handshake_flood_keeps_a_leader():
    """While a client holds as many half-open connections to every Raft
    port as it can, the three nodes restart: they must still reach each
    other, elect a leader and accept writes."""
    nodes = cluster3_shared_root()
    flood = HalfOpenFlood([n.raft for n in nodes])
    flood.start()
    try:
        wait_for(lambda: flood.opened >= 300, 30, "the flood to hold connections")
        for n in nodes:
            n.stop()
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            wait_for(n.healthy, 30, "node %s to serve" % n.edge)

        def leader():
            for n in nodes:
                st = n.status()
                if st["node"]["role"] == "leader":
                    return n
            return None
        lead = wait_for(leader, 60, "a leader under the flood")
        lead.ows("apply", write_json({"stack": "flood", "users": {"u": {}}}), "--yes")
        check(flood.is_alive() and flood.opened > 300, flood.opened)
    finally:
        flood.stop.set()
        flood.join(10)


def test_bad_join_token_costs_no_raft_entry():
    n = started()
    before = n.status()
    p = Node(tmpdir()).join(n, "0" * 64)
    check(p.returncode != 0 and "unknown, used or expired" in p.stderr, p.stderr)
    after = n.status()
    check(after["commit_index"] == before["commit_index"], (before, after))
    check(after["ledger"]["rejected"] == before["ledger"]["rejected"], (before, after))
    # A good token still works (and is one entry).
    tok = n.ows("node", "token").stdout.strip()
    p = Node(tmpdir()).join(n, tok)
    check(p.returncode == 0, p.stderr)


# ---- SigV4 and protocol errors ----

def test_lambda_auth_errors_are_json_with_their_codes():
    n = started()
    kid, secret = root_creds(n)
    lam = boto_client("lambda", n, "AKIAUNKNOWNUNKNOWN000", secret)
    e = client_error(lam.list_functions)
    check(e and e[0] == "UnrecognizedClientException" and e[2] == 403, e)
    lam = boto_client("lambda", n, kid, "wrong" * 8)
    e = client_error(lam.get_function, FunctionName="nope")
    check(e and e[0] == "InvalidSignatureException" and e[2] == 403, e)
    n.ows("apply", write_json({"stack": "s", "users": {"dev": {}}}), "--yes")
    dev = n.ows_json("key", "access", "create", "dev")
    lam = boto_client("lambda", n, dev["access_key_id"], dev["secret_access_key"])
    e = client_error(lam.list_functions)
    check(e and e[0] == "AccessDeniedException" and e[2] == 403, e)
    # Unsigned: the JSON shape too.
    st, body = http(n.edge, "GET", "/2015-03-31/functions/")
    check(st == 403 and json.loads(body)["__type"] == "MissingAuthenticationTokenException",
          (st, body))
    # The aws cli shows the code.
    p = aws_cli(n, ("AKIAUNKNOWNUNKNOWN000", secret), "lambda", "list-functions")
    check(p.returncode != 0 and "UnrecognizedClientException" in p.stderr, p.stderr)
    # STS keeps its XML.
    sts = boto_client("sts", n, kid, "wrong" * 8)
    e = client_error(sts.get_caller_identity)
    check(e and e[0] == "SignatureDoesNotMatch" and e[2] == 403, e)


def test_wrong_region_is_refused():
    n = started()
    kid, secret = root_creds(n)
    e = client_error(boto_client("sts", n, kid, secret, "us-west-2").get_caller_identity)
    check(e and e[0] == "SignatureDoesNotMatch" and "scoped to a valid region" in e[1], e)
    e = client_error(boto_client("lambda", n, kid, secret, "eu-west-1").list_functions)
    check(e and e[0] == "InvalidSignatureException" and "scoped to a valid region" in e[1], e)
    # The node's own region works.
    check(boto_client("sts", n, kid, secret).get_caller_identity()["Arn"].endswith("user/root"))
    boto_client("lambda", n, kid, secret).list_functions()


def test_unsigned_payload_only_for_s3():
    """STS with x-amz-content-sha256: UNSIGNED-PAYLOAD is refused (only S3
    takes a body its signature does not cover); the body's real hash
    passes, and a hash that is not the body's is refused."""
    n = started()
    kid, secret = root_creds(n)
    url = "http://%s/" % n.edge
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}

    def call(sha):
        extra = dict(ctype, **{"X-Amz-Content-SHA256": sha})
        hs = sigv4_headers("POST", url, body, kid, secret, "sts", "us-east-1", extra)
        return http(n.edge, "POST", "/", body, hs)
    st, resp = call("UNSIGNED-PAYLOAD")
    check(st == 403 and b"<Code>SignatureDoesNotMatch</Code>" in resp, (st, resp))
    st, resp = call(hashlib.sha256(body).hexdigest())
    check(st == 200 and b"user/root" in resp, (st, resp))
    st, resp = call(hashlib.sha256(b"other").hexdigest())
    check(st == 400 and b"XAmzContentSHA256Mismatch" in resp, (st, resp))


APP = '''
def handler(event, context):
    return {"statusCode": 200, "body": "inside"}
'''


def test_gateway_iam_routes_take_only_the_execute_api_scope():
    n = started()
    k, pub = keygen()
    stack = {"stack": "web", "functions": {
        "api": {"runtime": "python3", "handler": "app.handler", "code": "./py"}},
        "routes": {"GET /private": {"function": "api", "auth": "iam"}},
        "users": {"alice": {"public_keys": [pub], "policies": ["invoke"]}},
        "policies": {"invoke": {"Statement": [{
            "Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": "arn:ows:execute-api::route/GET /private"}]}}}
    deploy(n, stack, {"py/app.py": APP})
    alice = n.ows_json("key", "access", "create", "alice")
    url = "http://%s/private" % n.gateway

    def get(service, region="us-east-1"):
        hs = sigv4_headers("GET", url, b"", alice["access_key_id"],
                           alice["secret_access_key"], service, region)
        return http(n.gateway, "GET", "/private", b"", hs, timeout=60)
    st, body = get("execute-api")
    check(st == 200 and body == b"inside", (st, body))
    st, body = get("lambda")
    check(st == 403, (st, body))
    st, body = get("execute-api", "us-west-2")
    check(st == 403, (st, body))
