"""Reading a whole table into Arrow, in row order, on every DuckDB thread.

DuckDB converts an ordered result to Arrow on one thread. A whole-table read is the most common IO in the
mesh (every consumer loads its inputs), so a large one is split into contiguous `rowid` ranges, one cursor
per DuckDB thread, and the pieces are joined in order: the same table, 30-40% faster at 1-5M rows
(benchmarks/io_bench.py). Each cursor reads its own snapshot, so the caller passes a `version` of the
table (`MeshWarehouse.read`: its publication log entry); if it changed while the pieces were read, or the
pieces miss rows, the table is read again in one query.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import duckdb
import pyarrow as pa

ROW_GROUP = 122_880  # DuckDB's rows per row group: a smaller table gains nothing from splitting


def row_ranges(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[tuple[int, int]], int]:
    """Contiguous `[start, end)` rowid ranges covering `name`, one per thread, and its row count; no
    ranges (read in one query) for a small table, a view (no rowid), or a table with a column named
    `rowid`."""
    threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    try:
        columns = {str(row[0]).lower() for row in con.execute(f"DESCRIBE {name}").fetchall()}
    except duckdb.Error:
        return [], 0
    if "rowid" in columns:  # a column of that name hides DuckDB's row id: read in one query
        return [], 0
    try:
        low, high, rows = con.execute(
            f"SELECT MIN(rowid), MAX(rowid), COUNT(*) FROM {name}"
        ).fetchone()
    except duckdb.BinderException:
        return [], 0
    parts = min(threads, rows // ROW_GROUP)
    if parts < 2:
        return [], rows
    bounds = [low + (high + 1 - low) * i // parts for i in range(parts + 1)]
    return list(pairwise(bounds)), rows


def read_whole_table(
    con: duckdb.DuckDBPyConnection, name: str, version: Callable[[], object] = lambda: None
) -> pa.Table:
    """`SELECT * FROM name` as Arrow, rows in table order; `name` is an already quoted identifier."""
    ranges, rows = row_ranges(con, name)
    if ranges:
        before = version()
        with ThreadPoolExecutor(len(ranges), thread_name_prefix="dagmesh-read") as pool:
            pieces = pa.concat_tables(pool.map(lambda r: _read_range(con, name, r), ranges))
        # A change between the range query and `before` shows as a different row count.
        if version() == before and pieces.num_rows == rows:
            return pieces
    return con.execute(f"SELECT * FROM {name}").to_arrow_table()


def _read_range(con: duckdb.DuckDBPyConnection, name: str, bounds: tuple[int, int]) -> pa.Table:
    cursor = con.cursor()
    try:
        predicate = "rowid >= ? AND rowid < ?"
        return cursor.execute(f"SELECT * FROM {name} WHERE {predicate}", bounds).to_arrow_table()
    finally:
        cursor.close()
