"""The mesh's local Dagster instance keeps its SQLite connections (`dagmesh.binding.sqlite_engines`):
events and runs must still be durable against a killed process, visible to other processes at once,
and the UI's live view of a run (a watch from another instance) must still wake up on every event."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from dagmesh.binding.event_log import MeshSqliteEventLogStorage
from dagmesh.binding.run_storage import MeshSqliteRunStorage
from dagmesh.storage.settings import MeshSettings


def _home(tmp_path: Path) -> Path:
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    return settings.ensure_dagster_home()


def _instance(dagster_home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))


@dg.asset
def counted() -> int:
    return 1


def test_the_mesh_instance_uses_kept_connections_in_wal_mode_without_a_sync_per_commit(tmp_path):
    instance = _instance(_home(tmp_path))
    assert isinstance(instance.event_log_storage, MeshSqliteEventLogStorage)
    assert isinstance(instance.run_storage, MeshSqliteRunStorage)
    run = dg.materialize([counted], instance=instance)
    with instance.event_log_storage.run_connection(run.run_id) as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (journal, synchronous) == ("wal", 1)  # 1 is NORMAL: no fsync at commit
    with instance.run_storage.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_killed_process_loses_no_committed_event_or_run(tmp_path):
    """The writer never closes its connections (kill -9 after its run): everything it committed is
    there for the next process, and the files are intact."""
    dagster_home = _home(tmp_path)
    script = textwrap.dedent(
        f"""
        import os, signal
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef
        instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir({str(dagster_home)!r}))
        @dg.asset(partitions_def=dg.StaticPartitionsDefinition([str(i) for i in range(30)]))
        def many(context) -> int:
            return 1
        for key in ("0", "1", "2"):
            result = dg.materialize([many], instance=instance, partition_key=key)
        print(result.run_id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    last_run = done.stdout.split()[-1]
    instance = _instance(dagster_home)
    runs = instance.get_runs()
    assert len(runs) == 3
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert instance.get_materialized_partitions(dg.AssetKey("many")) == {"0", "1", "2"}
    assert any(
        e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS
        for e in instance.all_logs(last_run)
    )
    for database in (dagster_home / "storage").glob("*.db"):
        with sqlite3.connect(database) as con:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",), database


def test_a_watch_from_another_instance_sees_each_event_while_the_writer_keeps_its_connection(
    tmp_path,
):
    """The UI's live view: its own instance watches a run another instance writes to. With the
    connection kept, the run's database file only changes at a checkpoint; the watch must wake on
    the write-ahead log, so each event arrives while the run is still going."""
    dagster_home = _home(tmp_path)
    writer, watcher = _instance(dagster_home), _instance(dagster_home)
    run = writer.create_run_for_job(dg.GraphDefinition(name="noop", node_defs=[]).to_job())
    seen: list[str] = []
    arrived = threading.Event()

    def on_event(entry, _cursor):
        seen.append(entry.message)
        arrived.set()

    watcher.watch_event_logs(run.run_id, None, on_event)
    try:
        for i in range(3):
            arrived.clear()
            writer.report_engine_event(f"step {i}", run)
            deadline = time.monotonic() + 10
            while f"step {i}" not in seen and time.monotonic() < deadline:
                arrived.wait(0.2)
            assert f"step {i}" in seen, f"the watch did not see event {i}: {seen}"
            time.sleep(0.05)
    finally:
        watcher.end_watch_event_logs(run.run_id, on_event)
        watcher.dispose()
        writer.dispose()


def _schema(database: Path) -> tuple[list, list]:
    with sqlite3.connect(database) as con:
        tables = con.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        revision = con.execute("SELECT version_num FROM alembic_version").fetchall()
    return tables, revision


def test_a_new_runs_file_copied_from_the_template_is_what_dagster_would_have_built(tmp_path):
    dagster_home = _home(tmp_path)
    instance = _instance(dagster_home)
    first, second = (dg.materialize([counted], instance=instance) for _ in range(2))
    storage = instance.event_log_storage
    stock = tmp_path / "stock.db"
    _built_by_the_stock_storage(stock)
    assert _schema(Path(storage.path_for_shard(second.run_id))) == _schema(stock)
    assert len(instance.all_logs(second.run_id)) == len(instance.all_logs(first.run_id)) > 5
    templates = list((dagster_home / "storage").glob(".run-template-*"))
    assert len(templates) == 1
    assert set(storage.get_all_run_ids()) == {first.run_id, second.run_id}


def test_a_runs_file_another_process_made_is_never_replaced_by_the_template(tmp_path):
    from dagmesh.binding.run_shards import copied_from_template

    storage = _instance(_home(tmp_path)).event_log_storage
    theirs = Path(storage.path_for_shard("someone-elses-run"))
    theirs.write_bytes(b"their bytes")
    assert not copied_from_template(str(theirs.parent), str(theirs), storage._initdb)
    assert theirs.read_bytes() == b"their bytes"
    assert not list(theirs.parent.glob(".*.copy"))


def _built_by_the_stock_storage(path: Path) -> None:
    """A run's file as the stock storage builds it."""
    from dagster._core.storage.event_log import SqliteEventLogStorage
    from sqlalchemy import create_engine

    stock = SqliteEventLogStorage(str(path.parent / "stock-storage"))
    engine = create_engine(f"sqlite:///{path}")
    stock._initdb(engine)
    engine.dispose()


def test_schema_facts_are_remembered_only_once_true(tmp_path):
    storage = _instance(_home(tmp_path)).event_log_storage
    assert storage.has_table("asset_event_tags")
    assert not storage.has_table("made_later")
    with storage.index_connection() as conn:
        conn.exec_driver_sql("CREATE TABLE made_later (x INTEGER)")
    assert storage.has_table("made_later")  # an absent table is looked up again, not remembered
