"""The contract of `marketing/revenue_outlook`: next month's revenue, as campaign planning expects it."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from marketing.standards import ORDER_PRIORITIES, Date, Total2


class RevenueOutlook(pa.DataFrameModel):
    """Per order priority: its monthly history in brief, and the revenue to expect next month."""

    o_orderpriority: Series[str] = pa.Field(
        unique=True, isin=ORDER_PRIORITIES, description="Priority class."
    )
    months: Series[int] = pa.Field(gt=0, description="Months of history the outlook is built on.")
    last_month: Series[Date] = pa.Field(description="The latest month with orders.")
    last_revenue: Series[Total2] = pa.Field(
        ge=Decimal(0), description="Revenue of the latest month, exactly."
    )
    outlook: Series[float] = pa.Field(
        ge=0,
        description="Exponentially smoothed monthly revenue (alpha 0.3): next month's expectation.",
    )
