"""`governance/scorecard`: one row per product with its health, itself a contracted data product."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh.governance.findings import open_findings
from dagmesh.governance.monitors import (
    contract_pass_rate,
    last_updates,
    latest_publications,
    utc_now,
)
from dagmesh.product import SLO, data_product
from dagmesh.warehouse import MeshWarehouse

OWNERS = ["team:platform"]


class Scorecard(pa.DataFrameModel):
    """Health of every published data product in the mesh."""

    product: Series[str] = pa.Field(unique=True, description="Product key, domain/name.")
    domain: Series[str] = pa.Field(description="Owning domain.")
    owners: Series[str] = pa.Field(description="Owners, comma separated.")
    access: Series[str] = pa.Field(
        isin=["public", "internal", "private"], description="Access level."
    )
    version: Series[str] = pa.Field(description="Version last published.")
    last_update: Series[pd.Timestamp] = pa.Field(description="Last materialization (UTC).")
    freshness_status: Series[str] = pa.Field(
        isin=["fresh", "stale", "unknown"], description="Against the product's SLO."
    )
    contract_pass_rate: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 1},
        nullable=True,
        description="Share of the last 20 contract checks that passed.",
    )
    open_violations: Series[int] = pa.Field(ge=0, description="Open governance findings.")
    health_score: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 100}, description="0-100; 100 is healthy."
    )


def health(stale: bool, pass_rate: float | None, violations: int) -> float:
    """Freshness costs 40 points, contract failures up to 40, each open finding 10 (floor 0)."""
    score = 100.0 - (40 if stale else 0) - 40 * (1 - (1.0 if pass_rate is None else pass_rate))
    return max(0.0, score - 10 * violations)


@data_product(
    contract=Scorecard,
    owners=OWNERS,
    access="public",
    version="1.0.1",
    slo=SLO(max_lag=timedelta(hours=2)),
    schedule="0 * * * *",
)
def scorecard(context: dg.AssetExecutionContext, warehouse: MeshWarehouse) -> pd.DataFrame:
    """Every product's owner, access, version, freshness, contract pass rate, open violations and health:
    the mesh's governance at a glance, recomputed hourly from the instance and the warehouse."""
    now = utc_now()
    publications = latest_publications(warehouse)
    violations = Counter(f.product for f in open_findings(warehouse))
    updated_at = last_updates(context.instance, publications)
    rows = []
    for p in publications:
        updated = updated_at[p.product]
        if p.max_lag_seconds is None:
            status = "unknown"
        else:
            status = "stale" if (now - updated).total_seconds() > p.max_lag_seconds else "fresh"
        rate = contract_pass_rate(context.instance, p.key)
        rows.append(
            {
                "product": p.product,
                "domain": p.product.split("/")[0],
                "owners": ", ".join(p.owners),
                "access": p.access,
                "version": p.version,
                "last_update": updated,
                "freshness_status": status,
                "contract_pass_rate": rate,
                "open_violations": violations.get(p.product, 0),
                "health_score": health(status == "stale", rate, violations.get(p.product, 0)),
            }
        )
    return pd.DataFrame(rows, columns=list(Scorecard.to_schema().columns))
