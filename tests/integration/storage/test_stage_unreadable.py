"""A committed stage holds rows no audit has passed yet (or rows of a publish a kill cut short): no reader
may read it through the warehouse, whatever its trust, while the publish runs or after."""

from __future__ import annotations

import threading

import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh.declare.access import AccessDeniedError, Reader
from dagmesh.declare.contract import read_contract
from dagmesh.storage.committed_stage import STAGE_PREFIX
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget

AUDITING = threading.Event()
RELEASE = threading.Event()


class Salaries(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True)
    amount: Series[int]


class HeldSalaries(Salaries):
    """Its audit waits (a check only pandera decides) until the test has tried to read the stage."""

    @pa.dataframe_check
    def held(cls, frame):
        AUDITING.set()
        RELEASE.wait(30)
        return True


def _target(model) -> PublishTarget:
    return PublishTarget(
        "hr/salaries", ("hr", "salaries"), read_contract(model), ("team:hr",), "1.0.0", "private"
    )


ROWS = "SELECT range % 3 AS id, range AS amount FROM range({})"  # duplicated ids: fails `unique`


@pytest.mark.parametrize(
    "reader", [Reader.of_domain("sales"), Reader.of_domain("hr"), Reader.platform("tests")]
)
def test_a_live_stage_of_unaudited_rows_is_refused_to_every_reader(tmp_path, reader):
    AUDITING.clear()
    RELEASE.clear()
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    with warehouse.get_connection() as con:  # published once, so the next publish stages
        warehouse.publish_relation(
            _target(Salaries), con, con.sql("SELECT range AS id, range AS amount FROM range(3)")
        )
    failed: list[BaseException] = []

    def publish() -> None:
        with warehouse.get_connection() as con:
            try:
                warehouse.publish_relation(_target(HeldSalaries), con, con.sql(ROWS.format(1000)))
            except BaseException as error:
                failed.append(error)

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        assert AUDITING.wait(60), "the publish never reached its audit"
        with warehouse.get_connection() as con:
            (stage,) = con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, ?)",
                [STAGE_PREFIX],
            ).fetchone()
        with pytest.raises(AccessDeniedError, match="a stage of a publish, not a product"):
            warehouse.read(("hr", stage), reader=reader)
        with pytest.raises(AccessDeniedError, match="a stage of a publish"):
            list(warehouse.read_batches(("hr", stage), reader=reader))
    finally:
        RELEASE.set()
        publisher.join(60)
    assert failed and "unique" in str(failed[0])  # and the publish itself was refused
    assert len(warehouse.read(("hr", "salaries"), reader=Reader.of_domain("hr"))) == 3
