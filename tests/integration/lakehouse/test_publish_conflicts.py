"""Write conflicts on a lake (catalog in PostgreSQL): DuckLake's own conflict error, raised by a real
concurrent commit, is retried, and past the retries becomes one clear message naming the product, its
owners and what the conflict was over, with nothing published."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import (
    MeshWarehouse,
    PublishConflictError,
    PublishTarget,
    _with_retries,
)
from tests.helpers.readers import TRUSTED

TARGET = PublishTarget(product="shop/n", table=("shop", "n"), contract=None, owners=("team:shop",))


@pytest.fixture
def warehouse(postgres_server, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path))
    monkeypatch.setenv(
        "DAGMESH_WAREHOUSE", postgres_server.ducklake(postgres_server.create_database())
    )
    monkeypatch.setenv("DAGMESH_LAKE_DATA", str(tmp_path / "data") + "/")
    return MeshWarehouse.from_settings(MeshSettings.from_env())


def _real_conflict(warehouse: MeshWarehouse) -> duckdb.TransactionException:
    """Two writers replace shop.n at once: the later commit loses, as DuckLake reports it."""
    warehouse.publish(TARGET, pd.DataFrame({"n": range(3)}))
    with warehouse.get_connection() as loser:
        loser.execute("BEGIN")
        loser.execute("CREATE OR REPLACE TABLE shop.n AS SELECT range AS n FROM range(7)")
        warehouse.publish(TARGET, pd.DataFrame({"n": range(5)}))  # the winner commits first
        with pytest.raises(duckdb.TransactionException) as lost:
            loser.execute("COMMIT")
    return lost.value


def test_a_lost_conflict_is_retried_then_named_and_publishes_nothing(warehouse):
    error = _real_conflict(warehouse)
    assert "conflict" in str(error).lower()
    assert len(warehouse.read(TARGET.table, reader=TRUSTED)) == 5  # the loser left nothing

    attempts = []

    def always_conflicting():
        attempts.append(1)
        raise error

    with pytest.raises(PublishConflictError) as refused:
        _with_retries(TARGET, always_conflicting)
    message = str(refused.value)
    assert len(attempts) == 4  # the first try and three retries
    assert "shop/n (owners: team:shop)" in message
    assert "Nothing of this publish was published; the last good version stays" in message
    assert len(warehouse.read(TARGET.table, reader=TRUSTED)) == 5

    flaky = iter([error])

    def conflicting_once():
        failure = next(flaky, None)
        if failure is not None:
            raise failure
        return "published"

    assert _with_retries(TARGET, conflicting_once) == "published"


def test_an_error_that_is_not_a_conflict_is_not_retried(warehouse):
    attempts = []

    def broken():
        attempts.append(1)
        raise duckdb.TransactionException("TransactionContext Error: cannot commit - disk full")

    with pytest.raises(duckdb.TransactionException, match="disk full"):
        _with_retries(TARGET, broken)
    assert attempts == [1]


# What CI saw when four writers published at once (the head of DuckLake's message, and the tail).
ID_COLLISION = (
    "TransactionContext Error: Failed to commit: Failed to commit DuckLake transaction. Exceeded the "
    "maximum retry count of 10 set by the ducklake_max_retry_count setting. Failed to flush changes "
    'into DuckLake: Failed to execute query "INSERT INTO "public".ducklake_snapshot VALUES (41, NOW(), '
    '41, 46, 45); ...": ERROR:  duplicate key value violates unique constraint '
    '"ducklake_snapshot_pkey"\nDETAIL:  Key (snapshot_id)=(41) already exists.'
)


def test_a_catalog_id_collision_is_a_lost_conflict_retried_then_named(warehouse):
    """Two commits that picked the same snapshot id: the later lost, rolled back, and may run again."""
    attempts = []

    def colliding_once():
        attempts.append(1)
        if len(attempts) == 1:
            raise duckdb.TransactionException(ID_COLLISION)
        return "published"

    assert _with_retries(TARGET, colliding_once) == "published"
    assert len(attempts) == 2

    def always_colliding():
        raise duckdb.TransactionException(ID_COLLISION)

    with pytest.raises(PublishConflictError, match="shop/n") as refused:
        _with_retries(TARGET, always_colliding)
    assert "another writer changed the lake's catalog (both commits took the same next id)" in str(
        refused.value
    )

    def other_key():  # a primary key of a table of ours is a bug to see, not a race to retry
        attempts.append(1)
        raise duckdb.TransactionException(
            'TransactionContext Error: duplicate key value violates unique constraint "orders_pkey"'
        )

    attempts.clear()
    with pytest.raises(duckdb.TransactionException, match="orders_pkey"):
        _with_retries(TARGET, other_key)
    assert attempts == [1]
