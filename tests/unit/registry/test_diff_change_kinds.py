"""Breaking-change classification by `diff_contracts`: one row per kind of contract change with its
verdict (the table docs/contracts.md lists), the widening rules, and new guarantees verified against the
published data."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import dagster as dg
import duckdb
import pytest

from dagmesh import SLO
from dagmesh.registry import PublishedData, diff_contracts, is_widening
from tests.unit.registry.registry_specs import BASE, edit, product_doc, renamed

CASES: list[tuple[str, dict[str, Any], list[tuple[str, str | None, bool]]]] = [
    ("column removed", {"columns": edit(note=None)}, [("column_removed", "note", True)]),
    (
        "column renamed",
        {"columns": renamed("amount", "total")},
        [("column_renamed", "amount", True)],
    ),
    (
        "nullable column added",
        {"columns": edit(channel=("str", {"nullable": True}))},
        [("column_added_nullable", "channel", False)],
    ),
    (
        "required column added",
        {"columns": edit(channel=("str", {}))},
        [("column_added_required", "channel", False)],
    ),
    (
        "type narrowed BIGINT -> INTEGER",
        {
            "columns": edit(
                order_id=("int32", {"unique": True, "gt": 0, "description": "Order id."})
            )
        },
        [("type_narrowed", "order_id", True)],
    ),
    (
        "type narrowed DOUBLE -> FLOAT",
        {"columns": edit(amount=("float32", {"ge": 0, "description": "Order total."}))},
        [("type_narrowed", "amount", True)],
    ),
    (
        "type changed VARCHAR -> BIGINT",
        {"columns": edit(note=("int64", {"nullable": True, "description": "Free text."}))},
        [("type_changed", "note", True)],
    ),
    (
        "type widened INTEGER -> BIGINT",
        {"columns": edit(quantity=("int64", BASE["quantity"][1]))},
        [("type_widened", "quantity", False)],
    ),
    (
        "nullable -> required",
        {"columns": edit(note=("str", {"description": "Free text."}))},
        [("nullable_to_required", "note", True)],
    ),
    (
        "required -> nullable",
        {
            "columns": edit(
                amount=("float64", {"ge": 0, "nullable": True, "description": "Order total."})
            )
        },
        [("required_to_nullable", "amount", True)],
    ),
    (
        "new check (not verifiable without data)",
        {
            "columns": edit(
                note=(
                    "str",
                    {
                        "nullable": True,
                        "str_length": {"max_value": 200},
                        "description": "Free text.",
                    },
                )
            )
        },
        [("check_added", "note", True)],
    ),
    (
        "check tightened",
        {"columns": edit(amount=("float64", {"ge": 10, "description": "Order total."}))},
        [("check_tightened", "amount", True)],
    ),
    (
        "check loosened (isin grows)",
        {
            "columns": edit(
                status=("str", {"isin": ["F", "O", "P"], "description": "F(illed) or O(pen)."})
            )
        },
        [("check_loosened", "status", True)],
    ),
    (
        "range loosened",
        {
            "columns": edit(
                quantity=(
                    "int32",
                    {"in_range": {"min_value": 0, "max_value": 100}, "description": "Units."},
                )
            )
        },
        [("check_loosened", "quantity", True)],
    ),
    (
        "check removed",
        {"columns": edit(amount=("float64", {"description": "Order total."}))},
        [("check_removed", "amount", True)],
    ),
    (
        "unique dropped",
        {"columns": edit(order_id=("int64", {"gt": 0, "description": "Order id."}))},
        [("unique_dropped", "order_id", True)],
    ),
    (
        "unique added (not verifiable without data)",
        {
            "columns": edit(
                status=(
                    "str",
                    {"unique": True, "isin": ["F", "O"], "description": "F(illed) or O(pen)."},
                )
            )
        },
        [("unique_added", "status", True)],
    ),
    (
        "description changed",
        {"columns": edit(amount=("float64", {"ge": 0, "description": "Order total incl. tax."}))},
        [("description_changed", "amount", False)],
    ),
    (
        "access narrowed public -> internal",
        {"access": "internal"},
        [("access_narrowed", None, True)],
    ),
    (
        "SLO loosened",
        {"slo": SLO(max_lag=timedelta(days=3))},
        [("slo_loosened", None, True)],
    ),
    (
        "SLO tightened",
        {"slo": SLO(max_lag=timedelta(hours=2))},
        [("slo_tightened", None, False)],
    ),
    ("owners changed", {"owners": ["team:checkout"]}, [("owners_changed", None, False)]),
    (
        "PII classification added",
        {
            "columns": edit(
                note=(
                    "str",
                    {"nullable": True, "description": "Free text.", "metadata": {"pii": True}},
                )
            )
        },
        [("classification_changed", "note", False)],
    ),
    (
        "PII mask added",
        {
            "columns": edit(
                note=(
                    "str",
                    {
                        "nullable": True,
                        "description": "Free text.",
                        "metadata": {"pii": True, "mask": "sha256"},
                    },
                )
            )
        },
        [("classification_changed", "note", False), ("mask_changed", "note", True)],
    ),
    (
        "columns reordered",
        {"columns": dict(reversed(list(copy.deepcopy(BASE).items())))},
        [("columns_reordered", None, False)],
    ),
    (
        "multi-column uniqueness dropped",
        {"before_unique": ["order_id", "status"]},
        [("table_unique_dropped", None, True)],
    ),
    (
        "partitioned by a new column",
        {
            "columns": edit(day=("datetime64[ns]", {"nullable": True, "description": "Day."})),
            "partitions_def": dg.DailyPartitionsDefinition(start_date="2024-01-01"),
            "partition_column": "day",
        },
        [("column_added_nullable", "day", False), ("partitioning_changed", None, True)],
    ),
    (
        "allowed consumer removed",
        {"before_allowed": ["web/storefront"]},
        [("allowed_consumer_removed", None, True)],
    ),
    (
        "check changed in no comparable direction",
        {
            "columns": edit(
                status=("str", {"isin": ["F", "P"], "description": "F(illed) or O(pen)."})
            )
        },
        [("check_changed", "status", True)],
    ),
    (
        "pandas dtype changed, same storage type",
        {"columns": edit(order_id=("Int64", BASE["order_id"][1]))},
        [("pandas_dtype_changed", "order_id", False)],
    ),
    (
        "access widened internal -> public",
        {"before_access": "internal"},
        [("access_widened", None, False)],
    ),
    (
        "allowed consumer added",
        {"allowed_consumers": ["web/storefront"]},
        [("allowed_consumer_added", None, False)],
    ),
    ("version bump alone", {"version": "1.1.0"}, []),
]


@pytest.mark.parametrize(("case", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_contract_change_gets_its_verdict(case, change, expected):
    change = dict(change)
    before_unique = change.pop("before_unique", None)
    before_allowed = change.pop("before_allowed", ())
    before_access = change.pop("before_access", "public")
    old = product_doc(unique=before_unique, allowed_consumers=before_allowed, access=before_access)
    new = product_doc(**{"columns": BASE, **change})
    found = [(c.kind, c.column, c.breaking) for c in diff_contracts(old, new)]
    assert sorted(found, key=str) == sorted(expected, key=str), case


def test_the_table_covers_at_least_ten_kinds_both_verdicts():
    kinds = {kind for _, _, expected in CASES for kind, _, _ in expected}
    assert len(kinds) >= 10
    verdicts = {breaking for _, _, expected in CASES for _, _, breaking in expected}
    assert verdicts == {True, False}


def test_type_widening_rules():
    assert is_widening("INTEGER", "BIGINT") and is_widening("FLOAT", "DOUBLE")
    assert is_widening("UINTEGER", "BIGINT") and is_widening("INTEGER", "DOUBLE")
    assert not is_widening("BIGINT", "INTEGER") and not is_widening("BIGINT", "DOUBLE")
    assert not is_widening("UBIGINT", "BIGINT") and not is_widening("VARCHAR", "BIGINT")


def test_new_guarantees_are_verified_against_published_data():
    """A new check or uniqueness breaks only if the published rows violate it."""
    old = product_doc()
    new = product_doc(
        edit(
            amount=("float64", {"ge": 0, "le": 1000, "description": "Order total."}),
            status=(
                "str",
                {"unique": True, "isin": ["F", "O"], "description": "F(illed) or O(pen)."},
            ),
        )
    )
    con = duckdb.connect()
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.orders (order_id BIGINT, amount DOUBLE, status VARCHAR)")
    con.execute("INSERT INTO shop.orders VALUES (1, 10.0, 'F'), (2, 20.0, 'O')")
    verdicts = {c.kind: c for c in diff_contracts(old, new, PublishedData(con, "shop", "orders"))}
    assert not verdicts["check_added"].breaking and "satisfies" in verdicts["check_added"].detail
    assert not verdicts["unique_added"].breaking

    con.execute("INSERT INTO shop.orders VALUES (3, 5000.0, 'F')")
    verdicts = {c.kind: c for c in diff_contracts(old, new, PublishedData(con, "shop", "orders"))}
    assert (
        verdicts["check_added"].breaking and "1 published row(s)" in verdicts["check_added"].detail
    )
    assert verdicts["unique_added"].breaking

    # No published table: nothing to verify against, so the new guarantee is potentially breaking.
    missing = {c.kind: c for c in diff_contracts(old, new, PublishedData(con, "shop", "nothing"))}
    assert missing["check_added"].breaking and "potentially" in missing["check_added"].detail
