"""The registry sees everything that changes a contract: exact storage types, every check (built-in or
custom, with its statistics and its body's fingerprint), masks; and `diff_contracts` classifies each
change (see also tests/test_contract_registry.py for the table of change kinds)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import warnings
from datetime import timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import duckdb
import jsonschema
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from open_data_contract_standard.model import OpenDataContractStandard
from pandera.engines import pandas_engine
from pandera.typing import Series

from dagmesh import SLO, data_product
from dagmesh.declare.contract import REDACTED, SHA256_PATTERN, read_contract
from dagmesh.registry import PublishedData, diff_contracts, from_odcs, is_widening, to_odcs
from dagmesh.registry.odcs import (
    AUDITED,
    contract_column,
    custom_property,
    normalized,
    pandera_rules,
    quality_rules,
    unique_together,
)

# pandera registers its backends on the first validation in a process, which grows the registry of
# every built-in check's dispatcher; `dagmesh.declare.contract._is_builtin` compares a schema's (deep-copied)
# registry with the current one, so a model whose schema was built before that first validation reads
# its built-ins as custom afterwards. Validate once first, so every model here is read the same way.
pa.DataFrameSchema({"x": pa.Column(float, pa.Check.ge(0))}).validate(pd.DataFrame({"x": [1.0]}))

ODCS_SCHEMA = json.loads(
    (resources.files("open_data_contract_standard") / "schema.json").read_text(encoding="utf-8")
)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(ODCS_SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def doc_of(contract: type[pa.DataFrameModel], **declared: Any) -> dict[str, Any]:
    """The registry document of a product `shop/orders` with this contract."""
    options: dict[str, Any] = {
        "owners": ["team:shop"],
        "access": "public",
        "version": "1.0.0",
        "slo": SLO(max_lag=timedelta(hours=26)),
    }
    options.update(declared)

    def orders() -> pd.DataFrame:
        """Every order."""

    doc = normalized(to_odcs(data_product(contract=contract, **options)(orders), "shop"))
    assert schema_errors(doc) == []
    OpenDataContractStandard.model_validate(doc)
    return doc


def model(columns: dict[str, tuple[Any, dict[str, Any]]], **config: Any) -> type[pa.DataFrameModel]:
    annotations = {n: Series[pandas_engine.Engine.dtype(t)] for n, (t, _) in columns.items()}
    fields = {n: pa.Field(**kw) for n, (_, kw) in columns.items()}
    return type(
        "Orders",
        (pa.DataFrameModel,),
        {
            "__annotations__": annotations,
            **fields,
            "Config": type("Config", (), config),
            "__doc__": "Orders.",
        },
    )


def verdicts(old: dict[str, Any], new: dict[str, Any], data: PublishedData | None = None):
    return sorted(((c.kind, c.column, c.breaking) for c in diff_contracts(old, new, data)), key=str)


def props(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["schema"][0]["properties"]}


def _shape(contract):
    return (
        [
            (
                c.name,
                c.pandera_dtype,
                c.duckdb_type,
                c.arrow_type,
                c.nullable,
                c.unique,
                c.pii,
                c.mask,
                [(k.name, k.builtin, k.statistics) for k in c.checks],
            )
            for c in contract.columns
        ],
        contract.unique_together,
    )


# -- every storage type: exported with its exact type, read back to the same types ----------------

TYPES: list[tuple[str, Any, str, str, dict[str, Any]]] = [
    (
        "decimal",
        pd.ArrowDtype(pyarrow.decimal128(15, 2)),
        "DECIMAL(15,2)",
        "number",
        {"ge": Decimal("0.00"), "le": Decimal("9999999999999.99")},
    ),
    ("date", "date", "DATE", "date", {"ge": dt.date(1992, 1, 1)}),
    (
        "date32",
        pd.ArrowDtype(pyarrow.date32()),
        "DATE",
        "date",
        {"isin": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]},
    ),
    ("ts_ns", "datetime64[ns]", "TIMESTAMP_NS", "timestamp", {"ge": pd.Timestamp("1992-01-01")}),
    (
        "ts_us",
        pd.ArrowDtype(pyarrow.timestamp("us")),
        "TIMESTAMP",
        "timestamp",
        {"lt": pd.Timestamp("2100-01-01 00:00:01")},
    ),
    (
        "ts_utc",
        pd.DatetimeTZDtype("ns", "UTC"),
        "TIMESTAMP WITH TIME ZONE",
        "timestamp",
        {"ge": pd.Timestamp("1992-01-01", tz="UTC")},
    ),
    (
        "ts_new_york",
        pd.DatetimeTZDtype("ns", "America/New_York"),
        "TIMESTAMP WITH TIME ZONE",
        "timestamp",
        {},
    ),
    (
        "ts_arrow_utc",
        pd.ArrowDtype(pyarrow.timestamp("us", tz="UTC")),
        "TIMESTAMP WITH TIME ZONE",
        "timestamp",
        {},
    ),
    ("int_list", pd.ArrowDtype(pyarrow.list_(pyarrow.int64())), "BIGINT[]", "array", {}),
    (
        "struct",
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64()), ("b c", pyarrow.string())])),
        'STRUCT(a BIGINT, "b c" VARCHAR)',
        "object",
        {},
    ),
    (
        "arrow_string",
        pd.StringDtype("pyarrow"),
        "VARCHAR",
        "string",
        {"str_matches": r"^[A-Z]+$"},
    ),
    ("nullable_int", "Int64", "BIGINT", "integer", {"in_range": {"min_value": 0, "max_value": 9}}),
    ("small_uint", "uint16", "USMALLINT", "integer", {"gt": 0}),
    ("float32", "float32", "FLOAT", "number", {"lt": 1.5}),
    ("masked_float", "Float64", "DOUBLE", "number", {}),
    ("flag", "boolean", "BOOLEAN", "boolean", {}),
]


@pytest.mark.parametrize(
    ("name", "dtype", "physical", "logical", "checks"), TYPES, ids=[t[0] for t in TYPES]
)
def test_every_type_round_trips_through_the_registry(name, dtype, physical, logical, checks):
    contract_model = model({name: (dtype, {"nullable": True, **checks})})
    contract = read_contract(contract_model)
    doc = doc_of(contract_model)  # valid for the standard's model and its JSON schema
    prop = props(doc)[name]
    assert (prop["physicalType"], prop["logicalType"]) == (physical, logical)
    assert contract.columns[0].duckdb_type == physical

    # The registry's reading of the column (what `dagmesh check` verifies data with) has the code's types.
    column, read = contract.columns[0], contract_column(prop)
    assert (read.pandera_dtype, read.duckdb_type, read.arrow_type) == (
        column.pandera_dtype,
        column.duckdb_type,
        column.arrow_type,
    )
    assert [(k.name, k.statistics) for k in read.checks] == [
        (k.name, k.statistics) for k in column.checks
    ]
    # The model rebuilt from the document is the same contract, typed statistics included.
    assert _shape(read_contract(from_odcs(doc))) == _shape(contract)


def test_a_contract_of_every_type_validates_against_the_odcs_schema():
    contract_model = model({name: (dtype, checks) for name, dtype, _, _, checks in TYPES})
    doc = doc_of(contract_model)
    assert [p["logicalType"] for p in doc["schema"][0]["properties"]] == [t[3] for t in TYPES]
    assert _shape(read_contract(from_odcs(doc))) == _shape(read_contract(contract_model))


def test_documents_written_elsewhere_get_the_type_their_physical_type_names():
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "crm.accounts",
        "version": "1.0.0",
        "schema": [
            {
                "name": "accounts",
                "properties": [
                    {"name": "balance", "logicalType": "number", "physicalType": "decimal(12, 3)"},
                    {"name": "opened", "logicalType": "date", "physicalType": "DATE"},
                    {"name": "seen", "logicalType": "timestamp", "physicalType": "TIMESTAMP_NS"},
                    {"name": "at", "logicalType": "timestamp", "physicalType": "TIMESTAMPTZ"},
                    {"name": "tags", "logicalType": "array", "physicalType": "VARCHAR[]"},
                    {"name": "n", "logicalType": "integer", "physicalType": "int4"},
                ],
            }
        ],
    }
    assert schema_errors(doc) == []
    types = {c.name: c.duckdb_type for c in read_contract(from_odcs(doc)).columns}
    assert types == {
        "balance": "DECIMAL(12,3)",
        "opened": "DATE",
        "seen": "TIMESTAMP_NS",
        "at": "TIMESTAMP WITH TIME ZONE",
        "tags": "VARCHAR[]",
        "n": "INTEGER",
    }


# -- every check is recorded: name, built-in or custom, statistics, fingerprint --------------------


class WithCustomChecks(pa.DataFrameModel):
    """Built-in and custom checks, one custom check borrowing a built-in's name, a table check."""

    amount: Series[float] = pa.Field(gt=0)
    code: Series[str] = pa.Field(str_matches=r"^C-\d+$")

    @pa.check("amount", name="greater_than", min_value=0)
    def positive(cls, series: pd.Series, min_value: float) -> pd.Series:
        return series > min_value

    @pa.check("amount", limit=1000)
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit

    @pa.dataframe_check(total=10**6)
    def small_total(cls, frame: pd.DataFrame, total: float) -> bool:
        return frame["amount"].sum() < total


def test_export_records_every_check_with_its_kind_statistics_and_fingerprint():
    contract = read_contract(WithCustomChecks)
    doc = doc_of(WithCustomChecks)
    rules = [r["implementation"] for r in props(doc)["amount"]["quality"]]
    fingerprints = {k.label: k.fingerprint for k in contract.columns[0].checks}
    assert rules == [
        {"check": "greater_than", "builtin": True, "statistics": {"min_value": 0}},
        {
            "check": "greater_than",
            "builtin": False,
            "statistics": {"min_value": 0},
            "fingerprint": fingerprints["greater_than(min_value=0) [custom]"],
        },
        {
            "check": "capped",
            "builtin": False,
            "statistics": {"limit": 1000},
            "fingerprint": fingerprints["capped(limit=1000) [custom]"],
        },
    ]
    assert all(len(f or "") == 16 for f in list(fingerprints.values())[1:])
    assert [r["description"] for r in props(doc)["amount"]["quality"]] == list(fingerprints)
    assert props(doc)["code"]["quality"][0]["implementation"]["statistics"] == {
        "pattern": r"^C-\d+$"
    }
    (table_rule,) = doc["schema"][0]["quality"]
    assert table_rule["implementation"] == {
        "check": "small_total",
        "builtin": False,
        "statistics": {"total": 10**6},
        "fingerprint": contract.frame_checks[0].fingerprint,
    }


def test_a_custom_check_with_a_builtin_name_is_not_rebuilt_as_the_builtin():
    doc = doc_of(WithCustomChecks)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rebuilt = read_contract(from_odcs(doc))
    assert sorted(str(w.message).split(":")[1].split(";")[0] for w in caught) == [
        " check 'capped' on 'amount' is a custom function and cannot be rebuilt from the document",
        " check 'greater_than' on 'amount' is a custom function and cannot be rebuilt from the "
        "document",
        " table check 'small_total' is a custom function and cannot be rebuilt from the document",
    ]
    checks = [(k.name, k.builtin) for k in rebuilt.columns[0].checks]
    assert checks == [("greater_than", True)]  # the built-in only, once


def test_compiled_regex_flags_are_kept():
    import re

    contract_model = model({"code": ("str", {"str_matches": re.compile("^c-", re.IGNORECASE)})})
    (rule,) = props(doc_of(contract_model))["code"]["quality"]
    assert rule["implementation"]["statistics"] == {"pattern": "(?i)^c-"}
    rebuilt = from_odcs(doc_of(contract_model))
    rebuilt.validate(pd.DataFrame({"code": ["C-1", "c-2"]}))


# -- masked columns: the published checks, and the ones audited before masking -------------------


class Customers(pa.DataFrameModel):
    """Customers, two of whose columns are published masked."""

    customer_id: Series[int] = pa.Field(unique=True, gt=0)
    email: Series[str] = pa.Field(
        unique=True,
        str_matches=r"^[^@]+@[^@]+$",
        str_length={"max_value": 80},
        metadata={"pii": True, "mask": "sha256"},
    )
    name: Series[str] = pa.Field(
        unique=True, str_length={"min_value": 2}, metadata={"pii": True, "mask": "redacted"}
    )
    segment: Series[str] = pa.Field(isin=["retail", "business"])

    @pa.dataframe_check
    def few_ids(cls, frame: pd.DataFrame) -> bool:
        return frame["customer_id"].max() < 10**6

    class Config:
        unique = ["name", "segment"]


def test_masked_columns_publish_what_holds_after_masking_and_list_what_was_audited():
    doc = doc_of(Customers)
    columns = props(doc)
    email, name = columns["email"], columns["name"]
    assert custom_property(email, "mask") == "sha256" and email["unique"] is True
    assert [r["implementation"] for r in email["quality"]] == [
        {"check": "str_matches", "builtin": True, "statistics": {"pattern": SHA256_PATTERN}}
    ]
    assert custom_property(name, "mask") == "redacted" and name["unique"] is False
    assert [r["implementation"] for r in name["quality"]] == [
        {"check": "isin", "builtin": True, "statistics": {"allowed_values": [REDACTED]}}
    ]
    audited = custom_property(email, AUDITED)
    assert audited["unique"] is True
    assert [r["description"] for r in audited["quality"]] == [
        "str_matches(pattern='^[^@]+@[^@]+$')",
        "str_length(max_value=80)",
    ]
    assert custom_property(name, AUDITED)["unique"] is True
    # The table: no uniqueness over a redacted column, no table checks (they read raw values); both
    # are listed as audited before masking.
    table = doc["schema"][0]
    assert "quality" not in table
    audited_table = custom_property(table, AUDITED)["quality"]
    assert audited_table[0]["arguments"] == {"properties": ["name", "segment"]}
    assert audited_table[1]["implementation"]["check"] == "few_ids"
    assert unique_together(table) == () and unique_together(table, as_produced=True) == (
        "name",
        "segment",
    )
    # The producer's model comes back from the document, masks and audited checks included.
    with pytest.warns(UserWarning, match="few_ids"):
        rebuilt = read_contract(from_odcs(doc))
    assert _shape(rebuilt) == _shape(read_contract(Customers))


def _schema(doc: dict[str, Any], *, as_produced: bool) -> pa.DataFrameSchema:
    """The pandera schema a document promises: on the published values, or on the values as produced."""
    table = doc["schema"][0]
    columns = {}
    for prop in table["properties"]:
        column = contract_column(prop, as_produced=as_produced)
        checks = [k.pandera_check for k in column.checks]
        assert all(checks), column.name  # every promise is one pandera can check
        columns[column.name] = pa.Column(
            pandas_engine.Engine.dtype(column.pandera_dtype),
            checks=checks,
            unique=column.unique,
            nullable=column.nullable,
        )
    unique = unique_together(table, as_produced=as_produced)
    return pa.DataFrameSchema(columns, unique=list(unique) or None)


def test_a_masked_contract_never_claims_what_the_published_values_fail():
    doc = doc_of(Customers)
    assert pandera_rules(quality_rules(doc["schema"][0])) == []  # no table check is published
    produced = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "email": ["a@example.com", "b@example.com", "c@example.com"],
            "name": ["Ann", "Bob", "Cy"],
            "segment": ["retail", "retail", "business"],
        }
    )
    Customers.validate(produced)
    published = produced.assign(
        email=[hashlib.sha256(e.encode()).hexdigest() for e in produced["email"]],
        name=REDACTED,
    )
    _schema(doc, as_produced=False).validate(published, lazy=True)
    # Not vacuous: the checks audited before masking fail on the masked values.
    with pytest.raises(pa.errors.SchemaErrors) as failed:
        _schema(doc, as_produced=True).validate(published, lazy=True)
    failures = set(failed.value.failure_cases["check"].astype(str))
    assert "str_matches('^[^@]+@[^@]+$')" in failures and "field_uniqueness" in failures


# -- classification --------------------------------------------------------------------------------


DOC = "Orders with a cap."


class CappedV1(pa.DataFrameModel):
    __doc__ = DOC

    amount: Series[float] = pa.Field(ge=0)

    @pa.check("amount", limit=1000)
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit

    @pa.dataframe_check(rows=100)
    def few_rows(cls, frame: pd.DataFrame, rows: int) -> bool:
        return len(frame) < rows


class CappedBody(pa.DataFrameModel):
    __doc__ = DOC  # CappedV1 with the body of `capped` changed (same name, same arguments)

    amount: Series[float] = pa.Field(ge=0)

    @pa.check("amount", limit=1000)
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series <= limit

    @pa.dataframe_check(rows=100)
    def few_rows(cls, frame: pd.DataFrame, rows: int) -> bool:
        return len(frame) < rows


class CappedArguments(pa.DataFrameModel):
    __doc__ = DOC  # CappedV1 with other arguments to `capped` and to the table check `few_rows`

    amount: Series[float] = pa.Field(ge=0)

    @pa.check("amount", limit=500)
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit

    @pa.dataframe_check(rows=50)
    def few_rows(cls, frame: pd.DataFrame, rows: int) -> bool:
        return len(frame) < rows


class FrameBody(pa.DataFrameModel):
    __doc__ = DOC  # CappedV1 with the body of the table check changed

    amount: Series[float] = pa.Field(ge=0)

    @pa.check("amount", limit=1000)
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit

    @pa.dataframe_check(rows=100)
    def few_rows(cls, frame: pd.DataFrame, rows: int) -> bool:
        return len(frame) <= rows


def _fingerprint(contract: type[pa.DataFrameModel]) -> str | None:
    return read_contract(contract).columns[0].checks[-1].fingerprint


def test_fingerprints_are_of_the_check_body_not_pandera_s_adapter():
    """pandera wraps a model's `@pa.check` in one generic adapter: two bodies must still differ."""
    assert _fingerprint(CappedV1) != _fingerprint(CappedBody)
    assert _fingerprint(CappedV1) == _fingerprint(CappedV1)


def test_a_changed_fingerprint_is_a_breaking_custom_change():
    """What the registry does with a body's fingerprint, whatever computes it."""
    old = doc_of(CappedV1)
    new = copy.deepcopy(old)
    props(new)["amount"]["quality"][1]["implementation"]["fingerprint"] = "0123456789abcdef"
    new["schema"][0]["quality"][0]["implementation"]["fingerprint"] = "fedcba9876543210"
    changes = diff_contracts(old, new)
    assert sorted((c.kind, c.column, c.breaking) for c in changes) == [
        ("custom_check_changed", "amount", True),
        ("table_custom_check_changed", None, True),
    ]
    assert "custom check capped changed its body (fingerprint " in changes[0].detail
    assert "-> 0123456789abcdef)" in changes[0].detail
    assert "may reject data it accepted, or accept data consumers relied on" in changes[0].detail


def test_a_custom_check_whose_body_changed_is_breaking():
    changes = diff_contracts(doc_of(CappedV1), doc_of(CappedBody))
    assert [(c.kind, c.column, c.breaking) for c in changes] == [
        ("custom_check_changed", "amount", True)
    ]
    assert "custom check capped changed its body" in changes[0].detail
    assert "may reject data it accepted, or accept data consumers relied on" in changes[0].detail


def test_custom_check_arguments_are_compared_on_columns_and_the_table():
    changes = diff_contracts(doc_of(CappedV1), doc_of(CappedArguments))
    assert sorted((c.kind, c.column, c.breaking) for c in changes) == [
        ("custom_check_changed", "amount", True),
        ("table_custom_check_changed", None, True),
    ]
    assert any(
        "capped(limit=1000) [custom] -> capped(limit=500) [custom]" in c.detail for c in changes
    )
    assert any(
        "few_rows(rows=100) [custom] -> few_rows(rows=50) [custom]" in c.detail for c in changes
    )


def test_a_table_check_whose_body_changed_is_breaking():
    assert verdicts(doc_of(CappedV1), doc_of(FrameBody)) == [
        ("table_custom_check_changed", None, True)
    ]


class BuiltinPositive(pa.DataFrameModel):
    amount: Series[float] = pa.Field(gt=0)


class CustomPositive(pa.DataFrameModel):
    amount: Series[float]

    @pa.check("amount", name="greater_than", min_value=0)
    def positive(cls, series: pd.Series, min_value: float) -> pd.Series:
        return series > min_value


class CustomPositiveOtherBody(pa.DataFrameModel):
    amount: Series[float]

    @pa.check("amount", name="greater_than", min_value=0)
    def positive(cls, series: pd.Series, min_value: float) -> pd.Series:
        return series >= min_value


def test_a_custom_check_borrowing_a_builtin_name_is_not_the_builtin():
    # Same name, same statistics: only "built-in or custom" tells them apart.
    assert verdicts(doc_of(BuiltinPositive), doc_of(CustomPositive)) == [
        ("check_added", "amount", True),
        ("check_removed", "amount", True),
    ]
    new = doc_of(CustomPositive)
    props(new)["amount"]["quality"][0]["implementation"]["fingerprint"] = "0123456789abcdef"
    assert verdicts(doc_of(CustomPositive), new) == [("custom_check_changed", "amount", True)]


def test_a_custom_check_borrowing_a_builtin_name_changes_its_body():
    # Its body changing is a custom change, never read as the built-in's bound moving.
    changes = diff_contracts(doc_of(CustomPositive), doc_of(CustomPositiveOtherBody))
    assert [(c.kind, c.breaking) for c in changes] == [("custom_check_changed", True)]


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


def test_a_registry_file_written_before_builtin_and_fingerprint_were_recorded():
    new = doc_of(CappedV1)
    old = copy.deepcopy(new)
    for rule in [*props(old)["amount"]["quality"], *old["schema"][0]["quality"]]:
        rule["implementation"].pop("builtin")
        rule["implementation"].pop("fingerprint", None)
    # Built-ins are recognised by name; custom checks had no fingerprint: recorded now, compatibly.
    assert verdicts(old, new) == [
        ("check_fingerprint_recorded", "amount", False),
        ("table_check_fingerprint_recorded", None, False),
    ]


# -- type changes ----------------------------------------------------------------------------------

DECIMAL_15_2 = pd.ArrowDtype(pyarrow.decimal128(15, 2))
TYPE_CHANGES = [
    ("DOUBLE -> DECIMAL(15,2)", "float64", DECIMAL_15_2, "type_changed", True),
    ("DECIMAL(15,2) -> DOUBLE", DECIMAL_15_2, "float64", "type_changed", True),
    (
        "DECIMAL(15,2) -> DECIMAL(18,2)",
        DECIMAL_15_2,
        pd.ArrowDtype(pyarrow.decimal128(18, 2)),
        "type_widened",
        False,
    ),
    (
        "DECIMAL(18,2) -> DECIMAL(15,2)",
        pd.ArrowDtype(pyarrow.decimal128(18, 2)),
        DECIMAL_15_2,
        "type_narrowed",
        True,
    ),
    (
        "DECIMAL(15,2) -> DECIMAL(16,3)",
        DECIMAL_15_2,
        pd.ArrowDtype(pyarrow.decimal128(16, 3)),
        "type_changed",
        True,
    ),
    (
        "DECIMAL(15,2) -> DECIMAL(15,1)",
        DECIMAL_15_2,
        pd.ArrowDtype(pyarrow.decimal128(15, 1)),
        "type_changed",
        True,
    ),
    (
        "INTEGER -> DECIMAL(10,0)",
        "int32",
        pd.ArrowDtype(pyarrow.decimal128(10, 0)),
        "type_widened",
        False,
    ),
    (
        "BIGINT -> DECIMAL(18,0)",
        "int64",
        pd.ArrowDtype(pyarrow.decimal128(18, 0)),
        "type_changed",
        True,
    ),
    ("TIMESTAMP_NS -> DATE", "datetime64[ns]", "date", "type_changed", True),
    ("DATE -> TIMESTAMP_NS", "date", "datetime64[ns]", "type_changed", True),
    (
        "TIMESTAMP -> TIMESTAMP_NS",
        pd.ArrowDtype(pyarrow.timestamp("us")),
        "datetime64[ns]",
        "type_changed",
        True,
    ),
    (
        "TIMESTAMP_NS -> TIMESTAMPTZ",
        "datetime64[ns]",
        pd.DatetimeTZDtype("ns", "UTC"),
        "type_changed",
        True,
    ),
    (
        "VARCHAR -> BIGINT[]",
        "str",
        pd.ArrowDtype(pyarrow.list_(pyarrow.int64())),
        "type_changed",
        True,
    ),
    (
        "INTEGER[] -> BIGINT[]",
        pd.ArrowDtype(pyarrow.list_(pyarrow.int32())),
        pd.ArrowDtype(pyarrow.list_(pyarrow.int64())),
        "type_widened",
        False,
    ),
    (
        "STRUCT(a INTEGER) -> STRUCT(a BIGINT)",
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int32())])),
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64())])),
        "type_widened",
        False,
    ),
    (
        "STRUCT(a BIGINT) -> STRUCT(b BIGINT)",
        pd.ArrowDtype(pyarrow.struct([("a", pyarrow.int64())])),
        pd.ArrowDtype(pyarrow.struct([("b", pyarrow.int64())])),
        "type_changed",
        True,
    ),
    ("INTEGER -> BIGINT", "int32", "int64", "type_widened", False),
    (
        "UTC -> New York, same storage",
        pd.DatetimeTZDtype("ns", "UTC"),
        pd.DatetimeTZDtype("ns", "America/New_York"),
        "pandas_dtype_changed",
        False,
    ),
]


@pytest.mark.parametrize(
    ("case", "before", "after", "kind", "breaking"), TYPE_CHANGES, ids=[t[0] for t in TYPE_CHANGES]
)
def test_type_changes_with_exact_types(case, before, after, kind, breaking):
    old = doc_of(model({"x": (before, {"nullable": True})}))
    new = doc_of(model({"x": (after, {"nullable": True})}))
    assert verdicts(old, new) == [(kind, "x", breaking)], case


def test_the_same_pandas_dtype_stored_at_a_finer_timestamp_unit_is_compatible():
    """Registry files written before exact types said TIMESTAMP for pandas datetime64[ns]."""
    new = doc_of(model({"day": ("datetime64[ns]", {})}))
    old = copy.deepcopy(new)
    props(old)["day"]["physicalType"] = "TIMESTAMP"
    assert verdicts(old, new) == [("type_widened", "day", False)]
    assert verdicts(new, old) == [("type_narrowed", "day", True)]


def test_widening_rules_for_exact_types():
    assert is_widening("DECIMAL(15,2)", "DECIMAL(18,2)") and is_widening(
        "DECIMAL(15, 2)", "DECIMAL(15,2)"
    )
    assert not is_widening("DECIMAL(18,2)", "DECIMAL(15,2)")
    assert not is_widening("DECIMAL(15,2)", "DECIMAL(18,3)")  # the scale is part of the meaning
    assert is_widening("INTEGER", "DECIMAL(10,0)") and not is_widening("INTEGER", "DECIMAL(9,0)")
    assert is_widening("UBIGINT", "DECIMAL(20,0)") and not is_widening("BIGINT", "DECIMAL(20,2)")
    assert not is_widening("DOUBLE", "DECIMAL(38,10)") and not is_widening(
        "DECIMAL(15,2)", "DOUBLE"
    )
    assert is_widening("INTEGER[]", "BIGINT[]") and not is_widening("BIGINT[]", "INTEGER[]")
    assert is_widening("STRUCT(a INTEGER, b VARCHAR)", "STRUCT(a BIGINT, b VARCHAR)")
    assert not is_widening("STRUCT(a BIGINT)", "STRUCT(a BIGINT, b VARCHAR)")
    assert not is_widening("TIMESTAMP", "TIMESTAMP_NS") and not is_widening(
        "TIMESTAMP_NS", "TIMESTAMP"
    )
    assert not is_widening("DATE", "TIMESTAMP") and not is_widening("VARCHAR", "BIGINT[]")
    assert not is_widening("NOT A TYPE", "BIGINT") and is_widening("NOT A TYPE", "not a type")
