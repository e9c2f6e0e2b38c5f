"""The static scan behind lint's `warehouse-through-platform`: each way domain code can reach the warehouse
around the platform is found with its line; code that reads through the platform is not."""

from __future__ import annotations

import textwrap

import pytest

from dagmesh.governance.source_scan import SQL_POLICY, WAREHOUSE_POLICY, scan_package

CLEAN = '''
from dagmesh import MeshWarehouse, Relation, data_product, query

def product(orders: Relation, warehouse: MeshWarehouse) -> Relation:
    """Reads its inputs through the platform; `query` and a `warehouse` annotation are fine."""
    return query("SELECT * FROM orders", orders=orders)
'''


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("import duckdb\nduckdb.connect('w.db', read_only=True)", "duckdb.connect()"),
        ("import duckdb as d\nd.sql('SELECT 1')", "duckdb.sql()"),
        ("import duckdb\nduckdb.execute('SELECT 1')", "duckdb.execute()"),
        ("from duckdb import connect", "duckdb.connect"),
        ("import sqlite3", "sqlite3"),
        ("from dagster_duckdb import DuckDBResource", "DuckDBResource"),
        ("def f(warehouse):\n    return warehouse.get_connection()", "get_connection()"),
        ("def f(settings):\n    return settings.warehouse_path", "warehouse_path"),
        ("import os\nos.environ['DAGMESH_WAREHOUSE']", "names the warehouse file"),
        ("path = 'mesh/warehouse.duckdb'", "names the warehouse file"),
        ("from dagmesh import MeshWarehouse\nMeshWarehouse(database='x')", "MeshWarehouse(...)"),
        ("from dagmesh.declare.access import Reader\nReader.platform('me')", "Reader.platform"),
        ("from dagmesh.declare.access import reading_as\nreading_as(None)", "reading_as"),
        (
            "def f(orders):\n    return orders.query('o', 'SELECT * FROM marketing.x')",
            "query(name, sql)",
        ),
    ],
)
def test_each_way_around_the_platform_is_found_with_its_line(tmp_path, line, found):
    package = tmp_path / "sales"
    package.mkdir()
    (package / "clean.py").write_text(textwrap.dedent(CLEAN))
    (package / "sneaky.py").write_text(f"# a domain module\n{line}\n")
    findings = list(scan_package(package))
    assert findings, line
    assert all(policy == WAREHOUSE_POLICY for policy, _, _ in findings)
    assert all(where.startswith("sales/sneaky.py:") for _, where, _ in findings)
    assert any(found in message for _, _, message in findings), findings
    last = len(line.splitlines()) + 1
    assert any(where == f"sales/sneaky.py:{last}" for _, where, _ in findings)


def test_yaml_sql_is_held_to_its_inputs_and_sources(tmp_path):
    product = tmp_path / "ads" / "defs" / "reach"
    product.mkdir(parents=True)
    (product / "defs.yaml").write_text(
        "type: dagmesh.location.components.DataProductComponent\n"
        "attributes:\n"
        "  name: reach\n"
        "  inputs: [sales/orders]\n"
        "  sources: {items: tpch.lineitem}\n"
        "  sql: SELECT * FROM orders JOIN items USING (k) JOIN marketing.campaign_audience USING (k)\n"
    )
    ((policy, where, message),) = scan_package(tmp_path / "ads")
    assert policy == SQL_POLICY and where == "ads/defs/reach/defs.yaml:6"
    assert "marketing.campaign_audience" in message and "reach" in message
    (product / "defs.yaml").write_text(
        (product / "defs.yaml")
        .read_text()
        .replace(" JOIN marketing.campaign_audience USING (k)", "")
    )
    assert list(scan_package(tmp_path / "ads")) == []
