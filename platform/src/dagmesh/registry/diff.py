"""What changed between two versions of a contract, and whether each change breaks its consumers.

The rule behind every verdict: a consumer relies on each guarantee the published contract makes. Removing
or weakening a guarantee (a column, a type's range, non-nullness, uniqueness, a check, access, freshness)
breaks consumers. Adding a guarantee is a promise about data: it is safe only if the data already
published keeps it, which `PublishedData` verifies against the warehouse when given one; without it the
new guarantee is "potentially breaking" and counted as breaking. The full table is in docs/contracts.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from dagmesh.audit import compile_column
from dagmesh.contract import ContractCheck, ContractColumn
from dagmesh.registry.odcs import (
    column_checks,
    contract_column,
    custom_property,
    freshness_seconds,
    table_object,
    unique_together,
)
from dagmesh.sql import qualified_name, quote_identifier

ACCESS_ORDER = {"private": 0, "internal": 1, "public": 2}
SIGNED = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"]
UNSIGNED = ["UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"]
# Integers a float type holds exactly: FLOAT's 24-bit mantissa holds 16-bit integers, DOUBLE's 32-bit ones.
EXACT_IN = {"FLOAT": 16, "DOUBLE": 32}


@dataclass(frozen=True)
class Change:
    """One difference between the published contract and the code's, with its verdict."""

    kind: str
    column: str | None
    breaking: bool
    detail: str

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"{self.kind} ({where}{self.detail})"


def _bits(duckdb_type: str) -> tuple[str, int] | None:
    if duckdb_type in SIGNED:
        return "signed", 8 << SIGNED.index(duckdb_type)
    if duckdb_type in UNSIGNED:
        return "unsigned", 8 << UNSIGNED.index(duckdb_type)
    return None


def is_widening(old: str, new: str) -> bool:
    """True when every value of type `old` is a value of type `new` (INTEGER -> BIGINT, FLOAT -> DOUBLE)."""
    if old == new:
        return True
    before, after = _bits(old), _bits(new)
    if before and after:
        (old_kind, old_bits), (new_kind, new_bits) = before, after
        if old_kind == new_kind:
            return new_bits > old_bits
        return (
            old_kind == "unsigned" and new_bits > old_bits
        )  # UINTEGER -> BIGINT fits; the reverse never
    if before and new in EXACT_IN:
        return before[1] <= EXACT_IN[new]
    return (old, new) == ("FLOAT", "DOUBLE")


class PublishedData:
    """Counts the published rows that would violate a new guarantee, in the product's warehouse table.

    Returns None when it cannot tell (no table, a check with no SQL form), which the diff treats as
    potentially breaking.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, table: str):
        self.con = con
        self.table = qualified_name([schema, table])
        self.exists = bool(
            con.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchone()[0]
        )

    def _count(self, predicate: str, params: Sequence[Any] = ()) -> int | None:
        if not self.exists:
            return None
        try:
            row = self.con.execute(
                f"SELECT COUNT(*) FROM {self.table} WHERE {predicate}", list(params)
            )
            return int(row.fetchone()[0])
        except duckdb.Error:
            return None

    def check_violations(self, column: ContractColumn, check: ContractCheck) -> int | None:
        probe = ContractColumn(
            column.name, column.pandera_dtype, column.duckdb_type, True, False, None, (check,)
        )
        compiled, leftover = compile_column(probe)
        if leftover or not compiled:
            return None
        return self._count(compiled[0].failing_predicate, compiled[0].params)

    def duplicate_rows(self, columns: Sequence[str]) -> int | None:
        cols = ", ".join(quote_identifier(c) for c in columns)
        not_null = " AND ".join(f"{quote_identifier(c)} IS NOT NULL" for c in columns)
        return self._count(
            f"({cols}) IN (SELECT ({cols}) FROM {self.table} WHERE {not_null} "
            f"GROUP BY {cols} HAVING COUNT(*) > 1)"
            if len(columns) > 1
            else f"{cols} IN (SELECT {cols} FROM {self.table} WHERE {not_null} "
            f"GROUP BY {cols} HAVING COUNT(*) > 1)"
        )


def _verdict(violations: int | None, data: PublishedData | None) -> tuple[bool, str]:
    """(breaking, why) for a new guarantee given the published rows violating it."""
    if violations is None:
        if data is None:
            why = "not verified against published data (dagmesh check --verify-data)"
        elif not data.exists:
            why = "no published table to verify it against"
        else:
            why = "it has no SQL form to verify it against published data"
        return True, f"potentially breaking: {why}"
    if violations:
        return True, f"{violations} published row(s) violate it"
    return False, "published data already satisfies it"


def _bound(statistics: Mapping[str, Any], key: str, unbounded: float) -> Any:
    value = statistics.get(key)
    return unbounded if value is None else value


def _range_direction(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Ranges (`in_range`, `str_length`): inside the old one is tighter, around it looser."""
    if old.get("exact_value") != new.get("exact_value"):
        return "changed"
    old_lo, new_lo = (
        _bound(old, "min_value", float("-inf")),
        _bound(new, "min_value", float("-inf")),
    )
    old_hi, new_hi = _bound(old, "max_value", float("inf")), _bound(new, "max_value", float("inf"))
    flags = ("include_min", "include_max")
    opened = any(new.get(f, True) and not old.get(f, True) for f in flags)  # bound now included
    closed = any(old.get(f, True) and not new.get(f, True) for f in flags)  # bound now excluded
    if (
        new_lo >= old_lo
        and new_hi <= old_hi
        and not opened
        and (closed or (new_lo, new_hi) != (old_lo, old_hi))
    ):
        return "tightened"
    if new_lo <= old_lo and new_hi >= old_hi and not closed:
        return "loosened"
    return "changed"


def _direction(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """'tightened' (accepts fewer values), 'loosened' (accepts more) or 'changed' (neither or unknown)."""
    try:
        if name in ("greater_than", "greater_than_or_equal_to"):
            return "tightened" if new["min_value"] > old["min_value"] else "loosened"
        if name in ("less_than", "less_than_or_equal_to"):
            return "tightened" if new["max_value"] < old["max_value"] else "loosened"
        if name == "isin":
            before, after = set(old["allowed_values"]), set(new["allowed_values"])
        elif name == "notin":
            before, after = set(new["forbidden_values"]), set(old["forbidden_values"])
        elif name in ("in_range", "str_length"):
            return _range_direction(old, new)
        else:
            return "changed"
    except (KeyError, TypeError):
        return "changed"
    if after < before:
        return "tightened"
    if after > before:
        return "loosened"
    return "changed"


def _label(name: str, statistics: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in statistics.items() if v is not None)
    return f"{name}({args})"


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _new_check(
    data: PublishedData | None, column: ContractColumn, name: str, statistics: dict[str, Any]
) -> tuple[bool, str]:
    if data is None:
        return _verdict(None, None)
    check = ContractCheck(column.name, name, statistics)
    return _verdict(data.check_violations(column, check), data)


def _check_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], data: PublishedData | None
) -> list[Change]:
    name = str(new["name"])
    new_column = contract_column(new, column_checks(new))
    old_checks = Counter(
        (c.name, _freeze(c.statistics)) for c in contract_column(old, column_checks(old)).checks
    )
    new_checks = Counter((c.name, _freeze(c.statistics)) for c in new_column.checks)
    removed = list((old_checks - new_checks).elements())
    added = list((new_checks - old_checks).elements())
    changes: list[Change] = []
    for check_name, frozen in list(added):
        before = next((r for r in removed if r[0] == check_name), None)
        if before is None:
            continue
        removed.remove(before)
        added.remove((check_name, frozen))
        old_stats, new_stats = dict(before[1]), dict(frozen)
        direction = _direction(check_name, old_stats, new_stats)
        text = f"{_label(check_name, old_stats)} -> {_label(check_name, new_stats)}"
        if direction == "loosened":
            changes.append(
                Change(
                    "check_loosened", name, True, f"{text}: consumers may get values it excluded"
                )
            )
        elif direction == "tightened":
            breaking, why = _new_check(data, new_column, check_name, new_stats)
            changes.append(Change("check_tightened", name, breaking, f"{text}: {why}"))
        else:
            changes.append(Change("check_changed", name, True, f"{text}: accepts different values"))
    for check_name, frozen in removed:
        changes.append(
            Change(
                "check_removed",
                name,
                True,
                f"{_label(check_name, dict(frozen))} dropped: consumers lose that guarantee",
            )
        )
    for check_name, frozen in added:
        breaking, why = _new_check(data, new_column, check_name, dict(frozen))
        changes.append(
            Change("check_added", name, breaking, f"{_label(check_name, dict(frozen))}: {why}")
        )
    return changes


def _column_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], data: PublishedData | None
) -> list[Change]:
    name = str(new["name"])
    changes: list[Change] = []
    old_type = str(old.get("physicalType") or "").upper()
    new_type = str(new.get("physicalType") or "").upper()
    if old_type != new_type:
        if is_widening(old_type, new_type):
            changes.append(Change("type_widened", name, False, f"{old_type} -> {new_type}"))
        elif is_widening(new_type, old_type):
            changes.append(
                Change("type_narrowed", name, True, f"{old_type} -> {new_type}: values may not fit")
            )
        else:
            changes.append(
                Change("type_changed", name, True, f"{old_type} -> {new_type}: incompatible types")
            )
    elif custom_property(old, "panderaDtype") != custom_property(new, "panderaDtype"):
        changes.append(
            Change(
                "pandas_dtype_changed",
                name,
                False,
                f"{custom_property(old, 'panderaDtype')} -> {custom_property(new, 'panderaDtype')}, "
                f"stored as {new_type} either way",
            )
        )
    old_required, new_required = bool(old.get("required")), bool(new.get("required"))
    if not old_required and new_required:
        changes.append(
            Change(
                "nullable_to_required",
                name,
                True,
                "the producer must now fill every row; rows it could not fill fail its writes",
            )
        )
    if old_required and not new_required:
        changes.append(
            Change("required_to_nullable", name, True, "consumers may now receive nulls")
        )
    if old.get("unique") and not new.get("unique"):
        changes.append(Change("unique_dropped", name, True, "consumers may now receive duplicates"))
    if new.get("unique") and not old.get("unique"):
        breaking, why = _verdict(data.duplicate_rows([name]) if data else None, data)
        changes.append(Change("unique_added", name, breaking, why))
    changes += _check_changes(old, new, data)
    if (old.get("description") or "") != (new.get("description") or ""):
        changes.append(Change("description_changed", name, False, "documentation only"))
    if old.get("classification") != new.get("classification"):
        changes.append(
            Change(
                "classification_changed",
                name,
                False,
                f"{old.get('classification') or 'none'} -> {new.get('classification') or 'none'}",
            )
        )
    if custom_property(old, "mask") != custom_property(new, "mask"):
        changes.append(
            Change(
                "mask_changed",
                name,
                True,
                f"{custom_property(old, 'mask') or 'unmasked'} -> "
                f"{custom_property(new, 'mask') or 'unmasked'}: published values change",
            )
        )
    return changes


def _rename_score(old: Mapping[str, Any], new: Mapping[str, Any], same_position: bool) -> int:
    """Evidence that `new` is `old` renamed: same type is required, then position, docs, checks."""
    if str(old.get("physicalType")).upper() != str(new.get("physicalType")).upper():
        return 0
    score = 0
    score += 2 if same_position else 0
    score += 2 if old.get("description") and old.get("description") == new.get("description") else 0
    score += 1 if column_checks(old) and column_checks(old) == column_checks(new) else 0
    return score


def _table_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], data: PublishedData | None
) -> list[Change]:
    changes: list[Change] = []
    old_props = {str(p["name"]): p for p in old.get("properties") or []}
    new_props = {str(p["name"]): p for p in new.get("properties") or []}
    old_order = list(old_props)
    new_order = list(new_props)
    removed = [n for n in old_order if n not in new_props]
    added = [n for n in new_order if n not in old_props]

    for name in list(removed):
        scored = sorted(
            (
                (
                    _rename_score(
                        old_props[name],
                        new_props[a],
                        old_order.index(name) == new_order.index(a),
                    ),
                    a,
                )
                for a in added
            ),
            key=lambda pair: -pair[0],
        )
        if scored and scored[0][0] > 0:
            target = scored[0][1]
            removed.remove(name)
            added.remove(target)
            changes.append(
                Change(
                    "column_renamed",
                    name,
                    True,
                    f"{name} -> {target} ({new_props[target].get('physicalType')}): "
                    "consumers reading the old name break",
                )
            )
    for name in removed:
        changes.append(Change("column_removed", name, True, "consumers reading it break"))
    for name in added:
        if new_props[name].get("required"):
            changes.append(
                Change(
                    "column_added_required",
                    name,
                    False,
                    "new column; readers select by name and are unaffected (the product is its only writer)",
                )
            )
        else:
            changes.append(Change("column_added_nullable", name, False, "new optional column"))
    for name in new_order:
        if name in old_props:
            changes += _column_changes(old_props[name], new_props[name], data)
    kept_old = [n for n in old_order if n in new_props]
    kept_new = [n for n in new_order if n in old_props]
    if kept_old != kept_new:
        changes.append(
            Change(
                "columns_reordered", None, False, "columns are read by name, order is not a promise"
            )
        )

    old_key, new_key = unique_together(old), unique_together(new)
    if old_key != new_key:
        if old_key and set(old_key) != set(new_key):
            changes.append(
                Change(
                    "table_unique_dropped",
                    None,
                    True,
                    f"unique({', '.join(old_key)}) dropped: consumers may now receive duplicates",
                )
            )
        if new_key and set(old_key) != set(new_key):
            breaking, why = _verdict(data.duplicate_rows(new_key) if data else None, data)
            changes.append(
                Change("table_unique_added", None, breaking, f"unique({', '.join(new_key)}): {why}")
            )
    old_frame = Counter(_frame_checks(old))
    new_frame = Counter(_frame_checks(new))
    for check in (old_frame - new_frame).elements():
        changes.append(
            Change(
                "table_check_removed", None, True, f"{check} dropped: consumers lose that guarantee"
            )
        )
    for check in (new_frame - old_frame).elements():
        changes.append(
            Change(
                "table_check_added",
                None,
                True,
                f"{check}: a custom check cannot be verified in SQL, potentially breaking",
            )
        )
    if (old.get("description") or "") != (new.get("description") or ""):
        changes.append(Change("description_changed", None, False, "table description"))
    return changes


def _frame_checks(table: Mapping[str, Any]) -> list[str]:
    found = []
    for rule in table.get("quality") or []:
        if rule.get("type") == "custom":
            implementation = rule.get("implementation") or {}
            if isinstance(implementation, Mapping):
                found.append(
                    _label(str(implementation.get("check")), implementation.get("statistics") or {})
                )
    return found


def _members(doc: Mapping[str, Any]) -> list[str]:
    team = doc.get("team")
    members = team.get("members") if isinstance(team, Mapping) else team
    return [str(m.get("username")) for m in members or [] if isinstance(m, Mapping)]


def diff_contracts(
    old_doc: Mapping[str, Any], new_doc: Mapping[str, Any], data: PublishedData | None = None
) -> list[Change]:
    """Every change from the published `old_doc` to `new_doc` (ODCS dicts), each classified.

    `data`, when given, is the published table, against which new guarantees are verified.
    """
    changes = _table_changes(table_object(old_doc), table_object(new_doc), data)

    old_access = str(custom_property(old_doc, "access") or "public")
    new_access = str(custom_property(new_doc, "access") or "public")
    if old_access != new_access:
        narrowed = ACCESS_ORDER.get(new_access, 0) < ACCESS_ORDER.get(old_access, 0)
        changes.append(
            Change(
                "access_narrowed" if narrowed else "access_widened",
                None,
                narrowed,
                f"{old_access} -> {new_access}"
                + (": consumers outside the new level lose access" if narrowed else ""),
            )
        )
    old_allowed = set(custom_property(old_doc, "allowedConsumers") or [])
    new_allowed = set(custom_property(new_doc, "allowedConsumers") or [])
    for consumer in sorted(old_allowed - new_allowed):
        changes.append(
            Change("allowed_consumer_removed", None, True, f"{consumer} may no longer read it")
        )
    for consumer in sorted(new_allowed - old_allowed):
        changes.append(Change("allowed_consumer_added", None, False, f"{consumer} may now read it"))

    old_lag, new_lag = freshness_seconds(old_doc), freshness_seconds(new_doc)
    if old_lag != new_lag and old_lag is not None and new_lag is not None:
        looser = new_lag > old_lag
        changes.append(
            Change(
                "slo_loosened" if looser else "slo_tightened",
                None,
                looser,
                f"max lag {old_lag:g}s -> {new_lag:g}s"
                + (": data may be staler than consumers were promised" if looser else ""),
            )
        )
    if set(_members(old_doc)) != set(_members(new_doc)):
        changes.append(
            Change(
                "owners_changed",
                None,
                False,
                f"{', '.join(_members(old_doc))} -> {', '.join(_members(new_doc))}",
            )
        )
    old_purpose = (old_doc.get("description") or {}).get("purpose")
    new_purpose = (new_doc.get("description") or {}).get("purpose")
    if old_purpose != new_purpose:
        changes.append(Change("description_changed", None, False, "product description"))
    old_partition = custom_property(old_doc, "partitionColumn")
    new_partition = custom_property(new_doc, "partitionColumn")
    if old_partition != new_partition:
        changes.append(
            Change(
                "partitioning_changed",
                None,
                True,
                f"{old_partition or 'unpartitioned'} -> {new_partition or 'unpartitioned'}: "
                "partitioned consumers read it by window",
            )
        )
    return changes
