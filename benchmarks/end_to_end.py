"""`dagmesh run` of the whole mesh at TPC-H scale factors, against the plain-DuckDB floor of the same run.

For each scale: TPC-H is generated first (a one-off, excluded), then, interleaved, the floor
(`benchmarks.floor`: the same tables and queries, DuckDB alone, in a process of its own) and `dagmesh run`
(a subprocess, as a user runs it), each on a fresh warehouse. Reported: wall time and peak RSS of both,
the ratios, and where dagmesh's time goes: process start (imports + loading every code location, measured
alone), the steps (Dagster's step stats) and the rest (per-run overhead: creating runs, events, the
scorecard's reads of the instance). Each step is set beside the floor's time for the same table.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
# Generated TPC-H sources, kept between benchmark runs (generation is excluded from every measure, and
# SF 10 takes minutes): under the git-ignored .dagmesh folder.
SOURCES = ROOT / ".dagmesh" / "benchmark-sources"
STARTUP = "import sys; sys.path.insert(0, '.'); from dagmesh.tools.cli import _load; _load(None)"
NEW_INSTANCE = (
    "from dagmesh.storage.settings import MeshSettings; from dagmesh.tools.cli import _instance; "
    "_instance(MeshSettings.from_env())"
)


def _timed(
    command: list[str], env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak RSS (MiB) of one command, run under a parent of its own (`_RUSAGE`)."""
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _RUSAGE, *command], env=env, cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(
            f"{command[0]} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    peak = json.loads(completed.stderr.strip().splitlines()[-1])["peak_rss_mib"]
    return seconds, peak, completed


# A wrapper that runs the command and reports its peak RSS: `ru_maxrss` of RUSAGE_CHILDREN is the largest
# child of this process only, so each measurement has its own parent.
_RUSAGE = """
import json, resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"peak_rss_mib": peak}), file=sys.stderr)
sys.exit(code)
"""


def _floor(sources: Path, home: Path, env: dict[str, str]) -> dict:
    database = home / f"floor-{time.monotonic_ns()}.duckdb"
    seconds, peak, completed = _timed(
        [
            sys.executable,
            "-m",
            "benchmarks.floor",
            str(sources),
            str(database),
            env["DAGMESH_MEMORY_LIMIT"],
        ],
        env,
    )
    detail = json.loads(completed.stdout.strip().splitlines()[-1])
    database.unlink(missing_ok=True)
    return {"wall_seconds": seconds, "peak_rss_mib": peak, "tables": detail["tables"]}


def _mesh(home: Path, env: dict[str, str]) -> dict:
    run_home = home / f"run-{time.monotonic_ns()}"
    (run_home / "sources").mkdir(parents=True)
    (run_home / "sources" / "tpch").symlink_to(SOURCES / "tpch")
    env = {**env, "DAGMESH_HOME": str(run_home)}
    # The home's Dagster instance (its SQLite files and migrations) is made by the first run in a new
    # home only: made first, timed apart, so the run measured is every later (scheduled) run.
    instance_seconds, _, _ = _timed([sys.executable, "-c", NEW_INSTANCE], env)
    outcomes = run_home / "outcomes.json"
    dagmesh = Path(sys.executable).parent / "dagmesh"
    seconds, peak, _ = _timed([str(dagmesh), "run", "--json", str(outcomes)], env)
    detail = json.loads(outcomes.read_text())
    return {
        "wall_seconds": seconds,
        "new_instance_seconds": instance_seconds,
        "peak_rss_mib": peak,
        "products": detail["products"],
        "warehouse": run_home / "warehouse.duckdb",
    }


# TPC-H queries the sample mesh publishes, and the product that is each one's answer.
TPCH_PRODUCTS = {
    1: "sales.pricing_summary",
    3: "sales.shipping_priority",
    5: "logistics.local_supplier_volume",
    12: "logistics.shipping_modes",
    13: "marketing.customer_order_distribution",
}
ANSWERED_SCALES = (0.01, 0.1, 1.0)  # the scales whose answers DuckDB's tpch extension ships


def answers_equal(warehouse: Path, scale: float) -> dict[int, bool]:
    """Each TPC-H product against the official answer, typed by the product's column types, exactly."""
    from dagmesh.storage.sources.tpch import official_answer

    found = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for query_nr, table in TPCH_PRODUCTS.items():
            relation = con.sql(f"SELECT * FROM {table}")
            _header, expected = official_answer(query_nr, scale, [str(t) for t in relation.types])
            found[query_nr] = sorted(relation.fetchall()) == sorted(expected)
    return found


def run(scale: float, repeats: int = 1, memory_limit: str = "2GB") -> dict:
    home = Path(tempfile.mkdtemp(prefix="dagmesh-bench-e2e-"))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        DAGMESH_HOME=str(home), DAGMESH_TPCH_SCALE=str(scale), DAGMESH_MEMORY_LIMIT=memory_limit
    )
    # TPC-H generation is a one-off per scale: do it first so the runs measure the mesh itself.
    SOURCES.mkdir(parents=True, exist_ok=True)
    (home / "sources").mkdir()
    (home / "sources" / "tpch").symlink_to(SOURCES / "tpch", target_is_directory=True)
    (SOURCES / "tpch").mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from dagmesh import TpchSource; TpchSource.from_settings().table('region')",
        ],
        env=env,
        check=True,
        cwd=ROOT,
    )
    sources = SOURCES / "tpch" / f"sf{scale:g}"
    floors, meshes = [], []
    for i in range(repeats):  # interleaved, alternating who goes first
        pair = [
            lambda: floors.append(_floor(sources, home, env)),
            lambda: meshes.append(_mesh(home, env)),
        ]
        for measure in pair if i % 2 == 0 else reversed(pair):
            measure()
    startup = min(_timed([sys.executable, "-c", STARTUP], env)[0] for _ in range(max(1, repeats)))
    floor = min(floors, key=lambda f: f["wall_seconds"])
    mesh = min(meshes, key=lambda m: m["wall_seconds"])
    products = sorted(mesh["products"], key=lambda p: -(p["seconds"] or 0))
    table_of = {p["product"]: p["product"].replace("/", ".") for p in products}
    for p in products:
        p["floor_seconds"] = floor["tables"].get(table_of[p["product"]])
    steps = sum(p["seconds"] or 0 for p in products)
    return {
        "scale_factor": scale,
        "memory_limit": memory_limit,
        "wall_seconds": mesh["wall_seconds"],
        "peak_rss_mib": mesh["peak_rss_mib"],
        "floor_wall_seconds": floor["wall_seconds"],
        "floor_peak_rss_mib": floor["peak_rss_mib"],
        "vs_floor": mesh["wall_seconds"] / floor["wall_seconds"],
        # every repeat, in order (floor and mesh interleaved), and the ratio of the medians
        "wall_seconds_each": [m["wall_seconds"] for m in meshes],
        "floor_wall_seconds_each": [f["wall_seconds"] for f in floors],
        "median_vs_floor": statistics.median(m["wall_seconds"] for m in meshes)
        / statistics.median(f["wall_seconds"] for f in floors),
        # The first run in a new home also makes its Dagster instance (a process of its own here).
        "new_instance_seconds": mesh["new_instance_seconds"],
        "first_run_vs_floor": (mesh["wall_seconds"] + mesh["new_instance_seconds"])
        / floor["wall_seconds"],
        "memory_vs_floor": mesh["peak_rss_mib"] / floor["peak_rss_mib"],
        "startup_seconds": startup,
        "step_seconds": steps,
        "floor_engine_seconds": sum(floor["tables"].values()),
        "run_overhead_seconds": mesh["wall_seconds"] - startup - steps,
        "products": products,
        "all_published": all(p["status"] == "published" for p in products),
        "answers_equal": answers_equal(mesh["warehouse"], scale)
        if scale in ANSWERED_SCALES
        else {},
    }


def targets(results: list[dict]) -> dict[str, bool]:
    """The issue's bars: SF 1 within 2.5x of the floor under 1.5 GB; SF 10 within 3x under 4 GB."""
    found: dict[str, bool] = {}
    for r in results:
        if r["answers_equal"]:
            found[f"SF {r['scale_factor']:g}: TPC-H products equal tpch_answers()"] = all(
                r["answers_equal"].values()
            )
        if r["scale_factor"] == 1:
            found["SF 1: dagmesh run <= 2.5x floor"] = r["vs_floor"] <= 2.5
            found["SF 1: peak RSS < 1.5 GB"] = r["peak_rss_mib"] < 1536
        if r["scale_factor"] == 10:
            found["SF 10: dagmesh run <= 3x floor"] = r["vs_floor"] <= 3
            found["SF 10: peak RSS < 4 GB"] = r["peak_rss_mib"] < 4096
    return found
