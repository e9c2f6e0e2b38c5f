"""`dagmesh.testing`: test a product (or a whole domain) with upstream data of your choosing.

    from dagmesh.testing import materialize_product
    from finance.definitions import defs

    run = materialize_product(defs(), "finance/invoices", inputs={"sales/orders": orders_frame})
    assert run.contract.passed, run.contract.failures
    assert run.table["amount"].ge(0).all()

Each call is a real Dagster run into a warehouse file of its own, in a temporary folder removed
afterwards. The frames given as `inputs` are published first as the upstream products themselves, with
their contracts (and access levels) from the contract registry for another domain's product, or from the
location for one of its own, so the product reads them exactly as it reads the mesh: the access check,
the types and the contract hold. `example_frame` and `example_inputs` (`dagmesh.tools.example_rows`)
build valid rows from contracts; `materialize` and `published` are the lower-level helpers the sample
domains' whole-location tests use.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from dagmesh.binding.asset import CONTRACT_CHECK, WAREHOUSE_KEY, declared_products
from dagmesh.binding.io_manager import MeshIOManager
from dagmesh.core.errors import DagmeshError
from dagmesh.declare.product import SLO, DataProduct, ProductKind, data_product
from dagmesh.governance.enforce import Enforcement
from dagmesh.governance.interfaces import published_interfaces
from dagmesh.location.domain import IO_MANAGER_KEY, domain_definitions
from dagmesh.registry.odcs import from_odcs
from dagmesh.registry.store import producer_folder, read_registry
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.sql import qualified_name
from dagmesh.storage.warehouse import MeshWarehouse, table_for_key
from dagmesh.tools.example_rows import example_frame, example_inputs, product_key, project_root_of


class TestInputError(DagmeshError):
    """An input frame that cannot stand in for its product (unknown product, or off-contract)."""

    __test__ = False  # not a pytest test class, whatever its name


@dataclass(frozen=True)
class ContractResult:
    """The product's `contract` check: passed, or the checks that failed (one line each)."""

    passed: bool
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductRun:
    """One product after a test run: the table it published (None if nothing was) and its contract."""

    key: dg.AssetKey
    table: pd.DataFrame | None
    contract: ContractResult
    result: dg.ExecuteInProcessResult

    @property
    def published(self) -> bool:
        return self.table is not None


def materialize(
    defs: dg.Definitions,
    keys: Iterable[dg.AssetKey | str],
    instance: dg.DagsterInstance,
    tags: Mapping[str, str] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize `keys` (`AssetKey`s or `"domain/product"`) of a location with their asset checks, in
    one run on `instance`, without raising: the result says what passed. `resources` replace the
    location's own of the same name."""
    selection = [product_key(k) for k in keys]
    return dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        selection=sorted(selection, key=lambda k: k.to_user_string()),
        resources={**dict(defs.resources or {}), **dict(resources or {})},
        instance=instance,
        tags=dict(tags or {}),
        raise_on_error=False,
    )


def published(warehouse: Path, sql: str) -> list[tuple]:
    """`sql` over the warehouse file, read-only (what consumers would see)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _location(target: Any, domain: str | None, settings: MeshSettings) -> dg.Definitions:
    if isinstance(target, DataProduct):
        if domain is None:
            raise DagmeshError(f"materializing {target.name} alone needs its domain=...")
        return domain_definitions(domain, [target], settings=settings)
    if isinstance(target, dg.Definitions):
        return target
    if callable(target):  # the project's `@dg.definitions def defs()`
        return target()
    raise DagmeshError(f"cannot materialize {target!r}: give a location's Definitions or a product")


def _contract_of(
    key: dg.AssetKey, own: Mapping[dg.AssetKey, DataProduct], root: Path
) -> DataProduct:
    """A stand-in declaration for `key`: the location's own product, or the registry's contract."""
    if key in own:  # published whole, as given: no inputs, partitions, schedule or expectations
        return replace(
            own[key],
            inputs={},
            schedule=None,
            automation_condition=None,
            partitions_def=None,
            partition_column=None,
            expectations=(),
        )
    interfaces = published_interfaces([key], root)
    registry = read_registry(producer_folder(root, key.path[0]), key.path[-1]) if root else {}
    if key not in interfaces or not registry:
        raise TestInputError(
            f"input {key.to_user_string()} is neither a product of this location nor in "
            f"{key.path[0]}'s contract registry under {root}; check the name, or run the test from "
            "the project (its contracts/ folders are the registry)"
        )
    interface = interfaces[key]
    return data_product(
        contract=from_odcs(registry[max(registry)]),
        owners=interface.owners or ("team:test",),
        access=interface.access,  # type: ignore[arg-type]
        version=interface.version,
        slo=SLO(max_lag=timedelta(days=1)),
        allowed_consumers=interface.allowed_consumers,
        description=interface.description or f"{key.to_user_string()}, as the test gives it",
        name=key.path[-1],
    )(lambda: None)


def _stand_in(product: DataProduct, frame: pd.DataFrame) -> DataProduct:
    def given() -> pd.DataFrame:
        return frame

    given.__name__ = product.name
    return replace(
        product, fn=given, resource_params=(), wants_context=False, kind=ProductKind.PANDAS
    )


def _failures(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> ContractResult:
    checks = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == key and e.check_name == CONTRACT_CHECK
    ]
    if checks:
        check = checks[-1]
        failed = [
            name.removeprefix("failed: ") for name in check.metadata if name.startswith("failed: ")
        ]
        return ContractResult(check.passed, tuple(failed))
    errors = [
        e.step_failure_data.error.message.strip()
        for e in result.get_step_failure_events()
        if e.step_failure_data.error is not None
    ]
    return ContractResult(False, tuple(errors) or ("the contract check did not run",))


def _publish_inputs(
    inputs: Mapping[str | dg.AssetKey, pd.DataFrame],
    own: Mapping[dg.AssetKey, DataProduct],
    domain: str,
    root: Path,
    settings: MeshSettings,
    instance: dg.DagsterInstance,
) -> set[dg.AssetKey]:
    """Publish each given frame as its product, one stand-in location per upstream domain."""
    by_domain: dict[str, list[DataProduct]] = {}
    keys = set()
    for name, frame in inputs.items():
        key = product_key(name, domain)
        keys.add(key)
        by_domain.setdefault(key.path[0], []).append(_stand_in(_contract_of(key, own, root), frame))
    for upstream, products in by_domain.items():
        stand_ins = domain_definitions(
            upstream, products, settings=settings, enforcement=Enforcement.REPORT
        )
        result = materialize(stand_ins, [p.key(upstream) for p in products], instance)
        for product in products:
            contract = _failures(result, product.key(upstream))
            if not contract.passed:
                raise TestInputError(
                    f"the frame given for {upstream}/{product.name} does not meet its contract: "
                    + "; ".join(contract.failures)
                )
    return keys


def _read_table(warehouse: Path, key: dg.AssetKey) -> pd.DataFrame | None:
    if not warehouse.is_file():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        schema, table = table_for_key(key.path)
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
        if not exists:
            return None
        return con.execute(f"SELECT * FROM {qualified_name([schema, table])}").df()


def materialize_domain(
    target: dg.Definitions | DataProduct | Any,
    products: Iterable[str] | None = None,
    *,
    inputs: Mapping[str | dg.AssetKey, pd.DataFrame] | None = None,
    domain: str | None = None,
    resources: Mapping[str, Any] | None = None,
    root: Path | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, ProductRun]:
    """Materialize `products` (names or `"domain/name"`; default: every product not given as an input)
    of a location, after publishing the `inputs` frames as their products, in a temporary warehouse.
    `target` is a loaded location (`defs()`), the `defs` function itself, or one `DataProduct` with its
    `domain`. `tags` go on the run (a partition: `{"dagster/partition": "2024-01-01"}`). Returns each
    product's run by `"domain/name"`."""
    home = Path(tempfile.mkdtemp(prefix="dagmesh-test-"))
    try:
        settings = MeshSettings(
            home=home, warehouse_path=home / "warehouse.duckdb", tpch_scale=_scale()
        )
        defs = _location(target, domain, settings)
        own = declared_products(defs)
        if not own:
            raise DagmeshError("the location declares no data products")
        domain = next(iter(own)).path[0]
        root = root or project_root_of(own.values())
        warehouse = MeshWarehouse.from_settings(settings)
        bound = {WAREHOUSE_KEY: warehouse, IO_MANAGER_KEY: MeshIOManager(warehouse=warehouse)}
        with dg.DagsterInstance.ephemeral() as instance:
            given = _publish_inputs(inputs or {}, own, domain, root, settings, instance)
            wanted = (
                [product_key(name, domain) for name in products]
                if products is not None
                else [key for key in own if key not in given]
            )
            unknown = [k.to_user_string() for k in wanted if k not in own]
            if unknown:
                raise DagmeshError(
                    f"{', '.join(unknown)}: not a product of this location "
                    f"({', '.join(sorted(k.to_user_string() for k in own))})"
                )
            # the products' own-domain upstreams not given as frames are built in the same run
            upstream = dg.AssetSelection.assets(*wanted).upstream()
            run_keys = (set(upstream.resolve(defs.resolve_asset_graph())) & set(own)) - given
            result = materialize(
                defs, run_keys, instance, tags=tags, resources={**bound, **dict(resources or {})}
            )
        return {
            key.to_user_string(): ProductRun(
                key, _read_table(settings.warehouse_path, key), _failures(result, key), result
            )
            for key in wanted
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def materialize_product(
    target: dg.Definitions | DataProduct | Any,
    product: str | None = None,
    *,
    inputs: Mapping[str | dg.AssetKey, pd.DataFrame] | None = None,
    domain: str | None = None,
    resources: Mapping[str, Any] | None = None,
    root: Path | None = None,
    tags: Mapping[str, str] | None = None,
) -> ProductRun:
    """Materialize one product (`product`, or the only one of `target`) with `inputs` given as frames;
    see `materialize_domain`. Its own domain's products it reads and that are not given are built in
    the same run."""
    if product is None:
        runs = materialize_domain(
            target, None, inputs=inputs, domain=domain, resources=resources, root=root, tags=tags
        )
        if len(runs) != 1:
            raise DagmeshError(f"name the product to materialize, one of {', '.join(runs)}")
        return next(iter(runs.values()))
    (run,) = materialize_domain(
        target, [product], inputs=inputs, domain=domain, resources=resources, root=root, tags=tags
    ).values()
    return run


def _scale() -> float:
    try:
        return MeshSettings.from_env().tpch_scale
    except ValueError:
        return 0.01


__all__ = [
    "ContractResult",
    "ProductRun",
    "TestInputError",
    "example_frame",
    "example_inputs",
    "materialize",
    "materialize_domain",
    "materialize_product",
    "published",
]
