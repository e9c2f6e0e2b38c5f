"""The lakehouse backend distributed: domain locations publish to one DuckLake from separate OS processes,
each a real Dagster run (`dg.materialize`, an instance per process), the catalog on a real PostgreSQL
server and the data on an S3 server, both started by the test setup (tests/helpers/lake_servers.py).

Four writers publish three rounds at once: every product holds exactly its last round, the publication
log has one row per publish, each matching one DuckLake snapshot, the data files are on S3 under each
domain's path, the writers overlapped and nothing failed. A writer killed with SIGKILL in the middle of
its commit leaves the last good version; a PostgreSQL crash in the middle of two writers' commits leaves
every product at its last good version or the new one; reruns complete.

To be in the middle of a commit at a known moment, the test holds DuckLake's commits in the catalog: a
PostgreSQL session of its own locks `ducklake_snapshot_changes`, the last table a DuckLake commit writes
(in the one batch of statements that precedes its COMMIT). A writer's commit then waits there, its
snapshot, tables and data file rows inserted but not committed (the Parquet file already on S3), until
the test kills the writer or crashes the server. The writer process and the locations:
tests/e2e/lakehouse_locations.py.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from dagmesh.storage.extensions import load_extensions
from tests.e2e.lakehouse_locations import KEYS, PRODUCTS, expected_fingerprints, fingerprint
from tests.helpers.lake_servers import PostgresServer, S3Server, postgres_server, s3_server

__all__ = ["postgres_server", "s3_server"]  # the servers' session fixtures, used here

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ("alpha", "beta", "gamma", "delta")  # the four writing at once
SEEDS = {"alpha": 1, "beta": 2, "gamma": 3, "delta": 4, "kilo": 5, "north": 6, "south": 7}
ROUNDS = 3
DEADLINE = 120  # seconds for any writer or wait
# the first statement of the batch a DuckLake commit sends to the catalog before COMMIT
COMMIT_BATCH = 'INSERT INTO "public".ducklake_snapshot VALUES%'


@dataclass
class Writer:
    domain: str
    folder: Path
    process: subprocess.Popen

    @property
    def ready(self) -> bool:
        return (self.folder / "ready").exists()

    def report(self) -> dict[str, Any]:
        path = self.folder / "result.json"
        return json.loads(path.read_text()) if path.exists() else {"runs": [], "publishes": []}

    def errors(self) -> str:
        return (self.folder / "stderr").read_text(errors="replace")[-4000:]

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.close()

    def finish(self, timeout: float = DEADLINE) -> dict[str, Any]:
        """Wait for the writer to end; its report (runs, publishes, pools)."""
        self.process.wait(timeout)
        return self.report()


@dataclass
class Lake:
    """One test's lake: a new catalog database on the PostgreSQL server, a new prefix on S3."""

    postgres: PostgresServer
    s3: S3Server
    database: str
    prefix: str  # s3://bucket/<name>/
    root: Path
    writers: list[Writer] = field(default_factory=list)

    @property
    def catalog(self) -> str:
        return self.postgres.ducklake(self.database)

    @property
    def key_prefix(self) -> str:
        return self.prefix.removeprefix(f"s3://{self.s3.bucket}/")

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PGPASSWORD")}
        env.update(
            DAGMESH_HOME=str(self.root / "mesh"),
            DAGMESH_WAREHOUSE=self.catalog,
            DAGMESH_LAKE_DATA=self.prefix,
            AWS_ACCESS_KEY_ID=self.s3.key_id,
            AWS_SECRET_ACCESS_KEY=self.s3.secret,
            DAGMESH_S3_ENDPOINT=self.s3.endpoint,
            DAGMESH_S3_URL_STYLE="path",
            DAGMESH_S3_USE_SSL="false",
            PYTHONPATH=str(ROOT),
        )
        return env

    def writer(
        self, name: str, domain: str, rounds: range | list[int], *, wait=False, hold=()
    ) -> Writer:
        """Start a writer process publishing `rounds` of `domain`'s location, one run each; in the
        rounds in `hold`, `scores` waits for its go file before its publish."""
        folder = self.root / name
        folder.mkdir()
        (folder / "dagster").mkdir()
        (self.root / "markers").mkdir(exist_ok=True)
        spec = {
            "domain": domain,
            "seed": SEEDS[domain],
            "runs": [{"round": r, "hold": r in hold} for r in rounds],
            "result": str(folder / "result.json"),
            "ready": str(folder / "ready"),
            "dagster_home": str(folder / "dagster"),
            "markers": str(self.root / "markers"),
            "wait": wait,
        }
        (folder / "spec.json").write_text(json.dumps(spec))
        with (folder / "stdout").open("w") as out, (folder / "stderr").open("w") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.lakehouse_locations", str(folder / "spec.json")],
                cwd=ROOT,
                env=self.environment(),
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                text=True,
            )
        writer = Writer(domain, folder, process)
        self.writers.append(writer)
        return writer

    def marker(self, domain: str, round_: int) -> Path:
        """Written by `scores` of that round when it has built its relation (see the locations)."""
        return self.root / "markers" / f"{domain}-scores-{round_}"

    def release(self, domain: str, round_: int) -> None:
        """Let a held `scores` go on to its publish."""
        marker = self.marker(domain, round_)
        marker.with_name(marker.name + ".go").write_text("go")

    def create_catalog(self) -> None:
        """DuckLake's metadata tables in the new database, made by one attach before any writer
        starts, as a deployment's first process would. DuckLake's initialization of a catalog is not
        safe from several processes at once: four attaching a new PostgreSQL catalog at the same
        moment fail in all but one or two with `Failed to initialize DuckLake: ... CREATE TABLE
        "public"."ducklake_metadata" ...: duplicate key value violates unique constraint
        "pg_type_typname_nsp_index"` (or `relation "ducklake_metadata" already exists`)."""
        with self.reader(read_only=False):
            pass

    @contextmanager
    def reader(self, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """The lake attached (read-only) in a DuckDB of the test's own, not through the platform's code."""
        con = duckdb.connect()
        try:
            con.execute("SET autoinstall_known_extensions = false")
            load_extensions(con, "ducklake", "postgres", "httpfs")
            con.execute(self.s3.secret_sql())
            mode = ", READ_ONLY" if read_only else ""
            con.execute(f"ATTACH '{self.catalog}' AS lake (DATA_PATH '{self.prefix}'{mode})")
            yield con
        finally:
            con.close()

    @contextmanager
    def commits_held(self) -> Iterator[None]:
        """While open, every DuckLake commit to this catalog waits inside its batch of statements,
        before COMMIT: the last table the batch writes is locked against writes (reads go on)."""
        con = psycopg2.connect(self.postgres.dsn(self.database), connect_timeout=10)
        try:
            with con.cursor() as cur:
                cur.execute("SET lock_timeout = '10s'")
                cur.execute("LOCK TABLE public.ducklake_snapshot_changes IN EXCLUSIVE MODE")
            yield
        finally:
            with suppress(psycopg2.Error):  # a crashed server took the session with it
                con.rollback()
            con.close()

    def held_commits(self) -> list[tuple]:
        """(pid, seconds open) of the sessions whose DuckLake commit waits on the held lock."""
        return self.postgres.execute(
            "SELECT pid, EXTRACT(EPOCH FROM now() - xact_start)::float FROM pg_stat_activity "
            "WHERE datname = %s AND wait_event_type = 'Lock' AND query LIKE %s",
            [self.database, COMMIT_BATCH],
        )

    def open_transactions(self) -> list[tuple]:
        """(pid, state) of the catalog database's sessions inside a transaction."""
        return self.postgres.execute(
            "SELECT pid, state FROM pg_stat_activity "
            "WHERE datname = %s AND xact_start IS NOT NULL AND pid <> pg_backend_pid()",
            [self.database],
        )

    def stop_writers(self) -> None:
        for writer in self.writers:  # only the processes this test started, by their handle
            if writer.process.poll() is None:
                writer.process.kill()
                writer.process.wait(10)


def new_lake(postgres: PostgresServer, s3: S3Server, root: Path) -> Lake:
    lake = Lake(postgres, s3, postgres.create_database("mesh"), s3.prefix("mesh"), root)
    lake.create_catalog()
    return lake


@pytest.fixture
def lake(postgres_server, s3_server, tmp_path) -> Iterator[Lake]:
    lake = new_lake(postgres_server, s3_server, tmp_path)
    try:
        yield lake
    finally:
        lake.stop_writers()


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = DEADLINE, writers=()
) -> Any:
    """Poll `condition` until it returns something true; fail if a writer ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        for writer in writers:
            if writer.process.poll() is not None:
                pytest.fail(f"{writer.domain} ended before {what}:\n{writer.errors()}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


# --- what the lake holds ---------------------------------------------------------------------------


def table_fingerprint(con: duckdb.DuckDBPyConnection, domain: str, product: str) -> tuple[int, str]:
    return fingerprint(
        con.execute(f"SELECT * FROM lake.{domain}.{product} ORDER BY {KEYS[product]}").fetchall()
    )


def publication_log(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT product, version, row_count, publication_id, published_at "
        "FROM lake._dagmesh.publications ORDER BY published_at"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def publish_snapshots(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every snapshot that names a publication in its extra info."""
    rows = con.execute(
        "SELECT snapshot_id, author, commit_message, commit_extra_info FROM lake.snapshots() "
        "WHERE commit_extra_info IS NOT NULL ORDER BY snapshot_id"
    ).fetchall()
    return [
        {
            "snapshot": snapshot,
            "author": author,
            "message": message,
            "publication": json.loads(extra).get("publication"),
        }
        for snapshot, author, message, extra in rows
    ]


def table_files(con: duckdb.DuckDBPyConnection, domain: str, product: str) -> list[str]:
    """The S3 keys of the data files the product's table reads now."""
    rows = con.execute(
        "SELECT data_file FROM ducklake_list_files('lake', ?, schema => ?)", [product, domain]
    ).fetchall()
    return [row[0].split("://", 1)[1].split("/", 1)[1] for row in rows]


def check_log(
    con: duckdb.DuckDBPyConnection, reports: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The publication log is consistent with the lake and with what the writers did: exactly one
    row per publish that succeeded (none for one that failed or was killed), every row's publication
    id names exactly one snapshot, made by that publish (author, commit message), every publish
    snapshot has its row, and each product's snapshots strictly increase in publishing order. Returns
    product -> its rows in order, each with its `snapshot`."""
    log = publication_log(con)
    succeeded = Counter(
        (p["product"], p["version"])
        for report in reports
        for p in report["publishes"]
        if "end" in p and "error" not in p
    )
    assert Counter((r["product"], r["version"]) for r in log) == succeeded
    by_publication: dict[str, list[dict[str, Any]]] = {}
    for snapshot in publish_snapshots(con):
        by_publication.setdefault(snapshot["publication"], []).append(snapshot)
    ids = [row["publication_id"] for row in log]
    assert len(set(ids)) == len(ids), "a publication id is in the log twice"
    assert set(by_publication) == set(ids), "a publish snapshot has no row in the publication log"
    products: dict[str, list[dict[str, Any]]] = {}
    for row in log:
        found = by_publication[row["publication_id"]]
        assert len(found) == 1, f"log row {row} matches {len(found)} snapshots"
        snapshot = found[0]
        assert snapshot["author"] == "dagmesh", snapshot
        assert snapshot["message"] == f"publish {row['product']} {row['version']}", (row, snapshot)
        products.setdefault(row["product"], []).append({**row, "snapshot": snapshot["snapshot"]})
    for product, rows in products.items():
        snapshots = [r["snapshot"] for r in rows]  # in publishing order (published_at)
        assert all(a < b for a, b in itertools.pairwise(snapshots)), (product, snapshots)
    # each publish's PublishResult.snapshot is the snapshot its log row names
    reported = sorted(
        (p["product"], p["version"], p["snapshot"])
        for report in reports
        for p in report["publishes"]
        if "snapshot" in p
    )
    assert reported == sorted(
        (r["product"], r["version"], r["snapshot"]) for rows in products.values() for r in rows
    )
    return products


def check_each_product_whole(con, domain: str, products: dict[str, list[dict[str, Any]]]) -> None:
    """Each of the domain's products holds exactly the round its newest log row names, all of it."""
    for product in PRODUCTS:
        version = products[f"{domain}/{product}"][-1]["version"]
        wanted = expected_fingerprints(SEEDS[domain], int(version.split(".")[1]))[product]
        found = table_fingerprint(con, domain, product)
        assert found == wanted, f"{domain}.{product} is not whole round {version}: {found}"


def failures(report: dict[str, Any]) -> list[Any]:
    return [(r["round"], r["failures"]) for r in report["runs"] if not r["success"]]


# --- four writers, three rounds each, at once ------------------------------------------------------


@pytest.fixture(scope="module")
def four_writers(postgres_server, s3_server, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The four locations' writers started together, each publishing ROUNDS rounds; what they did."""
    lake = new_lake(postgres_server, s3_server, tmp_path_factory.mktemp("four-writers"))
    try:
        writers = {d: lake.writer(d, d, range(ROUNDS), wait=True) for d in WRITERS}
        wait_until(
            lambda: all(w.ready for w in writers.values()),
            "every writer ready",
            writers=writers.values(),
        )
        for writer in writers.values():  # all loaded and attached: now all at once
            writer.go()
        reports = {domain: writer.finish() for domain, writer in writers.items()}
        yield {
            "lake": lake,
            "reports": reports,
            "returncodes": {d: w.process.returncode for d, w in writers.items()},
            "errors": {d: w.errors() for d, w in writers.items()},
        }
    finally:
        lake.stop_writers()


def test_every_writer_succeeded_without_a_pool_and_their_publishes_overlapped(four_writers):
    reports = four_writers["reports"]
    for domain, code in four_writers["returncodes"].items():
        assert code == 0, f"{domain} failed:\n{four_writers['errors'][domain]}"
    for domain, report in reports.items():
        assert [r["round"] for r in report["runs"]] == list(range(ROUNDS)), domain
        assert not failures(report) and all(r["success"] for r in report["runs"]), report["runs"]
        # on the lake no product step waits in a Dagster concurrency pool
        assert report["pools"] == {f"{domain}/{p}": None for p in PRODUCTS}, report["pools"]
        publishes = report["publishes"]
        assert len(publishes) == len(PRODUCTS) * ROUNDS, domain
        assert all("error" not in p and p["end"] > p["start"] for p in publishes), publishes
        # No write conflict between the domains' publishes: each committed at its first attempt,
        # except that the first publishes on the new lake race to create the shared publication log
        # (outside the transaction, one at a time per process only): a loser is retried.
        first, *later = publishes
        retried = [p for p in later if p["attempts"] != 1]
        assert not retried, f"{domain}: publishes retried after a write conflict: {retried}"
        assert len(first["attempt_errors"]) == first["attempts"] - 1, first
        for lost in first["attempt_errors"]:
            assert "Transaction conflict" in lost and '"_dagmesh"' in lost, first
    # No lock waits: the processes really overlapped. Publishing transactions (from the log check
    # before BEGIN to COMMIT) of different processes were open at the same time, which one file's
    # lock would forbid: every writer's overlapped another's, and all four wrote in one window.
    spans = [(d, *p["transaction"]) for d, r in reports.items() for p in r["publishes"]]
    for domain in reports:
        assert any(
            d != domain and s < end and start < e
            for (mine, start, end) in spans
            if mine == domain
            for (d, s, e) in spans
        ), f"no publishing transaction of {domain} overlapped another writer's"
    windows = {
        d: (min(s for m, s, _ in spans if m == d), max(e for m, _, e in spans if m == d))
        for d in reports
    }
    latest_start = max(start for start, _ in windows.values())
    earliest_end = min(end for _, end in windows.values())
    assert latest_start < earliest_end, f"not all four writers were publishing at once: {windows}"
    deepest = max(len({d for (d, s, e) in spans if s <= t < e}) for (_, t, _) in spans)
    assert deepest >= 3, f"at most {deepest} processes had a publishing transaction open at once"


def test_every_product_holds_exactly_its_last_round(four_writers):
    with four_writers["lake"].reader() as con:
        for domain in WRITERS:
            wanted = expected_fingerprints(SEEDS[domain], ROUNDS - 1)
            for product in PRODUCTS:
                found = table_fingerprint(con, domain, product)
                assert found == wanted[product], f"{domain}.{product}"


def test_the_publication_log_has_one_row_per_publish_each_matching_one_snapshot(four_writers):
    with four_writers["lake"].reader() as con:
        products = check_log(con, list(four_writers["reports"].values()))
        assert len(publication_log(con)) == len(WRITERS) * len(PRODUCTS) * ROUNDS
        assert len(publish_snapshots(con)) == len(WRITERS) * len(PRODUCTS) * ROUNDS
        for domain in WRITERS:
            for product in PRODUCTS:
                rows = products[f"{domain}/{product}"]
                # one row per round, in order, with the round's row count
                assert [r["version"] for r in rows] == [f"1.{n}.0" for n in range(ROUNDS)]
                assert [r["row_count"] for r in rows] == [
                    expected_fingerprints(SEEDS[domain], n)[product][0] for n in range(ROUNDS)
                ]


def test_the_data_files_are_on_s3_under_each_domains_path(four_writers):
    lake = four_writers["lake"]
    keys = lake.s3.keys(lake.prefix)  # listed by the S3 server itself
    assert keys, "nothing on the S3 server under the lake's prefix"
    with lake.reader() as con:
        for domain in WRITERS:
            for product in PRODUCTS:
                folder = f"{lake.key_prefix}{domain}/{product}/"
                files = table_files(con, domain, product)
                for key in files:  # every file the product's table reads is on the server, there
                    assert key.startswith(folder) and key.endswith(".parquet"), key
                    assert key in keys, f"{key} is in the catalog but not on the S3 server"
                # thousands of rows are Parquet files; DuckLake keeps the small products (8 rows,
                # 1 row) inlined in the catalog database instead
                if product in ("events", "scores"):
                    assert files, f"{domain}.{product} has no data file"
                    written = [k for k in keys if k.startswith(folder)]
                    assert len(written) >= ROUNDS, (folder, written)  # one per round at least
    # nothing outside the domains' own folders and the publication log's
    folders = {k.removeprefix(lake.key_prefix).split("/")[0] for k in keys}
    assert folders <= {*WRITERS, "_dagmesh"}, folders


# --- a writer killed in the middle of its commit ---------------------------------------------------


def test_a_writer_killed_in_the_middle_of_its_commit_leaves_the_last_good_version(lake):
    writer = lake.writer("killed", "kilo", [0, 1], hold=[1])
    wait_until(lake.marker("kilo", 1).exists, "kilo/scores of round 1 built", writers=[writer])
    folder = f"{lake.key_prefix}kilo/scores/"
    before = set(lake.s3.keys(folder))
    with lake.commits_held():
        lake.release("kilo", 1)
        held = wait_until(lake.held_commits, "kilo/scores's commit held", writers=[writer])
        inside = writer.report()["publishes"][-1]
        writer.process.send_signal(signal.SIGKILL)
        writer.process.wait(30)
    assert writer.process.returncode == -signal.SIGKILL
    assert len(held) == 1, held
    # killed inside the publish of kilo/scores 1.1.0, which had not returned
    assert (inside["product"], inside["version"]) == ("kilo/scores", "1.1.0"), inside
    report = writer.report()
    assert report["publishes"][-1] == inside and "end" not in inside
    assert [(r["round"], r["success"]) for r in report["runs"]] == [(0, True)]
    # the server ended the dead writer's transaction once the lock was released
    wait_until(lambda: not lake.open_transactions(), "no open catalog transaction", timeout=30)

    with lake.reader() as con:
        products = check_log(con, [report])  # no row, no snapshot of the killed publish
        assert [r["version"] for r in products["kilo/scores"]] == ["1.0.0"]
        # events was published by the killed run before scores (scores reads it)
        assert [r["version"] for r in products["kilo/events"]] == ["1.0.0", "1.1.0"]
        check_each_product_whole(con, "kilo", products)
        assert (
            table_fingerprint(con, "kilo", "scores")
            == expected_fingerprints(SEEDS["kilo"], 0)["scores"]
        )
        # the killed publish had written its data file: on S3, but not part of the table
        orphans = set(lake.s3.keys(folder)) - before
        assert orphans, "the killed publish wrote no data file before its commit"
        assert not orphans & set(table_files(con, "kilo", "scores")), orphans

    rerun = lake.writer("rerun", "kilo", [1])
    rerun_report = rerun.finish()
    assert rerun.process.returncode == 0 and not failures(rerun_report), rerun.errors()
    with lake.reader() as con:
        products = check_log(con, [report, rerun_report])
        assert [r["version"] for r in products["kilo/scores"]] == ["1.0.0", "1.1.0"]
        assert {p: rows[-1]["version"] for p, rows in products.items()} == {
            f"kilo/{p}": "1.1.0" for p in PRODUCTS
        }
        check_each_product_whole(con, "kilo", products)
        assert not orphans & set(table_files(con, "kilo", "scores"))


# --- PostgreSQL crashes in the middle of commits ---------------------------------------------------


def test_a_postgres_crash_mid_commit_leaves_each_product_whole_and_reruns_complete(lake):
    domains = ("north", "south")
    writers = [lake.writer(d, d, [0, 1], hold=[1]) for d in domains]
    for domain in domains:
        wait_until(lake.marker(domain, 1).exists, f"{domain}/scores of round 1", writers=writers)
    with lake.commits_held():
        for domain in domains:
            lake.release(domain, 1)
        # both writers are in the middle of their commit of scores 1.1.0 when the server crashes
        wait_until(lambda: len(lake.held_commits()) == 2, "both commits held", writers=writers)
        crashed_at = time.time()
        lake.postgres.restart(mode="immediate")
    reports = [w.finish() for w in writers]
    for domain, report in zip(domains, reports, strict=True):
        runs = [(r["round"], r["success"]) for r in report["runs"]]
        assert runs == [(0, True), (1, False)], (domain, runs)
        scores = [p for p in report["publishes"] if p["product"] == f"{domain}/scores"][-1]
        assert scores["version"] == "1.1.0" and "error" in scores, scores
        assert scores["start"] < crashed_at < scores["end"], scores

    with lake.reader() as con:
        # only what committed before the crash or after the restart: every failed publish left no
        # row and no snapshot, every product is whole at the version its log names, old or new
        products = check_log(con, reports)
        for domain in domains:
            assert [r["version"] for r in products[f"{domain}/scores"]] == ["1.0.0"]
            check_each_product_whole(con, domain, products)

    reruns = [lake.writer(f"{d}-rerun", d, [1]) for d in domains]
    rerun_reports = [w.finish() for w in reruns]
    for rerun, report in zip(reruns, rerun_reports, strict=True):
        assert rerun.process.returncode == 0 and not failures(report), rerun.errors()
    with lake.reader() as con:
        products = check_log(con, reports + rerun_reports)
        assert {p: rows[-1]["version"] for p, rows in products.items()} == {
            f"{d}/{p}": "1.1.0" for d in domains for p in PRODUCTS
        }
        for domain in domains:
            check_each_product_whole(con, domain, products)
