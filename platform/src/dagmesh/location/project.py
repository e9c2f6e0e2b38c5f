"""A domain project in Dagster's idiom: `defs/` loaded by `dg.load_from_defs_folder`, then the mesh rules.

    # domains/<domain>/src/<domain>/definitions.py
    @dg.definitions
    def defs() -> dg.Definitions:
        return dagmesh.load_domain(__file__)

The domain is the project's root module (`[tool.dg.project] root_module`), so its name is written once.
Each product is a folder under `defs/`: a `product.py` with its `@data_product` and `contract.py`, or a
`defs.yaml` declaring a `DataProductComponent` (with its SQL beside it). YAML products are built by their
component; Python products are the `@data_product` objects of the modules Dagster loaded from `defs/`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dagster as dg

from dagmesh.binding.asset import declared_products, product_definitions
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.declare.product import DataProduct
from dagmesh.location.domain import mesh_location


def _loaded_products(defs_module: str) -> list[DataProduct]:
    """The `@data_product`s defined in the modules Dagster imported from the defs folder."""
    found: list[DataProduct] = []
    for name in sorted(
        m for m in sys.modules if m == defs_module or m.startswith(defs_module + ".")
    ):
        module = sys.modules[name]
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, DataProduct) and value.fn.__module__ == name
        ]
    return found


def load_domain(path_within_project: str | Path, **options: Any) -> dg.Definitions:
    """The code location of the domain project holding `path_within_project` (pass `__file__`).

    `options` are those of `mesh_location` (resources, policies, policy_overrides, sensors, ...).
    """
    tree = dg.ComponentTree.for_project(Path(path_within_project).resolve())
    domain = tree.defs_module_name.split(".")[0]
    try:
        defs = tree.build_defs()  # what `dg.load_from_defs_folder` returns
    except Exception as error:
        # Dagster's tree error names the failing file; its cause says what is wrong, with file:line.
        cause = error.__cause__ or error
        raise ProductDefinitionError(
            f"domain {domain!r}: its defs/ folder does not load.\n{error}\n{cause}"
        ) from error
    built = declared_products(defs)
    python = [p for p in _loaded_products(tree.defs_module_name) if p.key(domain) not in built]
    defs = dg.Definitions.merge(defs, *(product_definitions(p, domain) for p in python))
    options.setdefault("package", Path(tree.project_root))
    return mesh_location(domain, defs, **options)
