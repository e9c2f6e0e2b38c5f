"""Great Expectations suites declared beside a contract run as the `expectations` asset check on the
published table, in the same run: passing, and failing on data that violates them while the contract
passes."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.storage.settings import MeshSettings
from dagmesh.tools.runner import run_mesh
from tests.helpers.gx_suites import suite

STATE = {"price": 10.0}


class Orders(pa.DataFrameModel):
    order_id: Series[int] = pa.Field(unique=True, description="Order id.")
    price: Series[float] = pa.Field(description="Price.")


@data_product(
    contract=Orders,
    owners=["team:shop"],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
    expectations=suite,
)
def orders() -> pd.DataFrame:
    """Orders of the shop."""
    return pd.DataFrame({"order_id": [1, 2, 3], "price": [5.0, STATE["price"], 20.0]})


@pytest.fixture
def shop(tmp_path):
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    return domain_definitions("shop", [orders], settings=settings)


def instance_evaluations(instance):
    key = dg.AssetCheckKey(dg.AssetKey(["shop", "orders"]), "expectations")
    return instance.event_log_storage.get_asset_check_execution_history(key, limit=10)


def test_suite_runs_as_a_check_in_the_same_run_and_passes(shop):
    STATE["price"] = 10.0
    with dg.instance_for_test() as instance:
        result = run_mesh({"shop": shop}, instance)
        assert result.success
        history = instance_evaluations(instance)
        assert [r.status.value for r in history] == ["SUCCEEDED"]
        evaluation = history[0].event.dagster_event.event_specific_data
        assert evaluation.passed
        assert evaluation.metadata["evaluated"].value == len(
            suite()
        )  # GX really evaluated each one
        assert evaluation.metadata["failed"].value == 0
        assert history[0].run_id == result.outcomes[dg.AssetKey(["shop", "orders"])].run_id


def test_violating_data_fails_the_check_and_names_the_expectation(shop):
    STATE["price"] = 500.0  # breaks the 0..100 expectation, not the contract
    try:
        with dg.instance_for_test() as instance:
            assert run_mesh({"shop": shop}, instance).success  # the contract passed: it published
            history = instance_evaluations(instance)
            evaluation = history[0].event.dagster_event.event_specific_data
    finally:
        STATE["price"] = 10.0
    assert history[0].status.value == "FAILED"
    assert not evaluation.passed
    assert evaluation.metadata["failed_expectations"].value == [
        "expect_column_values_to_be_between(price)"
    ]
    assert (
        "| expect_column_values_to_be_between | price | no |  | 1 |"
        in evaluation.metadata["results"].value
    )
