"""A domain's code location: its products' definitions with the mesh rules applied as post-processing.

The rules are the same however the products were declared (a `defs/` folder loaded by Dagster, or a list
handed to `domain_definitions`): inputs must resolve, the card names the domain's consumers and the registry
file, the governance policies run (an error stops the location), other domains' products appear as
external assets, schedules and the automation sensor are derived, and the warehouse resources are bound.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg

from dagmesh.binding.asset import (
    WAREHOUSE_KEY,
    declared_products,
    product_definitions,
    product_interface,
)
from dagmesh.binding.card import product_card
from dagmesh.binding.io_manager import MeshIOManager
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.core.paths import PACKAGE_FILE, find_project_root
from dagmesh.declare.interface import map_asset_specs
from dagmesh.declare.names import NAME_PATTERN, RESERVED_SCHEMAS
from dagmesh.declare.product import DataProduct
from dagmesh.governance.enforce import Enforcement, enforce_on_load, policies_for
from dagmesh.governance.interfaces import published_interfaces
from dagmesh.governance.policy import Policy
from dagmesh.location.inputs import resolve_inputs
from dagmesh.location.schedules import product_schedules
from dagmesh.registry.store import package_folder, registry_link
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.warehouse import MeshWarehouse

IO_MANAGER_KEY = "io_manager"


def products_in(*modules: ModuleType) -> list[DataProduct]:
    """Every `@data_product` defined at the top level of `modules`, in definition order."""
    found: list[DataProduct] = []
    for module in modules:
        found += [value for value in vars(module).values() if isinstance(value, DataProduct)]
    return found


def _check_domain_name(domain: str) -> None:
    if not NAME_PATTERN.match(domain):
        raise ProductDefinitionError(f"domain name {domain!r} must be lower_snake_case")
    if domain in RESERVED_SCHEMAS:
        raise ProductDefinitionError(
            f"domain name {domain!r} is one of DuckDB's own schemas ({', '.join(sorted(RESERVED_SCHEMAS))}), "
            "so its tables would be ambiguous in the warehouse; rename the domain"
        )


def _source_file(product: DataProduct) -> Path | None:
    """The domain's own file declaring `product` (None for a YAML product, whose function is ours)."""
    if product.fn.__module__.startswith("dagmesh."):
        return None
    source = getattr(product.fn, "__code__", None)
    return Path(source.co_filename) if source is not None else None


def _consumers(domain: str, products: Mapping[dg.AssetKey, DataProduct]) -> dict[str, list[str]]:
    """For each product, the products of the same domain that read it."""
    readers: dict[str, list[str]] = defaultdict(list)
    for key, product in products.items():
        for ref in product.inputs.values():
            if ref.domain in (None, domain) and key.to_user_string() not in readers[ref.name]:
                readers[ref.name].append(key.to_user_string())
    return readers


def _with_location_facts(
    spec: dg.AssetSpec, product: DataProduct, consumers: list[str], contract_link: str | None
) -> dg.AssetSpec:
    """The card and interface, written again from the declaration (whatever a component's
    post-processing put there) and completed with what only the location knows."""
    interface = replace(product_interface(product, spec.key.path[0]), consumers=tuple(consumers))
    metadata = {**spec.metadata, **interface.to_metadata(product.contract.table_schema())}
    return spec.replace_attributes(
        description=product_card(interface, contract_link), metadata=metadata
    )


def mesh_location(
    domain: str,
    defs: dg.Definitions,
    *,
    resources: Mapping[str, Any] | None = None,
    settings: MeshSettings | None = None,
    policies: Sequence[Policy] = (),
    policy_overrides: Mapping[str, str] | None = None,
    sensors: Sequence[dg.SensorDefinition] = (),
    enforcement: Enforcement = Enforcement.ENFORCE,
    package: Path | None = None,
) -> dg.Definitions:
    """Apply the mesh rules to the loaded definitions of `domain`'s products (see the module docstring).

    `policies` adds the domain's own governance rules to the central ones; `policy_overrides` may tighten
    a central rule (`{"some-policy": "error"}`), never loosen it. With `Enforcement.ENFORCE` an error
    violation raises `PolicyViolationError` (which still carries the annotated definitions). `package`
    is the domain's package folder when the caller knows it (else found from its products' source files).
    """
    _check_domain_name(domain)
    products = declared_products(defs)
    if not products:
        raise ProductDefinitionError(f"domain {domain!r} declares no data products")
    strangers = sorted(k.to_user_string() for k in products if k.path[0] != domain)
    if strangers:
        raise ProductDefinitionError(
            f"domain {domain!r} holds product(s) of another domain: {', '.join(strangers)}"
        )
    source = package / PACKAGE_FILE if package is not None else None
    source = source or next(filter(None, map(_source_file, products.values())), None)
    root = find_project_root(source.parent if source else None)
    resolve_inputs(domain, products, root)

    readers = _consumers(domain, products)
    folder = package_folder(source, root) if source else None

    def complete(spec: dg.AssetSpec) -> dg.AssetSpec:
        product = products.get(spec.key)
        if product is None:
            return spec
        link = registry_link(folder, root, domain, product.name, product.major_version)
        return _with_location_facts(spec, product, readers.get(product.name, []), link)

    defs = map_asset_specs(defs, complete)

    external = sorted(
        {ref.resolve(domain) for p in products.values() for ref in p.inputs.values()}
        - set(products),
        key=lambda k: k.to_user_string(),
    )
    sensors = list(sensors)
    automated = [k for k, p in products.items() if p.automation_condition is not None]
    if automated:
        sensors.append(
            dg.AutomationConditionSensorDefinition(
                f"{domain}_automation",
                target=dg.AssetSelection.assets(*automated),
                default_status=dg.DefaultSensorStatus.RUNNING,
            )
        )
    settings = settings or MeshSettings.from_env()
    # The location's reads are its domain's: held to other domains' access levels.
    warehouse = MeshWarehouse.from_settings(settings, domain)
    if domain == warehouse.catalog_name:
        raise ProductDefinitionError(
            f"domain name {domain!r} is the name of the warehouse's own catalog "
            f"({settings.warehouse_name}), so its tables would be ambiguous; rename the domain or "
            "the warehouse (DAGMESH_WAREHOUSE)"
        )
    platform = dg.Definitions(
        # Another domain's product is an external asset here: Dagster draws the lineage and loads it; it
        # is not materialized here, so it is never governed as this location's own (`asset_specs`).
        assets=[dg.AssetSpec(key=key) for key in external],
        schedules=product_schedules(domain, products.values(), running=settings.schedules_running),
        sensors=sensors,
        resources={
            WAREHOUSE_KEY: warehouse,
            IO_MANAGER_KEY: MeshIOManager(warehouse=warehouse),
            **(resources or {}),
        },
    )
    defs = dg.Definitions.merge(defs, platform)
    return enforce_on_load(
        domain,
        defs,
        policies_for(policies, policy_overrides),
        interfaces=published_interfaces(external, root),
        enforcement=enforcement,
        declared_at={
            k.to_user_string(): p.declared_at for k, p in products.items() if p.declared_at
        },
    )


def domain_definitions(
    domain: str,
    products: Iterable[DataProduct | ModuleType],
    **options: Any,
) -> dg.Definitions:
    """The code location of `products` (declarations or modules holding them), for code that lists its
    products itself (tests, generated meshes). A domain project loads its `defs/` folder instead
    (`load_domain`). `options` are those of `mesh_location`."""
    _check_domain_name(domain)
    declared: list[DataProduct] = []
    for item in products:
        declared += products_in(item) if isinstance(item, ModuleType) else [item]
    names = [p.name for p in declared]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ProductDefinitionError(f"domain {domain!r} declares {', '.join(twice)} twice")
    if not declared:
        raise ProductDefinitionError(f"domain {domain!r} declares no data products")
    package = options.get("package")
    source = Path(package) / PACKAGE_FILE if package is not None else None
    source = source or next(filter(None, map(_source_file, declared)), None)
    root = find_project_root(source.parent if source else None)
    # before the assets are built: a misspelled input is reported as such, not as a missing parameter
    resolve_inputs(domain, {p.key(domain): p for p in declared}, root)
    units = [product_definitions(product, domain) for product in declared]
    return mesh_location(domain, dg.Definitions.merge(*units), **options)
