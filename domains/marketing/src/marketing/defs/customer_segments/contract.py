"""The contract of `marketing/customer_segments`: business per market segment."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from marketing.standards import MARKET_SEGMENTS, Total2


class CustomerSegments(pa.DataFrameModel):
    """Business per market segment: the numbers campaign planning starts from."""

    c_mktsegment: Series[str] = pa.Field(unique=True, isin=MARKET_SEGMENTS, description="Segment.")
    customers: Series[int] = pa.Field(gt=0, description="Customers in the segment.")
    ordering_customers: Series[int] = pa.Field(ge=0, description="Customers with an order.")
    orders: Series[int] = pa.Field(ge=0, description="Orders placed by the segment.")
    revenue: Series[Total2] = pa.Field(ge=Decimal(0), description="Sum of order totals.")
    avg_order_value: Series[float] = pa.Field(
        ge=0, nullable=True, description="Mean order total (empty without orders)."
    )
