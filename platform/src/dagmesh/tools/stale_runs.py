"""Dagster runs left in progress by a `dagmesh` process that was killed (kill -9, a crash, a closed
laptop): marked failed the next time the mesh starts, so the UI shows no ghosts.

Every in-process run of the mesh is tagged with the host and process id that runs it
(`runner.materialize_in`); a run still in progress whose process no longer exists on this host is
abandoned. Runs of other hosts, and of processes still alive, are left alone. (A process id reused by
an unrelated process keeps its run in progress until that process ends.)
"""

from __future__ import annotations

import os
import socket

import dagster as dg

HOST_TAG = "dagmesh/host"
PID_TAG = "dagmesh/pid"
_IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags() -> dict[str, str]:
    """The tags naming the process a run executes in."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Mark failed every run in progress whose `dagmesh` process on this host is gone; returns them."""
    abandoned = []
    host = socket.gethostname()
    for run in instance.get_runs(
        filters=dg.RunsFilter(statuses=_IN_PROGRESS, tags={HOST_TAG: host})
    ):
        pid_text = run.tags.get(PID_TAG, "")
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        instance.report_run_failed(
            run,
            f"the dagmesh process running this run (PID {pid_text} on {host}) ended without "
            "finishing it (killed?); marked failed when the mesh next started. Nothing of an "
            "unfinished publish was published.",
        )
        abandoned.append(run)
    return abandoned
