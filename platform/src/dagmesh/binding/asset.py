"""A declared product becomes a Dagster asset whose step runs write-audit-publish.

The contract audit runs inside the asset's step rather than in `IOManager.handle_output`: Dagster accepts
asset check results only from the step's compute (an IO manager's `log_event` takes materializations and
observations only), and the check must show in the UI as passed or failed. Inputs are still loaded by the
mesh IO manager, through Arrow.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import dagster as dg
import duckdb

from dagmesh.binding.card import product_card
from dagmesh.binding.expectations import expectations_check
from dagmesh.binding.reads import input_relations
from dagmesh.core.errors import (
    ContractShapeError,
    ContractViolation,
    DagmeshError,
    ProductFailedError,
)
from dagmesh.core.interrupts import computing
from dagmesh.declare.access import Reader, reading_as
from dagmesh.declare.interface import (
    CONSUMER_METADATA,
    CONSUMER_OWNERS_METADATA,
    PINNED_MAJOR_METADATA,
    ColumnInterface,
    ProductInterface,
)
from dagmesh.declare.product import (
    CONTEXT_PARAM,
    SQL_ATTRIBUTE,
    DataProduct,
    ProductKind,
    check_parameters,
)
from dagmesh.storage.audit import AuditResult
from dagmesh.storage.engine import engine_session
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.sql_guard import column_sources
from dagmesh.storage.warehouse import MeshWarehouse, PartitionWindow, PublishTarget, table_for_key

CONTRACT_CHECK = "contract"
WAREHOUSE_KEY = "warehouse"
WAREHOUSE_POOL = "dagmesh_warehouse"
# A run with this tag republishes the product as it was at that lake snapshot (`dagmesh rollback`)
# instead of computing it.
ROLLBACK_TAG = "dagmesh/rollback_to"
KINDS = frozenset({"duckdb", "pandera"})
# The declaration an asset was built from rides on its compute function: a location returns what it
# declared, and the registry reads contracts from the loaded assets (no registry filled on import).
PRODUCT_ATTRIBUTE = "__dagmesh_product__"


def publish_target(product: DataProduct, domain: str) -> PublishTarget:
    key = product.key(domain)
    return PublishTarget(
        product=key.to_user_string(),
        table=table_for_key(key.path),
        contract=product.contract,
        owners=product.owners,
        version=product.version,
        partition_column=product.partition_column,
        access=product.access,
        allowed_consumers=tuple(product.allowed_consumers),
        max_lag_seconds=product.slo.max_lag.total_seconds(),
        volume=product.volume,
        deprecation_date=product.deprecation_date,
    )


def product_interface(product: DataProduct, domain: str) -> ProductInterface:
    """The product's interface record, as its asset carries it."""
    key = product.key(domain)
    schema, table = table_for_key(key.path)
    return ProductInterface(
        key=key,
        owners=product.owners,
        description=product.description,
        access=product.access,
        version=product.version,
        contract=product.contract.name,
        slo=product.slo.describe(),
        inputs=tuple(ref.resolve(domain) for ref in product.inputs.values()),
        allowed_consumers=tuple(product.allowed_consumers),
        partition_column=product.partition_column or "",
        table=f"{schema}.{table}",
        volume=product.volume.describe(),
        columns=tuple(
            ColumnInterface.from_table_column(c) for c in product.contract.table_schema().columns
        ),
        lineage=_sql_lineage(product, domain),
    )


def _sql_lineage(product: DataProduct, domain: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A SQL product's columns and the input columns each is computed from (`column_sources`); a
    column traced to a table it cannot tell is traced to each input."""
    sql = getattr(product.fn, SQL_ATTRIBUTE, None)
    if not isinstance(sql, str):
        return ()
    inputs = {param: ref.resolve(domain) for param, ref in product.inputs.items()}
    lineage = []
    for column, sources in column_sources(sql).items():
        refs: list[str] = []
        for table, name in sources:
            keys = [inputs[table]] if table in inputs else [] if table else list(inputs.values())
            refs += [f"{key.to_user_string()}.{name}" for key in keys]
        lineage.append((column, tuple(dict.fromkeys(refs))))
    return tuple(lineage)


def declared_product(asset: dg.AssetsDefinition) -> DataProduct | None:
    """The `@data_product` declaration `asset` was built from, or None for any other asset."""
    compute = getattr(asset.op.compute_fn, "decorated_fn", None) if asset.is_executable else None
    found = getattr(compute, PRODUCT_ATTRIBUTE, None)
    return found if isinstance(found, DataProduct) else None


def declared_products(defs: dg.Definitions) -> dict[dg.AssetKey, DataProduct]:
    """Every data product of a loaded code location, by key."""
    found: dict[dg.AssetKey, DataProduct] = {}
    for asset in defs.assets or ():
        if isinstance(asset, dg.AssetsDefinition):
            product = declared_product(asset)
            if product is not None:
                found[asset.key] = product
    return found


def _audit_metadata(audit: AuditResult) -> dict[str, Any]:
    return {
        "rows_audited": audit.rows,
        "checks": len(audit.outcomes),
        "failed_checks": len(audit.failed),
        "results": dg.MetadataValue.md(audit.markdown()),
    }


def _failure_metadata(error: Exception) -> dict[str, Any]:
    if isinstance(error, ContractViolation):
        metadata = _audit_metadata(error.result)
        for outcome in error.result.failed:
            where = outcome.column or "table"
            metadata[f"failed: {where} {outcome.check}"] = dg.MetadataValue.json(
                {
                    "failing_rows": outcome.failures,
                    "samples": [_jsonable(s) for s in outcome.samples],
                }
            )
        return metadata
    assert isinstance(error, ContractShapeError)
    return {"missing_columns": error.missing, "extra_columns": error.extra}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        str(k): v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
        for k, v in row.items()
    }


def published_schema(product: DataProduct, columns: Iterable[tuple[str, str]]) -> dg.TableSchema:
    """The column schema of a publication: the table's columns as written, each with its contract's
    nullability, uniqueness, checks and description. The UI shows the latest materialization's schema
    over the definition's, so without the contract here the constraints would vanish after a run."""
    declared = product.contract.table_schema()
    by_name = {column.name: column for column in declared.columns}
    written = []
    for name, type_ in columns:
        column = by_name.get(name)
        written.append(
            dg.TableColumn(name, type_)
            if column is None
            else dg.TableColumn(
                name=name,
                type=type_,
                description=column.description,
                constraints=column.constraints,
                tags=column.tags,
            )
        )
    return dg.TableSchema(columns=written, constraints=declared.constraints)


def _partition_window(context: dg.AssetExecutionContext) -> PartitionWindow | None:
    # A one-partition run (what a partitioned schedule launches) has a partition key but no range
    # tags: it must still replace only its window, not the whole table.
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    window = context.partition_time_window
    keys = context.partition_key_range
    label = keys.start if keys.start == keys.end else f"{keys.start}..{keys.end}"
    return PartitionWindow(start=window.start, end=window.end, label=label)


def _snapshot_id(text: str, key: dg.AssetKey) -> int:
    try:
        return int(text)
    except ValueError:
        raise DagmeshError(
            f"{key.to_user_string()}: {ROLLBACK_TAG}={text!r} is not a snapshot id; see `dagmesh "
            "history`. Nothing was published."
        ) from None


def _computed(product: DataProduct, key: dg.AssetKey, kwargs: dict[str, Any]) -> Any:
    """The product function's result. Bad source files and bugs surface with the product and its
    owners, and the promise that matters: nothing was published."""
    try:
        with computing():  # a stopping `dagmesh run` interrupts the product's code here
            return product.fn(**kwargs)
    except DagmeshError:
        raise
    except Exception as error:
        raise ProductFailedError(
            f"{key.to_user_string()} (owners: {', '.join(product.owners)}) failed while computing: "
            f"{type(error).__name__}: {error}. Nothing was published; consumers keep the last good "
            "version. Fix the source data or the product's code and materialize it again."
        ) from error


def _publish_in_warehouse(
    context: dg.AssetExecutionContext,
    product: DataProduct,
    domain: str,
    target: PublishTarget,
    warehouse: MeshWarehouse,
    kwargs: dict[str, Any],
    upstreams: dict[str, dg.AssetKey],
    pins: dict[str, int | None],
) -> Any:
    """An in-warehouse product: inputs bound as relations on the warehouse connection, the result
    built lazily, then staged, audited and published on that same connection."""
    key = product.key(domain)
    window = _partition_window(context)
    with warehouse.get_connection() as con, engine_session(con):
        kwargs.update(
            input_relations(
                con,
                key,
                product.owners,
                upstreams,
                _partition_columns(context, upstreams.values()) if window else {},
                window,
                pins,
            )
        )
        relation = _computed(product, key, kwargs)
        try:
            return warehouse.publish_relation(target, con, relation, window)
        except duckdb.Error as error:
            # The relation runs here, lazily: a failing query is the product's failure.
            raise ProductFailedError(
                f"{key.to_user_string()} (owners: {', '.join(product.owners)}) failed in the "
                f"warehouse: {type(error).__name__}: {error}. Nothing was published; consumers keep "
                "the last good version. If the product's query is at fault, fix it; if the warehouse "
                "was unreachable, materialize it again once it is back."
            ) from error


def _partition_columns(
    context: dg.AssetExecutionContext, upstreams: Iterable[dg.AssetKey]
) -> dict[dg.AssetKey, str]:
    """The partition column of each partitioned upstream, from its interface record."""
    graph = context.job_def.asset_layer
    columns = {}
    for upstream in upstreams:
        if not graph.has(upstream):
            continue
        interface = ProductInterface.from_metadata(upstream, graph.get(upstream).metadata)
        if interface is not None and interface.partition_column:
            columns[upstream] = interface.partition_column
    return columns


def build_product_asset(product: DataProduct, domain: str) -> dg.AssetsDefinition:
    """The Dagster asset for `product` in `domain`, with its contract check, card, schema and SLO.

    The location adds what only it knows (consumers, the registry link) as post-processing.
    """
    key = product.key(domain)
    interface = product_interface(product, domain)
    target = publish_target(product, domain)
    # Each input carries its consumer, so the IO manager can enforce access levels at read time.
    consumer = {
        CONSUMER_METADATA: key.to_user_string(),
        CONSUMER_OWNERS_METADATA: list(product.owners),
    }
    # A pandas product's inputs are loaded by the IO manager; an in-warehouse product binds its own
    # (as relations, in its step), so for Dagster they are dependencies only.
    relational = product.kind is ProductKind.RELATION
    upstreams = {param: ref.resolve(domain) for param, ref in product.inputs.items()}
    pins = {param: ref.major for param, ref in product.inputs.items()}
    ins = (
        {}
        if relational
        else {
            param: dg.AssetIn(
                key=k,
                metadata={
                    **consumer,
                    **({PINNED_MAJOR_METADATA: pins[param]} if pins[param] is not None else {}),
                },
            )
            for param, k in upstreams.items()
        }
    )
    deps = list(upstreams.values()) if relational else None

    def compute(context: dg.AssetExecutionContext, **loaded: Any) -> Iterator[Any]:
        kwargs: dict[str, Any] = {
            param: loaded[param] for param in product.inputs if not relational
        }
        for name in product.resource_params:
            kwargs[name] = getattr(context.resources, name)
        if product.wants_context:
            kwargs[CONTEXT_PARAM] = context
        warehouse: MeshWarehouse = getattr(context.resources, WAREHOUSE_KEY)
        run_target = replace(target, run_id=context.run.run_id)
        rollback_to = context.run.tags.get(ROLLBACK_TAG)
        try:
            # Every read the product's code makes (query(), the warehouse resource) is its own.
            with reading_as(Reader.product(key, product.owners)):
                if rollback_to is not None:
                    result = warehouse.republish(run_target, _snapshot_id(rollback_to, key))
                elif relational:
                    result = _publish_in_warehouse(
                        context, product, domain, run_target, warehouse, kwargs, upstreams, pins
                    )
                else:
                    frame = _computed(product, key, kwargs)
                    result = warehouse.publish(run_target, frame, _partition_window(context))
        except (ContractViolation, ContractShapeError) as error:
            yield dg.AssetCheckResult(
                check_name=CONTRACT_CHECK,
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=_failure_metadata(error),
            )
            raise dg.Failure(description=str(error), metadata=_failure_metadata(error)) from error
        yield dg.AssetCheckResult(
            check_name=CONTRACT_CHECK, passed=True, metadata=_audit_metadata(result.audit)
        )
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "dagster/table_name": result.table,
                "dagster/column_schema": published_schema(product, result.columns),
                "dagmesh/version": product.version,
                **({"dagmesh/snapshot": result.snapshot} if result.snapshot is not None else {}),
                **({"dagmesh/rolled_back_to": int(rollback_to)} if rollback_to is not None else {}),
            }
        )

    # Dagster reads inputs from the signature: give the generic compute the product's input names.
    parameters = [inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in ins]
    compute.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    compute.__name__ = product.name
    setattr(compute, PRODUCT_ATTRIBUTE, product)

    return dg.asset(
        key=key,
        ins=ins,
        deps=deps,
        description=product_card(interface),
        metadata=interface.to_metadata(product.contract.table_schema()),
        tags={
            "dagmesh/access": product.access,
            "dagmesh/version": product.version,
            "dagmesh/domain": domain,
        },
        owners=list(product.owners),
        kinds=KINDS | {"sql" if relational else "pandas"},
        group_name=domain,
        code_version=product.version,
        freshness_policy=product.slo.freshness_policy(),
        automation_condition=product.automation_condition,
        partitions_def=product.partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if product.partitions_def else None,
        required_resource_keys={WAREHOUSE_KEY, *product.resource_params},
        check_specs=[
            dg.AssetCheckSpec(
                CONTRACT_CHECK,
                asset=key,
                blocking=True,
                description=f"Contract {product.contract.name}: every check audited before publishing.",
            )
        ],
        pool=_pool(),
    )(compute)


def _pool() -> str | None:
    """The DuckDB file has one writing process: its product steps share a Dagster pool a deployment
    limits. A lake has none: DuckLake's transactions keep concurrent writers apart."""
    return None if MeshSettings.from_env().lake is not None else WAREHOUSE_POOL


def product_definitions(product: DataProduct, domain: str) -> dg.Definitions:
    """One product's share of its location: the asset, its contract check and its expectations."""
    check_parameters(product)
    asset = build_product_asset(product, domain)
    checks = []
    if product.expectations:
        checks.append(
            expectations_check(asset.key, table_for_key(asset.key.path), product.expectations)
        )
    return dg.Definitions(assets=[asset], asset_checks=checks)
