"""A publish killed with SIGKILL leaves the previous version intact and readable, and the next run succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh.declare.contract import read_contract
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget

ROOT = Path(__file__).resolve().parents[3]
BIG = 3_000_000


class Rows(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0)
    version: Series[int] = pa.Field(ge=1)
    payload: Series[str]


def target() -> PublishTarget:
    return PublishTarget(
        "crash/rows", ("crash", "rows"), read_contract(Rows), ("team:crash",), "1.0.0"
    )


PUBLISH_V2 = """
import sys
import numpy as np, pandas as pd
sys.path.insert(0, sys.argv[2])
from tests.integration.storage.test_crash_safety import target
from dagmesh.storage.warehouse import MeshWarehouse
rows = int(sys.argv[3])
frame = pd.DataFrame({"id": np.arange(rows), "version": 2, "payload": "v2-" + pd.Series(np.arange(rows)).astype(str)})
print("publishing", flush=True)
MeshWarehouse(database=sys.argv[1]).publish(target(), frame)
print("published", flush=True)
"""


def _state(database: Path) -> tuple[int, set[int]]:
    with duckdb.connect(str(database), read_only=True) as con:
        (rows,) = con.execute("SELECT COUNT(*) FROM crash.rows").fetchone()
        versions = {v for (v,) in con.execute("SELECT DISTINCT version FROM crash.rows").fetchall()}
    return rows, versions


def test_sigkill_mid_publish_keeps_the_previous_version(tmp_path):
    database = tmp_path / "w.duckdb"
    warehouse = MeshWarehouse(database=str(database))
    v1 = pd.DataFrame({"id": np.arange(1000), "version": 1, "payload": "v1"})
    warehouse.publish(target(), v1)
    killed_mid_publish = 0
    for delay in (0.5, 1.0, 1.5, 2.0, 3.0):
        process = subprocess.Popen(
            [sys.executable, "-c", PUBLISH_V2, str(database), str(ROOT), str(BIG)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout.readline().strip() == "publishing"
        time.sleep(delay)
        finished = process.poll() is not None
        if not finished:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        rows, versions = _state(database)
        # Either the old version, whole, or (if the publish committed before the kill) the new one, whole.
        assert (rows, versions) in ((1000, {1}), (BIG, {2})), (delay, rows, versions)
        if (rows, versions) == (1000, {1}) and not finished:
            killed_mid_publish += 1
        if versions == {2}:
            warehouse.publish(target(), v1)  # back to v1 for the next, later kill
    assert killed_mid_publish >= 2, "no kill landed during a publish: raise BIG"
    # The next run publishes normally over whatever the kills left.
    done = subprocess.run(
        [sys.executable, "-c", PUBLISH_V2, str(database), str(ROOT), "5000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "published" in done.stdout, done.stderr[-2000:]
    assert _state(database) == (5000, {2})
    with duckdb.connect(str(database), read_only=True) as con:
        logged = con.execute("SELECT COUNT(*) FROM _dagmesh.publications").fetchone()[0]
    assert logged >= 2
