"""3-node PutItem: rate, and how busy the machine's CPUs were (from /proc/stat), per node and client."""
import os, sys, time, shutil, resource
os.environ.setdefault("BENCH_DIR", "/tmp/cpu3")
shutil.rmtree(os.environ["BENCH_DIR"], ignore_errors=True)
os.makedirs(os.environ["BENCH_DIR"] + "/ddb")
sys.path.insert(0, os.environ.get("ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")) + "/bench")
import ddb as B
B.build_load()
def stat():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f)); return sum(v), v[3] + v[4]
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / 100.0
try:
    nodes, lead = B.cluster()
    key = lead.creds()
    assert not B.make_tables(lead.edge, key)
    urls = [lead.url()] if "via-leader" in sys.argv else [n.url() for n in nodes]
    conns = int(os.environ.get("CONNS", "64"))
    for i in range(2):
        t0, i0 = stat(); c0 = [cpu(n.proc.pid) for n in nodes]; r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = B.load("ddb-put", urls, key, secs="5", p="p%d-" % i, conns=conns)
        t1, i1 = stat(); c1 = [cpu(n.proc.pid) for n in nodes]; r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy = 1 - (i1 - i0) / (t1 - t0)
        cl = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        print("conns %d rate %.0f/s p50 %.1f ms p99 %.1f ms; machine busy %.0f%% of 2 cores; node CPU-s %s; client %.2f CPU-s over %.1f s" % (
            conns, r["rate"], r["p50_ms"], r["p99_ms"], busy * 100, [round(b - a, 2) for a, b in zip(c0, c1)], cl, r["seconds"]))
finally:
    for p in B.PROCS:
        try: p.terminate(); p.wait(10)
        except Exception: pass
