"""The `Measures` contract the bad-input tests publish under, through Dagster (binding) and straight
into the warehouse (storage)."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series


class Measures(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0, description="Id.")
    amount: Series[float] = pa.Field(ge=0, le=1e12, description="Amount.")
    label: Series[str] = pa.Field(description="Label.")
