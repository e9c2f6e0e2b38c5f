"""Loading every location in one process computes Dagster's component-type catalog once, and each
location still carries exactly the catalog Dagster's own function gives."""

from __future__ import annotations

from pathlib import Path

from dagster.components.core import load_defs, snapshot

from dagmesh.binding import component_types
from dagmesh.binding.workspace import load_workspace, read_workspace

WORKSPACE = Path(__file__).resolve().parents[3] / "workspace.yaml"
KEY = load_defs.PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY


def test_the_workspace_computes_the_catalog_once_and_each_location_carries_dagsters(monkeypatch):
    computed = []
    stock_snap = snapshot.get_package_entry_snap

    def counting(*args, **kwargs):
        computed.append(args[0])
        return stock_snap(*args, **kwargs)

    monkeypatch.setattr(snapshot, "get_package_entry_snap", counting)
    component_types._component_types_json.cache_clear()
    locations = load_workspace(WORKSPACE)
    types_per_catalog = len(set(computed))
    assert len(locations) >= 4 and types_per_catalog > 5
    assert len(computed) == types_per_catalog  # one computation, not one per location

    dagsters = load_defs.get_library_json_enriched_defs(None).metadata[KEY]
    for name, defs in locations.items():
        assert defs.metadata[KEY] == dagsters, name
    assert load_defs.get_library_json_enriched_defs is not component_types._library_defs


def test_a_location_loaded_alone_is_dagsters_own(monkeypatch):
    first = read_workspace(WORKSPACE)[0].load()
    assert first.metadata[KEY] == load_defs.get_library_json_enriched_defs(None).metadata[KEY]
