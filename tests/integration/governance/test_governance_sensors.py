"""Continuous governance: the governance sensors, evaluated by Dagster against a real instance holding
runs of two domains, find a stale product, a failed contract and a drifted table (the scorecard product
that reflects them is tested with the governance location, domains/governance/tests/test_scorecard.py)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from dagster._core.definitions.run_status_sensor_definition import RunStatusSensorDefinition
from dagster._core.test_utils import freeze_time
from dagster._time import get_current_datetime
from pandera.typing import Series

from dagmesh import SLO, MeshWarehouse, data_product, domain_definitions
from dagmesh.governance.findings import open_findings
from dagmesh.governance.sensors import GOVERNANCE_SENSORS, drift_sensor, quality_sensor, slo_sensor
from dagmesh.storage.settings import MeshSettings
from governance.defs.scorecard import product as scorecard_module

STATE = {"flaky_bad": False}


class Numbers(pa.DataFrameModel):
    n: Series[int] = pa.Field(ge=0, description="A non-negative number.")


def _product(name: str, slo: SLO, frame):
    @data_product(
        contract=Numbers,
        owners=[f"team:{name}"],
        access="public",
        version="1.0.0",
        slo=slo,
        name=name,
    )
    def product() -> pd.DataFrame:
        """A governed test product."""
        return frame()

    return product


DAY = SLO(max_lag=timedelta(days=1))
fresh = _product("fresh", DAY, lambda: pd.DataFrame({"n": [1, 2]}))
stale = _product("stale", SLO(max_lag=timedelta(minutes=5)), lambda: pd.DataFrame({"n": [3]}))
flaky = _product(
    "flaky",
    DAY,
    lambda: pd.DataFrame({"n": [-1, 5]}) if STATE["flaky_bad"] else pd.DataFrame({"n": [5]}),
)
drifty = _product("drifty", DAY, lambda: pd.DataFrame({"n": [7]}))


@pytest.fixture(scope="module")
def governed(tmp_path_factory):
    home = tmp_path_factory.mktemp("gov")
    settings = MeshSettings(home=home, warehouse_path=home / "w.duckdb", tpch_scale=0.01)
    alpha = domain_definitions("alpha", [fresh, stale], settings=settings)
    beta = domain_definitions("beta", [flaky, drifty], settings=settings)
    governance = domain_definitions(
        "governance", [scorecard_module.scorecard], settings=settings, sensors=GOVERNANCE_SENSORS
    )
    (home / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        for defs in (alpha, beta):
            result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
            assert result.success
        STATE["flaky_bad"] = True
        failed = dg.materialize(
            beta.assets,
            resources=beta.resources,
            instance=instance,
            selection=["beta/flaky"],
            raise_on_error=False,
        )
        assert not failed.success
        # Someone alters a published table behind the platform's back.
        with duckdb.connect(str(settings.warehouse_path)) as con:
            con.execute('ALTER TABLE beta.drifty ADD COLUMN "extra" VARCHAR')
        # Governance reads Dagster's clock: an hour later, alpha/stale (5 min SLO) is stale.
        with freeze_time(get_current_datetime() + timedelta(hours=1)):
            yield instance, settings, governance


def _tick(sensor: dg.SensorDefinition, instance, settings):
    warehouse = MeshWarehouse(database=str(settings.warehouse_path))
    context = dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse})
    return sensor.evaluate_tick(context)


def _observed(data) -> dict[str, str]:
    return {
        event.asset_key.to_user_string(): event.metadata["dagmesh/finding"].value
        for event in data.asset_events
    }


def test_slo_sensor_reports_only_the_stale_product(governed):
    instance, settings, _ = governed
    observed = _observed(_tick(slo_sensor, instance, settings))
    assert list(observed) == ["alpha/stale"]
    assert "SLO allows" in observed["alpha/stale"]


def test_quality_sensor_reports_the_failed_contract(governed):
    instance, settings, _ = governed
    observed = _observed(_tick(quality_sensor, instance, settings))
    assert list(observed) == ["beta/flaky"]
    assert "contract check failed" in observed["beta/flaky"]


def test_drift_sensor_reports_the_altered_table(governed):
    instance, settings, _ = governed
    observed = _observed(_tick(drift_sensor, instance, settings))
    assert list(observed) == ["beta/drifty"]
    assert "unexpected extra" in observed["beta/drifty"]


def test_sensor_reports_a_finding_once_and_keeps_it_open(governed):
    instance, settings, _ = governed
    first = _tick(drift_sensor, instance, settings)
    warehouse = MeshWarehouse(database=str(settings.warehouse_path))
    context = dg.build_sensor_context(
        instance=instance, resources={"warehouse": warehouse}, cursor=first.cursor
    )
    second = drift_sensor.evaluate_tick(context)
    assert second.asset_events == []  # not reported twice...
    assert any(f.product == "beta/drifty" for f in open_findings(warehouse))  # ...but still open


def test_governance_sensors_watch_every_location_and_start_running(governed):
    _, _, governance = governed
    sensors = {s.name: s for s in governance.sensors}
    assert {
        "governance_slo",
        "governance_quality",
        "governance_drift",
        "governance_run_failures",
    } <= set(sensors)
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    failure = sensors["governance_run_failures"]
    assert isinstance(failure, RunStatusSensorDefinition)


def test_scorecard_reflects_the_findings(governed):
    instance, settings, governance = governed
    for sensor in (slo_sensor, quality_sensor, drift_sensor):
        _tick(sensor, instance, settings)
    result = dg.materialize(governance.assets, resources=governance.resources, instance=instance)
    assert result.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        card = con.sql("SELECT * FROM governance.scorecard").df().set_index("product")
    assert set(card.index) >= {"alpha/fresh", "alpha/stale", "beta/flaky", "beta/drifty"}
    assert card.loc["alpha/stale", "freshness_status"] == "stale"
    assert card.loc["alpha/fresh", "freshness_status"] == "fresh"
    assert card.loc["beta/flaky", "contract_pass_rate"] == pytest.approx(0.5)
    assert card.loc["beta/flaky", "open_violations"] == 1
    assert card.loc["beta/drifty", "open_violations"] == 1
    assert card.loc["alpha/fresh", "health_score"] == 100
    for product in ("alpha/stale", "beta/flaky", "beta/drifty"):
        assert card.loc[product, "health_score"] < 100, product
    assert card.loc["beta/flaky", "owners"] == "team:flaky"
    assert isinstance(card.loc["alpha/fresh", "last_update"], pd.Timestamp)
