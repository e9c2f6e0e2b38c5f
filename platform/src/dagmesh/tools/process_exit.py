"""Ending a dagmesh command at once, without tearing down the interpreter's heap.

Why: once `dagmesh run` has finished, CPython's finalization frees, module by module, every object
Dagster, pandas and pydantic made: 0.8-0.9 s on 2 cores, a tenth of a whole TPC-H SF 1 mesh run, spent
after the last line was printed. Everything an exit must do still happens, in the interpreter's own
order: non-daemon threads are joined, atexit handlers run (logging's flush among them), every open
buffered file is flushed, as its finalization would (stdout and stderr last), and a failed flush of
stdout or stderr is reported and exits 120, as the interpreter's own exit does. Then the process ends
(mypy ends the same way). The warehouse's connections are closed by then (each step closes its own);
Dagster's SQLite storage is in WAL mode, where every committed transaction survives the process.
"""

from __future__ import annotations

import atexit
import gc
import io
import os
import sys
import threading
from contextlib import suppress
from typing import NoReturn


def exit_code(code: object) -> int:
    """`SystemExit.code` as a process exit status, as the interpreter maps it (a message is 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with suppress(Exception):
        print(code, file=sys.stderr)
    return 1


def exit_now(code: object) -> NoReturn:
    """End the process with `code` (`SystemExit.code`) after what a normal exit does, skipping only
    the freeing of the heap."""
    status = exit_code(code)
    shutdown = getattr(threading, "_shutdown", None)  # joins non-daemon threads, as exit does
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    standard = (sys.stdout, sys.stderr)
    for stream in [*_open_files(exclude=standard), *standard]:
        try:
            stream.flush()
        except Exception as error:  # said as the interpreter says it, and exit as it would
            _say(
                f"Exception ignored while flushing {getattr(stream, 'name', stream)!r}: {error!r}\n"
            )
            if stream in standard and status == 0:
                status = 120
    os._exit(status)


_BUFFERED = (io.TextIOWrapper, io.BufferedWriter, io.BufferedRandom)


def _open_files(exclude: tuple[object, ...]) -> list[io.IOBase]:
    """Every open, writable buffered file of the process: the heap's freeing would flush them."""
    found = []
    for candidate in gc.get_objects():
        if not isinstance(candidate, _BUFFERED) or any(candidate is e for e in exclude):
            continue
        with suppress(Exception):  # a detached or broken wrapper cannot be flushed anyway
            if not candidate.closed and candidate.writable():
                found.append(candidate)
    return found


def _say(text: str) -> None:
    with suppress(OSError):
        os.write(2, text.encode(errors="replace"))
