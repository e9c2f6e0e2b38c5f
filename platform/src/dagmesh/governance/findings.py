"""Open governance findings, kept in the warehouse so the scorecard (and any SQL user) can read them."""

from __future__ import annotations

import datetime as dt

from dagmesh.governance.monitors import Finding
from dagmesh.storage.sql import qualified_name, quote_identifier
from dagmesh.storage.warehouse import MeshWarehouse, in_transaction, table_exists_in

FINDINGS_TABLE = ("_dagmesh", "findings")


def replace_findings(warehouse: MeshWarehouse, kind: str, findings: list[Finding]) -> None:
    """The current findings of one kind replace the previous ones: fixed problems close themselves."""
    table = qualified_name(FINDINGS_TABLE)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with warehouse.get_connection() as con, in_transaction(con):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(FINDINGS_TABLE[0])}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {table} "
            "(kind VARCHAR, product VARCHAR, detail VARCHAR, observed_at TIMESTAMP)"
        )
        con.execute(f"DELETE FROM {table} WHERE kind = ?", [kind])
        for finding in findings:
            con.execute(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                [finding.kind, finding.product, finding.detail, now],
            )


def open_findings(warehouse: MeshWarehouse) -> list[Finding]:
    with warehouse.get_connection() as con:
        if not table_exists_in(con, FINDINGS_TABLE):
            return []
        rows = con.execute(
            f"SELECT kind, product, detail FROM {qualified_name(FINDINGS_TABLE)} ORDER BY kind, product"
        ).fetchall()
    return [Finding(*row) for row in rows]
