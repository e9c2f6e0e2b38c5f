"""A YAML data product (Dagster component) as its domain's location loads it: a malformed file fails with
its file and line, an unknown column type is refused, and the logistics location holds its YAML product."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from dagmesh import load_domain
from dagmesh.binding.asset import declared_products
from dagmesh.core.errors import ProductDefinitionError
from tests.helpers.component_projects import EXACT, _project

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


def _load_error(project: Path) -> str:
    """The message of the error that stops the project's location from loading."""
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project)
    return str(raised.value)


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


def test_a_yaml_product_named_like_a_kept_previous_major_is_refused(tmp_path):
    text = _load_error(
        _project(
            tmp_path, "shopkept", {"orders__v1": BAD.replace("name: broken", "name: orders__v1")}
        )
    )
    assert "product name 'orders__v1': a name ending in __v<digits>" in text, text


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
