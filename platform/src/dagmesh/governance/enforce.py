"""Policies at code-location load: an `error` stops the location from loading, a `warn` shows on the asset."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from dagmesh.governance.policy import (
    MeshView,
    Policy,
    PolicyViolationError,
    ProductView,
    Severity,
    Violation,
    evaluate,
    tighten,
)
from dagmesh.governance.standard import STANDARD_POLICIES

ENFORCEMENT_ENV = (
    "DAGMESH_POLICY_ENFORCEMENT"  # "enforce" (default) or "report" (what `dagmesh lint` uses)
)
VIOLATIONS_METADATA = "dagmesh/policy_violations"
# The policies each loaded location governs itself with, so `dagmesh lint` applies the same set.
LOCATION_POLICIES: dict[str, list[Policy]] = {}


def policies_for(
    extra: Sequence[Policy] = (), overrides: Mapping[str, str] | None = None
) -> list[Policy]:
    """The central policies plus a domain's own, with the domain's (tightening-only) overrides."""
    names = [p.name for p in STANDARD_POLICIES]
    clashes = [p.name for p in extra if p.name in names]
    if clashes:
        from dagmesh.governance.policy import PolicyConfigError

        raise PolicyConfigError(
            f"policy name(s) {', '.join(clashes)} are central; give a domain policy its own name "
            "(to make a central warn an error, use policy_overrides)"
        )
    return tighten([*STANDARD_POLICIES, *extra], overrides)


def _markdown(violations: Sequence[Violation]) -> str:
    lines = ["| policy | severity | problem | fix |", "|---|---|---|---|"]
    lines += [f"| {v.policy} | {v.severity.value} | {v.message} | {v.fix} |" for v in violations]
    return "\n".join(lines)


def enforce_on_load(
    location: str,
    assets: Sequence[Any],
    policies: Sequence[Policy],
    interfaces: Mapping[dg.AssetKey, ProductView] | None = None,
) -> list[Any]:
    """Evaluate `policies` over a location's assets; raise on errors, attach the rest as metadata."""
    LOCATION_POLICIES[location] = list(policies)
    view = MeshView(interfaces=interfaces or {})
    for item in assets:
        if isinstance(item, dg.AssetsDefinition):
            for spec in item.specs:
                view.products[spec.key] = ProductView.from_spec(spec, location)
    violations = evaluate(policies, view)
    errors = [v for v in violations if v.severity is Severity.ERROR]
    if errors and os.environ.get(ENFORCEMENT_ENV, "enforce") != "report":
        raise PolicyViolationError(errors)
    by_product: dict[str, list[Violation]] = defaultdict(list)
    for violation in violations:
        by_product[violation.product].append(violation)
    if not by_product:
        return list(assets)

    def annotate(spec: dg.AssetSpec) -> dg.AssetSpec:
        found = by_product.get(spec.key.to_user_string())
        if not found:
            return spec
        return spec.merge_attributes(
            metadata={VIOLATIONS_METADATA: dg.MetadataValue.md(_markdown(found))}
        )

    return [
        item.map_asset_specs(annotate) if isinstance(item, dg.AssetsDefinition) else item
        for item in assets
    ]
