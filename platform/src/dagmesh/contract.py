"""A data product's contract: a pandera `DataFrameModel`, read once into a plain description.

Everything downstream (column schema in the UI, the SQL audit, the table's DuckDB types) works from this
description, so there is one place that knows how pandera's objects look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandera.pandas as pa

# pandera dtype (as `str(dtype)`) -> DuckDB column type. Anything else is refused at declaration time,
# because a contract whose storage type we would have to guess is not a contract.
DUCKDB_TYPES: dict[str, str] = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "Int8": "TINYINT",
    "Int16": "SMALLINT",
    "Int32": "INTEGER",
    "Int64": "BIGINT",
    "uint8": "UTINYINT",
    "uint16": "USMALLINT",
    "uint32": "UINTEGER",
    "uint64": "UBIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "Float32": "FLOAT",
    "Float64": "DOUBLE",
    "str": "VARCHAR",
    "string": "VARCHAR",
    "object": "VARCHAR",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "datetime64[ns]": "TIMESTAMP",
    "datetime64[us]": "TIMESTAMP",
    "date": "DATE",
}


class ContractDefinitionError(ValueError):
    """A contract that cannot be enforced as written (unknown type, not a pandera model)."""


@dataclass(frozen=True)
class ContractCheck:
    """One check on one column, as pandera names it (`greater_than_or_equal_to`) with its statistics."""

    column: str | None
    name: str
    statistics: dict[str, Any]
    pandera_check: pa.Check | None = None

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.statistics.items() if v is not None)
        return f"{self.name}({args})" if args else self.name


@dataclass(frozen=True)
class ContractColumn:
    name: str
    pandera_dtype: str
    duckdb_type: str
    nullable: bool
    unique: bool
    description: str | None
    checks: tuple[ContractCheck, ...]
    pii: bool = False
    mask: str | None = None  # how a PII column is published: "sha256" or "redacted"


@dataclass(frozen=True)
class Contract:
    """The enforceable shape of a product: typed columns, their checks, and table-level rules."""

    name: str
    model: type[pa.DataFrameModel]
    description: str | None
    columns: tuple[ContractColumn, ...]
    unique_together: tuple[str, ...] = ()
    frame_checks: tuple[ContractCheck, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ContractColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def table_schema(self) -> dg.TableSchema:
        """The contract as Dagster's `dagster/column_schema`: types, nullability, uniqueness, checks."""
        columns = []
        for column in self.columns:
            other = [check.label for check in column.checks]
            columns.append(
                dg.TableColumn(
                    name=column.name,
                    type=column.duckdb_type,
                    description=column.description,
                    constraints=dg.TableColumnConstraints(
                        nullable=column.nullable, unique=column.unique, other=other
                    ),
                    tags=_column_tags(column),
                )
            )
        constraints = None
        if self.unique_together or self.frame_checks:
            rules = [f"unique({', '.join(self.unique_together)})"] if self.unique_together else []
            rules += [check.label for check in self.frame_checks]
            constraints = dg.TableConstraints(other=rules)
        return dg.TableSchema(columns=columns, constraints=constraints)


MASKS = ("sha256", "redacted")


def _column_tags(column: ContractColumn) -> dict[str, str] | None:
    tags = {"pii": "true"} if column.pii else {}
    if column.mask:
        tags["mask"] = column.mask
    return tags or None


def read_contract(model: Any) -> Contract:
    """Describe a pandera `DataFrameModel` subclass; refuse anything we could not enforce."""
    if not (isinstance(model, type) and issubclass(model, pa.DataFrameModel)):
        raise ContractDefinitionError(
            f"a contract must be a pandera DataFrameModel subclass, got {model!r}; "
            "declare `class MyContract(pandera.pandas.DataFrameModel): ...`"
        )
    try:
        schema = model.to_schema()
    except Exception as error:  # pandera raises several types for a malformed model
        raise ContractDefinitionError(
            f"contract {model.__name__} is not a valid pandera model: {error}"
        ) from error
    columns = []
    for name, column in schema.columns.items():
        dtype = str(column.dtype)
        if dtype not in DUCKDB_TYPES:
            supported = ", ".join(sorted(DUCKDB_TYPES))
            raise ContractDefinitionError(
                f"contract {model.__name__}: column {name!r} has type {dtype!r}, which dagmesh cannot store; "
                f"use one of: {supported}"
            )
        metadata = column.metadata or {}
        mask = metadata.get("mask")
        if mask is not None and (mask not in MASKS or DUCKDB_TYPES[dtype] != "VARCHAR"):
            raise ContractDefinitionError(
                f"contract {model.__name__}: column {name!r} declares mask {mask!r}; masks are "
                f"{', '.join(MASKS)} and apply to str columns"
            )
        columns.append(
            ContractColumn(
                name=str(name),
                pandera_dtype=dtype,
                duckdb_type=DUCKDB_TYPES[dtype],
                nullable=bool(column.nullable),
                unique=bool(column.unique),
                description=column.description,
                checks=tuple(
                    ContractCheck(str(name), check.name, dict(check.statistics or {}), check)
                    for check in column.checks
                ),
                pii=bool(metadata.get("pii", False)),
                mask=mask,
            )
        )
    unique = schema.unique
    unique_together = tuple([unique] if isinstance(unique, str) else (unique or ()))
    frame_checks = tuple(
        ContractCheck(None, check.name or "custom", dict(check.statistics or {}), check)
        for check in schema.checks
    )
    return Contract(
        name=model.__name__,
        model=model,
        description=schema.description,
        columns=tuple(columns),
        unique_together=unique_together,
        frame_checks=frame_checks,
    )
