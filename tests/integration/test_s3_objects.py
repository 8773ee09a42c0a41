"""S3 listing and the object operations around PutObject/GetObject
(src/s3/list.c, delete_objects.c, copy.c, tagging.c, attributes.c),
through real clients against a real node: aws cli v1 and Debian's 2.9
(s3 ls/sync/rm/cp, s3api), boto3 1.43 and Debian's 1.26 (paginators),
s3cmd and rclone; every error path with S3's code, a user's policy with
s3:prefix conditions and per-key DeleteObject authorization, and
list-after-write on every node of three."""
import base64
import hashlib
import json
import os
import subprocess
import zlib

from owstest import (PYTHON_DEBIAN, aws_cli, aws_env, boto3_client, check,
                     cluster3_shared_root, root_creds, started, tmpdir,
                     write_json)

KEYS = ["a/1.txt", "a/2.txt", "a/b/3.txt", "c d+e&f.txt", "top.txt",
        "z/\u00fc.txt"]


def fill(s3, bucket, keys=KEYS):
    s3.create_bucket(Bucket=bucket)
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())


def cli(n, *args, debian=False, ok=True):
    p = aws_cli(n, None, "--output", "json", *args, debian=debian)
    if ok:
        check(p.returncode == 0, "%s: %s %s" % (args, p.stdout, p.stderr))
    return p


def cli_json(n, *args, debian=False):
    out = cli(n, *args, debian=debian).stdout
    return json.loads(out) if out.strip() else {}


def code_of(fn, *a, **kw):
    """The S3 error code and status of a boto3 call that must fail."""
    import botocore.exceptions
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    raise AssertionError("%s did not fail" % fn)


def signed(n, method, path, body=b"", headers=None, query=""):
    """A SigV4-signed request with the root key, made by botocore's signer
    and sent with urllib, so that a test can send what no SDK sends."""
    import urllib.request
    import urllib.error
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    kid, secret = root_creds(n)
    url = "http://%s%s%s" % (n.edge, path, "?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    S3SigV4Auth(Credentials(kid, secret), "s3", "us-east-1").add_auth(req)
    r = urllib.request.Request(url, data=body if body else None, method=method,
                               headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def xml_code(text):
    return text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else None


# ---- listing ----

def test_s3_list_pagination_aws_cli_and_boto3():
    n = started()
    s3 = boto3_client(n, "s3")
    keys = ["k%03d" % i for i in range(23)]
    fill(s3, "pages", keys + ["dir/x", "dir/y"])
    # aws cli v1 and 2.9: list-objects-v2 and list-objects in pages of 4
    for debian in (False, True):
        for op in ("list-objects-v2", "list-objects"):
            out = cli_json(n, "s3api", op, "--bucket", "pages", "--page-size", "4",
                           debian=debian)
            got = [c["Key"] for c in out["Contents"]]
            check(got == ["dir/x", "dir/y"] + keys, (debian, op, got))
            check(all(c["StorageClass"] == "STANDARD" and c["ETag"].startswith('"')
                      for c in out["Contents"]), out)
        # --max-items stops with a NextToken; --starting-token resumes
        out = cli_json(n, "s3api", "list-objects-v2", "--bucket", "pages",
                       "--max-items", "10", "--page-size", "3", debian=debian)
        check(len(out["Contents"]) == 10 and out.get("NextToken"), out)
        rest = cli_json(n, "s3api", "list-objects-v2", "--bucket", "pages",
                        "--starting-token", out["NextToken"], "--page-size", "3",
                        debian=debian)
        check([c["Key"] for c in out["Contents"] + rest["Contents"]] ==
              ["dir/x", "dir/y"] + keys)
    # delimiter, common prefixes, start-after
    out = cli_json(n, "s3api", "list-objects-v2", "--bucket", "pages", "--delimiter", "/",
                   "--start-after", "k020")
    check([c["Key"] for c in out["Contents"]] == ["k021", "k022"], out)
    check("CommonPrefixes" not in out, out)  # dir/ is before k020
    # boto3 1.43 paginators, v2 and v1, with a delimiter: pages of 5 items
    for op in ("list_objects_v2", "list_objects"):
        pages = list(s3.get_paginator(op).paginate(
            Bucket="pages", Delimiter="/", PaginationConfig={"PageSize": 5}))
        got = [c["Key"] for p in pages for c in p.get("Contents", [])]
        cps = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
        check(got == keys and cps == ["dir/"], (op, got, cps))
        check(len(pages) == 5, len(pages))  # 24 items in pages of 5
    first = s3.list_objects_v2(Bucket="pages", MaxKeys=5)
    check(first["IsTruncated"] and first["KeyCount"] == 5 and first["MaxKeys"] == 5)
    # boto3 1.26 (Debian's python3): the same paginators
    code = """
import json, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
out = {}
for op in ("list_objects_v2", "list_objects"):
    pages = list(s3.get_paginator(op).paginate(Bucket="pages", Delimiter="/",
                 PaginationConfig={"PageSize": 3}))
    out[op] = [[c["Key"] for c in p.get("Contents", [])] +
               [c["Prefix"] for c in p.get("CommonPrefixes", [])] for p in pages]
print(json.dumps(out))
"""
    p = subprocess.run([PYTHON_DEBIAN, "-c", code, "http://" + n.edge], capture_output=True,
                       text=True, timeout=60, env=aws_env(n))
    check(p.returncode == 0, p.stderr)
    out = json.loads(p.stdout)
    for op, pages in out.items():
        flat = sorted(x for page in pages for x in page)
        check(flat == sorted(keys + ["dir/"]), (op, flat))
        check(len(pages) == 8 and all(len(pg) == 3 for pg in pages), (op, pages))


def test_s3_list_encoding_and_owner():
    n = started()
    s3 = boto3_client(n, "s3")
    fill(s3, "enc")
    # boto3 asks for encoding-type=url and decodes: keys come back whole
    got = [c["Key"] for c in s3.list_objects(Bucket="enc")["Contents"]]
    check(got == sorted(KEYS, key=lambda k: k.encode()), got)
    got = [c["Key"] for c in s3.list_objects_v2(Bucket="enc")["Contents"]]
    check(sorted(got) == sorted(KEYS), got)
    # as sent on the wire with encoding-type=url
    st, text = signed(n, "GET", "/enc", query="list-type=2&encoding-type=url&prefix=c%20")
    check(st == 200, text)
    check("<Key>c%20d%2Be%26f.txt</Key>" in text and "<Prefix>c%20</Prefix>" in text, text)
    check("<EncodingType>url</EncodingType>" in text, text)
    st, text = signed(n, "GET", "/enc", query="list-type=2&prefix=z%2F&encoding-type=url")
    check("<Key>z/%C3%BC.txt</Key>" in text, text)
    st, text = signed(n, "GET", "/enc", query="list-type=2&encoding-type=xml")
    check(st == 400 and xml_code(text) == "InvalidArgument", text)
    # fetch-owner (v2) and v1's owners; LastModified with milliseconds
    out = s3.list_objects_v2(Bucket="enc", FetchOwner=True)
    check(all("ID" in c["Owner"] for c in out["Contents"]), out)
    check("Owner" not in s3.list_objects_v2(Bucket="enc")["Contents"][0])
    check("Owner" in s3.list_objects(Bucket="enc")["Contents"][0])
    st, text = signed(n, "GET", "/enc", query="list-type=2&max-keys=1")
    lm = text.split("<LastModified>")[1].split("</LastModified>")[0]
    check(len(lm) == 24 and lm[19] == "." and lm.endswith("Z"), lm)


def test_s3_list_errors():
    n = started()
    s3 = boto3_client(n, "s3")
    fill(s3, "errs", ["a", "b"])
    check(code_of(s3.list_objects_v2, Bucket="nosuchbucket1") == ("NoSuchBucket", 404))
    check(code_of(s3.list_objects_v2, Bucket="errs", ContinuationToken="bm90IG91cnM=")
          == ("InvalidArgument", 400))
    token = s3.list_objects_v2(Bucket="errs", MaxKeys=1)["NextContinuationToken"]
    s3.create_bucket(Bucket="errs2")
    # a token is for its bucket only, and tampering shows
    check(code_of(s3.list_objects_v2, Bucket="errs2", ContinuationToken=token)
          == ("InvalidArgument", 400))
    raw = bytearray(base64.b64decode(token))
    raw[1] ^= 1
    check(code_of(s3.list_objects_v2, Bucket="errs",
                  ContinuationToken=base64.b64encode(bytes(raw)).decode())
          == ("InvalidArgument", 400))
    check([c["Key"] for c in s3.list_objects_v2(Bucket="errs", ContinuationToken=token)
           ["Contents"]] == ["b"])
    for q in ("max-keys=-1", "max-keys=abc", "max-keys=1e3"):
        st, text = signed(n, "GET", "/errs", query="list-type=2&" + q)
        check(st == 400 and xml_code(text) == "InvalidArgument", (q, text))
    st, text = signed(n, "GET", "/errs", query="list-type=2&max-keys=100000")
    check(st == 200 and "<MaxKeys>1000</MaxKeys>" in text, text)


def user_key(n, name, statements):
    """A user with one policy of statements, and an access key of it."""
    n.ows("apply", write_json({
        "stack": "u" + name,
        "policies": {name + "p": {"Version": "2012-10-17", "Statement": statements}},
        "users": {name: {"policies": [name + "p"]}}}), "--yes")
    made = n.ows_json("key", "access", "create", name)
    return (made["access_key_id"], made["secret_access_key"])


def test_s3_list_prefix_condition_and_per_key_delete():
    n = started()
    s3 = boto3_client(n, "s3")
    fill(s3, "shared", ["home/alice/1", "home/alice/2", "home/bob/1", "pub/x"])
    key = user_key(n, "alice", [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared",
         "Condition": {"StringLike": {"s3:prefix": ["home/alice/*"]}}},
        {"Effect": "Allow", "Action": ["s3:DeleteObject", "s3:GetObject"],
         "Resource": "arn:aws:s3:::shared/home/alice/*"}])
    alice = boto3_client(n, "s3", key)
    got = [c["Key"] for c in alice.list_objects_v2(Bucket="shared", Prefix="home/alice/")
           ["Contents"]]
    check(got == ["home/alice/1", "home/alice/2"], got)
    check(code_of(alice.list_objects_v2, Bucket="shared") == ("AccessDenied", 403))
    check(code_of(alice.list_objects_v2, Bucket="shared", Prefix="home/bob/")
          == ("AccessDenied", 403))
    # a batch: her keys go, bob's is an AccessDenied entry and stays
    out = alice.delete_objects(Bucket="shared", Delete={"Objects": [
        {"Key": "home/alice/1"}, {"Key": "home/bob/1"}, {"Key": "home/alice/none"}]})
    check(sorted(d["Key"] for d in out["Deleted"]) == ["home/alice/1", "home/alice/none"], out)
    check([(e["Key"], e["Code"]) for e in out["Errors"]] == [("home/bob/1", "AccessDenied")],
          out)
    left = [c["Key"] for c in s3.list_objects_v2(Bucket="shared")["Contents"]]
    check(left == ["home/alice/2", "home/bob/1", "pub/x"], left)
    # copying needs s3:GetObject on the source and s3:PutObject on the target
    check(code_of(alice.copy_object, Bucket="shared", Key="home/alice/c",
                  CopySource="shared/pub/x") == ("AccessDenied", 403))


# ---- aws s3, s3cmd, rclone ----

def test_s3_high_level_ls_sync_rm():
    n = started()
    src = tmpdir()
    for rel in ("one.txt", "sub/two.txt", "sub/deeper/three.bin", "with space.txt"):
        os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
        with open(os.path.join(src, rel), "wb") as f:
            f.write(rel.encode() * 100)
    for debian in (False, True):
        b = "sync-deb" if debian else "sync-v1"
        cli(n, "s3", "mb", "s3://" + b, debian=debian)
        cli(n, "s3", "sync", src, "s3://%s/tree/" % b, debian=debian)
        out = cli(n, "s3", "ls", "--recursive", "s3://" + b, debian=debian).stdout
        check(sorted(line.split()[-1] for line in out.splitlines()) ==
              sorted(["tree/one.txt", "tree/sub/two.txt", "tree/sub/deeper/three.bin",
                      "space.txt"]), out)
        out = cli(n, "s3", "ls", "s3://%s/tree/" % b, debian=debian).stdout
        check("PRE sub/" in out and "one.txt" in out and "two.txt" not in out, out)
        dst = tmpdir()
        cli(n, "s3", "sync", "s3://%s/tree/" % b, dst, debian=debian)
        for rel in ("one.txt", "sub/two.txt", "sub/deeper/three.bin", "with space.txt"):
            check(open(os.path.join(dst, rel), "rb").read() == rel.encode() * 100, rel)
        # a second sync sends nothing; --delete removes what went away
        out = cli(n, "s3", "sync", src, "s3://%s/tree/" % b, debian=debian).stdout
        check(out.strip() == "", out)
        os.rename(os.path.join(src, "one.txt"), os.path.join(src, "one-moved.txt"))
        cli(n, "s3", "sync", "--delete", src, "s3://%s/tree/" % b, debian=debian)
        out = cli(n, "s3", "ls", "--recursive", "s3://" + b, debian=debian).stdout
        check("tree/one.txt" not in out and "tree/one-moved.txt" in out, out)
        os.rename(os.path.join(src, "one-moved.txt"), os.path.join(src, "one.txt"))
        cli(n, "s3", "cp", "s3://%s/tree/sub/two.txt" % b, "s3://%s/copy/two.txt" % b,
            debian=debian)
        cli(n, "s3", "rm", "--recursive", "s3://%s/tree/" % b, debian=debian)
        out = cli(n, "s3", "ls", "--recursive", "s3://" + b, debian=debian).stdout
        check([line.split()[-1] for line in out.splitlines()] == ["copy/two.txt"], out)
        cli(n, "s3", "rm", "--recursive", "s3://" + b, debian=debian)
        cli(n, "s3", "rb", "s3://" + b, debian=debian)


def s3cmd(n, cfg, *args):
    p = subprocess.run(["s3cmd", "-c", cfg] + list(args), capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "%s: %s %s" % (args, p.stdout, p.stderr))
    return p.stdout


def test_s3_s3cmd_and_rclone():
    n = started()
    kid, secret = root_creds(n)
    s3 = boto3_client(n, "s3")
    fill(s3, "tools")
    cfg = os.path.join(tmpdir(), "s3cfg")
    with open(cfg, "w") as f:
        f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
                "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
                "bucket_location = us-east-1\n" % (kid, secret, n.edge, n.edge))
    out = s3cmd(n, cfg, "ls", "s3://tools/")
    check("DIR" in out and "s3://tools/a/" in out and "s3://tools/top.txt" in out, out)
    out = s3cmd(n, cfg, "ls", "--recursive", "s3://tools")
    check(len(out.strip().splitlines()) == len(KEYS), out)
    s3cmd(n, cfg, "cp", "s3://tools/top.txt", "s3://tools/copied.txt")
    check(s3.get_object(Bucket="tools", Key="copied.txt")["Body"].read() == b"top.txt")
    s3cmd(n, cfg, "del", "--recursive", "--force", "s3://tools/a/")
    left = sorted(c["Key"] for c in s3.list_objects_v2(Bucket="tools")["Contents"])
    check(left == sorted(["c d+e&f.txt", "top.txt", "z/\u00fc.txt", "copied.txt"]), left)
    # rclone, its remote from the environment
    env = dict(os.environ, RCLONE_CONFIG_O_TYPE="s3", RCLONE_CONFIG_O_PROVIDER="Other",
               RCLONE_CONFIG_O_ACCESS_KEY_ID=kid, RCLONE_CONFIG_O_SECRET_ACCESS_KEY=secret,
               RCLONE_CONFIG_O_ENDPOINT="http://" + n.edge, RCLONE_CONFIG_O_REGION="us-east-1",
               RCLONE_CONFIG=os.path.join(tmpdir(), "none.conf"))
    env.pop("AWS_CA_BUNDLE", None)  # rclone cannot use one over plain HTTP

    def rclone(*args):
        p = subprocess.run(["rclone"] + list(args), capture_output=True, text=True,
                           timeout=120, env=env)
        check(p.returncode == 0, "%s: %s %s" % (args, p.stdout, p.stderr))
        return p.stdout
    out = rclone("lsf", "o:tools")
    check(sorted(out.split("\n")) == sorted(["c d+e&f.txt", "copied.txt", "top.txt", "z/", ""]),
          out)
    out = rclone("ls", "o:tools")
    check(len(out.strip().splitlines()) == 4 and "z/\u00fc.txt" in out, out)
    src = tmpdir()
    for i in range(5):
        with open(os.path.join(src, "f%d" % i), "w") as f:
            f.write("data %d" % i)
    rclone("sync", src, "o:tools/synced")
    rclone("copy", "o:tools/synced", os.path.join(src, "back"))
    check(sorted(os.listdir(os.path.join(src, "back"))) == ["f%d" % i for i in range(5)])
    os.unlink(os.path.join(src, "f0"))
    os.makedirs(os.path.join(src, "back2"))
    rclone("sync", src + "/back2", "o:tools/synced")  # empty: deletes all
    out = rclone("lsf", "o:tools/synced")
    check(out.strip() == "", out)


# ---- DeleteObjects ----

def test_s3_delete_objects():
    n = started()
    s3 = boto3_client(n, "s3")
    fill(s3, "dels", ["k%d" % i for i in range(10)])
    out = s3.delete_objects(Bucket="dels", Delete={"Quiet": True, "Objects": [
        {"Key": "k0"}, {"Key": "k1"}]})
    check("Deleted" not in out and "Errors" not in out, out)
    out = cli_json(n, "s3api", "delete-objects", "--bucket", "dels", "--delete",
                   json.dumps({"Objects": [{"Key": "k2"}, {"Key": "k3", "VersionId": "null"},
                                           {"Key": "k4", "VersionId": "abc"}]}), debian=True)
    check(sorted(d["Key"] for d in out["Deleted"]) == ["k2", "k3"], out)
    check([(e["Key"], e["Code"]) for e in out["Errors"]] == [("k4", "NoSuchVersion")], out)
    left = [c["Key"] for c in s3.list_objects_v2(Bucket="dels")["Contents"]]
    check(left == ["k%d" % i for i in range(4, 10)], left)
    body = "<Delete><Object><Key>k5</Key></Object></Delete>".encode()
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    # no integrity header: refused; a wrong one: BadDigest; nothing deleted
    st, text = signed(n, "POST", "/dels", body, query="delete")
    check(st == 400 and xml_code(text) == "InvalidRequest" and "Content-MD5" in text, text)
    st, text = signed(n, "POST", "/dels", body, {"x-amz-checksum-crc32": "AAAAAA=="},
                      query="delete")
    check(st == 400 and xml_code(text) == "BadDigest", text)
    st, text = signed(n, "POST", "/dels", body, {"Content-MD5": base64.b64encode(
        b"0" * 16).decode()}, query="delete")
    check(st == 400 and xml_code(text) == "BadDigest", text)
    check("k5" in [c["Key"] for c in s3.list_objects_v2(Bucket="dels")["Contents"]])
    st, text = signed(n, "POST", "/dels", body, {"x-amz-checksum-crc32": crc},
                      query="delete")
    check(st == 200 and "<Deleted><Key>k5</Key></Deleted>" in text, text)
    for bad in (b"<Delete>", b"<Delete></Delete>", b"<Nope><Object><Key>k6</Key></Object></Nope>",
                b"<Delete><Object></Object></Delete>",
                b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>"):
        st, text = signed(n, "POST", "/dels", bad, {"Content-MD5": base64.b64encode(
            hashlib.md5(bad).digest()).decode()}, query="delete")
        check(st == 400 and xml_code(text) == "MalformedXML", (bad[:40], text))
    check(len(s3.list_objects_v2(Bucket="dels")["Contents"]) == 5)
    # a full batch of 1000 in one request
    many = b"<Delete><Quiet>true</Quiet>" + b"".join(
        b"<Object><Key>k%d</Key></Object>" % i for i in range(1000)) + b"</Delete>"
    st, text = signed(n, "POST", "/dels", many, {"Content-MD5": base64.b64encode(
        hashlib.md5(many).digest()).decode()}, query="delete")
    check(st == 200 and "<Deleted>" not in text and "<Error>" not in text, text)
    check("Contents" not in s3.list_objects_v2(Bucket="dels"))
    check(code_of(s3.delete_objects, Bucket="nosuchbucket1",
                  Delete={"Objects": [{"Key": "x"}]}) == ("NoSuchBucket", 404))


# ---- CopyObject ----

def test_s3_copy_object():
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="csrc")
    s3.create_bucket(Bucket="cdst")
    put = s3.put_object(Bucket="csrc", Key="dir/s p\u00e4ce+.txt", Body=b"payload" * 1000,
                        ContentType="text/plain", Metadata={"color": "blue"},
                        Tagging="team=a&env=dev")
    etag = put["ETag"]
    # the header URL-encoded on the wire, with ?versionId=null
    st, text = signed(n, "PUT", "/cdst/copy0", headers={
        "x-amz-copy-source": "/csrc/dir/s%20p%C3%A4ce%2B.txt?versionId=null"})
    check(st == 200 and "<CopyObjectResult " in text and etag.replace('"', "&quot;") in text,
          text)
    # aws cli 2.9 (which encodes the source itself): other bucket, metadata
    # copied
    out = cli_json(n, "s3api", "copy-object", "--bucket", "cdst", "--key", "copy1",
                   "--copy-source", "csrc/dir/s p\u00e4ce+.txt?versionId=null",
                   debian=True)
    check(out["CopyObjectResult"]["ETag"] == etag, out)
    check(out["CopyObjectResult"]["LastModified"].endswith("Z")
          or "+00:00" in out["CopyObjectResult"]["LastModified"], out)
    h = s3.head_object(Bucket="cdst", Key="copy1")
    check(h["ContentType"] == "text/plain" and h["Metadata"] == {"color": "blue"}, h)
    check(h["ContentLength"] == 7000 and h["ETag"] == etag, h)
    check(s3.get_object(Bucket="cdst", Key="copy1")["Body"].read() == b"payload" * 1000)
    check(sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(
        Bucket="cdst", Key="copy1")["TagSet"]) == [("env", "dev"), ("team", "a")])
    # REPLACE: the request's metadata and tags
    s3.copy_object(Bucket="cdst", Key="copy2", CopySource={"Bucket": "csrc",
                   "Key": "dir/s p\u00e4ce+.txt"}, MetadataDirective="REPLACE",
                   ContentType="application/x-new", Metadata={"shape": "round"},
                   TaggingDirective="REPLACE", Tagging="only=this")
    h = s3.head_object(Bucket="cdst", Key="copy2")
    check(h["ContentType"] == "application/x-new" and h["Metadata"] == {"shape": "round"}, h)
    check(s3.get_object_tagging(Bucket="cdst", Key="copy2")["TagSet"] ==
          [{"Key": "only", "Value": "this"}])
    # the copy names the same blob: the data is stored once
    blobs = [f for _, _, fs in os.walk(os.path.join(n.dir, "blobs")) for f in fs
             if len(f) == 64]
    check(blobs.count(hashlib.sha256(b"payload" * 1000).hexdigest()) == 1, blobs)
    # deleting the source leaves the copy readable
    s3.delete_object(Bucket="csrc", Key="dir/s p\u00e4ce+.txt")
    check(s3.get_object(Bucket="cdst", Key="copy1")["Body"].read() == b"payload" * 1000)
    # copy-source conditions
    src = {"Bucket": "cdst", "Key": "copy1"}
    ok = dict(Bucket="cdst", Key="c3", CopySource=src)
    check(code_of(s3.copy_object, CopySourceIfMatch='"0000"', **ok)
          == ("PreconditionFailed", 412))
    check(code_of(s3.copy_object, CopySourceIfNoneMatch=etag, **ok)
          == ("PreconditionFailed", 412))
    import datetime
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    check(code_of(s3.copy_object, CopySourceIfUnmodifiedSince=past, **ok)
          == ("PreconditionFailed", 412))
    check(code_of(s3.copy_object, CopySourceIfModifiedSince=future, **ok)
          == ("PreconditionFailed", 412))
    s3.copy_object(CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince=past, **ok)
    s3.copy_object(CopySourceIfModifiedSince=past, CopySourceIfUnmodifiedSince=future,
                   Bucket="cdst", Key="c4", CopySource=src)
    # conditional write on the target, as PutObject
    check(code_of(s3.copy_object, IfNoneMatch="*", **ok) == ("PreconditionFailed", 412))
    # onto itself: only with a change
    check(code_of(s3.copy_object, Bucket="cdst", Key="copy1", CopySource=src)
          == ("InvalidRequest", 400))
    s3.copy_object(Bucket="cdst", Key="copy1", CopySource=src, MetadataDirective="REPLACE",
                   Metadata={"new": "1"})
    check(s3.head_object(Bucket="cdst", Key="copy1")["Metadata"] == {"new": "1"})
    # errors
    check(code_of(s3.copy_object, Bucket="cdst", Key="x",
                  CopySource={"Bucket": "cdst", "Key": "missing"}) == ("NoSuchKey", 404))
    check(code_of(s3.copy_object, Bucket="cdst", Key="x",
                  CopySource={"Bucket": "nosuchbucket1", "Key": "k"}) == ("NoSuchBucket", 404))
    check(code_of(s3.copy_object, Bucket="nosuchbucket1", Key="x", CopySource=src)
          == ("NoSuchBucket", 404))
    check(code_of(s3.copy_object, Bucket="cdst", Key="x", CopySource=src,
                  MetadataDirective="MOVE") == ("InvalidArgument", 400))
    check(code_of(s3.copy_object, Bucket="cdst", Key="x", CopySource=src,
                  TaggingDirective="MOVE") == ("InvalidArgument", 400))
    for bad in ("cdst", "cdst/", "/cdst", "cdst/copy1?versionId=abc"):
        st, text = signed(n, "PUT", "/cdst/x", headers={"x-amz-copy-source": bad})
        check(st == 400 and xml_code(text) == "InvalidArgument", (bad, text))
    # aws cli v1: s3 cp between buckets is a CopyObject
    cli(n, "s3", "cp", "s3://cdst/copy2", "s3://csrc/back")
    check(s3.get_object(Bucket="csrc", Key="back")["Body"].read() == b"payload" * 1000)


# ---- tagging and attributes ----

def test_s3_tagging():
    n = started()
    s3 = boto3_client(n, "s3")
    fill(s3, "tags", ["obj"])
    cli(n, "s3api", "put-object-tagging", "--bucket", "tags", "--key", "obj", "--tagging",
        json.dumps({"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b b", "Value": ""}]}),
        debian=True)
    out = cli_json(n, "s3api", "get-object-tagging", "--bucket", "tags", "--key", "obj")
    check(out["TagSet"] == [{"Key": "a", "Value": "1"}, {"Key": "b b", "Value": ""}], out)
    h = s3.get_object(Bucket="tags", Key="obj")
    check(h["TagCount"] == 2, h)
    # a rewrite of the object without tags drops them, as S3
    s3.put_object(Bucket="tags", Key="obj", Body=b"new", Tagging="x=y")
    check(s3.get_object_tagging(Bucket="tags", Key="obj")["TagSet"] ==
          [{"Key": "x", "Value": "y"}])
    s3.delete_object_tagging(Bucket="tags", Key="obj")
    check(s3.get_object_tagging(Bucket="tags", Key="obj")["TagSet"] == [])
    check("TagCount" not in s3.get_object(Bucket="tags", Key="obj"))

    def tagset(pairs):
        return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}
    for pairs, want in (
            ([("k%d" % i, "v") for i in range(11)], "BadRequest"),
            ([("k" * 129, "v")], "InvalidTag"),
            ([("k", "v" * 257)], "InvalidTag"),
            ([("k", "1"), ("k", "2")], "InvalidTag"),
            ([("aws:x", "1")], "InvalidTag"),
            ([("bad<>", "1")], "InvalidTag")):
        check(code_of(s3.put_object_tagging, Bucket="tags", Key="obj",
                      Tagging=tagset(pairs)) == (want, 400), pairs)
    s3.put_object_tagging(Bucket="tags", Key="obj",
                          Tagging=tagset([("k%d" % i, "v") for i in range(10)]))
    check(len(s3.get_object_tagging(Bucket="tags", Key="obj")["TagSet"]) == 10)
    check(code_of(s3.get_object_tagging, Bucket="tags", Key="none") == ("NoSuchKey", 404))
    check(code_of(s3.put_object_tagging, Bucket="tags", Key="none",
                  Tagging=tagset([("a", "b")])) == ("NoSuchKey", 404))
    check(code_of(s3.delete_object_tagging, Bucket="tags", Key="none") == ("NoSuchKey", 404))
    body = b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>"
    st, text = signed(n, "PUT", "/tags/obj", body, query="tagging")
    check(st == 400 and xml_code(text) == "MalformedXML", text)
    # buckets
    check(code_of(s3.get_bucket_tagging, Bucket="tags") == ("NoSuchTagSet", 404))
    cli(n, "s3api", "put-bucket-tagging", "--bucket", "tags", "--tagging",
        json.dumps(tagset([("project", "ows"), ("cost", "0")])))
    out = cli_json(n, "s3api", "get-bucket-tagging", "--bucket", "tags", debian=True)
    check(out["TagSet"] == tagset([("project", "ows"), ("cost", "0")])["TagSet"], out)
    check(code_of(s3.put_bucket_tagging, Bucket="tags",
                  Tagging=tagset([("k%d" % i, "v") for i in range(51)])) == ("InvalidTag", 400))
    cli(n, "s3api", "delete-bucket-tagging", "--bucket", "tags")
    check(code_of(s3.get_bucket_tagging, Bucket="tags") == ("NoSuchTagSet", 404))
    check(code_of(s3.get_bucket_tagging, Bucket="nosuchbucket1") == ("NoSuchBucket", 404))


def test_s3_get_object_attributes():
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket="attrs")
    put = s3.put_object(Bucket="attrs", Key="o", Body=b"hello", ChecksumAlgorithm="SHA256")
    out = cli_json(n, "s3api", "get-object-attributes", "--bucket", "attrs", "--key", "o",
                   "--object-attributes", "ETag", "Checksum", "ObjectParts", "StorageClass",
                   "ObjectSize", debian=True)
    check(out["ETag"] == put["ETag"].strip('"') and out["ObjectSize"] == 5, out)
    check(out["StorageClass"] == "STANDARD", out)
    check(out["Checksum"]["ChecksumSHA256"] == base64.b64encode(
        hashlib.sha256(b"hello").digest()).decode(), out)
    check("ObjectParts" not in out, out)
    out = s3.get_object_attributes(Bucket="attrs", Key="o", ObjectAttributes=["ObjectSize"])
    check(out["ObjectSize"] == 5 and "ETag" not in out, out)
    check(code_of(s3.get_object_attributes, Bucket="attrs", Key="none",
                  ObjectAttributes=["ETag"]) == ("NoSuchKey", 404))
    st, text = signed(n, "GET", "/attrs/o", query="attributes",
                      headers={"x-amz-object-attributes": "Color"})
    check(st == 400 and xml_code(text) == "InvalidArgument", text)
    st, text = signed(n, "GET", "/attrs/o", query="attributes")
    check(st == 400 and xml_code(text) == "InvalidRequest", text)


# ---- consistency ----

def test_s3_list_after_write_on_every_node():
    nodes = cluster3_shared_root()
    clients = [boto3_client(x, "s3", root_creds(nodes[0])) for x in nodes]
    clients[0].create_bucket(Bucket="lists")
    for i in range(6):
        writer = clients[i % 3]
        writer.put_object(Bucket="lists", Key="k%d" % i, Body=b"x")
        for c in clients:
            got = [o["Key"] for o in c.list_objects_v2(Bucket="lists")["Contents"]]
            check(got == ["k%d" % j for j in range(i + 1)], (i, got))
    clients[1].delete_objects(Bucket="lists", Delete={"Objects": [{"Key": "k0"}]})
    clients[2].copy_object(Bucket="lists", Key="k9", CopySource="lists/k1")
    for c in clients:
        got = [o["Key"] for o in c.list_objects_v2(Bucket="lists")["Contents"]]
        check(got == ["k1", "k2", "k3", "k4", "k5", "k9"], got)
