"""SQL over a product's input frames, run by an in-memory DuckDB: the aggregate products' workhorse."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from dagmesh.storage.engine import Relation, relation_query
from dagmesh.storage.sql_guard import refuse_unless_over


def restore_types(table: pa.Table, schema: pa.Schema, dtypes: dict[str, str]) -> pd.DataFrame:
    """A published table as pandas with the dtypes it was published with: DuckDB hands back its own
    spelling of a type (microsecond UTC for TIMESTAMPTZ, its own list field names), so each column is
    cast back to the published Arrow type, then becomes the published pandas dtype (Int64 stays Int64,
    a Float64 NaN stays a value, ArrowDtype decimals and dates stay Arrow)."""
    fields = {field.name: field for field in schema}
    casts = [
        (i, fields[name].type)
        for i, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True))
        if name in fields and column.type != fields[name].type
    ]
    for i, type_ in casts:
        table = table.set_column(i, table.field(i).name, table.column(i).cast(type_))
    special = [
        name for name in table.column_names if _special(table.column(name).type, dtypes.get(name))
    ]
    # Plain columns convert together (on every thread); the others are put in place one by one.
    frame = arrow_to_pandas(table.drop_columns(special)) if special else arrow_to_pandas(table)
    for name in special:
        position = table.column_names.index(name)
        frame.insert(position, name, _to_series(table.column(name), dtypes.get(name)))
    return frame


def _special(type_: pa.DataType, dtype: str | None) -> bool:
    return bool(dtype) and (
        dtype.endswith("[pyarrow]")
        or dtype in _EXTENSION_DTYPES
        or (dtype == "object" and pa.types.is_date32(type_))
    )


def _to_series(column: pa.ChunkedArray, dtype: str | None) -> pd.Series:
    if dtype and dtype.endswith("[pyarrow]"):
        return pd.Series(pd.arrays.ArrowExtensionArray(column))
    if dtype in _EXTENSION_DTYPES:
        return pd.Series(pd.api.types.pandas_dtype(dtype).__from_arrow__(column))
    if dtype == "object" and pa.types.is_date32(column.type):
        return column.to_pandas(date_as_object=True)
    return column.to_pandas(date_as_object=False, coerce_temporal_nanoseconds=True)


_EXTENSION_DTYPES = frozenset(
    (
        *("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"),
        *("Float32", "Float64", "boolean", "string"),
    )
)


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas the way every dagmesh read does: nanosecond timestamps, strings deduplicated
    (Arrow's default), several times faster and leaner than DuckDB's `fetchdf`."""
    return table.to_pandas(date_as_object=False, coerce_temporal_nanoseconds=True)


def query(sql: str, params: list[object] | None = None, **frames: Any) -> Any:
    """Run `sql` with each keyword frame visible as a table of that name; return pandas via Arrow.
    `sql` is one SELECT over those names only (no ATTACH, files or other tables: `dagmesh.storage.sql_guard`).

    Given relations instead of frames (an in-warehouse product's inputs), the query runs where they
    live and returns a lazy relation: nothing is read into Python (see `dagmesh.storage.engine`).

    Types stay exact both ways. DuckDB scans a frame's `pd.ArrowDtype` columns as their own types
    (decimal128(15, 2) as DECIMAL(15,2), date32 as DATE). On the way back a DECIMAL or DATE result stays
    a `pd.ArrowDtype` (SUM of DECIMAL(15,2) is decimal128(38, 2)), as a contract declares it: plain
    Arrow-to-pandas would make decimals Python objects (pandas has no decimal dtype) and dates
    timestamps, which fail the contract's dtype check. Every other type converts as every read does.
    """
    relations = [name for name, value in frames.items() if isinstance(value, Relation)]
    if relations:
        if len(relations) != len(frames):
            mixed = sorted(set(frames) - set(relations))
            raise TypeError(
                f"query() got relations ({', '.join(relations)}) and frames ({', '.join(mixed)}); "
                "an in-warehouse product receives every input as a relation"
            )
        return relation_query(sql, params, frames)
    refuse_unless_over(sql, frames)  # a DuckDB of its own can still ATTACH files and read them
    with duckdb.connect() as con:
        for name, frame in frames.items():
            con.register(name, frame)
        arrow = con.execute(sql, params or []).to_arrow_table()
    return exact_pandas(arrow)


def exact_pandas(arrow: pa.Table) -> pd.DataFrame:
    """A DuckDB result as pandas with DECIMAL and DATE kept as `pd.ArrowDtype` (see `query`)."""
    return arrow.to_pandas(
        types_mapper=_arrow_backed, date_as_object=False, coerce_temporal_nanoseconds=True
    )


def _arrow_backed(type_: pa.DataType) -> pd.ArrowDtype | None:
    """DECIMAL and DATE results as pandas' Arrow dtypes; None leaves a type to pandas' default."""
    if pa.types.is_decimal(type_) or pa.types.is_date32(type_):
        return pd.ArrowDtype(type_)
    return None
