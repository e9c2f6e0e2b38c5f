"""The warehouse: a DuckDB file where each domain owns a schema and products are published atomically.

`MeshWarehouse` is a `DuckDBResource` that owns the write path (stage the frame, audit the contract where
the data landed, publish in one transaction, log the publication) and the read path: every read names its
reader and is held to the product's published access level (`reader_for`, docs/governance.md). Its raw
`get_connection` is the platform's; domain code that uses it is outside the access checks (lint flags it).
It replaces `DuckDBResource.get_connection` because the stock one does not close its connection when the
body raises, which keeps the file locked against other processes until garbage collection.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
from dagster_duckdb import DuckDBResource
from pydantic import Field

from dagmesh.core.errors import (
    ContractShapeError,
    ContractViolation,
    DagmeshError,
    MissingUpstreamError,
)
from dagmesh.core.interrupts import check_stop
from dagmesh.declare.access import (
    AccessDeniedError,
    Reader,
    current_reader,
    refuse_unreadable,
)
from dagmesh.declare.contract import Contract
from dagmesh.declare.names import Mask
from dagmesh.declare.volume import Volume
from dagmesh.storage import lakehouse, relation_types
from dagmesh.storage.audit import (
    AuditResult,
    CheckOutcome,
    CompiledCheck,
    FrameSource,
    audit_staged_table,
)
from dagmesh.storage.committed_stage import committed_stage, is_stage
from dagmesh.storage.engine import ForeignRelationError, Relation, register_view
from dagmesh.storage.frame_types import typed_arrow
from dagmesh.storage.frames import arrow_to_pandas, restore_types
from dagmesh.storage.lock_wait import LockWait, is_lock_error, lock_holder
from dagmesh.storage.reads import read_whole_table
from dagmesh.storage.settings import DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_ENV, MeshSettings
from dagmesh.storage.sql import qualified_name, quote_identifier

PUBLICATIONS_TABLE = ("_dagmesh", "publications")
# Catalog creation in this process, one at a time (`_publishing_transaction`).
_CATALOG_CHANGES = threading.Lock()
_NEW_SCHEMAS = threading.Lock()
_INCOMING = "_dagmesh_incoming"
_STAGE = "_dagmesh_stage"
_KEYED = "_dagmesh_keyed"
_LOG_COLUMNS = (
    ("product", "VARCHAR"),
    ("table_name", "VARCHAR"),
    ("version", "VARCHAR"),
    ("partition_key", "VARCHAR"),
    ("row_count", "BIGINT"),
    ("columns", "VARCHAR"),
    ("published_at", "TIMESTAMP"),
    ("access", "VARCHAR"),
    ("owners", "VARCHAR"),
    ("allowed_consumers", "VARCHAR"),
    ("max_lag_seconds", "DOUBLE"),
    ("arrow_schema", "VARCHAR"),  # the exact Arrow types, so reads give back the contract's dtypes
    ("pandas_dtypes", "VARCHAR"),
    ("publication_id", "VARCHAR"),  # shared with the lake snapshot the publish made
    ("run_id", "VARCHAR"),
    ("previous_major_until", "DATE"),  # a major bump: the previous major is served until then
)


class TimeTravelUnavailableError(DagmeshError):
    """An earlier version of a product was asked of a warehouse that keeps only the current one."""


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
    volume: Volume = field(default_factory=Volume)
    run_id: str | None = None  # the Dagster run publishing it, for the history
    # After a major bump: the previous major is served (as `<table>__v<major>`) until this day.
    deprecation_date: dt.date | None = None


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
    snapshot: int | None = None  # the lake's snapshot of this publication (the lakehouse backend)

    @classmethod
    def of(
        cls,
        target: PublishTarget,
        audit: AuditResult,
        columns: Sequence[tuple],
        snapshot: int | None = None,
    ) -> PublishResult:
        return cls(
            table=f"{target.table[0]}.{target.table[1]}",
            rows=audit.rows,
            audit=audit,
            columns=[(str(n), str(t)) for n, t in columns],
            snapshot=snapshot,
        )


def table_for_key(path: Sequence[str]) -> tuple[str, str]:
    """Asset key `[domain, product]` -> schema `domain`, table `product`; deeper keys fold into the table."""
    if len(path) < 2:
        raise DagmeshError(
            f"asset key {'/'.join(path)!r} has no domain prefix; products are keyed [domain, product]"
        )
    return path[0], "__".join(path[1:])


# How long a connect waits for another thread's closing of the same file (its checkpoint). Seen with
# three concurrent runs at TPC-H SF 1: "Unique file handle conflict", gone once the close has finished.
_REOPEN_SECONDS = 30.0
# Every connection this process has open, so a stopping `dagmesh run` can interrupt their queries.
_OPEN_CONNECTIONS: set[duckdb.DuckDBPyConnection] = set()
_OPEN_CONNECTIONS_CHANGES = threading.Lock()
# Files kept open (`MeshWarehouse.kept_open`): the connection keeping each, once one was made.
_KEPT: dict[str, duckdb.DuckDBPyConnection | None] = {}
_KEPT_CHANGES = threading.Lock()


@contextmanager
def _tracked(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """`con` among the open connections while the block runs; closed after it, whatever happened."""
    with _OPEN_CONNECTIONS_CHANGES:
        _OPEN_CONNECTIONS.add(con)
    try:
        yield con
    finally:
        with _OPEN_CONNECTIONS_CHANGES:
            _OPEN_CONNECTIONS.discard(con)
        con.close()


def interrupt_open_connections() -> int:
    """Interrupt the running query of every warehouse connection of this process (Ctrl-C of a run):
    each fails with DuckDB's InterruptException, and a publishing transaction it was in rolls back.
    Returns how many connections were open."""
    with _OPEN_CONNECTIONS_CHANGES:
        open_now = list(_OPEN_CONNECTIONS)
    for con in open_now:
        with suppress(duckdb.Error):
            con.interrupt()
    return len(open_now)


class MeshWarehouse(DuckDBResource):
    """DuckDB warehouse resource: locked-file retries, write-audit-publish and Arrow reads."""

    lock_timeout_seconds: float = Field(
        default=DEFAULT_LOCK_TIMEOUT,
        description="How long to keep retrying when another process holds the DuckDB file "
        "(DAGMESH_LOCK_TIMEOUT; within `dagmesh run`, the run's one deadline comes first).",
    )
    memory_limit: str | None = Field(
        default=None, description="DuckDB's memory_limit (e.g. 2GB); past it, DuckDB spills."
    )
    spill_directory: str | None = Field(
        default=None, description="Where DuckDB spills what does not fit in memory_limit."
    )
    lake_catalog: str | None = Field(
        default=None,
        description="A DuckLake catalog (its ATTACH string): the lakehouse backend instead of the "
        "DuckDB file `database`. Credentials come from the environment, never from here.",
    )
    lake_data_path: str | None = Field(default=None, description="The lake's DATA_PATH.")
    s3_endpoint: str | None = Field(default=None, description="An S3-compatible store's host:port.")
    s3_url_style: str = Field(default="vhost", description="S3 URL style: vhost or path.")
    s3_use_ssl: bool = Field(default=True, description="S3 over TLS.")
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    domain: str | None = Field(
        default=None,
        description="The domain whose code location holds this resource: its reads are that "
        "domain's (held to each product's access level); None for the platform's own tools.",
    )

    @classmethod
    def from_settings(cls, settings: MeshSettings, domain: str | None = None) -> MeshWarehouse:
        lake = settings.lake
        return cls(
            domain=domain,
            database=str(settings.warehouse_path) if lake is None else ":memory:",
            memory_limit=settings.memory_limit,
            spill_directory=str(settings.spill_dir),
            lock_timeout_seconds=settings.lock_timeout,
            **(
                {}
                if lake is None
                else {
                    "lake_catalog": lake.catalog,
                    "lake_data_path": lake.data_path,
                    "s3_endpoint": lake.s3_endpoint,
                    "s3_url_style": lake.s3_url_style,
                    "s3_use_ssl": lake.s3_use_ssl,
                    "s3_region": lake.s3_region,
                }
            ),
        )

    @property
    def lake(self) -> lakehouse.LakeLocation | None:
        """The lake this warehouse is, on the lakehouse backend; None on the DuckDB file."""
        if self.lake_catalog is None:
            return None
        return lakehouse.LakeLocation(
            catalog=self.lake_catalog,
            data_path=self.lake_data_path or "",
            s3_endpoint=self.s3_endpoint,
            s3_url_style=self.s3_url_style,
            s3_use_ssl=self.s3_use_ssl,
            s3_region=self.s3_region,
        )

    @property
    def is_lakehouse(self) -> bool:
        return self.lake_catalog is not None

    @property
    def catalog_name(self) -> str:
        """The catalog products' schemas live in: the lake, or the DuckDB file's (named after it)."""
        if self.is_lakehouse:
            return lakehouse.LAKE
        return Path(self.database).stem if self.database != ":memory:" else "memory"

    def _config(self) -> dict[str, object]:
        config: dict[str, object] = dict(self.connection_config)
        if self.memory_limit:
            config.setdefault("memory_limit", self.memory_limit)
        if self.spill_directory:
            Path(self.spill_directory).mkdir(parents=True, exist_ok=True)
            config.setdefault("temp_directory", self.spill_directory)
        return config

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Connect, retrying with jittered backoff while another process holds the file (reported,
        and bounded by `lock_timeout_seconds` or the run's deadline); always close.
        On the lakehouse backend: a database of the connection's own with the lake attached (no file
        lock: DuckLake's transactions keep concurrent writers apart)."""
        check_stop("it connected to the warehouse")
        lake = self.lake
        if lake is not None:
            with _tracked(lakehouse.connect(lake, self._config())) as con:
                yield con
            return
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        wait = LockWait(self.database, self.lock_timeout_seconds)
        delay = 0.05
        reopen_deadline = time.monotonic() + _REOPEN_SECONDS
        while True:
            try:
                con = duckdb.connect(self.database, config=self._config())
                # A long query would draw DuckDB's progress bar into the run's captured stdout.
                con.execute("SET enable_progress_bar = false")
                break
            except duckdb.BinderException as error:
                # This process's last connection to the file is still closing (its checkpoint) in
                # another thread: the file is free again once that has finished.
                if "unique file handle conflict" not in str(error).lower():
                    raise
                if time.monotonic() > reopen_deadline:
                    raise DagmeshError(
                        f"the warehouse {self.database} stayed open in this process under another "
                        f"name for {_REOPEN_SECONDS:.0f}s (an ATTACH of the file?); close that "
                        f"connection first. Nothing was written. DuckDB said: {error}"
                    ) from error
                time.sleep(0.02 * (0.5 + random.random()))
            except duckdb.IOException as error:
                if not is_lock_error(error):
                    raise
                if wait.expired():
                    holder = lock_holder(error) or "another process"
                    raise WarehouseLockedError(
                        f"the warehouse {self.database} stayed locked by {holder} for "
                        f"{wait.waited:.0f}s; wait for it to finish (or stop it), or wait longer with "
                        f"{LOCK_TIMEOUT_ENV} / `dagmesh run --lock-timeout`. Nothing was written."
                    ) from error
                wait.note(error)
                time.sleep(min(delay * (0.5 + random.random()), wait.remaining()))
                delay = min(delay * 2, 2.0)
        with _KEPT_CHANGES:
            if self.database in _KEPT and _KEPT[self.database] is None:
                # A connection of its own to the same open database (a cursor would be closed
                # with `con`).
                _KEPT[self.database] = duckdb.connect(self.database, config=self._config())
        with _tracked(con):
            yield con

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """Keep the DuckDB file open from the block's first connection to its end (`dagmesh run`):
        every later `get_connection` joins the open database (DuckDB shares one per file and config
        in a process) instead of opening the file again and checkpointing it at its close. The first
        connection waits for the file's lock as any does, naming the product that waits; from then
        the file stays locked against other processes until the block ends, as it mostly is while a
        mesh run writes. On the lake: nothing to keep."""
        if self.lake is not None or self.database == ":memory:":
            yield
            return
        with _KEPT_CHANGES:
            _KEPT.setdefault(self.database, None)
        try:
            yield
        finally:
            with _KEPT_CHANGES:
                kept = _KEPT.pop(self.database, None)
            if kept is not None:
                try:
                    kept.close()  # the file's one checkpoint of the block
                except duckdb.Error as error:  # what was published is committed all the same
                    logging.getLogger(__name__).warning(
                        "the warehouse %s was not checkpointed at the end of the run; every "
                        "publication is committed in its write-ahead log, which its next open "
                        "replays. DuckDB said: %s",
                        self.database,
                        error,
                    )

    def _refuse_schema_named_like_the_file(self, table: tuple[str, str], product: str) -> None:
        """DuckDB names a file's catalog after the file: a schema of the same name is ambiguous in
        every query (`sales.orders` in `sales.duckdb`). Say so before anything is written."""
        catalog = self.catalog_name
        if self.is_lakehouse and table[0] == catalog:
            raise DagmeshError(
                f"{product}: on the lakehouse backend the lake is attached as {catalog!r}, and "
                f"DuckDB cannot tell a domain schema of that name apart from it; rename the domain. "
                "Nothing was read or written."
            )
        if self.database != ":memory:" and table[0] == catalog:
            raise DagmeshError(
                f"{product}: the warehouse file {Path(self.database).name} has the name of the domain "
                f"schema {catalog!r}, and DuckDB cannot tell the two apart; give the warehouse file "
                "another name (DAGMESH_WAREHOUSE). Nothing was read or written."
            )

    # -- reads ---------------------------------------------------------------------------------

    def reader_for(self, reader: Reader | None) -> Reader | None:
        """Who a read is by: the reader named, else the product whose step is running, else this
        location's domain; None (refused) for the platform's own warehouse, which must be told.
        A domain's warehouse reads only as that domain: it cannot claim another's or the platform's."""
        if reader is None:
            reader = current_reader()
        if reader is None and self.domain is not None:
            reader = Reader.of_domain(self.domain)
        if (
            reader is not None
            and self.domain is not None
            and (reader.trusted or reader.domain != self.domain)
        ):
            raise AccessDeniedError(
                f"the warehouse of domain {self.domain!r} reads only as that domain, not as "
                f"{reader.name}; read through the product's inputs. Read refused; nothing was "
                "loaded."
            )
        return reader

    @contextmanager
    def _reading(
        self, table: tuple[str, str], reader: Reader | None, upstream: str | None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to read `table`, which must exist (else the reader is told what to run) and
        which `reader` may read by the producer's published access level."""
        product = upstream or "/".join(table)
        self._refuse_schema_named_like_the_file(table, product)
        reader = self.reader_for(reader)
        if is_stage(table[1]):  # rows of a publish not yet audited, or of one a kill left
            who = reader.name if reader is not None else "a read naming no reader"
            raise AccessDeniedError(
                f"{who} may not read {table[0]}.{table[1]}: it is a stage of a publish, not a "
                "product (its rows are not audited, and it is held to no access level). Read the "
                "product itself. Read refused; nothing was loaded."
            )
        with self.get_connection() as con:
            publication = publication_of(con, table)
            producer = str(publication["product"]) if publication else "/".join(table)
            refuse_unreadable(reader, dg.AssetKey.from_user_string(producer), publication)
            if not table_exists_in(con, table):
                assert reader is not None
                raise MissingUpstreamError(reader.name, product, f"{table[0]}.{table[1]}")
            yield con

    def read(
        self,
        table: tuple[str, str],
        *,
        reader: Reader | None = None,
        upstream: str | None = None,
        where: str | None = None,
        params: Sequence[object] = (),
        as_of: int | dt.datetime | None = None,
    ) -> pd.DataFrame:
        """A published table as pandas, through Arrow (several times faster and leaner than fetchdf).
        `as_of`: the table as it was at a lake snapshot (its id) or a time (the lakehouse backend).
        `reader`: who reads (see `reader_for`); refused unless the product's access level allows it."""
        name = qualified_name(table)
        if as_of is not None:
            return self._read_as_of(table, name, as_of, reader, upstream)
        with self._reading(table, reader, upstream) as con:
            if where is None:
                arrow = read_whole_table(con, name, lambda: _publication_marker(con, table))
            else:
                arrow = con.execute(
                    f"SELECT * FROM {name} WHERE {where}", list(params)
                ).to_arrow_table()
            published = _published_types(con, table)
        return _as_published(arrow, published)

    def _read_as_of(
        self,
        table: tuple[str, str],
        name: str,
        as_of: int | dt.datetime,
        reader: Reader | None,
        upstream: str | None,
    ) -> pd.DataFrame:
        version_clause = self._version_clause(table, as_of)
        with self._reading(table, reader, upstream) as con:
            arrow = con.execute(f"SELECT * FROM {name} AT ({version_clause})").to_arrow_table()
            published = _published_types(con, table)
        return _as_published(arrow, published)

    def _version_clause(self, table: tuple[str, str], as_of: int | dt.datetime) -> str:
        """DuckLake's `AT (...)` for a snapshot id or a time; only a lake keeps earlier versions."""
        if not self.is_lakehouse:
            raise TimeTravelUnavailableError(
                f"{table[0]}/{table[1]} as of {as_of}: the DuckDB file keeps only the current version "
                "of a product; reading an earlier one needs the lakehouse backend "
                "(DAGMESH_WAREHOUSE=ducklake:...). `dagmesh history` lists what was published."
            )
        if isinstance(as_of, bool) or not isinstance(as_of, int | dt.datetime):
            raise DagmeshError(f"as_of is a snapshot id (int) or a datetime, not {as_of!r}")
        if isinstance(as_of, int):
            return f"VERSION => {int(as_of)}"
        moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        return f"TIMESTAMP => TIMESTAMPTZ '{moment.isoformat()}'"

    def served(self, table: tuple[str, str], major: int | None, consumer: str) -> tuple[str, str]:
        """The table a consumer pinned to `major` of `table` reads (`served_table`)."""
        if major is None:
            return table
        with self.get_connection() as con:
            return served_table(con, table, major, consumer)

    def previous_majors(self, today: dt.date | None = None) -> list[tuple[str, str]]:
        """(product, what happened) for each kept previous major: retired (dropped) once its
        deprecation date has passed, else served until then."""
        with self.get_connection() as con:
            retired = retire_expired_majors(con, today)
            kept = _kept_majors(con)
        report = [
            (product.rsplit("@", 1)[0], f"retired {product}: past its deprecation date")
            for product in retired
        ]
        for schema, base, major, until in kept:
            report.append(
                (
                    f"{schema}/{base}",
                    f"serves @{major} to pinned consumers until {until or 'undated'}",
                )
            )
        return report

    def history(self, table: tuple[str, str]) -> list[dict[str, object]]:
        """Every publication of `table`, oldest first: time, contract version, rows, partition, run,
        and on a lake the snapshot it made (which `read(as_of=...)` and `republish` take)."""
        with self.get_connection() as con:
            return _history_in(con, table, self.is_lakehouse)

    def republish(self, target: PublishTarget, snapshot: int) -> PublishResult:
        """Publish the product's table as it was at lake `snapshot` as a new publication: audited
        against the contract as any publish, logged, a snapshot of its own; a partitioned product's
        whole table. Nothing is deleted: the versions in between stay readable (`read(as_of=...)`)."""
        version_clause = self._version_clause(target.table, snapshot)
        # A partitioned product comes back whole: every partition as it was at the snapshot.
        with self.get_connection() as con:
            known = {entry["snapshot"] for entry in _history_in(con, target.table, True)}
            if snapshot not in known:
                raise DagmeshError(
                    f"{target.product}: snapshot {snapshot} is not one of its publications "
                    f"({', '.join(str(k) for k in sorted(k for k in known if k is not None)) or 'none'}"
                    "; older ones may have been expired by lake maintenance after "
                    "DAGMESH_LAKE_RETENTION); see `dagmesh history`. Nothing was published."
                )
            relation = con.sql(
                f"SELECT * FROM {qualified_name(target.table)} AT ({version_clause})"
            )
            return self.publish_relation(target, con, relation)

    def read_batches(
        self,
        table: tuple[str, str],
        *,
        columns: Sequence[str] | None = None,
        rows: int = 1_000_000,
        reader: Reader | None = None,
        upstream: str | None = None,
    ) -> Iterator[pd.DataFrame]:
        """A published table as pandas frames of at most `rows` rows each, in table order, with the
        dtypes it was published with: for a consumer that can work batch by batch, memory stays one
        batch, whatever the size of the table. Reads one snapshot (one query)."""
        if rows < 1:
            raise ValueError("rows per batch must be at least 1")
        name = qualified_name(table)
        with self._reading(table, reader, upstream) as con:
            published = _published_types(con, table)
            selected = ", ".join(quote_identifier(c) for c in columns) if columns else "*"
            reader = con.execute(f"SELECT {selected} FROM {name}").to_arrow_reader(rows)
            for batch in reader:
                yield _as_published(pa.Table.from_batches([batch]), published)

    def latest_publication(self, table: tuple[str, str]) -> dict[str, object] | None:
        """The newest publication record of `table` (its access level, owners, version), if any."""
        with self.get_connection() as con:
            return latest_publication_in(con, table)

    def table_exists(self, table: tuple[str, str]) -> bool:
        with self.get_connection() as con:
            return table_exists_in(con, table)

    # -- write-audit-publish -------------------------------------------------------------------

    def publish(
        self, target: PublishTarget, frame: pd.DataFrame, partition: PartitionWindow | None = None
    ) -> PublishResult:
        """Type `frame` as pandera would, stage it, audit it against the contract, and only if every
        check passes replace the product, in one transaction."""
        self._refuse_schema_named_like_the_file(target.table, target.product)
        if not isinstance(frame, pd.DataFrame):
            raise DagmeshError(
                f"{target.product} returned {type(frame).__name__}; a data product returns a pandas DataFrame"
            )
        if frame.columns.duplicated().any():
            raise DagmeshError(f"{target.product} returned a frame with duplicated column names")
        contract = target.contract
        if contract is None:
            typed, arrow = frame, pa.Table.from_pandas(frame, preserve_index=False)
        else:
            _check_shape(target, contract, list(frame.columns))
            typed, arrow, type_failures = typed_arrow(contract, frame)
            if arrow is None:
                raise ContractViolation(
                    target.product, target.owners, AuditResult(len(frame), type_failures)
                )

        with self.get_connection() as con:
            con.register(_INCOMING, arrow)
            try:
                _stage(con, contract, target)
                # Checks only pandera decides judge the rows as a consumer will read them back, not
                # the product's frame: storing can merge values pandas tells apart (None and NaN
                # both become NULL), and a check may see the difference.
                judged = (
                    typed
                    if contract is None
                    else _frame_reader(con, quote_identifier(_STAGE), contract)
                )
                result = _audited_stage(con, target, partition, judged)
                dtypes = {str(name): str(typed[name].dtype) for name in arrow.schema.names}
                snapshot = _with_retries(
                    target,
                    lambda: _publish_staged(
                        con, target, partition, result.rows, arrow.schema, dtypes
                    ),
                )
                columns = _published_columns(con, target.table)
            finally:
                _drop_temporaries(con, tables=(_KEYED,), views=(_STAGE,))
        return PublishResult.of(target, result, columns, snapshot)

    def publish_relation(
        self,
        target: PublishTarget,
        con: duckdb.DuckDBPyConnection,
        relation: Relation,
        partition: PartitionWindow | None = None,
    ) -> PublishResult:
        """Write-audit-publish of an in-warehouse product: `relation` (on `con`, the step's own
        connection) never leaves DuckDB. Its column types must be the contract's DuckDB types exactly
        (no cast decides for the contract). Unmasked and unpartitioned, its rows are written once: on the
        DuckDB file into a committed stage no consumer can name, audited there and renamed into place
        (`committed_stage`); on the lake, and for a domain's first product, into the product's table
        inside the publishing transaction, audited there. Readers see the new rows only if every check
        passed. Masked or partitioned, it is staged in a temp table first (unmasked values never reach
        the file)."""
        self._refuse_schema_named_like_the_file(target.table, target.product)
        contract = target.contract
        if not isinstance(relation, Relation):
            raise DagmeshError(
                f"{target.product} (owners: {', '.join(target.owners)}) returned "
                f"{type(relation).__name__}; an in-warehouse product (annotated `-> Relation`) returns a "
                "DuckDB relation, e.g. query(...) over its inputs. Nothing was published."
            )
        if contract is None:
            raise DagmeshError(f"{target.product}: an in-warehouse product needs a contract")
        names = list(relation.columns)
        if len(set(names)) != len(names):
            raise DagmeshError(f"{target.product} returned a relation with duplicated column names")
        _check_shape(target, contract, names)
        try:
            register_view(con, _INCOMING, relation)
        except ForeignRelationError as error:
            raise DagmeshError(
                f"{target.product} (owners: {', '.join(target.owners)}): {error}. Nothing was published."
            ) from None
        in_place = partition is None and not contract.masked
        try:
            type_failures = relation_types.type_outcomes(con, contract, relation, _INCOMING)
            if type_failures:
                rows = int(relation.aggregate("COUNT(*)").fetchone()[0])
                raise ContractViolation(
                    target.product, target.owners, AuditResult(rows, type_failures)
                )
            if in_place:
                result, snapshot = _with_retries(
                    target, lambda: self._publish_in_place(con, target)
                )
            else:
                result, snapshot = self._publish_staged_relation(con, target, partition)
            columns = _published_columns(con, target.table)
        finally:
            _drop_temporaries(con, tables=(_KEYED, _STAGE), views=())
        return PublishResult.of(target, result, columns, snapshot)

    def _publish_in_place(
        self, con: duckdb.DuckDBPyConnection, target: PublishTarget
    ) -> tuple[AuditResult, int | None]:
        if not self.is_lakehouse and _schema_exists(con, target.table[0]):
            return _publish_by_rename(con, target), None
        # On the lake (a committed stage would be a snapshot of its own) and for a domain's first
        # product (a violation must leave no schema), the rows are written and audited in the
        # publishing transaction.
        contract = target.contract
        assert contract is not None
        table = qualified_name(target.table)
        with _publishing_transaction(con, target) as publication:
            exists = table_exists_in(con, target.table)
            previous = (
                int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]) if exists else None
            )
            if exists:
                _keep_previous_major(con, target)
            projection = relation_types.projection(contract)
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS "
                f"SELECT {projection} FROM {quote_identifier(_INCOMING)}"
            )
            result = _with_volume_guard(target, _audited_relation(con, table, contract), previous)
            if not result.passed:
                raise ContractViolation(target.product, target.owners, result)
            _log_publication(
                con, target, None, result.rows, contract.arrow_schema, {}, table, publication.id
            )
        return result, publication.snapshot

    def _publish_staged_relation(
        self,
        con: duckdb.DuckDBPyConnection,
        target: PublishTarget,
        partition: PartitionWindow | None,
    ) -> tuple[AuditResult, int | None]:
        contract = target.contract
        assert contract is not None
        stage = quote_identifier(_STAGE)
        projection = relation_types.projection(contract)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {stage} AS "
            f"SELECT {projection} FROM {quote_identifier(_INCOMING)}"
        )
        result = _audited_stage(
            con,
            target,
            partition,
            _frame_reader(con, stage, contract),
            extra=relation_types.storable_checks(contract),
        )
        snapshot = _with_retries(
            target,
            lambda: _publish_staged(con, target, partition, result.rows, contract.arrow_schema, {}),
        )
        return result, snapshot


def _publish_by_rename(con: duckdb.DuckDBPyConnection, target: PublishTarget) -> AuditResult:
    """An in-warehouse product on the DuckDB file: its rows written once into a committed stage,
    audited there (`committed_stage`), and renamed into the product's place in the publishing
    transaction; a violation drops the stage and publishes nothing."""
    contract = target.contract
    assert contract is not None
    projection = relation_types.projection(contract)
    with committed_stage(con, target.table) as stage:
        con.execute(
            f"CREATE TABLE {stage} AS SELECT {projection} FROM {quote_identifier(_INCOMING)}"
        )
        result = _audited_relation(con, stage, contract)
        if not result.passed:
            raise ContractViolation(target.product, target.owners, result)
        table = qualified_name(target.table)
        with _publishing_transaction(con, target) as publication:
            if table_exists_in(con, target.table):
                previous = int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                result = _with_volume_guard(target, result, previous)
                if not result.passed:
                    raise ContractViolation(target.product, target.owners, result)
                if not _move_previous_major(con, target):
                    con.execute(f"DROP TABLE {table}")
            con.execute(f"ALTER TABLE {stage} RENAME TO {quote_identifier(target.table[1])}")
            _log_publication(
                con, target, None, result.rows, contract.arrow_schema, {}, table, publication.id
            )
    return result


def _audited_relation(
    con: duckdb.DuckDBPyConnection, table: str, contract: Contract
) -> AuditResult:
    """The audit of an in-warehouse product's written rows, with the checks of what pandas can hold."""
    return audit_staged_table(
        con,
        table,
        contract,
        _frame_reader(con, table, contract),
        extra=relation_types.storable_checks(contract),
    )


def _with_volume_guard(
    target: PublishTarget, result: AuditResult, previous: int | None
) -> AuditResult:
    """`result` with the volume guard's refusal, if the rows changed too much from `previous`."""
    refusal = None if previous is None else target.volume.refusal(previous, result.rows)
    if refusal is None:
        return result
    assert previous is not None
    outcomes = [*result.outcomes, _volume_refusal(refusal, previous, result.rows)]
    return AuditResult(rows=result.rows, outcomes=outcomes)


def _schema_exists(con: duckdb.DuckDBPyConnection, schema: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM duckdb_schemas() WHERE database_name = current_database() "
            "AND schema_name = ?",
            [schema],
        ).fetchone()
    )


def _frame_reader(
    con: duckdb.DuckDBPyConnection, table: str, contract: Contract
) -> Callable[[Sequence[str]], pd.DataFrame]:
    """The columns pandera must judge, read from `table` with the contract's dtypes (what a consumer
    gets), only when a check has no SQL form."""

    def read(names: Sequence[str]) -> pd.DataFrame:
        columns = ", ".join(quote_identifier(n) for n in names)
        arrow = con.execute(f"SELECT {columns} FROM {table}").to_arrow_table()
        schema = pa.schema([contract.arrow_schema.field(n) for n in names])
        return restore_types(arrow, schema, {n: contract.column(n).pandas_dtype for n in names})

    return read


def _audited_stage(
    con: duckdb.DuckDBPyConnection,
    target: PublishTarget,
    partition: PartitionWindow | None,
    frame: FrameSource,
    extra: Sequence[CompiledCheck] = (),
) -> AuditResult:
    """The staged rows audited against the contract and the `extra` checks (uniqueness over the other
    partitions too), with the write guards; raises `ContractViolation` on any failure."""
    contract = target.contract
    exists = table_exists_in(con, target.table)
    if contract is None:
        assert isinstance(frame, pd.DataFrame)
        result = AuditResult(rows=len(frame), outcomes=[])
    else:
        keyed = _keys_over_partitions(con, target, partition) if exists else None
        stage = quote_identifier(_STAGE)
        result = audit_staged_table(con, stage, contract, frame, unique_over=keyed, extra=extra)
    result = _with_write_guards(con, target, partition, result, exists)
    if not result.passed:
        raise ContractViolation(target.product, target.owners, result)
    return result


def _with_write_guards(
    con: duckdb.DuckDBPyConnection,
    target: PublishTarget,
    partition: PartitionWindow | None,
    result: AuditResult,
    exists: bool,
) -> AuditResult:
    """The audit plus what only a write can judge: rows outside the partition, and the volume guard."""
    outcomes = list(result.outcomes)
    if partition is not None and target.partition_column:
        outcomes.append(_partition_outcome(con, target.partition_column, partition))
    volume = _volume_outcome(con, target, partition, result.rows) if exists else None
    if volume is not None:
        outcomes.append(volume)
    return AuditResult(rows=result.rows, outcomes=outcomes)


def _published_columns(con: duckdb.DuckDBPyConnection, table: tuple[str, str]) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        list(table),
    ).fetchall()


def _check_shape(target: PublishTarget, contract: Contract, names: Sequence[object]) -> None:
    missing = [c for c in contract.column_names if c not in names]
    extra = [str(c) for c in names if c not in contract.column_names]
    if missing or extra:
        raise ContractShapeError(target.product, target.owners, missing, extra)
    if contract.ordered and list(names) != contract.column_names:
        raise ContractShapeError(
            target.product,
            target.owners,
            [],
            [],
            order=(contract.column_names, [str(c) for c in names]),
        )


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
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = ? AND table_name = ?",
        list(table),
    ).fetchone()
    return bool(found and found[0])


def _stage(
    con: duckdb.DuckDBPyConnection, contract: Contract | None, target: PublishTarget
) -> None:
    """A view over the incoming Arrow data, the contract's columns by name. No casts: the Arrow table
    already has the contract's exact types, and DuckDB's mapping of them is the contract's DuckDB type.
    A view, not a copy: the audit and the publish each scan the Arrow data once."""
    stage = quote_identifier(_STAGE)
    incoming = quote_identifier(_INCOMING)
    if contract is None:
        con.execute(f"CREATE TEMP VIEW {stage} AS SELECT * FROM {incoming}")
        return
    columns = ", ".join(quote_identifier(c) for c in contract.column_names)
    con.execute(f"CREATE TEMP VIEW {stage} AS SELECT {columns} FROM {incoming}")
    staged = {row[0]: row[1] for row in con.execute(f"DESCRIBE {stage}").fetchall()}
    for column in contract.columns:
        if staged.get(column.name) != column.duckdb_type:
            raise DagmeshError(
                f"{target.product}: column {column.name!r} staged as {staged.get(column.name)}, "
                f"not its contract type {column.duckdb_type}; this is a dagmesh bug, please report it. "
                "Nothing was published."
            )


def _window_predicate(column: str, window: PartitionWindow) -> tuple[str, list[dt.datetime]]:
    """`column` inside the window, as SQL with the bounds as parameters."""
    col = quote_identifier(column)
    bounds = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
    return f"({col} >= ? AND {col} < ?)", bounds


def _keys_over_partitions(
    con: duckdb.DuckDBPyConnection, target: PublishTarget, partition: PartitionWindow | None
) -> str | None:
    """For a partition run: a view of every unique key column over the staged rows plus the rows of
    the other partitions already published, so uniqueness is judged on the whole table. Keys are
    compared as published (a hashed column by its hash); a redacted key cannot be compared with what
    is published, so it is judged on the staged rows only (docs/contracts.md)."""
    contract = target.contract
    if contract is None or partition is None or not target.partition_column:
        return None
    keys = [c.name for c in contract.columns if c.unique]
    keys += [name for name in contract.unique_together if name not in keys]
    if not keys or any(contract.column(name).mask == Mask.REDACTED for name in keys):
        return None
    published = {
        row[0] for row in con.execute(f"DESCRIBE {qualified_name(target.table)}").fetchall()
    }
    staged = ", ".join(
        (
            f"sha256({quote_identifier(n)})"
            if contract.column(n).mask == Mask.SHA256
            else quote_identifier(n)
        )
        + f" AS {quote_identifier(n)}"
        for n in keys
    )
    kept = ", ".join(
        quote_identifier(n) if n in published else f"NULL AS {quote_identifier(n)}" for n in keys
    )
    # A temp table of the key columns only (a view could not take the window as parameters).
    predicate, bounds = _window_predicate(target.partition_column, partition)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {quote_identifier(_KEYED)} AS "
        f"SELECT {staged} FROM {quote_identifier(_STAGE)} UNION ALL BY NAME "
        f"SELECT {kept} FROM {qualified_name(target.table)} WHERE NOT {predicate}",
        bounds,
    )
    return quote_identifier(_KEYED)


def _volume_outcome(
    con: duckdb.DuckDBPyConnection,
    target: PublishTarget,
    partition: PartitionWindow | None,
    rows: int,
) -> CheckOutcome | None:
    """The volume guard, judged against the rows this publish replaces (the partition's, if any)."""
    where, bounds = "", []
    if partition is not None and target.partition_column:
        predicate, bounds = _window_predicate(target.partition_column, partition)
        where = f" WHERE {predicate}"
    table = qualified_name(target.table)
    previous = int(con.execute(f"SELECT COUNT(*) FROM {table}{where}", bounds).fetchone()[0])
    refusal = target.volume.refusal(previous, rows)
    return None if refusal is None else _volume_refusal(refusal, previous, rows)


def _volume_refusal(refusal: str, previous: int, rows: int) -> CheckOutcome:
    return CheckOutcome(
        None, f"volume: {refusal}", 1, "duckdb", [{"previous_rows": previous, "rows": rows}]
    )


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
        if column.mask == Mask.SHA256:
            parts.append(f"sha256({col}) AS {col}")
        elif column.mask == Mask.REDACTED:
            parts.append(f"CASE WHEN {col} IS NULL THEN NULL ELSE '[redacted]' END AS {col}")
        else:
            parts.append(col)
    return ", ".join(parts)


def _publish_staged(
    con: duckdb.DuckDBPyConnection,
    target: PublishTarget,
    partition: PartitionWindow | None,
    rows: int,
    schema: pa.Schema,
    dtypes: dict[str, str],
) -> int | None:
    """Swap the staged rows in, and log the publication, in one transaction: all or nothing. Returns
    the lake's snapshot of it (None on the DuckDB file)."""
    table = qualified_name(target.table)
    stage = quote_identifier(_STAGE)
    projection = _published_projection(target.contract)
    with _publishing_transaction(con, target) as publication:
        if partition is None or not target.partition_column:
            if table_exists_in(con, target.table):
                _keep_previous_major(con, target)
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {projection} FROM {stage}")
        else:
            if table_exists_in(con, target.table):
                _evolve_partitioned_table(con, target)
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {table} AS SELECT {projection} FROM {stage} LIMIT 0"
            )
            predicate, bounds = _window_predicate(target.partition_column, partition)
            con.execute(f"DELETE FROM {table} WHERE {predicate}", bounds)
            con.execute(f"INSERT INTO {table} BY NAME SELECT {projection} FROM {stage}")
        _log_publication(con, target, partition, rows, schema, dtypes, stage, publication.id)
    return publication.snapshot


@dataclass
class _Publication:
    """One publishing transaction: the id its log row and its lake snapshot share, and the snapshot
    once committed."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    snapshot: int | None = None


class PublishConflictError(DagmeshError):
    """Another writer changed what this publish changed, at the same time, more often than retried."""


T = TypeVar("T")
# A DuckLake commit that conflicts with a concurrent one (DuckLake retries the others itself).
_CONFLICT_RETRIES = 3


def _with_retries(target: PublishTarget, publish: Callable[[], T]) -> T:
    """`publish` (one whole publishing transaction), retried when it lost a write conflict to a
    concurrent transaction: rolled back, nothing of it is visible, so it is safe to run again."""
    for attempt in range(_CONFLICT_RETRIES + 1):
        try:
            return publish()
        except duckdb.TransactionException as error:
            if not _lost_to_a_concurrent_commit(error):
                raise
            if attempt == _CONFLICT_RETRIES:
                raise PublishConflictError(
                    f"{target.product} (owners: {', '.join(target.owners) or 'unknown'}): another "
                    f"writer changed {_conflicting(error, target)} at the same time, "
                    f"{_CONFLICT_RETRIES + 1} times. Nothing of this publish was published; the last "
                    "good version stays. Rerun it when the other run has finished. DuckDB said: "
                    f"{error}"
                ) from error
            time.sleep(0.05 * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")


# Two commits to a lake whose catalog is in PostgreSQL can pick the same next snapshot (or file) id; the
# later one's insert then violates the catalog's primary key (duckdb/ducklake#1094, #1283). It lost to
# a concurrent commit like any conflict, and once DuckLake's own retries are spent it reaches us so.
_CATALOG_ID_COLLISION = re.compile(
    r'duplicate key value violates unique constraint "ducklake_\w+_pkey"'
)


def _lost_to_a_concurrent_commit(error: duckdb.TransactionException) -> bool:
    message = str(error)
    return "conflict" in message.lower() or bool(_CATALOG_ID_COLLISION.search(message))


def _conflicting(error: Exception, target: PublishTarget) -> str:
    """What the conflict was over, as a product when the error names a product's table."""
    if _CATALOG_ID_COLLISION.search(str(error)):
        return "the lake's catalog (both commits took the same next id)"
    found = re.search(r'"?([A-Za-z_][\w]*)"?\."?([A-Za-z_][\w]*)"?', str(error))
    if not found:
        return f"the tables of {target.product}"
    schema, table = found.groups()
    if schema == PUBLICATIONS_TABLE[0]:
        return "the publication log"
    return f"{schema}/{table}" + (" (this same product)" if (schema, table) == target.table else "")


@contextmanager
def _publishing_transaction(
    con: duckdb.DuckDBPyConnection, target: PublishTarget
) -> Iterator[None]:
    """BEGIN ... COMMIT of one publish, rolled back on any error. The publication log is created
    before it (once, one creation at a time); the product's schema inside it, so a violation of a new
    product leaves no schema. Two transactions creating the same schema at once conflict in DuckDB's
    catalog (`dagmesh run --parallel`): a publish whose schema does not exist yet holds the process's
    lock for new schemas until it has committed."""
    with _CATALOG_CHANGES:
        _ensure_log(con)
    schema = target.table[0]
    new_schema = not _schema_exists(con, schema)
    publication = _Publication()
    on_lake = _on_lake(con)
    with _NEW_SCHEMAS if new_schema else nullcontext():
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
            yield publication
            check_stop(f"{target.product} was published")  # nothing of it is: rolled back
            if on_lake:
                lakehouse.name_the_commit(
                    con, f"publish {target.product} {target.version}".strip(), publication.id
                )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
    if on_lake:
        publication.snapshot = lakehouse.last_committed_snapshot(con)


def _drop_temporaries(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], views: Sequence[str]
) -> None:
    """After a publish, whatever happened: its temporary objects and the registered incoming data go.
    Named in the temporary catalog (`temp.main`), so the lake's catalog is never asked, and never
    raising: when the publish failed (the lake's catalog unreachable, say), its error is the one to
    see, not a failed cleanup's."""
    for name in tables:
        with suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS temp.main.{quote_identifier(name)}")
    for name in views:
        with suppress(duckdb.Error):
            con.execute(f"DROP VIEW IF EXISTS temp.main.{quote_identifier(name)}")
    with suppress(duckdb.Error, KeyError):
        con.unregister(_INCOMING)


def _on_lake(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute("SELECT current_database()").fetchone()
    return bool(found) and found[0] == lakehouse.LAKE


@contextmanager
def in_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT around the block, rolled back on any error; when COMMIT itself fails (a full
    disk), its error is the one raised, never the rollback's "no transaction is active"."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction. A failed COMMIT has already ended it: then the error that
    failed it is the one to see, not "no transaction is active". A connection already closed (a run
    stopped mid-publish) has nothing left to roll back: DuckDB never committed it."""
    with suppress(duckdb.TransactionException, duckdb.ConnectionException):
        con.execute("ROLLBACK")


def _log_publication(
    con: duckdb.DuckDBPyConnection,
    target: PublishTarget,
    partition: PartitionWindow | None,
    rows: int,
    schema: pa.Schema,
    dtypes: dict[str, str],
    staged: str,
    publication: str,
) -> None:
    """One row of the publication log, inside the publishing transaction: `staged` is the relation its
    column types are read from (before masking). `dtypes` are the frame's
    (for a product without a contract); a contract's own dtypes win: a consumer gets the contract's
    dtypes (pandera accepts int64 data for an Int64 column, and object strings for `string`), whatever
    the frame of this run happened to hold."""
    log = qualified_name(PUBLICATIONS_TABLE)  # created by _publishing_transaction
    columns = con.execute(f"DESCRIBE {staged}").fetchall()
    contract = target.contract
    pandas_dtypes = {
        str(name): contract.column(name).pandas_dtype if contract else dtypes[name]
        for name in schema.names
    }
    values = {
        "product": target.product,
        "table_name": f"{target.table[0]}.{target.table[1]}",
        "version": target.version,
        "partition_key": partition.label if partition else None,
        "row_count": rows,
        "columns": json.dumps([[c[0], c[1]] for c in columns]),
        "published_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "access": target.access,
        "owners": json.dumps(list(target.owners)),
        "allowed_consumers": json.dumps(list(target.allowed_consumers)),
        "max_lag_seconds": target.max_lag_seconds,
        "arrow_schema": base64.b64encode(
            schema.remove_metadata().serialize().to_pybytes()
        ).decode(),
        "pandas_dtypes": json.dumps(pandas_dtypes),
        "publication_id": publication,
        "run_id": target.run_id,
        "previous_major_until": target.deprecation_date,
    }
    names = ", ".join(quote_identifier(n) for n in values)
    placeholders = ", ".join("?" for _ in values)
    con.execute(f"INSERT INTO {log} ({names}) VALUES ({placeholders})", list(values.values()))


_HISTORY_COLUMNS = (
    "published_at",
    "version",
    "row_count",
    "partition_key",
    "run_id",
    "publication_id",
)


def _log_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The columns the publication log has (a log written by an older dagmesh has fewer)."""
    return {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
            "current_database() AND table_schema = ? AND table_name = ?",
            list(PUBLICATIONS_TABLE),
        ).fetchall()
    }


def _history_in(
    con: duckdb.DuckDBPyConnection, table: tuple[str, str], on_lake: bool
) -> list[dict[str, object]]:
    """`MeshWarehouse.history` on an open connection."""
    if not table_exists_in(con, PUBLICATIONS_TABLE):
        return []
    present = _log_columns(con)
    wanted = [c for c in _HISTORY_COLUMNS if c in present]
    selected = ", ".join(quote_identifier(c) for c in wanted)
    rows = con.execute(
        f"SELECT {selected} FROM {qualified_name(PUBLICATIONS_TABLE)} "
        "WHERE table_name = ? ORDER BY published_at",
        [f"{table[0]}.{table[1]}"],
    ).fetchall()
    snapshots = lakehouse.publication_snapshots(con) if on_lake else {}
    entries = []
    for row in rows:
        entry = dict(zip(wanted, row, strict=True))
        found = snapshots.get(str(entry.get("publication_id")))
        entry["snapshot"] = found[0] if found else None
        # on a lake, a publication whose snapshot is gone was expired by lake maintenance
        entry["expired"] = bool(on_lake and entry.get("publication_id") and found is None)
        entries.append(entry)
    return entries


def _ensure_log(con: duckdb.DuckDBPyConnection) -> str:
    """The publication log, created or given the columns newer versions of dagmesh record."""
    log = qualified_name(PUBLICATIONS_TABLE)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(PUBLICATIONS_TABLE[0])}")
    definition = ", ".join(f"{name} {type_}" for name, type_ in _LOG_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS {log} ({definition})")
    present = _log_columns(con)
    # Only what is missing (a log written by an older dagmesh): on a lake each ALTER is a catalog
    # round trip, even one that changes nothing.
    for name, type_ in _LOG_COLUMNS:
        if name not in present:
            con.execute(f"ALTER TABLE {log} ADD COLUMN IF NOT EXISTS {name} {type_}")
    return log


def _evolve_partitioned_table(con: duckdb.DuckDBPyConnection, target: PublishTarget) -> None:
    """Bring a partitioned table to the staged columns before a partition is written: columns the
    contract added are added (NULL in the other partitions); a removed or retyped column is a breaking
    change, refused unless the major version was bumped, which starts a new table and keeps the old
    one beside it as `<table>__v<major>` (nothing is deleted)."""
    table = qualified_name(target.table)
    published = {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    projection = _published_projection(target.contract)
    stage = quote_identifier(_STAGE)
    described = con.execute(f"DESCRIBE SELECT {projection} FROM {stage}").fetchall()
    staged = {r[0]: r[1] for r in described}
    removed = [name for name in published if name not in staged]
    retyped = [
        f"{name} {published[name]} -> {type_}"
        for name, type_ in staged.items()
        if name in published and published[name] != type_
    ]
    if removed or retyped:
        previous = _latest_version(con, target.table)
        if _major(target.version) > _major(previous):
            archive = f"{target.table[1]}__v{_major(previous)}"
            con.execute(f"ALTER TABLE {table} RENAME TO {quote_identifier(archive)}")
            return
        changes = [f"column {name} removed" for name in removed] + retyped
        raise DagmeshError(
            f"{target.product} (owners: {', '.join(target.owners) or 'no owner declared'}): breaking "
            f"change against the published table without a major version bump: {'; '.join(changes)}. "
            f"Published version {previous or 'unknown'}, declared {target.version or 'unknown'}. Bump "
            "the major version (`dagmesh check` lists the consumers to tell) or keep the column "
            "compatible. Nothing was published."
        )
    for name, type_ in staged.items():
        if name not in published:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_identifier(name)} {type_}")


def archive_table(table: tuple[str, str], major: int) -> tuple[str, str]:
    """Where a previous major of `table` is served after a major bump."""
    return table[0], f"{table[1]}__v{major}"


def _previous_major_kept_as(
    con: duckdb.DuckDBPyConnection, target: PublishTarget
) -> tuple[str, str] | None:
    """Where the table as the previous major published it is kept, when this publish bumps the major."""
    previous = _latest_version(con, target.table)
    if not previous or _major(target.version) <= _major(previous):
        return None
    return archive_table(target.table, _major(previous))


def _move_previous_major(con: duckdb.DuckDBPyConnection, target: PublishTarget) -> bool:
    """`_keep_previous_major` for a table about to be replaced whole: renamed, not copied. Whether
    it was moved (the product's own name is free then)."""
    kept = _previous_major_kept_as(con, target)
    if kept is None:
        return False
    con.execute(f"DROP TABLE IF EXISTS {qualified_name(kept)}")
    con.execute(f"ALTER TABLE {qualified_name(target.table)} RENAME TO {quote_identifier(kept[1])}")
    return True


def _keep_previous_major(con: duckdb.DuckDBPyConnection, target: PublishTarget) -> None:
    """Inside the publishing transaction, before the table is replaced: on a major bump, the table as
    the previous major published it is kept as `<table>__v<major>`, for consumers pinned to it
    (`sales/orders@1`) until the deprecation date; nothing is deleted."""
    kept = _previous_major_kept_as(con, target)
    if kept is None:
        return
    con.execute(
        f"CREATE OR REPLACE TABLE {qualified_name(kept)} AS "
        f"SELECT * FROM {qualified_name(target.table)}"
    )


class MajorNotServedError(DagmeshError):
    """A consumer pinned to a major its producer no longer serves."""


def served_table(
    con: duckdb.DuckDBPyConnection,
    table: tuple[str, str],
    major: int | None,
    consumer: str,
    today: dt.date | None = None,
) -> tuple[str, str]:
    """The table a consumer pinned to `major` reads: the product's own while its current major is
    that one, else the previous major's kept table until its deprecation date."""
    if major is None:  # unpinned: the product's own table, without asking the log again
        return table
    latest = latest_publication_in(con, table)
    if latest is None or _major(str(latest.get("version") or "")) == major:
        return table
    current = _major(str(latest.get("version") or ""))
    product = f"{table[0]}/{table[1]}"
    until = _served_until(con, table, major)
    archive = archive_table(table, major)
    if major > current or until is None or not table_exists_in(con, archive):
        raise MajorNotServedError(
            f"{consumer} reads {product}@{major}, but {product} publishes major {current} and does "
            f"not serve major {major}; read @{current} (see the changes in `dagmesh check`). Nothing "
            "was loaded."
        )
    if (today or dt.date.today()) > until:
        raise MajorNotServedError(
            f"{consumer} reads {product}@{major}, served only until {until.isoformat()} (its "
            f"deprecation date); move to @{current}. Nothing was loaded."
        )
    return archive


def _served_until(
    con: duckdb.DuckDBPyConnection, table: tuple[str, str], major: int
) -> dt.date | None:
    """The deprecation date recorded by the first publication after `major`, if any."""
    if not table_exists_in(con, PUBLICATIONS_TABLE):
        return None
    rows = con.execute(
        f"SELECT version, previous_major_until FROM {qualified_name(PUBLICATIONS_TABLE)} "
        "WHERE table_name = ? ORDER BY published_at",
        [f"{table[0]}.{table[1]}"],
    ).fetchall()
    for version, until in rows:
        if _major(str(version or "")) > major:
            return until
    return None


def _kept_majors(
    con: duckdb.DuckDBPyConnection,
) -> list[tuple[str, str, int, dt.date | None]]:
    """(schema, table, major, served until) of every kept previous-major table."""
    kept = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = "
        "current_database() AND regexp_matches(table_name, '__v[0-9]+$') ORDER BY ALL"
    ).fetchall()
    found = []
    for schema, name in kept:
        base, major = name.rsplit("__v", 1)
        found.append((schema, base, int(major), _served_until(con, (schema, base), int(major))))
    return found


def retire_expired_majors(
    con: duckdb.DuckDBPyConnection, today: dt.date | None = None
) -> list[str]:
    """Drop every kept previous-major table whose deprecation date has passed; the tables retired."""
    if not table_exists_in(con, PUBLICATIONS_TABLE):
        return []
    retired = []
    for schema, base, major, until in _kept_majors(con):
        if until is not None and (today or dt.date.today()) > until:
            con.execute(f"DROP TABLE {qualified_name(archive_table((schema, base), major))}")
            retired.append(f"{schema}/{base}@{major}")
    return retired


def latest_publication_in(
    con: duckdb.DuckDBPyConnection, table: tuple[str, str]
) -> dict[str, object] | None:
    """The newest row of the publication log for `table`, by column name; None if there is none."""
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


def publication_of(
    con: duckdb.DuckDBPyConnection, table: tuple[str, str]
) -> dict[str, object] | None:
    """The newest publication record of the product `table` serves: its own, or for a kept previous
    major (`<table>__v<major>`) its product's, so an archived major is held to the same access level."""
    latest = latest_publication_in(con, table)
    archived = re.fullmatch(r"(.+)__v\d+", table[1])
    if latest is None and archived:
        latest = latest_publication_in(con, (table[0], archived.group(1)))
    return latest


def _latest_version(con: duckdb.DuckDBPyConnection, table: tuple[str, str]) -> str:
    latest = latest_publication_in(con, table)
    return str(latest.get("version") or "") if latest else ""


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _as_published(
    arrow: pa.Table, published: tuple[pa.Schema, dict[str, str]] | None
) -> pd.DataFrame:
    """Rows read from a table as pandas with the types it was published with, where the log has them."""
    return arrow_to_pandas(arrow) if published is None else restore_types(arrow, *published)


def _published_types(
    con: duckdb.DuckDBPyConnection, table: tuple[str, str]
) -> tuple[pa.Schema, dict[str, str]] | None:
    """The Arrow schema and pandas dtypes `table` was last published with, when the log has them
    (logs written before dagmesh recorded types have no such columns)."""
    latest = latest_publication_in(con, table)
    if not latest or not latest.get("arrow_schema"):
        return None
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(str(latest["arrow_schema"]))))
    return schema, json.loads(str(latest.get("pandas_dtypes") or "{}"))
