"""Declarative data products: a Dagster Component, so a team can declare a product in YAML.

A thin layer over `@data_product`: the YAML becomes a pandera contract and a product function (SQL over the
inputs, or a Python function), then the same declaration the Python API makes. Dagster's component loader
parses `defs.yaml` and reports validation errors with file and line numbers; the rules that `@data_product`
enforces (owners, versions, check names) are validators here, so they get line numbers too.

    # domains/<domain>/src/<domain>/defs/<product>/defs.yaml
    type: dagmesh.location.components.DataProductComponent
    attributes:
      name: part_demand
      description: Units sold per brand.
      owners: [team:logistics]
      access: internal
      version: 1.0.0
      slo: {max_lag_hours: 26}
      inputs: [parts, sales/line_items]
      automation: eager
      columns:
        - {name: p_brand, type: str, description: Brand., unique: true}
        - {name: units, type: "decimal(38,2)", description: Units sold., checks: {ge: 0}}
      sql: SELECT p_brand, SUM(l_quantity) AS units FROM parts JOIN line_items ON ...

Column types: int64, float64, str, bool, timestamp (datetime64[ns]), date (DATE) and decimal(p,s)
(DECIMAL(p,s)); date and decimal are pandas' Arrow dtypes, as a Python contract declares them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import math
import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import dagster as dg
import pandera.pandas as pa
from pandera.typing import Series
from pydantic import AfterValidator, BeforeValidator, field_validator, model_validator

from dagmesh.binding.asset import product_definitions
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.declare.access import ACCESS_LEVELS
from dagmesh.declare.names import (
    NAME_PATTERN,
    OWNER_PATTERN,
    SEMVER_PATTERN,
    Mask,
    product_name_problem,
)
from dagmesh.declare.product import (
    SLO,
    SQL_ATTRIBUTE,
    DataProduct,
    ProductRef,
    Relation,
    data_product,
)
from dagmesh.declare.types import COLUMN_TYPES, DECIMAL_TYPE, yaml_column_dtype
from dagmesh.storage.engine import relation_query
from dagmesh.storage.sql_guard import QueryNotAllowedError, refuse_unless_over

BOUND_CHECKS = ("eq", "ne", "gt", "ge", "lt", "le", "in_range")
CHECKS = (
    "eq", "ne", "gt", "ge", "lt", "le", "in_range", "isin", "notin",
    "str_contains", "str_endswith", "str_length", "str_matches", "str_startswith",
)  # fmt: skip


class ColumnSpec(dg.Model):
    """One contract column: a name, a type, and the checks every row must pass."""

    name: str
    type: str
    description: str | None = None
    nullable: bool = False
    unique: bool = False
    pii: bool | None = None  # false: declared not PII (else derived from its inputs' columns)
    mask: Mask | None = None
    checks: dict[str, Any] = {}

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(f"column {value!r} must be lower_snake_case")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        decimal = DECIMAL_TYPE.match(value)
        if value in COLUMN_TYPES or (
            decimal and 1 <= int(decimal[1]) <= 38 and int(decimal[2]) <= int(decimal[1])
        ):
            return value
        raise ValueError(
            f"unknown column type {value!r}; use {', '.join(COLUMN_TYPES)} or decimal(p,s) "
            "(precision p from 1 to 38, scale s at most p)"
        )

    def dtype(self) -> Any:
        """The pandera annotation of the column's type."""
        return yaml_column_dtype(self.type)

    def pandera_checks(self) -> dict[str, Any]:
        """The checks as pandera keywords. A decimal column's numeric bounds are exact decimals, as
        written in the YAML (`ge: 0.1` is 0.1, not the float nearest to it)."""
        if not DECIMAL_TYPE.match(self.type):
            return dict(self.checks)
        return {
            name: _exact(value) if name in BOUND_CHECKS else value
            for name, value in self.checks.items()
        }

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(CHECKS))
        if unknown:
            raise ValueError(f"unknown check(s) {', '.join(unknown)}; use {', '.join(CHECKS)}")
        return value

    @model_validator(mode="after")
    def _check_values_fit_the_column(self) -> ColumnSpec:
        """A check's value must be one the column's values can be compared with: `gt: "zero"` on a
        number, or `isin: small` (a string, not a list), would otherwise load and only fail (or pass
        vacuously) when data arrives."""
        for check, value in self.checks.items():
            problem = check_value_problem(check, value, self.type)
            if problem:
                raise ValueError(f"column {self.name!r}: check {check}: {problem}")
        return self


_NUMERIC = ("int64", "float64")


def _bound_problem(value: Any, column_type: str) -> str | None:
    """Why `value` cannot bound a column of `column_type`, or None."""
    numeric = column_type in _NUMERIC or DECIMAL_TYPE.match(column_type)
    if isinstance(value, bool) or value is None:
        return f"{value!r} is not a bound"
    if numeric and not isinstance(value, int | float):
        return f"{value!r} is not a number, and {column_type} values are numbers"
    if numeric and isinstance(value, float) and math.isnan(value):
        return "NaN bounds nothing (every comparison with it is false)"
    if column_type == "str" and not isinstance(value, str):
        return f"{value!r} is not text, and str values are compared as text"
    if column_type in ("date", "timestamp") and not isinstance(value, dt.date | str):
        return f"{value!r} is not a date (write 2024-01-31)"
    if column_type == "bool":
        return "bool columns take isin/eq/ne, not bounds"
    return None


def check_value_problem(check: str, value: Any, column_type: str) -> str | None:
    """Why a YAML check's value does not fit a column of `column_type`, or None if it does."""
    if check in ("gt", "ge", "lt", "le"):
        return _bound_problem(value, column_type)
    if check in ("eq", "ne"):
        if isinstance(value, list | dict) or value is None:
            return f"{value!r} is not a single value"
        return None if column_type == "bool" else _bound_problem(value, column_type)
    if check == "in_range":
        if not isinstance(value, dict) or not {"min_value", "max_value"} <= set(value):
            return "write {min_value: ..., max_value: ...}"
        extra = set(value) - {"min_value", "max_value", "include_min", "include_max"}
        if extra:
            return f"unknown key(s) {', '.join(sorted(extra))}"
        for flag in ("include_min", "include_max"):
            if flag in value and not isinstance(value[flag], bool):
                return f"{flag} is true or false"
        return _bound_problem(value["min_value"], column_type) or _bound_problem(
            value["max_value"], column_type
        )
    if check in ("isin", "notin"):
        if not isinstance(value, list) or not value:
            return f"{value!r} is not a list of values (write [a, b])"
        problems = [
            p
            for member in value
            if (p := None if member is None else _member_problem(member, column_type))
        ]
        return problems[0] if problems else None
    if check in ("str_contains", "str_endswith", "str_startswith", "str_matches"):
        if column_type != "str":
            return f"a text check on a {column_type} column"
        if not isinstance(value, str):
            return f"{value!r} is not text"
        if check == "str_matches":
            try:
                re.compile(value)
            except re.error as error:
                return f"{value!r} is not a regular expression ({error})"
        return None
    if check == "str_length":
        if column_type != "str":
            return f"a text check on a {column_type} column"
        bounds = value if isinstance(value, dict) else {"min_value": value}
        if set(bounds) - {"min_value", "max_value"} or not bounds:
            return "write a length or {min_value: ..., max_value: ...}"
        if not all(
            isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in bounds.values()
        ):
            return "lengths are whole numbers, 0 or more"
        return None
    return None


def _member_problem(member: Any, column_type: str) -> str | None:
    if column_type == "bool":
        return None if isinstance(member, bool) else f"{member!r} is not true or false"
    return _bound_problem(member, column_type)


def _exact(value: Any) -> Any:
    """A YAML number as a Decimal (through its text, so 0.1 stays 0.1); ranges bound by bound."""
    if isinstance(value, dict):
        return {key: _exact(bound) for key, bound in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    return value


class SLOSpec(dg.Model):
    max_lag_hours: float
    warn_after_hours: float | None = None

    def slo(self) -> SLO:
        warn = timedelta(hours=self.warn_after_hours) if self.warn_after_hours else None
        return SLO(max_lag=timedelta(hours=self.max_lag_hours), warn_after=warn)


def _product_name(value: str) -> str:
    problem = product_name_problem(value)
    if problem:
        raise ValueError(f"product name {value!r}: {problem}")
    return value


def _owner(value: str) -> str:
    if not OWNER_PATTERN.match(value):
        raise ValueError(f"owner {value!r} must be 'team:name' or an email address")
    return value


def _owners(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("declare at least one owner ('team:name' or an email)")
    return value


def _access(value: str) -> str:
    if value not in ACCESS_LEVELS:
        raise ValueError(f"access {value!r} must be one of {', '.join(ACCESS_LEVELS)}")
    return value


def _semver(value: object) -> str:
    if not isinstance(value, str) or not SEMVER_PATTERN.match(value):
        raise ValueError(f"version {value!r} must be MAJOR.MINOR.PATCH (quoted in YAML)")
    return value


def _ref(value: str) -> str:
    try:
        ProductRef.parse(value)
    except ProductDefinitionError as error:
        raise ValueError(str(error)) from None
    return value


# Validators ride on the field types, so Dagster's own Resolvable model runs them while it parses the YAML
# and reports each problem with its file and line.
ProductName = Annotated[str, AfterValidator(_product_name)]
Owners = Annotated[list[Annotated[str, AfterValidator(_owner)]], AfterValidator(_owners)]
AccessLevel = Annotated[str, AfterValidator(_access)]
SemVer = Annotated[str, BeforeValidator(_semver)]
InputRefs = list[Annotated[str, AfterValidator(_ref)]]


class DataProductScaffolder(dg.Scaffolder):
    """`dg scaffold defs dagmesh.DataProductComponent NAME`: a product that validates and loads as is,
    for the team to edit (its owners, columns and SQL are placeholders)."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        name = request.target_path.name
        dg.scaffold_component(
            request,
            {
                "name": name,
                "description": f"What {name} holds and who it is for (edit me).",
                "owners": ["team:REPLACE_ME"],
                "access": "internal",
                "version": "0.1.0",
                "slo": {"max_lag_hours": 26},
                "columns": [
                    {"name": "id", "type": "int64", "description": "Row id.", "unique": True}
                ],
                "sql": "SELECT 1 AS id",
            },
        )


@dg.scaffold_with(DataProductScaffolder)
class DataProductComponent(dg.Component, dg.Model, dg.Resolvable):
    """A data product declared in YAML: contract columns, owners, access, version, SLO, inputs, and
    either `sql` over the inputs (each input is a table named after the product) and `sources`, run inside
    the warehouse, or `python: module:fn`."""

    name: ProductName
    description: str
    owners: Owners
    access: AccessLevel
    version: SemVer
    slo: SLOSpec
    columns: list[ColumnSpec]
    inputs: InputRefs = []
    unique_together: list[str] = []
    schedule: str | None = None
    automation: Literal["eager"] | None = None
    allowed_consumers: list[str] = []
    sql: str | None = None
    sources: dict[str, str] = {}
    python: str | None = None

    @model_validator(mode="after")
    def _one_body(self) -> DataProductComponent:
        if (self.sql is None) == (self.python is None):
            raise ValueError(
                "give exactly one of `sql` (over the inputs) or `python: module:function`"
            )
        if self.python is not None and not re.match(r"^[\w.]+:\w+$", self.python):
            raise ValueError("python must be 'package.module:function'")
        if self.sources and self.sql is None:
            raise ValueError("`sources` are tables for `sql`; a Python product takes its resources")
        inputs = {ProductRef.parse(ref).name for ref in self.inputs}
        for view, source in self.sources.items():
            if not re.match(r"^[a-z_][a-z0-9_]*$", view) or view in inputs:
                raise ValueError(
                    f"source {view!r}: name it in lower_snake_case, apart from the inputs"
                )
            if not re.match(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$", source):
                raise ValueError(
                    f"source {view!r}: {source!r} must be 'resource.table', e.g. 'tpch.lineitem'"
                )
        if self.schedule and self.automation:
            raise ValueError("choose a cron `schedule` or an `automation`, not both")
        if self.sql is not None:
            try:  # the SQL reads its inputs and sources only, refused here with its file and line
                refuse_unless_over(
                    self.sql,
                    [*inputs, *self.sources],
                    f"{self.name} (owners: {', '.join(self.owners)})",
                )
            except QueryNotAllowedError as error:
                raise ValueError(str(error)) from None
        names = [c.name for c in self.columns]
        missing = [c for c in self.unique_together if c not in names]
        if missing:
            raise ValueError(f"unique_together names unknown column(s) {', '.join(missing)}")
        return self

    # -- to the Python API ---------------------------------------------------------------------

    def contract(self) -> type[pa.DataFrameModel]:
        """The YAML columns as a pandera DataFrameModel, exactly as a team would write it in Python."""
        annotations: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for column in self.columns:
            annotations[column.name] = Series[column.dtype()]
            metadata: dict[str, Any] = {} if column.pii is None else {"pii": column.pii}
            if column.mask:
                metadata["mask"] = str(column.mask)
            fields[column.name] = pa.Field(
                nullable=column.nullable,
                unique=column.unique,
                description=column.description,
                metadata=metadata or None,
                **column.pandera_checks(),
            )
        namespace: dict[str, Any] = {"__annotations__": annotations, **fields}
        namespace["__doc__"] = self.description
        if self.unique_together:
            namespace["Config"] = type("Config", (), {"unique": list(self.unique_together)})
        class_name = "".join(part.title() for part in self.name.split("_"))
        return type(class_name, (pa.DataFrameModel,), namespace)

    def _function(self):
        """The product function: SQL runs in the warehouse over its inputs (relations) and its
        `sources` (`resource.table`: a relation the domain's resource hands out); `python` calls the
        named function, a pandas or an in-warehouse product as its return annotation says."""
        params = [ProductRef.parse(ref).name for ref in self.inputs]
        if self.python is not None:
            module, _, attribute = self.python.partition(":")
            target = getattr(importlib.import_module(module), attribute)
            returns = inspect.signature(target).return_annotation

            def run(**frames: Any) -> Any:
                return target(**frames)
        else:
            sql, sources, returns = self.sql, dict(self.sources), Relation
            resources = sorted({source.split(".")[0] for source in sources.values()})
            params += [r for r in resources if r not in params]

            def run(**given: Any) -> Any:
                tables = {p: given[p] for p in given if p not in resources}
                for view, source in sources.items():
                    resource, _, table = source.partition(".")
                    tables[view] = given[resource].relation(table)
                return relation_query(sql, None, tables)

        run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params],
            return_annotation=returns,
        )
        run.__annotations__ = {"return": returns}
        run.__name__ = self.name
        if self.sql is not None:
            setattr(run, SQL_ATTRIBUTE, self.sql)
        return run

    def product(self) -> DataProduct:
        """The same declaration `@data_product` makes."""
        return data_product(
            contract=self.contract(),
            owners=self.owners,
            access=self.access,
            version=self.version,
            slo=self.slo.slo(),
            inputs=self.inputs,
            description=self.description,
            schedule=self.schedule,
            automation_condition=dg.AutomationCondition.eager() if self.automation else None,
            allowed_consumers=self.allowed_consumers,
            name=self.name,
        )(self._function())

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The product's asset and checks, keyed under the project's domain (its root module); the
        location applies the mesh rules to it with every other product (`dagmesh.load_domain`)."""
        domain = context.defs_module_name.split(".")[0]
        product = replace(self.product(), declared_at=self._declared_at(Path(context.path)))
        return product_definitions(product, domain)

    def _declared_at(self, folder: Path) -> str:
        """`defs.yaml:line` of this product's `name:` (load errors point at the YAML, not at us)."""
        path = folder / "defs.yaml" if folder.is_dir() else folder
        try:
            lines = path.read_text().splitlines()
        except OSError:
            return str(path)
        pattern = re.compile(rf"^\s*name:\s*['\"]?{re.escape(self.name)}['\"]?\s*(#.*)?$")
        line = next((n for n, text in enumerate(lines, 1) if pattern.match(text)), 1)
        return f"{path}:{line}"
