"""make bench, S3 sections (run by bench/run). Every number is printed next
to a named peer measured in the same run on the same machine; nothing here
passes or fails. The OWS nodes are this script's own (one fresh node, and a
fresh three-node cluster for s3-put), so that no other section's state or
processes weigh on them.

  s3-get   GetObject of a 1 MiB and a 4 KiB object through a presigned URL
           (boto3's presigner, path style) vs nginx serving the same bytes
           as static files (sendfile on): wrk -t2 -cCONNS, same duration,
           ROUNDS alternating rounds (each side first in turn), medians;
           req/s, MB/s and the ratio (issue 10's target: >= 0.9 of nginx
           for 1 MiB)
  s3-put   PutObject of PUT_SIZE-byte objects (each body different, each
           request SigV4-signed over its body's SHA-256) from CONNS
           concurrent clients (bench/s3load, a C load generator using
           libows's signer) on one node and on three (through node 1; the
           blob durable on 3 nodes before the entry commits) vs nginx's
           WebDAV PUT to local disk (dav_methods PUT; nginx does not fsync)
           and vs moto_server (in memory) where it is installed; objects/s,
           p50/p99. The client's own ceiling is printed too: the same
           requests against nginx discarding the body
  s3-big   one BIG_MB object: PUT streamed from a file (one PutObject,
           sendfile, its SHA-256 computed before the clock starts, as the
           aws cli signs a body over plain HTTP; and again with
           UNSIGNED-PAYLOAD, as presigned URLs and curl send it) and GET
           to a file and to /dev/null, MB/s, vs cp of the same file on the
           same disk (with and without fsync of the copy) and cat > /dev/null;
           the same client's PUT and GET against nginx are printed as its
           ceiling

Environment: BENCH_DIR (scratch, removed by bench/run), BENCH_SECONDS (each
timed run, 5), BENCH_CONNS (32), BENCH_PUT_SIZE (4096), BENCH_BIG_MB (1024;
0 skips s3-big), BENCH_S3_CLUSTER (1; 0 skips the three-node run),
BENCH_S3_SECTIONS ("get put big"), BENCH_ROUNDS (s3-get's alternating
rounds, medians; 3).
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
W = os.path.join(os.environ["BENCH_DIR"], "s3")
SECS = os.environ.get("BENCH_SECONDS", "5")
CONNS = int(os.environ.get("BENCH_CONNS", "32"))
PUT_SIZE = int(os.environ.get("BENCH_PUT_SIZE", "4096"))
BIG_MB = int(os.environ.get("BENCH_BIG_MB", "1024"))
CLUSTER = os.environ.get("BENCH_S3_CLUSTER", "1") != "0"
SECTIONS = os.environ.get("BENCH_S3_SECTIONS", "get put big").split()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
OWSD = os.path.join(ROOT, "bin", "owsd")
OWS = os.path.join(ROOT, "bin", "ows")
S3LOAD = os.path.join(W, "s3load")
REGION = "us-east-1"
PROCS = []


def stop(*_):
    raise SystemExit(1)


signal.signal(signal.SIGTERM, stop)


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def spawn(argv, log=None, **kw):
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **kw)
    PROCS.append(p)
    return p


def wait_for(fn, secs=30):
    end = time.time() + secs
    while time.time() < end:
        try:
            if fn():
                return True
        except Exception:  # noqa: BLE001 (retry on anything until the end)
            pass
        time.sleep(0.1)
    return False


def wait_port(p, secs=10):
    return wait_for(lambda: socket.create_connection(("127.0.0.1", p), 0.2).close() or True,
                    secs)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)


# ---- OWS nodes ----

class Node:
    def __init__(self, name):
        self.dir = os.path.join(W, name)
        self.edge = "127.0.0.1:%d" % port()
        self.addrs = ["--edge", self.edge, "--gateway", "127.0.0.1:%d" % port(),
                      "--raft", "127.0.0.1:%d" % port()]
        self.proc = None

    def start(self):
        self.proc = spawn([OWSD, "run", "-d", self.dir], log=self.dir + ".log")
        if not wait_for(lambda: curl_status("http://%s/_ows/v1/health" % self.edge) == 200):
            raise SystemExit("s3 bench: node %s did not start (see %s.log)"
                             % (self.edge, self.dir))

    def ows(self, *args):
        env = dict(os.environ, OWS_ENDPOINT=self.edge,
                   OWS_KEY=os.path.join(W, "n1", "root.key"))
        return subprocess.run([OWS] + list(args), env=env, capture_output=True,
                              text=True, check=True).stdout

    def creds(self):
        with open(os.path.join(W, "n1", "credentials")) as f:
            text = f.read()
        return (text.split("aws_access_key_id = ")[1].split()[0],
                text.split("aws_secret_access_key = ")[1].split()[0])

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


def first_node():
    n = Node("n1")
    subprocess.run([OWSD, "init", "-d", n.dir] + n.addrs, check=True,
                   stdout=subprocess.DEVNULL)
    n.start()
    return n


def join(n1, i):
    n = Node("n%d" % i)
    tok = n1.ows("node", "token").strip()
    subprocess.run([OWSD, "join", "-d", n.dir, "--peer", n1.edge, "--token", tok] + n.addrs,
                   check=True, stdout=subprocess.DEVNULL)
    n.start()
    return n


def voters(n1):
    st = json.loads(n1.ows("--json", "status"))
    return sorted(s["id"] for s in st["configuration"] if s["role"] == "voter")


def curl_status(url):
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w",
                        "%{http_code}", url], capture_output=True, text=True)
    return int(p.stdout or 0)


def s3(edge, key):
    """A boto3 client for the S3 endpoint edge (host:port)."""
    import boto3
    import botocore.config
    # Path style, SigV4, and checksums only where S3 requires them: the
    # objects here are set up, not measured.
    cfg = botocore.config.Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                 request_checksum_calculation="when_required",
                                 response_checksum_validation="when_required")
    return boto3.client("s3", endpoint_url="http://" + edge, region_name=REGION,
                        aws_access_key_id=key[0], aws_secret_access_key=key[1], config=cfg)


# ---- peers ----

def nginx(root):
    """nginx, one worker (as edge-http): static files under root (sendfile),
    WebDAV PUT under /dav/, and /discard/ answering 201 without storing
    (the load generator's ceiling). Returns its port."""
    p = port()
    conf = os.path.join(W, "nginx.conf")
    # The worker must reach the scratch directory (mode 0700 under /tmp).
    user = "user root;\n" if os.geteuid() == 0 else ""
    write(conf, """%(user)sworker_processes 1;
pid %(w)s/nginx.pid;
error_log %(w)s/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    client_body_temp_path %(w)s/nginx-tmp;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:%(p)d;
        root %(root)s;
        location /dav/ { dav_methods PUT; create_full_put_path on; }
        location /discard/ { return 201; }
    }
}
""" % {"user": user, "w": W, "p": p, "root": root})
    os.makedirs(os.path.join(W, "nginx-tmp"), exist_ok=True)
    spawn(["nginx", "-c", conf, "-g", "daemon off;"])
    if not wait_port(p):
        raise SystemExit("s3 bench: nginx did not start (see %s/nginx.err)" % W)
    return p


def moto():
    """moto_server on a port of its own, or None when it is not installed."""
    exe = shutil.which("moto_server") or "/root/.pyenv/shims/moto_server"
    if not os.path.exists(exe):
        return None
    p = port()
    spawn([exe, "-H", "127.0.0.1", "-p", str(p)])
    return p if wait_port(p, 30) else None


# ---- measuring ----

def build_s3load():
    lib = os.path.join(ROOT, "build", "libows.a")
    subprocess.run(["cc", "-O2", "-std=gnu11", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "src"),
                    "-o", S3LOAD, os.path.join(ROOT, "bench", "s3load.c"), lib,
                    "-lcrypto", "-lpthread"], check=True)


def s3load(args, key=None, unsigned=False):
    """The load generator's result as a dict (requests, errors, rate,
    p50_ms, p99_ms, mbps, seconds; first_error when any failed)."""
    env = dict(os.environ)
    env.pop("S3LOAD_KEY", None)
    env.pop("S3LOAD_UNSIGNED", None)
    if unsigned:
        env["S3LOAD_UNSIGNED"] = "1"
    if key:
        env["S3LOAD_KEY"] = "%s %s" % key
    p = subprocess.run([S3LOAD] + args, capture_output=True, text=True, env=env)
    r = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", p.stdout)}
    if not r:
        r = {"requests": 0, "errors": 1, "rate": 0, "p50_ms": 0, "p99_ms": 0, "mbps": 0,
             "seconds": 0}
    if p.returncode != 0:
        err = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[0]
        m = re.search(r"first error: (-?\d+) .*?<Code>(.*?)</Code>", err)
        r["first_error"] = "%s %s" % m.groups() if m else err[:200]
    return r


def wrk(url):
    """(req/s, MB/s, non-2xx count, socket errors) of one wrk run."""
    out = subprocess.run(["wrk", "-t2", "-c%d" % CONNS, "-d" + SECS, url],
                         capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    mbs = float(m.group(1)) * {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[
        m.group(2)] / 1e6
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return rps, mbs, int(bad.group(1)) if bad else 0, errs.group(1) if errs else ""


def median_run(rs):
    """Field by field medians of wrk results; failures and errors summed."""
    return (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs),
            sum(r[2] for r in rs), "; ".join(r[3] for r in rs if r[3]))


def ratio(a, b):
    return "%.3f" % (a / b) if b else "n/a"


def show_wrk(name, r):
    extra = ""
    if r[2]:
        extra += "  (%d non-2xx answers)" % r[2]
    if r[3]:
        extra += "  (socket errors: %s)" % r[3]
    print("%-34s %9.0f req/s  %8.1f MB/s%s" % (name, r[0], r[1], extra))


def show_put(name, r):
    extra = ""
    if r.get("errors"):
        extra = "  (%d failed: %s)" % (r["errors"], r.get("first_error", ""))
    print("%-34s %8.0f objects/s   p50 %7.2f ms   p99 %7.2f ms%s" %
          (name, r["rate"], r["p50_ms"], r["p99_ms"], extra))


# ---- sections ----

def section_get(node, key, www, ng):
    print("== s3-get: GetObject through a presigned URL vs nginx static file, same bytes "
          "(wrk -t2 -c%d -d%ss, %d alternating rounds, medians)" % (CONNS, SECS, ROUNDS))
    c = s3(node.edge, key)
    c.create_bucket(Bucket="bench-get")
    for name, size in (("obj-1m", 1 << 20), ("obj-4k", 4096)):
        data = os.urandom(size)
        c.put_object(Bucket="bench-get", Key=name, Body=data)
        write(os.path.join(www, "bench-get", name), data)
        url = c.generate_presigned_url("get_object", Params={"Bucket": "bench-get", "Key": name},
                                       ExpiresIn=3600)
        got = subprocess.run(["curl", "-s", "--max-time", "10", url], capture_output=True).stdout
        if got != data:
            print("%s: FAILED, the presigned GET did not return the object's bytes "
                  "(%d bytes back: %r)" % (name, len(got), got[:200]))
            continue
        # Alternating rounds, medians: a shared machine drifts, and whoever
        # always ran second would pay for it.
        runs = {"ows": [], "nginx": []}
        order = [("ows", url), ("nginx", "http://127.0.0.1:%d/bench-get/%s" % (ng, name))]
        for i in range(ROUNDS):
            for side, u in (order if i % 2 == 0 else order[::-1]):
                runs[side].append(wrk(u))
        o, n = median_run(runs["ows"]), median_run(runs["nginx"])
        show_wrk("ows GetObject %s" % name[4:], o)
        show_wrk("nginx static %s" % name[4:], n)
        print("ratio ows/nginx %s: req/s %s   MB/s %s%s" %
              (name[4:], ratio(o[0], n[0]), ratio(o[1], n[1]),
               "   (target >= 0.9)" if size == 1 << 20 else ""))


def put_run(url, key=None):
    return s3load(["-c", str(CONNS), "-d", SECS, "-s", str(PUT_SIZE), "PUT", url], key)


def section_put(node, key, ng, mo):
    print("== s3-put: PutObject of %d-byte objects, %d concurrent clients (bench/s3load, "
          "SigV4 over each body's SHA-256), %s s each" % (PUT_SIZE, CONNS, SECS))
    s3(node.edge, key).create_bucket(Bucket="bench-put")
    res = {}
    res["ceiling"] = put_run("http://127.0.0.1:%d/discard/o" % ng, key)
    res["ows1"] = put_run("http://%s/bench-put/o" % node.edge, key)
    res["nginx"] = put_run("http://127.0.0.1:%d/dav/o" % ng, key)
    if mo:
        mkey = ("testing", "testing")
        s3("127.0.0.1:%d" % mo, mkey).create_bucket(Bucket="bench-put")
        res["moto"] = put_run("http://127.0.0.1:%d/bench-put/o" % mo, mkey)
    if CLUSTER:
        res["ows3"] = cluster_put()
    show_put("client ceiling (nginx, no store)", res["ceiling"])
    show_put("ows, 1 node", res["ows1"])
    if "ows3" in res:
        show_put("ows, 3 nodes (via node 1)", res["ows3"])
    show_put("nginx WebDAV PUT (no fsync)", res["nginx"])
    if "moto" in res:
        show_put("moto_server (in memory)", res["moto"])
    else:
        print("moto_server: not installed, skipped")
    for name in ("ows1", "ows3"):
        if name not in res:
            continue
        r = res[name]
        label = "ows %s node%s" % (name[3], "s" if name == "ows3" else "")
        print("ratio %s / nginx: objects/s %s   p50 %s   p99 %s" %
              (label, ratio(r["rate"], res["nginx"]["rate"]),
               ratio(r["p50_ms"], res["nginx"]["p50_ms"]),
               ratio(r["p99_ms"], res["nginx"]["p99_ms"])))
        if "moto" in res:
            print("ratio %s / moto_server: objects/s %s   p50 %s   p99 %s" %
                  (label, ratio(r["rate"], res["moto"]["rate"]),
                   ratio(r["p50_ms"], res["moto"]["p50_ms"]),
                   ratio(r["p99_ms"], res["moto"]["p99_ms"])))
    c = res["nginx"]["rate"] / res["ceiling"]["rate"] if res["ceiling"]["rate"] else 1
    print("ratio nginx / client ceiling: objects/s %.3f (%s)" %
          (c, "under 0.8: the client is not the bottleneck" if c < 0.8 else
           "the client may be the bottleneck of these numbers"))


def cluster_put():
    """The same PUT run on a fresh three-node cluster, through node 1."""
    global W
    outer = W
    W = os.path.join(outer, "cluster")
    os.makedirs(W)
    nodes = []
    try:
        n1 = first_node()
        nodes = [n1, join(n1, 2)]
        nodes.append(join(n1, 3))
        if not wait_for(lambda: voters(n1) == [1, 2, 3], 60):
            return {"requests": 0, "errors": 1, "rate": 0, "p50_ms": 0, "p99_ms": 0,
                    "first_error": "the cluster did not reach three voters"}
        key = n1.creds()
        s3(n1.edge, key).create_bucket(Bucket="bench-put")
        return put_run("http://%s/bench-put/o" % n1.edge, key)
    finally:
        for n in nodes:
            n.stop()
        W = outer


def timed(argv, **kw):
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, **kw)
    return time.perf_counter() - t0


def section_big(node, key, ng):
    size = BIG_MB << 20
    print("== s3-big: one %d MiB object, PUT (one PutObject streamed from a file) and GET, "
          "vs cp and cat on the same disk (sync before each)" % BIG_MB)
    src, back, cpy = (os.path.join(W, n) for n in ("big.src", "big.get", "big.cp"))
    block = os.urandom(1 << 20)
    with open(src, "wb") as f:
        for _ in range(BIG_MB):
            f.write(block)
    s3(node.edge, key).create_bucket(Bucket="bench-big")
    url = "http://%s/bench-big/big" % node.edge
    # Each step starts with no dirty pages of the one before, whose
    # writeback would otherwise be charged to it.
    os.sync()
    put = s3load(["-f", src, "PUT", url], key)
    os.sync()
    put_u = s3load(["-f", src, "PUT", url + "-unsigned"], key, unsigned=True)
    os.sync()
    get = s3load(["-f", back, "GET", url], key)
    same = os.path.exists(back) and subprocess.run(["cmp", "-s", src, back]).returncode == 0
    os.unlink(back)
    os.sync()
    null = s3load(["-f", "/dev/null", "GET", url], key)
    # The same client against nginx (WebDAV PUT, then a static GET): the
    # client's own ceiling on this machine, not a peer of the ratio.
    nurl = "http://127.0.0.1:%d/dav/big" % ng
    os.sync()
    nput = s3load(["-f", src, "PUT", nurl])
    os.sync()
    nget = s3load(["-f", back, "GET", nurl])
    os.unlink(back)
    os.unlink(os.path.join(W, "www", "dav", "big"))
    os.sync()
    t_cp = timed(["cp", src, cpy])
    os.unlink(cpy)
    os.sync()
    t_cps = timed(["sh", "-c", 'cp "$1" "$2" && sync "$2"', "-", src, cpy])
    os.unlink(cpy)
    os.sync()
    t_cat = timed(["sh", "-c", 'cat "$1" > /dev/null', "-", src])
    os.unlink(src)
    for k in ("big", "big-unsigned"):
        s3(node.edge, key).delete_object(Bucket="bench-big", Key=k)
    cp, cps, cat = size / t_cp / 1e6, size / t_cps / 1e6, size / t_cat / 1e6

    def line(name, r):
        if r.get("errors"):
            print("%-34s FAILED: %s" % (name, r.get("first_error", "")))
        else:
            print("%-34s %8.1f MB/s" % (name, r["mbps"]))

    line("ows PutObject (signed payload)", put)
    line("ows PutObject (UNSIGNED-PAYLOAD)", put_u)
    line("ows GetObject to a file", get)
    line("ows GetObject to /dev/null", null)
    line("(client ceiling: nginx PUT)", nput)
    line("(client ceiling: nginx GET)", nget)
    print("%-34s %8.1f MB/s" % ("cp", cp))
    print("%-34s %8.1f MB/s" % ("cp + fsync of the copy", cps))
    print("%-34s %8.1f MB/s" % ("cat > /dev/null", cat))
    if not get.get("errors") and not same:
        print("GetObject: FAILED, the bytes read back differ from the bytes written")
    print("ratio ows PUT / cp + fsync: %s   / cp: %s   (UNSIGNED-PAYLOAD: %s, %s)" %
          (ratio(put["mbps"], cps), ratio(put["mbps"], cp), ratio(put_u["mbps"], cps),
           ratio(put_u["mbps"], cp)))
    print("ratio ows GET to a file / cp: %s   GET to /dev/null / cat: %s" %
          (ratio(get["mbps"], cp), ratio(null["mbps"], cat)))


def main():
    os.makedirs(W)
    build_s3load()
    www = os.path.join(W, "www")
    os.makedirs(os.path.join(www, "dav"))
    ng = nginx(www)
    node = first_node()
    key = node.creds()
    if "get" in SECTIONS:
        section_get(node, key, www, ng)
    if "put" in SECTIONS:
        section_put(node, key, ng, moto())
    if "big" in SECTIONS and BIG_MB > 0:
        section_big(node, key, ng)
    node.stop()


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.terminate()
        for p in PROCS:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.stdout.flush()
