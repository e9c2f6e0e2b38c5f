"""A private `marketing/campaign_audience` published into a test's warehouse: what the access bypass tests
(an adversarial domain team's code) try to read."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.storage.settings import MeshSettings

AUDIENCE = ("marketing", "campaign_audience")
EMAILS = ["ann@example.com", "bob@example.com"]


class CampaignAudience(pa.DataFrameModel):
    c_custkey: Series[int] = pa.Field(unique=True, description="Customer.")
    email: Series[str] = pa.Field(description="Contact address.", metadata={"pii": True})


@data_product(
    contract=CampaignAudience,
    owners=["team:marketing"],
    access="private",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=7)),
)
def campaign_audience() -> pd.DataFrame:
    """The next campaign's audience: private to marketing."""
    return pd.DataFrame({"c_custkey": [1, 2], "email": EMAILS})


def publish_audience(settings: MeshSettings, instance: dg.DagsterInstance) -> None:
    defs = domain_definitions("marketing", [campaign_audience], settings=settings)
    result = dg.materialize(
        list(defs.assets or []), resources=dict(defs.resources or {}), instance=instance
    )
    assert result.success
