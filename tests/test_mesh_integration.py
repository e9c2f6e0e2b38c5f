"""The whole mesh, end to end through Dagster, into a temporary DuckDB file; results checked against TPC-H.

Every domain in workspace.yaml materializes; the TPC-H-derived products must equal both the official answers
shipped with DuckDB's tpch extension and an independent query over the raw TPC-H tables.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagmesh.runner import plan, run_mesh
from dagmesh.settings import MeshSettings
from dagmesh.sources.tpch import tpch_connection
from dagmesh.workspace import load_workspace, read_workspace

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "workspace.yaml"
SCALE = 0.01


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    """One real mesh run for the module: every location, on a fresh instance and warehouse."""
    home = tmp_path_factory.mktemp("mesh")
    saved = {k: os.environ.get(k) for k in ("DAGMESH_HOME", "DAGSTER_HOME", "DAGMESH_TPCH_SCALE")}
    os.environ["DAGMESH_HOME"] = str(home)
    os.environ["DAGMESH_TPCH_SCALE"] = str(SCALE)
    stale = [m for m in sys.modules if m.split(".")[0] in ("sales", "logistics", "marketing")]
    for module in [*stale, "dagmesh.governance.definitions"]:
        sys.modules.pop(
            module, None
        )  # definitions read the settings at import: re-import under this home
    try:
        locations = load_workspace(WORKSPACE)
        (home / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            result = run_mesh(locations, instance)
            yield locations, result, MeshSettings.from_env(), instance
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _table(settings: MeshSettings, name: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(f"SELECT * FROM {name}").df()


def _official_answer(query_nr: int) -> pd.DataFrame:
    with tpch_connection() as con:
        text = con.execute(
            "SELECT answer FROM tpch_answers() WHERE query_nr = ? AND scale_factor = ?",
            [query_nr, SCALE],
        ).fetchone()[0]
    return pd.read_csv(io.StringIO(text), sep="|")


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


@pytest.mark.parametrize(
    ("query_nr", "table", "sort"),
    [
        (1, "sales.pricing_summary", ["l_returnflag", "l_linestatus"]),
        (3, "sales.shipping_priority", ["l_orderkey"]),
        (5, "logistics.local_supplier_volume", ["n_name"]),
        (12, "logistics.shipping_modes", ["l_shipmode"]),
        (13, "marketing.customer_order_distribution", ["c_count"]),
    ],
)
def test_tpch_products_equal_the_official_answers(mesh, query_nr, table, sort):
    _, _, settings, _ = mesh
    ours = _table(settings, table).sort_values(sort).reset_index(drop=True)
    expected = _official_answer(query_nr).sort_values(sort).reset_index(drop=True)
    assert list(ours.columns) == list(expected.columns)
    for column in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[column]):
            assert ours[column].to_numpy() == pytest.approx(
                expected[column].to_numpy(), rel=1e-9
            ), column
        elif column.endswith("date"):
            assert list(ours[column].dt.strftime("%Y-%m-%d")) == list(expected[column]), column
        else:
            assert list(ours[column].astype(str)) == list(expected[column].astype(str)), column


def test_customer_segments_equal_an_independent_query(mesh):
    """Marketing's public product, recomputed straight from the raw TPC-H tables in the test."""
    _, _, settings, _ = mesh
    ours = _table(settings, "marketing.customer_segments").set_index("c_mktsegment").sort_index()
    with tpch_connection() as con:
        con.execute("CALL dbgen(sf = ?)", [SCALE])
        expected = (
            con.sql(
                "SELECT c_mktsegment, COUNT(DISTINCT c_custkey) AS customers, "
                "COUNT(o_orderkey) AS orders, SUM(o_totalprice)::DOUBLE AS revenue "
                "FROM customer LEFT JOIN orders ON c_custkey = o_custkey GROUP BY 1"
            )
            .df()
            .set_index("c_mktsegment")
            .sort_index()
        )
    assert list(ours.index) == list(expected.index)
    assert list(ours["customers"]) == list(expected["customers"])
    assert list(ours["orders"]) == list(expected["orders"])
    assert ours["revenue"].to_numpy() == pytest.approx(expected["revenue"].to_numpy(), rel=1e-9)


def test_partitioned_product_covers_every_month_of_orders(mesh):
    _, _, settings, _ = mesh
    revenue = _table(settings, "sales.monthly_revenue")
    orders = _table(settings, "sales.orders")
    assert revenue["orders"].sum() == len(orders)
    assert revenue["revenue"].sum() == pytest.approx(orders["o_totalprice"].sum(), rel=1e-9)
    assert revenue["order_month"].nunique() == orders["o_orderdate"].dt.to_period("M").nunique()


def test_publication_log_records_every_publish(mesh):
    _, result, settings, _ = mesh
    log = _table(settings, "_dagmesh.publications")
    assert set(log["product"]) == {k.to_user_string() for k in result.outcomes}


def test_yaml_declared_product_equals_an_independent_query(mesh):
    """logistics/part_demand is declared in YAML (a Dagster component); same answer as raw TPC-H."""
    _, _, settings, _ = mesh
    ours = _table(settings, "logistics.part_demand").sort_values(["p_brand", "size_class"])
    with tpch_connection() as con:
        con.execute("CALL dbgen(sf = ?)", [SCALE])
        expected = con.sql(
            "SELECT p_brand, CASE WHEN p_size <= 15 THEN 'small' WHEN p_size <= 35 THEN 'medium' "
            "ELSE 'large' END AS size_class, COUNT(*) AS lines, SUM(l_quantity)::DOUBLE AS units, "
            "SUM(l_extendedprice * (1 - l_discount))::DOUBLE AS revenue "
            "FROM lineitem JOIN part ON l_partkey = p_partkey GROUP BY ALL ORDER BY p_brand, size_class"
        ).df()
    assert list(ours["p_brand"]) == list(expected["p_brand"])
    assert list(ours["lines"]) == list(expected["lines"])
    assert ours["revenue"].to_numpy() == pytest.approx(expected["revenue"].to_numpy(), rel=1e-9)
