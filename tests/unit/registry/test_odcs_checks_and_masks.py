"""The registry records every check of a contract: its name, built-in or custom, its statistics and its
body's fingerprint; for masked columns, the checks that hold after masking beside the ones audited before
it, and a masked contract never claims what its published values fail."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.engines import pandas_engine
from pandera.typing import Series

from dagmesh.declare.contract import REDACTED, SHA256_PATTERN, read_contract
from dagmesh.registry import from_odcs
from dagmesh.registry.odcs import (
    AUDITED,
    contract_column,
    custom_property,
    pandera_rules,
    quality_rules,
    unique_together,
)
from tests.unit.registry.registry_models import (
    Customers,
    _shape,
    doc_of,
    model,
    props,
)

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
