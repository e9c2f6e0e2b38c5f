"""`dagmesh run` as an operator drives it, as a real process: Ctrl-C and SIGTERM stop it within
seconds with nothing half-published and no later product started; a run killed with SIGKILL leaves
Dagster runs in progress that the next start marks failed; a failed product is one actionable line,
its markup-like text intact, with no stack trace."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import dagster as dg
import pytest

from tests.helpers.mesh_runs import (
    BROKEN_MESSAGE,
    SLEEP_ENV,
    SLOW_ENV,
    dagmesh,
    finished,
    instance_of,
    mesh_env,
    published,
    runs_in_progress,
    wait_for,
    write_workspace,
)

STOP_WITHIN_SECONDS = 8


@pytest.mark.parametrize(
    ("signum", "parallel"), [(signal.SIGINT, "2"), (signal.SIGTERM, "1")], ids=["SIGINT", "SIGTERM"]
)
def test_a_stop_signal_interrupts_the_running_product_and_starts_no_later_one(
    tmp_path, signum, parallel
):
    workspace = write_workspace(tmp_path / "project")
    home, marker = tmp_path / "home", tmp_path / "slow-started"
    run = dagmesh(workspace, "--parallel", parallel, env=mesh_env(home, **{SLOW_ENV: str(marker)}))
    wait_for(marker, run)
    time.sleep(0.5)  # shop/slow's query is running in its publishing transaction
    sent = time.monotonic()
    run.send_signal(signum)
    output = finished(run, timeout=30)
    assert time.monotonic() - sent < STOP_WITHIN_SECONDS, output
    assert run.returncode == 128 + signum, output

    tables = published(home)
    assert tables == {"shop/first": 3, "log:shop/first": 1}  # nothing of slow, nothing later
    assert runs_in_progress(home) == []
    with instance_of(home) as instance:
        statuses = {r.status for r in instance.get_runs()}
    assert statuses == {dg.DagsterRunStatus.FAILURE}  # the one run, interrupted
    assert f"stopped by {signum.name}: published shop/first; not published shop/slow, " in output
    rows = {line.split("│")[1].strip(): line for line in output.splitlines() if "│" in line}
    assert "published" in rows["shop/first"]
    assert "interrupted" in rows["shop/slow"]
    assert "not started" in rows["later/after"] and "not started" in rows["later/broken"]
    assert "Traceback" not in output


def test_runs_left_by_a_killed_run_are_failed_at_the_next_start_and_failures_are_one_line(tmp_path):
    workspace = write_workspace(tmp_path / "project")
    home, marker = tmp_path / "home", tmp_path / "slow-started"
    killed = dagmesh(workspace, env=mesh_env(home, **{SLOW_ENV: str(marker)}))
    wait_for(marker, killed)
    killed.kill()
    finished(killed, timeout=30)
    ghosts = runs_in_progress(home)
    assert [r.status for r in ghosts] == [dg.DagsterRunStatus.STARTED]

    again = dagmesh(workspace, env=mesh_env(home))
    output = finished(again, timeout=120)
    assert again.returncode == 1, output  # later/broken fails; everything else is published
    assert (
        f"marked 1 Dagster run(s) failed that a killed dagmesh process had left in progress: "
        f"{ghosts[0].run_id[:8]}" in output
    )
    assert runs_in_progress(home) == []
    with instance_of(home) as instance:
        assert instance.get_run_by_id(ghosts[0].run_id).status == dg.DagsterRunStatus.FAILURE

    assert published(home)["shop/slow"] == 3 and "later/broken" not in published(home)
    lines = [line for line in output.splitlines() if line.startswith("later/broken (owners")]
    assert lines == [
        f"later/broken (owners: team:later) failed while computing: ValueError: {BROKEN_MESSAGE}. "
        "Nothing was published; consumers keep the last good version. Fix the source data or the "
        "product's code and materialize it again."
    ]
    assert "Traceback" not in output and "Stack Trace" not in output
    assert "dagmesh run --verbose" in output


def test_a_product_that_does_not_stop_is_left_behind_after_the_grace_period(tmp_path):
    from dagmesh.tools.stopping import GRACE_SECONDS

    workspace = write_workspace(tmp_path / "project")
    home, marker = tmp_path / "home", tmp_path / "sleeping"
    run = dagmesh(workspace, env=mesh_env(home, **{SLEEP_ENV: str(marker)}))
    wait_for(marker, run)
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    output = finished(run, timeout=30)
    assert GRACE_SECONDS <= time.monotonic() - sent < GRACE_SECONDS + 4, output
    assert run.returncode == 130, output
    assert "later/after" not in published(home) and published(home)["shop/slow"] == 3
    assert runs_in_progress(home) == []
    with instance_of(home) as instance:
        statuses = sorted(r.status.value for r in instance.get_runs())
    assert statuses == ["CANCELED", "SUCCESS"]  # shop's run, and later's, left behind
    rows = {line.split("│")[1].strip(): line for line in output.splitlines() if "│" in line}
    assert "published" in rows["shop/first"] and "interrupted" in rows["later/after"]
    assert "stopped by SIGINT: published shop/first, shop/slow; not published " in output


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(120)
"""


def test_a_held_warehouse_is_waited_for_visibly_and_once_for_the_whole_run(tmp_path):
    workspace = write_workspace(tmp_path / "project")
    home = tmp_path / "home"
    home.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home / "warehouse.duckdb")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        run = dagmesh(workspace, "--lock-timeout", "3", env=mesh_env(home))
        output = finished(run, timeout=60)
        took = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode == 1, output
    assert took < 25, output  # one 3 s deadline for the run, not 3 s (or 300 s) per product
    waits = [line for line in output.splitlines() if line.startswith("waiting for the warehouse")]
    assert waits and all(f"(PID {holder.pid})" in line for line in waits), output
    failed = [line for line in output.splitlines() if "stayed locked by" in line]
    assert failed and failed[0].startswith("shop/first"), output
    assert f"(PID {holder.pid})" in failed[0] and "Nothing was written" in failed[0]
