"""Contracts of the marketing products."""

from decimal import Decimal
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.typing import Series

# Exact types, as sales publishes them: money is DECIMAL(15,2), a sum of it DECIMAL(38,2).
Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Total2 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 2)]

MARKET_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]


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


class CustomerOrderDistribution(pa.DataFrameModel):
    """TPC-H Q13: how many customers placed how many orders (excluding special requests)."""

    c_count: Series[int] = pa.Field(unique=True, ge=0, description="Orders per customer.")
    custdist: Series[int] = pa.Field(gt=0, description="Customers with that many orders.")


class CampaignAudience(pa.DataFrameModel):
    """Customers to target: positive balance, in the segment with the highest revenue."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0)
    c_mktsegment: Series[str] = pa.Field(isin=MARKET_SEGMENTS)
    c_acctbal: Series[Money] = pa.Field(gt=Decimal(0))
