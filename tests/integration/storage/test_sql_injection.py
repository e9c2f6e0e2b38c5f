"""Every SQL the platform builds quotes identifiers and passes values as parameters: injection attempts
through column names, check values and partition windows do nothing but store the text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.declare.contract import read_contract
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from tests.helpers.readers import TRUSTED
from tests.helpers.sql_injection import EVIL, Evil


@pytest.fixture
def warehouse(tmp_path) -> MeshWarehouse:
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA sentinel; CREATE TABLE sentinel.keep AS SELECT 42 AS answer")
    return MeshWarehouse(database=str(database))


def _sentinel_intact(warehouse: MeshWarehouse) -> bool:
    with warehouse.get_connection() as con:
        return con.execute("SELECT answer FROM sentinel.keep").fetchone() == (42,)


def test_injection_through_column_names_and_check_values(warehouse):
    target = PublishTarget("evil/t", ("evil", "t"), read_contract(Evil), ("team:evil",))
    bad = pd.DataFrame({EVIL: ["ok", "' OR 1=1 --x", None]})
    with pytest.raises(Exception, match="evil/t"):
        warehouse.publish(target, bad)  # 'ok' fails str_startswith: audited, not executed
    assert _sentinel_intact(warehouse)
    good = pd.DataFrame({EVIL: ["'); DROP TABLE sentinel.keep; --", None]})
    warehouse.publish(PublishTarget("evil/t", ("evil", "t"), None, ()), good)
    assert (
        warehouse.read(("evil", "t"), reader=TRUSTED)[EVIL].tolist()[0]
        == "'); DROP TABLE sentinel.keep; --"
    )
    assert _sentinel_intact(warehouse)


def test_injection_through_schema_and_table_names(warehouse):
    table = ('x"; DROP TABLE sentinel.keep; --', "t")
    warehouse.publish(PublishTarget("weird", table, None, ()), pd.DataFrame({"a": [1]}))
    assert warehouse.read(table, reader=TRUSTED)["a"].tolist() == [1]
    assert _sentinel_intact(warehouse)


class Daily(pa.DataFrameModel):
    day: Series[pd.Timestamp] = pa.Field(description="Day.")
    n: Series[int] = pa.Field(description="Count.")


@data_product(
    contract=Daily,
    owners=["team:p"],
    access="internal",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=2)),
    partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05"),
    partition_column="day",
)
def daily(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """One row per day."""
    return pd.DataFrame({"day": [pd.Timestamp(context.partition_key)], "n": [1]})


def test_partition_windows_are_parameters(tmp_path, warehouse):
    settings = MeshSettings(home=tmp_path, warehouse_path=Path(warehouse.database), tpch_scale=0.01)
    defs = domain_definitions("p", [daily], settings=settings)
    with dg.instance_for_test() as instance:
        for key in ("2024-01-01", "2024-01-02", "2024-01-02"):
            assert dg.materialize(
                defs.assets, resources=defs.resources, instance=instance, partition_key=key
            ).success
    assert warehouse.read(("p", "daily"), reader=TRUSTED)["n"].tolist() == [1, 1]
    assert _sentinel_intact(warehouse)
