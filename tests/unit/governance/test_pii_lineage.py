"""PII follows lineage: a public product that copies an upstream's PII column untagged (by name, or
renamed in SQL that sqlglot traces) breaks `pii-not-public` in the whole-mesh view lint builds; a column
declared `pii=False` does not. The producing domain (`crm`) is not one of the workspace's, so its
products resolve as inputs without a contract registry."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.governance import STANDARD_POLICIES, MeshView, evaluate
from dagmesh.location.components import DataProductComponent
from dagmesh.storage.settings import MeshSettings

PII_POLICY = [p for p in STANDARD_POLICIES if p.name == "pii-not-public"]


class Audience(pa.DataFrameModel):
    c_custkey: Series[int] = pa.Field(description="Customer.")
    email: Series[str] = pa.Field(description="Address.", metadata={"pii": True})


@data_product(
    contract=Audience,
    owners=["team:marketing"],
    access="internal",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
)
def audience() -> pd.DataFrame:
    """Who the campaign reaches."""
    return pd.DataFrame({"c_custkey": [1], "email": ["a@example.com"]})


def _copy(name: str, pii: bool | None, source: str = "crm/audience"):
    metadata = None if pii is None else {"pii": pii}

    class Copy(pa.DataFrameModel):
        c_custkey: Series[int] = pa.Field(description="Customer.")
        email: Series[str] = pa.Field(description="Address.", metadata=metadata)

    @data_product(
        contract=Copy,
        owners=["team:web"],
        access="public",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        inputs={"audience": source},
        name=name,
    )
    def copy(audience: pd.DataFrame) -> pd.DataFrame:
        """The audience, for everyone."""
        return audience

    return copy


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


def _violations(settings: MeshSettings, **locations) -> dict[str, str]:
    defs = {
        domain: domain_definitions(domain, products, settings=settings)
        for domain, products in locations.items()
    }
    mesh = MeshView.from_definitions(defs)
    return {v.product: v.message for v in evaluate(PII_POLICY, mesh)}


def test_a_copied_pii_column_is_pii_unless_declared_otherwise(settings):
    found = _violations(
        settings,
        crm=[audience],
        web=[_copy("untagged", None), _copy("declared_not_pii", False)],
    )
    assert "web/untagged" in found
    assert "email (from PII column crm/audience.email)" in found["web/untagged"]
    assert "web/declared_not_pii" not in found


def test_pii_propagates_through_products_in_between(settings):
    found = _violations(
        settings,
        crm=[audience],
        web=[_copy("first", None), _copy("second", None, source="first")],
    )
    assert "crm/audience.email" in found["web/second"]


def _sql_product(sql: str) -> DataProductComponent:
    return DataProductComponent(
        name="contacts",
        description="Contacts, for everyone.",
        owners=["team:ads"],
        access="public",
        version="1.0.0",
        slo={"max_lag_hours": 26},
        inputs=["crm/audience"],
        columns=[
            {"name": "c_custkey", "type": "int64", "description": "Customer."},
            {"name": "contact", "type": "str", "description": "Where to write."},
        ],
        sql=sql,
    )


def test_a_sql_product_renaming_a_pii_column_is_traced_to_it(settings):
    renamed = _sql_product("SELECT c_custkey, lower(email) AS contact FROM audience")
    found = _violations(settings, crm=[audience], ads=[renamed.product()])
    assert "contact (from PII column crm/audience.email)" in found["ads/contacts"]
    hashed_away = _sql_product("SELECT c_custkey, 'n/a' AS contact FROM audience")
    assert _violations(settings, crm=[audience], ads=[hashed_away.product()]) == {}
