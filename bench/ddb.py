"""make bench, DynamoDB sections (run by bench/run, BENCH_ONLY=ddb). Every
number is printed next to a named peer measured in the same run on the same
machine, by the same client (bench/ddbload, a C load generator signing
SigV4 with libows's signer) at the same concurrency; nothing here passes or
fails. The OWS nodes and the etcd members are this script's own, fresh.

  ddb-put    PutItem of ~1 KB items (distinct keys, each request signed over
             its body) from CONNS clients: one OWS node, three OWS nodes
             (clients spread over all three, and all through the leader),
             vs etcd's put through its v3 JSON gateway (one member, and
             three members on loopback, clients spread over them) and vs
             moto_server (in memory) where installed. puts/s, p50/p99, and
             the ratios (issue 11's target: three-node PutItem >= 5x etcd's
             three-node puts/s). Then the batching the runs reached: entries
             per Raft log write (one fsync) and per SQLite apply transaction,
             from each node's /metrics before and after each run.
  ddb-get    GetItem (eventually consistent) of keys written before, vs
             nginx answering a static ~1 KB body (one worker, as edge-http),
             vs etcd's serializable range and vs moto_server; the target is
             GetItem >= 0.5x nginx.
  ddb-query  Query of one partition holding 100 items of ~1 KB: items/s.

The rates are medians of ROUNDS runs, the sides alternating in order each
round (a shared machine drifts, and whoever always ran second would pay for
it); moto_server runs once (it is slow, and only a reference).

A caveat printed with the numbers: etcd is driven through its JSON gateway
(grpc-gateway, in etcd's process), which costs etcd CPU a native gRPC client
would not; the serializable get shows that path's ceiling on this machine.

Environment: BENCH_DIR (scratch, removed by bench/run), BENCH_SECONDS (each
timed run, 5), BENCH_DDB_CONNS (64), BENCH_DDB_ROUNDS (3),
BENCH_DDB_CLUSTER (1; 0 skips the three-node runs),
BENCH_DDB_SECTIONS ("put get query").
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
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
W = os.path.join(os.environ["BENCH_DIR"], "ddb")
SECS = os.environ.get("BENCH_SECONDS", "5")
CONNS = int(os.environ.get("BENCH_DDB_CONNS", "64"))
ROUNDS = int(os.environ.get("BENCH_DDB_ROUNDS", "3"))
CLUSTER = os.environ.get("BENCH_DDB_CLUSTER", "1") != "0"
SECTIONS = os.environ.get("BENCH_DDB_SECTIONS", "put get query").split()
OWSD = os.path.join(ROOT, "bin", "owsd")
OWS = os.path.join(ROOT, "bin", "ows")
LOAD = os.path.join(W, "ddbload")
REGION = "us-east-1"
TABLE = "bench"
QTABLE = "bench-q"
ITEM_VALUE = 1000  # the value attribute; with the key and framing ~1 KB
QUERY_ITEMS = 100
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


def http_get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


# ---- OWS nodes (as bench/s3.py) ----

class Node:
    def __init__(self, base, name):
        self.base = base
        self.dir = os.path.join(base, name)
        self.edge = "127.0.0.1:%d" % port()
        self.addrs = ["--edge", self.edge, "--gateway", "127.0.0.1:%d" % port(),
                      "--raft", "127.0.0.1:%d" % port()]
        self.proc = None

    def start(self):
        self.proc = spawn([OWSD, "run", "-d", self.dir], log=self.dir + ".log")
        if not wait_for(lambda: http_get("http://%s/_ows/v1/health" % self.edge)[0] == 200):
            raise SystemExit("ddb bench: node %s did not start (see %s.log)"
                             % (self.edge, self.dir))

    def ows(self, *args):
        env = dict(os.environ, OWS_ENDPOINT=self.edge,
                   OWS_KEY=os.path.join(self.base, "n1", "root.key"))
        return subprocess.run([OWS] + list(args), env=env, capture_output=True,
                              text=True, check=True).stdout

    def creds(self):
        with open(os.path.join(self.base, "n1", "credentials")) as f:
            text = f.read()
        return (text.split("aws_access_key_id = ")[1].split()[0],
                text.split("aws_secret_access_key = ")[1].split()[0])

    def url(self):
        return "http://%s/" % self.edge

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


def first_node(base):
    n = Node(base, "n1")
    subprocess.run([OWSD, "init", "-d", n.dir] + n.addrs, check=True,
                   stdout=subprocess.DEVNULL)
    n.start()
    return n


def join(n1, i):
    n = Node(n1.base, "n%d" % i)
    tok = n1.ows("node", "token").strip()
    subprocess.run([OWSD, "join", "-d", n.dir, "--peer", n1.edge, "--token", tok] + n.addrs,
                   check=True, stdout=subprocess.DEVNULL)
    n.start()
    return n


def status(n):
    return json.loads(n.ows("--json", "status"))


def voters(n1):
    return sorted(s["id"] for s in status(n1)["configuration"] if s["role"] == "voter")


def cluster():
    """A fresh three-node cluster: (nodes, the leader's node) or raises."""
    base = os.path.join(W, "cluster")
    os.makedirs(base)
    n1 = first_node(base)
    nodes = [n1]
    try:
        nodes.append(join(n1, 2))
        nodes.append(join(n1, 3))
        if not wait_for(lambda: voters(n1) == [1, 2, 3], 60):
            raise RuntimeError("the cluster did not reach three voters")
        # The leader is node 1 (it made the cluster); say so if not.
        lead = leader_of(nodes)
        return nodes, lead
    except Exception:
        for n in nodes:
            n.stop()
        raise


def leader_of(nodes):
    for n in nodes:
        try:
            st = status(n)
        except subprocess.CalledProcessError:
            continue
        if st.get("role") == "leader":
            return n
    return nodes[0]


def ddb(edge, key):
    """A boto3 DynamoDB client for the endpoint edge (host:port)."""
    import boto3
    return boto3.client("dynamodb", endpoint_url="http://" + edge, region_name=REGION,
                        aws_access_key_id=key[0], aws_secret_access_key=key[1])


def make_tables(edge, key):
    """The put/get table (pk S) and the Query table (pk S, sk N), ACTIVE.
    None, or what went wrong."""
    try:
        c = ddb(edge, key)
        c.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        c.create_table(TableName=QTABLE, BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                             {"AttributeName": "sk", "AttributeType": "N"}],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}])
        for t in (TABLE, QTABLE):
            if not wait_for(lambda: c.describe_table(TableName=t)["Table"]["TableStatus"]
                            == "ACTIVE", 30):
                return "table %s did not become ACTIVE" % t
        return None
    except Exception as e:  # noqa: BLE001 (reported, the peers still run)
        return "%s: %s" % (type(e).__name__, str(e)[:300])


# ---- peers ----

def nginx():
    """nginx, one worker (as edge-http), answering /item.json, a static
    ~1 KB JSON body (an item as GetItem returns it). Returns its port."""
    p = port()
    www = os.path.join(W, "www")
    item = {"Item": {"pk": {"S": "k000000001"}, "v": {"S": "a" * ITEM_VALUE}}}
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "item.json"), "w") as f:
        json.dump(item, f)
    conf = os.path.join(W, "nginx.conf")
    user = "user root;\n" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write("""%(user)sworker_processes 1;
pid %(w)s/nginx.pid;
error_log %(w)s/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%(p)d;
        root %(www)s;
        location / { default_type application/x-amz-json-1.0; }
    }
}
""" % {"user": user, "w": W, "p": p, "www": www})
    spawn(["nginx", "-c", conf, "-g", "daemon off;"])
    if not wait_port(p):
        raise SystemExit("ddb bench: nginx did not start (see %s/nginx.err)" % W)
    return p


def etcd(members):
    """etcd with `members` members on loopback, fresh data directories.
    Returns (client URLs, processes), or raises."""
    names = ["e%d" % i for i in range(1, members + 1)]
    cports = [port() for _ in names]
    pports = [port() for _ in names]
    initial = ",".join("%s=http://127.0.0.1:%d" % (n, p) for n, p in zip(names, pports))
    tag = "etcd%d" % members
    for n, cp, pp in zip(names, cports, pports):
        spawn(["etcd", "--name", n, "--data-dir", os.path.join(W, tag, n),
               "--listen-client-urls", "http://127.0.0.1:%d" % cp,
               "--advertise-client-urls", "http://127.0.0.1:%d" % cp,
               "--listen-peer-urls", "http://127.0.0.1:%d" % pp,
               "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % pp,
               "--initial-cluster", initial, "--initial-cluster-state", "new",
               "--initial-cluster-token", tag],
              log=os.path.join(W, "%s-%s.log" % (tag, n)))
    procs = PROCS[-members:]
    urls = ["http://127.0.0.1:%d/" % p for p in cports]

    def healthy():
        return all(json.loads(http_get(u + "health")[1]).get("health") == "true" for u in urls)

    if not wait_for(healthy, 30):
        raise RuntimeError("etcd (%d members) did not become healthy (see %s)" % (members, W))
    return urls, procs


def etcd_stop(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(30)


def moto():
    """moto_server on a port of its own, or None when it is not installed."""
    exe = shutil.which("moto_server") or "/root/.pyenv/shims/moto_server"
    if not os.path.exists(exe):
        return None
    p = port()
    spawn([exe, "-H", "127.0.0.1", "-p", str(p)], log=os.path.join(W, "moto.log"))
    return p if wait_port(p, 30) else None


# ---- measuring ----

def build_load():
    lib = os.path.join(ROOT, "build", "libows.a")
    subprocess.run(["cc", "-O2", "-std=gnu11", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "src"),
                    "-o", LOAD, os.path.join(ROOT, "bench", "ddbload.c"), lib,
                    "-lcrypto", "-lpthread"], check=True)


def load(mode, urls, key=None, secs=SECS, count=None, conns=CONNS, **opt):
    """One ddbload run as a dict (requests, errors, rate, p50_ms, p99_ms,
    items, items_rate, misses; first_error and by_status when any failed)."""
    env = dict(os.environ)
    env.pop("DDBLOAD_KEY", None)
    if key:
        env["DDBLOAD_KEY"] = "%s %s" % key
    argv = [LOAD, "-c", str(conns), "-s", str(ITEM_VALUE)]
    argv += ["-n", str(count)] if count else ["-d", str(secs)]
    for k, v in opt.items():
        argv += ["-" + k, str(v)]
    p = subprocess.run(argv + [mode] + list(urls), capture_output=True, text=True, env=env)
    r = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", p.stdout)}
    if not r:
        r = {"requests": 0, "errors": 1, "rate": 0, "p50_ms": 0, "p99_ms": 0, "items": 0,
             "items_rate": 0, "misses": 0}
    if p.returncode != 0:
        m = re.search(r"first error: (.*)", p.stderr)
        r["first_error"] = (m.group(1) if m else p.stderr.strip() or
                            "exit %d" % p.returncode)[:300]
        m = re.search(r"errors by status: (.*)", p.stderr)
        r["by_status"] = m.group(1) if m else ""
    return r


def proc_cpu(pids):
    """CPU seconds (user + system, and system alone) the processes pids
    have used so far, all their threads included; a process that is gone
    counts nothing."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return (user + system) / tick, system / tick


def with_cpu(pids, fn):
    """fn(), a run, with the CPU microseconds per request it cost the
    servers (pids, summed) and the load client (ddbload, a child that has
    ended when fn returns): server_us (server_sys_us of it in the kernel),
    client_us. The machine's CPUs are
    shared by both, so cores * 1e6 / (server_us + client_us) is the most
    requests per second the run could reach on this machine."""
    s0, c0 = proc_cpu(pids), os.times()
    r = fn()
    s1, c1 = proc_cpu(pids), os.times()
    n = r.get("requests") or 0
    if n:
        r["server_us"] = (s1[0] - s0[0]) * 1e6 / n
        r["server_sys_us"] = (s1[1] - s0[1]) * 1e6 / n
        r["client_us"] = ((c1.children_user - c0.children_user) +
                          (c1.children_system - c0.children_system)) * 1e6 / n
    return r


def failed():
    return {"requests": 0, "errors": 1, "rate": 0, "p50_ms": 0, "p99_ms": 0, "items": 0,
            "items_rate": 0, "misses": 0}


def median(rs):
    """Field by field medians of several runs; errors and misses summed,
    the first error kept."""
    out = {k: statistics.median(r.get(k, 0) for r in rs)
           for k in ("requests", "rate", "p50_ms", "p99_ms", "items", "items_rate")}
    for k in ("server_us", "server_sys_us", "client_us"):
        if any(k in r for r in rs):
            out[k] = statistics.median(r[k] for r in rs if k in r)
    out["errors"] = sum(r.get("errors", 0) for r in rs)
    out["misses"] = sum(r.get("misses", 0) for r in rs)
    out["runs"] = [r["rate"] for r in rs]
    out["min_requests"] = min(r["requests"] for r in rs)
    for r in rs:
        if "first_error" in r:
            out["first_error"] = r["first_error"]
            out["by_status"] = r.get("by_status", "")
            break
    return out


def rounds(sides):
    """Run each side (name -> function of the round number returning a run)
    ROUNDS times, alternating the order; medians by name."""
    names = list(sides)
    runs = {n: [] for n in names}
    for i in range(ROUNDS):
        for n in (names if i % 2 == 0 else names[::-1]):
            runs[n].append(sides[n](i))
    return {n: median(runs[n]) for n in names}


def ratio(a, b):
    """a / b of two rates, or of two runs (n/a when either had no answer)."""
    if isinstance(a, dict):
        a = a["rate"]
    if isinstance(b, dict):
        b = b["rate"]
    return "%.2f" % (a / b) if a and b else "n/a"


def show(name, r, unit="req/s", rate="rate"):
    extra = ""
    if r.get("errors"):
        extra += "  (%d errors [%s]; first: %s)" % (r["errors"], r.get("by_status", ""),
                                                   r.get("first_error", ""))
    if r.get("misses"):
        extra += "  (%d misses)" % r["misses"]
    runs = r.get("runs")
    spread = "  [%s]" % " ".join("%.0f" % x for x in runs) if runs and len(runs) > 1 else ""
    print("%-40s %9.0f %-7s p50 %7.2f ms  p99 %7.2f ms%s%s" %
          (name, r[rate], unit, r["p50_ms"], r["p99_ms"], spread, extra), flush=True)
    if "server_us" in r:
        total = r["server_us"] + r["client_us"]
        print("%-40s CPU per request: %.0f us servers (%.0f in the kernel) + %.0f us "
              "client; %d CPUs allow at most %.0f/s" %
              ("", r["server_us"], r["server_sys_us"], r["client_us"], os.cpu_count(),
               os.cpu_count() * 1e6 / total if total else 0), flush=True)


# ---- batching counters ----

# (count, entries, max, what): the batching counters of /metrics (added
# with Raft batching: raft/raft.h struct ows_raft_batch_stats). Any other
# metric whose name says "batch" is printed as it is.
BATCH_METRICS = [
    ("ows_raft_log_writes_total", "ows_raft_log_write_entries_total",
     "ows_raft_log_write_entries_max", "per log write (fsync)"),
    ("ows_raft_log_appends_total", "ows_raft_log_append_entries_total", None,
     "per append request"),
    ("ows_state_commits_total", "ows_state_commit_entries_total",
     "ows_state_commit_entries_max", "per SQLite transaction"),
]


def metrics(n):
    """A node's /metrics as {name: value} (labels kept in the name)."""
    try:
        text = http_get("http://%s/metrics" % n.edge)[1]
    except Exception:  # noqa: BLE001 (a node that does not answer has none)
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


BATCHES = {}  # (run label, node) -> {metric: increase over the runs}
MAXES = {}    # (run label, node) -> {metric: value after the last run}
EXTRA = {}    # (run label, node) -> {"...batch..." metric: value}


def with_batches(label, nodes, fn):
    """fn() with every node's batching counters read before and after; the
    increases are summed over the rounds of the same label."""
    before = [metrics(n) for n in nodes]
    r = fn()
    known = {m for row in BATCH_METRICS for m in row[:3] if m}
    for i, n in enumerate(nodes):
        after = metrics(n)
        k = (label, i + 1 if len(nodes) > 1 else 0)
        acc = BATCHES.setdefault(k, {})
        for cnt, ent, mx, _ in BATCH_METRICS:
            for m in (cnt, ent):
                if m in after:
                    acc[m] = acc.get(m, 0) + after[m] - before[i].get(m, 0)
            if mx and mx in after:
                MAXES.setdefault(k, {})[mx] = after[mx]
        for name, v in after.items():
            if "batch" in name.lower() and name not in known:
                EXTRA.setdefault(k, {})[name] = v
    return r


def print_batches():
    """The mean entries per Raft log write, per append request and per
    SQLite apply transaction during the put runs (increases of the counters
    over the runs), and the most in one since the node started."""
    lines = []
    for (label, node), acc in BATCHES.items():
        parts = []
        for cnt, ent, mx, what in BATCH_METRICS:
            if cnt not in acc or ent not in acc:
                continue
            mean = "%.1f" % (acc[ent] / acc[cnt]) if acc[cnt] else "-"
            most = MAXES.get((label, node), {}).get(mx)
            parts.append("%s %s%s" % (what, mean, " (max %.0f)" % most if most is not None
                                      else ""))
        for name, v in EXTRA.get((label, node), {}).items():
            parts.append("%s %g" % (name, v))
        if parts:
            lines.append("  %s%s: %s" % (label, ", node %d" % node if node else "",
                                         "; ".join(parts)))
    if lines:
        print("batching reached during the put runs (mean entries per unit over the runs; "
              "max since the node started):")
        print("\n".join(lines))
    else:
        # Hook: the node exposes no batching counters in /metrics yet; add
        # their names to BATCH_METRICS (or name them "...batch...").
        print("batch counters: not available")


# ---- sections ----

def section_put(one, key, three, key3, mo, written):
    print("== ddb-put: PutItem of ~1 KB items (distinct keys, signed over the body), "
          "%d clients, %s s, %d alternating rounds, medians; vs etcd put (v3 JSON "
          "gateway, 1 KB values) and moto_server" % (CONNS, SECS, ROUNDS), flush=True)
    sides = {}
    sides["ows1"] = lambda i: with_batches("1 node", [one], lambda: with_cpu(
        [one.proc.pid], lambda: load("ddb-put", [one.url()], key, T=TABLE, p="p%d-" % i)))
    if three:
        nodes, lead = three
        pids = [n.proc.pid for n in nodes]
        sides["ows3"] = lambda i: with_batches("3 nodes, all nodes", nodes, lambda: with_cpu(
            pids, lambda: load("ddb-put", [n.url() for n in nodes], key3, T=TABLE,
                               p="a%d-" % i)))
        sides["ows3l"] = lambda i: with_batches("3 nodes, via the leader", nodes, lambda: with_cpu(
            pids, lambda: load("ddb-put", [lead.url()], key3, T=TABLE, p="l%d-" % i)))
    e1 = None
    try:
        e1, ep1 = etcd(1)
        sides["etcd1"] = lambda i: with_cpu([p.pid for p in ep1],
                                            lambda: load("etcd-put", e1, p="p%d-" % i))
    except RuntimeError as e:
        print("etcd, 1 member: FAILED: %s" % e)
    res = rounds(sides)
    # The three-member etcd runs alone: two etcd clusters and three OWS
    # nodes at once would weigh on each other's runs.
    if e1:
        written["etcd"] = res["etcd1"]["min_requests"]
    if CLUSTER:
        try:
            e3, procs = etcd(3)
            res["etcd3"] = median([with_cpu([p.pid for p in procs],
                                            lambda: load("etcd-put", e3, p="p%d-" % i))
                                   for i in range(ROUNDS)])
            etcd_stop(procs)
        except RuntimeError as e:
            print("etcd, 3 members: FAILED: %s" % e)
    if mo:
        res["moto"] = load("ddb-put", ["http://127.0.0.1:%d/" % mo], ("testing", "testing"),
                           T=TABLE, p="p0-")
        written["moto"] = res["moto"]["requests"]
    written["ows"] = res["ows1"]["min_requests"]
    show("ows PutItem, 1 node", res["ows1"], "puts/s")
    if "ows3" in res:
        show("ows PutItem, 3 nodes (all nodes)", res["ows3"], "puts/s")
        show("ows PutItem, 3 nodes (via the leader)", res["ows3l"], "puts/s")
    if "etcd1" in res:
        show("etcd put, 1 member", res["etcd1"], "puts/s")
    if "etcd3" in res:
        show("etcd put, 3 members (all members)", res["etcd3"], "puts/s")
    if "moto" in res:
        show("moto_server PutItem (in memory)", res["moto"], "puts/s")
    else:
        print("moto_server: not installed, skipped")
    if "etcd1" in res:
        print("ratio ows 1 node / etcd 1 member puts/s: %s" %
              ratio(res["ows1"], res["etcd1"]))
    if "ows3" in res and "etcd3" in res:
        print("ratio ows 3 nodes / etcd 3 members puts/s: %s (all nodes), %s (via the "
              "leader)   (target >= 5)" % (ratio(res["ows3"], res["etcd3"]),
                                           ratio(res["ows3l"], res["etcd3"])))
    if "moto" in res:
        print("ratio ows 1 node / moto_server puts/s: %s" %
              ratio(res["ows1"], res["moto"]))
    print_batches()
    return e1


def section_get(one, key, mo, written, e1):
    print("== ddb-get: GetItem (eventually consistent) of keys written before, %d clients, "
          "%s s, %d alternating rounds, medians; vs nginx static ~1 KB body, etcd "
          "serializable range, moto_server" % (CONNS, SECS, ROUNDS), flush=True)
    ng = nginx()
    keys = written.get("ows", 0)
    if keys < CONNS:
        # No put section (or it failed): write the keys to read first.
        r = load("ddb-put", [one.url()], key, count=20000, T=TABLE, p="p0-")
        keys = r["requests"]
    # The last keys of a timed run may still have been in flight.
    keys = max(1, int(keys) - CONNS)
    sides = {
        "ows": lambda i: load("ddb-get", [one.url()], key, T=TABLE, p="p0-", k=keys),
        "nginx": lambda i: load("http-get", ["http://127.0.0.1:%d/item.json" % ng]),
    }
    if e1:
        ek = written.get("etcd", 0)
        if ek < CONNS:
            ek = load("etcd-put", e1, count=5000, p="p0-")["requests"]
        ek = max(1, int(ek) - CONNS)
        sides["etcd"] = lambda i: load("etcd-get", e1, p="p0-", k=ek)
    res = rounds(sides)
    if mo:
        mk = written.get("moto", 0)
        if mk < CONNS:
            mk = load("ddb-put", ["http://127.0.0.1:%d/" % mo], ("testing", "testing"),
                      count=1000, T=TABLE, p="p0-")["requests"]
        res["moto"] = load("ddb-get", ["http://127.0.0.1:%d/" % mo], ("testing", "testing"),
                           T=TABLE, p="p0-", k=max(1, int(mk) - CONNS))
    show("ows GetItem, 1 node", res["ows"], "gets/s")
    show("nginx static ~1 KB body", res["nginx"], "req/s")
    if "etcd" in res:
        show("etcd range, serializable, 1 member", res["etcd"], "gets/s")
    if "moto" in res:
        show("moto_server GetItem (in memory)", res["moto"], "gets/s")
    print("ratio ows GetItem / nginx req/s: %s   (target >= 0.5)" %
          ratio(res["ows"], res["nginx"]))
    if "etcd" in res:
        print("ratio ows GetItem / etcd serializable range: %s" %
              ratio(res["ows"], res["etcd"]))
    if "moto" in res:
        print("ratio ows GetItem / moto_server GetItem: %s" %
              ratio(res["ows"], res["moto"]))


def section_query(one, key):
    print("== ddb-query: Query of one partition of %d items (~1 KB each), %d clients, "
          "%s s, %d rounds, medians" % (QUERY_ITEMS, CONNS, SECS, ROUNDS), flush=True)
    r = load("ddb-put", [one.url()], key, count=QUERY_ITEMS, T=QTABLE, P="q")
    if r.get("errors"):
        show("ows PutItem (the partition)", r, "puts/s")
        return
    res = median([load("ddb-query", [one.url()], key, T=QTABLE, P="q")
                  for _ in range(ROUNDS)])
    show("ows Query, 1 node", res, "queries/s")
    per = res["items"] / res["requests"] if res["requests"] else 0
    print("ows Query: %.0f items/s (%.0f items per answer)" % (res["items_rate"], per))


def main():
    os.makedirs(W)
    # The machine may be shared: say how busy it was, next to the numbers.
    print("ddb bench: load average %.2f %.2f %.2f on %d CPUs at the start" %
          (os.getloadavg() + (os.cpu_count(),)), flush=True)
    build_load()
    mo = moto()
    if mo:
        err = make_tables("127.0.0.1:%d" % mo, ("testing", "testing"))
        if err:
            print("moto_server: CreateTable failed (%s), skipped" % err)
            mo = None
    one = first_node(os.path.join(W, "one"))
    key = one.creds()
    err = make_tables(one.edge, key)
    if err:
        print("ddb bench: CreateTable on the node failed: %s; the OWS runs will fail" % err)
    three = key3 = None
    written = {}
    e1 = None
    try:
        if "put" in SECTIONS:
            if CLUSTER:
                try:
                    nodes, lead = cluster()
                    three = (nodes, lead)
                    key3 = nodes[0].creds()
                    err = make_tables(lead.edge, key3)
                    if err:
                        print("ddb bench: CreateTable on the cluster failed: %s" % err)
                except Exception as e:  # noqa: BLE001 (reported, the rest runs)
                    print("ddb bench: three-node cluster: FAILED: %s" % e)
            e1 = section_put(one, key, three, key3, mo, written)
            if three:
                for n in three[0]:
                    n.stop()
        if "get" in SECTIONS:
            if e1 is None:
                try:
                    e1 = etcd(1)[0]
                except RuntimeError as e:
                    print("etcd, 1 member: FAILED: %s" % e)
            section_get(one, key, mo, written, e1)
        if "query" in SECTIONS:
            section_query(one, key)
    finally:
        one.stop()


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
