"""docs/guide.md, followed word for word: every `$ ` command it lists runs, in order, in a copy of the
project, and each must succeed. Then the scaffolding's refusals are checked to change nothing."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide.md"
BIN = Path(sys.executable).parent


def guide_commands() -> list[str]:
    """The `$ ` lines of the guide's console blocks, in order."""
    commands, in_console = [], False
    for line in GUIDE.read_text().splitlines():
        if line.startswith("```"):
            in_console = line.strip() == "```console"
            continue
        if in_console and line.startswith("$ "):
            commands.append(line[2:].strip())
    return commands


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's files (no venv, no state), as a team would have after cloning."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    copy = tmp_path / "project"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return copy


def _env(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["DAGMESH_HOME"] = str(project / ".dagmesh")
    env["DAGMESH_SCAFFOLD_INSTALL"] = "0"  # never install test domains into the shared venv...
    env["PYTHONPATH"] = str(project / "domains" / "billing" / "src")  # ...import them from the copy
    env.pop("DAGSTER_HOME", None)
    return env


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".dagmesh" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_guide_lists_the_commands_a_newcomer_runs():
    commands = guide_commands()
    assert commands[0] == "source .venv/bin/activate"
    assert any(c.startswith("dagmesh new-domain") for c in commands)
    assert any(c.startswith("dagmesh new-product") for c in commands)
    assert "dagmesh run" in commands


def test_following_the_guide_word_for_word_works(project):
    env = _env(project)
    ran = []
    for command in guide_commands():
        if command.startswith("source "):
            continue  # the test already runs with the venv's tools first on PATH
        completed = subprocess.run(
            shlex.split(command), cwd=project, env=env, capture_output=True, text=True, timeout=300
        )
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, f"`{command}` failed:\n{output}"
        ran.append((command, output))
    outputs = dict(ran)
    assert (
        "domains/billing/src/billing/products.py"
        in outputs["dagmesh new-domain billing --owner team:billing"]
    )
    assert "billing.definitions" in (project / "workspace.yaml").read_text()
    assert '"billing"' in (project / "pyproject.toml").read_text()
    final = outputs["dagmesh run"]
    assert "billing/regions" in final and "billing/invoices" in final
    assert "failed" not in final.split("Mesh run")[-1]


def test_refused_names_change_nothing(project):
    env = _env(project)
    before = _tree_digest(project)
    for args, message in [
        (["dagmesh", "new-domain", "Billing-Team", "--owner", "team:billing"], "lower_snake_case"),
        (["dagmesh", "new-domain", "sales", "--owner", "team:sales"], "already exists"),
        (["dagmesh", "new-domain", "json", "--owner", "team:json"], "shadow"),
        (["dagmesh", "new-domain", "billing", "--owner", "billing team"], "must be 'team:name'"),
        (["dagmesh", "new-product", "sales", "orders"], "already exists"),
        (["dagmesh", "new-product", "nowhere", "thing"], "new-domain"),
    ]:
        completed = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
        assert completed.returncode == 2, (args, completed.stdout, completed.stderr)
        assert message in completed.stderr, (args, completed.stderr)
        assert "nothing was changed" in completed.stderr.lower()
    assert _tree_digest(project) == before
