"""Four OS processes commit to one DuckLake on the PostgreSQL catalog at the same time: every commit
lands, each once, and the counts are exact. Each transaction replaces the writer's own table and appends
to a log table that all four share."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKERS = 4
ROUNDS = 5
WORKER = Path(__file__).with_name("lake_commit_worker.py")
ROOT = Path(__file__).resolve().parents[3]
DEADLINE_SECONDS = 120


def test_four_processes_commit_concurrently_and_every_commit_lands(postgres_server, lake, tmp_path):
    database = postgres_server.create_database()
    catalog = postgres_server.ducklake(database)
    files = tmp_path / "lake-files"
    setup = lake(catalog, files)
    setup.execute("CREATE TABLE lake.log (worker INTEGER, round INTEGER)")
    before = setup.execute("SELECT MAX(snapshot_id) FROM ducklake_snapshots('lake')").fetchone()[0]

    writers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), catalog, str(files), str(w), str(ROUNDS)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    try:
        for writer in writers:  # all attached, then all go at once
            line = writer.stdout.readline()
            assert line.strip() == "ready", writer.stderr.read()
        for writer in writers:
            writer.stdin.write("go\n")
            writer.stdin.flush()
        results = []
        for writer in writers:
            out, err = writer.communicate(timeout=DEADLINE_SECONDS)
            assert writer.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()

    # they really ran at the same time: every writer's transactions overlap another writer's
    windows = {r["worker"]: (r["spans"][0][0], r["spans"][-1][1]) for r in results}
    for w, (start, end) in windows.items():
        assert any(s < end and start < e for o, (s, e) in windows.items() if o != w), windows

    reader = lake(catalog, files)
    assert reader.execute(
        "SELECT COUNT(*), COUNT(DISTINCT (worker, round)) FROM lake.log"
    ).fetchone() == (
        WORKERS * ROUNDS,
        WORKERS * ROUNDS,
    )
    assert reader.execute(
        "SELECT worker, COUNT(*), MIN(round), MAX(round) FROM lake.log GROUP BY worker ORDER BY worker"
    ).fetchall() == [(w, ROUNDS, 0, ROUNDS - 1) for w in range(WORKERS)]
    for w in range(WORKERS):  # each table holds its writer's last round, whole
        assert reader.execute(
            f"SELECT COUNT(*), MIN(round), MAX(round), COUNT(DISTINCT n) FROM lake.w{w}"
        ).fetchone() == (100 + ROUNDS - 1, ROUNDS - 1, ROUNDS - 1, 100 + ROUNDS - 1)
    # one snapshot per transaction, none lost and none doubled
    after = reader.execute(
        "SELECT COUNT(*), MAX(snapshot_id) FROM ducklake_snapshots('lake') WHERE snapshot_id > ?",
        [before],
    ).fetchone()
    assert after == (WORKERS * ROUNDS, before + WORKERS * ROUNDS)
