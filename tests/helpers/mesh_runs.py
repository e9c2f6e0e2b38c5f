"""A tiny two-location workspace for `dagmesh run` as a real subprocess, and how to read what the
run left behind (its warehouse and its Dagster instance).

shop/first (pandas) -> shop/slow (in the warehouse, same run) ; later/after and later/broken read
shop/first, so they run in the next wave. With SLOW_ENV naming a file, shop/slow touches it and then
runs a query that takes many minutes (until interrupted); with SLEEP_ENV naming a file, later/after
touches it and sleeps two minutes in one C call; later/broken always fails, with text that looks like
Rich markup in its error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.instance.ref import InstanceRef

ROOT = Path(__file__).resolve().parents[2]
SLOW_ENV = "MESH_TEST_SLOW_MARKER"
SLEEP_ENV = "MESH_TEST_SLEEP_MARKER"
BROKEN_MESSAGE = "[error] bad [bold]input[/bold] in row 3"
IN_PROGRESS = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)

_WORKSPACE = """\
load_from:
  - python_file:
      relative_path: shop.py
      location_name: shop
  - python_file:
      relative_path: later.py
      location_name: later
"""

_COMMON = """\
import os
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, Relation, data_product, domain_definitions


class Numbers(pa.DataFrameModel):
    n: Series[int] = pa.Field(ge=0, description="A number.")


DAILY = SLO(max_lag=timedelta(days=1))
"""

_SHOP = '''
@data_product(contract=Numbers, owners=["team:shop"], access="public", version="1.0.0", slo=DAILY)
def first() -> pd.DataFrame:
    """Three numbers."""
    return pd.DataFrame({"n": [0, 1, 2]})


@data_product(
    contract=Numbers, owners=["team:shop"], access="public", version="1.0.0", slo=DAILY,
    inputs=["first"],
)
def slow(first: Relation) -> Relation:
    """The numbers again; with the marker set, after a query that takes many minutes."""
    marker = os.environ.get("MESH_TEST_SLOW_MARKER")
    if not marker:
        return first
    Path(marker).write_text("started")
    return first.filter(
        "(SELECT SUM(a.range % 7) FROM range(1000000) a, range(1000000) b) >= 0"
    )


defs = domain_definitions("shop", [first, slow])
'''

_LATER = f'''
@data_product(
    contract=Numbers, owners=["team:later"], access="public", version="1.0.0", slo=DAILY,
    inputs=["shop/first"],
)
def after(first: pd.DataFrame) -> pd.DataFrame:
    """What shop published, read in the next wave; with the marker set, after a sleep in C."""
    marker = os.environ.get("MESH_TEST_SLEEP_MARKER")
    if marker:
        Path(marker).write_text("sleeping")
        time.sleep(120)  # one C call: no Python interruption reaches it before it returns
    return first


@data_product(
    contract=Numbers, owners=["team:later"], access="public", version="1.0.0", slo=DAILY,
    inputs=["shop/first"],
)
def broken(first: pd.DataFrame) -> pd.DataFrame:
    """Always fails, with markup-like text in its error."""
    raise ValueError({BROKEN_MESSAGE!r})


defs = domain_definitions("later", [after, broken])
'''


def write_workspace(folder: Path) -> Path:
    """The workspace's files in `folder`; returns its workspace.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.py").write_text(_COMMON + textwrap.dedent(_SHOP))
    (folder / "later.py").write_text(_COMMON + textwrap.dedent(_LATER))
    path = folder / "workspace.yaml"
    path.write_text(_WORKSPACE)
    return path


def mesh_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `dagmesh run` on its own DAGMESH_HOME (and so its own Dagster storage)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "DAGMESH_"))}
    env.update(DAGMESH_HOME=str(home), COLUMNS="200", **extra)
    return env


def dagmesh(workspace: Path, *args: str, env: dict[str, str], **popen) -> subprocess.Popen:
    """`dagmesh run` over `workspace` as a real process, its output piped."""
    command = [str(Path(sys.executable).parent / "dagmesh"), "run", "-w", str(workspace), *args]
    return subprocess.Popen(
        command,
        env=env,
        cwd=workspace.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def finished(process: subprocess.Popen, timeout: float) -> str:
    """The process's output once it ended; killed (and the test failed) if it runs past `timeout`."""
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
        raise AssertionError(f"still running after {timeout}s:\n{output}") from None


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until `path` exists (the slow product started); fails with the run's output if it ended."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(
                f"dagmesh run ended before the slow product:\n{process.stdout.read()}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the slow product did not start in time")
        time.sleep(0.05)


def instance_of(home: Path) -> dg.DagsterInstance:
    """The Dagster instance the runs under DAGMESH_HOME `home` used."""
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster_home")))


def runs_in_progress(home: Path) -> list[dg.DagsterRun]:
    with instance_of(home) as instance:
        return list(instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS))))


def published(home: Path) -> dict[str, int]:
    """Rows of each product table in the warehouse, and the products the log names."""
    path = home / "warehouse.duckdb"
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('_dagmesh', 'main')"
        ).fetchall()
        found = {
            f"{s}/{t}": con.execute(f'SELECT COUNT(*) FROM "{s}"."{t}"').fetchone()[0]
            for s, t in tables
        }
        logged = con.execute("SELECT product FROM _dagmesh.publications").fetchall()
    found.update({f"log:{p}": 1 for (p,) in logged})
    return found
