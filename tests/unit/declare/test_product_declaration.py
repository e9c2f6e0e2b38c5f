"""`@data_product` refuses malformed declarations at import time, naming the product (owners, access,
version, description, contract, names, inputs, SLO, partitions), and inputs pin a major version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import (
    SLO,
    ProductDefinitionError,
    ProductRef,
    data_product,
    domain_definitions,
)
from tests.helpers.sql_injection import Evil
from tests.unit.shipments_declaration import declare, needs_customers, shipments


class Unstorable(pa.DataFrameModel):
    """A contract with a column type DuckDB storage is not defined for."""

    id: Series[int]
    duration: Series[pd.Timedelta]


def no_docstring() -> pd.DataFrame:
    raise AssertionError("never called")


BAD_DECLARATIONS = [
    pytest.param({"owners": ["logistics team"]}, shipments, "owner 'logistics team'", id="owner"),
    pytest.param({"owners": ["team:"]}, shipments, "owner 'team:'", id="owner-empty-team"),
    pytest.param({"owners": []}, shipments, "at least one owner", id="no-owner"),
    pytest.param({"access": "secret"}, shipments, "access 'secret' must be one of", id="access"),
    pytest.param(
        {"version": "1.0"}, shipments, "version '1.0' must be semantic", id="semver-short"
    ),
    pytest.param({"version": "v1.0.0"}, shipments, "version 'v1.0.0'", id="semver-prefix"),
    pytest.param({"version": "01.2.3"}, shipments, "version '01.2.3'", id="semver-leading-zero"),
    pytest.param({}, no_docstring, "describe the product", id="no-description"),
    pytest.param({"description": "   "}, no_docstring, "describe the product", id="blank-desc"),
    pytest.param(
        {"contract": {"id": int}}, shipments, "pandera DataFrameModel", id="dict-contract"
    ),
    pytest.param(
        {"contract": pa.DataFrameSchema({"id": pa.Column(int)})},
        shipments,
        "pandera DataFrameModel",
        id="schema-contract",
    ),
    pytest.param(
        {"contract": Unstorable},
        shipments,
        "column 'duration' has type 'timedelta64[ns]', which dagmesh cannot store",
        id="unknown-type",
    ),
    pytest.param(
        {"schedule": "0 2 * * *", "automation_condition": dg.AutomationCondition.eager()},
        shipments,
        "choose a cron schedule or an automation condition, not both",
        id="schedule-and-automation",
    ),
    pytest.param({"slo": timedelta(hours=1)}, shipments, "slo must be dagmesh.SLO", id="slo"),
    pytest.param(
        {"partitions_def": dg.MonthlyPartitionsDefinition(start_date="2024-01-01")},
        shipments,
        "partitions_def and partition_column go together",
        id="partitions-without-column",
    ),
    pytest.param(
        {
            "partitions_def": dg.MonthlyPartitionsDefinition(start_date="2024-01-01"),
            "partition_column": "delivered_at",
        },
        shipments,
        "partition_column 'delivered_at' is not a contract column",
        id="partition-column-not-in-contract",
    ),
]


@pytest.mark.parametrize(("overrides", "fn", "expected"), BAD_DECLARATIONS)
def test_bad_declaration_is_refused_naming_the_product(
    overrides: dict[str, Any], fn: Callable[..., Any], expected: str
) -> None:
    with pytest.raises(ProductDefinitionError) as caught:
        declare(**overrides)(fn)

    message = str(caught.value)
    assert f"data product '{fn.__name__}'" in message
    assert expected in message


@pytest.mark.parametrize(
    "name", ["Shipments", "shipments-2024", "2024_shipments", "_shipments", "s" * 64]
)
def test_bad_product_name_is_refused_naming_it(name: str) -> None:
    with pytest.raises(ProductDefinitionError) as caught:
        declare(name=name)(shipments)

    message = str(caught.value)
    assert f"data product '{name}'" in message
    assert "lower_snake_case" in message


@pytest.mark.parametrize("name", ["shipments__v1", "shipments__v12"])
def test_a_name_where_a_previous_major_is_kept_is_refused(name: str) -> None:
    """`shipments__v1` is where `shipments` keeps its major 1 after a bump to 2: a product of that name
    would have its table replaced by another product's old rows."""
    with pytest.raises(ProductDefinitionError) as caught:
        declare(name=name)(shipments)
    message = str(caught.value)
    assert f"data product '{name}'" in message and "previous major is kept" in message
    declare(name="shipments__v1x")(shipments)  # only the archive's exact shape is reserved


def test_bad_function_name_is_refused_naming_it() -> None:
    def Shipments() -> pd.DataFrame:
        """Shipments."""
        raise AssertionError

    with pytest.raises(ProductDefinitionError, match="data product 'Shipments': names are lower"):
        declare()(Shipments)


def test_valid_declaration_is_accepted_with_its_inputs_bound() -> None:
    product = declare(inputs=["sales/customers"], name="shipments_by_customer")(needs_customers)

    assert product.name == "shipments_by_customer"
    assert {param: str(ref) for param, ref in product.inputs.items()} == {
        "customers": "sales/customers"
    }
    assert product.resource_params == ()
    assert product.description == "Reads customers."


def test_product_and_domain_names_that_could_inject_are_refused():
    with pytest.raises(ProductDefinitionError, match="lower_snake_case"):
        data_product(
            contract=Evil,
            owners=["team:x"],
            access="internal",
            version="1.0.0",
            slo=SLO(max_lag=timedelta(days=1)),
            name="t; DROP TABLE x",
        )(lambda: pd.DataFrame())
    with pytest.raises(ProductDefinitionError, match="lower_snake_case"):
        domain_definitions('sales"; --', [])


def test_inputs_pin_a_major_version():
    assert ProductRef.parse("sales/orders@1") == ProductRef("sales", "orders", 1)
    assert ProductRef.parse("orders@12") == ProductRef(None, "orders", 12)
    assert ProductRef.parse("sales/orders") == ProductRef("sales", "orders", None)
    assert str(ProductRef.parse("sales/orders@2")) == "sales/orders@2"
    for bad in ("sales/orders@", "sales/orders@v1", "@1", "a/b/c@1"):
        with pytest.raises(ProductDefinitionError):
            ProductRef.parse(bad)
