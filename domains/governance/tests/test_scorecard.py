"""The governance location as its project loads it: the scorecard and the four sensors, RUNNING, and the
scorecard publishing one row per published product, scored by `health`.

(How the scorecard reflects each kind of finding, after the sensors tick over a mesh with a stale, a failing
and a drifted product, is tested with the sensors: tests/integration/governance/test_governance_sensors.py.)"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.storage.settings import HOME_ENV, WAREHOUSE_ENV, MeshSettings
from governance.defs.scorecard.product import health

SCORECARD = dg.AssetKey(["governance", "scorecard"])


class Counts(pa.DataFrameModel):
    n: Series[int] = pa.Field(ge=0, description="A count.")


@data_product(
    contract=Counts,
    owners=["team:shop"],
    access="internal",
    version="1.2.3",
    slo=SLO(max_lag=timedelta(days=1)),
)
def counts() -> pd.DataFrame:
    """A product for the scorecard to score."""
    return pd.DataFrame({"n": [1, 2, 3]})


@pytest.fixture
def governance(tmp_path, monkeypatch) -> tuple[dg.Definitions, MeshSettings]:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    from governance.definitions import defs

    return defs(), MeshSettings.from_env()


def test_the_location_holds_the_scorecard_and_running_sensors(governance):
    defs, _ = governance
    assert SCORECARD in defs.resolve_asset_graph().get_all_asset_keys()
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) >= {
        "governance_slo",
        "governance_quality",
        "governance_drift",
        "governance_run_failures",
    }
    assert all(s.default_status is dg.DefaultSensorStatus.RUNNING for s in sensors.values())


def test_the_scorecard_scores_every_published_product(governance):
    defs, settings = governance
    shop = domain_definitions("shop", [counts], settings=settings)
    with dg.instance_for_test() as instance:
        assert dg.materialize(shop.assets, resources=shop.resources, instance=instance).success
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
    assert result.success
    (check,) = [e for e in result.get_asset_check_evaluations() if e.asset_key == SCORECARD]
    assert check.check_name == "contract" and check.passed
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql("SELECT * FROM governance.scorecard").df().set_index("product")
    assert list(rows.index) == ["shop/counts"]  # the scorecard scores products, not itself yet
    row = rows.loc["shop/counts"]
    assert (row["domain"], row["owners"], row["access"], row["version"]) == (
        "shop",
        "team:shop",
        "internal",
        "1.2.3",
    )
    assert row["freshness_status"] == "fresh" and row["open_violations"] == 0
    assert row["health_score"] == 100


@pytest.mark.parametrize(
    ("stale", "pass_rate", "violations", "score"),
    [(False, None, 0, 100), (True, 1.0, 0, 60), (False, 0.5, 0, 80), (True, 0.0, 3, 0)],
)
def test_health_costs_freshness_contract_failures_and_findings(stale, pass_rate, violations, score):
    assert health(stale, pass_rate, violations) == pytest.approx(score)
