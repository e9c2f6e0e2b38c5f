"""The mesh IO manager: loads products as pandas through Arrow, and publishes plain frames atomically.

Data products publish in their own step (see `dagmesh.binding.asset`), so `handle_output` only serves plain
Dagster assets wired to this IO manager; they get the same atomic, by-name write. (Inside a mesh location a
plain asset is held to every product policy, so it stops the location unless it meets them.)
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from dagmesh.binding.reads import refuse_unreadable
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
        consumer = _consumer_name(context)
        self._enforce_access(context, upstream)
        where, params = None, []
        column = _partition_column(context)
        if column and context.has_asset_partitions:
            window = context.asset_partitions_time_window
            where = f"{quote_identifier(column)} >= ? AND {quote_identifier(column)} < ?"
            params = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
        pin = metadata_value(context.definition_metadata or {}, PINNED_MAJOR_METADATA)
        table = self.warehouse.served(
            table_for_key(upstream.path), int(pin) if pin is not None else None, consumer
        )
        return self.warehouse.read(
            table,
            consumer=consumer,
            upstream=upstream.to_user_string(),
            where=where,
            params=params,
        )

    def _enforce_access(self, context: dg.InputContext, upstream: dg.AssetKey) -> None:
        """Defence in depth: refuse a read the producer's published access level does not allow,
        even if the load-time policy was bypassed. The producer's interface comes from the warehouse."""
        metadata = context.definition_metadata or {}
        consumer = metadata_value(metadata, CONSUMER_METADATA)
        if not consumer:
            return
        refuse_unreadable(
            dg.AssetKey.from_user_string(str(consumer)),
            list(metadata_value(metadata, CONSUMER_OWNERS_METADATA) or []),
            upstream,
            self.warehouse.latest_publication(table_for_key(upstream.path)),
        )


def _consumer_name(context: dg.InputContext) -> str:
    consumer = metadata_value(context.definition_metadata, CONSUMER_METADATA)
    if consumer:
        return str(consumer)
    try:
        return context.op_def.name
    except Exception:  # outside a step (e.g. build_input_context in a notebook)
        return "a consumer"


def _partition_column(context: dg.InputContext) -> str | None:
    upstream = context.upstream_output
    if upstream is None:
        return None
    interface = ProductInterface.from_metadata(context.asset_key, upstream.definition_metadata)
    return (
        interface.partition_column if interface is not None and interface.partition_column else None
    )


__all__ = ["MeshIOManager", "PartitionWindow"]
