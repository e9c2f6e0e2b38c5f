"""Materialize the whole mesh: every code location, in dependency order across domains.

Each code location runs as real Dagster runs on the given instance (so the UI shows them). Products are
grouped into waves: a product waits for a wave after every other domain's product it reads. Within a wave,
one run per location (and per partitioning, since a run has one partitions definition). A failed product
skips only what depends on it; everything else still runs. A stop (`stopping.MeshStop`, Ctrl-C) ends
it within seconds: no further run starts, and the running ones are interrupted.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from dagmesh.binding.asset import CONTRACT_CHECK
from dagmesh.core.errors import DagmeshError
from dagmesh.declare.interface import ProductInterface
from dagmesh.location.schedules import run_job_name, run_tags
from dagmesh.tools.failures import failure_line, interrupted
from dagmesh.tools.run_instance import ConcurrentRunsInstance
from dagmesh.tools.stale_runs import process_tags
from dagmesh.tools.stopping import GRACE_SECONDS, MeshStop

# The governance location observes the whole mesh (its scorecard reads every product's state), so it
# runs after everything else.
OBSERVER_LOCATIONS = frozenset({"governance"})
# Failures are reported by `dagmesh run` itself, one line per product; the full log (stack traces
# included) is in the Dagster UI, and on the console with `--verbose` (VERBOSE_LOGS).
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
VERBOSE_LOGS = {"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}
MESH_RUN_TAG = "dagmesh/mesh_run"  # one id for every Dagster run of one `dagmesh run`
INTERRUPTED_ERROR = (
    "interrupted: the run was stopped while it ran; nothing of it was published, consumers keep the "
    "last good version; `dagmesh run` again publishes it"
)
NOT_STARTED_ERROR = "not started: the run was stopped before it; `dagmesh run` again publishes it"


class MeshPlanError(DagmeshError):
    """The mesh cannot be ordered: a missing producer or a cycle across domains."""


@dataclass(frozen=True)
class RunGroup:
    """One Dagster run: some products of one location sharing a partitions definition."""

    wave: int
    location: str
    keys: tuple[dg.AssetKey, ...]
    partitions_def: dg.PartitionsDefinition | None
    parents: Mapping[dg.AssetKey, frozenset[dg.AssetKey]] = field(default_factory=dict)


class RunStatus(StrEnum):
    """What `dagmesh run` did with a product."""

    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"  # running when the run was stopped
    NOT_STARTED = "not started"  # the run was stopped before it


@dataclass
class ProductOutcome:
    key: dg.AssetKey
    location: str
    status: RunStatus = RunStatus.PENDING
    rows: int | None = None
    contract: str = "-"  # passed | failed | -
    seconds: float | None = None
    error: str | None = None
    run_id: str | None = None
    owners: tuple[str, ...] = ()


@dataclass
class MeshRunResult:
    outcomes: dict[dg.AssetKey, ProductOutcome] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: bool = False  # a stop was requested (Ctrl-C, SIGTERM)
    # Runs still executing when the stop's grace period ended: the process must end without them.
    abandoned: bool = False

    @property
    def success(self) -> bool:
        return all(o.status is RunStatus.PUBLISHED for o in self.outcomes.values())

    @property
    def failed(self) -> list[ProductOutcome]:
        return [o for o in self.outcomes.values() if o.status is not RunStatus.PUBLISHED]


def producers(locations: Mapping[str, dg.Definitions]) -> dict[dg.AssetKey, str]:
    """Which location materializes each asset; two producers of one key is a workspace error."""
    owner: dict[dg.AssetKey, str] = {}
    for name, defs in locations.items():
        for key in defs.resolve_asset_graph().materializable_asset_keys:
            if key in owner:
                raise MeshPlanError(
                    f"{key.to_user_string()} is materialized by both {owner[key]!r} and {name!r}; "
                    "a product has exactly one owning domain"
                )
            owner[key] = name
    return owner


def plan(locations: Mapping[str, dg.Definitions]) -> list[RunGroup]:
    """Runs in an order that respects every dependency, within and across code locations."""
    owner = producers(locations)
    parents: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    partitions: dict[dg.AssetKey, dg.PartitionsDefinition | None] = {}
    for name, defs in locations.items():
        graph = defs.resolve_asset_graph()
        for key in graph.materializable_asset_keys:
            if owner[key] != name:
                continue
            node = graph.get(key)
            parents[key] = set(node.parent_keys)
            partitions[key] = node.partitions_def
            for parent in node.parent_keys:
                if parent not in owner:
                    raise MeshPlanError(
                        f"{key.to_user_string()} reads {parent.to_user_string()}, which no code location "
                        "in workspace.yaml materializes; add the producing domain to the workspace"
                    )

    waves: dict[dg.AssetKey, int] = {}
    visiting: set[dg.AssetKey] = set()

    def _pid(key: dg.AssetKey) -> str:
        return "" if partitions[key] is None else repr(partitions[key])

    def wave_of(key: dg.AssetKey) -> int:
        if key in waves:
            return waves[key]
        if key in visiting:
            raise MeshPlanError(f"dependency cycle through {key.to_user_string()}")
        visiting.add(key)
        wave = 0
        for parent in parents[key]:
            # A parent in another run (another location, or another partitioning of this one, which
            # Dagster runs separately) must be published before this product's run starts.
            crossing = 1 if owner[parent] != owner[key] or _pid(parent) != _pid(key) else 0
            wave = max(wave, wave_of(parent) + crossing)
        visiting.discard(key)
        waves[key] = wave
        return wave

    grouped: dict[tuple[int, str, str], list[dg.AssetKey]] = defaultdict(list)
    partitions_by_id: dict[str, dg.PartitionsDefinition | None] = {}
    location_order = {name: i for i, name in enumerate(locations)}
    last_wave = max((wave_of(key) for key in parents), default=0) + 1
    for key in parents:
        pdef = partitions[key]
        pid = _pid(key)
        partitions_by_id[pid] = pdef
        wave = last_wave if owner[key] in OBSERVER_LOCATIONS else wave_of(key)
        grouped[(wave, owner[key], pid)].append(key)
    ordered = sorted(
        grouped.items(), key=lambda item: (item[0][0], location_order[item[0][1]], item[0][2])
    )
    return [
        RunGroup(
            wave=wave,
            location=location,
            keys=tuple(sorted(keys, key=lambda k: k.to_user_string())),
            partitions_def=partitions_by_id[pid],
            parents={key: frozenset(parents[key]) for key in keys},
        )
        for (wave, location, pid), keys in ordered
    ]


def partition_range_tags(partitions_def: dg.PartitionsDefinition | None) -> dict[str, str]:
    """A partitioned group runs every partition in one run (single-run backfill)."""
    if partitions_def is None:
        return {}
    keys = partitions_def.get_partition_keys()
    if not keys:
        return {}
    return {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]}


def _record(
    result: dg.ExecuteInProcessResult,
    group: RunGroup,
    outcomes: dict,
    instance,
    stopped: bool = False,
) -> None:
    run_id = result.run_id
    stats = {s.step_key: s for s in instance.get_run_step_stats(run_id)}
    for event in result.get_asset_materialization_events():
        key = event.asset_key
        if key in outcomes:
            rows = event.materialization.metadata.get("dagster/row_count")
            outcome = outcomes[key]
            outcome.rows = int(rows.value) if rows is not None else None
            outcome.status = RunStatus.PUBLISHED
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == CONTRACT_CHECK and evaluation.asset_key in outcomes:
            outcomes[evaluation.asset_key].contract = "passed" if evaluation.passed else "failed"
    failures = {event.step_key: event for event in result.get_step_failure_events()}
    for key in group.keys:
        outcome = outcomes[key]
        outcome.run_id = run_id
        step_key = "__".join(key.path)
        stat = stats.get(step_key)
        if stat and stat.start_time and stat.end_time:
            outcome.seconds = stat.end_time - stat.start_time
        if step_key in failures:
            error = failures[step_key].step_failure_data.error
            if interrupted(error):
                outcome.status, outcome.error = RunStatus.INTERRUPTED, INTERRUPTED_ERROR
            else:
                outcome.status = RunStatus.FAILED
                outcome.error = failure_line(error, key, outcome.owners)
        elif outcome.status is not RunStatus.PUBLISHED:
            if stopped:
                outcome.status, outcome.error = RunStatus.NOT_STARTED, NOT_STARTED_ERROR
            else:
                outcome.status = RunStatus.SKIPPED
                outcome.error = "not executed (an upstream failed in the same run)"


def materialize_in(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: Iterable[dg.AssetKey],
    tags: Mapping[str, str],
    run_config: Mapping[str, object] | None = None,
) -> dg.ExecuteInProcessResult:
    """One in-process Dagster run of `keys` of a location (with their checks), failures reported in
    the result rather than raised. The run is of a job named and tagged by domain and product
    (`location.schedules`), so the UI's runs list shows them rather than `__ephemeral_asset_job__`."""
    keys = list(keys)
    name = run_job_name(keys)
    job = dg.define_asset_job(name, selection=dg.AssetSelection.assets(*keys), tags=run_tags(keys))
    return (
        dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        .resolve_job_def(name)
        .execute_in_process(
            instance=instance,
            run_config=dict(run_config or {}),
            # the process running it: a run it leaves unfinished (killed) is found by `stale_runs`
            tags={**process_tags(), **tags},
            raise_on_error=False,
        )
    )


def owners_of(locations: Mapping[str, dg.Definitions]) -> dict[dg.AssetKey, tuple[str, ...]]:
    """Each product's declared owners, from its interface record."""
    owners: dict[dg.AssetKey, tuple[str, ...]] = {}
    for defs in locations.values():
        graph = defs.resolve_asset_graph()
        for key in graph.materializable_asset_keys:
            interface = ProductInterface.from_metadata(key, graph.get(key).metadata)
            if interface is not None:
                owners[key] = tuple(interface.owners)
    return owners


def _cancel_unfinished(instance: dg.DagsterInstance, mesh_run: str) -> None:
    """The Dagster runs of this mesh run that a stop left in progress end as canceled."""
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            tags={MESH_RUN_TAG: mesh_run},
            statuses=[
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.CANCELING,
            ],
        )
    )
    for run in unfinished:
        instance.report_run_canceled(run, "dagmesh run was stopped (Ctrl-C or SIGTERM)")


def run_mesh(
    locations: Mapping[str, dg.Definitions],
    instance: dg.DagsterInstance,
    *,
    parallel: int = 1,
    on_group_start: Callable[[RunGroup], None] | None = None,
    on_group_done: Callable[[RunGroup, list[ProductOutcome]], None] | None = None,
    stop: MeshStop | None = None,
    verbose: bool = False,
) -> MeshRunResult:
    """Materialize every product of every location; returns per-product outcomes.

    The Dagster runs execute in worker threads (one at a time, or with `parallel` > 1 the independent
    runs of a wave at once, sharing this process's DuckDB database: Dagster's compute-log capture
    swaps the process's stdout and stderr, so then `instance` must not capture them,
    `run_instance.for_concurrent_runs`). The calling thread waits, so `stop` can be requested from
    its signal handlers: no further run starts, running ones are interrupted and given
    `GRACE_SECONDS` to end, and runs left in progress are marked canceled."""
    started = time.monotonic()
    stop = stop or MeshStop()
    groups = plan(locations)
    owners = owners_of(locations)
    result = MeshRunResult()
    for group in groups:
        for key in group.keys:
            result.outcomes[key] = ProductOutcome(
                key=key, location=group.location, owners=owners.get(key, ())
            )
    all_parents = {key: parent for group in groups for key, parent in group.parents.items()}
    if parallel > 1 and not isinstance(instance, ConcurrentRunsInstance):
        raise MeshPlanError("concurrent runs need run_instance.for_concurrent_runs(instance)")
    callbacks = threading.Lock()
    mesh_run = uuid.uuid4().hex

    def runnable_part(group: RunGroup) -> RunGroup | None:
        blocked = [
            key
            for key in group.keys
            if any(
                result.outcomes.get(p)
                and result.outcomes[p].status in (RunStatus.FAILED, RunStatus.SKIPPED)
                for p in all_parents.get(key, ())
            )
        ]
        for key in blocked:
            result.outcomes[key].status = RunStatus.SKIPPED
            result.outcomes[key].error = "skipped: an input failed"
        runnable = tuple(key for key in group.keys if key not in blocked)
        if not runnable:
            return None
        return RunGroup(group.wave, group.location, runnable, group.partitions_def, group.parents)

    def execute(group: RunGroup, runnable: RunGroup) -> None:
        try:
            run_group(group, runnable)
        except BaseException:
            if not stop.requested:
                raise

    started_keys: set[dg.AssetKey] = set()  # of runs that began

    def run_group(group: RunGroup, runnable: RunGroup) -> None:
        if stop.requested:
            return
        with callbacks:
            started_keys.update(runnable.keys)
        if on_group_start:
            with callbacks:
                on_group_start(group)
        try:
            run = materialize_in(
                locations[group.location],
                instance,
                runnable.keys,
                tags={
                    "dagmesh/run": "mesh",
                    MESH_RUN_TAG: mesh_run,
                    "dagmesh/wave": str(group.wave),
                    **partition_range_tags(group.partitions_def),
                },
                run_config=VERBOSE_LOGS if verbose else QUIET_LOGS,
            )
        except BaseException:
            if not stop.requested:
                raise
            # A stop that reached Dagster's own code, not a step: this run's products are reported
            # as interrupted, and its Dagster run is ended below.
            with callbacks:
                for key in runnable.keys:
                    outcome = result.outcomes[key]
                    outcome.status, outcome.error = RunStatus.INTERRUPTED, INTERRUPTED_ERROR
                if on_group_done:
                    on_group_done(group, [result.outcomes[k] for k in runnable.keys])
            return
        with callbacks:
            _record(run, runnable, result.outcomes, instance, stopped=stop.requested)
            if on_group_done:
                on_group_done(group, [result.outcomes[k] for k in runnable.keys])

    waves: dict[int, list[RunGroup]] = defaultdict(list)
    for group in groups:
        waves[group.wave].append(group)
    pool = ThreadPoolExecutor(max_workers=max(parallel, 1), thread_name_prefix="dagmesh-run")
    try:
        for wave in sorted(waves):
            if stop.requested:
                break
            work = [(g, r) for g in waves[wave] if (r := runnable_part(g)) is not None]
            futures = [pool.submit(execute, group, runnable) for group, runnable in work]
            if not _wait_for(futures, stop):
                result.abandoned = True
                break
    finally:
        pool.shutdown(wait=not result.abandoned, cancel_futures=True)
    result.stopped = stop.requested
    if result.stopped:
        with callbacks:
            if result.abandoned:
                _record_abandoned(instance, mesh_run, result.outcomes, started_keys)
            for outcome in result.outcomes.values():
                if outcome.status is RunStatus.PENDING:
                    outcome.status, outcome.error = RunStatus.NOT_STARTED, NOT_STARTED_ERROR
        _cancel_unfinished(instance, mesh_run)
    result.seconds = time.monotonic() - started
    return result


def _record_abandoned(
    instance: dg.DagsterInstance,
    mesh_run: str,
    outcomes: dict[dg.AssetKey, ProductOutcome],
    started: set[dg.AssetKey],
) -> None:
    """The products of runs that would not stop in time, from what their Dagster runs recorded: a
    materialization was published (its transaction committed), the rest was interrupted."""
    unfinished = [key for key in started if outcomes[key].status is RunStatus.PENDING]
    if not unfinished:
        return
    for run in instance.get_runs(filters=dg.RunsFilter(tags={MESH_RUN_TAG: mesh_run})):
        for entry in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ):
            materialization = entry.asset_materialization
            if materialization is None or materialization.asset_key not in outcomes:
                continue
            outcome = outcomes[materialization.asset_key]
            if outcome.status is RunStatus.PENDING:
                rows = materialization.metadata.get("dagster/row_count")
                outcome.status, outcome.run_id = RunStatus.PUBLISHED, run.run_id
                outcome.rows = int(rows.value) if rows is not None else None
    for key in unfinished:
        if outcomes[key].status is RunStatus.PENDING:
            outcomes[key].status, outcomes[key].error = RunStatus.INTERRUPTED, INTERRUPTED_ERROR


def _wait_for(futures: list[Future], stop: MeshStop) -> bool:
    """Until every future is done (their errors raised here); after a stop, at most GRACE_SECONDS
    more. False when some were still running then."""
    pending = set(futures)
    grace_ends: float | None = None
    while pending:
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        for future in done:
            future.result()
        if stop.requested and pending:
            grace_ends = grace_ends or time.monotonic() + GRACE_SECONDS
            if time.monotonic() > grace_ends:
                return False
            stop.interrupt()  # a query or product code started since the last interruption
    return True
