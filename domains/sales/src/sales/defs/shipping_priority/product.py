"""`sales/shipping_priority`: TPC-H Q3, the most valuable unshipped orders, for the logistics desk."""

from dagmesh import Relation, data_product, query
from sales.defs.shipping_priority.contract import ShippingPriority
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=ShippingPriority,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    inputs=["customers", "orders", "line_items"],
    schedule=NIGHTLY,
)
def shipping_priority(customers: Relation, orders: Relation, line_items: Relation) -> Relation:
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
