"""One call turns a domain's products into its complete code location: assets, checks, jobs, resources."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg

from dagmesh.asset import WAREHOUSE_KEY, build_product_asset
from dagmesh.errors import ProductDefinitionError
from dagmesh.expectations import expectations_check
from dagmesh.governance.enforce import enforce_on_load, policies_for
from dagmesh.governance.interfaces import published_interfaces
from dagmesh.governance.policy import Policy
from dagmesh.io_manager import MeshIOManager
from dagmesh.product import NAME_PATTERN, DataProduct
from dagmesh.settings import MeshSettings, find_project_root
from dagmesh.sources import TpchSource
from dagmesh.warehouse import MeshWarehouse, table_for_key

IO_MANAGER_KEY = "io_manager"
TPCH_KEY = "tpch"
# Every product built in this process, by key: `dagmesh publish` and `check` read contracts here.
DECLARED_PRODUCTS: dict[dg.AssetKey, DataProduct] = {}


def products_in(*modules: ModuleType) -> list[DataProduct]:
    """Every `@data_product` defined at the top level of `modules`, in definition order."""
    found: list[DataProduct] = []
    for module in modules:
        found += [value for value in vars(module).values() if isinstance(value, DataProduct)]
    return found


def _project_root(products: list[DataProduct]) -> Path:
    """The mesh project holding the domain's code (where the contract registry lives)."""
    module = sys.modules.get(products[0].fn.__module__)
    source = getattr(module, "__file__", None)
    return find_project_root(Path(source).parent if source else None)


def _registry_folder(domain: str, products: list[DataProduct]) -> str:
    """The domain's folder as `dagmesh publish` finds it (the package folder of its code, relative to
    the project), for the card's contract link; `domains/<domain>` when that cannot be told."""
    root = _project_root(products)
    for product in products:
        module = sys.modules.get(product.fn.__module__)
        source = getattr(module, "__file__", None)
        if not source or product.fn.__module__.startswith("dagmesh.components"):
            continue  # declarative (YAML) products run platform code: look at the domain's own
        for folder in Path(source).resolve().parents:
            if folder == root or root not in folder.parents:
                break
            if (folder / "pyproject.toml").is_file():
                return folder.relative_to(root).as_posix()
        break
    return f"domains/{domain}"


def _domain_consumers(domain: str, products: list[DataProduct]) -> dict[str, list[str]]:
    """For each product, the products of the same domain that read it (known when the location builds)."""
    readers: dict[str, list[str]] = {p.name: [] for p in products}
    for product in products:
        for ref in product.inputs.values():
            reader = product.key(domain).to_user_string()
            if ref.domain in (None, domain) and reader not in readers.get(ref.name, [reader]):
                readers[ref.name].append(reader)
    return readers


def _check_inputs(domain: str, products: list[DataProduct]) -> None:
    names = [p.name for p in products]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ProductDefinitionError(f"domain {domain!r} declares {', '.join(duplicates)} twice")
    by_name = {p.name: p for p in products}
    for product in products:
        for ref in product.inputs.values():
            if ref.domain in (None, domain) and ref.name not in by_name:
                raise ProductDefinitionError(
                    f"{domain}/{product.name} (owners: {', '.join(product.owners)}) reads "
                    f"{domain}/{ref.name}, which domain {domain!r} does not declare; declare it, or "
                    "name the producing domain as 'domain/product'"
                )
            if ref.domain == domain == product.name:
                raise ProductDefinitionError(f"{domain}/{product.name} reads itself")


def _schedules(domain: str, products: list[DataProduct]) -> list[dg.ScheduleDefinition]:
    """One job and schedule per (cron, partitioning) so partitioned products get partitioned runs."""
    groups: dict[tuple[str, Any], list[DataProduct]] = defaultdict(list)
    for product in products:
        if product.schedule:
            groups[(product.schedule, product.partitions_def)].append(product)
    schedules = []
    for index, ((cron, partitions_def), members) in enumerate(
        sorted(groups.items(), key=lambda g: g[0][0])
    ):
        slug = re.sub(r"[^a-z0-9]+", "_", cron.lower()).strip("_")
        job = dg.define_asset_job(
            name=f"{domain}_{'partitioned_' if partitions_def else ''}{slug or index}",
            selection=dg.AssetSelection.assets(*[p.key(domain) for p in members]),
        )
        if partitions_def is not None:
            # Dagster derives the cadence from the partitions: each new partition runs once it closes.
            schedules.append(dg.build_schedule_from_partitioned_job(job))
        else:
            schedules.append(dg.ScheduleDefinition(job=job, cron_schedule=cron))
    return schedules


def domain_definitions(
    domain: str,
    products: Iterable[DataProduct | ModuleType],
    *,
    resources: Mapping[str, Any] | None = None,
    settings: MeshSettings | None = None,
    policies: Sequence[Policy] = (),
    policy_overrides: Mapping[str, str] | None = None,
    sensors: Sequence[dg.SensorDefinition] = (),
) -> dg.Definitions:
    """The Definitions of a domain's code location: a domain's `definitions.py` is this one call.

    `policies` adds the domain's own governance rules to the central ones; `policy_overrides` may tighten
    a central rule (`{"some-policy": "error"}`), never loosen it. Error violations stop the location.
    """
    if not NAME_PATTERN.match(domain):
        raise ProductDefinitionError(f"domain name {domain!r} must be lower_snake_case")
    declared: list[DataProduct] = []
    for item in products:
        declared += products_in(item) if isinstance(item, ModuleType) else [item]
    if not declared:
        raise ProductDefinitionError(f"domain {domain!r} declares no data products")
    _check_inputs(domain, declared)

    registry = _registry_folder(domain, declared)
    readers = _domain_consumers(domain, declared)
    assets: list[Any] = [
        build_product_asset(
            p,
            domain,
            consumers=readers[p.name],
            contract_link=f"{registry}/contracts/{p.name}/v{p.major_version}.odcs.yaml",
        )
        for p in declared
    ]
    DECLARED_PRODUCTS.update({p.key(domain): p for p in declared})
    own = {p.key(domain) for p in declared}
    external = sorted(
        {ref.resolve(domain) for p in declared for ref in p.inputs.values()} - own,
        key=lambda k: k.to_user_string(),
    )
    assets = enforce_on_load(
        domain,
        assets,
        policies_for(policies, policy_overrides),
        interfaces=published_interfaces(external, _project_root(declared)),
    )
    # Another domain's product is an external asset here: Dagster draws the lineage and loads it by key.
    assets += [dg.AssetSpec(key=key, metadata={"dagmesh/external": True}) for key in external]

    sensors = list(sensors)
    automated = [p.key(domain) for p in declared if p.automation_condition is not None]
    if automated:
        sensors.append(
            dg.AutomationConditionSensorDefinition(
                f"{domain}_automation",
                target=dg.AssetSelection.assets(*automated),
                default_status=dg.DefaultSensorStatus.RUNNING,
            )
        )

    settings = settings or MeshSettings.from_env()
    warehouse = MeshWarehouse(database=str(settings.warehouse_path))
    all_resources: dict[str, Any] = {
        WAREHOUSE_KEY: warehouse,
        IO_MANAGER_KEY: MeshIOManager(warehouse=warehouse),
        # TPC-H is the mesh's sample source system: every domain can ingest from it.
        TPCH_KEY: TpchSource.from_settings(settings),
        **(resources or {}),
    }
    checks = [
        expectations_check(p.key(domain), table_for_key(p.key(domain).path), p.expectations)
        for p in declared
        if p.expectations
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        schedules=_schedules(domain, declared),
        sensors=sensors,
        resources=all_resources,
    )
