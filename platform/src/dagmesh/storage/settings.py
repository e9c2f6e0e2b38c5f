"""Where the embedded mesh keeps its state, read from the environment so tests and deployments can move it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dagmesh.core.paths import find_project_root

HOME_ENV = "DAGMESH_HOME"
WAREHOUSE_ENV = "DAGMESH_WAREHOUSE"
TPCH_SCALE_ENV = "DAGMESH_TPCH_SCALE"
MEMORY_LIMIT_ENV = "DAGMESH_MEMORY_LIMIT"
DEFAULT_TPCH_SCALE = 0.01
# DuckDB's own default is 80% of the machine: with Dagster and pandas beside it, that is more than a
# step can have. Past the limit DuckDB spills to disk instead of growing (docs/performance.md).
DEFAULT_MEMORY_LIMIT = "2GB"
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class MeshSettings:
    """The embedded default: a DuckDB file and TPC-H sources under one git-ignored folder."""

    home: Path
    warehouse_path: Path
    tpch_scale: float
    memory_limit: str = DEFAULT_MEMORY_LIMIT

    @property
    def spill_dir(self) -> Path:
        """Where DuckDB writes what does not fit in `memory_limit`."""
        return self.home / "spill"

    @property
    def sources_dir(self) -> Path:
        return self.home / "sources"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    def ensure_dagster_home(self) -> Path:
        """Dagster's local storage for the embedded mesh, created with telemetry off on first use."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        return self.dagster_home

    @classmethod
    def from_env(cls) -> MeshSettings:
        home = Path(os.environ.get(HOME_ENV) or find_project_root() / ".dagmesh").resolve()
        warehouse = Path(os.environ.get(WAREHOUSE_ENV) or home / "warehouse.duckdb").resolve()
        raw_scale = os.environ.get(TPCH_SCALE_ENV, str(DEFAULT_TPCH_SCALE))
        try:
            scale = float(raw_scale)
        except ValueError:
            raise ValueError(
                f"{TPCH_SCALE_ENV}={raw_scale!r} is not a number; use a TPC-H scale factor such as 0.01 or 1"
            ) from None
        if scale <= 0:
            raise ValueError(f"{TPCH_SCALE_ENV} must be positive, got {scale}")
        memory = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
        if not _MEMORY.match(memory):
            raise ValueError(
                f"{MEMORY_LIMIT_ENV}={memory!r} is not an amount of memory; use e.g. 2GB or 512MB"
            )
        return cls(
            home=home,
            warehouse_path=warehouse,
            tpch_scale=scale,
            memory_limit=memory.strip().replace(" ", ""),
        )
