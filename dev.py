#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+ and pip.

    python3 dev.py mesh     # set up, then materialize the whole mesh (dagmesh run)
    python3 dev.py test     # set up, then lint and run the whole test suite
    python3 dev.py ui       # set up, then open the Dagster UI with every domain (dagster dev,
                            # restarted when workspace.yaml changes: a new domain)
    python3 dev.py lock     # re-resolve dependencies into requirements.lock (needs network)

Setup is idempotent: a virtualenv in .venv, the pinned dependencies from requirements.lock (installed by
uv, itself installed by pip), and the platform plus every domain under domains/ in editable mode.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
UV_VERSION = "0.13.9"
STAMP = VENV / ".dagmesh-setup"


def _editable_packages() -> list[Path]:
    return [
        ROOT / "platform",
        *sorted(p.parent for p in (ROOT / "domains").glob("*/pyproject.toml")),
    ]


def _dg_projects() -> list[Path]:
    """The code-location packages that are Dagster projects (`[tool.dg]` in their pyproject)."""
    return [p for p in _editable_packages() if "[tool.dg]" in (p / "pyproject.toml").read_text()]


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{UV_VERSION} compiled".encode())
    for path in [ROOT / "requirements.lock", *(p / "pyproject.toml" for p in _editable_packages())]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(*command: object, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(c) for c in command], cwd=ROOT, check=True, env=env)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what tells an old Python so
        sys.exit(f"dagmesh needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    fingerprint = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        compile_sources()
        return
    print("installing pinned dependencies (requirements.lock)", flush=True)
    _run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        f"uv=={UV_VERSION}",
    )
    uv = [BIN / "uv", "pip", "install", "--quiet", "--python", PYTHON]
    # Compiled at install: every `dagmesh` command, run step and test subprocess would otherwise compile
    # Dagster and Great Expectations anew when bytecode writing is off (measured: 34 s -> 20 s for
    # `dagmesh run` of the sample mesh).
    _run(*uv, "--compile-bytecode", "--require-hashes", "-r", ROOT / "requirements.lock")
    editables = [arg for package in _editable_packages() for arg in ("-e", package)]
    _run(*uv, "--no-deps", *editables)
    compile_sources()
    STAMP.write_text(fingerprint)


def compile_sources() -> None:
    """Bytecode for the platform's and the domains' own modules (editable, so not compiled at install):
    with bytecode writing off (PYTHONDONTWRITEBYTECODE), every command and run step would compile their
    114 modules anew (measured: 0.15-0.4 s per `dagmesh` process). Quick when nothing changed."""
    sources = [package / "src" for package in _editable_packages() if (package / "src").is_dir()]
    # Not checked: a module that does not compile is reported when it is imported, with its location.
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", *map(str, sources)], cwd=ROOT)


def mesh_env() -> dict[str, str]:
    """The environment of the mesh commands: the state folder, `.dagmesh` unless DAGMESH_HOME says."""
    env = dict(os.environ)
    env.setdefault("DAGMESH_HOME", str(ROOT / ".dagmesh"))
    return env


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "lock":
        _run("uv", "lock")
        _run(
            "uv",
            "export",
            "--frozen",
            "--no-emit-workspace",
            "--all-packages",
            "--format",
            "requirements-txt",
            "-o",
            "requirements.lock",
        )
        return 0
    if command not in ("mesh", "test", "ui", "setup"):
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    setup()
    if command == "setup":
        return 0
    if command == "mesh":
        return subprocess.run([BIN / "dagmesh", "run", *args], cwd=ROOT, env=mesh_env()).returncode
    if command == "ui":
        return subprocess.run([BIN / "dagmesh", "dev", *args], cwd=ROOT, env=mesh_env()).returncode
    checks = [
        (ROOT, ["ruff", "format", "--check", "."]),
        (ROOT, ["ruff", "check", "."]),
        (ROOT, ["lint-imports"]),  # the platform's layers point one way (pyproject.toml)
        # every domain is a Dagster project: its YAML validates and its definitions load
        *((package, ["dg", "check", "defs"]) for package in _dg_projects()),
        (ROOT, ["dagmesh", "lint"]),  # governance policies over every code location
        (ROOT, ["dagmesh", "check"]),  # code contracts vs the published registry: breaking changes
    ]
    for folder, check in checks:
        print(
            f"$ {' '.join(check)}"
            + (f"  (in {folder.relative_to(ROOT)})" if folder != ROOT else ""),
            flush=True,
        )
        if subprocess.run([BIN / check[0], *check[1:]], cwd=folder, env=mesh_env()).returncode:
            print(
                f"`{' '.join(check)}` failed; fix it (ruff: `.venv/bin/ruff format . && .venv/bin/ruff check --fix .`)"
            )
            return 1
    return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
