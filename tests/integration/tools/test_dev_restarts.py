"""`dagmesh dev` restarts `dagster dev` when workspace.yaml changes (a domain added with `dagmesh
new-domain`), since `dagster dev` reads the file only at start. Checked with a real child process standing
in for `dagster dev`: each start appends its pid to a file; the whole group is stopped on a change."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from dagmesh.tools.dev_server import serve_with_restarts

CHILD = """
import os, sys, time
with open(sys.argv[1], "a") as out:
    out.write(f"{os.getpid()}\\n")
time.sleep(600)
"""


def _wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped) is not alive
    status = Path(f"/proc/{pid}/stat")
    return not status.exists() or status.read_text().split()[2] != "Z"


def test_a_changed_workspace_file_restarts_the_server(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text("load_from: []\n")
    pids = tmp_path / "pids"
    said: list[str] = []
    stop = threading.Event()
    result: list[int] = []
    server = threading.Thread(
        target=lambda: result.append(
            serve_with_restarts(
                [sys.executable, "-c", CHILD, str(pids)],
                workspace,
                say=said.append,
                poll=0.1,
                stop=stop,
            )
        )
    )
    server.start()
    try:
        assert _wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 1)
        time.sleep(0.3)  # an unchanged file restarts nothing
        assert len(pids.read_text().split()) == 1

        workspace.write_text("load_from: []\n# a new domain\n")
        assert _wait_for(lambda: len(pids.read_text().split()) == 2), said
        first, second = map(int, pids.read_text().split())
        assert first != second
        assert _wait_for(lambda: not _alive(first))  # the old server was stopped
        assert _alive(second)
        assert said == [
            "workspace.yaml changed: restarting `dagster dev` so the UI loads its code locations "
            "(the UI's Reload all does not re-read the file)"
        ]
    finally:
        stop.set()
        server.join(timeout=40)
    assert result == [0]
    assert _wait_for(lambda: not _alive(second))  # and nothing outlives the command


def test_the_servers_own_exit_code_is_returned(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text("load_from: []\n")

    code = serve_with_restarts([sys.executable, "-c", "raise SystemExit(3)"], workspace, poll=0.05)

    assert code == 3


PARENT = """
import signal, sys
from pathlib import Path
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background shell job starts
from dagmesh.tools.dev_server import interrupt_on_termination, serve_with_restarts
interrupt_on_termination()
try:
    serve_with_restarts([sys.executable, "-c", sys.argv[1], sys.argv[2]], Path(sys.argv[3]), poll=0.1)
except KeyboardInterrupt:
    print("stopped")
"""

# The stand-in server stops on SIGINT only (as `dagster dev`, which maps SIGTERM to its SIGINT handler).
STUBBORN_CHILD = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.getsignal(signal.SIGINT))
with open(sys.argv[1], "a") as out:
    out.write(f"{os.getpid()}\\n")
time.sleep(600)
"""


def test_sigterm_stops_the_server_too_even_when_sigint_was_ignored(tmp_path: Path) -> None:
    import signal
    import subprocess

    workspace = tmp_path / "workspace.yaml"
    workspace.write_text("load_from: []\n")
    pids = tmp_path / "pids"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, STUBBORN_CHILD, str(pids), str(workspace)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 1)
        (child,) = map(int, pids.read_text().split())
        parent.send_signal(signal.SIGTERM)
        out, _ = parent.communicate(timeout=40)
    finally:
        if parent.poll() is None:
            parent.kill()
    try:
        assert out.strip() == "stopped"
        assert _wait_for(lambda: not _alive(child)), "the server outlived dagmesh dev"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
