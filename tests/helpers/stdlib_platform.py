"""Where the stdlib lives, and whether a module file is the stdlib's (not the repo's `platform/` folder)."""

from __future__ import annotations

import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def _is_stdlib_file(path: str | None) -> bool:
    assert path is not None
    resolved = Path(path).resolve()
    return resolved.is_relative_to(STDLIB) and not resolved.is_relative_to(REPO)
