"""The logistics domain's data products; they react to sales' updates instead of a clock."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from dagmesh import SLO, TpchSource, data_product, query
from logistics import contracts

OWNERS = ["team:logistics"]
DAILY = SLO(max_lag=timedelta(hours=26))
ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager()


@data_product(
    contract=contracts.Suppliers,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule="0 1 * * *",
)
def suppliers(tpch: TpchSource) -> pd.DataFrame:
    """Suppliers with their nation and account balance."""
    return tpch.table("supplier")[list(contracts.Suppliers.to_schema().columns)]


@data_product(
    contract=contracts.Parts,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule="0 1 * * *",
)
def parts(tpch: TpchSource) -> pd.DataFrame:
    """The part catalogue with brand, type, size and retail price."""
    return tpch.table("part")[list(contracts.Parts.to_schema().columns)]


@data_product(
    contract=contracts.PartSuppliers,
    owners=OWNERS,
    access="internal",
    version="2.0.0",
    slo=DAILY,
    schedule="0 1 * * *",
)
def part_suppliers(tpch: TpchSource) -> pd.DataFrame:
    """Supply offers: cost and availability per part and supplier (negotiated prices: internal)."""
    return tpch.table("partsupp")[list(contracts.PartSuppliers.to_schema().columns)]


@data_product(
    contract=contracts.LocalSupplierVolume,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders", "sales/line_items", "sales/nations", "suppliers"],
)
def local_supplier_volume(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    line_items: pd.DataFrame,
    nations: pd.DataFrame,
    suppliers: pd.DataFrame,
) -> pd.DataFrame:
    """TPC-H Q5 local supplier volume: how much ASIA buys from suppliers in its own nations (1994)."""
    return query(
        """
        SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) AS revenue
        FROM customers
        JOIN orders ON c_custkey = o_custkey
        JOIN line_items ON l_orderkey = o_orderkey
        JOIN suppliers ON l_suppkey = s_suppkey AND c_nationkey = s_nationkey
        JOIN nations ON s_nationkey = n_nationkey
        WHERE r_name = 'ASIA'
          AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01'
        GROUP BY n_name
        ORDER BY revenue DESC
        """,
        customers=customers,
        orders=orders,
        line_items=line_items,
        nations=nations,
        suppliers=suppliers,
    )


@data_product(
    contract=contracts.ShippingModes,
    owners=OWNERS,
    access="internal",
    version="1.0.1",
    slo=DAILY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/orders", "sales/line_items"],
)
def shipping_modes(orders: pd.DataFrame, line_items: pd.DataFrame) -> pd.DataFrame:
    """TPC-H Q12 shipping modes and order priority: do urgent orders arrive late by MAIL or SHIP?"""
    return query(
        """
        SELECT l_shipmode,
               -- SUM of integers is HUGEINT in DuckDB: counts are published as BIGINT (int64)
               CAST(SUM(CASE WHEN o_orderpriority IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
                   AS BIGINT) AS high_line_count,
               CAST(SUM(CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
                   AS BIGINT) AS low_line_count
        FROM orders JOIN line_items ON o_orderkey = l_orderkey
        WHERE l_shipmode IN ('MAIL', 'SHIP')
          AND l_commitdate < l_receiptdate AND l_shipdate < l_commitdate
          AND l_receiptdate >= DATE '1994-01-01' AND l_receiptdate < DATE '1995-01-01'
        GROUP BY l_shipmode
        ORDER BY l_shipmode
        """,
        orders=orders,
        line_items=line_items,
    )
