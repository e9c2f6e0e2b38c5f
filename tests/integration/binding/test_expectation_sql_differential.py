"""Differential: every expectation the SQL compiler decides (`dagmesh.storage.expectation_sql`) gets
exactly the verdict of GX's pandas engine on the frame the check would otherwise have built
(`arrow_to_pandas` of the published table): success, unexpected count and, for the row count, the
observed value. Whatever the compiler cannot decide that way it must hand to GX, never guess.

The frames are hostile on purpose: nullable integers (float64 in pandas) near 2**53 and the int64 limits,
floats with NaN (a null to GX, a value to DuckDB), infinities and -0.0, DECIMAL(15,2) and DECIMAL(38,4)
at the edges of their range against float bounds (Python compares Decimal and float exactly), unicode,
empty and NUL strings, duplicates, all-null columns and empty tables. GX is slow, so each frame gets one
suite of many expectations.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import duckdb
import great_expectations as gx
import numpy as np
import pyarrow as pa
import pytest
from great_expectations.expectations.row_conditions import Column
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagmesh.binding.expectations import validate_frame
from dagmesh.storage.expectation_sql import evaluate_in_duckdb
from dagmesh.storage.frames import arrow_to_pandas

E = gx.expectations
TABLE = '"t"'
INF, NAN = math.inf, math.nan

INT_EDGES = [
    *(0, 1, -1, 2, 3, 7, -7, 100),
    *(2**31 - 1, -(2**31), 2**53 - 1, 2**53, 2**53 + 1, 2**53 + 2, 2**53 + 3, -(2**53) - 1),
    *(2**62 + 1, 2**63 - 1, -(2**63), -(2**63) + 1),
]
# Integers a float64 holds exactly: a nullable BIGINT of these is decided in SQL for every expectation.
EXACT_EDGES = [0, 1, -1, 2, 7, -7, 2**31, 2**53 - 1, 2**53, -(2**53), -(2**53) + 1, 2**52 + 1]
INT32_EDGES = [0, 1, -1, 2, 7, -7, 2**31 - 1, -(2**31), 2**24 + 1]
FLOAT_EDGES = [
    *(0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 7.0, 0.30000000000000004, 1e-300, 5e-324),
    *(1e308, -1e308, INF, -INF, NAN, 2.0**53, 2.0**53 + 2, 9.223372036854776e18, 1e6),
]
DEC2_EDGES = [
    Decimal(text)
    for text in (
        *("0.00", "0.10", "-0.01", "0.01", "1.00", "7.00", "0.30", "0.50", "1000000.00"),
        *("9999999999999.99", "-9999999999999.99", "9007199254740.99", "-0.10"),
    )
]
DEC4_EDGES = [
    Decimal(text)
    for text in (
        "0.0000",
        "0.1000",
        "-0.0001",
        "1.5000",
        "9" * 34 + ".9999",
        "-" + "9" * 34 + ".9999",
    )
]
STR_EDGES = [
    *("", "a", "A", "ß", "SS", "é", "e\u0301", "😀", "\x00", " ", "a ", "O", "F", "P"),
    *("NULL", "None", "nan", "1", "0.1"),
]
DATE_EDGES = [dt.date(1970, 1, 1), dt.date(2000, 2, 29), dt.date(1, 1, 1), dt.date(2262, 4, 11)]

# name -> (arrow type, strategy of a non-null value, may hold nulls)
COLUMNS: dict[str, tuple[pa.DataType, st.SearchStrategy[Any], bool]] = {
    "i": (pa.int64(), st.sampled_from(INT_EDGES) | st.integers(-(2**63), 2**63 - 1), True),
    "j": (pa.int64(), st.sampled_from(INT_EDGES) | st.integers(-5, 5), False),
    "m": (pa.int64(), st.sampled_from(EXACT_EDGES) | st.integers(-(2**53), 2**53), True),
    "k": (pa.int32(), st.sampled_from(INT32_EDGES) | st.integers(-(2**31), 2**31 - 1), True),
    "f": (pa.float64(), st.sampled_from(FLOAT_EDGES) | st.floats(), True),
    "d": (
        pa.decimal128(15, 2),
        st.sampled_from(DEC2_EDGES)
        | st.decimals(Decimal("-9999999999999.99"), Decimal("9999999999999.99"), places=2),
        True,
    ),
    "e": (
        pa.decimal128(38, 4),
        st.sampled_from(DEC4_EDGES) | st.decimals(Decimal(-(10**6)), Decimal(10**6), places=4),
        True,
    ),
    "s": (pa.string(), st.sampled_from(STR_EDGES) | st.text(max_size=3), True),
    "b": (pa.bool_(), st.booleans(), True),
    "t": (pa.date32(), st.sampled_from(DATE_EDGES) | st.dates(), True),
    "r": (pa.float32(), st.sampled_from([0.0, 0.1, NAN, INF, 1.5]), True),
}
NUMERIC = ("i", "j", "m", "k", "f", "d", "e", "r")
MOSTLY = st.sampled_from([1, 1.0, 0.5, 0.9, 0.25, 1 / 3, 2 / 3, 0.75, 1e-9, 0.0]) | st.floats(
    0, 1, exclude_min=True
)


def publish(columns: dict[str, tuple[pa.DataType, list[Any]]]) -> duckdb.DuckDBPyConnection:
    """The frame as a published DuckDB table, types exact (NaN stays a value, None is null)."""
    table = pa.table({name: pa.array(values, type_) for name, (type_, values) in columns.items()})
    con = duckdb.connect()
    con.register("arrow_frame", table)
    con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM arrow_frame")
    con.unregister("arrow_frame")
    return con


SUITE_SIZE = 120  # GX checks each added expectation against the suite's: keep suites small


def distinct(expectations: list[Any]) -> list[Any]:
    """A GX suite keeps one of "equalish" expectations (same type and fields but id and meta): keep
    one of each on both sides."""
    kept: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    unique = []
    for expectation in expectations:
        fields = expectation.dict(exclude={"id", "rendered_content", "notes", "meta"})
        same = kept.setdefault((expectation.expectation_type, fields.get("column")), [])
        if fields not in same:
            same.append(fields)
            unique.append(expectation)
    return unique


def compare(con: duckdb.DuckDBPyConnection, expectations: list[Any]) -> tuple[int, int]:
    """Every SQL verdict equals GX's on the frame; return (decided in DuckDB, left to GX)."""
    expectations = distinct(expectations)
    evaluation = evaluate_in_duckdb(con, TABLE, expectations)
    assert sorted([*evaluation.verdicts, *evaluation.leftover]) == list(range(len(expectations)))
    decided = sorted(evaluation.verdicts)
    if decided:
        frame = arrow_to_pandas(con.execute(f"SELECT * FROM {TABLE}").to_arrow_table())
        oracle = []
        for start in range(0, len(decided), SUITE_SIZE):
            chunk = [expectations[p] for p in decided[start : start + SUITE_SIZE]]
            oracle += validate_frame("differential", frame, chunk)
        for position, want in zip(decided, oracle, strict=True):
            got = evaluation.verdicts[position]
            config = expectations[position].configuration.kwargs
            assert got.expectation == want.expectation, config
            assert (got.success, got.unexpected_count, got.observed) == (
                want.success,
                want.unexpected_count,
                want.observed,
            ), f"{want.expectation} {config}: duckdb {got}, gx {want}"
    return len(decided), len(evaluation.leftover)


def build(factory: Any, **kwargs: Any) -> Any | None:
    """The expectation, or None when GX itself refuses its parameters."""
    try:
        return factory(**kwargs)
    except Exception:
        return None


def bounds_for(name: str, values: list[Any]) -> st.SearchStrategy[Any]:
    present = [v for v in values if v is not None]
    numbers = (
        st.sampled_from(INT_EDGES + FLOAT_EDGES + DEC2_EDGES + DEC4_EDGES)
        | st.floats()
        | st.integers(-(2**64), 2**64)
        | st.decimals(allow_nan=False, allow_infinity=False, places=3)
    )
    if present:
        numbers = st.sampled_from(present) | numbers
    return st.none() | numbers


def members_for(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    present = [v for v in values if v is not None]
    member = (
        st.sampled_from([None, NAN, True, False, 2**53 + 1, 2**60, 0, 1, -0.0, INF, "a", "", "1"])
        | st.sampled_from([*DEC2_EDGES, Decimal("NaN"), Decimal("Infinity"), Decimal("1.5")])
        | st.integers(-10, 10)
        | st.floats()
        | st.text(max_size=2)
    )
    if present:
        member = st.sampled_from(present) | st.sampled_from(present) | member
    return st.lists(member, max_size=6)


@st.composite
def frames_and_suites(
    draw: st.DrawFn,
) -> tuple[dict[str, tuple[pa.DataType, list[Any]]], list[Any]]:
    rows = draw(st.integers(0, 24))
    columns: dict[str, tuple[pa.DataType, list[Any]]] = {}
    for name, (type_, value, nullable) in COLUMNS.items():
        null_share = draw(st.sampled_from([0.0, 0.0, 0.2, 0.5, 1.0])) if nullable else 0.0
        # A small pool makes duplicates likely; the share of nulls varies, all-null included.
        pool = draw(st.lists(value, min_size=1, max_size=max(1, rows // 2 + 1)))
        values = [
            None if draw(st.floats(0, 1)) < null_share else draw(st.sampled_from(pool))
            for _ in range(rows)
        ]
        if not nullable and None in values:
            values = [v if v is not None else pool[0] for v in values]
        columns[name] = (type_, values)
    suite: list[Any] = []
    for name, (_type, values) in columns.items():
        suite.append(build(E.ExpectColumnValuesToNotBeNull, column=name, mostly=draw(MOSTLY)))
        suite.append(build(E.ExpectColumnValuesToBeUnique, column=name, mostly=draw(MOSTLY)))
        targets = 2 if name in NUMERIC else 1
        for _ in range(targets):
            suite.append(
                build(
                    E.ExpectColumnValuesToBeBetween,
                    column=name,
                    min_value=draw(bounds_for(name, values)),
                    max_value=draw(bounds_for(name, values)),
                    strict_min=draw(st.booleans()),
                    strict_max=draw(st.booleans()),
                    mostly=draw(MOSTLY),
                )
            )
            suite.append(
                build(
                    E.ExpectColumnValuesToBeInSet,
                    column=name,
                    value_set=draw(members_for(values)),
                    mostly=draw(MOSTLY),
                )
            )
    for _ in range(2):
        near = st.sampled_from([None, 0, rows - 1, rows, rows + 1])
        suite.append(
            build(
                E.ExpectTableRowCountToBeBetween,
                min_value=draw(near),
                max_value=draw(near),
                strict_min=draw(st.booleans()),
                strict_max=draw(st.booleans()),
            )
        )
    return columns, [e for e in suite if e is not None]


@settings(
    max_examples=16,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(frames_and_suites())
def test_generated_frames_and_suites_get_gx_verdicts(case):
    columns, suite = case
    with publish(columns) as con:
        decided, _left = compare(con, suite)
    # Not-null on every column, and the row count, always compile: the comparison is never vacuous.
    assert decided >= len(COLUMNS) + 1


def hostile_columns() -> dict[str, tuple[pa.DataType, list[Any]]]:
    """Every edge value at once, some twice, with nulls."""
    return {
        "i": (pa.int64(), [*INT_EDGES, 2**53 + 1, None]),
        "j": (pa.int64(), [*INT_EDGES, 7, 7]),
        "m": (pa.int64(), [*EXACT_EDGES, 7, 2**53, *[None] * 8]),
        "k": (pa.int32(), [*INT32_EDGES, *[None] * (len(INT_EDGES) + 2 - len(INT32_EDGES))]),
        "f": (pa.float64(), [*FLOAT_EDGES, 0.0, None, NAN][: len(INT_EDGES) + 2]),
        "d": (pa.decimal128(15, 2), [*DEC2_EDGES, Decimal("0.10"), *[None] * 10][:22]),
        "e": (pa.decimal128(38, 4), [*DEC4_EDGES, Decimal("1.5"), *[None] * 20][:22]),
    }


# Bounds and members every column meets besides its own values: the other types' edges.
CROSS_EDGES: list[Any] = [
    *(0, -0.0, 0.1, INF, -INF, NAN, 2**53 + 1, 2**63 - 1, 2**64, -(2**64), 1e308, 5e-324),
    *(Decimal("0.10"), Decimal("-0.01"), Decimal("9999999999999.99"), 9.223372036854776e18),
    *(Decimal("Infinity"), Decimal("-Infinity")),  # a Decimal infinity equals a float one
]


def test_hostile_frame_against_every_edge_bound_and_member():
    """Each column against its own values as bounds and members (where == decides) and the edges of
    the other types, with every strictness."""
    columns = hostile_columns()
    rows = {len(values) for _type, values in columns.values()}
    assert rows == {22}
    suite: list[Any] = []
    for name, (_type, values) in columns.items():
        bounds = [*dict.fromkeys(repr(v) for v in values if v is not None)]
        own = [next(v for v in values if repr(v) == text) for text in bounds]
        between = E.ExpectColumnValuesToBeBetween
        for index, bound in enumerate(own):  # a bound equal to a value: strictness and exactness
            side = "min" if index % 2 else "max"  # decide; each value bounds one side, both ways
            for strict in (False, True):
                bounded = {f"{side}_value": bound, f"strict_{side}": strict}
                suite.append(build(between, column=name, **bounded))
        for bound in CROSS_EDGES:
            suite.append(build(between, column=name, min_value=bound, strict_min=True))
            suite.append(build(between, column=name, max_value=bound))
        for member in [*own, *CROSS_EDGES]:
            suite.append(build(E.ExpectColumnValuesToBeInSet, column=name, value_set=[member]))
        suite.append(build(E.ExpectColumnValuesToBeInSet, column=name, value_set=[None, True]))
        suite.append(build(E.ExpectColumnValuesToBeInSet, column=name, value_set=[]))
        suite.append(build(E.ExpectColumnValuesToBeInSet, column=name, value_set=own[::2]))
        suite.append(build(E.ExpectColumnValuesToBeUnique, column=name))
        suite.append(build(E.ExpectColumnValuesToNotBeNull, column=name, mostly=0.9))
    with publish(columns) as con:
        decided, left = compare(con, [e for e in suite if e is not None])
    assert decided > 3 * left  # the edges are what SQL must get right, not what it may skip


def test_members_that_equal_values_of_another_type():
    """Python equality crosses types: Decimal("Infinity") == inf, Decimal("1.5") == 1.5, True == 1;
    a suite would keep only one of such equal members, so each is in a suite of its own here."""
    columns = {
        "f": (pa.float64(), [INF, 1.0, -INF, 1.5, None, NAN]),
        "d": (pa.decimal128(15, 2), [Decimal("1.50"), Decimal("1.00"), None, None, None, None]),
        "s": (pa.string(), ["1", "1.5", "Infinity", "True", None, ""]),
    }
    members = [Decimal("Infinity"), Decimal("-Infinity"), Decimal("1.5"), True, 1, 1.5, "1"]
    with publish(columns) as con:
        for member in members:
            for name in columns:
                suite = [E.ExpectColumnValuesToBeInSet(column=name, value_set=[member, None])]
                compare(con, suite)


@pytest.mark.parametrize(
    ("type_", "values"),
    [
        (pa.int8(), [-128, 127, 0, -1, 5, 5]),
        (pa.int16(), [-(2**15), 2**15 - 1, 0, 3, 3, 1]),
        (pa.uint8(), [0, 255, 1, 1, 128, 7]),
        (pa.uint16(), [0, 2**16 - 1, 9, 9, 2, 3]),
        (pa.uint32(), [0, 2**32 - 1, 2**31, 2**31, 4, 4]),
    ],
)
@pytest.mark.parametrize("with_null", [False, True])
def test_small_integer_types(type_, values, with_null):
    """int8 to uint32 are their own dtypes in pandas (float64 with a null), compared per value."""
    data = [*values, None] if with_null else values
    columns = {"n": (type_, data)}
    suite: list[Any] = [E.ExpectColumnValuesToBeUnique(column="n")]
    for value in values:
        for bound in (value, value - 0.5, value + 0.5):
            suite.append(E.ExpectColumnValuesToBeBetween(column="n", min_value=bound))
            suite.append(
                E.ExpectColumnValuesToBeBetween(column="n", max_value=bound, strict_max=True)
            )
        suite.append(E.ExpectColumnValuesToBeInSet(column="n", value_set=[value, 300, -1.0]))
    with publish(columns) as con:
        _decided, left = compare(con, suite)
    assert left == 0


def routed(columns: dict[str, tuple[pa.DataType, list[Any]]], suite: list[Any]) -> list[str]:
    with publish(columns) as con:
        evaluation = evaluate_in_duckdb(con, TABLE, suite)
    return ["duckdb" if p in evaluation.verdicts else "gx" for p in range(len(suite))]


def test_what_sql_cannot_match_goes_to_gx():
    columns = {
        "big": (pa.int64(), [2**53 + 1, 2**53, None]),  # float64 in pandas: the two collide
        "small": (pa.int64(), [1, 2, None]),
        "s": (pa.string(), ["a", "b", None]),
        "f": (pa.float64(), [0.5, NAN, None]),
        "r": (pa.float32(), [0.1, 0.2, None]),
        "t": (pa.date32(), [dt.date(2020, 1, 1), None, None]),
    }
    cases = [
        ("gx", E.ExpectColumnValuesToBeUnique(column="big")),  # nullable beyond 2**53
        ("gx", E.ExpectColumnValuesToBeInSet(column="big", value_set=[2**53])),
        ("duckdb", E.ExpectColumnValuesToBeBetween(column="big", min_value=0)),  # both in float64
        ("duckdb", E.ExpectColumnValuesToBeUnique(column="small")),
        ("gx", E.ExpectColumnValuesToBeInSet(column="small", value_set=[True])),  # True == 1
        ("gx", E.ExpectColumnValuesToBeInSet(column="small", value_set=[Decimal(1)])),
        ("duckdb", E.ExpectColumnValuesToBeInSet(column="small", value_set=[1, None, 2.5])),
        ("gx", E.ExpectColumnValuesToBeBetween(column="s", min_value=0)),  # GX raises on strings
        ("duckdb", E.ExpectColumnValuesToBeInSet(column="s", value_set=["a", 1, None])),
        ("gx", E.ExpectColumnValuesToBeBetween(column="f", min_value=NAN)),
        ("gx", E.ExpectColumnValuesToBeBetween(column="f", min_value=2, max_value=1)),  # GX raises
        ("gx", E.ExpectColumnValuesToBeBetween(column="r", min_value=0.1)),  # float32 arithmetic
        ("duckdb", E.ExpectColumnValuesToNotBeNull(column="r")),
        ("duckdb", E.ExpectColumnValuesToNotBeNull(column="t")),
        ("gx", E.ExpectColumnValuesToBeBetween(column="t", min_value=dt.date(2020, 1, 1))),
        (
            "gx",
            E.ExpectColumnValuesToNotBeNull(column="missing"),
        ),  # GX reports it; the check errors
        (
            "gx",
            E.ExpectColumnValuesToNotBeNull(column="small", row_condition=Column("small") > 1),
        ),
        ("gx", E.ExpectColumnValuesToBeInSet(column="small", value_set={"$PARAMETER": "members"})),
        ("gx", E.ExpectColumnValuesToNotBeNull(column="small", result_format="BOOLEAN_ONLY")),
        ("gx", E.ExpectColumnMaxToBeBetween(column="small", min_value=0)),  # not compiled at all
        ("duckdb", E.ExpectTableRowCountToBeBetween(min_value=1)),
    ]
    assert routed(columns, [e for _engine, e in cases]) == [engine for engine, _e in cases]


def test_a_subclass_of_a_gx_expectation_is_not_taken_for_it():
    class Lenient(E.ExpectColumnValuesToNotBeNull):
        pass

    columns = {"x": (pa.int64(), [1, None])}
    assert routed(columns, [Lenient(column="x")]) == ["gx"]


def test_large_in_set_on_numbers_takes_pandas_fast_path_the_same_way():
    """Above a million values pandas' `isin` switches to `np.isin` for numbers (a value set of at most
    26): the compiled SQL must still agree, with None and mixed members."""
    rows = 1_000_100
    ints = np.arange(rows, dtype=np.int64) % 1000
    columns = {
        "n": (pa.int64(), ints),
        "x": (pa.float64(), ints.astype(np.float64) / 4),
    }
    suite = [
        E.ExpectColumnValuesToBeInSet(column="n", value_set=[*range(990), None], mostly=0.5),
        E.ExpectColumnValuesToBeInSet(column="n", value_set=[1, 2.5, 3.0, None], mostly=0.0),
        E.ExpectColumnValuesToBeInSet(column="x", value_set=[0.25, 1, None, NAN, -0.0]),
        E.ExpectColumnValuesToBeUnique(column="n", mostly=0.0),
    ]
    with publish(columns) as con:
        decided, left = compare(con, suite)
    assert (decided, left) == (4, 0)


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_single_row_tables(rows):
    columns = {name: (type_, [None] * rows) for name, (type_, _v, _n) in COLUMNS.items()}
    suite = [E.ExpectTableRowCountToBeBetween(min_value=0, max_value=0)]
    for name in columns:
        suite += [
            E.ExpectColumnValuesToNotBeNull(column=name),
            E.ExpectColumnValuesToBeUnique(column=name),
            E.ExpectColumnValuesToBeInSet(column=name, value_set=[]),
        ]
    with publish(columns) as con:
        decided, _left = compare(con, suite)
    assert decided >= 1 + 2 * len(columns)
