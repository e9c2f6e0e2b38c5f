"""The products of a loaded workspace, read back from their Dagster definitions (no domain code needed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from dagmesh.metadata import metadata_value


@dataclass(frozen=True)
class ProductSummary:
    key: str
    domain: str
    location: str
    owners: list[str]
    access: str
    version: str
    contract: str
    inputs: list[str]
    description: str


def collect_products(locations: Mapping[str, dg.Definitions]) -> list[ProductSummary]:
    """One summary per data product (assets carrying dagmesh metadata), sorted by key."""
    found: list[ProductSummary] = []
    for location, defs in locations.items():
        graph = defs.resolve_asset_graph()
        for key in graph.materializable_asset_keys:
            node = graph.get(key)
            metadata = node.metadata
            if "dagmesh/contract" not in metadata:
                continue
            inputs = metadata_value(metadata, "dagmesh/inputs", [])
            found.append(
                ProductSummary(
                    key=key.to_user_string(),
                    domain=str(node.tags.get("dagmesh/domain", key.path[0])),
                    location=location,
                    owners=list(node.owners),
                    access=str(metadata_value(metadata, "dagmesh/access", "")),
                    version=str(metadata_value(metadata, "dagmesh/version", "")),
                    contract=str(metadata_value(metadata, "dagmesh/contract", "")),
                    inputs=[str(i) for i in inputs] if isinstance(inputs, list) else [],
                    description=node.description or "",
                )
            )
    return sorted(found, key=lambda p: p.key)
