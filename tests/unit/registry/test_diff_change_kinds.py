"""The contract registry: ODCS export and import, breaking-change classification, `dagmesh check/publish`."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import jsonschema
import pandas as pd
import pandera.pandas as pa
import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pandera.engines import pandas_engine
from pandera.typing import Series
from typer.testing import CliRunner

from dagmesh import SLO, ProductRef, data_product
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.declare.contract import read_contract
from dagmesh.registry import PublishedData, diff_contracts, from_odcs, is_widening, to_odcs
from dagmesh.registry.odcs import ODCS_API_VERSION, normalized
from dagmesh.tools.cli import app

ROOT = Path(__file__).resolve().parents[1]
# The JSON schema the ODCS package ships beside its model.
ODCS_SCHEMA = json.loads(
    (resources.files("open_data_contract_standard") / "schema.json").read_text(encoding="utf-8")
)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(ODCS_SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


# -- building contracts from small specs ----------------------------------------------------------

Columns = dict[str, tuple[str, dict[str, Any]]]

BASE: Columns = {
    "order_id": ("int64", {"unique": True, "gt": 0, "description": "Order id."}),
    "amount": ("float64", {"ge": 0, "description": "Order total."}),
    "status": ("str", {"isin": ["F", "O"], "description": "F(illed) or O(pen)."}),
    "quantity": ("int32", {"in_range": {"min_value": 1, "max_value": 50}, "description": "Units."}),
    "note": ("str", {"nullable": True, "description": "Free text."}),
}


def model(columns: Columns, unique: list[str] | None = None) -> type[pa.DataFrameModel]:
    annotations = {n: Series[pandas_engine.Engine.dtype(t)] for n, (t, _) in columns.items()}
    fields = {n: pa.Field(**kw) for n, (_, kw) in columns.items()}
    config = type("Config", (), {"unique": unique} if unique else {})
    return type(
        "Orders",
        (pa.DataFrameModel,),
        {"__annotations__": annotations, **fields, "Config": config, "__doc__": "Orders."},
    )


def product_doc(
    columns: Columns = BASE, unique: list[str] | None = None, **declared: Any
) -> dict[str, Any]:
    options = {
        "owners": ["team:shop"],
        "access": "public",
        "version": "1.0.0",
        "slo": SLO(max_lag=timedelta(hours=26)),
    }
    options.update(declared)

    def orders() -> pd.DataFrame:
        """Every order."""

    return normalized(
        to_odcs(data_product(contract=model(columns, unique), **options)(orders), "shop")
    )


def edit(**changes: tuple[str, dict[str, Any]] | None) -> Columns:
    """BASE with columns replaced (a tuple), removed (None) or added (a new name), in BASE's order."""
    columns = copy.deepcopy(BASE)
    for name, spec in changes.items():
        if spec is None:
            columns.pop(name)
        else:
            columns[name] = spec
    return columns


def renamed(old: str, new: str) -> Columns:
    return {(new if name == old else name): spec for name, spec in copy.deepcopy(BASE).items()}


# -- breaking-change classification: one row per kind of change -----------------------------------

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


# -- version pins on inputs -----------------------------------------------------------------------


def test_inputs_pin_a_major_version():
    assert ProductRef.parse("sales/orders@1") == ProductRef("sales", "orders", 1)
    assert ProductRef.parse("orders@12") == ProductRef(None, "orders", 12)
    assert ProductRef.parse("sales/orders") == ProductRef("sales", "orders", None)
    assert str(ProductRef.parse("sales/orders@2")) == "sales/orders@2"
    for bad in ("sales/orders@", "sales/orders@v1", "@1", "a/b/c@1"):
        with pytest.raises(ProductDefinitionError):
            ProductRef.parse(bad)


# -- dagmesh publish / check over a workspace -----------------------------------------------------

PRODUCER = '''
from datetime import date, timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Orders(pa.DataFrameModel):
    """Every order."""
    order_id: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    amount: Series[float] = pa.Field(ge=0, description="Order total.")
{extra}
@data_product(contract=Orders, owners=["team:shop"], access="public", version="{version}",
              slo=SLO(max_lag=timedelta(hours=26)){options})
def orders() -> pd.DataFrame:
    """Every order, as booked."""
    return pd.DataFrame({{"order_id": [1], "amount": [1.0]}})

defs = domain_definitions("shop", [orders])
'''

CONSUMER = '''
from datetime import timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Totals(pa.DataFrameModel):
    """Totals."""
    amount: Series[float] = pa.Field(description="Total.")

@data_product(contract=Totals, owners=["{owner}"], access="internal", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=2)), inputs=["shop/orders{pin}"])
def {name}(orders: pd.DataFrame) -> pd.DataFrame:
    """Totals from the shop's orders."""
    return orders[["amount"]]

defs = domain_definitions("{domain}", [{name}])
'''


@pytest.fixture
def mesh(tmp_path, monkeypatch):
    """A three-location workspace: shop produces orders; web reads it unpinned, finance pins @1."""
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "mesh"

    def write(domain: str, text: str) -> None:
        (root / "domains" / domain).mkdir(parents=True, exist_ok=True)
        (root / "domains" / domain / "definitions.py").write_text(textwrap.dedent(text))

    def producer(version: str = "1.0.0", extra: str = "", options: str = "") -> None:
        write("shop", PRODUCER.format(version=version, extra=extra, options=options))

    producer()
    write(
        "web",
        CONSUMER.format(owner="web-team@example.com", name="storefront", domain="web", pin=""),
    )
    write(
        "finance", CONSUMER.format(owner="team:finance", name="ledger", domain="finance", pin="@1")
    )
    (root / "workspace.yaml").write_text(
        "load_from:\n"
        + "".join(
            f"  - python_file: {{relative_path: domains/{d}/definitions.py, location_name: {d}}}\n"
            for d in ("shop", "web", "finance")
        )
    )
    yield root, producer
    for name in ("shop", "web", "finance"):
        sys.modules.pop(f"_dagmesh_location_{name}", None)


def dagmesh(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--workspace", str(root / "workspace.yaml")])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())


def test_check_fails_until_published(mesh):
    root, _ = mesh
    code, out = dagmesh(root, "check")
    assert code == 1 and "shop/orders is not in the contract registry" in out
    code, out = dagmesh(root, "publish")
    assert code == 0, out
    for domain, product in (("shop", "orders"), ("web", "storefront"), ("finance", "ledger")):
        assert (root / "domains" / domain / "contracts" / product / "v1.odcs.yaml").is_file()
    code, out = dagmesh(root, "check")
    assert code == 0 and "every contract matches the registry" in out


def test_breaking_change_without_bump_names_consumers_and_owners(mesh):
    root, _ = mesh
    assert dagmesh(root, "publish")[0] == 0
    published = (root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text()

    # amount dropped (and a minor bump, which does not make a removal compatible)
    (root / "domains/shop/definitions.py").write_text(
        (root / "domains/shop/definitions.py")
        .read_text()
        .replace('    amount: Series[float] = pa.Field(ge=0, description="Order total.")\n', "")
        .replace('version="1.0.0"', 'version="1.1.0"')
    )
    code, out = dagmesh(root, "check")
    assert code == 1
    assert (
        "shop/orders (owners: team:shop) has 1 breaking change(s) without a major version bump"
        in out
    )
    assert "column_removed (amount: consumers reading it break)" in out
    assert "web/storefront (owners: web-team@example.com)" in out
    assert "finance/ledger (owners: team:finance)" in out
    assert "Bump the version to 2.0.0" in out

    # publish refuses to record the break: the registry still holds v1 as published
    code, out = dagmesh(root, "publish")
    assert code == 1 and "refused" in out
    assert (root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text() == published


def test_compatible_change_passes_and_asks_to_publish(mesh):
    root, producer = mesh
    assert dagmesh(root, "publish")[0] == 0
    producer(
        version="1.1.0",
        extra='    channel: Series[str] = pa.Field(nullable=True, description="Sales channel.")\n',
    )
    code, out = dagmesh(root, "check")
    assert code == 0 and "unpublished changes" in out and "run `dagmesh publish`" in out
    assert dagmesh(root, "publish")[0] == 0
    doc = yaml.safe_load((root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text())
    assert doc["version"] == "1.1.0"
    assert "up to date" in dagmesh(root, "check")[1]


def test_major_bump_keeps_the_old_major_and_warns_its_consumers(mesh):
    root, producer = mesh
    assert dagmesh(root, "publish")[0] == 0
    v1 = root / "domains/shop/contracts/orders/v1.odcs.yaml"

    producer(version="2.0.0", options=", deprecation_date=date(2999, 1, 31)")
    source = root / "domains/shop/definitions.py"
    source.write_text(
        source.read_text().replace(
            '    amount: Series[float] = pa.Field(ge=0, description="Order total.")\n', ""
        )
    )
    code, out = dagmesh(root, "check")
    assert code == 0, out
    assert "new major" in out and "v1 stays published until 2999-01-31" in out
    assert "finance/ledger (owners: team:finance) accepts shop/orders@1, which is deprecated" in out
    assert "web/storefront reads shop/orders without a major pin and follows it to v2" in out

    code, out = dagmesh(root, "publish")
    assert code == 0, out
    v2 = root / "domains/shop/contracts/orders/v2.odcs.yaml"
    assert v1.is_file() and v2.is_file()
    old = yaml.safe_load(v1.read_text())
    assert old["version"] == "1.0.0" and old["status"] == "deprecated"
    assert {"property": "deprecationDate", "value": "2999-01-31"} in old["customProperties"]
    assert [p["name"] for p in old["schema"][0]["properties"]] == ["order_id", "amount"]
    assert yaml.safe_load(v2.read_text())["version"] == "2.0.0"
    code, out = dagmesh(root, "check")
    assert code == 0 and "accepts shop/orders@1, which is deprecated" in out

    # After the deprecation date, a consumer still pinned to the old major is an error.
    source.write_text(source.read_text().replace("date(2999, 1, 31)", "date(2000, 1, 31)"))
    code, out = dagmesh(root, "check")
    assert code == 1
    assert (
        "finance/ledger (owners: team:finance) still accepts only shop/orders@1, deprecated since 2000-01-31"
        in out
    )


def test_export_writes_valid_odcs(mesh, tmp_path):
    root, _ = mesh
    code, out = dagmesh(root, "export", "--format", "odcs", "--out", str(tmp_path / "out"))
    assert code == 0, out
    files = sorted((tmp_path / "out").rglob("*.odcs.yaml"))
    assert [f.relative_to(tmp_path / "out").as_posix() for f in files] == [
        "finance/ledger.odcs.yaml",
        "shop/orders.odcs.yaml",
        "web/storefront.odcs.yaml",
    ]
    for path in files:
        assert schema_errors(yaml.safe_load(path.read_text())) == []
    code, out = dagmesh(root, "export", "--format", "csv", "--out", str(tmp_path / "out"))
    assert code == 2 and "csv" in out


def test_the_real_workspace_passes_check(tmp_path):
    """CI's `dagmesh check`: every committed contract matches its code. In a subprocess, so loading the
    real code locations here leaves no module (and no warehouse setting) behind for other tests."""
    env = {**os.environ, "DAGMESH_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagmesh"), "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every contract matches the registry" in done.stdout


def test_verify_data_lets_a_new_check_the_published_table_meets_pass(mesh, tmp_path):
    root, _ = mesh
    assert dagmesh(root, "publish")[0] == 0
    source = root / "domains/shop/definitions.py"
    source.write_text(source.read_text().replace("pa.Field(ge=0,", "pa.Field(ge=0, le=100,"))
    (tmp_path / "home").mkdir()
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA shop")
        con.execute("CREATE TABLE shop.orders (order_id BIGINT, amount DOUBLE)")
        con.execute("INSERT INTO shop.orders VALUES (1, 42.0)")

    code, out = dagmesh(root, "check")
    assert code == 1 and "potentially breaking" in out
    code, out = dagmesh(root, "check", "--verify-data")
    assert code == 0 and "unpublished changes" in out

    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb")) as con:
        con.execute("INSERT INTO shop.orders VALUES (2, 500.0)")
    code, out = dagmesh(root, "check", "--verify-data")
    assert (
        code == 1 and "less_than_or_equal_to(max_value=100): 1 published row(s) violate it" in out
    )


CAPPED = """
    @pa.check("amount", limit={limit})
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit
"""


def test_a_changed_custom_check_is_breaking_and_names_consumers(mesh):
    root, producer = mesh
    producer(extra=CAPPED.format(limit=1000))
    assert dagmesh(root, "publish")[0] == 0
    doc = yaml.safe_load((root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text())
    (capped,) = [
        q["implementation"]
        for p in doc["schema"][0]["properties"]
        for q in p.get("quality", [])
        if q["name"] == "capped"
    ]
    assert capped["builtin"] is False and len(capped["fingerprint"]) == 16

    producer(version="1.1.0", extra=CAPPED.format(limit=500))
    code, out = dagmesh(root, "check")
    assert code == 1
    assert "custom_check_changed (amount: custom check capped changed its arguments" in out
    assert "web/storefront (owners: web-team@example.com)" in out
    assert "finance/ledger (owners: team:finance)" in out
