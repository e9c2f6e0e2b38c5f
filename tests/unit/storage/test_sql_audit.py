"""The contract-to-SQL compiler agrees with pandera: same verdict and same failing-row count per check.

Hypothesis generates small frames (nullable ints, floats with infinities, short strings from a tiny
alphabet, nulls everywhere); each is staged into DuckDB the way the warehouse stages it (typed by pandera,
exact Arrow types) and audited by `audit_staged_table`, and validated lazily by pandera.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandera.errors import SchemaError, SchemaErrors
from pandera.typing import Series

from dagmesh.declare.contract import Contract, read_contract
from dagmesh.storage.audit import AuditResult, audit_staged_table, compile_column
from dagmesh.storage.frame_types import typed_arrow

ALPHABET = "abé"
# pandera's own failure-case formatting warns about a pandas deprecation: not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:The behavior of DataFrame concatenation:FutureWarning"
)


class Audited(pa.DataFrameModel):
    """Every check kind the compiler translates, on nullable and non-nullable columns."""

    i: Series[pd.Int64Dtype] = pa.Field(nullable=True, unique=True, ge=0, le=5)
    j: Series[pd.Int64Dtype] = pa.Field(nullable=False, isin=[1, 2, 3], ne=2)
    f: Series[float] = pa.Field(
        nullable=True, in_range={"min_value": 0.0, "max_value": 1.0, "include_min": False}
    )
    g: Series[float] = pa.Field(
        nullable=False,
        gt=-1.0,
        lt=2.0,
        in_range={"min_value": -1.0, "max_value": 1.5, "include_max": False},
    )
    s: Series[str] = pa.Field(
        nullable=True,
        str_startswith="a",
        str_length={"min_value": 1, "max_value": 2},
        notin=["b", "é"],
    )
    t: Series[str] = pa.Field(
        nullable=False, unique=True, isin=["a", "ab", "é", "aé"], str_length={"max_value": 2}
    )
    u: Series[str] = pa.Field(nullable=True, eq="a", str_length={"exact_value": 1})

    class Config:
        unique = ["j", "s"]


CONTRACT: Contract = read_contract(Audited)

ints = st.one_of(st.none(), st.integers(min_value=-2, max_value=7))
floats = st.one_of(
    st.none(),
    st.sampled_from([-1.0, -0.0, 0.0, 0.5, 1.0, 1.5, 2.0, float("inf"), float("-inf")]),
    st.floats(min_value=-2.0, max_value=3.0, allow_nan=False),
)
strings = st.one_of(st.none(), st.text(alphabet=ALPHABET, max_size=3))
rows = st.lists(st.tuples(ints, ints, floats, floats, strings, strings, strings), max_size=12)


def make_frame(data: list[tuple[Any, ...]]) -> pd.DataFrame:
    columns = list(zip(*data, strict=True)) if data else [()] * 7
    i, j, f, g, s, t, u = (list(c) for c in columns)
    return pd.DataFrame(
        {
            "i": pd.array(i, dtype="Int64"),
            "j": pd.array(j, dtype="Int64"),
            "f": pd.Series([float("nan") if v is None else v for v in f], dtype="float64"),
            "g": pd.Series([float("nan") if v is None else v for v in g], dtype="float64"),
            "s": pd.Series(s, dtype=object),
            "t": pd.Series(t, dtype=object),
            "u": pd.Series(u, dtype=object),
        }
    )


def duckdb_audit(frame: pd.DataFrame, contract: Contract) -> AuditResult:
    """Stage `frame` as the warehouse does (pandera types it, exact Arrow in) and audit it."""
    typed, arrow, failures = typed_arrow(contract, frame)
    assert arrow is not None, failures
    with duckdb.connect() as con:
        con.register("staged", arrow)
        return audit_staged_table(con, "staged", contract, typed)


Key = tuple[str | None, Any]  # (column, check number | "not_nullable" | "field_uniqueness" | ...)


def _error_key(error: SchemaError) -> Key:
    if error.check == "multiple_fields_uniqueness":
        return (None, error.check)
    if isinstance(error.check, str):  # not_nullable, field_uniqueness
        return (error.schema.name, error.check)
    return (error.schema.name, error.check_index)


def pandera_verdict(frame: pd.DataFrame, contract: Contract) -> tuple[set[Key], Counter[Key]]:
    """Which checks pandera's lazy validation fails, and how many rows fail each."""
    failed: set[Key] = set()
    rows: dict[Key, set[Any]] = defaultdict(set)
    try:
        contract.model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        failed = {_error_key(error) for error in errors.schema_errors}
        cases = errors.failure_cases
        for (context, column, check, number), group in cases.groupby(
            ["schema_context", "column", "check", "check_number"], dropna=False
        ):
            if context == "Column" and check in ("not_nullable", "field_uniqueness"):
                key: Key = (column, check)
            elif context == "Column" and not pd.isna(number):
                key = (column, int(number))
            elif context == "DataFrameSchema" and check == "multiple_fields_uniqueness":
                key = (None, check)  # one failure case per row *and* key column: count rows
            else:  # a dtype or any other failure: the generated frames must never produce one
                message = f"unexpected pandera failure: {context} {column} {check}"
                raise AssertionError(message) from errors
            rows[key] |= set(group["index"].dropna())

    # Pandera decides uniqueness with pandas' `duplicated` (nulls equal), but its failure-case table
    # drops null values: rows whose whole key is null fail the check without being listed. Count them
    # from the same `duplicated`, after checking the listed rows are exactly the non-null ones.
    keys = [[c.name] for c in contract.columns if c.unique]
    keys += [list(contract.unique_together)] if contract.unique_together else []
    for columns in keys:
        key = (
            (columns[0], "field_uniqueness")
            if len(columns) == 1
            else (None, "multiple_fields_uniqueness")
        )
        duplicated = frame.duplicated(subset=columns, keep=False)
        listed = duplicated & frame[columns].notna().any(axis=1)
        assert rows[key] == set(frame.index[listed]), key
        rows[key] = set(frame.index[duplicated])
    return failed, Counter({key: len(found) for key, found in rows.items()})


def compare(frame: pd.DataFrame, contract: Contract = CONTRACT) -> None:
    audit = duckdb_audit(frame, contract)
    failed, expected = pandera_verdict(frame, contract)
    outcomes = {(o.column, o.check): o for o in audit.outcomes}
    assert all(o.engine == "duckdb" for o in audit.outcomes), "every check must compile to SQL"
    assert audit.rows == len(frame)

    pairs: list[tuple[tuple[str | None, str], tuple[str | None, Any]]] = []
    for column in contract.columns:
        if not column.nullable:
            pairs.append(((column.name, "not_nullable"), (column.name, "not_nullable")))
        pairs += [
            ((column.name, check.label), (column.name, number))
            for number, check in enumerate(column.checks)
        ]
        if column.unique:
            pairs.append(((column.name, "unique"), (column.name, "field_uniqueness")))
    if contract.unique_together:
        label = f"unique({', '.join(contract.unique_together)})"
        pairs.append(((None, label), (None, "multiple_fields_uniqueness")))

    assert sorted(outcomes, key=str) == sorted((ours for ours, _ in pairs), key=str)
    for ours, theirs in pairs:
        outcome = outcomes[ours]
        assert outcome.passed == (theirs not in failed), (ours, frame)
        assert outcome.failures == expected[theirs], (ours, frame)
        assert len(outcome.samples) == min(outcome.failures, 5), ours
    assert failed <= {theirs for _, theirs in pairs}
    assert audit.passed == (not failed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_sql_audit_agrees_with_pandera(data: list[tuple[Any, ...]]) -> None:
    compare(make_frame(data))


def test_every_check_of_the_contract_compiles_to_sql() -> None:
    for column in CONTRACT.columns:
        compiled, leftover = compile_column(column)
        assert leftover == [], column.name
        assert len(compiled) == len(column.checks) + (0 if column.nullable else 1)


@pytest.mark.parametrize(
    "data",
    [
        [],  # empty frame: every check passes
        [(0, 1, 0.5, 0.0, "a", "a", "a"), (5, 3, 1.0, 1.4, "ab", "ab", None)],  # all good
        # repeated null keys: duplicates for pandera (pandas' `duplicated`), so for the SQL too
        [(None, 1, None, 0.0, None, "a", None), (None, 1, None, 0.0, None, "ab", None)],
        [(1, 1, 0.0, -1.0, "", "b", "aa"), (1, None, float("inf"), None, "b", None, "b")],
        [(6, 2, -0.0, 1.5, "aéa", "aé", "é"), (-1, 2, 1.0, float("-inf"), "é", "aé", "")],
    ],
    ids=["empty", "good", "null-keys", "mixed-bad", "edges"],
)
def test_sql_audit_agrees_with_pandera_on_known_frames(data: list[tuple[Any, ...]]) -> None:
    compare(make_frame(data))


def test_known_bad_frame_fails_the_expected_checks_with_counts() -> None:
    frame = make_frame(
        [
            (6, 2, 0.0, 1.5, "b", "x", "b"),
            (6, None, 0.5, 0.0, "ab", "a", "a"),
            (None, 1, None, 0.0, "ab", "a", None),
        ]
    )

    failed = {(o.column, o.check): o.failures for o in duckdb_audit(frame, CONTRACT).failed}

    assert failed == {
        ("i", "less_than_or_equal_to(max_value=5)"): 2,
        ("i", "unique"): 2,
        ("j", "not_nullable"): 1,
        ("j", "not_equal_to(value=2)"): 1,
        ("f", "in_range(min_value=0.0, max_value=1.0, include_min=False, include_max=True)"): 1,
        ("g", "in_range(min_value=-1.0, max_value=1.5, include_min=True, include_max=False)"): 1,
        ("s", "str_startswith(string='a')"): 1,
        ("s", "notin(forbidden_values=['b', 'é'])"): 1,
        ("t", "isin(allowed_values=['a', 'ab', 'é', 'aé'])"): 1,
        ("t", "unique"): 2,
        ("u", "equal_to(value='a')"): 1,
    }


def test_repeated_null_keys_are_duplicates_as_in_pandera() -> None:
    frame = make_frame(
        [
            (None, 1, None, 0.0, None, "a", None),
            (None, 1, None, 0.0, None, "ab", None),
            (3, 1, None, 0.0, "a", "aé", None),
        ]
    )

    audit = duckdb_audit(frame, CONTRACT)
    outcomes = {(o.column, o.check): o for o in audit.outcomes}

    assert outcomes[("i", "unique")].failures == 2  # the two null i's
    assert [s["i"] for s in outcomes[("i", "unique")].samples] == [None, None]
    assert outcomes[(None, "unique(j, s)")].failures == 2  # (1, null) twice
    assert outcomes[("t", "unique")].failures == 0
    failed, _ = pandera_verdict(frame, CONTRACT)
    assert (("i", "field_uniqueness") in failed) and (
        (None, "multiple_fields_uniqueness") in failed
    )


class Keyed(pa.DataFrameModel):
    """An integer key: its uniqueness is decided by a bitmap, a pigeonhole count or a hash fallback."""

    id: Series[pd.Int64Dtype] = pa.Field(nullable=True, unique=True)


KEYED: Contract = read_contract(Keyed)
INT64 = (-(2**63), 2**63 - 1)
wide_ints = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=3),  # dense: bitmap
    st.sampled_from([*INT64, 2**40, -(2**40)]),  # sparse: the COUNT(DISTINCT) fallback
)


def key_duplicates(values: list[int | None]) -> int:
    """Failing rows of a `unique` column as pandera counts them: pandas' `duplicated`, nulls equal."""
    return int(pd.Series(values, dtype="Int64").duplicated(keep=False).sum())


def key_failures(values: list[int | None]) -> int:
    frame = pd.DataFrame({"id": pd.array(values, dtype="Int64")})
    outcome = next(o for o in duckdb_audit(frame, KEYED).outcomes if o.check == "unique")
    assert len(outcome.samples) == min(outcome.failures, 5)
    return outcome.failures


@pytest.mark.parametrize(
    "values",
    [
        list(range(1000)),  # dense and unique: the bitmap says so
        [*range(1000), 500],  # dense, one duplicate
        [1, 1, 2],  # more values than the range holds: duplicates without a bitmap
        [0, 2**40, -(2**40)],  # sparse and unique: hash fallback
        [0, 2**40, 2**40],  # sparse, duplicated
        list(INT64),  # the whole int64 range
        [None, 5, None],  # repeated nulls are duplicates, as in pandas
        [None, 5, 6],
        [None, None],
        [None],
        [],
    ],
    ids=[
        "dense",
        "dense-dup",
        "pigeonhole",
        "sparse",
        "sparse-dup",
        "int64-range",
        "null-dup",
        "one-null",
        "all-null",
        "single-null",
        "empty",
    ],
)
def test_integer_key_uniqueness_agrees_with_pandas(values: list[int | None]) -> None:
    assert key_failures(values) == key_duplicates(values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(wide_ints, max_size=12))
def test_integer_key_uniqueness_agrees_with_pandas_on_random_keys(values: list[int | None]) -> None:
    assert key_failures(values) == key_duplicates(values)


class Pairs(pa.DataFrameModel):
    """A two-integer key, as an order line's (order id, line number)."""

    a: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    b: Series[pd.Int64Dtype] = pa.Field(nullable=True)

    class Config:
        unique = ["a", "b"]


EXTREMES = [-(2**63), 2**63 - 1, 0, -1, 1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(EXTREMES)),
            st.one_of(st.none(), st.integers(0, 6), st.sampled_from(EXTREMES)),
        ),
        max_size=40,
    )
)
def test_a_two_integer_key_counts_duplicates_as_pandera_does(pairs):
    """The two-column key is counted with a bitmap of the product of the two ranges when both are
    dense and null-free, by hashing otherwise: dense and sparse ranges, negative values, the int64
    extremes (whose span overflows a 64-bit product) and nulls must all give pandera's verdict."""
    frame = pd.DataFrame(
        {
            "a": pd.array([p[0] for p in pairs], dtype="Int64"),
            "b": pd.array([p[1] for p in pairs], dtype="Int64"),
        }
    )
    contract = read_contract(Pairs)
    (outcome,) = duckdb_audit(frame, contract).outcomes
    duplicated = int(frame.duplicated(subset=["a", "b"], keep=False).sum())
    assert outcome.failures == duplicated
    try:
        Pairs.validate(frame, lazy=True)
        pandera_passed = True
    except SchemaErrors:
        pandera_passed = False
    assert outcome.passed == pandera_passed


def test_a_dense_two_integer_key_of_a_million_lines_is_counted_exactly():
    """Order lines 1..7 of 150,000 orders: unique, then one line repeated."""
    orders, lines = 150_000, 7
    keys = pd.DataFrame(
        {
            "a": pd.array([o for o in range(orders) for _ in range(lines)], dtype="Int64"),
            "b": pd.array([n for _ in range(orders) for n in range(1, lines + 1)], dtype="Int64"),
        }
    )
    contract = read_contract(Pairs)
    assert duckdb_audit(keys, contract).passed
    repeated = pd.concat([keys, keys.iloc[[12345]]], ignore_index=True)
    (outcome,) = duckdb_audit(repeated, contract).outcomes
    assert outcome.failures == 2
