"""The mesh IO manager: loads products as pandas through Arrow, and publishes plain frames atomically.

Data products publish in their own step (see `dagmesh.binding.asset`), so `handle_output` only serves plain
Dagster assets wired to this IO manager; they get the same atomic, by-name write. (Inside a mesh location a
plain asset is held to every product policy, so it stops the location unless it meets them.)
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from dagmesh.declare.access import AccessDeniedError, Reader
from dagmesh.declare.interface import (
    CONSUMER_METADATA,
    CONSUMER_OWNERS_METADATA,
    PINNED_MAJOR_METADATA,
    ProductInterface,
    metadata_value,
)
from dagmesh.storage.sql import quote_identifier
from dagmesh.storage.warehouse import MeshWarehouse, PartitionWindow, PublishTarget, table_for_key


class MeshIOManager(dg.ConfigurableIOManager):
    warehouse: MeshWarehouse

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | None) -> None:
        if obj is None:
            return
        key = context.asset_key
        target = PublishTarget(
            product=key.to_user_string(), table=table_for_key(key.path), contract=None
        )
        result = self.warehouse.publish(target, obj)
        context.add_output_metadata(
            {"dagster/row_count": result.rows, "dagster/table_name": result.table}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.asset_key
        reader = _reader(context, self.warehouse.domain)
        where, params = None, []
        column = _partition_column(context)
        if column and context.has_asset_partitions:
            window = context.asset_partitions_time_window
            where = f"{quote_identifier(column)} >= ? AND {quote_identifier(column)} < ?"
            params = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
        pin = metadata_value(context.definition_metadata or {}, PINNED_MAJOR_METADATA)
        # The read holds `reader` to the producer's published access level (`MeshWarehouse.read`).
        table = self.warehouse.served(
            table_for_key(upstream.path),
            int(pin) if pin is not None else None,
            reader.name if reader else "a consumer",
        )
        return self.warehouse.read(
            table, reader=reader, upstream=upstream.to_user_string(), where=where, params=params
        )


def _reader(context: dg.InputContext, domain: str | None) -> Reader | None:
    """Who loads the input: the product the input belongs to (its metadata), else, for a plain asset,
    the domain whose location holds this IO manager. None (refused) when neither is known."""
    metadata = context.definition_metadata or {}
    consumer = metadata_value(metadata, CONSUMER_METADATA)
    if consumer:
        return Reader.product(
            dg.AssetKey.from_user_string(str(consumer)),
            list(metadata_value(metadata, CONSUMER_OWNERS_METADATA) or []),
        )
    if not domain:
        return None
    strangers = sorted(
        key.to_user_string() for key in _consuming_assets(context) if key.path[0] != domain
    )
    if strangers:
        raise AccessDeniedError(
            f"{', '.join(strangers)} in domain {domain!r}'s location is keyed under another domain, so "
            f"it cannot read {context.asset_key.to_user_string()} as {domain!r}; key it "
            f"[{domain!r}, ...]. Read refused; nothing was loaded."
        )
    return Reader.of_domain(domain)


def _consuming_assets(context: dg.InputContext) -> set[dg.AssetKey]:
    """The assets the step loading this input materializes (none known outside a step)."""
    try:
        return set(context.step_context.get_output_asset_keys())
    except Exception:  # built by hand (build_input_context): no step
        return set()


def _partition_column(context: dg.InputContext) -> str | None:
    upstream = context.upstream_output
    if upstream is None:
        return None
    interface = ProductInterface.from_metadata(context.asset_key, upstream.definition_metadata)
    return (
        interface.partition_column if interface is not None and interface.partition_column else None
    )


__all__ = ["MeshIOManager", "PartitionWindow"]
