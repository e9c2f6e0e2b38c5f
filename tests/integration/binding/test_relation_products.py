"""In-warehouse products (`-> Relation`) through Dagster: real `dg.materialize` runs on a DuckDB file
under tmp_path, mixed with pandas products both ways, with their contract check, access levels,
partitions, and the declaration and binding errors a domain team can make."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from pandera.typing import Series

from dagmesh import (
    SLO,
    DataProduct,
    ProductDefinitionError,
    ProductKind,
    Relation,
    TpchSource,
    data_product,
    domain_definitions,
    query,
)
from dagmesh.storage.settings import MeshSettings

if TYPE_CHECKING:  # an annotation only a type checker resolves (common with future annotations)
    from dagmesh import MeshWarehouse as TypeCheckingOnly

Money = Annotated[pd.ArrowDtype, pyarrow.decimal128(15, 2)]
Total = Annotated[pd.ArrowDtype, pyarrow.decimal128(38, 2)]
Day = Annotated[pd.ArrowDtype, pyarrow.date32()]
UtcTime = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]
DAILY = SLO(max_lag=timedelta(days=1))
LEDGER_OWNER = "team:ledger"
FINANCE = "team:finance"


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def materialize(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: list[str],
    *,
    partition_key: str | None = None,
    run_config: dict | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        selection=[dg.AssetKey.from_user_string(k) for k in keys],
        resources=dict(defs.resources or {}),
        instance=instance,
        partition_key=partition_key,
        run_config=run_config,
        raise_on_error=False,
    )


def published(settings: MeshSettings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def contract_check(result: dg.ExecuteInProcessResult, key: str) -> list[Any]:
    asset = dg.AssetKey.from_user_string(key)
    return [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == asset and e.check_name == "contract"
    ]


# -- a pandas product and the relations over it ---------------------------------------------------


class Ledger(pa.DataFrameModel):
    """Ledger entries."""

    entry_id: Series[int] = pa.Field(unique=True, ge=0, description="Entry id.")
    amount: Series[float] = pa.Field(ge=0, description="Amount.")
    account: Series[str] = pa.Field(description="Account.")
    booked_at: Series[pd.Timestamp] = pa.Field(description="Booked at.")


LEDGER = pd.DataFrame(
    {
        "entry_id": [1, 2, 3, 4],
        "amount": [10.0, 0.0, 2.5, 4.0],
        "account": ["cash", "bank", "cash", "bank"],
        "booked_at": pd.to_datetime(
            ["2024-01-05 08:00", "2024-01-20 09:30", "2024-02-03 10:00", "2024-03-15 11:00"]
        ),
    }
)


@data_product(contract=Ledger, owners=[LEDGER_OWNER], access="public", version="1.0.0", slo=DAILY)
def ledger() -> pd.DataFrame:
    """The ledger, computed in pandas."""
    return LEDGER.copy()


class Totals(pa.DataFrameModel):
    """Totals per account."""

    account: Series[str] = pa.Field(unique=True, description="Account.")
    total: Series[float] = pa.Field(ge=0, description="Total.")
    entries: Series[int] = pa.Field(gt=0, description="Entries.")
    first_booked: Series[pd.Timestamp] = pa.Field(description="First booked.")


TOTALS_SQL = {
    "good": "SELECT account, SUM(amount) AS total, COUNT(*) AS entries, "
    "MIN(booked_at) AS first_booked FROM ledger GROUP BY account",
    "negative": "SELECT account, SUM(amount) - 100 AS total, COUNT(*) AS entries, "
    "MIN(booked_at) AS first_booked FROM ledger GROUP BY account",
    "narrow": "SELECT account, SUM(amount) AS total, CAST(COUNT(*) AS INTEGER) AS entries, "
    "MIN(booked_at) AS first_booked FROM ledger GROUP BY account",
    "missing": "SELECT account, SUM(amount) AS total, COUNT(*) AS entries FROM ledger "
    "GROUP BY account",
    "boom": "SELECT CASE WHEN account = 'cash' THEN error('boom') ELSE account END AS account, "
    "SUM(amount) AS total, COUNT(*) AS entries, MIN(booked_at) AS first_booked FROM ledger "
    "GROUP BY account",
}


class TotalsQuery(dg.ConfigurableResource):
    """Which query the totals product runs; run config switches it to a broken one."""

    mode: str = "good"

    def build(self, ledger: Relation) -> Any:
        if self.mode == "frame":
            return query(TOTALS_SQL["good"], ledger=ledger).df()  # a DataFrame, not a relation
        return query(TOTALS_SQL[self.mode], ledger=ledger)


received: dict[str, Any] = {}


@data_product(
    contract=Totals,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["ledger"],
)
def totals(ledger: Relation, totals_query: TotalsQuery) -> Relation:
    """Totals per account, computed in the warehouse."""
    received["totals.ledger"] = type(ledger)
    return totals_query.build(ledger)


def shop(settings: MeshSettings, *products: DataProduct) -> dg.Definitions:
    return domain_definitions(
        "shop",
        [ledger, *products],
        resources={"totals_query": TotalsQuery(), "tpch": TpchSource.from_settings(settings)},
        settings=settings,
    )


def test_a_relation_product_reads_a_pandas_product_and_passes_its_check(settings, instance):
    assert totals.kind is ProductKind.RELATION and ledger.kind is ProductKind.PANDAS
    defs = shop(settings, totals)

    result = materialize(defs, instance, ["shop/ledger", "shop/totals"])

    assert result.success
    assert received["totals.ledger"] is duckdb.DuckDBPyRelation
    rows = published(settings, "SELECT * FROM shop.totals ORDER BY account")
    assert rows == [
        ("bank", 4.0, 2, dt.datetime(2024, 1, 20, 9, 30)),
        ("cash", 12.5, 2, dt.datetime(2024, 1, 5, 8, 0)),
    ]
    (evaluation,) = contract_check(result, "shop/totals")
    assert evaluation.passed is True
    assert evaluation.metadata["rows_audited"].value == 2
    assert evaluation.metadata["failed_checks"].value == 0
    (materialization,) = result.asset_materializations_for_node("shop__totals")
    schema = materialization.metadata["dagster/column_schema"].value
    assert [(c.name, c.type) for c in schema.columns] == [
        ("account", "VARCHAR"),
        ("total", "DOUBLE"),
        ("entries", "BIGINT"),
        ("first_booked", "TIMESTAMP_NS"),
    ]
    assert published(
        settings, "SELECT product, row_count FROM _dagmesh.publications ORDER BY published_at"
    ) == [("shop/ledger", 4), ("shop/totals", 2)]


BROKEN = {
    # mode: (the run's failure names, contract check outcome: None if the step failed before it)
    "negative": (["contract violated by shop/totals", "greater_than_or_equal_to"], False),
    "narrow": (["column 'entries': dtype(BIGINT) failed", "INTEGER"], False),
    "missing": (["missing column(s) 'first_booked'", "Nothing was published"], False),
    "boom": (["failed in the warehouse", "boom", "Nothing was published"], None),
    "frame": (["returned DataFrame", "returns a DuckDB relation", "Nothing was published"], None),
}


@pytest.mark.parametrize("mode", list(BROKEN))
def test_a_broken_relation_product_fails_its_run_and_keeps_the_last_good_version(
    settings, instance, failure, mode
):
    defs = shop(settings, totals)
    good = materialize(defs, instance, ["shop/ledger", "shop/totals"])
    assert good.success
    before = published(settings, "SELECT * FROM shop.totals ORDER BY account")
    log = published(settings, "SELECT * FROM _dagmesh.publications ORDER BY published_at")

    bad = materialize(
        defs,
        instance,
        ["shop/totals"],
        run_config={"resources": {"totals_query": {"config": {"mode": mode}}}},
    )

    assert bad.success is False
    text = failure(bad)
    for part in ["shop/totals", FINANCE, *BROKEN[mode][0]]:
        assert part in text, (part, text)
    assert published(settings, "SELECT * FROM shop.totals ORDER BY account") == before
    assert published(settings, "SELECT * FROM _dagmesh.publications ORDER BY published_at") == log
    latest = instance.get_latest_materialization_event(dg.AssetKey(["shop", "totals"]))
    assert latest is not None and latest.run_id == good.run_id
    evaluations = contract_check(bad, "shop/totals")
    if BROKEN[mode][1] is None:
        assert all(not e.passed for e in evaluations)
    else:
        (evaluation,) = evaluations
        assert evaluation.passed is False
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR


# -- a relation product read by pandas, with the contract's exact dtypes ---------------------------


class Invoices(pa.DataFrameModel):
    """Invoices, one per ledger entry."""

    invoice_id: Series[int] = pa.Field(unique=True, ge=0, description="Invoice id.")
    amount: Series[Money] = pa.Field(ge=Decimal("0"), description="Amount.")
    due: Series[Day] = pa.Field(description="Due.")
    issued_at: Series[UtcTime] = pa.Field(description="Issued at.")
    reminders: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0, description="Reminders.")
    account: Series[str] = pa.Field(description="Account.")


@data_product(
    contract=Invoices,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["ledger"],
)
def invoices(ledger: Relation) -> Relation:
    """Invoices, computed in the warehouse."""
    return query(
        """
        SELECT entry_id AS invoice_id, CAST(amount AS DECIMAL(15,2)) AS amount,
               CAST(booked_at AS DATE) + 30 AS due,
               TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(entry_id) AS issued_at,
               CASE WHEN entry_id = 2 THEN NULL ELSE entry_id - 1 END AS reminders,
               account
        FROM ledger
        """,
        ledger=ledger,
    )


@data_product(
    contract=Invoices,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["invoices"],
)
def invoice_copy(invoices: pd.DataFrame) -> pd.DataFrame:
    """The invoices, through pandas."""
    received["invoice_copy.invoices"] = invoices.copy()
    return invoices


class AccountTotals(pa.DataFrameModel):
    """Invoiced amounts per account."""

    account: Series[str] = pa.Field(unique=True, description="Account.")
    invoiced: Series[Total] = pa.Field(gt=Decimal("0"), description="Invoiced.")
    last_due: Series[Day] = pa.Field(description="Last due.")


@data_product(
    contract=AccountTotals,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["invoice_copy"],
)
def account_totals(invoice_copy: Relation) -> Relation:
    """Sums of a pandas-published table, in the warehouse: SUM of DECIMAL(15,2) is DECIMAL(38,2)."""
    return query(
        "SELECT account, SUM(amount) AS invoiced, MAX(due) AS last_due FROM invoice_copy "
        "GROUP BY account",
        invoice_copy=invoice_copy,
    )


def test_a_pandas_product_reads_a_relation_product_with_the_contracts_exact_dtypes(
    settings, instance
):
    defs = shop(settings, invoices, invoice_copy, account_totals)

    result = materialize(
        defs,
        instance,
        ["shop/ledger", "shop/invoices", "shop/invoice_copy", "shop/account_totals"],
    )

    assert result.success
    frame = received["invoice_copy.invoices"].sort_values("invoice_id").reset_index(drop=True)
    assert frame["invoice_id"].dtype == "int64"
    assert frame["amount"].dtype == pd.ArrowDtype(pyarrow.decimal128(15, 2))
    assert frame["due"].dtype == pd.ArrowDtype(pyarrow.date32())
    assert frame["issued_at"].dtype == pd.DatetimeTZDtype("ns", "UTC")
    assert frame["reminders"].dtype == pd.Int64Dtype()
    assert frame["account"].dtype == object
    assert frame["amount"].tolist() == [
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("2.50"),
        Decimal("4.00"),
    ]
    assert frame["due"].tolist() == [
        dt.date(2024, 2, 4),
        dt.date(2024, 2, 19),
        dt.date(2024, 3, 4),
        dt.date(2024, 4, 14),
    ]
    assert frame["issued_at"].tolist() == [
        pd.Timestamp(f"2024-01-01 0{h}:00", tz="UTC") for h in (1, 2, 3, 4)
    ]
    assert frame["reminders"].isna().tolist() == [False, True, False, False]
    assert frame["reminders"].dropna().tolist() == [0, 2, 3]
    Invoices.validate(frame)
    for key in ("shop/invoices", "shop/invoice_copy", "shop/account_totals"):
        (evaluation,) = contract_check(result, key)
        assert evaluation.passed is True, key
    assert published(settings, "SELECT * FROM shop.account_totals ORDER BY account") == [
        ("bank", Decimal("4.00"), dt.date(2024, 4, 14)),
        ("cash", Decimal("12.50"), dt.date(2024, 3, 4)),
    ]


class Regions(pa.DataFrameModel):
    """The five TPC-H regions."""

    r_regionkey: Series[int] = pa.Field(unique=True, ge=0, description="R regionkey.")
    r_name: Series[str] = pa.Field(
        isin=["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"], description="R name."
    )


@data_product(contract=Regions, owners=[FINANCE], access="public", version="1.0.0", slo=DAILY)
def regions(tpch: TpchSource) -> Relation:
    """Regions, straight from the TPC-H source as a relation (its INTEGER key widened to BIGINT)."""
    return tpch.relation("region").select("r_regionkey, r_name")


@data_product(
    contract=Regions,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=DAILY,
    inputs=["regions"],
)
def region_copy(regions: pd.DataFrame) -> pd.DataFrame:
    """Regions, through pandas."""
    return regions


def test_a_source_relation_is_published_and_read_by_pandas(settings, instance):
    defs = shop(settings, regions, region_copy)
    result = materialize(defs, instance, ["shop/regions", "shop/region_copy"])
    assert result.success
    assert published(settings, "SELECT * FROM shop.region_copy ORDER BY r_regionkey") == [
        (0, "AFRICA"),
        (1, "AMERICA"),
        (2, "ASIA"),
        (3, "EUROPE"),
        (4, "MIDDLE EAST"),
    ]


# -- access levels -------------------------------------------------------------------------------


class Prices(pa.DataFrameModel):
    sku: Series[int] = pa.Field(description="Part.")


def _prices(access: str, allowed: tuple[str, ...] = ()) -> DataProduct:
    @data_product(
        contract=Prices,
        owners=["team:supply"],
        access=access,
        version="1.0.0",
        slo=DAILY,
        allowed_consumers=allowed,
    )
    def prices() -> pd.DataFrame:
        """Negotiated prices."""
        return pd.DataFrame({"sku": [1, 2]})

    return prices


calls: list[str] = []


def _relation_view(name: str, ref: str) -> DataProduct:
    @data_product(
        contract=Prices,
        owners=["team:web"],
        access="internal",
        version="1.0.0",
        slo=DAILY,
        inputs={"prices": ref},
        name=name,
    )
    def view(prices: Relation) -> Relation:
        """Prices for the shop, in the warehouse."""
        calls.append(name)
        return query("SELECT sku FROM prices", prices=prices)

    return view


@pytest.mark.parametrize("access", ["private", "internal"])
def test_another_domains_unreadable_input_is_refused_at_run_time_for_a_relation_product(
    settings, instance, failure, access
):
    supply = domain_definitions(
        "supply", [_prices(access, allowed=("allowed_view",))], settings=settings
    )
    web = domain_definitions(
        "web", [_relation_view("price_view", "supply/prices")], settings=settings
    )
    assert materialize(supply, instance, ["supply/prices"]).success
    calls.clear()

    result = materialize(web, instance, ["web/price_view"])

    assert not result.success
    text = failure(result)
    for part in ("web/price_view", "team:web", "supply/prices", "team:supply", access, "refused"):
        assert part in text, part
    assert calls == []  # the product never ran: nothing was bound or read
    schemas = {
        s for (s,) in published(settings, "SELECT table_schema FROM information_schema.tables")
    }
    assert "web" not in schemas


def test_a_relation_product_reads_what_its_access_level_allows(settings, instance):
    supply = domain_definitions(
        "supply",
        [_prices("private", allowed=("allowed_view",)), _relation_view("allowed_view", "prices")],
        settings=settings,
    )
    result = materialize(supply, instance, ["supply/prices", "supply/allowed_view"])
    assert result.success
    assert published(settings, "SELECT sku FROM supply.allowed_view ORDER BY sku") == [(1,), (2,)]


# -- partitions ----------------------------------------------------------------------------------

MONTHS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")


class Monthly(pa.DataFrameModel):
    """Amounts per month and account."""

    month: Series[Day] = pa.Field(description="Month.")
    account: Series[str] = pa.Field(description="Account.")
    total: Series[float] = pa.Field(ge=0, description="Total.")
    run: Series[int] = pa.Field(description="Run.")

    class Config:
        unique = ["month", "account"]


class Stamp(dg.ConfigurableResource):
    """Which run wrote a row, and whether the run leaks rows of another month."""

    run: int = 1
    leak: bool = False


@data_product(
    contract=Monthly,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=32)),
    inputs=["ledger"],
    partitions_def=MONTHS,
    partition_column="month",
)
def monthly(context: dg.AssetExecutionContext, ledger: Relation, stamp: Stamp) -> Relation:
    """Amounts per month and account, one partition per month."""
    window = context.partition_time_window
    start = window.start.replace(tzinfo=None)
    end = window.end.replace(tzinfo=None) + (timedelta(days=40) if stamp.leak else timedelta(0))
    return query(
        "SELECT CAST(date_trunc('month', booked_at) AS DATE) AS month, account, "
        "SUM(amount) AS total, CAST(? AS BIGINT) AS run FROM ledger "
        "WHERE booked_at >= ? AND booked_at < ? GROUP BY ALL",
        [stamp.run, start, end],
        ledger=ledger,
    )


class MonthlyAccounts(pa.DataFrameModel):
    """How many accounts booked in each month."""

    month: Series[Day] = pa.Field(unique=True, description="Month.")
    accounts: Series[int] = pa.Field(gt=0, description="Accounts.")


@data_product(
    contract=MonthlyAccounts,
    owners=[FINANCE],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=32)),
    inputs=["monthly"],
    partitions_def=MONTHS,
    partition_column="month",
)
def monthly_accounts(monthly: Relation) -> Relation:
    """No window of its own: its partitioned input is read for the run's month only."""
    return query("SELECT month, COUNT(*) AS accounts FROM monthly GROUP BY month", monthly=monthly)


def monthly_domain(settings: MeshSettings) -> dg.Definitions:
    return domain_definitions(
        "shop",
        [ledger, monthly, monthly_accounts],
        resources={"stamp": Stamp()},
        settings=settings,
    )


def stamped(run: int, leak: bool = False) -> dict:
    return {"resources": {"stamp": {"config": {"run": run, "leak": leak}}}}


MONTHLY = "SELECT month, account, total, run FROM shop.monthly ORDER BY ALL"


def test_a_partitioned_relation_product_replaces_only_its_partition(settings, instance, failure):
    defs = monthly_domain(settings)
    assert materialize(defs, instance, ["shop/ledger"]).success
    for month in ("2024-01-01", "2024-02-01", "2024-03-01"):
        result = materialize(
            defs, instance, ["shop/monthly"], partition_key=month, run_config=stamped(1)
        )
        assert result.success, failure(result)
    again = materialize(
        defs, instance, ["shop/monthly"], partition_key="2024-02-01", run_config=stamped(2)
    )
    assert again.success
    (evaluation,) = contract_check(again, "shop/monthly")
    assert evaluation.passed is True
    jan, feb, mar = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)
    assert published(settings, MONTHLY) == [
        (jan, "bank", 0.0, 1),
        (jan, "cash", 10.0, 1),
        (feb, "cash", 2.5, 2),
        (mar, "bank", 4.0, 1),
    ]
    assert published(
        settings,
        "SELECT partition_key, row_count FROM _dagmesh.publications "
        "WHERE product = 'shop/monthly' ORDER BY published_at",
    ) == [("2024-01-01", 2), ("2024-02-01", 1), ("2024-03-01", 1), ("2024-02-01", 1)]

    # A run whose rows stray out of its month publishes nothing.
    before = published(settings, MONTHLY)
    leaked = materialize(
        defs, instance, ["shop/monthly"], partition_key="2024-02-01", run_config=stamped(3, True)
    )
    assert not leaked.success
    assert "in_partition(2024-02-01)" in failure(leaked)
    (evaluation,) = contract_check(leaked, "shop/monthly")
    assert evaluation.passed is False
    assert published(settings, MONTHLY) == before


def test_a_partitioned_relation_reads_its_partitioned_input_for_its_window_only(
    settings, instance, failure
):
    defs = monthly_domain(settings)
    assert materialize(defs, instance, ["shop/ledger"]).success
    for month in ("2024-01-01", "2024-03-01"):
        result = materialize(
            defs,
            instance,
            ["shop/monthly", "shop/monthly_accounts"],
            partition_key=month,
            run_config=stamped(1),
        )
        assert result.success, failure(result)
    assert published(settings, "SELECT * FROM shop.monthly_accounts ORDER BY month") == [
        (dt.date(2024, 1, 1), 2),
        (dt.date(2024, 3, 1), 1),
    ]


# -- declaration and binding errors -------------------------------------------------------------


def declare(fn: Callable[..., Any], inputs: list[str]) -> DataProduct:
    return data_product(
        contract=Prices,
        owners=[FINANCE],
        access="public",
        version="1.0.0",
        slo=DAILY,
        inputs=inputs,
    )(fn)


def test_a_dataframe_input_on_a_relation_product_is_refused_at_declaration():
    def prices_view(prices: pd.DataFrame) -> Relation:
        """Mixed up."""
        raise AssertionError("never called")

    with pytest.raises(ProductDefinitionError, match="input 'prices' is annotated as a DataFrame"):
        declare(prices_view, ["prices"])


def test_a_relation_input_on_a_pandas_product_is_refused_at_declaration():
    def prices_view(prices: Relation) -> pd.DataFrame:
        """Mixed up."""
        raise AssertionError("never called")

    with pytest.raises(ProductDefinitionError, match="input 'prices' is annotated as a Relation"):
        declare(prices_view, ["prices"])


def test_a_dataframe_input_is_refused_even_when_another_annotation_cannot_be_resolved():
    """With `from __future__ import annotations`, a resource typed by a name imported only under
    TYPE_CHECKING makes `typing.get_type_hints` fail; the annotations are then read as written, and
    `"pd.DataFrame"` must still be recognised as a DataFrame, as `"Relation"` is as a relation."""

    def prices_view(prices: pd.DataFrame, warehouse: TypeCheckingOnly) -> Relation:
        """Mixed up, beside an annotation only a type checker resolves."""
        raise AssertionError("never called")

    with pytest.raises(ProductDefinitionError, match="input 'prices' is annotated as a DataFrame"):
        declare(prices_view, ["prices"])


def test_query_mixing_a_relation_and_a_frame_fails_the_run(settings, instance, failure):
    @data_product(
        contract=Totals,
        owners=[FINANCE],
        access="public",
        version="1.0.0",
        slo=DAILY,
        inputs=["ledger"],
        name="mixed",
    )
    def mixed(ledger: Relation) -> Relation:
        """Joins a relation with a frame."""
        return query("SELECT * FROM ledger, extra", ledger=ledger, extra=pd.DataFrame({"x": [1]}))

    with pytest.raises(
        TypeError, match="an in-warehouse product receives every input as a relation"
    ):
        query("SELECT 1", r=duckdb.connect().sql("SELECT 1"), f=pd.DataFrame({"x": [1]}))
    result = materialize(shop(settings, mixed), instance, ["shop/ledger", "shop/mixed"])
    assert not result.success
    text = failure(result)
    assert "shop/mixed" in text and "TypeError" in text and "query() got relations" in text
    assert "Nothing was published" in text


def test_binding_two_relations_to_one_name_in_a_step_fails_the_run(
    settings, instance, failure, failure_causes
):
    @data_product(
        contract=Totals,
        owners=[FINANCE],
        access="public",
        version="1.0.0",
        slo=DAILY,
        inputs=["ledger"],
        name="rebound",
    )
    def rebound(ledger: Relation) -> Relation:
        """Names two different relations `ledger`."""
        cash = ledger.filter("account = 'cash'")
        bank = ledger.filter("account = 'bank'")
        first = query(TOTALS_SQL["good"], ledger=cash)
        second = query(TOTALS_SQL["good"], ledger=bank)
        return first.union(second)

    result = materialize(shop(settings, rebound), instance, ["shop/ledger", "shop/rebound"])
    assert not result.success
    assert "RelationBindingError" in failure_causes(result)
    assert "'ledger'" in failure(result)
    schemas = published(settings, "SELECT table_name FROM information_schema.tables")
    assert ("rebound",) not in schemas
