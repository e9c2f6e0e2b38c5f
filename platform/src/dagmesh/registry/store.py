"""The registry on disk: `<domain folder>/contracts/<product>/v<MAJOR>.odcs.yaml`, one file per major.

The domain folder is the folder of the code location's package (the nearest `pyproject.toml` above its
module: `domains/sales` for `sales.definitions`, `platform` for the platform's governance location), so the
registry is committed with the domain's code and reviewed with it. A location whose module has no package
folder of its own (a bare `python_file`) uses `<workspace>/domains/<domain>`.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from dagmesh.registry.odcs import dump_odcs, load_odcs
from dagmesh.settings import nearest_folder_with
from dagmesh.workspace import CodeLocation

CONTRACTS_DIR = "contracts"
FILE_PATTERN = re.compile(r"^v(0|[1-9]\d*)\.odcs\.yaml$")


def _module_file(location: CodeLocation) -> Path | None:
    if location.file is not None:
        return location.file
    if location.module:
        source = getattr(importlib.import_module(location.module), "__file__", None)
        return Path(source) if source else None
    return None


def _package_folder(source: Path) -> tuple[Path, Path | None] | None:
    """The nearest folder above `source` with a `pyproject.toml`, and the project (workspace.yaml) above it."""
    for folder in source.resolve().parents:
        if (folder / "workspace.yaml").is_file():
            return None  # reached a project root without passing a package
        if (folder / "pyproject.toml").is_file():
            return folder, nearest_folder_with("workspace.yaml", folder.parent)
    return None


def domain_folder(location: CodeLocation, root: Path, domain: str) -> Path:
    """Where `location`'s registry lives: the package folder of its module, inside `root`.

    A package imported from another checkout of the project (an installed copy, a test's copy of the
    repository) maps to the same relative folder under `root`, so the answer never depends on where the
    code was installed from. Without a package folder: `root/domains/<domain>`.
    """
    root = root.resolve()
    source = _module_file(location)
    found = _package_folder(source) if source is not None else None
    if found is not None:
        package, project = found
        if package != root and root in package.parents:
            return package
        if project is not None and (root / package.relative_to(project)).is_dir():
            return root / package.relative_to(project)
    return root / "domains" / domain


def contract_file(folder: Path, product: str, major: int) -> Path:
    return folder / CONTRACTS_DIR / product / f"v{major}.odcs.yaml"


def published_files(folder: Path, product: str) -> dict[int, Path]:
    """The registry files of `product`, by major version, oldest first."""
    directory = folder / CONTRACTS_DIR / product
    found = {}
    if directory.is_dir():
        for path in directory.iterdir():
            match = FILE_PATTERN.match(path.name)
            if match:
                found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def read_published(folder: Path, product: str) -> dict[int, dict[str, Any]]:
    return {major: load_odcs(path) for major, path in published_files(folder, product).items()}


def write_contract(path: Path, doc: dict[str, Any]) -> bool:
    """Write `doc` to `path`; False (and no write) when the file already holds exactly that."""
    text = dump_odcs(doc)
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True
