"""The contract of `sales/line_items`: what was sold, at what price, and how it shipped."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from sales.standards import Date, Money


class LineItems(pa.DataFrameModel):
    """One row per order line: what was sold, at what price, and how it shipped."""

    l_orderkey: Series[int] = pa.Field(gt=0, description="Order id.")
    l_partkey: Series[int] = pa.Field(gt=0, description="Part sold.")
    l_suppkey: Series[int] = pa.Field(gt=0, description="Supplier shipping the part.")
    l_linenumber: Series[int] = pa.Field(
        in_range={"min_value": 1, "max_value": 7}, description="Line number within the order."
    )
    l_quantity: Series[Money] = pa.Field(
        in_range={"min_value": Decimal(1), "max_value": Decimal(50)}, description="Units sold."
    )
    l_extendedprice: Series[Money] = pa.Field(gt=Decimal(0), description="quantity x part price.")
    l_discount: Series[Money] = pa.Field(
        in_range={"min_value": Decimal(0), "max_value": Decimal("0.10")},
        description="Discount as a fraction.",
    )
    l_tax: Series[Money] = pa.Field(
        in_range={"min_value": Decimal(0), "max_value": Decimal("0.08")},
        description="Tax as a fraction.",
    )
    l_returnflag: Series[str] = pa.Field(
        isin=["A", "N", "R"], description="R(eturned), A(ccepted), N(one)."
    )
    l_linestatus: Series[str] = pa.Field(isin=["F", "O"], description="F(illed) or O(pen).")
    l_shipdate: Series[Date] = pa.Field(description="Day the line shipped.")
    l_commitdate: Series[Date] = pa.Field(description="Day delivery was promised.")
    l_receiptdate: Series[Date] = pa.Field(description="Day the customer received it.")
    l_shipmode: Series[str] = pa.Field(
        isin=["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"],
        description="Shipping mode.",
    )

    class Config:
        unique = ["l_orderkey", "l_linenumber"]
