"""A domain's jobs and schedules: named by domain and product, tagged so their runs show the domain, and
RUNNING unless the deployment says DAGMESH_SCHEDULES=stopped."""

from __future__ import annotations

from dataclasses import replace

import dagster as dg
import pytest

from dagmesh import domain_definitions
from dagmesh.location.schedules import cadence
from dagmesh.storage.settings import SCHEDULES_ENV, MeshSettings
from tests.unit.shipments_declaration import declare, shipments

MONTHS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")


def _products():
    return [
        declare(schedule="15 3 * * *")(shipments),
        declare(schedule="0 * * * *", name="arrivals")(shipments),
        declare(schedule="0 * * * *", name="departures")(shipments),
        declare(
            schedule="0 4 * * *",
            name="monthly_weights",
            partitions_def=MONTHS,
            partition_column="shipped_at",
        )(shipments),
    ]


def _schedules(settings: MeshSettings) -> dict[str, dg.ScheduleDefinition]:
    defs = domain_definitions("logistics", _products(), settings=settings)
    return {s.name: defs.resolve_schedule_def(s.name) for s in defs.schedules or []}


def test_jobs_and_schedules_are_named_and_tagged_by_domain_and_product(mesh_settings) -> None:
    defs = domain_definitions("logistics", _products(), settings=mesh_settings)
    # Every definition builds: no job is named like a product's op (`logistics__shipments`).
    defs.get_repository_def().load_all_definitions()
    schedules = {s.name: defs.resolve_schedule_def(s.name) for s in defs.schedules or []}

    assert {name: s.job_name for name, s in schedules.items()} == {
        "logistics__shipments_daily_schedule": "logistics__shipments_daily",
        "logistics__hourly_products_schedule": "logistics__hourly_products",
        "logistics__monthly_weights_monthly_schedule": "logistics__monthly_weights_monthly",
    }
    single = defs.resolve_job_def("logistics__shipments_daily")
    assert single.tags == {"dagmesh/domain": "logistics", "dagmesh/product": "shipments"}
    several = defs.resolve_job_def("logistics__hourly_products")
    assert several.tags == {"dagmesh/domain": "logistics"}
    graph = defs.resolve_asset_graph()
    assert schedules["logistics__hourly_products_schedule"].job.selection.resolve(graph) == {
        dg.AssetKey(["logistics", "arrivals"]),
        dg.AssetKey(["logistics", "departures"]),
    }


def test_schedules_start_running_including_partitioned_ones(mesh_settings) -> None:
    statuses = {name: s.default_status for name, s in _schedules(mesh_settings).items()}

    assert set(statuses.values()) == {dg.DefaultScheduleStatus.RUNNING}, statuses


def test_an_explicit_setting_stops_every_schedule(
    mesh_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULES_ENV, "stopped")
    assert MeshSettings.from_env().schedules_running is False
    stopped = replace(mesh_settings, schedules_running=False)

    statuses = {s.default_status for s in _schedules(stopped).values()}

    assert statuses == {dg.DefaultScheduleStatus.STOPPED}


def test_an_unknown_schedule_state_is_one_clear_error(
    mesh_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULES_ENV, "paused")

    with pytest.raises(ValueError, match=r"DAGMESH_SCHEDULES='paused'.*running.*stopped"):
        MeshSettings.from_env()


def test_the_sample_scorecard_schedule_runs_hourly_by_default(mesh_home) -> None:
    from governance.definitions import defs

    location = defs()
    location.get_repository_def().load_all_definitions()
    schedule = location.resolve_schedule_def("governance__scorecard_hourly_schedule")

    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.default_status is dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "governance__scorecard_hourly"


def test_a_job_never_takes_a_products_op_name(mesh_settings) -> None:
    """`orders` alone on a daily cron would be `shop__orders_daily`: a product of that name owns it."""
    products = [
        declare(schedule="0 1 * * *", name="orders")(shipments),
        declare(name="orders_daily")(shipments),
    ]
    defs = domain_definitions("shop", products, settings=mesh_settings)
    defs.get_repository_def().load_all_definitions()

    assert [s.job_name for s in defs.schedules or []] == ["shop__orders_daily_2"]


@pytest.mark.parametrize(
    ("cron", "word"),
    [
        ("0 * * * *", "hourly"),
        ("15 3 * * *", "daily"),
        ("0 6 * * 1", "weekly"),
        ("0 6 1 * *", "monthly"),
        ("@daily", "daily"),
        ("*/5 * * * *", "custom"),
        ("0 9-17 * * 1-5", "custom"),
    ],
)
def test_cadence_names_the_common_crons(cron: str, word: str) -> None:
    assert cadence(cron) == word


def test_sensors_start_running_whatever_the_schedule_setting(mesh_settings) -> None:
    """As README says: DAGMESH_SCHEDULES stops schedules only; the automation sensor still runs."""
    product = declare(automation_condition=dg.AutomationCondition.on_cron("0 * * * *"))(shipments)
    stopped = replace(mesh_settings, schedules_running=False)

    defs = domain_definitions("logistics", [product], settings=stopped)

    (sensor,) = defs.sensors or []
    assert sensor.name == "logistics_automation"
    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING
