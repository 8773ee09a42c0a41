"""DynamoDB's numbers against Python's decimal module: a few thousand
random decimals (signs, digit counts, exponents across the whole range and
past its edges, odd spellings) go through the C code (the unit test
ddb_numbers_file of bin/unit-tests, which writes for each the canonical text
and the key encoding, or the error), and Python checks that

  - valid numbers come back as their exact value in plain notation, equal
    to Python's normalised Decimal, and invalid ones give DynamoDB's message
    for the reason Python finds (digits, overflow, underflow, not a number);
  - the unsigned byte order of the key encodings is the decimal order, and
    equal decimals encode alike.
"""
import decimal
import os
import random
import subprocess

from owstest import check, tmpdir

D = decimal.Decimal
CTX = decimal.Context(prec=200, Emax=999999, Emin=-999999)

MSG_NAN = "The parameter cannot be converted to a numeric value: "
MSG_DIGITS = "Attempting to store more than 38 significant digits in a Number"
MSG_OVER = ("Number overflow. Attempting to store a number with magnitude "
            "larger than supported range")
MSG_UNDER = ("Number underflow. Attempting to store a number with magnitude "
             "smaller than supported range")
MAX = D("9.9999999999999999999999999999999999999E+125")
MIN = D("1E-130")


def spell(rng, sign, digits, exp):
    """A text DynamoDB accepts for sign * 0.digits * 10^exp, spelled oddly."""
    how = rng.randrange(4)
    lead = "0" * rng.choice((0, 0, 1, 3))
    trail = "0" * rng.choice((0, 0, 1, 4))
    s = "-" if sign < 0 else rng.choice(("", "", "+"))
    if how == 0:  # scientific: d.ddd E x
        body = digits[0] + ("." + digits[1:] + trail if len(digits) > 1 else "")
        return "%s%s%s%s" % (s, lead, body, rng.choice("eE") + str(exp - 1))
    if how == 1:  # integer digits then an exponent
        return "%s%s%s%se%d" % (s, lead, digits, trail, exp - len(digits) - len(trail))
    # plain notation, where it is not absurdly long
    if -140 <= exp <= 140:
        if exp <= 0:
            return "%s%s.%s%s%s" % (s, "0" if how == 2 else "", "0" * -exp, digits, trail)
        if exp >= len(digits):
            return "%s%s%s%s" % (s, lead, digits, "0" * (exp - len(digits)))
        return "%s%s%s.%s%s" % (s, lead, digits[:exp], digits[exp:], trail)
    return "%s%se%d" % (s, digits, exp - len(digits))


def random_texts(rng, n):
    out = []
    for _ in range(n):
        ndig = rng.choice((1, 1, 2, 3, 5, 10, 20, 37, 38, 38, 39, 45))
        digits = "".join(rng.choice("0123456789") for _ in range(ndig))
        digits = str(rng.randrange(1, 10)) + digits[1:]
        if rng.random() < 0.5:
            digits = digits.rstrip("0") or "1"
        r = rng.random()
        if r < 0.15:
            exp = rng.choice((126, 127, -129, -130, 125, -128))
        elif r < 0.3:
            exp = rng.randrange(-140, 140)
        else:
            exp = rng.randrange(-10, 20)
        sign = rng.choice((1, -1))
        out.append(spell(rng, sign, digits, exp))
    # Edges and near misses, spelled by hand.
    out += ["0", "-0", "0.0", "+0e-999", "1E-130", "-1E-130", "0.99E-130",
            "1E+125", "9.9999999999999999999999999999999999999E+125",
            "-9.9999999999999999999999999999999999999E+125", "1E126",
            "10E125", "12345678901234567890123456789012345678",
            "123456789012345678901234567890123456789", "1.5", "1.50",
            "15E-1", ".5", "5.", "abc", "1e", "", " 1", "1 ", "--1", "1..2",
            "0x1F", "NaN", "inf", "1_000", "١"]
    return out


def expect(text):
    """('ok', canonical) or ('err', message), from Python's decimal."""
    try:
        if text.strip() != text or not text or text.lower().lstrip("+-") in (
                "nan", "inf", "infinity", "snan") or "_" in text:
            raise decimal.InvalidOperation
        if not all(c in "0123456789+-.eE" for c in text):
            raise decimal.InvalidOperation
        v = CTX.create_decimal(text)
    except decimal.InvalidOperation:
        return ("err", MSG_NAN + text)
    if v == 0:
        return ("ok", "0")
    sig = len(v.normalize(CTX).as_tuple().digits)
    if sig > 38:
        return ("err", MSG_DIGITS)
    if v.copy_abs() > MAX:
        return ("err", MSG_OVER)
    if v.copy_abs() < MIN:
        return ("err", MSG_UNDER)
    return ("ok", "{:f}".format(v.normalize(CTX)))


def run_c(texts):
    d = tmpdir()
    inp, outp = os.path.join(d, "nums.txt"), os.path.join(d, "out.txt")
    with open(inp, "w") as f:
        f.write("\n".join(texts))
    exe = os.path.join(os.environ.get("OWS_BIN", "bin"), "unit-tests")
    if not os.path.isabs(exe):
        exe = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), exe)
    env = dict(os.environ, OWS_DDB_NUMS=inp, OWS_DDB_NUMS_OUT=outp)
    p = subprocess.run([exe, "ddb_numbers_file"], env=env, capture_output=True,
                       text=True, timeout=120)
    check(p.returncode == 0 and "1 passed" in p.stdout, (p.stdout, p.stderr))
    with open(outp) as f:
        lines = f.read().split("\n")
    check(lines[-1] == "" and len(lines) == len(texts) + 1, len(lines))
    return lines[:-1]


def test_ddb_numbers_match_python_decimal():
    rng = random.Random(20240611)
    texts = random_texts(rng, 4000)
    lines = run_c(texts)
    keys = []
    kinds = {"ok": 0, "err": 0}
    for text, line in zip(texts, lines):
        want = expect(text)
        kind, _, rest = line.partition(" ")
        kinds[kind] += 1
        if want[0] == "err":
            check(kind == "err" and rest == want[1], (text, line, want))
            continue
        canon, _, hexkey = rest.partition(" ")
        check(kind == "ok" and canon == want[1], (text, line, want))
        # The canonical text is the same decimal and has no exponent.
        check(D(canon) == CTX.create_decimal(text) and "e" not in canon.lower(),
              (text, canon))
        keys.append((D(canon), bytes.fromhex(hexkey), text))
    # Enough of each kind for the test to mean something.
    check(kinds["ok"] > 2500 and kinds["err"] > 300, kinds)
    by_value = sorted(keys, key=lambda k: k[0])
    by_bytes = sorted(keys, key=lambda k: k[1])
    for (va, ka, ta), (vb, kb, tb) in zip(by_bytes, by_bytes[1:]):
        check(va <= vb, ("byte order is not decimal order", ta, tb))
        check((va == vb) == (ka == kb), ("equal iff same encoding", ta, tb))
    check([k[0] for k in by_value] == [k[0] for k in by_bytes])
