"""Reading Dagster asset metadata back: entries may be raw values or `MetadataValue` wrappers."""

from __future__ import annotations

from collections.abc import Mapping


def metadata_value(
    metadata: Mapping[str, object] | None, name: str, default: object = None
) -> object:
    """The plain value of metadata entry `name` (unwrapping `MetadataValue`), or `default`."""
    raw = (metadata or {}).get(name, default)
    return getattr(raw, "value", raw)
