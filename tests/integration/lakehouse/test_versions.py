"""Data versions end to end through Dagster, on a lake with its catalog in PostgreSQL: every publication
records its snapshot and run (`history`), a consumer reads a product as of a snapshot or a time, and a
rollback republishes an old snapshot as a new, audited publication that deletes nothing. On the DuckDB
file the history is there and the rest says it needs the lakehouse."""

from __future__ import annotations

import datetime as dt
import time
from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.binding.asset import ROLLBACK_TAG
from dagmesh.core.errors import DagmeshError
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, TimeTravelUnavailableError
from tests.helpers.readers import TRUSTED

TABLE = ("shop", "counts")
ROUND = {"rows": 10}


class Counts(pa.DataFrameModel):
    n: Series[int] = pa.Field(unique=True, ge=0, description="A number.")


@data_product(
    contract=Counts,
    owners=["team:shop"],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
)
def counts() -> pd.DataFrame:
    """As many numbers as this round asks for."""
    return pd.DataFrame({"n": range(ROUND["rows"])})


@pytest.fixture
def on_lake(postgres_server, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(
        "DAGMESH_WAREHOUSE", postgres_server.ducklake(postgres_server.create_database())
    )
    monkeypatch.setenv("DAGMESH_LAKE_DATA", str(tmp_path / "data") + "/")
    defs = domain_definitions("shop", [counts])
    with dg.instance_for_test() as instance:
        yield defs, instance, MeshWarehouse.from_settings(MeshSettings.from_env())


def _materialize(defs: dg.Definitions, instance, rows: int | None = None, tags=None):
    if rows is not None:
        ROUND["rows"] = rows
    return dg.materialize(
        [*defs.assets, *(defs.asset_checks or [])],
        resources=defs.resources,
        instance=instance,
        tags=tags or {},
        raise_on_error=False,
    )


def test_history_time_travel_and_rollback_through_dagster(on_lake):
    defs, instance, warehouse = on_lake
    assert warehouse.is_lakehouse
    runs, moments = [], []
    for rows in (10, 20, 30):
        result = _materialize(defs, instance, rows)
        assert result.success
        runs.append(result.run_id)
        moments.append(dt.datetime.now(dt.UTC))
        time.sleep(0.05)

    history = warehouse.history(TABLE)
    assert [e["row_count"] for e in history] == [10, 20, 30]
    assert [e["run_id"] for e in history] == runs
    snapshots = [e["snapshot"] for e in history]
    assert all(isinstance(s, int) for s in snapshots) and snapshots == sorted(set(snapshots))
    materialized = instance.get_latest_materialization_event(dg.AssetKey(list(TABLE)))
    assert materialized.asset_materialization.metadata["dagmesh/snapshot"].value == snapshots[-1]

    first = warehouse.read(TABLE, as_of=snapshots[0], reader=TRUSTED)
    assert sorted(first["n"]) == list(range(10))
    assert len(warehouse.read(TABLE, as_of=moments[1], reader=TRUSTED)) == 20
    assert len(warehouse.read(TABLE, reader=TRUSTED)) == 30

    rolled = _materialize(defs, instance, tags={ROLLBACK_TAG: str(snapshots[0])})
    assert rolled.success
    assert sorted(warehouse.read(TABLE, reader=TRUSTED)["n"]) == list(range(10))
    after = warehouse.history(TABLE)
    assert [e["row_count"] for e in after] == [10, 20, 30, 10]
    assert after[-1]["run_id"] == rolled.run_id and after[-1]["snapshot"] > snapshots[-1]
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(list(TABLE)), "contract")]
    )
    assert next(iter(check.values())).status.value == "SUCCEEDED"  # audited like any publish
    # nothing was deleted: the rolled-over version is still there
    assert len(warehouse.read(TABLE, as_of=snapshots[-1], reader=TRUSTED)) == 30


def test_a_rollback_to_a_snapshot_that_is_not_a_publication_publishes_nothing(on_lake):
    defs, instance, warehouse = on_lake
    assert _materialize(defs, instance, 5).success
    before = warehouse.history(TABLE)
    result = _materialize(defs, instance, tags={ROLLBACK_TAG: "999999"})
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    while failure.cause is not None:
        failure = failure.cause
    assert "is not one of its publications" in failure.message
    assert warehouse.history(TABLE) == before
    assert len(warehouse.read(TABLE, reader=TRUSTED)) == 5


def test_the_duckdb_file_keeps_history_and_says_what_needs_the_lakehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.delenv("DAGMESH_WAREHOUSE", raising=False)
    defs = domain_definitions("shop", [counts])
    with dg.instance_for_test() as instance:
        assert _materialize(defs, instance, 3).success
        warehouse = MeshWarehouse.from_settings(MeshSettings.from_env())
        history = warehouse.history(TABLE)
        assert [(e["row_count"], e["snapshot"]) for e in history] == [(3, None)]
        with pytest.raises(TimeTravelUnavailableError, match="needs the lakehouse backend"):
            warehouse.read(TABLE, as_of=1, reader=TRUSTED)
        result = _materialize(defs, instance, tags={ROLLBACK_TAG: "1"})
        assert not result.success
        assert len(warehouse.read(TABLE, reader=TRUSTED)) == 3
    with pytest.raises(DagmeshError):
        warehouse.read(TABLE, as_of="yesterday", reader=TRUSTED)  # type: ignore[arg-type]


class Monthly(pa.DataFrameModel):
    month: Series[pd.Timestamp] = pa.Field(description="First day of the month.")
    n: Series[int] = pa.Field(description="A count.")


MONTHS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")


@data_product(
    contract=Monthly,
    owners=["team:shop"],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=40)),
    partitions_def=MONTHS,
    partition_column="month",
)
def monthly(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """One row per month of the run's window, counting this round."""
    window = context.partition_time_window
    months = pd.date_range(window.start, window.end, freq="MS", inclusive="left").tz_localize(None)
    return pd.DataFrame({"month": months, "n": [ROUND["rows"]] * len(months)})


def test_a_partitioned_product_is_rolled_back_whole_through_dagster(on_lake):
    _, instance, warehouse = on_lake
    defs = domain_definitions("shop", [monthly])
    key = dg.AssetKey(["shop", "monthly"])
    everything = {
        "dagster/asset_partition_range_start": "2024-01-01",
        "dagster/asset_partition_range_end": "2024-03-01",
    }
    for rows in (1, 2):
        ROUND["rows"] = rows
        assert _materialize(defs, instance, tags=everything).success
    snapshots = [e["snapshot"] for e in warehouse.history(("shop", "monthly"))]
    assert len(snapshots) == 2
    assert warehouse.read(("shop", "monthly"), reader=TRUSTED)["n"].tolist() == [2, 2, 2]
    rolled = _materialize(defs, instance, tags={ROLLBACK_TAG: str(snapshots[0]), **everything})
    assert rolled.success
    assert warehouse.read(("shop", "monthly"), reader=TRUSTED)["n"].tolist() == [1, 1, 1]
    assert len(warehouse.history(("shop", "monthly"))) == 3
    assert instance.get_materialized_partitions(key) == {"2024-01-01", "2024-02-01", "2024-03-01"}
