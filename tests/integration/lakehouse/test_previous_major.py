"""After a major bump the previous major stays readable for consumers pinned to it, until its
deprecation date; then the governance `versions` monitor retires it. End to end through Dagster, on the
DuckDB file and on a lake with its catalog in PostgreSQL."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, Relation, data_product, domain_definitions, query
from dagmesh.governance.sensors import versions
from dagmesh.storage.engine import current_connection
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MajorNotServedError, MeshWarehouse
from tests.helpers.readers import TRUSTED

OWNERS = ["team:shop"]
DAY = SLO(max_lag=timedelta(days=1))
UNTIL = dt.date.today() + timedelta(days=10)


class OrdersV1(pa.DataFrameModel):
    order_id: Series[int] = pa.Field(unique=True, description="Order id.")
    amount: Series[float] = pa.Field(description="Amount.")


class OrdersV2(pa.DataFrameModel):
    order_id: Series[int] = pa.Field(unique=True, description="Order id.")
    total: Series[float] = pa.Field(description="Amount, renamed: a breaking change.")


class Sums(pa.DataFrameModel):
    orders: Series[int] = pa.Field(description="Orders read.")
    amount: Series[float] = pa.Field(description="Their amount.")


def _orders(version: str, kind: str = "pandas"):
    """The producer, in pandas or (`kind="relation"`) in the warehouse: a relation's major bump moves
    the previous table aside by a rename instead of a copy."""
    v1 = version.startswith("1.")
    declared = {"contract": OrdersV1 if v1 else OrdersV2, "owners": OWNERS, "access": "public"}
    declared.update(version=version, slo=DAY, **({} if v1 else {"deprecation_date": UNTIL}))
    amounts = [10.0, 20.0, 30.0] if v1 else [1.0, 2.0, 3.0, 4.0]
    column = "amount" if v1 else "total"  # v2 renames it: a breaking change
    if kind == "relation":

        @data_product(**declared)
        def orders() -> Relation:
            """The orders, as this major shapes them, built in the warehouse."""
            rows = ", ".join(f"({i}, {a})" for i, a in enumerate(amounts, 1))
            return current_connection().sql(
                f"SELECT order_id::BIGINT AS order_id, {column}::DOUBLE AS {column} "
                f"FROM (VALUES {rows}) AS o(order_id, {column})"
            )

    else:

        @data_product(**declared)
        def orders() -> pd.DataFrame:
            """The orders, as this major shapes them."""
            return pd.DataFrame({"order_id": range(1, len(amounts) + 1), column: amounts})

    return domain_definitions("shop", [orders])


@data_product(
    contract=Sums, owners=["team:ops"], access="public", version="1.0.0", slo=DAY,
    inputs={"orders": "shop/orders@1"},
)  # fmt: skip
def pandas_sums(orders: pd.DataFrame) -> pd.DataFrame:
    """What a consumer pinned to v1 reads, in pandas."""
    return pd.DataFrame({"orders": [len(orders)], "amount": [float(orders["amount"].sum())]})


@data_product(
    contract=Sums, owners=["team:ops"], access="public", version="1.0.0", slo=DAY,
    inputs={"orders": "shop/orders@1"},
)  # fmt: skip
def sql_sums(orders: Relation) -> Relation:
    """What a consumer pinned to v1 reads, in the warehouse."""
    return query(
        "SELECT COUNT(*)::BIGINT AS orders, SUM(amount) AS amount FROM orders", orders=orders
    )


def _run(defs: dg.Definitions, instance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*defs.assets, *(defs.asset_checks or [])],
        resources=defs.resources,
        instance=instance,
        raise_on_error=False,
    )


@pytest.fixture(params=["duckdb-file", "lake"])
def backend(request, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path / "home"))
    if request.param == "lake":
        server = request.getfixturevalue("postgres_server")
        monkeypatch.setenv("DAGMESH_WAREHOUSE", server.ducklake(server.create_database()))
        monkeypatch.setenv("DAGMESH_LAKE_DATA", str(tmp_path / "data") + "/")
    else:
        monkeypatch.delenv("DAGMESH_WAREHOUSE", raising=False)
    with dg.instance_for_test() as instance:
        yield instance, MeshWarehouse.from_settings(MeshSettings.from_env())


@pytest.mark.parametrize("producer", ["pandas", "relation"])
def test_pinned_consumers_read_the_previous_major_until_it_is_retired(backend, producer):
    instance, warehouse = backend
    consumers = domain_definitions("ops", [pandas_sums, sql_sums])
    assert _run(_orders("1.0.0", producer), instance).success
    assert _run(
        _orders("2.0.0", producer), instance
    ).success  # the major bump: v1 is kept beside it
    assert _run(consumers, instance).success
    for product in ("pandas_sums", "sql_sums"):
        frame = warehouse.read(("ops", product), reader=TRUSTED)
        assert frame.to_dict("records") == [{"orders": 3, "amount": 60.0}], product
    assert list(warehouse.read(("shop", "orders"), reader=TRUSTED).columns) == ["order_id", "total"]

    findings = versions(instance, warehouse, [])
    assert [(f.product, f.detail) for f in findings] == [
        ("shop/orders", f"serves @1 to pinned consumers until {UNTIL.isoformat()}")
    ]

    retired = warehouse.previous_majors(today=UNTIL + timedelta(days=1))
    assert retired == [("shop/orders", "retired shop/orders@1: past its deprecation date")]
    assert warehouse.previous_majors(today=UNTIL + timedelta(days=1)) == []
    failed = _run(consumers, instance)
    assert not failed.success
    messages = []
    for event in failed.get_step_failure_events():
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        messages.append(error.message)
    assert len(messages) == 2 and all("does not serve major 1" in m for m in messages), messages
    # the consumers' last good publication stays
    assert warehouse.read(("ops", "sql_sums"), reader=TRUSTED).to_dict("records") == [
        {"orders": 3, "amount": 60.0}
    ]


def test_a_pin_to_a_major_never_served_is_refused(backend):
    instance, warehouse = backend
    assert _run(_orders("2.0.0"), instance).success  # v2 first: there never was a v1 here
    with warehouse.get_connection() as con:
        from dagmesh.storage.warehouse import served_table

        with pytest.raises(MajorNotServedError, match="does not serve major 1"):
            served_table(con, ("shop", "orders"), 1, "ops/x")
        assert served_table(con, ("shop", "orders"), 2, "ops/x") == ("shop", "orders")
        assert served_table(con, ("shop", "orders"), None, "ops/x") == ("shop", "orders")
