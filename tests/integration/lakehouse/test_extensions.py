"""DuckDB's lakehouse extensions load offline, from their PyPI packages, by path: nothing is downloaded
and nothing is installed into DuckDB's extension directory."""

from __future__ import annotations

import duckdb
import pytest

from dagmesh.core.errors import DagmeshError
from dagmesh.storage import extensions
from dagmesh.storage.extensions import (
    MissingExtensionError,
    extension_file,
    is_loaded,
    load_extension,
    load_extensions,
)


@pytest.fixture
def offline(tmp_path):
    """A fresh in-memory DuckDB that cannot download an extension, with an empty extension directory."""
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute(f"SET extension_directory = '{tmp_path / 'duckdb-extensions'}'")
    yield con
    con.close()


def _loaded(con) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT extension_name, install_mode FROM duckdb_extensions() WHERE loaded"
        ).fetchall()
    )


@pytest.mark.parametrize(
    ("name", "extension", "probe"),
    [
        ("ducklake", "ducklake", "ducklake_snapshots"),
        ("postgres", "postgres_scanner", "postgres_query"),
        ("postgres_scanner", "postgres_scanner", "postgres_query"),
        ("httpfs", "httpfs", "s3"),
    ],
)
def test_an_extension_loads_offline_from_its_package(offline, tmp_path, name, extension, probe):
    assert not is_loaded(offline, name)
    load_extension(offline, name)
    assert is_loaded(offline, name)
    loaded = _loaded(offline)
    assert extension in loaded
    # loaded by path, never installed: DuckDB's extension directory stays empty
    assert loaded[extension] == "NOT_INSTALLED"
    assert not (tmp_path / "duckdb-extensions").exists()
    # the extension's functions (or, for httpfs, its secret type) are there
    if probe == "s3":
        offline.execute("CREATE SECRET probe (TYPE S3, KEY_ID 'k', SECRET 's')")
        assert offline.execute("SELECT type FROM duckdb_secrets()").fetchall() == [("s3",)]
    else:
        functions = offline.execute(
            "SELECT COUNT(*) FROM duckdb_functions() WHERE function_name = ?", [probe]
        ).fetchone()
        assert functions is not None and functions[0] >= 1


def test_loading_is_idempotent_and_leaves_built_in_extensions_alone(offline):
    load_extensions(offline, "ducklake", "postgres", "httpfs")
    before = _loaded(offline)
    load_extensions(offline, "ducklake", "postgres", "httpfs", "postgres_scanner", "parquet")
    assert _loaded(offline) == before
    # parquet is linked into DuckDB's Python wheel: loading it is a no-op, its package a fallback
    assert before["parquet"] == "STATICALLY_LINKED"
    # a second database in the same process loads them again, from the same files
    with duckdb.connect() as other:
        other.execute("SET autoinstall_known_extensions = false")
        assert not is_loaded(other, "ducklake")
        load_extensions(other, "ducklake", "postgres")
        assert is_loaded(other, "ducklake") and is_loaded(other, "postgres")


def test_each_extension_file_is_the_one_for_this_duckdb_version():
    for name, stem in [("ducklake", "ducklake"), ("postgres", "postgres"), ("httpfs", "httpfs")]:
        path = extension_file(name)
        assert path.is_file()
        assert path.parent.name == f"v{duckdb.__version__}"
        assert path.name == f"{stem}.duckdb_extension"
        assert path.parents[2].name == f"duckdb_extension_{stem}"


def test_a_missing_package_names_itself_and_the_pip_command(offline):
    with pytest.raises(MissingExtensionError) as raised:
        load_extension(offline, "nosuchlake")
    message = str(raised.value)
    assert isinstance(raised.value, DagmeshError)
    assert "duckdb-extension-nosuchlake is not installed" in message
    assert f"pip install duckdb-extension-nosuchlake=={duckdb.__version__}" in message
    assert raised.value.requirement == f"duckdb-extension-nosuchlake=={duckdb.__version__}"


def test_a_package_for_another_duckdb_version_is_refused_with_the_matching_pip_command(
    offline, monkeypatch
):
    shipped = duckdb.__version__
    extensions.extension_file.cache_clear()
    monkeypatch.setattr(duckdb, "__version__", "1.4.9")
    try:
        with pytest.raises(MissingExtensionError) as raised:
            load_extension(offline, "ducklake")
    finally:
        monkeypatch.undo()
        extensions.extension_file.cache_clear()
    message = str(raised.value)
    assert "has no extension file for DuckDB 1.4.9" in message
    assert f"it ships v{shipped}" in message
    assert "pip install duckdb-extension-ducklake==1.4.9" in message
    assert not is_loaded(offline, "ducklake")
