"""What a product step reads: every input, as a DataFrame (IO manager) or a relation (in-warehouse).

Both paths hold the read to the producer's published access level, so an in-warehouse product gets no
more than a pandas one: the producer's interface comes from the warehouse's publication log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg
import duckdb

from dagmesh.core.errors import MissingUpstreamError
from dagmesh.declare.access import Reader, refuse_unreadable
from dagmesh.declare.product import Relation
from dagmesh.storage.sql import qualified_name, quote_identifier
from dagmesh.storage.warehouse import (
    PartitionWindow,
    latest_publication_in,
    served_table,
    table_exists_in,
    table_for_key,
)


def input_relations(
    con: duckdb.DuckDBPyConnection,
    consumer: dg.AssetKey,
    consumer_owners: Sequence[str],
    inputs: Mapping[str, dg.AssetKey],
    partitioned_by: Mapping[dg.AssetKey, str],
    window: PartitionWindow | None,
    pins: Mapping[str, int | None] | None = None,
) -> dict[str, Relation]:
    """Each input as a lazy relation over its published table, on the step's connection. A partitioned
    run of a product reads the same window of a partitioned upstream (`partitioned_by`: its column).
    An input pinned to a previous major (`pins`) reads the table that major is served from."""
    relations: dict[str, Relation] = {}
    for param, upstream in inputs.items():
        table = table_for_key(upstream.path)
        if not table_exists_in(con, table):
            raise MissingUpstreamError(
                consumer.to_user_string(), upstream.to_user_string(), f"{table[0]}.{table[1]}"
            )
        refuse_unreadable(
            Reader.product(consumer, consumer_owners), upstream, latest_publication_in(con, table)
        )
        served = served_table(con, table, (pins or {}).get(param), consumer.to_user_string())
        sql, params = f"SELECT * FROM {qualified_name(served)}", []
        column = partitioned_by.get(upstream)
        if window is not None and column:
            col = quote_identifier(column)
            sql += f" WHERE {col} >= ? AND {col} < ?"
            params = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
        relations[param] = con.sql(sql, params=params or None)
    return relations
