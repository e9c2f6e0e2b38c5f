"""`sales/orders`: every customer order, as booked."""

import pandas as pd

from dagmesh import TpchSource, data_product
from sales.defs.orders.contract import Orders, orders_expectations
from sales.standards import DAILY, NIGHTLY, OWNERS


@data_product(
    contract=Orders,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=DAILY,
    schedule=NIGHTLY,
    expectations=orders_expectations,
)
def orders(tpch: TpchSource) -> pd.DataFrame:
    """Every customer order, as booked."""
    return tpch.table("orders")[list(Orders.to_schema().columns)]
