"""Inputs resolve when a location loads: a product reads something that exists, or the location stops.

A location loads alone (Dagster's code server imports one location, never a producer's code), so another
domain's products are known from the contract registry: the files `dagmesh publish` (or the scaffold, as
drafts) wrote into the producer's package folder. A misspelled input is an error with the closest known
names, raised before the function's parameters are checked, so it is reported as what it is. What the
registry cannot answer stays allowed: a domain outside the workspace with no name close to a known one,
or a producer whose registry is still empty.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg

from dagmesh.binding.workspace import WorkspaceError, read_workspace
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.core.paths import WORKSPACE_FILE
from dagmesh.declare.product import DataProduct, ProductRef, check_parameters
from dagmesh.registry.store import producer_folder, registered_products


def _known_domains(root: Path | None) -> set[str]:
    """The domains of the workspace at `root`: its locations, and the folders under domains/."""
    if root is None or not (root / WORKSPACE_FILE).is_file():
        return set()
    try:
        found = {location.name for location in read_workspace(root / WORKSPACE_FILE)}
    except WorkspaceError:
        found = set()
    domains = root / "domains"
    if domains.is_dir():
        found |= {p.name for p in domains.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return found


def _suggest(wanted: str, known: Iterable[str], prefix: str = "") -> str:
    """The "; did you mean 'x'?" hint: the known names closest to `wanted` (compared bare, shown with
    `prefix`), or nothing."""
    close = difflib.get_close_matches(wanted, sorted(known), n=3, cutoff=0.6)
    shown = " or ".join(repr(f"{prefix}{c}") for c in close)
    return f"; did you mean {shown}?" if close else ""


def _where(product: DataProduct) -> str:
    return f" at {product.declared_at}" if product.declared_at else ""


def _unknown(key: dg.AssetKey, product: DataProduct, ref: ProductRef, why: str) -> Exception:
    read = f"{ref.domain or key.path[0]}/{ref.name}" + (f"@{ref.major}" if ref.major else "")
    return ProductDefinitionError(
        f"{key.to_user_string()} (owners: {', '.join(product.owners)}){_where(product)} reads "
        f"{read}, {why}"
    )


def _check_ref(
    domain: str,
    key: dg.AssetKey,
    product: DataProduct,
    ref: ProductRef,
    names: set[str],
    root: Path | None,
    domains: set[str],
) -> None:
    producer = ref.domain or domain
    if producer == domain:
        if ref.name == product.name:
            raise ProductDefinitionError(f"{key.to_user_string()}{_where(product)} reads itself")
        if ref.name not in names:
            hint = _suggest(ref.name, names - {product.name}, f"{domain}/")
            raise _unknown(
                key,
                product,
                ref,
                f"which domain {domain!r} does not declare{hint}; declare it, or name the "
                "producing domain as 'domain/product'",
            )
        return
    if producer not in domains:
        hint = _suggest(producer, domains)
        if hint:  # a near miss of a known domain; a domain far from every known one is outside
            raise _unknown(key, product, ref, f"but there is no domain {producer!r}{hint}")
        return
    published = registered_products(producer_folder(root, producer)) if root else []
    if published and ref.name not in published:
        hint = _suggest(ref.name, published, f"{producer}/")
        raise _unknown(
            key,
            product,
            ref,
            f"which is not in {producer}'s contract registry{hint} (it holds "
            f"{', '.join(published)}); a new product is known once its owners draft or publish "
            "its contract (`dagmesh new-product`, `dagmesh publish`)",
        )


def resolve_inputs(
    domain: str, products: Mapping[dg.AssetKey, DataProduct], root: Path | None
) -> None:
    """Every input of `domain`'s `products` names a product this domain declares or the registry under
    `root` knows; then every input has its function parameter. Raises naming the product, its owners
    and where it is declared."""
    names = {key.path[-1] for key in products}
    domains = _known_domains(root) | {domain}
    for key, product in products.items():
        for ref in product.inputs.values():
            _check_ref(domain, key, product, ref, names, root, domains)
    for product in products.values():
        check_parameters(product)
