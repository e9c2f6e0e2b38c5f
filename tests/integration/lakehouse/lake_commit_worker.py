"""One writer of the concurrency test, run as its own OS process (test_ducklake_concurrency.py).

    python lake_commit_worker.py CATALOG DATA_PATH WORKER ROUNDS

Attaches the lake, prints `ready` and waits for a line on stdin (so every writer starts at once), then
ROUNDS times: BEGIN; CREATE OR REPLACE TABLE lake.w<WORKER> ...; INSERT INTO lake.log ...; COMMIT.
Prints one JSON line: the wall-clock start and end of each transaction.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb

from dagmesh.storage.extensions import load_extensions


def main(catalog: str, data_path: str, worker: int, rounds: int) -> None:
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    load_extensions(con, "ducklake", "postgres")
    con.execute(f"ATTACH '{catalog}' AS lake (DATA_PATH '{data_path}')")
    print("ready", flush=True)
    sys.stdin.readline()
    spans = []
    for round_ in range(rounds):
        began = time.time()
        con.execute("BEGIN")
        # more than DuckLake's inlining limit (10 rows): each round writes a Parquet file too
        con.execute(
            f"CREATE OR REPLACE TABLE lake.w{worker} AS "
            f"SELECT {round_} AS round, range AS n FROM range(100 + {round_})"
        )
        con.execute("INSERT INTO lake.log VALUES (?, ?)", [worker, round_])
        con.execute("COMMIT")
        spans.append((began, time.time()))
    con.close()
    print(json.dumps({"worker": worker, "spans": spans}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
