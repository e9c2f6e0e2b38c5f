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
import warnings
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pandera.engines import pandas_engine
from pandera.typing import Series
from pydantic import ValidationError

from dagmesh.core.errors import DagmeshError
from dagmesh.declare.contract import Contract, ContractCheck, ContractColumn
from dagmesh.declare.product import DataProduct
from dagmesh.declare.types import (
    UnknownStorageTypeError,
    UnsupportedTypeError,
    arrow_type,
    duckdb_type,
    logical_type,
    storage_arrow_type,
    storage_type,
)
from dagmesh.storage.warehouse import table_for_key

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


def quality_rules(
    element: Mapping[str, Any], *, as_produced: bool = False
) -> list[Mapping[str, Any]]:
    """A column's or the table's quality rules: as published, or `as_produced`, the rules audited on the
    values before masking (the `auditedBeforeMasking` custom property; the published rules when nothing
    is masked, or in a document written before dagmesh listed them apart)."""
    rules = element.get("quality")
    audited = custom_property(element, AUDITED)
    if as_produced and isinstance(audited, Mapping):
        rules = audited.get("quality")
    return [rule for rule in rules or [] if isinstance(rule, Mapping)]


def produced_unique(prop: Mapping[str, Any]) -> bool:
    """Whether a column's values are unique as produced (a redacted column's published ones are not)."""
    audited = custom_property(prop, AUDITED)
    if isinstance(audited, Mapping) and "unique" in audited:
        return bool(audited["unique"])
    return bool(prop.get("unique", False))


def pandera_rules(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The pandera checks among `rules`, each as `{check, builtin, statistics, fingerprint}`.

    A document written before dagmesh recorded `builtin` names a built-in by pandera's name and gives
    no fingerprint; anything else is custom.
    """
    found = []
    for rule in rules:
        if rule.get("type") != "custom" or rule.get("engine") != PANDERA_ENGINE:
            continue
        implementation = rule.get("implementation") or {}
        if not isinstance(implementation, Mapping):
            continue
        name = str(implementation.get("check"))
        fingerprint = implementation.get("fingerprint")
        builtin = implementation.get("builtin")
        if builtin is None:
            builtin = fingerprint is None and pa.Check.is_builtin_check(name)
        found.append(
            {
                "check": name,
                "builtin": bool(builtin),
                "statistics": dict(implementation.get("statistics") or {}),
                "fingerprint": str(fingerprint) if fingerprint else None,
            }
        )
    return found


def column_checks(prop: Mapping[str, Any], *, as_produced: bool = False) -> list[dict[str, Any]]:
    """The pandera checks of a column (see `pandera_rules`), as published or as produced."""
    return pandera_rules(quality_rules(prop, as_produced=as_produced))


def unique_together(table: Mapping[str, Any], *, as_produced: bool = False) -> tuple[str, ...]:
    for rule in quality_rules(table, as_produced=as_produced):
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


# -- types (the maps live in dagmesh.declare.types) ----------------------------------------------


def _aligned(storage: pyarrow.DataType, declared: str) -> pyarrow.DataType:
    """DuckDB's Arrow type for a column, with what a DuckDB type name does not carry taken from the pandas
    dtype the document declares: list items named as pyarrow names them, the time zone, large strings."""
    t = pyarrow.types
    if t.is_list(storage):
        return pyarrow.list_(_aligned(storage.value_type, declared))
    if t.is_struct(storage):
        fields = [storage.field(i) for i in range(storage.num_fields)]
        return pyarrow.struct(
            [pyarrow.field(f.name, _aligned(f.type, declared), f.nullable) for f in fields]
        )
    if t.is_timestamp(storage) and storage.tz is not None:
        zone = re.search(r"tz=([^,\]\)>\s]+)", declared)
        return pyarrow.timestamp(storage.unit, tz=zone.group(1) if zone else "UTC")
    if t.is_string(storage) and "large_string" in declared:
        return pyarrow.large_string()
    return storage


def _natural_dtypes(storage: pyarrow.DataType) -> list[Any]:
    """The pandas dtypes a column stored as `storage` most naturally has: numpy's, `str`, `date`, pandas'
    datetimes, and last the Arrow dtype itself (which always stores as `storage`)."""
    t = pyarrow.types
    found: list[Any] = []
    if t.is_integer(storage) or t.is_floating(storage) or t.is_boolean(storage):
        found.append(str(np.dtype(storage.to_pandas_dtype())))
    elif t.is_string(storage):
        found.append("str")
    elif t.is_date32(storage):
        found.append("date")
    elif t.is_timestamp(storage):
        found.append(pd.DatetimeTZDtype("ns", "UTC") if storage.tz else "datetime64[ns]")
    found.append(pd.ArrowDtype(storage))
    return found


def column_dtype(prop: Mapping[str, Any]) -> tuple[Any, pyarrow.DataType]:
    """A document column's pandas dtype (as pandera's engine has it) and the Arrow type it stores as.

    The declared `panderaDtype` wins when pandera reads it. Arrow dtypes with parameters (decimals, lists,
    structs, zoned timestamps: pandas cannot read them back from their names) are rebuilt from the DuckDB
    `physicalType`. A document without `panderaDtype` (written elsewhere) gets the most natural pandas
    dtype that stores exactly as its `physicalType`, or its `logicalType`'s default.
    """
    declared = custom_property(prop, "panderaDtype")
    declared = str(declared) if declared else None
    physical = str(prop.get("physicalType") or "").strip()
    logical = prop.get("logicalType")
    storage = None
    if physical:
        try:
            storage = storage_arrow_type(physical)
        except UnknownStorageTypeError:
            storage = None
    candidates: list[Any] = []
    if declared:
        candidates.append(declared)
        if storage is not None:
            candidates.append(pd.ArrowDtype(_aligned(storage, declared)))
    if storage is not None:
        candidates += _natural_dtypes(storage)
    if logical in LOGICAL_DEFAULTS:
        candidates.append(LOGICAL_DEFAULTS[str(logical)])
    for candidate in candidates:
        try:
            dtype = pandas_engine.Engine.dtype(candidate)
            arrow = arrow_type(dtype)
        except (
            TypeError,
            ValueError,
            NotImplementedError,
            UnsupportedTypeError,
            pyarrow.ArrowException,
        ):
            continue
        if candidate is declared or storage is None or duckdb_type(arrow) == duckdb_type(storage):
            return dtype, arrow
    raise ContractDocumentError(
        f"column {prop.get('name')!r} has type {declared or physical or logical!r}, which dagmesh "
        "cannot map to a pandas dtype it stores exactly"
    )


# -- statistics ---------------------------------------------------------------------------------------

_REGEX_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _pattern_text(pattern: re.Pattern) -> str:
    """A compiled regex as text that compiles to the same regex: its flags written inline."""
    if not isinstance(pattern.pattern, str):
        return str(pattern.pattern)
    extra = pattern.flags & ~re.compile(pattern.pattern).flags
    letters = "".join(letter for flag, letter in _REGEX_FLAGS if extra & flag)
    if extra & re.ASCII:
        letters += "a"
    return f"(?{letters}){pattern.pattern}" if letters else pattern.pattern


def _plain(value: Any) -> Any:
    """A check statistic as a YAML/JSON-safe value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, re.Pattern):
        return _pattern_text(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return re.sub(r" at 0x[0-9a-fA-F]+", "", str(value))  # no memory address: the file stays stable


def _revive(statistics: Mapping[str, Any], arrow: pyarrow.DataType) -> dict[str, Any]:
    """Statistics read back: on a column stored as a date, timestamp or decimal, the ISO or decimal
    strings the document holds become dates, timestamps or Decimals again."""
    t = pyarrow.types
    if not (t.is_date(arrow) or t.is_timestamp(arrow) or t.is_decimal(arrow)):
        return dict(statistics)

    def convert(value: Any) -> Any:
        if isinstance(value, list):
            return [convert(v) for v in value]
        if not isinstance(value, str):
            return value
        try:
            if t.is_decimal(arrow):
                return Decimal(value)
            if not _ISO_DATE.match(value):
                return value
            if t.is_date(arrow) and _ISO_DATE.fullmatch(value):
                return dt.date.fromisoformat(value)
            return pd.Timestamp(value)
        except (ValueError, InvalidOperation):
            return value

    return {k: convert(v) if k in _VALUE_KEYS else v for k, v in statistics.items()}


def _builtin_check(name: str, statistics: Mapping[str, Any]) -> pa.Check | None:
    """pandera's built-in check `name` with these statistics (they are its arguments), or None."""
    if not pa.Check.is_builtin_check(name):
        return None
    try:
        return getattr(pa.Check, name)(**statistics)
    except (AttributeError, TypeError, ValueError):
        return None


def contract_checks(
    column: str | None, rules: Sequence[Mapping[str, Any]], arrow: pyarrow.DataType | None
) -> tuple[ContractCheck, ...]:
    """`pandera_rules` as `ContractCheck`s: typed statistics, and for a built-in the pandera check, so
    `dagmesh.storage.audit` can compile it to SQL. Custom checks have no body here, only their fingerprint."""
    checks = []
    for rule in rules:
        statistics = _revive(rule["statistics"], arrow) if arrow is not None else rule["statistics"]
        checks.append(
            ContractCheck(
                column,
                rule["check"],
                statistics,
                _builtin_check(rule["check"], statistics) if rule["builtin"] else None,
                builtin=rule["builtin"],
                fingerprint=rule["fingerprint"],
            )
        )
    return tuple(checks)


def contract_column(prop: Mapping[str, Any], *, as_produced: bool = False) -> ContractColumn:
    """A property as the platform's `ContractColumn`, so `dagmesh.storage.audit` can compile its checks to SQL:
    with its checks and uniqueness as published, or `as_produced` (audited before masking)."""
    dtype, arrow = column_dtype(prop)
    name = str(prop["name"])
    physical = str(prop.get("physicalType") or "").strip()
    mask = custom_property(prop, "mask")
    return ContractColumn(
        name=name,
        pandera_dtype=str(custom_property(prop, "panderaDtype") or dtype),
        duckdb_type=storage_type(physical) if physical else duckdb_type(arrow),
        nullable=not prop.get("required", False),
        unique=produced_unique(prop) if as_produced else bool(prop.get("unique", False)),
        description=prop.get("description"),
        checks=contract_checks(name, column_checks(prop, as_produced=as_produced), arrow),
        pii=True if prop.get("classification") == "pii" else None,
        mask=str(mask) if mask else None,
        arrow_type=arrow,
    )


def _human_seconds(seconds: float) -> tuple[int | float, str]:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return int(seconds // size), unit
    return (int(seconds) if float(seconds).is_integer() else seconds), "s"


def _quality(check: ContractCheck) -> dict[str, Any]:
    implementation: dict[str, Any] = {
        "check": check.name,
        "builtin": check.builtin,
        "statistics": _plain(check.statistics),
    }
    if check.fingerprint:
        implementation["fingerprint"] = check.fingerprint
    return {
        "name": check.name,
        "description": check.label,
        "type": "custom",
        "engine": PANDERA_ENGINE,
        "implementation": implementation,
    }


def _unique_rule(columns: Sequence[str]) -> dict[str, Any]:
    return {
        "name": "unique_together",
        "description": f"unique({', '.join(columns)})",
        "type": "library",
        "metric": "duplicateValues",
        "mustBe": 0,
        "arguments": {"properties": list(columns)},
    }


def _published_checks(column: ContractColumn, published: pa.DataFrameSchema) -> list[ContractCheck]:
    """What holds for consumers on a column's values as published: the contract's own checks, or for a
    masked column the checks `Contract.published_schema` gives it (pandera built-ins)."""
    if not column.mask:
        return list(column.checks)
    return [
        ContractCheck(
            column.name, str(check.name), dict(check.statistics or {}), check, builtin=True
        )
        for check in published.columns[column.name].checks
    ]


def _property(
    column: ContractColumn, partition_column: str | None, published: pa.DataFrameSchema
) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "name": column.name,
        "logicalType": logical_type(column.arrow_type),
        "physicalType": column.duckdb_type,
        "required": not column.nullable,
        "unique": column.published_unique,
    }
    if column.description:
        prop["description"] = column.description
    if column.pii:
        prop["classification"] = "pii"
    if column.name == partition_column:
        prop["partitioned"] = True
        prop["partitionKeyPosition"] = 1
    custom: list[dict[str, Any]] = [{"property": "panderaDtype", "value": column.pandera_dtype}]
    if column.mask:
        custom.append({"property": "mask", "value": column.mask})
        audited = {"unique": column.unique, "quality": [_quality(c) for c in column.checks]}
        custom.append({"property": AUDITED, "value": audited})
    prop["customProperties"] = custom
    checks = _published_checks(column, published)
    if checks:
        prop["quality"] = [_quality(check) for check in checks]
    return prop


# -- code -> ODCS -------------------------------------------------------------------------------------


def _table_properties(contract: Contract) -> list[dict[str, Any]]:
    custom: list[dict[str, Any]] = [{"property": "panderaModel", "value": contract.name}]
    if contract.masked:
        audited = [_unique_rule(contract.unique_together)] if contract.unique_together else []
        audited += [_quality(check) for check in contract.frame_checks]
        custom.append({"property": AUDITED, "value": {"quality": audited}})
    return custom


def to_odcs(product: DataProduct, domain: str) -> dict[str, Any]:
    """The ODCS v3 document of `product` in `domain`: a plain dict, YAML-ready, valid for the standard."""
    contract = product.contract
    schema, table_name = table_for_key(product.key(domain).path)
    published = contract.published_schema()
    quality: list[dict[str, Any]] = []
    if contract.published_unique_together:
        quality.append(_unique_rule(contract.published_unique_together))
    if not contract.masked:
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
    table["properties"] = [
        _property(c, product.partition_column, published) for c in contract.columns
    ]
    if quality:
        table["quality"] = quality
    table["customProperties"] = _table_properties(contract)

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


# libyaml's safe loader where PyYAML was built with it (the wheels are): the same documents as
# `yaml.safe_load`, several times faster; every code location reads the published contracts at load.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_odcs(source: str | Path) -> dict[str, Any]:
    """An ODCS document from a YAML file (a `Path`) or YAML text (a `str`)."""
    text = source.read_text() if isinstance(source, Path) else source
    try:
        doc = yaml.load(text, Loader=_SAFE_LOADER)
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
    checks. Custom (user-function) checks cannot be rebuilt from a document, not even one named like a
    built-in: they are skipped with a warning. A masked column gets the checks and uniqueness audited
    before masking (the model is the producer's), and its mask.
    """
    doc = source if isinstance(source, Mapping) else load_odcs(source)
    validate_odcs(doc)
    table = table_object(doc)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for prop in table.get("properties") or []:
        name = str(prop["name"])
        try:
            dtype, arrow = column_dtype(prop)
        except ContractDocumentError as error:
            raise ContractDocumentError(f"contract {doc.get('id')!r}: {error}") from None
        annotations[name] = Series[dtype]  # type: ignore[valid-type]
        kwargs: dict[str, Any] = _native_checks(prop)
        for rule in column_checks(prop, as_produced=True):
            check = rule["check"]
            if not rule["builtin"] or check not in _FIELD_CHECKS:
                warnings.warn(
                    f"contract {doc.get('id')!r}: check {check!r} on {name!r} is a custom function "
                    "and cannot be rebuilt from the document; it is left out",
                    stacklevel=2,
                )
                continue
            keyword, build = _FIELD_CHECKS[check]
            kwargs[keyword] = build(_revive(rule["statistics"], arrow))
        metadata: dict[str, Any] = {}
        if prop.get("classification") == "pii":
            metadata["pii"] = True
        if custom_property(prop, "mask"):
            metadata["mask"] = custom_property(prop, "mask")
        namespace[name] = pa.Field(
            nullable=not prop.get("required", False),
            unique=produced_unique(prop),
            description=prop.get("description"),
            metadata=metadata or None,
            **kwargs,
        )
    for rule in pandera_rules(quality_rules(table, as_produced=True)):
        warnings.warn(
            f"contract {doc.get('id')!r}: table check {rule['check']!r} is a custom function "
            "and cannot be rebuilt from the document; it is left out",
            stacklevel=2,
        )
    class_name = str(custom_property(table, "panderaModel") or _class_name(str(table.get("name"))))
    config_attrs: dict[str, Any] = {"name": class_name}
    if unique_together(table, as_produced=True):
        config_attrs["unique"] = list(unique_together(table, as_produced=True))
    namespace.update(
        {
            "__annotations__": annotations,
            "__doc__": table.get("description") or (doc.get("description") or {}).get("purpose"),
            "__module__": __name__,
            "Config": type("Config", (), config_attrs),
        }
    )
    return type(class_name, (pa.DataFrameModel,), namespace)
