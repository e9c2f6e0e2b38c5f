"""The Great Expectations suite of the `shop/orders` test product (the expectations tests, unit and
integration)."""

from __future__ import annotations

import great_expectations as gx


def suite() -> list:
    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="order_id"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="price", min_value=0, max_value=100),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=1000),
    ]
