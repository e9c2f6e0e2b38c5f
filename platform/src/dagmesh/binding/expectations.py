"""Great Expectations suites attached to a product, run as the `expectations` asset check.

A product declares a GX suite beside its contract (GX's suite JSON, expectation configurations, or GX
objects); after the product publishes, the check decides them on the published table. The common ones (not null, unique, between, in set, row count) are
compiled to one DuckDB query where SQL decides exactly as GX's pandas engine would on the table read into
pandas (`dagmesh.storage.expectation_sql`); the rest go to GX's pandas engine, on only the columns they
name, read through Arrow. The results table says which engine decided each expectation. GX validates (and
`validate_frame` imports it) only when something is left for it. A suite of configurations (a suite file)
is read without GX (`expectation_sql.plain_expectation`: only values already of the type GX's model would
give them); one of GX objects, or a function building them, imports GX to build them.

GX's SQL datasource over DuckDB is no alternative: on GX 1.24 with duckdb-engine it computes no metric rows,
so every expectation fails with `list index out of range` and `validate()` raises nothing (verified with
DuckDB 1.5.5, duckdb-engine 0.15 and 0.17, SQLAlchemy 2.0 and 2.1). A guard makes that kind of silent
failure loud: if GX evaluated fewer expectations than it was given, or any raised inside, the check errors
instead of reporting a verdict. (A GX suite also drops an expectation equal to one already in it, which the
guard reports the same way.)
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from dagmesh.core.errors import DagmeshError
from dagmesh.core.markdown import markdown_table
from dagmesh.declare.expectation_suite import is_configuration
from dagmesh.storage.expectation_sql import ENGINE as SQL_ENGINE
from dagmesh.storage.expectation_sql import (
    PlainExpectation,
    evaluate_in_duckdb,
    plain_expectation,
)
from dagmesh.storage.frames import arrow_to_pandas
from dagmesh.storage.sql import qualified_name, quote_identifier
from dagmesh.storage.warehouse import MeshWarehouse, table_exists_in

EXPECTATIONS_CHECK = "expectations"
GX_ENGINE = "gx"
_POSITION = "dagmesh_position"  # in a copied expectation's meta: where it stands in the suite


class ExpectationsNotEvaluatedError(DagmeshError):
    """GX returned without evaluating the suite: a broken path must never look like a verdict."""


@dataclass(frozen=True)
class ExpectationResult:
    expectation: str
    column: str | None
    success: bool
    observed: Any
    unexpected_count: int | None
    engine: str = GX_ENGINE  # which engine decided it: "duckdb" (compiled SQL) or "gx"


def _import_gx() -> Any:
    # No usage analytics calls from a closed network.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def gx_expectation(expectation: Any) -> Any:
    """A GX expectation object for a declared one: a configuration goes through GX's own loader (as a
    suite file does), so GX coerces and rejects its values as it would."""
    if isinstance(expectation, PlainExpectation):
        expectation = expectation.config
    if not is_configuration(expectation):
        return expectation
    _import_gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    return ExpectationConfiguration(**expectation).to_domain_obj()


def compilable(expectation: Any) -> Any:
    """What the SQL compiler is given for a declared expectation: a plain configuration stays GX-free,
    any other configuration becomes a GX object."""
    if is_configuration(expectation):
        return plain_expectation(expectation) or gx_expectation(expectation)
    return expectation


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
    """Run `expectations` on `frame` with GX, results in the order given; raise if GX did not really
    evaluate every one."""
    # GX is slow to import: only suites with something left for it pay for it.
    gx = _import_gx()
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
    for position, expectation in enumerate(expectations):
        # A suite takes ownership (ids): keep the declaration clean.
        copied = copy.deepcopy(gx_expectation(expectation))
        copied.id = None
        # GX orders its results its own way (by column, not as declared): the position rides in `meta`,
        # which GX carries into each result's configuration.
        copied.meta = {**(copied.meta or {}), _POSITION: position}
        suite.add_expectation(copied)
    outcome = batch.validate(suite)
    results = list(outcome.results)
    positions = [(r.expectation_config.meta or {}).get(_POSITION) for r in results]
    broken = [
        r.expectation_config.type
        for r in results
        if isinstance(r.exception_info, dict)
        and any(
            isinstance(info, dict) and info.get("raised_exception")
            for info in [r.exception_info, *r.exception_info.values()]
        )
    ]
    complete = len(positions) == len(expectations) and set(positions) == set(range(len(positions)))
    if not complete or broken:
        raise ExpectationsNotEvaluatedError(
            f"great-expectations evaluated {len(results)} of {len(expectations)} expectation(s) of {product}"
            + (f"; these raised inside GX: {', '.join(broken)}" if broken else "")
            + ". No verdict is reported: fix the suite or the GX installation."
        )
    in_order = sorted(zip(positions, results, strict=True), key=lambda pair: pair[0])
    return [
        ExpectationResult(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            observed=r.result.get("observed_value"),
            unexpected_count=r.result.get("unexpected_count"),
        )
        for _position, r in in_order
    ]


def _markdown(results: Sequence[ExpectationResult]) -> str:
    return markdown_table(
        ("expectation", "column", "passed", "observed", "unexpected", "engine"),
        (
            (
                r.expectation,
                r.column or "",
                "yes" if r.success else "no",
                "" if r.observed is None else r.observed,
                "" if r.unexpected_count is None else r.unexpected_count,
                r.engine,
            )
            for r in results
        ),
    )


@dataclass(frozen=True)
class DecidedInDuckdb:
    """A suite after its SQL pass: the results DuckDB decided (by position in the suite), the rest and
    the frame GX decides them on. The frame is read while the connection is open; GX runs after it is
    closed, so a slow suite does not hold the warehouse."""

    product: str
    expectations: tuple[Any, ...]
    results: dict[int, ExpectationResult]
    leftover: tuple[int, ...]
    frame: pd.DataFrame | None

    def finish(self) -> list[ExpectationResult]:
        """Every result in suite order, the leftovers decided by GX; raise unless each was evaluated."""
        results = dict(self.results)
        if self.leftover:
            assert self.frame is not None
            leftover = [gx_expectation(self.expectations[position]) for position in self.leftover]
            decided = validate_frame(self.product, self.frame, leftover)
            for position, expectation, result in zip(self.leftover, leftover, decided, strict=True):
                declared = getattr(expectation, "expectation_type", result.expectation)
                if result.expectation != declared:
                    raise ExpectationsNotEvaluatedError(
                        f"great-expectations answered {result.expectation} for {declared} of "
                        f"{self.product}: its results do not line up with the suite. "
                        "No verdict is reported."
                    )
                results[position] = result
        if sorted(results) != list(range(len(self.expectations))):
            raise ExpectationsNotEvaluatedError(
                f"{len(results)} of {len(self.expectations)} expectation(s) of {self.product} were "
                "evaluated. No verdict is reported."
            )
        return [results[position] for position in range(len(self.expectations))]


def decide_in_duckdb(
    con: duckdb.DuckDBPyConnection,
    product: str,
    table: tuple[str, str],
    expectations: Sequence[Any],
) -> DecidedInDuckdb:
    """Decide what SQL decides exactly as GX's pandas engine in one query over the published `table`,
    and read the columns the other expectations name (only if there are any) for GX."""
    name = qualified_name(table)
    expectations = [compilable(expectation) for expectation in expectations]
    evaluation = evaluate_in_duckdb(con, name, expectations)
    results = {
        position: ExpectationResult(
            expectation=v.expectation,
            column=v.column,
            success=v.success,
            observed=v.observed,
            unexpected_count=v.unexpected_count,
            engine=SQL_ENGINE,
        )
        for position, v in evaluation.verdicts.items()
    }
    frame = None
    if evaluation.leftover:
        named = _columns([expectations[position] for position in evaluation.leftover])
        # A column the table lacks is not selected (DuckDB would refuse the query): GX reports it.
        present = [c for c in named if c in evaluation.columns]
        if present or not named:
            selected = ", ".join(quote_identifier(c) for c in present) or "*"
            frame = arrow_to_pandas(con.execute(f"SELECT {selected} FROM {name}").to_arrow_table())
        else:
            frame = pd.DataFrame(index=pd.RangeIndex(evaluation.rows))
    return DecidedInDuckdb(product, tuple(expectations), results, tuple(evaluation.leftover), frame)


def validate_table(
    con: duckdb.DuckDBPyConnection,
    product: str,
    table: tuple[str, str],
    expectations: Sequence[Any],
) -> list[ExpectationResult]:
    """Decide `expectations` on the published `table`, in suite order: in DuckDB where SQL decides
    exactly as GX's pandas engine, the rest with GX on a frame of only the columns they name."""
    return decide_in_duckdb(con, product, table, expectations).finish()


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
        with warehouse.get_connection() as con:
            if not table_exists_in(con, table):
                return dg.AssetCheckResult(
                    passed=False, metadata={"error": f"{product} is not published yet"}
                )
            decided = decide_in_duckdb(con, product, table, expectations_now)
        results = decided.finish()
        failed = [r for r in results if not r.success]
        engines = {
            engine: sum(r.engine == engine for r in results) for engine in (SQL_ENGINE, GX_ENGINE)
        }
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "evaluated": len(results),
                "failed": len(failed),
                "failed_expectations": [f"{r.expectation}({r.column or ''})" for r in failed],
                "results": dg.MetadataValue.md(_markdown(results)),
                "engines": engines,  # how many expectations each engine decided
            },
        )

    return _check
