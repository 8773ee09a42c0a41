"""The seam (issue 9): every AWS service answers in its own protocol, its
auth failures included; a request is routed by X-Amz-Target, then by its
SigV4 scope (header or presigned query), then by path or Host; and a
request whose signature fails is answered from its head, before the body
it announces is read."""
import hashlib
import json
import os
import socket
import time

from owstest import Node, check, http, signed_request

MIB = 1024 * 1024


def started():
    n = Node()
    n.init()
    n.start()
    return n


def root_creds(node):
    text = open(os.path.join(node.dir, "credentials")).read()
    return (text.split("aws_access_key_id = ")[1].split()[0],
            text.split("aws_secret_access_key = ")[1].split()[0])


def boto_client(service, node, key, secret, region="us-east-1"):
    import boto3
    import botocore.config
    return boto3.client(service, endpoint_url="http://" + node.edge, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def client_error(fn, **kw):
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"].get("Message", ""),
                e.response["ResponseMetadata"]["HTTPStatusCode"])
    return None


def signed(method, url, body, key, secret, service, extra=None, region="us-east-1"):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers=dict(extra or {}))
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret),
                            service, region).add_auth(req)
    return dict(req.headers)


def answer_without_body(node, method, path, headers, length):
    """Send the head announcing length bytes, no body; the answer."""
    host, port = node.edge.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, node.edge)
    for k, v in headers.items():
        if k.lower() not in ("host", "content-length"):
            head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\n\r\n" % length
    s.sendall(head.encode())
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            b = s.recv(65536)
            if not b:
                break
            data += b
        hdr, _, rest = data.partition(b"\r\n\r\n")
        n = 0
        for line in hdr.split(b"\r\n")[1:]:
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(rest) < n:
            b = s.recv(65536)
            if not b:
                break
            rest += b
    except socket.timeout:
        return None
    finally:
        s.close()
    return int(hdr.split(b" ")[1]), hdr.decode(), rest


def test_lambda_auth_errors_reach_boto3_as_codes():
    n = started()
    kid, secret = root_creds(n)
    lam = boto_client("lambda", n, kid, "wrong" * 8)
    e = client_error(lam.invoke, FunctionName="f", Payload=b"{}")
    check(e and e[0] == "InvalidSignatureException" and e[2] == 403, e)
    lam = boto_client("lambda", n, "AKIAUNKNOWNUNKNOWN000", secret)
    e = client_error(lam.get_function, FunctionName="f")
    check(e and e[0] == "UnrecognizedClientException" and e[2] == 403, e)
    # Another region's scope: the signature error, in Lambda's shape.
    lam = boto_client("lambda", n, kid, secret, region="eu-west-1")
    e = client_error(lam.list_functions)
    check(e and e[0] == "InvalidSignatureException" and "region" in e[1], e)
    # Signed right: reaches Lambda (the function does not exist).
    lam = boto_client("lambda", n, kid, secret)
    e = client_error(lam.get_function, FunctionName="nope")
    check(e and e[0] == "ResourceNotFoundException" and e[2] == 404, e)


def test_sts_auth_errors_are_query_xml():
    n = started()
    kid, secret = root_creds(n)
    sts = boto_client("sts", n, kid, "wrong" * 8)
    e = client_error(sts.get_caller_identity)
    check(e and e[0] == "SignatureDoesNotMatch" and e[2] == 403, e)
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    url = "http://%s/" % n.edge
    hs = signed("POST", url, body, kid, "wrong" * 8, "sts",
                {"Content-Type": "application/x-www-form-urlencoded"})
    st, text = http(n.edge, "POST", "/", body, hs)
    text = text.decode()
    check(st == 403 and text.startswith("<ErrorResponse") and
          "<Code>SignatureDoesNotMatch</Code>" in text and "<RequestId>" in text,
          (st, text))
    sts = boto_client("sts", n, "AKIAUNKNOWNUNKNOWN000", secret)
    e = client_error(sts.get_caller_identity)
    check(e and e[0] == "InvalidClientTokenId" and e[2] == 403, e)


def test_bad_signature_refused_before_the_body():
    """The head announces 5 MB and no byte of it is sent: the answer comes
    anyway, because the signature (over the hash in x-amz-content-sha256)
    is checked before the body is read."""
    n = started()
    kid, secret = root_creds(n)
    big = b"x" * (5 * MIB)
    sha = hashlib.sha256(big).hexdigest()
    path = "/2015-03-31/functions/f/invocations"
    hs = signed("POST", "http://%s%s" % (n.edge, path), big, kid, "wrong" * 8,
                "lambda", {"x-amz-content-sha256": sha})
    r = answer_without_body(n, "POST", path, hs, len(big))
    check(r is not None, "no answer before the body")
    st, head, body = r
    check(st == 403 and json.loads(body)["Type"] == "User" and
          "InvalidSignatureException" in head, (st, head, body))
    # An unknown key: refused from the head even without a hash header.
    hs = signed("POST", "http://%s%s" % (n.edge, path), big,
                "AKIAUNKNOWNUNKNOWN000", secret, "lambda")
    r = answer_without_body(n, "POST", path, hs, len(big))
    check(r is not None and r[0] == 403 and "UnrecognizedClientException" in r[1], r)
    # STS the same, in its XML.
    hs = signed("POST", "http://%s/" % n.edge, big, kid, "wrong" * 8, "sts",
                {"x-amz-content-sha256": sha})
    r = answer_without_body(n, "POST", "/", hs, len(big))
    check(r is not None and r[0] == 403 and
          b"<Code>SignatureDoesNotMatch</Code>" in r[2], r)
    # The node serves on.
    st, _ = http(n.edge, "GET", "/_ows/v1/health")
    check(st == 200, st)


def test_routing_by_target_scope_and_host():
    n = started()
    kid, secret = root_creds(n)
    # X-Amz-Target routes to DynamoDB (JSON 1.0, not query-XML); an
    # operation it does not have is UnknownOperationException.
    body = b"{}"
    for op, want in (("ListTables", 200), ("NoSuchOperation", 400)):
        hs = signed("POST", "http://%s/" % n.edge, body, kid, secret, "dynamodb",
                    {"X-Amz-Target": "DynamoDB_20120810." + op,
                     "Content-Type": "application/x-amz-json-1.0"})
        st, text = http(n.edge, "POST", "/", body, hs)
        v = json.loads(text)
        check(st == want, (op, st, text))
        check(want == 200 and v == {"TableNames": []} or
              v["__type"].endswith("#UnknownOperationException"), (op, st, text))
    # A presigned URL routes by X-Amz-Credential: path "/" is Lambda's
    # here, so the unknown key is told in Lambda's JSON.
    amz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    q = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAUNKNOWNUNKNOWN000"
         "%%2F%s%%2Fus-east-1%%2Flambda%%2Faws4_request&X-Amz-Date=%s"
         "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=%s"
         % (amz[:8], amz, "0" * 64))
    st, text = http(n.edge, "GET", "/?" + q)
    check(st == 403 and json.loads(text)["__type"] == "UnrecognizedClientException",
          (st, text))
    # Unsigned, by Host: Lambda's JSON; by nothing: S3 (which serves
    # what a bucket policy grants to anyone), in S3's XML.
    st, text = http(n.edge, "GET", "/", b"",
                    {"Host": "lambda.us-east-1.amazonaws.com"})
    check(st == 403 and json.loads(text)["__type"] ==
          "MissingAuthenticationTokenException", (st, text))
    st, text = http(n.edge, "GET", "/")
    check(st == 403 and b"<Error><Code>AccessDenied</Code>" in text, (st, text))


def test_node_endpoints_of_the_host_take_only_nodes():
    """The leader's ends of a follower's attested entry and read barrier,
    and a voter's end of the leader's confirmation round: only a node of
    the cluster may call them, not an anonymous client nor a user (even
    root)."""
    n = started()
    before = n.status()
    body = json.dumps({"attestation": {"cluster": "x"}, "signature": "AA=="})
    for target, b in (("/_ows/v1/attested", body), ("/_ows/v1/barrier", ""),
                      ("/_ows/v1/leadership", '{"voter": 1, "leader": 1, "term": 1}')):
        st, text = http(n.edge, "POST", target, b.encode())
        check(st == 403 and json.loads(text)["code"] == "AccessDenied", (target, st, text))
        st, r = signed_request(n, n.root_key, "POST", target, b)
        check(st == 403 and r["code"] == "AccessDenied", (target, st, r))
    # No Raft entry was made (a barrier is one too).
    after = n.status()
    check(after["commit_index"] == before["commit_index"] and
          after["ledger"]["height"] == before["ledger"]["height"], (before, after))


def test_read_barrier_on_the_leader():
    """The leader's end of a read barrier, asked by a node (its key): a
    read index (ReadIndex), at least the commit index before the request,
    and nothing appended to the log (after the one empty entry a leader
    appends for the first read of its term, when nothing of its term is
    committed yet). The leadership question of a round is answered from
    the node's own term and leader."""
    n = started()
    key = os.path.join(n.dir, "node.key")
    st, r = signed_request(n, key, "POST", "/_ows/v1/barrier", "")
    check(st == 200, (st, r))
    before = n.status()
    for _ in range(5):
        st, r = signed_request(n, key, "POST", "/_ows/v1/barrier", "")
        check(st == 200 and r["index"] >= before["commit_index"], (st, r, before))
    after = n.status()
    check(after["last_index"] == before["last_index"] and
          after["commit_index"] == before["commit_index"] and
          after["applied_index"] >= r["index"] and
          after["ledger"]["height"] == before["ledger"]["height"], (r, before, after))
    check(after["reads"]["reads"] >= before["reads"]["reads"] + 5 and
          after["reads"]["noops"] <= 1, (before["reads"], after["reads"]))
    term = after["term"]
    for q, yes in (({"voter": 1, "leader": 1, "term": term}, True),
                   ({"voter": 1, "leader": 2, "term": term}, False),
                   ({"voter": 1, "leader": 1, "term": term + 1}, False),
                   ({"voter": 2, "leader": 1, "term": term}, False)):
        st, r = signed_request(n, key, "POST", "/_ows/v1/leadership", json.dumps(q))
        check(st == 200 and r == {"leader": yes, "term": term, "node": 1}, (q, st, r))
    st, r = signed_request(n, key, "POST", "/_ows/v1/leadership", '{"leader": "x"}')
    check(st == 400, (st, r))
