"""The contract of `logistics/local_supplier_volume` (TPC-H Q5)."""

from decimal import Decimal

import pandera.pandas as pa
from pandera.typing import Series

from logistics.standards import Total4


class LocalSupplierVolume(pa.DataFrameModel):
    """TPC-H Q5: 1994 revenue in ASIA from sales where customer and supplier share a nation."""

    n_name: Series[str] = pa.Field(unique=True, description="Nation.")
    revenue: Series[Total4] = pa.Field(gt=Decimal(0), description="Discounted revenue.")
