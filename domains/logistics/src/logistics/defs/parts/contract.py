"""The contract of `logistics/parts`: the part catalogue."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from logistics.standards import Money


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
