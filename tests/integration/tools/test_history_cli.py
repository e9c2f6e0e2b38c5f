"""`dagmesh history` and `dagmesh rollback` as a user types them, on the DuckDB file: the history lists
every publication; rollback says it needs the lakehouse and publishes nothing."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from dagmesh.tools.cli import app


def test_history_lists_publications_and_rollback_needs_the_lakehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.delenv("DAGMESH_WAREHOUSE", raising=False)
    warehouse = MeshWarehouse.from_settings(MeshSettings.from_env())
    for rows, version in ((3, "1.0.0"), (5, "1.1.0")):
        target = PublishTarget(
            product="shop/n", table=("shop", "n"), contract=None, version=version, run_id="abcdef12"
        )
        warehouse.publish(target, pd.DataFrame({"n": range(rows)}))
    runner = CliRunner()
    shown = runner.invoke(app, ["history", "shop/n"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "shop/n: 2 publication(s)" in shown.output
    assert "1.0.0" in shown.output and "1.1.0" in shown.output and "abcdef12" in shown.output
    assert "needs the lakehouse backend" in shown.output

    never = runner.invoke(app, ["history", "shop/other"])
    assert never.exit_code == 1 and "never published" in never.output

    refused = runner.invoke(app, ["rollback", "shop/n", "--to", "1"])
    assert refused.exit_code == 1
    assert "needs the lakehouse backend" in refused.output
    assert len(warehouse.history(("shop", "n"))) == 2
