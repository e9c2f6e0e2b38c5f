"""Contracts of the marketing products."""

import pandera.pandas as pa
from pandera.typing import Series

MARKET_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]


class CustomerSegments(pa.DataFrameModel):
    """Business per market segment: the numbers campaign planning starts from."""

    c_mktsegment: Series[str] = pa.Field(unique=True, isin=MARKET_SEGMENTS, description="Segment.")
    customers: Series[int] = pa.Field(gt=0, description="Customers in the segment.")
    ordering_customers: Series[int] = pa.Field(ge=0, description="Customers with an order.")
    orders: Series[int] = pa.Field(ge=0, description="Orders placed by the segment.")
    revenue: Series[float] = pa.Field(ge=0, description="Sum of order totals.")
    avg_order_value: Series[float] = pa.Field(
        ge=0, nullable=True, description="Mean order total (empty without orders)."
    )


class CustomerOrderDistribution(pa.DataFrameModel):
    """TPC-H Q13: how many customers placed how many orders (excluding special requests)."""

    c_count: Series[int] = pa.Field(unique=True, ge=0, description="Orders per customer.")
    custdist: Series[int] = pa.Field(gt=0, description="Customers with that many orders.")


class CampaignAudience(pa.DataFrameModel):
    """Customers to target: positive balance, in the segment with the highest revenue."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0)
    c_mktsegment: Series[str] = pa.Field(isin=MARKET_SEGMENTS)
    c_acctbal: Series[float] = pa.Field(gt=0)
