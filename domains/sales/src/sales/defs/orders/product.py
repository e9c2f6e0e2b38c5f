"""`sales/orders`: every customer order, as booked."""

from dagmesh import Relation, TpchSource, data_product
from sales.defs.orders.contract import ORDERS_EXPECTATIONS, Orders
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=Orders,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
    expectations=ORDERS_EXPECTATIONS,
)
def orders(tpch: TpchSource) -> Relation:
    """Every customer order, as booked."""
    return tpch.relation("orders").select(*Orders.to_schema().columns)
