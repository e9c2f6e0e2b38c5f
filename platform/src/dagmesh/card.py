"""The product card: the Markdown an asset's description shows in the Dagster UI, so the UI is the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagmesh.product import DataProduct


CARD_TABLE = "\n\n| | |\n|---|---|\n"
# Consumers in other domains are not known while one location loads (it never imports other domains):
# the workspace-wide catalog (`dagmesh catalog`) lists them.
CROSS_DOMAIN_CONSUMERS = "listed workspace-wide by `dagmesh catalog`"


def product_card(
    product: DataProduct,
    domain: str,
    consumers: list[str] | None = None,
    contract_link: str | None = None,
) -> str:
    inputs = ", ".join(
        f"`{ref.resolve(domain).to_user_string()}`" for ref in product.inputs.values()
    )
    rows = [
        ("Owners", ", ".join(product.owners)),
        ("Access", product.access),
        ("Version", product.version),
        ("SLO", product.slo.describe()),
        ("Contract", f"`{product.contract.name}` ({len(product.contract.columns)} columns)"),
        *([("Contract file", f"`{contract_link}`")] if contract_link else []),
        ("Inputs", inputs or "none (source-aligned)"),
    ]
    if product.partitions_def is not None:
        rows.append(("Partitioned by", f"`{product.partition_column}`"))
    if consumers is not None:
        rows.append(("Consumers (this domain)", ", ".join(f"`{c}`" for c in consumers) or "none"))
        rows.append(("Consumers (other domains)", CROSS_DOMAIN_CONSUMERS))
    table = "\n".join(f"| {label} | {value} |" for label, value in rows)
    return f"{product.description}{CARD_TABLE}{table}\n"


def card_description(card: str) -> str:
    """The product's own description: the card without its table."""
    return card.split(CARD_TABLE, 1)[0].strip()
