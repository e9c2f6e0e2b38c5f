"""Federated computational governance: policies as code, access levels, and the governance location."""

from dagmesh.governance.access import AccessDeniedError, may_read
from dagmesh.governance.enforce import enforce_on_load, policies_for
from dagmesh.governance.policy import (
    MeshView,
    Policy,
    PolicyConfigError,
    PolicyViolationError,
    ProductView,
    Severity,
    Violation,
    evaluate,
)
from dagmesh.governance.standard import STANDARD_POLICIES

__all__ = [
    "STANDARD_POLICIES",
    "AccessDeniedError",
    "MeshView",
    "Policy",
    "PolicyConfigError",
    "PolicyViolationError",
    "ProductView",
    "Severity",
    "Violation",
    "enforce_on_load",
    "evaluate",
    "may_read",
    "policies_for",
]
