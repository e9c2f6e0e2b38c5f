"""Runs in progress whose dagmesh process is gone are failed; runs of live processes, of other hosts
and of runs not started by dagmesh are left alone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import dagster as dg

from dagmesh.tools.stale_runs import HOST_TAG, PID_TAG, fail_abandoned_runs


def _started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    @dg.asset
    def one() -> int:
        return 1

    job = dg.define_asset_job("j").resolve(
        asset_graph=dg.Definitions(assets=[one]).resolve_asset_graph()
    )
    run = instance.create_run_for_job(job, tags=tags)
    instance.handle_run_event(
        run.run_id,
        dg.DagsterEvent(
            dg.DagsterEventType.RUN_START.value, job_name=run.job_name, message="start"
        ),
    )
    return instance.get_run_by_id(run.run_id)


def test_only_runs_of_gone_processes_on_this_host_are_failed(instance):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    dead = _started_run(instance, {HOST_TAG: host, PID_TAG: str(gone.pid)})
    alive = _started_run(instance, {HOST_TAG: host, PID_TAG: str(os.getppid())})
    elsewhere = _started_run(instance, {HOST_TAG: "another-host", PID_TAG: str(gone.pid)})
    untagged = _started_run(instance, {})
    assert {r.status for r in (dead, alive, elsewhere, untagged)} == {dg.DagsterRunStatus.STARTED}

    failed = fail_abandoned_runs(instance)

    assert [r.run_id for r in failed] == [dead.run_id]
    status = {
        r.run_id: instance.get_run_by_id(r.run_id).status
        for r in (dead, alive, elsewhere, untagged)
    }
    assert status == {
        dead.run_id: dg.DagsterRunStatus.FAILURE,
        alive.run_id: dg.DagsterRunStatus.STARTED,
        elsewhere.run_id: dg.DagsterRunStatus.STARTED,
        untagged.run_id: dg.DagsterRunStatus.STARTED,
    }
    assert fail_abandoned_runs(instance) == []
