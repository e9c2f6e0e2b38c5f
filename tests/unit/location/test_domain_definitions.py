"""A domain's products are checked together when its location is built: a product declared twice, or an
input of the same domain that it does not declare, is refused naming the product and its owners."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dagmesh import ProductDefinitionError, domain_definitions
from tests.unit.shipments_declaration import declare, needs_customers, shipments


@pytest.mark.parametrize(
    ("products", "expected"),
    [
        pytest.param(
            lambda: [declare()(shipments), declare()(shipments)],
            "declares shipments twice",
            id="duplicate",
        ),
        pytest.param(
            lambda: [declare(inputs=["customers"], name="stats")(needs_customers)],
            "logistics/stats (owners: team:logistics, ops@example.com) at ",
            id="undeclared-same-domain-input",
        ),
    ],
)
def test_domain_refuses_inconsistent_products(
    mesh_settings, products: Callable[[], list[Any]], expected: str
) -> None:
    with pytest.raises(ProductDefinitionError) as caught:
        domain_definitions("logistics", products(), settings=mesh_settings)

    assert expected in str(caught.value)


def _reader(inputs):
    """A product of `logistics` reading `inputs` into a parameter `orders`, declared on a known line."""
    import inspect

    from dagmesh import data_product
    from tests.unit.shipments_declaration import OWNERS, SLO_6H, Shipments

    line = inspect.currentframe().f_lineno + 1
    declared = data_product(
        contract=Shipments, owners=OWNERS, access="public", version="1.0.0", slo=SLO_6H,
        inputs=inputs,
    )  # fmt: skip

    def late_orders(orders):
        """Orders shipped late."""
        return orders

    return declared(late_orders), f"{__file__}:{line}"


def _with_shipments(product):
    from tests.unit.shipments_declaration import declare, shipments

    return [product, declare()(shipments)]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        pytest.param(["sales/order"], "did you mean 'sales/orders'?", id="misspelled-product"),
        pytest.param(
            ["sals/orders"], "there is no domain 'sals'; did you mean 'sales'?", id="domain"
        ),
        pytest.param(
            {"orders": "shipmnts"}, "did you mean 'logistics/shipments'?", id="same-domain"
        ),
    ],
)
def test_a_misspelled_input_is_refused_before_the_parameter_rule_naming_where(
    mesh_settings, inputs, expected
) -> None:
    """Another domain's products are known from its contract registry (a location loads alone): a
    near miss is an error with the closest names, at the product's file and line, and not the
    misleading "needs a function parameter" the function's `orders` parameter would otherwise give."""
    product, where = _reader(inputs)
    with pytest.raises(ProductDefinitionError) as caught:
        domain_definitions("logistics", _with_shipments(product), settings=mesh_settings)
    message = str(caught.value)
    assert expected in message, message
    assert "logistics/late_orders (owners: team:logistics, ops@example.com)" in message
    assert f"at {where}" in message
    assert "function parameter" not in message


def test_a_resolved_input_still_needs_its_parameter(mesh_settings) -> None:
    product, where = _reader(["sales/customers"])
    with pytest.raises(ProductDefinitionError) as caught:
        domain_definitions("logistics", [product], settings=mesh_settings)
    message = str(caught.value)
    assert "input 'sales/customers' needs a function parameter named 'customers'" in message
    assert f"declared at {where}" in message


def test_an_input_the_registry_knows_loads_as_an_external_asset(mesh_settings) -> None:
    product, _ = _reader(["sales/orders"])
    defs = domain_definitions("logistics", [product], settings=mesh_settings)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"logistics/late_orders", "sales/orders"}
