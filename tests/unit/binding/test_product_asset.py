"""The asset a `@data_product` becomes, as the UI shows it: identity, owners, kinds, tags and group, the
freshness policy of its SLO, its contract as the column schema, blocking contract checks, lineage and the
interface record, schedules."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from dagmesh import SLO, ProductInterface, data_product, domain_definitions
from tests.unit.shipments_declaration import OWNERS, Shipments, declare, shipments

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


def test_card_states_where_the_consumers_are(defs: dg.Definitions) -> None:
    card = defs.resolve_assets_def(KEY).specs_by_key[KEY].description

    assert "| Consumers (this domain) | `logistics/shipment_stats` |" in card
    assert (
        "downstream in this asset's lineage, from every code location the workspace loads" in card
    )
    assert "`dagmesh catalog` lists them too" in card
