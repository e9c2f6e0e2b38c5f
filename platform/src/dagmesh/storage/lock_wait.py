"""Waiting for another process's lock on the DuckDB file: recognised from DuckDB's own error, reported
while it lasts, and bounded by one deadline for a whole `dagmesh run` (not a fresh wait per product).

DuckDB refuses a second writing process with an IO error "Could not set lock on file ...: Conflicting
lock is held in <program> (PID n)"; that text, not the file's path, is what makes an error a lock wait.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

_LOCK_CONFLICT = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# How often a continuing wait is reported (the first report comes at once).
REPORT_EVERY_SECONDS = 5.0

Reporter = Callable[[str], None]


def is_lock_error(error: BaseException) -> bool:
    """Whether `error` is DuckDB refusing the file because another process holds its lock."""
    return isinstance(error, duckdb.IOException) and bool(_LOCK_CONFLICT.search(str(error)))


def lock_holder(error: BaseException) -> str | None:
    """Who holds the lock, as DuckDB names it ("<program> (PID n)"), when it does."""
    found = _HOLDER.search(str(error))
    return f"{found['program']} (PID {found['pid']})" if found else None


@dataclass
class _RunWait:
    deadline: float | None = None  # time.monotonic() after which no lock is waited for
    report: Reporter | None = None


_RUN = _RunWait()
_RUN_CHANGES = threading.Lock()


@contextmanager
def run_lock_deadline(seconds: float, report: Reporter | None = None) -> Iterator[None]:
    """Within this block (one `dagmesh run`), every wait for the file's lock ends `seconds` from now at
    the latest, whichever product waits, and each wait is reported through `report`."""
    with _RUN_CHANGES:
        previous = _RunWait(_RUN.deadline, _RUN.report)
        _RUN.deadline, _RUN.report = time.monotonic() + seconds, report
    try:
        yield
    finally:
        with _RUN_CHANGES:
            _RUN.deadline, _RUN.report = previous.deadline, previous.report


class LockWait:
    """One connection's wait for the lock: its deadline (its own, or the run's when that comes first)
    and the progress lines it reports."""

    def __init__(self, database: str, timeout_seconds: float) -> None:
        self.database = database
        self.started = time.monotonic()
        own = self.started + timeout_seconds
        self.deadline = own if _RUN.deadline is None else min(own, _RUN.deadline)
        self._reported_at: float | None = None

    @property
    def waited(self) -> float:
        return time.monotonic() - self.started

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def note(self, error: BaseException) -> None:
        """Report the wait now and then: who holds the file and how long is left."""
        now = time.monotonic()
        if self._reported_at is not None and now - self._reported_at < REPORT_EVERY_SECONDS:
            return
        self._reported_at = now
        report = _RUN.report
        if report is None:
            return
        holder = lock_holder(error)
        report(
            f"waiting for the warehouse {self.database}: locked by "
            f"{holder or 'another process'}; waited {self.waited:.0f}s, giving up in "
            f"{self.remaining():.0f}s"
        )
