"""Federated computational governance: policies as code, access levels, and the governance location."""

from dagmesh.declare.access import AccessDeniedError, may_read
from dagmesh.declare.interface import ProductInterface
from dagmesh.governance.enforce import enforce_on_load, policies_for
from dagmesh.governance.policy import (
    MeshView,
    Policy,
    PolicyConfigError,
    PolicyViolationError,
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
    "ProductInterface",
    "Severity",
    "Violation",
    "enforce_on_load",
    "evaluate",
    "may_read",
    "policies_for",
]
