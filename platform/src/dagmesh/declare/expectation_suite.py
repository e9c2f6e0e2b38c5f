"""A product's Great Expectations suite declared as GX's own JSON (`ExpectationSuite.to_json_dict()`).

A suite file beside the product, or configurations given in Python, can be read and compiled to SQL
without importing GX (seconds per process); GX objects, or a function building them, always import it.
Only the shape is checked here: GX itself judges the configurations it is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagmesh.core.errors import ProductDefinitionError


def is_configuration(item: Any) -> bool:
    """An expectation given as its configuration (a mapping), not as a GX object."""
    return isinstance(item, Mapping)


def check_configuration(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`item` as a plain dict, if it has GX's configuration shape: a `type` and a `kwargs` mapping."""
    if type(item.get("type")) is not str or not item["type"]:
        raise ProductDefinitionError(
            f"{where}: an expectation needs a 'type', GX's name for it "
            "(e.g. 'expect_column_values_to_not_be_null')"
        )
    if not isinstance(item.get("kwargs", {}), Mapping):
        raise ProductDefinitionError(f"{where}: 'kwargs' of {item['type']} must be a mapping")
    return {**item, "kwargs": dict(item.get("kwargs", {}))}


def read_suite_file(path: Path) -> tuple[dict[str, Any], ...]:
    """The expectation configurations of the GX suite JSON at `path`."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ProductDefinitionError(f"{path}: no such expectation suite file") from None
    except json.JSONDecodeError as error:
        raise ProductDefinitionError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg})"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise ProductDefinitionError(
            f"{path}: a GX expectation suite is an object with an 'expectations' list"
        )
    return tuple(
        check_configuration(item, f"{path}: expectation {position + 1}")
        if isinstance(item, dict)
        else _not_a_mapping(path, position)
        for position, item in enumerate(document["expectations"])
    )


def _not_a_mapping(path: Path, position: int) -> dict[str, Any]:
    raise ProductDefinitionError(f"{path}: expectation {position + 1} is not an object")
