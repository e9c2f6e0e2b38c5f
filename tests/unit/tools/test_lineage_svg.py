"""The catalog's lineage graph, laid out without graphviz: a product sits one column right of its
deepest input, a cycle is drawn rather than followed forever, and no text becomes markup."""

from __future__ import annotations

from xml.etree import ElementTree

from dagmesh.tools.lineage_svg import GraphNode, domain_colors, layout, lineage_svg

SVG = "{http://www.w3.org/2000/svg}"


def _node(key: str, href: bool = True) -> GraphNode:
    return GraphNode(key, key, key.split("/")[0], f"#{key}" if href else None)


def test_columns_follow_the_deepest_input() -> None:
    nodes = [_node("a/raw"), _node("a/clean"), _node("b/report"), _node("x/outside", href=False)]
    edges = [("a/raw", "a/clean"), ("a/clean", "b/report"), ("a/raw", "b/report")]
    edges.append(("x/outside", "a/raw"))

    placed, width, height = layout(nodes, edges)

    x = {p.node.key: p.x for p in placed}
    assert x["x/outside"] < x["a/raw"] < x["a/clean"] < x["b/report"]
    assert all(p.x + p.width <= width and p.y < height for p in placed)


def test_a_cycle_is_drawn_not_followed() -> None:
    nodes = [_node("a/one"), _node("a/two")]

    placed, _, _ = layout(nodes, [("a/one", "a/two"), ("a/two", "a/one")])

    assert len(placed) == 2


def test_the_svg_is_well_formed_and_escapes_every_text() -> None:
    hostile = GraphNode('a/<b>&"c"', '<script>alert("x")</script>', "a", '#"><script>')
    nodes = [hostile, _node("b/ok")]

    svg = lineage_svg(nodes, [(hostile.key, "b/ok")], domain_colors(["a", "b"]))

    root = ElementTree.fromstring(svg)  # parses: nothing broke out of its attribute or element
    assert root.tag == f"{SVG}svg"
    assert "<script" not in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts  # shown as the text it is
    assert len(list(root.iter(f"{SVG}rect"))) == 2
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]) == 1
