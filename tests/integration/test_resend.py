"""Lost answers (issue 8): a change set whose first answer is lost after the
commit and that is sent again is reported once, as a success, with its first
result (height, head), and applies once; ows key access create and ows node
token print their secret and token although the first answer never came; a
nonce reused with other content is still NonceReused. On three nodes, with a
TCP proxy in front of a follower that swallows the first answer to a change
set (it closes both sides as soon as the node starts answering, which the
node does only once the entry is committed and applied)."""
import json
import os
import shutil
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from owstest import (Node, auth_header, aws_cli, check, envelope, free_port, http,  # noqa: E402
                     ows, tmpdir, wait_for, write_json)
from test_cluster import cluster3, leader_of  # noqa: E402

CHANGESETS = b"POST /_ows/v1/changesets "


class LosingProxy:
    """Relays 127.0.0.1:port to upstream; the first `drops` answers to a
    change set POST are swallowed: both connections closed at their first
    byte."""

    def __init__(self, upstream, drops=1):
        self.upstream = upstream
        self.drops = drops
        self.dropped = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", free_port()))
        self.sock.listen(16)
        self.edge = "127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def close(self):
        self.sock.close()

    def serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client):
        host, port = self.upstream.rsplit(":", 1)
        try:
            up = socket.create_connection((host, int(port)))
        except OSError:
            client.close()
            return
        first = b""
        while len(first) < len(CHANGESETS):
            b = client.recv(65536)
            if not b:
                break
            first += b
        with self.lock:
            swallow = first.startswith(CHANGESETS) and self.dropped < self.drops
            if swallow:
                self.dropped += 1
        up.sendall(first)
        threading.Thread(target=pump, args=(client, up), daemon=True).start()
        if swallow:
            up.recv(1)  # the node answers: the entry is committed
            for s in (client, up):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            return
        pump(up, client)


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post(addr, keyfile, body):
    auth = auth_header(keyfile, "POST", "/_ows/v1/changesets", body)
    st, resp = http(addr, "POST", "/_ows/v1/changesets", body,
                    {"Authorization": auth, "Content-Type": "application/json"})
    return st, json.loads(resp) if resp else None


def ledger_with(node, nonce):
    log = node.ows_json("ledger", "log")
    return [e for e in log if e["entry"]["type"] == "changeset" and
            e["entry"]["body"]["changeset"]["nonce"] == nonce]


def follower_of(nodes):
    lead = wait_for(lambda: leader_of(nodes), 30, "a leader")
    return lead, [n for n in nodes if n is not lead][0]


def same_head_everywhere(nodes):
    def heads():
        v = [n.ows_json("ledger", "verify") for n in nodes]
        return all(x["ok"] for x in v) and len({(x["height"], x["head"]) for x in v}) == 1
    wait_for(heads, 30, "one verified head on all nodes")


def test_lost_answer_resent_gets_first_result_once():
    nodes = cluster3()
    lead, fol = follower_of(nodes)
    cluster = fol.status()["cluster"]
    proxy = LosingProxy(fol.edge)
    env = envelope(fol.root_key, cluster,
                   [{"action": "users.put", "name": "resent", "spec": {}}])
    nonce = env["changeset"]["nonce"]
    body = json.dumps(env)
    # The first answer is lost: the client sees the connection close.
    st, r = post(proxy.edge, fol.root_key, body)
    check(st is None and proxy.dropped == 1, (st, r, proxy.dropped))
    wait_for(lambda: len(ledger_with(fol, nonce)) == 1, 30, "the entry applied")
    first = ledger_with(fol, nonce)[0]
    # The same bytes again, through the same follower (answered from its
    # committed state) and through the leader (another request context).
    for addr in (proxy.edge, lead.edge):
        st, r = post(addr, fol.root_key, body)
        check(st == 200 and r["ok"], (addr, st, r))
        check((r["height"], r["hash"]) == (first["height"], first["hash"]),
              (r, first))
    for n in nodes:
        wait_for(lambda: len(ledger_with(n, nonce)) == 1, 30, "the entry on every node")
        check(len(ledger_with(n, nonce)) == 1, ledger_with(n, nonce))
    # The same nonce with other content is still a replay.
    other = envelope(fol.root_key, cluster,
                     [{"action": "users.put", "name": "other", "spec": {}}], nonce=nonce)
    st, r = post(lead.edge, fol.root_key, json.dumps(other))
    check(st == 409 and r["code"] == "NonceReused", (st, r))
    check(len(ledger_with(lead, nonce)) == 1)
    same_head_everywhere(nodes)
    proxy.close()


def test_ows_prints_secret_and_token_when_first_answer_lost():
    nodes = cluster3()
    lead, fol = follower_of(nodes)
    fol.ows("apply", "--yes", write_stack())
    proxy = LosingProxy(fol.edge)
    p = ows("--json", "key", "access", "create", "dev", endpoint=proxy.edge,
            key=fol.root_key)
    check(proxy.dropped == 1, proxy.dropped)
    made = json.loads(p.stdout)
    kid, secret = made["access_key_id"], made["secret_access_key"]
    check(p.stdout.count(secret) == 1 and p.stderr == "", (p.stdout, p.stderr))
    keys = [k["id"] for k in lead.ows_json("key", "access", "ls", "dev")]
    check(keys == [kid], keys)
    # The key works: the signed STS call answers with the user.
    check_key(lead, kid, secret)

    proxy.drops += 1
    p = ows("node", "token", endpoint=proxy.edge, key=fol.root_key)
    check(proxy.dropped == 2, proxy.dropped)
    tok = p.stdout.strip()
    check(len(tok) == 64 and p.stderr == "", (p.stdout, p.stderr))
    # The token printed is the one recorded: a fourth node joins with it.
    n4 = Node(tmpdir())
    j = n4.join(lead, tok)
    shutil.copy(lead.root_key, n4.root_key)
    check(j.returncode == 0 and "as node 4" in j.stdout, (j.stdout, j.stderr))
    n4.start()
    same_head_everywhere(nodes + [n4])
    proxy.close()


def write_stack():
    return write_json({"stack": "s", "users": {"dev": {}}})


def check_key(node, kid, secret):
    p = aws_cli(node, (kid, secret), "sts", "get-caller-identity", "--output", "json",
                debian=True)
    check(p.returncode == 0 and "dev" in p.stdout, (p.stdout, p.stderr))
