"""The structure check of issue 9 (scripts/include-graph): no file outside
src/daemon/ includes a daemon/ header, the parts of src/daemon/ import each
other in no circle, and only the node's own files include daemon/node.h."""
import os
import subprocess
import sys

from owstest import check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_daemon_parts_import_each_other_in_no_circle():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "include-graph")],
                       capture_output=True, text=True)
    check(p.returncode == 0, p.stderr)
