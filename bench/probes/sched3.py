"""3-node PutItem load with `perf sched record` of 2 s in its middle: how long
each node's threads ran, waited for a CPU (sched delay) and slept. With
env CMD, that shell command instead ({pid}: the leader's pid), e.g.
CMD='perf trace -s -p {pid} -o /tmp/t.txt -- sleep 2'."""
import os, sys, time, shutil, subprocess, threading
os.environ.setdefault("BENCH_DIR", "/tmp/sched3")
shutil.rmtree(os.environ["BENCH_DIR"], ignore_errors=True)
os.makedirs(os.environ["BENCH_DIR"] + "/ddb")
sys.path.insert(0, os.environ.get("ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")) + "/bench")
import ddb as B
B.build_load()
out = os.environ.get("OUT", "/tmp/sched3.data")
try:
    nodes, lead = B.cluster()
    key = lead.creds()
    assert not B.make_tables(lead.edge, key)
    urls = [lead.url()] if "via-leader" in sys.argv else [n.url() for n in nodes]
    conns = int(os.environ.get("CONNS", "64"))
    def rec():
        time.sleep(3)
        cmd = os.environ.get("CMD")
        if cmd:  # another probe of the leader: {pid} is its pid
            subprocess.run(cmd.replace("{pid}", str(lead.proc.pid)), shell=True)
        else:
            subprocess.run(["perf", "sched", "record", "-a", "-o", out, "--", "sleep", "2"],
                           capture_output=True)
    t = threading.Thread(target=rec); t.start()
    r = B.load("ddb-put", urls, key, secs="7", p="s-", conns=conns)
    t.join()
    print("conns %d rate %.0f/s p50 %.1f ms p99 %.1f ms" % (conns, r["rate"], r["p50_ms"], r["p99_ms"]))
    print("pids: leader %d, others %s" % (lead.proc.pid, [n.proc.pid for n in nodes if n is not lead]))
finally:
    for p in B.PROCS:
        try: p.terminate(); p.wait(10)
        except Exception: pass
