"""callgrind one node under put (or get) load. usage: python3 cg1.py put|get N"""
import os, sys, subprocess, time, shutil
os.environ.setdefault("BENCH_DIR", "/tmp/cg-" + os.path.basename(os.environ.get("ROOT", "main")))
shutil.rmtree(os.environ["BENCH_DIR"], ignore_errors=True)
os.makedirs(os.environ["BENCH_DIR"] + "/ddb")
sys.path.insert(0, os.environ.get("ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")) + "/bench")
import ddb as B
mode = sys.argv[1]; n = int(sys.argv[2])
B.build_load()
base = os.path.join(B.W, "one"); os.makedirs(base)
node = B.first_node(base)
key = node.creds()
assert not B.make_tables(node.edge, key)
if mode == "get":
    B.load("ddb-put", [node.url()], key, count=5000, p="p0-")
node.stop()
node.proc = B.spawn(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + os.environ.get("CGOUT", "/tmp/cg.out") + "",
                     "--collect-atstart=no", "--toggle-collect=ows_aws_handle*" if False else "--collect-atstart=yes",
                     B.OWSD, "run", "-d", node.dir], log=node.dir + ".vg.log")
assert B.wait_for(lambda: B.http_get("http://%s/_ows/v1/health" % node.edge)[0] == 200, 120)
B.load("ddb-" + mode, [node.url()], key, count=200, conns=8, p=("p0-" if mode == "get" else "p1-"), **({"k": 5000} if mode == "get" else {}))
subprocess.run(["callgrind_control", "-z", str(node.proc.pid)], capture_output=True)
r = B.load("ddb-" + mode, [node.url()], key, count=n, conns=16, p=("p0-" if mode == "get" else "p2-"), **({"k": 5000} if mode == "get" else {}))
print(r)
subprocess.run(["callgrind_control", "-d", str(node.proc.pid)], capture_output=True)
time.sleep(1)
node.proc.terminate(); node.proc.wait(60)
