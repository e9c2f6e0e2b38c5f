"""GX's own model is the oracle of `plain_expectation`: an expectation configuration read without GX must
be one GX accepts, with every value the compiler reads equal, and of the same type, to what GX's model
makes of it; and SQL must decide it exactly as it decides GX's object. A configuration GX would coerce or
reject is not plain (it goes to GX whole). The generator sends what a careless suite file would: strings
for numbers, bools for numbers, NaN, infinities, huge integers, suite parameters, unknown keys, bad
severities, lists of mixed members.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagmesh.binding.expectations import gx_expectation, validate_table
from dagmesh.storage.expectation_sql import (
    EXPECTATION_TYPES,
    PlainExpectation,
    evaluate_in_duckdb,
    plain_expectation,
)

TYPES = [*EXPECTATION_TYPES.values(), "expect_column_values_to_match_regex", "expect_nothing", ""]
VALUES = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2,
        0.0,
        -0.0,
        0.5,
        1.5,
        -2.5,
        1e6,
        1.7e308,
        1.79e308,
        math.nan,
        math.inf,
        -math.inf,
        10**400,
        2**53 + 1,
        2**63,
        -(2**63) - 1,
        "0.5",
        "1",
        "abc",
        "",
        "a",
        "x",
        "BASIC",
        "SUMMARY",
        "COMPLETE",
        "BOOLEAN_ONLY",
        "basic",
        Decimal("1.5"),
        Decimal("NaN"),
        [],
        ["a"],
        ["F", "O"],
        [1, 2, 3],
        [1, True, None, 1.5],
        [math.nan],
        ["a", 1],
        [[1]],
        {"$PARAMETER": "low"},
        {},
        {"a": 1},
    ]
)
KWARGS = st.dictionaries(
    st.sampled_from(
        [
            "column",
            "column",
            "mostly",
            "min_value",
            "max_value",
            "strict_min",
            "strict_max",
            "value_set",
            "value_set",
            "result_format",
            "row_condition",
            "condition_parser",
            "catch_exceptions",
            "meta",
            "unknown",
        ]
    ),
    VALUES,
    max_size=6,
)
# Columns the table below has, so kwargs that name them decide something.
COLUMNS = st.sampled_from(["i", "f", "s", "d", "missing"])
TOP = st.dictionaries(
    st.sampled_from(["meta", "notes", "severity", "id", "description", "rendered", "kwarg"]),
    st.sampled_from([{}, {"a": 1}, "critical", "warning", "bogus", "note", ["n"], 3, None]),
    max_size=2,
)


@st.composite
def configurations(draw) -> dict[str, Any]:
    kwargs = draw(KWARGS)
    if draw(st.booleans()):
        kwargs["column"] = draw(COLUMNS)
    return {"type": draw(st.sampled_from(TYPES)), "kwargs": kwargs, **draw(TOP)}


NUMBERS = st.one_of(st.integers(-(2**64), 2**64), st.floats(allow_nan=True), VALUES)


@st.composite
def plausible(draw) -> dict[str, Any]:
    """A well-formed configuration of a compiled type, then perhaps one value or key made hostile."""
    kind = draw(st.sampled_from(list(EXPECTATION_TYPES.values())))
    kwargs: dict[str, Any] = {}
    if kind != "expect_table_row_count_to_be_between":
        kwargs["column"] = draw(COLUMNS)
        if draw(st.booleans()):
            kwargs["mostly"] = draw(st.floats(0, 1) | st.sampled_from([0, 1]))
    if kind.endswith("_between"):
        integer = kind == "expect_table_row_count_to_be_between"
        bound = st.integers(-5, 10) if integer else st.floats(-10, 10) | st.integers(-10, 10)
        for name in draw(st.sets(st.sampled_from(["min_value", "max_value"]), min_size=1)):
            kwargs[name] = draw(bound)
        for flag in draw(st.sets(st.sampled_from(["strict_min", "strict_max"]))):
            kwargs[flag] = draw(st.booleans())
    if kind == "expect_column_values_to_be_in_set":
        member = st.sampled_from(["F", "O", "x", "", 1, 2, 0.5, -0.0, math.nan, True, None])
        kwargs["value_set"] = draw(st.lists(member, max_size=5))
    if draw(st.booleans()):
        kwargs["result_format"] = draw(st.sampled_from(["BASIC", "SUMMARY", "COMPLETE"]))
    if draw(st.integers(0, 3)) == 0 and kwargs:
        kwargs[draw(st.sampled_from(sorted(kwargs)))] = draw(NUMBERS)
    return {"type": kind, "kwargs": kwargs, **draw(TOP)}


CONFIGURATIONS = st.one_of(configurations(), plausible())

READ = (
    "column", "mostly", "min_value", "max_value", "strict_min", "strict_max", "value_set",
    "row_condition", "condition_parser", "windows",
)  # fmt: skip


DEFAULTS = {"mostly": 1, "strict_min": False, "strict_max": False}


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type, NaN equal to NaN, a tuple of members equal to GX's list of them."""
    if isinstance(a, tuple) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.fixture(scope="module")
def table() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 0.5, 'F', 1.50::DECIMAL(15,2)), "
        "(2, NULL, 'O', 0.00::DECIMAL(15,2)), (2, 'NaN'::DOUBLE, NULL, NULL), "
        "(NULL, -1.0, 'x', -2.50::DECIMAL(15,2))) v(i, f, s, d)"
    )
    return con


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(config=CONFIGURATIONS)
def test_a_plain_configuration_is_exactly_what_gx_makes_of_it(config, table):
    plain = plain_expectation(config)
    if plain is None:
        return  # left to GX whole: always safe
    gx_object = gx_expectation(config)  # GX must accept what was read without it
    assert type(gx_object).__name__ == plain.gx_class
    for attribute in READ:
        # as the compiler reads it: with its default where the class has no such field
        default = DEFAULTS.get(attribute)
        ours, theirs = getattr(plain, attribute, default), getattr(gx_object, attribute, default)
        assert _same(ours, theirs), (attribute, ours, theirs)
    assert plain.result_format == getattr(gx_object.result_format, "value", None)
    by_plain = evaluate_in_duckdb(table, '"t"', [plain])
    by_gx = evaluate_in_duckdb(table, '"t"', [gx_object])
    assert by_plain.verdicts == by_gx.verdicts
    assert by_plain.leftover == by_gx.leftover


@pytest.mark.parametrize(
    "config",
    [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "f", "min_value": "0"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "f", "max_value": True},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1.5}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "f", "mostly": "1"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": 1}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "s"}, "severity": "x"},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "s", "meta": {}}},
        {
            "type": "expect_column_values_to_be_unique",
            "kwargs": {"column": "s", "row_condition": "a"},
        },
    ],
)
def test_what_gx_would_coerce_or_reject_is_not_plain(config):
    assert plain_expectation(config) is None


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_the_generator_reaches_plain_configurations():
    """A property over configurations none of which is plain would prove nothing; nor would one whose
    plain configurations were all friendly."""
    drawn = [CONFIGURATIONS.example() for _ in range(400)]
    plain = [c for c in drawn if isinstance(plain_expectation(c), PlainExpectation)]
    # about one in seven is plain; the bound leaves room for the draw's chance
    assert len(plain) >= 15
    assert len(drawn) - len(plain) >= 100


def test_a_plain_suite_left_to_gx_by_its_data_is_still_decided_by_gx(table):
    """A BIGINT beyond 2**53 with a null puts uniqueness out of SQL's reach: the plain configuration
    must then become a GX object and be decided by GX."""
    table.execute(
        "CREATE OR REPLACE TABLE big AS SELECT * FROM (VALUES (1::BIGINT << 60), (NULL)) v(b)"
    )
    results = validate_table(
        table,
        "shop/big",
        ("main", "big"),
        [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "b"}}],
    )
    assert [(r.engine, r.success) for r in results] == [("gx", True)]


def test_the_sample_orders_suite_runs_without_importing_gx(tmp_path):
    """The point of plain configurations: sales/orders' suite is decided with GX never imported."""
    script = textwrap.dedent(
        """
        import sys, duckdb
        from dagmesh.binding.expectations import validate_table
        from sales.defs.orders.contract import ORDERS_EXPECTATIONS
        con = duckdb.connect()
        con.execute("CREATE TABLE o AS SELECT range + 1 AS o_orderkey, 10.5::DECIMAL(15,2) AS "
                    "o_totalprice, 'F' AS o_orderstatus FROM range(100)")
        results = validate_table(con, "sales/orders", ("main", "o"), ORDERS_EXPECTATIONS)
        assert all(r.success and r.engine == "duckdb" for r in results), results
        assert len(results) == len(ORDERS_EXPECTATIONS)
        print("gx imported" if "great_expectations" in sys.modules else "gx not imported")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "gx not imported"
