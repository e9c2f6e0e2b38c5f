"""The type step of write-audit-publish: pandera decides a frame's dtypes, then Arrow stores them exactly.

pandera's rule is followed to the letter: with `coerce=False` (the default) a column of the wrong dtype
fails its dtype check and nothing is published; with `coerce=True` pandera's own coercion converts it.
Only a frame that passed becomes Arrow, converted to the contract's exact Arrow schema, so DuckDB never
casts (no TRY_CAST turning 7 into TRUE or a list into text). Two values pandera accepts cannot be stored
exactly and are refused here, as documented: tz-aware nanoseconds (DuckDB's TIMESTAMPTZ holds
microseconds) and strings that are not valid Unicode text (lone surrogates have no UTF-8 form).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
from pandera.errors import SchemaErrors

from dagmesh.declare.contract import Contract, ContractColumn
from dagmesh.declare.types import encodes_as_utf8, has_sub_microseconds
from dagmesh.storage.audit import SAMPLE_ROWS, CheckOutcome


def typed_arrow(
    contract: Contract, frame: pd.DataFrame
) -> tuple[pd.DataFrame, pa.Table | None, list[CheckOutcome]]:
    """The frame as pandera types it (coerced where the contract coerces), its exact Arrow table, and
    the type failures; the table is None when any column failed."""
    strings: dict[str, pa.Array] = {}
    for column in contract.columns:
        array = _plain_strings(column, frame[column.name])
        if array is not None:
            strings[column.name] = array
    rest = [c for c in contract.columns if c.name not in strings]
    typed, outcomes = _pandera_types(contract, frame, rest)
    if outcomes:
        return typed, None, outcomes
    # pandera's `str` judges values, not the dtype: a column of nothing but nulls passes whatever its
    # dtype (all NaT, all NaN), and is stored as the nulls it holds.
    for column in rest:
        if column.pandera_dtype == "str" and typed[column.name].isna().all():
            strings[column.name] = pa.nulls(len(typed), pa.string())
    rest = [c for c in rest if c.name not in strings]
    outcomes = [o for c in rest if (o := _sub_microseconds(c, typed[c.name])) is not None]
    if outcomes:
        return typed, None, outcomes
    try:
        others = pa.Table.from_pandas(
            typed, schema=pa.schema([(c.name, c.arrow_type) for c in rest]), preserve_index=False
        )
    except (pa.ArrowException, UnicodeError, TypeError, ValueError) as error:
        outcomes = [o for c in rest if (o := _not_text(c, typed[c.name])) is not None]
        return typed, None, outcomes or [_unconvertible(error, len(frame))]
    arrays = [
        strings[c.name] if c.name in strings else others.column(c.name) for c in contract.columns
    ]
    return typed, pa.Table.from_arrays(arrays, schema=contract.arrow_schema), []


def _plain_strings(column: ContractColumn, series: pd.Series) -> pa.Array | None:
    """A fast path for the most common column: an object column of Python strings under a `str`
    contract. Arrow infers `string` exactly when every value is a str or null-like, which is pandera's
    rule for `str`; anything else (a number, bytes, a list) goes to pandera's own check."""
    if column.coerce or column.pandera_dtype != "str" or series.dtype != object:
        return None
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None
    if (
        pa.types.is_string(array.type)
        or pa.types.is_large_string(array.type)
        or pa.types.is_null(array.type)
    ):
        return array.cast(pa.string())
    return None


def _pandera_types(
    contract: Contract, frame: pd.DataFrame, columns: list[ContractColumn]
) -> tuple[pd.DataFrame, list[CheckOutcome]]:
    if not columns:
        return frame, []
    schema = pandera.DataFrameSchema(
        {c.name: contract.dtype_schema.columns[c.name] for c in columns}
    )
    try:
        # A shallow copy: coercion replaces columns in it, never in the product's own frame.
        return schema.validate(frame.copy(deep=False), lazy=True, inplace=True), []
    except SchemaErrors as errors:
        return frame, _type_outcomes(errors.failure_cases, frame)


def _type_outcomes(cases: pd.DataFrame, frame: pd.DataFrame) -> list[CheckOutcome]:
    outcomes = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        index = group["index"].dropna()
        failing = index.nunique() if len(index) else len(frame)
        samples = [{str(column): _plain(v)} for v in group["failure_case"].head(SAMPLE_ROWS)]
        if not len(index):  # the whole column has the wrong dtype: say which
            samples = [
                {f"{column} (dtype of the column)": _plain(v)} for v in group["failure_case"]
            ]
        outcomes.append(
            CheckOutcome(
                None if pd.isna(column) else str(column),
                str(check).replace("'", ""),  # dtype('int64') -> dtype(int64)
                max(int(failing), 1),
                "pandera",
                samples,
            )
        )
    return outcomes


def _sub_microseconds(column: ContractColumn, series: pd.Series) -> CheckOutcome | None:
    """tz-aware nanoseconds pandera accepts but TIMESTAMPTZ would truncate: refused, not altered."""
    failing = has_sub_microseconds(series)
    if not failing.any():
        return None
    label = "storable(TIMESTAMPTZ keeps microseconds; these values have nanoseconds)"
    samples = [{column.name: _plain(v)} for v in series[failing].head(SAMPLE_ROWS)]
    return CheckOutcome(column.name, label, int(failing.sum()), "pandera", samples)


def _not_text(column: ContractColumn, series: pd.Series) -> CheckOutcome | None:
    """Strings with lone surrogates: valid Python, but no UTF-8 form for the warehouse to hold."""
    if not pa.types.is_string(column.arrow_type):
        return None
    failing = ~series.map(encodes_as_utf8).astype(bool)
    if not failing.any():
        return None
    label = "storable(text must be valid Unicode; these values hold lone surrogates)"
    samples = [{column.name: _plain(v)} for v in series[failing].head(SAMPLE_ROWS)]
    return CheckOutcome(column.name, label, int(failing.sum()), "pandera", samples)


def _unconvertible(error: Exception, rows: int) -> CheckOutcome:
    return CheckOutcome(None, f"storable({type(error).__name__}: {error})", max(rows, 1), "pandera")


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool)) or value is None else repr(value)
