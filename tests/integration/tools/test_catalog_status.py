"""The static catalog's live status, after real runs: last publish (time, version, rows) from the
warehouse's publication log, the contract result and last run from Dagster's instance, and freshness
against the SLO; shown on each product's card and as the outline of its node in the lineage graph."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from typer.testing import CliRunner

from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse
from dagmesh.tools.catalog_site import HTML_FILE, MARKDOWN_FILE
from dagmesh.tools.catalog_status import product_statuses
from dagmesh.tools.cli import app
from dagmesh.tools.lineage_svg import OUTLINE

COMMON = """
from datetime import timedelta

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions


class Ids(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, gt=0, description="Id.")
"""

SHOP = """
@data_product(contract=Ids, owners=["team:shop"], access="public", version="1.2.0",
              slo=SLO(max_lag=timedelta(hours=26)))
def orders() -> pd.DataFrame:
    \"\"\"Every order.\"\"\"
    return pd.DataFrame({"id": [1, 2, 3]})


defs = domain_definitions("shop", [orders])
"""

SHIP = """
@data_product(contract=Ids, owners=["team:ship"], access="public", version="1.0.0",
              slo=SLO(max_lag=timedelta(hours=26)), inputs=["shop/orders"])
def deliveries(orders: pd.DataFrame) -> pd.DataFrame:
    \"\"\"Every delivery: breaks its contract (an id of 0).\"\"\"
    return orders.assign(id=orders["id"] - 1)


defs = domain_definitions("ship", [deliveries])
"""

WORKSPACE = """
load_from:
  - python_file: {relative_path: shop.py, location_name: shop}
  - python_file: {relative_path: ship.py, location_name: ship}
"""

ORDERS = dg.AssetKey(["shop", "orders"])
DELIVERIES = dg.AssetKey(["ship", "deliveries"])


@pytest.fixture
def ran(mesh_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-domain project after `dagmesh run`: shop/orders published, ship/deliveries refused."""
    project = tmp_path / "project"
    project.mkdir()
    for name, body in {"shop": SHOP, "ship": SHIP}.items():
        (project / f"{name}.py").write_text(COMMON + textwrap.dedent(body))
    (project / "workspace.yaml").write_text(WORKSPACE)
    dagster_home = MeshSettings.from_env().ensure_dagster_home()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--workspace", str(project / "workspace.yaml")])
    assert result.exit_code == 1, result.output  # deliveries failed its contract
    return project


def test_the_catalog_shows_each_products_live_status(ran: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(
        app, ["catalog", "--workspace", str(ran / "workspace.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = (out / HTML_FILE).read_text()
    orders = html.split('id="product-shop-orders"', 1)[1].split("</section>", 1)[0]
    deliveries = html.split('id="product-ship-deliveries"', 1)[1].split("</section>", 1)[0]

    assert '<span class="badge health-ok">fresh, contract passed, last run success</span>' in orders
    assert "version 1.2.0, 3 rows</td>" in orders
    assert '<td class="state-ok">passed (latest check)</td>' in orders
    assert "fresh: updated 0.0 h ago, SLO allows 26.0 h" in orders
    # Refused: nothing published, the contract check and the run failed.
    assert "never published in this warehouse" in deliveries
    assert '<td class="state-bad">failed (latest check)</td>' in deliveries
    assert '<span class="state-bad">FAILURE</span>' in deliveries
    assert '<span class="badge health-bad">never published</span>' in deliveries
    # The graph outlines each node in its product's health.
    graph = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    node = graph.split('data-key="ship/deliveries">', 1)[1].split("</a>", 1)[0]
    assert f'stroke="{OUTLINE["bad"]}"' in node
    node = graph.split('data-key="shop/orders">', 1)[1].split("</a>", 1)[0]
    assert f'stroke="{OUTLINE["ok"]}"' in node
    assert "status as of " in html
    markdown = (out / MARKDOWN_FILE).read_text()
    assert "| Status | fresh, contract passed, last run success |" in markdown


def test_a_product_past_its_slo_is_stale(ran: Path) -> None:
    settings = MeshSettings.from_env()
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.dagster_home)))
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=30)
    with instance:
        statuses = product_statuses(
            [ORDERS, DELIVERIES], MeshWarehouse.from_settings(settings), instance, now=later
        )

    orders = statuses["shop/orders"]
    assert (orders.freshness, orders.health, orders.rows, orders.version) == (
        "stale",
        "warn",
        3,
        "1.2.0",
    )
    assert orders.age_hours is not None and 29.9 < orders.age_hours < 30.5
    assert orders.last_run_status == "SUCCESS"
    assert statuses["ship/deliveries"].contract == "failed"
    assert statuses["ship/deliveries"].last_run_status == "FAILURE"
