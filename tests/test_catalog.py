"""`dagmesh catalog`: the static catalog of the real workspace, in Markdown and HTML."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from dagmesh.binding.workspace import load_workspace
from dagmesh.storage.settings import HOME_ENV, WAREHOUSE_ENV
from dagmesh.tools.catalog_site import (
    HTML_FILE,
    MARKDOWN_FILE,
    Catalog,
    anchor,
    build_catalog,
    render_html,
    render_markdown,
)
from dagmesh.tools.cli import app

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = ROOT / "workspace.yaml"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Page(HTMLParser):
    """Collects ids, links, text and checks that every element closes in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    assert not page.errors, page.errors[:5]
    assert not page.stack, f"unclosed elements: {page.stack}"
    return page


@pytest.fixture(scope="module")
def locations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dg.Definitions]]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(HOME_ENV, str(tmp_path_factory.mktemp("mesh")))
        env.delenv(WAREHOUSE_ENV, raising=False)
        yield load_workspace(WORKSPACE)


@pytest.fixture(scope="module")
def catalog(locations: dict[str, dg.Definitions]) -> Catalog:
    return build_catalog(locations, WORKSPACE)


@pytest.fixture
def written(mesh_home: Path, tmp_path: Path) -> Path:
    out = tmp_path / "catalog"
    result = CliRunner().invoke(app, ["catalog", "--workspace", str(WORKSPACE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "catalog of" in result.output
    return out


def test_catalog_lists_every_product_of_every_location(
    written: Path, locations: dict[str, dg.Definitions]
) -> None:
    expected = set()
    for defs in locations.values():
        graph = defs.resolve_asset_graph()
        expected |= {
            key.to_user_string()
            for key in graph.materializable_asset_keys
            if "dagmesh/contract" in graph.get(key).metadata
        }
    assert {"sales/orders", "logistics/part_demand", "governance/scorecard"} <= expected
    markdown = (written / MARKDOWN_FILE).read_text()
    page = _parse((written / HTML_FILE).read_text())
    for key in expected:
        assert f"### {key}\n" in markdown
        assert anchor(key) in page.ids
        assert f"#{anchor(key)}" in page.hrefs


def test_consumers_are_computed_across_domains(catalog: Catalog) -> None:
    orders = catalog.by_key["sales/orders"]
    assert set(orders.consumers) == {
        "logistics/local_supplier_volume",
        "logistics/shipping_modes",
        "marketing/customer_segments",
        "marketing/customer_order_distribution",
        "sales/shipping_priority",
        "sales/monthly_revenue",
    }
    assert catalog.by_key["sales/line_items"].consumers == (
        "logistics/local_supplier_volume",
        "logistics/part_demand",
        "logistics/shipping_modes",
        "sales/pricing_summary",
        "sales/shipping_priority",
    )
    assert catalog.by_key["marketing/customer_segments"].consumers == (
        "marketing/campaign_audience",
    )
    assert catalog.by_key["marketing/campaign_audience"].consumers == ()
    # "Who depends on me" is exactly the inverse of every product's inputs.
    for entry in catalog.entries:
        readers = {e.key for e in catalog.entries if entry.key in e.inputs}
        assert set(entry.consumers) == readers, entry.key


def test_entries_carry_the_card_and_the_contract(
    catalog: Catalog, locations: dict[str, dg.Definitions]
) -> None:
    orders = catalog.by_key["sales/orders"]
    assert orders.owners == ("team:sales",)
    assert (orders.access, orders.version, orders.contract) == ("public", "2.0.0", "Orders")
    assert orders.slo.startswith("fresh within 26h")
    assert orders.description == "Every customer order, as booked."  # the card without its table
    assert orders.table == "sales.orders"
    assert orders.contract_file == "domains/sales/contracts/orders/v2.odcs.yaml"
    key = next(c for c in orders.columns if c.name == "o_orderkey")
    assert (key.type, key.nullable, key.unique) == ("BIGINT", False, True)
    assert key.checks and key.description == "Order id."
    assert catalog.by_key["sales/monthly_revenue"].partition_column == "order_month"
    assert catalog.by_key["governance/scorecard"].contract_file.startswith("platform/contracts/")
    # Every column of every contract, with its pii tag, as `dagster/column_schema` carries it.
    for entry in catalog.entries:
        schema = _node(locations, entry.location, entry.key).metadata["dagster/column_schema"]
        schema = getattr(schema, "value", schema)
        assert [(c.name, c.pii) for c in entry.columns] == [
            (c.name, (c.tags or {}).get("pii") == "true") for c in schema.columns
        ]


def _node(locations: dict[str, dg.Definitions], location: str, key: str):
    return locations[location].resolve_asset_graph().get(dg.AssetKey.from_user_string(key))


def test_ui_card_links_the_contract_file_the_catalog_names(
    catalog: Catalog, locations: dict[str, dg.Definitions]
) -> None:
    for entry in catalog.entries:
        card = _node(locations, entry.location, entry.key).description or ""
        assert f"| Contract file | `{entry.contract_file}` |" in card, entry.key
        own = [c for c in entry.consumers if catalog.domain_of(c) == entry.domain]
        listed = ", ".join(f"`{c}`" for c in sorted(own)) or "none"
        row = next(line for line in card.splitlines() if "Consumers (this domain)" in line)
        assert sorted(row.split("|")[2].strip().split(", ")) == sorted(listed.split(", ")), row


def test_markdown_has_lineage_contract_columns_and_consumers(written: Path) -> None:
    markdown = (written / MARKDOWN_FILE).read_text()
    assert "```mermaid\nflowchart LR" in markdown
    assert "sales_orders --> logistics_shipping_modes" in markdown
    section = markdown.split("### sales/orders\n", 1)[1].split("\n### ", 1)[0]
    assert "| Owners | team:sales |" in section
    assert "| `o_orderkey` | BIGINT | no | yes |" in section
    assert "[`marketing/customer_segments`](#product-marketing-customer_segments)" in section
    assert "domains/sales/contracts/orders/v2.odcs.yaml" in section


def test_html_parses_and_links_lineage(written: Path) -> None:
    page = _parse((written / HTML_FILE).read_text())
    assert {"script", "iframe", "link"}.isdisjoint(page.tags)  # self-contained: nothing fetched
    text = " ".join(page.text)
    assert "team:sales" in text and "o_orderkey" in text
    assert "sales/orders → logistics/shipping_modes" in text
    internal = [h for h in page.hrefs if h.startswith("#")]
    assert all(h[1:] in page.ids for h in internal), set(internal) - {f"#{i}" for i in page.ids}


def test_html_and_markdown_escape_every_text(catalog: Catalog, tmp_path: Path) -> None:
    hostile = '<script>alert("x")</script> & <b>bold</b> | pipe'
    orders = catalog.by_key["sales/orders"]
    column = dataclasses.replace(orders.columns[0], description=hostile, checks=("x < 'y'",))
    entry = dataclasses.replace(
        orders,
        description=hostile,
        owners=("team:<evil>",),
        columns=(column, *orders.columns[1:]),
    )
    doctored = Catalog(
        root=catalog.root,
        locations=catalog.locations,
        entries=tuple(entry if e.key == orders.key else e for e in catalog.entries),
    )
    html = render_html(doctored, tmp_path)
    assert "<script>" not in html and "<b>bold" not in html and "team:<evil>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert "x &lt; &#x27;y&#x27;" in html
    page = _parse(html)
    assert hostile in " ".join(page.text)  # the reader sees the text exactly as written
    markdown = render_markdown(doctored, tmp_path)
    assert "<script>" not in markdown and "team:<evil>" not in markdown
    shown = '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; \\| pipe'
    assert f"\n{shown}\n" in markdown  # the description
    assert f"| {shown} |" in markdown  # the column's description, its pipe escaped for the table
