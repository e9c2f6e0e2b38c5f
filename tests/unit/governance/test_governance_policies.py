"""Policies as code: each standard policy rejects a violating product with its documented message and
passes a compliant one; errors stop a code location from loading, warnings show as asset metadata."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.governance import (
    STANDARD_POLICIES,
    MeshView,
    Policy,
    PolicyConfigError,
    PolicyViolationError,
    ProductInterface,
    Severity,
    evaluate,
)
from dagmesh.governance.enforce import VIOLATIONS_METADATA
from dagmesh.storage.settings import MeshSettings

POLICIES = {p.name: p for p in STANDARD_POLICIES}


class Documented(pa.DataFrameModel):
    """A contract whose every column is documented."""

    id: Series[int] = pa.Field(unique=True, description="Row id.")
    email: Series[str] = pa.Field(description="Customer email.")


CUSTOMERS = dg.AssetKey(["sales", "customers"])
SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("id", "BIGINT", description="Row id."),
        dg.TableColumn("email", "VARCHAR", description="Customer email."),
    ]
)


def compliant_spec(
    key: dg.AssetKey = CUSTOMERS,
    owners: tuple[str, ...] = ("team:sales",),
    description: str = "Customers.",
    access: str = "public",
    version: str = "1.0.0",
    contract: str = "Customers",
    slo: str = "fresh within 1h",
    schema: dg.TableSchema = SCHEMA,
    deps: tuple[dg.AssetKey, ...] = (),
    allowed: tuple[str, ...] = (),
) -> dg.AssetSpec:
    """A spec as the platform builds it for a compliant public product: its interface record."""
    interface = ProductInterface(
        key=key,
        owners=owners,
        description=description,
        access=access,
        version=version,
        contract=contract,
        slo=slo,
        inputs=deps,
        allowed_consumers=allowed,
    )
    return dg.AssetSpec(
        key=key,
        owners=list(owners),
        description=description,
        deps=list(deps),
        metadata=interface.to_metadata(schema),
    )


def violations_of(policy: str, *specs: dg.AssetSpec) -> list:
    mesh = MeshView()
    mesh.add_interfaces("test", [ProductInterface.from_metadata(s.key, s.metadata) for s in specs])
    return evaluate([POLICIES[policy]], mesh, only=[specs[0].key])


PII_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("id", "BIGINT", description="Row id."),
        dg.TableColumn("email", "VARCHAR", description="Email.", tags={"pii": "true"}),
    ]
)
MASKED_PII_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("id", "BIGINT", description="Row id."),
        dg.TableColumn(
            "email", "VARCHAR", description="Email.", tags={"pii": "true", "mask": "sha256"}
        ),
    ]
)

VIOLATING = [
    ("owners-required", {"owners": ()}, "has no owners"),
    ("description-required", {"description": ""}, "has no description"),
    ("contract-required", {"contract": ""}, "has no contract"),
    ("slo-required", {"slo": ""}, "has no SLO"),
    ("version-required", {"version": "v1"}, "semantic version"),
    (
        "public-columns-documented",
        {"schema": dg.TableSchema(columns=[dg.TableColumn("id", "BIGINT")])},
        "column(s) id have no description",
    ),
    ("pii-not-public", {"schema": PII_SCHEMA}, "exposes PII column(s) email unmasked"),
    ("naming-convention", {"key": dg.AssetKey(["sales", "CustomerList"])}, "break the convention"),
]


@pytest.mark.parametrize(
    ("policy", "overrides", "message"), VIOLATING, ids=[v[0] for v in VIOLATING]
)
def test_standard_policy_rejects_a_violating_product(policy, overrides, message):
    found = violations_of(policy, compliant_spec(**overrides))
    assert len(found) == 1
    violation = found[0]
    assert violation.policy == policy and violation.severity is Severity.ERROR
    assert message in violation.message
    assert violation.fix  # every violation says how to fix it
    assert violation.product in str(violation) and policy in str(violation)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_standard_policy_passes_a_compliant_product(policy):
    assert violations_of(policy, compliant_spec()) == []


def test_masked_pii_may_be_public_and_unmasked_pii_may_be_internal():
    masked = compliant_spec(schema=MASKED_PII_SCHEMA)
    assert violations_of("pii-not-public", masked) == []
    internal = compliant_spec(schema=PII_SCHEMA, access="internal")
    assert violations_of("pii-not-public", internal) == []


def test_access_policy_names_both_products_their_owners_and_the_access_level():
    producer = compliant_spec(key=dg.AssetKey(["sales", "pricing_summary"]), access="internal")
    consumer = compliant_spec(
        key=dg.AssetKey(["marketing", "pricing_view"]),
        owners=("team:marketing",),
        deps=(producer.key,),
    )
    found = violations_of("access-allowed", consumer, producer)
    assert len(found) == 1
    text = found[0].message
    for part in (
        "marketing/pricing_view",
        "team:marketing",
        "sales/pricing_summary",
        "team:sales",
        "internal",
    ):
        assert part in text
    same_domain = compliant_spec(key=dg.AssetKey(["sales", "report"]), deps=(producer.key,))
    assert violations_of("access-allowed", same_domain, producer) == []


def test_private_product_is_readable_only_by_the_products_it_allows():
    producer = compliant_spec(
        key=dg.AssetKey(["marketing", "audience"]), access="private", allowed=("campaign_plan",)
    )
    allowed = compliant_spec(key=dg.AssetKey(["marketing", "campaign_plan"]), deps=(producer.key,))
    other = compliant_spec(key=dg.AssetKey(["marketing", "other"]), deps=(producer.key,))
    assert violations_of("access-allowed", allowed, producer) == []
    assert "private" in violations_of("access-allowed", other, producer)[0].message


# -- at load time ---------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


class Undocumented(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True)


def _product(access: str, contract=Undocumented):
    @data_product(
        contract=contract,
        owners=["team:demo"],
        access=access,
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
    )
    def thing() -> pd.DataFrame:
        """A demo product."""
        return pd.DataFrame({"id": [1]})

    return thing


def test_error_violation_stops_the_code_location_from_loading(settings):
    with pytest.raises(PolicyViolationError) as raised:
        domain_definitions("demo", [_product("public")], settings=settings)
    text = str(raised.value)
    assert "public-columns-documented" in text and "demo/thing" in text and "team:demo" in text
    assert "pa.Field(description=...)" in text
    # the violation points at the product's declaration, not at the module that loaded it
    line = _product.__code__.co_firstlineno + 1
    assert f"(declared at {__file__}:{line})" in text, text


def test_a_plain_asset_in_a_domain_is_governed_like_a_product(settings):
    """A `dg.asset` merged into a location has no interface record: it is held to every rule."""

    @dg.asset(key=["demo", "side_table"])
    def side_table() -> None: ...

    defs = dg.Definitions(assets=[side_table])
    mesh = MeshView()
    mesh.add("demo", defs)
    found = {v.policy for v in evaluate(list(STANDARD_POLICIES), mesh)}
    assert {"owners-required", "description-required", "contract-required", "slo-required"} <= found


def test_compliant_location_loads(settings):
    defs = domain_definitions("demo", [_product("internal")], settings=settings)
    assert dg.AssetKey(["demo", "thing"]) in defs.resolve_asset_graph().get_all_asset_keys()


def _warn_policy() -> Policy:
    def check(product, _mesh):
        if "thing" in product.name:
            yield "is called thing", "choose a name that says what it holds"

    return Policy("no-vague-names", "Names say what they hold.", Severity.WARN, check)


def test_domain_policy_warning_is_shown_as_asset_metadata(settings):
    defs = domain_definitions(
        "demo", [_product("internal")], settings=settings, policies=[_warn_policy()]
    )
    spec = next(
        s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["demo", "thing"])
    )
    shown = spec.metadata[VIOLATIONS_METADATA]
    assert "no-vague-names" in shown.value and "is called thing" in shown.value


def test_domain_may_tighten_a_policy_but_not_loosen_one(settings):
    # Tightened to an error, the domain's own rule now stops the location from loading.
    with pytest.raises(PolicyViolationError, match="no-vague-names"):
        domain_definitions(
            "demo",
            [_product("internal")],
            settings=settings,
            policies=[_warn_policy()],
            policy_overrides={"no-vague-names": "error"},
        )
    with pytest.raises(PolicyConfigError, match="never loosen"):
        domain_definitions(
            "demo",
            [_product("internal")],
            settings=settings,
            policy_overrides={"owners-required": "warn"},
        )
