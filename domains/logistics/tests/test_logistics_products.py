"""The logistics location as Dagster loads it, materialized at TPC-H scale 0.01 into a temporary warehouse.

The sales products logistics reads are materialized first by the sales location, into the same warehouse;
then every logistics product (five in Python, `part_demand` in YAML) runs in one run of its own location.
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

PRODUCTS = {
    "suppliers",
    "parts",
    "part_suppliers",
    "local_supplier_volume",
    "shipping_modes",
    "part_demand",
}
FROM_SALES = {"customers", "orders", "line_items", "nations"}


@dataclass
class LogisticsRun:
    home: Path
    defs: dg.Definitions
    sales: dg.ExecuteInProcessResult
    result: dg.ExecuteInProcessResult
    warehouse: Path
    tpch: TpchSource

    def sql(self, sql: str) -> list[tuple]:
        return published(self.warehouse, sql)

    def raw(self, sql: str) -> list[tuple]:
        """`sql` over the TPC-H Parquet files the products read (each table a view named after it)."""
        return self.tpch.query_files(sql)


@pytest.fixture(scope="module")
def logistics(tmp_path_factory) -> Iterator[LogisticsRun]:
    home = tmp_path_factory.mktemp("logistics_mesh")
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance:
        env.setenv(HOME_ENV, str(home))
        env.setenv(TPCH_SCALE_ENV, "0.01")
        env.delenv(WAREHOUSE_ENV, raising=False)
        from logistics.definitions import defs as location
        from sales.definitions import defs as sales_location

        sales = materialize(sales_location(), [f"sales/{k}" for k in FROM_SALES], instance)
        defs = location()
        result = materialize(defs, [f"logistics/{k}" for k in PRODUCTS], instance)
        warehouse = MeshSettings.from_env().warehouse_path
        yield LogisticsRun(home, defs, sales, result, warehouse, defs.resources["tpch"])


def test_the_location_loads_python_and_yaml_products_and_binds_tpch_itself(logistics):
    graph = logistics.defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.materializable_asset_keys} == {
        f"logistics/{name}" for name in PRODUCTS
    }
    # What logistics reads from sales is another domain's: external here, never materialized.
    assert {k.to_user_string() for k in graph.external_asset_keys} == {
        f"sales/{name}" for name in FROM_SALES
    }
    assert logistics.tpch.scale == 0.01
    assert logistics.home.resolve() in Path(logistics.tpch.directory).resolve().parents


def test_every_product_publishes_and_passes_its_contract(logistics):
    assert logistics.sales.success
    result = logistics.result
    assert result.success, [e.message for e in result.get_step_failure_events()]
    published = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert published == PRODUCTS
    evaluations = result.get_asset_check_evaluations()
    assert {
        e.asset_check_key for e in evaluations
    } == logistics.defs.resolve_asset_graph().asset_check_keys
    assert len(evaluations) == len(PRODUCTS)
    assert [e.asset_check_key for e in evaluations if not e.passed] == []


@pytest.mark.parametrize(
    ("product", "table"),
    [("suppliers", "supplier"), ("parts", "part"), ("part_suppliers", "partsupp")],
)
def test_source_aligned_products_hold_every_row_of_their_tpch_table(logistics, product, table):
    (published,) = logistics.sql(f"SELECT COUNT(*) FROM logistics.{product}")[0]
    (source,) = logistics.raw(f"SELECT COUNT(*) FROM {table}")[0]
    assert published == source > 0


def test_yaml_part_demand_reads_every_sales_line_item(logistics):
    """`part_demand` joins sales' published line items to our parts: every line lands in one brand."""
    lines, units = logistics.sql("SELECT SUM(lines), SUM(units) FROM logistics.part_demand")[0]
    assert (lines, units) == logistics.sql(
        "SELECT COUNT(*), SUM(l_quantity) FROM sales.line_items"
    )[0]
    assert isinstance(units, Decimal)
    assert (lines,) == logistics.raw("SELECT COUNT(*) FROM lineitem")[0]


def test_local_supplier_volume_is_q5_over_the_sales_inputs(logistics):
    ours = logistics.sql("SELECT n_name, revenue FROM logistics.local_supplier_volume")
    expected = logistics.raw(
        """
        SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) AS revenue
        FROM customer JOIN orders ON c_custkey = o_custkey
        JOIN lineitem ON l_orderkey = o_orderkey
        JOIN supplier ON l_suppkey = s_suppkey AND c_nationkey = s_nationkey
        JOIN nation ON s_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey
        WHERE r_name = 'ASIA' AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01'
        GROUP BY n_name
        """
    )
    assert ours and sorted(ours) == sorted(expected)


def test_shipping_modes_count_only_late_mail_and_ship_lines(logistics):
    rows = logistics.sql(
        "SELECT l_shipmode, high_line_count + low_line_count FROM logistics.shipping_modes"
    )
    expected = logistics.raw(
        "SELECT l_shipmode, COUNT(*) FROM lineitem WHERE l_shipmode IN ('MAIL', 'SHIP') "
        "AND l_commitdate < l_receiptdate AND l_shipdate < l_commitdate "
        "AND l_receiptdate >= DATE '1994-01-01' AND l_receiptdate < DATE '1995-01-01' "
        "GROUP BY l_shipmode"
    )
    assert sorted(rows) == sorted(expected) and {mode for mode, _ in rows} == {"MAIL", "SHIP"}
