"""Write and read of a 10-column table: dagmesh (with the contract audit) vs the stock
DuckDBPandasIOManager vs raw DuckDB from Arrow.

Reads are measured twice: in this process (warm heap, back to back) and each in a fresh process, the way a
Dagster step loads its input under the default multiprocess executor, with the read's peak memory.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
from dagster_duckdb_pandas import DuckDBPandasIOManager

from benchmarks.data import BenchOrders, orders_frame
from benchmarks.timing import compare
from dagmesh.declare.access import Reader
from dagmesh.declare.contract import read_contract
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget

KEY = dg.AssetKey(["bench", "orders"])


def _stock_io_manager(database: str):
    config = {"database": database, "connection_config": {}, "schema": None}
    stock = DuckDBPandasIOManager(database=database).create_io_manager(
        dg.build_init_resource_context(config=config)
    )
    in_context = dg.build_input_context(
        asset_key=KEY,
        resource_config=config,
        upstream_output=dg.build_output_context(asset_key=KEY, resource_config=config),
        dagster_type=dg.DagsterType(
            lambda _c, _v: True, typing_type=pd.DataFrame, name="DataFrame"
        ),
    )
    return stock, config, in_context


def _raw_read(database: str) -> pd.DataFrame:
    with duckdb.connect(database) as con:
        return con.execute("SELECT * FROM bench.orders").to_arrow_table().to_pandas()


def _reader(side: str, database: str) -> Callable[[], pd.DataFrame]:
    if side == "stock":
        stock, _, in_context = _stock_io_manager(database)
        return lambda: stock.load_input(in_context)
    if side == "dagmesh":
        warehouse = MeshWarehouse(database=database)
        return lambda: warehouse.read(("bench", "orders"), reader=Reader.platform("benchmarks"))
    return lambda: _raw_read(database)


def _reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS, and return that RSS in bytes.
    Where the kernel refuses the reset, the peak is the process's whole life (imports included)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


def _read_in_fresh_process(side: str, database: str) -> tuple[float, float]:
    """Seconds and peak memory growth (MiB) of one read in a new Python process."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.io_bench", side, database],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["seconds"], result["peak_mib"]


def _fresh_process_reads(databases: dict[str, str], repeats: int) -> dict[str, dict[str, float]]:
    samples: dict[str, list[tuple[float, float]]] = {side: [] for side in databases}
    for round_ in range(repeats):
        order = list(databases) if round_ % 2 == 0 else list(reversed(databases))
        for side in order:
            samples[side].append(_read_in_fresh_process(side, databases[side]))
    return {
        side: {
            "seconds": statistics.median(s for s, _ in values),
            "peak_mib": statistics.median(m for _, m in values),
        }
        for side, values in samples.items()
    }


def run(rows: int, repeats: int) -> dict:
    frame = orders_frame(rows)
    folder = Path(tempfile.mkdtemp(prefix="dagmesh-bench-io-"))
    stock_db, mesh_db, raw_db = (str(folder / f"{n}.duckdb") for n in ("stock", "mesh", "raw"))
    stock, config, _ = _stock_io_manager(stock_db)
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
    databases = {"stock": stock_db, "dagmesh": mesh_db, "raw_arrow": raw_db}
    reads = compare(
        {side: _reader(side, database) for side, database in databases.items()}, repeats
    )
    fresh = _fresh_process_reads(databases, repeats)
    fresh_speedup = fresh["stock"]["seconds"] / fresh["dagmesh"]["seconds"]
    return {
        "rows": rows,
        "write_seconds": writes,
        "read_seconds": reads,
        "read_speedup_vs_stock": reads["stock"] / reads["dagmesh"],
        "fresh_process_reads": fresh,
        "fresh_process_read_speedup_vs_stock": fresh_speedup,
        "write_vs_raw_arrow": writes["dagmesh"] / writes["raw_arrow"],
        "targets": {
            # the target; fresh-process reads are reported beside it, not judged
            "read >= 3x faster than stock": reads["stock"] / reads["dagmesh"] >= 3,
            "write (with audit) within 1.5x of raw Arrow CTAS": writes["dagmesh"]
            / writes["raw_arrow"]
            <= 1.5,
        },
    }


def main() -> None:
    """`python -m benchmarks.io_bench SIDE DATABASE`: one timed read, as JSON (for fresh-process reads)."""
    side, database = sys.argv[1], sys.argv[2]
    read = _reader(side, database)
    with duckdb.connect() as con:  # load both conversion paths first: measure the read, not imports
        con.execute("SELECT 1 AS x").fetchdf()
        con.execute("SELECT 1 AS x").to_arrow_table().to_pandas()
    before = _reset_peak_rss()
    start = time.perf_counter()
    read()
    seconds = time.perf_counter() - start
    peak = _status_bytes("VmHWM")
    print(json.dumps({"seconds": seconds, "peak_mib": max(peak - before, 0) / 2**20}))


if __name__ == "__main__":
    main()
