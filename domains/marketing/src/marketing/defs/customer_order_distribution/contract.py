"""The contract of `marketing/customer_order_distribution` (TPC-H Q13)."""

import pandera.pandas as pa
from pandera.typing import Series


class CustomerOrderDistribution(pa.DataFrameModel):
    """TPC-H Q13: how many customers placed how many orders (excluding special requests)."""

    c_count: Series[int] = pa.Field(unique=True, ge=0, description="Orders per customer.")
    custdist: Series[int] = pa.Field(gt=0, description="Customers with that many orders.")
