"""SQLite engines for Dagster's local storage that keep their connection and write ahead without an fsync
per commit.

Dagster's SQLite storages open a new engine, and a new connection, for every read and write (`NullPool`).
In write-ahead mode closing the last connection checkpoints the log into the database and deletes it, and
every commit syncs the log to disk: strace counted 4,309 fdatasync calls for one `dagmesh run` of the
sample mesh, about four per Dagster event. Here a file keeps one connection, in WAL mode with
`synchronous=NORMAL`: a commit reaches the operating system at once, so a killed process loses nothing and
other processes (the UI, the daemon) read it at once; only a power loss or kernel crash may drop the last
commits, never corrupt the file (SQLite's documented guarantee for WAL with NORMAL). That is the durability
an embedded, local instance needs; a deployment keeps Dagster's run history in PostgreSQL
(docs/deployment.md).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as db
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool


def local_engine(conn_string: str) -> Engine:
    """An engine for one SQLite file of the local instance, its connection kept between uses.

    `check_same_thread` is off because concurrent runs (`dagmesh run --parallel`) are threads: the pool
    hands a connection to one thread at a time, and the storages serialize their use of it."""
    engine = db.create_engine(
        conn_string,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=4,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )
    db.event.listen(engine, "connect", _write_ahead)
    return engine


def _write_ahead(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # Dagster switches a new file to WAL only after creating its tables: from the first statement
        # here, so creating a run's file is cheap too.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
