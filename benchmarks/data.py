"""The benchmark table: an orders-like frame of 10 columns, deterministic, and its pandera contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

STATUSES = ["F", "O", "P"]


class BenchOrders(pa.DataFrameModel):
    order_id: Series[int] = pa.Field(unique=True, ge=0)
    customer_id: Series[int] = pa.Field(ge=0)
    status: Series[str] = pa.Field(isin=STATUSES)
    total: Series[float] = pa.Field(ge=0, le=1_000_000)
    discount: Series[float] = pa.Field(in_range={"min_value": 0, "max_value": 0.1})
    quantity: Series[int] = pa.Field(in_range={"min_value": 1, "max_value": 50})
    clerk: Series[str] = pa.Field(str_startswith="Clerk#")
    priority: Series[int] = pa.Field(ge=0)
    tax: Series[float] = pa.Field(ge=0)
    ordered_at: Series[pd.Timestamp] = pa.Field(nullable=True)


def orders_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "order_id": np.arange(rows, dtype="int64"),
            "customer_id": rng.integers(0, 150_000, rows),
            "status": pd.Series(rng.choice(STATUSES, rows), dtype="object"),
            "total": rng.uniform(1, 500_000, rows),
            "discount": rng.uniform(0, 0.1, rows),
            "quantity": rng.integers(1, 51, rows),
            "clerk": pd.Series([f"Clerk#{i % 1000:09d}" for i in range(rows)], dtype="object"),
            "priority": rng.integers(0, 5, rows),
            "tax": rng.uniform(0, 0.08, rows),
            "ordered_at": pd.Timestamp("1995-01-01")
            + pd.to_timedelta(rng.integers(0, 2400, rows), unit="D"),
        }
    )
