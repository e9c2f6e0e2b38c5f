"""The registry on disk: `<domain folder>/contracts/<product>/v<MAJOR>.odcs.yaml`, one file per major.

The domain folder is the folder of the code location's package (the nearest `pyproject.toml` above its
module: `domains/sales` for `sales.definitions`, `domains/governance` for the governance location), so
the registry is committed with the domain's code and reviewed with it. A location whose module has no
package folder of its own (a bare `python_file`) uses `<workspace>/domains/<domain>`. This module is the
one place that rule is written: the registry, the cards, the catalog and the governance lookup use it.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from typing import Any

from dagmesh.binding.workspace import CodeLocation, WorkspaceError, read_workspace
from dagmesh.core.paths import package_root
from dagmesh.registry.odcs import dump_odcs, load_odcs

CONTRACTS_DIR = "contracts"
# ODCS v3's `status`: a scaffolded contract is a `draft` (it may change freely) until the first explicit
# `dagmesh publish` records it `active`; an older major after a bump becomes `deprecated`.
DRAFT = "draft"
FILE_PATTERN = re.compile(r"^v(0|[1-9]\d*)\.odcs\.yaml$")


def _module_file(location: CodeLocation) -> Path | None:
    """The file of the location's module, found without running it (a consumer never imports a producer)."""
    if location.file is not None:
        return location.file
    if location.module:
        location.importable()
        try:
            spec = importlib.util.find_spec(location.module)
        except (ImportError, ValueError):
            return None
        return Path(spec.origin) if spec is not None and spec.origin else None
    return None


def package_folder(source: Path, root: Path) -> Path | None:
    """The package folder of `source` (the nearest `pyproject.toml` above it), as a folder of `root`.

    A package imported from another checkout of the project (an installed copy, a test's copy of the
    repository) maps to the same relative folder under `root`, so the answer never depends on where the
    code was installed from. None when `source` belongs to no package of a project.
    """
    found = package_root(source)
    if found is None:
        return None
    package, project = found
    root = root.resolve()
    if package != root and root in package.parents:
        return package
    if project is not None and (root / package.relative_to(project)).is_dir():
        return root / package.relative_to(project)
    return None


def registry_folder(source: Path | None, root: Path, domain: str) -> Path:
    """Where a domain's registry lives: its package folder, else `root/domains/<domain>`."""
    found = package_folder(source, root) if source is not None else None
    return found if found is not None else root.resolve() / "domains" / domain


def domain_folder(location: CodeLocation, root: Path, domain: str) -> Path:
    """Where `location`'s registry lives (see `registry_folder`)."""
    return registry_folder(_module_file(location), root, domain)


def _workspace_locations(path: Path) -> tuple[CodeLocation, ...]:
    """The workspace's locations, read once per version of the file (every consumer asks, per input)."""
    try:
        stat = path.stat()
    except OSError:
        return ()
    return _read_locations(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_locations(path: str, _mtime_ns: int, _size: int) -> tuple[CodeLocation, ...]:
    try:
        return tuple(read_workspace(Path(path)))
    except WorkspaceError:
        return ()  # no usable workspace here: the documented default folder


def producer_folder(root: Path, domain: str) -> Path:
    """The registry folder of `domain`, for a consumer: its location in `root`'s workspace.yaml, the
    one named after the domain or whose package is the domain's (a dg project's root module)."""
    for location in _workspace_locations(root / "workspace.yaml"):
        package = (location.module or "").split(".")[0]
        if domain in (location.name, package):
            return domain_folder(location, root, domain)
    return registry_folder(None, root, domain)


def registry_link(folder: Path | None, root: Path, domain: str, product: str, major: int) -> str:
    """The registry file of `product`'s major, relative to the project root (for cards and catalogs)."""
    path = contract_file(
        registry_folder(None, root, domain) if folder is None else folder, product, major
    )
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


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


def read_registry(folder: Path, product: str) -> dict[int, dict[str, Any]]:
    """Every registry file of `product` by major, drafts included (what the registry knows of it)."""
    return {major: load_odcs(path) for major, path in published_files(folder, product).items()}


def is_draft(doc: dict[str, Any]) -> bool:
    return doc.get("status") == DRAFT


def read_published(folder: Path, product: str) -> dict[int, dict[str, Any]]:
    """The published (not draft) contracts of `product`, by major: what consumers may rely on."""
    return {m: doc for m, doc in read_registry(folder, product).items() if not is_draft(doc)}


def read_drafts(folder: Path, product: str) -> dict[int, dict[str, Any]]:
    return {m: doc for m, doc in read_registry(folder, product).items() if is_draft(doc)}


def registered_products(folder: Path) -> list[str]:
    """The products a domain's registry holds a contract for (published or draft), by name."""
    directory = folder / CONTRACTS_DIR
    if not directory.is_dir():
        return []
    return sorted(
        p.name for p in directory.iterdir() if p.is_dir() and published_files(folder, p.name)
    )


def write_contract(path: Path, doc: dict[str, Any]) -> bool:
    """Write `doc` to `path`; False (and no write) when the file already holds exactly that."""
    text = dump_odcs(doc)
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True
