"""Four code locations' runs write and read one DuckDB warehouse at once, as real processes: none fails on
the file lock, no write is lost, every published table is complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4}
ROWS = 200_000

RUN_LOCATION = """
import sys, warnings
warnings.filterwarnings("ignore")
import dagster as dg
from tests.e2e.concurrency_locations import location
domain, seed, dagster_home = sys.argv[1], int(sys.argv[2]), sys.argv[3]
defs = location(domain, seed)
with dg.instance_for_test(temp_dir=dagster_home) as instance:
    for attempt in range(2):  # each location publishes twice: more overlap, and a re-publish
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance, raise_on_error=False)
        if not result.success:
            for event in result.get_step_failure_events():
                print("FAILED", event.step_failure_data.error.to_string(), file=sys.stderr)
            sys.exit(1)
print("ok", domain)
"""


def test_four_locations_write_and_read_one_warehouse_at_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        DAGMESH_HOME=str(tmp_path),
        DAGMESH_WAREHOUSE=str(tmp_path / "shared.duckdb"),
        RELIABILITY_ROWS=str(ROWS),
        PYTHONPATH=str(ROOT),
    )
    processes = {}
    for domain, seed in DOMAINS.items():
        home = tmp_path / f"dagster-{domain}"
        home.mkdir()
        processes[domain] = subprocess.Popen(
            [sys.executable, "-c", RUN_LOCATION, domain, str(seed), str(home)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    outputs = {domain: p.communicate(timeout=220) for domain, p in processes.items()}
    for domain, process in processes.items():
        out, err = outputs[domain]
        assert process.returncode == 0, f"{domain} failed:\n{err[-3000:]}"
        assert "lock" not in err.lower() or "ok" in out, err[-2000:]
    with duckdb.connect(str(tmp_path / "shared.duckdb"), read_only=True) as con:
        for domain, seed in DOMAINS.items():
            expected = np.random.default_rng(seed).uniform(0, 100, ROWS)
            rows, total, distinct = con.execute(
                f"SELECT COUNT(*), SUM(value), COUNT(DISTINCT id) FROM {domain}.big"
            ).fetchone()
            assert rows == ROWS and distinct == ROWS, domain
            assert total == pytest.approx(expected.sum(), rel=1e-12), domain
            summary = con.execute(f"SELECT rows, total FROM {domain}.summary").fetchone()
            assert summary[0] == ROWS and summary[1] == pytest.approx(expected.sum(), rel=1e-12)
            published = con.execute(
                "SELECT COUNT(*) FROM _dagmesh.publications WHERE product = ?", [f"{domain}/big"]
            ).fetchone()[0]
            assert published == 2  # both publications of every location landed: none lost
