"""Check values in a contract diff: a changed regex, bounds of every type (decimal, date, timestamp)
moving in a direction and verified against published data, a built-in table check; checks and uniqueness
audited before masking, and adding a mask as one change."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from pandera.typing import Series

from dagmesh.registry import PublishedData, diff_contracts
from dagmesh.registry.odcs import (
    AUDITED,
    custom_property,
)
from tests.unit.registry.registry_models import (
    CappedV1,
    Customers,
    doc_of,
    model,
    props,
    verdicts,
)


def test_a_changed_regex_is_breaking_even_when_published_data_matches_it():
    old = doc_of(model({"code": ("str", {"str_matches": r"^C-\d$"})}))
    new = doc_of(model({"code": ("str", {"str_matches": r"^C-\d+$"})}))
    con = duckdb.connect()
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.orders AS SELECT 'C-1' AS code")
    changes = diff_contracts(old, new, PublishedData(con, "shop", "orders"))
    assert [(c.kind, c.column, c.breaking) for c in changes] == [("pattern_changed", "code", True)]
    assert "'^C-\\\\d$'" in changes[0].detail and "'^C-\\\\d+$'" in changes[0].detail


BOUNDS = [
    # (dtype, old field, new field, expected kind): typed statistics compare as values, not as text
    (
        pd.ArrowDtype(pyarrow.decimal128(15, 2)),
        {"ge": Decimal("9.00")},
        {"ge": Decimal("10.00")},
        "check_tightened",
    ),
    (
        pd.ArrowDtype(pyarrow.decimal128(15, 2)),
        {"le": Decimal("100.00")},
        {"le": Decimal("99.00")},
        "check_tightened",
    ),
    ("date", {"ge": dt.date(2000, 1, 1)}, {"ge": dt.date(1999, 12, 31)}, "check_loosened"),
    (
        "datetime64[ns]",
        {"lt": pd.Timestamp("2030-01-01")},
        {"lt": pd.Timestamp("2100-01-01")},
        "check_loosened",
    ),
    (
        pd.ArrowDtype(pyarrow.decimal128(15, 2)),
        {"in_range": {"min_value": Decimal("2.00"), "max_value": Decimal("10.00")}},
        {"in_range": {"min_value": Decimal("10.00"), "max_value": Decimal("10.00")}},
        "check_tightened",
    ),
]


@pytest.mark.parametrize(("dtype", "before", "after", "kind"), BOUNDS)
def test_bounds_of_every_type_move_in_a_direction(dtype, before, after, kind):
    changes = verdicts(doc_of(model({"x": (dtype, before)})), doc_of(model({"x": (dtype, after)})))
    assert changes == [(kind, "x", True)]


def test_a_tightened_bound_on_a_decimal_or_date_column_is_verified_against_published_data():
    old = doc_of(
        model(
            {
                "amount": (pd.ArrowDtype(pyarrow.decimal128(15, 2)), {"ge": Decimal("0.00")}),
                "day": ("date", {"ge": dt.date(1990, 1, 1)}),
            }
        )
    )
    new = doc_of(
        model(
            {
                "amount": (pd.ArrowDtype(pyarrow.decimal128(15, 2)), {"ge": Decimal("1.50")}),
                "day": ("date", {"ge": dt.date(2020, 1, 1)}),
            }
        )
    )
    con = duckdb.connect()
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.orders (amount DECIMAL(15,2), day DATE)")
    con.execute(
        "INSERT INTO shop.orders VALUES (1.50, DATE '2020-01-01'), (7.25, DATE '2024-05-01')"
    )
    data = PublishedData(con, "shop", "orders")
    assert verdicts(old, new, data) == [
        ("check_tightened", "amount", False),
        ("check_tightened", "day", False),
    ]
    con.execute("INSERT INTO shop.orders VALUES (1.49, DATE '2019-12-31')")
    found = {c.column: c for c in diff_contracts(old, new, data)}
    assert found["amount"].breaking and "1 published row(s) violate it" in found["amount"].detail
    assert found["day"].breaking and "1 published row(s) violate it" in found["day"].detail


def test_a_builtin_table_check_bound_is_compared_like_a_column_one():
    """pandera models declare table checks as custom functions; a document may hold a built-in one."""
    old = doc_of(CappedV1)
    table_rule = old["schema"][0]["quality"][0]
    table_rule["implementation"] = {
        "check": "in_range",
        "builtin": True,
        "statistics": {"min_value": 0, "max_value": 10},
    }
    new = copy.deepcopy(old)
    new["schema"][0]["quality"][0]["implementation"]["statistics"]["max_value"] = 20
    assert verdicts(old, new) == [("table_check_loosened", None, True)]
    new["schema"][0]["quality"][0]["implementation"]["statistics"]["max_value"] = 5
    assert verdicts(old, new) == [("table_check_tightened", None, True)]


def test_checks_audited_before_masking_are_compared_but_never_verified_on_masked_data():
    tighter = copy.deepcopy(doc_of(Customers))
    audited = custom_property(props(tighter)["email"], AUDITED)
    audited["quality"][1]["implementation"]["statistics"]["max_value"] = 50
    con = duckdb.connect()
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.orders AS SELECT 'x' AS email")
    changes = diff_contracts(doc_of(Customers), tighter, PublishedData(con, "shop", "orders"))
    assert [(c.kind, c.column, c.breaking) for c in changes] == [("check_tightened", "email", True)]
    assert "(audited before masking)" in changes[0].detail and "masked" in changes[0].detail


class CustomersNameNotUnique(Customers):
    __doc__ = Customers.__doc__
    name: Series[str] = pa.Field(
        str_length={"min_value": 2}, metadata={"pii": True, "mask": "redacted"}
    )


class CustomersTableCheckChanged(Customers):
    __doc__ = Customers.__doc__

    @pa.dataframe_check
    def few_ids(cls, frame: pd.DataFrame) -> bool:
        return frame["customer_id"].max() < 10**5


def test_uniqueness_audited_before_masking_is_compared():
    # The published values of a redacted column are never unique: the change is in what was audited.
    changes = diff_contracts(doc_of(Customers), doc_of(CustomersNameNotUnique))
    assert [(c.kind, c.column, c.breaking) for c in changes] == [("unique_dropped", "name", True)]
    assert "audited before masking" in changes[0].detail


def test_table_uniqueness_audited_before_masking_is_compared():
    old = doc_of(Customers)
    new = copy.deepcopy(old)
    audited = custom_property(new["schema"][0], AUDITED)["quality"]
    audited[0]["arguments"]["properties"] = ["name"]
    assert verdicts(old, new) == [
        ("table_unique_added", None, True),
        ("table_unique_dropped", None, True),
    ]


def test_a_masked_contracts_table_check_body_is_compared():
    assert verdicts(doc_of(Customers), doc_of(CustomersTableCheckChanged)) == [
        ("table_custom_check_changed", None, True)
    ]


def test_adding_a_mask_is_one_change_not_a_change_of_every_check():
    plain = model({"email": ("str", {"str_matches": "@", "metadata": {"pii": True}})})
    masked = model(
        {"email": ("str", {"str_matches": "@", "metadata": {"pii": True, "mask": "sha256"}})}
    )
    assert verdicts(doc_of(plain), doc_of(masked)) == [("mask_changed", "email", True)]
