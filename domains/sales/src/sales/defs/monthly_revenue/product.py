"""`sales/monthly_revenue`: orders and revenue per month and priority, one partition per month."""

from datetime import timedelta

import dagster as dg

from dagmesh import SLO, Relation, data_product, query
from sales.defs.monthly_revenue.contract import MonthlyRevenue
from sales.standards import MONTHS, OWNERS


@data_product(
    contract=MonthlyRevenue,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=SLO(max_lag=timedelta(days=32)),
    inputs=["orders"],
    partitions_def=MONTHS,
    partition_column="order_month",
    schedule="0 3 1 * *",
)
def monthly_revenue(context: dg.AssetExecutionContext, orders: Relation) -> Relation:
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
