"""S3: who may do what (issue 10). Users with identity policies, bucket
policies judged together with them (an explicit Deny anywhere wins),
anonymous requests allowed only reads and only by "Principal": "*",
condition keys (aws:SourceIp, s3:prefix), CORS configurations and
preflights answered from them, presigned GET and PUT URLs, and browser
form uploads (POST Object with a signed policy document) -- with real
clients: boto3 (this Python's and Debian's 1.26), the aws cli, curl."""
import json
import os
import subprocess
import time

from owstest import (PYTHON_DEBIAN, aws_cli, boto3_client, check, root_creds,
                     started, tmpdir, write_json)

BUCKET = "pics"


def curl(*args, source=None):
    """curl -s with the status code on the last line: (status, body)."""
    cmd = ["curl", "-s", "-S", "-o", "-", "-w", "\n%{http_code}"]
    if source:
        cmd += ["--interface", source]
    p = subprocess.run(cmd + list(args), capture_output=True, timeout=60)
    body, _, status = p.stdout.rpartition(b"\n")
    return int(status or b"0"), body


def curl_headers(*args):
    """curl -s -D -: (status, headers dict with lowercase names, body)."""
    p = subprocess.run(["curl", "-s", "-S", "-D", "-", "-o", "-"] + list(args),
                       capture_output=True, timeout=60)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    while head.split(b" ")[1:2] == [b"100"]:  # Expect: 100-continue
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


def code_of(body):
    b = body.decode(errors="replace")
    return b.split("<Code>")[1].split("</Code>")[0] if "<Code>" in b else b


def error_code(e):
    return e.response["Error"]["Code"]


def expect_error(fn, code, status=None):
    import botocore.exceptions
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        check(error_code(e) == code, "wanted %s, got %r" % (code, e.response))
        if status is not None:
            got = e.response["ResponseMetadata"]["HTTPStatusCode"]
            check(got == status, "wanted %d, got %d" % (status, got))
        return e
    raise AssertionError("no %s error" % code)


def user_key(n, name, statements):
    """A user with one policy of statements, and an access key of it."""
    n.ows("apply", write_json({
        "stack": "people-" + name,
        "policies": {name + "-pol": {"Version": "2012-10-17",
                                     "Statement": statements}},
        "users": {name: {"policies": [name + "-pol"]}}}), "--yes")
    made = n.ows_json("key", "access", "create", name)
    return (made["access_key_id"], made["secret_access_key"])


def node_with_bucket():
    n = started()
    s3 = boto3_client(n, "s3")
    s3.create_bucket(Bucket=BUCKET)
    return n, s3


def url(n, path):
    return "http://%s%s" % (n.edge, path)


# ---- bucket policies: the API ----

PUBLIC_READ = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
     "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::pics/*"]}]}


def test_bucket_policy_put_get_delete():
    n, s3 = node_with_bucket()
    expect_error(lambda: s3.get_bucket_policy(Bucket=BUCKET),
                 "NoSuchBucketPolicy", 404)
    # refused as S3 refuses, nothing stored
    bad = [
        "not json",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                   "Resource": "arn:aws:s3:::pics/*"}]}),
        json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*",
                                   "Action": "s3:GetObject",
                                   "Resource": "arn:aws:s3:::other/*"}]}),
        json.dumps({"Statement": [{"Principal": "*", "Action": "s3:GetObject",
                                   "Resource": "arn:aws:s3:::pics/*"}]}),
    ]
    for doc in bad:
        e = expect_error(lambda: s3.put_bucket_policy(Bucket=BUCKET, Policy=doc),
                         "MalformedPolicy", 400)
        check(e.response["Error"]["Message"], e.response)
    expect_error(lambda: s3.get_bucket_policy(Bucket=BUCKET), "NoSuchBucketPolicy")
    # a policy copied from AWS, unchanged
    r = s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 204, r)
    got = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    check(got == PUBLIC_READ, got)
    # Debian's aws cli 2.9 reads it too
    p = aws_cli(n, root_creds(n), "s3api", "get-bucket-policy", "--bucket", BUCKET,
                debian=True)
    check(p.returncode == 0 and json.loads(json.loads(p.stdout)["Policy"]) == PUBLIC_READ,
          p.stdout + p.stderr)
    r = s3.delete_bucket_policy(Bucket=BUCKET)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 204, r)
    expect_error(lambda: s3.get_bucket_policy(Bucket=BUCKET), "NoSuchBucketPolicy")
    expect_error(lambda: s3.get_bucket_policy(Bucket="nope"), "NoSuchBucket", 404)


def test_bucket_policy_in_a_stack_file():
    n = started()
    n.ows("apply", write_json({"stack": "site", "buckets": {
        "site": {"policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::site"}]}}}}), "--yes")
    st, _ = curl("-I", url(n, "/site"))
    check(st == 200, st)
    # a stack's policy is checked as PutBucketPolicy checks it
    p = n.ows("apply", write_json({"stack": "bad", "buckets": {
        "bad1": {"policy": {"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::elsewhere"}]}}}}, name="bad.json"), "--yes",
        check_rc=False)
    check(p.returncode != 0 and "invalid resource" in p.stderr, p.stderr)


# ---- anonymous requests ----

def test_anonymous_and_wrongly_signed_requests_refused():
    n, s3 = node_with_bucket()
    # no policy: nobody may do anything
    for method, path in [("GET", "/pics"), ("GET", "/pics/a.txt"),
                         ("PUT", "/pics/a.txt"), ("DELETE", "/pics"),
                         ("GET", "/"), ("PUT", "/newbucket")]:
        st, body = curl("-X", method, url(n, path))
        check(st == 403 and code_of(body) == "AccessDenied", (method, path, st, body))
    st, _ = curl("-I", url(n, "/pics"))
    check(st == 403, st)
    # strangers learn nothing of which buckets exist
    st, body = curl(url(n, "/nosuchbucket/x"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    expect_error(lambda: s3.get_object(Bucket="nosuchbucket", Key="x"), "NoSuchBucket", 404)
    # a wrong secret: SignatureDoesNotMatch, never taken as anonymous
    key = root_creds(n)
    bad = boto3_client(n, "s3", key=(key[0], "x" * 40))
    expect_error(lambda: bad.list_objects_v2(Bucket=BUCKET), "SignatureDoesNotMatch", 403)
    expect_error(lambda: bad.put_bucket_policy(Bucket=BUCKET,
                                               Policy=json.dumps(PUBLIC_READ)),
                 "SignatureDoesNotMatch", 403)
    unknown = boto3_client(n, "s3", key=("AKIAUNKNOWNUNKNOWN00", "x" * 40))
    expect_error(lambda: unknown.list_objects_v2(Bucket=BUCKET), "InvalidAccessKeyId", 403)
    # a policy that grants everything to everyone still opens only reads
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::pics", "arn:aws:s3:::pics/*"]}]}))
    st, _ = curl("-I", url(n, "/pics"))
    check(st == 200, st)
    for method, path in [("PUT", "/pics/a.txt"), ("DELETE", "/pics/a.txt"),
                         ("DELETE", "/pics"), ("PUT", "/pics?policy"),
                         ("DELETE", "/pics?policy"), ("PUT", "/pics?cors")]:
        st, body = curl("-X", method, "--data-binary", "x", url(n, path))
        check(st == 403 and code_of(body) == "AccessDenied", (method, path, st, body))
    check(s3.get_bucket_policy(Bucket=BUCKET)["Policy"], "the policy is still there")


def test_source_ip_condition():
    n, s3 = node_with_bucket()
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::pics",
             "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.2/32"}}}]}))
    st, _ = curl("-I", url(n, "/pics"), source="127.0.0.1")
    check(st == 403, st)
    st, _ = curl("-I", url(n, "/pics"), source="127.0.0.2")
    check(st == 200, st)
    # a Deny on every address but one beats even the caller's own Allow
    key = user_key(n, "dev", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    dev = boto3_client(n, "s3", key=key)
    dev.head_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::pics", "arn:aws:s3:::pics/*"],
             "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}}]}))
    expect_error(lambda: dev.get_bucket_location(Bucket=BUCKET), "AccessDenied", 403)


def test_bucket_deny_beats_identity_allow():
    n, s3 = node_with_bucket()
    key = user_key(n, "dev", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    dev = boto3_client(n, "s3", key=key)
    check(dev.get_bucket_location(Bucket=BUCKET) is not None)
    # no pattern in a principal's ARN, as S3
    expect_error(lambda: s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::*:user/dev"},
             "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::pics"}]})),
        "MalformedPolicy", 400)
    # a Deny for someone else has no say on dev's calls
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::%s:user/eve" %
                                             account_of(n)},
             "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::pics"}]}))
    check(dev.get_bucket_location(Bucket=BUCKET) is not None)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": ["arn:ows:iam::user/dev"]},
             "Action": ["s3:GetBucketLocation", "s3:GetBucketPolicy"],
             "Resource": "arn:aws:s3:::pics"}]}))
    expect_error(lambda: dev.get_bucket_location(Bucket=BUCKET), "AccessDenied", 403)
    expect_error(lambda: dev.get_bucket_policy(Bucket=BUCKET), "AccessDenied", 403)
    # an Allow in the bucket policy grants what the identity lacks
    key2 = user_key(n, "eve", [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets",
                                "Resource": "*"}])
    eve = boto3_client(n, "s3", key=key2)
    expect_error(lambda: eve.get_bucket_location(Bucket=BUCKET), "AccessDenied", 403)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/eve" %
                                              account_of(n)},
             "Action": "s3:GetBucketLocation", "Resource": "arn:aws:s3:::pics"}]}))
    check(eve.get_bucket_location(Bucket=BUCKET) is not None)
    expect_error(lambda: eve.get_bucket_policy(Bucket=BUCKET), "AccessDenied", 403)


def signed(n, method, target, body):
    """One request signed with SigV4 by the root key (botocore's signer),
    whatever its body: (status, body)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import requests
    k = root_creds(n)
    req = botocore.awsrequest.AWSRequest(method=method, url=url(n, target),
                                         data=body.encode())
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(k[0], k[1]), "s3",
                              "us-east-1").add_auth(req)
    r = requests.request(method, req.url, data=req.body, headers=dict(req.headers))
    return r.status_code, r.content


def absent(s3, key):
    import botocore.exceptions
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except botocore.exceptions.ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


def account_of(n):
    return boto3_client(n, "sts").get_caller_identity()["Account"]


# ---- CORS ----

CORS = {"CORSRules": [
    {"ID": "app", "AllowedOrigins": ["https://app.example.com"],
     "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["content-type", "x-amz-*"],
     "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}


def test_cors_configuration_and_preflight():
    n, s3 = node_with_bucket()
    expect_error(lambda: s3.get_bucket_cors(Bucket=BUCKET), "NoSuchCORSConfiguration", 404)
    # no configuration: the preflight is refused
    st, body = curl("-X", "OPTIONS", "-H", "Origin: https://app.example.com",
                    "-H", "Access-Control-Request-Method: PUT", url(n, "/pics/up.jpg"))
    check(st == 403 and code_of(body) == "AccessForbidden" and
          b"CORS is not enabled" in body, (st, body))
    p = aws_cli(n, root_creds(n), "s3api", "put-bucket-cors", "--bucket", BUCKET,
                "--cors-configuration", json.dumps(CORS), debian=True)
    check(p.returncode == 0, p.stderr)
    got = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    check(got[0]["AllowedOrigins"] == ["https://app.example.com"] and
          got[0]["MaxAgeSeconds"] == 600 and got[0]["ID"] == "app" and
          got[1]["AllowedMethods"] == ["GET"], got)
    # a browser's preflight for a presigned PUT
    st, h, _ = curl_headers("-X", "OPTIONS", "-H", "Origin: https://app.example.com",
                            "-H", "Access-Control-Request-Method: PUT",
                            "-H", "Access-Control-Request-Headers: content-type",
                            url(n, "/pics/up.jpg"))
    check(st == 200, (st, h))
    check(h.get("access-control-allow-origin") == "https://app.example.com", h)
    check("PUT" in h.get("access-control-allow-methods", ""), h)
    check(h.get("access-control-allow-headers") == "content-type", h)
    check(h.get("access-control-max-age") == "600", h)
    check(h.get("access-control-expose-headers") == "ETag", h)
    check("Origin" in h.get("vary", ""), h)
    # what no rule allows: 403 as S3
    for origin, method, hdrs in [("https://evil.example.net", "PUT", None),
                                 ("https://app.example.com", "DELETE", None),
                                 ("https://app.example.com", "PUT", "authorization")]:
        args = ["-X", "OPTIONS", "-H", "Origin: " + origin,
                "-H", "Access-Control-Request-Method: " + method]
        if hdrs:
            args += ["-H", "Access-Control-Request-Headers: " + hdrs]
        st, body = curl(*args, url(n, "/pics/up.jpg"))
        check(st == 403 and code_of(body) == "AccessForbidden" and
              b"CORSResponse: This CORS request is not allowed" in body and
              b"<Method>" + method.encode() + b"</Method>" in body, (st, body))
    # any origin may GET (the second rule), answered "*"
    st, h, _ = curl_headers("-X", "OPTIONS", "-H", "Origin: http://other.test",
                            "-H", "Access-Control-Request-Method: GET",
                            url(n, "/pics/up.jpg"))
    check(st == 200 and h.get("access-control-allow-origin") == "*", (st, h))
    st, body = curl("-X", "OPTIONS", url(n, "/pics/up.jpg"))
    check(st == 400 and code_of(body) == "BadRequest", (st, body))
    # actual responses carry the rule's headers for a matching Origin
    st, h, _ = curl_headers("-H", "Origin: https://app.example.com",
                            s3.generate_presigned_url(
                                "get_bucket_location", Params={"Bucket": BUCKET}))
    check(st == 200 and h.get("access-control-allow-origin") ==
          "https://app.example.com" and h.get("access-control-expose-headers") == "ETag",
          (st, h))
    st, h, _ = curl_headers(s3.generate_presigned_url(
        "get_bucket_location", Params={"Bucket": BUCKET}))
    check(st == 200 and "access-control-allow-origin" not in h, h)
    # a browser's presigned PUT, then GET, of an object: the page may read
    # the ETag the rule exposes
    src = os.path.join(tmpdir(), "up.jpg")
    with open(src, "wb") as f:
        f.write(b"jpeg bytes")
    st, h, _ = curl_headers("-H", "Origin: https://app.example.com", "-T", src,
                            s3.generate_presigned_url("put_object", Params={
                                "Bucket": BUCKET, "Key": "up.jpg"}))
    check(st == 200 and h.get("access-control-allow-origin") ==
          "https://app.example.com" and h.get("access-control-expose-headers") == "ETag"
          and h.get("etag"), (st, h))
    st, h, body = curl_headers("-H", "Origin: http://any.test", s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "up.jpg"}))
    check(st == 200 and body == b"jpeg bytes" and
          h.get("access-control-allow-origin") == "*", (st, h))
    # refused configurations
    for bad in ["<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                "<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
                "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
                "</CORSRule></CORSConfiguration>", "<nope"]:
        st, body = signed(n, "PUT", "/pics?cors", bad)
        check(st == 400 and code_of(body) in ("InvalidRequest", "MalformedXML"),
              (st, body))
    check(len(s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]) == 2)
    r = s3.delete_bucket_cors(Bucket=BUCKET)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 204, r)
    expect_error(lambda: s3.get_bucket_cors(Bucket=BUCKET), "NoSuchCORSConfiguration")


# ---- identity policies on a prefix; anonymous reads ----

def test_user_reads_only_its_prefix():
    n, s3 = node_with_bucket()
    for k in ["home/dev/a.txt", "home/eve/b.txt", "top.txt"]:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"data of " + k.encode())
    key = user_key(n, "dev", [{"Effect": "Allow", "Action": "s3:GetObject",
                               "Resource": "arn:aws:s3:::pics/home/dev/*"}])
    dev = boto3_client(n, "s3", key=key)
    check(dev.get_object(Bucket=BUCKET, Key="home/dev/a.txt")["Body"].read() ==
          b"data of home/dev/a.txt")
    check(dev.head_object(Bucket=BUCKET, Key="home/dev/a.txt")["ContentLength"] == 22)
    for k in ["home/eve/b.txt", "top.txt", "home/dev"]:
        expect_error(lambda: dev.get_object(Bucket=BUCKET, Key=k), "AccessDenied", 403)
    # nor list, nor write, nor delete, even where it may read
    expect_error(lambda: dev.list_objects_v2(Bucket=BUCKET, Prefix="home/dev/"),
                 "AccessDenied", 403)
    expect_error(lambda: dev.put_object(Bucket=BUCKET, Key="home/dev/new.txt", Body=b"x"),
                 "AccessDenied", 403)
    expect_error(lambda: dev.delete_object(Bucket=BUCKET, Key="home/dev/a.txt"),
                 "AccessDenied", 403)
    check(s3.get_object(Bucket=BUCKET, Key="home/dev/a.txt")["Body"].read() ==
          b"data of home/dev/a.txt")
    # Debian's aws cli 2.9 as that user
    out = os.path.join(tmpdir(), "got")
    p = aws_cli(n, key, "s3", "cp", "s3://pics/home/dev/a.txt", out, debian=True)
    check(p.returncode == 0 and open(out, "rb").read() == b"data of home/dev/a.txt",
          p.stderr)
    p = aws_cli(n, key, "s3", "cp", "s3://pics/top.txt", out, debian=True)
    check(p.returncode != 0 and "403" in p.stderr, p.stderr)


def test_public_read_with_principal_star():
    n, s3 = node_with_bucket()
    s3.put_object(Bucket=BUCKET, Key="pub/cat.jpg", Body=b"meow", ContentType="image/jpeg")
    s3.put_object(Bucket=BUCKET, Key="private.txt", Body=b"secret")
    st, body = curl(url(n, "/pics/pub/cat.jpg"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pics/pub/*"}]}))
    st, h, body = curl_headers(url(n, "/pics/pub/cat.jpg"))
    check(st == 200 and body == b"meow" and h.get("content-type") == "image/jpeg",
          (st, h, body))
    st, _, body = curl_headers("-I", url(n, "/pics/pub/cat.jpg"))
    check(st == 200, st)
    # only what the policy names, only reads
    st, body = curl(url(n, "/pics/private.txt"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    st, body = curl(url(n, "/pics?list-type=2"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    st, body = curl("-X", "PUT", "--data-binary", "woof", url(n, "/pics/pub/cat.jpg"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    st, body = curl("-X", "DELETE", url(n, "/pics/pub/cat.jpg"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    check(s3.get_object(Bucket=BUCKET, Key="pub/cat.jpg")["Body"].read() == b"meow")
    # boto3 without credentials reads it too
    import botocore
    import boto3
    anon = boto3.client("s3", endpoint_url="http://" + n.edge, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED))
    check(anon.get_object(Bucket=BUCKET, Key="pub/cat.jpg")["Body"].read() == b"meow")
    expect_error(lambda: anon.put_object(Bucket=BUCKET, Key="pub/x", Body=b"x"),
                 "AccessDenied", 403)


# ---- presigned URLs ----

PRESIGN = r'''
import sys, boto3, botocore.config
ep, kid, secret, sv, method, key, expires = sys.argv[1:8]
cfg = botocore.config.Config(signature_version=sv) if sv != "default" else None
import os
c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                 aws_access_key_id=kid, aws_secret_access_key=secret,
                 aws_session_token=os.environ.get("AWS_SESSION_TOKEN"), config=cfg)
params = {"Bucket": "pics", "Key": key}
if method == "get_object" and len(sys.argv) > 8:
    params["ResponseContentType"] = sys.argv[8]
    params["ResponseContentDisposition"] = "attachment; filename=x.txt"
print(c.generate_presigned_url(method, Params=params, ExpiresIn=int(expires)))
'''


def presign(n, python, sv, method, key, expires=600, *extra, creds=None):
    k = creds or root_creds(n)
    env = dict(os.environ)
    if len(k) > 2:
        env["AWS_SESSION_TOKEN"] = k[2]
    p = subprocess.run([python, "-c", PRESIGN, "http://" + n.edge, k[0], k[1], sv, method,
                        key, str(expires)] + list(extra),
                       capture_output=True, text=True, timeout=60, env=env)
    check(p.returncode == 0, p.stderr)
    return p.stdout.strip()


def test_presigned_get_and_put_with_curl():
    import sys
    n, s3 = node_with_bucket()
    src = os.path.join(tmpdir(), "file.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(300000))
    data = open(src, "rb").read()
    # boto3 1.43 (this Python) and 1.26 (Debian's), each with its default
    # signature (V2 for us-east-1) and with s3v4
    for python in [sys.executable, PYTHON_DEBIAN]:
        for sv in ["default", "s3v4"]:
            key = "up/%s-%s key+1.bin" % (os.path.basename(python), sv)
            u = presign(n, python, sv, "put_object", key)
            st, body = curl("-T", src, u)
            check(st == 200, (python, sv, st, body))
            check(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data, key)
            u = presign(n, python, sv, "get_object", key, 600, "text/x-test")
            st, h, body = curl_headers(u)
            check(st == 200 and body == data, (python, sv, st))
            check(h.get("content-type") == "text/x-test" and
                  h.get("content-disposition") == "attachment; filename=x.txt", h)
            # the URL signs the key: another key is refused
            st, body = curl(u.replace("key%2B1", "key%2B2"))
            check(st == 403 and code_of(body) == "SignatureDoesNotMatch", (st, body))
            # expired
            u = presign(n, python, sv, "get_object", key, 1)
            time.sleep(2.1)
            st, body = curl(u)
            check(st == 403 and code_of(body) == "AccessDenied" and
                  b"Request has expired" in body, (python, sv, st, body))
    # aws cli v2 (Debian's 2.9) presigns with SigV4; v1 with V2
    s3.put_object(Bucket=BUCKET, Key="cli.txt", Body=b"from the cli")
    for debian in [True, False]:
        p = aws_cli(n, root_creds(n), "s3", "presign", "s3://pics/cli.txt", debian=debian)
        check(p.returncode == 0, p.stderr)
        st, body = curl(p.stdout.strip())
        check(st == 200 and body == b"from the cli", (debian, st, body))
    # session credentials (STS): the token travels in the URL, signed
    sts = boto3_client(n, "sts").get_session_token()["Credentials"]
    sess = (sts["AccessKeyId"], sts["SecretAccessKey"], sts["SessionToken"])
    for sv in ["default", "s3v4"]:
        st, body = curl(presign(n, sys.executable, sv, "get_object", "cli.txt",
                                creds=sess))
        check(st == 200 and body == b"from the cli", (sv, st, body))
    # a user's presigned URL carries only the user's rights
    key = user_key(n, "dev", [{"Effect": "Allow", "Action": "s3:GetObject",
                               "Resource": "arn:aws:s3:::pics/cli.txt"}])
    st, body = curl(presign(n, sys.executable, "s3v4", "get_object", "cli.txt", creds=key))
    check(st == 200 and body == b"from the cli", st)
    st, body = curl("-T", src, presign(n, sys.executable, "s3v4", "put_object", "cli.txt",
                                       creds=key))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    check(s3.get_object(Bucket=BUCKET, Key="cli.txt")["Body"].read() == b"from the cli")


# ---- browser form uploads ----

POST_FORM = r'''
import json, sys, boto3, botocore.config, requests
ep, kid, secret, sv, key, lo, hi, more = sys.argv[1:9]
cfg = botocore.config.Config(signature_version=sv) if sv != "default" else None
c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                 aws_access_key_id=kid, aws_secret_access_key=secret, config=cfg)
fields = {"Content-Type": "text/plain", "x-amz-meta-who": "form"}
fields.update(json.loads(more))
post = c.generate_presigned_post(
    "pics", key, Fields=fields,
    Conditions=[["content-length-range", int(lo), int(hi)]] +
               [{k: v} for k, v in fields.items()])
print(json.dumps(post))
'''


def presigned_post(n, python, sv, key, lo=1, hi=1000, creds=None, more=None):
    k = creds or root_creds(n)
    p = subprocess.run([python, "-c", POST_FORM, "http://" + n.edge, k[0], k[1], sv, key,
                        str(lo), str(hi), json.dumps(more or {})],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, p.stderr)
    return json.loads(p.stdout)


def curl_form(post, path, extra=()):
    args = []
    for k, v in post["fields"].items():
        args += ["-F", "%s=%s" % (k, v)]
    args += list(extra) + ["-F", "file=@%s;type=text/plain" % path]
    return curl(*args, post["url"])


def test_form_upload_with_presigned_post():
    import sys
    import requests
    n, s3 = node_with_bucket()
    small = os.path.join(tmpdir(), "note.txt")
    with open(small, "w") as f:
        f.write("hello from a form")
    for python in [sys.executable, PYTHON_DEBIAN]:
        for sv in ["default", "s3v4"]:
            post = presigned_post(n, python, sv, "forms/${filename}")
            st, body = curl_form(post, small)
            check(st == 204, (python, sv, st, body))
            o = s3.get_object(Bucket=BUCKET, Key="forms/note.txt")
            check(o["Body"].read() == b"hello from a form" and
                  o["ContentType"] == "text/plain" and o["Metadata"] == {"who": "form"},
                  (python, sv, o))
            s3.delete_object(Bucket=BUCKET, Key="forms/note.txt")
    # with requests, success_action_status 201: a PostResponse
    post = presigned_post(n, sys.executable, "s3v4", "forms/r.txt")
    post["fields"]["success_action_status"] = "201"
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("r.txt", b"via requests", "text/plain")})
    # success_action_status is a field the policy does not name: refused
    check(r.status_code == 403 and "Extra input fields: success_action_status" in r.text,
          r.text)
    # the answers a form may ask for, when its policy names them
    post = presigned_post(n, sys.executable, "s3v4", "forms/r.txt",
                          more={"success_action_status": "201"})
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("r.txt", b"via requests", "text/plain")})
    import xml.etree.ElementTree as ET
    check(r.status_code == 201, r.text)
    doc = {e.tag.split("}")[-1]: e.text for e in ET.fromstring(r.content)}
    check(doc["Key"] == "forms/r.txt" and doc["Bucket"] == "pics" and
          doc["ETag"] == r.headers.get("ETag") and doc["Location"].endswith(
              "/pics/forms/r.txt"), (doc, r.headers))
    post = presigned_post(n, sys.executable, "default", "forms/d.txt", more={
        "success_action_redirect": "https://app.example.com/done?x=1"})
    r = requests.post(post["url"], data=post["fields"], allow_redirects=False,
                      files={"file": ("d.txt", b"redirected", "text/plain")})
    check(r.status_code == 303 and r.headers["Location"].startswith(
        "https://app.example.com/done?x=1&bucket=pics&key=forms/d.txt&etag=%22"),
        (r.status_code, r.headers))
    check(s3.get_object(Bucket=BUCKET, Key="forms/d.txt")["Body"].read() == b"redirected")
    for k in ["forms/r.txt", "forms/d.txt"]:
        s3.delete_object(Bucket=BUCKET, Key=k)
    # policy violations: too large, too small, another key, a changed field
    post = presigned_post(n, sys.executable, "s3v4", "forms/${filename}", 5, 10)
    st, body = curl_form(post, small)
    check(st == 400 and code_of(body) == "EntityTooLarge", (st, body))
    tiny = os.path.join(tmpdir(), "t.txt")
    with open(tiny, "w") as f:
        f.write("hi")
    st, body = curl_form(post, tiny)
    check(st == 400 and code_of(body) == "EntityTooSmall", (st, body))
    post = presigned_post(n, sys.executable, "s3v4", "forms/fixed.txt")
    post["fields"]["key"] = "elsewhere.txt"
    st, body = curl_form(post, small)
    check(st == 403 and code_of(body) == "AccessDenied" and
          b"Invalid according to Policy: Policy Condition failed" in body, (st, body))
    post = presigned_post(n, sys.executable, "s3v4", "forms/fixed.txt")
    post["fields"]["x-amz-meta-who"] = "someone else"
    st, body = curl_form(post, small)
    check(st == 403 and b"Invalid according to Policy" in body, (st, body))
    # a tampered policy: the signature no longer holds
    post = presigned_post(n, sys.executable, "s3v4", "forms/fixed.txt")
    import base64
    doc = json.loads(base64.b64decode(post["fields"]["policy"]))
    doc["conditions"] = [c for c in doc["conditions"]
                         if not (isinstance(c, list) and c[0] == "content-length-range")]
    post["fields"]["policy"] = base64.b64encode(json.dumps(doc).encode()).decode()
    st, body = curl_form(post, small)
    check(st == 403 and code_of(body) == "SignatureDoesNotMatch", (st, body))
    # an unsigned form: anonymous writes are never allowed
    st, body = curl("-F", "key=forms/anon.txt", "-F", "file=@" + small, url(n, "/pics"))
    check(st == 403 and code_of(body) == "AccessDenied", (st, body))
    # none of those stored anything
    for k in ["forms/note.txt", "forms/r.txt", "forms/t.txt", "forms/fixed.txt",
              "elsewhere.txt", "forms/anon.txt"]:
        check(absent(s3, k), k)


def test_form_upload_expired_and_malformed():
    import sys
    n, s3 = node_with_bucket()
    small = os.path.join(tmpdir(), "note.txt")
    with open(small, "w") as f:
        f.write("hello")
    k = root_creds(n)
    code = r'''
import json, sys, boto3, botocore.config
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                 config=botocore.config.Config(signature_version="s3v4"))
print(json.dumps(c.generate_presigned_post("pics", "x.txt", ExpiresIn=1)))
'''
    p = subprocess.run([sys.executable, "-c", code, "http://" + n.edge, k[0], k[1]],
                       capture_output=True, text=True, timeout=60)
    post = json.loads(p.stdout)
    time.sleep(2.1)
    st, body = curl_form(post, small)
    check(st == 403 and code_of(body) == "AccessDenied" and
          b"Invalid according to Policy: Policy expired." in body, (st, body))
    st, body = curl("-X", "POST", "-H", "Content-Type: multipart/form-data; boundary=zz",
                    "--data-binary", "--zz\r\nContent-Disposition: form-data; name=\"key\""
                    "\r\n\r\nx\r\n--zz\r\ngarbage", url(n, "/pics"))
    check(st == 400 and code_of(body) in ("MalformedPOSTRequest", "InvalidArgument"),
          (st, body))
    post["fields"]["policy"] = "!!!"
    st, body = curl_form(post, small)
    check(st in (400, 403) and code_of(body) in ("InvalidPolicyDocument",
                                                 "SignatureDoesNotMatch"), (st, body))
    check(absent(s3, "x.txt"))


def test_secure_transport_and_user_agent_conditions():
    n, s3 = node_with_bucket()
    key = user_key(n, "dev", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    dev = boto3_client(n, "s3", key=key)
    s3.put_object(Bucket=BUCKET, Key="a.txt", Body=b"a")
    # the usual "deny anything but TLS" policy: the edge speaks plain
    # HTTP, so aws:SecureTransport is false and every call is refused
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::pics", "arn:aws:s3:::pics/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    expect_error(lambda: dev.get_object(Bucket=BUCKET, Key="a.txt"), "AccessDenied", 403)
    expect_error(lambda: dev.put_object(Bucket=BUCKET, Key="b.txt", Body=b"b"),
                 "AccessDenied", 403)
    # a public read only for one client (aws:UserAgent) from one site
    # (aws:Referer)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::pics/*",
             "Condition": {"StringLike": {"aws:Referer": "https://site.example/*",
                                          "aws:UserAgent": "curl/*"}}}]}))
    st, body = curl(url(n, "/pics/a.txt"))
    check(st == 403, (st, body))
    st, body = curl("-H", "Referer: https://site.example/page", url(n, "/pics/a.txt"))
    check(st == 200 and body == b"a", (st, body))
    st, body = curl("-A", "Mozilla/5.0", "-H", "Referer: https://site.example/page",
                    url(n, "/pics/a.txt"))
    check(st == 403, (st, body))
    check(dev.get_object(Bucket=BUCKET, Key="a.txt")["Body"].read() == b"a")


def listing_allowed(fn):
    """Whether a listing got past authorization: AccessDenied is a no;
    anything else (the listing, or an answer of the handler) a yes."""
    import botocore.exceptions
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return error_code(e) != "AccessDenied"
    return True


def test_list_with_s3_prefix_condition():
    n, s3 = node_with_bucket()
    # the IAM User Guide's "home folder" policy, with the user's name
    # written out (policy variables are not supported)
    key = user_key(n, "dev", [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::pics",
         "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/dev/*"]},
                       "StringEquals": {"s3:delimiter": ["/"]}}}])
    dev = boto3_client(n, "s3", key=key)
    check(listing_allowed(lambda: dev.list_objects_v2(Bucket=BUCKET, Prefix="home/dev/",
                                                      Delimiter="/")))
    check(listing_allowed(lambda: dev.list_objects(Bucket=BUCKET, Prefix="home/",
                                                   Delimiter="/")))
    check(not listing_allowed(lambda: dev.list_objects_v2(Bucket=BUCKET,
                                                          Prefix="home/eve/",
                                                          Delimiter="/")))
    check(not listing_allowed(lambda: dev.list_objects_v2(Bucket=BUCKET,
                                                          Prefix="home/dev/")))
    # anonymous listings of one prefix, and at most 10 keys at a time
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::pics",
             "Condition": {"StringLike": {"s3:prefix": "pub/*"},
                           "NumericLessThanEquals": {"s3:max-keys": "10"}}}]}))
    st, body = curl(url(n, "/pics?list-type=2&prefix=pub/&max-keys=5"))
    check(st != 403, (st, body))
    for q in ["list-type=2&prefix=priv/&max-keys=5", "list-type=2&prefix=pub/",
              "list-type=2&prefix=pub/&max-keys=1000", "list-type=2&max-keys=5"]:
        st, body = curl(url(n, "/pics?" + q))
        check(st == 403 and code_of(body) == "AccessDenied", (q, st, body))


def test_access_on_three_nodes():
    """A bucket policy set through one node opens anonymous reads on every
    node; a presigned PUT and a form upload taken by followers are
    forwarded as attested entries that every node judges again with the
    policy and the signer they carry; a Deny set through another node
    holds everywhere at once."""
    import sys
    from owstest import cluster3_shared_root
    nodes = cluster3_shared_root()
    key = root_creds(nodes[0])
    c = [boto3_client(n, "s3", key=key) for n in nodes]
    c[0].create_bucket(Bucket=BUCKET)
    c[1].put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    src = os.path.join(tmpdir(), "f.txt")
    with open(src, "w") as f:
        f.write("through a follower")
    # a presigned PUT through node 2, a form through node 3
    u = presign(nodes[1], sys.executable, "s3v4", "put_object", "pre.txt", creds=key)
    st, body = curl("-T", src, u)
    check(st == 200, (st, body))
    post = presigned_post(nodes[2], sys.executable, "s3v4", "form/${filename}",
                          creds=key)
    st, body = curl_form(post, src)
    check(st == 204, (st, body))
    # anonymous reads on every node, at once (read-after-write)
    for n in nodes:
        for k in ["pre.txt", "form/f.txt"]:
            st, body = curl(url(n, "/pics/" + k))
            check(st == 200 and body == b"through a follower", (n.edge, k, st, body))
    # a Deny through node 3 holds on nodes 1 and 2 at once
    c[2].put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": PUBLIC_READ["Statement"] + [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::pics/form/*"}]}))
    for n in nodes[:2]:
        st, body = curl(url(n, "/pics/form/f.txt"))
        check(st == 403 and code_of(body) == "AccessDenied", (n.edge, st, body))
        st, body = curl(url(n, "/pics/pre.txt"))
        check(st == 200, (n.edge, st))
    # the ledger verifies: every attested entry judged again
    check(nodes[0].ows_json("ledger", "verify")["ok"])
