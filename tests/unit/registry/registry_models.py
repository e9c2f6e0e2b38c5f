"""Registry documents of pandera models built on the fly (`model`, `doc_of`, `props`), the verdicts of a
diff, a contract's shape, and the models several registry tests share: `Customers` (masked columns) and
`CappedV1` (custom column and table checks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pandera.pandas as pa
from open_data_contract_standard.model import OpenDataContractStandard
from pandera.engines import pandas_engine
from pandera.typing import Series

from dagmesh import SLO, data_product
from dagmesh.registry import PublishedData, diff_contracts, to_odcs
from dagmesh.registry.odcs import (
    normalized,
)
from tests.helpers.odcs import schema_errors

# pandera registers its backends on the first validation in a process, which grows the registry of
# every built-in check's dispatcher; `dagmesh.declare.contract._is_builtin` compares a schema's (deep-copied)
# registry with the current one, so a model whose schema was built before that first validation reads
# its built-ins as custom afterwards. Validate once first, so every model here is read the same way.
pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0))}).validate(pd.DataFrame({"x": [1.0]}))


def doc_of(contract: type[pa.DataFrameModel], **declared: Any) -> dict[str, Any]:
    """The registry document of a product `shop/orders` with this contract."""
    options: dict[str, Any] = {
        "owners": ["team:shop"],
        "access": "public",
        "version": "1.0.0",
        "slo": SLO(max_lag=timedelta(hours=26)),
    }
    options.update(declared)

    def orders() -> pd.DataFrame:
        """Every order."""

    doc = normalized(to_odcs(data_product(contract=contract, **options)(orders), "shop"))
    assert schema_errors(doc) == []
    OpenDataContractStandard.model_validate(doc)
    return doc


def model(columns: dict[str, tuple[Any, dict[str, Any]]], **config: Any) -> type[pa.DataFrameModel]:
    annotations = {n: Series[pandas_engine.Engine.dtype(t)] for n, (t, _) in columns.items()}
    fields = {n: pa.Field(**kw) for n, (_, kw) in columns.items()}
    return type(
        "Orders",
        (pa.DataFrameModel,),
        {
            "__annotations__": annotations,
            **fields,
            "Config": type("Config", (), config),
            "__doc__": "Orders.",
        },
    )


def verdicts(old: dict[str, Any], new: dict[str, Any], data: PublishedData | None = None):
    return sorted(((c.kind, c.column, c.breaking) for c in diff_contracts(old, new, data)), key=str)


def props(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["schema"][0]["properties"]}


def _shape(contract):
    return (
        [
            (
                c.name,
                c.pandera_dtype,
                c.duckdb_type,
                c.arrow_type,
                c.nullable,
                c.unique,
                c.pii,
                c.mask,
                [(k.name, k.builtin, k.statistics) for k in c.checks],
            )
            for c in contract.columns
        ],
        contract.unique_together,
    )


class Customers(pa.DataFrameModel):
    """Customers, two of whose columns are published masked."""

    customer_id: Series[int] = pa.Field(unique=True, gt=0)
    email: Series[str] = pa.Field(
        unique=True,
        str_matches=r"^[^@]+@[^@]+$",
        str_length={"max_value": 80},
        metadata={"pii": True, "mask": "sha256"},
    )
    name: Series[str] = pa.Field(
        unique=True, str_length={"min_value": 2}, metadata={"pii": True, "mask": "redacted"}
    )
    segment: Series[str] = pa.Field(isin=["retail", "business"])

    @pa.dataframe_check
    def few_ids(cls, frame: pd.DataFrame) -> bool:
        return frame["customer_id"].max() < 10**6

    class Config:
        unique = ["name", "segment"]


DOC = "Orders with a cap."


class CappedV1(pa.DataFrameModel):
    __doc__ = DOC

    amount: Series[float] = pa.Field(ge=0)

    @pa.check("amount", limit=1000)
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit

    @pa.dataframe_check(rows=100)
    def few_rows(cls, frame: pd.DataFrame, rows: int) -> bool:
        return len(frame) < rows
