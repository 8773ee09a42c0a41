"""The blob store: content-addressed uploads streamed to disk, digest
checked, read back; unsigned requests refused."""
import hashlib
import os

from owstest import check, http, signed_request, started


def test_put_head_get_and_bad_digest():
    n = started()
    data = os.urandom(5 * 1024 * 1024 + 17)
    h = hashlib.sha256(data).hexdigest()
    st, r = signed_request(n, n.root_key, "HEAD", "/_ows/v1/blobs/" + h)
    check(st == 404, (st, r))
    st, r = signed_request(n, n.root_key, "PUT", "/_ows/v1/blobs/" + h, data)
    check(st == 200 and r == {"blob": h, "size": len(data)}, (st, r))
    st, r = signed_request(n, n.root_key, "HEAD", "/_ows/v1/blobs/" + h)
    check(st == 200, (st, r))
    st, body = signed_request(n, n.root_key, "GET", "/_ows/v1/blobs/" + h)
    check(st == 200 and body == data, (st, len(body)))
    check(open(os.path.join(n.dir, "blobs", h), "rb").read() == data)
    # A body whose hash is not its name: refused, nothing kept.
    other = hashlib.sha256(b"x").hexdigest()
    st, r = signed_request(n, n.root_key, "PUT", "/_ows/v1/blobs/" + other, b"y")
    check(st in (400, 401), (st, r))
    check(not os.path.exists(os.path.join(n.dir, "blobs", other)))
    check([f for f in os.listdir(os.path.join(n.dir, "blobs")) if f.startswith(".tmp")] == [])
    st, r = http(n.edge, "GET", "/_ows/v1/blobs/" + h)
    check(st == 401, st)
    st, r = signed_request(n, n.root_key, "GET", "/_ows/v1/blobs/nothex")
    check(st == 400, (st, r))
