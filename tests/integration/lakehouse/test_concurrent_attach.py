"""Processes attaching a new lake at the same moment race to create its catalog tables in PostgreSQL;
the losers see them half-made ("duplicate key", "already exists"). Every one of them must attach."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ATTACH = """
import sys
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse
warehouse = MeshWarehouse.from_settings(MeshSettings.from_env())
import duckdb
from dagmesh.storage.extensions import load_extension
load_extension(duckdb.connect(), "ducklake")  # loaded before the release: the attach is what races
print("ready", flush=True)
sys.stdin.readline()  # all four released together
with warehouse.get_connection() as con:
    print(con.execute("SELECT current_database()").fetchone()[0])
"""


def test_four_processes_attaching_a_new_catalog_at_once_all_attach(postgres_server, tmp_path):
    env = {
        **os.environ,
        "DAGMESH_HOME": str(tmp_path),
        "DAGMESH_WAREHOUSE": postgres_server.ducklake(postgres_server.create_database()),
        "DAGMESH_LAKE_DATA": str(tmp_path / "data") + "/",
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", ATTACH],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    assert [writer.stdout.readline().strip() for writer in writers] == ["ready"] * 4
    for writer in writers:
        writer.stdin.write("go\n")
    for writer in writers:
        writer.stdin.flush()
    outputs = [writer.communicate(timeout=120) for writer in writers]
    assert [w.returncode for w in writers] == [0, 0, 0, 0], [err[-800:] for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["lake"] * 4
