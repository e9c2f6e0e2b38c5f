"""`@data_product`: how a domain declares a product. Only a declaration: the domain turns it into an asset.

The declaration is checked when the module loads, so a malformed product stops its code location with a
message that says which product and what to change, instead of failing at 3 a.m. in a run.
"""

from __future__ import annotations

import inspect
import os
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import duckdb
import pandas as pd

from dagmesh.core.errors import ProductDefinitionError
from dagmesh.declare.access import ACCESS_LEVELS
from dagmesh.declare.contract import Contract, ContractDefinitionError, read_contract
from dagmesh.declare.expectation_suite import check_configuration, is_configuration, read_suite_file
from dagmesh.declare.names import OWNER_PATTERN, SEMVER_PATTERN, product_name_problem
from dagmesh.declare.volume import Volume

AccessLevel = Literal["public", "internal", "private"]
CONTEXT_PARAM = "context"
# The SQL a product function runs over its inputs (a YAML product's), for column lineage.
SQL_ATTRIBUTE = "__dagmesh_sql__"
# An in-warehouse product returns a DuckDB relation, and receives its inputs as relations.
Relation = duckdb.DuckDBPyRelation
# as written, when an annotation cannot be resolved where the product is declared
_RELATION_NAMES = frozenset(
    ("Relation", "dagmesh.Relation", "DuckDBPyRelation", "duckdb.DuckDBPyRelation")
)


class ProductKind(StrEnum):
    """Where a product's rows are computed, as its return annotation says."""

    PANDAS = "pandas"  # a pandas DataFrame, inputs as DataFrames
    RELATION = "relation"  # a DuckDB relation inside the warehouse: no row crosses into Python


_DATAFRAME_NAMES = frozenset(("DataFrame", "pd.DataFrame", "pandas.DataFrame"))


def _is_relation(annotation: Any) -> bool:
    return annotation is Relation or annotation in _RELATION_NAMES


def _is_dataframe(annotation: Any) -> bool:
    return annotation is pd.DataFrame or annotation in _DATAFRAME_NAMES


def _kind(
    product: str, fn: Callable[..., Any], inputs: Mapping[str, ProductRef], where: str = ""
) -> ProductKind:
    """`-> Relation` makes an in-warehouse product. Its inputs arrive as relations, a pandas
    product's as DataFrames: an input annotated as the other kind is a mistake caught here."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation naming something not importable here: read it as written
        hints = dict(getattr(fn, "__annotations__", {}))
    kind = ProductKind.RELATION if _is_relation(hints.get("return")) else ProductKind.PANDAS
    for param in inputs:
        annotation = hints.get(param)
        if annotation is None:
            continue
        if kind is ProductKind.PANDAS and _is_relation(annotation):
            raise _problem(
                product,
                f"input {param!r} is annotated as a Relation, but the product returns a DataFrame; "
                "annotate the return `-> Relation` to compute it in the warehouse",
                where,
            )
        if kind is ProductKind.RELATION and _is_dataframe(annotation):
            raise _problem(
                product,
                f"input {param!r} is annotated as a DataFrame, but the product returns a Relation "
                "and receives its inputs as relations; annotate it `Relation`",
                where,
            )
    return kind


@dataclass(frozen=True)
class SLO:
    """The product's promise to consumers: fresh data at least every `max_lag` (warned after `warn_after`)."""

    max_lag: timedelta
    warn_after: timedelta | None = None

    def __post_init__(self) -> None:
        if self.max_lag < timedelta(minutes=1):
            raise ProductDefinitionError(
                "an SLO's max_lag must be at least one minute (Dagster's freshness granularity)"
            )
        if self.warn_after is not None and not timedelta(0) < self.warn_after < self.max_lag:
            raise ProductDefinitionError("an SLO's warn_after must be positive and below max_lag")

    def freshness_policy(self) -> dg.FreshnessPolicy:
        return dg.FreshnessPolicy.time_window(fail_window=self.max_lag, warn_window=self.warn_after)

    def describe(self) -> str:
        text = f"fresh within {_human(self.max_lag)}"
        return text + (f" (warn after {_human(self.warn_after)})" if self.warn_after else "")


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class ProductRef:
    """A reference to a product: `name` in the consumer's own domain, or `domain/name`.

    A trailing `@MAJOR` (`sales/orders@1`) pins the contract major version the consumer accepts; without
    it the consumer follows the producer's current major (see docs/contracts.md).
    """

    domain: str | None
    name: str
    major: int | None = None

    @classmethod
    def parse(cls, text: str) -> ProductRef:
        path, at, pin = text.partition("@")
        if at and not pin.isdigit():
            raise ProductDefinitionError(
                f"input {text!r}: the version pin after '@' is a major version number, e.g. 'sales/orders@1'"
            )
        major = int(pin) if at else None
        parts = path.split("/")
        if len(parts) == 1 and parts[0]:
            return cls(None, parts[0], major)
        if len(parts) == 2 and all(parts):
            return cls(parts[0], parts[1], major)
        raise ProductDefinitionError(
            f"input {text!r} is not 'product' or 'domain/product' (optionally with '@MAJOR')"
        )

    def resolve(self, consumer_domain: str) -> dg.AssetKey:
        return dg.AssetKey([self.domain or consumer_domain, self.name])

    def __str__(self) -> str:
        text = f"{self.domain}/{self.name}" if self.domain else self.name
        return text if self.major is None else f"{text}@{self.major}"


@dataclass(frozen=True)
class DataProduct:
    """A declared data product, waiting for its domain (see `domain_definitions`)."""

    name: str
    fn: Callable[..., Any]
    contract: Contract
    owners: tuple[str, ...]
    description: str
    access: str
    version: str
    slo: SLO
    inputs: Mapping[str, ProductRef]
    schedule: str | None = None
    automation_condition: dg.AutomationCondition | None = None
    partitions_def: dg.TimeWindowPartitionsDefinition | None = None
    partition_column: str | None = None
    allowed_consumers: tuple[str, ...] = ()
    resource_params: tuple[str, ...] = field(default=())
    wants_context: bool = False
    kind: ProductKind = ProductKind.PANDAS
    # After a major bump, the previous major stays published (and its consumers are warned) until then.
    deprecation_date: date | None = None
    # great-expectations Expectation objects or their configurations (or a function returning them),
    # run as a check
    expectations: tuple[Any, ...] | Callable[[], Iterable[Any]] = ()
    volume: Volume = field(
        default_factory=Volume
    )  # how far the row count may fall between publishes
    # `file:line` of the declaration (the `@data_product(` line, or a YAML product's `defs.yaml`), so
    # load errors point at the product at fault rather than at the module that loaded it.
    declared_at: str = ""

    def key(self, domain: str) -> dg.AssetKey:
        return dg.AssetKey([domain, self.name])

    def unbound_inputs(self) -> list[str]:
        """Inputs whose parameter the function lacks, as problems (checked once the inputs resolve:
        a misspelled input is reported as such, not as a missing parameter)."""
        try:
            params = set(inspect.signature(self.fn).parameters)
        except (TypeError, ValueError):
            return []
        return [
            f"input {str(ref)!r} needs a function parameter named {param!r} to receive it"
            for param, ref in self.inputs.items()
            if param not in params
        ]

    @property
    def major_version(self) -> int:
        return int(self.version.split(".")[0])


def _problem(product: str, text: str, where: str = "") -> ProductDefinitionError:
    return ProductDefinitionError(
        f"data product {product!r}: {text}" + (f" (declared at {where})" if where else "")
    )


def check_parameters(product: DataProduct) -> None:
    """Every input has its parameter; raised naming the product and where it is declared."""
    problems = product.unbound_inputs()
    if problems:
        raise _problem(product.name, "; ".join(problems), product.declared_at)


def _caller(frame: Any) -> str:
    """`file:line` of the code that called `data_product(...)` (its decorator line)."""
    caller = frame.f_back if frame is not None else None
    return f"{caller.f_code.co_filename}:{caller.f_lineno}" if caller is not None else ""


def _normalize_inputs(
    product: str, inputs: Sequence[str] | Mapping[str, str], where: str
) -> dict[str, ProductRef]:
    """`["orders", "sales/customers"]` binds each to the parameter of the product's name; a mapping
    names it. A missing parameter is checked when the location loads, after the inputs resolve."""
    if isinstance(inputs, Mapping):
        pairs = [(param, ProductRef.parse(ref)) for param, ref in inputs.items()]
    else:
        pairs = [(ProductRef.parse(ref).name, ProductRef.parse(ref)) for ref in inputs]
    resolved: dict[str, ProductRef] = {}
    for param, ref in pairs:
        if param in resolved:
            raise _problem(
                product, f"two inputs bind parameter {param!r}; use inputs={{param: ref}}", where
            )
        resolved[param] = ref
    return resolved


def _suite(
    fn: Callable[..., Any],
    expectations: Iterable[Any] | Callable[[], Iterable[Any]] | str | os.PathLike[str],
) -> tuple[Any, ...] | Callable[[], Iterable[Any]]:
    """The declared suite: a function stays one, called when the check runs (GX is slow to import)."""
    if isinstance(expectations, str | os.PathLike):
        path = Path(expectations)
        if not path.is_absolute():
            path = Path(inspect.getfile(fn)).parent / path
        return read_suite_file(path)
    if callable(expectations):
        return expectations
    return tuple(
        check_configuration(item, f"expectation {position + 1}") if is_configuration(item) else item
        for position, item in enumerate(expectations)
    )


def data_product(
    *,
    contract: Any,
    owners: Iterable[str],
    access: AccessLevel,
    version: str,
    slo: SLO,
    inputs: Sequence[str] | Mapping[str, str] = (),
    description: str | None = None,
    schedule: str | None = None,
    automation_condition: dg.AutomationCondition | None = None,
    partitions_def: dg.TimeWindowPartitionsDefinition | None = None,
    partition_column: str | None = None,
    allowed_consumers: Iterable[str] = (),
    name: str | None = None,
    deprecation_date: date | None = None,
    expectations: Iterable[Any] | Callable[[], Iterable[Any]] | str | os.PathLike[str] = (),
    volume: Volume | None = None,
) -> Callable[[Callable[..., Any]], DataProduct]:
    """Declare a data product: a function returning a pandas DataFrame that honours `contract`, or,
    annotated `-> Relation`, a DuckDB relation computed inside the warehouse.

    Function parameters named like `inputs` receive those products as DataFrames (as relations over the
    published tables for an in-warehouse product); `context` receives
    Dagster's execution context; any other parameter receives the domain resource of that name.
    Inputs may pin the producer's contract major (`"sales/orders@1"`). After a major version bump,
    `deprecation_date` is the day until which the previous major stays published for its consumers.
    `volume` bounds how far the row count may fall between publishes (default: never to 0 over data).
    `expectations` is a Great Expectations suite run on the published table: a GX suite JSON file
    (a path, relative to the product's module), expectation configurations (`{"type", "kwargs"}`), GX
    expectation objects, or a function returning them (GX is imported only for what SQL cannot decide
    when the suite is given as configurations).
    """
    where = _caller(inspect.currentframe())

    def decorate(fn: Callable[..., Any]) -> DataProduct:
        product = name or fn.__name__
        problem = product_name_problem(product)
        if problem:
            raise _problem(product, problem, where)
        try:
            parsed_contract = read_contract(contract)
        except ContractDefinitionError as error:
            raise _problem(product, str(error), where) from error
        owner_list = tuple(owners)
        if not owner_list:
            raise _problem(product, "declare at least one owner ('team:name' or an email)", where)
        for owner in owner_list:
            if not OWNER_PATTERN.match(owner):
                raise _problem(
                    product, f"owner {owner!r} must be 'team:name' or an email address", where
                )
        if access not in ACCESS_LEVELS:
            raise _problem(
                product, f"access {access!r} must be one of {', '.join(ACCESS_LEVELS)}", where
            )
        if not SEMVER_PATTERN.match(version):
            raise _problem(
                product, f"version {version!r} must be semantic: MAJOR.MINOR.PATCH", where
            )
        if not isinstance(slo, SLO):
            raise _problem(product, "slo must be dagmesh.SLO(max_lag=timedelta(...))", where)
        text = (description or inspect.getdoc(fn) or "").strip()
        if not text:
            raise _problem(product, "describe the product (a docstring or description=...)", where)
        if deprecation_date is not None and (
            not isinstance(deprecation_date, date) or isinstance(deprecation_date, datetime)
        ):
            raise _problem(product, "deprecation_date must be a datetime.date", where)
        if volume is not None and not isinstance(volume, Volume):
            raise _problem(
                product, "volume must be dagmesh.Volume(max_drop=..., allow_empty=...)", where
            )
        if schedule and automation_condition is not None:
            raise _problem(
                product, "choose a cron schedule or an automation condition, not both", where
            )
        if (partitions_def is None) != (partition_column is None):
            raise _problem(product, "partitions_def and partition_column go together", where)
        if partition_column and partition_column not in parsed_contract.column_names:
            raise _problem(
                product, f"partition_column {partition_column!r} is not a contract column", where
            )
        if partitions_def is not None and not isinstance(
            partitions_def, dg.TimeWindowPartitionsDefinition
        ):
            raise _problem(product, "only time-window partitions are supported", where)
        params = list(inspect.signature(fn).parameters)
        bound_inputs = _normalize_inputs(product, inputs, where)
        resource_params = tuple(p for p in params if p not in bound_inputs and p != CONTEXT_PARAM)
        kind = _kind(product, fn, bound_inputs, where)
        try:
            suite = _suite(fn, expectations)
        except ProductDefinitionError as error:
            raise _problem(product, str(error), where) from error
        return DataProduct(
            name=product,
            fn=fn,
            contract=parsed_contract,
            owners=owner_list,
            description=text,
            access=access,
            version=version,
            slo=slo,
            inputs=bound_inputs,
            schedule=schedule,
            automation_condition=automation_condition,
            partitions_def=partitions_def,
            partition_column=partition_column,
            allowed_consumers=tuple(allowed_consumers),
            resource_params=resource_params,
            wants_context=CONTEXT_PARAM in params,
            kind=kind,
            deprecation_date=deprecation_date,
            expectations=suite,
            volume=volume or Volume(),
            declared_at=where,
        )

    return decorate
