"""Code locations and the writer process of the distributed lakehouse test (test_lakehouse_distributed.py).

Each domain location has four products over deterministic generated data, both kinds of product:

    events   pandas     2000 + 50*seed + 7*round rows of (id, category, amount) from numpy's generator
    totals   Relation   per category of events: row count and sum of amount (in the warehouse)
    scores   Relation   per event: amount and a score, a sum over a cross join of events with range(64)
    summary  pandas     one row over totals: categories, rows, total

A round `r` of a location publishes version `1.<r>.0` of every product; `expected(seed, round)` gives the
exact rows each product must hold after it.

`python -m tests.e2e.lakehouse_locations <spec.json>` is one writer process: the location's Definitions
materialized with `dg.materialize` on a Dagster instance of its own, once per run of the spec, the lake
taken from the environment (DAGMESH_WAREHOUSE=ducklake:..., DAGMESH_LAKE_DATA, the S3 settings). It
writes a file `ready` when the location is loaded and the lake attached, waits for a line on stdin
when the spec says so (all writers start together), and rewrites its result file whenever a publish
starts or ends and after every run: each publish's start and end (wall clock) and its committed
transaction's, snapshot, attempts and what a retried attempt lost to; each run's success and step
failures; each product step's Dagster pool.

`scores` writes `<markers>/<domain>-scores-<round>` just before it returns its relation; in a run the spec
marks `hold`, it then waits for the file `<marker>.go` first, so a test can prepare what the publish
that follows will meet (e.g. hold DuckLake's commits in the catalog) before it starts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.typing import Series

from dagmesh import (
    SLO,
    MeshSettings,
    MeshWarehouse,
    Relation,
    data_product,
    domain_definitions,
    query,
)
from dagmesh.storage import warehouse
from dagmesh.storage.settings import dagster_yaml

CATEGORIES = 8
SPIN = 64  # rows of range() each event is crossed with in `scores`
PRODUCTS = ("events", "totals", "scores", "summary")
KEYS = {"events": "id", "totals": "category", "scores": "id", "summary": "categories"}
HOLD_SECONDS = 60  # how long a held `scores` waits for its go file


class Events(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0, description="Event id.")
    category: Series[int] = pa.Field(ge=0, lt=CATEGORIES, description="Category of the event.")
    amount: Series[int] = pa.Field(ge=0, lt=10_000, description="Amount of the event.")


class Totals(pa.DataFrameModel):
    category: Series[int] = pa.Field(unique=True, ge=0, description="Category.")
    rows: Series[int] = pa.Field(ge=1, description="Events of the category.")
    total: Series[int] = pa.Field(ge=0, description="Sum of their amounts.")


class Scores(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0, description="Event id.")
    amount: Series[int] = pa.Field(ge=0, description="Amount of the event.")
    score: Series[int] = pa.Field(ge=0, description="Sum of (r * amount) % 7 over r < SPIN.")


class Summary(pa.DataFrameModel):
    categories: Series[int] = pa.Field(ge=0, description="Categories with events.")
    rows: Series[int] = pa.Field(ge=0, description="Events.")
    total: Series[int] = pa.Field(ge=0, description="Sum of all amounts.")


def events_frame(seed: int, round_: int) -> pd.DataFrame:
    """The events of a location's round: a different row count and values every round."""
    rows = 2000 + 50 * seed + 7 * round_
    rng = np.random.default_rng([seed, round_])
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "category": rng.integers(0, CATEGORIES, rows, dtype="int64"),
            "amount": rng.integers(0, 10_000, rows, dtype="int64"),
        }
    )


def _scores(amount: np.ndarray) -> np.ndarray:
    """sum((r * a) % 7 for r in range(SPIN)) for each a, in closed form: r -> r*a % 7 has period 7
    and, for a not a multiple of 7, goes through every residue once per period (sum 21)."""
    residue = amount % 7
    periods, rest = divmod(SPIN, 7)
    partial = np.array([sum((r * m) % 7 for r in range(rest)) for m in range(7)], dtype="int64")
    return np.where(residue == 0, 0, 21 * periods + partial[residue])


def expected(seed: int, round_: int) -> dict[str, pd.DataFrame]:
    """Each product's exact rows after round `round_` of the location with `seed`, ordered by key."""
    events = events_frame(seed, round_)
    totals = (
        events.groupby("category", as_index=False)
        .agg(rows=("id", "size"), total=("amount", "sum"))
        .astype("int64")
    )
    scores = events[["id", "amount"]].assign(score=_scores(events["amount"].to_numpy()))
    summary = pd.DataFrame(
        {
            "categories": [len(totals)],
            "rows": [int(totals["rows"].sum())],
            "total": [int(totals["total"].sum())],
        }
    )
    return {"events": events, "totals": totals, "scores": scores, "summary": summary}


def fingerprint(rows: Iterable[Sequence[object]]) -> tuple[int, str]:
    """(row count, sha256 of the rows in order, values as Python ints): compares a table read from the
    lake with an expected frame."""
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        digest.update(repr(tuple(int(v) for v in row)).encode())
        count += 1
    return count, digest.hexdigest()


def expected_fingerprints(seed: int, round_: int) -> dict[str, tuple[int, str]]:
    return {
        name: fingerprint(frame.itertuples(index=False, name=None))
        for name, frame in expected(seed, round_).items()
    }


def location(
    domain: str, seed: int, round_: int, markers: str | None = None, hold: bool = False
) -> dg.Definitions:
    """The domain's code location for one round (version 1.<round>.0 of every product)."""
    product = functools.partial(
        data_product,
        owners=[f"team:{domain}"],
        access="public",
        version=f"1.{round_}.0",
        slo=SLO(max_lag=timedelta(days=1)),
    )

    @product(contract=Events, name="events")
    def events() -> pd.DataFrame:
        """Deterministic generated events."""
        return events_frame(seed, round_)

    @product(contract=Totals, name="totals", inputs=["events"])
    def totals(events: Relation) -> Relation:
        """Events per category, in the warehouse."""
        return query(
            "SELECT category, CAST(COUNT(*) AS BIGINT) AS rows, CAST(SUM(amount) AS BIGINT) AS total "
            "FROM events GROUP BY category",
            events=events,
        )

    @product(contract=Scores, name="scores", inputs=["events"])
    def scores(events: Relation) -> Relation:
        """Per event a sum over a cross join with range(SPIN), in the warehouse."""
        relation = query(
            "SELECT e.id, e.amount, CAST(SUM((r.range * e.amount) % 7) AS BIGINT) AS score "
            f"FROM events e CROSS JOIN range({SPIN}) r GROUP BY e.id, e.amount",
            events=events,
        )
        if markers:
            marker = Path(markers) / f"{domain}-scores-{round_}"
            marker.write_text(repr(time.time()))
            go = marker.with_name(marker.name + ".go")
            deadline = time.monotonic() + HOLD_SECONDS
            while hold and not go.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{go} did not appear in {HOLD_SECONDS}s")
                time.sleep(0.01)
        return relation

    @product(contract=Summary, name="summary", inputs=["totals"])
    def summary(totals: pd.DataFrame) -> pd.DataFrame:
        """One row over the totals, in pandas."""
        return pd.DataFrame(
            {
                "categories": [len(totals)],
                "rows": [int(totals["rows"].sum())],
                "total": [int(totals["total"].sum())],
            }
        )

    return domain_definitions(domain, [events, totals, scores, summary])


# --- the writer process --------------------------------------------------------------------------


class _Recorder:
    """Every publish of this process: product, version, wall-clock start and end, the start and end
    of its committed publishing transaction, snapshot, rows, attempts and what the retried ones lost
    to, error. Wraps the warehouse's publish methods and its transaction (the steps of an in-process
    run are sequential, so one record at a time)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self.publishes: list[dict[str, Any]] = []
        self._attempts = 0
        self._lost: list[str] = []
        self._record: dict[str, Any] = {}
        self._changed = changed  # called when a publish starts and when it ends

    def install(self) -> None:
        original_transaction = warehouse._publishing_transaction

        @contextmanager
        def timed_transaction(con: Any, target: Any) -> Iterator[Any]:
            start = time.time()
            with original_transaction(con, target) as publication:
                yield publication
            self._record["transaction"] = [start, time.time()]  # committed

        warehouse._publishing_transaction = timed_transaction
        original_retries = warehouse._with_retries

        def counting_retries(target: Any, publish: Callable[[], Any]) -> Any:
            def counted() -> Any:
                self._attempts += 1
                try:
                    return publish()
                except Exception as error:  # what a retried attempt lost to
                    self._lost.append(f"{type(error).__name__}: {error}")
                    raise

            return original_retries(target, counted)

        warehouse._with_retries = counting_retries
        for name in ("publish", "publish_relation"):
            setattr(
                warehouse.MeshWarehouse, name, self._timed(getattr(warehouse.MeshWarehouse, name))
            )

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(resource: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
            self._attempts, self._lost = 0, []
            record: dict[str, Any] = {
                "product": target.product,
                "version": target.version,
                "start": time.time(),
            }
            self.publishes.append(record)
            self._record = record
            self._changed()
            try:
                result = method(resource, target, *args, **kwargs)
            except BaseException as error:
                record.update(
                    end=time.time(),
                    attempts=self._attempts,
                    attempt_errors=self._lost,
                    error=f"{type(error).__name__}: {error}",
                )
                self._changed()
                raise
            record.update(
                end=time.time(),
                attempts=self._attempts,
                attempt_errors=self._lost,
                snapshot=result.snapshot,
                rows=result.rows,
            )
            self._changed()
            return result

        return timed


def _failures(result: Any) -> list[str]:
    return [
        f"{event.step_key}: {event.step_failure_data.error.to_string()}"
        for event in result.get_step_failure_events()
    ]


def _write(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1))
    temporary.replace(path)


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    domain, seed = spec["domain"], spec["seed"]
    out = Path(spec["result"])
    report: dict[str, Any] = {"pid": os.getpid(), "runs": []}
    recorder = _Recorder(lambda: _write(out, report))
    report["publishes"] = recorder.publishes
    recorder.install()
    locations = [
        location(domain, seed, run["round"], spec.get("markers"), run.get("hold", False))
        for run in spec["runs"]
    ]
    report["pools"] = {
        asset.key.to_user_string(): asset.op.pool
        for asset in locations[0].assets or []
        if isinstance(asset, dg.AssetsDefinition)
    }
    # a Dagster instance of this process's own, with the embedded mesh's event log (its dagster.yaml)
    home = Path(spec["dagster_home"])
    with dg.instance_for_test(
        temp_dir=str(home), overrides=yaml.safe_load(dagster_yaml(home))
    ) as instance:
        # the lake attached before the start signal, as a code server has it before its first run
        MeshWarehouse.from_settings(MeshSettings.from_env()).table_exists(
            warehouse.PUBLICATIONS_TABLE
        )
        _write(out, report)
        Path(spec["ready"]).write_text(str(os.getpid()))
        if spec.get("wait"):
            sys.stdin.readline()
        for run, defs in zip(spec["runs"], locations, strict=True):
            started = time.time()
            result = dg.materialize(
                defs.assets,
                resources=defs.resources,
                instance=instance,
                raise_on_error=False,
            )
            report["runs"].append(
                {
                    "round": run["round"],
                    "start": started,
                    "end": time.time(),
                    "success": result.success,
                    "failures": _failures(result),
                }
            )
            _write(out, report)
            if not result.success:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
