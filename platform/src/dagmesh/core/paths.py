"""Finding the project and package folders a path belongs to: the one place the markers are looked for."""

from __future__ import annotations

from pathlib import Path

WORKSPACE_FILE = "workspace.yaml"
PACKAGE_FILE = "pyproject.toml"


def nearest_folder_with(marker: str, start: Path) -> Path | None:
    """The nearest folder at or above `start` holding the file `marker` (a project or package root)."""
    here = start.resolve()
    return next((folder for folder in (here, *here.parents) if (folder / marker).is_file()), None)


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder holding `workspace.yaml`, so commands work from any sub-folder."""
    here = (start or Path.cwd()).resolve()
    return nearest_folder_with(WORKSPACE_FILE, here) or here


def package_root(source: Path) -> tuple[Path, Path | None] | None:
    """The package folder of `source` (nearest `pyproject.toml` above it, strictly inside its project)
    and that project's root (None outside any project); None when `source` is in no such package."""
    package = nearest_folder_with(PACKAGE_FILE, source.parent)
    project = nearest_folder_with(WORKSPACE_FILE, source.parent)
    if package is None or (
        project is not None and (project == package or package in project.parents)
    ):
        return None
    return package, project
