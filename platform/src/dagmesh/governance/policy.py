"""Policies as code: small named rules over a product's Dagster definition, each with a severity and a fix.

A policy reads a product's interface record: for a declared product the one its declaration gives, for any
other asset what Dagster itself knows of it. The same rules run when a code location loads and in
`dagmesh lint` over the whole workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import dagster as dg

from dagmesh.binding.asset import declared_products, product_interface
from dagmesh.core.errors import DagmeshError
from dagmesh.declare.interface import ProductInterface, asset_specs


class Severity(StrEnum):
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class Violation:
    policy: str
    severity: Severity
    product: str
    owners: tuple[str, ...]
    message: str
    fix: str

    def __str__(self) -> str:
        owners = ", ".join(self.owners) or "no owner"
        return f"[{self.severity.value}] {self.policy}: {self.product} (owners: {owners}): {self.message}. Fix: {self.fix}"


# A check returns the problems it found with one product, as (message, fix) pairs.
PolicyCheck = Callable[[ProductInterface, "MeshView"], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Policy:
    """A named, documented rule. `error` blocks loading and fails lint; `warn` is reported."""

    name: str
    description: str
    severity: Severity
    check: PolicyCheck

    def evaluate(self, product: ProductInterface, mesh: MeshView) -> list[Violation]:
        return [
            Violation(self.name, self.severity, product.name, product.owners, message, fix)
            for message, fix in self.check(product, mesh)
        ]


@dataclass
class MeshView:
    """Every product governance can see, for rules that look across domains (access)."""

    products: dict[dg.AssetKey, ProductInterface] = field(default_factory=dict)
    # The code location each product was loaded from.
    locations: dict[dg.AssetKey, str] = field(default_factory=dict)
    # Interfaces of products outside the loaded locations (the published contract registry).
    interfaces: Mapping[dg.AssetKey, ProductInterface] = field(default_factory=dict)

    def lookup(self, key: dg.AssetKey) -> ProductInterface | None:
        return self.products.get(key) or self.interfaces.get(key)

    def add(self, location: str, defs: dg.Definitions) -> None:
        """Every asset one location materializes. A declared product is seen as its declaration says
        (the record is rebuilt from it, so no metadata a domain writes can change what governance
        sees); any other asset as Dagster knows it, held to every rule."""
        declared = declared_products(defs)
        for spec in asset_specs(defs):
            product = declared.get(spec.key)
            self.add_interfaces(
                location,
                [
                    product_interface(product, spec.key.path[0])
                    if product is not None
                    else ProductInterface.of_plain_asset(spec)
                ],
            )

    def add_interfaces(self, location: str, interfaces: Iterable[ProductInterface]) -> None:
        """Interface records of one location's products, as they are."""
        for interface in interfaces:
            self.products[interface.key] = interface
            self.locations[interface.key] = location

    @classmethod
    def from_definitions(
        cls,
        locations: Mapping[str, dg.Definitions],
        interfaces: Mapping[dg.AssetKey, ProductInterface] | None = None,
    ) -> MeshView:
        view = cls(interfaces=interfaces or {})
        for location, defs in locations.items():
            view.add(location, defs)
        return view


class PolicyConfigError(DagmeshError):
    """A domain tried to loosen a central policy, or named one that does not exist."""


class PolicyViolationError(DagmeshError):
    """Error-severity violations: the code location must not load.

    `definitions` are the location's definitions with every violation recorded, for tools that report
    (`dagmesh lint`) rather than stop."""

    def __init__(
        self,
        violations: Sequence[Violation],
        definitions: dg.Definitions | None = None,
        declared_at: Mapping[str, str] | None = None,
    ):
        self.violations = list(violations)
        self.definitions = definitions
        where = dict(declared_at or {})
        lines = [f"{len(violations)} governance policy violation(s):"]
        lines += [
            f"  - {v}" + (f" (declared at {where[v.product]})" if v.product in where else "")
            for v in violations
        ]
        super().__init__("\n".join(lines))


def tighten(policies: Sequence[Policy], overrides: Mapping[str, str] | None) -> list[Policy]:
    """Apply a domain's severity overrides: only warn -> error is allowed (tighten, never loosen)."""
    overrides = dict(overrides or {})
    by_name = {p.name: p for p in policies}
    unknown = sorted(set(overrides) - set(by_name))
    if unknown:
        raise PolicyConfigError(
            f"unknown policy(ies) {', '.join(unknown)}; known: {', '.join(by_name)}"
        )
    result = []
    for policy in policies:
        wanted = overrides.get(policy.name)
        if wanted is None:
            result.append(policy)
            continue
        severity = Severity(wanted)
        if policy.severity is Severity.ERROR and severity is Severity.WARN:
            raise PolicyConfigError(
                f"policy {policy.name!r} is an error centrally; a domain may tighten a policy, never loosen it"
            )
        result.append(Policy(policy.name, policy.description, severity, policy.check))
    return result


def evaluate(
    policies: Sequence[Policy], mesh: MeshView, only: Iterable[dg.AssetKey] | None = None
) -> list[Violation]:
    """Every violation of `policies` by the mesh's products (or just `only`)."""
    keys = list(only) if only is not None else list(mesh.products)
    violations = []
    for key in keys:
        product = mesh.products[key]
        for policy in policies:
            violations += policy.evaluate(product, mesh)
    return violations
