"""Stopping a `dagmesh run` on Ctrl-C or SIGTERM within seconds, leaving nothing half-published.

The mesh's Dagster runs execute in worker threads, so the main thread is free to take the signal. It
then (1) lets no further run start, (2) interrupts every open warehouse connection's query (DuckDB's
`interrupt()`: the publishing transaction it was in rolls back), (3) raises Dagster's own interruption
in the threads running a product's own Python code, as Dagster does for a step in the main thread, and
(4) makes every later warehouse connection and publishing COMMIT of the run refuse
(`dagmesh.core.interrupts`): the steps fail as interrupted and Dagster ends their runs as failed. Until
the runs have ended it interrupts again every half second (a query started meanwhile). Python code
blocked in a C call (a long `time.sleep`) sees the interruption only when the call returns; `dagmesh
run` gives it `GRACE_SECONDS`, then leaves without it (the process ends, so its uncommitted transaction
never lands, and its run is marked canceled).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dagmesh.core.interrupts import clear_stop, interrupt_computing, request_stop
from dagmesh.storage.warehouse import interrupt_open_connections

GRACE_SECONDS = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class MeshStop:
    """Whether the mesh run was asked to stop, and the interruption of what it is running."""

    def __init__(self, announce: Callable[[signal.Signals], None] | None = None) -> None:
        clear_stop()  # a new run: an earlier one's stop is over
        self._announce = announce  # told of each stop signal, as it arrives
        self._event = threading.Event()
        self._changes = threading.Lock()
        self.signal: signal.Signals | None = None

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + int(self.signal or signal.SIGINT)

    def request(self, signum: int | None = None) -> None:
        """Stop: no new run starts; what runs is interrupted."""
        with self._changes:
            if signum is not None and self.signal is None:
                self.signal = signal.Signals(signum)
            self._event.set()
        if signum is not None and self._announce is not None:
            self._announce(signal.Signals(signum))
        request_stop()
        self.interrupt()

    def interrupt(self) -> None:
        """Interrupt the warehouse queries and product code running now."""
        interrupt_open_connections()
        interrupt_computing()

    @contextmanager
    def on_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM request the stop while the block runs (from the main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda signum, _frame: self.request(signum))
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
