"""Differential testing of the contract audit, with pandera as the oracle.

Hypothesis strategies draw (contract, frame) pairs: a pandera `DataFrameModel` built from a `ContractSpec`
(1-4 columns of every type dagmesh stores, built-in and custom checks, frame checks, multi-column
uniqueness, coercion, masks) and a frame of 0-8 rows that is often valid and often hostile (NaN, inf,
nulls of every spelling, int64 bounds, values of the wrong type, tz-aware values in naive columns,
awkward unicode, duplicates, object columns where the contract has a typed one).

`compare` publishes the frame through `MeshWarehouse.publish` and classifies the result against pandera's
verdict on the same frame (`Model.validate(frame, lazy=True)`):

- published_ok / refused_ok: both agree;
- soundness_violation: dagmesh published what pandera rejects, the published table does not satisfy
  `contract.published_schema()`, reads back with other dtypes than the contract's (compared exactly:
  pandera's own dtype check lets int64 pass for Int64) or other values than the (pandera-coerced)
  input's (masked columns excepted), or an exception other than `ContractViolation` / `DagmeshError`
  escaped `publish`;
- completeness_gap: pandera accepts, dagmesh refused, and no documented deliberate difference explains it;
- deliberate_difference(name): one of the few documented differences (`deliberate_difference`).

Where the contract has no `published_schema()` yet (older dagmesh), the model's schema stands in for it
and every outcome carries a note saying so.

Used by tests/integration/storage/test_contract_differential.py (bounded) and benchmarks/contract_differential.py (large runs).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
from hypothesis import assume
from hypothesis import strategies as st
from pandera.errors import SchemaError, SchemaErrors
from pandera.typing import Series

from dagmesh.core.errors import ContractViolation, DagmeshError
from dagmesh.declare.contract import Contract, ContractDefinitionError, read_contract
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from tests.helpers.readers import TRUSTED

# -- column kinds ---------------------------------------------------------------------------------

OTHER_TZ = "America/New_York"


@dataclass(frozen=True)
class Kind:
    """A contract column type: how it is annotated, the pandas dtype of a well-typed column, its family."""

    name: str
    annotation: Any
    dtype: Any
    family: str  # int, float, str, bool, datetime, date, decimal, list, struct
    source: str  # the annotation as code, for printed examples
    tz: str | None = None
    masked_float: bool = False  # Float64: NaN is a value, distinct from NA


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("int64", int, "int64", "int", "int"),
        Kind("Int64", pd.Int64Dtype, "Int64", "int", "pd.Int64Dtype"),
        Kind("float64", float, "float64", "float", "float"),
        Kind("Float64", pd.Float64Dtype, "Float64", "float", "pd.Float64Dtype", masked_float=True),
        Kind("str", str, object, "str", "str"),
        Kind("string", pd.StringDtype, "string", "str", "pd.StringDtype"),
        Kind("bool", bool, "bool", "bool", "bool"),
        Kind("boolean", pd.BooleanDtype, "boolean", "bool", "pd.BooleanDtype"),
        Kind("datetime", pd.Timestamp, "datetime64[ns]", "datetime", "pd.Timestamp"),
        Kind(
            "datetime_utc",
            Annotated[pd.DatetimeTZDtype, "ns", "UTC"],
            pd.DatetimeTZDtype("ns", "UTC"),
            "datetime",
            'Annotated[pd.DatetimeTZDtype, "ns", "UTC"]',
            tz="UTC",
        ),
        Kind(
            "datetime_other_tz",
            Annotated[pd.DatetimeTZDtype, "ns", OTHER_TZ],
            pd.DatetimeTZDtype("ns", OTHER_TZ),
            "datetime",
            f'Annotated[pd.DatetimeTZDtype, "ns", "{OTHER_TZ}"]',
            tz=OTHER_TZ,
        ),
        Kind(
            "date32",
            Annotated[pd.ArrowDtype, pyarrow.date32()],
            pd.ArrowDtype(pyarrow.date32()),
            "date",
            "Annotated[pd.ArrowDtype, pyarrow.date32()]",
        ),
        Kind(
            "decimal",
            Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)],
            pd.ArrowDtype(pyarrow.decimal128(15, 2)),
            "decimal",
            "Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]",
        ),
        Kind(
            "list",
            Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.int64())],
            pd.ArrowDtype(pyarrow.list_(pyarrow.int64())),
            "list",
            "Annotated[pd.ArrowDtype, pyarrow.list_(pyarrow.int64())]",
        ),
        Kind(
            "struct",
            Annotated[pd.ArrowDtype, pyarrow.struct([("a", pyarrow.int64())])],
            pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64())])),
            "struct",
            'Annotated[pd.ArrowDtype, pyarrow.struct([("a", pyarrow.int64())])]',
        ),
    )
}


class _Float64NaN:
    """A NaN *value* of a Float64 column (0/0), which pandas keeps apart from NA."""

    def __repr__(self) -> str:
        return "FLOAT64_NAN"


FLOAT64_NAN = _Float64NaN()

# -- values ---------------------------------------------------------------------------------------

INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)
SMALL_INTS = st.integers(-3, 8)
INT_EDGES = st.sampled_from([INT64_MAX, INT64_MIN, 2**53 + 1, -(2**53) - 1])
FLOAT_EDGES = st.sampled_from([-0.0, 1e300, -1e300, 5e-324, 0.1 + 0.2, float(2**63)])
NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])
SMALL_FLOATS = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 2.5, -1.5, 3.0]),
    st.floats(-3.0, 8.0, allow_nan=False, allow_infinity=False),
)
# Combining marks, a non-ASCII digit, case pairs that fold differently, a NUL, newlines.
STRING_PIECES = ["a", "b", "A", "é", "e\u0301", "1", "\u0663", "_", " ", "\n", "ß", "İ", "J", "o"]
SPECIAL_STRINGS = [
    "José",
    "JOSÉ",
    "nan",
    "inf",
    "infinity",
    "7",
    "",
    "a\n",
    "a\x00b",
    "abc",
    "ab",
    "2024-03-10",
    "true",
]
TEXT = st.one_of(
    st.sampled_from(SPECIAL_STRINGS),
    st.lists(st.sampled_from(STRING_PIECES), max_size=4).map("".join),
)
# Strings on which Python's `re` and RE2 (or SQL) tend to disagree: non-ASCII word characters and
# digits, a final newline, Unicode spaces and case pairs, a letter with no `]` after it.
REGEX_PROBES = st.sampled_from(
    [
        "é",
        "éa",
        "ß",
        "\u0663",
        "a\n",
        "b",
        "a",
        "aé",
        "é1",
        "\u00a0",
        "İ",
        "jOSÉ",
        "a\nb",
        "a\u2028",
    ]
)
NULLS = st.sampled_from([None, float("nan"), pd.NA, pd.NaT])

BASE_TS = pd.Timestamp("2024-03-10 00:00:00")
TS_EDGES = [
    pd.Timestamp("1970-01-01"),
    pd.Timestamp("1900-01-01 00:00:00.000001"),
    pd.Timestamp.min,
    pd.Timestamp.max,
]


def _naive_timestamps() -> st.SearchStrategy[pd.Timestamp]:
    shifted = st.builds(
        lambda hours, micros, nanos: (
            BASE_TS + pd.Timedelta(hours=hours, microseconds=micros, nanoseconds=nanos)
        ),
        st.integers(0, 72),
        st.sampled_from([0, 0, 1, 500_000]),
        st.sampled_from([0, 0, 0, 1, 999]),
    )
    return st.one_of(shifted, shifted, st.sampled_from(TS_EDGES))


def _aware(ts: pd.Timestamp, tz: str) -> pd.Timestamp:
    # the edges are out of range once shifted by a tz offset: keep them in range
    ts = min(max(ts, pd.Timestamp("1700-01-01")), pd.Timestamp("2250-01-01"))
    return ts.tz_localize("UTC").tz_convert(tz)


def _aware_timestamps(tz: str) -> st.SearchStrategy[pd.Timestamp]:
    return _naive_timestamps().map(lambda ts: _aware(ts, tz))


DATES = st.one_of(
    st.builds(lambda d: dt.date(2024, 3, 10) + dt.timedelta(days=d), st.integers(0, 6)),
    st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(1970, 1, 1)]),
)
DECIMALS = st.one_of(
    st.decimals(min_value=-10, max_value=10, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [Decimal("9999999999999.99"), Decimal("-9999999999999.99"), Decimal("0.00"), Decimal("-0")]
    ),
)


def valid_values(kind: Kind) -> st.SearchStrategy[Any]:
    """Non-null values of the column's own type (the common case)."""
    family = kind.family
    if family == "int":
        return st.one_of(SMALL_INTS, SMALL_INTS, INT_EDGES)
    if family == "float":
        extra = [st.just(FLOAT64_NAN)] * 2 if kind.masked_float else []
        return st.one_of(SMALL_FLOATS, SMALL_FLOATS, FLOAT_EDGES, NON_FINITE, *extra)
    if family == "str":
        return TEXT
    if family == "bool":
        return st.booleans()
    if family == "datetime":
        return _aware_timestamps(kind.tz) if kind.tz else _naive_timestamps()
    if family == "date":
        return DATES
    if family == "decimal":
        return DECIMALS
    if family == "list":
        return st.lists(st.one_of(SMALL_INTS, INT_EDGES), max_size=3)
    if family == "struct":
        return st.fixed_dictionaries({"a": st.one_of(SMALL_INTS, st.none())})
    raise AssertionError(family)


def hostile_groups(kind: Kind) -> list[st.SearchStrategy[Any]]:
    """Values of another type, or spellings a lenient cast would accept, one group per type: a column
    drawn from one group is cleanly typed, just not as the contract says (an int64 column of 0/1 under
    a bool contract, a tz-aware column under a naive one), which is how lenient casts slip through."""
    family = kind.family
    if family == "int":
        return [
            st.sampled_from([1.0, 2.5, -0.0, 3.0, float("nan"), float("inf")]),
            st.booleans(),
            st.sampled_from(["7", "nan", "inf", "2.5", "-1", " 3"]),
            st.sampled_from([2**63, Decimal("3"), b"7"]),
        ]
    if family == "float":
        return [
            st.one_of(SMALL_INTS, INT_EDGES),
            st.booleans(),
            st.sampled_from(["nan", "inf", "infinity", "7", "-0", "1e400", "1,5"]),
            st.sampled_from([Decimal("1.5"), Decimal("NaN")]),
        ]
    if family == "str":
        return [
            SMALL_INTS,
            st.sampled_from([2.5, float("nan"), float("inf"), -0.0]),
            st.booleans(),
            st.sampled_from([[1], {"a": 1}, b"ab", (1,)]),
            st.sampled_from(["\ud800", "a\udc80"]),  # lone surrogates: no UTF-8 form
            st.sampled_from([dt.date(2024, 3, 10), pd.Timestamp("2024-03-10")]),
        ]
    if family == "bool":
        return [
            st.sampled_from([0, 1]),
            st.sampled_from([0, 1, 2]),
            st.sampled_from(["True", "false", "t", "1"]),
            st.sampled_from([1.0, 0.0, float("nan")]),
        ]
    if family == "datetime":
        naive = _naive_timestamps()
        strings = st.sampled_from(
            ["2024-03-10 01:00:00", "2024-03-10T01:00:00+05:30", "2024-03-10", "now"]
        )
        groups = [
            naive if kind.tz else naive.map(lambda ts: _aware(ts, "UTC")),
            naive.map(lambda ts: _aware(ts, "Asia/Kolkata")),
            st.sampled_from([dt.date(2024, 3, 10), dt.date(2024, 3, 11)]),
            strings,
            st.sampled_from([0, 1_710_000_000, 1.5]),
            st.sampled_from(
                [
                    dt.datetime(2024, 3, 10, 1, 2, 3, 4),
                    np.datetime64("2024-03-10T01:00:00.000000001"),
                ]
            ),
        ]
        return groups
    if family == "date":
        return [
            st.sampled_from([dt.datetime(2024, 3, 10, 12, 30), dt.datetime(2024, 3, 11)]),
            st.sampled_from(
                [pd.Timestamp("2024-03-11 00:00:00"), pd.Timestamp("2024-03-11 06:00:00")]
            ),
            st.sampled_from(
                [pd.Timestamp("2024-03-11 06:00", tz="UTC"), pd.Timestamp("2024-03-11", tz="UTC")]
            ),
            st.sampled_from(["2024-03-10", "2024-13-01", "0"]),
            st.sampled_from([0, 19_792, np.datetime64("2024-03-12")]),
        ]
    if family == "decimal":
        return [
            st.sampled_from(
                [Decimal("1.234"), Decimal("1e20"), Decimal("NaN"), Decimal("Infinity")]
            ),
            st.sampled_from([1.5, 0.1, float("nan"), 1e20]),
            st.sampled_from([3, INT64_MAX]),
            st.sampled_from(["1.5", "1.234", "x"]),
        ]
    if family == "list":
        return [
            st.sampled_from([[None], [INT64_MAX, None], []]),
            st.sampled_from([[1.5], ["a"], [True]]),
            st.sampled_from([(1, 2), np.array([1, 2])]),
            st.sampled_from([3, "abc", b"ab"]),
        ]
    if family == "struct":
        return [
            st.sampled_from([{}, {"a": None}]),
            st.sampled_from([{"b": 1}, {"a": 1, "b": 2}]),
            st.sampled_from([{"a": "x"}, {"a": 1.5}, {"a": True}]),
            st.sampled_from([3, [1], "a"]),
        ]
    raise AssertionError(family)


def hostile_values(kind: Kind) -> st.SearchStrategy[Any]:
    return st.one_of(*hostile_groups(kind))


# -- checks ---------------------------------------------------------------------------------------

ORDERED_FAMILIES = frozenset({"int", "float", "str", "datetime", "date", "decimal"})
REGEXES = [
    r"\w+",
    r"\d",
    r"^a.*$",
    r"a$",
    r"a\Z",
    r"(?=.*é)",
    r"(?i)jos",
    r"José",
    r"a.b",
    r"[[:alpha:]]+",
    r"\bé",
    r"^$",
    r"(?s)a.b",
    r"[^\x00-\x7f]",
    r"\s",
    r"\D",
    r"\W",
    r"^\S+$",
    r"\B",
    r"é",
    re.compile(r"jos", re.IGNORECASE),
]


def threshold_values(kind: Kind) -> st.SearchStrategy[Any]:
    """Values a check compares against: mostly of the column's type, sometimes not."""
    family = kind.family
    if family == "int":
        own: st.SearchStrategy[Any] = SMALL_INTS
        other = st.sampled_from([2.5, "3", True, INT64_MAX, float("nan"), float("inf")])
    elif family == "float":
        own = SMALL_FLOATS
        other = st.sampled_from([float("nan"), float("inf"), "1", 2, -0.0, True])
    elif family == "str":
        own = TEXT
        other = st.sampled_from([1, 2.5, True])
    elif family == "bool":
        own = st.booleans()
        other = st.sampled_from([1, 0, "True", 1.0])
    elif family == "datetime":
        own = _aware_timestamps(kind.tz) if kind.tz else _naive_timestamps()
        other = st.one_of(
            _naive_timestamps().map(lambda ts: _aware(ts, "Asia/Kolkata"))
            if not kind.tz
            else _naive_timestamps(),
            st.sampled_from([dt.date(2024, 3, 11), "2024-03-11"]),
        )
    elif family == "date":
        own = DATES
        other = st.sampled_from(
            [pd.Timestamp("2024-03-11"), "2024-03-11", dt.datetime(2024, 3, 11)]
        )
    elif family == "decimal":
        own = DECIMALS
        other = st.sampled_from([1.5, 2, 0.1, float("nan"), "1.5"])
    else:
        return st.nothing()
    return st.one_of(own, own, own, other)


def loose_bounds(kind: Kind) -> tuple[Any, Any] | None:
    """A low and a high bound most valid values lie between: comparisons against them pass, so the
    frame's fate turns on the odd values (NaN, inf, nulls, wrong types) instead of the bulk."""
    family = kind.family
    if family == "int":
        return -(10**6), 10**6
    if family == "float":
        return -1e301, 1e301
    if family == "str":
        return "", "\U0010ffff"
    if family == "datetime":
        low, high = pd.Timestamp("1800-01-01"), pd.Timestamp("2200-01-01")
        return (_aware(low, kind.tz), _aware(high, kind.tz)) if kind.tz else (low, high)
    if family == "date":
        return dt.date(1, 1, 1), dt.date(9999, 12, 31)
    if family == "decimal":
        return Decimal("-9999999999999.99"), Decimal("9999999999999.99")
    return None


def _builtin_check(kind: Kind, name: str) -> st.SearchStrategy[tuple[str, Any]]:
    value = threshold_values(kind)
    low, high = value, value
    bounds = loose_bounds(kind)
    if bounds is not None:
        low, high = st.one_of(value, st.just(bounds[0])), st.one_of(value, st.just(bounds[1]))
    if name in ("ge", "gt"):
        return low.map(lambda v: (name, v))
    if name in ("le", "lt"):
        return high.map(lambda v: (name, v))
    if name in ("eq", "ne"):
        return value.map(lambda v: (name, v))
    if name == "in_range":
        return st.builds(
            lambda low, high, inc_min, inc_max: (
                name,
                {
                    "min_value": low,
                    "max_value": high,
                    "include_min": inc_min,
                    "include_max": inc_max,
                },
            ),
            low,
            high,
            st.sampled_from([True, False]),
            st.sampled_from([True, False]),
        )
    if name in ("isin", "notin"):
        extras = st.sampled_from([None, float("nan"), pd.NA])
        return st.builds(
            lambda own, extra: (name, own + extra),
            st.lists(value, max_size=4),
            st.lists(extras, max_size=1),
        )
    if name in ("str_matches", "str_contains"):
        patterns = st.sampled_from(REGEXES)
        return st.one_of(patterns, patterns, TEXT.map(re.escape)).map(lambda p: (name, p))
    if name in ("str_startswith", "str_endswith"):
        return TEXT.map(lambda s: (name, s))
    if name == "str_length":
        return st.one_of(
            st.builds(
                lambda low, high: (name, {"min_value": low, "max_value": high}),
                st.one_of(st.none(), st.integers(0, 3)),
                st.one_of(st.none(), st.integers(0, 4)),
            ).filter(lambda c: c[1]["min_value"] is not None or c[1]["max_value"] is not None),
            st.integers(0, 3).map(lambda n: (name, {"exact_value": n})),
        )
    raise AssertionError(name)


def builtin_names(kind: Kind) -> list[str]:
    if kind.family in ORDERED_FAMILIES:
        names = ["ge", "gt", "le", "lt", "eq", "ne", "in_range", "isin", "notin"]
        if kind.family == "str":  # regexes twice as likely: RE2 is not Python's re
            names += ["str_matches", "str_contains", "str_startswith", "str_endswith", "str_length"]
            names += ["str_matches", "str_contains"] * 2
        return names
    if kind.family == "bool":
        return ["eq", "ne", "isin", "notin"]
    return []


@dataclass(frozen=True)
class CustomCheck:
    """A registered custom check function, element-wise or vectorised."""

    families: frozenset[str] | None  # None: any column
    element_wise: bool
    fn: Callable[[Any], Any]
    source: str


def _short(value: Any) -> bool:
    return len(str(value)) <= 3


CUSTOM_CHECKS: dict[str, CustomCheck] = {
    "short_text": CustomCheck(None, True, _short, "len(str(v)) <= 3"),
    "short_text_vec": CustomCheck(
        None, False, lambda s: s.map(_short).astype(bool), "s.map(lambda v: len(str(v)) <= 3)"
    ),
    "below_5": CustomCheck(frozenset({"int", "float", "decimal"}), False, lambda s: s < 5, "s < 5"),
    "nonzero": CustomCheck(
        frozenset({"int", "float", "decimal"}), True, lambda v: v != 0, "v != 0"
    ),
    "no_newline": CustomCheck(
        frozenset({"str"}), True, lambda v: "\n" not in str(v), '"\\n" not in str(v)'
    ),
    "always_true": CustomCheck(None, False, lambda s: True, "True  # one bool for the column"),
    "day_ge_11": CustomCheck(
        frozenset({"datetime", "date"}), True, lambda v: v.day >= 11, "v.day >= 11"
    ),
    "list_short": CustomCheck(frozenset({"list"}), True, lambda v: len(v) <= 2, "len(v) <= 2"),
    "struct_a_small": CustomCheck(
        frozenset({"struct"}),
        True,
        lambda v: v["a"] is None or v["a"] < 5,
        'v["a"] is None or v["a"] < 5',
    ),
}
# Custom checks sometimes carry the name of a built-in, which must not make them run as the built-in.
CUSTOM_NAMES = [None, "greater_than", "isin", "in_range", "str_matches", "not_nullable"]


@dataclass(frozen=True)
class FrameCheck:
    fn: Callable[[pd.DataFrame], Any]
    source: str


FRAME_CHECKS: dict[str, FrameCheck] = {
    "row_has_a_value": FrameCheck(lambda df: df.notna().any(axis=1), "df.notna().any(axis=1)"),
    "first_column_short": FrameCheck(
        lambda df: df.iloc[:, 0].astype(str).str.len() <= 3,
        "df.iloc[:, 0].astype(str).str.len() <= 3",
    ),
    "row_text_le_8": FrameCheck(
        lambda df: df.astype(str).map(len).sum(axis=1) <= 8,
        "df.astype(str).map(len).sum(axis=1) <= 8",
    ),
    "at_most_5_rows": FrameCheck(lambda df: len(df) <= 5, "len(df) <= 5"),
    "no_repeated_rows": FrameCheck(
        lambda df: not df.astype(str).duplicated().any(), "not df.astype(str).duplicated().any()"
    ),
}
FRAME_CHECK_NAMES = [None, "greater_than", "unique"]

# -- contracts ------------------------------------------------------------------------------------

ATTRIBUTES = ("a", "b", "c", "d")
ALIASES = ["x y", "Ünï", 'q"t', "select", "a.b"]


@dataclass(frozen=True)
class CustomSpec:
    key: str
    name: str | None
    ignore_na: bool = True


@dataclass(frozen=True)
class ColumnSpec:
    attribute: str
    kind: str
    alias: str | None = None
    nullable: bool = False
    unique: bool = False
    coerce: bool = False
    ignore_na: bool = True
    builtins: tuple[tuple[str, Any], ...] = ()
    customs: tuple[CustomSpec, ...] = ()
    mask: str | None = None

    @property
    def name(self) -> str:
        return self.alias or self.attribute


@dataclass(frozen=True)
class ContractSpec:
    columns: tuple[ColumnSpec, ...]
    coerce: bool = False
    strict: bool = False
    unique_together: tuple[str, ...] = ()
    frame_checks: tuple[tuple[str, str | None], ...] = ()  # (FRAME_CHECKS key, name override)

    def source(self) -> str:
        """The contract as Python code, for failure reports."""
        lines = ["class C(pa.DataFrameModel):"]
        for col in self.columns:
            kwargs = [f"{k}={value_source(v)}" for k, v in col.builtins]
            for flag in ("nullable", "unique", "coerce"):
                if getattr(col, flag):
                    kwargs.append(f"{flag}=True")
            if not col.ignore_na:
                kwargs.append("ignore_na=False")
            if col.alias:
                kwargs.append(f"alias={col.alias!r}")
            if col.mask:
                kwargs.append(f"metadata={{'mask': {col.mask!r}}}")
            lines.append(
                f"    {col.attribute}: Series[{KINDS[col.kind].source}] = pa.Field({', '.join(kwargs)})"
            )
        for col in self.columns:
            for custom in col.customs:
                check = CUSTOM_CHECKS[custom.key]
                kwargs = [repr(col.name), f"name={custom.name or custom.key!r}"]
                if check.element_wise:
                    kwargs.append("element_wise=True")
                if not custom.ignore_na:
                    kwargs.append("ignore_na=False")
                arg = "v" if check.element_wise else "s"
                lines += [
                    f"    @pa.check({', '.join(kwargs)})",
                    f"    def {custom.key}_{col.attribute}(cls, {arg}): return {check.source}",
                ]
        for key, name in self.frame_checks:
            lines += [
                f"    @pa.dataframe_check(name={name or key!r})",
                f"    def {key}(cls, df): return {FRAME_CHECKS[key].source}",
            ]
        config = []
        if self.coerce:
            config.append("coerce = True")
        if self.strict:
            config.append("strict = True")
        if self.unique_together:
            config.append(f"unique = {list(self.unique_together)!r}")
        if config:
            lines += ["    class Config:", *(f"        {c}" for c in config)]
        return "\n".join(lines)


_model_numbers = itertools.count()


def _column_check(fn: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    # a fresh function per use: pandera's decorators keep their settings on the function object
    def check(cls: Any, data: Any) -> Any:
        return fn(data)

    return check


def build_model(spec: ContractSpec) -> type[pa.DataFrameModel]:
    """The pandera model a `ContractSpec` describes (a new class every time)."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for col in spec.columns:
        annotations[col.attribute] = Series[KINDS[col.kind].annotation]
        kwargs: dict[str, Any] = dict(col.builtins)
        kwargs.update(
            nullable=col.nullable, unique=col.unique, coerce=col.coerce, ignore_na=col.ignore_na
        )
        if col.alias:
            kwargs["alias"] = col.alias
        if col.mask:
            kwargs["metadata"] = {"mask": col.mask}
        namespace[col.attribute] = pa.Field(**kwargs)
        for number, custom in enumerate(col.customs):
            check = CUSTOM_CHECKS[custom.key]
            namespace[f"_check_{col.attribute}_{number}"] = pa.check(
                col.name,
                name=custom.name or custom.key,
                element_wise=check.element_wise,
                ignore_na=custom.ignore_na,
            )(_column_check(check.fn))
    for number, (key, name) in enumerate(spec.frame_checks):
        namespace[f"_frame_{number}"] = pa.dataframe_check(name=name or key)(
            _column_check(FRAME_CHECKS[key].fn)
        )
    config: dict[str, Any] = {"coerce": spec.coerce, "strict": spec.strict}
    if spec.unique_together:
        config["unique"] = list(spec.unique_together)
    namespace["Config"] = type("Config", (), config)
    namespace["__annotations__"] = annotations
    model = type(f"Contract{next(_model_numbers)}", (pa.DataFrameModel,), namespace)
    model.to_schema()  # a spec pandera itself refuses raises here
    return model


CHECK_COUNTS = (0, 1, 1, 2)
CUSTOM_COUNTS = (0, 0, 1, 2)


@st.composite
def column_specs(draw: st.DrawFn, attribute: str, kinds: Sequence[str]) -> ColumnSpec:
    kind = KINDS[draw(st.sampled_from(kinds))]
    names = builtin_names(kind)
    # few checks per column, so that a frame fails (if at all) on one of them
    size = draw(st.sampled_from(CHECK_COUNTS)) if names else 0
    chosen = (
        draw(st.lists(st.sampled_from(names), min_size=size, max_size=size, unique=True))
        if size
        else []
    )
    builtins = tuple(draw(_builtin_check(kind, name)) for name in chosen)
    customs_available = [
        key for key, c in CUSTOM_CHECKS.items() if c.families is None or kind.family in c.families
    ]
    customs = draw(
        st.lists(
            st.builds(
                CustomSpec,
                st.sampled_from(customs_available),
                st.sampled_from(CUSTOM_NAMES),
                st.sampled_from([True, False]),
            ),
            min_size=(size := draw(st.sampled_from(CUSTOM_COUNTS))),
            max_size=size,
            unique_by=lambda c: c.key,
        )
    )
    mask = (
        draw(st.sampled_from([None, None, "sha256", "redacted"])) if kind.family == "str" else None
    )
    return ColumnSpec(
        attribute=attribute,
        kind=kind.name,
        alias=draw(st.sampled_from([None, None, None, *ALIASES])),
        nullable=draw(st.booleans()),
        unique=draw(st.sampled_from([False, False, True])),
        coerce=draw(st.sampled_from([False, False, True])),
        ignore_na=draw(st.sampled_from([True, True, False])),
        builtins=builtins,
        customs=tuple(customs),
        mask=mask,
    )


@st.composite
def contract_specs(draw: st.DrawFn, kinds: Sequence[str] = tuple(KINDS)) -> ContractSpec:
    count = draw(st.sampled_from([1, 1, 2, 2, 3, 4]))
    columns = []
    for attribute in ATTRIBUTES[:count]:
        columns.append(draw(column_specs(attribute, kinds)))
    names = [c.name for c in columns]
    assume(len(set(names)) == len(names))
    unique_together: tuple[str, ...] = ()
    if count >= 2 and draw(st.sampled_from([False, False, True])):
        unique_together = tuple(
            draw(st.lists(st.sampled_from(names), min_size=2, max_size=count, unique=True))
        )
    frame_checks = draw(
        st.lists(
            st.tuples(st.sampled_from(list(FRAME_CHECKS)), st.sampled_from(FRAME_CHECK_NAMES)),
            min_size=(size := draw(st.sampled_from(CUSTOM_COUNTS))),
            max_size=size,
            unique_by=lambda c: c[0],
        )
    )
    return ContractSpec(
        columns=tuple(columns),
        coerce=draw(st.sampled_from([False, False, True])),
        strict=draw(st.booleans()),
        unique_together=unique_together,
        frame_checks=tuple(frame_checks),
    )


# -- frames ---------------------------------------------------------------------------------------

BUILDS = ("contract", "infer", "object")
CLEAN_BUILDS = ("contract", "contract", "infer")


def _plain(value: Any) -> Any:
    return float("nan") if value is FLOAT64_NAN else value


def build_column(kind: Kind, values: list[Any], build: str) -> pd.Series:
    """A column of `values`: typed as the contract says when pandas allows ("contract"), as pandas
    infers it ("infer"), or as plain objects ("object"); a build pandas refuses falls to the next."""
    if build == "contract":
        try:
            if kind.masked_float and any(v is FLOAT64_NAN for v in values):
                # NaN as a Float64 *value*: 0/0 (pandas turns a NaN it is given into NA)
                num = pd.array([0.0 if v is FLOAT64_NAN else v for v in values], dtype="Float64")
                den = pd.array([0.0 if v is FLOAT64_NAN else 1.0 for v in values], dtype="Float64")
                return pd.Series(num / den)
            return pd.Series([_plain(v) for v in values], dtype=kind.dtype)
        except Exception:
            build = "infer"
    if build == "infer":
        try:
            return pd.Series([_plain(v) for v in values])
        except Exception:
            pass
    return pd.Series([_plain(v) for v in values], dtype=object)


VALUE_MODES = ("pool", "mixed", "uniform")


@st.composite
def column_values(
    draw: st.DrawFn, kind: Kind, rows: int, clean: ColumnSpec | None = None
) -> list[Any]:
    """`rows` values for a column, in one of three modes: "pool" (rows drawn from one to three valid
    values, so that a frame passes its checks often and duplicates are common), "mixed" (valid values,
    sometimes mixed with hostile ones), "uniform" (every non-null value from one group of hostile
    values: a cleanly typed column of the wrong type); with nulls half of the time.

    A `clean` column (its spec given) keeps to valid values, nulls only where it is nullable and
    distinct values where it is unique: its frame then fails, if at all, on its value checks."""
    with_nulls = draw(st.booleans()) and (clean is None or clean.nullable)
    if clean is not None and clean.unique:
        values = draw(st.lists(valid_values(kind), min_size=rows, max_size=rows, unique_by=repr))
        if with_nulls and rows:
            values[draw(st.integers(0, rows - 1))] = draw(NULLS)
        return values
    mode = "pool" if clean is not None else draw(st.sampled_from(VALUE_MODES))
    if mode == "pool":
        valid = valid_values(kind)
        regex = clean is not None and any(
            n in ("str_matches", "str_contains") for n, _ in clean.builtins
        )
        if regex and draw(st.booleans()):
            valid = REGEX_PROBES  # values a regex check may decide differently
        pool = draw(st.lists(valid, min_size=1, max_size=3))
        sources = [st.sampled_from(pool)]
    elif mode == "uniform":
        groups = hostile_groups(kind)
        sources = [groups[draw(st.integers(0, len(groups) - 1))]]
    else:
        sources = [valid_values(kind)]
        if draw(st.sampled_from([False, False, True])):
            sources.append(hostile_values(kind))
    if with_nulls:
        sources.append(NULLS)
    values = draw(st.lists(st.one_of(*sources), min_size=rows, max_size=rows))
    if rows > 1 and clean is None and draw(st.sampled_from([False, False, True])):
        values[-1] = values[0]  # a duplicate of the first value
    return values


@st.composite
def frames(draw: st.DrawFn, spec: ContractSpec) -> pd.DataFrame:
    """A frame with exactly the contract's columns; half of the frames are "clean" (see
    `column_values`) and built with the contract's dtypes, the others anything goes."""
    rows = draw(st.one_of(st.integers(0, 3), st.integers(0, 8)))  # short frames pass more often
    clean = draw(st.booleans())
    data: dict[str, pd.Series] = {}
    for col in spec.columns:
        kind = KINDS[col.kind]
        values = draw(column_values(kind, rows, col if clean else None))
        # a clean column is mostly built with the contract's dtype, sometimes with the one pandas
        # infers from the same values (int64 for Int64, object for string: pandera accepts both)
        build = draw(st.sampled_from(CLEAN_BUILDS if clean else BUILDS))
        data[col.name] = build_column(kind, values, build)
    frame = pd.DataFrame(data)
    index = draw(st.sampled_from(["range", "range", "offset", "repeated"]))
    if index == "offset":
        frame.index = pd.RangeIndex(10, 10 + rows)
    elif index == "repeated":
        frame.index = pd.Index([i // 2 for i in range(rows)], dtype="int64")
    return frame


@dataclass(frozen=True)
class Pair:
    """A drawn contract and frame; its repr is code that rebuilds both."""

    spec: ContractSpec
    model: type[pa.DataFrameModel] = field(compare=False)
    frame: pd.DataFrame = field(compare=False)

    def __repr__(self) -> str:
        return f"{self.spec.source()}\n\nframe = {frame_source(self.frame)}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints examples
        printer.text(repr(self))


def value_source(value: Any) -> str:
    """A value as code (`float("nan")`, `pd.NA`, `pd.Timestamp(..., tz=...)`), for printed examples."""
    if value is FLOAT64_NAN:
        return "FLOAT64_NAN"
    if value is pd.NA:
        return "pd.NA"
    if value is pd.NaT:
        return "pd.NaT"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return f'float("{value}")'
    if isinstance(value, pd.Timestamp):
        if value.tz is None:
            return f"pd.Timestamp({value.isoformat()!r})"
        return f"pd.Timestamp({value.tz_localize(None).isoformat()!r}, tz={str(value.tz)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(map(value_source, value)) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(f"{value_source(v)}, " for v in value).rstrip(" ") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {value_source(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray):
        return value_source(value.tolist())
    return repr(value)


def _column_source(series: pd.Series) -> str:
    values = series.tolist()
    if series.dtype == KINDS["Float64"].dtype:
        nan_values = series.notna().to_numpy(dtype=bool) & np.isnan(
            series.to_numpy(dtype=float, na_value=0.0)
        )
        if nan_values.any():  # NaN values of a Float64 column: pandas reads a NaN it is given as NA
            values = [FLOAT64_NAN if n else v for v, n in zip(values, nan_values, strict=True)]
            return f"build_column(KINDS['Float64'], {value_source(values)}, 'contract')"
    for kind in KINDS.values():
        if isinstance(series.dtype, pd.ArrowDtype) and series.dtype == kind.dtype:
            arrow = re.sub(r"^Annotated\[pd.ArrowDtype, (.*)\]$", r"pd.ArrowDtype(\1)", kind.source)
            return f"pd.Series({value_source(values)}, dtype={arrow})"
    return f"pd.Series({value_source(values)}, dtype={str(series.dtype)!r})"


def frame_source(frame: pd.DataFrame) -> str:
    """The frame as code that rebuilds it (with this module's `build_column` for Float64 NaN)."""
    columns = ", ".join(f"{name!r}: {_column_source(frame[name])}" for name in frame.columns)
    index = (
        ""
        if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
        else (f", index={frame.index.tolist()!r}")
    )
    return f"pd.DataFrame({{{columns}}}{index})"


@st.composite
def pairs(draw: st.DrawFn, kinds: Sequence[str] = tuple(KINDS)) -> Pair:
    """A contract (pandera model) and a frame with exactly its columns."""
    spec = draw(contract_specs(kinds))
    try:
        model = build_model(spec)
    except Exception:  # pandera refuses the model itself (e.g. in_range with min > max)
        assume(False)
        raise
    return Pair(spec, model, draw(frames(spec)))


# -- the oracle -----------------------------------------------------------------------------------

PUBLISHED_OK = "published_ok"
REFUSED_OK = "refused_ok"
SOUNDNESS = "soundness_violation"
COMPLETENESS = "completeness_gap"
DELIBERATE = "deliberate_difference"


@dataclass(frozen=True)
class Finding:
    """One discrepancy: `key` groups equal ones across examples, `detail` says what happened."""

    key: str
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    kind: str
    findings: tuple[Finding, ...] = ()
    difference: str | None = None  # the deliberate difference's name
    notes: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "; ".join(f.key for f in self.findings) or (self.difference or "")

    def describe(self) -> str:
        lines = [f"{self.kind}: {self.reason}"]
        lines += [f"  - {f.key}: {f.detail}" for f in self.findings if f.detail]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def deliberate_difference(
    model: type[pa.DataFrameModel], frame: pd.DataFrame, validated: pd.DataFrame | None
) -> str | None:
    """The documented deliberate differences with pandera that explain a refusal of a frame pandera
    accepts (a refused contract, (d), is decided in `compare`):

    (a) extra_columns: dagmesh requires exactly the contract's columns; pandera tolerates extra ones.
    (b) tz_sub_microsecond: DuckDB's TIMESTAMPTZ holds microseconds; tz-aware values with nanoseconds
        cannot be stored exactly.
    (c) non_utf8_string: strings that cannot be encoded as UTF-8 (lone surrogates).
    (e) nan_in_non_nullable: a NaN *value* (masked Float64, Arrow floats) in a non-nullable column:
        pandera counts it as present, dagmesh as missing (docs/contracts.md).
    (f) stored_nulls_fail: pandera accepts the frame, but not the frame as stored, where every kind of
        null of a column (None, NaN, NaT) is the one NULL: a frame check telling them apart would fail
        on the published data, so dagmesh judges it there and refuses.
    """
    schema = model.to_schema()
    if set(map(str, frame.columns)) != set(schema.columns):
        return "extra_columns"
    checked = validated if validated is not None else frame
    for name, column in schema.columns.items():
        if isinstance(getattr(column.dtype, "type", None), pd.DatetimeTZDtype):  # tz-aware
            values = pd.to_datetime(checked[name], errors="coerce", utc=True)
            if (values.dropna().dt.nanosecond != 0).any():
                return "tz_sub_microsecond"
    for name in frame.columns:
        if any(_not_utf8(v) for v in _flatten(frame[name].tolist())):
            return "non_utf8_string"
    for name, column in schema.columns.items():
        values = checked[name]
        if column.nullable or not pd.api.types.is_float_dtype(values.dtype):
            continue
        numbers = pd.to_numeric(values, errors="coerce").astype("float64", errors="ignore")
        if values.notna().to_numpy().any() and (values.notna() & pd.isna(numbers)).any():
            return "nan_in_non_nullable"
    if validated is not None and pandera_verdict(model, _nulls_as_stored(validated))[0] is None:
        return "stored_nulls_fail"
    return None


def _nulls_as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every null of an object column as None, as a read of the published table gives."""
    stored = frame.copy()
    for name in stored.columns:
        column = stored[name]
        if column.dtype == object:
            stored[name] = column.astype(object).where(column.notna(), None)
    return stored


def _flatten(values: Any) -> Any:
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _flatten(value)
        elif isinstance(value, dict):
            yield from _flatten(list(value.keys()) + list(value.values()))
        else:
            yield value


def _not_utf8(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def pandera_verdict(
    model: type[pa.DataFrameModel], frame: pd.DataFrame
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """(the validated, coerced frame, []) if pandera accepts; (None, what it rejects) otherwise."""
    schema = model.to_schema()
    try:
        return model.validate(frame.copy(deep=True), lazy=True), []
    except SchemaErrors as errors:
        return None, _failure_findings(schema, errors.failure_cases)
    except SchemaError as error:
        return None, [Finding(f"pandera.{error.reason_code}", str(error)[:300])]
    except Exception as error:  # pandera itself crashed: it did not accept the frame
        return None, [Finding(f"pandera raised {type(error).__name__}", str(error)[:300])]


def _check_base(check: Any) -> str:
    text = str(check)
    if text.startswith("dtype("):
        return text
    match = re.match(r"[^(]+", text)
    return match.group(0) if match else text


def _failure_findings(schema: pa.DataFrameSchema, cases: pd.DataFrame) -> list[Finding]:
    findings: dict[str, list[str]] = {}
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        where = (
            str(schema.columns[column].dtype) if column in schema.columns else "frame"
        )  # a frame-level check names the model as its column
        key = f"{where}.{_check_base(check)}"
        sample = ", ".join(repr(v) for v in group["failure_case"].tolist()[:3])
        findings.setdefault(key, []).append(f"{column}: {check} failed for {sample}")
    return [Finding(k, "; ".join(v)[:400]) for k, v in findings.items()]


def published_schema(contract: Any) -> tuple[pa.DataFrameSchema, str | None]:
    """`contract.published_schema()`, or, where the contract has none yet, the model's schema with
    masked columns reduced to their type and no frame-level rules (and a note saying so)."""
    method = getattr(contract, "published_schema", None)
    if method is not None:
        return method(), None
    schema = contract.model.to_schema()
    masked = _masked(contract)
    if masked:
        columns = dict(schema.columns)
        for name in masked:
            columns[name] = columns[name].set_checks([])
            columns[name].unique = False
        schema = pa.DataFrameSchema(columns, coerce=schema.coerce, name=schema.name)
    return schema, "Contract.published_schema() is missing: used the model's schema"


def contract_pandas_dtype(dtype: Any) -> Any:
    """The pandas dtype a column of pandera type `dtype` has (`str` is stored as object)."""
    native = dtype.type
    if isinstance(native, np.dtype) and native.kind == "U":
        return np.dtype(object)
    return native


def _masked(contract: Any) -> set[str]:
    return {c.name for c in contract.columns if getattr(c, "mask", None)}


def _cell_equal(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        try:
            left, right = list(a), list(b)
        except TypeError:
            return False
        return len(left) == len(right) and all(map(_cell_equal, left, right))
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_cell_equal(a[k], b[k]) for k in a)
        )
    a_missing, b_missing = _missing(a), _missing(b)
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    # an aware and a naive timestamp are never equal; two aware ones compare as instants
    moments = isinstance(a, (pd.Timestamp, dt.datetime)) or isinstance(
        b, (pd.Timestamp, dt.datetime)
    )
    if moments and (getattr(a, "tzinfo", None) is None) != (getattr(b, "tzinfo", None) is None):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _between(before: Any, published: Any, after: Any) -> bool:
    """Whether a moment coerced from the clock was published as one between two coercions of it."""
    if not all(isinstance(v, pd.Timestamp) for v in (before, published, after)):
        return False
    if before == after:  # not read against the clock: only equality will do
        return False
    try:
        return bool(before <= published <= after)
    except TypeError:  # naive against aware
        return False


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT


def _column_difference(
    expected: pd.Series, published: pd.Series, later: pd.Series | None = None
) -> str | None:
    """The first row where `published` is not what was written. `later` is pandera's coercion of the
    same frame once the publish had finished: a string pandas reads against the clock ('now', 'today')
    was coerced by the publish at a moment between the two, so such a value may lie between them."""
    expected_na = expected.isna().to_numpy(dtype=bool)
    published_na = published.isna().to_numpy(dtype=bool)
    later_values = later.tolist() if later is not None else [None] * len(expected)
    rows = zip(expected.tolist(), published.tolist(), later_values, strict=True)
    for i, (left, right, after) in enumerate(rows):
        if expected_na[i] or published_na[i]:
            same = bool(expected_na[i] and published_na[i])
        else:
            same = _cell_equal(left, right) or _between(left, right, after)
        if not same:
            return f"row {i}: wrote {left!r}, published {right!r}"
    return None


def check_published(
    contract: Any,
    published: pd.DataFrame,
    expected: pd.DataFrame,
    expected_later: pd.DataFrame | None = None,
) -> tuple[list[Finding], list[str]]:
    """Soundness of a publication: the table satisfies the published schema and holds the values
    (`expected`, or for a value read against the clock one between it and `expected_later`)."""
    findings: list[Finding] = []
    schema, note = published_schema(contract)
    notes = [note] if note else []
    masked = _masked(contract)
    names = list(schema.columns)
    if list(published.columns) != names:
        return [Finding("published columns differ", f"{list(published.columns)} != {names}")], notes
    if len(published) != len(expected):
        detail = f"{len(expected)} rows written, {len(published)} published"
        return [Finding("published row count differs", detail)], notes
    published = published.copy()
    for name in names:
        # Exactly the contract's dtype: pandera's own dtype check lets float64 pass as Float64.
        dtype = schema.columns[name].dtype
        if published[name].dtype == contract_pandas_dtype(dtype):
            continue
        findings.append(
            Finding(
                f"dtype_not_restored: {dtype} read as {published[name].dtype}",
                f"column {name!r}",
            )
        )
        try:  # restored here, so the values are still judged
            published[name] = dtype.coerce(published[name])
        except Exception as error:
            findings.append(
                Finding(f"published {dtype} cannot be restored", f"{name!r}: {error}"[:300])
            )
            return findings, notes
    try:
        schema.validate(published, lazy=True)
    except SchemaErrors as errors:
        for finding in _failure_findings(schema, errors.failure_cases):
            findings.append(Finding(f"published table fails {finding.key}", finding.detail))
    except Exception as error:
        findings.append(Finding(f"published_schema().validate raised {type(error).__name__}"))
    expected = expected.reset_index(drop=True)
    for name in names:
        if name in masked:
            continue
        later = None if expected_later is None else expected_later.reset_index(drop=True)[name]
        difference = _column_difference(
            expected[name], published[name].reset_index(drop=True), later
        )
        if difference:
            dtype = schema.columns[name].dtype
            findings.append(Finding(f"values changed in {dtype}", f"{name!r} {difference}"))
    return findings, notes


def _refusal_findings(error: Exception, contract: Any) -> list[Finding]:
    if isinstance(error, ContractViolation):
        dtypes = {c.name: c.pandera_dtype for c in contract.columns}
        return [
            Finding(
                f"dagmesh refused: {dtypes.get(o.column, 'frame')}.{_check_base(o.check)}",
                f"column {o.column!r}: {o.failures} row(s), e.g. {o.samples[:2]!r}"[:300],
            )
            for o in error.result.failed
        ] or [Finding("dagmesh refused with no failed check")]
    first_line = str(error).splitlines()[0] if str(error) else ""
    return [Finding(f"dagmesh refused: {type(error).__name__}", first_line[:300])]


def compare(
    model: type[pa.DataFrameModel],
    frame: pd.DataFrame,
    warehouse: MeshWarehouse,
    table: tuple[str, str],
) -> Outcome:
    """Publish `frame` under `model` into a fresh `table` and judge the result against pandera."""
    try:
        contract = read_contract(model)
    except ContractDefinitionError as error:
        reason = re.sub(r"^contract \w+:? ?", "", str(error))
        reason = re.sub(r"column '[^']*'", "column", reason).split(";")[0]
        return Outcome(
            DELIBERATE, (Finding(f"contract refused: {reason[:90]}"),), "contract_refused"
        )
    except Exception as error:
        key = f"read_contract raised {type(error).__name__}"
        return Outcome(SOUNDNESS, (Finding(key, str(error)[:300]),))

    validated, rejection = pandera_verdict(model, frame)
    original = frame.copy(deep=True)
    target = PublishTarget(
        product="/".join(table), table=table, contract=contract, owners=["team:t"]
    )
    try:
        warehouse.publish(target, frame)
    except (ContractViolation, DagmeshError) as error:
        if _mutated(original, frame):
            return Outcome(SOUNDNESS, (Finding("publish changed the caller's frame"),))
        return judge_refusal(model, contract, frame, validated, warehouse, table, error)
    except Exception as error:
        key = f"publish raised {type(error).__name__}"
        return Outcome(
            SOUNDNESS, (Finding(key, str(error).splitlines()[0][:300] if str(error) else ""),)
        )

    if _mutated(original, frame):
        return Outcome(SOUNDNESS, (Finding("publish changed the caller's frame"),))
    later = pandera_verdict(model, frame)[0] if validated is not None else None
    return judge_publication(contract, validated, rejection, warehouse, table, later)


def judge_refusal(
    model: type[pa.DataFrameModel],
    contract: Contract,
    frame: pd.DataFrame,
    validated: pd.DataFrame | None,
    warehouse: MeshWarehouse,
    table: tuple[str, str],
    error: Exception,
) -> Outcome:
    """A publish that was refused, against pandera's verdict on `frame`: nothing may have been
    published, and a refusal of what pandera accepts is a completeness gap unless documented."""
    if warehouse.table_exists(table):
        return Outcome(SOUNDNESS, (Finding("refused, yet the table was published"),))
    if validated is None:
        return Outcome(REFUSED_OK)
    difference = deliberate_difference(model, frame, validated)
    if difference:
        return Outcome(DELIBERATE, tuple(_refusal_findings(error, contract)), difference)
    return Outcome(COMPLETENESS, tuple(_refusal_findings(error, contract)))


def judge_publication(
    contract: Contract,
    validated: pd.DataFrame | None,
    rejection: Sequence[Finding],
    warehouse: MeshWarehouse,
    table: tuple[str, str],
    validated_later: pd.DataFrame | None = None,
) -> Outcome:
    """A publish that went through, against pandera's verdict: publishing what pandera rejects is
    unsound, and what was published must read back as the frame pandera validated."""
    if validated is None:
        findings = tuple(
            Finding(f"published what pandera rejects: {f.key}", f.detail) for f in rejection
        )
        return Outcome(SOUNDNESS, findings)
    try:
        published = warehouse.read(table, reader=TRUSTED)
    except Exception as error:
        return Outcome(
            SOUNDNESS, (Finding(f"read raised {type(error).__name__}", str(error)[:300]),)
        )
    findings, notes = check_published(contract, published, validated, validated_later)
    if findings:
        return Outcome(SOUNDNESS, tuple(findings), notes=tuple(notes))
    return Outcome(PUBLISHED_OK, notes=tuple(notes))


def _mutated(original: pd.DataFrame, frame: pd.DataFrame) -> bool:
    if list(original.columns) != list(frame.columns) or not original.index.equals(frame.index):
        return True
    for name in original.columns:
        if original[name].dtype != frame[name].dtype:
            return True
        if _column_difference(original[name], frame[name]) is not None:
            return True
    return False
