"""What changed between two versions of a contract, and whether each change breaks its consumers.

The rule behind every verdict: a consumer relies on each guarantee the published contract makes. Removing
or weakening a guarantee (a column, a type's range, non-nullness, uniqueness, a check, access, freshness)
breaks consumers. Adding a guarantee is a promise about data: it is safe only if the data already
published keeps it, which `PublishedData` verifies against the warehouse when given one; without it the
new guarantee is "potentially breaking" and counted as breaking. The full table is in docs/contracts.md.

Checks are compared by name and kind (a custom check that borrows a built-in's name is never taken for
the built-in). A built-in's bounds and allowed values move in a direction: loosened (breaking: consumers
get values it excluded) or tightened (breaking unless the published data already meets it). A changed
regex is breaking: no direction can be proved. A custom check is a function: a new body (its
fingerprint) or new arguments are breaking, with no direction either. Columns and the table are compared
as produced: for a masked column, the checks and uniqueness audited before masking (what it publishes
follows from the mask, whose change is its own breaking change); they cannot be verified against the
published, masked, data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow

from dagmesh.declare.contract import ContractCheck, ContractColumn
from dagmesh.declare.types import UnknownStorageTypeError, storage_arrow_type, storage_type
from dagmesh.registry.odcs import (
    AUDITED,
    ContractDocumentError,
    column_checks,
    column_dtype,
    contract_checks,
    contract_column,
    custom_property,
    freshness_seconds,
    pandera_rules,
    produced_unique,
    quality_rules,
    table_object,
    unique_together,
)
from dagmesh.storage.audit import compile_column, duplicate_rows_query
from dagmesh.storage.sql import qualified_name

ACCESS_ORDER = {"private": 0, "internal": 1, "public": 2}
# Integers a float type holds exactly, by the float's width: FLOAT's 24-bit mantissa holds 16-bit
# integers, DOUBLE's 53-bit one 32-bit integers.
EXACT_IN = {32: 16, 64: 32}
TIMESTAMP_UNITS = ("s", "ms", "us", "ns")
PATTERN_CHECKS = ("str_matches", "str_contains")
MASKED = "the published values are masked, so the published data cannot verify it"


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


def _digits(arrow: pyarrow.DataType) -> int:
    """Decimal digits an integer type's values need (int32: 10, uint64: 20)."""
    bits = arrow.bit_width
    largest = 2**bits - 1 if pyarrow.types.is_unsigned_integer(arrow) else 2 ** (bits - 1)
    return len(str(largest))


def _widens(old: pyarrow.DataType, new: pyarrow.DataType) -> bool:
    t = pyarrow.types
    if old == new:
        return True
    if t.is_integer(old) and t.is_integer(new):
        if t.is_signed_integer(old) and t.is_unsigned_integer(new):
            return False
        return new.bit_width > old.bit_width  # UINTEGER -> BIGINT fits, UBIGINT -> BIGINT does not
    if t.is_integer(old) and t.is_floating(new):
        return old.bit_width <= EXACT_IN.get(new.bit_width, 0)
    if t.is_integer(old) and t.is_decimal(new):
        return new.scale == 0 and new.precision >= _digits(old)
    if t.is_floating(old) and t.is_floating(new):
        return new.bit_width > old.bit_width
    if t.is_decimal(old) and t.is_decimal(new):
        return new.scale == old.scale and new.precision >= old.precision
    if t.is_list(old) and t.is_list(new):
        return _widens(old.value_type, new.value_type)
    if t.is_struct(old) and t.is_struct(new):
        before = [old.field(i) for i in range(old.num_fields)]
        after = [new.field(i) for i in range(new.num_fields)]
        return [f.name for f in before] == [f.name for f in after] and all(
            _widens(b.type, a.type) for b, a in zip(before, after, strict=True)
        )
    return False


def is_widening(old: str, new: str) -> bool:
    """True when every value of DuckDB type `old` is, unchanged, a value of DuckDB type `new`.

    Widenings: a wider integer of the same signedness, an unsigned integer into a wider signed one
    (UINTEGER -> BIGINT), an integer into a float that holds it exactly (<=16-bit -> FLOAT, <=32-bit ->
    DOUBLE), FLOAT -> DOUBLE, an integer into a DECIMAL(p, 0) with enough digits (INTEGER ->
    DECIMAL(10,0)), more precision at the same scale (DECIMAL(15,2) -> DECIMAL(18,2): every amount
    still fits, with the same number of decimals), and lists or structs (same fields, same order) whose
    items widen.

    Not widenings: a DECIMAL scale change in either direction (the scale is part of a value's meaning:
    amounts in cents become tenths of a cent, and consumers' rounding and sums depend on it), DOUBLE ->
    DECIMAL and DECIMAL -> DOUBLE (neither holds the other's values exactly), anything between dates,
    timestamps and strings, a timestamp unit change (a finer unit has a smaller range; see
    `diff_contracts` for the same pandas dtype stored at a finer unit). Names DuckDB does not know are
    compared as text.
    """
    try:
        before, after = storage_arrow_type(old), storage_arrow_type(new)
    except UnknownStorageTypeError:
        return old.strip().upper() == new.strip().upper()
    return _widens(before, after)


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
            column.name,
            column.pandera_dtype,
            column.duckdb_type,
            True,
            False,
            None,
            (check,),
            arrow_type=column.arrow_type,
        )
        compiled, leftover = compile_column(probe)
        if leftover or not compiled:
            return None
        return self._count(compiled[0].failing_predicate, compiled[0].params)

    def duplicate_rows(self, columns: Sequence[str]) -> int | None:
        """Rows violating uniqueness of `columns`, counted exactly as the publish audit counts them."""
        if not self.exists:
            return None
        try:
            return int(self.con.execute(duplicate_rows_query(self.table, columns)).fetchone()[0])
        except duckdb.Error:
            return None


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


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return value


Verifier = Callable[[ContractCheck], tuple[bool, str]]


def _same(a: ContractCheck, b: ContractCheck) -> bool:
    return (a.name, a.builtin, _freeze(a.statistics), a.fingerprint) == (
        b.name,
        b.builtin,
        _freeze(b.statistics),
        b.fingerprint,
    )


def _changed_check(
    old: ContractCheck, new: ContractCheck, column: str | None, verify: Verifier, note: str
) -> Change:
    """A check kept under the same name (and the same built-in or custom kind) with other arguments or
    another body. A custom check is never compared with the built-in whose name it borrows."""
    prefix = "" if column else "table_"
    text = f"{old.label} -> {new.label}{note}"
    if not new.builtin:
        same_arguments = _freeze(old.statistics) == _freeze(new.statistics)
        if old.fingerprint is None and same_arguments:
            return Change(
                f"{prefix}check_fingerprint_recorded",
                column,
                False,
                f"{new.label}{note}: the registry held no fingerprint of its body (written by an older "
                "dagmesh); it is recorded now, so later changes to the body are seen",
            )
        what = (
            f"its body (fingerprint {old.fingerprint} -> {new.fingerprint})"
            if same_arguments
            else f"its arguments ({old.label} -> {new.label})"
        )
        return Change(
            f"{prefix}custom_check_changed",
            column,
            True,
            f"custom check {new.name} changed {what}{note}: it may reject data it accepted, or "
            "accept data consumers relied on being excluded",
        )
    if new.name in PATTERN_CHECKS:
        return Change(
            f"{prefix}pattern_changed",
            column,
            True,
            f"{text}: a changed regular expression cannot be proved to accept only values the old "
            "one accepted, nor all of them",
        )
    direction = _direction(new.name, old.statistics, new.statistics)
    if direction == "loosened":
        return Change(
            f"{prefix}check_loosened",
            column,
            True,
            f"{text}: consumers may get values it excluded",
        )
    if direction == "tightened":
        breaking, why = verify(new)
        return Change(f"{prefix}check_tightened", column, breaking, f"{text}: {why}")
    return Change(f"{prefix}check_changed", column, True, f"{text}: accepts different values")


def _check_changes(
    old_checks: Sequence[ContractCheck],
    new_checks: Sequence[ContractCheck],
    column: str | None,
    verify: Verifier,
    note: str = "",
) -> list[Change]:
    """Checks removed, added or changed between two versions of a column (or of the table, `column`
    None). A check is identified by its name and whether it is a built-in; what it accepts, by its
    statistics (bounds, patterns, allowed values) and, for a custom check, its body's fingerprint."""
    prefix = "" if column else "table_"
    removed, added = list(old_checks), list(new_checks)
    for check in list(added):
        same = next((old for old in removed if _same(old, check)), None)
        if same is not None:
            removed.remove(same)
            added.remove(check)
    changes: list[Change] = []
    for check in list(added):
        before = next(
            (o for o in removed if (o.name, o.builtin) == (check.name, check.builtin)), None
        )
        if before is None:
            continue
        removed.remove(before)
        added.remove(check)
        changes.append(_changed_check(before, check, column, verify, note))
    for check in removed:
        changes.append(
            Change(
                f"{prefix}check_removed",
                column,
                True,
                f"{check.label} dropped{note}: consumers lose that guarantee",
            )
        )
    for check in added:
        breaking, why = verify(check)
        changes.append(
            Change(f"{prefix}check_added", column, breaking, f"{check.label}{note}: {why}")
        )
    return changes


def _produced_checks(prop: Mapping[str, Any]) -> tuple[ContractCheck, ...]:
    """A column's checks as produced (audited before masking when masked), with typed statistics."""
    try:
        arrow: pyarrow.DataType | None = column_dtype(prop)[1]
    except ContractDocumentError:
        arrow = None
    return contract_checks(str(prop["name"]), column_checks(prop, as_produced=True), arrow)


def _column_verifier(
    old: Mapping[str, Any], new: Mapping[str, Any], data: PublishedData | None
) -> Verifier:
    """How a new or tightened check of a column is verified: against the published rows, unless they
    are masked (then they do not show the values the check is about)."""
    masked = bool(custom_property(old, "mask") or custom_property(new, "mask"))

    def verify(check: ContractCheck) -> tuple[bool, str]:
        if masked:
            return True, f"potentially breaking: {MASKED}"
        if data is None:
            return _verdict(None, None)
        try:
            column = contract_column(new)
        except ContractDocumentError:
            return _verdict(None, data)
        return _verdict(data.check_violations(column, check), data)

    return verify


def _type_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> Change | None:
    """A change of a column's DuckDB type, classified (see `is_widening`).

    The same pandas dtype stored at another timestamp unit (a `datetime64[ns]` column that older
    dagmesh stored as TIMESTAMP, now exactly as TIMESTAMP_NS) cannot produce values outside its
    dtype's range: a finer unit keeps every value exact (compatible), a coarser one loses precision.
    """
    name = str(new["name"])
    old_type = storage_type(str(old.get("physicalType") or ""))
    new_type = storage_type(str(new.get("physicalType") or ""))
    if old_type == new_type:
        return None
    text = f"{old_type} -> {new_type}"
    if is_widening(old_type, new_type):
        return Change("type_widened", name, False, text)
    try:
        before, after = storage_arrow_type(old_type), storage_arrow_type(new_type)
    except UnknownStorageTypeError:
        before = after = None
    dtype = custom_property(old, "panderaDtype")
    t = pyarrow.types
    if (
        before is not None
        and after is not None
        and t.is_timestamp(before)
        and t.is_timestamp(after)
        and (before.tz is None) == (after.tz is None)
        and dtype
        and dtype == custom_property(new, "panderaDtype")
    ):
        finer = TIMESTAMP_UNITS.index(after.unit) > TIMESTAMP_UNITS.index(before.unit)
        if finer:
            return Change(
                "type_widened",
                name,
                False,
                f"{text}: the same {dtype} values, stored at a finer unit, stay exact",
            )
        return Change("type_narrowed", name, True, f"{text}: {dtype} values lose precision")
    if is_widening(new_type, old_type):
        return Change("type_narrowed", name, True, f"{text}: values may not fit")
    if (
        before is not None
        and after is not None
        and t.is_decimal(before)
        and t.is_decimal(after)
        and before.scale != after.scale
    ):
        return Change(
            "type_changed",
            name,
            True,
            f"{text}: the scale is part of a value's meaning (cents vs. tenths of a cent); "
            "consumers' rounding and sums depend on it",
        )
    return Change("type_changed", name, True, f"{text}: incompatible types")


def _column_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], data: PublishedData | None
) -> list[Change]:
    name = str(new["name"])
    changes: list[Change] = []
    type_change = _type_change(old, new)
    if type_change is not None:
        changes.append(type_change)
    elif custom_property(old, "panderaDtype") != custom_property(new, "panderaDtype"):
        changes.append(
            Change(
                "pandas_dtype_changed",
                name,
                False,
                f"{custom_property(old, 'panderaDtype')} -> {custom_property(new, 'panderaDtype')}, "
                f"stored as {storage_type(str(new.get('physicalType') or ''))} either way",
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
    elif new.get("unique") and not old.get("unique"):
        breaking, why = _verdict(data.duplicate_rows([name]) if data else None, data)
        changes.append(Change("unique_added", name, breaking, why))
    elif produced_unique(old) and not produced_unique(new):
        changes.append(
            Change(
                "unique_dropped",
                name,
                True,
                "values as produced may now repeat (audited before masking)",
            )
        )
    elif produced_unique(new) and not produced_unique(old):
        changes.append(
            Change(
                "unique_added",
                name,
                True,
                f"(audited before masking) potentially breaking: {MASKED}",
            )
        )
    masked = custom_property(old, "mask") or custom_property(new, "mask")
    changes += _check_changes(
        _produced_checks(old),
        _produced_checks(new),
        name,
        _column_verifier(old, new, data),
        " (audited before masking)" if masked else "",
    )
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
    if storage_type(str(old.get("physicalType") or "")) != storage_type(
        str(new.get("physicalType") or "")
    ):
        return 0
    score = 0
    score += 2 if same_position else 0
    score += 2 if old.get("description") and old.get("description") == new.get("description") else 0
    checks = column_checks(old, as_produced=True)
    score += 1 if checks and checks == column_checks(new, as_produced=True) else 0
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
    old_raw = unique_together(old, as_produced=True)
    new_raw = unique_together(new, as_produced=True)
    if set(old_key) == set(new_key) and set(old_raw) != set(new_raw):
        if old_raw:
            changes.append(
                Change(
                    "table_unique_dropped",
                    None,
                    True,
                    f"unique({', '.join(old_raw)}) dropped (audited before masking)",
                )
            )
        if new_raw:
            changes.append(
                Change(
                    "table_unique_added",
                    None,
                    True,
                    f"unique({', '.join(new_raw)}) (audited before masking): potentially breaking",
                )
            )
    masked = custom_property(old, AUDITED) is not None or custom_property(new, AUDITED) is not None
    changes += _check_changes(
        _frame_checks(old),
        _frame_checks(new),
        None,
        lambda _check: _verdict(None, data),
        " (audited before masking)" if masked else "",
    )
    if (old.get("description") or "") != (new.get("description") or ""):
        changes.append(Change("description_changed", None, False, "table description"))
    return changes


def _frame_checks(table: Mapping[str, Any]) -> tuple[ContractCheck, ...]:
    """The table (dataframe) checks as produced: audited before masking when a column is masked."""
    return contract_checks(None, pandera_rules(quality_rules(table, as_produced=True)), None)


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
