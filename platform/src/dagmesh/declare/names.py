"""The naming rules of the mesh, in one place: product, domain and column names, owners, versions, masks."""

from __future__ import annotations

import re
from enum import StrEnum

# lower_snake_case, a letter first, at most 63 characters (Dagster's tag-value limit).
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# 'team:name' or an email address, as Dagster's asset owners require.
OWNER_PATTERN = re.compile(r"^(team:[A-Za-z0-9_.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")
SEMVER_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# `<product>__v<major>` is where a product's previous major is kept after a major bump
# (`storage.warehouse.archive_table`): no product may have such a name of its own.
KEPT_MAJOR_SUFFIX = re.compile(r"__v\d+$")


def product_name_problem(name: str) -> str | None:
    """What is wrong with `name` as a product's name, or None."""
    if not NAME_PATTERN.match(name):
        return "names are lower_snake_case, start with a letter, at most 63 chars"
    if KEPT_MAJOR_SUFFIX.search(name):
        return (
            "a name ending in __v<digits> is where a product's previous major is kept after a major "
            f"bump ({KEPT_MAJOR_SUFFIX.sub('', name)!r} at major N is kept as '<name>__vN'); "
            "choose another name"
        )
    return None


# DuckDB's own catalogs and schemas: a domain (a warehouse schema) of one of these names is ambiguous.
RESERVED_SCHEMAS = frozenset(
    {"main", "temp", "system", "memory", "information_schema", "pg_catalog"}
)


class Mask(StrEnum):
    """How a PII column is masked before publishing."""

    SHA256 = "sha256"
    REDACTED = "redacted"


MASKS: tuple[str, ...] = tuple(mask.value for mask in Mask)
