"""Helpers for a domain's own tests: materialize products of a loaded location, and read what it published.

A location's tests build it as Dagster does (`from <domain>.definitions import defs; defs()`) under a
temporary `DAGMESH_HOME`, then call these; they need nothing from the platform's own test suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg
import duckdb


def materialize(
    defs: dg.Definitions,
    keys: Iterable[dg.AssetKey | str],
    instance: dg.DagsterInstance,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Materialize `keys` (`AssetKey`s or `"domain/product"`) of a location with their asset checks, in
    one run on `instance`, without raising: the result says what passed."""
    selection = [k if isinstance(k, dg.AssetKey) else dg.AssetKey.from_user_string(k) for k in keys]
    return dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        selection=sorted(selection, key=lambda k: k.to_user_string()),
        resources=dict(defs.resources or {}),
        instance=instance,
        tags=dict(tags or {}),
        raise_on_error=False,
    )


def published(warehouse: Path, sql: str) -> list[tuple]:
    """`sql` over the warehouse file, read-only (what consumers would see)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()
