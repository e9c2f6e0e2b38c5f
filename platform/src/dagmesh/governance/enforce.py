"""Policies at code-location load: an `error` stops the location from loading, a `warn` shows on the asset."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from enum import StrEnum

import dagster as dg

from dagmesh.core.markdown import markdown_table
from dagmesh.declare.interface import (
    ProductInterface,
    map_asset_specs,
    metadata_value,
)
from dagmesh.governance.policy import (
    MeshView,
    Policy,
    PolicyConfigError,
    PolicyViolationError,
    Severity,
    Violation,
    evaluate,
    tighten,
)
from dagmesh.governance.standard import STANDARD_POLICIES

# On each asset: the violations found when its location loaded (Markdown for the UI, JSON for tools).
VIOLATIONS_METADATA = "dagmesh/policy_violations"
VIOLATIONS_JSON_METADATA = "dagmesh/policy_violations_json"
# On the location's Definitions: the severity of every policy it governs itself with.
POLICIES_METADATA = "dagmesh/policies"


class Enforcement(StrEnum):
    """What a location does with error violations: refuse to load, or only record them."""

    ENFORCE = "enforce"
    REPORT = "report"


def policies_for(
    extra: Sequence[Policy] = (), overrides: Mapping[str, str] | None = None
) -> list[Policy]:
    """The central policies plus a domain's own, with the domain's (tightening-only) overrides."""
    names = [p.name for p in STANDARD_POLICIES]
    clashes = [p.name for p in extra if p.name in names]
    if clashes:
        raise PolicyConfigError(
            f"policy name(s) {', '.join(clashes)} are central; give a domain policy its own name "
            "(to make a central warn an error, use policy_overrides)"
        )
    return tighten([*STANDARD_POLICIES, *extra], overrides)


def _markdown(violations: Sequence[Violation]) -> str:
    return markdown_table(
        ("policy", "severity", "problem", "fix"),
        ((v.policy, v.severity.value, v.message, v.fix) for v in violations),
    )


def _as_json(violations: Sequence[Violation]) -> list[dict[str, object]]:
    return [
        {
            "policy": v.policy,
            "severity": v.severity.value,
            "product": v.product,
            "owners": list(v.owners),
            "message": v.message,
            "fix": v.fix,
        }
        for v in violations
    ]


def recorded_violations(spec: dg.AssetSpec) -> list[Violation]:
    """The violations an asset's location recorded on it when it loaded."""
    raw = metadata_value(spec.metadata, VIOLATIONS_JSON_METADATA) or []
    return [
        Violation(
            str(v["policy"]),
            Severity(v["severity"]),
            str(v["product"]),
            tuple(v["owners"]),
            str(v["message"]),
            str(v["fix"]),
        )
        for v in (json.loads(raw) if isinstance(raw, str) else raw)
    ]


def location_severities(defs: dg.Definitions) -> dict[str, Severity]:
    """The severity of each policy a loaded location governs itself with."""
    raw = metadata_value(defs.metadata, POLICIES_METADATA) or {}
    return {name: Severity(severity) for name, severity in dict(raw).items()}


def enforce_on_load(
    location: str,
    defs: dg.Definitions,
    policies: Sequence[Policy],
    interfaces: Mapping[dg.AssetKey, ProductInterface] | None = None,
    enforcement: Enforcement = Enforcement.ENFORCE,
    declared_at: Mapping[str, str] | None = None,
) -> dg.Definitions:
    """Evaluate `policies` over a location's assets and record the violations on them; with
    `Enforcement.ENFORCE`, raise on errors (the error carries the annotated definitions and names
    each product's `declared_at` file:line, by "domain/name")."""
    view = MeshView(interfaces=interfaces or {})
    view.add(location, defs)
    violations = evaluate(policies, view)
    by_product: dict[str, list[Violation]] = defaultdict(list)
    for violation in violations:
        by_product[violation.product].append(violation)

    def annotate(spec: dg.AssetSpec) -> dg.AssetSpec:
        found = by_product.get(spec.key.to_user_string())
        if not found:
            return spec
        return spec.merge_attributes(
            metadata={
                VIOLATIONS_METADATA: dg.MetadataValue.md(_markdown(found)),
                VIOLATIONS_JSON_METADATA: dg.MetadataValue.json(_as_json(found)),
            }
        )

    if by_product:
        defs = map_asset_specs(defs, annotate)
    defs = dg.Definitions.merge(
        defs,
        dg.Definitions(
            metadata={
                POLICIES_METADATA: dg.MetadataValue.json(
                    {p.name: p.severity.value for p in policies}
                )
            }
        ),
    )
    errors = [v for v in violations if v.severity is Severity.ERROR]
    if errors and enforcement is Enforcement.ENFORCE:
        raise PolicyViolationError(errors, definitions=defs, declared_at=declared_at)
    return defs
