"""The JSON schema the ODCS package ships beside its model, and the errors a registry document has
against it (the unit and integration tests of the registry)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema

# The JSON schema the ODCS package ships beside its model.
ODCS_SCHEMA = json.loads(
    (resources.files("open_data_contract_standard") / "schema.json").read_text(encoding="utf-8")
)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(ODCS_SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
