"""The contract of `sales/monthly_revenue`: order revenue per month and priority."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from sales.standards import ORDER_PRIORITIES, Date, Total2


class MonthlyRevenue(pa.DataFrameModel):
    """Order revenue per month and order priority."""

    order_month: Series[Date] = pa.Field(description="First day of the month.")
    o_orderpriority: Series[str] = pa.Field(isin=ORDER_PRIORITIES, description="Priority class.")
    orders: Series[int] = pa.Field(gt=0, description="Orders placed in the month.")
    revenue: Series[Total2] = pa.Field(gt=Decimal(0), description="Sum of their order totals.")

    class Config:
        unique = ["order_month", "o_orderpriority"]
