"""`logistics/shipping_modes`: TPC-H Q12, reacting to sales' updates instead of a clock."""

from dagmesh import Relation, data_product, query
from logistics.defs.shipping_modes.contract import ShippingModes
from logistics.standards import DAILY, ON_UPSTREAM_CHANGE, OWNERS


@data_product(
    contract=ShippingModes,
    owners=OWNERS,
    access="internal",
    version="1.0.1",
    slo=DAILY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/orders", "sales/line_items"],
)
def shipping_modes(orders: Relation, line_items: Relation) -> Relation:
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
