"""The DuckLake lakehouse backend: where the warehouse lives when many processes on many machines write.

The catalog (PostgreSQL for deployments; SQLite or a DuckDB file for local use) and the data path (a
folder or S3) come from the settings (`DAGMESH_WAREHOUSE=ducklake:...`, `DAGMESH_LAKE_DATA`);
credentials only from the environment, read when a connection is opened, never kept in a resource's
configuration (which the Dagster UI shows). Each connection is a DuckDB database of its own in memory
with the lake attached as `lake` and made the default catalog, so the platform's SQL (`schema.table`)
runs unchanged and temporary tables and views stay in the connection. DuckLake writes each table's
Parquet files under `<data path>/<schema>/<table>/`: a domain writes under its own path.

Every committed transaction is a DuckLake snapshot. A publish names itself in its snapshot's commit
message (`set_commit_message`, extra info `{"publication": id}`), which is how the publication log's
rows and the snapshots they made are matched (`history`).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from dataclasses import dataclass

import duckdb

from dagmesh.core.errors import DagmeshError
from dagmesh.storage.extensions import load_extensions
from dagmesh.storage.sql import quote_identifier

LAKE = "lake"  # the name the lake is attached as
PREFIX = "ducklake:"
AUTHOR = "dagmesh"


class LakeSettingsError(DagmeshError):
    """The lakehouse settings cannot describe a lake."""


@dataclass(frozen=True)
class LakeLocation:
    """Where a lake is: DuckLake's catalog (its ATTACH string) and data path, and how to reach S3."""

    catalog: (
        str  # "ducklake:postgres:dbname=lake host=...", "ducklake:sqlite:...", "ducklake:<file>"
    )
    data_path: str  # a folder, or s3://bucket/prefix/
    s3_endpoint: str | None = None
    s3_url_style: str = "vhost"
    s3_use_ssl: bool = True
    s3_region: str = "us-east-1"

    def __post_init__(self) -> None:
        if not self.catalog.startswith(PREFIX) or len(self.catalog) == len(PREFIX):
            raise LakeSettingsError(
                f"a lake catalog is DuckLake's ATTACH string, e.g. 'ducklake:postgres:dbname=lake "
                f"host=...'; got {self.catalog!r}"
            )
        if not self.data_path:
            raise LakeSettingsError("a lake needs a data path (DAGMESH_LAKE_DATA)")
        if self.s3_url_style not in ("vhost", "path"):
            raise LakeSettingsError(
                f"DAGMESH_S3_URL_STYLE is 'vhost' or 'path', not {self.s3_url_style!r}"
            )

    @property
    def described(self) -> str:
        """The catalog and data path with any password in the catalog string masked."""
        masked = re.sub(r"(password\s*=\s*)\S+", r"\1***", self.catalog, flags=re.IGNORECASE)
        return f"{masked} (data: {self.data_path})"

    @property
    def on_postgres(self) -> bool:
        return self.catalog.startswith(f"{PREFIX}postgres:")

    @property
    def on_sqlite(self) -> bool:
        return self.catalog.startswith(f"{PREFIX}sqlite:")

    @property
    def on_s3(self) -> bool:
        return self.data_path.startswith("s3://")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach(con: duckdb.DuckDBPyConnection, lake: LakeLocation) -> None:
    """Attach `lake` to `con` as `lake`, the default catalog from then on. Extensions load offline;
    S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), the
    PostgreSQL password from libpq's PGPASSWORD or its password file."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    load_extensions(
        con,
        "ducklake",
        *(("postgres",) if lake.on_postgres else ()),
        *(("sqlite",) if lake.on_sqlite else ()),
        *(("httpfs",) if lake.on_s3 else ()),
    )
    if lake.on_s3:
        _s3_secret(con, lake)
    statement = (
        f"ATTACH {_literal(lake.catalog)} AS {quote_identifier(LAKE)} "
        f"(DATA_PATH {_literal(lake.data_path)})"
    )
    for attempt in range(_ATTACH_RETRIES + 1):
        try:
            con.execute(statement)
            break
        except duckdb.Error as error:
            # Processes attaching a new catalog at once race to create its tables; the losers find
            # them half-made ("duplicate key", "already exists"). Once one has made them, all attach.
            if attempt == _ATTACH_RETRIES or not _creation_race(error):
                raise
            time.sleep(0.1 * 2**attempt * (0.5 + random.random()))
    con.execute(f"USE {quote_identifier(LAKE)}")


_ATTACH_RETRIES = 5


def _creation_race(error: Exception) -> bool:
    text = str(error)
    return "Failed to initialize DuckLake" in text and (
        "already exists" in text or "duplicate key" in text
    )


def _s3_secret(con: duckdb.DuckDBPyConnection, lake: LakeLocation) -> None:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise LakeSettingsError(
            f"the lake's data is on S3 ({lake.data_path}) but AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY are not both set in the environment"
        )
    options = {
        "TYPE": "S3",
        "KEY_ID": _literal(key),
        "SECRET": _literal(secret),
        "REGION": _literal(lake.s3_region),
        "URL_STYLE": _literal(lake.s3_url_style),
        "USE_SSL": "true" if lake.s3_use_ssl else "false",
    }
    if token := os.environ.get("AWS_SESSION_TOKEN"):
        options["SESSION_TOKEN"] = _literal(token)
    if lake.s3_endpoint:
        options["ENDPOINT"] = _literal(lake.s3_endpoint)
    # every value above is a string literal (`_literal`) or a fixed keyword
    secret_options = ", ".join(f"{name} {value}" for name, value in options.items())
    con.execute(f"CREATE OR REPLACE TEMPORARY SECRET dagmesh_lake_s3 ({secret_options})")


# One in-memory database per lake (and configuration) in a process, the lake attached once: each
# connection is a cursor on it, with transactions and temporary objects of its own. Loading the
# extension and attaching cost 0.15 s per database, which every step would otherwise pay.
_DATABASES: dict[tuple[LakeLocation, tuple], duckdb.DuckDBPyConnection] = {}
_DATABASES_LOCK = threading.Lock()


def connect(lake: LakeLocation, config: dict[str, object]) -> duckdb.DuckDBPyConnection:
    """A new connection to `lake` (close it when done): `lake` is its default catalog."""
    key = (lake, tuple(sorted((k, str(v)) for k, v in config.items())))
    with _DATABASES_LOCK:
        database = _DATABASES.get(key)
        if database is None:
            database = duckdb.connect(":memory:", config=config)
            try:
                database.execute("SET enable_progress_bar = false")
                attach(database, lake)
            except BaseException:
                database.close()
                raise
            _DATABASES[key] = database
        # a DuckDB connection object is not for several threads at once: new cursors one at a time
        con = database.cursor()
    con.execute(f"USE {quote_identifier(LAKE)}")
    return con


def name_the_commit(con: duckdb.DuckDBPyConnection, message: str, publication: str) -> None:
    """Inside a transaction: the snapshot it makes carries `message` and the publication's id."""
    con.execute(
        f"CALL {quote_identifier(LAKE)}.set_commit_message(?, ?, extra_info => ?)",
        [AUTHOR, message, json.dumps({"publication": publication})],
    )


def last_committed_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    """The snapshot this connection's last commit made."""
    found = con.execute(f"FROM {quote_identifier(LAKE)}.last_committed_snapshot()").fetchone()
    return None if found is None or found[0] is None else int(found[0])


def publication_snapshots(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, object]]:
    """Publication id -> (snapshot id, snapshot time), for every snapshot a publish made."""
    rows = con.execute(
        f"SELECT snapshot_id, snapshot_time, commit_extra_info FROM {quote_identifier(LAKE)}.snapshots() "
        "WHERE author = ? AND commit_extra_info IS NOT NULL",
        [AUTHOR],
    ).fetchall()
    found: dict[str, tuple[int, object]] = {}
    for snapshot, moment, extra in rows:
        try:
            publication = json.loads(extra).get("publication")
        except (ValueError, AttributeError):
            continue
        if isinstance(publication, str):
            found[publication] = (int(snapshot), moment)
    return found
