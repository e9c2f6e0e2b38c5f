"""The whole mesh, end to end through Dagster, into a temporary DuckDB file; results checked against TPC-H.

Every domain in workspace.yaml materializes; the TPC-H-derived products must equal both the official answers
shipped with DuckDB's tpch extension and an independent query over the raw TPC-H tables, exactly: money is
DECIMAL and compared as `Decimal`, days are DATE and compared as `date`, with no float tolerance.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from dagster._core.instance.ref import InstanceRef

from dagmesh.binding.workspace import load_workspace, read_workspace
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.sources.tpch import official_answer, tpch_connection
from dagmesh.storage.warehouse import MeshWarehouse
from dagmesh.tools.run_instance import for_concurrent_runs
from dagmesh.tools.runner import plan, run_mesh
from tests.helpers.readers import TRUSTED

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = ROOT / "workspace.yaml"
SCALE = 0.01


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    """One real mesh run for the module: every location, on a fresh instance and warehouse."""
    home = tmp_path_factory.mktemp("mesh")
    saved = {k: os.environ.get(k) for k in ("DAGMESH_HOME", "DAGSTER_HOME", "DAGMESH_TPCH_SCALE")}
    os.environ["DAGMESH_HOME"] = str(home)
    os.environ["DAGMESH_TPCH_SCALE"] = str(SCALE)
    # Locations are `@dg.definitions`: built (and so read the settings) when the workspace loads.
    try:
        locations = load_workspace(WORKSPACE)
        # The mesh's own instance (its dagster.yaml: the engine-reusing event log), as `dagmesh run`
        # uses it, with the independent runs of each wave at the same time.
        dagster_home = MeshSettings.from_env().ensure_dagster_home()
        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))
        result = run_mesh(locations, for_concurrent_runs(instance), parallel=2)
        yield locations, result, MeshSettings.from_env(), instance
        instance.dispose()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _table(settings: MeshSettings, name: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(f"SELECT * FROM {name}").df()


def _typed_rows(settings: MeshSettings, name: str) -> tuple[dict[str, str], list[tuple]]:
    """A published table's DuckDB column types, and its rows as Python values (Decimal, date, int,
    float, str) exactly as stored."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        relation = con.sql(f"SELECT * FROM {name}")
        types = {c: str(t) for c, t in zip(relation.columns, relation.dtypes, strict=True)}
        return types, relation.fetchall()


def _scalar(settings: MeshSettings, sql: str) -> object:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql).fetchone()[0]


def _raw_tpch(sql: str) -> list[tuple]:
    """An independent query over the raw TPC-H tables dbgen makes, at the suite's scale."""
    with tpch_connection() as con:
        con.execute("CALL dbgen(sf = ?)", [SCALE])
        return con.sql(sql).fetchall()


def test_every_location_in_the_workspace_is_planned():
    names = [location.name for location in read_workspace(WORKSPACE)]
    assert {"sales", "logistics", "marketing"} <= set(names)


def test_every_product_is_published_with_a_passing_contract(mesh):
    locations, result, _, instance = mesh
    assert result.success, [(o.key.to_user_string(), o.error) for o in result.failed]
    planned = {key for group in plan(locations) for key in group.keys}
    assert set(result.outcomes) == planned and len(planned) >= 15
    for key, outcome in result.outcomes.items():
        assert outcome.contract == "passed", key
        assert outcome.rows is not None
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(key, "contract")]
        )[dg.AssetCheckKey(key, "contract")]
        assert check.status.value == "SUCCEEDED", key
        assert instance.get_latest_materialization_event(key) is not None


def test_cross_domain_products_ran_after_their_inputs(mesh):
    locations, _result, _, _instance = mesh
    groups = plan(locations)
    wave = {key: group.wave for group in groups for key in group.keys}
    assert (
        wave[dg.AssetKey(["logistics", "local_supplier_volume"])]
        > wave[dg.AssetKey(["sales", "orders"])]
    )
    assert (
        wave[dg.AssetKey(["marketing", "customer_segments"])]
        > wave[dg.AssetKey(["sales", "customers"])]
    )


def test_row_counts_match_the_raw_tpch_tables(mesh):
    _, result, _settings, _ = mesh
    with tpch_connection() as con:
        con.execute("CALL dbgen(sf = ?)", [SCALE])
        raw = {
            t: con.sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("orders", "lineitem", "customer")
        }
    rows = {o.key.to_user_string(): o.rows for o in result.outcomes.values()}
    assert rows["sales/orders"] == raw["orders"]
    assert rows["sales/line_items"] == raw["lineitem"]
    assert rows["sales/customers"] == raw["customer"]


TOTAL2, TOTAL4, TOTAL6 = "DECIMAL(38,2)", "DECIMAL(38,4)", "DECIMAL(38,6)"


@pytest.mark.parametrize(
    ("query_nr", "table", "types"),
    [
        (
            1,
            "sales.pricing_summary",
            ["VARCHAR", "VARCHAR", TOTAL2, TOTAL2, TOTAL4, TOTAL6, *["DOUBLE"] * 3, "BIGINT"],
        ),
        (3, "sales.shipping_priority", ["BIGINT", TOTAL4, "DATE", "BIGINT"]),
        (5, "logistics.local_supplier_volume", ["VARCHAR", TOTAL4]),
        (12, "logistics.shipping_modes", ["VARCHAR", "BIGINT", "BIGINT"]),
        (13, "marketing.customer_order_distribution", ["BIGINT", "BIGINT"]),
    ],
)
def test_tpch_products_equal_the_official_answers(mesh, query_nr, table, types):
    """Typed and exact: each answer field is parsed with the product's column type and must equal the
    published value (Decimal to Decimal, date to date); no tolerance, no rounding."""
    _, _, settings, _ = mesh
    ours_types, ours = _typed_rows(settings, table)
    header, expected = official_answer(query_nr, SCALE, types)
    assert list(ours_types) == header
    assert list(ours_types.values()) == types
    assert len(ours) == len(expected)
    assert sorted(ours) == sorted(expected)  # the warehouse keeps no row order: compare as sets
    for row in ours:  # and the values are the exact types, not merely equal to them
        assert [type(v) for v in row] == [type(v) for v in expected[0]]


def test_consumers_receive_exact_types(mesh):
    """What a consumer product gets as its input frame: money as Arrow decimals, days as Arrow dates."""
    _, _, settings, _ = mesh
    warehouse = MeshWarehouse(database=str(settings.warehouse_path))
    line_items = warehouse.read(("sales", "line_items"), reader=TRUSTED)
    assert line_items["l_extendedprice"].dtype == pd.ArrowDtype(pa.decimal128(15, 2))
    assert line_items["l_shipdate"].dtype == pd.ArrowDtype(pa.date32())
    assert line_items["l_orderkey"].dtype == "int64"
    summary = warehouse.read(("sales", "pricing_summary"), reader=TRUSTED)
    assert summary["sum_charge"].dtype == pd.ArrowDtype(pa.decimal128(38, 6))
    assert summary["avg_qty"].dtype == "float64"


def test_customer_segments_equal_an_independent_query(mesh):
    """Marketing's public product, computed in pandas, equals SQL straight over the raw TPC-H tables:
    counts, and revenue as an exact DECIMAL(38,2). The mean is the exact revenue as a double divided
    by the orders (SQL's AVG divides in long double, whose width varies by platform)."""
    _, _, settings, _ = mesh
    types, ours = _typed_rows(settings, "marketing.customer_segments")
    assert types["revenue"] == TOTAL2 and types["avg_order_value"] == "DOUBLE"
    expected = _raw_tpch(
        "SELECT c_mktsegment, COUNT(DISTINCT c_custkey), COUNT(DISTINCT o_custkey), "
        "COUNT(o_orderkey), SUM(o_totalprice) "
        "FROM customer LEFT JOIN orders ON c_custkey = o_custkey GROUP BY 1 ORDER BY 1"
    )
    expected = [(*row, float(row[4]) / row[3]) for row in expected]
    assert sorted(ours) == expected


def test_partitioned_product_covers_every_month_of_orders(mesh):
    _, _, settings, _ = mesh
    revenue = _table(settings, "sales.monthly_revenue")
    orders = _table(settings, "sales.orders")
    assert revenue["orders"].sum() == len(orders)
    total = _scalar(settings, "SELECT SUM(revenue) FROM sales.monthly_revenue")
    assert isinstance(total, Decimal)
    assert total == _scalar(settings, "SELECT SUM(o_totalprice) FROM sales.orders")
    assert revenue["order_month"].nunique() == orders["o_orderdate"].dt.to_period("M").nunique()
    assert (revenue["order_month"].dt.day == 1).all()


def test_publication_log_records_every_publish(mesh):
    _, result, settings, _ = mesh
    log = _table(settings, "_dagmesh.publications")
    assert set(log["product"]) == {k.to_user_string() for k in result.outcomes}


def test_yaml_declared_product_equals_an_independent_query(mesh):
    """logistics/part_demand is declared in YAML (a Dagster component); same answer as raw TPC-H,
    exactly: units DECIMAL(38,2) and revenue DECIMAL(38,4), as its YAML declares them."""
    _, _, settings, _ = mesh
    types, ours = _typed_rows(settings, "logistics.part_demand")
    assert list(types.values()) == ["VARCHAR", "VARCHAR", "BIGINT", TOTAL2, TOTAL4]
    expected = _raw_tpch(
        "SELECT p_brand, CASE WHEN p_size <= 15 THEN 'small' WHEN p_size <= 35 THEN 'medium' "
        "ELSE 'large' END AS size_class, COUNT(*) AS lines, SUM(l_quantity) AS units, "
        "SUM(l_extendedprice * (1 - l_discount)) AS revenue "
        "FROM lineitem JOIN part ON l_partkey = p_partkey GROUP BY ALL ORDER BY p_brand, size_class"
    )
    assert sorted(ours) == expected


def test_concurrent_runs_of_a_wave_are_real_runs_each_with_its_events(mesh):
    """`parallel=2`: every planned run is a Dagster run of its own on the mesh's instance, succeeded,
    with one materialization per product (and per partition of the monthly product) in the event log,
    which the engine-reusing event log (`MeshSqliteEventLogStorage`) wrote."""
    locations, result, _, instance = mesh
    assert type(instance.event_log_storage).__name__ == "MeshSqliteEventLogStorage"
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagmesh/run": "mesh"}))
    assert len(runs) == len(plan(locations))
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert {o.run_id for o in result.outcomes.values()} == {run.run_id for run in runs}
    monthly = dg.AssetKey(["sales", "monthly_revenue"])
    partitions = instance.get_materialized_partitions(monthly)
    assert len(partitions) == _scalar(
        MeshSettings.from_env(), "SELECT COUNT(DISTINCT order_month) FROM sales.monthly_revenue"
    )
