"""Every storage type goes into the registry with its exact physical and logical type and reads back as
the same types and checks; a document written elsewhere gets the type its physical type names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow
import pytest

from dagmesh.declare.contract import read_contract
from dagmesh.registry import from_odcs
from dagmesh.registry.odcs import (
    contract_column,
)
from tests.helpers.odcs import schema_errors
from tests.unit.registry.registry_models import (
    _shape,
    doc_of,
    model,
    props,
)

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
