"""The repo's `platform/` folder (the dagmesh package's project) must never shadow the stdlib `platform`."""

from __future__ import annotations

import importlib.machinery
import sys

from tests.helpers.stdlib_platform import REPO, _is_stdlib_file


def test_platform_folder_is_not_a_package() -> None:
    assert (REPO / "platform").is_dir()
    assert not (REPO / "platform" / "__init__.py").exists()


def test_imported_platform_is_the_stdlib_module() -> None:
    import platform

    assert _is_stdlib_file(platform.__file__), platform.__file__
    assert callable(platform.python_version)


def test_platform_resolves_to_stdlib_even_with_repo_root_first_on_the_path() -> None:
    # What `python` run from the repo root sees: the root is sys.path[0].
    spec = importlib.machinery.PathFinder.find_spec("platform", [str(REPO), *sys.path])
    assert spec is not None
    assert _is_stdlib_file(spec.origin), spec.origin
