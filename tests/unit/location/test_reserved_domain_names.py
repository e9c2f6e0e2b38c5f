"""A domain is a warehouse schema: names DuckDB keeps for itself, and the warehouse's own catalog name
(the DuckDB file's stem, or `lake` on the lakehouse), are refused when the location loads."""

from __future__ import annotations

import pytest

from dagmesh import ProductDefinitionError, domain_definitions
from tests.unit.shipments_declaration import declare, shipments


@pytest.mark.parametrize("name", ["temp", "system", "information_schema", "pg_catalog", "main"])
def test_duckdbs_own_schema_names_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    with pytest.raises(
        ProductDefinitionError, match=f"domain name '{name}' is one of DuckDB's own"
    ):
        domain_definitions(name, [declare()(shipments)])


def test_the_warehouse_files_own_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.setenv("DAGMESH_WAREHOUSE", str(tmp_path / "logistics.duckdb"))
    with pytest.raises(ProductDefinitionError, match="name of the warehouse's own catalog"):
        domain_definitions("logistics", [declare()(shipments)])
    monkeypatch.setenv("DAGMESH_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    assert domain_definitions("logistics", [declare()(shipments)]) is not None


def test_lake_is_refused_on_the_lakehouse_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.setenv("DAGMESH_WAREHOUSE", f"ducklake:{tmp_path / 'catalog.ducklake'}")
    with pytest.raises(ProductDefinitionError, match="name of the warehouse's own catalog"):
        domain_definitions("lake", [declare()(shipments)])
