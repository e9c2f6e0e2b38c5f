"""The products of a loaded workspace, read back from their Dagster definitions (no domain code needed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg


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


def _value(metadata: Mapping[str, object], name: str, default: object = "") -> object:
    value = metadata.get(name, default)
    return getattr(value, "value", value)


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
            inputs = _value(metadata, "dagmesh/inputs", [])
            found.append(
                ProductSummary(
                    key=key.to_user_string(),
                    domain=str(node.tags.get("dagmesh/domain", key.path[0])),
                    location=location,
                    owners=list(node.owners),
                    access=str(_value(metadata, "dagmesh/access")),
                    version=str(_value(metadata, "dagmesh/version")),
                    contract=str(_value(metadata, "dagmesh/contract")),
                    inputs=[str(i) for i in inputs] if isinstance(inputs, list) else [],
                    description=node.description or "",
                )
            )
    return sorted(found, key=lambda p: p.key)
