"""The publication log written by an older dagmesh (fewer columns) gains the new ones at the next
publish, keeps its rows, and the new publish records everything."""

from __future__ import annotations

import pandas as pd

from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget


def test_an_older_log_gains_the_missing_columns_and_keeps_its_rows(tmp_path):
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    with warehouse.get_connection() as con:
        con.execute("CREATE SCHEMA _dagmesh")
        con.execute(
            "CREATE TABLE _dagmesh.publications (product VARCHAR, table_name VARCHAR, "
            "version VARCHAR, partition_key VARCHAR, row_count BIGINT)"
        )
        con.execute("INSERT INTO _dagmesh.publications VALUES ('old/p', 'old.p', '1.0.0', NULL, 7)")
    target = PublishTarget(
        product="shop/n", table=("shop", "n"), contract=None, version="2.0.0", run_id="r1"
    )
    warehouse.publish(target, pd.DataFrame({"n": range(4)}))
    with warehouse.get_connection() as con:
        columns = {r[0] for r in con.execute("DESCRIBE _dagmesh.publications").fetchall()}
        rows = con.execute(
            "SELECT product, row_count, run_id, publication_id IS NOT NULL FROM "
            "_dagmesh.publications ORDER BY product"
        ).fetchall()
    assert {"arrow_schema", "pandas_dtypes", "publication_id", "run_id"} <= columns
    assert rows == [("old/p", 7, None, False), ("shop/n", 4, "r1", True)]
    assert [e["run_id"] for e in warehouse.history(("shop", "n"))] == ["r1"]
