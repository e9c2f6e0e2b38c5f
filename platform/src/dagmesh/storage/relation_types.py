"""The type step of an in-warehouse product: what a relation must be for pandera to accept what it publishes.

A pandas product's frame is typed by pandera itself (`frame_types`). A relation never becomes a frame, so the
question is asked of the table a consumer will read: the column types must be the contract's DuckDB types
exactly, and no value may be one the contract's pandas dtype cannot hold. DuckDB holds several such values
that a pandas frame cannot produce, each refused here as `storable(...)`, as the pandas path refuses
tz-aware nanoseconds:

- a NULL in a column whose pandas dtype has no null (numpy int, uint, bool): the consumer's column would
  become float64 or object, which pandera rejects, whatever the contract's `nullable` says;
- a TIMESTAMPTZ outside pandas' nanosecond range (1677-2262) under a `datetime64[ns, tz]` contract: the
  table could not be read back at all;
- an infinite DATE or TIMESTAMP (`'infinity'::DATE`), which no pandas or Arrow value stands for;
- a string column carrying a collation (`COLLATE NOCASE`): its type still reads VARCHAR, but it compares
  case-insensitively, so `isin` and uniqueness would be judged unlike pandas.

A NaN in a numpy float column is pandas' null, as a frame's NaN arrives as NULL: it is stored as NULL
(`projection`), so both kinds of product publish the same table. The value rules are checks the audit
runs in its one scan (`storable_checks`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from dagmesh.declare.contract import Contract, ContractColumn
from dagmesh.declare.product import Relation
from dagmesh.storage.audit import CheckOutcome, CompiledCheck, nan_is_a_value
from dagmesh.storage.sql import quote_identifier

_NULL_FREE_DTYPES = frozenset(
    ("bool", *(f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)))
)
# pandas' nanosecond range, in the microseconds a TIMESTAMPTZ holds
_NS_MIN = pd.Timestamp.min.ceil("us").to_pydatetime().replace(tzinfo=dt.UTC)
_NS_MAX = pd.Timestamp.max.floor("us").to_pydatetime().replace(tzinfo=dt.UTC)
_PROBE = "_dagmesh_collation_probe"


def type_outcomes(
    con: duckdb.DuckDBPyConnection, contract: Contract, relation: Relation, view: str
) -> list[CheckOutcome]:
    """Each column's DuckDB type against the contract's (a difference is a dtype failure, as pandera fails
    a column of the wrong dtype: cast in the query to publish another type), and collations, probed on
    `view` (the relation's view on `con`) without reading a row."""
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    outcomes = []
    for column in contract.columns:
        found = types[column.name]
        if found != column.duckdb_type:
            outcomes.append(_dtype_failure(column, found))
        elif "VARCHAR" in found and _collated(con, view, column.name):
            outcomes.append(_dtype_failure(column, f"{found} with a collation"))
    return outcomes


def _dtype_failure(column: ContractColumn, found: str) -> CheckOutcome:
    sample = {f"{column.name} (type of the column)": found}
    return CheckOutcome(column.name, f"dtype({column.duckdb_type})", 1, "duckdb", [sample])


def _collated(con: duckdb.DuckDBPyConnection, view: str, name: str) -> bool:
    """Whether a column carries a collation: DuckDB shows it only in a table's definition."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_identifier(_PROBE)} AS "
        f"SELECT {quote_identifier(name)} AS c FROM {quote_identifier(view)} LIMIT 0"
    )
    try:
        (definition,) = con.execute(
            "SELECT sql FROM duckdb_tables() WHERE temporary AND table_name = ?", [_PROBE]
        ).fetchone()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {quote_identifier(_PROBE)}")
    return " COLLATE " in definition.upper()


def projection(contract: Contract) -> str:
    """The contract's columns of an in-warehouse result, numpy-float NaN stored as NULL."""
    parts = []
    for column in contract.columns:
        col = quote_identifier(column.name)
        if pa.types.is_floating(column.arrow_type) and not nan_is_a_value(column):
            parts.append(f"CASE WHEN isnan({col}) THEN NULL ELSE {col} END AS {col}")
        else:
            parts.append(col)
    return ", ".join(parts)


def storable_checks(contract: Contract) -> list[CompiledCheck]:
    """Values the contract's pandas dtypes cannot hold, as checks the audit runs in its own scan."""
    checks = []
    for column in contract.columns:
        col = quote_identifier(column.name)
        if column.pandas_dtype in _NULL_FREE_DTYPES and column.nullable:  # else: `not_nullable`
            label = (
                f"storable({column.pandas_dtype} holds no null: declare a nullable dtype such as "
                f"{_nullable_name(column.pandas_dtype)}, or filter the nulls)"
            )
            checks.append(CompiledCheck(column.name, label, f"{col} IS NULL"))
        # TIMESTAMP_NS is left out: its infinities are int64's extremes, pandas' Timestamp.min and max.
        if column.duckdb_type in ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"):
            label = "storable(an infinite date or time has no pandas value)"
            checks.append(CompiledCheck(column.name, label, f"isinf({col})"))
        if column.duckdb_type == "TIMESTAMP WITH TIME ZONE" and "[ns" in column.pandas_dtype:
            checks.append(
                CompiledCheck(
                    column.name,
                    "storable(pandas' nanosecond timestamps span 1677-09-21 to 2262-04-11)",
                    f"{col} < CAST(? AS TIMESTAMPTZ) OR {col} > CAST(? AS TIMESTAMPTZ)",
                    (_NS_MIN, _NS_MAX),
                )
            )
    return checks


def _nullable_name(dtype: str) -> str:
    return "boolean" if dtype == "bool" else dtype.capitalize().replace("Uint", "UInt")
