"""An adversarial domain team reading the private `marketing/campaign_audience` by every path around a
declared input: the warehouse resource's `read`/`read_batches`, a plain asset merged into its location,
`query()` with ATTACH, and a YAML product's SQL. Each read the data before; each is refused now, with
nothing published. (The declared-input refusal is in test_access_levels.py.)"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, MeshWarehouse, data_product, domain_definitions, query
from dagmesh.declare.access import AccessDeniedError, Reader
from dagmesh.storage.settings import MeshSettings
from tests.conftest import failure_text
from tests.helpers.private_audience import AUDIENCE, EMAILS, publish_audience


class Stolen(pa.DataFrameModel):
    c_custkey: Series[int] = pa.Field(description="Customer.")
    email: Series[str] = pa.Field(description="Address.", metadata={"pii": True})


def _sales_product(fn):
    return data_product(
        contract=Stolen,
        owners=["team:sales"],
        access="internal",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        name=fn.__name__,
    )(fn)


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, selection=None):
    assets = list(defs.assets or [])
    return dg.materialize(
        assets,
        resources=dict(defs.resources or {}),
        instance=instance,
        selection=selection,
        raise_on_error=False,
    )


def _sales_tables(settings: MeshSettings) -> set[str]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sales'"
        ).fetchall()
    return {row[0] for row in rows}


def _assert_refused(result, settings: MeshSettings, *parts: str) -> None:
    assert not result.success
    text = failure_text(result)
    for part in parts:
        assert part in text, (part, text)
    assert not any(email in text for email in EMAILS)  # no row leaks into the message
    assert not _sales_tables(settings) - {"harmless"}  # nothing published from the refused read


def test_the_warehouse_resource_reads_as_the_product_that_holds_it(settings):
    @_sales_product
    def through_read(warehouse: MeshWarehouse) -> pd.DataFrame:
        """Reads the audience through the warehouse resource."""
        return warehouse.read(AUDIENCE)

    @_sales_product
    def through_batches(warehouse: MeshWarehouse) -> pd.DataFrame:
        """Reads the audience batch by batch."""
        return pd.concat(warehouse.read_batches(AUDIENCE, rows=1))

    sales = domain_definitions("sales", [through_read, through_batches], settings=settings)
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
        for name in ("through_read", "through_batches"):
            result = _run(sales, instance, [f"sales/{name}"])
            _assert_refused(
                result,
                settings,
                f"sales/{name} (owners: team:sales) may not read marketing/campaign_audience",
                "team:marketing",
                "private",
                "refused",
            )


def test_a_plain_asset_merged_into_a_location_reads_as_its_domain(settings):
    @_sales_product
    def harmless() -> pd.DataFrame:
        """Nothing to see."""
        return pd.DataFrame({"c_custkey": [1], "email": ["x@example.com"]})

    @dg.asset(key=["sales", "copied"], ins={"audience": dg.AssetIn(key=list(AUDIENCE))})
    def copied(audience: pd.DataFrame) -> pd.DataFrame:
        return audience

    @dg.asset(key=["sales", "own_copy"], ins={"harmless": dg.AssetIn(key=["sales", "harmless"])})
    def own_copy(harmless: pd.DataFrame) -> None:
        assert len(harmless) == 1  # its own domain's products it reads

    # Merged after the mesh rules ran, as a team's definitions.py could: no consumer metadata.
    sales = dg.Definitions.merge(
        domain_definitions("sales", [harmless], settings=settings),
        dg.Definitions(assets=[copied, own_copy, dg.AssetSpec(key=list(AUDIENCE))]),
    )
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
        assert _run(sales, instance, ["sales/harmless", "sales/own_copy"]).success
        result = _run(sales, instance, ["sales/copied"])
    _assert_refused(
        result,
        settings,
        "domain 'sales' (owners: none) may not read marketing/campaign_audience",
        "private",
        "refused",
    )


def test_a_plain_asset_keyed_under_another_domain_is_refused(settings):
    @dg.asset(key=["marketing", "copied"], ins={"audience": dg.AssetIn(key=list(AUDIENCE))})
    def disguised(audience: pd.DataFrame) -> pd.DataFrame:
        return audience

    @_sales_product
    def harmless() -> pd.DataFrame:
        """Nothing to see."""
        return pd.DataFrame({"c_custkey": [1], "email": ["x@example.com"]})

    sales = dg.Definitions.merge(
        domain_definitions("sales", [harmless], settings=settings),
        dg.Definitions(assets=[disguised, dg.AssetSpec(key=list(AUDIENCE))]),
    )
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
        result = _run(sales, instance, ["marketing/copied"])
    assert not result.success
    text = failure_text(result)
    assert "marketing/copied in domain 'sales'" in text and "refused" in text
    assert not any(email in text for email in EMAILS)


def test_query_may_not_attach_the_warehouse_file(settings):
    warehouse_file = str(settings.warehouse_path)

    @_sales_product
    def attached() -> pd.DataFrame:
        """ATTACHes the warehouse file and reads the audience from it."""
        return query(
            f"ATTACH '{warehouse_file}' AS w (READ_ONLY); "
            "SELECT c_custkey, email FROM w.marketing.campaign_audience"
        )

    @_sales_product
    def from_files() -> pd.DataFrame:
        """Reads a file from a query that runs on a DuckDB of its own."""
        return query("SELECT * FROM read_parquet('x.parquet')")

    sales = domain_definitions("sales", [attached, from_files], settings=settings)
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
        attach = _run(sales, instance, ["sales/attached"])
        files = _run(sales, instance, ["sales/from_files"])
    _assert_refused(attach, settings, "sales/attached (owners: team:sales)", "not allowed")
    _assert_refused(files, settings, "sales/from_files", "read_parquet()", "not allowed")


def test_an_in_warehouse_product_may_not_name_another_domains_table(settings):
    from dagmesh import Relation

    @data_product(
        contract=Stolen,
        owners=["team:sales"],
        access="internal",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        inputs={"audience_pool": "pool"},
    )
    def in_warehouse(audience_pool: Relation) -> Relation:
        """Runs on the warehouse's own connection, where marketing's schema is one name away."""
        return query("SELECT c_custkey, email FROM marketing.campaign_audience", pool=audience_pool)

    @_sales_product
    def pool() -> pd.DataFrame:
        """An input, so the product runs in the warehouse."""
        return pd.DataFrame({"c_custkey": [9], "email": ["z@example.com"]})

    sales = domain_definitions("sales", [pool, in_warehouse], settings=settings)
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
        assert _run(sales, instance, ["sales/pool"]).success
        result = _run(sales, instance, ["sales/in_warehouse"])
    assert not result.success
    text = failure_text(result)
    assert "sales/in_warehouse (owners: team:sales)" in text
    assert "marketing.campaign_audience" in text and "not allowed" in text
    assert _sales_tables(settings) == {"pool"}


def test_a_read_names_its_reader(settings):
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
    platform = MeshWarehouse.from_settings(settings)
    with pytest.raises(AccessDeniedError, match="names no reader"):
        platform.read(AUDIENCE)  # deny by default: the platform's own warehouse must be told
    assert platform.read(AUDIENCE, reader=Reader.platform("tests"))["email"].tolist() == EMAILS
    assert len(platform.read(AUDIENCE, reader=Reader.of_domain("marketing"))) == 2
    with pytest.raises(AccessDeniedError, match="domain 'sales'"):
        platform.read(AUDIENCE, reader=Reader.of_domain("sales"))
    # A domain's warehouse cannot claim to be the platform or another domain.
    sales = MeshWarehouse.from_settings(settings, "sales")
    for claimed in (Reader.platform("catalog"), Reader.of_domain("marketing")):
        with pytest.raises(AccessDeniedError, match="reads only as that domain"):
            sales.read(AUDIENCE, reader=claimed)
    with pytest.raises(AccessDeniedError, match="private"):
        sales.read(AUDIENCE)
    assert len(MeshWarehouse.from_settings(settings, "marketing").read(AUDIENCE)) == 2


def test_a_kept_previous_major_is_held_to_its_products_access_level(settings):
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
    with duckdb.connect(str(settings.warehouse_path)) as con:  # what a major bump keeps
        con.execute(
            "CREATE TABLE marketing.campaign_audience__v1 AS SELECT * FROM marketing.campaign_audience"
        )
    with pytest.raises(AccessDeniedError, match="private"):
        MeshWarehouse.from_settings(settings, "sales").read(("marketing", "campaign_audience__v1"))
