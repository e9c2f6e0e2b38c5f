"""Example rows from a contract: valid input frames for a product's tests (`dagmesh.testing`).

The rows follow the contract's columns and types, distinct where a column is unique, inside declared
bounds, from allowed values and text rules (a `str_matches` pattern through hypothesis). A custom check
cannot be read, so it is not honoured: give your own frame for that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from dagmesh.binding.asset import declared_products
from dagmesh.core.errors import DagmeshError
from dagmesh.core.paths import find_project_root
from dagmesh.declare.contract import Contract
from dagmesh.registry.odcs import from_odcs
from dagmesh.registry.store import producer_folder, read_registry


def product_key(key: dg.AssetKey | str, domain: str | None = None) -> dg.AssetKey:
    """`"domain/name"` (or a bare name in `domain`, or an `AssetKey`) as an `AssetKey`."""
    if isinstance(key, dg.AssetKey):
        return key
    path = key.split("@")[0].split("/")
    return dg.AssetKey([domain, *path] if domain and len(path) == 1 else path)


def project_root_of(products: Any) -> Path:
    """The project holding the products' declarations (whose contracts/ folders are the registry)."""
    for product in products:
        source = product.declared_at.rsplit(":", 1)[0]
        if source:
            return find_project_root(Path(source).parent)
    return find_project_root()


def registry_contract(key: dg.AssetKey, root: Path) -> Any:
    """The pandera model of `key`'s newest contract in the registry under `root`."""
    registry = read_registry(producer_folder(root, key.path[0]), key.path[-1])
    if not registry:
        raise DagmeshError(
            f"{key.to_user_string()} is not in {key.path[0]}'s contract registry under {root}"
        )
    return from_odcs(registry[max(registry)])


def _bounds(checks: list[Any]) -> tuple[Any, bool, Any, bool]:
    """(low, low included, high, high included) of a column's bound checks."""
    low = high = None
    low_in = high_in = True
    for check in checks:
        stats = check.statistics or {}
        if check.name in ("greater_than", "greater_than_or_equal_to"):
            low, low_in = stats.get("min_value"), check.name.endswith("equal_to")
        elif check.name in ("less_than", "less_than_or_equal_to"):
            high, high_in = stats.get("max_value"), check.name.endswith("equal_to")
        elif check.name == "in_range":
            low, high = stats.get("min_value"), stats.get("max_value")
            low_in, high_in = stats.get("include_min", True), stats.get("include_max", True)
    return low, low_in, high, high_in


def _numbers(rows: int, checks: list[Any], step: Any, start: Any) -> list[Any]:
    low, low_in, high, high_in = _bounds(checks)
    first = start if low is None else type(start)(low) + (0 if low_in else step)
    last = None if high is None else type(start)(high) - (0 if high_in else step)
    values = [first + step * i for i in range(rows)]
    if last is not None:
        span = max(int((last - first) / step) + 1, 1)
        values = [first + step * (i % span) for i in range(rows)]
    return values


def _texts(name: str, rows: int, checks: list[Any]) -> list[str]:
    stats = {c.name: c.statistics or {} for c in checks}
    if "str_matches" in stats:
        from hypothesis import HealthCheck, Phase, find, settings, strategies

        pattern = strategies.from_regex(stats["str_matches"]["pattern"], fullmatch=True)
        # The first match found, not the simplest: shrinking each one (hypothesis' default for `find`)
        # took minutes under a test runner's tracing. No example database: nothing is written.
        first_found = settings(
            phases=[Phase.generate],
            database=None,
            deadline=None,
            max_examples=1000,
            suppress_health_check=list(HealthCheck),
        )
        found: list[str] = []
        for _ in range(rows):
            found.append(
                find(
                    pattern, lambda text, seen=tuple(found): text not in seen, settings=first_found
                )
            )
        return found
    values = []
    for i in range(rows):
        text = f"{name}_{i + 1}"
        text = stats.get("str_startswith", {}).get("string", "") + text
        text += stats.get("str_contains", {}).get("pattern", "")
        text += stats.get("str_endswith", {}).get("string", "")
        length = stats.get("str_length", {})
        if length.get("min_value") and len(text) < length["min_value"]:
            text = text.rjust(length["min_value"], "x")
        if length.get("max_value") and len(text) > length["max_value"]:
            text = text[-length["max_value"] :]
        values.append(text)
    return values


def _column_values(name: str, dtype: Any, rows: int, checks: list[Any]) -> list[Any]:
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa

    named = {c.name: c.statistics or {} for c in checks}
    if "isin" in named:
        allowed = list(named["isin"]["allowed_values"])
        return [allowed[i % len(allowed)] for i in range(rows)]
    if "equal_to" in named:
        return [named["equal_to"]["value"]] * rows
    arrow = dtype.pyarrow_dtype if isinstance(dtype, pd.ArrowDtype) else None
    if arrow is not None and pa.types.is_decimal(arrow):
        step = Decimal(1).scaleb(-arrow.scale) if arrow.scale else Decimal(1)
        return [Decimal(v).quantize(step) for v in _numbers(rows, checks, Decimal(1), Decimal(1))]
    if (arrow is not None and pa.types.is_date(arrow)) or (
        arrow is not None and pa.types.is_timestamp(arrow)
    ):
        start = dt.date(2024, 1, 1)
        low, _, _, _ = _bounds(checks)
        if low is not None:
            start = pd.Timestamp(low).date() + dt.timedelta(days=1)
        days = [start + dt.timedelta(days=i) for i in range(rows)]
        if pa.types.is_date(arrow):
            return days
        return [pd.Timestamp(d, tz=arrow.tz) for d in days]
    kind = pd.api.types.pandas_dtype(dtype).kind if arrow is None else None
    if kind == "b" or (arrow is not None and pa.types.is_boolean(arrow)):
        return [i % 2 == 0 for i in range(rows)]
    if kind in ("i", "u") or (arrow is not None and pa.types.is_integer(arrow)):
        return _numbers(rows, checks, 1, 1)
    if kind == "f" or (arrow is not None and pa.types.is_floating(arrow)):
        return [float(v) for v in _numbers(rows, checks, 1.0, 1.0)]
    if kind == "M":
        zone = getattr(pd.api.types.pandas_dtype(dtype), "tz", None)
        return [pd.Timestamp("2024-01-01", tz=zone) + pd.Timedelta(days=i) for i in range(rows)]
    return _texts(name, rows, checks)


def example_frame(contract: Any, rows: int = 3) -> pd.DataFrame:
    """`rows` example rows meeting `contract` (a pandera model, a product's contract, or a product
    named "domain/name" whose contract is read from the registry): the contract's columns and types,
    distinct values where unique, inside the declared bounds, allowed values and text patterns. A custom
    check it cannot read is not honoured: edit the rows, or give your own frame."""
    if isinstance(contract, str):
        contract = registry_contract(product_key(contract), find_project_root())
    if isinstance(contract, Contract):
        contract = contract.model
    schema = contract.to_schema() if hasattr(contract, "to_schema") else contract
    columns = {}
    for name, column in schema.columns.items():
        dtype = column.dtype.type
        values = _column_values(name, dtype, rows, list(column.checks))
        text = isinstance(dtype, str) or str(column.dtype) == "str"
        columns[name] = pd.Series(values, dtype=object if text else dtype)
    return pd.DataFrame(columns)


def example_inputs(
    defs: dg.Definitions, product: str | dg.AssetKey, rows: int = 3, root: Path | None = None
) -> dict[str, pd.DataFrame]:
    """Example frames (`example_frame`) for every input `product` declares: its own domain's from the
    location's contracts, another domain's from the registry."""
    own = declared_products(defs)
    key = product_key(product, next(iter(own)).path[0] if own else None)
    if key not in own:
        raise DagmeshError(f"{key.to_user_string()} is not a product of this location")
    root = root or project_root_of(own.values())
    frames = {}
    for ref in own[key].inputs.values():
        upstream = ref.resolve(key.path[0])
        contract = (
            own[upstream].contract.model if upstream in own else registry_contract(upstream, root)
        )
        frames[upstream.to_user_string()] = example_frame(contract, rows)
    return frames
