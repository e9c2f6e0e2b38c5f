"""The contract registry: products' contracts as versioned ODCS documents, and breaking-change checks.

See docs/contracts.md for the registry layout, the version rules and the change classification.
"""

from dagmesh.registry.check import publish_domain
from dagmesh.registry.diff import Change, PublishedData, diff_contracts, is_widening
from dagmesh.registry.odcs import (
    ContractDocumentError,
    dump_odcs,
    from_odcs,
    load_odcs,
    to_odcs,
    validate_odcs,
)

__all__ = [
    "Change",
    "ContractDocumentError",
    "PublishedData",
    "diff_contracts",
    "dump_odcs",
    "from_odcs",
    "is_widening",
    "load_odcs",
    "publish_domain",
    "to_odcs",
    "validate_odcs",
]
