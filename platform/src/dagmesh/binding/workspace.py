"""The mesh as `workspace.yaml` describes it: every code location, loaded through its own module.

The CLI reads the same file `dagster dev -w workspace.yaml` reads, so "the mesh" means one thing everywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster.components.definitions import LazyDefinitions

from dagmesh.core.errors import DagmeshError


class WorkspaceError(DagmeshError):
    """`workspace.yaml` is missing or malformed, or a code location fails to load."""


@dataclass(frozen=True)
class CodeLocation:
    name: str
    module: str | None = None
    file: Path | None = None
    attribute: str | None = None

    def load(self) -> dg.Definitions:
        """Import the location's module (or file) and return its `Definitions`."""
        try:
            if self.module:
                module = importlib.import_module(self.module)
            else:
                assert self.file is not None
                spec = importlib.util.spec_from_file_location(
                    f"_dagmesh_location_{self.name}", self.file
                )
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot import {self.file}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                spec.loader.exec_module(module)
        except DagmeshError as error:
            raise WorkspaceError(f"code location {self.name!r} failed to load: {error}") from error
        except Exception as error:
            raise WorkspaceError(
                f"code location {self.name!r} failed to load: {type(error).__name__}: {error}. "
                "Fix its definitions module; `dagster definitions validate` shows the full traceback."
            ) from error
        return _find_definitions(self, module)


def _find_definitions(location: CodeLocation, module: Any) -> dg.Definitions:
    if location.attribute:
        found = getattr(module, location.attribute, None)
        if isinstance(found, LazyDefinitions):
            return _built(location, found)
        if not isinstance(found, dg.Definitions):
            raise WorkspaceError(
                f"code location {location.name!r}: {location.attribute!r} is not a dagster Definitions"
            )
        return found
    candidates = [value for value in vars(module).values() if isinstance(value, dg.Definitions)]
    if not candidates:
        # Dagster's project idiom: `@dg.definitions def defs(): ...`, built when the location loads.
        lazy = [value for value in vars(module).values() if isinstance(value, LazyDefinitions)]
        if len(lazy) == 1:
            return _built(location, lazy[0])
    if len(candidates) != 1:
        raise WorkspaceError(
            f"code location {location.name!r}: expected exactly one Definitions object in its module, "
            f"found {len(candidates)}; name it with `attribute:` in workspace.yaml"
        )
    return candidates[0]


def _built(location: CodeLocation, lazy: LazyDefinitions) -> dg.Definitions:
    try:
        return lazy()
    except DagmeshError as error:
        raise WorkspaceError(f"code location {location.name!r} failed to load: {error}") from error
    except Exception as error:
        raise WorkspaceError(
            f"code location {location.name!r} failed to load: {type(error).__name__}: {error}. "
            "Fix its definitions; `dg check defs` in its project shows the full traceback."
        ) from error


def _entry(raw: Any, root: Path, index: int) -> CodeLocation:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise WorkspaceError(f"workspace.yaml load_from[{index}] must be a single-key mapping")
    kind, body = next(iter(raw.items()))
    if kind in ("python_module", "python_package"):
        if isinstance(body, str):
            return CodeLocation(name=body, module=body)
        module = body.get("module_name") or body.get("package_name")
        if not module:
            raise WorkspaceError(f"workspace.yaml load_from[{index}]: {kind} needs module_name")
        return CodeLocation(
            name=body.get("location_name", module), module=module, attribute=body.get("attribute")
        )
    if kind == "python_file":
        relative = body if isinstance(body, str) else body.get("relative_path")
        if not relative:
            raise WorkspaceError(
                f"workspace.yaml load_from[{index}]: python_file needs relative_path"
            )
        path = (root / relative).resolve()
        name = path.stem if isinstance(body, str) else body.get("location_name", path.stem)
        attribute = None if isinstance(body, str) else body.get("attribute")
        return CodeLocation(name=name, file=path, attribute=attribute)
    raise WorkspaceError(
        f"workspace.yaml load_from[{index}]: {kind!r} is not supported by dagmesh "
        "(use python_module, python_package or python_file)"
    )


def read_workspace(path: Path) -> list[CodeLocation]:
    """The code locations listed in `path`, in file order."""
    if not path.is_file():
        raise WorkspaceError(
            f"no workspace file at {path}; run from the project folder or pass --workspace"
        )
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise WorkspaceError(f"{path.name} is not valid YAML: {error}") from error
    entries = document.get("load_from") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise WorkspaceError(f"{path.name} has no load_from list of code locations")
    locations = [_entry(raw, path.parent, i) for i, raw in enumerate(entries)]
    names = [loc.name for loc in locations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise WorkspaceError(f"{path.name} lists location(s) {', '.join(duplicates)} twice")
    return locations


def load_workspace(path: Path) -> dict[str, dg.Definitions]:
    """Every code location's Definitions, keyed by location name."""
    return {location.name: location.load() for location in read_workspace(path)}
