"""DuckLake on a real PostgreSQL catalog, with its data files in a local folder or on an S3 server: what
one connection commits, a fresh DuckDB database (nothing cached) reads back, and the catalog lists it.

DuckLake 1.0 inlines small inserts (10 rows or fewer by default) into the catalog instead of writing a
Parquet file; the tables here are larger where a data file is what is checked.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

ROWS = 1000


def _write_orders(con) -> None:
    con.execute("BEGIN")
    con.execute("CREATE TABLE lake.orders (id BIGINT, amount DECIMAL(12, 2), region VARCHAR)")
    con.execute(
        f"INSERT INTO lake.orders SELECT range, (range % 97) * 1.25, 'r' || (range % 5) "
        f"FROM range({ROWS})"
    )
    con.execute("COMMIT")
    con.execute("INSERT INTO lake.orders VALUES (-1, 0.50, 'late')")  # a second commit, inlined


def _read_orders(con) -> tuple:
    return con.execute(
        "SELECT COUNT(*), SUM(amount), COUNT(DISTINCT region), MIN(id) FROM lake.orders"
    ).fetchone()


# rows, the amounts' sum, regions, the late row's id
EXPECTED = (
    ROWS + 1,
    sum(Decimal(i % 97) * Decimal("1.25") for i in range(ROWS)) + Decimal("0.50"),
    6,
    -1,
)


def _snapshot_changes(con) -> list[dict]:
    return [
        changes
        for (changes,) in con.execute(
            "SELECT changes FROM ducklake_snapshots('lake') ORDER BY snapshot_id"
        ).fetchall()
    ]


def test_a_postgres_catalog_with_local_data_files(postgres_server, lake, tmp_path):
    database = postgres_server.create_database()
    catalog = postgres_server.ducklake(database)
    files = tmp_path / "lake-files"
    writer = lake(catalog, files)
    _write_orders(writer)

    reader = lake(catalog, files)  # another DuckDB database: all it knows is in PostgreSQL + files
    assert _read_orders(reader) == EXPECTED

    changes = _snapshot_changes(reader)
    # snapshot 0 creates the schema; the transaction is one snapshot; the late row another
    assert len(changes) == 3
    assert changes[0] == {"schemas_created": ["main"]}
    assert changes[1]["tables_created"] == ["main.orders"]
    assert "tables_inserted_into" in changes[1]
    assert "inlined_insert" in changes[2]

    # the catalog really is PostgreSQL's: its tables there say the same
    assert postgres_server.execute("SELECT COUNT(*) FROM ducklake_snapshot", database=database) == [
        (3,)
    ]
    assert postgres_server.execute(
        "SELECT table_name FROM ducklake_table WHERE end_snapshot IS NULL", database=database
    ) == [("orders",)]
    # the 1000 rows are one Parquet file under the data path
    parquet = sorted(Path(files).rglob("*.parquet"))
    assert len(parquet) == 1 and parquet[0].relative_to(files).parts[:2] == ("main", "orders")
    assert reader.execute(f"SELECT COUNT(*) FROM '{parquet[0]}'").fetchone() == (ROWS,)


def test_a_postgres_catalog_with_data_files_on_s3(postgres_server, s3_server, lake, tmp_path):
    database = postgres_server.create_database()
    catalog = postgres_server.ducklake(database)
    prefix = s3_server.prefix()
    writer = lake(catalog, prefix, s3=s3_server)
    _write_orders(writer)

    reader = lake(catalog, prefix, s3=s3_server)
    assert _read_orders(reader) == EXPECTED
    assert len(_snapshot_changes(reader)) == 3

    keys = s3_server.keys(prefix)
    assert len(keys) == 1 and keys[0].endswith(".parquet")
    key_prefix = prefix.removeprefix(f"s3://{s3_server.bucket}/")
    assert keys[0].startswith(f"{key_prefix}main/orders/")
    # the catalog's file entry points at that object, and DuckDB reads it from the server
    (data_file,) = reader.execute(
        "SELECT data_file FROM ducklake_list_files('lake', 'orders')"
    ).fetchone()
    assert data_file == f"s3://{s3_server.bucket}/{keys[0]}"
    assert reader.execute(f"SELECT COUNT(*) FROM '{data_file}'").fetchone() == (ROWS,)
    assert not list(tmp_path.rglob("*.parquet"))  # nothing landed locally


def test_committed_data_survives_a_postgres_restart(postgres_server, lake, tmp_path):
    database = postgres_server.create_database()
    catalog = postgres_server.ducklake(database)
    files = tmp_path / "lake-files"
    writer = lake(catalog, files)
    _write_orders(writer)
    started = postgres_server.execute("SELECT pg_postmaster_start_time()")

    postgres_server.restart()
    assert postgres_server.running
    assert postgres_server.execute("SELECT pg_postmaster_start_time()") != started

    after = lake(catalog, files)
    assert _read_orders(after) == EXPECTED
    assert len(_snapshot_changes(after)) == 3
    # and the lake takes commits again
    after.execute("INSERT INTO lake.orders VALUES (-2, 1.00, 'after')")
    assert after.execute("SELECT COUNT(*) FROM lake.orders").fetchone() == (ROWS + 2,)
    # DuckDB's postgres extension reconnects: the connection opened before the restart reads too
    assert writer.execute("SELECT COUNT(*) FROM lake.orders").fetchone() == (ROWS + 2,)


def test_a_commit_survives_a_postgres_crash(postgres_server, lake, tmp_path):
    """`restart(mode="immediate")` kills the server without a checkpoint: recovery replays the WAL."""
    database = postgres_server.create_database()
    catalog = postgres_server.ducklake(database)
    files = tmp_path / "lake-files"
    _write_orders(lake(catalog, files))

    logged = len(postgres_server.log_text())
    postgres_server.restart(mode="immediate")
    assert "database system was interrupted" in postgres_server.log_text()[logged:]
    assert _read_orders(lake(catalog, files)) == EXPECTED
