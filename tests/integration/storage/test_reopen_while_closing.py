"""A connect while this process still holds the warehouse file under another name (DuckDB: "Unique file
handle conflict"), as when another thread's last connection is still closing: it waits for the file to
be free, and says what holds it when it never is."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from dagmesh.core.errors import DagmeshError
from dagmesh.storage import warehouse as warehouse_module
from dagmesh.storage.warehouse import MeshWarehouse


def _held_under_another_name(path: str) -> duckdb.DuckDBPyConnection:
    holder = duckdb.connect(":memory:")
    holder.execute(f"ATTACH '{path}' AS held")
    return holder


def test_a_connect_waits_until_the_file_is_free_again(tmp_path):
    path = str(tmp_path / "w.duckdb")
    duckdb.connect(path).close()
    holder = _held_under_another_name(path)
    with pytest.raises(duckdb.BinderException, match="Unique file handle conflict"):
        duckdb.connect(path)  # what DuckDB itself answers meanwhile
    released = threading.Timer(0.5, holder.close)
    released.start()
    started = time.monotonic()
    with MeshWarehouse(database=path).get_connection() as con:
        assert con.execute("SELECT 42").fetchone() == (42,)
    assert time.monotonic() - started >= 0.4  # it did wait for the release
    released.join()


def test_a_file_never_freed_is_refused_with_what_holds_it(tmp_path, monkeypatch):
    monkeypatch.setattr(warehouse_module, "_REOPEN_SECONDS", 0.3)
    path = str(tmp_path / "w.duckdb")
    duckdb.connect(path).close()
    holder = _held_under_another_name(path)
    try:
        with (
            pytest.raises(DagmeshError, match="open in this process under another name"),
            MeshWarehouse(database=path).get_connection(),
        ):
            pass
    finally:
        holder.close()
