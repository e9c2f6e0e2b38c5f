"""Identifier quoting: every name the platform puts into SQL goes through here; values go as parameters."""

from __future__ import annotations

from collections.abc import Sequence


def quote_identifier(name: str) -> str:
    """A DuckDB identifier in double quotes, embedded quotes doubled, so no name can end the identifier."""
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


def qualified_name(parts: Sequence[str]) -> str:
    return ".".join(quote_identifier(part) for part in parts)
