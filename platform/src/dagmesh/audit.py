"""The contract audit: pandera checks compiled to one DuckDB query over the staged table.

Checks that have a SQL equivalent run where the data already is (one scan, `COUNT(*) FILTER` per check);
the rest fall back to pandera on the frame. Both report the same thing: failing rows per check and samples.
Pandera's semantics are kept: value checks ignore nulls, nullability is its own check.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from dagmesh.contract import Contract, ContractCheck, ContractColumn
from dagmesh.sql import quote_identifier

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class CheckOutcome:
    """How one contract check fared: failing row count and a few failing rows."""

    column: str | None
    check: str
    failures: int
    engine: str  # "duckdb" or "pandera"
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failures == 0


@dataclass(frozen=True)
class AuditResult:
    rows: int
    outcomes: list[CheckOutcome]

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)

    @property
    def failed(self) -> list[CheckOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def markdown(self) -> str:
        """One row per check, for the asset check's metadata in the Dagster UI."""
        lines = ["| column | check | failing rows | engine |", "|---|---|---|---|"]
        for o in self.outcomes:
            check = o.check.replace("|", "\\|")
            lines.append(f"| {o.column or '(table)'} | {check} | {o.failures} | {o.engine} |")
        return "\n".join(lines)


@dataclass(frozen=True)
class CompiledCheck:
    """A check as SQL: a predicate true for every failing row, with its parameters."""

    column: str | None
    label: str
    failing_predicate: str
    params: tuple[Any, ...] = ()


def _sql_value(value: Any) -> Any:
    """Turn numpy/pandas scalars into values DuckDB binds as parameters."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (str, int, float, bool, dt.date, dt.datetime, Decimal)) or value is None:
        return value
    raise TypeError(f"cannot compile value {value!r}")


def _value_predicate(check: ContractCheck, col: str) -> tuple[str, tuple[Any, ...]] | None:
    """The predicate a passing value satisfies, or None when the check has no SQL form here."""
    s = check.statistics
    name = check.name
    comparisons = {
        "greater_than": ">",
        "greater_than_or_equal_to": ">=",
        "less_than": "<",
        "less_than_or_equal_to": "<=",
        "equal_to": "=",
        "not_equal_to": "<>",
    }
    if name in comparisons:
        value = s.get("min_value", s.get("max_value", s.get("value")))
        return f"{col} {comparisons[name]} ?", (_sql_value(value),)
    if name == "in_range":
        low = ">=" if s.get("include_min", True) else ">"
        high = "<=" if s.get("include_max", True) else "<"
        return (
            f"{col} {low} ? AND {col} {high} ?",
            (_sql_value(s["min_value"]), _sql_value(s["max_value"])),
        )
    if name in ("isin", "notin"):
        values = tuple(
            _sql_value(v) for v in s.get("allowed_values", s.get("forbidden_values")) or ()
        )
        if not values:
            return ("FALSE" if name == "isin" else "TRUE"), ()
        placeholders = ", ".join("?" for _ in values)
        operator = "IN" if name == "isin" else "NOT IN"
        return f"{col} {operator} ({placeholders})", values
    if name in ("str_matches", "str_contains"):
        pattern = s.get("pattern")
        if isinstance(pattern, re.Pattern):
            if pattern.flags & ~re.UNICODE:
                return None  # flags have no faithful RE2 spelling: let pandera run it
            pattern = pattern.pattern
        if not isinstance(pattern, str):
            return None
        if name == "str_matches":  # Python's re.match anchors at the start only
            pattern = f"^(?:{pattern})"
        return f"regexp_matches({col}, ?)", (pattern,)
    if name == "str_startswith":
        return f"starts_with({col}, ?)", (s["string"],)
    if name == "str_endswith":
        return f"ends_with({col}, ?)", (s["string"],)
    if name == "str_length":
        if s.get("exact_value") is not None:
            return f"length({col}) = ?", (int(s["exact_value"]),)
        parts, params = [], []
        if s.get("min_value") is not None:
            parts.append(f"length({col}) >= ?")
            params.append(int(s["min_value"]))
        if s.get("max_value") is not None:
            parts.append(f"length({col}) <= ?")
            params.append(int(s["max_value"]))
        return (" AND ".join(parts) or "TRUE"), tuple(params)
    return None


def compile_column(column: ContractColumn) -> tuple[list[CompiledCheck], list[ContractCheck]]:
    """SQL for every check of a column we can compile; the rest are returned for pandera."""
    col = quote_identifier(column.name)
    compiled: list[CompiledCheck] = []
    leftover: list[ContractCheck] = []
    if not column.nullable:
        compiled.append(CompiledCheck(column.name, "not_nullable", f"{col} IS NULL"))
    for check in column.checks:
        try:
            predicate = _value_predicate(check, col)
        except (TypeError, KeyError):
            predicate = None
        if predicate is None:
            leftover.append(check)
            continue
        sql, params = predicate
        compiled.append(
            CompiledCheck(column.name, check.label, f"{col} IS NOT NULL AND NOT ({sql})", params)
        )
    return compiled, leftover


# Integer keys are checked with a bitmap of their range (`bitstring_agg`): several times cheaper than a
# hash-based COUNT(DISTINCT) on a million distinct values. Dense ranges only, to bound the bitmap's memory.
_BITMAP_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
)
_MAX_BITMAP_BITS = 1 << 28  # 32 MiB
_BITS_PER_ROW = 64


@dataclass(frozen=True)
class UniqueKey:
    """A uniqueness check, and how the main scan probes it: min/max/count for a bitmap, or distinct keys."""

    columns: tuple[str, ...]
    bitmap: bool

    @property
    def label(self) -> str:
        return "unique" if len(self.columns) == 1 else f"unique({', '.join(self.columns)})"

    def probes(self) -> list[str]:
        cols = [quote_identifier(c) for c in self.columns]
        if self.bitmap:
            return [f"MIN({cols[0]})", f"MAX({cols[0]})", f"COUNT({cols[0]})"]
        if len(cols) == 1:  # nulls count as one key, as in pandas' `duplicated`
            return [f"COUNT(DISTINCT {cols[0]}) + (COUNT(*) > COUNT({cols[0]}))::BIGINT"]
        return [f"COUNT(DISTINCT struct_pack({', '.join(cols)}))"]


def _unique_keys(contract: Contract, types: dict[str, str]) -> list[UniqueKey]:
    keys = [(c.name,) for c in contract.columns if c.unique]
    if contract.unique_together:
        keys.append(tuple(contract.unique_together))
    return [UniqueKey(k, len(k) == 1 and types.get(k[0]) in _BITMAP_TYPES) for k in keys]


def _distinct_keys(
    con: duckdb.DuckDBPyConnection, table: str, key: UniqueKey, rows: int, probed: Sequence[Any]
) -> int:
    """How many distinct keys `table` has (nulls as one key), from the main scan's probes."""
    if not key.bitmap:
        return int(probed[0])
    low, high, non_null = probed
    nulls = int(rows > non_null)
    if not non_null:
        return nulls
    span = int(high) - int(low) + 1
    if non_null > span:  # more values than the range can hold: duplicates for certain
        return span + nulls
    col = quote_identifier(key.columns[0])
    if span <= min(_MAX_BITMAP_BITS, _BITS_PER_ROW * non_null):
        query, params = f"SELECT bit_count(bitstring_agg({col}, ?, ?)) FROM {table}", [low, high]
    else:
        query, params = f"SELECT COUNT(DISTINCT {col}) FROM {table}", []
    return int(con.execute(query, params).fetchone()[0]) + nulls


def _duplicates_query(table: str, columns: Sequence[str]) -> str:
    """Rows whose key occurs more than once, counted like pandera's `unique`, which uses pandas'
    `duplicated`: nulls are equal to each other there, so repeated null keys are duplicates too."""
    cols = ", ".join(quote_identifier(c) for c in columns)
    return (
        f"SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM {table} "
        f"GROUP BY {cols} HAVING COUNT(*) > 1)"
    )


def _samples(
    con: duckdb.DuckDBPyConnection, table: str, predicate: str, params: Sequence[Any]
) -> list[dict[str, Any]]:
    rows = con.execute(f"SELECT * FROM {table} WHERE {predicate} LIMIT {SAMPLE_ROWS}", list(params))
    names = [d[0] for d in rows.description]
    return [dict(zip(names, row, strict=True)) for row in rows.fetchall()]


def _duplicate_samples(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]
) -> list[dict[str, Any]]:
    cols = ", ".join(quote_identifier(c) for c in columns)
    # Keys compared as structs, where nulls are equal, so duplicated null keys are sampled too.
    key = f"struct_pack({cols})"
    predicate = f"{key} IN (SELECT {key} FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1)"
    return _samples(con, table, predicate, ())


def _pandera_outcomes(
    frame: pd.DataFrame,
    column_checks: dict[str, list[ContractCheck]],
    frame_checks: list[ContractCheck],
) -> list[CheckOutcome]:
    """Run the checks with no SQL form through pandera, lazily, and count failing rows per check."""
    checks = [c for cs in column_checks.values() for c in cs] + frame_checks
    if not checks:
        return []
    schema = pa.DataFrameSchema(
        {
            name: pa.Column(checks=[c.pandera_check for c in cs], nullable=True, required=True)
            for name, cs in column_checks.items()
            if cs
        },
        checks=[c.pandera_check for c in frame_checks],
    )
    failures: dict[tuple[str | None, str], pd.DataFrame] = {}
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], dropna=False):
            key = (None if pd.isna(column) or column == frame.__class__.__name__ else column, check)
            failures[key] = group
    outcomes = []
    for check in checks:
        group = next(
            (
                g
                for (col, name), g in failures.items()
                if col == check.column and check.name in str(name)
            ),
            None,
        )
        if group is None:
            outcomes.append(CheckOutcome(check.column, check.label, 0, "pandera"))
            continue
        index = [i for i in group["index"].dropna().unique().tolist() if i in frame.index]
        failing = len(index) if index else len(group)
        samples = frame.loc[index[:SAMPLE_ROWS]].to_dict("records") if index else []
        outcomes.append(CheckOutcome(check.column, check.label, int(failing), "pandera", samples))
    return outcomes


def audit_staged_table(
    con: duckdb.DuckDBPyConnection, table: str, contract: Contract, frame: pd.DataFrame
) -> AuditResult:
    """Audit `table` (already typed to the contract) against every check of `contract`."""
    compiled: list[CompiledCheck] = []
    leftovers: dict[str, list[ContractCheck]] = {}
    for column in contract.columns:
        sql_checks, pandera_checks = compile_column(column)
        compiled += sql_checks
        leftovers[column.name] = pandera_checks

    # One scan: `count_if` per check (about twice as fast in DuckDB as `COUNT(*) FILTER`), plus the
    # uniqueness probes. The exact duplicate count, a GROUP BY, runs only when there are duplicates.
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    keys = _unique_keys(contract, types)
    probes = [key.probes() for key in keys]
    select = ["COUNT(*)"] + [f"count_if({check.failing_predicate})" for check in compiled]
    select += [probe for key_probes in probes for probe in key_probes]
    params = [param for check in compiled for param in check.params]
    rows, *counts = con.execute(f"SELECT {', '.join(select)} FROM {table}", params).fetchone()

    outcomes: list[CheckOutcome] = []
    for check, failures in zip(compiled, counts[: len(compiled)], strict=True):
        failures = failures or 0  # count_if over no rows is NULL
        samples = _samples(con, table, check.failing_predicate, check.params) if failures else []
        outcomes.append(CheckOutcome(check.column, check.label, int(failures), "duckdb", samples))
    probed = counts[len(compiled) :]
    for key, key_probes in zip(keys, probes, strict=True):
        distinct = _distinct_keys(con, table, key, rows, probed[: len(key_probes)])
        probed = probed[len(key_probes) :]
        failures = (
            con.execute(_duplicates_query(table, key.columns)).fetchone()[0]
            if distinct < rows
            else 0
        )
        samples = _duplicate_samples(con, table, key.columns) if failures else []
        column = key.columns[0] if len(key.columns) == 1 else None
        outcomes.append(CheckOutcome(column, key.label, int(failures), "duckdb", samples))
    outcomes += _pandera_outcomes(frame, leftovers, list(contract.frame_checks))
    return AuditResult(rows=int(rows), outcomes=outcomes)
