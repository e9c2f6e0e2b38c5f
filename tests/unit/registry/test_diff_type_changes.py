"""Type changes in a contract diff, with exact types: widened, narrowed or changed (decimal precision and
scale, timestamp units and zones, lists, structs), and the widening rules themselves."""

from __future__ import annotations

import copy

import pandas as pd
import pyarrow
import pytest

from dagmesh.registry import is_widening
from tests.unit.registry.registry_models import (
    doc_of,
    model,
    props,
    verdicts,
)

DECIMAL_15_2 = pd.ArrowDtype(pyarrow.decimal128(15, 2))
TYPE_CHANGES = [
    ("DOUBLE -> DECIMAL(15,2)", "float64", DECIMAL_15_2, "type_changed", True),
    ("DECIMAL(15,2) -> DOUBLE", DECIMAL_15_2, "float64", "type_changed", True),
    (
        "DECIMAL(15,2) -> DECIMAL(18,2)",
        DECIMAL_15_2,
        pd.ArrowDtype(pyarrow.decimal128(18, 2)),
        "type_widened",
        False,
    ),
    (
        "DECIMAL(18,2) -> DECIMAL(15,2)",
        pd.ArrowDtype(pyarrow.decimal128(18, 2)),
        DECIMAL_15_2,
        "type_narrowed",
        True,
    ),
    (
        "DECIMAL(15,2) -> DECIMAL(16,3)",
        DECIMAL_15_2,
        pd.ArrowDtype(pyarrow.decimal128(16, 3)),
        "type_changed",
        True,
    ),
    (
        "DECIMAL(15,2) -> DECIMAL(15,1)",
        DECIMAL_15_2,
        pd.ArrowDtype(pyarrow.decimal128(15, 1)),
        "type_changed",
        True,
    ),
    (
        "INTEGER -> DECIMAL(10,0)",
        "int32",
        pd.ArrowDtype(pyarrow.decimal128(10, 0)),
        "type_widened",
        False,
    ),
    (
        "BIGINT -> DECIMAL(18,0)",
        "int64",
        pd.ArrowDtype(pyarrow.decimal128(18, 0)),
        "type_changed",
        True,
    ),
    ("TIMESTAMP_NS -> DATE", "datetime64[ns]", "date", "type_changed", True),
    ("DATE -> TIMESTAMP_NS", "date", "datetime64[ns]", "type_changed", True),
    (
        "TIMESTAMP -> TIMESTAMP_NS",
        pd.ArrowDtype(pyarrow.timestamp("us")),
        "datetime64[ns]",
        "type_changed",
        True,
    ),
    (
        "TIMESTAMP_NS -> TIMESTAMPTZ",
        "datetime64[ns]",
        pd.DatetimeTZDtype("ns", "UTC"),
        "type_changed",
        True,
    ),
    (
        "VARCHAR -> BIGINT[]",
        "str",
        pd.ArrowDtype(pyarrow.list_(pyarrow.int64())),
        "type_changed",
        True,
    ),
    (
        "INTEGER[] -> BIGINT[]",
        pd.ArrowDtype(pyarrow.list_(pyarrow.int32())),
        pd.ArrowDtype(pyarrow.list_(pyarrow.int64())),
        "type_widened",
        False,
    ),
    (
        "STRUCT(a INTEGER) -> STRUCT(a BIGINT)",
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int32())])),
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64())])),
        "type_widened",
        False,
    ),
    (
        "STRUCT(a BIGINT) -> STRUCT(b BIGINT)",
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64())])),
        pd.ArrowDtype(pyarrow.struct([("b", pyarrow.int64())])),
        "type_changed",
        True,
    ),
    ("INTEGER -> BIGINT", "int32", "int64", "type_widened", False),
    (
        "UTC -> New York, same storage",
        pd.DatetimeTZDtype("ns", "UTC"),
        pd.DatetimeTZDtype("ns", "America/New_York"),
        "pandas_dtype_changed",
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "before", "after", "kind", "breaking"), TYPE_CHANGES, ids=[t[0] for t in TYPE_CHANGES]
)
def test_type_changes_with_exact_types(case, before, after, kind, breaking):
    old = doc_of(model({"x": (before, {"nullable": True})}))
    new = doc_of(model({"x": (after, {"nullable": True})}))
    assert verdicts(old, new) == [(kind, "x", breaking)], case


def test_the_same_pandas_dtype_stored_at_a_finer_timestamp_unit_is_compatible():
    """Registry files written before exact types said TIMESTAMP for pandas datetime64[ns]."""
    new = doc_of(model({"day": ("datetime64[ns]", {})}))
    old = copy.deepcopy(new)
    props(old)["day"]["physicalType"] = "TIMESTAMP"
    assert verdicts(old, new) == [("type_widened", "day", False)]
    assert verdicts(new, old) == [("type_narrowed", "day", True)]


def test_widening_rules_for_exact_types():
    assert is_widening("DECIMAL(15,2)", "DECIMAL(18,2)") and is_widening(
        "DECIMAL(15, 2)", "DECIMAL(15,2)"
    )
    assert not is_widening("DECIMAL(18,2)", "DECIMAL(15,2)")
    assert not is_widening("DECIMAL(15,2)", "DECIMAL(18,3)")  # the scale is part of the meaning
    assert is_widening("INTEGER", "DECIMAL(10,0)") and not is_widening("INTEGER", "DECIMAL(9,0)")
    assert is_widening("UBIGINT", "DECIMAL(20,0)") and not is_widening("BIGINT", "DECIMAL(20,2)")
    assert not is_widening("DOUBLE", "DECIMAL(38,10)") and not is_widening(
        "DECIMAL(15,2)", "DOUBLE"
    )
    assert is_widening("INTEGER[]", "BIGINT[]") and not is_widening("BIGINT[]", "INTEGER[]")
    assert is_widening("STRUCT(a INTEGER, b VARCHAR)", "STRUCT(a BIGINT, b VARCHAR)")
    assert not is_widening("STRUCT(a BIGINT)", "STRUCT(a BIGINT, b VARCHAR)")
    assert not is_widening("TIMESTAMP", "TIMESTAMP_NS") and not is_widening(
        "TIMESTAMP_NS", "TIMESTAMP"
    )
    assert not is_widening("DATE", "TIMESTAMP") and not is_widening("VARCHAR", "BIGINT[]")
    assert not is_widening("NOT A TYPE", "BIGINT") and is_widening("NOT A TYPE", "not a type")
