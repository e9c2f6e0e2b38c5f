"""Contracts of a `shop/orders` product built from small column specs (`BASE`, `edit`, `renamed`) and
their normalized ODCS documents (`product_doc`): the change-kind table and the ODCS export tests."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

from dagmesh import SLO, data_product
from dagmesh.registry import to_odcs
from dagmesh.registry.odcs import normalized

Columns = dict[str, tuple[str, dict[str, Any]]]


BASE: Columns = {
    "order_id": ("int64", {"unique": True, "gt": 0, "description": "Order id."}),
    "amount": ("float64", {"ge": 0, "description": "Order total."}),
    "status": ("str", {"isin": ["F", "O"], "description": "F(illed) or O(pen)."}),
    "quantity": ("int32", {"in_range": {"min_value": 1, "max_value": 50}, "description": "Units."}),
    "note": ("str", {"nullable": True, "description": "Free text."}),
}


def model(columns: Columns, unique: list[str] | None = None) -> type[pa.DataFrameModel]:
    annotations = {n: Series[pandas_engine.Engine.dtype(t)] for n, (t, _) in columns.items()}
    fields = {n: pa.Field(**kw) for n, (_, kw) in columns.items()}
    config = type("Config", (), {"unique": unique} if unique else {})
    return type(
        "Orders",
        (pa.DataFrameModel,),
        {"__annotations__": annotations, **fields, "Config": config, "__doc__": "Orders."},
    )


def product_doc(
    columns: Columns = BASE, unique: list[str] | None = None, **declared: Any
) -> dict[str, Any]:
    options = {
        "owners": ["team:shop"],
        "access": "public",
        "version": "1.0.0",
        "slo": SLO(max_lag=timedelta(hours=26)),
    }
    options.update(declared)

    def orders() -> pd.DataFrame:
        """Every order."""

    return normalized(
        to_odcs(data_product(contract=model(columns, unique), **options)(orders), "shop")
    )


def edit(**changes: tuple[str, dict[str, Any]] | None) -> Columns:
    """BASE with columns replaced (a tuple), removed (None) or added (a new name), in BASE's order."""
    columns = copy.deepcopy(BASE)
    for name, spec in changes.items():
        if spec is None:
            columns.pop(name)
        else:
            columns[name] = spec
    return columns


def renamed(old: str, new: str) -> Columns:
    return {(new if name == old else name): spec for name, spec in copy.deepcopy(BASE).items()}
