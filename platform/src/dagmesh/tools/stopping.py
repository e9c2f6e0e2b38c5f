"""Stopping a `dagmesh run` on Ctrl-C or SIGTERM within seconds, leaving nothing half-published.

The mesh's Dagster runs execute in worker threads, so the main thread is free to take the signal. It
then (1) lets no further run start, (2) interrupts every open warehouse connection's query (DuckDB's
`interrupt()`: the publishing transaction it was in rolls back), and (3) half a second later raises
Dagster's own interruption in the threads still running steps, as Dagster does for a step in the main thread: the step
fails, and Dagster ends its run as failed. Python code blocked in a C call (a long `time.sleep`) sees it
only when the call returns; `dagmesh run` gives it `GRACE_SECONDS`, then leaves without it (the process
ends, so its uncommitted transaction never lands, and its run is marked canceled).
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dagster._core.errors import DagsterExecutionInterruptedError

from dagmesh.storage.warehouse import interrupt_open_connections

GRACE_SECONDS = 10.0
PYTHON_INTERRUPT_AFTER_SECONDS = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class MeshStop:
    """Whether the mesh run was asked to stop, and the interruption of what it is running."""

    def __init__(self, announce: Callable[[signal.Signals], None] | None = None) -> None:
        self._announce = announce  # told of each stop signal, as it arrives
        self._event = threading.Event()
        self._changes = threading.Lock()
        self._running: set[int] = set()  # idents of threads running a Dagster run
        self._interrupted = False
        self.signal: signal.Signals | None = None

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + int(self.signal or signal.SIGINT)

    def request(self, signum: int | None = None) -> None:
        """Stop: no new run starts; what runs is interrupted (again, on a second signal)."""
        with self._changes:
            if signum is not None and self.signal is None:
                self.signal = signal.Signals(signum)
            self._event.set()
            again = self._interrupted
            self._interrupted = True
        if signum is not None and self._announce is not None:
            self._announce(signal.Signals(signum))
        interrupt_open_connections()
        if again:
            self._interrupt_threads()
        else:  # a query interrupted in DuckDB fails its step cleanly; Python code gets a moment more
            timer = threading.Timer(PYTHON_INTERRUPT_AFTER_SECONDS, self._interrupt_threads)
            timer.daemon = True
            timer.start()

    def _interrupt_threads(self) -> None:
        with self._changes:
            for ident in self._running:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident), ctypes.py_object(DagsterExecutionInterruptedError)
                )

    @contextmanager
    def running(self) -> Iterator[None]:
        """The calling thread runs a Dagster run: a stop interrupts it."""
        ident = threading.get_ident()
        with self._changes:
            self._running.add(ident)
        try:
            yield
        finally:
            with self._changes:
                self._running.discard(ident)
                # an interruption raised just as the run ended is not delivered after it
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)

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
