"""`dagmesh lint` over a temporary two-location workspace: every violation across locations, in process
and from the command line (errors exit 1, with a table naming product, owner, policy, severity and fix)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from dagmesh.tools.lint import lint_workspace


def test_lint_reports_every_violation_across_locations(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path / "home"))
    (tmp_path / "producer.py").write_text(
        textwrap.dedent(
            '''
            from datetime import timedelta
            import pandas as pd, pandera.pandas as pa
            from pandera.typing import Series
            from dagmesh import SLO, data_product, domain_definitions

            class Prices(pa.DataFrameModel):
                sku: Series[int] = pa.Field(description="Part.")

            @data_product(contract=Prices, owners=["team:supply"], access="internal", version="1.0.0",
                          slo=SLO(max_lag=timedelta(days=1)))
            def prices() -> pd.DataFrame:
                """Negotiated prices."""
                return pd.DataFrame({"sku": [1]})

            defs = domain_definitions("supply", [prices])
            '''
        )
    )
    (tmp_path / "consumer.py").write_text(
        textwrap.dedent(
            '''
            from datetime import timedelta
            import pandas as pd, pandera.pandas as pa
            from pandera.typing import Series
            from dagmesh import SLO, data_product, domain_definitions

            class View(pa.DataFrameModel):
                sku: Series[int]

            @data_product(contract=View, owners=["team:web"], access="public", version="1.0.0",
                          slo=SLO(max_lag=timedelta(days=1)), inputs=["supply/prices"])
            def price_view(prices: pd.DataFrame) -> pd.DataFrame:
                """Prices for the shop."""
                return prices

            defs = domain_definitions("web", [price_view])
            '''
        )
    )
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n"
        "  - python_file: {relative_path: producer.py, location_name: supply}\n"
        "  - python_file: {relative_path: consumer.py, location_name: web}\n"
    )
    violations = lint_workspace(tmp_path / "workspace.yaml")
    found = {(v.product, v.policy) for v in violations}
    assert ("web/price_view", "access-allowed") in found
    assert ("web/price_view", "public-columns-documented") in found
    assert all(v.product == "web/price_view" for v in violations)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGMESH_HOME"] = str(tmp_path / "home")
    cli = subprocess.run(
        [Path(sys.executable).parent / "dagmesh", "lint", "-w", tmp_path / "workspace.yaml"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1  # errors fail the command...
    for column in ("web/price_view", "team:web", "access-allowed", "error", "how to fix"):
        assert column in cli.stdout  # ...with a table naming product, owner, policy, severity, fix
    for module in ("_dagmesh_location_supply", "_dagmesh_location_web"):
        sys.modules.pop(module, None)
