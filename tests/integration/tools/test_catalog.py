"""`dagmesh catalog`: the static catalog of a workspace, in Markdown and HTML.

Most tests build a small three-domain project of their own (a workspace of `python_file` locations
calling `domain_definitions`), so they do not depend on the sample domains; the last test runs the
catalog over the sample workspace.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from dagmesh.binding.workspace import load_workspace
from dagmesh.declare.interface import ProductInterface
from dagmesh.storage.settings import HOME_ENV, WAREHOUSE_ENV
from dagmesh.tools.catalog_site import (
    HTML_FILE,
    MARKDOWN_FILE,
    Catalog,
    anchor,
    build_catalog,
    render_html,
    render_markdown,
    write_catalog,
)
from dagmesh.tools.cli import app

ROOT = Path(__file__).resolve().parents[3]
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}
HOSTILE = "<script>alert(1)</script> a | pipe\nand a second line & more"

COMMON = """
from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions

DAILY = SLO(max_lag=timedelta(hours=26))
"""

SHOP = f'''
HOSTILE = {HOSTILE!r}


class Customers(pa.DataFrameModel):
    """One row per customer."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0, description="Customer id.")
    c_email: Series[str] = pa.Field(
        description="Contact address.", metadata={{"pii": True, "mask": "sha256"}}
    )


class Orders(pa.DataFrameModel):
    """One row per order."""

    o_orderkey: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    o_custkey: Series[int] = pa.Field(gt=0, description="Ordering customer.")
    o_orderdate: Series[pd.Timestamp] = pa.Field(description="Day of the order.")


class MonthlyOrders(pa.DataFrameModel):
    """Orders per month."""

    order_month: Series[pd.Timestamp] = pa.Field(unique=True, description="First day of the month.")
    orders: Series[int] = pa.Field(ge=0, description="Orders placed.")


class Notes(pa.DataFrameModel):
    """Clerk notes."""

    o_orderkey: Series[int] = pa.Field(gt=0, description="Order id.")
    note: Series[str] = pa.Field(nullable=True, description=HOSTILE)


@data_product(contract=Customers, owners=["team:shop"], access="public", version="1.0.0", slo=DAILY)
def customers() -> pd.DataFrame:
    """Every customer."""


@data_product(contract=Orders, owners=["team:shop"], access="public", version="2.1.0", slo=DAILY)
def orders() -> pd.DataFrame:
    """Every order, as booked."""


@data_product(
    contract=MonthlyOrders,
    owners=["team:shop"],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=32)),
    inputs=["orders"],
    partitions_def=dg.MonthlyPartitionsDefinition(start_date="2024-01-01"),
    partition_column="order_month",
)
def monthly_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders per month."""


@data_product(
    contract=Notes,
    owners=["team:shop"],
    access="internal",
    version="1.0.0",
    slo=DAILY,
    inputs=["orders"],
    description=HOSTILE,
)
def notes(orders: pd.DataFrame) -> pd.DataFrame:
    """Replaced by the description."""


defs = domain_definitions("shop", [customers, orders, monthly_orders, notes])
'''

SHIP = '''
class Deliveries(pa.DataFrameModel):
    """One row per delivered order."""

    o_orderkey: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    carrier: Series[str] = pa.Field(description="Who delivered it.")


@data_product(
    contract=Deliveries,
    owners=["team:ship"],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["shop/orders", "vendors/carriers"],
)
def deliveries(orders: pd.DataFrame, carriers: pd.DataFrame) -> pd.DataFrame:
    """Every delivered order and its carrier."""


defs = domain_definitions("ship", [deliveries])
'''

ADS = '''
class Audience(pa.DataFrameModel):
    """One row per customer to address."""

    c_custkey: Series[int] = pa.Field(unique=True, gt=0, description="Customer id.")


@data_product(
    contract=Audience,
    owners=["team:ads"],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["shop/customers", "ship/deliveries"],
)
def audience(customers: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """Customers whose orders were delivered."""


defs = domain_definitions("ads", [audience])
'''

WORKSPACE = """
load_from:
  - python_file: {relative_path: shop.py, location_name: shop}
  - python_file: {relative_path: ship.py, location_name: ship}
  - python_file: {relative_path: ads.py, location_name: ads}
"""


def write_project(folder: Path) -> Path:
    """A three-domain project in `folder`; returns its workspace.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in {"shop": SHOP, "ship": SHIP, "ads": ADS}.items():
        (folder / f"{name}.py").write_text(COMMON + textwrap.dedent(body))
    workspace = folder / "workspace.yaml"
    workspace.write_text(WORKSPACE)
    return workspace


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


def _section(markdown: str, key: str) -> str:
    return markdown.split(f"### {key}\n", 1)[1].split("\n### ", 1)[0]


def _cells(row: str) -> list[str]:
    """A Markdown table row split on its unescaped pipes (as a GFM renderer splits it)."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", row[1:-1])]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(HOME_ENV, str(folder / ".mesh"))
        env.delenv(WAREHOUSE_ENV, raising=False)
        yield write_project(folder)


@pytest.fixture(scope="module")
def locations(project: Path) -> dict[str, dg.Definitions]:
    return load_workspace(project)


@pytest.fixture(scope="module")
def catalog(locations: dict[str, dg.Definitions], project: Path) -> Catalog:
    return build_catalog(locations, project)


@pytest.fixture
def written(mesh_home: Path, tmp_path: Path) -> Path:
    """The catalog `dagmesh catalog` writes for a freshly written project."""
    workspace = write_project(tmp_path / "project")
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["catalog", "--workspace", str(workspace), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "catalog of 6 products in 3 domains" in result.output
    return out


def test_catalog_lists_every_product_of_every_location(written: Path) -> None:
    keys = {
        "shop/customers", "shop/orders", "shop/monthly_orders", "shop/notes",
        "ship/deliveries", "ads/audience",
    }  # fmt: skip
    markdown = (written / MARKDOWN_FILE).read_text()
    page = _parse((written / HTML_FILE).read_text())
    for key in keys:
        assert f"### {key}\n" in markdown
        assert anchor(key) in page.ids
        assert f"#{anchor(key)}" in page.hrefs
    assert markdown.count("\n### ") == len(keys)


def test_entries_wrap_the_interface_record(
    catalog: Catalog, locations: dict[str, dg.Definitions]
) -> None:
    # An entry is the product's own interface record, as its asset carries it, plus the catalog's facts.
    for entry in catalog.entries:
        spec = next(
            s
            for s in locations[entry.location].resolve_all_asset_specs()
            if s.key == entry.interface.key
        )
        assert entry.interface == ProductInterface.from_metadata(spec.key, spec.metadata)
    orders = catalog.by_key["shop/orders"]
    assert orders.location == "shop"
    interface = orders.interface
    assert interface.owners == ("team:shop",)
    assert (interface.access, interface.version, interface.contract) == (
        "public",
        "2.1.0",
        "Orders",
    )
    assert interface.slo.startswith("fresh within 26h")
    assert interface.description == "Every order, as booked."  # the card without its table
    assert interface.table == "shop.orders"
    key = next(c for c in interface.columns if c.name == "o_orderkey")
    assert (key.nullable, key.unique, key.description) == (False, True, "Order id.")
    assert key.checks
    assert catalog.by_key["shop/monthly_orders"].interface.partition_column == "order_month"
    email = next(c for c in catalog.by_key["shop/customers"].interface.columns if c.pii)
    assert (email.name, email.mask) == ("c_email", "sha256")


def test_consumers_are_computed_across_domains(catalog: Catalog) -> None:
    assert catalog.by_key["shop/orders"].consumers == (
        "ship/deliveries",
        "shop/monthly_orders",
        "shop/notes",
    )
    # The interface itself knows only the consumers of its own domain.
    assert catalog.by_key["shop/orders"].interface.consumers == (
        "shop/monthly_orders",
        "shop/notes",
    )
    assert catalog.by_key["shop/customers"].consumers == ("ads/audience",)
    assert catalog.by_key["ads/audience"].consumers == ()
    # "Who depends on me" is exactly the inverse of every product's inputs.
    for entry in catalog.entries:
        readers = {e.key for e in catalog.entries if entry.key in e.inputs}
        assert set(entry.consumers) == readers, entry.key


def test_lineage_trees_and_domain_graph(catalog: Catalog) -> None:
    upstream = catalog.upstream("ads/audience")
    assert [n.key for n in upstream] == ["shop/customers", "ship/deliveries"]
    assert [n.key for n in upstream[1].children] == ["shop/orders", "vendors/carriers"]
    downstream = catalog.downstream("shop/orders")
    deliveries = next(n for n in downstream if n.key == "ship/deliveries")
    assert [n.key for n in deliveries.children] == ["ads/audience"]
    assert catalog.dependencies == {
        ("ads", "ship"): ["ship/deliveries → ads/audience"],
        ("ads", "shop"): ["shop/customers → ads/audience"],
        ("ship", "shop"): ["shop/orders → ship/deliveries"],
        ("ship", "vendors"): ["vendors/carriers → ship/deliveries"],
    }
    mermaid = catalog.mermaid
    assert mermaid.startswith("flowchart LR\n  subgraph domain_ads[ads]")
    assert "shop_orders --> ship_deliveries" in mermaid
    assert 'vendors_carriers["vendors/carriers (not in workspace)"]' in mermaid


def test_contract_file_follows_the_registry_rule_and_the_card(
    catalog: Catalog, locations: dict[str, dg.Definitions]
) -> None:
    assert (
        catalog.by_key["shop/orders"].contract_file == "domains/shop/contracts/orders/v2.odcs.yaml"
    )
    assert not any(e.contract_published for e in catalog.entries)
    for entry in catalog.entries:
        graph = locations[entry.location].resolve_asset_graph()
        card = graph.get(entry.interface.key).description or ""
        assert f"| Contract file | `{entry.contract_file}` |" in card, entry.key


def test_published_contracts_are_found_where_publish_writes_them(
    mesh_home: Path, tmp_path: Path
) -> None:
    workspace = write_project(tmp_path / "project")
    result = CliRunner().invoke(app, ["publish", "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    mesh = build_catalog(load_workspace(workspace), workspace)
    for entry in mesh.entries:
        assert entry.contract_published, entry.key
        assert (workspace.parent / str(entry.contract_file)).is_file()
    markdown = render_markdown(mesh)
    # Links are relative to the catalog's folder, into its own copy of the contracts, so the
    # catalog works wherever it is hosted.
    assert (
        "| Contract file | [domains/shop/contracts/orders/v2.odcs.yaml]"
        "(contracts/shop/orders/v2.odcs.yaml) (published) |"
    ) in markdown
    assert "not published yet" not in markdown
    site = tmp_path / "hosted" / "elsewhere"
    write_catalog(mesh, site)
    copied = site / "contracts" / "shop" / "orders" / "v2.odcs.yaml"
    assert (
        copied.read_bytes()
        == (workspace.parent / str(mesh.by_key["shop/orders"].contract_file)).read_bytes()
    )
    page = _parse((site / HTML_FILE).read_text())
    files = [h for h in page.hrefs if not h.startswith("#")]
    assert files and all((site / h).is_file() for h in files), files


def test_a_draft_contract_is_not_shown_as_published(mesh_home: Path, tmp_path: Path) -> None:
    """A registry file that is still a draft (as `dagmesh new-product` writes it) is not published."""
    workspace = write_project(tmp_path / "project")
    result = CliRunner().invoke(app, ["publish", "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    orders = workspace.parent / "domains/shop/contracts/orders/v2.odcs.yaml"
    orders.write_text(orders.read_text().replace("status: active", "status: draft"))
    assert "status: draft" in orders.read_text()
    mesh = build_catalog(load_workspace(workspace), workspace)
    assert not mesh.by_key["shop/orders"].contract_published
    assert all(e.contract_published for e in mesh.entries if e.key != "shop/orders")


def test_markdown_has_lineage_contract_columns_and_consumers(written: Path) -> None:
    markdown = (written / MARKDOWN_FILE).read_text()
    assert "```mermaid\nflowchart LR\n" in markdown
    assert "  shop_orders --> ship_deliveries\n" in markdown  # the fence is not HTML-escaped
    assert "| ship | shop | shop/orders → ship/deliveries |" in markdown
    section = _section(markdown, "shop/orders")
    assert "| Owners | team:shop |" in section
    assert "| Domain | shop (code location shop) |" in section
    assert "| `o_orderkey` | BIGINT | no | yes |" in section
    assert "[`ship/deliveries`](#product-ship-deliveries)" in section
    # Not published: named, not linked (there is no file to link to).
    assert (
        "| Contract file | domains/shop/contracts/orders/v2.odcs.yaml "
        "(not published yet: run `dagmesh publish`) |"
    ) in section
    assert "Upstream (what it reads):\n\n- none (source-aligned)\n" in section
    assert "Downstream (who depends on it):\n\n- [`ship/deliveries`]" in section
    assert "\n  - [`ads/audience`](#product-ads-audience)\n" in section  # the tree's second level
    monthly = _section(markdown, "shop/monthly_orders")
    assert "| Partitioned by | order_month |" in monthly
    assert "| Table | shop.monthly_orders |" in monthly
    assert "| `c_email` | VARCHAR | no | no | " in _section(markdown, "shop/customers")
    assert "| yes (masked: sha256) |" in _section(markdown, "shop/customers")
    deliveries = _section(markdown, "ship/deliveries")
    assert "`vendors/carriers` (not in this workspace)" in deliveries
    # Every table row has as many cells as its header.
    for block in re.findall(r"(?:^\|.*\|\n)+", markdown, flags=re.MULTILINE):
        rows = block.splitlines()
        widths = {len(_cells(row)) for row in rows if not row.startswith("|---")}
        assert len(widths) == 1, rows


def test_html_parses_and_links_lineage(written: Path) -> None:
    html = (written / HTML_FILE).read_text()
    page = _parse(html)
    # Self-contained: nothing fetched; one inline script (the search), no script from elsewhere.
    assert {"iframe", "link", "img"}.isdisjoint(page.tags)
    assert page.tags.count("script") == 1 and "<script src" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    text = " ".join(page.text)
    assert "team:shop" in text and "o_orderkey" in text
    assert "shop/orders → ship/deliveries" in text
    assert "vendors/carriers" in text and "(not in this workspace)" in text
    # The lineage graph is drawn inline: a node per product linking to its section, one per input
    # outside the workspace (not a link), an edge per input.
    assert page.tags.count("svg") == 1
    assert page.tags.count("rect") == 7 and page.tags.count("path") >= 6
    for key in ("shop/orders", "ship/deliveries", "ads/audience"):
        assert f'<a href="#{anchor(key)}" class="node" data-key="{key}">' in html
    assert '<g class="node missing" data-key="vendors/carriers">' in html
    internal = [h for h in page.hrefs if h.startswith("#")]
    assert all(h[1:] in page.ids for h in internal), set(internal) - {f"#{i}" for i in page.ids}
    # Unpublished contracts are not linked; nothing links out of the catalog's folder.
    assert all(h.startswith("#") for h in page.hrefs)
    # Search: a box the script shows, and each card's searchable text.
    assert '<input id="search" type="search"' in html
    assert 'data-search="shop/orders every order, as booked. team:shop public 2.1.0 orders' in html


def test_hostile_descriptions_are_escaped_in_html_and_cannot_break_markdown(
    catalog: Catalog, tmp_path: Path
) -> None:
    """The `notes` product declares HOSTILE as its description and as a column's description."""
    notes = catalog.by_key["shop/notes"]
    assert notes.interface.description == HOSTILE
    assert any(c.description == HOSTILE for c in notes.interface.columns)

    html = render_html(catalog)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; a | pipe\nand a second line &amp; more" in html
    page = _parse(html)
    assert page.tags.count("script") == 1  # the page's own search only
    assert " ".join(page.text).count(HOSTILE) == 2  # the reader sees the text exactly as written

    markdown = render_markdown(catalog)
    assert "<script>" not in markdown
    shown = "&lt;script&gt;alert(1)&lt;/script&gt; a \\| pipe and a second line &amp; more"
    section = _section(markdown, "shop/notes")
    assert f"\n{shown}\n" in section  # the description, on one line
    row = next(line for line in section.splitlines() if line.startswith("| `note` |"))
    assert _cells(row) == ["`note`", "VARCHAR", "yes", "no", "-", "no", shown]


def test_every_text_is_escaped_not_only_descriptions(catalog: Catalog, tmp_path: Path) -> None:
    orders = catalog.by_key["shop/orders"]
    interface = orders.interface
    column = dataclasses.replace(interface.columns[0], checks=("x < 'y'",), type='A"B')
    doctored_interface = dataclasses.replace(
        interface, owners=("team:<evil>",), columns=(column, *interface.columns[1:])
    )
    entry = dataclasses.replace(orders, interface=doctored_interface)
    doctored = Catalog(
        root=catalog.root,
        locations=catalog.locations,
        entries=tuple(entry if e.key == orders.key else e for e in catalog.entries),
    )
    html = render_html(doctored)
    assert "team:<evil>" not in html and "team:&lt;evil&gt;" in html
    assert "x &lt; &#39;y&#39;" in html and "A&#34;B" in html
    markdown = render_markdown(doctored)
    assert "team:<evil>" not in markdown and "| Owners | team:&lt;evil&gt; |" in markdown
    assert "| x &lt; 'y' |" in markdown


def test_catalog_of_the_sample_workspace(
    mesh_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample domains are packages: their registry lives in their package folder."""
    workspace = ROOT / "workspace.yaml"
    monkeypatch.syspath_prepend(str(ROOT))
    mesh = build_catalog(load_workspace(workspace), workspace)
    assert {"sales/orders", "logistics/part_demand", "governance/scorecard"} <= set(mesh.by_key)
    orders = mesh.by_key["sales/orders"]
    assert orders.contract_file == "domains/sales/contracts/orders/v2.odcs.yaml"
    assert orders.contract_published
    assert "marketing/customer_segments" in orders.consumers
    assert mesh.by_key["governance/scorecard"].contract_file == (
        "domains/governance/contracts/scorecard/v1.odcs.yaml"
    )
    written = CliRunner().invoke(
        app, ["catalog", "--workspace", str(workspace), "--out", str(tmp_path / "site")]
    )
    assert written.exit_code == 0, written.output
    _parse((tmp_path / "site" / HTML_FILE).read_text())
