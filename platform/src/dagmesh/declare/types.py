"""How a contract's pandas dtype is stored: one Arrow type, and the DuckDB type DuckDB itself gives it.

The chain is exact by construction: a frame whose columns pass pandera's dtype check converts to the Arrow
type without loss, DuckDB maps that Arrow type to its column type, and a read casts the table back to the
same Arrow type and pandas dtype. Types outside this chain (pandas `object`, `category`, float16, ...)
are refused when the contract loads, because a contract whose storage we would have to guess is not one.
"""

from __future__ import annotations

import threading
from functools import cache

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


_DESCRIBE_LOCK = threading.Lock()
_DESCRIBE = duckdb.connect()


@cache
def duckdb_type(arrow: pa.DataType) -> str:
    """The DuckDB column type of `arrow`, as DuckDB itself maps it (one source of truth: DuckDB)."""
    empty = pa.table({"c": pa.array([], type=arrow)})
    with _DESCRIBE_LOCK:
        _DESCRIBE.register("empty", empty)
        try:
            return str(_DESCRIBE.execute("DESCRIBE SELECT * FROM empty").fetchone()[1])
        finally:
            _DESCRIBE.unregister("empty")


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
