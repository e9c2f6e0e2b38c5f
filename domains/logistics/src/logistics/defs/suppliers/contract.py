"""The contract of `logistics/suppliers`: the suppliers we buy parts from."""

import pandera.pandas as pa
from pandera.typing import Series

from logistics.standards import Money


class Suppliers(pa.DataFrameModel):
    """Suppliers we buy parts from."""

    s_suppkey: Series[int] = pa.Field(unique=True, gt=0, description="Supplier id.")
    s_name: Series[str] = pa.Field(str_startswith="Supplier#", description="Supplier name.")
    s_nationkey: Series[int] = pa.Field(ge=0, le=24, description="Nation of the supplier.")
    s_acctbal: Series[Money] = pa.Field(description="Account balance (may be negative).")
