"""The marketing location as Dagster loads it, materialized at TPC-H scale 0.01 into a temporary warehouse.

Marketing reads only sales' public products: the sales location materializes them first into the same
warehouse, then every marketing product runs in one run of its own location.
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
from marketing.defs.revenue_outlook.product import SMOOTHING
from sales.standards import MONTHS

PRODUCTS = {
    "customer_segments",
    "customer_order_distribution",
    "campaign_audience",
    "revenue_outlook",
}
FROM_SALES = {"customers", "orders", "monthly_revenue"}


@dataclass
class MarketingRun:
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
def marketing(tmp_path_factory) -> Iterator[MarketingRun]:
    home = tmp_path_factory.mktemp("marketing_mesh")
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance:
        env.setenv(HOME_ENV, str(home))
        env.setenv(TPCH_SCALE_ENV, "0.01")
        env.delenv(WAREHOUSE_ENV, raising=False)
        from marketing.definitions import defs as location
        from sales.definitions import defs as sales_location

        sales_defs = sales_location()
        unpartitioned = FROM_SALES - {"monthly_revenue"}
        sales = materialize(sales_defs, [f"sales/{k}" for k in unpartitioned], instance)
        months = MONTHS.get_partition_keys()
        materialize(
            sales_defs,
            ["sales/monthly_revenue"],
            instance,
            tags={
                "dagster/asset_partition_range_start": months[0],
                "dagster/asset_partition_range_end": months[-1],
            },
        )
        defs = location()
        result = materialize(defs, [f"marketing/{k}" for k in PRODUCTS], instance)
        warehouse = MeshSettings.from_env().warehouse_path
        yield MarketingRun(defs, sales, result, warehouse, sales_defs.resources["tpch"])


def test_the_location_loads_every_product_and_reads_no_source_system(marketing):
    graph = marketing.defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.materializable_asset_keys} == {
        f"marketing/{name}" for name in PRODUCTS
    }
    assert {k.to_user_string() for k in graph.external_asset_keys} == {
        f"sales/{name}" for name in FROM_SALES
    }
    assert "tpch" not in (marketing.defs.resources or {})  # only sales' products, never TPC-H


def test_every_product_publishes_and_passes_its_contract(marketing):
    assert marketing.sales.success
    result = marketing.result
    assert result.success, [e.message for e in result.get_step_failure_events()]
    published = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert published == PRODUCTS
    evaluations = result.get_asset_check_evaluations()
    declared = marketing.defs.resolve_asset_graph().asset_check_keys
    assert {e.asset_check_key for e in evaluations} == declared
    assert len(evaluations) == len(PRODUCTS)
    assert [e.asset_check_key for e in evaluations if not e.passed] == []


def test_customer_segments_account_for_every_customer_order_and_cent(marketing):
    customers, orders, revenue = marketing.sql(
        "SELECT SUM(customers), SUM(orders), SUM(revenue) FROM marketing.customer_segments"
    )[0]
    expected = marketing.raw(
        "SELECT (SELECT COUNT(*) FROM customer), COUNT(*), SUM(o_totalprice) FROM orders"
    )[0]
    assert isinstance(revenue, Decimal)  # summed exactly, never through floats
    assert (customers, orders, revenue) == expected


def test_customer_order_distribution_places_every_customer_once(marketing):
    (customers,) = marketing.sql("SELECT SUM(custdist) FROM marketing.customer_order_distribution")[
        0
    ]
    assert (customers,) == marketing.raw("SELECT COUNT(*) FROM customer")[0]


def test_campaign_audience_is_every_solvent_customer_of_the_top_revenue_segment(marketing):
    (top,) = marketing.sql(
        "SELECT c_mktsegment FROM marketing.customer_segments ORDER BY revenue DESC LIMIT 1"
    )[0]
    audience = marketing.sql("SELECT c_custkey FROM marketing.campaign_audience ORDER BY c_custkey")
    expected = marketing.raw(
        f"SELECT c_custkey FROM customer WHERE c_acctbal > 0 AND c_mktsegment = '{top}' "
        "ORDER BY c_custkey"
    )
    assert audience and audience == expected


def test_the_revenue_outlook_is_the_smoothing_recurrence_over_sales_monthly_revenue(marketing):
    """The pandas product, checked against the recurrence written out by hand over what sales
    published: outlook = a * revenue + (1 - a) * previous outlook, month by month."""
    history = marketing.sql(
        "SELECT o_orderpriority, order_month, revenue FROM sales.monthly_revenue "
        "ORDER BY o_orderpriority, order_month"
    )
    expected = {}
    for priority, month, revenue in history:
        months, _, _, outlook = expected.get(priority, (0, None, None, None))
        value = float(revenue)
        outlook = value if outlook is None else SMOOTHING * value + (1 - SMOOTHING) * outlook
        expected[priority] = (months + 1, month, revenue, outlook)
    rows = marketing.sql(
        "SELECT o_orderpriority, months, last_month, last_revenue, outlook "
        "FROM marketing.revenue_outlook ORDER BY o_orderpriority"
    )
    assert [r[0] for r in rows] == sorted(expected) and len(rows) == 5
    for priority, months, last_month, last_revenue, outlook in rows:
        want = expected[priority]
        assert (months, last_month, last_revenue) == want[:3]
        assert isinstance(last_revenue, Decimal)  # exact, as sales published it
        assert abs(outlook - want[3]) <= 1e-9 * want[3]
