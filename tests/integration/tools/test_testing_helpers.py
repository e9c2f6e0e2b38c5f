"""`dagmesh.testing`: a product materialized through Dagster in a temporary warehouse, with its inputs
given as frames (published first as the upstream products, with their registry contracts), returning
the published table and the contract result. (Each sample domain tests its products with it: see
domains/*/tests/test_*_given_inputs.py.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product
from dagmesh.registry.odcs import from_odcs
from dagmesh.registry.store import read_registry
from dagmesh.testing import TestInputError, example_frame, materialize_product

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def mesh_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mesh_home")


@pytest.fixture(scope="module")
def marketing(mesh_home):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGMESH_HOME", str(mesh_home))
        from marketing.definitions import defs

        yield defs()


def test_an_input_frame_off_its_contract_is_refused_naming_the_check(marketing):
    orders = example_frame("sales/orders").assign(o_orderstatus="X")
    with pytest.raises(TestInputError, match=r"sales/orders does not meet its contract: .*isin"):
        materialize_product(
            marketing,
            "marketing/customer_segments",
            inputs={"sales/customers": example_frame("sales/customers"), "sales/orders": orders},
        )
    with pytest.raises(TestInputError, match="sales/order is neither a product of this location"):
        materialize_product(
            marketing, "marketing/customer_segments", inputs={"sales/order": orders}
        )


class Scores(pa.DataFrameModel):
    score: Series[int] = pa.Field(ge=0, description="A score.")


@data_product(
    contract=Scores,
    owners=["team:shop"],
    access="internal",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
)
def scores() -> pd.DataFrame:
    """Scores, one of them below zero."""
    return pd.DataFrame({"score": [3, -1]})


def test_a_failing_contract_publishes_nothing_and_says_which_check_failed():
    run = materialize_product(scores, domain="shop")
    assert not run.contract.passed and not run.published
    assert any(
        "score" in failure and "greater_than_or_equal_to" in failure
        for failure in run.contract.failures
    ), run.contract.failures


@pytest.mark.parametrize(
    "product", ["sales/orders", "sales/customers", "sales/monthly_revenue", "logistics/parts"]
)
def test_example_rows_meet_the_registry_contract(product):
    domain, name = product.split("/")
    registry = read_registry(ROOT / "domains" / domain, name)
    contract = from_odcs(registry[max(registry)])
    frame = example_frame(contract, rows=5)
    assert len(frame) == 5
    contract.validate(frame)  # raises on any failed check or dtype


class EveryKind(pa.DataFrameModel):
    at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    share: Series[float] = pa.Field(in_range={"min_value": 0, "max_value": 1})
    flag: Series[bool]
    code: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}-\d{2}$", unique=True)
    name: Series[str] = pa.Field(str_startswith="N-", str_length={"max_value": 8})
    rank: Series[int] = pa.Field(gt=10, le=12)


def test_example_rows_meet_bounds_patterns_and_time_zones():
    EveryKind.validate(example_frame(EveryKind, rows=4))
