"""The governance sensors: watch every code location through the instance and the warehouse.

Each tick recomputes its kind of finding, stores the open ones in the warehouse (`_dagmesh.findings`),
and records each new finding as an observation on the product's asset, so it shows in the product's
timeline in the Dagster UI whichever location owns it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import dagster as dg
from dagster import DagsterRunStatus

from dagmesh.binding.asset import WAREHOUSE_KEY
from dagmesh.governance.findings import replace_findings
from dagmesh.governance.monitors import (
    Finding,
    Publication,
    drifted_tables,
    failed_contracts,
    last_updates,
    latest_publications,
    stale_products,
)
from dagmesh.storage.warehouse import MeshWarehouse

Monitor = Callable[[dg.DagsterInstance, MeshWarehouse, list[Publication]], list[Finding]]
TICK_SECONDS = 60


def failed_runs(
    instance: dg.DagsterInstance, publications: list[Publication], since_hours: float = 24
) -> list[Finding]:
    """Products whose latest run in the window failed and that have not materialized since."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=since_hours)
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[DagsterRunStatus.FAILURE], created_after=since), limit=500
    )
    by_product = {p.key: p for p in publications}
    updated_at = last_updates(instance, publications) if records else {}
    findings: dict[str, Finding] = {}
    for record in records:
        run = record.dagster_run
        for key in run.asset_selection or ():
            publication = by_product.get(key)
            if publication is None or key.to_user_string() in findings:
                continue
            failed_at = (record.end_time or record.create_timestamp.timestamp()) if record else 0
            updated = updated_at[publication.product].replace(tzinfo=dt.UTC).timestamp()
            if updated < failed_at:
                findings[key.to_user_string()] = Finding(
                    "quality", key.to_user_string(), f"run {run.run_id[:8]} ({run.job_name}) failed"
                )
    return list(findings.values())


def quality(instance, warehouse, publications) -> list[Finding]:
    found = failed_contracts(instance, publications)
    seen = {f.product for f in found}
    return found + [f for f in failed_runs(instance, publications) if f.product not in seen]


def slo(instance, warehouse, publications) -> list[Finding]:
    return stale_products(instance, publications)


def drift(instance, warehouse, publications) -> list[Finding]:
    return drifted_tables(warehouse, publications)


def versions(instance, warehouse, publications) -> list[Finding]:
    """Previous majors kept for pinned consumers: reported while served, retired (dropped) once their
    deprecation date has passed."""
    return [Finding("versions", product, detail) for product, detail in warehouse.previous_majors()]


def evaluate_monitor(
    kind: str,
    monitor: Monitor,
    instance: dg.DagsterInstance,
    warehouse: MeshWarehouse,
    cursor: str | None,
) -> tuple[list[Finding], list[dg.AssetObservation], str]:
    """Run one monitor: store its findings, and return observations for the ones not seen last tick."""
    publications = latest_publications(warehouse)
    findings = monitor(instance, warehouse, publications)
    replace_findings(warehouse, kind, findings)
    previous = set(json.loads(cursor or "[]"))
    current = sorted(f"{f.product}|{f.detail}" for f in findings)
    observations = [
        dg.AssetObservation(
            asset_key=dg.AssetKey.from_user_string(f.product),
            metadata={"dagmesh/governance": f.kind, "dagmesh/finding": f.detail},
        )
        for f in findings
        if f"{f.product}|{f.detail}" not in previous
    ]
    return findings, observations, json.dumps(current)


def _monitor_sensor(kind: str, monitor: Monitor, description: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"governance_{kind}",
        description=description,
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys={WAREHOUSE_KEY},
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        warehouse: MeshWarehouse = getattr(context.resources, WAREHOUSE_KEY)
        findings, observations, cursor = evaluate_monitor(
            kind, monitor, context.instance, warehouse, context.cursor
        )
        for finding in findings:
            context.log.warning(f"{finding.product}: {finding.detail}")
        return dg.SensorResult(asset_events=observations, cursor=cursor)

    return _sensor


slo_sensor = _monitor_sensor(
    "slo", slo, "Products past their freshness SLO, in every code location."
)
quality_sensor = _monitor_sensor(
    "quality",
    quality,
    "Failed contract checks and failed runs, per product, in every code location.",
)
drift_sensor = _monitor_sensor(
    "drift",
    drift,
    "Published tables whose columns no longer match their registered contract version.",
)


@dg.run_failure_sensor(
    name="governance_run_failures",
    monitor_all_code_locations=True,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reacts at once to a failed run in any code location: refreshes quality findings.",
)
def run_failure_sensor(context: dg.RunFailureSensorContext, warehouse: MeshWarehouse) -> None:
    findings, _, _ = evaluate_monitor("quality", quality, context.instance, warehouse, None)
    context.log.warning(
        f"run {context.dagster_run.run_id[:8]} failed in {context.dagster_run.job_name}; "
        f"{len(findings)} product(s) with quality findings"
    )


versions_sensor = _monitor_sensor(
    "versions",
    versions,
    "Previous majors served to pinned consumers until their deprecation date, then retired.",
)

GOVERNANCE_SENSORS = [slo_sensor, quality_sensor, drift_sensor, versions_sensor, run_failure_sensor]
