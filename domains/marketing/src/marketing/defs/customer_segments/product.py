"""`marketing/customer_segments`: customers, orders and revenue per market segment, from sales."""

from dagmesh import Relation, data_product, query
from marketing.defs.customer_segments.contract import CustomerSegments
from marketing.standards import ON_UPSTREAM_CHANGE, OWNERS, WEEKLY


@data_product(
    contract=CustomerSegments,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders"],
)
def customer_segments(customers: Relation, orders: Relation) -> Relation:
    """Customers, orders and revenue per market segment. Order totals are exact DECIMAL(15,2) and are
    summed exactly (SUM widens to DECIMAL(38,2)); a segment without orders has revenue 0.00 and no mean."""
    return query(
        """
        SELECT c_mktsegment,
               COUNT(DISTINCT c_custkey) AS customers,
               COUNT(DISTINCT o_custkey) AS ordering_customers,
               COUNT(o_orderkey) AS orders,
               COALESCE(SUM(o_totalprice), 0) AS revenue,
               -- the mean as a DOUBLE, as SQL's AVG of a DECIMAL is; NULL for a segment without orders
               CAST(SUM(o_totalprice) AS DOUBLE) / NULLIF(COUNT(o_orderkey), 0) AS avg_order_value
        FROM customers LEFT JOIN orders ON c_custkey = o_custkey
        GROUP BY c_mktsegment
        ORDER BY c_mktsegment
        """,
        customers=customers,
        orders=orders,
    )
