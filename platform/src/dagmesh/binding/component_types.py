"""The component-type catalog Dagster attaches to each code location, computed once per process.

Every project's root `defs/` folder asks Dagster for the JSON description of every installed component
type (`get_library_json_enriched_defs`: entry-point discovery, then a JSON schema and a sample YAML per
type, about 0.1 s each time on a quiet machine). A code server loads one location, but `dagmesh run`,
`lint` and `check` load every location in one process and got the same JSON four times. While
`one_catalog_per_process()` is active, the first answer is reused; the Definitions are otherwise
Dagster's own (the metadata is the same string, tested against Dagster's function).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster.components.core import load_defs


@functools.cache
def _component_types_json() -> str:
    return load_defs.get_library_json_enriched_defs(None).metadata[
        load_defs.PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY
    ]


def _library_defs(tree: dg.ComponentTree | None) -> dg.Definitions:
    return dg.Definitions(
        metadata={load_defs.PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY: _component_types_json()},
        component_tree=tree,
    )


@contextmanager
def one_catalog_per_process() -> Iterator[None]:
    """Within this block, locations loaded reuse one computation of the component-type catalog."""
    stock = load_defs.get_library_json_enriched_defs
    _component_types_json()  # computed by Dagster's own function, before it is swapped
    load_defs.get_library_json_enriched_defs = _library_defs
    try:
        yield
    finally:
        load_defs.get_library_json_enriched_defs = stock
