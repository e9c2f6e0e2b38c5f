"""Dagster's SQLite run storage on a kept engine (`dagmesh.binding.sqlite_engines`).

The stock `SqliteRunStorage` builds an engine for every call; a `dagmesh run` calls it hundreds of times
(creating runs, their status, tags, and the scorecard's reads). Everything else is Dagster's: the schema,
`$DAGSTER_HOME/history/runs.db`, migrations. The mesh's own dagster.yaml names this class.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.runs import SqliteRunStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

from dagmesh.binding.sqlite_engines import local_engine


class MeshSqliteRunStorage(SqliteRunStorage):
    """`SqliteRunStorage` reusing one engine (configured like it: `base_dir`)."""

    _engine: Engine | None = None
    _engine_lock = threading.Lock()

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> MeshSqliteRunStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engine_lock:
            if self._engine is None:
                self._engine = local_engine(self._conn_string)
            engine = self._engine
        with engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        super().dispose()
