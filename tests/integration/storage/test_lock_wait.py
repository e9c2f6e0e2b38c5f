"""Waiting for another process's lock on the warehouse file: reported with the holder DuckDB names,
bounded by one deadline for the whole run, and told apart from other IO errors by DuckDB's error, not
by a path that happens to contain "lock"."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from dagmesh.storage.lock_wait import is_lock_error, run_lock_deadline
from dagmesh.storage.settings import LOCK_TIMEOUT_ENV, MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, WarehouseLockedError

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


@contextmanager
def held(path: Path) -> Iterator[subprocess.Popen]:
    """Another process with the DuckDB file open for writing (so holding its lock)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_held_file_is_reported_with_its_holder_and_the_run_deadline_bounds_every_wait(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = MeshWarehouse(database=str(path), lock_timeout_seconds=300)
    lines: list[str] = []
    with held(path) as holder, run_lock_deadline(1.5, lines.append):
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError) as first, warehouse.get_connection():
            pass
        assert 1.4 < time.monotonic() - started < 4  # the run's deadline, not the resource's 300 s
        # a later product of the same run does not get a fresh wait: the deadline has passed
        again = time.monotonic()
        with pytest.raises(WarehouseLockedError), warehouse.get_connection():
            pass
        assert time.monotonic() - again < 1
    assert f"(PID {holder.pid})" in str(first.value)
    assert "Nothing was written" in str(first.value) and LOCK_TIMEOUT_ENV in str(first.value)
    assert lines and all(f"(PID {holder.pid})" in line for line in lines)
    assert lines[0].startswith(f"waiting for the warehouse {path}: locked by ")
    with warehouse.get_connection() as con:  # free again
        assert con.execute("SELECT 42").fetchone() == (42,)


def test_an_io_error_under_a_folder_named_lockers_is_not_waited_for(tmp_path):
    path = tmp_path / "lockers" / "warehouse.duckdb"
    path.mkdir(parents=True)  # a folder where the file should be: DuckDB cannot read it
    warehouse = MeshWarehouse(database=str(path), lock_timeout_seconds=30)
    started = time.monotonic()
    with pytest.raises(duckdb.IOException) as raised, warehouse.get_connection():
        pass
    assert time.monotonic() - started < 3
    assert not isinstance(raised.value, WarehouseLockedError) and not is_lock_error(raised.value)


def test_the_lock_timeout_setting(monkeypatch, mesh_home):
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "12.5")
    assert MeshWarehouse.from_settings(MeshSettings.from_env()).lock_timeout_seconds == 12.5
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "")
    assert MeshSettings.from_env().lock_timeout == 300
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(LOCK_TIMEOUT_ENV, bad)
        with pytest.raises(ValueError, match=LOCK_TIMEOUT_ENV):
            MeshSettings.from_env()
