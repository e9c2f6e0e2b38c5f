"""Write-audit-publish of in-warehouse products (`MeshWarehouse.publish_relation`), straight on the
warehouse connection: whatever goes wrong (a broken check, a wrong column type, a wrong shape, something
that is no relation, a query that fails while it runs) publishes nothing. The previous version of the
table and the publication log stay exactly as they were, no temporary view or table of the publish is
left on the connection, and the connection is still usable for the next publish.

Each case runs on both write paths: in place (unmasked, unpartitioned: the table is written inside a
transaction and audited there) and staged (a masked contract: a temp table first).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from pandera.typing import Series

from dagmesh import ContractShapeError, ContractViolation, DagmeshError, query
from dagmesh.declare.contract import Contract, read_contract
from dagmesh.storage.engine import RelationBindingError, engine_session
from dagmesh.storage.warehouse import MeshWarehouse, PartitionWindow, PublishTarget
from tests.helpers.readers import TRUSTED

Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Day = Annotated[pd.ArrowDtype, pyarrow.date32()]
UtcTime = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]
PRODUCT = "shop/orders"
TABLE = ("shop", "orders")
OWNERS = ("team:shop",)
CODE_PATTERN = r"^[A-Z]{3}$"


class Orders(pa.DataFrameModel):
    order_id: Series[int] = pa.Field(unique=True, gt=0)
    amount: Series[Money] = pa.Field(ge=Decimal("0"))
    code: Series[str] = pa.Field(str_matches=CODE_PATTERN)
    placed_on: Series[Day]
    placed_at: Series[UtcTime]
    score: Series[float]  # not nullable: a NaN here is pandas' null, refused
    ratio: Series[float] = pa.Field(nullable=True)


class MaskedOrders(Orders):
    email: Series[str] = pa.Field(metadata={"mask": "sha256"})


DEFAULTS = {
    "order_id": "range + 1",
    "amount": "CAST(range * 1.5 AS DECIMAL(15,2))",
    "code": "'ABC'",
    "placed_on": "CAST(DATE '2024-01-01' + CAST(range AS INTEGER) AS DATE)",
    "placed_at": "TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(range)",
    "score": "CAST(range AS DOUBLE)",
    "ratio": "CAST(range AS DOUBLE) / 10",
    "email": "'buyer' || range || '@example.org'",
}
ROWS = 5


def orders_sql(contract: Contract, rows: int = ROWS, **overrides: str | None) -> str:
    """The contract's columns over `range(rows)`: each its default expression, or an override
    (None drops the column)."""
    parts = []
    for name in contract.column_names:
        expression = overrides.get(name, DEFAULTS[name])
        if expression is not None:
            parts.append(f"{expression} AS {name}")
    extra = [(n, e) for n, e in overrides.items() if n not in contract.column_names]
    parts += [f"{expression} AS {name}" for name, expression in extra]
    return f"SELECT {', '.join(parts)} FROM range({rows})"


PATHS = {"in_place": Orders, "staged": MaskedOrders}


@pytest.fixture(params=list(PATHS))
def contract(request: pytest.FixtureRequest) -> Contract:
    return read_contract(PATHS[request.param])


@pytest.fixture
def warehouse(tmp_path: Path) -> MeshWarehouse:
    return MeshWarehouse(database=str(tmp_path / "w.duckdb"))


@pytest.fixture
def con(warehouse: MeshWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    with warehouse.get_connection() as connection:
        yield connection


def target(contract: Contract, **options: Any) -> PublishTarget:
    return PublishTarget(PRODUCT, TABLE, contract, OWNERS, "1.0.0", **options)


def leftovers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Temporary views and tables on the connection, and committed stage tables in the file (the
    publish's own, if it left any)."""
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal"
    ).fetchall()
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE temporary OR starts_with(table_name, '_dagmesh_stage')"
    ).fetchall()
    return sorted(name for (name,) in views + tables)


def snapshot(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """The published table's rows and the whole publication log."""
    rows = con.execute("SELECT * FROM shop.orders ORDER BY order_id").fetchall()
    log = con.execute("SELECT * FROM _dagmesh.publications ORDER BY published_at").fetchall()
    return rows, log


def file_snapshot(warehouse: MeshWarehouse) -> tuple[list[tuple], list[tuple]]:
    """The same, as another connection to the file sees it (committed data only)."""
    with duckdb.connect(warehouse.database) as other:
        return snapshot(other)


def publish_v1(
    warehouse: MeshWarehouse, con: duckdb.DuckDBPyConnection, contract: Contract
) -> tuple[list[tuple], list[tuple]]:
    result = warehouse.publish_relation(target(contract), con, con.sql(orders_sql(contract)))
    assert result.audit.passed and result.rows == ROWS
    assert leftovers(con) == []
    return snapshot(con)


def assert_nothing_published(
    warehouse: MeshWarehouse,
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    before: tuple[list[tuple], list[tuple]],
) -> None:
    assert leftovers(con) == []
    assert snapshot(con) == before
    # The connection is left outside any transaction: the next publish works and is logged.
    result = warehouse.publish_relation(
        target(contract), con, con.sql(orders_sql(contract, rows=ROWS + 1))
    )
    assert result.rows == ROWS + 1
    rows, log = snapshot(con)
    assert len(rows) == ROWS + 1 and len(log) == len(before[1]) + 1
    con.execute("CHECKPOINT")


# -- contract violations ----------------------------------------------------------------------------

VIOLATIONS = {
    # name: (overrides, column, check label (substring), failing rows)
    "gt": (
        {"order_id": "CASE WHEN range = 2 THEN 0 ELSE range + 1 END"},
        "order_id",
        "greater_than",
        1,
    ),
    "ge on a decimal": (
        {
            "amount": "CASE WHEN range < 2 THEN CAST(-0.01 AS DECIMAL(15,2)) ELSE CAST(range AS DECIMAL(15,2)) END"
        },
        "amount",
        "greater_than_or_equal_to",
        2,
    ),
    "null in a non-nullable column": (
        {"code": "CASE WHEN range = 1 THEN NULL ELSE 'ABC' END"},
        "code",
        "not_nullable",
        1,
    ),
    "duplicate key": (
        {"order_id": "CASE WHEN range IN (3, 4) THEN 1 ELSE range + 1 END"},
        "order_id",
        "unique",
        3,
    ),
    "regex": (
        {"code": "CASE WHEN range = 0 THEN 'abc' WHEN range = 1 THEN 'ABCD' ELSE 'ABC' END"},
        "code",
        "str_matches",
        2,
    ),
    "NaN in a non-nullable float64 column": (
        {"score": "CASE WHEN range = 4 THEN 'NaN'::DOUBLE ELSE CAST(range AS DOUBLE) END"},
        "score",
        "not_nullable",
        1,
    ),
    "null in a non-nullable date column": (
        {"placed_on": "CASE WHEN range = 0 THEN NULL ELSE DATE '2024-01-01' END"},
        "placed_on",
        "not_nullable",
        1,
    ),
}


@pytest.mark.parametrize("case", list(VIOLATIONS))
def test_a_contract_violation_publishes_nothing(warehouse, con, contract, case):
    before = publish_v1(warehouse, con, contract)
    overrides, column, check, failing = VIOLATIONS[case]

    with pytest.raises(ContractViolation) as raised:
        warehouse.publish_relation(
            target(contract), con, con.sql(orders_sql(contract, **overrides))
        )

    error = raised.value
    assert error.product == PRODUCT and PRODUCT in str(error) and OWNERS[0] in str(error)
    assert "nothing was published" in str(error)
    (failed,) = error.result.failed
    assert failed.column == column and check in failed.check, failed
    assert failed.failures == failing, failed
    assert failed.samples, "failing rows are sampled"
    assert_nothing_published(warehouse, con, contract, before)


class CheckedOrders(Orders):
    """Checks only pandera decides: the platform reads the rows back from the warehouse for them."""

    @pa.check("code", name="no_x", element_wise=True)
    def no_x(cls, value: str) -> bool:
        return "X" not in value

    @pa.dataframe_check(name="score_below_id")
    def score_below_id(cls, frame: pd.DataFrame) -> pd.Series:
        return frame["score"] < frame["order_id"]


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"code": "CASE WHEN range = 1 THEN 'XYZ' ELSE 'ABC' END"}, "no_x"),
        ({"score": "CAST(range + 1 AS DOUBLE)"}, "score_below_id"),
    ],
    ids=["column check", "frame check"],
)
def test_a_failing_pandera_only_check_publishes_nothing(warehouse, con, overrides, check):
    contract = read_contract(CheckedOrders)
    before = publish_v1(warehouse, con, contract)
    with pytest.raises(ContractViolation, match=PRODUCT) as raised:
        warehouse.publish_relation(
            target(contract), con, con.sql(orders_sql(contract, **overrides))
        )
    (failed,) = raised.value.result.failed
    assert failed.engine == "pandera" and check in failed.check
    assert_nothing_published(warehouse, con, contract, before)


def test_a_violation_of_a_new_product_leaves_no_table_and_no_schema(warehouse, con, contract):
    """Nothing before, nothing after: not even the domain's schema is created."""
    bad = con.sql(orders_sql(contract, order_id="range"))  # 0 fails gt=0
    with pytest.raises(ContractViolation, match=PRODUCT):
        warehouse.publish_relation(target(contract), con, bad)
    assert leftovers(con) == []
    schemas = {s for (s,) in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert "shop" not in schemas
    assert not warehouse.table_exists(TABLE)
    assert warehouse.latest_publication(TABLE) is None


# -- wrong column types -----------------------------------------------------------------------------

WRONG_TYPES = {
    # name: (overrides, column, contract type, type found)
    "INTEGER for int64": (
        {"order_id": "CAST(range + 1 AS INTEGER)"},
        "order_id",
        "BIGINT",
        "INTEGER",
    ),
    "HUGEINT from SUM": (
        {"order_id": "SUM(range + 1) OVER (ORDER BY range)"},
        "order_id",
        "BIGINT",
        "HUGEINT",
    ),
    "DOUBLE for a decimal": (
        {"amount": "CAST(range * 1.5 AS DOUBLE)"},
        "amount",
        "DECIMAL(15,2)",
        "DOUBLE",
    ),
    "another decimal precision": (
        {"amount": "CAST(range AS DECIMAL(18,2))"},
        "amount",
        "DECIMAL(15,2)",
        "DECIMAL(18,2)",
    ),
    "TIMESTAMP for TIMESTAMPTZ": (
        {"placed_at": "TIMESTAMP '2024-01-01' + to_hours(range)"},
        "placed_at",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP",
    ),
    "VARCHAR for a date": ({"placed_on": "'2024-01-01'"}, "placed_on", "DATE", "VARCHAR"),
    "FLOAT for float64": ({"score": "CAST(range AS FLOAT)"}, "score", "DOUBLE", "FLOAT"),
    "BIGINT for a string": ({"code": "range"}, "code", "VARCHAR", "BIGINT"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_a_wrong_column_type_fails_naming_the_product_and_publishes_nothing(
    warehouse, con, contract, case
):
    before = publish_v1(warehouse, con, contract)
    overrides, column, expected, found = WRONG_TYPES[case]

    with pytest.raises(ContractViolation) as raised:
        warehouse.publish_relation(
            target(contract), con, con.sql(orders_sql(contract, **overrides))
        )

    text = str(raised.value)
    assert PRODUCT in text and OWNERS[0] in text
    (failed,) = raised.value.result.failed
    assert failed.column == column
    assert failed.check == f"dtype({expected})"
    assert f"column {column!r}: dtype({expected}) failed" in text
    assert found in str(failed.samples), failed.samples
    assert_nothing_published(warehouse, con, contract, before)


SHAPES: dict[str, tuple[dict[str, str | None], type[Exception], str]] = {
    "missing column": ({"code": None}, ContractShapeError, "missing column(s) 'code'"),
    "extra column": ({"extra": "42"}, ContractShapeError, "column(s) not in the contract 'extra'"),
}


@pytest.mark.parametrize("case", list(SHAPES))
def test_a_wrong_shape_fails_naming_the_product_and_publishes_nothing(
    warehouse, con, contract, case
):
    before = publish_v1(warehouse, con, contract)
    overrides, error, message = SHAPES[case]
    with pytest.raises(error) as raised:
        warehouse.publish_relation(
            target(contract), con, con.sql(orders_sql(contract, **overrides))
        )
    assert PRODUCT in str(raised.value) and message in str(raised.value)
    assert "Nothing was published" in str(raised.value)
    assert_nothing_published(warehouse, con, contract, before)


def test_duplicated_column_names_fail_naming_the_product(warehouse, con, contract):
    before = publish_v1(warehouse, con, contract)
    sql = orders_sql(contract).replace(" FROM range", ", 7 AS order_id FROM range")
    relation = con.sql(sql)
    assert relation.columns.count("order_id") == 2
    with pytest.raises(DagmeshError, match=f"{PRODUCT} returned a relation with duplicated column"):
        warehouse.publish_relation(target(contract), con, relation)
    assert_nothing_published(warehouse, con, contract, before)


@pytest.mark.parametrize(
    "returned",
    [
        lambda con, contract: con.sql(orders_sql(contract)).df(),
        lambda con, contract: con.sql(orders_sql(contract)).to_arrow_table(),
        lambda con, contract: None,
        lambda con, contract: orders_sql(contract),  # the SQL text, not a relation
    ],
    ids=["DataFrame", "Arrow table", "None", "str"],
)
def test_returning_a_non_relation_fails_naming_the_product(warehouse, con, contract, returned):
    before = publish_v1(warehouse, con, contract)
    value = returned(con, contract)
    with pytest.raises(DagmeshError) as raised:
        warehouse.publish_relation(target(contract), con, value)
    text = str(raised.value)
    assert PRODUCT in text and OWNERS[0] in text
    assert type(value).__name__ in text and "Nothing was published" in text
    assert_nothing_published(warehouse, con, contract, before)


# -- NaN ---------------------------------------------------------------------------------------------


def test_nan_in_a_nullable_float64_column_is_published_as_null(warehouse, con, contract):
    """pandas' NaN in a numpy float64 column is its null: a relation's NaN is stored as NULL, so the
    table is the one the pandas path would publish, and a check ignores it as pandera does."""
    sql = orders_sql(contract, ratio="CASE WHEN range = 1 THEN 'NaN'::DOUBLE ELSE 0.5 END")
    result = warehouse.publish_relation(target(contract), con, con.sql(sql))
    assert result.audit.passed
    stored = con.execute(
        "SELECT order_id, ratio IS NULL, isnan(ratio) FROM shop.orders ORDER BY order_id"
    ).fetchall()
    assert stored[1] == (2, True, None)
    assert all(row[1:] == (False, False) for i, row in enumerate(stored) if i != 1)
    back = warehouse.read(TABLE, reader=TRUSTED)
    assert back["ratio"].dtype == "float64" and back["ratio"].isna().tolist() == [
        False,
        True,
        False,
        False,
        False,
    ]
    assert leftovers(con) == []


class Floats(pa.DataFrameModel):
    plain: Series[float] = pa.Field(nullable=True, ge=0.0)
    masked: Series[pd.Float64Dtype] = pa.Field(nullable=True)


def test_nan_is_null_in_float64_and_a_value_in_Float64(warehouse, con):
    """As pandera judges pandas: numpy float64 NaN is missing (ignored by ge, stored NULL), a masked
    Float64 NaN is a value (kept, and read back as NaN, not NA)."""
    floats = PublishTarget("shop/floats", ("shop", "floats"), read_contract(Floats), OWNERS)
    relation = con.sql(
        "SELECT * FROM (VALUES ('NaN'::DOUBLE, 'NaN'::DOUBLE), (1.0, NULL)) v(plain, masked)"
    )
    warehouse.publish_relation(floats, con, relation)
    stored = con.execute(
        "SELECT plain IS NULL, masked IS NULL, isnan(masked) FROM shop.floats"
    ).fetchall()
    assert stored == [(True, False, True), (False, True, None)]
    back = warehouse.read(("shop", "floats"), reader=TRUSTED)
    assert back["masked"].dtype == "Float64"
    assert back["masked"].isna().tolist() == [False, True]
    values = back["masked"].to_numpy(dtype=float, na_value=-1.0)
    assert math.isnan(values[0]) and values[1] == -1.0


# -- queries that fail while they run ---------------------------------------------------------------

FAILING_QUERIES = {
    "error()": {"code": "CASE WHEN range = 3 THEN error('boom') ELSE 'ABC' END"},
    "bad string cast": {
        "order_id": "CAST(CASE WHEN range = 3 THEN 'x' ELSE CAST(range + 1 AS VARCHAR) END AS BIGINT)"
    },
}


@pytest.mark.parametrize("case", list(FAILING_QUERIES))
@pytest.mark.parametrize("rows", [ROWS, 200_000], ids=["small", "large"])
def test_a_query_failing_at_execution_publishes_nothing(warehouse, con, contract, case, rows):
    before = publish_v1(warehouse, con, contract)
    overrides = FAILING_QUERIES[case]
    if rows > ROWS:  # fail late, after many rows were written
        overrides = {k: v.replace("range = 3", f"range = {rows - 1}") for k, v in overrides.items()}
    relation = con.sql(orders_sql(contract, rows=rows, **overrides))  # lazy: nothing ran yet

    with pytest.raises(duckdb.Error, match=r"boom|Could not convert string 'x'"):
        warehouse.publish_relation(target(contract), con, relation)

    assert file_snapshot(warehouse) == before
    assert_nothing_published(warehouse, con, contract, before)


def test_a_failed_publish_is_invisible_to_other_readers(warehouse, con, contract):
    """The last good version is what another process reads, before and after a refused publish."""
    before = publish_v1(warehouse, con, contract)
    con.execute("CHECKPOINT")
    bad = con.sql(orders_sql(contract, score="'NaN'::DOUBLE"))
    with pytest.raises(ContractViolation):
        warehouse.publish_relation(target(contract), con, bad)
    con.execute("CHECKPOINT")
    assert file_snapshot(warehouse) == before


# -- what a consumer reads back ----------------------------------------------------------------------


class NullableNumpy(pa.DataFrameModel):
    """pandera takes `nullable=True` on numpy int64 and bool, but such columns cannot hold a null."""

    count: Series[int] = pa.Field(nullable=True)
    flag: Series[bool] = pa.Field(nullable=True)


def test_a_published_relation_reads_back_with_its_contract_dtypes_despite_nulls(warehouse, con):
    """A relation's NULL in a nullable numpy int64 / bool column would read back as float64 / object,
    which no longer satisfies the contract. The pandas path can never publish it (a pandas int64 column
    has no null). Either the relation is refused, or what consumers read satisfies the contract."""
    nullable = PublishTarget(
        "shop/counts", ("shop", "counts"), read_contract(NullableNumpy), OWNERS
    )
    relation = con.sql(
        "SELECT * FROM (VALUES (CAST(1 AS BIGINT), true), (NULL, NULL)) v(count, flag)"
    )
    try:
        warehouse.publish_relation(nullable, con, relation)
    except ContractViolation:
        assert not warehouse.table_exists(("shop", "counts"))
        return
    back = warehouse.read(("shop", "counts"), reader=TRUSTED)
    assert back["count"].dtype == "int64" and back["flag"].dtype == "bool", back.dtypes.to_dict()
    NullableNumpy.validate(back)


class Stamped(pa.DataFrameModel):
    at: Series[UtcTime]


@pytest.mark.parametrize("moment", ["3000-01-01 00:00:00+00", "1500-01-01 00:00:00+00"])
def test_a_published_timestamptz_is_readable_as_its_nanosecond_contract_dtype(
    warehouse, con, moment
):
    """DuckDB's TIMESTAMPTZ holds microseconds over a far wider range than pandas' nanoseconds
    (1677-2262). The pandas path can never publish such a value; published from a relation, the table
    could no longer be read by any pandas consumer. Either refused, or readable."""
    stamped = PublishTarget("shop/stamped", ("shop", "stamped"), read_contract(Stamped), OWNERS)
    relation = con.sql(f"SELECT TIMESTAMPTZ '{moment}' AS at")
    try:
        warehouse.publish_relation(stamped, con, relation)
    except ContractViolation:
        assert not warehouse.table_exists(("shop", "stamped"))
        return
    back = warehouse.read(("shop", "stamped"), reader=TRUSTED)
    assert str(back["at"].dtype) == "datetime64[ns, UTC]"
    Stamped.validate(back)


class Accounts(pa.DataFrameModel):
    account: Series[str] = pa.Field(isin=["CASH", "BANK"])


def test_a_collated_string_column_is_audited_and_published_as_pandas_compares_strings(
    warehouse, con
):
    """A VARCHAR column may carry a collation (`COLLATE NOCASE`, for a case-insensitive join) and still
    be of type VARCHAR. pandas compares strings exactly: 'cash' is not in ['CASH', 'BANK']. The audit
    must judge it so, and a published column must not carry the collation into consumers' SQL."""
    accounts = PublishTarget("shop/accounts", ("shop", "accounts"), read_contract(Accounts), OWNERS)
    relation = con.sql(
        "SELECT account COLLATE NOCASE AS account FROM (VALUES ('CASH'), ('cash')) v(account)"
    )
    assert [str(t) for t in relation.types] == ["VARCHAR"]
    try:
        warehouse.publish_relation(accounts, con, relation)
    except ContractViolation as error:
        (failed,) = error.result.failed
        # refused as an isin failure, or as a column whose collation pandas does not have
        collation = failed.check.startswith("dtype") and "collation" in str(failed.samples)
        assert failed.column == "account" and (failed.check.startswith("isin") or collation)
        assert not warehouse.table_exists(("shop", "accounts"))
        return
    Accounts.validate(
        warehouse.read(("shop", "accounts"), reader=TRUSTED)
    )  # pandera: 'cash' is not allowed
    (collated,) = con.execute(
        "SELECT COUNT(*) FROM shop.accounts WHERE account = 'CASH'"
    ).fetchone()
    assert collated == 1, "the published column compares case-insensitively"


def test_a_relation_of_another_connection_fails_clearly_and_leaves_no_view(warehouse, con):
    """A relation built on another DuckDB connection (say `duckdb.sql(...)`, the default one) is not
    on the step's connection: the error must say so and name the product, and the publish must not
    leave its staging view behind on that other connection."""
    contract = read_contract(Orders)
    before = publish_v1(warehouse, con, contract)
    with duckdb.connect() as other:
        relation = other.sql(orders_sql(contract))
        with pytest.raises(DagmeshError, match=PRODUCT):
            warehouse.publish_relation(target(contract), con, relation)
        assert leftovers(other) == []
    assert_nothing_published(warehouse, con, contract, before)


# -- partitions, on the staged path -----------------------------------------------------------------


class Daily(pa.DataFrameModel):
    day: Series[Day]
    n: Series[int] = pa.Field(ge=0)


def test_a_partition_publish_replaces_its_window_and_refuses_rows_outside_it(warehouse, con):
    daily = PublishTarget(
        "shop/daily", ("shop", "daily"), read_contract(Daily), OWNERS, partition_column="day"
    )

    def window(day: int) -> PartitionWindow:
        start = dt.datetime(2024, 1, day)
        return PartitionWindow(start, start + dt.timedelta(days=1), f"2024-01-{day:02d}")

    def rows(day: int, n: int) -> duckdb.DuckDBPyRelation:
        return con.sql(f"SELECT DATE '2024-01-{day:02d}' AS day, CAST({n} AS BIGINT) AS n")

    for day in (1, 2, 3):
        warehouse.publish_relation(daily, con, rows(day, day), window(day))
    warehouse.publish_relation(daily, con, rows(2, 20), window(2))
    table = "SELECT day.day, n FROM shop.daily AS day ORDER BY 1"
    published = con.execute(table).fetchall()
    assert [n for _, n in published] == [1, 20, 3]

    before = snapshot_of(con, table)
    with pytest.raises(ContractViolation, match="in_partition"):
        warehouse.publish_relation(daily, con, rows(3, 30), window(2))
    with pytest.raises(ContractViolation, match="greater_than_or_equal_to"):
        warehouse.publish_relation(daily, con, rows(2, -1), window(2))
    assert snapshot_of(con, table) == before
    assert leftovers(con) == []


def snapshot_of(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[tuple], list[tuple]]:
    return con.execute(sql).fetchall(), con.execute(
        "SELECT * FROM _dagmesh.publications ORDER BY published_at"
    ).fetchall()


# -- query() and the step's bindings ---------------------------------------------------------------


def test_query_mixing_a_relation_and_a_frame_raises_type_error(con):
    with pytest.raises(TypeError, match=r"relations \(r\) and frames \(f\)"):
        query("SELECT * FROM r, f", r=con.sql("SELECT 1 AS a"), f=pd.DataFrame({"b": [1]}))


def test_query_over_relations_returns_a_lazy_relation_on_their_connection(con):
    with engine_session(con) as session:
        numbers = con.sql("SELECT range AS a FROM range(4)")
        result = query("SELECT SUM(a) AS s FROM numbers WHERE a > ?", [0], numbers=numbers)
        assert isinstance(result, duckdb.DuckDBPyRelation)
        assert result.fetchall() == [(6,)]
        assert "numbers" in session.views
    assert leftovers(con) == []  # the step's views are dropped when it ends


def test_binding_two_live_relations_to_one_name_in_a_step_raises(con):
    with engine_session(con):
        first = con.sql("SELECT 1 AS a")
        second = con.sql("SELECT 2 AS a")
        kept = query("SELECT a FROM t", t=first)
        assert query("SELECT a FROM t", t=first).fetchall() == [(1,)]  # the same one again: fine
        with pytest.raises(RelationBindingError, match="'t'"):
            query("SELECT a FROM t", t=second)
        assert kept.fetchall() == [(1,)]


def test_binding_a_new_relation_to_a_used_name_never_reads_the_old_one(con):
    """Relations passed inline (`query(..., t=orders.filter(...))`) are freed right after the call,
    and CPython hands their memory, and their id(), to the next one. A second binding of the name must
    still raise, never silently answer with the first relation's rows."""
    answers: list[Any] = []
    with engine_session(con):
        query("SELECT a FROM t", t=con.sql("SELECT 0 AS a"))
        for i in range(1, 20):
            try:
                answers.append(query("SELECT a FROM t", t=con.sql(f"SELECT {i} AS a")).fetchall())
            except RelationBindingError:
                answers.append("refused")
            else:
                assert answers[-1] == [(i,)], (
                    f"binding {i}: read {answers[-1]} from an earlier relation of the same name"
                )


def test_a_step_that_reuses_no_name_publishes_through_query(warehouse, con):
    contract = read_contract(Orders)
    with engine_session(con):
        source = con.sql(orders_sql(contract))
        relation = query("SELECT * FROM src ORDER BY order_id DESC", src=source)
        result = warehouse.publish_relation(target(contract), con, relation)
    assert result.rows == ROWS and leftovers(con) == []
    assert warehouse.read(TABLE, reader=TRUSTED)["order_id"].sort_values().tolist() == [
        1,
        2,
        3,
        4,
        5,
    ]
