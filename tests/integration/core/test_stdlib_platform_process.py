"""A fresh interpreter started in the repo root imports the stdlib `platform`, not the repo's `platform/`
folder (the in-process checks are in tests/unit/core/test_stdlib_platform.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.stdlib_platform import REPO, _is_stdlib_file


def test_fresh_interpreter_in_repo_root_imports_stdlib_platform() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.__file__)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert _is_stdlib_file(completed.stdout.strip()), completed.stdout
