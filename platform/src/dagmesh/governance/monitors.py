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
from dagster._time import get_current_datetime

from dagmesh.asset import CONTRACT_CHECK
from dagmesh.sql import qualified_name
from dagmesh.warehouse import PUBLICATIONS_TABLE, MeshWarehouse, table_exists_in


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


def last_update(instance: dg.DagsterInstance, publication: Publication) -> dt.datetime:
    """When the product last materialized according to the instance (else its last publication)."""
    event = instance.get_latest_materialization_event(publication.key)
    if event is None:
        return publication.published_at
    return dt.datetime.fromtimestamp(event.timestamp, dt.UTC).replace(tzinfo=None)


def stale_products(
    instance: dg.DagsterInstance, publications: list[Publication], now: dt.datetime | None = None
) -> list[Finding]:
    now = now or utc_now()
    findings = []
    for publication in publications:
        if publication.max_lag_seconds is None:
            continue
        age = (now - last_update(instance, publication)).total_seconds()
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


def drifted_tables(warehouse: MeshWarehouse, publications: list[Publication]) -> list[Finding]:
    """Tables whose actual columns differ from the columns their contract version was published with."""
    findings = []
    with warehouse.get_connection() as con:
        for publication in publications:
            schema, _, table = publication.table.partition(".")
            actual = [
                [str(name), str(type_)]
                for name, type_ in con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            expected = [[str(n), str(t)] for n, t in publication.columns]
            if not actual:
                findings.append(
                    Finding("drift", publication.product, f"table {publication.table} is gone")
                )
            elif actual != expected:
                missing = sorted({n for n, _ in expected} - {n for n, _ in actual})
                extra = sorted({n for n, _ in actual} - {n for n, _ in expected})
                changed = sorted(
                    n for n, t in expected if any(n == a and t != b for a, b in actual)
                )
                detail = (
                    "; ".join(
                        part
                        for part in (
                            f"missing {', '.join(missing)}" if missing else "",
                            f"unexpected {', '.join(extra)}" if extra else "",
                            f"retyped {', '.join(changed)}" if changed else "",
                        )
                        if part
                    )
                    or "column order changed"
                )
                findings.append(
                    Finding(
                        "drift",
                        publication.product,
                        f"{publication.table} no longer matches contract v{publication.version}: {detail}",
                    )
                )
    return findings
