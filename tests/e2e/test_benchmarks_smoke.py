"""A tiny run of every benchmark, so they never rot (numbers at this size mean nothing; shape does)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_at_tiny_size(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "tiny", "--out", tmp_path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    io, validation = report["io"][0], report["validation"][0]
    for side in ("stock", "dagmesh", "raw_arrow"):
        assert io["write_seconds"][side] > 0 and io["read_seconds"][side] > 0
    assert io["read_speedup_vs_stock"] > 0 and io["write_vs_raw_arrow"] > 0
    for side in ("stock", "dagmesh", "raw_arrow"):  # each read also ran alone in a fresh process
        assert io["fresh_process_reads"][side]["seconds"] > 0
        assert io["fresh_process_reads"][side]["peak_mib"] > 0  # reading 20,000 rows takes memory
    assert set(validation["seconds"]) == {
        "dagmesh_sql_audit",
        "dagmesh_types_and_audit",
        "arrow_from_pandas",
        "hand_written_sql",
        "pandera_pandas",
        "great_expectations_pandas",
    }
    (e2e,) = report["e2e"]
    assert e2e["all_published"] and e2e["peak_rss_mib"] > 0
    assert e2e["answers_equal"] == {"1": True, "3": True, "5": True, "12": True, "13": True}
    # the floor ran in the same benchmark, on the same sources, and built every table it covers
    assert (
        e2e["floor_wall_seconds"] > 0
        and e2e["vs_floor"] == e2e["wall_seconds"] / e2e["floor_wall_seconds"]
    )
    # the first run in a new home is reported too: its instance was made, and timed, apart
    assert e2e["new_instance_seconds"] > 0 and e2e["first_run_vs_floor"] == pytest.approx(
        (e2e["wall_seconds"] + e2e["new_instance_seconds"]) / e2e["floor_wall_seconds"]
    )
    assert {p["product"] for p in e2e["products"] if p["floor_seconds"] is not None} == {
        p["product"] for p in e2e["products"]
    } - {"governance/scorecard", "marketing/revenue_outlook"}
    assert {p["product"] for p in e2e["products"]} >= {
        "sales/orders",
        "marketing/customer_segments",
    }
    scale = report["scale"][-1]
    assert scale["products"] == 12 and scale["violations"] == 0
    assert set(scale["sensor_tick_seconds"]) == {
        "governance_slo",
        "governance_quality",
        "governance_drift",
    }
    # every tenth generated product is past its SLO; nothing else is wrong with the mesh
    assert scale["sensor_findings"] == {
        "governance_slo": 2,
        "governance_quality": 0,
        "governance_drift": 0,
    }
    markdown = (tmp_path / "latest.md").read_text()
    for heading in (
        "## IO",
        "## Contract validation",
        "## End to end",
        "## Scale of the mesh",
        "## Targets",
    ):
        assert heading in markdown
    assert "| scale | dagmesh lint per product at 12 within 1.5x of 8 (linear) |" in markdown
