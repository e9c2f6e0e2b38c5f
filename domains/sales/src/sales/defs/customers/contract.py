"""The contract of `sales/customers`: customer master data, without contact details."""

import pandera.pandas as pa
from pandera.typing import Series

from sales.standards import Money

MARKET_SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]


class Customers(pa.DataFrameModel):
    """Customer master data as the sales system knows it."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0, description="Customer id.")
    c_name: Series[str] = pa.Field(str_startswith="Customer#", description="Customer name.")
    c_nationkey: Series[int] = pa.Field(ge=0, le=24, description="Nation of the customer.")
    c_acctbal: Series[Money] = pa.Field(description="Account balance (may be negative).")
    c_mktsegment: Series[str] = pa.Field(isin=MARKET_SEGMENTS, description="Market segment.")
