"""SQL over a product's input frames, run by an in-memory DuckDB: the aggregate products' workhorse."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas the way every dagmesh read does: nanosecond timestamps, strings deduplicated
    (Arrow's default), several times faster and leaner than DuckDB's `fetchdf`."""
    return table.to_pandas(date_as_object=False, coerce_temporal_nanoseconds=True)


def query(sql: str, params: list[object] | None = None, **frames: pd.DataFrame) -> pd.DataFrame:
    """Run `sql` with each keyword frame visible as a table of that name; return pandas via Arrow."""
    with duckdb.connect() as con:
        for name, frame in frames.items():
            con.register(name, frame)
        arrow = con.execute(sql, params or []).to_arrow_table()
    return arrow_to_pandas(arrow)
