"""`marketing/customer_order_distribution`: TPC-H Q13, how many customers placed how many orders."""

from dagmesh import Relation, data_product, query
from marketing.defs.customer_order_distribution.contract import CustomerOrderDistribution
from marketing.standards import ON_UPSTREAM_CHANGE, OWNERS, WEEKLY


@data_product(
    contract=CustomerOrderDistribution,
    owners=OWNERS,
    access="internal",
    version="1.0.1",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders"],
)
def customer_order_distribution(customers: Relation, orders: Relation) -> Relation:
    """TPC-H Q13 customer distribution: loyalty at a glance."""
    return query(
        """
        SELECT c_count, COUNT(*) AS custdist
        FROM (
            SELECT c_custkey, COUNT(o_orderkey) AS c_count
            FROM customers LEFT JOIN orders
              ON c_custkey = o_custkey AND o_comment NOT LIKE '%special%requests%'
            GROUP BY c_custkey
        )
        GROUP BY c_count ORDER BY custdist DESC, c_count DESC
        """,
        customers=customers,
        orders=orders,
    )
