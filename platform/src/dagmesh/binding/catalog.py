"""The products of a loaded workspace, read back from their assets' interface records (no domain code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from dagmesh.declare.interface import ProductInterface


@dataclass(frozen=True)
class LocatedProduct:
    """A product's interface and the code location that defines it."""

    location: str
    interface: ProductInterface


def mesh_products(locations: Mapping[str, dg.Definitions]) -> list[LocatedProduct]:
    """Every data product of the loaded `locations`, sorted by key."""
    found = [
        LocatedProduct(name, interface)
        for name, defs in locations.items()
        for spec in defs.resolve_all_asset_specs()
        if (interface := ProductInterface.from_metadata(spec.key, spec.metadata)) is not None
    ]
    return sorted(found, key=lambda p: p.interface.name)
