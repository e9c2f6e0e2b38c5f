"""The product card: the Markdown an asset's description shows in the Dagster UI, so the UI is the catalog."""

from __future__ import annotations

from dagmesh.core.markdown import markdown_table
from dagmesh.declare.interface import ProductInterface

# The card is the product's own description, then the interface table.
CARD_SEPARATOR = "\n\n"


def product_card(interface: ProductInterface, contract_link: str | None = None) -> str:
    """The description, then a key/value table of the interface (consumers once the location knows them)."""
    inputs = ", ".join(f"`{key.to_user_string()}`" for key in interface.inputs)
    rows: list[tuple[str, str]] = [
        ("Owners", ", ".join(interface.owners)),
        ("Access", interface.access),
        ("Version", interface.version),
        ("SLO", interface.slo),
        ("Contract", f"`{interface.contract}` ({len(interface.columns)} columns)"),
        *([("Contract file", f"`{contract_link}`")] if contract_link else []),
        ("Inputs", inputs or "none (source-aligned)"),
    ]
    if interface.partition_column:
        rows.append(("Partitioned by", f"`{interface.partition_column}`"))
    rows.append(
        ("Consumers (this domain)", ", ".join(f"`{c}`" for c in interface.consumers) or "none")
    )
    # A location knows only its own domain's readers; the UI's lineage graph is the workspace's.
    rows.append(
        (
            "Consumers (other domains)",
            "downstream in this asset's lineage, from every code location the workspace loads; "
            "`dagmesh catalog` lists them too",
        )
    )
    return f"{interface.description}{CARD_SEPARATOR}{markdown_table(('', ''), rows)}\n"
