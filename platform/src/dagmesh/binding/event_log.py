"""Dagster's SQLite event log, with one kept engine per database file instead of one per event.

The stock `SqliteEventLogStorage` creates (and disposes) an engine and a connection for every read and
write, so every stored event pays for engine construction, a checkpoint and several syncs to disk, up to
four times for an asset event (a monthly partitioned product alone writes 160 events). Engines here are
kept (least recently used first out), each with its connection (`dagmesh.binding.sqlite_engines`), and a
new run's file is a copy of a template (`dagmesh.binding.run_shards`); the schema facts Dagster looks up
before each asset event are remembered once true.
Because a kept connection leaves the database file untouched until a checkpoint, the UI's live view of a
run watches the file's write-ahead log too (`watch`). Everything else is Dagster's: the schema, the files
under `$DAGSTER_HOME/storage`, initialisation and locking. The mesh's own `dagster.yaml` names this class
(`MeshSettings.ensure_dagster_home`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorageWatchdog,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

from dagmesh.binding.run_shards import copied_from_template
from dagmesh.binding.sqlite_engines import local_engine

# Engines kept at once: the index shard and the runs being written or read.
_ENGINES_KEPT = 32


class MeshSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` reusing an engine per shard (configured like it: `base_dir`)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        # Schema facts Dagster looks up again before every asset event (a new engine and a reflection
        # each time): once present, a table, column or completed data migration stays.
        self._present: set[tuple[str, str]] = set()
        super().__init__(base_dir, inst_data=inst_data)

    def _once_present(self, fact: tuple[str, str], look_up: Callable[[], bool]) -> bool:
        if fact in self._present:
            return True
        present = look_up()
        if present:
            self._present.add(fact)
        return present

    def has_table(self, table_name: str) -> bool:
        stock = super().has_table
        return self._once_present(("table", table_name), lambda: stock(table_name))

    def has_secondary_index(self, name: str) -> bool:
        stock = super().has_secondary_index
        return self._once_present(("index", name), lambda: stock(name))

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        stock = super()._has_asset_key_col_on_connection
        return self._once_present(
            ("asset key column", column_name), lambda: stock(conn, column_name)
        )

    def wipe(self) -> None:
        self._present.clear()
        super().wipe()

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> MeshSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = local_engine(self.conn_string_for_shard(shard))
            self._engines[shard] = engine
            while len(self._engines) > _ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                if shard == INDEX_SHARD_NAME or not copied_from_template(
                    self._base_dir, self.path_for_shard(shard), self._initdb
                ):
                    self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        """Dagster's watch of a run's events, woken by writes to the run's file *or* its WAL."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunFileWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog,
            self._obs.schedule(watchdog, self._base_dir, recursive=True),
        )

    def dispose(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


class _RunFileWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watchdog for one run's file, also matching the file's write-ahead log."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: Any, cursor: Any):
        super().__init__(storage, run_id, callback, cursor)
        log_path = storage.path_for_shard(run_id)
        self._patterns = [log_path, f"{log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        self._process_log()
