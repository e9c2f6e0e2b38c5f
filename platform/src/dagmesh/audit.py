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


def _distinct_keys(columns: Sequence[str]) -> str:
    """How many distinct keys, nulls counting as one value as in pandas' `duplicated`."""
    if len(columns) == 1:
        col = quote_identifier(columns[0])
        return f"COUNT(DISTINCT {col}) + (COUNT(*) FILTER (WHERE {col} IS NULL) > 0)::BIGINT"
    return f"COUNT(DISTINCT struct_pack({', '.join(quote_identifier(c) for c in columns)}))"


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

    select = ["COUNT(*)"]
    params: list[Any] = []
    for check in compiled:
        select.append(f"COUNT(*) FILTER (WHERE {check.failing_predicate})")
        params += check.params
    uniqueness = [[c.name] for c in contract.columns if c.unique]
    if contract.unique_together:
        uniqueness.append(list(contract.unique_together))
    # Uniqueness is detected in the same scan (distinct keys vs rows, nulls as one key like pandas);
    # the exact failing-row count, a GROUP BY, runs only when there are duplicates to count.
    select += [_distinct_keys(cols) for cols in uniqueness]

    counts = con.execute(f"SELECT {', '.join(select)} FROM {table}", params).fetchone()
    rows, *failure_counts = counts
    for index, cols in enumerate(uniqueness, start=len(compiled)):
        has_duplicates = failure_counts[index] < rows
        failure_counts[index] = (
            con.execute(_duplicates_query(table, cols)).fetchone()[0] if has_duplicates else 0
        )
    outcomes: list[CheckOutcome] = []
    for check, failures in zip(compiled, failure_counts[: len(compiled)], strict=True):
        samples = _samples(con, table, check.failing_predicate, check.params) if failures else []
        outcomes.append(CheckOutcome(check.column, check.label, int(failures), "duckdb", samples))
    for cols, failures in zip(uniqueness, failure_counts[len(compiled) :], strict=True):
        label = "unique" if len(cols) == 1 else f"unique({', '.join(cols)})"
        samples = _duplicate_samples(con, table, cols) if failures else []
        column = cols[0] if len(cols) == 1 else None
        outcomes.append(CheckOutcome(column, label, int(failures), "duckdb", samples))
    outcomes += _pandera_outcomes(frame, leftovers, list(contract.frame_checks))
    return AuditResult(rows=int(rows), outcomes=outcomes)
