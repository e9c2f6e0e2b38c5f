"""Every SQL the platform builds quotes identifiers and passes values as parameters: a static lint over
the platform's f-strings (the injection attempts against a real warehouse are in
tests/integration/storage/test_sql_injection.py)."""

from __future__ import annotations

import re
from pathlib import Path

PLATFORM = Path(__file__).resolve().parents[3] / "platform" / "src" / "dagmesh"


# A pragmatic lint: SQL built with f-strings may interpolate only quoted identifiers, fragments built from
# them (named below), or constants. Anything else must be a `?` parameter. A new interpolation fails here
# until someone checks it and names it.
SAFE_FRAGMENTS = {
    "secret_options",  # lakehouse: S3 secret options, each a string literal or a fixed keyword
    "version_clause",  # DuckLake's AT (...): an int snapshot id or an ISO timestamp (_version_clause)
    "col",
    "column.sql",  # expectation_sql's quoted column, and its null predicate built from it
    "column.null",
    "cols",
    "table",
    "stage",
    "incoming",
    "log",
    "name",
    "selected",
    "predicate",
    "projection",
    "check.failing_predicate",
    "failing",
    "not_null",
    "operator",
    "placeholders",
    "low",
    "high",
    "sql",
    "where",
    "target_type",
    "column.duckdb_type",
    "comparisons[name]",
    "LIMIT_ROWS",
    "SAMPLE_ROWS",
    "', '.join(select)",
    "', '.join(casts)",
    "_duplicates_query(table, cols)",
    "key",
    "self.table",
    # reviewed for issue 9: each is built from quote_identifier() names or DuckDB's own type names
    "keyed",  # quote_identifier(_KEYED) or the staged table
    "columns",  # quoted contract column names
    "staged",  # quoted key columns, optionally sha256(...) of them
    "kept",  # quoted key columns or NULL AS quoted name
    "names",  # quoted publication-log column names
    "definition",  # the publication log's constant column definitions
    "type_",  # a constant log column type, or a type name DuckDB's DESCRIBE gave
}
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|DELETE|CREATE|DROP|ALTER|UPDATE|FROM|WHERE)\b")


def test_platform_sql_interpolates_only_quoted_identifiers():
    offenders = []
    for path in sorted(PLATFORM.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not re.search(r"\bf[\"']", line) or not SQL_WORDS.search(line):
                continue
            for field in re.findall(r"\{([^{}]*)\}", line):
                inner = field.split("!")[0].split(":")[0].strip()
                if (
                    inner.startswith(("quote_identifier(", "qualified_name("))
                    or inner in SAFE_FRAGMENTS
                ):
                    continue
                offenders.append(f"{path.relative_to(PLATFORM)}:{number}: {{{field}}}")
    assert offenders == [], "\n".join(offenders)
