"""Great Expectations suites attached to a product, run as the `expectations` asset check.

A product declares a list of GX expectations beside its contract; after the product publishes, the check
reads the published table through Arrow (only the columns the suite names) and validates it with GX's pandas
engine. GX's SQL datasource over DuckDB would avoid the pandas copy, but on GX 1.24 with duckdb-engine it
computes no metric rows: every expectation fails with `list index out of range` and `validate()` raises
nothing (verified with DuckDB 1.5.5, duckdb-engine 0.15 and 0.17, SQLAlchemy 2.0 and 2.1). A guard makes that
kind of silent failure loud: if GX evaluated fewer expectations than declared, or any raised inside, the check
errors instead of reporting a verdict.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from dagmesh.core.errors import DagmeshError
from dagmesh.core.markdown import markdown_table
from dagmesh.storage.frames import arrow_to_pandas
from dagmesh.storage.sql import qualified_name, quote_identifier
from dagmesh.storage.warehouse import MeshWarehouse, table_exists_in

EXPECTATIONS_CHECK = "expectations"


class ExpectationsNotEvaluatedError(DagmeshError):
    """GX returned without evaluating the suite: a broken path must never look like a verdict."""


@dataclass(frozen=True)
class ExpectationResult:
    expectation: str
    column: str | None
    success: bool
    observed: Any
    unexpected_count: int | None


def _columns(expectations: Sequence[Any]) -> list[str]:
    names = []
    for expectation in expectations:
        for attribute in ("column", "column_A", "column_B"):
            value = getattr(expectation, attribute, None)
            if isinstance(value, str) and value not in names:
                names.append(value)
        for value in getattr(expectation, "column_list", None) or []:
            if value not in names:
                names.append(value)
    return names


def validate_frame(
    product: str, frame: pd.DataFrame, expectations: Sequence[Any]
) -> list[ExpectationResult]:
    """Run `expectations` on `frame` with GX; raise if GX did not really evaluate every one."""
    # No usage analytics calls from a closed network.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # GX is slow to import: only locations with suites pay for it.
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GX passes `disable=` to tqdm itself, so TQDM_DISABLE does not reach it: switch its bars off here.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("dagmesh").add_dataframe_asset(
        product.replace("/", "__")
    )
    batch = asset.add_batch_definition_whole_dataframe("published").get_batch(
        batch_parameters={"dataframe": frame}
    )
    suite = gx.ExpectationSuite(name=product)
    for expectation in expectations:
        copied = copy.deepcopy(
            expectation
        )  # a suite takes ownership (ids): keep the declaration clean
        copied.id = None
        suite.add_expectation(copied)
    outcome = batch.validate(suite)
    results = list(outcome.results)
    broken = [
        r.expectation_config.type
        for r in results
        if isinstance(r.exception_info, dict)
        and any(
            isinstance(info, dict) and info.get("raised_exception")
            for info in [r.exception_info, *r.exception_info.values()]
        )
    ]
    if len(results) != len(expectations) or broken:
        raise ExpectationsNotEvaluatedError(
            f"great-expectations evaluated {len(results)} of {len(expectations)} expectation(s) of {product}"
            + (f"; these raised inside GX: {', '.join(broken)}" if broken else "")
            + ". No verdict is reported: fix the suite or the GX installation."
        )
    return [
        ExpectationResult(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            observed=r.result.get("observed_value"),
            unexpected_count=r.result.get("unexpected_count"),
        )
        for r in results
    ]


def _markdown(results: Sequence[ExpectationResult]) -> str:
    return markdown_table(
        ("expectation", "column", "passed", "observed", "unexpected"),
        (
            (
                r.expectation,
                r.column or "",
                "yes" if r.success else "no",
                "" if r.observed is None else r.observed,
                "" if r.unexpected_count is None else r.unexpected_count,
            )
            for r in results
        ),
    )


def expectations_check(
    key: dg.AssetKey,
    table: tuple[str, str],
    expectations: Sequence[Any] | Callable[[], Iterable[Any]],
) -> dg.AssetChecksDefinition:
    """The `expectations` asset check of a product: runs after it publishes, in the same run.

    A suite given as a function is built when the check runs, not when the location loads: Great
    Expectations takes seconds to import, and loading a location (the UI, `dg check defs`, a consumer's
    tests) should not pay for it."""
    product = key.to_user_string()
    suite: list[Any] = [] if callable(expectations) else list(expectations)

    def resolved() -> list[Any]:
        if callable(expectations) and not suite:
            suite.extend(expectations())
        return suite

    counted = "" if callable(expectations) else f" ({len(suite)} expectations)"

    @dg.asset_check(
        asset=key,
        name=EXPECTATIONS_CHECK,
        blocking=False,
        description=f"Great Expectations suite of {product}{counted} on the published table.",
    )
    def _check(warehouse: MeshWarehouse) -> dg.AssetCheckResult:
        expectations_now = resolved()
        columns = _columns(expectations_now)
        with warehouse.get_connection() as con:
            if not table_exists_in(con, table):
                return dg.AssetCheckResult(
                    passed=False, metadata={"error": f"{product} is not published yet"}
                )
            selected = ", ".join(quote_identifier(c) for c in columns) or "*"
            arrow = con.execute(f"SELECT {selected} FROM {qualified_name(table)}").to_arrow_table()
        frame = arrow_to_pandas(arrow)
        results = validate_frame(product, frame, expectations_now)
        failed = [r for r in results if not r.success]
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "evaluated": len(results),
                "failed": len(failed),
                "failed_expectations": [f"{r.expectation}({r.column or ''})" for r in failed],
                "results": dg.MetadataValue.md(_markdown(results)),
            },
        )

    return _check
