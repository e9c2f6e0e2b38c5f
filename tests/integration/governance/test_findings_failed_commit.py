"""Governance findings written when the disk is full: the COMMIT fails, and what the user sees is why
(the file could not be written), never "cannot rollback - no transaction is active"; the findings
recorded before stay."""

from __future__ import annotations

from tests.helpers.full_disk import run_with_full_disk

SETUP = """
from dagmesh.governance.findings import open_findings, replace_findings
from dagmesh.governance.monitors import Finding
from dagmesh.storage.warehouse import MeshWarehouse
warehouse = MeshWarehouse(database="w.duckdb")
replace_findings(warehouse, "stale", [Finding("stale", "shop/orders", "two days old")])
"""


def test_a_failed_commit_of_findings_shows_its_cause_and_keeps_the_old_ones(tmp_path):
    done = run_with_full_disk(
        SETUP,
        'replace_findings(warehouse, "stale", [Finding("stale", "shop/items", "three days old")])',
        tmp_path,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "File too large" in done.stdout, done.stdout
    assert "no transaction is active" not in done.stdout + done.stderr

    from dagmesh.governance.findings import open_findings
    from dagmesh.governance.monitors import Finding
    from dagmesh.storage.warehouse import MeshWarehouse

    kept = open_findings(MeshWarehouse(database=str(tmp_path / "w.duckdb")))
    assert kept == [Finding("stale", "shop/orders", "two days old")]
