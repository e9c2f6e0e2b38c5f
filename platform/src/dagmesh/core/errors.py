"""Errors a domain team sees: each names the product, its owners and what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagmesh.storage.audit import AuditResult


class DagmeshError(Exception):
    """Base of the platform's own errors, so the CLI can print them without a traceback."""


def _owners(owners: Sequence[str]) -> str:
    return ", ".join(owners) if owners else "no owner declared"


class ContractViolation(DagmeshError):
    """The staged output broke its contract, so nothing was published."""

    def __init__(self, product: str, owners: Sequence[str], result: AuditResult):
        self.product = product
        self.owners = list(owners)
        self.result = result
        lines = [
            f"contract violated by {product} (owners: {_owners(owners)}): "
            f"{len(result.failed)} check(s) failed on {result.rows} staged rows; nothing was published, "
            "consumers keep reading the last good version.",
        ]
        for outcome in result.failed:
            where = f"column {outcome.column!r}" if outcome.column else "table"
            if outcome.check.startswith("volume:"):
                lines.append(f"  - {outcome.check}")
                continue
            lines.append(f"  - {where}: {outcome.check} failed for {outcome.failures} row(s)")
            for sample in outcome.samples[:3]:
                lines.append(f"      e.g. {sample}")
        lines.append(
            "Fix the data or the code producing it, or change the contract (with a version bump), "
            "then materialize the product again."
        )
        super().__init__("\n".join(lines))


class ContractShapeError(DagmeshError):
    """The frame's columns are not the contract's columns."""

    def __init__(
        self,
        product: str,
        owners: Sequence[str],
        missing: Sequence[str],
        extra: Sequence[str],
        order: tuple[Sequence[str], Sequence[str]] | None = None,
    ):
        self.product, self.missing, self.extra = product, list(missing), list(extra)
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(map(repr, missing))}")
        if extra:
            problems.append(f"column(s) not in the contract {', '.join(map(repr, extra))}")
        if order:
            problems.append(
                f"the contract is ordered and expects columns {list(order[0])}, got {list(order[1])}"
            )
        super().__init__(
            f"{product} (owners: {_owners(owners)}) returned a frame that does not match its contract: "
            f"{'; '.join(problems)}. Nothing was published. Return exactly the contract's columns, "
            "or change the contract (with a version bump)."
        )


class MissingUpstreamError(DagmeshError):
    """An input's table does not exist in the warehouse yet."""

    def __init__(self, consumer: str, upstream: str, table: str):
        super().__init__(
            f"{consumer} reads {upstream}, but its table {table} is not in the warehouse. "
            f"Materialize {upstream} first (`dagmesh run` materializes the whole mesh in order)."
        )


class ProductDefinitionError(DagmeshError):
    """A data product declared in a way the platform cannot build or enforce."""


class ProductFailedError(DagmeshError):
    """The product's own function raised (bad source data, a bug): nothing was published."""
