"""A product's contract as an Open Data Contract Standard (ODCS) v3 document, and back to pandera.

The document is what the registry stores and `dagmesh export` writes. Everything a consumer may rely on is
in it: columns with their exact DuckDB type, nullability, uniqueness, PII classification and every pandera
check (as a `custom` quality rule of engine `pandera`, carrying the check's name, whether it is one of
pandera's built-ins, its statistics, and for a custom check the fingerprint of its body, so the registry
sees any change), table-level uniqueness (the ODCS `duplicateValues` library rule), access level, allowed
consumers and the freshness SLO.

A masked PII column publishes hashes or a redaction marker, so its `quality` and `unique` are what holds
for the values as published; the checks audited on the values before masking are listed apart, in its
`auditedBeforeMasking` custom property. A contract with a masked column publishes no table checks (they
may read masked values): the table's `auditedBeforeMasking` custom property lists them.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import warnings
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pandera.engines import pandas_engine
from pandera.typing import Series
from pydantic import ValidationError

from dagmesh.contract import Contract, ContractCheck, ContractColumn
from dagmesh.errors import DagmeshError
from dagmesh.product import DataProduct
from dagmesh.storage_types import UnsupportedTypeError, arrow_type, duckdb_type
from dagmesh.warehouse import table_for_key

ODCS_API_VERSION = "v3.2.0"
PANDERA_ENGINE = "pandera"
AUDITED = "auditedBeforeMasking"

# When a document gives only a logical type (a contract written elsewhere): the pandas dtype it gets.
LOGICAL_DEFAULTS: dict[str, str] = {
    "integer": "int64",
    "number": "float64",
    "string": "str",
    "boolean": "bool",
    "timestamp": "datetime64[ns]",
    "date": "date",
}
TIME_UNITS: dict[str, int] = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
# pandera check name -> (`pa.Field` keyword, how its statistics become that keyword's value)
_FIELD_CHECKS: dict[str, tuple[str, Any]] = {
    "greater_than": ("gt", lambda s: s["min_value"]),
    "greater_than_or_equal_to": ("ge", lambda s: s["min_value"]),
    "less_than": ("lt", lambda s: s["max_value"]),
    "less_than_or_equal_to": ("le", lambda s: s["max_value"]),
    "equal_to": ("eq", lambda s: s["value"]),
    "not_equal_to": ("ne", lambda s: s["value"]),
    "in_range": ("in_range", lambda s: {k: v for k, v in s.items() if v is not None}),
    "isin": ("isin", lambda s: list(s["allowed_values"])),
    "notin": ("notin", lambda s: list(s["forbidden_values"])),
    "str_matches": ("str_matches", lambda s: s["pattern"]),
    "str_contains": ("str_contains", lambda s: s["pattern"]),
    "str_startswith": ("str_startswith", lambda s: s["string"]),
    "str_endswith": ("str_endswith", lambda s: s["string"]),
    "str_length": ("str_length", lambda s: {k: v for k, v in s.items() if v is not None}),
    "unique_values_eq": ("unique_values_eq", lambda s: list(s["values"])),
}
_VALUE_KEYS = ("min_value", "max_value", "value", "allowed_values", "forbidden_values", "values")


class ContractDocumentError(DagmeshError):
    """An ODCS document that the standard's model rejects, or that dagmesh cannot turn into pandera."""


# -- helpers shared with the registry and the diff ---------------------------------------------------


def custom_property(element: Mapping[str, Any] | None, name: str, default: Any = None) -> Any:
    """The value of ODCS custom property `name` on a document, schema object or property."""
    for item in (element or {}).get("customProperties") or []:
        if isinstance(item, Mapping) and item.get("property") == name:
            return item.get("value")
    return default


def table_object(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document's schema object (dagmesh writes exactly one: the product's table)."""
    objects = doc.get("schema") or []
    if not objects:
        raise ContractDocumentError(f"contract {doc.get('id')!r} has no schema object")
    if len(objects) > 1:
        named = [o for o in objects if o.get("name") == doc.get("dataProduct")]
        if len(named) != 1:
            raise ContractDocumentError(
                f"contract {doc.get('id')!r} has {len(objects)} schema objects; dagmesh reads one table"
            )
        return named[0]
    return objects[0]


def column_checks(prop: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The pandera checks (name, statistics) a property's quality rules carry."""
    found = []
    for rule in prop.get("quality") or []:
        if rule.get("type") == "custom" and rule.get("engine") == PANDERA_ENGINE:
            implementation = rule.get("implementation") or {}
            if isinstance(implementation, Mapping):
                found.append(
                    (str(implementation.get("check")), dict(implementation.get("statistics") or {}))
                )
    return found


def unique_together(table: Mapping[str, Any]) -> tuple[str, ...]:
    for rule in table.get("quality") or []:
        if rule.get("metric") == "duplicateValues" and rule.get("mustBe") == 0:
            columns = (rule.get("arguments") or {}).get("properties") or []
            if columns:
                return tuple(str(c) for c in columns)
    return ()


def freshness_seconds(doc: Mapping[str, Any]) -> float | None:
    """The SLO's maximum lag in seconds (the `latency` SLA property), or None when not declared."""
    for sla in doc.get("slaProperties") or []:
        if sla.get("property") == "latency" and isinstance(sla.get("value"), (int, float)):
            return float(sla["value"]) * TIME_UNITS.get(str(sla.get("unit") or "s"), 1)
    return None


def contract_column(
    prop: Mapping[str, Any], checks: list[tuple[str, dict[str, Any]]]
) -> ContractColumn:
    """A property as the platform's `ContractColumn`, so `dagmesh.audit` can compile its checks to SQL."""
    physical = str(prop.get("physicalType") or "").upper()
    logical = str(prop.get("logicalType") or LOGICAL_TYPES.get(physical, ""))
    return ContractColumn(
        name=str(prop["name"]),
        pandera_dtype=str(
            custom_property(prop, "panderaDtype") or DEFAULT_PANDERA_TYPES.get(physical, "")
        ),
        duckdb_type=physical,
        nullable=not prop.get("required", False),
        unique=bool(prop.get("unique", False)),
        description=prop.get("description"),
        checks=tuple(
            ContractCheck(str(prop["name"]), name, _revive(stats, logical))
            for name, stats in checks
        ),
    )


def _plain(value: Any) -> Any:
    """A check statistic as a YAML/JSON-safe value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _revive(statistics: Mapping[str, Any], logical_type: str) -> dict[str, Any]:
    """Statistics read back: ISO strings on a date/timestamp column become timestamps again."""
    if logical_type not in ("timestamp", "date"):
        return dict(statistics)

    def convert(value: Any) -> Any:
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, str):
            try:
                return pd.Timestamp(value)
            except ValueError:
                return value
        return value

    return {k: convert(v) if k in _VALUE_KEYS else v for k, v in statistics.items()}


def _human_seconds(seconds: float) -> tuple[int | float, str]:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return int(seconds // size), unit
    return (int(seconds) if float(seconds).is_integer() else seconds), "s"


def _quality(check: ContractCheck) -> dict[str, Any]:
    return {
        "name": check.name,
        "description": check.label,
        "type": "custom",
        "engine": PANDERA_ENGINE,
        "implementation": {"check": check.name, "statistics": _plain(check.statistics)},
    }


def _property(column: ContractColumn, partition_column: str | None) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "name": column.name,
        "logicalType": LOGICAL_TYPES[column.duckdb_type],
        "physicalType": column.duckdb_type,
        "required": not column.nullable,
        "unique": column.unique,
    }
    if column.description:
        prop["description"] = column.description
    if column.pii:
        prop["classification"] = "pii"
    if column.name == partition_column:
        prop["partitioned"] = True
        prop["partitionKeyPosition"] = 1
    custom = [{"property": "panderaDtype", "value": column.pandera_dtype}]
    if column.mask:
        custom.append({"property": "mask", "value": column.mask})
    prop["customProperties"] = custom
    if column.checks:
        prop["quality"] = [_quality(check) for check in column.checks]
    return prop


# -- code -> ODCS -------------------------------------------------------------------------------------


def to_odcs(product: DataProduct, domain: str) -> dict[str, Any]:
    """The ODCS v3 document of `product` in `domain`: a plain dict, YAML-ready, valid for the standard."""
    contract = product.contract
    schema, table_name = table_for_key(product.key(domain).path)
    quality: list[dict[str, Any]] = []
    if contract.unique_together:
        quality.append(
            {
                "name": "unique_together",
                "description": f"unique({', '.join(contract.unique_together)})",
                "type": "library",
                "metric": "duplicateValues",
                "mustBe": 0,
                "arguments": {"properties": list(contract.unique_together)},
            }
        )
    quality += [_quality(check) for check in contract.frame_checks]
    table: dict[str, Any] = {
        "name": product.name,
        "physicalName": f"{schema}.{table_name}",
        "physicalType": "table",
        "logicalType": "object",
        "businessName": contract.name,
    }
    if contract.description:
        table["description"] = contract.description
    table["properties"] = [_property(c, product.partition_column) for c in contract.columns]
    if quality:
        table["quality"] = quality
    table["customProperties"] = [{"property": "panderaModel", "value": contract.name}]

    value, unit = _human_seconds(product.slo.max_lag.total_seconds())
    latency: dict[str, Any] = {
        "property": "latency",
        "value": value,
        "unit": unit,
        "driver": "operational",
        "description": product.slo.describe(),
    }
    if product.slo.warn_after is not None:
        latency["customProperties"] = [
            {"property": "warnAfterSeconds", "value": int(product.slo.warn_after.total_seconds())}
        ]
    custom: list[dict[str, Any]] = [
        {"property": "access", "value": product.access},
        {"property": "allowedConsumers", "value": list(product.allowed_consumers)},
    ]
    if product.partition_column:
        custom.append({"property": "partitionColumn", "value": product.partition_column})
    if product.deprecation_date is not None:
        custom.append(
            {
                "property": "previousMajorDeprecationDate",
                "value": product.deprecation_date.isoformat(),
            }
        )
    return {
        "apiVersion": ODCS_API_VERSION,
        "kind": "DataContract",
        "id": f"{domain}.{product.name}",
        "name": product.name,
        "version": product.version,
        "status": "active",
        "domain": domain,
        "dataProduct": product.name,
        "description": {
            "purpose": product.description,
            "usage": f"Declare as a product input: inputs=['{domain}/{product.name}"
            f"@{product.major_version}'] (table {schema}.{table_name}).",
        },
        "team": {
            "name": domain,
            "members": [{"username": owner, "role": "owner"} for owner in product.owners],
        },
        "schema": [table],
        "slaProperties": [latency],
        "customProperties": custom,
    }


def validate_odcs(doc: Mapping[str, Any]) -> OpenDataContractStandard:
    """The document as the standard's pydantic model; a `ContractDocumentError` if the model rejects it."""
    try:
        return OpenDataContractStandard.model_validate(dict(doc))
    except ValidationError as error:
        raise ContractDocumentError(
            f"contract {doc.get('id')!r} is not a valid ODCS document: {error}"
        ) from error


def dump_odcs(doc: Mapping[str, Any]) -> str:
    """Deterministic YAML: publishing an unchanged contract rewrites the same bytes."""
    return yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, width=100)


def load_odcs(source: str | Path) -> dict[str, Any]:
    """An ODCS document from a YAML file (a `Path`) or YAML text (a `str`)."""
    text = source.read_text() if isinstance(source, Path) else source
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ContractDocumentError(f"{source}: not valid YAML: {error}") from error
    if not isinstance(doc, dict):
        raise ContractDocumentError(f"{source}: not an ODCS document (expected a mapping)")
    return doc


def normalized(doc: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` as it reads back from its YAML file (tuples become lists...), so two docs compare equal."""
    return yaml.safe_load(dump_odcs(doc))


# -- ODCS -> pandera ----------------------------------------------------------------------------------


def _class_name(text: str) -> str:
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)
    return name if name and name[0].isalpha() else f"Contract{name}"


def _native_checks(prop: Mapping[str, Any]) -> dict[str, Any]:
    """Field keywords from ODCS-native constraints (contracts written by other tools)."""
    options = prop.get("logicalTypeOptions") or {}
    kwargs: dict[str, Any] = {}
    for option, keyword in (
        ("minimum", "ge"),
        ("exclusiveMinimum", "gt"),
        ("maximum", "le"),
        ("exclusiveMaximum", "lt"),
        ("pattern", "str_matches"),
    ):
        if option in options:
            kwargs[keyword] = options[option]
    if "minLength" in options or "maxLength" in options:
        kwargs["str_length"] = {
            k: options[o]
            for o, k in (("minLength", "min_value"), ("maxLength", "max_value"))
            if o in options
        }
    if prop.get("enum"):
        kwargs["isin"] = [item.get("value") for item in prop["enum"]]
    for rule in prop.get("quality") or []:
        valid = (rule.get("arguments") or {}).get("validValues")
        if rule.get("metric") == "invalidValues" and valid and rule.get("mustBe") == 0:
            kwargs["isin"] = list(valid)
    return kwargs


def from_odcs(source: Mapping[str, Any] | str | Path) -> type[pa.DataFrameModel]:
    """A pandera `DataFrameModel` with the document's columns, types, nullability, uniqueness and checks.

    Checks written by dagmesh (engine `pandera`) are rebuilt exactly; ODCS-native constraints
    (`logicalTypeOptions` bounds and patterns, `enum`, `invalidValues`) become the equivalent pandera
    checks. Custom (user-function) checks cannot be rebuilt from a document: they are skipped with a warning.
    """
    doc = source if isinstance(source, Mapping) else load_odcs(source)
    validate_odcs(doc)
    table = table_object(doc)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for prop in table.get("properties") or []:
        name = str(prop["name"])
        physical = str(prop.get("physicalType") or "").upper()
        logical = str(prop.get("logicalType") or LOGICAL_TYPES.get(physical, "string"))
        dtype = (
            custom_property(prop, "panderaDtype")
            or DEFAULT_PANDERA_TYPES.get(physical)
            or LOGICAL_DEFAULTS.get(logical)
        )
        if dtype is None:
            raise ContractDocumentError(
                f"contract {doc.get('id')!r}: column {name!r} has type {physical or logical!r}, "
                "which dagmesh cannot map to a pandas dtype"
            )
        dtype = "str" if dtype == "string" else dtype
        annotations[name] = Series[pandas_engine.Engine.dtype(dtype)]  # type: ignore[misc]
        kwargs: dict[str, Any] = _native_checks(prop)
        for check, statistics in column_checks(prop):
            if check not in _FIELD_CHECKS:
                warnings.warn(
                    f"contract {doc.get('id')!r}: check {check!r} on {name!r} is a custom function "
                    "and cannot be rebuilt from the document; it is left out",
                    stacklevel=2,
                )
                continue
            keyword, build = _FIELD_CHECKS[check]
            kwargs[keyword] = build(_revive(statistics, logical))
        metadata: dict[str, Any] = {}
        if prop.get("classification") == "pii":
            metadata["pii"] = True
        if custom_property(prop, "mask"):
            metadata["mask"] = custom_property(prop, "mask")
        namespace[name] = pa.Field(
            nullable=not prop.get("required", False),
            unique=bool(prop.get("unique", False)),
            description=prop.get("description"),
            metadata=metadata or None,
            **kwargs,
        )
    for rule in table.get("quality") or []:
        if rule.get("type") == "custom" and rule.get("engine") == PANDERA_ENGINE:
            warnings.warn(
                f"contract {doc.get('id')!r}: table check {rule.get('name')!r} is a custom function "
                "and cannot be rebuilt from the document; it is left out",
                stacklevel=2,
            )
    class_name = str(custom_property(table, "panderaModel") or _class_name(str(table.get("name"))))
    config_attrs: dict[str, Any] = {"name": class_name}
    if unique_together(table):
        config_attrs["unique"] = list(unique_together(table))
    namespace.update(
        {
            "__annotations__": annotations,
            "__doc__": table.get("description") or (doc.get("description") or {}).get("purpose"),
            "__module__": __name__,
            "Config": type("Config", (), config_attrs),
        }
    )
    return type(class_name, (pa.DataFrameModel,), namespace)
