"""`sales/line_items`: every order line, as booked and shipped."""

from dagmesh import Relation, TpchSource, data_product
from sales.defs.line_items.contract import LineItems
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=LineItems,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
)
def line_items(tpch: TpchSource) -> Relation:
    """Every order line: part, supplier, quantity, price, discount, tax and shipping."""
    return tpch.relation("lineitem").select(*LineItems.to_schema().columns)
