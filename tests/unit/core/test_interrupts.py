"""A stop of the mesh run: honoured at the platform's checkpoints, and raised inside a product's own
Python code only while it runs there."""

from __future__ import annotations

import threading
import time

import pytest
from dagster._core.errors import DagsterExecutionInterruptedError

from dagmesh.core.interrupts import (
    check_stop,
    clear_stop,
    computing,
    interrupt_computing,
    request_stop,
)


@pytest.fixture(autouse=True)
def _no_stop_left():
    clear_stop()
    yield
    clear_stop()


def test_checkpoints_refuse_after_a_stop():
    check_stop("anything")  # no stop: nothing happens
    request_stop()
    with pytest.raises(DagsterExecutionInterruptedError, match="stopped before publishing"):
        check_stop("publishing")
    with pytest.raises(DagsterExecutionInterruptedError), computing():
        raise AssertionError("a product's code does not start after a stop")


def test_product_code_is_interrupted_where_it_runs_and_not_after():
    inside, outcome = threading.Event(), {}

    def product() -> None:
        try:
            with computing():
                inside.set()
                for _ in range(200):  # 10 s unless interrupted
                    time.sleep(0.05)
            outcome["result"] = "ran to the end"
        except DagsterExecutionInterruptedError:
            outcome["result"] = "interrupted"

    worker = threading.Thread(target=product)
    worker.start()
    assert inside.wait(5)
    started = time.monotonic()
    assert interrupt_computing() == 1
    worker.join(5)
    assert outcome == {"result": "interrupted"} and time.monotonic() - started < 1
    assert interrupt_computing() == 0  # nobody computing: nothing raised anywhere
