"""Where the embedded mesh keeps its state, read from the environment so tests and deployments can move it."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from dagmesh.core.paths import find_project_root
from dagmesh.storage.lakehouse import PREFIX as LAKE_PREFIX
from dagmesh.storage.lakehouse import LakeLocation, LakeSettingsError

HOME_ENV = "DAGMESH_HOME"
WAREHOUSE_ENV = "DAGMESH_WAREHOUSE"
TPCH_SCALE_ENV = "DAGMESH_TPCH_SCALE"
MEMORY_LIMIT_ENV = "DAGMESH_MEMORY_LIMIT"
LAKE_DATA_ENV = "DAGMESH_LAKE_DATA"
S3_ENDPOINT_ENV = "DAGMESH_S3_ENDPOINT"
S3_URL_STYLE_ENV = "DAGMESH_S3_URL_STYLE"
S3_USE_SSL_ENV = "DAGMESH_S3_USE_SSL"
LOCK_TIMEOUT_ENV = "DAGMESH_LOCK_TIMEOUT"
SCHEDULES_ENV = "DAGMESH_SCHEDULES"
# A product's schedule is part of its SLO: it runs unless a deployment says otherwise.
SCHEDULE_STATES = ("running", "stopped")
DEFAULT_TPCH_SCALE = 0.01
# How long `dagmesh run` (all its products together) waits for another process's lock on the DuckDB file.
DEFAULT_LOCK_TIMEOUT = 300.0
# DuckDB's own default is 80% of the machine: with Dagster and pandas beside it, that is more than a
# step can have. Past the limit DuckDB spills to disk instead of growing (docs/performance.md).
DEFAULT_MEMORY_LIMIT = "2GB"
# The embedded mesh's Dagster instance: Dagster's local storage, with the event log and the run storage
# keeping their SQLite connections (`dagmesh.binding.event_log`, `.run_storage`) in Dagster's own places. Kept up to date while the marker line is
# in the file: a file without it is somebody's own and left alone.
_DAGSTER_YAML_MARKER = "# written by dagmesh; remove this line to keep your own edits"
_DAGSTER_YAML = """\
{marker}
telemetry:
  enabled: false
# The daemon of `dagmesh dev` fails a run launched from the UI that has not started within 180 s, so
# it does not hang as "starting". Runs of `dagmesh run` (in-process) left in progress by a killed
# process are failed when the mesh next starts (`dagmesh.tools.stale_runs`).
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
event_log_storage:
  module: dagmesh.binding.event_log
  class: MeshSqliteEventLogStorage
  config:
    base_dir: {base_dir}
run_storage:
  module: dagmesh.binding.run_storage
  class: MeshSqliteRunStorage
  config:
    base_dir: {history_dir}
"""
# What earlier versions wrote, without the marker: replaced too.
_EARLIER_DAGSTER_YAML = ("telemetry:\n  enabled: false\n",)


def dagster_yaml(dagster_home: Path) -> str:
    """The mesh's dagster.yaml for the instance in `dagster_home`."""
    return _DAGSTER_YAML.format(
        marker=_DAGSTER_YAML_MARKER,
        base_dir=json.dumps(str(dagster_home / "storage")),
        history_dir=json.dumps(str(dagster_home / "history")),
    )


_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class MeshSettings:
    """The embedded default: a DuckDB file and TPC-H sources under one git-ignored folder."""

    home: Path
    warehouse_path: Path
    tpch_scale: float
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    # The lakehouse backend instead of the DuckDB file, when DAGMESH_WAREHOUSE names a DuckLake catalog.
    lake: LakeLocation | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # seconds
    # Whether the schedules the platform derives start RUNNING (DAGMESH_SCHEDULES=stopped: STOPPED).
    schedules_running: bool = True

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
        """Dagster's local storage for the embedded mesh, created on first use (and brought up to date
        while it is still the one written here): telemetry off, the event log that reuses its SQLite
        engines (`dagmesh.binding.event_log`)."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        text = config.read_text() if config.exists() else None
        if text is None or text in _EARLIER_DAGSTER_YAML or text.startswith(_DAGSTER_YAML_MARKER):
            wanted = dagster_yaml(self.dagster_home)
            if text != wanted:
                config.write_text(wanted)
        return self.dagster_home

    @classmethod
    def from_env(cls) -> MeshSettings:
        home = Path(os.environ.get(HOME_ENV) or find_project_root() / ".dagmesh").resolve()
        named = os.environ.get(WAREHOUSE_ENV) or ""
        lake = _lake_from_env(named, home) if named.startswith(LAKE_PREFIX) else None
        warehouse = Path(named if named and lake is None else home / "warehouse.duckdb").resolve()
        raw_scale = os.environ.get(TPCH_SCALE_ENV) or str(DEFAULT_TPCH_SCALE)  # empty: the default
        try:
            scale = float(raw_scale)
        except ValueError:
            raise ValueError(
                f"{TPCH_SCALE_ENV}={raw_scale!r} is not a number; use a TPC-H scale factor such as 0.01 or 1"
            ) from None
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(
                f"{TPCH_SCALE_ENV}={raw_scale!r} is not a positive finite number; use a TPC-H scale "
                "factor such as 0.01 or 1"
            )
        memory = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
        if not _MEMORY.match(memory):
            raise ValueError(
                f"{MEMORY_LIMIT_ENV}={memory!r} is not an amount of memory; use e.g. 2GB or 512MB"
            )
        schedules = (os.environ.get(SCHEDULES_ENV) or "running").strip().lower()
        if schedules not in SCHEDULE_STATES:
            raise ValueError(
                f"{SCHEDULES_ENV}={schedules!r} is not a schedule state; use running (the default) "
                "or stopped"
            )
        return cls(
            home=home,
            warehouse_path=warehouse,
            tpch_scale=scale,
            memory_limit=memory.strip().replace(" ", ""),
            lake=lake,
            lock_timeout=lock_timeout_seconds(os.environ.get(LOCK_TIMEOUT_ENV) or ""),
            schedules_running=schedules == "running",
        )

    @property
    def warehouse_name(self) -> str:
        """The warehouse as messages name it: the file, or the lake's catalog without credentials."""
        return str(self.warehouse_path) if self.lake is None else self.lake.described


def lock_timeout_seconds(text: str, name: str = LOCK_TIMEOUT_ENV) -> float:
    """Seconds to wait for the warehouse's lock, from the setting or `--lock-timeout` (empty: the
    default); refused in one line unless a finite number >= 0."""
    if not text.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(
            f"{name}={text!r} is not a number of seconds; use e.g. 60 (0: do not wait for a "
            "warehouse another process holds)"
        )
    return seconds


def _lake_from_env(catalog: str, home: Path) -> LakeLocation:
    use_ssl = (os.environ.get(S3_USE_SSL_ENV) or "true").strip().lower()
    if use_ssl not in ("true", "false"):
        raise LakeSettingsError(f"{S3_USE_SSL_ENV} is true or false, not {use_ssl!r}")
    return LakeLocation(
        catalog=catalog,
        data_path=os.environ.get(LAKE_DATA_ENV) or str(home / "lake") + os.sep,
        s3_endpoint=os.environ.get(S3_ENDPOINT_ENV) or None,
        s3_url_style=(os.environ.get(S3_URL_STYLE_ENV) or "vhost").strip().lower(),
        s3_use_ssl=use_ssl == "true",
        s3_region=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
    )
