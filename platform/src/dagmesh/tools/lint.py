"""`dagmesh lint`: every policy over the whole workspace, with cross-domain knowledge load time lacks."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagmesh.binding.workspace import WorkspaceError, read_workspace
from dagmesh.declare.interface import asset_specs
from dagmesh.governance.enforce import location_severities, recorded_violations
from dagmesh.governance.interfaces import published_interfaces
from dagmesh.governance.policy import (
    MeshView,
    Policy,
    PolicyViolationError,
    Severity,
    Violation,
    evaluate,
)
from dagmesh.governance.standard import STANDARD_POLICIES


def _load_reporting(workspace: Path) -> dict[str, dg.Definitions]:
    """Every location's definitions; a location stopped by error violations gives the definitions its
    `PolicyViolationError` carries, so lint reports its problems instead of stopping at them."""
    locations: dict[str, dg.Definitions] = {}
    for location in read_workspace(workspace):
        try:
            locations[location.name] = location.load()
        except WorkspaceError as error:
            stopped = error.__cause__
            if not isinstance(stopped, PolicyViolationError) or stopped.definitions is None:
                raise
            locations[location.name] = stopped.definitions
    return locations


def lint_workspace(workspace: Path) -> list[Violation]:
    """What each location recorded when it loaded, plus the central policies re-evaluated over the
    whole mesh (cross-domain reads between loaded locations), at each location's own severities."""
    locations = _load_reporting(workspace)
    mesh = MeshView.from_definitions(locations)
    inputs = {key for product in mesh.products.values() for key in product.inputs}
    mesh.interfaces = published_interfaces(inputs - set(mesh.products), workspace.parent)
    found: dict[tuple[str, str, str], Violation] = {}
    for name, defs in locations.items():
        for spec in asset_specs(defs):
            for violation in recorded_violations(spec):
                found.setdefault(
                    (violation.policy, violation.product, violation.message), violation
                )
        severities = location_severities(defs)
        # A location may have tightened a central policy, never loosened it: the stricter one counts.
        policies = [
            Policy(p.name, p.description, _stricter(p.severity, severities.get(p.name)), p.check)
            for p in STANDARD_POLICIES
        ]
        keys = [key for key, location in mesh.locations.items() if location == name]
        for violation in evaluate(policies, mesh, only=keys):
            found.setdefault((violation.policy, violation.product, violation.message), violation)
    return list(found.values())


def _stricter(central: Severity, recorded: Severity | None) -> Severity:
    return Severity.ERROR if Severity.ERROR in (central, recorded) else Severity.WARN


def unknown_inputs(mesh: MeshView) -> list[tuple[dg.AssetKey, dg.AssetKey]]:
    return [
        (product.key, key)
        for product in mesh.products.values()
        for key in product.inputs
        if mesh.lookup(key) is None
    ]
