"""Tiny code locations for the concurrency test: each writes a big product and reads it back."""

from __future__ import annotations

import os
from datetime import timedelta

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions

ROWS = int(os.environ.get("RELIABILITY_ROWS", "200000"))


class Big(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0, description="Row id.")
    value: Series[float] = pa.Field(ge=0, description="A value.")


class Summary(pa.DataFrameModel):
    rows: Series[int] = pa.Field(ge=0, description="Rows read.")
    total: Series[float] = pa.Field(ge=0, description="Sum of values.")


def location(domain: str, seed: int):
    @data_product(
        contract=Big,
        owners=[f"team:{domain}"],
        access="public",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        name="big",
    )
    def big() -> pd.DataFrame:
        """Many deterministic rows."""
        values = np.random.default_rng(seed).uniform(0, 100, ROWS)
        return pd.DataFrame({"id": np.arange(ROWS), "value": values})

    @data_product(
        contract=Summary,
        owners=[f"team:{domain}"],
        access="public",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        inputs=["big"],
        name="summary",
    )
    def summary(big: pd.DataFrame) -> pd.DataFrame:
        """What was read back of big, while other locations write."""
        return pd.DataFrame({"rows": [len(big)], "total": [float(big["value"].sum())]})

    return domain_definitions(domain, [big, summary])
