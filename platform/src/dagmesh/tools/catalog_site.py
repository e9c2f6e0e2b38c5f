"""`dagmesh catalog`: a static catalog of every data product in the workspace, as Markdown and HTML.

The Dagster UI shows one code location's view of a product; only the workspace knows who depends on it.
The catalog loads every location in `workspace.yaml` and writes, for each product: its card (owners,
access, version, SLO, contract and its registry file), the contract's columns as Dagster's
`dagster/column_schema` carries them, its inputs (lineage across domains) and its consumers ("who depends
on me"), computed from every product's inputs. The HTML is one self-contained file (no scripts, no
fetches) and every text in it is escaped.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from dagmesh.binding.card import card_description
from dagmesh.binding.catalog import ProductSummary, collect_products
from dagmesh.binding.workspace import CodeLocation, read_workspace
from dagmesh.declare.interface import metadata_value

MARKDOWN_FILE = "catalog.md"
HTML_FILE = "index.html"


@dataclass(frozen=True)
class CatalogColumn:
    """One contract column, read back from `dagster/column_schema`."""

    name: str
    type: str
    nullable: bool
    unique: bool
    checks: tuple[str, ...]
    description: str
    pii: bool


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    domain: str
    location: str
    description: str
    owners: tuple[str, ...]
    access: str
    version: str
    slo: str
    contract: str
    contract_file: str  # relative to the project root, as `dagmesh publish` writes it
    contract_published: bool
    table: str
    partition_column: str
    inputs: tuple[str, ...]
    consumers: tuple[str, ...]
    columns: tuple[CatalogColumn, ...]
    table_checks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.key.split("/")[-1]

    @property
    def anchor(self) -> str:
        return anchor(self.key)


@dataclass(frozen=True)
class Catalog:
    root: Path
    locations: tuple[str, ...]
    entries: tuple[CatalogEntry, ...]
    by_key: Mapping[str, CatalogEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {e.key: e for e in self.entries})

    @property
    def domains(self) -> list[str]:
        return sorted({e.domain for e in self.entries})

    def domain_of(self, key: str) -> str:
        entry = self.by_key.get(key)
        return entry.domain if entry else key.split("/")[0]


def anchor(key: str) -> str:
    return "product-" + re.sub(r"[^A-Za-z0-9_-]+", "-", key)


def _columns(schema: object) -> tuple[tuple[CatalogColumn, ...], tuple[str, ...]]:
    if not isinstance(schema, dg.TableSchema):
        return (), ()
    columns = []
    for column in schema.columns:
        constraints = column.constraints
        tags = column.tags or {}
        columns.append(
            CatalogColumn(
                name=column.name,
                type=column.type,
                nullable=constraints.nullable,
                unique=constraints.unique,
                checks=tuple(constraints.other or ()),
                description=column.description or "",
                pii=str(tags.get("pii", "")).lower() == "true",
            )
        )
    table_checks = tuple(schema.constraints.other) if schema.constraints else ()
    return tuple(columns), table_checks


def _contract_file(location: CodeLocation | None, root: Path, domain: str, name: str, version: str):
    """Where `dagmesh publish` writes the product's contract (the registry's own rule), and whether it
    is there."""
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 1
    folder = root / "domains" / domain
    if location is not None:
        try:
            from dagmesh.registry.store import domain_folder

            folder = domain_folder(location, root, domain)
        except Exception:  # the registry is optional here: fall back to its documented layout
            folder = root / "domains" / domain
    path = folder / "contracts" / name / f"v{major}.odcs.yaml"
    try:
        shown = path.relative_to(root).as_posix()
    except ValueError:
        shown = path.as_posix()
    return shown, path.is_file()


def consumers_of(products: Iterable[ProductSummary]) -> dict[str, list[str]]:
    """Who depends on me: for every input key, the products (of any domain) that read it, sorted."""
    readers: dict[str, set[str]] = {}
    for product in products:
        for key in product.inputs:
            readers.setdefault(key, set()).add(product.key)
    return {key: sorted(found) for key, found in readers.items()}


def build_catalog(locations: Mapping[str, dg.Definitions], workspace: Path) -> Catalog:
    """The catalog of every product in the loaded `locations` of `workspace`."""
    root = workspace.resolve().parent
    code_locations = {loc.name: loc for loc in read_workspace(workspace.resolve())}
    summaries = collect_products(locations)
    readers = consumers_of(summaries)
    graphs = {name: defs.resolve_asset_graph() for name, defs in locations.items()}
    entries = []
    for summary in summaries:
        node = graphs[summary.location].get(dg.AssetKey.from_user_string(summary.key))
        metadata = node.metadata
        columns, table_checks = _columns(metadata_value(metadata, "dagster/column_schema", None))
        name = summary.key.split("/")[-1]
        contract_file, published = _contract_file(
            code_locations.get(summary.location), root, summary.domain, name, summary.version
        )
        entries.append(
            CatalogEntry(
                key=summary.key,
                domain=summary.domain,
                location=summary.location,
                description=card_description(summary.description),
                owners=tuple(summary.owners),
                access=summary.access,
                version=summary.version,
                slo=str(metadata_value(metadata, "dagmesh/slo", "")),
                contract=summary.contract,
                contract_file=contract_file,
                contract_published=published,
                table=str(metadata_value(metadata, "dagster/table_name", "")),
                partition_column=str(
                    metadata_value(metadata, "dagmesh/partition_column", "") or ""
                ),
                inputs=tuple(summary.inputs),
                consumers=tuple(readers.get(summary.key, ())),
                columns=columns,
                table_checks=table_checks,
            )
        )
    return Catalog(root=root, locations=tuple(locations), entries=tuple(entries))


# ---------------------------------------------------------------------------------------------- lineage


def _tree(catalog: Catalog, key: str, step, seen: frozenset[str] = frozenset()) -> list[tuple]:
    """[(key, children)] following `step` (inputs or consumers) from `key`, cycles cut."""
    entry = catalog.by_key.get(key)
    nodes = []
    for child in step(entry) if entry else ():
        if child in seen or child == key:
            nodes.append((child, []))
            continue
        nodes.append((child, _tree(catalog, child, step, seen | {key})))
    return nodes


def upstream(catalog: Catalog, key: str) -> list[tuple]:
    return _tree(catalog, key, lambda e: e.inputs)


def downstream(catalog: Catalog, key: str) -> list[tuple]:
    return _tree(catalog, key, lambda e: e.consumers)


def _node_id(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


def mermaid(catalog: Catalog) -> str:
    """The whole mesh as a Mermaid flowchart: one subgraph per domain, an edge per input."""
    lines = ["flowchart LR"]
    known = set(catalog.by_key)
    missing = sorted({i for e in catalog.entries for i in e.inputs} - known)
    for domain in catalog.domains:
        lines.append(f"  subgraph {_node_id('domain/' + domain)}[{domain}]")
        for entry in catalog.entries:
            if entry.domain == domain:
                lines.append(f'    {_node_id(entry.key)}["{entry.name}"]')
        lines.append("  end")
    for key in missing:
        lines.append(f'  {_node_id(key)}["{key} (not in workspace)"]')
    for entry in catalog.entries:
        for source in entry.inputs:
            lines.append(f"  {_node_id(source)} --> {_node_id(entry.key)}")
    return "\n".join(lines)


def domain_dependencies(catalog: Catalog) -> dict[tuple[str, str], list[str]]:
    """(consumer domain, producer domain) -> the cross-domain reads `producer/x -> consumer/y`."""
    found: dict[tuple[str, str], list[str]] = {}
    for entry in catalog.entries:
        for source in entry.inputs:
            producer = catalog.domain_of(source)
            if producer != entry.domain:
                found.setdefault((entry.domain, producer), []).append(f"{source} → {entry.key}")
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    """Text shown as written in Markdown: HTML neutralized, safe inside a table cell, on one line."""
    escaped = html.escape(text, quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return escaped.replace("\n", " ")


def _md_link(catalog: Catalog, key: str) -> str:
    if key in catalog.by_key:
        return f"[`{key}`](#{anchor(key)})"
    return f"`{key}` (not in this workspace)"


def _md_tree(catalog: Catalog, nodes: list[tuple], depth: int = 0) -> list[str]:
    lines = []
    for key, children in nodes:
        lines.append(f"{'  ' * depth}- {_md_link(catalog, key)}")
        lines += _md_tree(catalog, children, depth + 1)
    return lines


def _relative(catalog: Catalog, path: str, out: Path) -> str:
    return Path(os.path.relpath(catalog.root / path, out.resolve())).as_posix()


def card_rows(entry: CatalogEntry) -> list[tuple[str, str]]:
    """The card as (label, plain text) rows, shared by both renderings."""
    rows = [
        ("Domain", f"{entry.domain} (code location {entry.location})"),
        ("Owners", ", ".join(entry.owners)),
        ("Access", entry.access),
        ("Version", entry.version),
        ("SLO", entry.slo),
        ("Contract", f"{entry.contract} ({len(entry.columns)} columns)"),
        ("Table", entry.table),
    ]
    if entry.partition_column:
        rows.append(("Partitioned by", entry.partition_column))
    return rows


def render_markdown(catalog: Catalog, out: Path) -> str:
    lines = [
        "# Data product catalog",
        "",
        f"{len(catalog.entries)} data products in {len(catalog.domains)} domains, from the code "
        f"locations {', '.join(catalog.locations)} of `workspace.yaml`. Generated by `dagmesh catalog`.",
        "",
        "## Lineage",
        "",
        "```mermaid",
        mermaid(catalog),
        "```",
        "",
    ]
    dependencies = domain_dependencies(catalog)
    if dependencies:
        lines += ["| consumer domain | reads from | products |", "|---|---|---|"]
        for (consumer, producer), reads in dependencies.items():
            lines.append(f"| {consumer} | {producer} | {_md(', '.join(reads))} |")
        lines.append("")
    for domain in catalog.domains:
        lines += [f"## Domain {domain}", ""]
        for entry in (e for e in catalog.entries if e.domain == domain):
            lines += _markdown_entry(catalog, entry, out)
    return "\n".join(lines).rstrip() + "\n"


def _markdown_entry(catalog: Catalog, entry: CatalogEntry, out: Path) -> list[str]:
    state = "published" if entry.contract_published else "not published yet: run `dagmesh publish`"
    link = f"[{entry.contract_file}]({_relative(catalog, entry.contract_file, out)}) ({state})"
    rows = [(label, _md(value)) for label, value in card_rows(entry)]
    rows.insert(6, ("Contract file", link))
    rows.append(
        ("Inputs", ", ".join(_md_link(catalog, k) for k in entry.inputs) or "none (source-aligned)")
    )
    rows.append(("Consumers", ", ".join(_md_link(catalog, k) for k in entry.consumers) or "none"))
    lines = [
        f'<a id="{entry.anchor}"></a>',
        "",
        f"### {entry.key}",
        "",
        _md(entry.description),
        "",
        "| | |",
        "|---|---|",
        *(f"| {label} | {value} |" for label, value in rows),
        "",
        "#### Contract columns",
        "",
        "| column | type | nullable | unique | checks | pii | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in entry.columns:
        lines.append(
            f"| `{c.name}` | {_md(c.type)} | {'yes' if c.nullable else 'no'} | "
            f"{'yes' if c.unique else 'no'} | {_md(', '.join(c.checks)) or '-'} | "
            f"{'yes' if c.pii else 'no'} | {_md(c.description)} |"
        )
    if entry.table_checks:
        lines += ["", f"Table checks: {_md(', '.join(entry.table_checks))}"]
    lines += ["", "#### Lineage", "", "Upstream (what it reads):", ""]
    lines += _md_tree(catalog, upstream(catalog, entry.key)) or ["- none (source-aligned)"]
    lines += ["", "Downstream (who depends on it):", ""]
    lines += _md_tree(catalog, downstream(catalog, entry.key)) or ["- none yet"]
    return [*lines, ""]


# ------------------------------------------------------------------------------------------------- html

_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1d2433; display: flex; }
nav { width: 20rem; flex-shrink: 0; overflow-wrap: anywhere; padding: 1rem; background: #f4f6fa; height: 100vh; overflow: auto;
      position: sticky; top: 0; box-sizing: border-box; font-size: 0.9rem; }
nav ul { padding-left: 1rem; } main { padding: 1rem 2rem; max-width: 72rem; }
table { border-collapse: collapse; margin: 0.5rem 0; } td, th { border: 1px solid #d5dae3;
        padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; font-size: 0.9rem; }
th { background: #eef1f6; } section.product { border-top: 2px solid #d5dae3; padding-top: 0.5rem; }
code { background: #eef1f6; padding: 0 0.2rem; } .tag { border-radius: 0.6rem; padding: 0 0.5rem;
       font-size: 0.8rem; background: #dfe7f7; } .access-private { background: #f7dcdc; }
.access-internal { background: #f7eed6; } .missing { color: #a33; } pre { background: #f4f6fa;
       padding: 0.5rem; overflow: auto; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_link(catalog: Catalog, key: str) -> str:
    if key in catalog.by_key:
        return f'<a href="#{_e(anchor(key))}"><code>{_e(key)}</code></a>'
    return f'<code>{_e(key)}</code> <span class="missing">(not in this workspace)</span>'


def _html_tree(catalog: Catalog, nodes: list[tuple], empty: str) -> str:
    if not nodes:
        return f"<ul><li>{_e(empty)}</li></ul>"
    items = []
    for key, children in nodes:
        inner = _html_tree(catalog, children, "") if children else ""
        items.append(f"<li>{_html_link(catalog, key)}{inner}</li>")
    return f"<ul>{''.join(items)}</ul>"


def render_html(catalog: Catalog, out: Path) -> str:
    nav = []
    for domain in catalog.domains:
        links = "".join(
            f'<li><a href="#{_e(e.anchor)}">{_e(e.name)}</a></li>'
            for e in catalog.entries
            if e.domain == domain
        )
        nav.append(f"<li><strong>{_e(domain)}</strong><ul>{links}</ul></li>")
    dependencies = domain_dependencies(catalog)
    dep_rows = "".join(
        f"<tr><td>{_e(consumer)}</td><td>{_e(producer)}</td><td>{_e(', '.join(reads))}</td></tr>"
        for (consumer, producer), reads in dependencies.items()
    )
    body = [
        "<h1>Data product catalog</h1>",
        f"<p>{_e(len(catalog.entries))} data products in {_e(len(catalog.domains))} domains, from "
        f"the code locations {_e(', '.join(catalog.locations))} of <code>workspace.yaml</code>. "
        "Generated by <code>dagmesh catalog</code>.</p>",
        '<h2 id="lineage">Lineage across domains</h2>',
        "<table><tr><th>consumer domain</th><th>reads from</th><th>products</th></tr>"
        f"{dep_rows}</table>"
        if dep_rows
        else "<p>No cross-domain reads.</p>",
        "<details><summary>Mermaid source of the whole mesh</summary>"
        f'<pre class="mermaid">{_e(mermaid(catalog))}</pre></details>',
    ]
    for domain in catalog.domains:
        body.append(f'<h2 id="{_e("domain-" + domain)}">Domain {_e(domain)}</h2>')
        body += [_html_entry(catalog, e, out) for e in catalog.entries if e.domain == domain]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Data product catalog</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<nav><a href="#lineage">Lineage</a><ul>{"".join(nav)}</ul></nav>\n'
        f"<main>\n{chr(10).join(body)}\n</main>\n</body>\n</html>\n"
    )


def _html_entry(catalog: Catalog, entry: CatalogEntry, out: Path) -> str:
    rows = [(label, _e(value)) for label, value in card_rows(entry)]
    href = _relative(catalog, entry.contract_file, out)
    state = (
        "published"
        if entry.contract_published
        else '<span class="missing">not published yet: run <code>dagmesh publish</code></span>'
    )
    rows.insert(
        6,
        (
            "Contract file",
            f'<a href="{_e(href)}"><code>{_e(entry.contract_file)}</code></a> ({state})',
        ),
    )
    rows.append(
        (
            "Inputs",
            ", ".join(_html_link(catalog, k) for k in entry.inputs) or "none (source-aligned)",
        )
    )
    rows.append(("Consumers", ", ".join(_html_link(catalog, k) for k in entry.consumers) or "none"))
    card = "".join(f"<tr><th>{_e(label)}</th><td>{value}</td></tr>" for label, value in rows)
    columns = "".join(
        f"<tr><td><code>{_e(c.name)}</code></td><td>{_e(c.type)}</td>"
        f"<td>{'yes' if c.nullable else 'no'}</td><td>{'yes' if c.unique else 'no'}</td>"
        f"<td>{_e(', '.join(c.checks)) or '-'}</td><td>{'yes' if c.pii else 'no'}</td>"
        f"<td>{_e(c.description)}</td></tr>"
        for c in entry.columns
    )
    table_checks = (
        f"<p>Table checks: {_e(', '.join(entry.table_checks))}</p>" if entry.table_checks else ""
    )
    return (
        f'<section class="product" id="{_e(entry.anchor)}">'
        f"<h3>{_e(entry.key)} "
        f'<span class="tag access-{_e(entry.access)}">{_e(entry.access)}</span></h3>'
        f"<p>{_e(entry.description)}</p>"
        f"<table>{card}</table>"
        "<h4>Contract columns</h4>"
        "<table><tr><th>column</th><th>type</th><th>nullable</th><th>unique</th><th>checks</th>"
        f"<th>pii</th><th>description</th></tr>{columns}</table>{table_checks}"
        "<h4>Lineage</h4>"
        "<p>Upstream (what it reads):</p>"
        f"{_html_tree(catalog, upstream(catalog, entry.key), 'none (source-aligned)')}"
        "<p>Downstream (who depends on it):</p>"
        f"{_html_tree(catalog, downstream(catalog, entry.key), 'none yet')}"
        "</section>"
    )


def write_catalog(catalog: Catalog, out: Path) -> list[Path]:
    """Write `catalog.md` and `index.html` into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / MARKDOWN_FILE
    page = out / HTML_FILE
    markdown.write_text(render_markdown(catalog, out), encoding="utf-8")
    page.write_text(render_html(catalog, out), encoding="utf-8")
    return [markdown, page]
