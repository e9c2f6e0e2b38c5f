"""Custom checks in a contract diff: a changed body (its fingerprint) or changed arguments break, on
columns and on the table; a custom check borrowing a built-in's name is never read as the built-in; a
registry file written before fingerprints were recorded gets them compatibly."""

from __future__ import annotations

import copy

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh.declare.contract import read_contract
from dagmesh.registry import diff_contracts
from tests.unit.registry.registry_models import (
    DOC,
    CappedV1,
    doc_of,
    props,
    verdicts,
)


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
