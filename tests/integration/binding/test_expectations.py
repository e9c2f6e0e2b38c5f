"""Great Expectations suites declared beside a contract run as the `expectations` asset check on the
published table, in the same run: passing, and failing on data that violates them while the contract
passes."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import great_expectations as gx
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.binding.expectations import ExpectationsNotEvaluatedError, validate_table
from dagmesh.storage.settings import MeshSettings
from dagmesh.tools.runner import run_mesh
from tests.helpers.gx_suites import suite

STATE = {"price": 10.0}
BIG_ROWS = 1_000_000


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


class Ledger(pa.DataFrameModel):
    entry_id: Series[int] = pa.Field(unique=True, description="Entry id.")
    amount: Series[float] = pa.Field(description="Amount.")
    status: Series[str] = pa.Field(description="Status.")
    account: Series[float] = pa.Field(nullable=True, description="Account, when booked.")


def ledger_suite() -> list:
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="entry_id"),
        e.ExpectColumnValuesToBeUnique(column="entry_id"),
        e.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=100, mostly=0.9),
        e.ExpectColumnValuesToBeInSet(column="status", value_set=["open", "closed"]),
        e.ExpectColumnValuesToNotBeNull(column="account", mostly=0.5),
        e.ExpectColumnValuesToBeUnique(
            column="account"
        ),  # nullable: float64 in pandas, NaN is null
        e.ExpectTableRowCountToBeBetween(min_value=1, max_value=10 * BIG_ROWS),
    ]


@data_product(
    contract=Ledger,
    owners=["team:shop"],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
    expectations=ledger_suite,
)
def ledger() -> pd.DataFrame:
    """A million entries: every 10th amount out of range, every 4th account missing."""
    ids = np.arange(BIG_ROWS, dtype=np.int64)
    account = (ids * 7).astype(np.float64)
    account[::4] = np.nan
    return pd.DataFrame(
        {
            "entry_id": ids,
            "amount": np.where(ids % 10 == 0, 500.0, (ids % 100).astype(np.float64)),
            "status": np.where(ids % 2 == 0, "open", "closed").astype(object),
            "account": account,
        }
    )


def test_a_million_row_table_is_decided_in_duckdb_every_expectation(tmp_path):
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    books = domain_definitions("books", [ledger], settings=settings)
    with dg.instance_for_test() as instance:
        assert run_mesh({"books": books}, instance).success
        key = dg.AssetCheckKey(dg.AssetKey(["books", "ledger"]), "expectations")
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
    assert [r.status.value for r in history] == ["SUCCEEDED"]
    evaluation = history[0].event.dagster_event.event_specific_data
    metadata = evaluation.metadata
    assert evaluation.passed
    assert metadata["evaluated"].value == len(ledger_suite())
    assert metadata["engines"].value == {"duckdb": len(ledger_suite()), "gx": 0}
    rows = [line.split("|")[1:-1] for line in metadata["results"].value.splitlines()[2:]]
    assert [cells[-1].strip() for cells in rows] == ["duckdb"] * len(ledger_suite())
    unexpected = {(c[0].strip(), c[1].strip()): c[4].strip() for c in rows}
    assert unexpected[("expect_column_values_to_be_between", "amount")] == str(BIG_ROWS // 10)
    assert unexpected[("expect_column_values_to_not_be_null", "account")] == str(BIG_ROWS // 4)
    assert unexpected[("expect_column_values_to_be_unique", "account")] == "0"


def test_a_mixed_suite_keeps_its_order_and_names_the_engine_of_each():
    e = gx.expectations
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA shop")
        con.execute(
            "CREATE TABLE shop.orders AS SELECT * FROM (VALUES (1, 5.0), (2, 500.0)) v(order_id, price)"
        )
        suite = [
            e.ExpectColumnMaxToBeBetween(column="price", max_value=100),  # GX only
            e.ExpectColumnValuesToNotBeNull(column="order_id"),
            e.ExpectColumnValuesToBeBetween(column="price", min_value=0, max_value=100),
            e.ExpectColumnMeanToBeBetween(column="order_id", min_value=1),  # GX only
            e.ExpectTableRowCountToBeBetween(min_value=3),
        ]
        results = validate_table(con, "shop/orders", ("shop", "orders"), suite)
        assert [(r.expectation, r.engine, r.success, r.unexpected_count) for r in results] == [
            ("expect_column_max_to_be_between", "gx", False, None),
            ("expect_column_values_to_not_be_null", "duckdb", True, 0),
            ("expect_column_values_to_be_between", "duckdb", False, 1),
            ("expect_column_mean_to_be_between", "gx", True, None),
            ("expect_table_row_count_to_be_between", "duckdb", False, None),
        ]
        assert results[-1].observed == 2
        # A column the table lacks goes to GX, which cannot evaluate it: no verdict at all.
        missing = [
            e.ExpectColumnValuesToNotBeNull(column="order_id"),
            e.ExpectColumnValuesToBeUnique(column="nope"),
        ]
        with pytest.raises(ExpectationsNotEvaluatedError):
            validate_table(con, "shop/orders", ("shop", "orders"), missing)
