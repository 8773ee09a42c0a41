"""make bench, functions sections (run by bench/run, which exports the node's
addresses). Every number is printed next to a named peer measured in the same
run; nothing here passes or fails.

  fn-cold    first request through the gateway to a function that never ran
             (its own bundle, unpacked when the change set applied, as
             Lambda readies a function before it is Active), curl's
             time_total, vs the bare start of the same runtime outside OWS
             (python3 -c pass; the provided bootstrap binary exiting at once);
             python3 -S -c pass is printed too, since OWS starts python so
  fn-warm    wrk through the gateway to a warm trivial handler (provided and
             python3) vs nginx returning a static body; the gateway's own 404
             (routing only, no function) is printed as a second reference
  fn-http    wrk through the gateway to a warm http-runtime function vs nginx
             proxy_pass (upstream keepalive) to the same backend binary;
             BENCH_ROUNDS (3) alternating rounds, medians
  fn-busy    the edge's latency (GET /_ows/v1/health) while a function has
             left processes busy-looping, vs the same with none: frozen
             between invocations, they must not take the node's CPU

Environment: OWS_GW (gateway host:port), OWS_ENDPOINT/OWS_KEY for bin/ows,
BENCH_DIR (scratch, removed by bench/run), BENCH_SECONDS (wrk duration, 5),
BENCH_COLD (cold samples per runtime, 10), BENCH_ROUNDS (fn-http rounds, 3).
"""
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GW = os.environ["OWS_GW"]
W = os.environ["BENCH_DIR"]
SECS = os.environ.get("BENCH_SECONDS", "5")
COLD = int(os.environ.get("BENCH_COLD", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WRK = ["wrk", "-t2", "-c8", "-d" + SECS, "--latency"]
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


def spawn(argv, **kw):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    PROCS.append(p)
    return p


def wait_port(p, secs=5):
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", p), 0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def cc(src, out):
    subprocess.run(["cc", "-O2", "-static", "-o", out, os.path.join(ROOT, "bench", src)],
                   check=True)


def curl(path, max_time=30):
    """(status, seconds) of one GET to the gateway, curl's time_total."""
    p = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", str(max_time),
                        "-w", "%{http_code} %{time_total}", "http://%s%s" % (GW, path)],
                       capture_output=True, text=True)
    code, t = p.stdout.split()
    return int(code), float(t)


def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)$", v)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def wrk(url):
    """(req/s, p50 ms, p99 ms, non-2xx/3xx count) of one wrk run."""
    out = subprocess.run(WRK + [url], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return rps, p50, p99, int(bad.group(1)) if bad else 0, errs.group(1) if errs else ""


def median_run(rs):
    """Field by field medians of wrk results (req/s, p50, p99, bad, errors)."""
    return (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs),
            statistics.median(r[2] for r in rs), sum(r[3] for r in rs),
            "; ".join(r[4] for r in rs if r[4]))


def show(name, r):
    extra = ""
    if r[3]:
        extra += "  (%d non-2xx answers)" % r[3]
    if r[4]:
        extra += "  (socket errors: %s)" % r[4]
    print("%-26s %9.0f req/s   p50 %7.3f ms   p99 %7.3f ms%s" % (name, r[0], r[1], r[2], extra))


def bare(argv, n):
    """Median ms of n runs of argv (after one unmeasured run), fork+exec+wait."""
    subprocess.run(argv, env={"PATH": "/usr/bin:/bin"})
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, env={"PATH": "/usr/bin:/bin"})
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(text, str) else "wb") as f:
        f.write(text)
    os.chmod(path, mode)


def apply(stack, name):
    path = os.path.join(W, "fn", name)
    write(path, json.dumps(stack))
    subprocess.run([os.path.join(ROOT, "bin", "ows"), "apply", path, "--yes"], check=True,
                   stdout=subprocess.DEVNULL)


PY_APP = '''def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok"}
# %s
'''


def main():
    os.makedirs(os.path.join(W, "fn"), exist_ok=True)
    boot = os.path.join(W, "fn", "fnboot")
    httpd = os.path.join(W, "fn", "httpd")
    cc("fnboot.c", boot)
    cc("httpd.c", httpd)
    with open(boot, "rb") as f:
        boot_bin = f.read()
    with open(httpd, "rb") as f:
        httpd_bin = f.read()

    # One stack: COLD+1 never-run functions per runtime (each with its own
    # bundle; the first of each is a discarded warm-up of the node), one
    # warm function per runtime. The http function comes in a second apply,
    # after the 404 reference, because its ANY /{proxy+} catches every path.
    fns, routes = {}, {}
    for i in range(COLD + 1):
        write(os.path.join(W, "fn", "py%d" % i, "app.py"), PY_APP % i)
        fns["py%d" % i] = {"runtime": "python3", "handler": "app.handler", "code": "./py%d" % i}
        routes["GET /py%d" % i] = "py%d" % i
        write(os.path.join(W, "fn", "pr%d" % i, "bootstrap"), boot_bin, 0o755)
        write(os.path.join(W, "fn", "pr%d" % i, "id"), "%d\n" % i)
        fns["pr%d" % i] = {"runtime": "provided", "code": "./pr%d" % i}
        routes["GET /pr%d" % i] = "pr%d" % i
    write(os.path.join(W, "fn", "pywarm", "app.py"), PY_APP % "warm")
    # Warm functions get one whole CPU (1769 MB, as on Lambda): what is
    # measured is the node's overhead, not the CPU limit of a small one.
    fns["pywarm"] = {"runtime": "python3", "handler": "app.handler", "code": "./pywarm",
                     "memory_mb": 1769}
    routes["GET /pywarm"] = "pywarm"
    write(os.path.join(W, "fn", "prwarm", "bootstrap"), boot_bin, 0o755)
    fns["prwarm"] = {"runtime": "provided", "code": "./prwarm", "memory_mb": 1769}
    routes["GET /prwarm"] = "prwarm"
    stack = {"stack": "bench", "functions": fns, "routes": routes}
    apply(stack, "stack1.json")

    # nginx: a static body (fn-warm's peer) and proxy_pass with upstream
    # keepalive to the backend binary (fn-http's peer); one worker, as the
    # edge-http section.
    bp, ns, npx = port(), port(), port()
    spawn([httpd], env={"PORT": str(bp), "BIND": "127.0.0.1"})
    conf = os.path.join(W, "fn", "nginx.conf")
    write(conf, """worker_processes 1;
pid %(w)s/fn/nginx.pid;
error_log %(w)s/fn/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    upstream backend { server 127.0.0.1:%(bp)d; keepalive 32; }
    server { listen 127.0.0.1:%(ns)d;
             location / { default_type text/plain; return 200 'ok'; } }
    server { listen 127.0.0.1:%(npx)d;
             location / { proxy_pass http://backend; proxy_http_version 1.1;
                          proxy_set_header Connection ""; } }
}
""" % {"w": W, "bp": bp, "ns": ns, "npx": npx})
    spawn(["nginx", "-c", conf, "-g", "daemon off;"])
    wait_port(bp)
    wait_port(ns)
    wait_port(npx)

    print("== fn-cold: first request to a never-run function through the gateway "
          "(curl time_total, median of %d, each its own function and bundle)" % COLD)
    print("   vs the bare start of the same runtime outside OWS "
          "(fork+exec+exit, median of %d)" % COLD)
    cold = {"python3": [], "provided": []}
    failed = []
    curl("/py0")  # warm-ups, not counted
    curl("/pr0")
    for i in range(1, COLD + 1):
        for rt, path in (("python3", "/py%d" % i), ("provided", "/pr%d" % i)):
            st, t = curl(path)
            if st != 200:
                failed.append("%s %d" % (path, st))
            cold[rt].append(t * 1000)
    base = {"python3": ("python3 -c pass", bare(["/usr/bin/python3", "-c", "pass"], COLD)),
            "provided": ("bootstrap binary exiting", bare([boot], COLD))}
    for rt in ("python3", "provided"):
        c = statistics.median(cold[rt])
        bname, b = base[rt]
        print("%-9s cold %8.2f ms (min %.2f, max %.2f)   bare %-24s %6.2f ms   "
              "ratio cold/bare %.1f   cold - bare %.2f ms (target: within 5 ms)" %
              (rt, c, min(cold[rt]), max(cold[rt]), bname, b, c / b, c - b))
    # OWS starts python with -S (see runtimes/python3/bootstrap): shown so
    # that the gain from skipping site is not mistaken for the sandbox's.
    b = bare(["/usr/bin/python3", "-S", "-c", "pass"], COLD)
    print("          (python3 -S -c pass, as OWS starts the interpreter: %.2f ms; "
          "python3 cold - that %.2f ms)" % (b, statistics.median(cold["python3"]) - b))
    if failed:
        print("  non-200 answers: %s" % ", ".join(failed))

    print("== fn-warm: warm trivial handler through the gateway vs nginx returning a static "
          "body (wrk -t2 -c8 -d%ss --latency, after a 1 s warm-up)" % SECS)
    res = {}
    for name, path in (("provided", "/prwarm"), ("python3", "/pywarm")):
        subprocess.run(["wrk", "-t2", "-c8", "-d1s", "http://%s%s" % (GW, path)],
                       capture_output=True)
        res[name] = wrk("http://%s%s" % (GW, path))
    ng = wrk("http://127.0.0.1:%d/" % ns)
    nf = wrk("http://%s/nowhere" % GW)
    show("gateway -> provided", res["provided"])
    show("gateway -> python3", res["python3"])
    show("nginx static body", ng)
    show("gateway 404 (no function)", nf)
    for name in ("provided", "python3"):
        print("ratio gateway->%s / nginx static req/s: %.3f   p50 ratio: %.1f" %
              (name, res[name][0] / ng[0], res[name][1] / ng[1]))
    print("ratio gateway->provided / gateway 404 req/s: %.3f" % (res["provided"][0] / nf[0]))

    print("== fn-http: gateway -> warm http-runtime function vs nginx proxy_pass "
          "(upstream keepalive) to the same backend binary (wrk -t2 -c8 -d%ss --latency, "
          "%d alternating rounds, medians)" % (SECS, ROUNDS))
    write(os.path.join(W, "fn", "hb", "httpd"), httpd_bin, 0o755)
    # Two CPUs (2 x 1769 MB), as nginx's backend has the whole machine.
    fns["hb"] = {"runtime": "http", "command": ["/var/task/httpd"], "code": "./hb",
                 "memory_mb": 3538}
    routes["ANY /{proxy+}"] = "hb"
    apply(stack, "stack2.json")
    try:
        st, t = curl("/x/y", max_time=15)
    except ValueError:
        st = 0
    if st != 200:
        nx = wrk("http://127.0.0.1:%d/x/y" % npx)
        # A broken deployment must show, not pass for a measurement.
        print("http runtime: FAILED, the gateway answered %d to ANY /{proxy+}" % st)
        show("nginx proxy_pass", nx)
        return
    subprocess.run(["wrk", "-t2", "-c8", "-d1s", "http://%s/x/y" % GW], capture_output=True)
    # Alternating rounds, each side first in turn, medians: a shared
    # machine drifts, and whoever always ran second would pay for it.
    runs = {"ows": [], "nginx": []}
    for i in range(ROUNDS):
        order = [("ows", "http://%s/x/y" % GW), ("nginx", "http://127.0.0.1:%d/x/y" % npx)]
        for name, url in (order if i % 2 == 0 else order[::-1]):
            runs[name].append(wrk(url))
    gh, nx = median_run(runs["ows"]), median_run(runs["nginx"])
    print("  per round, req/s: ows %s; nginx %s" % (
        " ".join("%.0f" % r[0] for r in runs["ows"]),
        " ".join("%.0f" % r[0] for r in runs["nginx"])))
    show("gateway -> http function", gh)
    show("nginx proxy_pass", nx)
    print("ratio gateway/nginx req/s: %.3f   p50 ratio: %.1f   p99 ratio: %.1f" %
          (gh[0] / nx[0], gh[1] / nx[1], gh[2] / nx[2]))
    busy(stack)


SPIN = '''import subprocess, sys
def handler(event, context):
    # left running after the invocation: one per CPU of the machine
    for _ in range(4):
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
    return "spinning"
'''


def busy(stack):
    edge = os.environ["OWS_ENDPOINT"].replace("http://", "")
    print("== fn-busy: edge GET /_ows/v1/health latency with a function's "
          "left-over busy loops (4 processes, 10240 MB: 5.8 CPUs of quota) "
          "vs idle (wrk -t2 -c8 -d%ss --latency)" % SECS)
    idle = wrk("http://%s/_ows/v1/health" % edge)
    write(os.path.join(W, "fn", "spin", "app.py"), SPIN)
    stack["functions"]["spin"] = {"runtime": "python3", "handler": "app.handler",
                                  "code": "./spin", "memory_mb": 10240}
    stack["routes"]["GET /spin"] = "spin"
    del stack["routes"]["ANY /{proxy+}"]
    apply(stack, "stack3.json")
    st, _ = curl("/spin", max_time=15)
    if st != 200:
        print("fn-busy: FAILED, /spin answered %d" % st)
        return
    loaded = wrk("http://%s/_ows/v1/health" % edge)
    show("edge, idle", idle)
    show("edge, busy loops left", loaded)
    print("ratio busy/idle req/s: %.3f   p50 ratio: %.1f   p99 ratio: %.1f" %
          (loaded[0] / idle[0], loaded[1] / idle[1], loaded[2] / idle[2]))


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            p.terminate()
        for p in PROCS:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.stdout.flush()
