"""The contract of `sales/shipping_priority` (TPC-H Q3)."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from sales.standards import Date, Total4


class ShippingPriority(pa.DataFrameModel):
    """TPC-H Q3: the ten unshipped orders of highest revenue in the BUILDING segment on 1995-03-15."""

    l_orderkey: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    revenue: Series[Total4] = pa.Field(
        gt=Decimal(0), description="Discounted revenue of the open lines."
    )
    o_orderdate: Series[Date] = pa.Field(description="Day the order was placed.")
    o_shippriority: Series[int] = pa.Field(ge=0, description="Shipping priority.")
