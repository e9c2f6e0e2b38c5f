"""Contracts dagmesh cannot hold or enforce are refused when they are declared, naming the product, and
so is a volume guard out of range."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pytest
from pandera.typing import Series

from dagmesh import SLO, ProductDefinitionError, data_product
from dagmesh.declare.contract import ContractDefinitionError, read_contract
from dagmesh.declare.volume import Volume


def test_malformed_contracts_fail_at_declaration_naming_the_product():
    class NotAModel:
        pass

    class Unstorable(pa.DataFrameModel):
        blob: Series[object] = pa.Field()
        when: Series[pd.Timedelta] = pa.Field()

    for contract, message in [(NotAModel, "DataFrameModel"), (Unstorable, "cannot store")]:
        with pytest.raises(ProductDefinitionError) as raised:
            data_product(
                contract=contract,
                owners=["team:x"],
                access="internal",
                version="1.0.0",
                slo=SLO(max_lag=timedelta(days=1)),
                name="broken_thing",
            )(lambda: pd.DataFrame())
        assert "broken_thing" in str(raised.value) and message in str(raised.value)


def test_contracts_dagmesh_cannot_enforce_are_refused_at_load():
    class Indexed(pa.DataFrameModel):
        idx: pa.typing.Index[int]
        a: Series[int]

    class Warn(pa.DataFrameModel):
        a: Series[int] = pa.Field(ge=0, raise_warning=True)

    class Anything(pa.DataFrameModel):
        a: Series[object]

    class UniqueList(pa.DataFrameModel):
        tags: Series[pd.ArrowDtype] = pa.Field(
            dtype_kwargs={"pyarrow_dtype": pyarrow.list_(pyarrow.int64())}, unique=True
        )

    class MixedValues(pa.DataFrameModel):
        day: Series[pd.Timestamp] = pa.Field(
            notin=[dt.date(2024, 3, 10), pd.Timestamp("2024-03-11")]
        )

    cases = [
        (MixedValues, "mixes date, datetime values"),
        (Indexed, "index"),
        (Warn, "only warns"),
        (Anything, "cannot store"),
        (UniqueList, "cannot be part of a uniqueness rule"),
    ]
    for model, message in cases:
        with pytest.raises(ContractDefinitionError, match=message):
            read_contract(model)


@pytest.mark.parametrize("max_drop", [-0.1, 1.5, float("nan")])
def test_a_volume_guard_out_of_range_is_refused_when_declared(max_drop):
    with pytest.raises(ProductDefinitionError, match="a fraction between 0 and 1"):
        Volume(max_drop=max_drop)
