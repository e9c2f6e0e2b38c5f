"""A product's SQL reads its declared inputs and sources, nothing else: parsed (sqlglot, DuckDB's dialect)
before it runs.

`query()` runs on the warehouse's own connection in an in-warehouse product, and on a DuckDB of its own in
a pandas one; either could otherwise ATTACH the warehouse file, read files (`read_csv`, `'x.parquet'`,
URLs), load extensions, or name another domain's table. So a query must be one SELECT (or WITH, UNION,
...) whose every table is one of the names it was given or one of its own CTEs, unqualified; table
functions other than row generators are refused. What cannot be parsed is refused too: the platform does
not run SQL it cannot read.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage

from dagmesh.core.errors import DagmeshError
from dagmesh.declare.access import current_reader

# Table functions that make rows without reading anything.
ROW_GENERATORS = frozenset({"range", "generate_series", "unnest"})
# Functions that read files, other databases or other queries, wherever they appear.
READING_FUNCTIONS = frozenset(
    {
        "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
        "read_json_objects", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text",
        "read_blob", "read_xlsx", "glob", "sqlite_scan", "sqlite_attach", "postgres_scan",
        "postgres_attach", "postgres_query", "mysql_scan", "delta_scan", "iceberg_scan", "query",
        "query_table", "ducklake_snapshots", "ducklake_table_info", "duckdb_databases",
        "duckdb_tables", "duckdb_columns", "duckdb_views", "duckdb_settings", "duckdb_secrets",
        "duckdb_extensions", "pragma_database_list", "load_aws_credentials", "getenv",
    }
)  # fmt: skip

_ONE_QUERY = "only one SELECT query is"


class QueryNotAllowedError(DagmeshError):
    """A product's SQL does something other than read its declared inputs and sources."""


def refuse_unless_over(sql: str, names: Iterable[str], who: str | None = None) -> None:
    """Raise unless `sql` is one query that reads only the tables `names` (and its own CTEs). `who`:
    the product and its owners, for the message (default: the product whose step is running)."""
    who = who or _running_product()
    allowed = sorted({name.lower() for name in names})
    problem = _problem(sql, set(allowed))
    if problem is not None:
        raise QueryNotAllowedError(
            f"{who}: its SQL may only read its declared inputs and sources "
            f"({', '.join(allowed) or 'none'}); {problem} is not allowed. Nothing was read; "
            "read other products by declaring them as inputs."
        )


def _problem(sql: str, allowed: set[str]) -> str | None:
    try:
        with _quiet_parser():
            statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"SQL the platform cannot parse ({first})"
    for statement in statements:
        if not isinstance(statement, exp.Query):
            kind = statement.this if isinstance(statement, exp.Command) else statement.key
            return f"the statement {str(kind).upper()} ({_ONE_QUERY})"
    if len(statements) != 1:
        return f"{len(statements)} statements ({_ONE_QUERY})"
    (statement,) = statements
    if statement.find(exp.Command, exp.Attach, exp.Detach, exp.Copy, exp.Set, exp.Pragma):
        return "a statement inside the query"
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for function in statement.find_all(exp.Func):
        name = _function_name(function)
        if name in READING_FUNCTIONS:
            return f"the function {name}()"
    for table in statement.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            name = _function_name(table.this)
            if name not in ROW_GENERATORS:
                return f"the table function {name}()"
            continue
        qualified = ".".join(part for part in (table.catalog, table.db, table.name) if part)
        if table.catalog or table.db:
            return f"the table {qualified} (a name from outside the query's inputs)"
        if table.name.lower() not in allowed | ctes:
            return f"the table {table.name!r} (not an input or source of this product)"
    return None


@contextmanager
def _quiet_parser() -> Iterator[None]:
    """sqlglot logs a warning for each statement it cannot read; the refusal says it instead."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _running_product() -> str:
    reader = current_reader()
    if reader is None:
        return "query()"
    return f"{reader.name} (owners: {', '.join(reader.owners) or 'none'})"


@functools.lru_cache(maxsize=256)
def column_sources(sql: str) -> dict[str, tuple[tuple[str | None, str], ...]]:
    """Each output column of `sql` and the (table, column) pairs it is computed from, as far as
    sqlglot can trace them without the tables' schemas (table None: one of the query's tables, not
    known which). Empty where the query cannot be traced (`SELECT *`, SQL that does not parse)."""
    try:
        with _quiet_parser():
            tree = sqlglot.parse_one(sql, read="duckdb")
            if not isinstance(tree, exp.Query):
                return {}
            traced: dict[str, tuple[tuple[str | None, str], ...]] = {}
            for projection in tree.selects:
                name = projection.alias_or_name
                if not name or name == "*":
                    return {}
                root = lineage(name, tree, None, dialect="duckdb")
                leaves = [
                    node
                    for node in root.walk()
                    if not node.downstream
                    and (
                        isinstance(node.source, exp.Table | exp.Placeholder)  # ? : not known which
                    )
                ]
                traced[name] = tuple(
                    (
                        leaf.source.name if isinstance(leaf.source, exp.Table) else None,
                        leaf.name.rsplit(".", 1)[-1],
                    )
                    for leaf in leaves
                )
    except (sqlglot.errors.SqlglotError, ValueError, KeyError, AttributeError):
        return {}
    return traced


def _function_name(function: exp.Func) -> str:
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return function.sql_name().lower()
