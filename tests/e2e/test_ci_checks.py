"""What CI runs over the real workspace, each command in its own process as CI runs it: `dagmesh lint`
(the policies over every code location) and `dagmesh check` (every committed contract matches its code)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_real_workspace_passes_lint(tmp_path):
    """`dagmesh lint` over the real workspace, in its own process (it imports every location)."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGMESH_HOME"] = str(tmp_path)
    lint = Path(sys.executable).parent / "dagmesh"
    completed = subprocess.run([lint, "lint"], cwd=root, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no policy violations" in completed.stdout


def test_the_real_workspace_passes_check(tmp_path):
    """CI's `dagmesh check`: every committed contract matches its code. In a subprocess, so loading the
    real code locations here leaves no module (and no warehouse setting) behind for other tests."""
    env = {**os.environ, "DAGMESH_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagmesh"), "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every contract matches the registry" in done.stdout
