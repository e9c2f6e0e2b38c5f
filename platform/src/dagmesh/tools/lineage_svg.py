"""The mesh's lineage as one inline SVG: laid out here, so the page needs no network, script or binary.

Products are placed in columns by depth (a product sits one column right of its deepest input; inputs
from outside the workspace are in the first column), and within a column grouped by domain. Each node
links to its product's section; its outline shows the product's status (ok, warn, bad) when known.
Every text is escaped; nothing of a product's declaration becomes markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

NODE_HEIGHT = 30
ROW_GAP = 12
COLUMN_GAP = 60
MARGIN = 16
CHAR_WIDTH = 7.2  # 12px sans-serif, on average: node widths follow their labels
PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1", "#fee2e2", "#f3e8ff")
OUTLINE = {"ok": "#16a34a", "warn": "#d97706", "bad": "#dc2626", "": "#64748b"}


@dataclass(frozen=True)
class GraphNode:
    key: str
    label: str
    domain: str
    href: str | None  # None: not in the workspace
    health: str = ""


@dataclass(frozen=True)
class PlacedNode:
    node: GraphNode
    x: float
    y: float
    width: float


def _depths(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    parents: dict[str, list[str]] = {n.key: [] for n in nodes}
    for source, target in edges:
        parents[target].append(source)
    depth: dict[str, int] = {}

    def of(key: str, path: frozenset[str]) -> int:
        if key not in depth:
            # a cycle (refused by the planner, but drawn rather than looping) is cut where it closes
            ups = [of(p, path | {key}) + 1 for p in parents[key] if p not in path and p != key]
            depth[key] = max(ups, default=0)
        return depth[key]

    for node in nodes:
        of(node.key, frozenset())
    return depth


def layout(
    nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]]
) -> tuple[list[PlacedNode], float, float]:
    """Every node's box, and the drawing's width and height."""
    depth = _depths(nodes, edges)
    columns: dict[int, list[GraphNode]] = {}
    for node in sorted(nodes, key=lambda n: (n.domain, n.key)):
        columns.setdefault(depth[node.key], []).append(node)
    placed, x, height = [], float(MARGIN), 0.0
    for column in sorted(columns):
        members = columns[column]
        width = max(len(n.label) for n in members) * CHAR_WIDTH + 24
        for row, node in enumerate(members):
            y = MARGIN + row * (NODE_HEIGHT + ROW_GAP)
            placed.append(PlacedNode(node, x, y, width))
            height = max(height, y + NODE_HEIGHT + MARGIN)
        x += width + COLUMN_GAP
    return placed, max(x - COLUMN_GAP + MARGIN, 2 * MARGIN), max(height, 2 * MARGIN)


def lineage_svg(
    nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]], colors: Mapping[str, str]
) -> str:
    """The SVG markup of the graph; `colors` gives each domain's fill."""
    placed, width, height = layout(nodes, edges)
    at = {p.node.key: p for p in placed}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
        "<title>Lineage of every data product in the workspace</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>',
    ]
    for source, target in edges:
        a, b = at[source], at[target]
        x1, y1 = a.x + a.width, a.y + NODE_HEIGHT / 2
        x2, y2 = b.x, b.y + NODE_HEIGHT / 2
        bend = max((x2 - x1) / 2, 20)
        parts.append(
            f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} '
            f'{x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none" stroke="#94a3b8" '
            f'stroke-width="1.4" marker-end="url(#arrow)"><title>{escape(source)} → '
            f"{escape(target)}</title></path>"
        )
    for p in placed:
        node = p.node
        fill = colors.get(node.domain, "#f1f5f9") if node.href else "#f8fafc"
        dash = "" if node.href else ' stroke-dasharray="4 3"'
        box = (
            f'<rect x="{p.x:.1f}" y="{p.y:.1f}" width="{p.width:.1f}" height="{NODE_HEIGHT}" '
            f'rx="6" fill="{fill}" stroke="{OUTLINE.get(node.health, OUTLINE[""])}" '
            f'stroke-width="{2 if node.health else 1}"{dash}/>'
            f'<text x="{p.x + 12:.1f}" y="{p.y + NODE_HEIGHT / 2 + 4:.1f}" font-size="12" '
            f'font-family="sans-serif" fill="#0f172a">{escape(node.label)}</text>'
            f"<title>{escape(node.key)}{'' if node.href else ' (not in this workspace)'}</title>"
        )
        if node.href:
            box = f'<a href="{escape(node.href)}" class="node" data-key="{escape(node.key)}">{box}</a>'
        else:
            box = f'<g class="node missing" data-key="{escape(node.key)}">{box}</g>'
        parts.append(box)
    parts.append("</svg>")
    return "\n".join(parts)


def domain_colors(domains: Sequence[str]) -> dict[str, str]:
    """A fill per domain, stable in the domains' sorted order."""
    return {domain: PALETTE[i % len(PALETTE)] for i, domain in enumerate(sorted(domains))}
