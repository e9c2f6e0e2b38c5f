"""The contract of `sales/nations`: the reference geography every domain reports by."""

import pandera.pandas as pa
from pandera.typing import Series


class Nations(pa.DataFrameModel):
    """The 25 TPC-H nations with the region each belongs to."""

    n_nationkey: Series[int] = pa.Field(unique=True, ge=0, description="Nation id.")
    n_name: Series[str] = pa.Field(description="Nation name, upper case.")
    n_regionkey: Series[int] = pa.Field(ge=0, description="Region id.")
    r_name: Series[str] = pa.Field(
        isin=["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"], description="Region name."
    )
