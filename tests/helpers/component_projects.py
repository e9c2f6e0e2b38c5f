"""Domain projects of YAML data products (Dagster components), written into a temporary folder, for the
unit and integration tests of `dagmesh.location.components`."""

from __future__ import annotations

import sys
from pathlib import Path


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
