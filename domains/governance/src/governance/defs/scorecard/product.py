"""`governance/scorecard`: one row per product with its health, itself a contracted data product."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import dagster as dg
import pandas as pd

from dagmesh import SLO, MeshWarehouse, data_product
from dagmesh.governance.findings import open_findings
from dagmesh.governance.monitors import (
    contract_pass_rate,
    last_updates,
    latest_publications,
    utc_now,
)
from governance.defs.scorecard.contract import Scorecard

OWNERS = ["team:platform"]


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
    columns = Scorecard.to_schema().columns
    frame = pd.DataFrame(rows, columns=list(columns))
    if frame.empty:  # a warehouse with nothing published yet: no rows, still the contract's types
        frame = frame.astype({n: c.dtype.type for n, c in columns.items() if str(c.dtype) != "str"})
    return frame
