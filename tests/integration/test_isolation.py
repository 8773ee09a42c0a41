"""Function instances are isolated from the node and from each other: each
has its own network namespace, so that from inside a function the node's
ports (on any of its addresses), the host's loopback services, another
instance's Runtime API and an IAM-protected http backend do not connect, and
/proc/net shows only the instance's own sockets; egress to elsewhere works
through the node; between invocations an instance is frozen and gets no
CPU, and its CPU is limited in proportion to its memory."""
import glob
import json
import os
import socket
import subprocess
import time

from owstest import Node, check, deploy, free_port, other_host, started, tmpdir, wait_for

PROBE = r'''
import json, os, socket, urllib.request
from concurrent.futures import ThreadPoolExecutor

def connect(host, port):
    s = socket.socket()
    s.settimeout(1.5)
    try:
        s.connect((host, port))
        return "connected"
    except Exception as e:
        return type(e).__name__
    finally:
        s.close()

def handler(event, context):
    out = {"connect": {}, "proc": {}}
    targets = event.get("targets", [])
    with ThreadPoolExecutor(16) as ex:
        res = list(ex.map(lambda t: connect(*t), targets))
    for (host, port), r in zip(targets, res):
        out["connect"]["%s:%d" % (host, port)] = r
    for name in ("tcp", "tcp6", "udp", "unix"):
        try:
            with open("/proc/net/" + name) as f:
                out["proc"][name] = f.read().splitlines()[1:]
        except OSError as e:
            out["proc"][name] = str(e)
    if event.get("sts"):
        import boto3
        c = boto3.client("sts", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                         region_name=os.environ["AWS_REGION"],
                         aws_access_key_id=event["sts"][0],
                         aws_secret_access_key=event["sts"][1])
        out["sts"] = c.get_caller_identity()["Arn"]
    if "url" in event:
        try:
            with urllib.request.urlopen(event["url"], timeout=5) as r:
                out["url"] = [r.status, r.read().decode()]
        except Exception as e:
            out["url"] = [0, repr(e)]
    return out
'''

BUSY = r'''
import os, subprocess, sys

def handler(event, context):
    # Left running after the invocation returns: it must get no CPU
    # until the next one.
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    return {"pid": p.pid}
'''

WEB = r'''
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "6")
        self.end_headers()
        self.wfile.write(b"secret")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def deploy_iso(n):
    deploy(n, {"stack": "iso", "functions": {
        "probe": {"runtime": "python3", "handler": "app.handler", "code": "./probe",
                  "timeout_s": 30},
        "victim": {"runtime": "python3", "handler": "app.handler", "code": "./probe",
                   "min_instances": 1},
        "busy": {"runtime": "python3", "handler": "app.handler", "code": "./busy",
                 "memory_mb": 256},
        "web": {"runtime": "http", "command": ["/usr/bin/python3", "server.py"],
                "code": "./web", "min_instances": 1}},
        "routes": {"GET /private": {"function": "web", "auth": "iam"}}},
        {"probe/app.py": PROBE, "busy/app.py": BUSY, "web/server.py": WEB})


def invoke(n, name, event):
    p = n.ows("invoke", name, "--payload", json.dumps(event))
    return json.loads(p.stdout)


def host_address():
    """The machine's own address on its default route (not loopback)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.200", 9))
        return s.getsockname()[0]
    finally:
        s.close()


def instance_addresses():
    """Every instance's address: the .2 of each owsi link's /30."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                         text=True).stdout
    addrs = []
    for line in out.splitlines():
        parts = line.split()
        if parts[1].startswith("owsi"):
            a, b, c, d = parts[3].split("/")[0].split(".")
            addrs.append("%s.%s.%s.%d" % (a, b, c, int(d) + 1))
    return addrs


def listener(host="0.0.0.0"):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(16)
    return s


def test_function_reaches_nothing_of_the_node_or_other_instances():
    n = started()
    deploy_iso(n)
    # A host service on every address and one on loopback only.
    anyaddr, loop = listener(), listener("127.0.0.1")
    try:
        wait_for(lambda: len(instance_addresses()) >= 2, 30, "warm instances")
        others = instance_addresses()
        me = host_address()
        targets = []
        for hp in (n.edge, n.gateway, n.raft):
            port = int(hp.rsplit(":", 1)[1])
            targets += [["127.0.0.1", port], [me, port]]
        targets += [["127.0.0.1", loop.getsockname()[1]],
                    [me, anyaddr.getsockname()[1]]]
        for a in others:  # other instances: Runtime API, http backend
            targets += [[a, 9001], [a, 8080]]
        # The node's end of the probe's own link: it is the node too.
        r = invoke(n, "probe", {"targets": []})
        gws = [a.rsplit(".", 1)[0] + "." + str(int(a.rsplit(".", 1)[1]) - 1)
               for a in instance_addresses()]
        for g in gws:
            targets += [[g, anyaddr.getsockname()[1]], [g, int(n.edge.rsplit(":", 1)[1])]]
        r = invoke(n, "probe", {"targets": targets})
        connected = [k for k, v in r["connect"].items() if v == "connected"]
        check(not connected, "a function reached: %s" % connected)
        check(len(r["connect"]) == len(targets), r["connect"])
        # /proc/net: only the instance's own sockets (its Runtime API on
        # 9001, the node's endpoint on 4566, the bootstrap's connection),
        # none of the node's.
        node_ports = {int(hp.rsplit(":", 1)[1]) for hp in (n.edge, n.gateway, n.raft)}
        seen = set()
        for line in r["proc"]["tcp"] + r["proc"]["tcp6"]:
            local = line.split()[1]
            seen.add(int(local.split(":")[1], 16))
        check(not (seen & node_ports), (seen, node_ports))
        check(seen <= {9001, 4566} | {p for p in seen if p >= 32768}, seen)
        check(9001 in seen, seen)
        # The private backend answers only through the gateway, which wants
        # a signature.
        st = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                             "http://%s/private" % n.gateway], capture_output=True,
                            text=True, timeout=30).stdout
        check(st == "403", st)
    finally:
        anyaddr.close()
        loop.close()


def test_function_reaches_the_node_api_at_its_endpoint():
    """The node serves its AWS endpoint inside each instance, at
    AWS_ENDPOINT_URL: boto3 there reaches STS with a user's key."""
    n = started()
    deploy_iso(n)
    creds = {}
    with open(os.path.join(n.dir, "credentials")) as f:
        for line in f:
            k, _, v = line.partition("=")
            creds[k.strip()] = v.strip()
    r = invoke(n, "probe", {"url": "http://127.0.0.1:4566/_ows/v1/health",
                            "sts": [creds["aws_access_key_id"],
                                    creds["aws_secret_access_key"]]})
    check(r["url"][0] == 200, r)
    check(r["sts"].endswith(":user/root"), r)






def test_egress_through_the_node():
    """A target of our own in another network namespace, reached from a
    function through the node's NAT: no outside address is ever used."""
    n = started()
    deploy_iso(n)
    ns = "owstgt%d" % os.getpid()
    host_if, tgt_if = "owst%dh" % (os.getpid() % 10000), "owst%dt" % (os.getpid() % 10000)
    net = "10.250.%d" % (os.getpid() % 250)
    server = None
    try:
        other_host(ns, host_if, tgt_if, net)
        d = tmpdir()
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write("hello from outside")
        server = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-m",
                                   "http.server", "8000", "--bind", net + ".2",
                                   "--directory", d],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: subprocess.run(
            ["ip", "netns", "exec", ns, "python3", "-c",
             "import socket; socket.create_connection(('%s.2', 8000), 1)" % net],
            capture_output=True).returncode == 0, 20, "the target server")
        r = invoke(n, "probe", {"url": "http://%s.2:8000/index.html" % net})
        check(r["url"] == [200, "hello from outside"], r)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def node_cgroups(node, controller):
    """The node's instance cgroups (spares become instances: any name)."""
    pattern = "/sys/fs/cgroup/%s/**/ows-*-%d-*" % (controller, node.proc.pid)
    return glob.glob(pattern, recursive=True)


def procs(d):
    with open(os.path.join(d, "cgroup.procs")) as f:
        return [int(p) for p in f.read().split()]


def spinner_cgroup(node, controller, mark=b"while True"):
    """The cgroup (and pid) holding the busy function's left-over loop (or
    another process whose command line holds mark)."""
    for d in node_cgroups(node, controller):
        for p in procs(d):
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    if mark in f.read():
                        return d, p
            except OSError:
                pass
    return None


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_idle_instance_is_frozen_and_cpu_limited():
    if not os.path.isdir("/sys/fs/cgroup/freezer"):
        # cgroup v2: cgroup.freeze in the instance's one directory
        controller = ""
    else:
        controller = "freezer"
    n = started()
    deploy_iso(n)
    invoke(n, "busy", {})
    d, spinner = wait_for(lambda: spinner_cgroup(n, controller), 10, "busy's cgroup")
    state_file = os.path.join(d, "freezer.state" if controller else "cgroup.freeze")
    frozen = "FROZEN" if controller else "1"
    wait_for(lambda: open(state_file).read().strip() == frozen, 10, "the freeze")
    before = cpu_ticks(spinner)
    time.sleep(1.0)
    after = cpu_ticks(spinner)
    check(after == before, "a frozen process ran: %d -> %d ticks" % (before, after))
    # Its CPU: 256 MB gets 256/1769 of one CPU, as on Lambda.
    if controller:
        cpu = os.path.join("/sys/fs/cgroup/cpu", os.path.relpath(d, "/sys/fs/cgroup/freezer"))
        with open(os.path.join(cpu, "cpu.cfs_quota_us")) as f:
            check(int(f.read()) == 256 * 1000 // 1769 * 100, "quota")
    # The next invocation thaws it; it is frozen again afterwards.
    invoke(n, "busy", {})
    wait_for(lambda: open(state_file).read().strip() == frozen, 10, "the freeze")
    # An http instance with no request in flight is frozen too.
    d, _ = wait_for(lambda: spinner_cgroup(n, controller, b"server.py"), 10, "web's cgroup")
    web_state = os.path.join(d, "freezer.state" if controller else "cgroup.freeze")
    wait_for(lambda: open(web_state).read().strip() == frozen, 10, "web frozen")


def test_function_cannot_reach_the_clusters_other_nodes():
    """Another node of the cluster is another machine (here: a network
    namespace of the test's own): a function reaches it through the node's
    NAT like any outside address, unless the node drops its peers."""
    from owstest import OWSD
    pid = os.getpid()
    ns, h_if, t_if = "owspeer%d" % pid, "owsp%dh" % (pid % 10000), "owsp%dt" % (pid % 10000)
    net = "10.252.%d" % (pid % 250)
    peer = None
    try:
        other_host(ns, h_if, t_if, net)
        a = Node()
        a.edge, a.gateway, a.raft = ["%s.1:%d" % (net, free_port()) for _ in range(3)]
        a.init()
        a.start()
        b = Node()
        b.edge, b.gateway, b.raft = ["%s.2:%d" % (net, free_port()) for _ in range(3)]
        token = a.ows("node", "token").stdout.strip()
        p = subprocess.run(["ip", "netns", "exec", ns, OWSD, "join", "-d", b.dir,
                            "--peer", a.edge, "--token", token] + b.addr_args(),
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, p.stderr)
        with open(b.log, "a") as logf:
            peer = subprocess.Popen(["ip", "netns", "exec", ns, OWSD, "run", "-d", b.dir],
                                    stdout=logf, stderr=subprocess.STDOUT)
        wait_for(lambda: len([x for x in a.status()["nodes"] if x["health"] == "up"]) == 2,
                 30, "the peer to join")
        deploy_iso(a)
        braft, bedge = [int(x.rsplit(":", 1)[1]) for x in (b.raft, b.edge)]
        # The peer is there: the test itself reaches it.
        socket.create_connection((net + ".2", braft), 2).close()
        r = invoke(a, "probe", {"targets": [[net + ".2", braft], [net + ".2", bedge]]})
        connected = [k for k, v in r["connect"].items() if v == "connected"]
        check(not connected, "a function reached the cluster's other node: %s" % connected)
    finally:
        if peer is not None:
            peer.terminate()
            try:
                peer.wait(20)
            except subprocess.TimeoutExpired:
                peer.kill()
                peer.wait()
        subprocess.run(["ip", "link", "del", h_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_a_host_that_did_not_forward_does_not_start_routing():
    """The node turns IPv4 forwarding on for its instances; on a host that
    did not forward before, it keeps the host's other networks from being
    routed to each other (a table of its own, inet owsg)."""
    pid = os.getpid()
    nets = []
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        before = f.read().strip()
    subprocess.run(["nft", "delete", "table", "inet", "owsg"], capture_output=True)
    try:
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("0")
        # Two networks of the host's, each a namespace with a route to the
        # other through the host.
        for i in (1, 2):
            ns, h, t = "owsfw%d%d" % (pid, i), "owsf%d%dh" % (pid % 10000, i), \
                "owsf%d%dt" % (pid % 10000, i)
            net = "10.%d.%d" % (240 + i, pid % 250)
            nets.append((ns, h, net))
            other_host(ns, h, t, net, route=True)
        n = started()
        deploy_iso(n)
        wait_for(lambda: open("/proc/sys/net/ipv4/ip_forward").read().strip() == "1",
                 10, "forwarding on")
        server = subprocess.Popen(["ip", "netns", "exec", nets[1][0], "python3", "-m",
                                   "http.server", "8000", "--bind", nets[1][2] + ".2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: subprocess.run(
                ["ip", "netns", "exec", nets[1][0], "python3", "-c",
                 "import socket; socket.create_connection(('%s.2', 8000), 1)" % nets[1][2]],
                capture_output=True).returncode == 0, 20, "the server")
            routed = subprocess.run(
                ["ip", "netns", "exec", nets[0][0], "python3", "-c",
                 "import socket; socket.create_connection(('%s.2', 8000), 2)" % nets[1][2]],
                capture_output=True).returncode == 0
            check(not routed, "the host routed between its other networks")
            # Functions still reach the outside (the second network).
            r = invoke(n, "probe", {"url": "http://%s.2:8000/" % nets[1][2]})
            check(r["url"][0] == 200, r)
        finally:
            server.kill()
            server.wait()
    finally:
        for ns, h, _ in nets:
            subprocess.run(["ip", "link", "del", h], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["nft", "delete", "table", "inet", "owsg"], capture_output=True)
        with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
            f.write("1" if before == "1" else before)
