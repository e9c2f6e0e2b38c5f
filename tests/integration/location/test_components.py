"""Declarative products: a YAML data product (Dagster component) is the same product `@data_product`
makes and materializes through Dagster, exact decimal and date columns included."""

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
from dagmesh.declare.product import DataProduct
from dagmesh.location.components import DataProductComponent
from dagmesh.storage.settings import MeshSettings
from tests.helpers.component_projects import EXACT, _project

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


def _components(project: Path) -> dict[str, DataProduct]:
    """The products the project's `DataProductComponent`s declare, as Dagster's loader builds them."""
    tree = dg.ComponentTree.for_project(project)
    return {c.name: c.product() for c in tree.get_all_components(DataProductComponent)}


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


SOURCED = """\
type: dagmesh.location.components.DataProductComponent
attributes:
  name: returned_lines
  description: Line items returned, per ship mode, straight from the TPC-H source.
  owners: [team:shop]
  access: public
  version: 1.0.0
  slo: {max_lag_hours: 26}
  sources: {lineitem: tpch.lineitem}
  unique_together: [l_shipmode]
  columns:
    - {name: l_shipmode, type: str, description: Ship mode.}
    - {name: lines, type: int64, description: Returned lines., checks: {gt: 0}}
    - {name: units, type: "decimal(38,2)", description: Units returned., checks: {gt: 0}}
  sql: |
    SELECT l_shipmode, COUNT(*) AS lines, SUM(l_quantity) AS units
    FROM lineitem WHERE l_returnflag = 'R' GROUP BY l_shipmode ORDER BY l_shipmode
"""


def test_a_yaml_sql_product_reads_its_sources_inside_the_warehouse(tmp_path):
    """`sources: {view: resource.table}` gives the SQL a source table as a relation of the domain's
    resource: the product is computed in DuckDB and equals the same query over the raw Parquet file."""
    from dagmesh import TpchSource
    from dagmesh.declare.product import ProductKind

    project = _project(tmp_path, "shopsourced", {"returned_lines": SOURCED})
    resources = project / "src" / "shopsourced" / "defs" / "resources.py"
    resources.write_text(
        "import dagster as dg\nfrom dagmesh import TpchSource\n\n\n@dg.definitions\n"
        "def resources():\n    return dg.Definitions(resources={'tpch': TpchSource.from_settings()})\n"
    )
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = load_domain(project, settings=settings)
    (product,) = declared_products(defs).values()
    assert product.kind is ProductKind.RELATION and product.resource_params == ("tpch",)
    with dg.instance_for_test() as instance:
        result = dg.materialize(defs.assets, resources=defs.resources, instance=instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        published = con.execute(
            "SELECT l_shipmode, lines, units FROM shopsourced.returned_lines ORDER BY l_shipmode"
        ).fetchall()
    raw = TpchSource.from_settings().query_files(
        "SELECT l_shipmode, COUNT(*), SUM(l_quantity) FROM lineitem WHERE l_returnflag = 'R' "
        "GROUP BY l_shipmode ORDER BY l_shipmode"
    )
    assert published == raw and len(published) == 7


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ("{lineitem: lineitem}", "must be 'resource.table'"),
        ("{Line: tpch.lineitem}", "lower_snake_case"),
        ("{items: tpch.lineitem}", "apart from the inputs"),
    ],
)
def test_yaml_sources_that_cannot_be_read_are_refused_when_the_location_loads(
    tmp_path, sources, message
):
    """A source that names no resource table, or collides with an input, stops the location with the
    product and the reason, before anything runs."""
    from dagmesh import ProductDefinitionError

    text = GOOD.replace("  sql:", f"  sources: {sources}\n  sql:")
    name = f"shopsources{abs(hash(sources)) % 1000}"
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(_project(tmp_path, name, {"brand_totals": text}))
    assert message in str(raised.value) and "brand_totals" in str(raised.value)


ITEMS_SQL = ITEMS.replace(
    "  python: shop_logic:items", "  sql: SELECT 'B1' AS brand, CAST(1 AS BIGINT) AS units"
)


def test_a_misspelled_yaml_input_names_the_yaml_file_and_line(tmp_path):
    """A load error points at the product at fault: the `defs.yaml` and the line of its `name:`, not
    the definitions module that loaded it; and a near miss gets the closest product's name."""
    from dagmesh import ProductDefinitionError

    # misspelled in its inputs and its SQL alike (SQL naming an undeclared table is refused first)
    misspelled = GOOD.replace("inputs: [items]", "inputs: [itemz]").replace(
        "FROM items", "FROM itemz"
    )
    project = _project(tmp_path, "shoptypo", {"brand_totals": misspelled, "items": ITEMS_SQL})
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project)
    message = str(raised.value)
    yaml_file = project / "src" / "shoptypo" / "defs" / "brand_totals" / "defs.yaml"
    assert f"at {yaml_file}:3 reads shoptypo/itemz" in message, message
    assert "did you mean 'shoptypo/items'?" in message


def test_a_python_products_load_error_names_its_file_and_line(tmp_path):
    """The same for a Python product in a project: its `@data_product(` line in product.py."""
    from dagmesh import ProductDefinitionError

    project = _project(tmp_path, "shoppy", {"items": ITEMS_SQL})
    folder = project / "src" / "shoppy" / "defs" / "totals"
    folder.mkdir()
    (folder / "product.py").write_text(
        textwrap.dedent(
            '''\
            from datetime import timedelta

            import pandas as pd
            import pandera.pandas as pa
            from pandera.typing import Series

            from dagmesh import SLO, data_product


            class Totals(pa.DataFrameModel):
                units: Series[int] = pa.Field(description="Units.")


            @data_product(
                contract=Totals,
                owners=["team:shop"],
                access="internal",
                version="1.0.0",
                slo=SLO(max_lag=timedelta(hours=26)),
                inputs=["item"],
            )
            def totals(items: pd.DataFrame) -> pd.DataFrame:
                """Units in total."""
                return items[["units"]]
            '''
        )
    )
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project)
    message = str(raised.value)
    assert f"at {folder / 'product.py'}:14 reads shoppy/item" in message, message
    assert "did you mean 'shoppy/items'?" in message and "function parameter" not in message


def test_a_defs_folder_without_init_files_never_loads_another_folders_yaml(tmp_path, monkeypatch):
    """Without `__init__.py` files the defs module is a namespace package that Python merges from
    every folder of its name on the path: a folder elsewhere (another checkout, the working directory)
    must not have its YAML loaded as this domain's products."""
    from dagmesh import ProductDefinitionError

    project = _project(tmp_path / "mine", "shopns", {"items": ITEMS_SQL})
    for init in ("src/shopns/__init__.py", "src/shopns/defs/__init__.py"):
        (project / init).unlink()
    decoy = tmp_path / "elsewhere"
    (decoy / "shopns" / "defs" / "strangers").mkdir(parents=True)
    (decoy / "shopns" / "defs" / "strangers" / "defs.yaml").write_text(
        ITEMS_SQL.replace("name: items", "name: strangers")
    )
    monkeypatch.syspath_prepend(str(decoy))
    for name in [m for m in sys.modules if m == "shopns" or m.startswith("shopns.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project)
    message = str(raised.value)
    assert "not one folder inside the project" in message and "__init__.py" in message, message
    assert str(decoy) in message
