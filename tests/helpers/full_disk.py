"""A disk that fills up at the next write: code run in a subprocess where, after its `setup`, no file
may grow past one byte (RLIMIT_FSIZE, with SIGXFSZ ignored so writes fail with EFBIG, "File too
large", as on a full disk). Reading still works; DuckDB's COMMIT, which writes the WAL, fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_TEMPLATE = """
import resource, signal, sys, traceback
{setup}
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))
try:
{body}
except BaseException as error:
    print("ERROR", type(error).__name__, str(error).replace("\\n", " "))
    sys.exit(3)
print("NO ERROR")
"""


def run_with_full_disk(setup: str, body: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `setup` normally, then `body` with the disk full; prints `ERROR <type> <message>`."""
    script = _TEMPLATE.format(
        setup=textwrap.dedent(setup), body=textwrap.indent(textwrap.dedent(body), "    ")
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
