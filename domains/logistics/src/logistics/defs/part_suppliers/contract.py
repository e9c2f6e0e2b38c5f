"""The contract of `logistics/part_suppliers`: supply offers per part and supplier."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from logistics.standards import Money


class PartSuppliers(pa.DataFrameModel):
    """Which supplier offers which part, at what cost and availability."""

    ps_partkey: Series[int] = pa.Field(gt=0)
    ps_suppkey: Series[int] = pa.Field(gt=0)
    ps_availqty: Series[int] = pa.Field(ge=0)
    ps_supplycost: Series[Money] = pa.Field(gt=Decimal(0))

    class Config:
        unique = ["ps_partkey", "ps_suppkey"]
