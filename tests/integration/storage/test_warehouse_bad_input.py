"""Bad input straight to the warehouse: unicode, quotes and reserved words as column names are published,
audited and read back; a violation keeps the previous version readable; a warehouse file named like a
domain is refused with a clear error."""

from __future__ import annotations

import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import ContractViolation
from dagmesh.core.errors import DagmeshError
from dagmesh.declare.contract import read_contract
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget
from tests.helpers.readers import TRUSTED
from tests.integration.measures import Measures


class OddNames(pa.DataFrameModel):
    select: Series[int] = pa.Field(description="A reserved word.")
    quoted: Series[str] = pa.Field(alias='a"b', description="A quote in a name.")
    accent: Series[str] = pa.Field(alias="naïve col", description="Unicode and a space.")


def test_odd_column_names_are_published_audited_and_read_back(tmp_path):
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    target = PublishTarget("odd/names", ("odd", "names"), read_contract(OddNames), ("team:odd",))
    frame = pd.DataFrame({"select": [1, 2], 'a"b': ["x", "y"], "naïve col": ["é", "ü"]})
    result = warehouse.publish(target, frame)
    assert result.audit.passed and result.rows == 2
    back = warehouse.read(("odd", "names"), reader=TRUSTED)
    assert list(back.columns) == ["select", 'a"b', "naïve col"]
    assert back.to_dict("list") == frame.to_dict("list")


def test_a_violation_keeps_the_previous_version_readable(tmp_path):
    warehouse = MeshWarehouse(database=str(tmp_path / "w.duckdb"))
    target = PublishTarget(
        "odd/measures", ("odd", "measures"), read_contract(Measures), ("team:odd",)
    )
    warehouse.publish(target, pd.DataFrame({"id": [1], "amount": [1.0], "label": ["ok"]}))
    with pytest.raises(ContractViolation, match="odd/measures"):
        warehouse.publish(
            target, pd.DataFrame({"id": [1, 1], "amount": [-1.0, 2.0], "label": ["x", "y"]})
        )
    assert warehouse.read(("odd", "measures"), reader=TRUSTED).to_dict("list") == {
        "id": [1],
        "amount": [1.0],
        "label": ["ok"],
    }


def test_a_warehouse_file_named_like_a_domain_is_refused_with_a_clear_error(tmp_path):
    """DuckDB's catalog is named after the file: `sales.orders` in `sales.duckdb` is ambiguous."""
    warehouse = MeshWarehouse(database=str(tmp_path / "ledger.duckdb"))
    target = PublishTarget("ledger/entries", ("ledger", "entries"), None, ("team:ledger",))

    with pytest.raises(DagmeshError, match=r"ledger/entries: the warehouse file ledger\.duckdb"):
        warehouse.publish(target, pd.DataFrame({"x": [1]}))
    with pytest.raises(DagmeshError, match="another name"):
        warehouse.read(("ledger", "entries"), reader=TRUSTED)
    with duckdb.connect(str(tmp_path / "ledger.duckdb")) as con:  # nothing was written
        assert con.execute("SELECT COUNT(*) FROM information_schema.tables").fetchone()[0] == 0
