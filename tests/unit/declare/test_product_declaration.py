"""`@data_product` refuses malformed declarations at import time, and builds the asset the UI shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, ProductDefinitionError, ProductInterface, data_product, domain_definitions

OWNERS = ["team:logistics", "ops@example.com"]
SLO_6H = SLO(max_lag=timedelta(hours=6), warn_after=timedelta(hours=2))


class Shipments(pa.DataFrameModel):
    """Shipments as the warehouse system records them."""

    shipment_id: Series[int] = pa.Field(unique=True, gt=0, description="Shipment id.")
    weight_kg: Series[float] = pa.Field(
        nullable=True, in_range={"min_value": 0, "max_value": 1000}, description="Weight."
    )
    carrier: Series[str] = pa.Field(
        isin=["DHL", "UPS"], str_length={"min_value": 3, "max_value": 3}, description="Carrier."
    )
    shipped_at: Series[pd.Timestamp] = pa.Field(description="When it left the warehouse.")


class Unstorable(pa.DataFrameModel):
    """A contract with a column type DuckDB storage is not defined for."""

    id: Series[int]
    duration: Series[pd.Timedelta]


def declare(**overrides: Any) -> Callable[[Callable[..., Any]], Any]:
    """`data_product(...)` with valid arguments, except the ones overridden."""
    arguments: dict[str, Any] = {
        "contract": Shipments,
        "owners": OWNERS,
        "access": "public",
        "version": "2.1.0",
        "slo": SLO_6H,
    }
    arguments.update(overrides)
    return data_product(**arguments)


def shipments() -> pd.DataFrame:
    """Every shipment."""
    raise AssertionError("never called at declaration time")


def no_docstring() -> pd.DataFrame:
    raise AssertionError("never called")


def needs_customers(customers: pd.DataFrame) -> pd.DataFrame:
    """Reads customers."""
    return customers


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
    pytest.param(
        {"inputs": ["orders"]},
        needs_customers,
        "input 'orders' needs a function parameter named 'orders'",
        id="input-without-parameter",
    ),
    pytest.param(
        {"inputs": ["sales/orders"]},
        needs_customers,
        "input 'sales/orders' needs a function parameter named 'orders'",
        id="cross-domain-input-without-parameter",
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


# -- the built asset ---------------------------------------------------------------------------------

KEY = dg.AssetKey(["logistics", "shipments"])
CONSUMER = dg.AssetKey(["logistics", "shipment_stats"])
EXTERNAL = dg.AssetKey(["sales", "orders"])


@pytest.fixture
def defs(mesh_settings) -> dg.Definitions:
    product = declare(schedule="15 3 * * *")(shipments)

    @data_product(
        contract=Shipments,
        owners=["team:logistics"],
        access="internal",
        version="0.3.0",
        slo=SLO(max_lag=timedelta(days=1)),
        inputs=["shipments", "sales/orders"],
    )
    def shipment_stats(shipments: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
        """Statistics over shipments and orders."""
        return shipments

    return domain_definitions("logistics", [product, shipment_stats], settings=mesh_settings)


def test_asset_identity_owners_kinds_tags_and_group(defs: dg.Definitions) -> None:
    assets_def = defs.resolve_assets_def(KEY)
    spec = assets_def.specs_by_key[KEY]

    assert spec.key.path == ["logistics", "shipments"]
    assert list(spec.owners) == OWNERS
    assert set(spec.kinds) == {"duckdb", "pandas", "pandera"}
    assert spec.tags["dagmesh/access"] == "public"
    assert spec.tags["dagmesh/version"] == "2.1.0"
    assert spec.tags["dagmesh/domain"] == "logistics"
    assert spec.code_version == "2.1.0"
    assert spec.group_name == "logistics"
    assert spec.metadata["dagster/table_name"] == "logistics.shipments"
    assert spec.description is not None and spec.description.startswith("Every shipment.")
    assert "team:logistics, ops@example.com" in spec.description


def test_asset_freshness_policy_follows_the_slo(defs: dg.Definitions) -> None:
    policy = defs.resolve_assets_def(KEY).specs_by_key[KEY].freshness_policy

    assert policy is not None
    assert policy.fail_window.to_timedelta() == timedelta(hours=6)
    assert policy.warn_window is not None
    assert policy.warn_window.to_timedelta() == timedelta(hours=2)

    stats_policy = defs.resolve_assets_def(CONSUMER).specs_by_key[CONSUMER].freshness_policy
    assert stats_policy.fail_window.to_timedelta() == timedelta(days=1)
    assert stats_policy.warn_window is None


def test_asset_column_schema_matches_the_contract(defs: dg.Definitions) -> None:
    schema = defs.resolve_assets_def(KEY).specs_by_key[KEY].metadata["dagster/column_schema"]

    assert isinstance(schema, dg.TableSchema)
    described = [
        (
            c.name,
            c.type,
            c.constraints.nullable,
            c.constraints.unique,
            list(c.constraints.other),
        )
        for c in schema.columns
    ]
    assert described == [
        ("shipment_id", "BIGINT", False, True, ["greater_than(min_value=0)"]),
        (
            "weight_kg",
            "DOUBLE",
            True,
            False,
            ["in_range(min_value=0, max_value=1000, include_min=True, include_max=True)"],
        ),
        (
            "carrier",
            "VARCHAR",
            False,
            False,
            ["isin(allowed_values=['DHL', 'UPS'])", "str_length(min_value=3, max_value=3)"],
        ),
        ("shipped_at", "TIMESTAMP_NS", False, False, []),
    ]
    assert [c.description for c in schema.columns] == [
        "Shipment id.",
        "Weight.",
        "Carrier.",
        "When it left the warehouse.",
    ]


def test_asset_graph_has_blocking_contract_checks_and_lineage(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()

    assert dg.AssetCheckKey(KEY, "contract") in graph.asset_check_keys
    assert dg.AssetCheckKey(CONSUMER, "contract") in graph.asset_check_keys
    (check_spec,) = defs.resolve_assets_def(KEY).check_specs
    assert check_spec.name == "contract" and check_spec.blocking is True

    assert graph.get(CONSUMER).parent_keys == {KEY, EXTERNAL}
    # Another domain's product is drawn in the lineage but is not materialized by this domain.
    assert graph.get(EXTERNAL).is_materializable is False
    assert graph.get(KEY).is_materializable is True

    consumer = defs.resolve_assets_def(CONSUMER).specs_by_key[CONSUMER]
    assert consumer.tags["dagmesh/access"] == "internal"
    assert consumer.code_version == "0.3.0"
    interface = ProductInterface.from_metadata(CONSUMER, consumer.metadata)
    assert interface is not None
    assert [k.to_user_string() for k in interface.inputs] == ["logistics/shipments", "sales/orders"]
    producer = ProductInterface.from_metadata(
        KEY, defs.resolve_assets_def(KEY).specs_by_key[KEY].metadata
    )
    # The location completes the producer's record with the domain's own readers.
    assert producer is not None and CONSUMER.to_user_string() in producer.consumers


def test_schedule_is_built_for_scheduled_products_only(defs: dg.Definitions) -> None:
    schedules = list(defs.schedules or [])

    assert [s.cron_schedule for s in schedules] == ["15 3 * * *"]
    assert schedules[0].job.selection.resolve(defs.resolve_asset_graph()) == {KEY}


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
