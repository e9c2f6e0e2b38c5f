"""`dagmesh lint`: every policy over the whole workspace, with cross-domain knowledge load time lacks."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from dagmesh.governance.enforce import ENFORCEMENT_ENV, LOCATION_POLICIES
from dagmesh.governance.interfaces import published_interfaces
from dagmesh.governance.policy import MeshView, Violation, evaluate
from dagmesh.governance.standard import STANDARD_POLICIES


def lint_workspace(workspace: Path) -> list[Violation]:
    """Load every location in report mode (errors don't stop loading) and evaluate all policies."""
    from dagmesh.workspace import load_workspace

    previous = os.environ.get(ENFORCEMENT_ENV)
    os.environ[ENFORCEMENT_ENV] = "report"
    try:
        locations = load_workspace(workspace)
    finally:
        if previous is None:
            os.environ.pop(ENFORCEMENT_ENV, None)
        else:
            os.environ[ENFORCEMENT_ENV] = previous
    mesh = MeshView.from_definitions(locations)
    inputs = {key for product in mesh.products.values() for key in product.inputs}
    mesh.interfaces = published_interfaces(inputs - set(mesh.products), workspace.parent)
    violations: list[Violation] = []
    for location in locations:
        keys = [k for k, p in mesh.products.items() if p.location == location]
        policies = LOCATION_POLICIES.get(location, list(STANDARD_POLICIES))
        violations += evaluate(policies, mesh, only=keys)
    return violations


def unknown_inputs(mesh: MeshView) -> list[tuple[dg.AssetKey, dg.AssetKey]]:
    return [
        (product.key, key)
        for product in mesh.products.values()
        for key in product.inputs
        if mesh.lookup(key) is None
    ]
