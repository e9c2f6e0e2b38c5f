"""The mesh as `workspace.yaml` describes it: every code location, loaded through its own module.

The CLI reads the same file `dagster dev -w workspace.yaml` reads, so "the mesh" means one thing everywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.workspace.load import location_origins_from_yaml_paths
from dagster.components.definitions import LazyDefinitions

from dagmesh.binding.component_types import one_catalog_per_process
from dagmesh.core.errors import DagmeshError


class WorkspaceError(DagmeshError):
    """`workspace.yaml` is missing or malformed, or a code location fails to load."""


@dataclass(frozen=True)
class CodeLocation:
    name: str
    module: str | None = None
    file: Path | None = None
    attribute: str | None = None
    # Where Dagster would import the module from (`working_directory:`), ahead of the installed packages.
    working_directory: Path | None = None

    def importable(self) -> None:
        """Put the location's working directory first on the import path, as Dagster's loader does."""
        if self.working_directory is not None and str(self.working_directory) not in sys.path:
            sys.path.insert(0, str(self.working_directory))

    def load(self) -> dg.Definitions:
        """Import the location's module (or file) and return its `Definitions`."""
        self.importable()
        with _loading(self):
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
            found = _find_definitions(self, module)
            # Dagster's project idiom: `@dg.definitions def defs(): ...`, built when the location loads.
            return found() if isinstance(found, LazyDefinitions) else found


@contextmanager
def _loading(location: CodeLocation) -> Iterator[None]:
    """Any failure while a location loads, as one `WorkspaceError` naming the location."""
    try:
        yield
    except WorkspaceError:
        raise
    except DagmeshError as error:
        raise WorkspaceError(f"code location {location.name!r} failed to load: {error}") from error
    except Exception as error:
        raise WorkspaceError(
            f"code location {location.name!r} failed to load: {type(error).__name__}: {error}. "
            "Fix its definitions; `dg check defs` in its project shows the full traceback."
        ) from error


def _find_definitions(location: CodeLocation, module: Any) -> dg.Definitions | LazyDefinitions:
    kinds = (dg.Definitions, LazyDefinitions)
    if location.attribute:
        found = getattr(module, location.attribute, None)
        if not isinstance(found, kinds):
            raise WorkspaceError(
                f"code location {location.name!r}: {location.attribute!r} is not a dagster Definitions"
            )
        return found
    candidates = [value for value in vars(module).values() if isinstance(value, kinds)]
    if len(candidates) != 1:
        raise WorkspaceError(
            f"code location {location.name!r}: expected exactly one Definitions object in its module, "
            f"found {len(candidates)}; name it with `attribute:` in workspace.yaml"
        )
    return candidates[0]


def read_workspace(path: Path) -> list[CodeLocation]:
    """The code locations listed in `path`, in file order, read by Dagster's own workspace loader (so
    `dagmesh` and `dagster dev -w` agree on what the file means)."""
    if not path.is_file():
        raise WorkspaceError(
            f"no workspace file at {path}; run from the project folder or pass --workspace"
        )
    try:
        origins = location_origins_from_yaml_paths([str(path)])
    except Exception as error:  # Dagster's schema errors are CheckErrors, YAML errors and more
        raise WorkspaceError(f"{path.name} is not a valid Dagster workspace: {error}") from error
    locations = []
    for origin in origins:
        target = getattr(origin, "loadable_target_origin", None)
        if target is None or not (target.module_name or target.package_name or target.python_file):
            raise WorkspaceError(
                f"{path.name}: location {origin.location_name!r} is not loaded from Python code "
                "(use python_module, python_package or python_file)"
            )
        locations.append(
            CodeLocation(
                name=origin.location_name,
                module=target.module_name or target.package_name,
                file=Path(target.python_file) if target.python_file else None,
                attribute=target.attribute,
                working_directory=(
                    (path.parent / target.working_directory).resolve()
                    if target.working_directory
                    else None
                ),
            )
        )
    if not locations:
        raise WorkspaceError(f"{path.name} has no load_from list of code locations")
    return locations


def load_workspace(path: Path) -> dict[str, dg.Definitions]:
    """Every code location's Definitions, keyed by location name."""
    with one_catalog_per_process():
        return {location.name: location.load() for location in read_workspace(path)}
