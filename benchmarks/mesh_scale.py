"""A generated workspace of D domains x P products: code-location load, `dagmesh lint`, a governance tick."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

DOMAIN_TEMPLATE = """
from datetime import timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Row(pa.DataFrameModel):
    id: Series[int] = pa.Field(unique=True, ge=0, description="Row id.")
    value: Series[float] = pa.Field(ge=0, description="A value.")

PRODUCTS = []
"""

PRODUCT_TEMPLATE = '''
@data_product(contract=Row, owners=["team:{domain}"], access="public", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=1)), inputs={inputs}, name="{name}")
def _p{index}({params}) -> pd.DataFrame:
    """Generated product {index} of {domain}."""
    return pd.DataFrame({{"id": [1, 2], "value": [1.0, 2.0]}})
PRODUCTS.append(_p{index})
'''

MEASURE = """
import json, sys, time, os
from pathlib import Path
t0 = time.perf_counter()
from dagmesh.binding.workspace import load_workspace
import dagmesh.tools.lint as lint
t1 = time.perf_counter()
locations = load_workspace(Path(sys.argv[1]))
t2 = time.perf_counter()
violations = lint.lint_workspace(Path(sys.argv[1]))
t3 = time.perf_counter()

import dagster as dg
from dagmesh import MeshWarehouse
from dagmesh.storage.warehouse import PublishTarget
from dagmesh.governance.sensors import slo_sensor, quality_sensor, drift_sensor
import pandas as pd
warehouse = MeshWarehouse(database=sys.argv[2])
with warehouse.get_connection() as con:
    pass
products = sorted({k for d in locations.values() for k in d.resolve_asset_graph().materializable_asset_keys})
for index, key in enumerate(products):
    # every tenth product is past its SLO, so the SLO tick finds, stores and reports something
    lag = 1e-3 if index % 10 == 0 else 86400.0
    warehouse.publish(PublishTarget(key.to_user_string(), (key.path[0], key.path[1]), None, ("team:x",), "1.0.0",
                                    max_lag_seconds=lag), pd.DataFrame({"id": [1], "value": [1.0]}))
ticks, findings = {}, {}
with dg.instance_for_test() as instance:
    for key in products:  # the instance knows every product's last materialization, as in a live mesh
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
    for sensor in (slo_sensor, quality_sensor, drift_sensor):
        context = dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        s = time.perf_counter(); tick = sensor.evaluate_tick(context); ticks[sensor.name] = time.perf_counter() - s
        findings[sensor.name] = len(tick.asset_events)
print(json.dumps({"products": len(products), "load_seconds": t2 - t1, "lint_seconds": t3 - t2,
                  "violations": len(violations), "sensor_tick_seconds": ticks,
                  "sensor_findings": findings}))
"""


def generate(folder: Path, domains: int, products: int) -> Path:
    entries = []
    for d in range(domains):
        domain = f"domain_{d:02d}"
        body = [DOMAIN_TEMPLATE]
        for p in range(products):
            name = f"product_{p:02d}"
            # each product reads the previous one of its domain, and the first reads another domain's
            inputs = {}
            if p > 0:
                inputs["prev"] = f"product_{p - 1:02d}"
            elif d > 0:
                inputs["prev"] = f"domain_{d - 1:02d}/product_{products - 1:02d}"
            params = ", ".join(f"{k}: pd.DataFrame" for k in inputs)
            body.append(
                PRODUCT_TEMPLATE.format(
                    domain=domain, name=name, index=p, inputs=inputs, params=params
                )
            )
        body.append(f'\ndefs = domain_definitions("{domain}", PRODUCTS)\n')
        (folder / f"{domain}.py").write_text(textwrap.dedent("".join(body)))
        entries.append(
            f"  - python_file: {{relative_path: {domain}.py, location_name: {domain}}}\n"
        )
    workspace = folder / "workspace.yaml"
    workspace.write_text("load_from:\n" + "".join(entries))
    return workspace


def run(domains: int, products: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="dagmesh-bench-scale-"))
    workspace = generate(folder, domains, products)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["DAGMESH_HOME"] = str(folder / "home")
    completed = subprocess.run(
        [sys.executable, "-c", MEASURE, str(workspace), str(folder / "w.duckdb")],
        env=env,
        capture_output=True,
        text=True,
        cwd=folder,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result.update(domains=domains, products_per_domain=products)
    result["lint_ms_per_product"] = 1000 * result["lint_seconds"] / result["products"]
    return result


SECONDS_NOT_MINUTES = 60.0
LINEAR_SLACK = 1.5  # time per product may grow this much from the smallest mesh to the largest


def _measures(result: dict) -> dict[str, float]:
    ticks = result["sensor_tick_seconds"]
    return {
        "dagmesh lint": result["lint_seconds"],
        **{f"{name.removeprefix('governance_')} tick": s for name, s in ticks.items()},
    }


def targets(results: list[dict]) -> dict[str, bool]:
    """Lint and every sensor tick in seconds at the largest mesh, and no worse than linear growth."""
    smallest, largest = (
        min(results, key=lambda r: r["products"]),
        max(results, key=lambda r: r["products"]),
    )
    met = {}
    small, large = _measures(smallest), _measures(largest)
    for name, seconds in large.items():
        met[f"{name} under {SECONDS_NOT_MINUTES:.0f}s at {largest['products']} products"] = (
            seconds < SECONDS_NOT_MINUTES
        )
        if largest is not smallest:
            growth = (seconds / largest["products"]) / (small[name] / smallest["products"])
            met[
                f"{name} per product at {largest['products']} within {LINEAR_SLACK}x of "
                f"{smallest['products']} (linear)"
            ] = growth <= LINEAR_SLACK
    return met
