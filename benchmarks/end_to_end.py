"""`dagmesh run` of the whole mesh at a TPC-H scale factor: wall time, peak memory, per-product times."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(scale: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="dagmesh-bench-e2e-"))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(DAGMESH_HOME=str(home), DAGMESH_TPCH_SCALE=str(scale))
    outcomes = home / "outcomes.json"
    dagmesh = Path(sys.executable).parent / "dagmesh"
    # TPC-H generation is a one-off per scale: do it first so the run measures the mesh itself.
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
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    completed = subprocess.run(
        [dagmesh, "run", "--json", outcomes], env=env, cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if completed.returncode != 0:
        raise RuntimeError(f"dagmesh run failed:\n{completed.stdout}\n{completed.stderr}")
    detail = json.loads(outcomes.read_text())
    products = sorted(detail["products"], key=lambda p: -(p["seconds"] or 0))
    return {
        "scale_factor": scale,
        "wall_seconds": seconds,
        "peak_rss_mib": max(peak_kib, before) / 1024,
        "products": products,
        "all_published": all(p["status"] == "published" for p in products),
    }
