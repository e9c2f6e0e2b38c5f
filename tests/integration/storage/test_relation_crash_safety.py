"""An in-warehouse publish killed with SIGKILL leaves the previous version intact and readable, and the
next run succeeds: on the renaming path (the rows are committed as a stage table, audited, and renamed into
place) and on the staged one (a masked contract stages into a temp table first). A stage a kill left
behind is dropped by the next publish. Mirrors test_crash_safety.py (pandas path)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh.declare.contract import read_contract
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from tests.helpers.readers import TRUSTED

ROOT = Path(__file__).resolve().parents[3]
BIG = 6_000_000


class Rows(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0)
    version: Series[int] = pa.Field(ge=1)
    payload: Series[str]


class MaskedRows(Rows):
    email: Series[str] = pa.Field(metadata={"mask": "sha256"})


class SlowRows(Rows):
    """Its audit waits in a check only pandera decides, after the stage was committed."""

    @pa.dataframe_check
    def waits(cls, frame):
        print("auditing", flush=True)
        time.sleep(60)
        return True


CONTRACTS = {"in_place": Rows, "staged": MaskedRows, "slow": SlowRows}


def target(path: str) -> PublishTarget:
    return PublishTarget(
        "crash/rows", ("crash", "rows"), read_contract(CONTRACTS[path]), ("team:crash",), "1.0.0"
    )


def rows_sql(path: str, rows: int, version: int) -> str:
    email = ", 'buyer' || range || '@example.org' AS email" if path == "staged" else ""
    return (
        f"SELECT range AS id, CAST({version} AS BIGINT) AS version, "
        f"'v{version}-' || range AS payload{email} FROM range({rows})"
    )


PUBLISH = """
import sys
sys.path.insert(0, sys.argv[2])
from tests.integration.storage.test_relation_crash_safety import rows_sql, target
from dagmesh.storage.warehouse import MeshWarehouse
path, rows, version = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
warehouse = MeshWarehouse(database=sys.argv[1])
with warehouse.get_connection() as con:
    relation = con.sql(rows_sql(path, rows, version))
    print("publishing", flush=True)
    warehouse.publish_relation(target(path), con, relation)
print("published", flush=True)
"""


def _publisher(database: Path, path: str, rows: int, version: int) -> list[str]:
    return [sys.executable, "-c", PUBLISH, str(database), str(ROOT), path, str(rows), str(version)]


def _stages(database: Path) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_dagmesh_stage')"
        ).fetchall()
    return [name for (name,) in found]


def _state(database: Path) -> tuple[int, set[int], int | None]:
    """Rows, versions and the row count of the newest publication, read by another process."""
    with duckdb.connect(str(database), read_only=True) as con:
        (rows,) = con.execute("SELECT COUNT(*) FROM crash.rows").fetchone()
        versions = {v for (v,) in con.execute("SELECT DISTINCT version FROM crash.rows").fetchall()}
        logged = con.execute(
            "SELECT row_count FROM _dagmesh.publications ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
    return rows, versions, logged[0] if logged else None


def _publish_v1(warehouse: MeshWarehouse, path: str) -> None:
    with warehouse.get_connection() as con:
        warehouse.publish_relation(target(path), con, con.sql(rows_sql(path, 1000, 1)))


@pytest.mark.parametrize("path", ["in_place", "staged"])
def test_sigkill_mid_relation_publish_keeps_the_previous_version(tmp_path, path):
    database = tmp_path / "w.duckdb"
    warehouse = MeshWarehouse(database=str(database))
    _publish_v1(warehouse, path)
    killed_mid_publish = 0
    for delay in (0.5, 1.0, 1.5, 2.5, 3.5):
        process = subprocess.Popen(
            _publisher(database, path, BIG, 2), cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert process.stdout.readline().strip() == "publishing"
        time.sleep(delay)
        finished = process.poll() is not None
        if not finished:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
        rows, versions, logged = _state(database)
        # Either the old version, whole, or (if the publish committed before the kill) the new one,
        # whole; the publication log always describes the table as it is.
        assert (rows, versions) in ((1000, {1}), (BIG, {2})), (delay, rows, versions)
        assert logged == rows, (delay, rows, logged)
        if (rows, versions) == (1000, {1}) and not finished:
            killed_mid_publish += 1
            # readable, with the contract's dtypes
            back = warehouse.read(("crash", "rows"), reader=TRUSTED)
            assert len(back) == 1000 and back["id"].dtype == "int64"
            assert set(back["payload"].str[:3]) == {"v1-"}
        if versions == {2}:
            _publish_v1(warehouse, path)  # back to v1 for the next, later kill
    assert killed_mid_publish >= 2, "no kill landed during a publish: raise BIG"
    # The next run publishes normally over whatever the kills left.
    done = subprocess.run(
        _publisher(database, path, 5000, 2),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "published" in done.stdout, done.stderr[-2000:]
    assert _state(database) == (5000, {2}, 5000)
    assert _stages(database) == []  # what the kills left was dropped
    with duckdb.connect(str(database), read_only=True) as con:
        logged = con.execute("SELECT COUNT(*) FROM _dagmesh.publications").fetchone()[0]
        if path == "staged":  # the masked column reached the file hashed, never in clear
            (clear,) = con.execute(
                "SELECT COUNT(*) FROM crash.rows WHERE email LIKE '%@%'"
            ).fetchone()
            assert clear == 0
    assert logged >= 2


def test_a_stage_a_kill_left_is_dropped_by_the_next_publish(tmp_path):
    """Killed while its committed stage is audited: the stage outlives the process, consumers still
    read the previous version, and the next publish of the product drops it."""
    database = tmp_path / "w.duckdb"
    warehouse = MeshWarehouse(database=str(database))
    _publish_v1(warehouse, "in_place")
    process = subprocess.Popen(
        _publisher(database, "slow", 1000, 2), cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "publishing"
    assert process.stdout.readline().strip() == "auditing"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    left = _stages(database)
    assert len(left) == 1 and left[0].startswith("_dagmesh_stage__rows__"), left
    assert _state(database) == (1000, {1}, 1000)
    done = subprocess.run(
        _publisher(database, "in_place", 5000, 2), cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _state(database) == (5000, {2}, 5000)
    assert _stages(database) == []
