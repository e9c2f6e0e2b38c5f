"""Bad input gets a clear error naming the product, and loses nothing already published: corrupt and
mistyped sources, NaN/inf/huge values, unicode and SQL-looking names and values, malformed contracts."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, ContractViolation, ProductDefinitionError, data_product, domain_definitions
from dagmesh.core.errors import DagmeshError
from dagmesh.declare.contract import read_contract
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget

SOURCE: dict[str, object] = {}


class Measures(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0, description="Id.")
    amount: Series[float] = pa.Field(ge=0, le=1e12, description="Amount.")
    label: Series[str] = pa.Field(description="Label.")


@data_product(
    contract=Measures,
    owners=["team:ingest"],
    access="internal",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
)
def measures() -> pd.DataFrame:
    """Measures read from the source file the test points at."""
    path = SOURCE["path"]
    return pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)


@pytest.fixture
def ingest(tmp_path):
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = domain_definitions("ingest", [measures], settings=settings)
    good = tmp_path / "good.parquet"
    pd.DataFrame({"id": [1, 2], "amount": [1.5, 2.5], "label": ["a", "b"]}).to_parquet(good)
    SOURCE["path"] = good
    with dg.instance_for_test() as instance:
        assert _run(defs, instance).success
        yield defs, instance, settings


def _run(defs, instance):
    return dg.materialize(
        defs.assets, resources=defs.resources, instance=instance, raise_on_error=False
    )


def _failure_text(result) -> str:
    error = result.get_step_failure_events()[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def _published(settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute("SELECT id, amount, label FROM ingest.measures ORDER BY id").fetchall()


GOOD_ROWS = [(1, 1.5, "a"), (2, 2.5, "b")]


def test_corrupt_source_file_names_the_product_and_keeps_the_last_version(ingest, tmp_path):
    defs, instance, settings = ingest
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet at all")
    SOURCE["path"] = corrupt
    result = _run(defs, instance)
    assert not result.success
    text = _failure_text(result)
    assert "ingest/measures (owners: team:ingest) failed while computing" in text
    assert "Nothing was published" in text
    assert _published(settings) == GOOD_ROWS


def test_mistyped_csv_fails_the_dtype_check_with_samples(ingest, tmp_path):
    defs, instance, settings = ingest
    mistyped = tmp_path / "mistyped.csv"
    mistyped.write_text("id,amount,label\n1,1.5,a\nthree,2.5,b\n")
    SOURCE["path"] = mistyped
    result = _run(defs, instance)
    text = _failure_text(result)
    assert "ingest/measures" in text and "dtype(int64)" in text and "three" in text
    assert _published(settings) == GOOD_ROWS


@pytest.mark.parametrize(
    ("amount", "check"),
    [
        (np.nan, "not_nullable"),
        (np.inf, "less_than_or_equal_to"),
        (-np.inf, "greater_than_or_equal_to"),
        (1e300, "less_than_or_equal_to"),
    ],
)
def test_nan_inf_and_huge_values_fail_their_checks(ingest, tmp_path, amount, check):
    defs, instance, settings = ingest
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"id": [1, 2], "amount": [1.0, amount], "label": ["a", "b"]}).to_parquet(bad)
    SOURCE["path"] = bad
    result = _run(defs, instance)
    assert not result.success
    assert check in _failure_text(result)
    assert _published(settings) == GOOD_ROWS


def test_huge_ints_unicode_and_sql_looking_values_round_trip(ingest, tmp_path):
    defs, instance, settings = ingest
    labels = ["'; DROP TABLE ingest.measures; --", "naïve — 日本語 🚀", 'quote " and \\ backslash']
    ids = [2**62, 0, 2**40]
    odd = tmp_path / "odd.parquet"
    pd.DataFrame({"id": ids, "amount": [0.0, 1e11, 3.25], "label": labels}).to_parquet(odd)
    SOURCE["path"] = odd
    assert _run(defs, instance).success
    assert _published(settings) == sorted(zip(ids, [0.0, 1e11, 3.25], labels, strict=True))


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
    back = warehouse.read(("odd", "names"))
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
    assert warehouse.read(("odd", "measures")).to_dict("list") == {
        "id": [1],
        "amount": [1.0],
        "label": ["ok"],
    }


def test_malformed_contracts_fail_at_declaration_naming_the_product():
    class NotAModel:
        pass

    class Unstorable(pa.DataFrameModel):
        blob: Series[object] = pa.Field()
        when: Series[pd.Timedelta] = pa.Field()

    for contract, message in [(NotAModel, "DataFrameModel"), (Unstorable, "cannot store")]:
        with pytest.raises(ProductDefinitionError) as raised:
            data_product(
                contract=contract,
                owners=["team:x"],
                access="internal",
                version="1.0.0",
                slo=SLO(max_lag=timedelta(days=1)),
                name="broken_thing",
            )(lambda: pd.DataFrame())
        assert "broken_thing" in str(raised.value) and message in str(raised.value)


def test_a_warehouse_file_named_like_a_domain_is_refused_with_a_clear_error(tmp_path):
    """DuckDB's catalog is named after the file: `sales.orders` in `sales.duckdb` is ambiguous."""
    warehouse = MeshWarehouse(database=str(tmp_path / "ledger.duckdb"))
    target = PublishTarget("ledger/entries", ("ledger", "entries"), None, ("team:ledger",))

    with pytest.raises(DagmeshError, match=r"ledger/entries: the warehouse file ledger\.duckdb"):
        warehouse.publish(target, pd.DataFrame({"x": [1]}))
    with pytest.raises(DagmeshError, match="another name"):
        warehouse.read(("ledger", "entries"))
    with duckdb.connect(str(tmp_path / "ledger.duckdb")) as con:  # nothing was written
        assert con.execute("SELECT COUNT(*) FROM information_schema.tables").fetchone()[0] == 0
