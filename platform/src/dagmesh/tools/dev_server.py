"""`dagmesh dev` keeps `dagster dev` in step with `workspace.yaml`.

`dagster dev` reads the workspace file once, at start: a domain added with `dagmesh new-domain` (which
registers it in `workspace.yaml`) stays invisible, and the UI's "Reload all" reloads the code of the
locations it already has, not the file. So the command runs `dagster dev` as a child in its own process
group and, when the file changes, stops that group (webserver, daemon, code servers) and starts it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

POLL_SECONDS = 1.0
# A stopped `dagster dev` shuts its code servers down itself; past this, the group is killed.
STOP_SECONDS = 30.0


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def _stop(process: subprocess.Popen, timeout: float = STOP_SECONDS) -> None:
    """Stop the child's whole process group as Ctrl-C would, then for good."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def interrupt_on_termination() -> None:
    """Make Ctrl-C, SIGTERM and a closed terminal (SIGHUP) all stop the command the same way: the
    child runs in its own process group, so it is stopped by us, not by the terminal. Also undoes an
    inherited 'ignore SIGINT' (a background shell job), which the child would inherit in turn and then
    ignore our stop (`dagster dev` maps SIGTERM to its SIGINT handler). Main thread only."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)


def serve_with_restarts(
    command: Sequence[str],
    watched: Path,
    *,
    say: Callable[[str], None] = print,
    poll: float = POLL_SECONDS,
    stop: threading.Event | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    output: IO[str] | None = None,
) -> int:
    """Run `command` until it exits by itself (its exit code), or until `stop` is set (0), restarting it
    whenever `watched` changes. `output` takes the command's stdout and stderr (default: ours)."""
    stop = stop or threading.Event()
    seen = _stamp(watched)

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            list(command),
            start_new_session=True,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL if output is not None else None,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )

    process = start()
    try:
        while not stop.wait(poll):
            if process.poll() is not None:
                return process.returncode
            now = _stamp(watched)
            if now == seen:
                continue
            seen = now
            say(
                f"{watched.name} changed: restarting `dagster dev` so the UI loads its code "
                "locations (the UI's Reload all does not re-read the file)"
            )
            _stop(process)
            process = start()
        return 0
    finally:
        _stop(process)
