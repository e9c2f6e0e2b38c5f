"""PII follows lineage: a column computed from a PII column is PII, unless its contract declares it is not
(`pii=False`, which says the personal data is gone, e.g. aggregated away).

Lineage is known by column name (a column named like an input's column comes from it) and, for a
product given as SQL, by what sqlglot traces in the query (`ProductInterface.lineage`), through
any number of products in between.
"""

from __future__ import annotations

import dagster as dg

from dagmesh.declare.interface import ColumnInterface, ProductInterface
from dagmesh.governance.policy import MeshView


def pii_origin(
    product: ProductInterface,
    column: ColumnInterface,
    mesh: MeshView,
    seen: frozenset[tuple[dg.AssetKey, str]] = frozenset(),
) -> str | None:
    """The upstream column (`domain/product.column`) that makes `column` PII, or None: the column is
    declared PII (its own origin), declared not PII, or comes from no PII column that lint can see."""
    if column.pii is not None:
        return None
    for upstream, name in _sources(product, column.name):
        if (upstream, name) in seen:
            continue
        producer = mesh.lookup(upstream)
        found = next((c for c in producer.columns if c.name == name), None) if producer else None
        if producer is None or found is None:
            continue
        if found.pii:
            return f"{upstream.to_user_string()}.{name}"
        origin = pii_origin(producer, found, mesh, seen | {(product.key, column.name)})
        if origin is not None:
            return origin
    return None


def _sources(product: ProductInterface, column: str) -> list[tuple[dg.AssetKey, str]]:
    """The upstream columns `column` is computed from: its traced SQL lineage, else every input's
    column of the same name."""
    traced = dict(product.lineage)
    if column in traced:
        pairs = []
        for ref in traced[column]:
            key, _, name = ref.rpartition(".")
            pairs.append((dg.AssetKey.from_user_string(key), name))
        return pairs
    return [(upstream, column) for upstream in product.inputs]
