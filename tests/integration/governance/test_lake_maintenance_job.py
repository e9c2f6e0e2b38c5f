"""The lake maintenance job as the governance location defines it: one maintenance at a time (the
concurrency pool Dagster enforces, and the op's own check where the pool is unlimited), a nightly
schedule, and a clear "nothing to maintain" on the DuckDB-file backend.

(What maintenance does to a lake is tested on real lakes: tests/integration/lakehouse/
test_lake_maintenance.py.)"""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg
import pytest

from dagmesh.binding.asset import WAREHOUSE_KEY
from dagmesh.governance import maintenance
from dagmesh.governance.maintenance import (
    JOB_NAME,
    MAINTENANCE_POOL,
    MAINTENANCE_TAG,
    NIGHTLY,
    NOTHING_TO_MAINTAIN,
    OP_NAME,
    lake_maintenance,
    lake_maintenance_schedule,
)
from dagmesh.storage.lake_maintenance import CLEANUP_DELAY_ENV, RETENTION_ENV
from dagmesh.storage.lakehouse import LakeLocation
from dagmesh.storage.settings import HOME_ENV, LAKE_DATA_ENV, WAREHOUSE_ENV, MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse
from dagmesh.tools.run_instance import for_concurrent_runs

WAIT = 60  # seconds: generous, only reached when something is wrong


def outcome(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    assert result.success
    (output,) = [e for e in result.all_events if e.is_successful_output and e.step_key == OP_NAME]
    return {k: v.value for k, v in output.event_specific_data.metadata.items()}


@pytest.fixture
def governance_defs(tmp_path, monkeypatch) -> dg.Definitions:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    from governance.definitions import defs

    return defs()


def test_the_governance_location_runs_maintenance_nightly_one_at_a_time(governance_defs):
    job = governance_defs.resolve_job_def(JOB_NAME)
    (node,) = job.nodes
    assert node.definition.name == OP_NAME
    assert node.definition.pool == MAINTENANCE_POOL  # the limit Dagster enforces
    assert job.tags[MAINTENANCE_TAG] == "lake"
    assert WAREHOUSE_KEY in node.definition.required_resource_keys
    schedules = [s for s in governance_defs.schedules or [] if s.job_name == JOB_NAME]
    assert len(schedules) == 1
    (schedule,) = schedules
    assert schedule.cron_schedule == NIGHTLY == "0 3 * * *"
    assert schedule.execution_timezone == "UTC"
    assert governance_defs.resolve_schedule_def(schedule.name).job_name == JOB_NAME


def test_the_schedule_runs_on_the_lakehouse_backend_only(tmp_path):
    file = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    lake = MeshSettings(
        home=tmp_path,
        warehouse_path=tmp_path / "w.duckdb",
        tpch_scale=0.01,
        lake=_lake_location(tmp_path),
    )
    assert (
        lake_maintenance_schedule(settings=file).default_status is dg.DefaultScheduleStatus.STOPPED
    )
    assert (
        lake_maintenance_schedule(settings=lake).default_status is dg.DefaultScheduleStatus.RUNNING
    )


def _lake_location(tmp_path: Path) -> LakeLocation:
    return LakeLocation(catalog=f"ducklake:{tmp_path / 'c.ducklake'}", data_path=f"{tmp_path}/d/")


def test_on_the_duckdb_file_there_is_nothing_to_maintain(mesh_settings, instance):
    warehouse = MeshWarehouse.from_settings(mesh_settings)
    assert not warehouse.is_lakehouse
    result = lake_maintenance.execute_in_process(
        instance=instance, resources={WAREHOUSE_KEY: warehouse}
    )
    reported = outcome(result)
    assert reported["backend"] == "duckdb file"
    assert str(reported["outcome"]).startswith(
        f"{NOTHING_TO_MAINTAIN}: the warehouse is a DuckDB file"
    )
    assert not mesh_settings.warehouse_path.exists()  # not even opened: no lock taken


@pytest.fixture
def lake_warehouse(tmp_path, monkeypatch) -> MeshWarehouse:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(WAREHOUSE_ENV, f"ducklake:{tmp_path / 'catalog.ducklake'}")
    monkeypatch.setenv(LAKE_DATA_ENV, f"{tmp_path / 'data'}/")
    monkeypatch.setenv(RETENTION_ENV, "0 seconds")
    monkeypatch.setenv(CLEANUP_DELAY_ENV, "0 seconds")
    (tmp_path / "dagster").mkdir()
    warehouse = MeshWarehouse.from_settings(MeshSettings.from_env())
    assert warehouse.is_lakehouse
    return warehouse


class Gate:
    """Holds each maintenance inside `maintain_lake` until released; counts who got in."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.inside = 0
        real = maintenance.maintain_lake

        def held(con, policy, *, now):
            self.inside += 1
            self.entered.release()
            assert self.release.wait(WAIT)
            return real(con, policy, now=now)

        monkeypatch.setattr(maintenance, "maintain_lake", held)


def _in_thread(run) -> tuple[threading.Thread, dict]:
    results: dict = {}
    thread = threading.Thread(target=lambda: results.setdefault("result", run()), daemon=True)
    thread.start()
    return thread, results


def test_a_second_maintenance_skips_while_one_runs_where_the_pool_is_unlimited(
    lake_warehouse, tmp_path, monkeypatch
):
    gate = Gate(monkeypatch)
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as base:
        instance = for_concurrent_runs(base)
        assert maintenance.pool_limit(instance) is None

        def run():
            return lake_maintenance.execute_in_process(
                instance=instance, resources={WAREHOUSE_KEY: lake_warehouse}
            )

        thread, first = _in_thread(run)
        assert gate.entered.acquire(timeout=WAIT)  # the first is maintaining
        second = outcome(run())  # returns at once: it never waits for the gate
        assert gate.inside == 1
        gate.release.set()
        thread.join(WAIT)
    first_run = first["result"].run_id
    assert str(second["outcome"]).startswith("skipped: lake maintenance is already running")
    assert second["concurrent runs"] == [first_run]
    assert "expired" in str(outcome(first["result"])["outcome"])


def test_with_the_pool_limited_a_second_maintenance_waits_then_maintains(
    lake_warehouse, tmp_path, monkeypatch
):
    gate = Gate(monkeypatch)
    limited = {"concurrency": {"pools": {"default_limit": 1}}}
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster"), overrides=limited) as base:
        instance = for_concurrent_runs(base)
        assert maintenance.pool_limit(instance) == 1

        def run():
            return lake_maintenance.execute_in_process(
                instance=instance, resources={WAREHOUSE_KEY: lake_warehouse}
            )

        first_thread, first = _in_thread(run)
        assert gate.entered.acquire(timeout=WAIT)
        second_thread, second = _in_thread(run)
        # the second run has started but waits for the pool's slot, outside the op
        assert not gate.entered.acquire(timeout=3)
        assert gate.inside == 1 and not second
        gate.release.set()
        first_thread.join(WAIT)
        second_thread.join(WAIT)
        assert gate.inside == 2
        steps = {
            key: instance.get_run_step_stats(results["result"].run_id, step_keys=[OP_NAME])[0]
            for key, results in (("first", first), ("second", second))
        }
    for results in (first, second):
        reported = outcome(results["result"])
        assert "expired" in str(reported["outcome"]) and reported["pool limit"] == "1"
    assert steps["second"].start_time >= steps["first"].end_time  # one after the other
