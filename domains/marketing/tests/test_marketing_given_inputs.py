"""Marketing's products, each with the sales rows it reads given by the test (`dagmesh.testing`): no
sales run is needed; each is a real Dagster run into a temporary warehouse, the given frames published
first as sales' products with sales' registry contracts and access levels."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from dagmesh.testing import example_frame, example_inputs, materialize_domain, materialize_product


@pytest.fixture(scope="module")
def marketing(tmp_path_factory):
    home = tmp_path_factory.mktemp("marketing_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGMESH_HOME", str(home))
        from marketing.definitions import defs

        yield defs(), home


def test_a_product_reads_the_frames_given_for_another_domains_products(marketing):
    customers = example_frame("sales/customers", rows=3).assign(
        c_mktsegment=["BUILDING", "BUILDING", "MACHINERY"]
    )
    orders = example_frame("sales/orders", rows=2).assign(
        o_custkey=customers["c_custkey"].iloc[:2].to_list(),
        o_totalprice=pd.Series(
            [Decimal("10.50"), Decimal("4.25")], dtype=customers["c_acctbal"].dtype
        ),
    )
    location, home = marketing
    run = materialize_product(
        location,
        "marketing/customer_segments",
        inputs={"sales/customers": customers, "sales/orders": orders},
    )
    assert run.contract.passed, run.contract.failures
    table = run.table.set_index("c_mktsegment")
    assert table.loc["BUILDING", "customers"] == 2 and table.loc["BUILDING", "orders"] == 2
    assert table.loc["BUILDING", "revenue"] == Decimal("14.75")
    assert table.loc["MACHINERY", "orders"] == 0
    # the run's warehouse was a temporary one: the mesh's own was never written
    assert not (home / "warehouse.duckdb").exists()


def test_every_product_of_a_domain_with_example_inputs(marketing):
    location, _ = marketing
    runs = materialize_domain(
        location,
        inputs={
            key: frame
            for product in ("customer_segments", "campaign_audience", "revenue_outlook")
            for key, frame in example_inputs(location, f"marketing/{product}").items()
            if key.startswith("sales/")
        },
    )
    assert set(runs) == {
        "marketing/customer_segments",
        "marketing/customer_order_distribution",
        "marketing/campaign_audience",
        "marketing/revenue_outlook",
    }
    assert all(run.contract.passed and run.published for run in runs.values()), runs
