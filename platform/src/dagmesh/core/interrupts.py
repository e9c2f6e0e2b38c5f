"""A stop of this process's mesh run (Ctrl-C of `dagmesh run`), honoured where it is safe to stop.

The platform checks it before each warehouse connection and each publishing COMMIT, so a step stops at
the next of those and nothing more is published; a product's own Python code is interrupted where it
runs (`computing`), the only place an exception raised from outside cannot land in Dagster's or the
platform's bookkeeping. The interruption is Dagster's own error, so a step fails as Dagster fails an
interrupted step.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.errors import DagsterExecutionInterruptedError

_STOP = threading.Event()
_COMPUTING: set[int] = set()  # idents of threads running a product's own function
_CHANGES = threading.Lock()


def request_stop() -> None:
    """Stop: from now on no checkpoint lets a step go on."""
    _STOP.set()


def clear_stop() -> None:
    """A new run may start (the stopped one has ended)."""
    _STOP.clear()


def stop_requested() -> bool:
    return _STOP.is_set()


def check_stop(what: str) -> None:
    """Raise the interruption if a stop was requested; `what` is where the step stopped."""
    if _STOP.is_set():
        raise DagsterExecutionInterruptedError(f"the run was stopped before {what}")


@contextmanager
def computing() -> Iterator[None]:
    """The calling thread runs a product's own code: a stop may interrupt it there."""
    ident = threading.get_ident()
    with _CHANGES:
        _COMPUTING.add(ident)
    try:
        check_stop("the product's code ran")
        yield
    finally:
        with _CHANGES:
            _COMPUTING.discard(ident)
            # an interruption raised just as the code returned is not delivered after it
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)


def interrupt_computing() -> int:
    """Raise the interruption in every thread running a product's own code (at its next Python
    instruction: code blocked in a C call sees it when the call returns). Returns how many."""
    with _CHANGES:
        for ident in _COMPUTING:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(DagsterExecutionInterruptedError)
            )
        return len(_COMPUTING)
