"""`MeshWarehouse.kept_open`: from the block's first connection to its end the DuckDB file stays open
(each step's connection joins the open database, no reopen and checkpoint per step), and it is closed,
free for other processes, when the block ends."""

from __future__ import annotations

import subprocess
import sys

from dagmesh.storage.warehouse import MeshWarehouse

OPEN_ELSEWHERE = """
import duckdb, sys
try:
    duckdb.connect(sys.argv[1]).close()
    print("opened")
except duckdb.IOException as error:
    print("locked" if "lock" in str(error).lower() else f"other: {error}")
"""


def _elsewhere(database: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OPEN_ELSEWHERE, database], capture_output=True, text=True
    )
    return done.stdout.strip() or done.stderr


def _attached(warehouse: MeshWarehouse) -> bool:
    """Whether the database this connection joins has the scratch database an earlier one attached:
    attachments belong to the open database, not to a connection."""
    with warehouse.get_connection() as con:
        found = con.execute(
            "SELECT 1 FROM duckdb_databases() WHERE database_name = 'scratch'"
        ).fetchall()
    return bool(found)


def test_the_database_stays_open_between_connections_only_inside_the_block(tmp_path):
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    with warehouse.kept_open():
        assert _elsewhere(warehouse.database) == "opened"  # nothing connected yet: not held
        with warehouse.get_connection() as con:
            con.execute("ATTACH ':memory:' AS scratch")
        assert _attached(warehouse)  # the next connection joined the same open database
        assert _elsewhere(warehouse.database) == "locked"
    assert _elsewhere(warehouse.database) == "opened"
    assert not _attached(warehouse)  # closed at the block's end: a fresh open


def test_without_the_block_each_connection_opens_the_file_afresh(tmp_path):
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    with warehouse.get_connection() as con:
        con.execute("ATTACH ':memory:' AS scratch")
    assert not _attached(warehouse)
    assert _elsewhere(warehouse.database) == "opened"
