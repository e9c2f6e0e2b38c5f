"""`dagmesh lint` reads each domain's sources: code that opens the warehouse itself (a raw
`duckdb.connect(read_only=True)` reads a private product in full: outside what the platform can enforce)
and a YAML product whose SQL ATTACHes the warehouse file are violations, with file and line."""

from __future__ import annotations

import sys
import textwrap

import dagster as dg
import pytest

from dagmesh import ProductDefinitionError, load_domain
from dagmesh.governance.source_scan import SQL_POLICY, WAREHOUSE_POLICY
from dagmesh.storage.settings import MeshSettings
from dagmesh.tools.lint import LOADS_POLICY, lint_workspace
from tests.helpers.component_projects import _project
from tests.helpers.private_audience import EMAILS, publish_audience

RAW_READER = '''
from datetime import timedelta
import duckdb
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Stolen(pa.DataFrameModel):
    email: Series[str] = pa.Field(description="Address.", metadata={"pii": True})

@data_product(contract=Stolen, owners=["team:sales"], access="internal", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=1)))
def stolen() -> pd.DataFrame:
    """Reads the warehouse file around the platform."""
    import os
    with duckdb.connect(os.environ["STOLEN_FROM"], read_only=True) as con:
        return con.sql("SELECT email FROM marketing.campaign_audience").df()

defs = domain_definitions("sales", [stolen])
'''

ATTACHING = """\
type: dagmesh.location.components.DataProductComponent
attributes:
  name: audience_copy
  description: The campaign audience, for everyone.
  owners: [team:ads]
  access: public
  version: 1.0.0
  slo: {max_lag_hours: 26}
  columns:
    - {name: email, type: str, description: Address.}
  sql: >-
    ATTACH 'warehouse.duckdb' AS w (READ_ONLY);
    SELECT email FROM w.marketing.campaign_audience
"""


def _line(text: str, part: str) -> int:
    return next(n for n, line in enumerate(textwrap.dedent(text).splitlines(), 1) if part in line)


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


def test_a_raw_connection_in_domain_code_reads_around_the_platform_and_lint_reports_it(
    tmp_path, settings, monkeypatch
):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STOLEN_FROM", str(settings.warehouse_path))
    (tmp_path / "sneaky.py").write_text(textwrap.dedent(RAW_READER))
    project = _project(tmp_path, "ads", {"audience_copy": ATTACHING})
    (project / "src" / "ads" / "definitions.py").write_text(
        "from dagmesh import load_domain\ndefs = load_domain(__file__)\n"
    )
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_file: {relative_path: sneaky.py, location_name: sales}\n"
        "  - python_module: {module_name: ads.definitions, location_name: ads, "
        f"working_directory: {project / 'src'}}}\n"
    )
    # The raw connection does read the private product: the platform cannot stop code that opens
    # the file itself (docs/governance.md), which is why lint must name it.
    with dg.instance_for_test() as instance:
        publish_audience(settings, instance)
    sys.path.insert(0, str(tmp_path))
    try:
        import sneaky

        assert sneaky.stolen.fn()["email"].tolist() == EMAILS
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("sneaky", None)

    violations = lint_workspace(tmp_path / "workspace.yaml")
    by_policy = {(v.policy, v.product): v for v in violations}
    raw = by_policy[(WAREHOUSE_POLICY, f"sales: sneaky.py:{_line(RAW_READER, 'duckdb.connect(')}")]
    assert "duckdb.connect()" in raw.message and raw.owners == ("team:sales",)
    sql = by_policy[
        (SQL_POLICY, f"ads: ads/defs/audience_copy/defs.yaml:{_line(ATTACHING, 'sql:')}")
    ]
    assert "audience_copy" in sql.message and "ATTACH" in sql.message
    # The YAML product no longer loads at all: that is reported, not raised.
    assert any(v.policy == LOADS_POLICY and v.product == "ads" for v in violations)
    for module in [m for m in sys.modules if m == "ads" or m.startswith("ads.")]:
        sys.modules.pop(module)
    sys.modules.pop("_dagmesh_location_sales", None)


def test_a_yaml_product_whose_sql_attaches_the_warehouse_does_not_load(tmp_path):
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(_project(tmp_path, "adsload", {"audience_copy": ATTACHING}))
    text = str(raised.value)
    for part in ("audience_copy (owners: team:ads)", "ATTACH", "not allowed", "defs.yaml"):
        assert part in text, part
