"""Whole-table reads split into rowid ranges on several threads return exactly the table, in order.

Real DuckDB files; the tables are large enough (several row groups) for the read to split.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from pandera.typing import Series

import dagmesh.storage.warehouse as warehouse_module
from dagmesh import MeshWarehouse
from dagmesh.declare.contract import read_contract
from dagmesh.storage.reads import ROW_GROUP, read_whole_table, row_ranges
from dagmesh.storage.warehouse import PartitionWindow, PublishTarget
from tests.helpers.readers import TRUSTED

ROWS = 3 * ROW_GROUP + 1234


class Events(pa.DataFrameModel):
    event_id: Series[int] = pa.Field(unique=True, ge=0)
    at: Series[pd.Timestamp]
    label: Series[str] = pa.Field(nullable=True)


def events(rows: int, first_id: int = 0, start: str = "2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(first_id)
    labels = pd.Series(rng.choice(["a", "bé", "c'd"], rows), dtype=object)
    labels[rng.random(rows) < 0.1] = None
    return pd.DataFrame(
        {
            # shuffled ids: the table's order is the publish order, not sorted by any column
            "event_id": rng.permutation(rows) + first_id,
            "at": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
            "label": labels,
        }
    )


@pytest.fixture
def warehouse(tmp_path) -> MeshWarehouse:
    return MeshWarehouse(database=str(tmp_path / "warehouse.duckdb"))


def target(partitioned: bool = False) -> PublishTarget:
    return PublishTarget(
        "reads/events",
        ("reads", "events"),
        read_contract(Events),
        ("team:reads",),
        "1.0.0",
        partition_column="at" if partitioned else None,
    )


def test_a_large_read_is_split_and_returns_the_published_frame_in_order(warehouse):
    frame = events(ROWS)
    warehouse.publish(target(), frame)
    with warehouse.get_connection() as con:
        ranges, rows = row_ranges(con, '"reads"."events"')

    read = warehouse.read(("reads", "events"), reader=TRUSTED)

    assert len(ranges) >= 2 and rows == ROWS  # the split path runs, on more than one thread
    pd.testing.assert_frame_equal(read, frame, check_dtype=False)


def test_ranges_follow_storage_order_after_deletes_inserts_and_a_checkpoint(warehouse):
    day = dict(start=pd.Timestamp("2024-01-01"), end=pd.Timestamp("2024-01-02"), label="d1")
    warehouse.publish(target(True), events(ROWS, 0, "2024-01-01"), PartitionWindow(**day))
    warehouse.publish(
        target(True),
        events(ROWS, 10_000_000, "2024-01-02"),
        PartitionWindow(pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03"), "d2"),
    )
    # replace day 1: a DELETE leaves rowid gaps, the INSERT appends after day 2
    warehouse.publish(
        target(True), events(ROWS // 2, 20_000_000, "2024-01-01"), PartitionWindow(**day)
    )
    with warehouse.get_connection() as con:
        con.execute("CHECKPOINT")
        expected = con.execute("SELECT * FROM reads.events").to_arrow_table()
        split = read_whole_table(con, '"reads"."events"')

    assert split.num_rows == ROWS + ROWS // 2
    assert split.equals(expected)


def test_small_tables_and_views_are_read_in_one_query(warehouse):
    with warehouse.get_connection() as con:
        con.execute("CREATE TABLE small AS SELECT range AS x FROM range(1000)")
        con.execute("CREATE VIEW doubled AS SELECT x * 2 AS y FROM small")
        assert read_whole_table(con, "small").column("x").to_pylist() == list(range(1000))
        assert read_whole_table(con, "doubled").column("y").to_pylist()[-1] == 1998


def test_a_republish_during_the_read_is_not_mixed_into_it(warehouse, monkeypatch):
    """Each range reads its own snapshot: a publish in between must give the new version whole."""
    first, second = events(ROWS, 0), events(ROWS, 50_000_000)
    warehouse.publish(target(), first)
    original = warehouse_module._publication_marker
    calls = []

    def publish_after_the_pieces(con, table):
        calls.append(table)
        if len(calls) == 2:  # the check after the pieces were read: another connection publishes
            warehouse.publish(target(), second)
        return original(con, table)

    monkeypatch.setattr(warehouse_module, "_publication_marker", publish_after_the_pieces)

    read = warehouse.read(("reads", "events"), reader=TRUSTED)

    assert len(calls) == 2  # the split path ran and checked the version before and after
    pd.testing.assert_frame_equal(read, second, check_dtype=False)


def test_split_read_matches_a_single_query_on_random_layouts(tmp_path):
    """Tables with gaps anywhere (random deletes) and appended rows read back identically."""
    rng = np.random.default_rng(3)
    with duckdb.connect(str(tmp_path / "layouts.duckdb")) as con:
        for trial in range(3):
            name = f"t{trial}"
            rows = int(rng.integers(2 * ROW_GROUP, 5 * ROW_GROUP))
            con.register("incoming", pyarrow.table({"v": rng.integers(0, 1_000, rows)}))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
            con.execute(f"DELETE FROM {name} WHERE v < ?", [int(rng.integers(0, 900))])
            con.execute(f"INSERT INTO {name} SELECT * FROM incoming LIMIT 1000")
            expected = con.execute(f"SELECT * FROM {name}").to_arrow_table()
            assert read_whole_table(con, name).equals(expected), trial


class Money(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True)
    amount: Series[pd.ArrowDtype(pyarrow.decimal128(15, 2))] = pa.Field(nullable=True)
    day: Series[pd.ArrowDtype(pyarrow.date32())]
    score: Series[pd.Int64Dtype] = pa.Field(nullable=True)


def test_batched_reads_are_the_table_in_order_with_its_published_dtypes(warehouse):
    """`read_batches` yields frames of at most `rows` rows that together are exactly `read`, with the
    dtypes the contract published (exact decimals, dates, nullable ints), and can select columns."""
    from decimal import Decimal

    rows = 25_001
    frame = pd.DataFrame(
        {
            "id": np.arange(rows)[::-1].copy(),
            "amount": pd.array(
                [None if i % 7 == 0 else Decimal(i) / 100 for i in range(rows)],
                dtype=pd.ArrowDtype(pyarrow.decimal128(15, 2)),
            ),
            "day": pd.array(
                [pd.Timestamp("2024-01-01").date()] * rows, dtype=pd.ArrowDtype(pyarrow.date32())
            ),
            "score": pd.array([None if i % 3 == 0 else i for i in range(rows)], dtype="Int64"),
        }
    )
    contract = read_contract(Money)
    warehouse.publish(
        PublishTarget("bank/money", ("bank", "money"), contract, ("team:bank",)), frame
    )
    whole = warehouse.read(("bank", "money"), reader=TRUSTED)
    batches = list(warehouse.read_batches(("bank", "money"), rows=10_000, reader=TRUSTED))
    assert [len(b) for b in batches] == [10_000, 10_000, 5_001]
    joined = pd.concat(batches, ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole)
    assert dict(joined.dtypes) == dict(frame.dtypes)
    (only,) = list(
        warehouse.read_batches(("bank", "money"), columns=["score"], rows=rows, reader=TRUSTED)
    )
    pd.testing.assert_series_equal(only["score"], frame["score"])
    with pytest.raises(ValueError):
        next(warehouse.read_batches(("bank", "money"), rows=0, reader=TRUSTED))
    with pytest.raises(warehouse_module.MissingUpstreamError):
        next(warehouse.read_batches(("bank", "nothing"), reader=TRUSTED))
