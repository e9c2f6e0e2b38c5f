"""Contracts of the logistics products."""

from decimal import Decimal
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.typing import Series

# Exact types, as TPC-H defines them: money is DECIMAL(15,2). A SUM of discounted prices
# (price x (1 - discount), scale 4) is DECIMAL(38,4), as DuckDB types it: no overflow, no rounding.
Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Total4 = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 4)]

SHIP_MODES = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]


class Suppliers(pa.DataFrameModel):
    """Suppliers we buy parts from."""

    s_suppkey: Series[int] = pa.Field(unique=True, gt=0, description="Supplier id.")
    s_name: Series[str] = pa.Field(str_startswith="Supplier#", description="Supplier name.")
    s_nationkey: Series[int] = pa.Field(ge=0, le=24, description="Nation of the supplier.")
    s_acctbal: Series[Money] = pa.Field(description="Account balance (may be negative).")


class Parts(pa.DataFrameModel):
    """The part catalogue."""

    p_partkey: Series[int] = pa.Field(unique=True, gt=0, description="Part id.")
    p_name: Series[str] = pa.Field(description="Part name.")
    p_mfgr: Series[str] = pa.Field(str_matches=r"Manufacturer#[1-5]", description="Manufacturer.")
    p_brand: Series[str] = pa.Field(str_matches=r"Brand#[1-5][1-5]", description="Brand.")
    p_type: Series[str] = pa.Field(description="Part type, e.g. 'PROMO BRUSHED COPPER'.")
    p_size: Series[int] = pa.Field(in_range={"min_value": 1, "max_value": 50}, description="Size.")
    p_container: Series[str] = pa.Field(description="Container, e.g. 'SM BOX'.")
    p_retailprice: Series[Money] = pa.Field(gt=Decimal(0), description="Retail price.")


class PartSuppliers(pa.DataFrameModel):
    """Which supplier offers which part, at what cost and availability."""

    ps_partkey: Series[int] = pa.Field(gt=0)
    ps_suppkey: Series[int] = pa.Field(gt=0)
    ps_availqty: Series[int] = pa.Field(ge=0)
    ps_supplycost: Series[Money] = pa.Field(gt=Decimal(0))

    class Config:
        unique = ["ps_partkey", "ps_suppkey"]


class LocalSupplierVolume(pa.DataFrameModel):
    """TPC-H Q5: 1994 revenue in ASIA from sales where customer and supplier share a nation."""

    n_name: Series[str] = pa.Field(unique=True, description="Nation.")
    revenue: Series[Total4] = pa.Field(gt=Decimal(0), description="Discounted revenue.")


class ShippingModes(pa.DataFrameModel):
    """TPC-H Q12: late 1994 deliveries by MAIL and SHIP, split by order priority."""

    l_shipmode: Series[str] = pa.Field(unique=True, isin=SHIP_MODES)
    high_line_count: Series[int] = pa.Field(ge=0)
    low_line_count: Series[int] = pa.Field(ge=0)
