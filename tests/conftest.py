"""Shared fixtures: every test gets its own DAGMESH_HOME, DuckDB warehouse file and Dagster instance.

Each test is marked with its kind by the folder it lives in: tests/unit/ `unit`, tests/integration/
`integration`, tests/e2e/ `e2e`, and a domain's own tests (domains/<domain>/tests/) `integration`; so
`pytest -m unit` runs the fast ones. Unit and integration tests mirror the platform's layers by subfolder
(tests/unit/<layer>/, tests/integration/<layer>/; docs/architecture.md); helpers shared across folders
live in tests/helpers/ and are imported by their full name (`from tests.helpers.odcs import ...`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagmesh.storage.settings import HOME_ENV, TPCH_SCALE_ENV, WAREHOUSE_ENV, MeshSettings

TESTS = Path(__file__).resolve().parent
DOMAINS = TESTS.parent / "domains"
KINDS = ("unit", "integration", "e2e")


def kind_of(path: Path) -> str | None:
    """The kind of the test file at `path`, by its folder; None for a file outside the kinds' folders."""
    path = path.resolve()
    if path.is_relative_to(TESTS):
        parts = path.relative_to(TESTS).parts
        if parts[0] in KINDS:
            return parts[0]
        return None
    if path.is_relative_to(DOMAINS) and "tests" in path.relative_to(DOMAINS).parts[1:-1]:
        return "integration"
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced = []
    for item in items:
        kind = kind_of(Path(item.path))
        marked = {m.name for m in item.iter_markers() if m.name in KINDS}
        if kind is None or marked - {kind}:
            misplaced.append(item.nodeid)
            continue
        item.add_marker(kind)
    if misplaced:
        raise pytest.UsageError(
            "a test's kind is the folder it lives in (tests/unit, tests/integration, tests/e2e, or "
            "domains/<domain>/tests for integration), never a marker set by hand; move or unmark:\n  "
            + "\n  ".join(misplaced)
        )


@pytest.fixture
def mesh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DAGMESH_HOME under tmp_path; the warehouse and scale follow it (no leaking env)."""
    home = tmp_path / "mesh"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.delenv(WAREHOUSE_ENV, raising=False)
    monkeypatch.delenv(TPCH_SCALE_ENV, raising=False)
    return home


@pytest.fixture
def mesh_settings(mesh_home: Path) -> MeshSettings:
    settings = MeshSettings.from_env()
    # The settings must follow DAGMESH_HOME, or the tests would write into the repo's .dagmesh.
    assert settings.home == mesh_home.resolve()
    assert settings.warehouse_path == mesh_home.resolve() / "warehouse.duckdb"
    return MeshSettings(home=settings.home, warehouse_path=settings.warehouse_path, tpch_scale=0.01)


@pytest.fixture
def warehouse_path(mesh_settings: MeshSettings) -> Path:
    return mesh_settings.warehouse_path


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def read_table(warehouse_path: Path) -> Callable[[str], pd.DataFrame]:
    """Read `schema.table` straight from the DuckDB file (read-only, closed right after)."""

    def read(table: str, order_by: str | None = None) -> pd.DataFrame:
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            sql = f"SELECT * FROM {table}" + (f" ORDER BY {order_by}" if order_by else "")
            return con.execute(sql).fetchdf()

    return read


@pytest.fixture
def table_exists(warehouse_path: Path) -> Callable[[str, str], bool]:
    def exists(schema: str, table: str) -> bool:
        if not warehouse_path.exists():
            return False
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            found = con.execute(
                "SELECT COUNT(*) FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchone()
        return bool(found and found[0])

    return exists


@pytest.fixture
def run(instance: dg.DagsterInstance) -> Callable[..., dg.ExecuteInProcessResult]:
    """Materialize `keys` (default: every product) of a domain's Definitions, without raising."""

    def materialize(
        defs: dg.Definitions,
        keys: Iterable[str] | None = None,
        *,
        partition_key: str | None = None,
        run_config: dict | None = None,
        tags: dict[str, str] | None = None,
    ) -> dg.ExecuteInProcessResult:
        assets = list(defs.assets or [])
        selection = (
            [dg.AssetKey.from_user_string(k) for k in keys]
            if keys is not None
            else [a.key for a in assets if isinstance(a, dg.AssetsDefinition)]
        )
        return dg.materialize(
            assets,
            selection=selection,
            resources=dict(defs.resources or {}),
            instance=instance,
            partition_key=partition_key,
            run_config=run_config,
            tags=tags,
            raise_on_error=False,
        )

    return materialize


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every message of the failed steps' errors, causes included, as one string."""
    parts: list[str] = []
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            parts.append(data.user_failure_data.description)
        error = data.error
        while error is not None:
            parts.append(f"{error.cls_name}: {error.message}")
            error = error.cause
    return "\n".join(parts)


def failure_classes(result: dg.ExecuteInProcessResult) -> set[str]:
    names: set[str] = set()
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            names.add(error.cls_name)
            error = error.cause
    return names


@pytest.fixture
def failure() -> Callable[[dg.ExecuteInProcessResult], str]:
    return failure_text


@pytest.fixture
def failure_causes() -> Callable[[dg.ExecuteInProcessResult], set[str]]:
    return failure_classes
