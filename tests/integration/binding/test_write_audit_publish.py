"""Write-audit-publish end to end: real `dg.materialize` runs writing a real DuckDB file under tmp_path.

Each test builds a small domain with `@data_product` + `domain_definitions`, so the platform is exercised
exactly the way a domain team's code location uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, DataProduct, data_product, domain_definitions
from dagmesh.storage.settings import MeshSettings

OWNER = "team:ledger"
DAILY = SLO(max_lag=timedelta(days=1))
LEDGER = dg.AssetKey(["testdom", "ledger"])
AMOUNT_GE_0 = "greater_than_or_equal_to(min_value=0)"


class Ledger(pa.DataFrameModel):
    """Ledger entries: what a consumer may rely on."""

    entry_id: Series[int] = pa.Field(unique=True, ge=0, description="Entry id.")
    amount: Series[float] = pa.Field(ge=0, description="Booked amount, never negative.")
    account: Series[str] = pa.Field(description="Account name.")  # not nullable (pandera default)
    booked_at: Series[pd.Timestamp] = pa.Field(description="Booking time.")


LEDGER_COLUMNS = [
    ("entry_id", "BIGINT"),
    ("amount", "DOUBLE"),
    ("account", "VARCHAR"),
    ("booked_at", "TIMESTAMP_NS"),
]


def ledger_frame(ids: list[int], amounts: list[float], accounts: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entry_id": ids,
            "amount": amounts,
            "account": accounts,
            "booked_at": pd.to_datetime([f"2024-01-{i % 28 + 1:02d} 08:00" for i in ids]),
        }
    )


GOOD = ledger_frame([1, 2, 3], [10.0, 0.0, 2.5], ["cash", "bank", "cash"])
# Two negative amounts (ge=0) and a null account (not nullable).
BAD = ledger_frame([10, 11, 12, 13], [5.0, -1.5, 7.0, -2.25], ["cash", None, "bank", "cash"])


def ledger_product(frame_of: Callable[[], pd.DataFrame], name: str = "ledger") -> DataProduct:
    """A ledger product whose output is whatever `frame_of()` returns at run time."""

    @data_product(
        contract=Ledger, owners=[OWNER], access="public", version="1.2.3", slo=DAILY, name=name
    )
    def ledger() -> pd.DataFrame:
        """The ledger."""
        return frame_of()

    return ledger


def single_product_domain(
    settings: MeshSettings, frame: pd.DataFrame, domain: str = "testdom"
) -> dg.Definitions:
    return domain_definitions(domain, [ledger_product(lambda: frame)], settings=settings)


def sort(frame: pd.DataFrame, by: str = "entry_id") -> pd.DataFrame:
    return frame.sort_values(by).reset_index(drop=True)


def contract_evaluations(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> list[Any]:
    return [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == key and e.check_name == "contract"
    ]


def check_history(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[Any]:
    return instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(key, "contract"), limit=5
    )


def user_failure_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.get_step_failure_events()
    assert event.step_failure_data.user_failure_data is not None
    return dict(event.step_failure_data.user_failure_data.metadata)


def publications(warehouse_path: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return con.execute(
            "SELECT product, table_name, partition_key, row_count FROM _dagmesh.publications "
            "ORDER BY published_at, rowid"
        ).fetchall()


# -- contract violations -----------------------------------------------------------------------------


class LedgerFeed(dg.ConfigurableResource):
    """Where the ledger product gets its rows; run config flips it to a feed with bad rows."""

    bad: bool = False

    def frame(self) -> pd.DataFrame:
        return BAD.copy() if self.bad else GOOD.copy()


@data_product(contract=Ledger, owners=[OWNER], access="public", version="1.2.3", slo=DAILY)
def fed_ledger(feed: LedgerFeed) -> pd.DataFrame:
    """The ledger, as the feed resource delivers it."""
    return feed.frame()


def test_contract_violation_fails_the_run_and_keeps_the_last_good_version(
    mesh_settings, instance, run, read_table, failure, warehouse_path
):
    defs = domain_definitions(
        "testdom", [fed_ledger], resources={"feed": LedgerFeed()}, settings=mesh_settings
    )
    key = dg.AssetKey(["testdom", "fed_ledger"])

    good = run(defs)
    assert good.success
    assert_frame_equal(sort(read_table("testdom.fed_ledger")), GOOD)

    bad = run(defs, run_config={"resources": {"feed": {"config": {"bad": True}}}})

    assert bad.success is False
    # The published table is untouched: consumers still read the last good rows.
    assert_frame_equal(sort(read_table("testdom.fed_ledger")), GOOD)
    assert [p[0] for p in publications(warehouse_path)] == ["testdom/fed_ledger"]
    latest = instance.get_latest_materialization_event(key)
    assert latest is not None and latest.run_id == good.run_id

    text = failure(bad)
    assert "testdom/fed_ledger" in text
    assert OWNER in text
    assert "nothing was published" in text
    assert f"column 'amount': {AMOUNT_GE_0} failed for 2 row(s)" in text
    assert "column 'account': not_nullable failed for 1 row(s)" in text
    # Sample failing rows are shown: the two negative amounts and the row with the null account.
    assert "'amount': -1.5" in text
    assert "'amount': -2.25" in text
    assert "'entry_id': 11" in text and "'account': None" in text
    # The good rows are not offered as samples.
    assert "'entry_id': 10" not in text and "'entry_id': 12" not in text

    metadata = user_failure_metadata(bad)
    amount = metadata[f"failed: amount {AMOUNT_GE_0}"].value
    assert amount["failing_rows"] == 2
    assert sorted(s["entry_id"] for s in amount["samples"]) == [11, 13]
    account = metadata["failed: account not_nullable"].value
    assert account["failing_rows"] == 1
    assert [s["entry_id"] for s in account["samples"]] == [11]
    assert metadata["failed_checks"].value == 2
    assert metadata["rows_audited"].value == 4

    (evaluation,) = contract_evaluations(bad, key)
    assert evaluation.passed is False
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failed_checks"].value == 2

    history = check_history(instance, key)
    assert [h.status.value for h in history] == [
        "FAILED",
        "SUCCEEDED",
    ]
    assert history[0].run_id == bad.run_id


def test_passing_run_records_a_passed_check_and_table_metadata(
    mesh_settings, instance, run, read_table, warehouse_path
):
    defs = single_product_domain(mesh_settings, GOOD)

    result = run(defs)

    assert result.success
    (evaluation,) = contract_evaluations(result, LEDGER)
    assert evaluation.passed is True
    assert evaluation.metadata["rows_audited"].value == 3
    assert evaluation.metadata["failed_checks"].value == 0
    (record,) = check_history(instance, LEDGER)
    assert record.status.value == "SUCCEEDED"

    (materialization,) = result.asset_materializations_for_node("testdom__ledger")
    metadata = materialization.metadata
    assert metadata["dagster/row_count"].value == 3
    assert metadata["dagster/table_name"].value == "testdom.ledger"
    schema = metadata["dagster/column_schema"].value
    assert [(c.name, c.type) for c in schema.columns] == LEDGER_COLUMNS
    # The UI shows the latest materialization's schema: it carries the contract's constraints too.
    columns = {c.name: c for c in schema.columns}
    assert columns["entry_id"].constraints.unique is True
    assert columns["entry_id"].constraints.nullable is False
    assert columns["entry_id"].constraints.other == ["greater_than_or_equal_to(min_value=0)"]
    assert columns["account"].constraints.unique is False
    assert columns["amount"].description == "Booked amount, never negative."

    assert_frame_equal(sort(read_table("testdom.ledger")), GOOD)
    assert publications(warehouse_path) == [("testdom/ledger", "testdom.ledger", None, 3)]


def test_columns_are_matched_by_name_not_position(mesh_settings, run, read_table):
    reordered = GOOD[["booked_at", "account", "entry_id", "amount"]]
    defs = single_product_domain(mesh_settings, reordered)

    assert run(defs).success

    published = sort(read_table("testdom.ledger"))
    assert list(published.columns) == [name for name, _ in LEDGER_COLUMNS]
    assert_frame_equal(published, GOOD)


def test_empty_frame_publishes_an_empty_table_with_the_contract_types(
    mesh_settings, run, warehouse_path
):
    empty = GOOD.iloc[:0][[name for name, _ in reversed(LEDGER_COLUMNS)]]
    defs = single_product_domain(mesh_settings, empty)

    result = run(defs)

    assert result.success
    (evaluation,) = contract_evaluations(result, LEDGER)
    assert evaluation.passed is True
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        assert con.execute("SELECT COUNT(*) FROM testdom.ledger").fetchone() == (0,)
        described = con.execute("DESCRIBE testdom.ledger").fetchall()
    assert [(row[0], row[1]) for row in described] == LEDGER_COLUMNS
    (materialization,) = result.asset_materializations_for_node("testdom__ledger")
    assert materialization.metadata["dagster/row_count"].value == 0


@pytest.mark.parametrize(
    ("frame", "expected", "field"),
    [
        (GOOD.assign(surprise=1), "column(s) not in the contract 'surprise'", "extra_columns"),
        (GOOD.drop(columns=["account"]), "missing column(s) 'account'", "missing_columns"),
    ],
    ids=["extra", "missing"],
)
def test_frame_shape_mismatch_publishes_nothing(
    mesh_settings, instance, run, table_exists, failure, failure_causes, frame, expected, field
):
    defs = single_product_domain(mesh_settings, frame)

    result = run(defs)

    assert result.success is False
    assert "ContractShapeError" in failure_causes(result)
    text = failure(result)
    assert expected in text
    assert "testdom/ledger" in text and OWNER in text
    assert "Nothing was published" in text
    assert not table_exists("testdom", "ledger")
    assert instance.get_latest_materialization_event(LEDGER) is None

    (evaluation,) = contract_evaluations(result, LEDGER)
    assert evaluation.passed is False
    column = expected.rsplit("'", 2)[1]
    assert evaluation.metadata[field].value == [column]
    (record,) = check_history(instance, LEDGER)
    assert record.status.value == "FAILED"


def test_same_product_name_in_two_domains_lands_in_each_domains_schema(
    mesh_settings, run, read_table, warehouse_path
):
    alpha_rows = ledger_frame([1, 2], [1.0, 2.0], ["alpha", "alpha"])
    beta_rows = ledger_frame([7, 8, 9], [7.0, 8.0, 9.0], ["beta", "beta", "beta"])
    alpha = domain_definitions(
        "alpha", [ledger_product(lambda: alpha_rows, name="orders")], settings=mesh_settings
    )
    beta = domain_definitions(
        "beta", [ledger_product(lambda: beta_rows, name="orders")], settings=mesh_settings
    )

    assert run(alpha).success
    assert run(beta).success

    assert_frame_equal(sort(read_table("alpha.orders")), alpha_rows)
    assert_frame_equal(sort(read_table("beta.orders")), beta_rows)
    assert sorted(p[:2] for p in publications(warehouse_path)) == [
        ("alpha/orders", "alpha.orders"),
        ("beta/orders", "beta.orders"),
    ]


@pytest.mark.parametrize(
    ("entry_ids", "failing", "sample"),
    [
        # a str among ints: an object column; pandera names the value that is no int
        (pd.Series([1, "two", 3], dtype=object), 1, {"entry_id": "two"}),
        (pd.Series(["1", "two", "3"], dtype=object), 1, {"entry_id": "two"}),  # ints as strings
        # a float column is not an int column under coerce=False, fractions or not (pandera's rule)
        (pd.Series([1.0, 2.5, 3.0]), 3, {"entry_id (dtype of the column)": "float64"}),
    ],
    ids=["mixed-object", "strings", "fraction"],
)
def test_mistyped_value_fails_the_dtype_check(
    mesh_settings, instance, run, table_exists, failure, entry_ids, failing, sample
):
    frame = GOOD.assign(entry_id=entry_ids)
    defs = single_product_domain(mesh_settings, frame)

    result = run(defs)

    assert result.success is False
    text = failure(result)
    assert f"column 'entry_id': dtype(int64) failed for {failing} row(s)" in text
    assert f"e.g. {sample!r}" in text
    assert "testdom/ledger" in text and OWNER in text
    metadata = user_failure_metadata(result)
    dtype = metadata["failed: entry_id dtype(int64)"].value
    assert dtype == {"failing_rows": failing, "samples": [sample]}

    (evaluation,) = contract_evaluations(result, LEDGER)
    assert evaluation.passed is False
    assert not table_exists("testdom", "ledger")
    assert instance.get_latest_materialization_event(LEDGER) is None


# -- inputs ------------------------------------------------------------------------------------------


class Totals(pa.DataFrameModel):
    """Totals per account."""

    account: Series[str] = pa.Field(unique=True, description="Account name.")
    total: Series[float] = pa.Field(ge=0, description="Sum of the account's amounts.")
    entries: Series[int] = pa.Field(gt=0, description="Number of entries.")


def totals_of(ledger: pd.DataFrame) -> pd.DataFrame:
    grouped = ledger.groupby("account", as_index=False).agg(
        total=("amount", "sum"), entries=("entry_id", "count")
    )
    return grouped[["account", "total", "entries"]]


def totals_product(received: dict[str, Any], ref: str) -> DataProduct:
    @data_product(
        contract=Totals,
        owners=["team:finance"],
        access="internal",
        version="0.1.0",
        slo=DAILY,
        inputs={"ledger": ref},
    )
    def totals(ledger: pd.DataFrame) -> pd.DataFrame:
        """Totals per account."""
        received["ledger"] = ledger
        return totals_of(ledger)

    return totals


def assert_received_ledger(received: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert isinstance(received, pd.DataFrame)
    assert received["entry_id"].dtype == "int64"
    assert received["amount"].dtype == "float64"
    assert received["booked_at"].dtype == "datetime64[ns]"
    assert_frame_equal(sort(received), expected)


def test_product_receives_same_domain_input_as_a_dataframe(mesh_settings, run, read_table):
    received: dict[str, Any] = {}
    defs = domain_definitions(
        "testdom",
        [ledger_product(lambda: GOOD), totals_product(received, "ledger")],
        settings=mesh_settings,
    )

    result = run(defs)

    assert result.success
    assert_received_ledger(received["ledger"], GOOD)
    totals = read_table("testdom.totals", order_by="account")
    assert totals.to_dict("records") == [
        {"account": "bank", "total": 0.0, "entries": 1},
        {"account": "cash", "total": 12.5, "entries": 2},
    ]


def test_product_reads_another_domains_table(mesh_settings, run, read_table):
    alpha_rows = ledger_frame([4, 5], [4.0, 6.0], ["shop", "shop"])
    alpha = domain_definitions(
        "alpha", [ledger_product(lambda: alpha_rows, name="orders")], settings=mesh_settings
    )
    received: dict[str, Any] = {}
    beta = domain_definitions(
        "beta", [totals_product(received, "alpha/orders")], settings=mesh_settings
    )
    assert run(alpha).success

    result = run(beta, ["beta/totals"])

    assert result.success
    assert_received_ledger(received["ledger"], alpha_rows)
    assert read_table("beta.totals").to_dict("records") == [
        {"account": "shop", "total": 10.0, "entries": 2}
    ]


@pytest.mark.parametrize("same_domain", [True, False], ids=["same-domain", "cross-domain"])
def test_missing_upstream_table_names_it_and_says_to_materialize_it_first(
    mesh_settings, run, table_exists, failure, failure_causes, same_domain
):
    received: dict[str, Any] = {}
    if same_domain:
        upstream = "testdom/ledger"
        defs = domain_definitions(
            "testdom",
            [ledger_product(lambda: GOOD), totals_product(received, "ledger")],
            settings=mesh_settings,
        )
        result = run(defs, ["testdom/totals"])
        table = "testdom.totals"
    else:
        upstream = "alpha/orders"
        defs = domain_definitions(
            "beta", [totals_product(received, upstream)], settings=mesh_settings
        )
        result = run(defs, ["beta/totals"])
        table = "beta.totals"

    assert result.success is False
    assert "MissingUpstreamError" in failure_causes(result)
    text = failure(result)
    assert (
        f"reads {upstream}, but its table {upstream.replace('/', '.')} is not in the warehouse"
        in (text)
    )
    assert f"Materialize {upstream} first" in text
    assert "ledger" not in received  # the product function never ran
    assert not table_exists(*table.split("."))


# -- time-window partitions --------------------------------------------------------------------------


class Daily(pa.DataFrameModel):
    """Daily bookings."""

    day: Series[pd.Timestamp] = pa.Field(description="Booking day.")
    amount: Series[float] = pa.Field(ge=0, description="Booked amount.")
    run_tag: Series[str] = pa.Field(description="Which run wrote the row.")


MONTHS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-06-01")
BOOKINGS = dg.AssetKey(["testdom", "bookings"])


def bookings_domain(settings: MeshSettings, state: dict[str, Any]) -> dg.Definitions:
    """A monthly product writing the 1st and the 15th of its window's first month, tagged by run."""

    @data_product(
        contract=Daily,
        owners=[OWNER],
        access="public",
        version="1.0.0",
        slo=DAILY,
        partitions_def=MONTHS,
        partition_column="day",
    )
    def bookings(context: dg.AssetExecutionContext) -> pd.DataFrame:
        """Bookings of the partition's month."""
        start = pd.Timestamp(context.partition_time_window.start.replace(tzinfo=None))
        days = [start, start + pd.Timedelta(days=14)]
        if state.get("stray_day") is not None:
            days.append(pd.Timestamp(state["stray_day"]))
        return pd.DataFrame(
            {"day": days, "amount": [1.0] * len(days), "run_tag": [state["tag"]] * len(days)}
        )

    return domain_definitions("testdom", [bookings], settings=settings)


@pytest.fixture
def booking_rows(read_table) -> Callable[[], list[tuple[str, str]]]:
    def rows() -> list[tuple[str, str]]:
        table = read_table("testdom.bookings", order_by="day")
        return [
            (d.strftime("%Y-%m-%d"), tag) for d, tag in zip(table.day, table.run_tag, strict=True)
        ]

    return rows


def test_partitions_are_written_and_replaced_one_window_at_a_time(
    mesh_settings, instance, run, booking_rows, failure, warehouse_path
):
    state: dict[str, Any] = {"tag": "first"}
    defs = bookings_domain(mesh_settings, state)

    assert run(defs, partition_key="2024-01-01").success
    assert run(defs, partition_key="2024-02-01").success
    assert booking_rows() == [
        ("2024-01-01", "first"),
        ("2024-01-15", "first"),
        ("2024-02-01", "first"),
        ("2024-02-15", "first"),
    ]

    state["tag"] = "second"
    assert run(defs, partition_key="2024-01-01").success
    assert booking_rows() == [
        ("2024-01-01", "second"),
        ("2024-01-15", "second"),
        ("2024-02-01", "first"),
        ("2024-02-15", "first"),
    ]
    assert [(p[2], p[3]) for p in publications(warehouse_path)] == [
        ("2024-01-01", 2),
        ("2024-02-01", 2),
        ("2024-01-01", 2),
    ]

    # A February row in the January run would overwrite another partition: the audit refuses it.
    state["tag"], state["stray_day"] = "third", "2024-02-20"
    result = run(defs, partition_key="2024-01-01")

    assert result.success is False
    text = failure(result)
    assert "testdom/bookings" in text and OWNER in text
    assert "column 'day': in_partition(2024-01-01) failed for 1 row(s)" in text
    assert "datetime.datetime(2024, 2, 20, 0, 0)" in text  # the stray row is shown as a sample
    failed = [k.split(" ", 2)[2] for k in user_failure_metadata(result) if k.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].startswith("in_partition")
    (evaluation,) = contract_evaluations(result, BOOKINGS)
    assert evaluation.passed is False
    assert check_history(instance, BOOKINGS)[0].status.value == "FAILED"
    # Nothing of the refused run landed, in January or February.
    assert booking_rows() == [
        ("2024-01-01", "second"),
        ("2024-01-15", "second"),
        ("2024-02-01", "first"),
        ("2024-02-15", "first"),
    ]
    assert len(publications(warehouse_path)) == 3


def test_partition_range_run_replaces_its_whole_window_only(
    mesh_settings, run, booking_rows, warehouse_path
):
    state: dict[str, Any] = {"tag": "single"}
    defs = bookings_domain(mesh_settings, state)
    for month in ("2024-03-01", "2024-04-01", "2024-05-01"):
        assert run(defs, partition_key=month).success

    state["tag"] = "range"
    result = run(
        defs,
        tags={
            "dagster/asset_partition_range_start": "2024-03-01",
            "dagster/asset_partition_range_end": "2024-04-01",
        },
    )

    assert result.success
    # One single-run backfill over March..April: the product wrote March, so April is emptied, May kept.
    assert booking_rows() == [
        ("2024-03-01", "range"),
        ("2024-03-15", "range"),
        ("2024-05-01", "single"),
        ("2024-05-15", "single"),
    ]
    assert publications(warehouse_path)[-1][2:] == ("2024-03-01..2024-04-01", 2)


def assert_frame_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        actual.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )
