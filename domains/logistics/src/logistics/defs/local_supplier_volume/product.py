"""`logistics/local_supplier_volume`: TPC-H Q5, reacting to sales' updates instead of a clock."""

from dagmesh import Relation, data_product, query
from logistics.defs.local_supplier_volume.contract import LocalSupplierVolume
from logistics.standards import DAILY, ON_UPSTREAM_CHANGE, OWNERS


@data_product(
    contract=LocalSupplierVolume,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders", "sales/line_items", "sales/nations", "suppliers"],
)
def local_supplier_volume(
    customers: Relation,
    orders: Relation,
    line_items: Relation,
    nations: Relation,
    suppliers: Relation,
) -> Relation:
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
