"""`marketing/customer_segments`: customers, orders and revenue per market segment, from sales."""

import pandas as pd
import pyarrow

from dagmesh import data_product
from marketing.defs.customer_segments.contract import CustomerSegments
from marketing.standards import ON_UPSTREAM_CHANGE, OWNERS, WEEKLY

REVENUE = pd.ArrowDtype(pyarrow.decimal128(38, 2))


@data_product(
    contract=CustomerSegments,
    owners=OWNERS,
    access="public",
    version="2.0.0",
    slo=WEEKLY,
    automation_condition=ON_UPSTREAM_CHANGE,
    inputs=["sales/customers", "sales/orders"],
)
def customer_segments(customers: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Customers, orders and revenue per market segment, computed in plain pandas: order totals arrive
    as exact DECIMAL(15,2) (Arrow-backed) and are summed exactly, never through floats."""
    booked = customers[["c_custkey", "c_mktsegment"]].merge(
        orders[["o_orderkey", "o_custkey", "o_totalprice"]],
        how="left",
        left_on="c_custkey",
        right_on="o_custkey",
    )
    # Widen before summing, as SQL's SUM does (DECIMAL(38,2)): a segment's total cannot overflow.
    booked["o_totalprice"] = booked["o_totalprice"].astype(REVENUE)
    segments = (
        booked.groupby("c_mktsegment", sort=True)
        .agg(
            customers=("c_custkey", "nunique"),
            ordering_customers=("o_custkey", "nunique"),
            orders=("o_orderkey", "count"),
            revenue=("o_totalprice", "sum"),  # a segment without orders sums to 0.00
        )
        .reset_index()
    )
    # The mean as a float (as SQL's AVG of a DECIMAL is a DOUBLE); NaN for a segment without orders.
    segments["avg_order_value"] = segments["revenue"].astype("float64") / segments["orders"]
    return segments
