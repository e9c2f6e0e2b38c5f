"""Write and read of a 10-column table: dagmesh (with the contract audit) vs the stock
DuckDBPandasIOManager vs raw DuckDB from Arrow."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
from dagster_duckdb_pandas import DuckDBPandasIOManager

from benchmarks.data import BenchOrders, orders_frame
from benchmarks.timing import compare
from dagmesh.contract import read_contract
from dagmesh.warehouse import MeshWarehouse, PublishTarget

KEY = dg.AssetKey(["bench", "orders"])


def run(rows: int, repeats: int) -> dict:
    frame = orders_frame(rows)
    folder = Path(tempfile.mkdtemp(prefix="dagmesh-bench-io-"))
    stock_db, mesh_db, raw_db = (str(folder / f"{n}.duckdb") for n in ("stock", "mesh", "raw"))
    config = {"database": stock_db, "connection_config": {}, "schema": None}
    stock = DuckDBPandasIOManager(database=stock_db).create_io_manager(
        dg.build_init_resource_context(config=config)
    )
    out_context = dg.build_output_context(asset_key=KEY, resource_config=config)
    in_context = dg.build_input_context(
        asset_key=KEY,
        resource_config=config,
        upstream_output=out_context,
        dagster_type=dg.DagsterType(
            lambda _c, _v: True, typing_type=pd.DataFrame, name="DataFrame"
        ),
    )
    warehouse = MeshWarehouse(database=mesh_db)
    target = PublishTarget(
        "bench/orders", ("bench", "orders"), read_contract(BenchOrders), ("team:bench",)
    )

    def raw_write() -> None:
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        with duckdb.connect(raw_db) as con:
            con.register("incoming", arrow)
            con.execute("CREATE SCHEMA IF NOT EXISTS bench")
            con.execute("CREATE OR REPLACE TABLE bench.orders AS SELECT * FROM incoming")

    def raw_read() -> pd.DataFrame:
        with duckdb.connect(raw_db) as con:
            return con.execute("SELECT * FROM bench.orders").to_arrow_table().to_pandas()

    writes = compare(
        {
            # a fresh context per write: Dagster contexts accumulate output metadata
            "stock": lambda: stock.handle_output(
                dg.build_output_context(asset_key=KEY, resource_config=config), frame
            ),
            "dagmesh": lambda: warehouse.publish(target, frame),
            "raw_arrow": raw_write,
        },
        repeats,
    )
    reads = compare(
        {
            "stock": lambda: stock.load_input(in_context),
            "dagmesh": lambda: warehouse.read(("bench", "orders")),
            "raw_arrow": raw_read,
        },
        repeats,
    )
    return {
        "rows": rows,
        "write_seconds": writes,
        "read_seconds": reads,
        "read_speedup_vs_stock": reads["stock"] / reads["dagmesh"],
        "write_vs_raw_arrow": writes["dagmesh"] / writes["raw_arrow"],
        "targets": {
            "read >= 3x faster than stock": reads["stock"] / reads["dagmesh"] >= 3,
            "write (with audit) within 1.5x of raw Arrow CTAS": writes["dagmesh"]
            / writes["raw_arrow"]
            <= 1.5,
        },
    }
