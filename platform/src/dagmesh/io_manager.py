"""The mesh IO manager: loads products as pandas through Arrow, and publishes plain frames atomically.

Data products publish in their own step (see `dagmesh.asset`), so `handle_output` only serves ordinary
Dagster assets a domain may keep beside its products; they get the same atomic, by-name write.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from dagmesh.sql import quote_identifier
from dagmesh.warehouse import MeshWarehouse, PartitionWindow, PublishTarget, table_for_key


class MeshIOManager(dg.ConfigurableIOManager):
    warehouse: MeshWarehouse

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | None) -> None:
        if obj is None:
            return
        key = context.asset_key
        target = PublishTarget(product=key.to_user_string(), table=table_for_key(key.path), contract=None)
        result = self.warehouse.publish(target, obj)
        context.add_output_metadata(
            {"dagster/row_count": result.rows, "dagster/table_name": result.table}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.asset_key
        consumer = _consumer_name(context)
        where, params = None, []
        column = _partition_column(context)
        if column and context.has_asset_partitions:
            window = context.asset_partitions_time_window
            where = f"{quote_identifier(column)} >= ? AND {quote_identifier(column)} < ?"
            params = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
        return self.warehouse.read(
            table_for_key(upstream.path),
            consumer=consumer,
            upstream=upstream.to_user_string(),
            where=where,
            params=params,
        )


def _consumer_name(context: dg.InputContext) -> str:
    try:
        return context.op_def.name
    except Exception:  # outside a step (e.g. build_input_context in a notebook)
        return "a consumer"


def _partition_column(context: dg.InputContext) -> str | None:
    upstream = context.upstream_output
    metadata = (upstream.definition_metadata if upstream is not None else None) or {}
    value = metadata.get("dagmesh/partition_column")
    text = getattr(value, "value", value)
    return str(text) if text else None


__all__ = ["MeshIOManager", "PartitionWindow"]
