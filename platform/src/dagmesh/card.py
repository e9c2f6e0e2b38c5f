"""The product card: the Markdown an asset's description shows in the Dagster UI, so the UI is the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagmesh.product import DataProduct


def product_card(product: DataProduct, domain: str, consumers: list[str] | None = None) -> str:
    inputs = ", ".join(
        f"`{ref.resolve(domain).to_user_string()}`" for ref in product.inputs.values()
    )
    rows = [
        ("Owners", ", ".join(product.owners)),
        ("Access", product.access),
        ("Version", product.version),
        ("SLO", product.slo.describe()),
        ("Contract", f"`{product.contract.name}` ({len(product.contract.columns)} columns)"),
        ("Inputs", inputs or "none (source-aligned)"),
    ]
    if product.partitions_def is not None:
        rows.append(("Partitioned by", f"`{product.partition_column}`"))
    if consumers is not None:
        rows.append(("Consumers", ", ".join(f"`{c}`" for c in consumers) or "none yet"))
    table = "\n".join(f"| {label} | {value} |" for label, value in rows)
    return f"{product.description}\n\n| | |\n|---|---|\n{table}\n"
