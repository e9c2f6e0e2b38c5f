"""Each way a hostile input used to publish under a green contract check, refused now (issue 9).

Every test publishes through the real warehouse (a DuckDB file) and, where the frame passes, reads the
product back and validates it with pandera against the published contract: the oracle.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from pandas.testing import assert_frame_equal
from pandera.errors import SchemaErrors
from pandera.typing import Series

from dagmesh.core.errors import ContractViolation, DagmeshError
from dagmesh.declare.contract import read_contract
from dagmesh.declare.volume import Volume
from dagmesh.storage.warehouse import MeshWarehouse, PartitionWindow, PublishTarget
from tests.helpers.readers import TRUSTED

OWNER = "team:sound"


@pytest.fixture
def warehouse(tmp_path) -> MeshWarehouse:
    return MeshWarehouse(database=str(tmp_path / "w.duckdb"))


def target(model, name: str = "p", **options) -> PublishTarget:
    return PublishTarget(
        product=f"sound/{name}",
        table=("sound", name),
        contract=read_contract(model),
        owners=[OWNER],
        version=options.pop("version", "1.0.0"),
        **options,
    )


def pandera_accepts(model, frame: pd.DataFrame) -> bool:
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors:
        return False
    return True


def publishes(warehouse: MeshWarehouse, model, frame: pd.DataFrame, name: str = "p") -> bool:
    """Publish; if it published, the product read back must satisfy its published contract."""
    goal = target(model, name)
    try:
        warehouse.publish(goal, frame)
    except ContractViolation:
        return False
    published = warehouse.read(goal.table, reader=TRUSTED)
    goal.contract.published_schema().validate(published, lazy=True)
    return True


def refused(warehouse: MeshWarehouse, model, frame: pd.DataFrame) -> str:
    with pytest.raises(ContractViolation) as raised:
        warehouse.publish(target(model), frame)
    assert "sound/p" in str(raised.value) and OWNER in str(raised.value)
    return str(raised.value)


# -- 1. row-wise frame checks ----------------------------------------------------------------------


class RowWise(pa.DataFrameModel):
    low: Series[int]
    high: Series[int]

    @pa.dataframe_check
    def ordered(cls, df: pd.DataFrame) -> pd.Series:
        return df["low"] <= df["high"]


class WholeFrame(pa.DataFrameModel):
    low: Series[int]

    @pa.dataframe_check
    def few(cls, df: pd.DataFrame) -> bool:
        return len(df) < 3


def test_row_wise_frame_check_is_enforced(warehouse):
    bad = pd.DataFrame({"low": [1, 5], "high": [2, 4]})
    assert not pandera_accepts(RowWise, bad)
    assert "ordered [custom] failed for 1 row(s)" in refused(warehouse, RowWise, bad)
    assert publishes(warehouse, RowWise, pd.DataFrame({"low": [1, 4], "high": [2, 4]}))


def test_scalar_frame_check_is_enforced(warehouse):
    assert "few [custom]" in refused(warehouse, WholeFrame, pd.DataFrame({"low": [1, 2, 3]}))
    assert publishes(warehouse, WholeFrame, pd.DataFrame({"low": [1, 2]}))


# -- 2. isin with None -----------------------------------------------------------------------------


class Status(pa.DataFrameModel):
    status: Series[str] = pa.Field(isin=["open", None], nullable=True)


def test_isin_with_none_still_refuses_other_values(warehouse):
    assert "isin" in refused(warehouse, Status, pd.DataFrame({"status": ["open", "anything"]}))
    assert publishes(warehouse, Status, pd.DataFrame({"status": ["open", None]}))


# -- 3. custom checks named like built-ins ---------------------------------------------------------


class Named(pa.DataFrameModel):
    word: Series[str]

    @pa.check("word", name="greater_than")
    def long_enough(cls, s: pd.Series) -> pd.Series:
        return s.str.len() > 3


def test_custom_check_with_a_built_in_name_runs_its_own_body(warehouse):
    (check,) = read_contract(Named).column("word").checks
    assert not check.builtin and check.fingerprint
    text = refused(warehouse, Named, pd.DataFrame({"word": ["long", "no"]}))
    assert "greater_than [custom] failed for 1 row(s)" in text
    assert publishes(warehouse, Named, pd.DataFrame({"word": ["long", "longer"]}))


# -- 4. time zones ---------------------------------------------------------------------------------


class Naive(pa.DataFrameModel):
    at: Series[pd.Timestamp] = pa.Field(nullable=True)


class Berlin(pa.DataFrameModel):
    at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "ns", "tz": "Europe/Berlin"})


@pytest.fixture
def host_time_zone():
    """Run with the process in a far time zone, to catch anything that shifts by the host's."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_tz_aware_values_fail_a_naive_contract(warehouse):
    aware = pd.DataFrame({"at": pd.to_datetime(["2024-03-01 12:00"]).tz_localize("UTC")})
    assert not pandera_accepts(Naive, aware)
    assert "dtype(datetime64[ns])" in refused(warehouse, Naive, aware)


def test_timestamps_round_trip_exactly_whatever_the_host_zone(warehouse, host_time_zone):
    naive = pd.DataFrame({"at": pd.to_datetime(["2024-03-01 12:00:00.123456789", None])})
    assert publishes(warehouse, Naive, naive, name="naive")
    assert_frame_equal(warehouse.read(("sound", "naive"), reader=TRUSTED), naive)
    berlin = pd.DataFrame(
        {
            "at": pd.to_datetime(["2024-03-31 01:30", "2024-10-27 02:30"]).tz_localize(
                "Europe/Berlin", ambiguous=[True, True]
            )
        }
    )
    assert publishes(warehouse, Berlin, berlin, name="berlin")
    assert_frame_equal(warehouse.read(("sound", "berlin"), reader=TRUSTED), berlin)


def test_tz_aware_nanoseconds_are_refused_not_truncated(warehouse):
    precise = pd.DataFrame(
        {"at": pd.to_datetime(["2024-03-01 12:00:00.000000001"]).tz_localize("Europe/Berlin")}
    )
    assert pandera_accepts(Berlin, precise)  # a documented difference: DuckDB keeps microseconds
    assert "storable(TIMESTAMPTZ keeps microseconds" in refused(warehouse, Berlin, precise)


# -- 5. no silent casts ----------------------------------------------------------------------------


class Typed(pa.DataFrameModel):
    flag: Series[bool]
    text: Series[str]
    count: Series[int]
    day: Series[pd.ArrowDtype] = pa.Field(dtype_kwargs={"pyarrow_dtype": pyarrow.date32()})
    at: Series[pd.Timestamp]


TYPED = pd.DataFrame(
    {
        "flag": [True, False],
        "text": ["a", "b"],
        "count": [1, 2],
        "day": pd.Series(
            [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], dtype=pd.ArrowDtype(pyarrow.date32())
        ),
        "at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    }
)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("flag", [7, 0]),
        ("text", [["a"], "b"]),
        ("text", [{"k": 1}, "b"]),
        ("text", [b"bytes", "b"]),
        ("text", [1.5, "b"]),
        ("count", [1.0, 2.0]),
        ("count", [True, False]),
        ("day", ["infinity", "2024-01-02"]),
        ("at", [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]),
    ],
    ids=[
        "int-as-bool",
        "list",
        "dict",
        "bytes",
        "float-as-str",
        "float-as-int",
        "bool-as-int",
        "infinity-as-date",
        "date-as-timestamp",
    ],
)
def test_values_of_the_wrong_type_are_refused_as_pandera_refuses_them(warehouse, column, values):
    frame = TYPED.assign(**{column: pd.Series(values, dtype=object)})
    assert not pandera_accepts(Typed, frame)
    assert f"column '{column}': dtype(" in refused(warehouse, Typed, frame)
    assert not warehouse.table_exists(("sound", "p"))


class Coerced(pa.DataFrameModel):
    count: Series[int]
    text: Series[str]

    class Config:
        coerce = True


def test_coerce_converts_as_pandera_does(warehouse):
    frame = pd.DataFrame({"count": ["1", "2"], "text": [1, 2.5]})
    expected = Coerced.validate(frame.copy())
    assert publishes(warehouse, Coerced, frame)
    assert_frame_equal(warehouse.read(("sound", "p"), reader=TRUSTED), expected)
    assert frame["count"].tolist() == ["1", "2"]  # the product's own frame is not modified
    assert "coerce_dtype" in refused(
        warehouse, Coerced, pd.DataFrame({"count": ["x"], "text": ["a"]})
    )


# -- 6. NaN as a value -----------------------------------------------------------------------------


class Amounts(pa.DataFrameModel):
    amount: Series[pd.Float64Dtype] = pa.Field(ge=0)


def test_masked_nan_fails_range_checks_and_not_nullable(warehouse):
    nan = pd.array([0.0, 1.0], dtype="Float64") / pd.array([0.0, 1.0], dtype="Float64")
    frame = pd.DataFrame({"amount": nan})
    assert not frame["amount"].isna().any()  # a NaN value, not a null
    assert not pandera_accepts(Amounts, frame)
    text = refused(warehouse, Amounts, frame)
    assert "greater_than_or_equal_to(min_value=0) failed for 1 row(s)" in text
    assert "not_nullable failed for 1 row(s)" in text  # stricter than pandera, documented


@pytest.mark.parametrize("text", ["nan", "inf", "-infinity"])
def test_numbers_spelled_as_strings_fail_a_float_column(warehouse, text):
    frame = pd.DataFrame({"amount": pd.Series([1.0, text], dtype=object)})
    assert "dtype(Float64)" in refused(warehouse, Amounts, frame)


def test_nan_in_a_plain_float_column_is_a_null(warehouse):
    class Plain(pa.DataFrameModel):
        amount: Series[float] = pa.Field(ge=0, nullable=False)

    assert "not_nullable" in refused(warehouse, Plain, pd.DataFrame({"amount": [1.0, np.nan]}))


# -- 7. partitions: uniqueness over the whole table, additive evolution ----------------------------


class Events(pa.DataFrameModel):
    event_id: Series[int] = pa.Field(unique=True)
    day: Series[pd.Timestamp]


class EventsWithSource(Events):
    source: Series[str] = pa.Field(nullable=True)


class EventsRetyped(pa.DataFrameModel):
    event_id: Series[str] = pa.Field(unique=True)
    day: Series[pd.Timestamp]


def window(month: int) -> PartitionWindow:
    start = dt.datetime(2024, month, 1)
    return PartitionWindow(start, dt.datetime(2024, month + 1, 1), f"2024-{month:02d}")


def events(ids, month: int, **extra) -> pd.DataFrame:
    return pd.DataFrame({"event_id": ids, "day": pd.Timestamp(2024, month, 2), **extra})


def test_partition_uniqueness_counts_the_other_partitions(warehouse):
    goal = target(Events, partition_column="day")
    warehouse.publish(goal, events([1, 2], 1), window(1))
    with pytest.raises(ContractViolation, match="unique failed"):
        warehouse.publish(goal, events([2, 3], 2), window(2))
    warehouse.publish(goal, events([1, 2], 1), window(1))  # rewriting its own partition is fine
    warehouse.publish(goal, events([3], 2), window(2))
    assert sorted(warehouse.read(goal.table, reader=TRUSTED)["event_id"]) == [1, 2, 3]


def test_an_added_column_migrates_the_partitioned_table(warehouse):
    warehouse.publish(target(Events, partition_column="day"), events([1], 1), window(1))
    wider = target(EventsWithSource, partition_column="day", version="1.1.0")
    warehouse.publish(wider, events([2], 2, source=["web"]), window(2))
    published = warehouse.read(wider.table, reader=TRUSTED).sort_values(
        "event_id", ignore_index=True
    )
    assert published["source"].tolist() == [None, "web"]
    EventsWithSource.validate(published)


def test_a_breaking_change_needs_a_major_version(warehouse):
    warehouse.publish(target(Events, partition_column="day"), events([1], 1), window(1))
    retyped = events(["a"], 2)
    with pytest.raises(DagmeshError, match=r"breaking change .* without a major version bump"):
        warehouse.publish(
            target(EventsRetyped, partition_column="day", version="1.1.0"), retyped, window(2)
        )
    assert warehouse.read(("sound", "p"), reader=TRUSTED)["event_id"].tolist() == [
        1
    ]  # nothing lost
    warehouse.publish(
        target(EventsRetyped, partition_column="day", version="2.0.0"), retyped, window(2)
    )
    assert warehouse.read(("sound", "p"), reader=TRUSTED)["event_id"].tolist() == ["a"]
    assert warehouse.read(("sound", "p__v1"), reader=TRUSTED)["event_id"].tolist() == [
        1
    ]  # the old major is kept


# -- 8. masked columns and their published contract ------------------------------------------------


class Contacts(pa.DataFrameModel):
    email: Series[str] = pa.Field(
        unique=True, str_matches=r"^[^@]+@[^@]+$", metadata={"pii": True, "mask": "redacted"}
    )
    hashed: Series[str] = pa.Field(
        unique=True, str_contains="@", metadata={"pii": True, "mask": "sha256"}
    )


def test_masked_columns_never_fail_their_published_contract(warehouse):
    frame = pd.DataFrame({"email": ["a@x.org", "b@x.org"], "hashed": ["a@x.org", "b@x.org"]})
    assert publishes(warehouse, Contacts, frame)  # publishes() validates the published contract
    published = warehouse.read(("sound", "p"), reader=TRUSTED)
    assert published["email"].tolist() == ["[redacted]"] * 2
    assert published["hashed"].str.fullmatch("[0-9a-f]{64}").all()
    with pytest.raises(SchemaErrors):
        Contacts.validate(
            published, lazy=True
        )  # the producer's own contract would fail: masks change data
    schema = read_contract(Contacts).table_schema()
    email = next(c for c in schema.columns if c.name == "email")
    assert email.constraints.unique is False and "redacted" in email.description
    # the values as produced are still audited: a duplicate is refused before masking
    duplicate = pd.DataFrame({"email": ["a@x.org", "a@x.org"], "hashed": ["a@x.org", "b@x.org"]})
    assert "unique failed" in refused(warehouse, Contacts, duplicate)


# -- also wrong before -----------------------------------------------------------------------------


def test_ignore_na_false_applies_the_check_to_nulls(warehouse):
    class Strict(pa.DataFrameModel):
        amount: Series[float] = pa.Field(nullable=True)

        @pa.check("amount", ignore_na=False)
        def positive(cls, s: pd.Series) -> pd.Series:
            return s > 0

    class Lenient(pa.DataFrameModel):
        amount: Series[float] = pa.Field(nullable=True, gt=0)

    frame = pd.DataFrame({"amount": [1.0, np.nan]})
    assert not pandera_accepts(Strict, frame)
    assert "positive [custom] failed" in refused(warehouse, Strict, frame)
    assert publishes(warehouse, Lenient, frame)  # the built-in ignores nulls


@pytest.mark.parametrize(
    ("pattern", "values"),
    [
        (r"^\w+$", ["José", "naïve", "a b"]),
        (r"^(?=.*\d)\w+", ["abc1", "abc"]),
        (r"x\Z", ["ax", "ax\n"]),
        (r"x$", ["ax", "ax\n", "ax\n\n"]),
        (r"(?i)straße", ["STRASSE", "Straße"]),
        # DuckDB's optimizer reads an empty group beside an anchor as "equals ''"
        ("", ["", "nan"]),
        (r"(?:)\Z", ["", "nan"]),
    ],
)
def test_regexes_mean_what_python_means(warehouse, pattern, values):
    class Words(pa.DataFrameModel):
        word: Series[str] = pa.Field(str_matches=pattern)

    for value in values:
        frame = pd.DataFrame({"word": [value]})
        assert publishes(warehouse, Words, frame) == pandera_accepts(Words, frame), value


def test_a_column_named_rowid_reads_back_in_order(warehouse):
    class Rows(pa.DataFrameModel):
        rowid: Series[int]

    frame = pd.DataFrame({"rowid": np.arange(400_000, 0, -1)})
    assert publishes(warehouse, Rows, frame)
    assert_frame_equal(warehouse.read(("sound", "p"), reader=TRUSTED), frame)


def test_an_empty_frame_does_not_replace_a_product_unless_allowed(warehouse):
    class Orders(pa.DataFrameModel):
        order_id: Series[int]

    warehouse.publish(target(Orders), pd.DataFrame({"order_id": [1, 2, 3]}))
    empty = pd.DataFrame({"order_id": pd.Series([], dtype="int64")})
    with pytest.raises(ContractViolation) as raised:
        warehouse.publish(target(Orders), empty)
    text = str(raised.value)
    assert "sound/p" in text and OWNER in text and "0 rows would replace 3" in text
    assert len(warehouse.read(("sound", "p"), reader=TRUSTED)) == 3
    warehouse.publish(target(Orders, volume=Volume(allow_empty=True)), empty)
    assert len(warehouse.read(("sound", "p"), reader=TRUSTED)) == 0


def test_a_large_drop_is_refused_when_the_product_says_so(warehouse):
    class Orders(pa.DataFrameModel):
        order_id: Series[int]

    guarded = target(Orders, volume=Volume(max_drop=0.5))
    warehouse.publish(guarded, pd.DataFrame({"order_id": range(10)}))
    with pytest.raises(ContractViolation, match="4 rows would replace 10, a drop of 60%"):
        warehouse.publish(guarded, pd.DataFrame({"order_id": range(4)}))
    warehouse.publish(guarded, pd.DataFrame({"order_id": range(5)}))


def test_untyped_empty_frame_is_refused_like_pandera(warehouse):
    class Orders(pa.DataFrameModel):
        order_id: Series[int]

    untyped = pd.DataFrame({"order_id": []})
    assert not pandera_accepts(Orders, untyped)
    assert "dtype(int64)" in refused(warehouse, Orders, untyped)


# -- exact types -----------------------------------------------------------------------------------


class Exact(pa.DataFrameModel):
    price: Series[pd.ArrowDtype] = pa.Field(
        dtype_kwargs={"pyarrow_dtype": pyarrow.decimal128(15, 2)}, ge=Decimal("0.00")
    )
    day: Series[pd.ArrowDtype] = pa.Field(dtype_kwargs={"pyarrow_dtype": pyarrow.date32()})
    at: Series[pd.DatetimeTZDtype] = pa.Field(dtype_kwargs={"unit": "ns", "tz": "UTC"})
    tags: Series[pd.ArrowDtype] = pa.Field(
        dtype_kwargs={"pyarrow_dtype": pyarrow.list_(pyarrow.string())}
    )
    address: Series[pd.ArrowDtype] = pa.Field(
        dtype_kwargs={
            "pyarrow_dtype": pyarrow.struct([("city", pyarrow.string()), ("zip", pyarrow.int32())])
        },
        nullable=True,
    )
    count: Series[pd.Int64Dtype] = pa.Field(nullable=True)


def test_exact_types_survive_publish_and_read(warehouse):
    contract = read_contract(Exact)
    assert [c.duckdb_type for c in contract.columns] == [
        "DECIMAL(15,2)",
        "DATE",
        "TIMESTAMP WITH TIME ZONE",
        "VARCHAR[]",
        "STRUCT(city VARCHAR, zip INTEGER)",
        "BIGINT",
    ]
    frame = pd.DataFrame(
        {
            "price": pd.Series(
                [Decimal("0.10"), Decimal("12345678901.99")],
                dtype=pd.ArrowDtype(pyarrow.decimal128(15, 2)),
            ),
            "day": pd.Series(
                [dt.date(1992, 1, 1), dt.date(1998, 12, 1)], dtype=pd.ArrowDtype(pyarrow.date32())
            ),
            "at": pd.to_datetime(
                ["2024-01-01 00:00:00.000001", "2024-06-01 00:00:00.000000"]
            ).tz_localize("UTC"),
            "tags": pd.Series(
                [["a", "b"], []], dtype=pd.ArrowDtype(pyarrow.list_(pyarrow.string()))
            ),
            "address": pd.Series(
                [{"city": "Basel", "zip": 4051}, None],
                dtype=pd.ArrowDtype(
                    pyarrow.struct([("city", pyarrow.string()), ("zip", pyarrow.int32())])
                ),
            ),
            "count": pd.array([1, None], dtype="Int64"),
        }
    )
    assert publishes(warehouse, Exact, frame)
    assert_frame_equal(warehouse.read(("sound", "p"), reader=TRUSTED), frame)
    money = frame.assign(price=frame["price"].astype("float64"))
    assert "dtype(decimal128(15, 2)[pyarrow])" in refused(warehouse, Exact, money)
