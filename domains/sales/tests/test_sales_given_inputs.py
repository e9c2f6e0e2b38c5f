"""Sales' derived products, each on its own with input rows given by the test (`dagmesh.testing`): a
temporary warehouse, a real Dagster run, the contract result and the published table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from dagmesh.testing import example_frame, example_inputs, materialize_product
from sales.defs.customers.contract import Customers
from sales.defs.line_items.contract import LineItems
from sales.defs.orders.contract import Orders


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGMESH_HOME", str(tmp_path_factory.mktemp("sales_home")))
        from sales.definitions import defs

        yield defs()


@pytest.mark.parametrize("product", ["sales/pricing_summary"])
def test_a_derived_product_keeps_its_contract_on_example_rows(sales, product):
    run = materialize_product(sales, product, inputs=example_inputs(sales, product))
    assert run.contract.passed, run.contract.failures
    assert run.published


def test_monthly_revenue_publishes_one_partition_from_the_given_orders(sales):
    orders = example_frame(Orders, rows=3).assign(
        o_orderpriority="1-URGENT",
        o_orderdate=pd.Series(
            [dt.date(1995, 3, 1), dt.date(1995, 3, 20), dt.date(1995, 4, 2)],
            dtype=example_frame(Orders)["o_orderdate"].dtype,
        ),
    )
    run = materialize_product(
        sales,
        "sales/monthly_revenue",
        inputs={"sales/orders": orders},
        tags={"dagster/partition": "1995-03-01"},
    )
    assert run.contract.passed, run.contract.failures
    # March only, one priority: the April order is another partition's
    assert run.table[["orders"]].to_dict("records") == [{"orders": 2}]
    assert run.table.iloc[0]["revenue"] == sum(orders["o_totalprice"].iloc[:2], Decimal(0))


def test_shipping_priority_ranks_only_unshipped_building_orders(sales):
    customers = example_frame(Customers, rows=2).assign(c_mktsegment=["BUILDING", "MACHINERY"])
    orders = example_frame(Orders, rows=2).assign(
        o_custkey=customers["c_custkey"].to_list(),
        o_orderdate=pd.Series(
            [dt.date(1995, 3, 1)] * 2, dtype=example_frame(Orders)["o_orderdate"].dtype
        ),
    )
    lines = example_frame(LineItems, rows=2)
    lines = lines.assign(
        l_orderkey=orders["o_orderkey"].to_list(),
        l_shipdate=pd.Series([dt.date(1995, 4, 1)] * 2, dtype=lines["l_shipdate"].dtype),
    )
    run = materialize_product(
        sales,
        "sales/shipping_priority",
        inputs={"sales/customers": customers, "sales/orders": orders, "sales/line_items": lines},
    )
    assert run.contract.passed, run.contract.failures
    assert run.table["l_orderkey"].to_list() == [orders["o_orderkey"].iloc[0]]
