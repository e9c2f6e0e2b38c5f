"""Scaffolding: a new domain or product that loads, lints, checks and tests green with no edit.

Everything is validated before the first file is written, and a failure while writing puts every touched
file back, so a refused or failed command changes nothing.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagmesh.core.errors import DagmeshError
from dagmesh.declare.names import NAME_PATTERN, OWNER_PATTERN

RESERVED = {"dagmesh", "dagster", "platform", "governance", "tests", "test", "domains", "defs"}


class ScaffoldError(DagmeshError):
    """The name or owner is refused; nothing was changed."""


@dataclass
class Changes:
    """Files written so far, to undo them if a later step fails."""

    created: list[Path] = field(default_factory=list)
    originals: dict[Path, str] = field(default_factory=dict)

    def write(self, path: Path, text: str) -> None:
        if path.exists():
            self.originals.setdefault(path, path.read_text())
        else:
            self.created.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def undo(self, keep_root: Path | None = None) -> None:
        for path, text in self.originals.items():
            path.write_text(text)
        for path in reversed(self.created):
            path.unlink(missing_ok=True)
        if keep_root is not None and keep_root.exists():
            shutil.rmtree(keep_root, ignore_errors=True)


def _check_name(kind: str, name: str) -> None:
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{kind} name {name!r} is refused: use lower_snake_case starting with a letter "
            "(e.g. 'customer_service'); nothing was changed"
        )


def _check_owner(owner: str) -> None:
    if not OWNER_PATTERN.match(owner):
        raise ScaffoldError(
            f"owner {owner!r} must be 'team:name' or an email address; nothing was changed"
        )


def _class_name(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


# -- templates -----------------------------------------------------------------------------------

PYPROJECT = """[project]
name = "{name}"
version = "0.1.0"
description = "The {name} domain's data products (a Dagster code location)."
requires-python = ">=3.11"
dependencies = ["dagmesh"]

[tool.uv.sources]
dagmesh = {{ workspace = true }}

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/{name}"]
"""

CONTRACTS = '''"""Contracts of the {name} products: what consumers may rely on, checked on every write."""

import pandera.pandas as pa
from pandera.typing import Series
'''

CONTRACT = '''

class {cls}(pa.DataFrameModel):
    """{title}: one row per TPC-H region (replace with your product's columns)."""

    region_id: Series[int] = pa.Field(unique=True, ge=0, description="Region id.")
    region: Series[str] = pa.Field(description="Region name, upper case.")
    note: Series[str] = pa.Field(nullable=True, description="Free-text comment.")
'''

PRODUCTS = '''"""The {name} domain's data products."""

from datetime import timedelta

import pandas as pd

from dagmesh import SLO, TpchSource, data_product
from {name} import contracts

OWNERS = ["{owner}"]
'''

PRODUCT = '''

@data_product(
    contract=contracts.{cls},
    owners=OWNERS,
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(hours=26)),
    schedule="0 6 * * *",
)
def {product}(tpch: TpchSource) -> pd.DataFrame:
    """{title}: the example product of the {name} domain. Replace the body with your own logic."""
    regions = tpch.table("region")
    return pd.DataFrame(
        {{
            "region_id": regions["r_regionkey"],
            "region": regions["r_name"],
            "note": regions["r_comment"],
        }}
    )
'''

DEFINITIONS = '''"""The {name} code location: one call builds it from the domain's products."""

from dagmesh import domain_definitions
from {name} import products

defs = domain_definitions("{name}", [products])
'''

TEST = '''"""{name}/{product} materializes through Dagster and passes its contract."""

import dagster as dg
import duckdb

from dagmesh import domain_definitions
from dagmesh.storage.settings import MeshSettings
from {name} import products


def test_{product}_materializes_and_passes_its_contract(tmp_path):
    settings = MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)
    defs = domain_definitions("{name}", [products], settings=settings)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            defs.assets, resources=defs.resources, instance=instance, selection=["{name}/{product}"]
        )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT COUNT(*) FROM {name}.{product}").fetchone()[0]
    assert rows == 5  # the five TPC-H regions
'''

WORKSPACE_ENTRY = """  - python_module:
      module_name: {name}.definitions
      location_name: {name}
"""


# -- registration ---------------------------------------------------------------------------------


def _add_to_root_pyproject(text: str, name: str) -> str:
    """Add the domain to the workspace root's dependencies and uv sources (text edit keeps comments)."""
    deps = re.search(r"^dependencies = \[(.*?)\]", text, flags=re.M | re.S)
    if deps is None:
        raise ScaffoldError(
            "the root pyproject.toml has no dependencies list to register the domain in"
        )
    items = [i.strip() for i in deps.group(1).split(",") if i.strip()]
    items.append(f'"{name}"')
    text = text[: deps.start(1)] + ", ".join(items) + text[deps.end(1) :]
    sources = re.search(r"^\[tool\.uv\.sources\]\n((?:.+\n)*)", text, flags=re.M)
    if sources is None:
        return text + f"\n[tool.uv.sources]\n{name} = {{ workspace = true }}\n"
    insert = sources.end(1)
    return text[:insert] + f"{name} = {{ workspace = true }}\n" + text[insert:]


def _install_editable(package: Path) -> None:
    """Make the new package importable in this environment (uv if present, else pip)."""
    python = sys.executable
    uv = shutil.which("uv", path=str(Path(python).parent)) or shutil.which("uv")
    command = (
        [uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "-e", str(package)]
        if uv
        else [python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(package)]
    )
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise ScaffoldError(f"installing {package.name} failed: {completed.stderr.strip()[-500:]}")


def _workspace_names(workspace: Path) -> set[str]:
    from dagmesh.binding.workspace import read_workspace

    return {location.name for location in read_workspace(workspace)}


def new_domain(
    root: Path,
    name: str,
    owner: str,
    *,
    install: bool = True,
    publish: Callable[[Path, str], None] | None = None,
) -> list[Path]:
    """Create `domains/<name>` with an example product, contract and test, and register it."""
    _check_name("domain", name)
    _check_owner(owner)
    if name in RESERVED:
        raise ScaffoldError(
            f"domain name {name!r} is reserved by the platform; nothing was changed"
        )
    folder = root / "domains" / name
    workspace = root / "workspace.yaml"
    if folder.exists() or name in _workspace_names(workspace):
        raise ScaffoldError(
            f"domain {name!r} already exists; choose another name. Nothing was changed"
        )
    if importlib.util.find_spec(name) is not None:
        raise ScaffoldError(
            f"domain name {name!r} would shadow the installed module {name!r}; choose another name. "
            "Nothing was changed"
        )
    product = "regions"
    values = {
        "name": name,
        "owner": owner,
        "product": product,
        "cls": _class_name(product),
        "title": product.replace("_", " ").capitalize(),
    }
    changes = Changes()
    try:
        package = folder / "src" / name
        changes.write(folder / "pyproject.toml", PYPROJECT.format(**values))
        changes.write(package / "__init__.py", f'"""The {name} domain."""\n')
        changes.write(
            package / "contracts.py", CONTRACTS.format(**values) + CONTRACT.format(**values)
        )
        changes.write(package / "products.py", PRODUCTS.format(**values) + PRODUCT.format(**values))
        changes.write(package / "definitions.py", DEFINITIONS.format(**values))
        changes.write(folder / "tests" / f"test_{name}_{product}.py", TEST.format(**values))
        text = workspace.read_text()
        changes.write(workspace, text.rstrip("\n") + "\n" + WORKSPACE_ENTRY.format(**values))
        pyproject = root / "pyproject.toml"
        changes.write(pyproject, _add_to_root_pyproject(pyproject.read_text(), name))
        _tidy(changes.created)
        if install:
            _install_editable(folder)
        if publish is not None:
            publish(root, name)
    except BaseException:
        changes.undo(keep_root=folder)
        raise
    return changes.created


PRODUCT_MODULE = '''"""{title}: a data product of the {name} domain, with its contract."""

from datetime import timedelta

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, TpchSource, data_product
'''


def _tidy(paths: list[Path]) -> None:
    """Format new code with the project's ruff, when it is installed, so it passes lint as written."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff:
        files = [str(p) for p in paths if p.suffix == ".py"]
        subprocess.run([ruff, "check", "--fix", "--quiet", *files], capture_output=True)
        subprocess.run([ruff, "format", "--quiet", *files], capture_output=True)


def _register_module(definitions: Path, domain: str, module: str) -> str:
    """Import `module` in the domain's definitions.py and add it to its domain_definitions call."""
    text = definitions.read_text()
    call = re.search(rf"domain_definitions\(\s*[\"']{re.escape(domain)}[\"']\s*,\s*\[", text)
    if call is None:
        raise ScaffoldError(
            f'{definitions} has no `domain_definitions("{domain}", [...])` call to register the '
            "product in; nothing was changed"
        )
    text = text[: call.end()] + f"{module}, " + text[call.end() :]
    imports = list(re.finditer(rf"^from {re.escape(domain)} import .*$", text, flags=re.M))
    line = f"from {domain} import {module}"
    if imports:
        end = imports[-1].end()
        return text[:end] + "\n" + line + text[end:]
    first = re.search(r"^(from|import) .*$", text, flags=re.M)
    start = first.start() if first else 0
    return text[:start] + line + "\n" + text[start:]


def new_product(root: Path, domain: str, name: str, owner: str | None = None) -> list[Path]:
    """Add a product module (contract + product) and its test to an existing domain, registered in the
    domain's definitions.py."""
    _check_name("product", name)
    package = root / "domains" / domain / "src" / domain
    definitions = package / "definitions.py"
    if not definitions.is_file():
        raise ScaffoldError(
            f"domain {domain!r} has no src/{domain}/definitions.py; create it with "
            "`dagmesh new-domain` first. Nothing was changed"
        )
    module = package / f"{name}.py"
    taken = module.exists() or any(
        re.search(
            rf"^def {re.escape(name)}\(|name=[\"']{re.escape(name)}[\"']", p.read_text(), re.M
        )
        for p in package.rglob("*.py")
    )
    if taken or (package / "defs" / name).exists():
        raise ScaffoldError(
            f"{domain}/{name} already exists; choose another name. Nothing was changed"
        )
    if owner is not None:
        _check_owner(owner)
    values = {
        "name": domain,
        "owner": owner or f"team:{domain}",
        "product": name,
        "cls": _class_name(name),
        "title": name.replace("_", " ").capitalize(),
    }
    body = (
        PRODUCT_MODULE.format(**values)
        + CONTRACT.format(**values)
        + PRODUCT.format(**values)
        .replace("contracts.", "")
        .replace("owners=OWNERS", f'owners=["{values["owner"]}"]')
    )
    test = TEST.format(**values).replace(
        f"from {domain} import products", f"from {domain} import {name} as products"
    )
    changes = Changes()
    try:
        changes.write(module, body)
        changes.write(root / "domains" / domain / "tests" / f"test_{domain}_{name}.py", test)
        changes.write(definitions, _register_module(definitions, domain, name))
        _tidy([module, definitions, *changes.created])
    except BaseException:
        changes.undo()
        raise
    return changes.created
