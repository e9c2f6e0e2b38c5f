"""Runs launched by `dagmesh run` are of jobs named by domain and product and carry the domain and product
as tags, so the UI's runs list shows whose they are (not `__ephemeral_asset_job__`)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.tools.runner import run_mesh


class Ids(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, description="Id.")


def _product(name: str):
    @data_product(
        contract=Ids,
        owners=["team:shop"],
        access="public",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
        name=name,
        description=f"The {name}.",
    )
    def product() -> pd.DataFrame:
        return pd.DataFrame({"id": [1, 2]})

    return product


def test_mesh_runs_are_named_and_tagged_by_domain_and_product(mesh_settings) -> None:
    shop = domain_definitions(
        "shop", [_product("orders"), _product("customers")], settings=mesh_settings
    )
    books = domain_definitions("books", [_product("ledger")], settings=mesh_settings)

    with dg.instance_for_test() as instance:
        result = run_mesh({"shop": shop, "books": books}, instance)
        assert result.success, [o.error for o in result.failed]
        runs = {run.job_name: run for run in instance.get_runs()}

    assert set(runs) == {"shop__2_products__run", "books__ledger__run"}
    assert runs["books__ledger__run"].tags["dagmesh/domain"] == "books"
    assert runs["books__ledger__run"].tags["dagmesh/product"] == "ledger"
    assert runs["books__ledger__run"].tags["dagmesh/run"] == "mesh"  # the caller's tags are kept
    assert runs["shop__2_products__run"].tags["dagmesh/domain"] == "shop"
    assert "dagmesh/product" not in runs["shop__2_products__run"].tags
    # The contract check still runs in the named job.
    ledger = dg.AssetKey(["books", "ledger"])
    assert result.outcomes[ledger].contract == "passed"
