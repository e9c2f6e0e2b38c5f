"""Dagster's own tooling in a domain project: `dg scaffold defs dagmesh.DataProductComponent NAME` writes
a product that `dg check defs` validates and the location loads, and `dg list components` shows the
component, found through the `dagster_dg_cli.registry_modules` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).parent / "dg"


def _dg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGMESH_HOME"] = str(cwd / ".dagmesh")
    env["PYTHONPATH"] = os.pathsep.join([str(cwd / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [DG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the marketing domain (no TPC-H: loads in seconds), beside a copy of the workspace."""
    shutil.copy(ROOT / "workspace.yaml", tmp_path / "workspace.yaml")
    target = tmp_path / "domains" / "marketing"
    shutil.copytree(ROOT / "domains" / "marketing", target, ignore=shutil.ignore_patterns("tests"))
    return target


def test_dg_scaffolds_a_product_that_validates_and_loads(project):
    listed = _dg("list", "components", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "dagmesh.DataProductComponent" in listed.stdout

    scaffolded = _dg("scaffold", "defs", "dagmesh.DataProductComponent", "gift_cards", cwd=project)
    assert scaffolded.returncode == 0, scaffolded.stdout + scaffolded.stderr
    yaml_file = project / "src" / "marketing" / "defs" / "gift_cards" / "defs.yaml"
    text = yaml_file.read_text()
    assert "type: dagmesh.DataProductComponent" in text and "name: gift_cards" in text

    checked = _dg("check", "defs", cwd=project)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = _dg("list", "defs", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "marketing/gift_cards" in listed.stdout

    # A mistake in it is Dagster's validation error, with the file and the line.
    yaml_file.write_text(text.replace("access: internal", "access: everyone"))
    broken = _dg("check", "defs", cwd=project)
    assert broken.returncode != 0
    output = broken.stdout + broken.stderr
    assert "gift_cards/defs.yaml:" in output and "everyone" in output


def test_dg_lists_every_domain_project_as_its_location_builds_it():
    """`dg list defs` in each domain project shows what the location serves: each product of the
    workspace in its own project, executable, with its blocking contract check."""
    import json

    from dagmesh.binding.catalog import mesh_products
    from dagmesh.binding.workspace import load_workspace

    expected: dict[str, set[str]] = {}
    for located in mesh_products(load_workspace(ROOT / "workspace.yaml")):
        expected.setdefault(located.interface.domain, set()).add(located.interface.name)
    running = {
        domain: subprocess.Popen(
            [DG, "list", "defs", "--json"],
            cwd=ROOT / "domains" / domain,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for domain in expected
    }
    assert set(expected) == {"sales", "marketing", "logistics", "governance"}
    for domain, process in running.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        listed = json.loads(out)
        own = {a["asset_key"] for a in listed["assets"] if a["is_executable"]}
        assert own == expected[domain], domain
        checks = {c["key"] for c in listed["asset_checks"]}
        assert {f"{key}:contract" for key in own} <= checks, domain
