"""The sales location as Dagster loads it, materialized at TPC-H scale 0.01 into a temporary warehouse.

One module-wide run: every product of the location, the partitioned one over all its months in a single
run, then facts about what was published, checked against the raw TPC-H files the products read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from dagmesh import TpchSource
from dagmesh.storage.settings import HOME_ENV, TPCH_SCALE_ENV, WAREHOUSE_ENV, MeshSettings
from dagmesh.tools.testing import materialize, published
from sales.standards import MONTHS

PRODUCTS = {
    "nations",
    "customers",
    "orders",
    "line_items",
    "pricing_summary",
    "shipping_priority",
    "monthly_revenue",
}


@dataclass
class SalesRun:
    home: Path
    defs: dg.Definitions
    results: list[dg.ExecuteInProcessResult]
    warehouse: Path
    tpch: TpchSource

    def sql(self, sql: str) -> list[tuple]:
        return published(self.warehouse, sql)

    def raw(self, sql: str) -> list[tuple]:
        """`sql` over the TPC-H Parquet files the products read (each table a view named after it)."""
        return self.tpch.query_files(sql)


@pytest.fixture(scope="module")
def sales(tmp_path_factory) -> Iterator[SalesRun]:
    home = tmp_path_factory.mktemp("sales_mesh")
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance:
        env.setenv(HOME_ENV, str(home))
        env.setenv(TPCH_SCALE_ENV, "0.01")
        env.delenv(WAREHOUSE_ENV, raising=False)
        from sales.definitions import defs as location

        defs = location()  # the settings are read when the location is built, not on import
        months = MONTHS.get_partition_keys()
        results = [
            materialize(defs, [f"sales/{k}" for k in PRODUCTS - {"monthly_revenue"}], instance),
            materialize(
                defs,
                ["sales/monthly_revenue"],
                instance,
                tags={
                    "dagster/asset_partition_range_start": months[0],
                    "dagster/asset_partition_range_end": months[-1],
                },
            ),
        ]
        yield SalesRun(
            home, defs, results, MeshSettings.from_env().warehouse_path, defs.resources["tpch"]
        )


def test_the_location_loads_every_product_from_its_defs_folder_and_binds_tpch_itself(sales):
    keys = {
        key.to_user_string() for key in sales.defs.resolve_asset_graph().materializable_asset_keys
    }
    assert keys == {f"sales/{name}" for name in PRODUCTS}
    # The source and the warehouse follow the settings: the test's home, at the test's scale.
    assert sales.tpch.scale == 0.01
    assert sales.home.resolve() in Path(sales.tpch.directory).resolve().parents
    assert sales.warehouse == sales.home.resolve() / "warehouse.duckdb"


def test_every_product_publishes_and_passes_every_declared_check(sales):
    for result in sales.results:
        assert result.success, [e.message for e in result.get_step_failure_events()]
    published = {
        e.asset_key.path[-1] for r in sales.results for e in r.get_asset_materialization_events()
    }
    assert published == PRODUCTS
    evaluations = [e for r in sales.results for e in r.get_asset_check_evaluations()]
    declared = sales.defs.resolve_asset_graph().asset_check_keys
    # Every contract check, and the Great Expectations suite of sales/orders, ran and passed.
    assert {e.asset_check_key for e in evaluations} == declared
    assert dg.AssetCheckKey(dg.AssetKey(["sales", "orders"]), "contract") in declared
    assert len(declared) == len(PRODUCTS) + 1
    assert [e.asset_check_key for e in evaluations if not e.passed] == []


@pytest.mark.parametrize(
    ("product", "table"),
    [
        ("nations", "nation"),
        ("customers", "customer"),
        ("orders", "orders"),
        ("line_items", "lineitem"),
    ],
)
def test_source_aligned_products_hold_every_row_of_their_tpch_table(sales, product, table):
    (published,) = sales.sql(f"SELECT COUNT(*) FROM sales.{product}")[0]
    (source,) = sales.raw(f"SELECT COUNT(*) FROM {table}")[0]
    assert published == source > 0


def test_monthly_revenue_partitions_add_up_to_every_order_exactly(sales):
    revenue, orders, months = sales.sql(
        "SELECT SUM(revenue), SUM(orders), COUNT(DISTINCT order_month) FROM sales.monthly_revenue"
    )[0]
    expected = sales.raw(
        "SELECT SUM(o_totalprice), COUNT(*), COUNT(DISTINCT date_trunc('month', o_orderdate)) "
        "FROM orders"
    )[0]
    assert isinstance(revenue, Decimal)  # exact money: no float rounding on the way
    assert (revenue, orders, months) == expected


def test_pricing_summary_counts_every_line_shipped_by_the_q1_cutoff(sales):
    rows = sales.sql("SELECT l_returnflag, l_linestatus, count_order FROM sales.pricing_summary")
    assert {(flag, status) for flag, status, _ in rows} == {
        ("A", "F"),
        ("N", "F"),
        ("N", "O"),
        ("R", "F"),
    }
    (lines,) = sales.raw("SELECT COUNT(*) FROM lineitem WHERE l_shipdate <= DATE '1998-09-02'")[0]
    assert sum(count for _, _, count in rows) == lines


def test_shipping_priority_lists_the_ten_best_open_building_orders(sales):
    rows = sales.sql(
        "SELECT l_orderkey, revenue FROM sales.shipping_priority ORDER BY revenue DESC"
    )
    segments = sales.sql(
        "SELECT DISTINCT c_mktsegment FROM sales.shipping_priority "
        "JOIN sales.orders ON l_orderkey = o_orderkey JOIN sales.customers ON o_custkey = c_custkey"
    )
    assert len(rows) == 10 and segments == [("BUILDING",)]
