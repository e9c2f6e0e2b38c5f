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
            "logistics/stats (owners: team:logistics, ops@example.com) reads logistics/customers",
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
