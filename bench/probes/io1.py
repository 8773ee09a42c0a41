"""bytes read/written (rchar/wchar, syscr/syscw) per PutItem on one node."""
import os, sys, time, shutil
os.environ.setdefault("BENCH_DIR", "/tmp/io1")
shutil.rmtree(os.environ["BENCH_DIR"], ignore_errors=True)
os.makedirs(os.environ["BENCH_DIR"] + "/ddb")
sys.path.insert(0, os.environ.get("ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")) + "/bench")
import ddb as B
B.build_load()
base = os.path.join(B.W, "one"); os.makedirs(base)
node = B.first_node(base)
key = node.creds()
assert not B.make_tables(node.edge, key)
B.load("ddb-put", [node.url()], key, count=20000, p="p0-")
def io():
    d = {}
    for l in open("/proc/%d/io" % node.proc.pid):
        k, v = l.split(":"); d[k] = int(v)
    return d
a = io()
r = B.load("ddb-put", [node.url()], key, count=int(sys.argv[1]) if len(sys.argv) > 1 else 20000, p="p0-")
b = io()
n = r["requests"]
print(r)
print({k: round((b[k] - a[k]) / n, 1) for k in a})
node.stop()
