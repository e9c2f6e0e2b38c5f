"""ODCS export and import: what the registry writes is valid for the standard's model and JSON schema
(every product of the sample domains, every committed registry file) and carries what consumers rely on;
a document reads back as the same pandera contract, one written elsewhere too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pandera.typing import Series

from dagmesh import SLO, data_product
from dagmesh.declare.contract import read_contract
from dagmesh.registry import from_odcs, to_odcs
from dagmesh.registry.odcs import ODCS_API_VERSION, normalized
from tests.helpers.odcs import ODCS_SCHEMA, schema_errors
from tests.unit.registry.registry_specs import Columns, edit, model, product_doc

ROOT = Path(__file__).resolve().parents[3]


# -- ODCS export: valid for the standard's model and JSON schema ----------------------------------


def _real_products():
    """Every product of the domain locations (Python and YAML), as each location loads it."""
    from dagmesh.binding.asset import declared_products
    from logistics.definitions import defs as logistics
    from marketing.definitions import defs as marketing
    from sales.definitions import defs as sales

    for location in (sales, logistics, marketing):
        for key, product in declared_products(location()).items():
            yield key.path[0], product


def test_odcs_export_validates_against_the_standard(mesh_home):
    docs = [normalized(to_odcs(product, domain)) for domain, product in _real_products()]
    assert len(docs) >= 10
    for doc in docs:
        assert doc["apiVersion"] == ODCS_API_VERSION
        assert ODCS_API_VERSION in ODCS_SCHEMA["properties"]["apiVersion"]["enum"]
        OpenDataContractStandard.model_validate(
            doc
        )  # the package's pydantic model (extra='forbid')
        assert schema_errors(doc) == [], doc["id"]
        # Round-trips through the model's own YAML without losing anything dagmesh wrote.
        again = OpenDataContractStandard.from_string(OpenDataContractStandard(**doc).to_yaml())
        assert again.model_dump(by_alias=True, exclude_none=True) == OpenDataContractStandard(
            **doc
        ).model_dump(by_alias=True, exclude_none=True)


def test_the_committed_registry_files_are_valid_odcs():
    files = sorted(ROOT.glob("domains/*/contracts/*/v*.odcs.yaml"))  # governance's included
    assert ROOT / "domains/governance/contracts/scorecard/v1.odcs.yaml" in files
    assert len(files) >= 10
    for path in files:
        doc = yaml.safe_load(path.read_text())
        OpenDataContractStandard.model_validate(doc)
        assert schema_errors(doc) == [], path


def test_the_schema_validation_is_not_vacuous():
    doc = product_doc()
    doc["schema"][0]["properties"][0]["nullable"] = False  # not an ODCS property name
    doc["kind"] = "Contract"
    errors = schema_errors(doc)
    assert any("kind" in e or "Contract" in e for e in errors)
    assert any("nullable" in e for e in errors)


def test_export_carries_what_consumers_rely_on():
    doc = product_doc(
        edit(
            note=(
                "str",
                {
                    "nullable": True,
                    "description": "Free text.",
                    "metadata": {"pii": True, "mask": "sha256"},
                },
            )
        ),
        unique=["order_id", "status"],
        access="internal",
        allowed_consumers=["web/storefront"],
        slo=SLO(max_lag=timedelta(hours=26), warn_after=timedelta(hours=24)),
    )
    assert (
        doc["id"] == "shop.orders" and doc["kind"] == "DataContract" and doc["status"] == "active"
    )
    assert doc["domain"] == "shop" and doc["dataProduct"] == "orders"
    assert doc["description"]["purpose"] == "Every order."
    assert doc["team"]["members"] == [{"username": "team:shop", "role": "owner"}]
    table = doc["schema"][0]
    assert table["physicalName"] == "shop.orders"
    props = {p["name"]: p for p in table["properties"]}
    assert (
        props["order_id"]["physicalType"] == "BIGINT"
        and props["order_id"]["logicalType"] == "integer"
    )
    assert props["order_id"]["required"] is True and props["order_id"]["unique"] is True
    assert props["note"]["required"] is False and props["note"]["classification"] == "pii"
    assert props["amount"]["quality"] == [
        {
            "name": "greater_than_or_equal_to",
            "description": "greater_than_or_equal_to(min_value=0)",
            "type": "custom",
            "engine": "pandera",
            "implementation": {
                "check": "greater_than_or_equal_to",
                "builtin": True,
                "statistics": {"min_value": 0},
            },
        }
    ]
    assert table["quality"][0]["metric"] == "duplicateValues"
    assert table["quality"][0]["arguments"] == {"properties": ["order_id", "status"]}
    assert doc["slaProperties"][0]["property"] == "latency"
    assert (doc["slaProperties"][0]["value"], doc["slaProperties"][0]["unit"]) == (26, "h")
    custom = {c["property"]: c["value"] for c in doc["customProperties"]}
    assert custom["access"] == "internal" and custom["allowedConsumers"] == ["web/storefront"]


# -- ODCS -> pandera ------------------------------------------------------------------------------


def _shape(contract):
    return (
        [
            (
                c.name,
                c.pandera_dtype,
                c.duckdb_type,
                c.nullable,
                c.unique,
                c.pii,
                c.mask,
                c.description,
                [(k.name, k.statistics) for k in c.checks],
            )
            for c in contract.columns
        ],
        contract.unique_together,
    )


def test_round_trip_keeps_columns_types_nullability_and_checks():
    for domain, product in _real_products():
        rebuilt = read_contract(from_odcs(normalized(to_odcs(product, domain))))
        assert _shape(rebuilt) == _shape(product.contract), product.name
        assert rebuilt.name == product.contract.name


def test_round_trip_of_pii_timestamps_and_every_builtin_check():
    columns: Columns = {
        "day": ("datetime64[ns]", {"ge": pd.Timestamp("1992-01-01"), "description": "Day."}),
        "email": (
            "str",
            {
                "str_matches": r"[^@]+@[^@]+",
                "str_length": {"min_value": 3, "max_value": 80},
                "metadata": {"pii": True, "mask": "sha256"},
            },
        ),
        "code": (
            "str",
            {"str_startswith": "C-", "str_endswith": "!", "str_contains": "x", "notin": ["C-0"]},
        ),
        "score": ("float64", {"lt": 1.0, "gt": 0.0, "ne": 0.5, "nullable": True}),
        "level": (
            "Int64",
            {"in_range": {"min_value": 0, "max_value": 9, "include_max": False}, "eq": 3},
        ),
    }
    contract = read_contract(model(columns, unique=["day", "code"]))
    doc = product_doc(columns, unique=["day", "code"])
    assert schema_errors(doc) == []
    assert _shape(read_contract(from_odcs(doc))) == _shape(contract)
    # The rebuilt model validates data like the original.
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["1991-05-01"]),
            "email": ["a@b"],
            "code": ["C-x!"],
            "score": [None],
            "level": pd.array([3], dtype="Int64"),
        }
    )
    with pytest.raises(pa.errors.SchemaError):
        from_odcs(doc).validate(frame)


def test_import_of_an_odcs_contract_written_elsewhere():
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "crm.accounts",
        "version": "2.0.0",
        "schema": [
            {
                "name": "accounts",
                "description": "CRM accounts.",
                "properties": [
                    {
                        "name": "id",
                        "logicalType": "integer",
                        "required": True,
                        "unique": True,
                        "logicalTypeOptions": {"minimum": 1},
                    },
                    {
                        "name": "tier",
                        "logicalType": "string",
                        "physicalType": "VARCHAR",
                        "quality": [
                            {
                                "metric": "invalidValues",
                                "mustBe": 0,
                                "arguments": {"validValues": ["gold", "silver"]},
                            }
                        ],
                    },
                    {"name": "opened", "logicalType": "date", "physicalType": "TIMESTAMP"},
                ],
            }
        ],
    }
    assert schema_errors(doc) == []
    contract = read_contract(from_odcs(doc))
    assert contract.name == "Accounts" and contract.description == "CRM accounts."
    by_name = {c.name: c for c in contract.columns}
    assert (
        by_name["id"].duckdb_type == "BIGINT"
        and by_name["id"].unique
        and not by_name["id"].nullable
    )
    assert [(k.name, k.statistics) for k in by_name["id"].checks] == [
        ("greater_than_or_equal_to", {"min_value": 1})
    ]
    assert [k.name for k in by_name["tier"].checks] == ["isin"] and by_name["tier"].nullable
    assert by_name["opened"].duckdb_type == "TIMESTAMP"


def test_custom_checks_are_exported_but_not_rebuilt():
    class WithCustom(pa.DataFrameModel):
        """Custom checks."""

        a: Series[int] = pa.Field(ge=0)

        @pa.check("a")
        def even(cls, series: pd.Series) -> pd.Series:
            return series % 2 == 0

    @data_product(
        contract=WithCustom,
        owners=["team:shop"],
        access="public",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(hours=1)),
    )
    def custom() -> pd.DataFrame:
        """Custom."""

    doc = normalized(to_odcs(custom, "shop"))
    assert schema_errors(doc) == []
    names = [q["name"] for q in doc["schema"][0]["properties"][0]["quality"]]
    assert names == ["greater_than_or_equal_to", "even"]
    with pytest.warns(UserWarning, match="'even'.*cannot be rebuilt"):
        rebuilt = read_contract(from_odcs(doc))
    assert [k.name for k in rebuilt.columns[0].checks] == ["greater_than_or_equal_to"]
