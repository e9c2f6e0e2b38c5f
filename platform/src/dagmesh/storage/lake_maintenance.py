"""Lake maintenance: DuckLake's housekeeping, with the publication log deciding what history stays.

Every publish is a DuckLake snapshot, and every snapshot keeps the files it read: a lake that publishes
often collects small Parquet files and snapshots without end. `maintain_lake` runs the maintenance
functions DuckLake's CHECKPOINT bundles, one transaction each, with the snapshots to expire chosen
here rather than by age alone:

1. `ducklake_flush_inlined_data`: rows DuckLake inlined into the catalog (small inserts, the publication
   log's rows) are written to Parquet files, so the catalog database stays small.
2. `ducklake_expire_snapshots(versions => [...])`: the snapshots older than the retention
   (`DAGMESH_LAKE_RETENTION`, default 30 days), except the snapshot of the latest publication of every
   published table (the log's `publication_id`, matched to the snapshot that names it in its commit:
   `lakehouse.publication_snapshots`), and never the lake's latest snapshot. So every product's served
   version stays readable by time travel (`read(as_of=snapshot)`, `AT (VERSION => n)`) however long ago
   it was published, and every publication of the retention window stays for `dagmesh rollback`: the
   retention is the rollback window. A previous major still served after a major bump is a table of
   its own in the current snapshot (`<table>__v<major>`), which expiry never touches. If a latest
   publication names no snapshot (a log row without an id), which snapshots it needs is unknown: no
   snapshot is expired, and the report names the publication (its product's next publish ends it).
3. `ducklake_rewrite_data_files`: files mostly deleted (re-published partitions) are rewritten without
   the deleted rows (DuckLake's threshold, or the catalog's `rewrite_delete_threshold`).
4. `ducklake_merge_adjacent_files`: small files of a table are merged into larger ones. Snapshots refer
   to parts of a merged file, so time travel to every remaining snapshot is unchanged.
5. `ducklake_cleanup_old_files(older_than => ...)`: the files no remaining snapshot needs (expired,
   merged, rewritten) are deleted once they have waited `DAGMESH_LAKE_CLEANUP_DELAY` (default 1 day):
   a query that began before the merge may still be scanning them. With a delay of 0 everything
   scheduled is deleted at once (`cleanup_all`).

Orphaned files (`ducklake_delete_orphaned_files`) are left alone: a publish in flight has written files
the catalog does not list yet, and would lose them.

Each step is its own lake transaction. DuckLake keeps concurrent writers apart; a step that loses a
write conflict to a concurrent publish is retried (the publish retries its own). Upstream's advice is to
run maintenance itself one at a time: the Dagster job (`dagmesh.governance.maintenance`) serializes it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb

from dagmesh.core.errors import DagmeshError
from dagmesh.storage import lakehouse
from dagmesh.storage.sql import qualified_name, quote_identifier
from dagmesh.storage.warehouse import PUBLICATIONS_TABLE, table_exists_in

RETENTION_ENV = "DAGMESH_LAKE_RETENTION"
CLEANUP_DELAY_ENV = "DAGMESH_LAKE_CLEANUP_DELAY"
DEFAULT_RETENTION = "30 days"
DEFAULT_CLEANUP_DELAY = "1 day"
_CONFLICT_RETRIES = 3
_UNITS = {
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "s": "seconds",
    "second": "seconds",
    "seconds": "seconds",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


class LakeMaintenanceError(DagmeshError):
    """The maintenance settings are wrong, or the connection is not on a lake."""


def parse_duration(text: str, setting: str) -> dt.timedelta:
    """'30 days', '12 hours', '90 minutes', '1 week', '0 s' (also 30d, 12h, 90m): a timedelta."""
    found = _DURATION.match(text.lower())
    unit = _UNITS.get(found.group(2)) if found else None
    if found is None or unit is None:
        raise LakeMaintenanceError(
            f"{setting}={text!r} is not a duration; use a number and a unit, e.g. '30 days', "
            "'12 hours', '90 minutes' or '1 week'"
        )
    return dt.timedelta(**{unit: float(found.group(1))})


def describe_duration(duration: dt.timedelta) -> str:
    """A duration as the settings write it: '30 days', '12 hours', '90 minutes', '0 seconds'."""
    seconds = duration.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


@dataclass(frozen=True)
class MaintenancePolicy:
    """How much history maintenance keeps, and how long unneeded files wait before they are deleted."""

    retention: dt.timedelta = dt.timedelta(days=30)
    cleanup_delay: dt.timedelta = dt.timedelta(days=1)

    @classmethod
    def from_env(cls) -> MaintenancePolicy:
        return cls(
            retention=parse_duration(
                os.environ.get(RETENTION_ENV) or DEFAULT_RETENTION, RETENTION_ENV
            ),
            cleanup_delay=parse_duration(
                os.environ.get(CLEANUP_DELAY_ENV) or DEFAULT_CLEANUP_DELAY, CLEANUP_DELAY_ENV
            ),
        )


@dataclass(frozen=True)
class Protection:
    """The snapshots the publication log needs, whatever their age, and why."""

    snapshots: dict[int, str] = field(default_factory=dict)  # snapshot -> why it is kept
    # latest publications no snapshot names: (table, published_at in UTC)
    unmatched: tuple[tuple[str, dt.datetime], ...] = ()


@dataclass(frozen=True)
class MaintenanceReport:
    """What one maintenance run did to the lake."""

    started_at: dt.datetime
    retention: dt.timedelta
    cutoff: dt.datetime  # snapshots older than this expire, unless kept
    rows_flushed: int
    snapshots_before: int
    snapshots_after: int
    expired: tuple[int, ...]
    kept: dict[int, str]  # snapshots older than the cutoff kept for the publication log, and why
    unmatched: tuple[str, ...]  # latest publications naming no snapshot: nothing was expired
    files_rewritten: int
    files_merged: int  # files merged into `files_merged_into`
    files_merged_into: int
    files_deleted: tuple[str, ...]
    files_pending_deletion: int  # no longer needed, deleted by a later run after the delay
    live_files_before: int  # data and delete files of the tables as they are now
    live_files_after: int

    @property
    def summary(self) -> str:
        held = (
            f"nothing expired: {', '.join(self.unmatched)} names no snapshot, so what it needs is "
            "unknown (its next publish names one); "
            if self.unmatched
            else ""
        )
        return held + (
            f"expired {len(self.expired)} of {self.snapshots_before} snapshot(s) older than "
            f"{describe_duration(self.retention)} ({self.cutoff:%Y-%m-%d %H:%M} UTC; kept "
            f"{len(self.kept)} the publication log needs); "
            f"merged {self.files_merged} file(s) into {self.files_merged_into}, rewrote "
            f"{self.files_rewritten}; deleted {len(self.files_deleted)} file(s), "
            f"{self.files_pending_deletion} waiting for the cleanup delay; live files "
            f"{self.live_files_before} -> {self.live_files_after}"
        )


T = TypeVar("T")


def _retrying(step: str, call: Callable[[], T]) -> T:
    """One maintenance step (its own lake transaction), again when it lost a write conflict."""
    for attempt in range(_CONFLICT_RETRIES + 1):
        try:
            return call()
        except duckdb.TransactionException as error:
            if "conflict" not in str(error).lower() or attempt == _CONFLICT_RETRIES:
                raise LakeMaintenanceError(
                    f"lake maintenance: {step} failed ({error}); nothing of this step was "
                    "committed, the lake is as it was. The next run tries again."
                ) from error
            time.sleep(0.1 * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")


def _call(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    return _retrying(sql.split("(", 1)[0].removeprefix("CALL "), lambda: _rows(con, sql, params))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def _as_utc(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise LakeMaintenanceError(f"lake maintenance: {value!r} is not a time")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the lake is attached to `con`."""
    found = con.execute(
        "SELECT 1 FROM duckdb_databases() WHERE database_name = ?", [lakehouse.LAKE]
    ).fetchone()
    return found is not None


def protected_snapshots(con: duckdb.DuckDBPyConnection) -> Protection:
    """The snapshot of the latest publication of every published table: the version it serves."""
    if not table_exists_in(con, PUBLICATIONS_TABLE):
        return Protection()
    rows = con.execute(
        "SELECT table_name, version, publication_id, published_at "
        f"FROM {qualified_name(PUBLICATIONS_TABLE)}"
    ).fetchall()
    latest: dict[str, tuple[dt.datetime, str | None, str]] = {}
    for table, version, publication, published_at in rows:
        when = _as_utc(published_at)
        if str(table) not in latest or when >= latest[str(table)][0]:
            latest[str(table)] = (when, publication, str(version or ""))
    made = lakehouse.publication_snapshots(con)
    snapshots: dict[int, str] = {}
    unmatched: list[tuple[str, dt.datetime]] = []
    for table, (when, publication, version) in sorted(latest.items()):
        snapshot = made.get(publication) if publication else None
        if snapshot is None:
            unmatched.append((table, when))
            continue
        reason = f"latest publication of {table} ({version or 'no version'}, {when:%Y-%m-%d %H:%M})"
        snapshots[snapshot[0]] = (
            f"{snapshots[snapshot[0]]}; {reason}" if snapshot[0] in snapshots else reason
        )
    return Protection(snapshots=snapshots, unmatched=tuple(unmatched))


def _snapshots(con: duckdb.DuckDBPyConnection) -> list[tuple[int, dt.datetime]]:
    rows = con.execute(
        f"SELECT snapshot_id, snapshot_time FROM {quote_identifier(lakehouse.LAKE)}.snapshots() "
        "ORDER BY snapshot_id"
    ).fetchall()
    return [(int(snapshot), _as_utc(time_)) for snapshot, time_ in rows]


def _live_files(con: duckdb.DuckDBPyConnection) -> int:
    found = con.execute(
        "SELECT COALESCE(SUM(file_count + delete_file_count), 0) FROM ducklake_table_info(?)",
        [lakehouse.LAKE],
    ).fetchone()
    return int(found[0]) if found else 0


def _pending_deletion(con: duckdb.DuckDBPyConnection) -> int:
    return len(
        con.execute(
            "CALL ducklake_cleanup_old_files(?, dry_run => true, cleanup_all => true)",
            [lakehouse.LAKE],
        ).fetchall()
    )


def snapshots_to_expire(
    snapshots: Sequence[tuple[int, dt.datetime]], protection: Protection, cutoff: dt.datetime
) -> tuple[list[int], dict[int, str]]:
    """The snapshots older than `cutoff` that nothing keeps, and those the publication log keeps. The
    latest snapshot is never expired (DuckLake never expires it either)."""
    latest = max((s for s, _ in snapshots), default=None)
    expire: list[int] = []
    kept: dict[int, str] = {}
    for snapshot, time_ in snapshots:
        if time_ >= cutoff:
            continue
        if snapshot in protection.snapshots:
            kept[snapshot] = protection.snapshots[snapshot]
        elif snapshot == latest:
            kept[snapshot] = "the lake's latest snapshot"
        else:
            expire.append(snapshot)
    return expire, kept


def maintain_lake(
    con: duckdb.DuckDBPyConnection,
    policy: MaintenancePolicy | None = None,
    *,
    now: dt.datetime | None = None,
) -> MaintenanceReport:
    """Run the lake's maintenance on `con` (a warehouse connection on the lakehouse backend, outside a
    transaction): see the module docstring. `now` is the clock the retention counts from."""
    if not on_lake(con):
        raise LakeMaintenanceError(
            "lake maintenance needs the lakehouse backend (DAGMESH_WAREHOUSE=ducklake:...); this "
            "connection has no lake attached"
        )
    policy = policy or MaintenancePolicy.from_env()
    started = _as_utc(now or dt.datetime.now(dt.UTC))
    lake = lakehouse.LAKE
    live_before = _live_files(con)
    flushed = _call(con, "CALL ducklake_flush_inlined_data(?)", [lake])
    before = _snapshots(con)

    protection = protected_snapshots(con)
    cutoff = started - policy.retention
    expire, kept = snapshots_to_expire(before, protection, cutoff)
    if protection.unmatched:  # what such a publication needs is unknown: keep everything
        expire = []
        unknown = "kept: a latest publication names no snapshot"
        kept = {s: kept.get(s, unknown) for s, t in before if t < cutoff}
    expired: list[tuple] = []
    if expire:
        expired = _call(
            con, "CALL ducklake_expire_snapshots(?, versions => ?::UBIGINT[])", [lake, expire]
        )

    rewritten = _call(con, "CALL ducklake_rewrite_data_files(?)", [lake])
    merged = _call(con, "CALL ducklake_merge_adjacent_files(?)", [lake])
    if policy.cleanup_delay <= dt.timedelta(0):
        deleted = _call(con, "CALL ducklake_cleanup_old_files(?, cleanup_all => true)", [lake])
    else:
        deleted = _call(
            con,
            "CALL ducklake_cleanup_old_files(?, older_than => ?::TIMESTAMPTZ)",
            [lake, started - policy.cleanup_delay],
        )
    return MaintenanceReport(
        started_at=started,
        retention=policy.retention,
        cutoff=cutoff,
        rows_flushed=sum(int(row[2] or 0) for row in flushed),
        snapshots_before=len(before),
        snapshots_after=len(_snapshots(con)),
        expired=tuple(sorted(int(row[0]) for row in expired)),
        kept=kept,
        unmatched=tuple(
            f"{name} (published {when:%Y-%m-%d %H:%M} UTC)" for name, when in protection.unmatched
        ),
        files_rewritten=sum(int(row[2] or 0) for row in rewritten),
        files_merged=sum(int(row[2] or 0) for row in merged),
        files_merged_into=sum(int(row[3] or 0) for row in merged),
        files_deleted=tuple(str(row[0]) for row in deleted),
        files_pending_deletion=_pending_deletion(con),
        live_files_before=live_before,
        live_files_after=_live_files(con),
    )
