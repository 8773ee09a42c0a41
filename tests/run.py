#!/usr/bin/env python3
"""The test runner of `make check`.

Runs, in order: the C unit tests (bin/unit-tests, each test in a forked
child), the fuzz targets' corpus replays (bin/fuzz/*), and the integration
tests (tests/integration/test_*.py: every test_* function, each with its own
nodes on loopback and a time limit). Ends with "N passed, N failed, N skipped".

    python3 tests/run.py [SUBSTRING...]    run only tests whose name matches
"""
import glob
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, os.environ.get("OWS_BIN", "bin"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import owstest  # noqa: E402

TIME_LIMIT_S = 300
counts = {"passed": 0, "failed": 0, "skipped": 0}
failures = []


def selected(name, filters):
    return not filters or any(f in name for f in filters)


def run_unit(filters):
    exe = os.path.join(BIN, "unit-tests")
    if not os.path.exists(exe):
        counts["failed"] += 1
        failures.append("unit-tests (%s was not built)" % exe)
        print("FAIL unit-tests: %s was not built" % exe)
        return
    p = subprocess.run([exe] + filters, cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.stdout.write(p.stderr[-20000:])
    m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", p.stdout, re.M)
    if not m:
        counts["failed"] += 1
        failures.append("unit-tests (no summary line)")
        return
    counts["passed"] += int(m.group(1))
    counts["failed"] += int(m.group(2))
    counts["skipped"] += int(m.group(3))
    failures.extend("unit " + l[5:].strip() for l in p.stdout.splitlines()
                    if l.startswith("FAIL "))


def run_fuzz(filters):
    for exe in sorted(glob.glob(os.path.join(BIN, "fuzz", "fuzz_*"))):
        name = os.path.basename(exe)
        if not selected(name, filters):
            continue
        corpus = os.path.join(ROOT, "tests", "fuzz", "corpus", name[5:])
        p = subprocess.run([exe, corpus], capture_output=True, text=True)
        if p.returncode == 0:
            counts["passed"] += 1
            print("ok   %s (corpus replay)" % name)
        else:
            counts["failed"] += 1
            failures.append(name)
            print("FAIL %s\n%s" % (name, p.stderr[-5000:]))


class TimeLimit(Exception):
    pass


def on_alarm(signum, frame):
    raise TimeLimit("time limit of %d s" % TIME_LIMIT_S)


def run_integration(filters):
    signal.signal(signal.SIGALRM, on_alarm)
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "test_*.py"))):
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = "%s.%s" % (mod.__name__, name)
            if not selected(full, filters):
                continue
            start = time.time()
            signal.alarm(TIME_LIMIT_S)
            try:
                getattr(mod, name)()
                signal.alarm(0)
                problems = owstest.cleanup()
                if problems:
                    raise AssertionError("after the test:\n" + "\n".join(problems))
                counts["passed"] += 1
                print("ok   %s (%.1f s)" % (full, time.time() - start))
            except owstest.Skip as e:
                counts["skipped"] += 1
                print("skip %s: %s" % (full, e))
            except BaseException as e:  # noqa: B902 (a test may raise anything)
                if isinstance(e, KeyboardInterrupt):
                    raise
                counts["failed"] += 1
                failures.append(full)
                print("FAIL %s (%.1f s)" % (full, time.time() - start))
                traceback.print_exc(file=sys.stdout)
                owstest.dump_logs()
            finally:
                signal.alarm(0)
                owstest.cleanup()
            sys.stdout.flush()


def main():
    filters = sys.argv[1:]
    os.environ["OWS_BIN"] = BIN
    run_unit(filters)
    run_fuzz(filters)
    run_integration(filters)
    if failures:
        print("failed: " + ", ".join(failures))
    print("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"], counts["skipped"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
