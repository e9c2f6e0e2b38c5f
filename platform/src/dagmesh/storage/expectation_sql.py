"""Great Expectations expectations compiled to one DuckDB query over a published table.

The `expectations` check used to read the named columns into pandas and hand them to GX's pandas engine.
The common expectations are decided here instead, in one scan where the table already is (uniqueness of
an integer column adds a bitmap probe, and a grouping only when there are duplicates, as in the contract
audit), but only where SQL decides exactly as GX's pandas engine decides on the frame the check would
otherwise build (`arrow_to_pandas` of the table): the same rows counted as null, the same values compared
the same way, the same `mostly` arithmetic. Everything else (other expectation types, row conditions,
suite parameters, column types or parameters whose pandas comparison SQL would not reproduce) is left to
GX, as is an expectation the data itself puts out of reach (BIGINT values beyond ±2**53, which pandas
rounds to float64 when the column has a null, for uniqueness and value sets). GX is never imported here:
an expectation is recognised by its class, which must be GX's own.

What the frame looks like to GX, and so what SQL must reproduce:
- BIGINT and the smaller integers are int64/int32/...; with a null anywhere the column is float64 (the
  null is NaN), so its values are rounded to doubles.
- DOUBLE is float64 and its NaN is a null to GX; DuckDB keeps NaN as a value, so SQL counts it as null.
- DECIMAL(p, s) is an object column of `decimal.Decimal`, compared exactly with ints and floats.
- VARCHAR is an object column of `str`.

GX's own semantics (1.24, pandas engine), verified against it by tests/integration/binding/
test_expectation_sql_differential.py:
- map expectations (between, in set, unique) drop nulls first and pass vacuously when no value is left;
  not-null counts the nulls and passes vacuously on an empty table.
- `min_value`/`max_value` of ExpectColumnValuesToBeBetween are pydantic floats: an int or Decimal bound
  is a float once the expectation exists (Decimal("0.10") becomes 0.1, which Decimal("0.10") is below).
  An int64 or float64 column compares with it in float64 (NumPy casts the int64 column to float64
  against a Python float); a Decimal column compares exactly.
- a value set compares by Python equality across types: True == 1, Decimal("Infinity") == inf; the
  compiler leaves such members to GX rather than follow pandas' dtype-dependent `isin`.
- uniqueness counts every row of a repeated value (`duplicated(keep=False)`); -0.0 repeats 0.0.
- `mostly` is `(nonnull - unexpected) / nonnull >= mostly` in floats (not-null: over all rows).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

from dagmesh.storage.sql import quote_identifier

ENGINE = "duckdb"

NOT_NULL = "ExpectColumnValuesToNotBeNull"
UNIQUE = "ExpectColumnValuesToBeUnique"
BETWEEN = "ExpectColumnValuesToBeBetween"
IN_SET = "ExpectColumnValuesToBeInSet"
ROW_COUNT = "ExpectTableRowCountToBeBetween"

# GX's `expectation_config.type` of each: what the check reports for it.
EXPECTATION_TYPES = {
    NOT_NULL: "expect_column_values_to_not_be_null",
    UNIQUE: "expect_column_values_to_be_unique",
    BETWEEN: "expect_column_values_to_be_between",
    IN_SET: "expect_column_values_to_be_in_set",
    ROW_COUNT: "expect_table_row_count_to_be_between",
}

# Result formats whose result carries `unexpected_count` and `observed_value` as BASIC does.
_RESULT_FORMATS = frozenset(("BASIC", "SUMMARY", "COMPLETE"))

_INT_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
)
_TEMPORAL_TYPES = frozenset(("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"))
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
# Integers a float64 holds exactly: beyond them pandas' float64 copy of a nullable BIGINT is rounded.
_EXACT_IN_FLOAT = 2**53


@dataclass(frozen=True)
class SqlVerdict:
    """An expectation decided in DuckDB, with the result fields GX's pandas engine would report."""

    expectation: str
    column: str | None
    success: bool
    observed: Any
    unexpected_count: int | None


@dataclass(frozen=True)
class SqlEvaluation:
    """What the query decided (by position in the suite), and the positions left to GX."""

    rows: int
    columns: tuple[str, ...]  # the table's columns, as DuckDB names them
    verdicts: dict[int, SqlVerdict]
    leftover: list[int]


class _NoSqlForm(Exception):
    """This expectation has no SQL that decides it exactly as GX's pandas engine does."""


class _DataOutOfReach(Exception):
    """The data puts this expectation beyond the SQL form (see the module docstring): GX decides it."""


@dataclass(frozen=True)
class _Column:
    name: str
    sql: str
    kind: str  # "int", "float", "decimal", "str", "bool", "temporal" or "other"
    duckdb_type: str
    precision: int = 0
    scale: int = 0

    @property
    def null(self) -> str:
        """True for the rows GX counts as null: a DOUBLE's NaN is NaN in the frame, a null to pandas."""
        if self.kind in ("float", "float32"):
            return f"({self.sql} IS NULL OR isnan({self.sql}))"
        return f"({self.sql} IS NULL)"


def _column(name: str, duckdb_type: str) -> _Column:
    sql = quote_identifier(name)
    if duckdb_type in _INT_TYPES:
        return _Column(name, sql, "int", duckdb_type)
    if duckdb_type == "DOUBLE":
        return _Column(name, sql, "float", duckdb_type)
    if duckdb_type == "FLOAT":
        # float32 compares with a Python float in float32 (NEP 50): only its nulls are decided here.
        return _Column(name, sql, "float32", duckdb_type)
    if duckdb_type == "VARCHAR":
        return _Column(name, sql, "str", duckdb_type)
    if duckdb_type == "BOOLEAN":
        return _Column(name, sql, "bool", duckdb_type)
    if duckdb_type in _TEMPORAL_TYPES:
        return _Column(name, sql, "temporal", duckdb_type)
    match = _DECIMAL.fullmatch(duckdb_type)
    if match:
        precision, scale = int(match[1]), int(match[2])
        return _Column(name, sql, "decimal", duckdb_type, precision, scale)
    return _Column(name, sql, "other", duckdb_type)


@dataclass
class _Query:
    """The select list of the one query, each expression once (expectations share null counts)."""

    expressions: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _slots: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)

    def add(self, expression: str, params: Sequence[Any] = ()) -> int:
        key = (expression, tuple(repr(p) for p in params))
        if key not in self._slots:
            self._slots[key] = len(self.expressions)
            self.expressions.append((expression, tuple(params)))
        return self._slots[key]


Run = Callable[[str, Sequence[Any]], tuple[Any, ...]]
Decide = Callable[[int, Sequence[Any], Run], SqlVerdict]

_MAX_BITMAP_BITS = 1 << 28  # 32 MiB
_BITS_PER_ROW = 64


def _int_duplicates(
    column: _Column, table: str, nonnull: int, low: Any, high: Any, duplicated: str, run: Run
) -> int:
    """Rows of repeated values of an integer column: 0 without running the grouping `duplicated` when
    a bitmap of the value range counts as many distinct values as there are values."""
    if not nonnull:
        return 0
    span = int(high) - int(low) + 1
    if nonnull <= span <= min(_MAX_BITMAP_BITS, _BITS_PER_ROW * nonnull):
        probe = f"SELECT bit_count(bitstring_agg(CAST({column.sql} AS BIGINT), ?, ?)) FROM {table}"
        if int(run(probe, [int(low), int(high)])[0]) == nonnull:
            return 0
    return _count(run(duplicated, [])[0])


# --- expectations declared as configurations ------------------------------------------------------

_CLASS_OF_TYPE = {snake: cls for cls, snake in EXPECTATION_TYPES.items()}
# Keys of a configuration that change nothing GX decides (GX carries them into the result's config),
# with the values GX's model takes as they are.
_INERT_KEYS = {
    "meta": lambda v: type(v) is dict,
    "notes": lambda v: type(v) is str or (type(v) is list and all(type(n) is str for n in v)),
    "description": lambda v: type(v) is str,
    "id": lambda v: type(v) is str,
    "severity": lambda v: v in ("critical", "warning", "info"),
}
_BOUNDED = frozenset((BETWEEN, ROW_COUNT))


@dataclass(frozen=True)
class PlainExpectation:
    """An expectation declared as GX configuration (`{"type": ..., "kwargs": {...}}`, GX's JSON form)
    and read here without importing GX: only when every value already has the type GX's own model
    would give it, so the compiler sees what it would see on the GX object. Anything else (a string
    where GX coerces to a number, a suite parameter, a row condition, an unknown key) is not plain and
    goes to GX whole, which also reports what it rejects."""

    gx_class: str
    config: Mapping[str, Any]  # the declaration, for GX should SQL leave it
    column: str | None = None
    mostly: float = 1
    min_value: float | int | None = None
    max_value: float | int | None = None
    strict_min: bool = False
    strict_max: bool = False
    value_set: tuple[Any, ...] | None = None
    result_format: str = "BASIC"

    @property
    def expectation_type(self) -> str:
        return EXPECTATION_TYPES[self.gx_class]


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _scalar(value: Any) -> bool:
    return value is None or type(value) in (str, int, float, bool)


def plain_expectation(config: Mapping[str, Any]) -> PlainExpectation | None:
    """`config` as the compiler reads it, if it is plain (see `PlainExpectation`); else None."""
    declared = config.get("type")
    name = _CLASS_OF_TYPE.get(declared) if type(declared) is str else None
    kwargs = config.get("kwargs", {})
    if name is None or not isinstance(kwargs, Mapping):
        return None
    inert = {key: value for key, value in config.items() if key not in ("type", "kwargs")}
    if any(key not in _INERT_KEYS or not _INERT_KEYS[key](value) for key, value in inert.items()):
        return None
    allowed = {"result_format"}
    if name in _BOUNDED:
        allowed |= {"min_value", "max_value", "strict_min", "strict_max"}
    if name != ROW_COUNT:
        allowed |= {"column", "mostly"}
    if name == IN_SET:
        allowed.add("value_set")
    if set(kwargs) - allowed:
        return None
    values: dict[str, Any] = {}
    if name != ROW_COUNT:
        column = kwargs.get("column")
        if type(column) is not str:
            return None
        values["column"] = column
        mostly = kwargs.get("mostly", 1)
        if not _number(mostly) or not 0 <= mostly <= 1:
            return None
        values["mostly"] = float(mostly) if "mostly" in kwargs else 1
    for bound in ("min_value", "max_value"):
        if bound not in kwargs or kwargs[bound] is None:
            continue
        value = kwargs[bound]
        if name == ROW_COUNT:
            if type(value) is not int:
                return None  # GX's int field truncates a float, parses a string
            values[bound] = value
        else:
            if not _number(value) or math.isnan(value) or abs(value) > 1.7e308:
                return None  # GX's float field parses strings; NaN and overflow stay with GX
            values[bound] = float(value)
    low, high = values.get("min_value"), values.get("max_value")
    if name == BETWEEN and low is None and high is None:
        return None  # GX refuses a between with no bound
    if name == ROW_COUNT and low is not None and high is not None and low > high:
        return None  # and a row count whose bounds cross
    for flag in ("strict_min", "strict_max"):
        if flag in kwargs:
            if type(kwargs[flag]) is not bool:
                return None
            values[flag] = kwargs[flag]
    if name == IN_SET:
        members = kwargs.get("value_set")
        if type(members) is not list or not all(_scalar(m) for m in members):
            return None
        values["value_set"] = tuple(members)
    result_format = kwargs.get("result_format", "BASIC")
    if type(result_format) is not str or result_format not in _RESULT_FORMATS:
        return None
    values["result_format"] = result_format
    return PlainExpectation(gx_class=name, config=config, **values)


def _gx_class(expectation: Any) -> str | None:
    """The GX class name of `expectation` when it is exactly one of GX's own classes (a subclass, or a
    class of the same name elsewhere, may decide differently) or a plain configuration of one."""
    if isinstance(expectation, PlainExpectation):
        return expectation.gx_class
    cls = type(expectation)
    if cls.__module__.startswith("great_expectations.") and cls.__name__ in EXPECTATION_TYPES:
        return cls.__name__
    return None


def _plain(expectation: Any) -> None:
    """Only the plain form: no row condition, no window, a result format reporting counts."""
    if getattr(expectation, "row_condition", None) is not None:
        raise _NoSqlForm
    if getattr(expectation, "condition_parser", None) is not None:
        raise _NoSqlForm
    if getattr(expectation, "windows", None):
        raise _NoSqlForm
    result_format = getattr(expectation, "result_format", "BASIC")
    if getattr(result_format, "value", result_format) not in _RESULT_FORMATS:
        raise _NoSqlForm  # BOOLEAN_ONLY reports no counts; a dict may ask for more than counts


def _mostly(expectation: Any) -> float:
    mostly = getattr(expectation, "mostly", 1)
    if type(mostly) not in (int, float) or not 0 <= mostly <= 1:
        raise _NoSqlForm  # a suite parameter, or something GX would reject
    return mostly


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise _NoSqlForm
    return value


def _map_success(rows: int, nulls: int, unexpected: int, mostly: float) -> bool:
    """ColumnMapExpectation._validate: vacuous without non-null values, else GX's float ratio."""
    nonnull = rows - nulls
    if rows == 0 or nonnull == 0:
        return True
    return (float(nonnull) - float(unexpected)) / float(nonnull) >= mostly


def _count(value: Any) -> int:
    return int(value or 0)  # count_if over no rows is NULL


# --- ExpectColumnValuesToBeBetween -------------------------------------------------------------------


def _float_bound(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is not float or math.isnan(value):
        # An int bound (only by bypassing pydantic) compares exactly with int64 in NumPy, not as a
        # float; NaN compares False in NumPy and above everything in DuckDB.
        raise _NoSqlForm
    return value


def _decimal_units(bound: float, column: _Column, op: str) -> str:
    """`value op bound` over DECIMAL(p, s) values, which Python compares with a float exactly, as a
    predicate on the column: the bound moves to the grid of the column's scale, where the comparison
    decides the same for every value the column can hold."""
    limit = 10**column.precision  # |value| * 10**s < limit
    if math.isinf(bound):
        units = limit if bound > 0 else -limit
        exact = Fraction(units)
    else:
        exact = Fraction(bound) * 10**column.scale
    floor, ceil = math.floor(exact), math.ceil(exact)
    if op == ">=":
        low, high = ceil, None
    elif op == ">":
        low, high = floor + 1, None
    elif op == "<=":
        low, high = None, floor
    else:  # "<"
        low, high = None, ceil - 1
    largest = limit - 1  # the column holds -largest..largest units
    if low is not None:
        if low <= -largest:
            return "TRUE"
        if low > largest:
            return "FALSE"
        return f"{column.sql} >= {_decimal_literal(low, column)}"
    assert high is not None
    if high >= largest:
        return "TRUE"
    if high < -largest:
        return "FALSE"
    return f"{column.sql} <= {_decimal_literal(high, column)}"


def _decimal_literal(units: int, column: _Column) -> str:
    """An exact DECIMAL(p, s) constant: digits only, made by this module, so no parameter is needed."""
    sign = "-" if units < 0 else ""
    digits = str(abs(units)).rjust(column.scale + 1, "0")
    text = digits if not column.scale else f"{digits[: -column.scale]}.{digits[-column.scale :]}"
    return f"CAST('{sign}{text}' AS {column.duckdb_type})"


def _between_predicate(expectation: Any, column: _Column) -> tuple[str, list[Any]]:
    """The predicate a non-null value passing the expectation satisfies."""
    if column.kind not in ("int", "float", "decimal"):
        raise _NoSqlForm  # strings raise inside GX, bools and dates compare their own way
    low = _float_bound(getattr(expectation, "min_value", None))
    high = _float_bound(getattr(expectation, "max_value", None))
    if low is None and high is None:
        raise _NoSqlForm
    if low is not None and high is not None and low > high:
        raise _NoSqlForm  # GX raises: let it
    strict_low = _flag(getattr(expectation, "strict_min", False))
    strict_high = _flag(getattr(expectation, "strict_max", False))
    ops = [(low, ">" if strict_low else ">="), (high, "<" if strict_high else "<=")]
    parts: list[str] = []
    params: list[Any] = []
    for bound, op in ops:
        if bound is None:
            continue
        if column.kind == "decimal":
            parts.append(_decimal_units(bound, column, op))
        else:
            # int64, int32, ... and float64 all compare with a Python float in float64.
            parts.append(f"CAST({column.sql} AS DOUBLE) {op} CAST(? AS DOUBLE)")
            params.append(bound)
    return " AND ".join(parts), params


# --- ExpectColumnValuesToBeInSet ---------------------------------------------------------------------


def _members(expectation: Any, column: _Column) -> tuple[list[str], list[Any], bool]:
    """SQL constants for the members of the value set that can equal a value of the column, their
    parameters, and whether the column's values must stay within ±2**53 (see `_compile`)."""
    values = getattr(expectation, "value_set", None)
    if not isinstance(values, list | tuple):
        raise _NoSqlForm  # None (vacuous in GX), a suite parameter, a string
    if column.kind not in ("int", "float", "decimal", "str"):
        raise _NoSqlForm
    placeholders: list[str] = []
    params: list[Any] = []
    for value in values:
        if value is None:
            continue  # nulls are dropped before the check: a None member changes nothing
        if isinstance(value, Decimal) and not value.is_finite():
            if value.is_nan() or column.kind not in ("str", "decimal"):
                # A signalling NaN raises in pandas' hash table; Decimal("Infinity") == inf.
                raise _NoSqlForm
            continue  # no string, no finite Decimal equals an infinity
        if column.kind == "str":
            if type(value) is str:
                if _encodes_as_utf8(value):
                    placeholders.append("CAST(? AS VARCHAR)")
                    params.append(value)
                # a str no UTF-8 text decodes to equals no value of the column
            elif type(value) not in (int, float, bool, Decimal, bytes):
                raise _NoSqlForm  # an object of its own: its __eq__ is its own
            continue
        if type(value) not in (int, float, Decimal):
            raise _NoSqlForm  # bools equal 1 and 0, strings meet NumPy's comparisons: leave them to GX
        if column.kind == "decimal":
            units = _decimal_member(value, column)
            if units is not None:
                placeholders.append(_decimal_literal(units, column))
            continue
        if type(value) is Decimal:
            raise _NoSqlForm  # object comparisons against a numeric array: leave to GX
        if isinstance(value, float) and math.isnan(value):
            continue  # NaN is null in the column: dropped before the check
        if isinstance(value, int) and abs(value) > _EXACT_IN_FLOAT:
            raise _NoSqlForm  # pandas compares it as int64, float64 or object, depending
        if column.kind == "int" and math.isfinite(value) and abs(value) > _EXACT_IN_FLOAT:
            raise _NoSqlForm
        if column.kind == "float":
            placeholders.append("CAST(? AS DOUBLE)")
            params.append(float(value))
        elif isinstance(value, int) or value.is_integer():
            placeholders.append("CAST(? AS BIGINT)")
            params.append(int(value))
        # a fractional or infinite float equals no integer
    return placeholders, params, column.kind == "int"


def _decimal_member(value: int | float | Decimal, column: _Column) -> int | None:
    """The member as units of the column's scale, if a DECIMAL(p, s) value can equal it exactly."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    exact = Fraction(value) * 10**column.scale
    if exact.denominator != 1 or abs(exact.numerator) >= 10**column.precision:
        return None
    return exact.numerator


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- the compiler ------------------------------------------------------------------------------------


def _compile(
    expectation: Any, name: str, columns: dict[str, _Column], table: str, query: _Query
) -> Decide:
    """Add what `expectation` needs to the query; return how to decide it from the query's values."""
    _plain(expectation)
    kind = EXPECTATION_TYPES[name]
    if name == ROW_COUNT:
        low, high = getattr(expectation, "min_value", None), getattr(expectation, "max_value", None)
        for bound in (low, high):
            if bound is not None and not isinstance(bound, int):
                raise _NoSqlForm  # a datetime or a suite parameter
        strict_low = _flag(getattr(expectation, "strict_min", False))
        strict_high = _flag(getattr(expectation, "strict_max", False))

        def decide_rows(rows: int, values: Sequence[Any], run: Run) -> SqlVerdict:
            above = low is None or (rows > low if strict_low else rows >= low)
            below = high is None or (rows < high if strict_high else rows <= high)
            return SqlVerdict(kind, None, bool(above and below), rows, None)

        return decide_rows

    column_name = getattr(expectation, "column", None)
    if not isinstance(column_name, str) or column_name not in columns:
        raise _NoSqlForm  # GX reports the missing column (and the check errors)
    column = columns[column_name]
    mostly = _mostly(expectation)
    if column.kind == "other":
        raise _NoSqlForm
    nulls_slot = query.add(f"count_if({column.null})")

    if name == NOT_NULL:

        def decide_not_null(rows: int, values: Sequence[Any], run: Run) -> SqlVerdict:
            nulls = _count(values[nulls_slot])
            success = True if rows == 0 else (rows - nulls) / rows >= mostly
            return SqlVerdict(kind, column_name, success, None, nulls)

        return decide_not_null

    range_slots: tuple[int, int] | None = None
    if column.kind == "int":
        range_slots = (query.add(f"MIN({column.sql})"), query.add(f"MAX({column.sql})"))

    def beyond_float(values: Sequence[Any]) -> bool:
        """Integers beyond ±2**53: where pandas' float64 copy of a nullable BIGINT, or its mixed
        comparisons, stop being exact. Such data goes to GX."""
        if range_slots is None or values[range_slots[0]] is None:
            return False
        low, high = values[range_slots[0]], values[range_slots[1]]
        return low < -_EXACT_IN_FLOAT or high > _EXACT_IN_FLOAT

    if name == UNIQUE:
        if column.kind not in ("int", "float", "decimal", "str", "bool"):
            raise _NoSqlForm
        # `duplicated(keep=False)` over the non-null values: every row of a repeated value.
        # DuckDB groups -0.0 with 0.0, as pandas' hash table does.
        duplicated = (
            f"SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM {table} "
            f"WHERE NOT {column.null} GROUP BY {column.sql} HAVING COUNT(*) > 1)"
        )
        # Integers are probed first with a bitmap of their range (as the contract audit does), several
        # times cheaper than grouping a million distinct keys; the grouping runs only on duplicates.
        grouped_slot = None if range_slots else query.add(f"({duplicated})")

        def decide_unique(rows: int, values: Sequence[Any], run: Run) -> SqlVerdict:
            nulls = _count(values[nulls_slot])
            if nulls and beyond_float(values):
                raise _DataOutOfReach  # the frame holds these integers as rounded float64
            if grouped_slot is not None:
                unexpected = _count(values[grouped_slot])
            else:
                assert range_slots is not None
                low, high = values[range_slots[0]], values[range_slots[1]]
                unexpected = _int_duplicates(
                    column, table, rows - nulls, low, high, duplicated, run
                )
            success = _map_success(rows, nulls, unexpected, mostly)
            return SqlVerdict(kind, column_name, success, None, unexpected)

        return decide_unique

    needs_exact_range = False
    if name == BETWEEN:
        predicate, params = _between_predicate(expectation, column)
    else:  # IN_SET
        placeholders, params, needs_exact_range = _members(expectation, column)
        predicate = f"{column.sql} IN ({', '.join(placeholders)})" if placeholders else "FALSE"
    unexpected_slot = query.add(f"count_if(NOT {column.null} AND NOT ({predicate}))", params)

    def decide_map(rows: int, values: Sequence[Any], run: Run) -> SqlVerdict:
        if needs_exact_range and beyond_float(values):
            raise _DataOutOfReach
        nulls = _count(values[nulls_slot])
        unexpected = _count(values[unexpected_slot])
        success = _map_success(rows, nulls, unexpected, mostly)
        return SqlVerdict(kind, column_name, success, None, unexpected)

    return decide_map


def _string_comparisons_are_binary(con: duckdb.DuckDBPyConnection) -> bool:
    collation = con.execute("SELECT current_setting('default_collation')").fetchone()
    return not (collation and collation[0])


def evaluate_in_duckdb(
    con: duckdb.DuckDBPyConnection, table: str, expectations: Sequence[Any]
) -> SqlEvaluation:
    """Decide every expectation of the suite that SQL decides exactly as GX's pandas engine, in one
    query over `table` (a qualified, quoted name); the others are listed for GX, by position."""
    described = con.execute(f"DESCRIBE {table}").fetchall()
    columns = {row[0]: _column(row[0], row[1]) for row in described}
    if not _string_comparisons_are_binary(con):
        columns = {
            n: (_Column(n, c.sql, "other", c.duckdb_type) if c.kind == "str" else c)
            for n, c in columns.items()
        }
    query = _Query()
    query.add("COUNT(*)")  # the first value: every decision gets the row count
    compiled: dict[int, Decide] = {}
    leftover: list[int] = []
    for position, expectation in enumerate(expectations):
        name = _gx_class(expectation)
        if name is None:
            leftover.append(position)
            continue
        try:
            compiled[position] = _compile(expectation, name, columns, table, query)
        except (_NoSqlForm, TypeError, ValueError, OverflowError):
            leftover.append(position)
    selected = ", ".join(expression for expression, _ in query.expressions)
    params = [p for _, expression_params in query.expressions for p in expression_params]
    values = con.execute(f"SELECT {selected} FROM {table}", params).fetchone()
    assert values is not None
    rows = int(values[0])

    def run(sql: str, params: Sequence[Any]) -> tuple[Any, ...]:
        found = con.execute(sql, list(params)).fetchone()
        assert found is not None
        return found

    verdicts: dict[int, SqlVerdict] = {}
    for position, decide in compiled.items():
        try:
            verdicts[position] = decide(rows, values, run)
        except _DataOutOfReach:
            leftover.append(position)
    return SqlEvaluation(rows, tuple(columns), verdicts, sorted(leftover))
