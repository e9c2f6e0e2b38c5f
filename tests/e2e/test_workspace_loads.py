"""Every code location in workspace.yaml loads in Dagster's own tooling (separate code-server processes),
and the CLI lists every product."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagmesh.binding.workspace import read_workspace

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ, DAGMESH_HOME=str(tmp_path / "home"))
    env.pop("DAGSTER_HOME", None)
    return env


def test_dagster_validates_every_code_location(tmp_path):
    completed = subprocess.run(
        [BIN / "dagster", "definitions", "validate", "-w", ROOT / "workspace.yaml"],
        cwd=tmp_path,  # its temporary storage goes here, not into the checkout
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    for location in read_workspace(ROOT / "workspace.yaml"):
        assert f"Validation successful for code location {location.name}." in output


def test_dagmesh_list_shows_every_product(tmp_path):
    completed = subprocess.run(
        [BIN / "dagmesh", "list"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    for product in (
        "sales/orders",
        "logistics/part_demand",
        "marketing/campaign_audience",
        "governance/scorecard",
    ):
        assert product in completed.stdout
    assert "private" in completed.stdout and "internal" in completed.stdout


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    bad = tmp_path / "workspace.yaml"
    bad.write_text("load_from:\n  - python_module: {module_name: no_such_domain.definitions}\n")
    completed = subprocess.run(
        [BIN / "dagmesh", "run", "-w", bad],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "no_such_domain" in completed.stderr and "Traceback" not in completed.stderr
