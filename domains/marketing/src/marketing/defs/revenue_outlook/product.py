"""`marketing/revenue_outlook`: next month's revenue per order priority, by exponential smoothing."""

import pandas as pd

from dagmesh import data_product
from marketing.defs.revenue_outlook.contract import RevenueOutlook
from marketing.standards import ON_UPSTREAM_CHANGE, OWNERS, WEEKLY

# Weight of the latest month; the rest is the previous outlook (Brown's simple exponential smoothing).
SMOOTHING = 0.3


@data_product(
    contract=RevenueOutlook,
    owners=OWNERS,
    access="public",
    version="1.0.0",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/monthly_revenue"],
)
def revenue_outlook(monthly_revenue: pd.DataFrame) -> pd.DataFrame:
    """Next month's revenue per order priority: each month's revenue smoothed exponentially over the
    whole history (a recurrence, which pandas' `ewm` computes and SQL does not say nicely). A pandas
    product: its input is the small monthly aggregate that sales computes in the warehouse."""
    history = monthly_revenue.sort_values(["o_orderpriority", "order_month"], ignore_index=True)
    by_priority = history.groupby("o_orderpriority", sort=True)
    latest = by_priority.tail(1).reset_index(drop=True)  # in priority order, as `history` is
    smoothed = by_priority["revenue"].apply(
        lambda revenue: revenue.astype("float64").ewm(alpha=SMOOTHING, adjust=False).mean().iloc[-1]
    )
    return pd.DataFrame(
        {
            "o_orderpriority": latest["o_orderpriority"].astype(object),
            "months": by_priority.size().to_numpy(dtype="int64"),
            "last_month": latest["order_month"],  # DATE and DECIMAL(38,2) as sales published them
            "last_revenue": latest["revenue"],
            "outlook": smoothed.to_numpy(dtype="float64"),
        }
    )
