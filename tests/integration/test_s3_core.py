"""S3's core on a real node with real clients: buckets (aws cli v1 and
Debian's 2.9, boto3), objects streamed in and out (PutObject, GetObject
with ranges and conditionals, HeadObject, DeleteObject), checksums in
headers and in aws-chunked trailers (boto3 1.43 sends CRC32 trailers by
default; boto3 1.26 does not), Content-MD5, conditional writes decided
at apply, s3cmd, rclone, virtual-host style with curl, a custom
--s3-domain, stack files' buckets and force_delete, and each error path
with S3's code."""
import base64
import hashlib
import json
import os
import subprocess
import zlib

from owstest import (OWSD, PYTHON_DEBIAN, Node, aws_cli, aws_env, boto3_client, check,
                     deploy, http, rclone, root_creds, s3cmd, started, tmpdir)


def aws(n, *args, debian=False):
    return aws_cli(n, None, "--output", "json", *args, debian=debian)


def client_error(fn, **kw):
    """(code, status, response) of the ClientError fn(**kw) raises."""
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"].get("Code"),
                e.response["ResponseMetadata"]["HTTPStatusCode"], e.response)
    return None


def signed(n, method, path, body=b"", headers=None, key=None, query=""):
    """A request signed by botocore's S3 signer (x-amz-content-sha256 of
    the body unless headers say otherwise): (status, headers, body)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import urllib.request
    key = key or root_creds(n)
    url = "http://%s%s%s" % (n.edge, path, "?" + query if query else "")
    h = dict(headers or {})
    h.setdefault("x-amz-content-sha256", hashlib.sha256(body).hexdigest())
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=h)
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(key[0], key[1]),
                              "s3", "us-east-1").add_auth(req)
    r = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None,
                               method=method, headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


def code_of(body):
    return body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in body else None


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return base64.b64encode((crc ^ 0xFFFFFFFF).to_bytes(4, "big")).decode()


def b64md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# ---- buckets ----

def test_s3_buckets_with_the_aws_cli():
    n = started()
    for debian, name in ((False, "cli-v1-bucket"), (True, "cli-deb-bucket")):
        p = aws(n, "s3", "mb", "s3://" + name, debian=debian)
        check(p.returncode == 0 and "make_bucket: " + name in p.stdout, (p.stdout, p.stderr))
        p = aws(n, "s3", "ls", debian=debian)
        check(p.returncode == 0 and name in p.stdout, (p.stdout, p.stderr))
        p = aws(n, "s3api", "head-bucket", "--bucket", name, debian=debian)
        check(p.returncode == 0, p.stderr)
        p = aws(n, "s3", "mb", "s3://" + name, debian=debian)
        check(p.returncode != 0 and "BucketAlreadyOwnedByYou" in p.stderr, p.stderr)
    p = aws(n, "s3api", "list-buckets")
    names = [b["Name"] for b in json.loads(p.stdout)["Buckets"]]
    check(names == ["cli-deb-bucket", "cli-v1-bucket"], names)
    check(json.loads(p.stdout)["Owner"]["DisplayName"], p.stdout)
    p = aws(n, "s3api", "get-bucket-location", "--bucket", "cli-v1-bucket")
    check(json.loads(p.stdout).get("LocationConstraint") in (None, ""), p.stdout)
    p = aws(n, "s3api", "head-bucket", "--bucket", "no-such-bucket")
    check(p.returncode != 0 and "404" in p.stderr, p.stderr)
    p = aws(n, "s3", "mb", "s3://Bad_Name")
    check(p.returncode != 0 and "InvalidBucketName" in p.stderr, p.stderr)
    p = aws(n, "s3", "rb", "s3://cli-v1-bucket")
    check(p.returncode == 0, p.stderr)
    p = aws(n, "s3", "rb", "s3://cli-deb-bucket", debian=True)
    check(p.returncode == 0, p.stderr)
    p = aws(n, "s3", "ls")
    check(p.returncode == 0 and "bucket" not in p.stdout, p.stdout)
    p = aws(n, "s3", "rb", "s3://cli-v1-bucket")
    check(p.returncode != 0 and "NoSuchBucket" in p.stderr, p.stderr)


def test_s3_bucket_errors_as_s3_says():
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="errs")
    e = client_error(s3.create_bucket, Bucket="errs")
    check(e[:2] == ("BucketAlreadyOwnedByYou", 409), e)
    check(e[2]["Error"].get("BucketName") == "errs", e)
    # us-east-1 takes no constraint; another region is not this one
    e = client_error(s3.create_bucket, Bucket="loc1",
                     CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    check(e[:2] == ("InvalidLocationConstraint", 400), e)
    e = client_error(s3.create_bucket, Bucket="loc2",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    check(e[:2] == ("IllegalLocationConstraintException", 400), e)
    st, _, body = signed(n, "PUT", "/loc3", b"<CreateBucketConfiguration><oops>")
    check(st == 400 and code_of(body) == "MalformedXML", (st, body))
    e = client_error(s3.head_bucket, Bucket="loc2")
    check(e[1] == 404, e)
    s3.put_object(Bucket="errs", Key="k", Body=b"x")
    e = client_error(s3.delete_bucket, Bucket="errs")
    check(e[:2] == ("BucketNotEmpty", 409), e)
    s3.delete_object(Bucket="errs", Key="k")
    s3.delete_bucket(Bucket="errs")
    e = client_error(s3.delete_bucket, Bucket="errs")
    check(e[:2] == ("NoSuchBucket", 404), e)
    # an operation not built answers NotImplemented, not a wrong success
    st, _, body = signed(n, "GET", "/", query="")
    check(st == 200, st)
    s3.create_bucket(Bucket="errs2")
    st, _, body = signed(n, "GET", "/errs2", query="lifecycle")
    check(st == 501 and code_of(body) == "NotImplemented", (st, body))


def test_s3_region_of_a_node_in_another_region():
    n = Node()
    n.init()
    cfg_path = os.path.join(n.dir, "node.json")
    cfg = json.load(open(cfg_path))
    cfg["region"] = "eu-west-1"
    json.dump(cfg, open(cfg_path, "w"))
    n.start()
    s3 = boto3_client(n, "s3", region="eu-west-1")
    e = client_error(s3.create_bucket, Bucket="nowhere")
    check(e[:2] == ("IllegalLocationConstraintException", 400), e)
    s3.create_bucket(Bucket="eu-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    check(s3.get_bucket_location(Bucket="eu-bucket")["LocationConstraint"] == "eu-west-1")
    h = s3.head_bucket(Bucket="eu-bucket")
    check(h["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1", h)


# ---- objects ----

def test_s3_objects_with_the_aws_cli():
    n = started()
    d = tmpdir()
    data = os.urandom(300 * 1024 + 7)
    src = os.path.join(d, "f.bin")
    open(src, "wb").write(data)
    for debian in (False, True):
        b = "deb-objs" if debian else "v1-objs"
        check(aws(n, "s3", "mb", "s3://" + b, debian=debian).returncode == 0)
        p = aws(n, "s3", "cp", src, "s3://%s/dir/f.bin" % b, debian=debian)
        check(p.returncode == 0, p.stderr)
        back = os.path.join(d, "back-%s" % b)
        p = aws(n, "s3", "cp", "s3://%s/dir/f.bin" % b, back, debian=debian)
        check(p.returncode == 0 and open(back, "rb").read() == data, p.stderr)
        p = aws(n, "s3api", "put-object", "--bucket", b, "--key", "meta.txt",
                "--body", src, "--content-type", "text/plain", "--metadata",
                "Color=blue,size=XL", "--cache-control", "max-age=60",
                "--content-disposition", "attachment", debian=debian)
        check(p.returncode == 0, p.stderr)
        etag = json.loads(p.stdout)["ETag"]
        check(etag == '"%s"' % hashlib.md5(data).hexdigest(), (etag, p.stdout))
        p = aws(n, "s3api", "head-object", "--bucket", b, "--key", "meta.txt",
                debian=debian)
        h = json.loads(p.stdout)
        check(h["ContentLength"] == len(data) and h["ContentType"] == "text/plain" and
              h["Metadata"] == {"color": "blue", "size": "XL"} and
              h["CacheControl"] == "max-age=60" and
              h["ContentDisposition"] == "attachment" and h["ETag"] == etag and
              h.get("VersionId") == "null" and h["AcceptRanges"] == "bytes", h)
        out = os.path.join(d, "range-%s" % b)
        p = aws(n, "s3api", "get-object", "--bucket", b, "--key", "meta.txt",
                "--range", "bytes=100-199", out, debian=debian)
        g = json.loads(p.stdout)
        check(open(out, "rb").read() == data[100:200] and
              g["ContentRange"] == "bytes 100-199/%d" % len(data), g)
        p = aws(n, "s3api", "get-object", "--bucket", b, "--key", "meta.txt",
                "--if-none-match", etag, out, debian=debian)
        check(p.returncode != 0 and "304" in p.stderr, p.stderr)
        p = aws(n, "s3api", "get-object", "--bucket", b, "--key", "meta.txt",
                "--if-match", '"0000"', out, debian=debian)
        check(p.returncode != 0 and "PreconditionFailed" in p.stderr, p.stderr)
        p = aws(n, "s3api", "delete-object", "--bucket", b, "--key", "meta.txt",
                debian=debian)
        check(p.returncode == 0, p.stderr)
        p = aws(n, "s3api", "get-object", "--bucket", b, "--key", "meta.txt", out,
                debian=debian)
        check(p.returncode != 0 and "NoSuchKey" in p.stderr, p.stderr)
        p = aws(n, "s3", "rm", "s3://%s/dir/f.bin" % b, debian=debian)
        check(p.returncode == 0, p.stderr)
        check(aws(n, "s3", "rb", "s3://" + b, debian=debian).returncode == 0)


def test_s3_objects_with_boto3_and_crc32_trailers():
    """boto3 1.43 sends an aws-chunked body with a CRC32 trailer."""
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="boto-new")
    data = os.urandom(5 * 1024 * 1024 + 3)
    r = s3.put_object(Bucket="boto-new", Key="big", Body=data, Metadata={"A": "1"},
                      ContentLanguage="en", Expires="Thu, 01 Dec 2044 16:00:00 GMT")
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    check(r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), r)
    check(r.get("ChecksumCRC32") == crc, r)
    g = s3.get_object(Bucket="boto-new", Key="big", ChecksumMode="ENABLED")
    check(g["Body"].read() == data and g.get("ChecksumCRC32") == crc and
          g["ContentLanguage"] == "en" and g["Metadata"] == {"a": "1"}, g)
    check(g["ResponseMetadata"]["HTTPHeaders"]["expires"] ==
          "Thu, 01 Dec 2044 16:00:00 GMT", g)
    # returned only when asked (boto3 asks by default: ask without it)
    st, h, got = signed(n, "GET", "/boto-new/big")
    check(st == 200 and got == data and "x-amz-checksum-crc32" not in h, h)
    # suffix range, and one past the end
    g = s3.get_object(Bucket="boto-new", Key="big", Range="bytes=-10")
    check(g["Body"].read() == data[-10:] and g["ResponseMetadata"]["HTTPStatusCode"] == 206)
    e = client_error(s3.get_object, Bucket="boto-new", Key="big",
                     Range="bytes=%d-" % len(data))
    check(e[:2] == ("InvalidRange", 416), e)
    check(e[2]["ResponseMetadata"]["HTTPHeaders"]["content-range"] ==
          "bytes */%d" % len(data), e)
    # response-* overrides of a signed GET (as presigned URLs carry them)
    g = s3.get_object(Bucket="boto-new", Key="big", ResponseContentType="image/png",
                      ResponseContentDisposition="inline", Range="bytes=0-0")
    check(g["ContentType"] == "image/png" and g["ContentDisposition"] == "inline", g)
    # partNumber of a single-part object: the whole of it
    g = s3.get_object(Bucket="boto-new", Key="big", PartNumber=1)
    check(g["ContentLength"] == len(data), g)
    e = client_error(s3.get_object, Bucket="boto-new", Key="big", PartNumber=2)
    check(e[:2] == ("InvalidPartNumber", 416), e)
    # an empty object
    s3.put_object(Bucket="boto-new", Key="empty", Body=b"")
    g = s3.get_object(Bucket="boto-new", Key="empty")
    check(g["Body"].read() == b"" and g["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"', g)
    # keys with every kind of character
    for key in ("a b/c+d", "ünïcødé/😀", "q?x=1&y#z", "/lead//double/", "~!@$%^*()[]"):
        s3.put_object(Bucket="boto-new", Key=key, Body=key.encode())
        check(s3.get_object(Bucket="boto-new", Key=key)["Body"].read() == key.encode(), key)
    e = client_error(s3.get_object, Bucket="boto-new", Key="k" * 1025)
    check(e and e[0] == "KeyTooLongError", e)


BOTO_OLD = r"""
import base64, hashlib, json, sys, boto3, botocore
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
out = {"version": boto3.__version__}
s3.create_bucket(Bucket="boto-old")
data = b"old boto " * 100000
r = s3.put_object(Bucket="boto-old", Key="k", Body=data, ContentType="text/x-old")
out["etag_ok"] = r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
r = s3.put_object(Bucket="boto-old", Key="sha", Body=b"hello", ChecksumAlgorithm="SHA256")
out["sha"] = r.get("ChecksumSHA256")
g = s3.get_object(Bucket="boto-old", Key="k", Range="bytes=0-8")
out["range"] = g["Body"].read().decode()
h = s3.head_object(Bucket="boto-old", Key="k")
out["head"] = [h["ContentLength"], h["ContentType"]]
try:
    s3.head_object(Bucket="boto-old", Key="nope")
except botocore.exceptions.ClientError as e:
    out["missing"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
s3.delete_object(Bucket="boto-old", Key="k")
out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
print(json.dumps(out))
"""


def test_s3_objects_with_boto3_1_26():
    n = started()
    kid, secret = root_creds(n)
    p = subprocess.run([PYTHON_DEBIAN, "-c", BOTO_OLD, "http://" + n.edge, kid, secret],
                       capture_output=True, text=True, timeout=60, env=aws_env(n))
    check(p.returncode == 0, p.stderr)
    r = json.loads(p.stdout)
    check(r["version"].startswith("1.26") and r["etag_ok"] and
          r["sha"] == base64.b64encode(hashlib.sha256(b"hello").digest()).decode() and
          r["range"] == "old boto " and r["head"] == [900000, "text/x-old"] and
          r["missing"] == 404 and r["buckets"] == ["boto-old"], r)


def test_s3_checksums_and_content_md5():
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="cks")
    body = b"checked bytes"
    for alg, value in (("crc32c", crc32c(body)),
                       ("sha1", base64.b64encode(hashlib.sha1(body).digest()).decode()),
                       ("crc32", base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode())):
        st, h, _ = signed(n, "PUT", "/cks/" + alg, body, {"x-amz-checksum-" + alg: value})
        check(st == 200 and h.get("x-amz-checksum-" + alg) == value, (alg, st, h))
        st, h, got = signed(n, "GET", "/cks/" + alg, headers={"x-amz-checksum-mode": "ENABLED"})
        check(st == 200 and got == body and h.get("x-amz-checksum-" + alg) == value and
              h.get("x-amz-checksum-type") == "FULL_OBJECT", (alg, h))
        # a wrong value: BadDigest, and nothing stored
        st, h, got = signed(n, "PUT", "/cks/bad-" + alg, body + b"!",
                            {"x-amz-checksum-" + alg: value})
        check(st == 400 and code_of(got) == "BadDigest", (alg, st, got))
        e = client_error(s3.head_object, Bucket="cks", Key="bad-" + alg)
        check(e[1] == 404, e)
    st, _, got = signed(n, "PUT", "/cks/two", body, {"x-amz-checksum-crc32c": crc32c(body),
                                                      "x-amz-checksum-sha1": "AAAA"})
    check(st == 400 and code_of(got) == "InvalidRequest", got)
    st, _, got = signed(n, "PUT", "/cks/short", body, {"x-amz-checksum-sha256": "AAAA"})
    check(st == 400 and code_of(got) == "InvalidRequest", got)
    st, _, got = signed(n, "PUT", "/cks/sdk", body, {"x-amz-sdk-checksum-algorithm": "CRC32"})
    check(st == 400 and code_of(got) == "InvalidRequest", got)
    # Content-MD5
    st, h, _ = signed(n, "PUT", "/cks/md5", body, {"Content-MD5": b64md5(body)})
    check(st == 200 and h["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), (st, h))
    st, _, got = signed(n, "PUT", "/cks/md5-bad", body, {"Content-MD5": b64md5(b"other")})
    check(st == 400 and code_of(got) == "BadDigest", got)
    st, _, got = signed(n, "PUT", "/cks/md5-bad", body, {"Content-MD5": "nope"})
    check(st == 400 and code_of(got) == "InvalidDigest", got)
    check(client_error(s3.head_object, Bucket="cks", Key="md5-bad")[1] == 404)
    # boto3's own Content-MD5 and explicit algorithms
    r = s3.put_object(Bucket="cks", Key="sha256", Body=body, ChecksumAlgorithm="SHA256")
    check(r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode(), r)


def test_s3_conditional_writes():
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="conds")
    first = s3.put_object(Bucket="conds", Key="k", Body=b"one", IfNoneMatch="*")
    e = client_error(s3.put_object, Bucket="conds", Key="k", Body=b"two", IfNoneMatch="*")
    check(e[:2] == ("PreconditionFailed", 412), e)
    e = client_error(s3.put_object, Bucket="conds", Key="k", Body=b"two",
                     IfMatch='"00000000000000000000000000000000"')
    check(e[:2] == ("PreconditionFailed", 412), e)
    s3.put_object(Bucket="conds", Key="k", Body=b"two", IfMatch=first["ETag"])
    check(s3.get_object(Bucket="conds", Key="k")["Body"].read() == b"two")
    e = client_error(s3.put_object, Bucket="conds", Key="absent", Body=b"x",
                     IfMatch=first["ETag"])
    check(e[:2] == ("NoSuchKey", 404), e)
    st, _, got = signed(n, "PUT", "/conds/k", b"x", {"If-None-Match": '"abc"'})
    check(st == 501 and code_of(got) == "NotImplemented", got)
    # reads: If-Modified-Since / If-Unmodified-Since
    h = s3.head_object(Bucket="conds", Key="k")
    lm = h["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    st, _, _ = signed(n, "GET", "/conds/k", headers={"If-Modified-Since": lm})
    check(st == 304, st)
    st, _, _ = signed(n, "GET", "/conds/k", headers={"If-Unmodified-Since":
                                                      "Mon, 01 Jan 2001 00:00:00 GMT"})
    check(st == 412, st)
    # If-Match wins over If-Unmodified-Since, as the API reference says
    st, _, got = signed(n, "GET", "/conds/k", headers={
        "If-Match": h["ETag"], "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    check(st == 200 and got == b"two", st)
    # If-None-Match wins over If-Modified-Since
    st, _, _ = signed(n, "GET", "/conds/k", headers={
        "If-None-Match": '"other"', "If-Modified-Since": lm})
    check(st == 200, st)


def test_s3_object_errors():
    n = started()
    s3 = boto3_client(n, "s3")
    e = client_error(s3.put_object, Bucket="no-bucket", Key="k", Body=b"x")
    check(e[:2] == ("NoSuchBucket", 404) and e[2]["Error"]["BucketName"] == "no-bucket", e)
    s3.create_bucket(Bucket="oerr")
    e = client_error(s3.get_object, Bucket="oerr", Key="missing")
    check(e[:2] == ("NoSuchKey", 404) and e[2]["Error"]["Key"] == "missing", e)
    e = client_error(s3.put_object, Bucket="oerr", Key="m", Body=b"x",
                     Metadata={"big": "v" * 2100})
    check(e[:2] == ("MetadataTooLarge", 400), e)
    # 5 GiB at most in one PUT: refused before any byte is read
    st, _, got = signed(n, "PUT", "/oerr/huge", b"", {"Content-Length": str(6 << 30),
                                                      "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    check(st == 400 and code_of(got) == "EntityTooLarge", (st, got))
    # DeleteObject of a key that never was: 204 too
    r = s3.delete_object(Bucket="oerr", Key="never")
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 204, r)
    # signatures: wrong secret, unknown key, none
    kid, _ = root_creds(n)
    bad = boto3_client(n, "s3", key=(kid, "wrong" * 8))
    e = client_error(bad.put_object, Bucket="oerr", Key="k", Body=b"x")
    check(e[:2] == ("SignatureDoesNotMatch", 403), e)
    bad = boto3_client(n, "s3", key=("AKIAUNKNOWNUNKNOWN00", "x" * 40))
    e = client_error(bad.list_buckets)
    check(e[:2] == ("InvalidAccessKeyId", 403), e)
    st, body = http(n.edge, "GET", "/oerr/k")
    check(st == 403 and b"<Code>AccessDenied</Code>" in body, (st, body))
    st, body = http(n.edge, "PUT", "/oerr/k", b"sneaky")
    check(st == 403 and b"<Code>AccessDenied</Code>" in body, (st, body))
    # Signature Version 2 reaches S3, which refuses it in its own shape
    st, body = http(n.edge, "PUT", "/oerr/k", b"old", {"Authorization": "AWS %s:c2ln" % kid})
    check(st == 400 and body.startswith(b"<?xml") and b"<Error><Code>" in body, (st, body))
    check(client_error(s3.head_object, Bucket="oerr", Key="k")[1] == 404)


# ---- other clients ----

def test_s3_with_s3cmd():
    n = started()
    d = tmpdir()
    src = os.path.join(d, "hello.txt")
    open(src, "w").write("hello from s3cmd\n")
    p = s3cmd(n, "mb", "s3://s3cmd-bucket")
    check(p.returncode == 0, p.stderr)
    p = s3cmd(n, "put", src, "s3://s3cmd-bucket/dir/hello.txt")
    check(p.returncode == 0, p.stderr)
    back = os.path.join(d, "back.txt")
    p = s3cmd(n, "get", "s3://s3cmd-bucket/dir/hello.txt", back)
    check(p.returncode == 0 and open(back).read() == "hello from s3cmd\n", p.stderr)
    p = s3cmd(n, "ls")
    check(p.returncode == 0 and "s3://s3cmd-bucket" in p.stdout, (p.stdout, p.stderr))
    p = s3cmd(n, "info", "s3://s3cmd-bucket/dir/hello.txt")
    check(p.returncode == 0 and hashlib.md5(b"hello from s3cmd\n").hexdigest() in p.stdout,
          (p.stdout, p.stderr))
    p = s3cmd(n, "del", "s3://s3cmd-bucket/dir/hello.txt")
    check(p.returncode == 0, p.stderr)
    p = s3cmd(n, "rb", "s3://s3cmd-bucket")
    check(p.returncode == 0, p.stderr)


def test_s3_with_rclone():
    n = started()
    d = tmpdir()
    src = os.path.join(d, "r.bin")
    data = os.urandom(2 * 1024 * 1024 + 1)
    open(src, "wb").write(data)
    p = rclone(n, "mkdir", "ows:rclone-bucket")
    check(p.returncode == 0, p.stderr)
    p = rclone(n, "copyto", src, "ows:rclone-bucket/x/r.bin")
    check(p.returncode == 0, p.stderr)
    back = os.path.join(d, "back.bin")
    p = rclone(n, "copyto", "ows:rclone-bucket/x/r.bin", back)
    check(p.returncode == 0 and open(back, "rb").read() == data, p.stderr)
    p = rclone(n, "lsd", "ows:")
    check(p.returncode == 0 and "rclone-bucket" in p.stdout, (p.stdout, p.stderr))
    p = rclone(n, "deletefile", "ows:rclone-bucket/x/r.bin")
    check(p.returncode == 0, p.stderr)
    check(client_error(boto3_client(n, "s3").head_object, Bucket="rclone-bucket",
                       Key="x/r.bin")[1] == 404)


def curl(n, method, url, key, *extra, domain="s3.localhost"):
    host = url.split("/")[2].split(":")[0]
    port = n.edge.rsplit(":", 1)[1]
    return subprocess.run(
        ["curl", "-s", "-i", "-X", method, "--aws-sigv4", "aws:amz:us-east-1:s3",
         "--user", "%s:%s" % key, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
         "--resolve", "%s:%s:127.0.0.1" % (host, port)] + list(extra) + [url],
        capture_output=True, timeout=30)


def test_s3_virtual_host_style_with_curl():
    n = started()
    key = root_creds(n)
    port = n.edge.rsplit(":", 1)[1]
    base = "http://vhost-bucket.s3.localhost:%s" % port
    p = curl(n, "PUT", base + "/", key)
    check(b"200 OK" in p.stdout.split(b"\r\n")[0], p.stdout)
    p = curl(n, "PUT", base + "/dir/v.txt", key, "--data-binary", "virtual hosted")
    check(b"200 OK" in p.stdout.split(b"\r\n")[0], p.stdout)
    p = curl(n, "GET", base + "/dir/v.txt", key)
    check(p.stdout.endswith(b"\r\n\r\nvirtual hosted"), p.stdout)
    # path style on the domain itself, and on the node's address
    p = curl(n, "GET", "http://s3.localhost:%s/vhost-bucket/dir/v.txt" % port, key)
    check(p.stdout.endswith(b"virtual hosted"), p.stdout)
    s3 = boto3_client(n, "s3")
    check(s3.get_object(Bucket="vhost-bucket", Key="dir/v.txt")["Body"].read() ==
          b"virtual hosted")
    # unsigned under the domain: S3's refusal, even for a bucket named sts
    st, body = http(n.edge, "GET", "/", headers={"Host": "sts.s3.localhost"})
    check(st == 403 and b"<Error><Code>AccessDenied</Code>" in body, (st, body))


def test_s3_domain_of_owsd_init():
    n = Node()
    n.init(extra=["--s3-domain", "files.example.test"])
    check(json.load(open(os.path.join(n.dir, "node.json")))["s3_domain"] ==
          "files.example.test")
    n.start()
    key = root_creds(n)
    port = n.edge.rsplit(":", 1)[1]
    p = curl(n, "PUT", "http://dom-bucket.files.example.test:%s/" % port, key)
    check(b"200 OK" in p.stdout.split(b"\r\n")[0], p.stdout)
    p = curl(n, "PUT", "http://dom-bucket.files.example.test:%s/k" % port, key,
             "--data-binary", "custom domain")
    p = curl(n, "GET", "http://dom-bucket.files.example.test:%s/k" % port, key)
    check(p.stdout.endswith(b"custom domain"), p.stdout)
    bad = Node()
    p = subprocess.run([OWSD, "init", "-d", bad.dir, "--s3-domain", "Bad_Domain"] +
                       bad.addr_args(), capture_output=True, text=True)
    check(p.returncode != 0 and "--s3-domain" in p.stderr, p.stderr)


# ---- stack files ----

def test_s3_buckets_in_stack_files():
    n = started()
    s3 = boto3_client(n, "s3")
    deploy(n, {"stack": "files", "buckets": {"stack-bucket": {}}})
    check("stack-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]])
    s3.put_object(Bucket="stack-bucket", Key="k", Body=b"kept")
    # a stack that drops a non-empty bucket is refused ...
    p = deploy(n, {"stack": "files"}, check_rc=False)
    check(p.returncode != 0 and "BucketNotEmpty" in p.stdout + p.stderr, (p.stdout, p.stderr))
    check(s3.get_object(Bucket="stack-bucket", Key="k")["Body"].read() == b"kept")
    # ... unless it said force_delete first
    deploy(n, {"stack": "files", "buckets": {"stack-bucket": {"force_delete": True}}})
    deploy(n, {"stack": "files"})
    check("stack-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]])
    # a bucket name S3 refuses is refused in the plan
    p = deploy(n, {"stack": "files", "buckets": {"Not_Valid": {}}}, check_rc=False)
    check(p.returncode != 0 and "InvalidBucketName" in p.stdout + p.stderr,
          (p.stdout, p.stderr))
    # the API cannot take over a stack's bucket
    deploy(n, {"stack": "files", "buckets": {"owned-bucket": {}}})
    e = client_error(s3.create_bucket, Bucket="owned-bucket")
    check(e[:2] == ("BucketAlreadyOwnedByYou", 409), e)


# ---- bodies are streamed ----

def test_s3_three_nodes_read_what_one_wrote():
    """A PUT through node 1 is durable on every node before it is
    acknowledged, then read, headed and deleted through nodes 2 and 3
    (their writes forwarded to the leader, their reads behind a read
    barrier); a blob a node lacks is fetched from a peer first."""
    from owstest import cluster3_shared_root
    nodes = cluster3_shared_root()
    key = root_creds(nodes[0])
    c = [boto3_client(n, "s3", key=key) for n in nodes]
    c[1].create_bucket(Bucket="three")
    data = os.urandom(700 * 1024)
    c[0].put_object(Bucket="three", Key="k", Body=data)
    blob = hashlib.sha256(data).hexdigest()
    for n in nodes:
        check(os.path.exists(os.path.join(n.dir, "blobs", blob)), n.dir)
    for cl in c:
        check(cl.get_object(Bucket="three", Key="k")["Body"].read() == data)
    # a node that lost its copy fetches it back from a peer
    os.unlink(os.path.join(nodes[2].dir, "blobs", blob))
    check(c[2].get_object(Bucket="three", Key="k", Range="bytes=5-9")["Body"].read() ==
          data[5:10])
    check(os.path.exists(os.path.join(nodes[2].dir, "blobs", blob)))
    c[2].delete_object(Bucket="three", Key="k")
    for cl in c:
        check(client_error(cl.head_object, Bucket="three", Key="k")[1] == 404)
    c[1].delete_bucket(Bucket="three")
    check(c[0].list_buckets()["Buckets"] == [])


def signed_headers(n, method, path, headers):
    """The headers botocore's S3 signer gives a request (no body signed)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    key = root_creds(n)
    h = dict(headers)
    h.setdefault("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    req = botocore.awsrequest.AWSRequest(method=method, url="http://%s%s" % (n.edge, path),
                                         headers=h)
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(*key), "s3",
                              "us-east-1").add_auth(req)
    return dict(req.headers.items())


def test_s3_clients_that_hang_up_leave_nothing():
    """An upload cut short stores nothing and leaves no temporary file; a
    download the client abandons, or a body that lies about its length,
    does not disturb the node."""
    import socket
    import time
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="hangups")
    host, port = n.edge.rsplit(":", 1)
    blobs = os.path.join(n.dir, "blobs")
    # 10 MiB announced, 3 MiB sent, then the connection closed
    h = signed_headers(n, "PUT", "/hangups/cut", {"Content-Length": str(10 << 20)})
    with socket.create_connection((host, int(port))) as sk:
        sk.sendall(("PUT /hangups/cut HTTP/1.1\r\nHost: %s\r\n" % n.edge +
                    "".join("%s: %s\r\n" % kv for kv in h.items() if kv[0] != "Host") +
                    "\r\n").encode())
        chunk = os.urandom(1 << 20)
        for _ in range(3):
            sk.sendall(chunk)
    time.sleep(1)
    check(client_error(s3.head_object, Bucket="hangups", Key="cut")[1] == 404)
    leftovers = [f for f in os.listdir(blobs) if f.startswith(".tmp")] \
        if os.path.isdir(blobs) else []
    check(leftovers == [], leftovers)
    # a download abandoned after its first bytes
    data = os.urandom(8 << 20)
    s3.put_object(Bucket="hangups", Key="big", Body=data)
    h = signed_headers(n, "GET", "/hangups/big", {})
    for _ in range(3):
        with socket.create_connection((host, int(port))) as sk:
            sk.sendall(("GET /hangups/big HTTP/1.1\r\nHost: %s\r\n" % n.edge +
                        "".join("%s: %s\r\n" % kv for kv in h.items() if kv[0] != "Host") +
                        "\r\n").encode())
            sk.recv(1000)
    # the node still serves, and the object is whole
    check(s3.get_object(Bucket="hangups", Key="big")["Body"].read() == data)
    check(n.proc.poll() is None)
