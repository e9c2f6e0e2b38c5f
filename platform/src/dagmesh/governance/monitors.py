"""What the governance sensors look for, computed from the Dagster instance and the warehouse only.

The warehouse's publication log says which products exist, their owners, access, version, SLO and the
columns they were published with; the instance says when they last materialized and how their contract
checks went. No domain code is imported, so governance sees every location, even one that fails to load.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import dagster as dg
import duckdb
from dagster._time import get_current_datetime

from dagmesh.binding.asset import CONTRACT_CHECK
from dagmesh.storage.sql import qualified_name
from dagmesh.storage.warehouse import PUBLICATIONS_TABLE, MeshWarehouse, table_exists_in


@dataclass(frozen=True)
class Publication:
    """The newest publication of a product, as logged in the warehouse."""

    product: str
    table: str
    version: str
    access: str
    owners: list[str]
    columns: list[list[str]]
    published_at: dt.datetime
    max_lag_seconds: float | None

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey.from_user_string(self.product)


@dataclass(frozen=True)
class Finding:
    kind: str  # slo | quality | drift
    product: str
    detail: str


def utc_now() -> dt.datetime:
    """Dagster's clock (naive UTC), so governance ages agree with the instance and tests can freeze it."""
    return get_current_datetime().astimezone(dt.UTC).replace(tzinfo=None)


def latest_publications(warehouse: MeshWarehouse) -> list[Publication]:
    with warehouse.get_connection() as con:
        if not table_exists_in(con, PUBLICATIONS_TABLE):
            return []
        rows = con.execute(
            f"SELECT product, table_name, version, access, owners, columns, published_at, max_lag_seconds "
            f"FROM {qualified_name(PUBLICATIONS_TABLE)} "
            "QUALIFY row_number() OVER (PARTITION BY product ORDER BY published_at DESC) = 1 "
            "ORDER BY product"
        ).fetchall()
    return [
        Publication(
            product=r[0],
            table=r[1],
            version=r[2] or "",
            access=r[3] or "public",
            owners=json.loads(r[4] or "[]"),
            columns=json.loads(r[5] or "[]"),
            published_at=r[6],
            max_lag_seconds=r[7],
        )
        for r in rows
    ]


def last_updates(
    instance: dg.DagsterInstance, publications: list[Publication]
) -> dict[str, dt.datetime]:
    """When each product last materialized according to the instance (else its last publication).

    One batched instance query for every product: a tick over a thousand products stays well under a
    second, where one query per product took seconds.
    """
    events = instance.get_latest_materialization_events([p.key for p in publications])
    updated = {}
    for publication in publications:
        event = events.get(publication.key)
        updated[publication.product] = (
            publication.published_at
            if event is None
            else dt.datetime.fromtimestamp(event.timestamp, dt.UTC).replace(tzinfo=None)
        )
    return updated


def stale_products(
    instance: dg.DagsterInstance, publications: list[Publication], now: dt.datetime | None = None
) -> list[Finding]:
    now = now or utc_now()
    watched = [p for p in publications if p.max_lag_seconds is not None]
    updated = last_updates(instance, watched)
    findings = []
    for publication in watched:
        age = (now - updated[publication.product]).total_seconds()
        if age > publication.max_lag_seconds:
            findings.append(
                Finding(
                    "slo",
                    publication.product,
                    f"last updated {age / 3600:.1f}h ago; its SLO allows "
                    f"{publication.max_lag_seconds / 3600:.1f}h",
                )
            )
    return findings


def contract_status(
    instance: dg.DagsterInstance, keys: list[dg.AssetKey]
) -> dict[dg.AssetKey, str | None]:
    """The latest contract check status per product (SUCCEEDED, FAILED, ... or None)."""
    check_keys = [dg.AssetCheckKey(key, CONTRACT_CHECK) for key in keys]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    return {
        key: (latest[check].status.value if latest.get(check) else None)
        for key, check in zip(keys, check_keys, strict=True)
    }


def contract_pass_rate(
    instance: dg.DagsterInstance, key: dg.AssetKey, window: int = 20
) -> float | None:
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(key, CONTRACT_CHECK), limit=window
    )
    finished = [r for r in history if r.status.value in ("SUCCEEDED", "FAILED")]
    if not finished:
        return None
    return sum(r.status.value == "SUCCEEDED" for r in finished) / len(finished)


def failed_contracts(
    instance: dg.DagsterInstance, publications: list[Publication]
) -> list[Finding]:
    status = contract_status(instance, [p.key for p in publications])
    return [
        Finding(
            "quality",
            p.product,
            "latest contract check failed: the published table is the last good version",
        )
        for p in publications
        if status.get(p.key) == "FAILED"
    ]


def _published_columns(
    con: duckdb.DuckDBPyConnection, tables: list[str]
) -> dict[str, list[list[str]]]:
    """Actual columns of every table, in order, in one catalog query (not one per product)."""
    wanted = {tuple(table.partition(".")[::2]) for table in tables}
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE list_contains(?, table_schema) ORDER BY table_schema, table_name, ordinal_position",
        [sorted({schema for schema, _ in wanted})],
    ).fetchall()
    columns: dict[str, list[list[str]]] = {}
    for schema, table, name, type_ in rows:
        if (schema, table) in wanted:
            columns.setdefault(f"{schema}.{table}", []).append([str(name), str(type_)])
    return columns


def _drift_detail(expected: list[list[str]], actual: list[list[str]]) -> str:
    missing = sorted({n for n, _ in expected} - {n for n, _ in actual})
    extra = sorted({n for n, _ in actual} - {n for n, _ in expected})
    changed = sorted(n for n, t in expected if any(n == a and t != b for a, b in actual))
    parts = [
        f"missing {', '.join(missing)}" if missing else "",
        f"unexpected {', '.join(extra)}" if extra else "",
        f"retyped {', '.join(changed)}" if changed else "",
    ]
    return "; ".join(part for part in parts if part) or "column order changed"


def drifted_tables(warehouse: MeshWarehouse, publications: list[Publication]) -> list[Finding]:
    """Tables whose actual columns differ from the columns their contract version was published with."""
    with warehouse.get_connection() as con:
        actual_columns = _published_columns(con, [p.table for p in publications])
    findings = []
    for publication in publications:
        actual = actual_columns.get(publication.table, [])
        expected = [[str(n), str(t)] for n, t in publication.columns]
        if not actual:
            findings.append(
                Finding("drift", publication.product, f"table {publication.table} is gone")
            )
        elif actual != expected:
            findings.append(
                Finding(
                    "drift",
                    publication.product,
                    f"{publication.table} no longer matches contract v{publication.version}: "
                    f"{_drift_detail(expected, actual)}",
                )
            )
    return findings
