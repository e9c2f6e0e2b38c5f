"""`validate_frame` runs a Great Expectations suite over a frame: every expectation reports what it
observed, and a GX path that validates nothing fails loudly (the suite as an asset check, in a run, is in
tests/integration/binding/test_expectations.py)."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd
import pytest

from dagmesh.binding.expectations import ExpectationsNotEvaluatedError, validate_frame
from tests.helpers.gx_suites import suite


def test_a_gx_path_that_validates_nothing_fails_loudly():
    frame = pd.DataFrame({"order_id": [1, 2]})
    broken = [gx.expectations.ExpectColumnValuesToNotBeNull(column="no_such_column")]
    with pytest.raises(ExpectationsNotEvaluatedError, match="raised inside GX"):
        validate_frame("shop/orders", frame, broken)


def test_every_expectation_reports_observations():
    frame = pd.DataFrame({"order_id": [1, 2, None], "price": [1.0, 2.0, 3.0]})
    results = validate_frame("shop/orders", frame, suite())
    assert len(results) == 3
    by_type = {r.expectation: r for r in results}
    assert by_type["expect_column_values_to_not_be_null"].unexpected_count == 1
    assert by_type["expect_table_row_count_to_be_between"].observed == 3
