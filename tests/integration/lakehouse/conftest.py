"""The lakehouse tests' servers (tests/helpers/lake_servers.py documents them) and DuckDB connections
with DuckLake's extensions loaded offline.

`lake(catalog, data_path, *, s3=None)` opens a fresh in-memory DuckDB database (its own instance: nothing
cached from another connection), with ducklake, postgres and httpfs loaded from their packages and
DuckDB's extension downloads switched off, and attaches `catalog` (a `ducklake:...` URI) as `lake` with
`data_path` as its DATA_PATH; with `s3` (an S3Server) it first creates the S3 secret for that server.
Every connection it opened is closed after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb
import pytest

from dagmesh.storage.extensions import load_extensions
from tests.helpers.lake_servers import S3Server, postgres_server, s3_server

__all__ = ["lake", "postgres_server", "s3_server"]


def _offline_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that cannot download an extension, with DuckLake's extensions loaded."""
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    load_extensions(con, "ducklake", "postgres", "httpfs")
    return con


@pytest.fixture
def lake() -> Iterator[Callable[..., duckdb.DuckDBPyConnection]]:
    opened: list[duckdb.DuckDBPyConnection] = []

    def connect(
        catalog: str, data_path: object, *, s3: S3Server | None = None
    ) -> duckdb.DuckDBPyConnection:
        con = _offline_duckdb()
        opened.append(con)
        if s3 is not None:
            con.execute(s3.secret_sql())
        con.execute(f"ATTACH '{catalog}' AS lake (DATA_PATH '{data_path}')")
        return con

    yield connect
    for con in opened:
        con.close()
