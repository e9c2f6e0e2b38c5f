"""Declarative products: a YAML data product (Dagster component) is the same product `@data_product`
makes, materializes through Dagster, and a malformed file fails with its file and line."""

from __future__ import annotations

import importlib
import sys
import textwrap
from datetime import date
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from dagmesh import domain_definitions
from dagmesh.location.components import ComponentDefinitionError, declared_products
from dagmesh.storage.settings import MeshSettings

GOOD = """\
type: dagmesh.location.components.DataProductComponent
attributes:
  name: brand_totals
  description: Units per brand.
  owners: [team:shop]
  access: public
  version: 1.2.0
  slo: {max_lag_hours: 26}
  inputs: [items]
  automation: eager
  columns:
    - {name: brand, type: str, description: Brand., unique: true, checks: {str_startswith: "B"}}
    - {name: units, type: int64, description: Units., checks: {ge: 0}}
  sql: SELECT brand, CAST(SUM(units) AS BIGINT) AS units FROM items GROUP BY brand ORDER BY brand
"""

ITEMS = """\
type: dagmesh.location.components.DataProductComponent
attributes:
  name: items
  description: Items sold.
  owners: [team:shop]
  access: internal
  version: 1.0.0
  slo: {max_lag_hours: 26}
  columns:
    - {name: brand, type: str, description: Brand.}
    - {name: units, type: int64, description: Units.}
  python: shop_logic:items
"""

BAD = """\
type: dagmesh.location.components.DataProductComponent
attributes:
  name: broken
  description: Broken.
  owners: [nobody]
  access: everyone
  version: "1"
  slo: {max_lag_hours: 26}
  columns:
    - {name: BadName, type: int64}
  sql: SELECT 1
"""


def _package(tmp_path, name: str, files: dict[str, str]):
    """A domain package `name` with a defs/ folder of component YAML files."""
    root = tmp_path / name
    (root / "src" / name / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    (root / "src" / name / "__init__.py").write_text("")
    (root / "src" / name / "defs" / "__init__.py").write_text("")
    for product, text in files.items():
        (root / "src" / name / "defs" / product).mkdir()
        (root / "src" / name / "defs" / product / "defs.yaml").write_text(text)
    sys.path.insert(0, str(root / "src"))
    return importlib.import_module(f"{name}.defs")


@pytest.fixture
def logic(tmp_path):
    (tmp_path / "shop_logic.py").write_text(
        textwrap.dedent(
            """
            import pandas as pd

            def items() -> pd.DataFrame:
                return pd.DataFrame({"brand": ["B1", "B2", "B1"], "units": [3, 4, 5]})
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))


def test_yaml_products_materialize_like_python_ones(tmp_path, logic):
    defs_module = _package(tmp_path, "shopyaml", {"brand_totals": GOOD, "items": ITEMS})
    products = {p.name: p for p in declared_products(defs_module)}
    assert set(products) == {"brand_totals", "items"}
    totals = products["brand_totals"]
    assert totals.version == "1.2.0" and totals.owners == ("team:shop",)
    assert totals.contract.column("brand").unique and totals.automation_condition is not None
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = domain_definitions("shop", list(products.values()), settings=settings)
    with dg.instance_for_test() as instance:
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT brand, units FROM shop.brand_totals ORDER BY brand").fetchall()
    assert rows == [("B1", 8), ("B2", 4)]


def test_malformed_yaml_is_reported_with_file_and_line(tmp_path):
    defs_module = _package(tmp_path, "shopbad", {"broken": BAD})
    with pytest.raises(ComponentDefinitionError) as raised:
        declared_products(defs_module)
    text = str(raised.value)
    assert "src/shopbad/defs/broken/defs.yaml:5: attributes.owners: owner(s) nobody" in text
    assert "defs.yaml:6: attributes.access" in text
    assert "defs.yaml:7: attributes.version" in text
    assert "defs.yaml:10: attributes.columns.0.name" in text


def test_the_logistics_domain_declares_a_product_in_yaml():
    from logistics import defs as declared

    names = {p.name for p in declared_products(declared)}
    assert "part_demand" in names


EXACT = """\
type: dagmesh.location.components.DataProductComponent
attributes:
  name: daily_sales
  description: Sales per day, in exact money.
  owners: [team:shop]
  access: public
  version: 1.0.0
  slo: {max_lag_hours: 26}
  columns:
    - {name: day, type: date, description: Day., unique: true}
    - {name: amount, type: "decimal(15,2)", description: Amount., checks: {gt: 0, le: 0.1}}
  sql: SELECT DATE '1995-03-15' AS day, CAST(0.10 AS DECIMAL(15,2)) AS amount
"""


def test_yaml_columns_declare_exact_decimal_and_date_types(tmp_path):
    """`date` and `decimal(p,s)` are the Arrow dtypes a Python contract declares; a decimal column's
    bounds are exact decimals (0.1 as written, not the float nearest to it), so 0.10 <= 0.1 holds."""
    defs_module = _package(tmp_path, "shopexact", {"daily_sales": EXACT})
    (product,) = declared_products(defs_module)
    contract = product.contract
    assert contract.column("day").duckdb_type == "DATE"
    assert contract.column("amount").duckdb_type == "DECIMAL(15,2)"
    assert contract.column("amount").checks[1].statistics == {"max_value": Decimal("0.1")}
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = domain_definitions("shop", [product], settings=settings)
    with dg.instance_for_test() as instance:
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT day, amount FROM shop.daily_sales").fetchall()
    assert rows == [(date(1995, 3, 15), Decimal("0.10"))]


@pytest.mark.parametrize(
    ("package", "type_"),
    [("shopwide", "decimal(39,2)"), ("shopscale", "decimal(5,6)"), ("shophalf", "float16")],
)
def test_unknown_yaml_column_types_are_refused_with_their_line(tmp_path, package, type_):
    text = EXACT.replace('type: "decimal(15,2)"', f'type: "{type_}"')
    defs_module = _package(tmp_path, package, {"daily_sales": text})
    with pytest.raises(ComponentDefinitionError) as raised:
        declared_products(defs_module)
    assert "defs.yaml:11: attributes.columns.1.type: unknown column type" in str(raised.value)
