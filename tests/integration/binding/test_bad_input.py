"""Bad input to a product's run gets a clear error naming the product, and loses nothing already
published: corrupt and mistyped sources, NaN/inf/huge values, unicode and SQL-looking values."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from dagmesh import SLO, data_product, domain_definitions
from dagmesh.storage.settings import MeshSettings
from tests.integration.measures import Measures

SOURCE: dict[str, object] = {}


@data_product(
    contract=Measures,
    owners=["team:ingest"],
    access="internal",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
)
def measures() -> pd.DataFrame:
    """Measures read from the source file the test points at."""
    path = SOURCE["path"]
    return pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)


@pytest.fixture
def ingest(tmp_path):
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = domain_definitions("ingest", [measures], settings=settings)
    good = tmp_path / "good.parquet"
    pd.DataFrame({"id": [1, 2], "amount": [1.5, 2.5], "label": ["a", "b"]}).to_parquet(good)
    SOURCE["path"] = good
    with dg.instance_for_test() as instance:
        assert _run(defs, instance).success
        yield defs, instance, settings


def _run(defs, instance):
    return dg.materialize(
        defs.assets, resources=defs.resources, instance=instance, raise_on_error=False
    )


def _failure_text(result) -> str:
    error = result.get_step_failure_events()[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def _published(settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute("SELECT id, amount, label FROM ingest.measures ORDER BY id").fetchall()


GOOD_ROWS = [(1, 1.5, "a"), (2, 2.5, "b")]


def test_corrupt_source_file_names_the_product_and_keeps_the_last_version(ingest, tmp_path):
    defs, instance, settings = ingest
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet at all")
    SOURCE["path"] = corrupt
    result = _run(defs, instance)
    assert not result.success
    text = _failure_text(result)
    assert "ingest/measures (owners: team:ingest) failed while computing" in text
    assert "Nothing was published" in text
    assert _published(settings) == GOOD_ROWS


def test_mistyped_csv_fails_the_dtype_check_with_samples(ingest, tmp_path):
    defs, instance, settings = ingest
    mistyped = tmp_path / "mistyped.csv"
    mistyped.write_text("id,amount,label\n1,1.5,a\nthree,2.5,b\n")
    SOURCE["path"] = mistyped
    result = _run(defs, instance)
    text = _failure_text(result)
    assert "ingest/measures" in text and "dtype(int64)" in text and "three" in text
    assert _published(settings) == GOOD_ROWS


@pytest.mark.parametrize(
    ("amount", "check"),
    [
        (np.nan, "not_nullable"),
        (np.inf, "less_than_or_equal_to"),
        (-np.inf, "greater_than_or_equal_to"),
        (1e300, "less_than_or_equal_to"),
    ],
)
def test_nan_inf_and_huge_values_fail_their_checks(ingest, tmp_path, amount, check):
    defs, instance, settings = ingest
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"id": [1, 2], "amount": [1.0, amount], "label": ["a", "b"]}).to_parquet(bad)
    SOURCE["path"] = bad
    result = _run(defs, instance)
    assert not result.success
    assert check in _failure_text(result)
    assert _published(settings) == GOOD_ROWS


def test_huge_ints_unicode_and_sql_looking_values_round_trip(ingest, tmp_path):
    defs, instance, settings = ingest
    labels = ["'; DROP TABLE ingest.measures; --", "naïve — 日本語 🚀", 'quote " and \\ backslash']
    ids = [2**62, 0, 2**40]
    odd = tmp_path / "odd.parquet"
    pd.DataFrame({"id": ids, "amount": [0.0, 1e11, 3.25], "label": labels}).to_parquet(odd)
    SOURCE["path"] = odd
    assert _run(defs, instance).success
    assert _published(settings) == sorted(zip(ids, [0.0, 1e11, 3.25], labels, strict=True))
