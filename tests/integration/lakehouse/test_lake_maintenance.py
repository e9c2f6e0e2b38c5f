"""Lake maintenance through Dagster (`lake_maintenance` of the governance location) on a real DuckLake:
a DuckDB-file catalog in a tmp folder, and the PostgreSQL catalog of tests/helpers/lake_servers.py,
both with a local data path.

Products are published many times through the platform (`MeshWarehouse.publish`), so the lake holds
many small files and snapshots; the snapshots are then aged in the catalog itself (their
`snapshot_time`), as if published weeks ago. The maintenance run must merge the small files, expire
exactly the snapshots past the retention that the publication log does not need, keep every product's
latest publication readable by time travel, leave every product's rows exactly as they were, and
delete the files nothing needs from disk (at once with a cleanup delay of 0; after the delay
otherwise).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagmesh.binding.asset import WAREHOUSE_KEY
from dagmesh.governance.maintenance import OP_NAME, lake_maintenance
from dagmesh.storage.lake_maintenance import CLEANUP_DELAY_ENV, RETENTION_ENV
from dagmesh.storage.settings import HOME_ENV, LAKE_DATA_ENV, WAREHOUSE_ENV, MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, PartitionWindow, PublishTarget
from tests.helpers.readers import TRUSTED

ORDERS = PublishTarget(
    product="sales/orders", table=("sales", "orders"), contract=None, version="1.0.0"
)
LEGACY = PublishTarget(
    product="sales/legacy", table=("sales", "legacy"), contract=None, version="2.1.0"
)
EVENTS = PublishTarget(
    product="sales/events",
    table=("sales", "events"),
    contract=None,
    version="1.0.0",
    partition_column="day",
)
DAY0 = dt.datetime(2024, 1, 1)
ROWS = 50  # more than DuckLake inlines into the catalog: every publish writes a Parquet file


@dataclass
class Lake:
    warehouse: MeshWarehouse
    data: Path
    catalog: str

    def sql(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.warehouse.get_connection() as con:
            return con.execute(sql, params or []).fetchall()

    def age(self, days: int, *, after: int = -1, upto: int) -> None:
        """Move the snapshots `after < id <= upto` `days` into the past, in the catalog itself."""
        self.sql(
            "UPDATE __ducklake_metadata_lake.ducklake_snapshot "
            "SET snapshot_time = snapshot_time - to_days(CAST(? AS INTEGER)) "
            "WHERE snapshot_id > ? AND snapshot_id <= ?",
            [days, after, upto],
        )

    def latest_snapshot(self) -> int:
        return self.sql("SELECT max(snapshot_id) FROM lake.snapshots()")[0][0]

    def snapshots(self) -> set[int]:
        return {row[0] for row in self.sql("SELECT snapshot_id FROM lake.snapshots()")}

    def parquet_files(self) -> set[str]:
        return {str(path) for path in self.data.rglob("*.parquet")}

    def files_at(self, table: str, snapshot: int) -> set[str]:
        rows = self.sql(
            "SELECT data_file FROM ducklake_list_files('lake', ?, schema => 'sales', "
            "snapshot_version => ?)",
            [table, snapshot],
        )
        return {row[0] for row in rows}

    def rows(self, table: str, snapshot: int | None = None) -> list[tuple]:
        at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
        return self.sql(f"SELECT * FROM sales.{table}{at} ORDER BY ALL")

    def live_files(self, table: str) -> int:
        found = self.sql(
            "SELECT file_count + delete_file_count FROM ducklake_table_info('lake') "
            "WHERE table_name = ?",
            [table],
        )
        return found[0][0]


def _lake(catalog: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    data = tmp_path / "lake-data"
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(WAREHOUSE_ENV, catalog)
    monkeypatch.setenv(LAKE_DATA_ENV, f"{data}/")
    for name in (RETENTION_ENV, CLEANUP_DELAY_ENV):
        monkeypatch.delenv(name, raising=False)
    warehouse = MeshWarehouse.from_settings(MeshSettings.from_env())
    assert warehouse.is_lakehouse
    return Lake(warehouse, data, catalog)


@pytest.fixture(params=["duckdb-catalog", "postgres-catalog"])
def lake(request, tmp_path, monkeypatch) -> Lake:
    if request.param == "postgres-catalog":
        server = request.getfixturevalue("postgres_server")
        return _lake(server.ducklake(server.create_database()), tmp_path, monkeypatch)
    return _lake(f"ducklake:{tmp_path / 'catalog.ducklake'}", tmp_path, monkeypatch)


@pytest.fixture
def file_lake(tmp_path, monkeypatch) -> Lake:
    """A lake on a DuckDB-file catalog."""
    return _lake(f"ducklake:{tmp_path / 'catalog.ducklake'}", tmp_path, monkeypatch)


def orders(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": range(n * 1000, n * 1000 + ROWS), "amount": [n * 1.5] * ROWS})


def events(day: int) -> tuple[pd.DataFrame, PartitionWindow]:
    start = DAY0 + dt.timedelta(days=day)
    frame = pd.DataFrame({"day": [start] * ROWS, "n": range(day * 100, day * 100 + ROWS)})
    return frame, PartitionWindow(start, start + dt.timedelta(days=1), start.date().isoformat())


def publish(lake: Lake, target: PublishTarget, frame: pd.DataFrame, window=None) -> int:
    result = lake.warehouse.publish(target, frame, window)
    assert result.snapshot is not None
    return result.snapshot


def maintain(lake: Lake, instance: dg.DagsterInstance) -> dict[str, object]:
    """Run the job through Dagster; the maintenance op's output metadata, as plain values."""
    result = lake_maintenance.execute_in_process(
        instance=instance, resources={WAREHOUSE_KEY: lake.warehouse}
    )
    assert result.success
    (output,) = [e for e in result.all_events if e.is_successful_output and e.step_key == OP_NAME]
    return {k: v.value for k, v in output.event_specific_data.metadata.items()}


def expected_rows(frames: list[pd.DataFrame]) -> list[tuple]:
    frame = pd.concat(frames, ignore_index=True)
    return sorted(tuple(row) for row in frame.itertuples(index=False, name=None))


def as_plain(rows: list[tuple]) -> list[tuple]:
    return sorted(
        tuple(v.replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in r) for r in rows
    )


def test_maintenance_compacts_expires_and_cleans_up_keeping_the_served_versions(
    lake, instance, monkeypatch
):
    # 40 days ago: orders published 3 times, events 8 partitions one by one, legacy twice
    old_orders = [publish(lake, ORDERS, orders(n)) for n in range(3)]
    event_snapshots = [publish(lake, EVENTS, *events(day)) for day in range(8)]
    publish(lake, LEGACY, orders(10))
    legacy_latest = publish(lake, LEGACY, orders(11))
    old = lake.latest_snapshot()
    lake.age(40, upto=old)
    # 20 days ago (inside the default 30 days' retention): orders twice; today: orders once
    mid_orders = [publish(lake, ORDERS, orders(n)) for n in (3, 4)]
    lake.age(20, after=old, upto=lake.latest_snapshot())
    new_orders = publish(lake, ORDERS, orders(5))

    before = lake.snapshots()
    current = {t: lake.rows(t) for t in ("orders", "events", "legacy")}
    retained = {s: lake.rows("orders", s) for s in (*mid_orders, new_orders)}
    # orders as of its first two publications: only expired snapshots see them (the third is what
    # orders was at the served snapshots of events and legacy, published after it)
    old_files = set().union(*(lake.files_at("orders", s) for s in old_orders[:2]))
    third = lake.files_at("orders", old_orders[2])
    on_disk = lake.parquet_files()
    assert lake.live_files("events") == 8 and old_files <= on_disk
    served = {event_snapshots[-1], legacy_latest}  # latest publications older than the retention
    expected_expired = {s for s in before if s <= old} - served

    monkeypatch.setenv(CLEANUP_DELAY_ENV, "0 seconds")  # retention: the default, 30 days
    report = maintain(lake, instance)

    # exactly the snapshots past the retention that no latest publication needs
    assert set(report["expired snapshot ids"]) == expected_expired
    assert report["snapshots expired"] == len(expected_expired) > 0
    assert set(map(int, report["snapshots kept past the retention"])) == served
    after = lake.snapshots()
    assert not after & expected_expired
    assert before - expected_expired <= after
    # the served versions stay readable by time travel, as they were published
    assert lake.rows("legacy", legacy_latest) == expected_rows([orders(11)])
    assert lake.rows("orders", legacy_latest) == expected_rows([orders(2)])
    assert as_plain(lake.rows("events", event_snapshots[-1])) == as_plain(
        expected_rows([events(day)[0] for day in range(8)])
    )
    for snapshot, rows in retained.items():  # the retention window is intact
        assert lake.rows("orders", snapshot) == rows
    with pytest.raises(duckdb.Error, match=r"[Nn]o snapshot"):
        lake.rows("orders", old_orders[0])
    # the platform's history and time travel agree: the expired publications have no snapshot left
    history = lake.warehouse.history(ORDERS.table)
    assert [e["snapshot"] for e in history] == [None, None, None, *mid_orders, new_orders]
    assert [e["snapshot"] for e in lake.warehouse.history(LEGACY.table)] == [None, legacy_latest]
    pd.testing.assert_frame_equal(
        lake.warehouse.read(LEGACY.table, as_of=legacy_latest, reader=TRUSTED),
        orders(11),
        check_dtype=False,
    )
    # the data is exactly what it was
    assert {t: lake.rows(t) for t in current} == current
    assert current["orders"] == expected_rows([orders(5)])
    assert lake.sql("SELECT count(*) FROM _dagmesh.publications") == [(3 + 8 + 2 + 2 + 1,)]
    # small files merged, files of expired snapshots deleted from disk
    assert lake.live_files("events") == 1
    assert report["files merged"] >= 8 and report["files merged into"] >= 1
    remaining = lake.parquet_files()
    assert len(remaining) < len(on_disk)
    assert not old_files & remaining
    assert third <= remaining
    assert set(report["deleted files"]) == on_disk - remaining
    assert report["files deleted"] == len(on_disk - remaining) >= len(old_files) + 8
    assert report["files waiting for the cleanup delay"] == 0
    assert report["live files after"] < report["live files before"]

    # a second run right after finds nothing more to do
    again = maintain(lake, instance)
    assert again["snapshots expired"] == 0 and again["files deleted"] == 0
    assert again["files merged"] == 0
    assert lake.parquet_files() == remaining
    assert {t: lake.rows(t) for t in current} == current


def test_unneeded_files_wait_for_the_cleanup_delay_and_the_retention_is_a_setting(
    file_lake, instance, monkeypatch
):
    lake = file_lake
    old_orders = [publish(lake, ORDERS, orders(n)) for n in range(3)]
    lake.age(20, upto=lake.latest_snapshot())  # inside the default retention, outside 10 days
    latest = publish(lake, ORDERS, orders(3))
    old_files = set().union(*(lake.files_at("orders", s) for s in old_orders))

    kept = maintain(lake, instance)  # the default retention keeps them all
    assert kept["snapshots expired"] == 0 and kept["retention"] == "30 days"
    assert set(old_orders) <= lake.snapshots()

    monkeypatch.setenv(RETENTION_ENV, "10 days")  # the cleanup delay: the default, 1 day
    expired = maintain(lake, instance)
    assert set(old_orders) <= set(expired["expired snapshot ids"])
    assert not set(old_orders) & lake.snapshots()
    # no snapshot needs the old files any more, but they were just unlinked: they stay a day
    assert expired["files deleted"] == 0
    assert expired["files waiting for the cleanup delay"] >= len(old_files)
    assert old_files <= lake.parquet_files()
    assert lake.rows("orders", latest) == expected_rows([orders(3)])

    lake.sql(
        "UPDATE __ducklake_metadata_lake.ducklake_files_scheduled_for_deletion "
        "SET schedule_start = schedule_start - INTERVAL 2 DAY"
    )
    cleaned = maintain(lake, instance)
    assert set(cleaned["deleted files"]) >= old_files
    assert cleaned["files waiting for the cleanup delay"] == 0
    assert not old_files & lake.parquet_files()
    assert lake.rows("orders") == expected_rows([orders(3)])


def test_a_latest_publication_naming_no_snapshot_stops_expiry(file_lake, instance, monkeypatch):
    lake = file_lake
    monkeypatch.setenv(CLEANUP_DELAY_ENV, "0 seconds")
    old_orders = [publish(lake, ORDERS, orders(n)) for n in range(3)]
    legacy = publish(lake, LEGACY, orders(10))
    for n in range(3, 6):
        publish(lake, EVENTS, *events(n))
    lake.age(40, upto=lake.latest_snapshot())
    # a log row that names no snapshot (as one written before publications had ids)
    lake.sql(
        "UPDATE _dagmesh.publications SET publication_id = NULL WHERE product = 'sales/legacy'"
    )
    (published_at,) = lake.sql(
        "SELECT published_at FROM _dagmesh.publications WHERE product = 'sales/legacy'"
    )[0]
    before = lake.snapshots()

    report = maintain(lake, instance)
    unmatched = f"sales.legacy (published {published_at:%Y-%m-%d %H:%M} UTC)"
    assert report["publications without a snapshot"] == [unmatched]
    assert report["snapshots expired"] == 0
    assert str(report["outcome"]).startswith(f"nothing expired: {unmatched} names no snapshot")
    assert before <= lake.snapshots()
    assert lake.rows("legacy", legacy) == expected_rows([orders(10)])
    assert lake.rows("orders", old_orders[0]) == expected_rows([orders(0)])
    assert report["files merged"] >= 3  # the other steps ran

    publish(lake, LEGACY, orders(11))  # its next publication names its snapshot
    again = maintain(lake, instance)
    assert again["publications without a snapshot"] == []
    assert old_orders[0] in again["expired snapshot ids"]
    assert legacy in again["expired snapshot ids"]
