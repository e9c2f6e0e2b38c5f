"""A data product's contract: a pandera `DataFrameModel`, read once into a plain description.

Everything downstream (column schema in the UI, the SQL audit, the table's types, the registry) works from
this description, so there is one place that knows how pandera's objects look. Reading a contract also
refuses what dagmesh could not enforce exactly as pandera would (see docs/contracts.md): an index,
regex column names, parsers, defaults, warnings-only checks, types without an exact storage type.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.api.function_dispatch import Dispatcher

from dagmesh.declare.names import MASKS, Mask
from dagmesh.declare.types import SUPPORTED, UnsupportedTypeError, arrow_type, duckdb_type

REDACTED = "[redacted]"
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class ContractDefinitionError(ValueError):
    """A contract that cannot be enforced as written (unknown type, not a pandera model)."""


@dataclass(frozen=True)
class ContractCheck:
    """One check on one column (or the table), as pandera names it, with its statistics.

    `builtin` is true only for pandera's own built-in checks (`pa.Check.ge`, `Field(ge=...)`): a custom
    check that merely borrows a built-in's name (`pa.Check(fn, name="greater_than")`) is custom, and runs
    through pandera. `fingerprint` identifies a custom check's body, so the registry sees it change.
    """

    column: str | None
    name: str
    statistics: dict[str, Any]
    pandera_check: pa.Check | None = None
    builtin: bool = False
    fingerprint: str | None = None

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.statistics.items() if v is not None)
        label = f"{self.name}({args})" if args else self.name
        return label if self.builtin else f"{label} [custom]"


@dataclass(frozen=True)
class ContractColumn:
    name: str
    pandera_dtype: str
    duckdb_type: str
    nullable: bool
    unique: bool
    description: str | None
    checks: tuple[ContractCheck, ...]
    # True: PII; False: declared not PII; None: not declared (PII if derived from a PII column)
    pii: bool | None = None
    mask: str | None = None  # how a PII column is published (`Mask`)
    arrow_type: pyarrow.DataType = field(default_factory=pyarrow.string)
    coerce: bool = False
    pandas_dtype: str = "object"  # what a consumer's frame holds: `str` columns are object columns

    @property
    def published_unique(self) -> bool:
        """Whether uniqueness still holds once masked: a hash keeps distinct values distinct, a
        redaction makes them all equal."""
        return self.unique and self.mask != Mask.REDACTED

    def published_checks(self) -> list[str]:
        """The checks a consumer can rely on, on the values as published."""
        if self.mask == Mask.SHA256:
            return [f"str_matches({SHA256_PATTERN!r})"]
        if self.mask == Mask.REDACTED:
            return [f"isin([{REDACTED!r}])"]
        return [check.label for check in self.checks]


@dataclass(frozen=True)
class Contract:
    """The enforceable shape of a product: typed columns, their checks, and table-level rules."""

    name: str
    model: type[pa.DataFrameModel]
    description: str | None
    columns: tuple[ContractColumn, ...]
    unique_together: tuple[str, ...] = ()
    frame_checks: tuple[ContractCheck, ...] = field(default_factory=tuple)
    ordered: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def masked(self) -> bool:
        return any(c.mask for c in self.columns)

    def column(self, name: str) -> ContractColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @cached_property
    def arrow_schema(self) -> pyarrow.Schema:
        """The exact Arrow schema a frame that passed the dtype check converts to."""
        return pyarrow.schema([(c.name, c.arrow_type) for c in self.columns])

    @cached_property
    def dtype_schema(self) -> pa.DataFrameSchema:
        """Only the contract's types (and coercion): pandera itself decides a frame's dtypes."""
        declared = self.model.to_schema().columns
        return pa.DataFrameSchema(
            {
                c.name: pa.Column(declared[c.name].dtype, coerce=c.coerce, nullable=True)
                for c in self.columns
            }
        )

    @property
    def published_unique_together(self) -> tuple[str, ...]:
        if any(self.column(name).mask == Mask.REDACTED for name in self.unique_together):
            return ()
        return self.unique_together

    def published_schema(self) -> pa.DataFrameSchema:
        """The contract consumers get: the model's, with each masked column's checks replaced by what
        holds after masking (a hash, or the redaction marker). Frame checks may read masked values, so
        a contract with masks publishes none of them: they were audited on the values as produced."""
        schema = self.model.to_schema()
        if not self.masked:
            return schema
        columns = dict(schema.columns)
        for column in self.columns:
            if not column.mask:
                continue
            check = (
                pa.Check.str_matches(SHA256_PATTERN)
                if column.mask == Mask.SHA256
                else pa.Check.isin([REDACTED])
            )
            columns[column.name] = columns[column.name].set_checks([check])
            columns[column.name].unique = column.published_unique
        unique = list(self.published_unique_together) or None
        return pa.DataFrameSchema(
            columns,
            checks=[],
            unique=unique,
            coerce=schema.coerce,
            strict=schema.strict,
            ordered=schema.ordered,
            name=schema.name,
        )

    def table_schema(self) -> dg.TableSchema:
        """The published contract as Dagster's `dagster/column_schema`: types, nullability, uniqueness
        and checks as consumers get them; masked columns say so, and which checks were audited before."""
        columns = []
        for column in self.columns:
            description = column.description
            if column.mask:
                audited = ", ".join(check.label for check in column.checks) or "none"
                description = (
                    f"{description or ''} Published masked ({column.mask}); checks audited on the "
                    f"values before masking: {audited}."
                ).strip()
            columns.append(
                dg.TableColumn(
                    name=column.name,
                    type=column.duckdb_type,
                    description=description,
                    constraints=dg.TableColumnConstraints(
                        nullable=column.nullable,
                        unique=column.published_unique,
                        other=column.published_checks(),
                    ),
                    tags=_column_tags(column),
                )
            )
        rules = []
        unique = self.published_unique_together
        if unique:
            rules.append(f"unique({', '.join(unique)})")
        if not self.masked:
            rules += [check.label for check in self.frame_checks]
        constraints = dg.TableConstraints(other=rules) if rules else None
        return dg.TableSchema(columns=columns, constraints=constraints)


def _column_tags(column: ContractColumn) -> dict[str, str] | None:
    tags = {} if column.pii is None else {"pii": "true" if column.pii else "false"}
    if column.mask:
        tags["mask"] = column.mask
    return tags or None


def _fingerprint(check: pa.Check) -> str:
    """A custom check's body, hashed: its source if Python has it, else its bytecode and constants."""
    fn = _check_body(check._check_fn)
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code is not None else repr(fn)
    text += repr(sorted((k, repr(v)) for k, v in (check._check_kwargs or {}).items()))
    text += repr((check.element_wise, check.ignore_na, check.groupby))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_body(fn: Any) -> Any:
    """The user's function behind a check: pandera wraps a model's `@pa.check` / `@pa.dataframe_check`
    method in a generic adapter, whose source would be the same for every check."""
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            inner = getattr(cell.cell_contents, "check_fn", None)
        except ValueError:  # an empty cell
            continue
        if inner is not None:
            return getattr(inner, "__func__", inner)
    return getattr(fn, "__func__", fn)


def _is_builtin(check: pa.Check, name: str) -> bool:
    """True for pandera's own built-in check of that name. Schemas deep-copy their checks, so the
    built-in's dispatcher is compared by the functions it dispatches to, not by identity. A Dispatcher
    is pandera's own type: a user's function is never one."""
    if not pa.Check.is_builtin_check(name):
        return False
    fn, builtin = check._check_fn, pa.Check.get_builtin_check_fn(name)
    # pandera registers more backends for a built-in the first time it validates anything in a
    # process, so a check made earlier dispatches to a subset of today's functions.
    return isinstance(fn, Dispatcher) and set(fn._function_registry.values()) <= set(
        builtin._function_registry.values()
    )


def _describe_check(column: str | None, check: pa.Check) -> ContractCheck:
    name = check.name or getattr(check._check_fn, "__name__", None) or "custom"
    builtin = _is_builtin(check, str(name))
    return ContractCheck(
        column,
        str(name),
        dict(check.statistics or {}),
        check,
        builtin=builtin,
        fingerprint=None if builtin else _fingerprint(check),
    )


def _refuse(model: type, what: str) -> ContractDefinitionError:
    return ContractDefinitionError(f"contract {model.__name__}: {what}")


def _refuse_unenforceable(model: type, schema: pa.DataFrameSchema) -> None:
    """What pandera would do that the published table could not show: refuse it when the code loads."""
    if schema.index is not None:
        raise _refuse(
            model,
            "declares an index; dagmesh publishes columns only, so declare the index as a column",
        )
    for option in ("add_missing_columns", "drop_invalid_rows"):
        if getattr(schema, option, False):
            raise _refuse(
                model,
                f"sets {option}=True, which makes pandera change the data instead of checking it; "
                "remove it (dagmesh publishes exactly what the product returns, or nothing)",
            )
    if getattr(schema, "parsers", None):
        raise _refuse(
            model, "declares dataframe parsers; transform the data in the product instead"
        )
    checks = list(schema.checks)
    for name, column in schema.columns.items():
        if column.regex:
            raise _refuse(model, f"column {name!r} is a regex; name every column explicitly")
        if column.default is not None:
            raise _refuse(
                model, f"column {name!r} has a default; fill nulls in the product instead"
            )
        if getattr(column, "parsers", None):
            raise _refuse(model, f"column {name!r} has parsers; transform the data in the product")
        checks += list(column.checks)
    for check in checks:
        _refuse_mixed_value_list(model, check)
        if check.raise_warning:
            raise _refuse(
                model,
                f"check {check.name!r} only warns (raise_warning=True); a contract check must hold, "
                "so drop raise_warning or move the rule to the product's expectations",
            )


def _value_family(value: Any) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, (int, float)):  # Arrow makes doubles of these in any order
        return "number"
    if isinstance(value, dt.datetime):  # before date: a datetime is a date to Python
        return "datetime"
    return type(value).__name__


def _refuse_mixed_value_list(model: type, check: pa.Check) -> None:
    """An `isin` / `notin` list mixing kinds of values (a date and a Timestamp, say) is turned into an
    Arrow array by pandas in the order of a set, which differs between runs: pandera's own verdict is
    then not stable, so no verdict can be promised."""
    stats = check.statistics or {}
    values = stats.get("allowed_values", stats.get("forbidden_values"))
    if check.name not in ("isin", "notin") or values is None or isinstance(values, (str, bytes)):
        return
    families = {f for v in values if (f := _value_family(v)) is not None}
    if len(families) > 1:
        raise _refuse(
            model,
            f"check {check.name}({list(values)!r}) mixes {', '.join(sorted(families))} values; "
            "pandas compares such a list in an order that changes between runs. Use one kind of value",
        )


def read_contract(model: Any) -> Contract:
    """Describe a pandera `DataFrameModel` subclass; refuse anything we could not enforce."""
    if not (isinstance(model, type) and issubclass(model, pa.DataFrameModel)):
        raise ContractDefinitionError(
            f"a contract must be a pandera DataFrameModel subclass, got {model!r}; "
            "declare `class MyContract(pandera.pandas.DataFrameModel): ...`"
        )
    try:
        schema = model.to_schema()
    except Exception as error:  # pandera raises several types for a malformed model
        raise ContractDefinitionError(
            f"contract {model.__name__} is not a valid pandera model: {error}"
        ) from error
    _refuse_unenforceable(model, schema)
    columns = []
    for name, column in schema.columns.items():
        dtype = str(column.dtype)
        if column.dtype is None:
            raise _refuse(model, f"column {name!r} has no type; annotate it, e.g. Series[int]")
        try:
            arrow = arrow_type(column.dtype)
        except UnsupportedTypeError:
            raise _refuse(
                model,
                f"column {name!r} has type {dtype!r}, which dagmesh cannot store exactly; "
                f"use one of: {SUPPORTED}",
            ) from None
        metadata = column.metadata or {}
        mask = metadata.get("mask")
        if mask is not None and (mask not in MASKS or not pyarrow.types.is_string(arrow)):
            raise _refuse(
                model,
                f"column {name!r} declares mask {mask!r}; masks are {', '.join(MASKS)} and apply "
                "to str columns",
            )
        columns.append(
            ContractColumn(
                name=str(name),
                pandera_dtype=dtype,
                duckdb_type=duckdb_type(arrow),
                nullable=bool(column.nullable),
                unique=bool(column.unique),
                description=column.description,
                checks=tuple(_describe_check(str(name), check) for check in column.checks),
                pii=None if metadata.get("pii") is None else bool(metadata["pii"]),
                mask=mask,
                arrow_type=arrow,
                coerce=bool(column.coerce or schema.coerce),
                pandas_dtype="object" if dtype == "str" else str(column.dtype.type),
            )
        )
    unique = schema.unique
    unique_together = tuple([unique] if isinstance(unique, str) else (unique or ()))
    for column in columns:
        nested = pyarrow.types.is_nested(column.arrow_type)
        if nested and (column.unique or column.name in unique_together):
            raise _refuse(
                model,
                f"column {column.name!r} is a list or struct and cannot be part of a uniqueness "
                "rule (pandas cannot hash its values); make a key of plain columns",
            )
    return Contract(
        name=model.__name__,
        model=model,
        description=schema.description,
        columns=tuple(columns),
        unique_together=unique_together,
        frame_checks=tuple(_describe_check(None, check) for check in schema.checks),
        ordered=bool(schema.ordered),
    )
