"""Testing a domain's products with upstream data of your choosing (see `dagmesh.tools.testing`).

from dagmesh.testing import example_inputs, materialize_product
"""

from dagmesh.tools.testing import (
    ContractResult,
    ProductRun,
    TestInputError,
    example_frame,
    example_inputs,
    materialize_domain,
    materialize_product,
)

__all__ = [
    "ContractResult",
    "ProductRun",
    "TestInputError",
    "example_frame",
    "example_inputs",
    "materialize_domain",
    "materialize_product",
]
