"""Runs at the same time in one process (`dagmesh run --parallel`): the instance they need, and the
warehouse under two publishes at once on a fresh file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from dagmesh.storage.settings import MeshSettings, dagster_yaml
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from dagmesh.tools.run_instance import ConcurrentRunsInstance, captures_logs, for_concurrent_runs
from dagmesh.tools.runner import MeshPlanError, run_mesh


def _instance(home: Path) -> dg.DagsterInstance:
    settings = MeshSettings(home=home, warehouse_path=home / "w.duckdb", tpch_scale=0.01)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.ensure_dagster_home())))


def test_the_concurrent_instance_shares_storage_but_captures_no_logs(tmp_path):
    instance = _instance(tmp_path)
    concurrent = for_concurrent_runs(instance)
    assert captures_logs(instance) and not captures_logs(concurrent)
    assert isinstance(concurrent, ConcurrentRunsInstance)
    assert concurrent.get_ref().event_storage_data == instance.get_ref().event_storage_data

    @dg.asset
    def one() -> int:
        return 1

    run = dg.materialize([one], instance=concurrent)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS


def test_run_mesh_refuses_concurrency_on_an_instance_that_captures_logs(tmp_path):
    with pytest.raises(MeshPlanError, match="for_concurrent_runs"):
        run_mesh({}, _instance(tmp_path), parallel=2)


def test_a_run_start_builds_no_logging_config_when_none_is_configured(tmp_path):
    """The deadlock's cause: a run start calling logging.config.dictConfig (which locks every
    handler) while another run's handler waits for the event log. Checked in a fresh process, where
    nothing else configured logging."""
    script = textwrap.dedent(
        f"""
        import logging, logging.config
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef
        from dagmesh.storage.settings import MeshSettings
        from dagmesh.tools.run_instance import for_concurrent_runs
        from pathlib import Path
        home = Path({str(tmp_path)!r})
        settings = MeshSettings(home=home, warehouse_path=home / "w.duckdb", tpch_scale=0.01)
        ref = InstanceRef.from_dir(str(settings.ensure_dagster_home()))
        calls = []
        original = logging.config.dictConfig
        logging.config.dictConfig = lambda conf: (calls.append(conf), original(conf))
        @dg.asset
        def one() -> int:
            return 1
        dg.materialize([one], instance=dg.DagsterInstance.from_ref(ref))
        stock = len(calls)
        dg.materialize([one], instance=for_concurrent_runs(dg.DagsterInstance.from_ref(ref)))
        print(stock, len(calls) - stock)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stock, ours = map(int, done.stdout.split())
    assert stock >= 1  # the stock instance does configure logging at every run start
    assert ours == 0


def test_the_mesh_dagster_yaml_is_written_and_upgraded_but_an_edited_one_is_kept(tmp_path):
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    config = settings.dagster_home / "dagster.yaml"
    settings.ensure_dagster_home()
    ours = config.read_text()
    assert ours == dagster_yaml(settings.dagster_home)
    assert str(settings.dagster_home / "storage") in ours
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.dagster_home))) as loaded:
        # Dagster's run monitoring fails UI-launched runs that never start
        assert loaded.run_monitoring_enabled and loaded.run_monitoring_start_timeout_seconds == 180
        assert loaded.run_monitoring_max_resume_run_attempts == 0
    config.write_text("telemetry:\n  enabled: false\n")  # what earlier versions wrote
    settings.ensure_dagster_home()
    assert config.read_text() == ours
    moved = ours.replace(str(tmp_path), "/elsewhere")  # ours, from a home that was moved here
    config.write_text(moved)
    settings.ensure_dagster_home()
    assert config.read_text() == ours
    edited = "\n".join(ours.splitlines()[1:]) + "\n"  # marker removed: somebody's own now
    config.write_text(edited)
    settings.ensure_dagster_home()
    assert config.read_text() == edited


def test_two_first_publishes_at_once_in_one_process_both_land(tmp_path):
    """Two runs of a wave publishing at the same time into a fresh warehouse: each creates its schema
    and the publication log; inside their transactions they would conflict in DuckDB's catalog."""
    for attempt in range(4):
        warehouse = MeshWarehouse(database=str(tmp_path / f"fresh-{attempt}.duckdb"))
        # two schemas, then two products of one schema: both new, both created at once
        tables = [("east", "numbers"), ("west", "numbers"), ("north", "a"), ("north", "b")]
        for pair in (tables[:2], tables[2:]):
            assert _publish_at_once(warehouse, pair) == []
        with warehouse.get_connection() as con:
            counts = con.execute(
                "SELECT product, row_count FROM _dagmesh.publications ORDER BY product"
            ).fetchall()
        assert counts == sorted((f"{s}/{t}", 1000) for s, t in tables)


def _publish_at_once(
    warehouse: MeshWarehouse, tables: list[tuple[str, str]]
) -> list[BaseException]:
    import pandas as pd

    barrier = threading.Barrier(len(tables))
    errors: list[BaseException] = []

    def publish(table: tuple[str, str]) -> None:
        target = PublishTarget(product="/".join(table), table=table, contract=None)
        barrier.wait()
        try:
            warehouse.publish(target, pd.DataFrame({"n": range(1000)}))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(t,)) for t in tables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_runs_generating_tpch_at_once_get_one_complete_set(tmp_path):
    """dbgen keeps global state: two generations at once in one process crashed it (a segfault of
    `dagmesh run --parallel 2` on a fresh home). They take turns; both see the whole set."""
    import duckdb

    from dagmesh.storage.sources.tpch import TPCH_TABLES, generate_tpch

    target = tmp_path / "sf0.01"
    barrier = threading.Barrier(2)
    results: list[Path] = []

    def generate() -> None:
        barrier.wait()
        results.append(generate_tpch(target, 0.01))

    threads = [threading.Thread(target=generate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [target, target]
    assert sorted(p.stem for p in target.glob("*.parquet")) == sorted(TPCH_TABLES)
    rows = duckdb.sql(f"SELECT COUNT(*) FROM '{target / 'orders.parquet'}'").fetchone()[0]
    assert rows == 15000
