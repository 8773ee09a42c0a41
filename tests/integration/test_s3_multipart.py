"""S3 multipart uploads against a real node, with real clients: boto3 (this
Python's 1.43, which sends CRC32 checksums, and Debian's 1.26), the aws
cli v1 and Debian's 2.9 (`s3 cp` of 40 MiB, which goes multipart above 8
MiB, and the s3api operations), the JS SDK v3's lib-storage Upload, and
rclone above its upload cutoff. Bytes are checked on the way back; every
error path gets S3's code and status; an aborted or completed upload's
rows are gone from the state (its parts' blobs no longer named)."""
import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import zlib

from owstest import (PYTHON_DEBIAN, aws_cli, aws_env, boto3_client, check,
                     js_json, root_creds, started, tmpdir, write_json)

MIB = 1 << 20
BUCKET = "mpu-bucket"


def client_error(fn, *args, **kw):
    """(code, status) of the ClientError fn raises."""
    import botocore.exceptions
    try:
        fn(*args, **kw)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    raise AssertionError("%s did not fail" % fn.__name__)


def mpu_etag(parts):
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"%s-%d"' % (hashlib.md5(md5s).hexdigest(), len(parts))


def node_with_bucket():
    n = started()
    # no retries: botocore retries BadDigest, which the tests ask for
    s3 = boto3_client(n, "s3", retries=1)
    s3.create_bucket(Bucket=BUCKET)
    return n, s3


def state_rows(n, sql, *args):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(n.dir, "state.db"),
                         uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def complete(s3, key, uid, parts, **kw):
    return s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=uid,
        MultipartUpload={"Parts": parts}, **kw)


def part_entry(n, r):
    e = {"PartNumber": n, "ETag": r["ETag"]}
    for k in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1",
              "ChecksumSHA256", "ChecksumCRC64NVME"):
        if k in r:
            e[k] = r[k]
    return e


# ---- CRCs for the checks (zlib has CRC-32 only) ----

def _table(poly, width):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T32C = _table(0x82F63B78, 32)
_T64 = _table(0x9A6C9329AC4BC9B5, 64)


def _crc(table, width, data, reg):
    for b in data:
        reg = table[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


class Crc:
    """A running CRC (reflected, pre- and post-inverted) of width bits:
    update(data) returns self; b64() S3's base64 of the big-endian value."""

    def __init__(self, alg):
        self.alg = alg
        self.width = 64 if alg == "CRC64NVME" else 32
        self.mask = (1 << self.width) - 1
        self.reg = self.mask if alg != "CRC32" else 0

    def update(self, data):
        if self.alg == "CRC32":
            self.reg = zlib.crc32(data, self.reg)
        else:
            self.reg = _crc(_T64 if self.width == 64 else _T32C, self.width,
                            data, self.reg)
        return self

    def copy(self):
        c = Crc(self.alg)
        c.reg = self.reg
        return c

    def b64(self):
        v = self.reg if self.alg == "CRC32" else self.reg ^ self.mask
        return base64.b64encode(v.to_bytes(self.width // 8, "big")).decode()


def crc32(data):
    return Crc("CRC32").update(data).b64()


# ---- boto3, the operations one by one ----

def test_s3_multipart_boto3_operations():
    n, s3 = node_with_bucket()
    p1, p2, p3 = os.urandom(5 * MIB), os.urandom(5 * MIB + 17), b"the end"
    u = s3.create_multipart_upload(Bucket=BUCKET, Key="dir/big.bin",
                                   ContentType="application/x-test",
                                   Metadata={"colour": "blue"})
    uid = u["UploadId"]
    check(u["Bucket"] == BUCKET and u["Key"] == "dir/big.bin", u)
    check(len(uid) == 32 and all(c.isalnum() or c in "-_" for c in uid), uid)
    # parts out of order, one replaced
    r3 = s3.upload_part(Bucket=BUCKET, Key="dir/big.bin", UploadId=uid,
                        PartNumber=3, Body=p3)
    s3.upload_part(Bucket=BUCKET, Key="dir/big.bin", UploadId=uid,
                   PartNumber=1, Body=b"replaced below")
    r1 = s3.upload_part(Bucket=BUCKET, Key="dir/big.bin", UploadId=uid,
                        PartNumber=1, Body=p1)
    r2 = s3.upload_part(Bucket=BUCKET, Key="dir/big.bin", UploadId=uid,
                        PartNumber=2, Body=p2)
    check(r1["ETag"] == '"%s"' % hashlib.md5(p1).hexdigest(), r1)
    # ListParts, a page at a time
    lp = s3.list_parts(Bucket=BUCKET, Key="dir/big.bin", UploadId=uid,
                       MaxParts=2)
    check([p["PartNumber"] for p in lp["Parts"]] == [1, 2], lp)
    check(lp["IsTruncated"] and lp["NextPartNumberMarker"] == 2, lp)
    check(lp["Parts"][1]["Size"] == len(p2) and
          lp["Parts"][1]["ETag"] == r2["ETag"], lp)
    lp2 = s3.list_parts(Bucket=BUCKET, Key="dir/big.bin", UploadId=uid,
                        PartNumberMarker=2)
    check([p["PartNumber"] for p in lp2["Parts"]] == [3], lp2)
    check(not lp2["IsTruncated"] and lp2["Parts"][0]["Size"] == len(p3), lp2)
    # the upload is listed until completed
    lu = s3.list_multipart_uploads(Bucket=BUCKET)
    check([x["UploadId"] for x in lu["Uploads"]] == [uid], lu)
    done = complete(s3, "dir/big.bin", uid,
                    [part_entry(1, r1), part_entry(2, r2), part_entry(3, r3)])
    check(done["ETag"] == mpu_etag([p1, p2, p3]), (done, mpu_etag([p1, p2, p3])))
    check(done["Key"] == "dir/big.bin" and
          done["Location"].endswith("/%s/dir/big.bin" % BUCKET), done)
    o = s3.get_object(Bucket=BUCKET, Key="dir/big.bin")
    body = o["Body"].read()
    check(sha(body) == sha(p1 + p2 + p3) and o["ETag"] == done["ETag"], o)
    check(o["ContentType"] == "application/x-test" and
          o["Metadata"] == {"colour": "blue"}, o)
    # GET and HEAD of one part
    g = s3.get_object(Bucket=BUCKET, Key="dir/big.bin", PartNumber=2)
    check(g["Body"].read() == p2 and g["PartsCount"] == 3, g)
    check(g["ContentRange"] == "bytes %d-%d/%d" % (
        len(p1), len(p1) + len(p2) - 1, len(p1 + p2 + p3)), g)
    h = s3.head_object(Bucket=BUCKET, Key="dir/big.bin", PartNumber=3)
    check(h["ContentLength"] == len(p3) and h["PartsCount"] == 3, h)
    # a Range across two parts
    g = s3.get_object(Bucket=BUCKET, Key="dir/big.bin",
                      Range="bytes=%d-%d" % (5 * MIB - 3, 5 * MIB + 2))
    check(g["Body"].read() == (p1 + p2)[5 * MIB - 3:5 * MIB + 3], g)
    # the upload and its parts (the replaced one too) are gone
    check(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == [],
          "upload still listed")
    check(state_rows(n, "SELECT count(*) FROM s3_parts WHERE upload_id=?",
                     uid) == [(0,)], "parts rows left")
    check(state_rows(n, "SELECT count(*) FROM s3_object_blobs WHERE key=?",
                     "dir/big.bin") == [(3,)], "object blobs")


def test_s3_multipart_upload_ids():
    """Upload ids are 32 URL-safe characters, all different, and never
    start with '-' (the aws cli would read `--upload-id -x...` as an
    option: with base64url that was one upload in 32)."""
    n, s3 = node_with_bucket()
    ids = [s3.create_multipart_upload(Bucket=BUCKET, Key="k%d" % i)["UploadId"]
           for i in range(160)]
    check(len(set(ids)) == len(ids), "ids repeat")
    for uid in ids:
        check(len(uid) == 32 and uid[0].isalnum() and
              all(c.isalnum() or c in "-_" for c in uid), uid)
    check(len(s3.list_multipart_uploads(Bucket=BUCKET, MaxUploads=1000)
              ["Uploads"]) == 160, "listed")


def test_s3_multipart_errors():
    n, s3 = node_with_bucket()
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="k")["UploadId"]
    bogus = "A" * 32
    # NoSuchUpload on every operation, a wrong key too
    for fn, kw in ((s3.upload_part, {"PartNumber": 1, "Body": b"x"}),
                   (s3.list_parts, {}), (s3.abort_multipart_upload, {})):
        check(client_error(fn, Bucket=BUCKET, Key="k", UploadId=bogus, **kw)
              == ("NoSuchUpload", 404), fn)
    check(client_error(s3.upload_part, Bucket=BUCKET, Key="other",
                       UploadId=uid, PartNumber=1, Body=b"x")
          == ("NoSuchUpload", 404), "wrong key")
    check(client_error(complete, s3, "k", bogus, [{"PartNumber": 1,
                                                   "ETag": '"%s"' % ("0" * 32)}])
          == ("NoSuchUpload", 404), "complete")
    # part numbers
    for pn in (0, 10001):
        check(client_error(s3.upload_part, Bucket=BUCKET, Key="k",
                           UploadId=uid, PartNumber=pn, Body=b"x")
              == ("InvalidArgument", 400), pn)
    # NoSuchBucket
    check(client_error(s3.create_multipart_upload, Bucket="no-such-bucket",
                       Key="k") == ("NoSuchBucket", 404), "bucket")
    small = s3.upload_part(Bucket=BUCKET, Key="k", UploadId=uid,
                           PartNumber=1, Body=b"small")
    big = os.urandom(5 * MIB)
    r2 = s3.upload_part(Bucket=BUCKET, Key="k", UploadId=uid, PartNumber=2,
                        Body=big)
    r3 = s3.upload_part(Bucket=BUCKET, Key="k", UploadId=uid, PartNumber=3,
                        Body=b"last")
    # InvalidPart: an unknown part, a wrong ETag
    check(client_error(complete, s3, "k", uid, [part_entry(2, r2),
                                                {"PartNumber": 4, "ETag": r3["ETag"]}])
          == ("InvalidPart", 400), "unknown part")
    check(client_error(complete, s3, "k", uid, [{"PartNumber": 2,
                                                 "ETag": r3["ETag"]}])
          == ("InvalidPart", 400), "wrong etag")
    # InvalidPartOrder
    check(client_error(complete, s3, "k", uid, [part_entry(3, r3),
                                                part_entry(2, r2)])
          == ("InvalidPartOrder", 400), "order")
    # EntityTooSmall: part 1 (5 bytes) is not the last
    check(client_error(complete, s3, "k", uid, [part_entry(1, small),
                                                part_entry(2, r2)])
          == ("EntityTooSmall", 400), "too small")
    # MalformedXML: no parts at all, and a body that is not XML
    check(client_error(complete, s3, "k", uid, [])
          == ("MalformedXML", 400), "no parts")
    # Content-MD5 of a part that does not match
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    check(client_error(s3.upload_part, Bucket=BUCKET, Key="k", UploadId=uid,
                       PartNumber=5, Body=b"data", ContentMD5=bad)
          == ("BadDigest", 400), "md5")
    # nothing above changed the upload: it completes, without part 1
    done = complete(s3, "k", uid, [part_entry(2, r2), part_entry(3, r3)])
    check(done["ETag"] == mpu_etag([big, b"last"]), done)
    check(s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == big + b"last",
          "object")
    # a completed upload is gone; the same complete sent again (its
    # answer lost) gets the same answer, as S3 gives it
    again = complete(s3, "k", uid, [part_entry(2, r2), part_entry(3, r3)])
    check(again["ETag"] == done["ETag"], again)
    check(client_error(complete, s3, "k", uid, [part_entry(2, r2)])
          == ("NoSuchUpload", 404), "twice, other parts")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"overwritten")
    check(client_error(complete, s3, "k", uid, [part_entry(2, r2),
                                                part_entry(3, r3)])
          == ("NoSuchUpload", 404), "twice, object replaced")
    check(state_rows(n, "SELECT count(*) FROM s3_parts WHERE upload_id=?",
                     uid) == [(0,)], "unlisted part 1 left")


def test_s3_multipart_abort_drops_parts():
    n, s3 = node_with_bucket()
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="gone")["UploadId"]
    data = os.urandom(64 * 1024)
    s3.upload_part(Bucket=BUCKET, Key="gone", UploadId=uid, PartNumber=1,
                   Body=data)
    blobs = state_rows(n, "SELECT blob FROM s3_parts WHERE upload_id=?", uid)
    check(blobs == [(sha(data),)], blobs)
    # a bucket with an upload in progress is not empty
    check(client_error(s3.delete_bucket, Bucket=BUCKET)
          == ("BucketNotEmpty", 409), "not empty")
    r = s3.abort_multipart_upload(Bucket=BUCKET, Key="gone", UploadId=uid)
    check(r["ResponseMetadata"]["HTTPStatusCode"] == 204, r)
    check(state_rows(n, "SELECT count(*) FROM s3_parts WHERE blob=?",
                     sha(data)) == [(0,)], "part rows left")
    check(state_rows(n, "SELECT count(*) FROM s3_uploads") == [(0,)],
          "upload row left")
    check(client_error(s3.abort_multipart_upload, Bucket=BUCKET, Key="gone",
                       UploadId=uid) == ("NoSuchUpload", 404), "twice")
    check(client_error(s3.list_parts, Bucket=BUCKET, Key="gone",
                       UploadId=uid) == ("NoSuchUpload", 404), "list")
    s3.delete_bucket(Bucket=BUCKET)


def test_s3_multipart_conditional_complete():
    n, s3 = node_with_bucket()
    data = os.urandom(1024)

    def upload(key):
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid,
                           PartNumber=1, Body=data)
        return uid, [part_entry(1, r)]

    uid, parts = upload("c")
    first = complete(s3, "c", uid, parts, IfNoneMatch="*")
    uid, parts = upload("c")
    check(client_error(complete, s3, "c", uid, parts, IfNoneMatch="*")
          == ("PreconditionFailed", 412), "if-none-match")
    check(client_error(complete, s3, "c", uid, parts, IfMatch='"%s"' % ("0" * 32))
          == ("PreconditionFailed", 412), "if-match")
    # the refusals left the upload as it was
    second = complete(s3, "c", uid, parts, IfMatch=first["ETag"])
    check(second["ETag"] == first["ETag"], second)
    uid, parts = upload("absent")
    check(client_error(complete, s3, "absent", uid, parts,
                       IfMatch=first["ETag"]) == ("NoSuchKey", 404), "absent")


def test_s3_multipart_list_uploads():
    n, s3 = node_with_bucket()
    made = {}
    for key in ("a/1", "a/2", "b", "b", "c/x/1", "d"):
        uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        made.setdefault(key, []).append(uid)
    everything = s3.list_multipart_uploads(Bucket=BUCKET)
    check([(u["Key"], u["UploadId"]) for u in everything["Uploads"]] ==
          [(k, i) for k in ("a/1", "a/2", "b", "c/x/1", "d") for i in made[k]],
          everything)
    check(everything["Uploads"][0]["Initiator"]["DisplayName"] == "root",
          everything["Uploads"][0])
    # pages of two, following the markers
    seen, kw = [], {}
    while True:
        page = s3.list_multipart_uploads(Bucket=BUCKET, MaxUploads=2, **kw)
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"],
              "UploadIdMarker": page["NextUploadIdMarker"]}
    check(seen == [(u["Key"], u["UploadId"]) for u in everything["Uploads"]],
          seen)
    # a key-marker alone skips that key's uploads
    page = s3.list_multipart_uploads(Bucket=BUCKET, KeyMarker="b")
    check([u["Key"] for u in page["Uploads"]] == ["c/x/1", "d"], page)
    # prefix and delimiter
    page = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/")
    check([u["Key"] for u in page["Uploads"]] == ["b", "b", "d"], page)
    check([p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "c/"], page)
    page = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="c/", Delimiter="/")
    check(page.get("Uploads", []) == [] and
          [p["Prefix"] for p in page["CommonPrefixes"]] == ["c/x/"], page)
    page = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="a/")
    check([u["Key"] for u in page["Uploads"]] == ["a/1", "a/2"], page)
    # a common prefix counts against max-uploads
    page = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/", MaxUploads=1)
    check(page["IsTruncated"] and page["CommonPrefixes"][0]["Prefix"] == "a/" and
          page["NextKeyMarker"] == "a/", page)
    page = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/",
                                     KeyMarker="a/")
    check([u["Key"] for u in page["Uploads"]] == ["b", "b", "d"], page)
    # keys that need encoding: encoding-type=url (boto3 leaves it as sent
    # when asked for it explicitly), and the upload goes through whole
    odd = "sp ace/\u00fc+&.bin"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=odd)["UploadId"]
    page = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="sp ace/",
                                     EncodingType="url")
    check([u["Key"] for u in page["Uploads"]] == ["sp%20ace/%C3%BC%2B%26.bin"]
          and page["EncodingType"] == "url", page)
    r = s3.upload_part(Bucket=BUCKET, Key=odd, UploadId=uid, PartNumber=1,
                       Body=b"odd")
    check(s3.list_parts(Bucket=BUCKET, Key=odd, UploadId=uid)["Key"] == odd,
          "list parts key")
    complete(s3, odd, uid, [part_entry(1, r)])
    check(s3.get_object(Bucket=BUCKET, Key=odd)["Body"].read() == b"odd", odd)


def test_s3_multipart_upload_part_copy():
    n, s3 = node_with_bucket()
    src = os.urandom(7 * MIB + 5)
    s3.put_object(Bucket=BUCKET, Key="src", Body=src)
    s3.create_bucket(Bucket="other-bucket")
    uid = s3.create_multipart_upload(Bucket="other-bucket",
                                     Key="dst")["UploadId"]

    def copy(pn, **kw):
        return s3.upload_part_copy(Bucket="other-bucket", Key="dst",
                                   UploadId=uid, PartNumber=pn,
                                   CopySource={"Bucket": BUCKET, "Key": "src"},
                                   **kw)

    c1 = copy(1, CopySourceRange="bytes=0-%d" % (5 * MIB - 1))
    check(c1["CopyPartResult"]["ETag"] ==
          '"%s"' % hashlib.md5(src[:5 * MIB]).hexdigest(), c1)
    # the whole source, under conditions that hold
    c2 = copy(2, CopySourceIfMatch=s3.head_object(Bucket=BUCKET,
                                                  Key="src")["ETag"])
    c3 = copy(3, CopySourceRange="bytes=%d-%d" % (5 * MIB, len(src) - 1))
    parts = [{"PartNumber": i + 1, "ETag": c["CopyPartResult"]["ETag"]}
             for i, c in enumerate((c1, c2, c3))]
    # conditions that fail; ranges that are wrong; sources that are not
    check(client_error(copy, 4, CopySourceIfNoneMatch=c2["CopyPartResult"]["ETag"])
          == ("PreconditionFailed", 412), "if-none-match")
    check(client_error(copy, 4, CopySourceIfMatch='"%s"' % ("0" * 32))
          == ("PreconditionFailed", 412), "if-match")
    check(client_error(copy, 4, CopySourceIfModifiedSince="2100-01-01T00:00:00Z")
          == ("PreconditionFailed", 412), "if-modified-since")
    check(client_error(copy, 4, CopySourceIfUnmodifiedSince="2000-01-01T00:00:00Z")
          == ("PreconditionFailed", 412), "if-unmodified-since")
    check(client_error(copy, 4, CopySourceRange="bytes=0-%d" % len(src))
          == ("InvalidArgument", 400), "past the end")
    check(client_error(copy, 4, CopySourceRange="bytes=5-1")
          == ("InvalidArgument", 400), "backwards")
    check(client_error(s3.upload_part_copy, Bucket="other-bucket", Key="dst",
                       UploadId=uid, PartNumber=4,
                       CopySource={"Bucket": BUCKET, "Key": "none"})
          == ("NoSuchKey", 404), "no source")
    check(client_error(s3.upload_part_copy, Bucket="other-bucket", Key="dst",
                       UploadId="B" * 32, PartNumber=4,
                       CopySource={"Bucket": BUCKET, "Key": "src"})
          == ("NoSuchUpload", 404), "no upload")
    done = s3.complete_multipart_upload(Bucket="other-bucket", Key="dst",
                                        UploadId=uid,
                                        MultipartUpload={"Parts": parts})
    want = src[:5 * MIB] + src + src[5 * MIB:]
    check(done["ETag"] == mpu_etag([src[:5 * MIB], src, src[5 * MIB:]]), done)
    body = s3.get_object(Bucket="other-bucket", Key="dst")["Body"].read()
    check(len(body) == len(want) and sha(body) == sha(want), len(body))
    # the copied range is a blob of its own
    check(state_rows(n, "SELECT blob FROM s3_object_blobs WHERE key='dst' "
                     "ORDER BY idx") == [(sha(src[:5 * MIB]),), (sha(src),),
                                         (sha(src[5 * MIB:]),)],
          "blobs")


def test_s3_multipart_checksums():
    n, s3 = node_with_bucket()
    p1, p2 = os.urandom(5 * MIB), os.urandom(1000)

    # COMPOSITE SHA256: each part's SHA-256, then the SHA-256 of those
    u = s3.create_multipart_upload(Bucket=BUCKET, Key="sha",
                                   ChecksumAlgorithm="SHA256")
    check(u["ChecksumAlgorithm"] == "SHA256" and
          u.get("ChecksumType") == "COMPOSITE", u)
    rs = [s3.upload_part(Bucket=BUCKET, Key="sha", UploadId=u["UploadId"],
                         PartNumber=i + 1, Body=p, ChecksumAlgorithm="SHA256")
          for i, p in enumerate((p1, p2))]
    check(rs[0]["ChecksumSHA256"] ==
          base64.b64encode(hashlib.sha256(p1).digest()).decode(), rs[0])
    lp = s3.list_parts(Bucket=BUCKET, Key="sha", UploadId=u["UploadId"])
    check(lp["Parts"][1]["ChecksumSHA256"] == rs[1]["ChecksumSHA256"] and
          lp["ChecksumAlgorithm"] == "SHA256", lp)
    # a part list without the parts' checksums is refused
    check(client_error(complete, s3, "sha", u["UploadId"],
                       [{"PartNumber": i + 1, "ETag": r["ETag"]}
                        for i, r in enumerate(rs)])
          == ("InvalidRequest", 400), "missing part checksums")
    # a part of another algorithm is refused
    check(client_error(s3.upload_part, Bucket=BUCKET, Key="sha",
                       UploadId=u["UploadId"], PartNumber=3, Body=b"x",
                       ChecksumAlgorithm="CRC32")
          == ("InvalidRequest", 400), "mismatch")
    done = complete(s3, "sha", u["UploadId"],
                    [part_entry(i + 1, r) for i, r in enumerate(rs)])
    raw = b"".join(hashlib.sha256(p).digest() for p in (p1, p2))
    want = base64.b64encode(hashlib.sha256(raw).digest()).decode() + "-2"
    check(done["ChecksumSHA256"] == want and
          done["ChecksumType"] == "COMPOSITE", done)
    h = s3.head_object(Bucket=BUCKET, Key="sha", ChecksumMode="ENABLED")
    check(h.get("ChecksumSHA256") == want, h)

    # FULL_OBJECT CRCs: the CRC of the whole object, from the parts'
    for alg in ("CRC32", "CRC32C", "CRC64NVME"):
        key = "full-" + alg
        u = s3.create_multipart_upload(Bucket=BUCKET, Key=key,
                                       ChecksumAlgorithm=alg,
                                       ChecksumType="FULL_OBJECT")
        c1 = Crc(alg).update(p1)
        sums = (c1.b64(), Crc(alg).update(p2).b64())
        parts = []
        for i, p in enumerate((p1, p2)):
            r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=u["UploadId"],
                               PartNumber=i + 1, Body=p,
                               **{"Checksum" + alg: sums[i]})
            parts.append(part_entry(i + 1, r))
        whole = c1.copy().update(p2).b64()
        # a whole-object checksum that is not the object's
        check(client_error(complete, s3, key, u["UploadId"], parts,
                           **{"Checksum" + alg: sums[0], "ChecksumType": "FULL_OBJECT"})
              == ("BadDigest", 400), alg)
        done = complete(s3, key, u["UploadId"], parts,
                        **{"Checksum" + alg: whole, "ChecksumType": "FULL_OBJECT"})
        check(done["Checksum" + alg] == whole and
              done["ChecksumType"] == "FULL_OBJECT", (alg, done, whole))

    # a part sent without a checksum gets the upload's, computed by the
    # node (as S3 does), and counts in the composite
    import boto3
    import botocore.config
    kid, secret = root_creds(n)
    plain = boto3.client("s3", endpoint_url="http://" + n.edge,
                         region_name="us-east-1", aws_access_key_id=kid,
                         aws_secret_access_key=secret,
                         config=botocore.config.Config(
                             request_checksum_calculation="when_required"))
    u = s3.create_multipart_upload(Bucket=BUCKET, Key="computed",
                                   ChecksumAlgorithm="CRC32")
    r = plain.upload_part(Bucket=BUCKET, Key="computed", UploadId=u["UploadId"],
                          PartNumber=1, Body=p2)
    check(r.get("ChecksumCRC32") == crc32(p2), r)
    done = complete(s3, "computed", u["UploadId"], [part_entry(1, r)])
    want = base64.b64encode(zlib.crc32(base64.b64decode(crc32(p2))).to_bytes(
        4, "big")).decode() + "-1"
    check(done.get("ChecksumCRC32") == want, (done, want))

    # a part whose checksum is not its data's stores nothing
    u = s3.create_multipart_upload(Bucket=BUCKET, Key="bad",
                                   ChecksumAlgorithm="CRC32")
    check(client_error(s3.upload_part, Bucket=BUCKET, Key="bad",
                       UploadId=u["UploadId"], PartNumber=1, Body=p2,
                       ChecksumCRC32=crc32(p1)) == ("BadDigest", 400), "bad")
    check(s3.list_parts(Bucket=BUCKET, Key="bad",
                        UploadId=u["UploadId"]).get("Parts", []) == [], "stored")
    # a type needs an algorithm; an algorithm S3 does not have
    check(client_error(s3.create_multipart_upload, Bucket=BUCKET, Key="x",
                       ChecksumType="COMPOSITE") == ("InvalidRequest", 400),
          "type alone")
    # SHA256 has no FULL_OBJECT; CRC64NVME no COMPOSITE
    check(client_error(s3.create_multipart_upload, Bucket=BUCKET, Key="x",
                       ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
          == ("InvalidRequest", 400), "sha full")
    check(client_error(s3.create_multipart_upload, Bucket=BUCKET, Key="x",
                       ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE")
          == ("InvalidRequest", 400), "crc64 composite")


# ---- clients as people use them ----

def write_file(size):
    path = os.path.join(tmpdir(), "data.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    with open(path, "rb") as f:
        return path, sha(f.read())


def file_sha(path):
    with open(path, "rb") as f:
        return sha(f.read())


def test_s3_multipart_aws_cli_cp():
    n, s3 = node_with_bucket()
    key = root_creds(n)
    path, digest = write_file(40 * MIB)
    for debian, name in ((False, "v1.bin"), (True, "v2.bin")):
        p = aws_cli(n, key, "s3", "cp", path, "s3://%s/%s" % (BUCKET, name),
                    debian=debian, timeout=300)
        check(p.returncode == 0, (debian, p.stdout, p.stderr))
        h = s3.head_object(Bucket=BUCKET, Key=name)
        check(h["ContentLength"] == 40 * MIB and h["ETag"].endswith('-5"'),
              (debian, h))
        out = os.path.join(tmpdir(), "back.bin")
        p = aws_cli(n, key, "s3", "cp", "s3://%s/%s" % (BUCKET, name), out,
                    debian=debian, timeout=300)
        check(p.returncode == 0, (debian, p.stdout, p.stderr))
        check(file_sha(out) == digest, "bytes differ (%s)" % name)
    check(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == [],
          "uploads left")


def test_s3_multipart_aws_cli_s3api():
    n, s3 = node_with_bucket()
    key = root_creds(n)

    def api(*args):
        p = aws_cli(n, key, "--output", "json", "s3api", *args, debian=True)
        check(p.returncode == 0, (args, p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def api_fails(*args):
        p = aws_cli(n, key, "--output", "json", "s3api", *args, debian=True)
        check(p.returncode != 0, (args, p.stdout))
        return p.stderr

    d = tmpdir()
    p1 = os.path.join(d, "p1")
    with open(p1, "wb") as f:
        f.write(os.urandom(5 * MIB))
    s3.put_object(Bucket=BUCKET, Key="src", Body=b"0123456789" * 100)
    uid = api("create-multipart-upload", "--bucket", BUCKET,
              "--key", "obj")["UploadId"]
    r1 = api("upload-part", "--bucket", BUCKET, "--key", "obj", "--upload-id",
             uid, "--part-number", "1", "--body", p1)
    r2 = api("upload-part-copy", "--bucket", BUCKET, "--key", "obj",
             "--upload-id", uid, "--part-number", "2", "--copy-source",
             "%s/src" % BUCKET, "--copy-source-range", "bytes=10-19")
    lp = api("list-parts", "--bucket", BUCKET, "--key", "obj", "--upload-id",
             uid)
    check([(p["PartNumber"], p["Size"]) for p in lp["Parts"]] ==
          [(1, 5 * MIB), (2, 10)], lp)
    lu = api("list-multipart-uploads", "--bucket", BUCKET)
    check([u["UploadId"] for u in lu["Uploads"]] == [uid], lu)
    mp = write_json({"Parts": [
        {"PartNumber": 1, "ETag": r1["ETag"]},
        {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]}, "mp.json")
    done = api("complete-multipart-upload", "--bucket", BUCKET, "--key", "obj",
               "--upload-id", uid, "--multipart-upload", "file://" + mp)
    with open(p1, "rb") as f:
        want = f.read() + b"0123456789"
    check(done["ETag"] == mpu_etag([want[:5 * MIB], want[5 * MIB:]]), done)
    check(s3.get_object(Bucket=BUCKET, Key="obj")["Body"].read() == want,
          "object")
    uid = api("create-multipart-upload", "--bucket", BUCKET,
              "--key", "dropped")["UploadId"]
    api("abort-multipart-upload", "--bucket", BUCKET, "--key", "dropped",
        "--upload-id", uid)
    err = api_fails("abort-multipart-upload", "--bucket", BUCKET, "--key",
                    "dropped", "--upload-id", uid)
    check("NoSuchUpload" in err, err)


BOTO_TRANSFER = """
import boto3, sys
from boto3.s3.transfer import TransferConfig
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024,
                     multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)
c.upload_file(sys.argv[2], sys.argv[3], sys.argv[4], Config=cfg)
c.download_file(sys.argv[3], sys.argv[4], sys.argv[5], Config=cfg)
print(c.head_object(Bucket=sys.argv[3], Key=sys.argv[4])["ETag"])
"""


def test_s3_multipart_boto3_transfer():
    n, s3 = node_with_bucket()
    path, digest = write_file(23 * MIB)
    for py, name in (("python3", "new.bin"), (PYTHON_DEBIAN, "old.bin")):
        out = os.path.join(tmpdir(), "back.bin")
        p = subprocess.run([py, "-c", BOTO_TRANSFER, "http://" + n.edge, path,
                            BUCKET, name, out], capture_output=True, text=True,
                           timeout=300, env=aws_env(n))
        check(p.returncode == 0, (py, p.stderr))
        check(p.stdout.strip().endswith('-5"'), (py, p.stdout))
        check(file_sha(out) == digest, "bytes differ (%s)" % py)
    # boto3 1.43 sends CRC32 with each part: the object keeps a checksum
    h = s3.head_object(Bucket=BUCKET, Key="new.bin", ChecksumMode="ENABLED")
    check("ChecksumCRC32" in h, h)


JS_UPLOAD = """
const { S3Client, GetObjectCommand, HeadObjectCommand } = require("@aws-sdk/client-s3");
const { Upload } = require("@aws-sdk/lib-storage");
const crypto = require("crypto");
(async () => {
  const s3 = new S3Client({ forcePathStyle: true });
  const body = crypto.randomBytes(13 * 1024 * 1024 + 123);
  const up = new Upload({ client: s3, partSize: 5 * 1024 * 1024, queueSize: 3,
    params: { Bucket: process.argv[2], Key: "js/upload.bin", Body: body,
              ContentType: "application/octet-stream" } });
  let parts = 0;
  up.on("httpUploadProgress", () => { parts++; });
  const done = await up.done();
  const got = await s3.send(new GetObjectCommand({ Bucket: process.argv[2], Key: "js/upload.bin" }));
  const back = Buffer.from(await got.Body.transformToByteArray());
  console.log(JSON.stringify({ etag: done.ETag, same: back.equals(body),
    length: back.length, progress: parts }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_s3_multipart_js_lib_storage():
    n, s3 = node_with_bucket()
    r = js_json(n, root_creds(n), JS_UPLOAD, BUCKET, timeout=120)
    check(r["same"] and r["length"] == 13 * MIB + 123, r)
    check(r["etag"].endswith('-3"'), r)
    check(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == [],
          "uploads left")


def test_s3_multipart_rclone():
    n, s3 = node_with_bucket()
    kid, secret = root_creds(n)
    path, digest = write_file(12 * MIB)
    # rclone's SDK fails on an AWS_CA_BUNDLE it cannot use with plain http
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(RCLONE_CONFIG_OWS_TYPE="s3",
               RCLONE_CONFIG_OWS_PROVIDER="Other",
               RCLONE_CONFIG_OWS_ENDPOINT="http://" + n.edge,
               RCLONE_CONFIG_OWS_ACCESS_KEY_ID=kid,
               RCLONE_CONFIG_OWS_SECRET_ACCESS_KEY=secret,
               RCLONE_CONFIG_OWS_REGION="us-east-1",
               RCLONE_CONFIG_OWS_FORCE_PATH_STYLE="true")
    p = subprocess.run(["rclone", "copyto", path, "ows:%s/rc/file.bin" % BUCKET,
                        "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
                        "--no-check-dest", "--s3-no-check-bucket"],
                       capture_output=True, text=True, timeout=300, env=env)
    check(p.returncode == 0, p.stderr)
    h = s3.head_object(Bucket=BUCKET, Key="rc/file.bin")
    check(h["ETag"].endswith('-3"') and h["ContentLength"] == 12 * MIB, h)
    body = s3.get_object(Bucket=BUCKET, Key="rc/file.bin")["Body"].read()
    check(sha(body) == digest, "bytes differ")


def test_s3_multipart_authorization():
    n, s3 = node_with_bucket()
    n.ows("apply", write_json({"stack": "s", "users": {"up": {"policies": ["p"]}},
                               "policies": {"p": {"Statement": [
                                   {"Effect": "Allow", "Action": "s3:PutObject",
                                    "Resource": "arn:aws:s3:::%s/up/*" % BUCKET}]}}}),
          "--yes")
    made = n.ows_json("key", "access", "create", "up")
    u = boto3_client(n, "s3", (made["access_key_id"], made["secret_access_key"]))
    uid = u.create_multipart_upload(Bucket=BUCKET, Key="up/x")["UploadId"]
    r = u.upload_part(Bucket=BUCKET, Key="up/x", UploadId=uid, PartNumber=1,
                      Body=b"hello")
    # PutObject alone: no listing, no abort, nothing outside up/
    check(client_error(u.list_parts, Bucket=BUCKET, Key="up/x", UploadId=uid)
          == ("AccessDenied", 403), "list parts")
    check(client_error(u.list_multipart_uploads, Bucket=BUCKET)
          == ("AccessDenied", 403), "list uploads")
    check(client_error(u.abort_multipart_upload, Bucket=BUCKET, Key="up/x",
                       UploadId=uid) == ("AccessDenied", 403), "abort")
    check(client_error(u.create_multipart_upload, Bucket=BUCKET, Key="other")
          == ("AccessDenied", 403), "other key")
    s3.put_object(Bucket=BUCKET, Key="secret", Body=b"not yours")
    check(client_error(u.upload_part_copy, Bucket=BUCKET, Key="up/x",
                       UploadId=uid, PartNumber=2,
                       CopySource={"Bucket": BUCKET, "Key": "secret"})
          == ("AccessDenied", 403), "copy needs s3:GetObject on the source")
    done = complete(u, "up/x", uid, [part_entry(1, r)])
    check(done["ETag"] == mpu_etag([b"hello"]), done)


def test_s3_multipart_three_nodes():
    """An upload made through one node takes parts through the others
    (each waits for the upload to be applied there), completes through a
    third, and is read back through every node; each part's blob is on
    all three (the replica count of three voters)."""
    from owstest import cluster3_shared_root
    nodes = cluster3_shared_root()
    key = root_creds(nodes[0])
    c = [boto3_client(x, "s3", key, retries=1) for x in nodes]
    c[0].create_bucket(Bucket=BUCKET)
    src = os.urandom(3 * MIB)
    c[0].put_object(Bucket=BUCKET, Key="src", Body=src)
    uid = c[0].create_multipart_upload(Bucket=BUCKET, Key="k")["UploadId"]
    p1 = os.urandom(5 * MIB)
    r1 = c[1].upload_part(Bucket=BUCKET, Key="k", UploadId=uid, PartNumber=1,
                          Body=p1)
    r2 = c[2].upload_part_copy(Bucket=BUCKET, Key="k", UploadId=uid,
                               PartNumber=2,
                               CopySource={"Bucket": BUCKET, "Key": "src"},
                               CopySourceRange="bytes=1-%d" % (len(src) - 2))
    lp = c[2].list_parts(Bucket=BUCKET, Key="k", UploadId=uid)
    check([p["PartNumber"] for p in lp["Parts"]] == [1, 2], lp)
    done = c[1].complete_multipart_upload(
        Bucket=BUCKET, Key="k", UploadId=uid, MultipartUpload={"Parts": [
            part_entry(1, r1),
            {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    want = p1 + src[1:-1]
    check(done["ETag"] == mpu_etag([p1, src[1:-1]]), done)
    for i, cl in enumerate(c):
        body = cl.get_object(Bucket=BUCKET, Key="k")["Body"].read()
        check(sha(body) == sha(want), "node %d reads other bytes" % (i + 1))
        check(cl.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == [],
              "node %d still lists the upload" % (i + 1))
    for blob in (sha(p1), sha(src[1:-1])):
        held = [os.path.exists(os.path.join(x.dir, "blobs", blob))
                for x in nodes]
        check(all(held), (blob, held))
