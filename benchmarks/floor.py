"""The plain-DuckDB floor: the sample mesh's tables and queries, built by DuckDB alone from the same Parquet.

What `dagmesh run` publishes, minus everything the platform adds (Dagster runs, contracts, audits, the
publication log, governance): each source-aligned product as `CREATE TABLE ... AS SELECT` of its contract's
columns from the TPC-H Parquet files (integers widened to BIGINT, as `TpchSource` does), then every derived
product with the query its product runs (monthly revenue for all months at once; customer segments, a pandas
product once, as the equivalent SQL). Left out: the scorecard, which reads Dagster's instance, not data, and
the revenue outlook, a pandas recurrence over 400 monthly rows, which is no engine work.

Run as `python -m benchmarks.floor DIRECTORY DATABASE`: a process of its own that imports only DuckDB,
so its time and peak memory are the engine's.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import duckdb

SOURCES = {
    ("sales", "customers"): ("customer", "c_custkey, c_name, c_nationkey, c_acctbal, c_mktsegment"),
    ("sales", "line_items"): (
        "lineitem",
        "l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, "
        "l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipmode",
    ),
    ("sales", "orders"): (
        "orders",
        "o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, "
        "o_shippriority, o_comment",
    ),
    ("logistics", "parts"): (
        "part",
        "p_partkey, p_name, p_mfgr, p_brand, p_type, p_size, p_container, p_retailprice",
    ),
    ("logistics", "suppliers"): ("supplier", "s_suppkey, s_name, s_nationkey, s_acctbal"),
    ("logistics", "part_suppliers"): (
        "partsupp",
        "ps_partkey, ps_suppkey, ps_availqty, ps_supplycost",
    ),
}

DERIVED = {
    "sales.nations": """
        SELECT n_nationkey, n_name, n_regionkey, r_name FROM tpch_nation
        JOIN tpch_region ON n_regionkey = r_regionkey ORDER BY n_nationkey""",
    "sales.pricing_summary": """
        SELECT l_returnflag, l_linestatus, SUM(l_quantity) AS sum_qty,
               SUM(l_extendedprice) AS sum_base_price,
               SUM(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               SUM(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
               AVG(l_quantity) AS avg_qty, AVG(l_extendedprice) AS avg_price,
               AVG(l_discount) AS avg_disc, COUNT(*) AS count_order
        FROM sales.line_items WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL 90 DAY
        GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus""",
    "sales.shipping_priority": """
        SELECT l_orderkey, SUM(l_extendedprice * (1 - l_discount)) AS revenue,
               o_orderdate, o_shippriority
        FROM sales.customers JOIN sales.orders ON c_custkey = o_custkey
        JOIN sales.line_items ON l_orderkey = o_orderkey
        WHERE c_mktsegment = 'BUILDING'
          AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
        GROUP BY l_orderkey, o_orderdate, o_shippriority
        ORDER BY revenue DESC, o_orderdate LIMIT 10""",
    "sales.monthly_revenue": """
        SELECT CAST(date_trunc('month', o_orderdate) AS DATE) AS order_month, o_orderpriority,
               COUNT(*) AS orders, SUM(o_totalprice) AS revenue
        FROM sales.orders WHERE o_orderdate >= DATE '1992-01-01' AND o_orderdate < DATE '1998-09-01'
        GROUP BY ALL ORDER BY ALL""",
    "logistics.local_supplier_volume": """
        SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) AS revenue
        FROM sales.customers JOIN sales.orders ON c_custkey = o_custkey
        JOIN sales.line_items ON l_orderkey = o_orderkey
        JOIN logistics.suppliers ON l_suppkey = s_suppkey AND c_nationkey = s_nationkey
        JOIN sales.nations ON s_nationkey = n_nationkey
        WHERE r_name = 'ASIA'
          AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01'
        GROUP BY n_name ORDER BY revenue DESC""",
    "logistics.part_demand": """
        SELECT p_brand,
               CASE WHEN p_size <= 15 THEN 'small' WHEN p_size <= 35 THEN 'medium' ELSE 'large' END
                   AS size_class,
               COUNT(*) AS lines, SUM(l_quantity) AS units,
               SUM(l_extendedprice * (1 - l_discount)) AS revenue
        FROM sales.line_items JOIN logistics.parts ON l_partkey = p_partkey
        GROUP BY ALL ORDER BY p_brand, size_class""",
    "logistics.shipping_modes": """
        SELECT l_shipmode,
               CAST(SUM(CASE WHEN o_orderpriority IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
                   AS BIGINT) AS high_line_count,
               CAST(SUM(CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END)
                   AS BIGINT) AS low_line_count
        FROM sales.orders JOIN sales.line_items ON o_orderkey = l_orderkey
        WHERE l_shipmode IN ('MAIL', 'SHIP')
          AND l_commitdate < l_receiptdate AND l_shipdate < l_commitdate
          AND l_receiptdate >= DATE '1994-01-01' AND l_receiptdate < DATE '1995-01-01'
        GROUP BY l_shipmode ORDER BY l_shipmode""",
    "marketing.customer_order_distribution": """
        SELECT c_count, COUNT(*) AS custdist
        FROM (SELECT c_custkey, COUNT(o_orderkey) AS c_count
              FROM sales.customers LEFT JOIN sales.orders
                ON c_custkey = o_custkey AND o_comment NOT LIKE '%special%requests%'
              GROUP BY c_custkey)
        GROUP BY c_count ORDER BY custdist DESC, c_count DESC""",
    "marketing.customer_segments": """
        SELECT c_mktsegment, COUNT(DISTINCT c_custkey) AS customers,
               COUNT(DISTINCT o_custkey) AS ordering_customers, COUNT(o_orderkey) AS orders,
               COALESCE(SUM(o_totalprice), 0) AS revenue,
               COALESCE(SUM(o_totalprice), 0)::DOUBLE / COUNT(o_orderkey) AS avg_order_value
        FROM sales.customers LEFT JOIN sales.orders ON c_custkey = o_custkey
        GROUP BY c_mktsegment ORDER BY c_mktsegment""",
    "marketing.campaign_audience": """
        SELECT c_custkey, c_mktsegment, c_acctbal FROM sales.customers
        WHERE c_acctbal > 0 AND c_mktsegment =
            (SELECT c_mktsegment FROM marketing.customer_segments ORDER BY revenue DESC LIMIT 1)
        ORDER BY c_custkey""",
}


def _widened(con: duckdb.DuckDBPyConnection, file: Path, columns: str) -> duckdb.DuckDBPyRelation:
    relation = con.read_parquet(str(file))
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    select = [
        f"CAST({name} AS BIGINT) AS {name}"
        if types[name] in ("TINYINT", "SMALLINT", "INTEGER")
        else name
        for name in (c.strip() for c in columns.split(","))
    ]
    return relation.select(", ".join(select))


def build(directory: Path, database: Path, memory_limit: str | None = None) -> dict[str, float]:
    """Every table of the mesh in a fresh DuckDB file; seconds per table."""
    config = {"memory_limit": memory_limit} if memory_limit else {}
    seconds: dict[str, float] = {}
    with duckdb.connect(str(database), config=config) as con:
        for schema in ("sales", "logistics", "marketing"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name in ("nation", "region"):
            _widened_all(con, directory / f"{name}.parquet").create_view(f"tpch_{name}")
        for (schema, table), (source, columns) in SOURCES.items():
            start = time.perf_counter()
            _widened(con, directory / f"{source}.parquet", columns).create(f"{schema}.{table}")
            seconds[f"{schema}.{table}"] = time.perf_counter() - start
        for table, sql in DERIVED.items():
            start = time.perf_counter()
            con.execute(f"CREATE TABLE {table} AS {sql}")
            seconds[table] = time.perf_counter() - start
    return seconds


def _widened_all(con: duckdb.DuckDBPyConnection, file: Path) -> duckdb.DuckDBPyRelation:
    return _widened(con, file, ", ".join(con.read_parquet(str(file)).columns))


if __name__ == "__main__":
    source_dir, target = Path(sys.argv[1]), Path(sys.argv[2])
    limit = sys.argv[3] if len(sys.argv) > 3 else None
    started = time.perf_counter()
    tables = build(source_dir, target, limit)
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": total, "peak_rss_mib": peak, "tables": tables}))
