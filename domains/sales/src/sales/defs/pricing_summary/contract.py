"""The contract of `sales/pricing_summary` (TPC-H Q1)."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from sales.standards import Total2, Total4, Total6


class PricingSummary(pa.DataFrameModel):
    """TPC-H Q1: billed, shipped and returned business per return flag and line status."""

    l_returnflag: Series[str] = pa.Field(isin=["A", "N", "R"])
    l_linestatus: Series[str] = pa.Field(isin=["F", "O"])
    sum_qty: Series[Total2] = pa.Field(ge=Decimal(0), description="Units shipped.")
    sum_base_price: Series[Total2] = pa.Field(ge=Decimal(0), description="Extended prices.")
    sum_disc_price: Series[Total4] = pa.Field(ge=Decimal(0), description="Discounted prices.")
    sum_charge: Series[Total6] = pa.Field(ge=Decimal(0), description="Discounted prices plus tax.")
    avg_qty: Series[float] = pa.Field(ge=0, description="Mean quantity (DuckDB's AVG: DOUBLE).")
    avg_price: Series[float] = pa.Field(ge=0, description="Mean extended price.")
    avg_disc: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 0.1}, description="Mean discount."
    )
    count_order: Series[int] = pa.Field(gt=0, description="Lines.")

    class Config:
        unique = ["l_returnflag", "l_linestatus"]
