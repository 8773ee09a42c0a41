"""GetItem on one node: CPU seconds of owsd and of the load client per request.
env KEYS (20000) items per prefix, PREFIXES (1) how many prefixes."""
import os, sys, time, shutil, resource
os.environ.setdefault("BENCH_DIR", "/tmp/cpuget")
shutil.rmtree(os.environ["BENCH_DIR"], ignore_errors=True)
os.makedirs(os.environ["BENCH_DIR"] + "/ddb")
sys.path.insert(0, os.environ.get("ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")) + "/bench")
import ddb as B
B.build_load()
base = os.path.join(B.W, "one"); os.makedirs(base)
node = B.first_node(base)
key = node.creds()
assert not B.make_tables(node.edge, key)
# env PREFIXES=3: as make bench leaves the table, three rounds of puts
# (p0-, p1-, p2-), ~80 K items, the gets on p0- only
for i in range(int(os.environ.get("PREFIXES", "1"))):
    B.load("ddb-put", [node.url()], key, count=int(os.environ.get("KEYS", "20000")), p="p%d-" % i)
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / 100.0
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 2):
    c0 = cpu(node.proc.pid); r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = B.load("ddb-get", [node.url()], key, secs="5", p="p0-", k=int(os.environ.get("KEYS", "20000")))
    c1 = cpu(node.proc.pid); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = r["requests"]
    cl = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print("rate %.0f/s  owsd %.1f us/req  client %.1f us/req (user %.1f sys %.1f)" % (
        r["rate"], (c1 - c0) * 1e6 / n, cl * 1e6 / n, (r1.ru_utime - r0.ru_utime) * 1e6 / n, (r1.ru_stime - r0.ru_stime) * 1e6 / n))
node.stop()
