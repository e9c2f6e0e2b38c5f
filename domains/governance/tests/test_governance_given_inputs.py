"""The scorecard through `dagmesh.testing`, as every sample domain tests its products: a real Dagster run
into a temporary warehouse of its own. It reads no product as an input (it scores the warehouse's
publication log and Dagster's instance), so over a fresh warehouse it publishes an empty scorecard that
still keeps its contract."""

from __future__ import annotations

from dagmesh.testing import materialize_product
from governance.defs.scorecard.contract import Scorecard


def test_the_scorecard_keeps_its_contract_in_a_warehouse_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    from governance.definitions import defs

    run = materialize_product(defs(), "governance/scorecard")
    assert run.contract.passed, run.contract.failures
    assert list(run.table.columns) == list(Scorecard.to_schema().columns)
    assert run.table.empty  # nothing else was ever published there
    assert not (tmp_path / "warehouse.duckdb").exists()  # the mesh's warehouse was never written
