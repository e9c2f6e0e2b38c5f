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
from dagmesh.core.paths import find_project_root
from dagmesh.declare.product import DataProduct
from dagmesh.location.domain import mesh_location
from dagmesh.location.inputs import resolve_inputs


def _where(product: DataProduct) -> str:
    if product.declared_at:
        return product.declared_at
    code = getattr(product.fn, "__code__", None)
    return (
        f"{code.co_filename}:{code.co_firstlineno}" if code is not None else product.fn.__module__
    )


def _loaded_products(defs_module: str, domain: str) -> list[DataProduct]:
    """The `@data_product`s defined in the modules Dagster imported from the defs folder.

    A product of this domain defined outside `defs/` and imported into it is refused rather than
    silently dropped or counted twice: the one layout is a folder under `defs/`."""
    found: list[DataProduct] = []
    for name in sorted(
        m for m in sys.modules if m == defs_module or m.startswith(defs_module + ".")
    ):
        for value in vars(sys.modules[name]).values():
            if not isinstance(value, DataProduct):
                continue
            home = value.fn.__module__
            if home == name:
                found.append(value)
            elif home.split(".")[0] == domain and not home.startswith(defs_module + "."):
                raise ProductDefinitionError(
                    f"{domain}/{value.name} (owners: {', '.join(value.owners)}) is declared in "
                    f"{_where(value)}, outside defs/, and imported into {name}; declare it in "
                    f"defs/{value.name}/product.py so the location finds it once"
                )
    return found


def _check_unique(domain: str, built: dict, python: list[DataProduct]) -> None:
    """Two declarations of one product name (two folders, or YAML and Python) stop the location."""
    seen = {key.path[-1]: product.declared_at or "a defs.yaml" for key, product in built.items()}
    for product in python:
        where = _where(product)
        if product.name in seen:
            raise ProductDefinitionError(
                f"domain {domain!r} declares {product.name!r} twice: in {seen[product.name]} and in "
                f"{where}; a product is one folder under defs/, give one of them another name"
            )
        seen[product.name] = where


def _failing_defs_file(error: BaseException, defs_folder: Path) -> str | None:
    """The file and line under defs/ where `error` was raised, for errors Dagster passes on bare."""
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace)
        trace = trace.tb_next
    for frame in reversed(frames):
        file = Path(frame.tb_frame.f_code.co_filename)
        if file.is_relative_to(defs_folder):
            return f"{file}:{frame.tb_lineno}"
    return None


def _check_defs_folder(tree: dg.ComponentTree, domain: str) -> Path:
    """The project's own defs/ folder, or a clear error. Without `__init__.py` files the defs module is a
    namespace package, which Python may merge from any folder of that name on the path (another
    checkout, the working directory): Dagster would then load other people's files as this domain's."""
    project = Path(tree.project_root).resolve()
    module = sys.modules.get(tree.defs_module_name)
    folders = [Path(p).resolve() for p in getattr(module, "__path__", [])] or [
        Path(tree.defs_module_path).resolve()
    ]
    if len(folders) != 1 or not folders[0].is_relative_to(project):
        shown = ", ".join(str(f) for f in folders)
        raise ProductDefinitionError(
            f"domain {domain!r}: its defs module {tree.defs_module_name} resolves to {shown}, not one "
            f"folder inside the project {project}; give src/{domain}/ and src/{domain}/defs/ an "
            "`__init__.py` (as `dagmesh new-domain` writes them) so Python imports the project's own"
        )
    return folders[0]


def load_domain(path_within_project: str | Path, **options: Any) -> dg.Definitions:
    """The code location of the domain project holding `path_within_project` (pass `__file__`).

    `options` are those of `mesh_location` (resources, policies, policy_overrides, sensors, ...).
    """
    tree = dg.ComponentTree.for_project(Path(path_within_project).resolve())
    domain = tree.defs_module_name.split(".")[0]
    defs_folder = _check_defs_folder(tree, domain)
    try:
        defs = tree.build_defs()  # what `dg.load_from_defs_folder` returns
    except Exception as error:
        # A component's error names its file in Dagster's tree and its cause (with file:line); a
        # Python module's error comes bare, so the failing line under defs/ is named here.
        cause = error.__cause__
        where = _failing_defs_file(error, defs_folder)
        detail = f"{where}: {type(error).__name__}: {error}" if where else str(error)
        raise ProductDefinitionError(
            f"domain {domain!r}: its defs/ folder does not load.\n{detail}"
            + (f"\n{cause}" if cause is not None else "")
        ) from error
    built = declared_products(defs)
    python = _loaded_products(tree.defs_module_name, domain)
    _check_unique(domain, built, python)
    # before the Python products become assets: a misspelled input is reported as such, not as a
    # missing parameter
    every = {**built, **{p.key(domain): p for p in python}}
    resolve_inputs(domain, every, find_project_root(Path(tree.project_root)))
    defs = dg.Definitions.merge(defs, *(product_definitions(p, domain) for p in python))
    options.setdefault("package", Path(tree.project_root))
    return mesh_location(domain, defs, **options)
