"""The sales domain's data products."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from dagmesh import SLO, TpchSource, data_product, query
from sales import contracts

OWNERS = ["team:sales"]
DAILY = SLO(max_lag=timedelta(hours=26), warn_after=timedelta(hours=24))
NIGHTLY = "0 2 * * *"
MONTHS = dg.MonthlyPartitionsDefinition(start_date="1992-01-01", end_date="1998-09-01")


@data_product(
    contract=contracts.Nations,
    owners=OWNERS,
    access="public",
    version="1.0.1",
    slo=DAILY,
    schedule=NIGHTLY,
)
def nations(tpch: TpchSource) -> pd.DataFrame:
    """Nations and their regions: the reference geography every domain reports by."""
    return query(
        "SELECT n_nationkey, n_name, n_regionkey, r_name FROM nation "
        "JOIN region ON n_regionkey = r_regionkey ORDER BY n_nationkey",
        nation=tpch.table("nation"),
        region=tpch.table("region"),
    )


@data_product(
    contract=contracts.Customers,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
)
def customers(tpch: TpchSource) -> pd.DataFrame:
    """Customers with their nation and market segment (no contact details: those stay in the CRM)."""
    return tpch.table("customer")[list(contracts.Customers.to_schema().columns)]


@data_product(
    contract=contracts.Orders,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
    expectations=contracts.orders_expectations,
)
def orders(tpch: TpchSource) -> pd.DataFrame:
    """Every customer order, as booked."""
    return tpch.table("orders")[list(contracts.Orders.to_schema().columns)]


@data_product(
    contract=contracts.LineItems,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
)
def line_items(tpch: TpchSource) -> pd.DataFrame:
    """Every order line: part, supplier, quantity, price, discount, tax and shipping."""
    return tpch.table("lineitem")[list(contracts.LineItems.to_schema().columns)]


@data_product(
    contract=contracts.PricingSummary,
    owners=OWNERS,
    access="internal",
    version="2.0.0",
    slo=DAILY,
    inputs=["line_items"],
    schedule=NIGHTLY,
)
def pricing_summary(line_items: pd.DataFrame) -> pd.DataFrame:
    """TPC-H Q1 pricing summary report: lines shipped up to 90 days before 1998-12-01."""
    return query(
        """
        SELECT l_returnflag, l_linestatus,
               SUM(l_quantity) AS sum_qty,
               SUM(l_extendedprice) AS sum_base_price,
               SUM(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               SUM(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
               AVG(l_quantity) AS avg_qty, AVG(l_extendedprice) AS avg_price,
               AVG(l_discount) AS avg_disc, COUNT(*) AS count_order
        FROM line_items
        WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL 90 DAY
        GROUP BY l_returnflag, l_linestatus
        ORDER BY l_returnflag, l_linestatus
        """,
        line_items=line_items,
    )


@data_product(
    contract=contracts.ShippingPriority,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    inputs=["customers", "orders", "line_items"],
    schedule=NIGHTLY,
)
def shipping_priority(
    customers: pd.DataFrame, orders: pd.DataFrame, line_items: pd.DataFrame
) -> pd.DataFrame:
    """TPC-H Q3 shipping priority: the most valuable orders not yet shipped, for the logistics desk."""
    return query(
        """
        SELECT l_orderkey, SUM(l_extendedprice * (1 - l_discount)) AS revenue,
               o_orderdate, o_shippriority
        FROM customers
        JOIN orders ON c_custkey = o_custkey
        JOIN line_items ON l_orderkey = o_orderkey
        WHERE c_mktsegment = 'BUILDING'
          AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
        GROUP BY l_orderkey, o_orderdate, o_shippriority
        ORDER BY revenue DESC, o_orderdate
        LIMIT 10
        """,
        customers=customers,
        orders=orders,
        line_items=line_items,
    )


@data_product(
    contract=contracts.MonthlyRevenue,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=SLO(max_lag=timedelta(days=32)),
    inputs=["orders"],
    partitions_def=MONTHS,
    partition_column="order_month",
    schedule="0 3 1 * *",
)
def monthly_revenue(context: dg.AssetExecutionContext, orders: pd.DataFrame) -> pd.DataFrame:
    """Orders and revenue per month and priority; one partition per month, so history is rewritten
    month by month, never all at once."""
    window = context.partition_time_window
    return query(
        """
        SELECT CAST(date_trunc('month', o_orderdate) AS DATE) AS order_month, o_orderpriority,
               COUNT(*) AS orders, SUM(o_totalprice) AS revenue
        FROM orders
        WHERE o_orderdate >= ? AND o_orderdate < ?
        GROUP BY ALL ORDER BY ALL
        """,
        [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)],
        orders=orders,
    )
