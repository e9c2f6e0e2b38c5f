"""What a domain's source files say, read without running them: code that reaches the warehouse around the
platform, and YAML products whose SQL reads more than their inputs.

Access levels are enforced on every read the platform performs; code that opens the DuckDB file itself
(or claims the platform's identity) is outside that, so lint reports it with its file and line. The scan
is static (Python's `ast`), so it sees what the code names, not what it computes at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import yaml

from dagmesh.storage.sql_guard import QueryNotAllowedError, refuse_unless_over

WAREHOUSE_POLICY = "warehouse-through-platform"
SQL_POLICY = "sql-reads-declared-inputs"
FIX_WAREHOUSE = (
    "read other products by declaring them as inputs (or query() over the inputs); never open the "
    "warehouse, its file or a connection yourself"
)
FIX_SQL = "read only the product's inputs and sources; declare what else it needs as an input"

# duckdb's module-level functions that open or use a connection (the default one included).
DUCKDB_CALLS = frozenset(
    {
        "connect", "sql", "query", "execute", "query_df", "read_csv", "read_parquet", "read_json",
        "from_csv_auto", "from_parquet", "from_query", "from_df", "table", "view", "values",
        "default_connection", "cursor", "sql_query", "fetchall", "fetchdf", "df", "arrow",
    }
)  # fmt: skip
# Names that stand for the warehouse itself or the platform's own identity.
FORBIDDEN_NAMES = {
    "DuckDBResource": "dagster-duckdb's DuckDBResource (a raw warehouse connection)",
    "DuckDBPandasIOManager": "dagster-duckdb's IO manager (a raw warehouse connection)",
}
FORBIDDEN_CALLS = {
    "MeshWarehouse": "a warehouse of its own (MeshWarehouse(...)), which no location bound to a domain",
    "Reader": "a reader identity of its own making (Reader(...))",
    "reading_as": "its reads run as another reader (reading_as(...))",
}


def scan_package(folder: Path) -> Iterator[tuple[str, str, str]]:
    """(policy, `file:line`, message) for each finding in the domain sources under `folder` (a
    package folder, or one Python file)."""
    files = [folder] if folder.is_file() else sorted(folder.rglob("*"))
    base = folder.parent
    for path in files:
        if "__pycache__" in path.parts or not path.is_file():
            continue
        where = path.relative_to(base).as_posix()
        if path.suffix == ".py":
            for line, message in _python_findings(path):
                yield WAREHOUSE_POLICY, f"{where}:{line}", message
        elif path.name in ("defs.yaml", "defs.yml"):
            for line, message in _yaml_findings(path):
                yield SQL_POLICY, f"{where}:{line}", message


def _python_findings(path: Path) -> Iterator[tuple[int, str]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return  # the location's own load reports a file that does not parse
    duckdb_names = {"duckdb"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "duckdb":
                    duckdb_names.add(alias.asname or "duckdb")
                if alias.name.split(".")[0] == "sqlite3":
                    yield node.lineno, "imports sqlite3 (a database opened around the platform)"
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top == "sqlite3":
                yield node.lineno, "imports sqlite3 (a database opened around the platform)"
            for alias in node.names:
                if top == "duckdb" and alias.name in DUCKDB_CALLS:
                    yield node.lineno, f"imports duckdb.{alias.name} (a connection of its own)"
                if alias.name in FORBIDDEN_NAMES:
                    yield node.lineno, f"uses {FORBIDDEN_NAMES[alias.name]}"
        elif isinstance(node, ast.Call):
            yield from _call_findings(node, duckdb_names)
        elif isinstance(node, ast.Attribute) and node.attr == "warehouse_path":
            yield node.lineno, "reads the warehouse file's path (warehouse_path)"
        elif isinstance(node, ast.Constant) and _names_the_warehouse(node.value):
            yield node.lineno, f"names the warehouse file ({node.value.strip()[:60]!r})"


def _names_the_warehouse(value: object) -> bool:
    return isinstance(value, str) and (
        "DAGMESH_WAREHOUSE" in value or value.strip().endswith(".duckdb")
    )


def _call_findings(node: ast.Call, duckdb_names: set[str]) -> Iterator[tuple[int, str]]:
    function = node.func
    if isinstance(function, ast.Attribute):
        owner = function.value
        if isinstance(owner, ast.Name) and owner.id in duckdb_names:
            if function.attr in DUCKDB_CALLS:
                yield node.lineno, f"calls duckdb.{function.attr}() (a connection of its own)"
        elif function.attr == "query" and len(node.args) >= 2:
            yield (
                node.lineno,
                (
                    "runs SQL through a relation's own query(name, sql), on the warehouse connection "
                    "and unchecked; use dagmesh's query() over the inputs"
                ),
            )
        elif function.attr == "get_connection":
            yield node.lineno, "opens a raw warehouse connection (get_connection())"
        elif isinstance(owner, ast.Name) and owner.id == "Reader":
            yield node.lineno, f"makes a reader identity of its own (Reader.{function.attr}(...))"
    elif isinstance(function, ast.Name) and function.id in FORBIDDEN_CALLS:
        yield node.lineno, f"makes {FORBIDDEN_CALLS[function.id]}"


def _yaml_findings(path: Path) -> Iterator[tuple[int, str]]:
    """A YAML product's SQL, held to its inputs and sources as the component holds it when it loads."""
    try:
        document = yaml.compose(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return
    attributes = _mapping_entry(document, "attributes")
    if attributes is None:
        return
    sql = _mapping_entry(attributes, "sql")
    if not isinstance(sql, yaml.ScalarNode):
        return
    names: list[str] = []
    inputs = _mapping_entry(attributes, "inputs")
    if isinstance(inputs, yaml.SequenceNode):
        names += [str(item.value).rsplit("/", 1)[-1].split("@")[0] for item in inputs.value]
    sources = _mapping_entry(attributes, "sources")
    if isinstance(sources, yaml.MappingNode):
        names += [str(key.value) for key, _ in sources.value]
    name = _mapping_entry(attributes, "name")
    product = name.value if isinstance(name, yaml.ScalarNode) else path.parent.name
    try:
        refuse_unless_over(str(sql.value), names, str(product))
    except QueryNotAllowedError as error:
        yield sql.start_mark.line + 1, str(error)


def _mapping_entry(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for entry_key, value in node.value:
        if isinstance(entry_key, yaml.ScalarNode) and entry_key.value == key:
            return value
    return None
