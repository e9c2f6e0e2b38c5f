"""The warehouse: a DuckDB file where each domain owns a schema and products are published atomically.

`MeshWarehouse` is a `DuckDBResource` (domains can use it for plain SQL) that owns the write path:
stage the frame, audit the contract where the data landed, publish in one transaction, log the publication.
It replaces `DuckDBResource.get_connection` because the stock one does not close its connection when the
body raises, which keeps the file locked against other processes until garbage collection.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from dagster_duckdb import DuckDBResource
from pydantic import Field

from dagmesh.audit import AuditResult, CheckOutcome, audit_staged_table
from dagmesh.contract import Contract
from dagmesh.errors import ContractShapeError, ContractViolation, DagmeshError, MissingUpstreamError
from dagmesh.frames import arrow_to_pandas
from dagmesh.reads import read_whole_table
from dagmesh.sql import qualified_name, quote_identifier

PUBLICATIONS_TABLE = ("_dagmesh", "publications")
_INCOMING = "_dagmesh_incoming"
_STAGE = "_dagmesh_stage"
_INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
)


class WarehouseLockedError(DagmeshError):
    """Another process held the DuckDB file for longer than the configured wait."""


@dataclass(frozen=True)
class PublishTarget:
    """What the warehouse needs to know about a product to publish it."""

    product: str  # "sales/orders", for messages
    table: tuple[str, str]  # (schema, table)
    contract: Contract | None
    owners: Sequence[str] = ()
    version: str = ""
    partition_column: str | None = None
    access: str = "public"
    allowed_consumers: tuple[str, ...] = ()
    max_lag_seconds: float | None = None


@dataclass(frozen=True)
class PartitionWindow:
    """Rows of a time-partitioned product that one run replaces: `start <= column < end`."""

    start: dt.datetime
    end: dt.datetime
    label: str


@dataclass(frozen=True)
class PublishResult:
    table: str
    rows: int
    audit: AuditResult
    columns: list[tuple[str, str]]  # (name, DuckDB type) of the published table


def table_for_key(path: Sequence[str]) -> tuple[str, str]:
    """Asset key `[domain, product]` -> schema `domain`, table `product`; deeper keys fold into the table."""
    if len(path) < 2:
        raise DagmeshError(
            f"asset key {'/'.join(path)!r} has no domain prefix; products are keyed [domain, product]"
        )
    return path[0], "__".join(path[1:])


def _is_lock_error(error: Exception) -> bool:
    text = str(error).lower()
    return "lock" in text or "conflicting" in text or "being used" in text


class MeshWarehouse(DuckDBResource):
    """DuckDB warehouse resource: locked-file retries, write-audit-publish and Arrow reads."""

    lock_timeout_seconds: float = Field(
        default=300.0,
        description="How long to keep retrying when another process holds the DuckDB file.",
    )

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Connect, retrying with jittered backoff while another process holds the file; always close."""
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_seconds
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(self.database, config=dict(self.connection_config))
                break
            except (duckdb.IOException, RuntimeError) as error:
                if not _is_lock_error(error) or time.monotonic() > deadline:
                    if _is_lock_error(error):
                        raise WarehouseLockedError(
                            f"the warehouse {self.database} stayed locked by another process for "
                            f"{self.lock_timeout_seconds:.0f}s; wait for the other run to finish or raise "
                            "lock_timeout_seconds. Nothing was written."
                        ) from error
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)
        try:
            yield con
        finally:
            con.close()

    def _refuse_schema_named_like_the_file(self, table: tuple[str, str], product: str) -> None:
        """DuckDB names a file's catalog after the file: a schema of the same name is ambiguous in
        every query (`sales.orders` in `sales.duckdb`). Say so before anything is written."""
        catalog = Path(self.database).stem
        if self.database != ":memory:" and table[0] == catalog:
            raise DagmeshError(
                f"{product}: the warehouse file {Path(self.database).name} has the name of the domain "
                f"schema {catalog!r}, and DuckDB cannot tell the two apart; give the warehouse file "
                "another name (DAGMESH_WAREHOUSE). Nothing was read or written."
            )

    # -- reads ---------------------------------------------------------------------------------

    def read(
        self,
        table: tuple[str, str],
        *,
        consumer: str = "a consumer",
        upstream: str | None = None,
        where: str | None = None,
        params: Sequence[object] = (),
    ) -> pd.DataFrame:
        """A published table as pandas, through Arrow (several times faster and leaner than fetchdf)."""
        name = qualified_name(table)
        self._refuse_schema_named_like_the_file(table, upstream or "/".join(table))
        with self.get_connection() as con:
            if not table_exists_in(con, table):
                raise MissingUpstreamError(
                    consumer, upstream or "/".join(table), f"{table[0]}.{table[1]}"
                )
            if where is None:
                arrow = read_whole_table(con, name, lambda: _publication_marker(con, table))
            else:
                arrow = con.execute(
                    f"SELECT * FROM {name} WHERE {where}", list(params)
                ).to_arrow_table()
        return arrow_to_pandas(arrow)

    def latest_publication(self, table: tuple[str, str]) -> dict[str, object] | None:
        """The newest publication record of `table` (its access level, owners, version), if any."""
        with self.get_connection() as con:
            if not table_exists_in(con, PUBLICATIONS_TABLE):
                return None
            cursor = con.execute(
                f"SELECT * FROM {qualified_name(PUBLICATIONS_TABLE)} WHERE table_name = ? "
                "ORDER BY published_at DESC LIMIT 1",
                [f"{table[0]}.{table[1]}"],
            )
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cursor.description], row, strict=True))

    def table_exists(self, table: tuple[str, str]) -> bool:
        with self.get_connection() as con:
            return table_exists_in(con, table)

    # -- write-audit-publish -------------------------------------------------------------------

    def publish(
        self, target: PublishTarget, frame: pd.DataFrame, partition: PartitionWindow | None = None
    ) -> PublishResult:
        """Stage `frame`, audit it against the contract, and only if it passes replace the product."""
        self._refuse_schema_named_like_the_file(target.table, target.product)
        if not isinstance(frame, pd.DataFrame):
            raise DagmeshError(
                f"{target.product} returned {type(frame).__name__}; a data product returns a pandas DataFrame"
            )
        contract = target.contract
        if contract is not None:
            missing = [c for c in contract.column_names if c not in frame.columns]
            extra = [str(c) for c in frame.columns if c not in contract.column_names]
            if missing or extra:
                raise ContractShapeError(target.product, target.owners, missing, extra)
            # No reorder (a copy of every column): the stage view selects the contract's columns by name.
        if frame.columns.duplicated().any():
            raise DagmeshError(f"{target.product} returned a frame with duplicated column names")
        arrow = _to_arrow(frame, lenient=contract is not None)

        with self.get_connection() as con:
            con.register(_INCOMING, arrow)
            try:
                type_failures = _stage(con, contract, frame, target)
                result = (
                    audit_staged_table(con, _STAGE, contract, frame)
                    if contract is not None
                    else AuditResult(rows=len(frame), outcomes=[])
                )
                outcomes = type_failures + result.outcomes
                if partition is not None and target.partition_column:
                    outcomes.append(_partition_outcome(con, target.partition_column, partition))
                result = AuditResult(rows=result.rows, outcomes=outcomes)
                if not result.passed:
                    raise ContractViolation(target.product, target.owners, result)
                _publish_staged(con, target, partition, result.rows)
                columns = con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    list(target.table),
                ).fetchall()
            finally:
                con.execute(f"DROP VIEW IF EXISTS {quote_identifier(_STAGE)}")
                con.unregister(_INCOMING)
        return PublishResult(
            table=f"{target.table[0]}.{target.table[1]}",
            rows=result.rows,
            audit=result,
            columns=[(str(n), str(t)) for n, t in columns],
        )


def _to_arrow(frame: pd.DataFrame, *, lenient: bool) -> pa.Table:
    """The frame as Arrow. With a contract, a column Arrow cannot type (ints mixed with a str)
    goes as text, so the contract's dtype check reports its bad values instead of an Arrow error."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if not lenient:
            raise
    frame = frame.copy()
    for name in frame.columns:
        try:
            pa.Table.from_pandas(frame[[name]], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            frame[name] = frame[name].astype("string")
    return pa.Table.from_pandas(frame, preserve_index=False)


def _publication_marker(con: duckdb.DuckDBPyConnection, table: tuple[str, str]) -> tuple:
    """How many times `table` was published and when last: changes whenever the platform republishes."""
    if not table_exists_in(con, PUBLICATIONS_TABLE):
        return ()
    return con.execute(
        f"SELECT COUNT(*), MAX(published_at) FROM {qualified_name(PUBLICATIONS_TABLE)} "
        "WHERE table_name = ?",
        [f"{table[0]}.{table[1]}"],
    ).fetchone()


def table_exists_in(con: duckdb.DuckDBPyConnection, table: tuple[str, str]) -> bool:
    found = con.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        list(table),
    ).fetchone()
    return bool(found and found[0])


def _stage(
    con: duckdb.DuckDBPyConnection,
    contract: Contract | None,
    frame: pd.DataFrame,
    target: PublishTarget,
) -> list[CheckOutcome]:
    """Copy the incoming frame into a temp table typed to the contract; report values that won't cast."""
    stage = quote_identifier(_STAGE)
    incoming = quote_identifier(_INCOMING)
    if contract is None:
        con.execute(f"CREATE TEMP VIEW {stage} AS SELECT * FROM {incoming}")
        return []
    incoming_types = {row[0]: row[1] for row in con.execute(f"DESCRIBE {incoming}").fetchall()}
    casts, outcomes = [], []
    for column in contract.columns:
        col = quote_identifier(column.name)
        target_type = column.duckdb_type
        casts.append(f"TRY_CAST({col} AS {target_type}) AS {col}")
        if incoming_types.get(column.name) == target_type or _always_casts(
            incoming_types.get(column.name), target_type
        ):
            continue
        failing = f"{col} IS NOT NULL AND TRY_CAST({col} AS {target_type}) IS NULL"
        if target_type in _INTEGER_TYPES:
            # DuckDB rounds 2.5 (and '2.5') to an integer: a fraction is a type error, not to round.
            failing = (
                f"{col} IS NOT NULL AND (TRY_CAST({col} AS {target_type}) IS NULL OR "
                f"TRY_CAST({col} AS DOUBLE) IS DISTINCT FROM TRY_CAST({col} AS {target_type}))"
            )
        count = con.execute(f"SELECT COUNT(*) FROM {incoming} WHERE {failing}").fetchone()[0]
        samples = []
        if count:
            cursor = con.execute(f"SELECT {col} FROM {incoming} WHERE {failing} LIMIT 5")
            samples = [{column.name: row[0]} for row in cursor.fetchall()]
        outcomes.append(
            CheckOutcome(
                column.name, f"dtype({column.pandera_dtype})", int(count), "duckdb", samples
            )
        )
    # A view, not a copy: the audit and the publish each scan the Arrow data once, and the only
    # materialization is the published table itself.
    con.execute(f"CREATE TEMP VIEW {stage} AS SELECT {', '.join(casts)} FROM {incoming}")
    return outcomes


# Incoming types whose every non-null value casts to the contract type: no need to scan for failures.
_LOSSLESS_INTO: dict[str, frozenset[str]] = {
    "TIMESTAMP": frozenset({"TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"}),
    "BIGINT": frozenset({"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"}),
    "DOUBLE": frozenset({"FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"}),
    "VARCHAR": frozenset({'"NULL"', "NULL"}),
}


def _always_casts(incoming: str | None, target: str) -> bool:
    return incoming is not None and incoming in _LOSSLESS_INTO.get(target, frozenset())


def _partition_outcome(
    con: duckdb.DuckDBPyConnection, column: str, window: PartitionWindow
) -> CheckOutcome:
    """Rows outside the partition being written would silently overwrite another partition: refuse them."""
    col = quote_identifier(column)
    predicate = f"{col} IS NULL OR {col} < ? OR {col} >= ?"
    params = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
    stage = quote_identifier(_STAGE)
    count = con.execute(f"SELECT COUNT(*) FROM {stage} WHERE {predicate}", params).fetchone()[0]
    samples = []
    if count:
        cursor = con.execute(f"SELECT * FROM {stage} WHERE {predicate} LIMIT 5", params)
        names = [d[0] for d in cursor.description]
        samples = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return CheckOutcome(column, f"in_partition({window.label})", int(count), "duckdb", samples)


def _published_projection(contract: Contract | None) -> str:
    """The staged columns as published: PII columns with a declared mask are hashed or redacted here,
    after the audit (checks see real values) and before anything is readable."""
    if contract is None:
        return "*"
    parts = []
    for column in contract.columns:
        col = quote_identifier(column.name)
        if column.mask == "sha256":
            parts.append(f"sha256({col}) AS {col}")
        elif column.mask == "redacted":
            parts.append(f"CASE WHEN {col} IS NULL THEN NULL ELSE '[redacted]' END AS {col}")
        else:
            parts.append(col)
    return ", ".join(parts)


def _publish_staged(
    con: duckdb.DuckDBPyConnection,
    target: PublishTarget,
    partition: PartitionWindow | None,
    rows: int,
) -> None:
    """Swap the staged rows in, and log the publication, in one transaction: all or nothing."""
    schema, _ = target.table
    table = qualified_name(target.table)
    stage = quote_identifier(_STAGE)
    log = qualified_name(PUBLICATIONS_TABLE)
    projection = _published_projection(target.contract)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(PUBLICATIONS_TABLE[0])}")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {log} (product VARCHAR, table_name VARCHAR, version VARCHAR, "
            "partition_key VARCHAR, row_count BIGINT, columns VARCHAR, published_at TIMESTAMP, "
            "access VARCHAR, owners VARCHAR, allowed_consumers VARCHAR, max_lag_seconds DOUBLE)"
        )
        if partition is None or not target.partition_column:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {projection} FROM {stage}")
        else:
            col = quote_identifier(target.partition_column)
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {table} AS SELECT {projection} FROM {stage} LIMIT 0"
            )
            con.execute(
                f"DELETE FROM {table} WHERE {col} >= ? AND {col} < ?",
                [partition.start.replace(tzinfo=None), partition.end.replace(tzinfo=None)],
            )
            con.execute(f"INSERT INTO {table} BY NAME SELECT {projection} FROM {stage}")
        columns = con.execute(f"DESCRIBE {stage}").fetchall()
        con.execute(
            f"INSERT INTO {log} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                target.product,
                f"{target.table[0]}.{target.table[1]}",
                target.version,
                partition.label if partition else None,
                rows,
                json.dumps([[c[0], c[1]] for c in columns]),
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                target.access,
                json.dumps(list(target.owners)),
                json.dumps(list(target.allowed_consumers)),
                target.max_lag_seconds,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
