"""DuckDB extensions loaded offline from their PyPI packages: never downloaded, never installed.

Each extension the platform needs beyond DuckDB's built-ins ships as a Python package
`duckdb-extension-<name>` (pinned in platform/pyproject.toml) holding one file,
`duckdb_extension_<name>/extensions/v<DuckDB version>/<name>.duckdb_extension`. `load_extension(con, name)`
finds that file through importlib, for the running `duckdb.__version__`, and `LOAD`s it by path.

Why `LOAD '<path>'` and not `INSTALL '<path>'; LOAD <name>`: INSTALL copies the file into DuckDB's
extension directory (`~/.duckdb/extensions`), which needs a home folder, and several processes installing
at once race there (DuckDB 1.5.5: "Could not set lock on file ...duckdb_extension.tmp-....info" in one of
four processes started together on a fresh home). Loading by path writes nothing.

DuckDB derives an extension's entry point from its file name, and one package names its file by the
extension's alias: `duckdb-extension-postgres` ships `postgres.duckdb_extension` (and `-sqlite` `sqlite.duckdb_extension`), while the extension is
`postgres_scanner`. That one is loaded through a link named `postgres_scanner.duckdb_extension` in a
private folder under the temporary directory.

`load_extension` is idempotent: an extension already loaded on the connection's database, or built into
this DuckDB (the Python wheel links parquet, json and icu statically), is left as it is.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import stat
import tempfile
import uuid
from pathlib import Path

import duckdb

from dagmesh.core.errors import DagmeshError

# alias -> DuckDB's own name of the extension (`duckdb_extensions().extension_name`)
_ALIASES = {"postgres": "postgres_scanner", "sqlite": "sqlite_scanner"}
# DuckDB's name -> the suffix of its package's name, where the two differ
_PACKAGE_SUFFIX = {"postgres_scanner": "postgres", "sqlite_scanner": "sqlite"}


class MissingExtensionError(DagmeshError):
    """A DuckDB extension's package is not installed, or not for this DuckDB version."""

    def __init__(self, extension: str, package: str, detail: str):
        self.extension = extension
        self.package = package
        self.requirement = f"{package}=={duckdb.__version__}"
        super().__init__(
            f"DuckDB's {extension} extension is not available: {detail}. Each extension file is built "
            f"for one DuckDB version; install the package for this one ({duckdb.__version__}) with "
            f"`pip install {self.requirement}` (`python3 dev.py setup` installs every pinned dependency). "
            "dagmesh never downloads an extension at run time."
        )


def canonical_name(name: str) -> str:
    """DuckDB's own name of the extension `name` (an alias such as `postgres` resolved)."""
    lowered = name.strip().lower()
    return _ALIASES.get(lowered, lowered)


def package_name(name: str) -> str:
    """The PyPI package that ships the extension `name`: `duckdb-extension-<name>`."""
    return "duckdb-extension-" + _package_suffix(canonical_name(name))


def _package_suffix(extension: str) -> str:
    return _PACKAGE_SUFFIX.get(extension, extension)


@functools.cache
def extension_file(name: str) -> Path:
    """The extension file of `name` in its installed package, for the running DuckDB version.

    Raises MissingExtensionError naming the package and the pip command when the package is not
    installed or holds no file for this DuckDB version.
    """
    extension = canonical_name(name)
    suffix = _package_suffix(extension)
    package = package_name(extension)
    spec = importlib.util.find_spec(f"duckdb_extension_{suffix}")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtensionError(
            extension, package, f"its Python package {package} is not installed"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    found = folder / f"v{duckdb.__version__}" / f"{suffix}.duckdb_extension"
    if found.is_file():
        return found
    try:
        installed = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        installed = "of an unknown version"
    shipped = sorted(p.name for p in folder.glob("v*") if p.is_dir()) if folder.is_dir() else []
    raise MissingExtensionError(
        extension,
        package,
        f"its Python package {package} {installed} is installed, but has no extension file for "
        f"DuckDB {duckdb.__version__} (it ships {', '.join(shipped) or 'none'})",
    )


def is_loaded(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the extension `name` is loaded on `con`'s database (built-in ones always are)."""
    row = con.execute(
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = ?", [canonical_name(name)]
    ).fetchone()
    return bool(row and row[0])


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load the DuckDB extension `name` (`ducklake`, `postgres`, `httpfs`, `parquet`, ...) on `con`
    from its Python package, offline; a no-op when it is already loaded or built in."""
    if is_loaded(con, name):
        return
    extension = canonical_name(name)
    path = _loadable_path(extension_file(extension), extension)
    con.execute(f"LOAD '{_sql_string(str(path))}'")


def load_extensions(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """`load_extension` for each of `names`, in order."""
    for name in names:
        load_extension(con, name)


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


@functools.cache
def _loadable_path(file: Path, extension: str) -> Path:
    """`file` itself, or a link to it named after the extension when the package names it otherwise."""
    wanted = f"{extension}.duckdb_extension"
    if file.name == wanted:
        return file
    # one folder per source file, so two virtualenvs (or DuckDB versions) never swap each other's link
    source = hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:16]
    folder = _link_folder() / source
    folder.mkdir(mode=0o700, exist_ok=True)
    link = folder / wanted
    if link.is_file():
        return link
    staged = folder / f".{wanted}.{uuid.uuid4().hex}"
    try:
        staged.symlink_to(file)
    except OSError:  # no symlinks here (Windows without the privilege): a copy loads the same
        shutil.copy2(file, staged)
    os.replace(staged, link)  # atomic: processes loading at once each see a whole link
    return link


def _link_folder() -> Path:
    """A folder only this user can write, for the links; a fresh one if the usual one is not safe."""
    owner = os.getuid() if hasattr(os, "getuid") else None
    folder = (
        Path(tempfile.gettempdir())
        / f"dagmesh-duckdb-extensions-{'user' if owner is None else owner}"
    )
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if private and (owner is None or info.st_uid == owner):
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="dagmesh-duckdb-extensions-"))
