"""Markdown tables, the one way the platform writes them (asset descriptions, check results, reports)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(value: object) -> str:
    """A value as one table cell: pipes escaped, line breaks folded, so no value can break the table."""
    return " ".join(str(value).replace("\\", "\\\\").replace("|", "\\|").split())


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; an empty `header` entry makes a header-less key/value table."""
    lines = [
        "| " + " | ".join(cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
