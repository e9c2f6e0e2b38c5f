"""Lake maintenance as a platform job of the governance location: `lake_maintenance`, one at a time.

The job has one op, `maintain_lake`, that runs `dagmesh.storage.lake_maintenance.maintain_lake` on the
warehouse resource's lake and reports what it did as the op's output metadata (snapshots expired and
kept, files merged, rewritten and deleted). On the DuckDB-file backend there is no lake: the op says
there is nothing to maintain and succeeds without opening the file (DuckDB checkpoints it itself).

One maintenance at a time, as upstream advises (DuckLake keeps concurrent writers apart, but two
maintenance runs would merge the same files and race each other's cleanup):

- Dagster's own mechanism: the op is in the concurrency pool `dagmesh_lake_maintenance`. Dagster 1.13 has
  no per-job run limit (no `dagster/max_concurrent_runs` tag); a pool is enforced by the instance, so it
  holds across processes, code locations and run launchers. The deployment's instance
  (deploy/postgres/dagster.yaml, `pools: default_limit: 1`) limits every pool to one op at a time; on
  another instance set it with `dagster instance concurrency set dagmesh_lake_maintenance 1`. The job
  also carries the tag `dagmesh/maintenance: lake`, for a run queue limited by tag instead
  (`tag_concurrency_limits`).
- On an instance that leaves the pool unlimited, the op itself refuses to run beside another: it first
  looks for another run of this job whose `maintain_lake` step has started and not ended. Every step
  start is in the event log before its op's body runs, so of two overlapping steps at least the later
  one sees the earlier (at worst both see each other and both skip): two maintenances never overlap.
  A step that waits for the pool's slot has not started, so with the pool limited the second run waits
  and then maintains.

The schedule is defined by the governance location (`lake_maintenance_schedule`): nightly, RUNNING on
the lakehouse backend, STOPPED (nothing to maintain) on the DuckDB file or with DAGMESH_SCHEDULES=stopped.
"""

import dagster as dg
from dagster import DagsterRunStatus, OpExecutionContext
from dagster._time import get_current_datetime

from dagmesh.binding.asset import WAREHOUSE_KEY
from dagmesh.storage.lake_maintenance import (
    MaintenancePolicy,
    MaintenanceReport,
    describe_duration,
    maintain_lake,
)
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse

JOB_NAME = "lake_maintenance"
OP_NAME = "maintain_lake"
MAINTENANCE_POOL = "dagmesh_lake_maintenance"
MAINTENANCE_TAG = "dagmesh/maintenance"
NIGHTLY = "0 3 * * *"  # 03:00 UTC
NOTHING_TO_MAINTAIN = "nothing to maintain"


def maintenance_in_progress(context: OpExecutionContext) -> list[str]:
    """The other runs of this job whose maintenance step has started and not ended."""
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=context.job_name, statuses=[DagsterRunStatus.STARTED]),
        limit=50,
    )
    busy = []
    for record in records:
        run_id = record.dagster_run.run_id
        if run_id == context.run_id:
            continue
        for stats in context.instance.get_run_step_stats(run_id, step_keys=[OP_NAME]):
            if stats.start_time is not None and stats.end_time is None:
                busy.append(run_id)
    return busy


def pool_limit(instance: dg.DagsterInstance) -> int | None:
    """The limit this instance sets on the maintenance pool (None: unlimited)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return None
    for pool in storage.get_pool_limits():
        if pool.name == MAINTENANCE_POOL:
            return pool.limit
    return instance.global_op_concurrency_default_limit


def report_metadata(report: MaintenanceReport) -> dict[str, dg.MetadataValue]:
    kept = {str(snapshot): why for snapshot, why in sorted(report.kept.items())}
    return {
        "backend": dg.MetadataValue.text("lakehouse"),
        "outcome": dg.MetadataValue.text(report.summary),
        "retention": dg.MetadataValue.text(describe_duration(report.retention)),
        "cutoff": dg.MetadataValue.text(report.cutoff.isoformat()),
        "rows flushed": dg.MetadataValue.int(report.rows_flushed),
        "snapshots before": dg.MetadataValue.int(report.snapshots_before),
        "snapshots after": dg.MetadataValue.int(report.snapshots_after),
        "snapshots expired": dg.MetadataValue.int(len(report.expired)),
        "expired snapshot ids": dg.MetadataValue.json(list(report.expired)),
        "snapshots kept past the retention": dg.MetadataValue.json(kept),
        "publications without a snapshot": dg.MetadataValue.json(list(report.unmatched)),
        "files merged": dg.MetadataValue.int(report.files_merged),
        "files merged into": dg.MetadataValue.int(report.files_merged_into),
        "files rewritten": dg.MetadataValue.int(report.files_rewritten),
        "files deleted": dg.MetadataValue.int(len(report.files_deleted)),
        "deleted files": dg.MetadataValue.json(list(report.files_deleted)),
        "files waiting for the cleanup delay": dg.MetadataValue.int(report.files_pending_deletion),
        "live files before": dg.MetadataValue.int(report.live_files_before),
        "live files after": dg.MetadataValue.int(report.live_files_after),
    }


@dg.op(
    name=OP_NAME,
    description="DuckLake maintenance of the lake: flush inlined rows, expire snapshots past the "
    "retention (never the publication log's latest publications), rewrite and merge files, delete "
    "the files nothing needs.",
    pool=MAINTENANCE_POOL,
    required_resource_keys={WAREHOUSE_KEY},
    out=dg.Out(dg.Nothing),
)
def maintain_lake_op(context: OpExecutionContext) -> dg.Output:
    warehouse: MeshWarehouse = getattr(context.resources, WAREHOUSE_KEY)
    if not warehouse.is_lakehouse:
        message = (
            f"{NOTHING_TO_MAINTAIN}: the warehouse is a DuckDB file ({warehouse.database}), without "
            "snapshots or small files to compact; DuckDB checkpoints it itself"
        )
        context.log.info(message)
        return dg.Output(
            None,
            metadata={
                "backend": dg.MetadataValue.text("duckdb file"),
                "outcome": dg.MetadataValue.text(message),
            },
        )
    busy = maintenance_in_progress(context)
    if busy:
        message = (
            f"skipped: lake maintenance is already running in run(s) {', '.join(busy)}; one "
            "maintenance at a time. If that run died, mark it failed and the next run maintains."
        )
        context.log.warning(message)
        return dg.Output(
            None,
            metadata={
                "backend": dg.MetadataValue.text("lakehouse"),
                "outcome": dg.MetadataValue.text(message),
                "concurrent runs": dg.MetadataValue.json(busy),
            },
        )
    limit = pool_limit(context.instance)
    if limit is None:
        context.log.info(
            f"the pool {MAINTENANCE_POOL} is unlimited on this instance; the op's own check keeps "
            f"maintenance runs apart (`dagster instance concurrency set {MAINTENANCE_POOL} 1` "
            "makes a second run wait instead)"
        )
    policy = MaintenancePolicy.from_env()
    with warehouse.get_connection() as con:
        report = maintain_lake(con, policy, now=get_current_datetime())
    context.log.info(f"lake maintenance: {report.summary}")
    metadata = report_metadata(report)
    metadata["pool limit"] = dg.MetadataValue.text("unlimited" if limit is None else str(limit))
    return dg.Output(None, metadata=metadata)


@dg.job(
    name=JOB_NAME,
    description="Lake maintenance (DuckLake compaction, snapshot expiry, file cleanup), one run at a "
    f"time: the op is in the pool {MAINTENANCE_POOL}.",
    tags={MAINTENANCE_TAG: "lake"},
)
def lake_maintenance() -> None:
    maintain_lake_op()


def lake_maintenance_schedule(
    cron: str = NIGHTLY, *, settings: MeshSettings | None = None
) -> dg.ScheduleDefinition:
    """The schedule of `lake_maintenance`: RUNNING on the lakehouse backend, STOPPED on the DuckDB
    file (where a run says there is nothing to maintain) and wherever DAGMESH_SCHEDULES=stopped."""
    settings = settings or MeshSettings.from_env()
    return dg.ScheduleDefinition(
        name=f"{JOB_NAME}_schedule",
        job=lake_maintenance,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=(
            dg.DefaultScheduleStatus.RUNNING
            if settings.lake is not None and settings.schedules_running
            else dg.DefaultScheduleStatus.STOPPED
        ),
        description="Lake maintenance, nightly.",
    )
