"""The gateway port with curl: python3 and nodejs handlers written for API
Gateway HTTP APIs (payload 2.0) get path parameters, query strings, headers,
cookies, JSON and binary bodies, and answer with status codes, headers,
cookies and binary bodies; unknown paths get 404; a redeploy swaps routes;
CORS preflights are answered."""
import base64
import json
import os
import subprocess

from owstest import check, deploy, started, tmpdir

PY = r'''
import base64, json
def handler(event, context):
    p = event["rawPath"]
    if p.startswith("/bin"):
        return {"statusCode": 201, "isBase64Encoded": True,
                "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes(range(256))).decode()}
    if p.startswith("/status"):
        return {"statusCode": int(event["pathParameters"]["code"]),
                "headers": {"x-custom": "yes"}, "cookies": ["a=1", "b=2; Path=/"],
                "body": "custom"}
    if p.startswith("/bare"):
        return {"just": "an object"}
    body = event.get("body")
    if event.get("isBase64Encoded"):
        body = {"binary_len": len(base64.b64decode(body))}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"route": event["routeKey"], "path": p,
                                "params": event.get("pathParameters"),
                                "query": event.get("queryStringParameters"),
                                "raw_query": event["rawQueryString"],
                                "cookies": event.get("cookies"),
                                "ua": event["headers"].get("user-agent"),
                                "xh": event["headers"].get("x-hello"),
                                "method": event["requestContext"]["http"]["method"],
                                "body": body})}
'''

NODE = r'''
exports.handler = async (event) => ({
  statusCode: 200, headers: {"content-type": "text/plain"},
  body: "node says " + event.pathParameters.proxy,
});
'''


def deploy_web(n, routes, name="stack.json"):
    """api (python3) and js (nodejs) with routes."""
    deploy(n, {"stack": "web", "functions": {
        "api": {"runtime": "python3", "handler": "app.handler", "code": "./py"},
        "js": {"runtime": "nodejs", "handler": "index.handler", "code": "./js"}},
        "routes": routes}, {"py/app.py": PY, "js/index.js": NODE}, name=name)


def curl(n, path, *args):
    p = subprocess.run(["curl", "-s", "-i", "--max-time", "30"] + list(args) +
                       ["http://%s%s" % (n.gateway, path)], capture_output=True, timeout=60)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(": ")
        headers.setdefault(k.lower(), []).append(v)
    return int(lines[0].split()[1]), headers, body


ROUTES = {"GET /users/{id}": "api", "POST /users/{id}": "api", "ANY /bin": "api",
          "GET /status/{code}": "api", "GET /bare": "api", "ANY /js/{proxy+}": "js"}


def started_web():
    n = started()
    deploy_web(n, ROUTES)
    return n


def test_path_query_headers_cookies_and_json_body():
    n = started_web()
    st, h, body = curl(n, "/users/42%20x?a=1&a=2&b=three", "-H", "X-Hello: there",
                       "-H", "Cookie: c1=v1; c2=v2", "-A", "owstest")
    check(st == 200, (st, body))
    r = json.loads(body)
    check(r["route"] == "GET /users/{id}" and r["params"] == {"id": "42 x"}, r)
    check(r["query"] == {"a": "1,2", "b": "three"} and r["raw_query"] == "a=1&a=2&b=three", r)
    check(r["cookies"] == ["c1=v1", "c2=v2"] and r["ua"] == "owstest" and r["xh"] == "there", r)
    st, h, body = curl(n, "/users/7", "-X", "POST", "-H", "Content-Type: application/json",
                       "--data", '{"name": "ann"}')
    r = json.loads(body)
    check(st == 200 and r["method"] == "POST" and json.loads(r["body"]) == {"name": "ann"}, r)


def test_binary_bodies_status_codes_cookies():
    n = started_web()
    raw = bytes(range(256)) * 4
    src = os.path.join(tmpdir(), "blob")
    with open(src, "wb") as f:
        f.write(raw)
    st, h, body = curl(n, "/bin", "-X", "PUT", "-H", "Content-Type: application/octet-stream",
                       "--data-binary", "@" + src)
    check(st == 201 and body == bytes(range(256)), (st, body[:40]))
    check(h["content-type"] == ["application/octet-stream"], h)
    st, h, body = curl(n, "/status/418")
    check(st == 418 and body == b"custom" and h["x-custom"] == ["yes"], (st, h, body))
    check(sorted(h["set-cookie"]) == ["a=1", "b=2; Path=/"], h)
    st, h, body = curl(n, "/bare")
    check(st == 200 and json.loads(body) == {"just": "an object"}, (st, body))
    check(h["content-type"] == ["application/json"], h)
    # A body the gateway takes (10 MB) but whose event is over Lambda's
    # 6 MB is the client's fault: 413, as API Gateway answers.
    with open(src, "wb") as f:
        f.write(b"x" * (7 << 20))
    st, h, body = curl(n, "/bin", "-X", "PUT", "-H", "Content-Type: text/plain", "-H", "Expect:",
                       "--data-binary", "@" + src)
    check(st == 413 and b"Request Entity Too Large" in body, (st, body[:80]))


def test_nodejs_greedy_route_and_not_found():
    n = started_web()
    st, h, body = curl(n, "/js/a/b/c")
    check(st == 200 and body == b"node says a/b/c", (st, body))
    for path, method in (("/nowhere", "GET"), ("/users/1", "DELETE"), ("/users", "GET")):
        st, h, body = curl(n, path, "-X", method)
        check(st == 404 and json.loads(body) == {"message": "Not Found"}, (path, st, body))


def test_redeploy_swaps_routes_and_cors_preflight():
    n = started_web()
    deploy_web(n, {"GET /v2/{id}": {"function": "api", "cors": {
        "allow_origins": ["https://app.example"], "allow_methods": ["GET"],
        "max_age": 60}}}, "v2.json")
    st, h, body = curl(n, "/users/1")
    check(st == 404, st)
    st, h, body = curl(n, "/v2/9", "-H", "Origin: https://app.example")
    check(st == 200 and json.loads(body)["params"] == {"id": "9"}, (st, body))
    check(h.get("access-control-allow-origin") == ["https://app.example"], h)
    st, h, body = curl(n, "/v2/9", "-X", "OPTIONS", "-H", "Origin: https://app.example",
                       "-H", "Access-Control-Request-Method: GET")
    check(st == 204 and h.get("access-control-allow-origin") == ["https://app.example"], (st, h))


SERVER = r'''
import http.server, os, json
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-App", "yes")
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/slow":
            import time
            time.sleep(3)
        self._send(200, json.dumps({"path": self.path, "pid": os.getpid(),
                                    "xh": self.headers.get("X-Hello")}).encode())
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(n)
        self._send(201, data, "application/octet-stream")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
'''


def test_http_runtime_is_proxied_as_plain_http():
    n = started()
    deploy(n, {"stack": "web", "functions": {"app": {
        "runtime": "http", "command": ["/usr/bin/python3", "server.py"],
        "code": "./web", "timeout_s": 10}},
        "routes": {"ANY /{proxy+}": "app"}}, {"web/server.py": SERVER})
    st, h, body = curl(n, "/some/where?q=1", "-H", "X-Hello: hi")
    check(st == 200 and h.get("x-app") == ["yes"], (st, h, body))
    r = json.loads(body)
    check(r["path"] == "/some/where?q=1" and r["xh"] == "hi", r)
    # The instance stays warm: the same process serves the next request.
    st, h, body2 = curl(n, "/again")
    check(json.loads(body2)["pid"] == r["pid"], (r, body2))
    raw = os.path.join(tmpdir(), "raw")
    with open(raw, "wb") as f:
        f.write(bytes(range(256)))
    st, h, body = curl(n, "/upload", "-X", "POST", "--data-binary", "@" + raw)
    check(st == 201 and body == bytes(range(256)), (st, body[:20]))
    # A request being proxied while the node stops: the node still stops
    # cleanly, at once (the instance it had lent is given back and freed).
    import time
    slow = subprocess.Popen(["curl", "-s", "-o", "/dev/null", "--max-time", "20",
                             "http://%s/slow" % n.gateway])
    time.sleep(1)
    rc = n.stop(timeout=15)
    check(rc == 0, rc)  # -9 had it hung until killed
    slow.wait(30)


SIGNED_GET = """
import sys, urllib.request, botocore.auth, botocore.awsrequest, botocore.credentials
url, key, secret = sys.argv[1:4]
req = botocore.awsrequest.AWSRequest(method="GET", url=url)
botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret),
                        "execute-api", "us-east-1").add_auth(req)
try:
    r = urllib.request.urlopen(urllib.request.Request(url, headers=dict(req.headers)))
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"""


def signed_get(n, path, key, secret):
    p = subprocess.run(["/usr/bin/python3", "-c", SIGNED_GET, "http://%s%s" % (n.gateway, path),
                        key, secret], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, p.stderr)
    code, _, body = p.stdout.strip().partition(" ")
    return int(code), body


def test_iam_routes_need_sigv4_and_execute_api_invoke():
    from owstest import keygen
    n = started()
    k, pub = keygen()
    routes = dict(ROUTES)
    routes["GET /private/{id}"] = {"function": "api", "auth": "iam"}
    deploy_web(n, routes)
    users = {"stack": "people",
             "users": {"alice": {"public_keys": [pub], "policies": ["invoke"]}, "bob": {}},
             "policies": {"invoke": {"Statement": [{
                 "Effect": "Allow", "Action": "execute-api:Invoke",
                 "Resource": "arn:ows:execute-api::route/GET /private/*"}]}}}
    path = os.path.join(tmpdir(), "users.json")
    with open(path, "w") as f:
        json.dump(users, f)
    n.ows("apply", path, "--yes")
    st, h, body = curl(n, "/private/1")
    check(st == 403 and json.loads(body) == {"message": "Forbidden"}, (st, body))
    alice = n.ows_json("key", "access", "create", "alice")
    bob = n.ows_json("key", "access", "create", "bob")
    st, body = signed_get(n, "/private/7", alice["access_key_id"], alice["secret_access_key"])
    check(st == 200 and json.loads(body)["params"] == {"id": "7"}, (st, body))
    st, body = signed_get(n, "/private/7", bob["access_key_id"], bob["secret_access_key"])
    check(st == 403, (st, body))
    st, body = signed_get(n, "/private/7", alice["access_key_id"], "wrong" * 8)
    check(st == 403, (st, body))
    # Routes without auth stay open.
    st, h, body = curl(n, "/users/1")
    check(st == 200, st)
