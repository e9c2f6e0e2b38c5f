"""`dagmesh lint`: every policy over the whole workspace, with cross-domain knowledge load time lacks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dagster as dg

import dagmesh
from dagmesh.binding.workspace import CodeLocation, WorkspaceError, read_workspace
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
from dagmesh.governance.source_scan import FIX_SQL, FIX_WAREHOUSE, SQL_POLICY, scan_package
from dagmesh.governance.standard import STANDARD_POLICIES

LOADS_POLICY = "location-loads"


def _load_reporting(
    code_locations: list[CodeLocation],
) -> tuple[dict[str, dg.Definitions], list[Violation]]:
    """Every location's definitions; a location stopped by error violations gives the definitions its
    `PolicyViolationError` carries, so lint reports its problems instead of stopping at them. A location
    that does not load at all is reported as a violation of its own (its sources are still scanned)."""
    locations: dict[str, dg.Definitions] = {}
    failed: list[Violation] = []
    for location in code_locations:
        try:
            locations[location.name] = location.load()
        except WorkspaceError as error:
            stopped = error.__cause__
            if isinstance(stopped, PolicyViolationError) and stopped.definitions is not None:
                locations[location.name] = stopped.definitions
                continue
            failed.append(
                Violation(
                    LOADS_POLICY,
                    Severity.ERROR,
                    location.name,
                    (),
                    str(error),
                    "fix the location's definitions; `dg check defs` in its project shows the traceback",
                )
            )
    return locations, failed


def source_folder(location: CodeLocation) -> Path | None:
    """The domain's own sources: its Python file, or the package its module belongs to (never the
    platform's own package)."""
    if location.file is not None:
        return location.file
    if not location.module:
        return None
    location.importable()
    try:
        spec = importlib.util.find_spec(location.module.split(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin:
        folder = Path(spec.origin)
    else:
        return None
    platform = Path(dagmesh.__file__).resolve().parent
    return None if folder.resolve().is_relative_to(platform) else folder


def source_violations(location: CodeLocation, owners: tuple[str, ...]) -> list[Violation]:
    """What the static scan of the location's sources finds (`dagmesh.governance.source_scan`)."""
    folder = source_folder(location)
    if folder is None:
        return []
    return [
        Violation(
            policy,
            Severity.ERROR,
            f"{location.name}: {where}",
            owners,
            message,
            FIX_SQL if policy == SQL_POLICY else FIX_WAREHOUSE,
        )
        for policy, where, message in scan_package(folder)
    ]


def lint_workspace(workspace: Path) -> list[Violation]:
    """What each location recorded when it loaded, plus the central policies re-evaluated over the
    whole mesh (cross-domain reads between loaded locations), at each location's own severities, plus
    what a static scan of each location's sources finds (warehouse access around the platform, YAML
    SQL reading more than its inputs)."""
    code_locations = read_workspace(workspace)
    locations, failed = _load_reporting(code_locations)
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
    for location in code_locations:
        keys = [key for key, name in mesh.locations.items() if name == location.name]
        owners = tuple(dict.fromkeys(o for key in keys for o in mesh.products[key].owners))
        for violation in source_violations(location, owners):
            found.setdefault((violation.policy, violation.product, violation.message), violation)
    return failed + list(found.values())


def _stricter(central: Severity, recorded: Severity | None) -> Severity:
    return Severity.ERROR if Severity.ERROR in (central, recorded) else Severity.WARN


def unknown_inputs(mesh: MeshView) -> list[tuple[dg.AssetKey, dg.AssetKey]]:
    return [
        (product.key, key)
        for product in mesh.products.values()
        for key in product.inputs
        if mesh.lookup(key) is None
    ]
