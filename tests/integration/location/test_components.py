"""Declarative products: a YAML data product (Dagster component) is the same product `@data_product`
makes, materializes through Dagster, and a malformed file fails with its file and line."""

from __future__ import annotations

import sys
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagmesh import load_domain
from dagmesh.binding.asset import declared_products
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.declare.product import DataProduct
from dagmesh.location.components import DataProductComponent
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


def _project(tmp_path, name: str, files: dict[str, str]) -> Path:
    """A domain project `name` (a `dg` project, root module `name`) with a defs/ folder of component
    YAML files, importable from its src/ folder; returns the project folder."""
    root = tmp_path / name
    (root / "src" / name / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\n\n[tool.dg]\ndirectory_type = "project"\n\n'
        f'[tool.dg.project]\nroot_module = "{name}"\n'
    )
    (root / "src" / name / "__init__.py").write_text("")
    (root / "src" / name / "defs" / "__init__.py").write_text("")
    for product, text in files.items():
        (root / "src" / name / "defs" / product).mkdir()
        (root / "src" / name / "defs" / product / "defs.yaml").write_text(text)
    sys.path.insert(0, str(root / "src"))
    return root


def _components(project: Path) -> dict[str, DataProduct]:
    """The products the project's `DataProductComponent`s declare, as Dagster's loader builds them."""
    tree = dg.ComponentTree.for_project(project)
    return {c.name: c.product() for c in tree.get_all_components(DataProductComponent)}


def _load_error(project: Path) -> str:
    """The message of the error that stops the project's location from loading."""
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project)
    return str(raised.value)


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
    project = _project(tmp_path, "shopyaml", {"brand_totals": GOOD, "items": ITEMS})
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = load_domain(project, settings=settings)
    products = {key.path[-1]: p for key, p in declared_products(defs).items()}
    assert set(products) == {"brand_totals", "items"}
    totals = products["brand_totals"]
    assert totals.version == "1.2.0" and totals.owners == ("team:shop",)
    assert totals.contract.column("brand").unique and totals.automation_condition is not None
    with dg.instance_for_test() as instance:
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "SELECT brand, units FROM shopyaml.brand_totals ORDER BY brand"
        ).fetchall()
    assert rows == [("B1", 8), ("B2", 4)]


def test_malformed_yaml_is_reported_with_file_and_line(tmp_path):
    """Dagster's loader validates the YAML with the component's own rules: every problem at once, each
    with its file and line (a column's at the line of `columns:`), named for the domain."""
    text = _load_error(_project(tmp_path, "shopbad", {"broken": BAD}))
    assert text.startswith("domain 'shopbad': its defs/ folder does not load")
    where = "src/shopbad/defs/broken/defs.yaml"
    assert (
        f"{where}:5`\n  Value error, owner 'nobody' must be 'team:name' or an email address" in text
    )
    assert f"{where}:6`\n  Value error, access 'everyone' must be one of public" in text
    assert f"{where}:7`\n  Value error, version '1' must be MAJOR.MINOR.PATCH" in text
    assert f"{where}:9`\n  Value error, column 'BadName' must be lower_snake_case" in text


def test_the_logistics_location_holds_its_yaml_product(mesh_home):
    """`logistics/part_demand` is declared in `defs/part_demand/defs.yaml`; the location Dagster loads
    holds it, built by its component, beside the Python products."""
    from logistics.definitions import defs as logistics

    defs = logistics()
    products = declared_products(defs)
    key = dg.AssetKey(["logistics", "part_demand"])
    assert key in products and dg.AssetKey(["logistics", "parts"]) in products
    assert products[key].fn.__module__.startswith("dagmesh.")  # the component's SQL function
    (spec,) = [s for s in defs.resolve_all_asset_specs() if s.key == key]
    origin = spec.metadata["dagster/component_origin"]
    assert origin.class_name == "DataProductComponent" and origin.instance.name == "part_demand"


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
    project = _project(tmp_path, "shopexact", {"daily_sales": EXACT})
    (product,) = _components(project).values()
    contract = product.contract
    assert contract.column("day").duckdb_type == "DATE"
    assert contract.column("amount").duckdb_type == "DECIMAL(15,2)"
    assert contract.column("amount").checks[1].statistics == {"max_value": Decimal("0.1")}
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = load_domain(project, settings=settings)
    with dg.instance_for_test() as instance:
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT day, amount FROM shopexact.daily_sales").fetchall()
    assert rows == [(date(1995, 3, 15), Decimal("0.10"))]


@pytest.mark.parametrize(
    ("package", "type_"),
    [("shopwide", "decimal(39,2)"), ("shopscale", "decimal(5,6)"), ("shophalf", "float16")],
)
def test_unknown_yaml_column_types_are_refused_with_their_line(tmp_path, package, type_):
    text = EXACT.replace('type: "decimal(15,2)"', f'type: "{type_}"')
    text = _load_error(_project(tmp_path, package, {"daily_sales": text}))
    # Dagster names the line of the `columns:` key (line 9), not the column's own line 11.
    assert f"src/{package}/defs/daily_sales/defs.yaml:9" in text
    assert "unknown column type" in text
