"""`dagmesh catalog`: a static catalog of every data product in the workspace, as Markdown and HTML.

The Dagster UI shows one code location's view of a product; only the workspace knows who depends on it.
The catalog loads every location in `workspace.yaml` and reads back each product's interface record
(`ProductInterface`, via `mesh_products`): its card (owners, access, version, SLO, contract), the
contract's columns, its inputs (lineage across domains). It adds what only the whole workspace knows: the
code location, the registry file (`dagmesh.registry.store`'s rule) and whether it is published, and the
consumers of every domain ("who depends on me"), computed from every product's inputs.

With `with_status`, the catalog also shows each product's live state when it was written
(`catalog_status`: last publish, rows, contract result, last run, freshness against the SLO).

Both files are rendered by the jinja templates in `templates/catalog/` from the one `Catalog` model. The
HTML is one self-contained, autoescaped file: the lineage is an inline SVG laid out here
(`lineage_svg`), search is a few lines of inline script over the product cards (the page reads the
same without it), nothing is fetched. Every link is relative to the catalog's folder, so it can be
hosted anywhere: published contracts are copied into its `contracts/` folder. In the Markdown every value is
neutralized as HTML (`<`, `>`, `&`) by the environment's `finalize`, and table cells go through the
`cell` filter (`dagmesh.core.markdown.cell`), so no text can inject markup or break a table.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import dagster as dg
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from dagmesh.binding.catalog import LocatedProduct, mesh_products
from dagmesh.binding.workspace import CodeLocation, WorkspaceError, read_workspace
from dagmesh.core.markdown import cell
from dagmesh.declare.interface import ProductInterface
from dagmesh.registry.odcs import ContractDocumentError, load_odcs
from dagmesh.registry.store import domain_folder, is_draft, registry_link
from dagmesh.tools.catalog_status import ProductStatus
from dagmesh.tools.lineage_svg import GraphNode, domain_colors, lineage_svg

MARKDOWN_FILE = "catalog.md"
HTML_FILE = "index.html"
TEMPLATES = "templates/catalog"
HTML_TEMPLATE = "index.html.j2"
MARKDOWN_TEMPLATE = "catalog.md.j2"
CONTRACTS_DIR = "contracts"


@dataclass(frozen=True)
class CatalogEntry:
    """A product as the catalog shows it: its interface, and what only the workspace knows about it."""

    interface: ProductInterface
    location: str
    # The registry file of the product's major, relative to the project root (None: no major version).
    contract_file: str | None
    contract_published: bool
    # Every product, of any domain, that reads this one (the interface knows only its own domain's).
    consumers: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.interface.name

    @property
    def domain(self) -> str:
        return self.interface.domain

    @property
    def name(self) -> str:
        return self.interface.key.path[-1]

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(key.to_user_string() for key in self.interface.inputs)

    @property
    def anchor(self) -> str:
        return anchor(self.key)

    @property
    def site_contract(self) -> str | None:
        """Where the published contract is copied in the catalog's folder (a relative link)."""
        if not (self.contract_file and self.contract_published):
            return None
        return f"{CONTRACTS_DIR}/{self.domain}/{self.name}/{Path(self.contract_file).name}"

    def search_text(self, status: ProductStatus | None) -> str:
        """What the page's search matches: key, description, owners, access, columns, status."""
        i = self.interface
        words = [self.key, i.description, *i.owners, i.access, i.version, i.contract]
        words += [c.name for c in i.columns]
        words += [status.summary] if status is not None else []
        return " ".join(words).lower()


@dataclass(frozen=True)
class LineageNode:
    """One product in an upstream or downstream tree; a repeated product (a cycle) has no children."""

    key: str
    children: tuple[LineageNode, ...] = ()


@dataclass(frozen=True)
class Catalog:
    root: Path
    locations: tuple[str, ...]
    entries: tuple[CatalogEntry, ...]
    # Each product's live state by key, and when it was read (empty: the catalog of the code alone).
    statuses: Mapping[str, ProductStatus] = field(default_factory=dict)
    status_time: str | None = None
    by_key: Mapping[str, CatalogEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {e.key: e for e in self.entries})

    def with_status(self, statuses: Mapping[str, ProductStatus], at: str) -> Catalog:
        return replace(self, statuses=dict(statuses), status_time=at)

    def status(self, key: str) -> ProductStatus | None:
        return self.statuses.get(key)

    @property
    def lineage_svg(self) -> Markup:
        """The whole mesh as an inline SVG graph: a node per product (and per input outside the
        workspace), an edge per input, each node linking to its product's section."""
        missing = sorted({i for e in self.entries for i in e.inputs} - set(self.by_key))
        nodes = [
            GraphNode(
                key=e.key,
                label=e.key,
                domain=e.domain,
                href=f"#{e.anchor}",
                health=status.health if (status := self.status(e.key)) else "",
            )
            for e in self.entries
        ]
        nodes += [GraphNode(key, key, key.split("/")[0], None) for key in missing]
        edges = [(source, e.key) for e in self.entries for source in e.inputs]
        return Markup(lineage_svg(nodes, edges, domain_colors(self.domains)))

    @property
    def domains(self) -> list[str]:
        return sorted({e.domain for e in self.entries})

    def in_domain(self, domain: str) -> list[CatalogEntry]:
        return [e for e in self.entries if e.domain == domain]

    def domain_of(self, key: str) -> str:
        entry = self.by_key.get(key)
        return entry.domain if entry else key.split("/")[0]

    def upstream(self, key: str) -> tuple[LineageNode, ...]:
        """What `key` reads, and what that reads, down to the sources."""
        return self._tree(key, lambda e: e.inputs, frozenset())

    def downstream(self, key: str) -> tuple[LineageNode, ...]:
        """Who depends on `key`, and who depends on them."""
        return self._tree(key, lambda e: e.consumers, frozenset())

    def _tree(
        self, key: str, step: Callable[[CatalogEntry], tuple[str, ...]], seen: frozenset[str]
    ) -> tuple[LineageNode, ...]:
        entry = self.by_key.get(key)
        nodes = []
        for child in step(entry) if entry else ():
            cut = child in seen or child == key
            nodes.append(LineageNode(child, () if cut else self._tree(child, step, seen | {key})))
        return tuple(nodes)

    @property
    def dependencies(self) -> dict[tuple[str, str], list[str]]:
        """(consumer domain, producer domain) -> the cross-domain reads `producer/x → consumer/y`."""
        found: dict[tuple[str, str], list[str]] = {}
        for entry in self.entries:
            for source in entry.inputs:
                producer = self.domain_of(source)
                if producer != entry.domain:
                    found.setdefault((entry.domain, producer), []).append(f"{source} → {entry.key}")
        return dict(sorted(found.items()))

    @property
    def mermaid(self) -> str:
        """The whole mesh as a Mermaid flowchart: one subgraph per domain, an edge per input."""
        lines = ["flowchart LR"]
        missing = sorted({i for e in self.entries for i in e.inputs} - set(self.by_key))
        for domain in self.domains:
            lines.append(f"  subgraph {_node_id('domain/' + domain)}[{domain}]")
            lines += [f'    {_node_id(e.key)}["{e.name}"]' for e in self.in_domain(domain)]
            lines.append("  end")
        lines += [f'  {_node_id(key)}["{key} (not in workspace)"]' for key in missing]
        lines += [
            f"  {_node_id(source)} --> {_node_id(entry.key)}"
            for entry in self.entries
            for source in entry.inputs
        ]
        return "\n".join(lines)


def anchor(key: str) -> str:
    return "product-" + re.sub(r"[^A-Za-z0-9_-]+", "-", key)


def _node_id(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def consumers_of(products: list[LocatedProduct]) -> dict[str, list[str]]:
    """Who depends on me: for every input key, the products (of any domain) that read it, sorted."""
    readers: dict[str, set[str]] = {}
    for product in products:
        for key in product.interface.inputs:
            readers.setdefault(key.to_user_string(), set()).add(product.interface.name)
    return {key: sorted(found) for key, found in readers.items()}


def _registry_file(
    location: CodeLocation, root: Path, interface: ProductInterface
) -> tuple[str | None, bool]:
    """The product's registry file (the registry's own rule), relative to `root`, and whether it is
    published: there, and not a draft (`dagmesh new-product` writes one, which no consumer may rely on)."""
    major = interface.major_version
    if major is None:
        return None, False
    folder = domain_folder(location, root, interface.domain)
    link = registry_link(folder, root, interface.domain, interface.key.path[-1], major)
    if not (root / link).is_file():
        return link, False
    try:
        return link, not is_draft(load_odcs(root / link))
    except ContractDocumentError:  # not a contract at all: `dagmesh check` says what is wrong
        return link, False


def build_catalog(locations: Mapping[str, dg.Definitions], workspace: Path) -> Catalog:
    """The catalog of every product in the loaded `locations` of `workspace`."""
    workspace = workspace.resolve()
    root = workspace.parent
    code_locations = {loc.name: loc for loc in read_workspace(workspace)}
    unknown = sorted(set(locations) - set(code_locations))
    if unknown:
        raise WorkspaceError(f"code location(s) {', '.join(unknown)} are not in {workspace.name}")
    products = mesh_products(locations)
    readers = consumers_of(products)
    entries = []
    for product in products:
        path, published = _registry_file(code_locations[product.location], root, product.interface)
        entries.append(
            CatalogEntry(
                interface=product.interface,
                location=product.location,
                contract_file=path,
                contract_published=published,
                consumers=tuple(readers.get(product.interface.name, ())),
            )
        )
    return Catalog(root=root, locations=tuple(locations), entries=tuple(entries))


# ------------------------------------------------------------------------------------------- rendering


def _markdown_text(value: object) -> Markup:
    """Any value written into the Markdown: HTML neutralized (quotes kept, so the file reads as text)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=False))


def _markdown_cell(value: object) -> Markup:
    """A value as one Markdown table cell (or one-line paragraph): no markup, no pipe, no line break."""
    return Markup(cell(_markdown_text(value)))


@cache
def _environment(markdown: bool) -> Environment:
    # Autoescape everywhere: HTML values are escaped; in the Markdown `finalize` has already turned
    # every value into neutralized text, and macros and the `cell` filter return it marked safe.
    env = Environment(
        loader=PackageLoader("dagmesh.tools", TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_markdown_text if markdown else None,
    )
    env.filters["anchor"] = anchor
    if markdown:
        env.filters["cell"] = _markdown_cell
    return env


def _render(template: str, markdown: bool, catalog: Catalog) -> str:
    return _environment(markdown).get_template(template).render(catalog=catalog)


def render_markdown(catalog: Catalog) -> str:
    return _render(MARKDOWN_TEMPLATE, True, catalog)


def render_html(catalog: Catalog) -> str:
    return _render(HTML_TEMPLATE, False, catalog)


def write_catalog(catalog: Catalog, out: Path) -> list[Path]:
    """Write `catalog.md` and `index.html` into `out`, with a copy of every published contract they
    link to under `out/contracts/`; return the two pages' paths."""
    out.mkdir(parents=True, exist_ok=True)
    for entry in catalog.entries:
        if entry.site_contract and entry.contract_file:
            copy = out / entry.site_contract
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(catalog.root / entry.contract_file, copy)
    markdown = out / MARKDOWN_FILE
    page = out / HTML_FILE
    markdown.write_text(render_markdown(catalog), encoding="utf-8")
    page.write_text(render_html(catalog), encoding="utf-8")
    return [markdown, page]
