"""A YAML product's checks must have values the column's values can be compared with, refused when the
location loads (naming the file, the column and the check), not when data arrives."""

from __future__ import annotations

import zlib

import pytest

from dagmesh import load_domain
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.location.components import check_value_problem
from tests.helpers.component_projects import EXACT, _project

GOOD = "checks: {gt: 0, le: 0.1}"


@pytest.mark.parametrize(
    ("checks", "says"),
    [
        ('checks: {gt: "zero"}', "'zero' is not a number"),
        ("checks: {isin: small}", "'small' is not a list of values"),
        ("checks: {isin: []}", "is not a list of values"),
        ('checks: {isin: [1, "two"]}', "'two' is not a number"),
        ("checks: {ge: .nan}", "NaN bounds nothing"),
        ("checks: {le: true}", "True is not a bound"),
        ("checks: {in_range: {min_value: 0}}", "write {min_value: ..., max_value: ...}"),
        ("checks: {in_range: {min_value: 0, max_value: x}}", "'x' is not a number"),
        ("checks: {str_startswith: a}", "a text check on a decimal(15,2) column"),
        ("checks: {eq: [1, 2]}", "is not a single value"),
    ],
)
def test_a_check_value_that_does_not_fit_the_column_stops_the_load(tmp_path, checks, says):
    text = EXACT.replace(GOOD, checks)
    assert text != EXACT
    # a package name of its own per case: a location's package is imported once per process
    name = f"shop_checks_{zlib.crc32(checks.encode())}"
    project = _project(tmp_path, name, {"daily_sales": text})
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project)
    message = str(raised.value)
    assert "column 'amount': check" in message and says in message, message
    assert "defs.yaml" in message


@pytest.mark.parametrize(
    ("check", "value", "column_type"),
    [
        ("gt", 0, "int64"),
        ("in_range", {"min_value": 0, "max_value": 1.5, "include_max": False}, "float64"),
        ("isin", ["A", "N", None], "str"),
        ("isin", [True], "bool"),
        ("le", "2024-01-31", "date"),
        ("str_matches", "^[A-Z]+$", "str"),
        ("str_length", {"min_value": 1, "max_value": 3}, "str"),
        ("str_length", 3, "str"),
        ("ne", "x", "str"),
    ],
)
def test_values_that_fit_are_accepted(check, value, column_type):
    assert check_value_problem(check, value, column_type) is None


@pytest.mark.parametrize(
    ("check", "value", "column_type", "says"),
    [
        ("str_matches", "([", "str", "is not a regular expression"),
        ("str_length", -1, "str", "whole numbers, 0 or more"),
        ("gt", 1, "str", "1 is not text"),
        ("lt", 3, "date", "3 is not a date"),
        ("gt", 1, "bool", "bool columns take isin/eq/ne"),
        ("isin", ["yes"], "bool", "'yes' is not true or false"),
    ],
)
def test_values_that_do_not_fit_say_why(check, value, column_type, says):
    problem = check_value_problem(check, value, column_type)
    assert problem is not None and says in problem
