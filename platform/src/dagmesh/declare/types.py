"""How a contract's pandas dtype is stored: one Arrow type, and the DuckDB type DuckDB itself gives it.

The chain is exact by construction: a frame whose columns pass pandera's dtype check converts to the Arrow
type without loss, DuckDB maps that Arrow type to its column type, and a read casts the table back to the
same Arrow type and pandas dtype. Types outside this chain (pandas `object`, `category`, float16, ...)
are refused when the contract loads, because a contract whose storage we would have to guess is not one.
"""

from __future__ import annotations

import re
import threading
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa


class UnsupportedTypeError(ValueError):
    """A pandas dtype dagmesh cannot store exactly."""


SUPPORTED = (
    "int8..int64, uint8..uint64, Int8..Int64, UInt8..UInt64, float32, float64, Float32, Float64, "
    "bool, boolean, str, string, datetime64[ns] (pd.Timestamp), datetime64[ns, <tz>], date, and "
    "pd.ArrowDtype of decimal128, date32, timestamp, string, integers, floats, bool, list and struct"
)


def arrow_type(dtype: object) -> pa.DataType:
    """The Arrow type a column of pandas dtype `dtype` is stored as (`dtype` as pandera reports it)."""
    native = getattr(dtype, "type", dtype)  # a pandera DataType wraps the pandas/numpy dtype
    name = str(dtype)
    if isinstance(native, pd.ArrowDtype):
        result = native.pyarrow_dtype
    elif name in ("str", "string"):
        result = pa.string()
    elif name == "date":
        result = pa.date32()
    elif isinstance(native, pd.DatetimeTZDtype):
        result = pa.timestamp(native.unit, tz=str(native.tz))
    elif isinstance(native, pd.api.extensions.ExtensionDtype):
        try:
            result = pa.array(pd.array([], dtype=native)).type
        except (TypeError, ValueError, pa.ArrowException) as error:
            raise UnsupportedTypeError(name) from error
    else:
        try:
            result = pa.from_numpy_dtype(np.dtype(native))
        except (TypeError, ValueError, NotImplementedError, pa.ArrowException) as error:
            raise UnsupportedTypeError(name) from error
    if not _storable(result):
        raise UnsupportedTypeError(name)
    return result


def _storable(arrow: pa.DataType) -> bool:
    """Arrow types DuckDB stores and gives back without loss."""
    t = pa.types
    if t.is_list(arrow) or t.is_large_list(arrow):
        return _storable(arrow.value_type)
    if t.is_struct(arrow):
        return arrow.num_fields > 0 and all(
            _storable(arrow.field(i).type) for i in range(arrow.num_fields)
        )
    return (
        t.is_integer(arrow)
        or t.is_float32(arrow)
        or t.is_float64(arrow)
        or t.is_boolean(arrow)
        or t.is_string(arrow)
        or t.is_large_string(arrow)
        or t.is_date32(arrow)
        or t.is_timestamp(arrow)
        or t.is_decimal128(arrow)
    )


# One in-memory DuckDB answers every "what type is this" question, so DuckDB is the one source of truth;
# each question gets its own cursor, so a type DuckDB cannot convert never leaves state for the next.
_DESCRIBE_LOCK = threading.Lock()
_DESCRIBE = duckdb.connect()


@cache
def duckdb_type(arrow: pa.DataType) -> str:
    """The DuckDB column type of `arrow`, as DuckDB itself maps it (one source of truth: DuckDB)."""
    empty = pa.table({"c": pa.array([], type=arrow)})
    with _DESCRIBE_LOCK, _DESCRIBE.cursor() as con:
        con.register("empty", empty)
        return str(con.execute("DESCRIBE SELECT * FROM empty").fetchone()[1])


def has_sub_microseconds(series: pd.Series) -> pd.Series:
    """Values of a nanosecond tz-aware column DuckDB's TIMESTAMPTZ (microseconds) would truncate."""
    if not isinstance(series.dtype, pd.DatetimeTZDtype) or series.dtype.unit != "ns":
        return pd.Series(False, index=series.index)
    return series.notna() & (series.dt.nanosecond != 0)


def encodes_as_utf8(value: object) -> bool:
    """Whether a str can be stored as DuckDB text: lone surrogates have no UTF-8 form."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class UnknownStorageTypeError(UnsupportedTypeError):
    """A DuckDB column type name DuckDB does not know (in a registry document, say)."""


@cache
def parse_storage_type(physical: str) -> tuple[str, pa.DataType]:
    """DuckDB's own spelling of column type `physical`, and the Arrow type DuckDB gives it. DuckDB parses
    the name first, so nothing a document says runs as SQL."""
    with _DESCRIBE_LOCK, _DESCRIBE.cursor() as con:
        try:
            name = str(con.type(physical))
            result = con.execute(f"SELECT CAST(NULL AS {name}) AS c").arrow()
        except duckdb.Error as error:
            raise UnknownStorageTypeError(
                f"{physical!r} is not a DuckDB column type: {error}"
            ) from error
    return name, result.schema.field(0).type


def storage_type(physical: str) -> str:
    """`physical` as DuckDB spells it (`DECIMAL(15, 2)` is `DECIMAL(15,2)`, `int8` is `BIGINT`), or
    upper-cased when DuckDB does not know the type."""
    try:
        return parse_storage_type(physical.strip())[0]
    except UnknownStorageTypeError:
        return physical.strip().upper()


def storage_arrow_type(physical: str) -> pa.DataType:
    """The Arrow type DuckDB stores DuckDB column type `physical` as (`UnknownStorageTypeError` if none)."""
    return parse_storage_type(physical.strip())[1]


class TypeFamily(StrEnum):
    """The family of an Arrow storage type: what the audit and the registry need to know about it."""

    INTEGER = "integer"
    FLOAT64 = "float64"
    OTHER_FLOAT = "other_float"  # float16/float32: pandas compares them in their own width
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    STRING = "string"
    DATE32 = "date32"
    OTHER_DATE = "other_date"
    TIMESTAMP = "timestamp"
    TIMESTAMPTZ = "timestamptz"
    LIST = "list"
    STRUCT = "struct"
    OTHER = "other"


def type_family(arrow: pa.DataType) -> TypeFamily:
    """The one classification of storage types (see `logical_type` and `comparison_kind`)."""
    t = pa.types
    checks = (
        (t.is_integer, TypeFamily.INTEGER),
        (t.is_float64, TypeFamily.FLOAT64),
        (t.is_floating, TypeFamily.OTHER_FLOAT),
        (t.is_decimal, TypeFamily.DECIMAL),
        (t.is_boolean, TypeFamily.BOOLEAN),
        (lambda a: t.is_string(a) or t.is_large_string(a), TypeFamily.STRING),
        (t.is_date32, TypeFamily.DATE32),
        (t.is_date, TypeFamily.OTHER_DATE),
        (lambda a: t.is_timestamp(a) and a.tz is not None, TypeFamily.TIMESTAMPTZ),
        (t.is_timestamp, TypeFamily.TIMESTAMP),
        (lambda a: t.is_list(a) or t.is_large_list(a) or t.is_fixed_size_list(a), TypeFamily.LIST),
        (t.is_struct, TypeFamily.STRUCT),
    )
    return next((family for test, family in checks if test(arrow)), TypeFamily.OTHER)


_LOGICAL = {
    TypeFamily.INTEGER: "integer",
    TypeFamily.FLOAT64: "number",
    TypeFamily.OTHER_FLOAT: "number",
    TypeFamily.DECIMAL: "number",
    TypeFamily.BOOLEAN: "boolean",
    TypeFamily.DATE32: "date",
    TypeFamily.OTHER_DATE: "date",
    TypeFamily.TIMESTAMP: "timestamp",
    TypeFamily.TIMESTAMPTZ: "timestamp",
    TypeFamily.LIST: "array",
    TypeFamily.STRUCT: "object",
}
# How the audit compares a bound with a column exactly; "other" (float32, nested, ...): pandera decides.
_COMPARISON = {
    TypeFamily.INTEGER: "int",
    TypeFamily.FLOAT64: "float",
    TypeFamily.STRING: "str",
    TypeFamily.BOOLEAN: "bool",
    TypeFamily.DATE32: "date",
    TypeFamily.TIMESTAMP: "timestamp",
    TypeFamily.TIMESTAMPTZ: "timestamptz",
    TypeFamily.DECIMAL: "decimal",
}


def logical_type(arrow: pa.DataType) -> str:
    """The ODCS logical type of a column stored as `arrow`."""
    return _LOGICAL.get(type_family(arrow), "string")


def comparison_kind(arrow: pa.DataType) -> str:
    """How the audit compares a bound with a column stored as `arrow` (`other`: pandera decides)."""
    return _COMPARISON.get(type_family(arrow), "other")


# The column types a YAML contract may name, as the pandera annotations a Python contract would use.
COLUMN_TYPES: dict[str, Any] = {
    "int64": int,
    "float64": float,
    "str": str,
    "bool": bool,
    "timestamp": pd.Timestamp,
    "date": Annotated[pd.ArrowDtype, pa.date32()],  # DuckDB DATE
}
# `decimal(p,s)`: exact DECIMAL(p,s), as `pd.ArrowDtype(pa.decimal128(p, s))`; p from 1 to 38.
DECIMAL_TYPE = re.compile(r"^decimal\((\d+), ?(\d+)\)$")


def yaml_column_dtype(name: str) -> Any:
    """The pandera annotation of YAML column type `name` (`KeyError` for an unknown name)."""
    decimal = DECIMAL_TYPE.match(name)
    if decimal:
        return Annotated[pd.ArrowDtype, pa.decimal128(int(decimal[1]), int(decimal[2]))]
    return COLUMN_TYPES[name]
