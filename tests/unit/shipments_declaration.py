"""A valid `@data_product` declaration of logistics' shipments, and `declare(**overrides)` to break one
argument at a time (the unit tests of the declaration, the built asset and the domain)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product

OWNERS = ["team:logistics", "ops@example.com"]
SLO_6H = SLO(max_lag=timedelta(hours=6), warn_after=timedelta(hours=2))


class Shipments(pa.DataFrameModel):
    """Shipments as the warehouse system records them."""

    shipment_id: Series[int] = pa.Field(unique=True, gt=0, description="Shipment id.")
    weight_kg: Series[float] = pa.Field(
        nullable=True, in_range={"min_value": 0, "max_value": 1000}, description="Weight."
    )
    carrier: Series[str] = pa.Field(
        isin=["DHL", "UPS"], str_length={"min_value": 3, "max_value": 3}, description="Carrier."
    )
    shipped_at: Series[pd.Timestamp] = pa.Field(description="When it left the warehouse.")


def declare(**overrides: Any) -> Callable[[Callable[..., Any]], Any]:
    """`data_product(...)` with valid arguments, except the ones overridden."""
    arguments: dict[str, Any] = {
        "contract": Shipments,
        "owners": OWNERS,
        "access": "public",
        "version": "2.1.0",
        "slo": SLO_6H,
    }
    arguments.update(overrides)
    return data_product(**arguments)


def shipments() -> pd.DataFrame:
    """Every shipment."""
    raise AssertionError("never called at declaration time")


def needs_customers(customers: pd.DataFrame) -> pd.DataFrame:
    """Reads customers."""
    return customers
