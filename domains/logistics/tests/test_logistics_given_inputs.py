"""Logistics' products that read sales (and its own products), each with example rows for its inputs
built from their contracts (sales' from its registry), through `dagmesh.testing`: a real Dagster run
into a temporary warehouse, no sales run needed."""

from __future__ import annotations

import pytest

from dagmesh.testing import example_frame, example_inputs, materialize_product


@pytest.fixture(scope="module")
def logistics(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGMESH_HOME", str(tmp_path_factory.mktemp("logistics_home")))
        from logistics.definitions import defs

        yield defs()


@pytest.mark.parametrize(
    "product",
    ["logistics/shipping_modes", "logistics/part_demand", "logistics/local_supplier_volume"],
)
def test_a_product_keeps_its_contract_on_example_rows_of_its_inputs(logistics, product):
    run = materialize_product(logistics, product, inputs=example_inputs(logistics, product))
    assert run.contract.passed, run.contract.failures
    assert run.published


def test_part_demand_sums_the_given_line_items_per_brand(logistics):
    inputs = example_inputs(logistics, "logistics/part_demand", rows=2)
    parts = inputs["logistics/parts"].assign(p_brand="Brand#11", p_size=10)
    lines = example_frame("sales/line_items", rows=2).assign(l_partkey=parts["p_partkey"].to_list())
    run = materialize_product(
        logistics,
        "logistics/part_demand",
        inputs={"logistics/parts": parts, "sales/line_items": lines},
    )
    assert run.contract.passed, run.contract.failures
    assert run.table["p_brand"].to_list() == ["Brand#11"]
