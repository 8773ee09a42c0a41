"""S3 under attack, second pass: multipart uploads, copies, listings,
DeleteObjects, tagging and the access paths (bucket policies, anonymous
requests, presigned URLs, form uploads) against hostile clients with
valid keys. Raw requests are signed by test_s3_attacks' helpers so that
what is sent is what the attacker chose."""
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_s3_attacks import code_of, req, setup, user_key  # noqa: E402
from owstest import boto3_client, check, raw_http, root_creds, started  # noqa: E402


def test_s3_attack2_tags_set_with_the_object_need_put_object_tagging():
    """x-amz-tagging on PutObject, CreateMultipartUpload and CopyObject
    sets tags: a user allowed s3:PutObject but not s3:PutObjectTagging
    is refused (AccessDenied) and nothing is written, as in S3; without
    the header the same user writes; 11 tags are InvalidTag."""
    n = started()
    s3, _ = setup(n)
    w = user_key(n, "untagged", [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                                  "Resource": "arn:aws:s3:::bkt/pub/*"}])
    t = user_key(n, "tagger", [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject",
                                                            "s3:PutObjectTagging"],
                                "Resource": "arn:aws:s3:::bkt/pub/*"}])
    st, body = req(n, "PUT", "/bkt/pub/t", w, body=b"x", headers={"x-amz-tagging": "class=public"})
    check((st, code_of(body)) == (403, "AccessDenied"), (st, body))
    st, body = req(n, "POST", "/bkt/pub/t", w, query="uploads=", headers={"x-amz-tagging": "a=b"})
    check((st, code_of(body)) == (403, "AccessDenied"), (st, body))
    st, body = req(n, "PUT", "/bkt/pub/t", w, headers={
        "x-amz-copy-source": "bkt/pub/a", "x-amz-tagging-directive": "REPLACE",
        "x-amz-tagging": "a=b"})
    check((st, code_of(body)) == (403, "AccessDenied"), (st, body))
    check(code_of(req(n, "GET", "/bkt/pub/t", w)[1]) == "NoSuchKey")
    check(s3.list_multipart_uploads(Bucket="bkt").get("Uploads", []) == [])
    st, body = req(n, "PUT", "/bkt/pub/t", w, body=b"x")
    check(st == 200, (st, body))
    st, body = req(n, "PUT", "/bkt/pub/t", t, body=b"y", headers={"x-amz-tagging": "a=b&c=d"})
    check(st == 200, (st, body))
    tags = s3.get_object_tagging(Bucket="bkt", Key="pub/t")["TagSet"]
    check(sorted((x["Key"], x["Value"]) for x in tags) == [("a", "b"), ("c", "d")], tags)
    eleven = "&".join("k%d=v" % i for i in range(11))
    st, body = req(n, "PUT", "/bkt/pub/t", t, body=b"z", headers={"x-amz-tagging": eleven})
    check((st, code_of(body)) == (400, "InvalidTag"), (st, body))
    st, body = req(n, "PUT", "/bkt/pub/t2", t, headers={
        "x-amz-copy-source": "bkt/pub/a", "x-amz-tagging-directive": "REPLACE",
        "x-amz-tagging": eleven})
    check((st, code_of(body)) == (400, "InvalidTag"), (st, body))
    check(s3.get_object(Bucket="bkt", Key="pub/t")["Body"].read() == b"y")


def test_s3_attack2_copies_and_uploads_reach_only_what_the_caller_may():
    """A user with s3:PutObject and s3:GetObject on bkt/pub/* copies
    nothing else whatever x-amz-copy-source says (encodings, dot
    segments, versionId, another bucket, a NUL), in CopyObject and in
    UploadPartCopy; an upload id binds bucket and key (UploadPart,
    ListParts, Abort on another key's upload are NoSuchUpload); parts of
    another upload never complete this one; DeleteObjects deletes only
    the keys the caller may, each other one an AccessDenied entry."""
    n = started()
    s3, _ = setup(n)
    w = user_key(n, "writer", [{"Effect": "Allow", "Action": [
        "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts"], "Resource": "arn:aws:s3:::bkt/pub/*"}])
    for src in ("bkt/secret", "/bkt/secret", "bkt%2Fsecret", "bkt/pub/../secret",
                "bkt/pub%2F..%2Fsecret", "other/pub/a", "bkt/secret?versionId=null",
                "bkt/pub/a%00/../../secret", "bkt/secret?versionId=null&x=1"):
        st, body = req(n, "PUT", "/bkt/pub/copy", w, headers={"x-amz-copy-source": src})
        check(st in (400, 403, 404) and b"SECRET" not in body, (src, st, body))
    mp = s3.create_multipart_upload(Bucket="bkt", Key="pub/mp")["UploadId"]
    for src in ("bkt/secret", "other/pub/a", "bkt%2Fsecret", "bkt/pub%2F..%2Fsecret"):
        st, body = req(n, "PUT", "/bkt/pub/mp", w, query="partNumber=1&uploadId=" + mp,
                       headers={"x-amz-copy-source": src})
        check(st in (400, 403, 404), (src, st, body))
    check(s3.list_parts(Bucket="bkt", Key="pub/mp", UploadId=mp).get("Parts", []) == [])
    sec = s3.create_multipart_upload(Bucket="bkt", Key="secret")["UploadId"]
    for m, q, b in (("PUT", "partNumber=1&uploadId=" + sec, b"x"), ("GET", "uploadId=" + sec, b""),
                    ("DELETE", "uploadId=" + sec, b"")):
        st, body = req(n, m, "/bkt/pub/mp", w, query=q, body=b)
        check((st, code_of(body)) == (404, "NoSuchUpload"), (m, st, body))
    check(s3.list_parts(Bucket="bkt", Key="secret", UploadId=sec).get("Parts", []) == [])
    # parts of upload A listed in the completion of upload B
    a = s3.create_multipart_upload(Bucket="bkt", Key="pub/mpa")["UploadId"]
    e = s3.upload_part(Bucket="bkt", Key="pub/mpa", UploadId=a, PartNumber=1,
                       Body=b"A" * 10)["ETag"]
    part = "<Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>" % e
    st, body = req(n, "POST", "/bkt/pub/mp", w, query="uploadId=" + mp,
                   body=("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % part).encode())
    check((st, code_of(body)) == (400, "InvalidPart"), (st, body))
    st, body = req(n, "POST", "/bkt/pub/mpa", w, query="uploadId=" + a,
                   body=("<CompleteMultipartUpload>%s%s</CompleteMultipartUpload>"
                         % (part, part)).encode())
    check((st, code_of(body)) == (400, "InvalidPartOrder"), (st, body))
    many = "".join("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i, e)
                   for i in range(1, 10003))
    st, body = req(n, "POST", "/bkt/pub/mpa", w, query="uploadId=" + a,
                   body=("<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % many).encode())
    check(st == 400, (st, body))
    for rng in ("bytes=0-999999999999", "bytes=5-2", "bytes=0-18446744073709551616",
                "bytes=-5", "bytes=3-"):
        st, body = req(n, "PUT", "/bkt/pub/mpa", w, query="partNumber=2&uploadId=" + a,
                       headers={"x-amz-copy-source": "bkt/pub/a", "x-amz-copy-source-range": rng})
        check((st, code_of(body)) == (400, "InvalidArgument"), (rng, st, body))
    xml = ("<Delete><Object><Key>pub/a</Key></Object><Object><Key>secret</Key></Object>"
           "<Object><Key>secret</Key></Object></Delete>").encode()
    md5 = base64.b64encode(hashlib.md5(xml).digest()).decode()
    st, body = req(n, "POST", "/bkt", w, query="delete=", body=xml, headers={"Content-MD5": md5})
    check(st == 200 and body.count(b"<Code>AccessDenied</Code>") == 2
          and b"<Deleted><Key>pub/a</Key></Deleted>" in body, (st, body))
    st, body = req(n, "POST", "/bkt", w, query="delete=", body=xml.replace(
        b"<Delete>", b"<Delete><Quiet>true</Quiet>"), headers={"Content-MD5": base64.b64encode(
            hashlib.md5(xml.replace(b"<Delete>", b"<Delete><Quiet>true</Quiet>")).digest()).decode()})
    check(st == 200 and body.count(b"<Code>AccessDenied</Code>") == 2, (st, body))
    check(s3.get_object(Bucket="bkt", Key="secret")["Body"].read() == b"SECRET")


def test_s3_attack2_anonymous_callers_only_read_what_a_policy_opens():
    """A bucket policy giving s3:* to "*" lets anonymous callers read, and
    never write: PUT, DELETE, DeleteObjects, CreateMultipartUpload and a
    form without a signature are refused; a policy naming another
    bucket's objects is refused at PutBucketPolicy."""
    n = started()
    s3, _ = setup(n)
    try:
        s3.put_bucket_policy(Bucket="bkt", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::other/*"}]}))
        check(False, "a policy on bkt naming other/* was accepted")
    except Exception as ex:
        check("MalformedPolicy" in str(ex), ex)
    s3.put_bucket_policy(Bucket="bkt", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt"]}]}))
    xml = b"<Delete><Object><Key>secret</Key></Object></Delete>"
    md5 = base64.b64encode(hashlib.md5(xml).digest()).decode()
    form = (b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nanon\r\n"
            b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
            b"PWNED\r\n--B--\r\n")

    def anon(m, p, q="", b=b"", extra=""):
        raw = "%s %s%s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            m, p, "?" + q if q else "", n.edge, extra, len(b))
        return raw_http(n.edge, raw.encode() + b, timeout=30)
    for m, p, q, b, extra in (
            ("PUT", "/bkt/anon", "", b"x", ""), ("DELETE", "/bkt/secret", "", b"", ""),
            ("POST", "/bkt", "delete=", xml, "Content-MD5: %s\r\n" % md5),
            ("POST", "/bkt/anon", "uploads=", b"", ""),
            ("PUT", "/bkt/secret", "tagging=", b"<Tagging><TagSet/></Tagging>", ""),
            ("PUT", "/bkt", "policy=", b"{}", ""),
            ("POST", "/bkt", "", form, "Content-Type: multipart/form-data; boundary=B\r\n"),
            ("GET", "/other/pub/a", "", b"", "")):
        st, body = anon(m, p, q, b, extra)
        check(st in (400, 403) and b"OTHER-SECRET" not in body, (m, p, q, st, body))
    # DeleteObjects tells a stranger nothing of whether the bucket exists
    for bucket in ("bkt", "nosuchbucket"):
        for extra in ("", "Content-MD5: %s\r\n" % md5):
            st, body = anon("POST", "/" + bucket, "delete=", xml, extra)
            check((st, code_of(body)) == (403, "AccessDenied"), (bucket, extra, st, body))
    check(anon("GET", "/bkt/secret") == (200, b"SECRET"))
    check(s3.get_object(Bucket="bkt", Key="secret")["Body"].read() == b"SECRET")
    check(s3.list_objects_v2(Bucket="bkt")["KeyCount"] == 2)
    check(s3.list_multipart_uploads(Bucket="bkt").get("Uploads", []) == [])


def test_s3_attack2_presigned_urls_forms_and_prefix_conditions_hold():
    """Presigned URLs (SigV2 and SigV4) do only what was signed: another
    method, key or an added response-* parameter is refused; a SigV4
    X-Amz-Expires over seven days is refused. A form's policy binds its
    key and its fields and its content-length-range, and the signer's
    own policy still applies. A listing allowed only under s3:prefix
    pub/* lists nothing else (start-after, marker, duplicate prefix)."""
    import boto3
    import botocore.config
    import requests
    n = started()
    s3, _ = setup(n)
    w = user_key(n, "writer", [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
         "Resource": "arn:aws:s3:::bkt/pub/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bkt",
         "Condition": {"StringLike": {"s3:prefix": "pub/*"}}}])

    def http(url, method="GET", data=None):
        rq = urllib.request.Request(url, data=data, method=method)
        try:
            with urllib.request.urlopen(rq, timeout=30) as f:
                return f.status, dict(f.headers), f.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()
    for sv in ("s3", "s3v4"):
        c = boto3.client("s3", endpoint_url="http://" + n.edge, region_name="us-east-1",
                         aws_access_key_id=w[0], aws_secret_access_key=w[1],
                         config=botocore.config.Config(signature_version=sv))
        u = c.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "pub/a"})
        check(http(u)[::2] == (200, b"public"), (sv, http(u)))
        check(http(u, "PUT", b"evil")[0] == 403, sv)
        check(http(u, "DELETE")[0] == 403, sv)
        check(http(u + "&response-content-type=text/html")[0] == 403, sv)
        check(http(u.replace("/pub/a", "/pub/b"))[0] == 403, sv)
        check(http(u.replace("/pub/a", "/secret"))[0] == 403, sv)
        u = c.generate_presigned_url("get_object", Params={
            "Bucket": "bkt", "Key": "pub/a", "ResponseContentType": "text/html\r\nX-Evil: 1"})
        st, hd, _ = http(u)
        check("X-Evil" not in hd and "\n" not in hd.get("Content-Type", ""), (sv, st, hd))
    c4 = boto3.client("s3", endpoint_url="http://" + n.edge, region_name="us-east-1",
                      aws_access_key_id=w[0], aws_secret_access_key=w[1],
                      config=botocore.config.Config(signature_version="s3v4"))
    u = c4.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "pub/a"},
                                  ExpiresIn=604801)
    check(http(u)[0] in (400, 403), http(u))
    check(s3.get_object(Bucket="bkt", Key="pub/a")["Body"].read() == b"public")
    # forms
    ws3 = boto3_client(n, "s3", key=w)
    pp = ws3.generate_presigned_post("bkt", "pub/${filename}",
                                     Conditions=[["starts-with", "$key", "pub/"],
                                                 ["content-length-range", 0, 10]])

    def post(fields, body=b"hello", name="x.txt", p=pp):
        r = requests.post(p["url"], data=fields, files={"file": (name, body)}, timeout=30)
        return r.status_code, r.text
    f = dict(pp["fields"])
    check(post(f)[0] == 204)
    check(s3.get_object(Bucket="bkt", Key="pub/x.txt")["Body"].read() == b"hello")
    check(post(dict(f, key="secret"))[0] == 403)
    check(post(dict(f, **{"x-amz-meta-evil": "1"}))[0] == 403)
    check(post(dict(f, **{"Content-Type": "text/html"}))[0] == 403)
    check(post(f, b"h" * 100)[0] == 400)
    check(post(f, name="../secret")[0] == 204)
    got = req(n, "GET", "/bkt/pub/secret", w)  # ${filename} is the last part of the name
    check(got == (200, b"hello"), got)
    pp2 = ws3.generate_presigned_post("bkt", "secret", Conditions=[["starts-with", "$key", ""]])
    check(post(pp2["fields"], b"PWNED", p=pp2)[0] == 403)
    check(s3.get_object(Bucket="bkt", Key="secret")["Body"].read() == b"SECRET")
    # listings under an s3:prefix condition
    for q in ("prefix=pub/", "prefix=pub/&start-after=secret", "prefix=pub/&prefix=",
              "list-type=2&prefix=pub/&start-after=a", "prefix=pub/&marker=a",
              "prefix=pub/&delimiter=" + "x" * 2000, "list-type=2&prefix=pub/&continuation-token="
              + base64.b64encode(b"\x01secret").decode()):
        st, body = req(n, "GET", "/bkt", w, query=q)
        check(st in (200, 400) and b"<Key>secret" not in body and b"SECRET" not in body,
              (q, st, body))
    for q in ("prefix=", "", "prefix=secret", "prefix=pu", "prefix=pub"):
        st, body = req(n, "GET", "/bkt", w, query=q)
        check((st, code_of(body)) == (403, "AccessDenied"), (q, st, body))
    for q in ("prefix=pub/&max-keys=-1", "prefix=pub/&max-keys=99999999999999999999"):
        st, body = req(n, "GET", "/bkt", w, query=q)
        check((st, code_of(body)) == (400, "InvalidArgument"), (q, st, body))


def test_s3_attack2_upload_part_copy_reads_its_source_as_copy_object_does():
    """x-amz-copy-source is decoded as a whole, then split at its first
    slash, in UploadPartCopy as in CopyObject: "bkt%2Fpub/a" is bkt's
    pub/a (never a bucket named "bkt/pub", whose ARN arn:aws:s3:::bkt/pub/a
    reads as bkt's key), and "bkt%2Fsecret" is bkt's secret, refused to
    a user who may not read it."""
    n = started()
    s3, _ = setup(n)
    w = user_key(n, "writer", [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                                "Resource": "arn:aws:s3:::bkt/pub/*"}])
    mp = s3.create_multipart_upload(Bucket="bkt", Key="pub/mp")["UploadId"]
    for src, want in (("bkt%2Fpub/a", 200), ("bkt%2Fpub%2Fa", 200), ("%62kt/pub/a", 200),
                      ("bkt%2Fsecret", 403), ("other%2Fpub/a", 403)):
        st, body = req(n, "PUT", "/bkt/pub/mp", w, query="partNumber=1&uploadId=" + mp,
                       headers={"x-amz-copy-source": src})
        check(st == want and b"SECRET" not in body, (src, st, body))
        st2, body2 = req(n, "PUT", "/bkt/pub/copy", w, headers={"x-amz-copy-source": src})
        check(st2 == want, ("CopyObject", src, st2, body2))
    parts = s3.list_parts(Bucket="bkt", Key="pub/mp", UploadId=mp)["Parts"]
    check([(p["PartNumber"], p["Size"]) for p in parts] == [(1, 6)], parts)


def test_s3_attack2_form_file_part_content_type_is_not_the_objects():
    """A form whose policy names no Content-Type stores
    binary/octet-stream whatever the file part's own Content-Type header
    says, as S3 does: that header is outside the policy, and text/html
    from it would make the bucket serve a page the policy never allowed.
    A Content-Type field the policy allows is the object's."""
    import requests
    n = started()
    s3, _ = setup(n)
    w = user_key(n, "writer", [{"Effect": "Allow", "Action": "s3:PutObject",
                                "Resource": "arn:aws:s3:::bkt/pub/*"}])
    ws3 = boto3_client(n, "s3", key=w)
    pp = ws3.generate_presigned_post("bkt", "pub/${filename}",
                                     Conditions=[["starts-with", "$key", "pub/"]])
    r = requests.post(pp["url"], data=pp["fields"], timeout=30,
                      files={"file": ("x.html", b"<script>alert(1)</script>", "text/html")})
    check(r.status_code == 204, (r.status_code, r.text))
    ct = s3.head_object(Bucket="bkt", Key="pub/x.html")["ContentType"]
    check(ct == "binary/octet-stream", ct)
    pp = ws3.generate_presigned_post("bkt", "pub/y.txt", Fields={"Content-Type": "text/plain"},
                                     Conditions=[{"Content-Type": "text/plain"}])
    r = requests.post(pp["url"], data=pp["fields"], timeout=30,
                      files={"file": ("y.txt", b"plain", "text/html")})
    check(r.status_code == 204, (r.status_code, r.text))
    ct = s3.head_object(Bucket="bkt", Key="pub/y.txt")["ContentType"]
    check(ct == "text/plain", ct)


def test_s3_attack2_presigned_put_cannot_become_a_copy_or_tag():
    """A SigV4 presigned PUT signed only over Host cannot be turned by its
    holder into a CopyObject of what the signer can read, nor add tags or
    metadata: an x-amz-* header the signature does not cover is refused
    (AccessDenied), as S3 does; in SigV2 such headers are in the string
    signed, so the signature breaks."""
    import boto3
    import botocore.config
    n = started()
    s3, _ = setup(n)
    root = root_creds(n)
    for sv in ("s3v4", "s3"):
        c = boto3.client("s3", endpoint_url="http://" + n.edge, region_name="us-east-1",
                         aws_access_key_id=root[0], aws_secret_access_key=root[1],
                         config=botocore.config.Config(signature_version=sv))
        u = c.generate_presigned_url("put_object", Params={"Bucket": "bkt", "Key": "pub/up"})
        for h in ({"x-amz-copy-source": "bkt/secret"}, {"x-amz-tagging": "a=b"},
                  {"x-amz-meta-a": "b"}, {"x-amz-metadata-directive": "REPLACE"}):
            h["Content-Type"] = ""
            rq = urllib.request.Request(u, data=b"data", method="PUT", headers=h)
            try:
                with urllib.request.urlopen(rq, timeout=30) as f:
                    st = f.status
            except urllib.error.HTTPError as e:
                st = e.code
            check(st == 403, (sv, h, st))
        try:
            s3.head_object(Bucket="bkt", Key="pub/up")
            check(False, "pub/up was written")
        except s3.exceptions.ClientError as e:
            check(e.response["Error"]["Code"] == "404", e)


def test_s3_attack2_form_metadata_is_held_to_2_kb():
    """x-amz-meta-* fields of a form are held to S3's 2 KB as PutObject's
    headers are (400 MetadataTooLarge, nothing written), even when the
    policy lets any value through with starts-with ""."""
    import requests
    n = started()
    s3, _ = setup(n)
    w = user_key(n, "writer", [{"Effect": "Allow", "Action": "s3:PutObject",
                                "Resource": "arn:aws:s3:::bkt/pub/*"}])
    ws3 = boto3_client(n, "s3", key=w)
    pp = ws3.generate_presigned_post("bkt", "pub/m", Conditions=[
        ["starts-with", "$x-amz-meta-note", ""], ["starts-with", "$x-amz-meta-more", ""]])

    def post(note, more):
        fields = dict(pp["fields"], **{"x-amz-meta-note": note, "x-amz-meta-more": more})
        return requests.post(pp["url"], data=fields, files={"file": ("m", b"m")}, timeout=30)
    r = post("n" * 1500, "m" * 1500)
    check(r.status_code == 400 and "<Code>MetadataTooLarge</Code>" in r.text,
          (r.status_code, r.text))
    try:
        s3.head_object(Bucket="bkt", Key="pub/m")
        check(False, "pub/m was written")
    except s3.exceptions.ClientError as e:
        check(e.response["Error"]["Code"] == "404", e)
    r = post("n" * 1000, "m" * 1000)
    check(r.status_code == 204, (r.status_code, r.text))
    meta = s3.head_object(Bucket="bkt", Key="pub/m")["Metadata"]
    check(meta == {"note": "n" * 1000, "more": "m" * 1000}, meta)
