"""The contract of `sales/orders`, and the Great Expectations suite run on it after each write."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from sales.standards import ORDER_PRIORITIES, Date, Money

ORDER_STATUSES = ["F", "O", "P"]


class Orders(pa.DataFrameModel):
    """One row per customer order."""

    o_orderkey: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    o_custkey: Series[int] = pa.Field(gt=0, description="Ordering customer.")
    o_orderstatus: Series[str] = pa.Field(
        isin=ORDER_STATUSES, description="F(illed), O(pen), P(artial)."
    )
    o_totalprice: Series[Money] = pa.Field(
        gt=Decimal(0), description="Order total incl. tax and discount."
    )
    o_orderdate: Series[Date] = pa.Field(description="Day the order was placed.")
    o_orderpriority: Series[str] = pa.Field(isin=ORDER_PRIORITIES, description="Priority class.")
    o_shippriority: Series[int] = pa.Field(ge=0, description="Shipping priority.")
    o_comment: Series[str] = pa.Field(description="Free-text comment from the clerk.")


# The Great Expectations suite of sales/orders, run on the published table after each write: GX
# configurations (its JSON form), decided in SQL where SQL decides exactly as GX, without importing GX.
ORDERS_EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "o_orderkey"}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "o_orderkey"}},
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "o_totalprice", "min_value": 0, "max_value": 1e6},
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "o_orderstatus", "value_set": ORDER_STATUSES},
    },
    {
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": 1, "max_value": 10**9},
    },
]
