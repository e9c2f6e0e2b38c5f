"""The warehouse connection is bounded: DuckDB's memory limit and spill directory come from the settings."""

from __future__ import annotations

import os

import duckdb
import pytest

from dagmesh import MeshSettings, MeshWarehouse
from dagmesh.storage.settings import MEMORY_LIMIT_ENV


def test_the_memory_limit_and_spill_directory_reach_every_warehouse_connection(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    settings = MeshSettings.from_env()
    assert settings.spill_dir == tmp_path.resolve() / "spill"
    warehouse = MeshWarehouse.from_settings(settings)
    with warehouse.get_connection() as con:
        limit, spill = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    assert limit in ("488.2 MiB", "512.0 MB")  # DuckDB reports it in its own unit
    assert spill == str(settings.spill_dir) and settings.spill_dir.is_dir()


def test_a_stage_larger_than_the_memory_limit_spills_under_dagmesh_home(tmp_path, monkeypatch):
    """A temp table (how a masked or partitioned relation is staged) of more data than the limit holds
    is written to DAGMESH_HOME/spill instead of failing or growing the process."""
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    settings = MeshSettings.from_env()
    warehouse = MeshWarehouse.from_settings(settings)
    with warehouse.get_connection() as con:
        con.execute("SET threads = 1")
        con.execute(
            "CREATE TEMP TABLE stage AS SELECT range AS id, md5(range::VARCHAR) AS h "
            "FROM range(3000000) ORDER BY h"
        )
        spilled = con.execute("SELECT path, size FROM duckdb_temporary_files()").fetchall()
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM stage").fetchone() == (
            3_000_000,
            3_000_000,
        )
    assert spilled and sum(size for _, size in spilled) > 64 * 2**20
    assert all(str(path).startswith(str(settings.spill_dir)) for path, _ in spilled)


@pytest.mark.parametrize("value", ["lots", "2 parsecs", "-1GB", "", "nan"])
def test_a_memory_limit_that_is_not_an_amount_is_refused_when_the_settings_load(monkeypatch, value):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, value)
    if value == "":  # empty means unset: the default
        assert MeshSettings.from_env().memory_limit == "2GB"
        return
    with pytest.raises(ValueError, match=MEMORY_LIMIT_ENV):
        MeshSettings.from_env()


def test_duckdb_accepts_every_amount_the_setting_accepts():
    for amount in ("512MB", "2GB", "1.5GB", "100KiB", "3GiB"):
        with duckdb.connect(config={"memory_limit": amount}) as con:
            assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


@pytest.mark.parametrize("scale", ["nan", "inf", "-inf", "-1", "0", "abc", ""])
def test_a_scale_that_is_not_a_positive_finite_number_is_refused_in_one_line(scale, monkeypatch):
    """NaN passed the old `scale <= 0` test (every comparison with NaN is false) and infinity too."""
    monkeypatch.setenv("DAGMESH_TPCH_SCALE", scale)
    if scale == "":
        assert MeshSettings.from_env().tpch_scale == 0.01  # unset: the default
        return
    with pytest.raises(ValueError) as refused:
        MeshSettings.from_env()
    message = str(refused.value)
    assert f"DAGMESH_TPCH_SCALE={scale!r}" in message and "\n" not in message


def test_dagmesh_run_refuses_a_nan_scale_before_loading_anything(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DAGMESH_HOME": str(tmp_path), "DAGMESH_TPCH_SCALE": "nan"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagmesh"), "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "DAGMESH_TPCH_SCALE='nan'" in lines[0], done.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()
