"""The live part of the static catalog: each product's state when the catalog was written.

From the warehouse's publication log: the last publish (time, contract version, rows). From Dagster's
instance: the latest contract check, the last run that set out to materialize the product and its
status, and the last update against the SLO's maximum lag (the governance sensors' own rule, so the
catalog and the scorecard agree). A constant number of queries whatever the mesh's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from dagmesh.governance.monitors import contract_status, utc_now
from dagmesh.storage.sql import qualified_name
from dagmesh.storage.warehouse import PUBLICATIONS_TABLE, MeshWarehouse, table_exists_in

_CHECK_WORDS = {"SUCCEEDED": "passed", "FAILED": "failed"}


@dataclass(frozen=True)
class LastPublish:
    at: dt.datetime
    version: str
    rows: int | None
    max_lag_seconds: float | None


@dataclass(frozen=True)
class ProductStatus:
    """What the catalog says about a product's state (None: not known from this warehouse/instance)."""

    published_at: dt.datetime | None = None
    version: str | None = None
    rows: int | None = None
    contract: str = "not run"  # passed | failed | not run | in progress ...
    last_run_status: str | None = None  # Dagster's run status: SUCCESS, FAILURE, ...
    last_run_id: str | None = None
    freshness: str = "never published"  # fresh | stale | no SLO | never published
    age_hours: float | None = None
    max_lag_hours: float | None = None

    @property
    def health(self) -> str:
        """ok, warn or bad: the colour of the product's status badge."""
        if self.contract == "failed" or self.last_run_status == "FAILURE":
            return "bad"
        if self.freshness in ("stale", "never published"):
            return "warn"
        return "ok"

    @property
    def summary(self) -> str:
        """One line for the product's badge and the search index."""
        if self.published_at is None:
            return "never published"
        parts = [self.freshness, f"contract {self.contract}"]
        if self.last_run_status:
            parts.append(f"last run {self.last_run_status.lower()}")
        return ", ".join(parts)


def last_publishes(warehouse: MeshWarehouse) -> dict[str, LastPublish]:
    """The newest publication of every product in the warehouse's log, by product key."""
    with warehouse.get_connection() as con:
        if not table_exists_in(con, PUBLICATIONS_TABLE):
            return {}
        rows = con.execute(
            "SELECT product, published_at, version, row_count, max_lag_seconds "
            f"FROM {qualified_name(PUBLICATIONS_TABLE)} "
            "QUALIFY row_number() OVER (PARTITION BY product ORDER BY published_at DESC) = 1"
        ).fetchall()
    return {
        product: LastPublish(at, version or "", rows_, lag)
        for product, at, version, rows_, lag in rows
    }


def _last_runs(instance: dg.DagsterInstance, keys: list[dg.AssetKey]) -> dict[dg.AssetKey, tuple]:
    """The last run that planned to materialize each key, with its status: two instance queries."""
    wanted = {}
    for record in instance.get_asset_records(keys):
        entry = record.asset_entry
        run_id = entry.last_planned_materialization_run_id or entry.last_run_id
        if run_id:
            wanted[entry.asset_key] = run_id
    if not wanted:
        return {}
    runs = instance.get_runs(filters=dg.RunsFilter(run_ids=sorted(set(wanted.values()))))
    status = {run.run_id: run.status.value for run in runs}
    return {key: (run_id, status.get(run_id)) for key, run_id in wanted.items()}


def _last_materializations(
    instance: dg.DagsterInstance, keys: list[dg.AssetKey]
) -> dict[dg.AssetKey, dt.datetime]:
    events = instance.get_latest_materialization_events(keys)
    return {
        key: dt.datetime.fromtimestamp(event.timestamp, dt.UTC).replace(tzinfo=None)
        for key, event in events.items()
        if event is not None
    }


def product_statuses(
    keys: Iterable[dg.AssetKey],
    warehouse: MeshWarehouse | None,
    instance: dg.DagsterInstance | None,
    now: dt.datetime | None = None,
) -> dict[str, ProductStatus]:
    """The status of every product in `keys`, by product key (`sales/orders`)."""
    keys = list(keys)
    now = now or utc_now()
    published = last_publishes(warehouse) if warehouse is not None else {}
    checks = contract_status(instance, keys) if instance is not None and keys else {}
    runs = _last_runs(instance, keys) if instance is not None and keys else {}
    updated = _last_materializations(instance, keys) if instance is not None and keys else {}
    statuses = {}
    for key in keys:
        name = key.to_user_string()
        last = published.get(name)
        run_id, run_status = runs.get(key, (None, None))
        check = checks.get(key)
        contract = _CHECK_WORDS.get(check, check.lower().replace("_", " ")) if check else "not run"
        if last is None:
            statuses[name] = ProductStatus(
                contract=contract, last_run_status=run_status, last_run_id=run_id
            )
            continue
        # The instance knows the newest materialization; the log stands in for an instance elsewhere.
        age = (now - max(updated.get(key, last.at), last.at)).total_seconds() / 3600
        lag = last.max_lag_seconds / 3600 if last.max_lag_seconds is not None else None
        freshness = "no SLO" if lag is None else ("stale" if age > lag else "fresh")
        statuses[name] = ProductStatus(
            published_at=last.at,
            version=last.version,
            rows=last.rows,
            contract=contract,
            last_run_status=run_status,
            last_run_id=run_id,
            freshness=freshness,
            age_hours=age,
            max_lag_hours=lag,
        )
    return statuses
