"""Differential testing of OWS's DynamoDB against moto_server.

A seeded random generator of DynamoDB requests (boto3's client API): a few
tables of every key schema (S, N, B hash keys, with and without a range
key, a GSI, an LSI), then writes (PutItem, UpdateItem, DeleteItem with
random condition and update expressions and every ReturnValues), reads
(GetItem, Query with each key condition operator, Scan, both with filters,
projections and Limit pagination), BatchWriteItem, BatchGetItem and
TransactWriteItems, over a small pool of keys so that items collide, with
values of every type (numbers at the edges of 38 digits, strings and
binaries that are prefixes of each other).

The same sequence runs against two endpoints; each answer is reduced to
what DynamoDB fixes (the items, set order aside, numbers as decimals;
Count, ScannedCount, LastEvaluatedKey; the error code of a failure, not its
message) and the first difference is reported with the request.

    python3 tests/lib/ddbdiff.py OWS_URL MOTO_URL [SEED...]

Known moto deviations (checked against the AWS documentation) are counted
in KNOWN_COUNTS rather than reported: see known_moto() and exact_limit()
below; = and <> between two operands that may both be missing are not
generated (moto and OWS disagree, the documentation is silent).
"""
import base64
import json
import random
import sys
from decimal import Decimal, Context

import boto3
import botocore.config
import botocore.exceptions

# Where moto_server (5.x) is known to differ from DynamoDB as the AWS
# documentation describes it (OWS answering as DynamoDB does): a difference
# that matches one of these is counted, not reported. (pattern on OWS's
# error message or None, pattern on moto's or None, reason)
OWS_VALIDATES = [
    "Type mismatch for Index Key",
    "BETWEEN operator requires upper bound",
    "Incorrect operand type for operator or function",
    "Cannot update attribute",
    "Filter Expression can only contain non-primary key attributes",
    "Two document paths overlap",
    "Invalid attribute type name found",
    "Provided list of item keys contains duplicates",
    "The provided key element does not match the schema",
    "The first operand must be distinct from the remaining operands",
    "Two document paths",
    "unused in expressions",
    "The provided expression refers to an attribute that does not exist",
    "significant digits in a Number",
    "Number overflow",
    "Number underflow",
    "cannot contain an empty",
    "contains duplicates",
    "may not be empty",
    "Null attribute value types must have the value of true",
    "cannot be converted to a numeric value",
    "Missing the key",
]


KNOWN_COUNTS = {}


def floats_only(ra, rb):
    """moto computes arithmetic in binary floating point (DynamoDB, and
    OWS, in decimal with 38 digits): answers equal but for numbers that
    agree to 15 significant digits are not a difference."""
    def walk(x, y):
        if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            if len(x) == 2 and len(y) == 2 and x[0] == y[0] == "N":
                dx, dy = Decimal(x[1]), Decimal(y[1])
                if dx == dy:
                    return True
                return dy != 0 and abs((dx - dy) / dy) < Decimal("1e-15")
            return len(x) == len(y) and all(walk(a, b) for a, b in zip(x, y))
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(walk(x[k], y[k]) for k in x)
        return x == y
    return walk(ra, rb)


def known_moto(d):
    """Why a difference d is moto's and not OWS's, or None."""
    def flat(r):
        return r[0] if isinstance(r[0], (list, tuple)) else r
    o, m = flat(d["ows"]), flat(d["moto"])
    mm = d.get("moto_msg") or ""
    om = d.get("ows_msg") or ""
    if m[0] == "err" and m[1] == "500" or "500 Internal Server Error" in mm:
        return "moto: internal error"
    if o[0] == "err" and o[1] == "ValidationException":
        for pat in OWS_VALIDATES:
            if pat in om:
                return "moto does not validate: " + pat
    if o[0] == "err" and o[1] == "TransactionCanceledException" and \
            "ValidationError" in om:
        return "moto does not validate (in a transaction)"
    if m[0] == "err" and "unused in expressions" in mm and "[" in json.dumps(d["req"], default=repr):
        return "moto: #name[i] in a projection counted unused"
    if d["op"] == "update_item" and d["req"].get("ReturnValues") == "UPDATED_NEW" \
            and o[0] == m[0] == "ok":
        return "moto: UPDATED_NEW returns the key attributes too"
    if o[0] == "after" and om and om == mm:
        return "moto: part of a request that failed validation applied anyway"
    if o[0] == "ok" and m[0] == "err" and "Cannot update attribute" in mm:
        return "moto: a key attribute read in SET counted as updated"
    if m[0] == "err" and "Bad Filter Expression: Invalid attribute name" in mm:
        return "moto: a nested path in size() or a comparison refused"
    if m[0] == "err" and m[2] and any(r in ("ValueError", "KeyError", "TypeError")
                                      for r in m[2]):
        return "moto: internal error (in a transaction)"
    if m[0] == "err" and "Bad NOT expression NOT NOT" in mm:
        return "moto: NOT NOT refused"
    if d["op"] == "scan" and d["req"].get("Select") == "COUNT":
        return "moto: Select COUNT returns Items"
    if d["op"] == "query" and d["req"].get("Select") == "COUNT":
        return "moto: Select COUNT with Limit omits LastEvaluatedKey"
    return None

NUMS = ["0", "1", "-1", "1.5", "-1.5", "10", "100", "0.001", "-0.001",
        "12345678901234567890123456789012345678",
        "-12345678901234567890123456789012345678",
        "1.2345678901234567890123456789012345678",
        "9.9999999999999999999999999999999999999E+125",
        "-9.9999999999999999999999999999999999999E+125",
        "1E-130", "-1E-130", "0.1", "2", "3", "1000", "99999999999999999999"]
STRS = ["a", "ab", "abc", "b", "ba", "A", "z", "\u00e9", "a\u00e9", "a b",
        "0", "1", "10", "aa", "abd"]
BINS = [b"\x00", b"\x00\x01", b"\x01", b"\xff", b"a", b"ab", b"abc", b"\x7f",
        b"\x80", b"b"]
ATTRS = ["a", "b", "c", "m", "l", "s", "ns", "bs", "g", "gr", "lsi"]

CTX = Context(prec=60)


def canon_num(s):
    d = Decimal(s)
    if d == 0:
        return "0"
    return format(d.normalize(CTX), "E")


def canon(v):
    """A comparable form of one attribute value."""
    (t, x), = v.items()
    if t == "N":
        return ("N", canon_num(x))
    if t == "NS":
        return ("NS", tuple(sorted(canon_num(n) for n in x)))
    if t in ("SS",):
        return (t, tuple(sorted(x)))
    if t == "BS":
        return (t, tuple(sorted(bytes(b) for b in x)))
    if t == "B":
        return ("B", bytes(x))
    if t == "M":
        return ("M", tuple(sorted((k, canon(w)) for k, w in x.items())))
    if t == "L":
        return ("L", tuple(canon(w) for w in x))
    return (t, x)


def canon_item(it):
    if it is None:
        return None
    return tuple(sorted((k, canon(v)) for k, v in it.items()))


class Tables:
    """The key schemas this run uses; name -> (hash (name,type), range or None,
    gsi (name, hash, range) or None, lsi (name, range) or None)."""

    def __init__(self, prefix):
        self.defs = {
            prefix + "_s": (("id", "S"), None, None, None),
            prefix + "_n": (("id", "N"), ("r", "S"), ("gsi1", ("g", "S"), ("gr", "N")), None),
            prefix + "_b": (("id", "B"), ("r", "N"), None, ("lsi1", ("lsi", "S"))),
            prefix + "_sb": (("pk", "S"), ("sk", "B"), ("gsi2", ("g", "N"), None), None),
        }


class Gen:
    def __init__(self, seed, prefix):
        self.r = random.Random(seed)
        self.tables = Tables(prefix).defs
        self.names = {}
        self.values = {}

    # ---- values ----

    def scalar(self, t):
        r = self.r
        if r.random() < 0.01:
            return {"S": {"S": ""}, "N": {"N": "1" * 39}, "B": {"B": b""}}[t]
        if t == "S":
            return {"S": r.choice(STRS)}
        if t == "N":
            return {"N": r.choice(NUMS)}
        return {"B": r.choice(BINS)}

    def odd(self):
        """A value DynamoDB refuses or treats specially, now and then."""
        r = self.r
        return r.choice([{"N": "1E+126"}, {"N": "1E-131"}, {"N": "1" * 39},
                         {"N": "0." + "0" * 40 + "1"}, {"N": "-0"}, {"N": "00012.500"},
                         {"N": "1e2"}, {"N": "abc"}, {"N": ""}, {"S": ""}, {"B": b""},
                         {"SS": []}, {"SS": ["a", "a"]}, {"NS": ["1", "1.0"]},
                         {"SS": [""]}, {"L": []}, {"M": {}}, {"NULL": False}])

    def value(self, depth=0):
        r = self.r
        if r.random() < 0.02:
            return self.odd()
        k = r.randrange(12 if depth < 2 else 8)
        if k < 3:
            return self.scalar("SNB"[k])
        if k == 3:
            return {"BOOL": r.random() < 0.5}
        if k == 4:
            return {"NULL": True}
        if k == 5:
            return {"SS": r.sample(STRS, r.randint(1, 3))}
        if k == 6:
            return {"NS": r.sample(NUMS[:12], r.randint(1, 3))}
        if k == 7:
            return {"BS": r.sample(BINS, r.randint(1, 3))}
        if k < 10:
            return {"M": {r.choice(["x", "y", "z", "l"]): self.value(depth + 1)
                          for _ in range(r.randint(0, 3))}}
        return {"L": [self.value(depth + 1) for _ in range(r.randint(0, 4))]}

    def key(self, table, partial_ok=True):
        h, rg, _, _ = self.tables[table]
        k = {h[0]: self.scalar(h[1])}
        if rg:
            k[rg[0]] = self.scalar(rg[1])
        r = self.r
        if partial_ok and r.random() < 0.03:
            # a wrong key: missing attribute, wrong type, or an extra one
            c = r.randrange(3)
            if c == 0:
                k.pop(h[0])
            elif c == 1:
                k[h[0]] = self.scalar("N" if h[1] != "N" else "S")
            else:
                k["a"] = {"S": "x"}
        return k

    def item(self, table):
        it = self.key(table)
        h, rg, gsi, lsi = self.tables[table]
        r = self.r
        for a in r.sample(ATTRS, r.randint(0, 5)):
            if a in it:
                continue
            if gsi and a in (gsi[1][0], gsi[2][0] if gsi[2] else None):
                t = gsi[1][1] if a == gsi[1][0] else gsi[2][1]
                it[a] = self.scalar(t) if r.random() < 0.9 else self.value()
            elif lsi and a == lsi[1][0]:
                it[a] = self.scalar(lsi[1][1]) if r.random() < 0.9 else self.value()
            elif a == "m":
                it[a] = {"M": {"x": self.value(1), "y": {"M": {"z": self.value(2)}}}}
            elif a == "l":
                it[a] = {"L": [self.value(1) for _ in range(r.randint(0, 4))]}
            elif a == "s":
                it[a] = {"SS": r.sample(STRS, r.randint(1, 3))}
            elif a == "ns":
                it[a] = {"NS": r.sample(NUMS[:12], r.randint(1, 3))}
            elif a == "bs":
                it[a] = {"BS": r.sample(BINS, r.randint(1, 3))}
            else:
                it[a] = self.value()
        return it

    # ---- expressions ----

    def start_expr(self):
        self.names = {}
        self.values = {}

    def name(self, n):
        if self.r.random() < 0.4 or n in ("s", "l", "m", "ns", "bs") and self.r.random() < 0.2:
            ph = "#" + n
            self.names[ph] = n
            return ph
        return n

    def val(self, v):
        ph = ":v%d" % len(self.values)
        self.values[ph] = v
        return ph

    def path(self, table):
        r = self.r
        h, rg, _, _ = self.tables[table]
        c = r.randrange(10)
        if c == 0:
            return self.name(h[0])
        if c == 1 and rg:
            return self.name(rg[0])
        if c == 2:
            return self.name("m") + "." + r.choice(["x", "y", "q"])
        if c == 3:
            return self.name("m") + ".y." + r.choice(["z", "w"])
        if c == 4:
            return self.name("l") + "[%d]" % r.randrange(4)
        return self.name(r.choice(ATTRS))

    def operand(self, table):
        r = self.r
        c = r.randrange(6)
        if c < 2:
            return self.path(table)
        if c == 2:
            return "size(%s)" % self.path(table)
        return self.val(self.value(1) if r.random() < 0.3 else
                        self.scalar(r.choice("SNNB")))

    def cond(self, table, depth=0):
        r = self.r
        c = r.randrange(11 if depth < 2 else 8)
        p = self.path(table)
        if c == 0:
            return "attribute_exists(%s)" % p
        if c == 1:
            return "attribute_not_exists(%s)" % p
        if c == 2:
            t = r.choice(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"])
            if r.random() < 0.03:
                t = "X"
            return "attribute_type(%s, %s)" % (p, self.val({"S": t}))
        if c == 3:
            return "begins_with(%s, %s)" % (p, self.val(self.scalar(r.choice("SB"))))
        if c == 4:
            return "contains(%s, %s)" % (p, self.val(self.scalar(r.choice("SNB"))))
        if c == 5:
            t = r.choice("SNB")
            return "%s BETWEEN %s AND %s" % (self.operand(table), self.val(self.scalar(t)),
                                            self.val(self.scalar(t)))
        if c == 6:
            return "%s IN (%s)" % (p, ", ".join(self.val(self.scalar(r.choice("SN")))
                                               for _ in range(r.randint(1, 3))))
        if c == 7:
            # = and <> between two operands that may both be missing: moto
            # says missing = missing, OWS (and its reading of DynamoDB)
            # that a missing attribute equals nothing; the docs are silent
            op = r.choice(["=", "<>", "<", "<=", ">", ">="])
            rhs = self.operand(table)
            if op in ("=", "<>") and not rhs.startswith(":"):
                rhs = self.val(self.scalar(r.choice("SNB")))
            return "%s %s %s" % (p, op, rhs)
        if c == 8:
            return "NOT " + self.cond(table, depth + 1)
        return "(%s %s %s)" % (self.cond(table, depth + 1), r.choice(["AND", "OR"]),
                               self.cond(table, depth + 1))

    def set_value(self, table):
        r = self.r
        c = r.randrange(7)
        if c < 2:
            return self.val(self.value(1))
        if c == 2:
            return self.path(table)
        if c == 3:
            return "if_not_exists(%s, %s)" % (self.path(table), self.val(self.value(1)))
        if c == 4:
            a = self.val({"L": [self.value(2) for _ in range(r.randint(0, 2))]})
            b = self.path(table) if r.random() < 0.7 else self.val({"L": [self.value(2)]})
            return "list_append(%s, %s)" % ((a, b) if r.random() < 0.5 else (b, a))
        a = self.path(table) if r.random() < 0.7 else self.val({"N": r.choice(NUMS)})
        if r.random() < 0.3:
            a = "if_not_exists(%s, %s)" % (self.path(table), self.val({"N": r.choice(NUMS)}))
        b = self.val({"N": r.choice(NUMS)}) if r.random() < 0.8 else self.path(table)
        return "%s %s %s" % (a, "+" if c == 5 else "-", b)

    def update(self, table):
        r = self.r
        clauses = {}
        for _ in range(r.randint(1, 3)):
            kind = r.choice(["SET", "SET", "REMOVE", "ADD", "DELETE"])
            p = self.path(table)
            if kind == "SET":
                clauses.setdefault(kind, []).append("%s = %s" % (p, self.set_value(table)))
            elif kind == "REMOVE":
                clauses.setdefault(kind, []).append(p)
            elif kind == "ADD":
                v = r.choice([{"N": r.choice(NUMS)}, {"SS": r.sample(STRS, 2)},
                              {"NS": r.sample(NUMS[:12], 2)}, {"BS": r.sample(BINS, 1)}])
                clauses.setdefault(kind, []).append("%s %s" % (p, self.val(v)))
            else:
                v = r.choice([{"SS": r.sample(STRS, 2)}, {"NS": r.sample(NUMS[:12], 2)},
                              {"BS": r.sample(BINS, 2)}])
                clauses.setdefault(kind, []).append("%s %s" % (p, self.val(v)))
        return " ".join("%s %s" % (k, ", ".join(v)) for k, v in clauses.items())

    def attach(self, req):
        if self.names:
            req["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            req["ExpressionAttributeValues"] = dict(self.values)
        return req

    def projection(self, table):
        r = self.r
        return ", ".join(self.path(table) for _ in range(r.randint(1, 3)))

    # ---- operations ----

    def op(self):
        r = self.r
        table = r.choice(sorted(self.tables))
        kind = r.choices(["put", "update", "delete", "get", "query", "scan",
                          "batch_write", "batch_get", "transact"],
                         [6, 6, 2, 2, 3, 2, 1, 1, 1])[0]
        return getattr(self, "op_" + kind)(table)

    def maybe_cond(self, req, table, p=0.4):
        if self.r.random() < p:
            req["ConditionExpression"] = self.cond(table)

    def op_put(self, table):
        self.start_expr()
        req = {"TableName": table, "Item": self.item(table)}
        self.maybe_cond(req, table)
        req["ReturnValues"] = self.r.choice(["NONE", "ALL_OLD", "ALL_OLD"])
        if "ConditionExpression" in req and self.r.random() < 0.5:
            req["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return "put_item", self.attach(req)

    def op_update(self, table):
        self.start_expr()
        req = {"TableName": table, "Key": self.key(table),
               "UpdateExpression": self.update(table)}
        self.maybe_cond(req, table, 0.3)
        req["ReturnValues"] = self.r.choice(["NONE", "ALL_OLD", "UPDATED_OLD",
                                             "ALL_NEW", "UPDATED_NEW"])
        return "update_item", self.attach(req)

    def op_delete(self, table):
        self.start_expr()
        req = {"TableName": table, "Key": self.key(table)}
        self.maybe_cond(req, table)
        req["ReturnValues"] = self.r.choice(["NONE", "ALL_OLD"])
        return "delete_item", self.attach(req)

    def op_get(self, table):
        self.start_expr()
        req = {"TableName": table, "Key": self.key(table), "ConsistentRead": True}
        if self.r.random() < 0.4:
            req["ProjectionExpression"] = self.projection(table)
        return "get_item", self.attach(req)

    def key_cond(self, h, rg):
        r = self.r
        kc = "%s = %s" % (self.name(h[0]), self.val(self.scalar(h[1])))
        if rg and r.random() < 0.8:
            n = self.name(rg[0])
            c = r.randrange(7)
            if c < 5:
                kc += " AND %s %s %s" % (n, ["=", "<", "<=", ">", ">="][c],
                                         self.val(self.scalar(rg[1])))
            elif c == 5:
                a, b = sorted([self.scalar(rg[1]) for _ in range(2)],
                              key=lambda v: sortkey(v))
                kc += " AND %s BETWEEN %s AND %s" % (n, self.val(a), self.val(b))
            elif rg[1] != "N":
                kc += " AND begins_with(%s, %s)" % (n, self.val(self.scalar(rg[1])))
        return kc

    def op_query(self, table):
        r = self.r
        self.start_expr()
        h, rg, gsi, lsi = self.tables[table]
        req = {"TableName": table}
        idx = r.random()
        if gsi and idx < 0.4:
            req["IndexName"] = gsi[0]
            req["KeyConditionExpression"] = self.key_cond(gsi[1], gsi[2])
        elif lsi and idx < 0.4:
            req["IndexName"] = lsi[0]
            req["KeyConditionExpression"] = self.key_cond(h, lsi[1])
        else:
            req["KeyConditionExpression"] = self.key_cond(h, rg)
            req["ConsistentRead"] = True
        self.read_opts(req, table)
        req["ScanIndexForward"] = r.random() < 0.6
        return "query", self.attach(req)

    def read_opts(self, req, table):
        r = self.r
        if r.random() < 0.4:
            req["FilterExpression"] = self.cond(table)
        if r.random() < 0.3:
            req["ProjectionExpression"] = self.projection(table)
        elif r.random() < 0.15:
            req["Select"] = "COUNT"
        if r.random() < 0.5:
            req["Limit"] = r.randint(1, 4)

    def op_scan(self, table):
        self.start_expr()
        req = {"TableName": table}
        self.read_opts(req, table)
        if "IndexName" not in req:
            req["ConsistentRead"] = True
        return "scan", self.attach(req)

    def op_batch_write(self, table):
        r = self.r
        reqs = {}
        for _ in range(r.randint(1, 3)):
            t = r.choice(sorted(self.tables))
            if r.random() < 0.7:
                w = {"PutRequest": {"Item": self.item(t)}}
            else:
                w = {"DeleteRequest": {"Key": self.key(t)}}
            reqs.setdefault(t, []).append(w)
        return "batch_write_item", {"RequestItems": reqs}

    def op_batch_get(self, table):
        r = self.r
        reqs = {}
        for _ in range(r.randint(1, 2)):
            t = r.choice(sorted(self.tables))
            reqs[t] = {"Keys": [self.key(t) for _ in range(r.randint(1, 3))],
                       "ConsistentRead": True}
        return "batch_get_item", {"RequestItems": reqs}

    def op_transact(self, table):
        r = self.r
        items = []
        for _ in range(r.randint(1, 3)):
            t = r.choice(sorted(self.tables))
            self.start_expr()
            k = r.randrange(4)
            if k == 0:
                x = {"TableName": t, "Item": self.item(t)}
                self.maybe_cond(x, t)
                items.append({"Put": self.attach(x)})
            elif k == 1:
                x = {"TableName": t, "Key": self.key(t), "UpdateExpression": self.update(t)}
                self.maybe_cond(x, t)
                items.append({"Update": self.attach(x)})
            elif k == 2:
                x = {"TableName": t, "Key": self.key(t)}
                self.maybe_cond(x, t)
                items.append({"Delete": self.attach(x)})
            else:
                x = {"TableName": t, "Key": self.key(t), "ConditionExpression": self.cond(t)}
                items.append({"ConditionCheck": self.attach(x)})
        return "transact_write_items", {"TransactItems": items}


def sortkey(v):
    (t, x), = v.items()
    if t == "N":
        return Decimal(x)
    if t == "S":
        return x.encode()
    return bytes(x)


# ---- running and comparing ----

def client(url):
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def client_with(url, key):
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def _call(c, op, req):
    try:
        return ("ok", getattr(c, op)(**req))
    except botocore.exceptions.ClientError as e:
        return ("err", e.response["Error"]["Code"], e.response["Error"].get("Message", ""),
                e.response.get("CancellationReasons"))
    except botocore.exceptions.ParamValidationError as e:
        return ("client", str(e))


def norm(op, out):
    """What must be the same of a successful answer."""
    if out[0] != "ok":
        if out[0] == "err":
            reasons = None
            if out[3]:
                reasons = [x.get("Code") for x in out[3]]
            return ("err", out[1], reasons)
        return out
    r = out[1]
    res = {}
    for k in ("Attributes", "Item"):
        if k in r and r[k]:
            res[k] = canon_item(r[k])
    if "Items" in r:
        res["Items"] = [canon_item(i) for i in r["Items"]]
    for k in ("Count", "ScannedCount"):
        if k in r:
            res[k] = r[k]
    if "LastEvaluatedKey" in r:
        res["LastEvaluatedKey"] = canon_item(r["LastEvaluatedKey"])
    if "Responses" in r:
        res["Responses"] = {t: sorted(canon_item(i) for i in v) for t, v in r["Responses"].items()}
    if r.get("UnprocessedItems"):
        res["UnprocessedItems"] = True
    if r.get("UnprocessedKeys"):
        res["UnprocessedKeys"] = True
    return ("ok", res)


def create_tables(c, gen):
    for name, (h, rg, gsi, lsi) in sorted(gen.tables.items()):
        attrs = {h[0]: h[1]}
        ks = [{"AttributeName": h[0], "KeyType": "HASH"}]
        if rg:
            attrs[rg[0]] = rg[1]
            ks.append({"AttributeName": rg[0], "KeyType": "RANGE"})
        req = {"TableName": name, "KeySchema": ks, "BillingMode": "PAY_PER_REQUEST"}
        if gsi:
            gks = [{"AttributeName": gsi[1][0], "KeyType": "HASH"}]
            attrs[gsi[1][0]] = gsi[1][1]
            if gsi[2]:
                gks.append({"AttributeName": gsi[2][0], "KeyType": "RANGE"})
                attrs[gsi[2][0]] = gsi[2][1]
            req["GlobalSecondaryIndexes"] = [{"IndexName": gsi[0], "KeySchema": gks,
                                              "Projection": {"ProjectionType": "ALL"}}]
        if lsi:
            attrs[lsi[1][0]] = lsi[1][1]
            req["LocalSecondaryIndexes"] = [{"IndexName": lsi[0], "KeySchema": [
                ks[0], {"AttributeName": lsi[1][0], "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}]
        req["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": t}
                                       for a, t in attrs.items()]
        c.create_table(**req)


def delete_tables(c, gen):
    for name in gen.tables:
        try:
            c.delete_table(TableName=name)
        except botocore.exceptions.ClientError:
            pass


def _paged(c, op, req, call):
    """A Query or Scan followed page by page (at most 50 pages)."""
    outs = []
    req = dict(req)
    for _ in range(50):
        out = call(c, op, req)
        outs.append(out)
        if out[0] != "ok" or "LastEvaluatedKey" not in out[1]:
            break
        req["ExclusiveStartKey"] = out[1]["LastEvaluatedKey"]
    return outs


def run(a, b, seed, nops, log=None, keep_going=False):
    """Run seed's sequence of nops operations on clients a (OWS) and b
    (moto); returns None or a description of the first difference."""
    gen = Gen(seed, "d%d" % seed)
    gen.last_msgs = {}
    diffs = []
    known = KNOWN_COUNTS

    def call(c, op, req):
        out = _call(c, op, req)
        gen.last_msgs["a" if c is a else "b"] = out[2] if out[0] == "err" else None
        return out

    def paged(c, op, req):
        return _paged(c, op, req, call)
    try:
        create_tables(a, gen)
        create_tables(b, gen)
        for i in range(nops):
            op, req = gen.op()
            before = None
            if keep_going and op in ("put_item", "update_item", "delete_item"):
                before = [canon_item(state(c, gen, req)) for c in (a, b)]
            if op == "scan":
                ra, rb = exact_limit(scan_summary(paged(a, op, req)),
                                     scan_summary(paged(b, op, req)))
            elif op == "query":
                ra, rb = exact_limit([norm(op, o) for o in paged(a, op, req)],
                                     [norm(op, o) for o in paged(b, op, req)])
            elif False:
                ra = [norm(op, o) for o in paged(a, op, req)]
                rb = [norm(op, o) for o in paged(b, op, req)]
            else:
                ra = norm(op, call(a, op, req))
                rb = norm(op, call(b, op, req))
            if log:
                log(i, op, req, ra)
            if ra == rb and op not in ("query", "scan", "get_item", "batch_get_item"):
                # the same answer: the same items afterwards too
                for t, k in keys_of(gen, req):
                    sa = canon_item(getit(a, t, k))
                    sb = canon_item(getit(b, t, k))
                    if sa != sb and not floats_only(sa, sb):
                        ra, rb = ("after", t, k, sa), ("after", t, k, sb)
                        break
            if ra != rb and not floats_only(ra, rb):
                d = {"seed": seed, "i": i, "op": op, "req": req, "ows": ra, "moto": rb,
                     "ows_msg": gen.last_msgs.get("a"), "moto_msg": gen.last_msgs.get("b"),
                     "before": before}
                why = known_moto(d)
                if why:
                    known[why] = known.get(why, 0) + 1
                elif not keep_going:
                    return [d]
                else:
                    diffs.append(d)
                resync(a, b, gen, req)
        return diffs
    finally:
        delete_tables(a, gen)
        delete_tables(b, gen)


def exact_limit(ra, rb):
    """DynamoDB returns a LastEvaluatedKey whenever Limit stopped a page,
    even when no item follows (the developer guide, "Paginating table query
    results": a LastEvaluatedKey does not necessarily mean more data), and
    so does OWS, whose next page is then empty; moto looks ahead and omits
    it. Both sides' paging is reduced to the one without that last empty
    page, when that is the only difference."""
    def strip(r):
        if isinstance(r, list) and len(r) >= 2 and r[-1] == ("ok", {"Items": [], "Count": 0,
                                                                   "ScannedCount": 0}) \
                or isinstance(r, list) and len(r) >= 2 and r[-1] == ("ok", {"Count": 0,
                                                                      "ScannedCount": 0}):
            r = r[:-1]
            last = dict(r[-1][1])
            last.pop("LastEvaluatedKey", None)
            return r[:-1] + [("ok", last)]
        if isinstance(r, tuple) and r[0] == "ok" and len(r) == 4 and len(r[3]) >= 2 \
                and r[3][-1] == 0:
            return ("ok", r[1], r[2], r[3][:-1])
        return r
    if ra != rb and strip(ra) == rb:
        KNOWN_COUNTS["moto: no LastEvaluatedKey when Limit is met exactly"] = \
            KNOWN_COUNTS.get("moto: no LastEvaluatedKey when Limit is met exactly", 0) + 1
        return rb, rb
    return ra, rb


def scan_summary(outs):
    """A Scan's pages, as far as DynamoDB fixes them: the order of items
    over a table is the implementation's, so the items of all pages
    together (sorted), the total Count, and each page's ScannedCount."""
    res = [norm("scan", o) for o in outs]
    if any(r[0] != "ok" for r in res):
        return res
    items = sorted(i for r in res for i in r[1].get("Items", []))
    return ("ok", items, sum(r[1]["Count"] for r in res),
            [r[1]["ScannedCount"] for r in res])


def getit(c, t, k):
    try:
        return c.get_item(TableName=t, Key=k, ConsistentRead=True).get("Item")
    except botocore.exceptions.ClientError:
        return None


def state(c, gen, req):
    ks = keys_of(gen, req)
    if not ks:
        return None
    try:
        return c.get_item(TableName=ks[0][0], Key=ks[0][1], ConsistentRead=True).get("Item")
    except botocore.exceptions.ClientError:
        return None


def keys_of(gen, req):
    """(table, key) of every item a write request names."""
    out = []

    def add(t, it):
        if t not in gen.tables:
            return
        h, rg, _, _ = gen.tables[t]
        k = {h[0]: it.get(h[0])}
        if rg:
            k[rg[0]] = it.get(rg[0])
        if all(v is not None for v in k.values()):
            out.append((t, k))
    if "Key" in req:
        add(req["TableName"], req["Key"])
    if "Item" in req:
        add(req["TableName"], req["Item"])
    for t, ws in req.get("RequestItems", {}).items():
        if isinstance(ws, list):
            for w in ws:
                for x in w.values():
                    add(t, x.get("Item") or x.get("Key"))
    for ti in req.get("TransactItems", []):
        for x in ti.values():
            add(x["TableName"], x.get("Item") or x.get("Key"))
    return out


def resync(a, b, gen, req):
    """After a difference in a write, make moto's copy of the items it named
    OWS's, so that one difference does not cascade."""
    for t, k in keys_of(gen, req):
        try:
            it = a.get_item(TableName=t, Key=k, ConsistentRead=True).get("Item")
            if it:
                b.put_item(TableName=t, Item=it)
            else:
                b.delete_item(TableName=t, Key=k)
        except botocore.exceptions.ClientError:
            pass


def show(d):
    def enc(o):
        if isinstance(o, (bytes, bytearray)):
            return "b64:" + base64.b64encode(o).decode()
        return repr(o)
    return json.dumps(d, default=enc, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    ows_url, moto_url = sys.argv[1], sys.argv[2]
    key = None
    if len(sys.argv) > 4 and sys.argv[3] == "--key":
        key = sys.argv[4].split(":")
        del sys.argv[3:5]
    seeds = [int(s) for s in sys.argv[3:]] or [1]
    n = 200
    a = client_with(ows_url, key) if key else client(ows_url)
    b = client(moto_url)
    for s in seeds:
        ds = run(a, b, s, n, keep_going=True)
        for d in ds:
            print(show(d))
        print("seed %d: %d operations, %d differences" % (s, n, len(ds)))
    print("moto's known deviations met:", json.dumps(KNOWN_COUNTS, indent=1))
