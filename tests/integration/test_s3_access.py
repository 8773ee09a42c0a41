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
    # refused configurations
    for bad in ["<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                "<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
                "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
                "</CORSRule></CORSConfiguration>", "<nope"]:
        st, body = curl("-X", "PUT", "--data-binary", bad, s3.generate_presigned_url(
            "put_bucket_cors", Params={"Bucket": BUCKET, "CORSConfiguration": CORS}))
        check(st == 400 and code_of(body) in ("InvalidRequest", "MalformedXML"),
              (st, body))
    check(len(s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]) == 2)
    r = s3.delete_bucket_cors(Bucket=BUCKET)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 204, r)
    expect_error(lambda: s3.get_bucket_cors(Bucket=BUCKET), "NoSuchCORSConfiguration")
