"""3-node PutItem via the leader; strace -f -c -w of the leader (syscall wall time, all threads)."""
import os, sys, time, shutil, subprocess
os.environ.setdefault("BENCH_DIR", "/tmp/trace3")
shutil.rmtree(os.environ["BENCH_DIR"], ignore_errors=True)
os.makedirs(os.environ["BENCH_DIR"] + "/ddb")
sys.path.insert(0, os.environ.get("ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")) + "/bench")
import ddb as B
B.build_load()
try:
    nodes, lead = B.cluster()
    key = lead.creds()
    assert not B.make_tables(lead.edge, key)
    who = lead if sys.argv[1:2] != ["follower"] else [n for n in nodes if n is not lead][0]
    tr = subprocess.Popen(["strace", "-f", "-c", "-w", "-p", str(who.proc.pid)], stderr=open("/tmp/strace3.out", "w"))
    time.sleep(0.5)
    r = B.load("ddb-put", [lead.url()], key, secs="5", p="p0-")
    tr.send_signal(2); tr.wait()
    print(r)
    print(open("/tmp/strace3.out").read())
finally:
    for p in B.PROCS:
        try: p.terminate(); p.wait(10)
        except Exception: pass
