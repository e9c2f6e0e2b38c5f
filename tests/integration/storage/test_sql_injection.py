"""Every SQL the platform builds quotes identifiers and passes values as parameters: injection attempts
through column names, check values and partition windows do nothing but store the text."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, ProductDefinitionError, data_product, domain_definitions
from dagmesh.declare.contract import read_contract
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse, PublishTarget

PLATFORM = Path(__file__).resolve().parents[1] / "platform" / "src" / "dagmesh"
EVIL = 'x"; DROP TABLE sentinel.keep; --'


class Evil(pa.DataFrameModel):
    evil: Series[str] = pa.Field(
        alias=EVIL,
        isin=["ok", "'); DROP TABLE sentinel.keep; --"],
        str_startswith="' OR 1=1 --",
        nullable=True,
    )


@pytest.fixture
def warehouse(tmp_path) -> MeshWarehouse:
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE SCHEMA sentinel; CREATE TABLE sentinel.keep AS SELECT 42 AS answer")
    return MeshWarehouse(database=str(database))


def _sentinel_intact(warehouse: MeshWarehouse) -> bool:
    with warehouse.get_connection() as con:
        return con.execute("SELECT answer FROM sentinel.keep").fetchone() == (42,)


def test_injection_through_column_names_and_check_values(warehouse):
    target = PublishTarget("evil/t", ("evil", "t"), read_contract(Evil), ("team:evil",))
    bad = pd.DataFrame({EVIL: ["ok", "' OR 1=1 --x", None]})
    with pytest.raises(Exception, match="evil/t"):
        warehouse.publish(target, bad)  # 'ok' fails str_startswith: audited, not executed
    assert _sentinel_intact(warehouse)
    good = pd.DataFrame({EVIL: ["'); DROP TABLE sentinel.keep; --", None]})
    warehouse.publish(PublishTarget("evil/t", ("evil", "t"), None, ()), good)
    assert warehouse.read(("evil", "t"))[EVIL].tolist()[0] == "'); DROP TABLE sentinel.keep; --"
    assert _sentinel_intact(warehouse)


def test_injection_through_schema_and_table_names(warehouse):
    table = ('x"; DROP TABLE sentinel.keep; --', "t")
    warehouse.publish(PublishTarget("weird", table, None, ()), pd.DataFrame({"a": [1]}))
    assert warehouse.read(table)["a"].tolist() == [1]
    assert _sentinel_intact(warehouse)


def test_product_and_domain_names_that_could_inject_are_refused():
    with pytest.raises(ProductDefinitionError, match="lower_snake_case"):
        data_product(
            contract=Evil,
            owners=["team:x"],
            access="internal",
            version="1.0.0",
            slo=SLO(max_lag=timedelta(days=1)),
            name="t; DROP TABLE x",
        )(lambda: pd.DataFrame())
    with pytest.raises(ProductDefinitionError, match="lower_snake_case"):
        domain_definitions('sales"; --', [])


class Daily(pa.DataFrameModel):
    day: Series[pd.Timestamp] = pa.Field(description="Day.")
    n: Series[int] = pa.Field(description="Count.")


@data_product(
    contract=Daily,
    owners=["team:p"],
    access="internal",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=2)),
    partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05"),
    partition_column="day",
)
def daily(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """One row per day."""
    return pd.DataFrame({"day": [pd.Timestamp(context.partition_key)], "n": [1]})


def test_partition_windows_are_parameters(tmp_path, warehouse):
    settings = MeshSettings(home=tmp_path, warehouse_path=Path(warehouse.database), tpch_scale=0.01)
    defs = domain_definitions("p", [daily], settings=settings)
    with dg.instance_for_test() as instance:
        for key in ("2024-01-01", "2024-01-02", "2024-01-02"):
            assert dg.materialize(
                defs.assets, resources=defs.resources, instance=instance, partition_key=key
            ).success
    assert warehouse.read(("p", "daily"))["n"].tolist() == [1, 1]
    assert _sentinel_intact(warehouse)


# A pragmatic lint: SQL built with f-strings may interpolate only quoted identifiers, fragments built from
# them (named below), or constants. Anything else must be a `?` parameter. A new interpolation fails here
# until someone checks it and names it.
SAFE_FRAGMENTS = {
    "col",
    "cols",
    "table",
    "stage",
    "incoming",
    "log",
    "name",
    "selected",
    "predicate",
    "projection",
    "check.failing_predicate",
    "failing",
    "not_null",
    "operator",
    "placeholders",
    "low",
    "high",
    "sql",
    "where",
    "target_type",
    "column.duckdb_type",
    "comparisons[name]",
    "LIMIT_ROWS",
    "SAMPLE_ROWS",
    "', '.join(select)",
    "', '.join(casts)",
    "_duplicates_query(table, cols)",
    "key",
    "self.table",
    # reviewed for issue 9: each is built from quote_identifier() names or DuckDB's own type names
    "keyed",  # quote_identifier(_KEYED) or the staged table
    "columns",  # quoted contract column names
    "staged",  # quoted key columns, optionally sha256(...) of them
    "kept",  # quoted key columns or NULL AS quoted name
    "names",  # quoted publication-log column names
    "definition",  # the publication log's constant column definitions
    "type_",  # a constant log column type, or a type name DuckDB's DESCRIBE gave
}
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|DELETE|CREATE|DROP|ALTER|UPDATE|FROM|WHERE)\b")


def test_platform_sql_interpolates_only_quoted_identifiers():
    offenders = []
    for path in sorted(PLATFORM.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not re.search(r"\bf[\"']", line) or not SQL_WORDS.search(line):
                continue
            for field in re.findall(r"\{([^{}]*)\}", line):
                inner = field.split("!")[0].split(":")[0].strip()
                if (
                    inner.startswith(("quote_identifier(", "qualified_name("))
                    or inner in SAFE_FRAGMENTS
                ):
                    continue
                offenders.append(f"{path.relative_to(PLATFORM)}:{number}: {{{field}}}")
    assert offenders == [], "\n".join(offenders)
