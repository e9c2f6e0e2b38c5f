"""The scorecard's contract: one row per published product with its health."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series


class Scorecard(pa.DataFrameModel):
    """Health of every published data product in the mesh."""

    product: Series[str] = pa.Field(unique=True, description="Product key, domain/name.")
    domain: Series[str] = pa.Field(description="Owning domain.")
    owners: Series[str] = pa.Field(description="Owners, comma separated.")
    access: Series[str] = pa.Field(
        isin=["public", "internal", "private"], description="Access level."
    )
    version: Series[str] = pa.Field(description="Version last published.")
    last_update: Series[pd.Timestamp] = pa.Field(description="Last materialization (UTC).")
    freshness_status: Series[str] = pa.Field(
        isin=["fresh", "stale", "unknown"], description="Against the product's SLO."
    )
    contract_pass_rate: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 1},
        nullable=True,
        description="Share of the last 20 contract checks that passed.",
    )
    open_violations: Series[int] = pa.Field(ge=0, description="Open governance findings.")
    health_score: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 100}, description="0-100; 100 is healthy."
    )
