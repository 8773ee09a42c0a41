"""Bad input on the edge port: malformed HTTP, oversized headers and bodies,
invalid JSON, truncated change sets, unknown paths and methods. Each gets a
clear 4xx in JSON and the node keeps serving."""
import json
import socket

from owstest import auth_header, check, envelope, http, raw_http, signed_request, started


def still_serving(n):
    st = n.status()
    check(st["node"]["role"] == "leader", st)


def test_malformed_http():
    n = started()
    for data in (b"GARBAGE\r\n\r\n",
                 b"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
                 b"\x00\x01\x02\x03\r\n\r\n",
                 b"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                 # Signed by a known key, so the body is read (and found bad).
                 b"POST /_ows/v1/changesets HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                 b"Authorization: " + auth_header(n.root_key, "POST",
                                                  "/_ows/v1/changesets").encode() +
                 b"\r\n\r\nZZ\r\n"):
        st, body = raw_http(n.edge, data)
        check(st == 400, (data, st, body))
        check(json.loads(body)["code"] == "BadRequest", body)
    st, body = raw_http(n.edge, b"GET / HTTP/9.9\r\n\r\n")
    check(st == 505, (st, body))
    still_serving(n)


def test_oversized_headers_431():
    n = started()
    st, body = http(n.edge, "GET", "/_ows/v1/health", headers={"X-Big": "a" * 70000})
    check(st == 431, (st, body))
    still_serving(n)


def test_oversized_body_413():
    n = started()
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    st, body = http(n.edge, "POST", "/_ows/v1/changesets", big,
                    {"Content-Type": "application/json",
                     "Authorization": auth_header(n.root_key, "POST",
                                                  "/_ows/v1/changesets", big)})
    check(st == 413, (st, body[:200]))
    # Unsigned: refused before the body, whatever its size.
    st, body = http(n.edge, "POST", "/_ows/v1/changesets", big,
                    {"Content-Type": "application/json"})
    check(st == 401, (st, body[:200]))
    still_serving(n)


def test_invalid_json_400():
    n = started()
    for body in ("{", "[1,2", "{\"a\":1,\"a\":2}", "\xff"):
        st, resp = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", body)
        check(st == 400, (body, st, resp))
        check(resp["code"] == "MalformedJSON", resp)
    # Unsigned: refused before the body is even looked at.
    st, resp = http(n.edge, "POST", "/_ows/v1/changesets", "{",
                    {"Content-Type": "application/json"})
    check(st == 401 and json.loads(resp)["code"] == "Unauthenticated", (st, resp))
    still_serving(n)


def test_truncated_and_malformed_changesets():
    n = started()
    cluster = n.status()["cluster"]
    env = json.dumps(envelope(n.root_key, cluster,
                              [{"action": "users.put", "name": "u", "spec": {}}]))
    st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", env[:len(env) // 2])
    check(st == 400 and r["code"] == "MalformedJSON", (st, r))
    for bad in ({}, {"changeset": {}}, {"changeset": {"cluster": cluster}, "signatures": []},
                {"changeset": json.loads(env)["changeset"], "signatures": []},
                {"changeset": json.loads(env)["changeset"], "signatures": [{"key": 1}]}):
        st, r = signed_request(n, n.root_key, "POST", "/_ows/v1/changesets", json.dumps(bad))
        check(st in (400, 403) and r["code"] in ("MalformedChangeSet", "InvalidSignature"),
              (bad, st, r))
    st = n.status()
    check(st["ledger"]["height"] == 1, st)
    still_serving(n)


def test_join_without_box_key_or_signature():
    n = started()
    body = json.dumps({"token": "0" * 64, "node": {"raft": "127.0.0.1:1", "edge": "127.0.0.1:2",
                                                  "gateway": "127.0.0.1:3", "key": "x"}})
    st, r = http(n.edge, "POST", "/_ows/v1/join", body, {"Content-Type": "application/json"})
    check(st == 401 and json.loads(r)["code"] == "Unauthenticated", (st, r))
    from owstest import keygen, pubkey
    key, pub = keygen()
    req = json.loads(body)
    req["node"]["key"] = pub
    st, r = signed_request(n, key, "POST", "/_ows/v1/join", json.dumps(req))
    check(st == 400 and r["code"] == "MalformedJoin" and "box_key" in r["message"], (st, r))
    req["box_key"] = pubkey(key)  # well-formed; the token is what fails
    st, r = signed_request(n, key, "POST", "/_ows/v1/join", json.dumps(req))
    check(st == 403 and r["code"] == "InvalidToken", (st, r))
    still_serving(n)


def test_unknown_paths_and_methods():
    n = started()
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/nope")
    check(st == 404 and r["code"] == "NotFound", (st, r))
    st, r = signed_request(n, n.root_key, "DELETE", "/_ows/v1/status")
    check(st == 405 and r["code"] == "MethodNotAllowed", (st, r))
    # Outside /_ows/ the edge speaks the AWS APIs: unsigned is S3's (a
    # bucket policy may allow anyone), refused as S3 does.
    st, r = http(n.edge, "GET", "/elsewhere")
    check(st == 403 and b"<Error><Code>AccessDenied</Code>" in r, (st, r))
    st, r = http(n.gateway, "GET", "/anything")
    check(st == 404 and json.loads(r)["message"] == "Not Found", (st, r))
    still_serving(n)


def test_slow_and_abandoned_clients():
    n = started()
    host, port = n.edge.rsplit(":", 1)
    # Many connections that send half a request and stop: the node still answers.
    socks = []
    for _ in range(50):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"POST /_ows/v1/changesets HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        socks.append(s)
    still_serving(n)
    for s in socks:
        s.close()
    still_serving(n)
