"""A publish whose COMMIT fails (the disk is full): the user sees that the file could not be written,
never "cannot rollback - no transaction is active", and the last good version stays."""

from __future__ import annotations

import duckdb

from tests.helpers.full_disk import run_with_full_disk

SETUP = """
import pandas as pd
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
warehouse = MeshWarehouse(database="w.duckdb")
target = PublishTarget(product="shop/n", table=("shop", "n"), contract=None, owners=["team:shop"])
warehouse.publish(target, pd.DataFrame({"n": range(3)}))
"""


def test_a_publish_whose_commit_fails_names_the_cause_and_keeps_the_last_version(tmp_path):
    done = run_with_full_disk(
        SETUP, 'warehouse.publish(target, pd.DataFrame({"n": range(5)}))', tmp_path
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "File too large" in done.stdout, done.stdout
    assert "no transaction is active" not in done.stdout + done.stderr
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM shop.n").fetchone()[0] == 3
        assert con.execute("SELECT COUNT(*) FROM _dagmesh.publications").fetchone()[0] == 1
