"""Access levels across domains: an internal product read from another domain is refused at run time by
the IO manager (the load-time refusal is in tests/unit/governance/test_interface_lookup.py)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.storage.settings import MeshSettings


class Prices(pa.DataFrameModel):
    sku: Series[int] = pa.Field(description="Part.")


def _producer(access: str, allowed=()):
    @data_product(
        contract=Prices,
        owners=["team:supply"],
        access=access,
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        allowed_consumers=allowed,
    )
    def prices() -> pd.DataFrame:
        """Negotiated prices."""
        return pd.DataFrame({"sku": [1, 2]})

    return prices


def _consumer(name: str, ref: str):
    @data_product(
        contract=Prices,
        owners=["team:web"],
        access="internal",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        inputs={"prices": ref},
        name=name,
    )
    def view(prices: pd.DataFrame) -> pd.DataFrame:
        """Prices for the shop."""
        return prices

    return view


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


def _run(defs, instance, selection=None):
    return dg.materialize(
        defs.assets,
        resources=defs.resources,
        instance=instance,
        selection=selection,
        raise_on_error=False,
    )


def test_cross_domain_read_of_an_internal_product_is_refused_at_run_time(settings):
    supply = domain_definitions("supply", [_producer("internal")], settings=settings)
    # Without the producer's registry files the consumer location loads; the IO manager still refuses.
    web = domain_definitions("web", [_consumer("price_view", "supply/prices")], settings=settings)
    with dg.instance_for_test() as instance:
        assert _run(supply, instance).success
        result = _run(web, instance, selection=["web/price_view"])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    text = str(failure.cause.message if failure.cause else failure.message)
    for part in (
        "web/price_view",
        "team:web",
        "supply/prices",
        "team:supply",
        "internal",
        "refused",
    ):
        assert part in text, part
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute("SELECT table_schema FROM information_schema.tables").fetchall()
        }
    assert "web" not in tables  # nothing was published from the refused read


def test_same_domain_reads_internal_and_other_domains_read_public(settings):
    supply = domain_definitions(
        "supply", [_producer("internal"), _consumer("own_view", "prices")], settings=settings
    )
    with dg.instance_for_test() as instance:
        assert _run(supply, instance).success
    public_supply = domain_definitions("supply", [_producer("public")], settings=settings)
    web = domain_definitions("web", [_consumer("price_view", "supply/prices")], settings=settings)
    with dg.instance_for_test() as instance:
        assert _run(public_supply, instance).success
        assert _run(web, instance, selection=["web/price_view"]).success


def test_private_product_is_read_only_by_allowed_consumers(settings):
    defs = domain_definitions(
        "supply",
        [_producer("private", allowed=["allowed_view"]), _consumer("allowed_view", "prices")],
        settings=settings,
    )
    other = domain_definitions("web", [_consumer("price_view", "supply/prices")], settings=settings)
    with dg.instance_for_test() as instance:
        assert _run(defs, instance).success
        refused = _run(other, instance, selection=["web/price_view"])
    assert not refused.success
