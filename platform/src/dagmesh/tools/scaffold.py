"""Scaffolding: `dagmesh new-domain` and `dagmesh new-product`, in the one layout of a domain project.

    domains/<domain>/pyproject.toml                  # a Dagster project: [tool.dg] and its root module
    domains/<domain>/src/<domain>/__init__.py
    domains/<domain>/src/<domain>/definitions.py     # @dg.definitions def defs(): load_domain(__file__)
    domains/<domain>/src/<domain>/standards.py       # OWNERS, SLOs and schedules of the domain
    domains/<domain>/src/<domain>/defs/__init__.py
    domains/<domain>/src/<domain>/defs/resources.py  # the `tpch` resource its products read
    domains/<domain>/src/<domain>/defs/<product>/product.py   # the @data_product
    domains/<domain>/src/<domain>/defs/<product>/contract.py  # its pandera DataFrameModel
    domains/<domain>/tests/test_<product>.py

Every file is rendered from a jinja2 template under `templates/scaffold/`; the root `pyproject.toml` is
edited with tomlkit (comments and layout kept) and `workspace.yaml` gets one entry appended, verified by
parsing the result. Everything is checked and rendered before the first write; a new domain folder appears
by one rename, every other file by an atomic replace, and a failure after that (installing, drafting)
puts every touched file back. A refused or failed command changes nothing.

The new product's contract goes to the registry as a draft (`contracts/<product>/v1.odcs.yaml` with ODCS
`status: draft`): `dagmesh check` and consumers know the product, and it may change freely until the team
runs `dagmesh publish` for the first time.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import importlib.util
import json
import keyword
import os
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import tomlkit
import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined

from dagmesh.core.errors import DagmeshError
from dagmesh.declare.names import NAME_PATTERN, OWNER_PATTERN, RESERVED_SCHEMAS
from dagmesh.registry.store import CONTRACTS_DIR
from dagmesh.storage.settings import MeshSettings

EXAMPLE_PRODUCT = "regions"  # the example product of a new domain: ingests TPC-H's region table
# What the product template imports from the domain's standards.py, when it defines them (as the
# sample domains do): its owners, its daily SLO and its nightly cron schedule.
STANDARD_NAMES = ("DAILY", "NIGHTLY", "OWNERS")

# Domains are Python packages, code locations and warehouse schemas: none may shadow the platform, a
# DuckDB catalog or schema (`temp`, `main`, ...: ambiguous or refused as a schema name) or the warehouse.
RESERVED_DOMAINS = frozenset(
    {"dagmesh", "dagster", "platform", "governance", "domains", "defs", "src", "tests", "test"}
    | {"conftest", "warehouse"}
    | RESERVED_SCHEMAS
)
RESERVED_PREFIXES = ("dagmesh", "dagster")
# A product is a folder of defs/ beside resources.py, and its files use these names (pd, dg, tpch, ...).
RESERVED_PRODUCTS = frozenset(
    {"resources", "defs", "tests", "test", "conftest", "pd", "pa", "dg", "duckdb", "tpch"}
    | {"data_product", "contract", "product", "timedelta"}
)
RESERVED_CLASSES = frozenset({"Series", "TpchSource", "MeshSettings", "SLO"})
NOTHING_CHANGED = "Nothing was changed"


class ScaffoldError(DagmeshError):
    """The name, owner or project is refused, or a step failed; nothing was changed."""


@dataclass(frozen=True)
class Scaffolded:
    """What a command wrote, relative paths under the project root."""

    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    drafted: list[Path] = field(default_factory=list)  # registry files with `status: draft`


def _refuse(message: str) -> ScaffoldError:
    return ScaffoldError(f"{message}. {NOTHING_CHANGED}")


# -- templates ------------------------------------------------------------------------------------


def _python_string(value: str) -> str:
    """A Python string literal in ruff's double quotes (JSON's escapes are Python's)."""
    return json.dumps(value, ensure_ascii=False)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("dagmesh.tools", "templates/scaffold"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters["py"] = _python_string
    return environment


def _render(template: str, values: dict[str, Any]) -> str:
    text = _environment().get_template(template).render(**values)
    # A template bug must not reach a team's repository: the output parses, or nothing is written.
    if template.endswith(".py.j2"):
        compile(text, template, "exec")
    elif template.endswith(".toml.j2"):
        tomllib.loads(text)
    return text


def _class_name(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _product_files(
    domain: str, product: str, *, standards: set[str], owner: str
) -> dict[Path, str]:
    values = {
        "domain": domain,
        "product": product,
        "cls": _class_name(product),
        "standards": sorted(standards & set(STANDARD_NAMES)),
        "owner": owner,
    }
    folder = Path("src") / domain / "defs" / product
    return {
        folder / "contract.py": _render("product/contract.py.j2", values),
        folder / "product.py": _render("product/product.py.j2", values),
        Path("tests") / f"test_{product}.py": _render("product/test_product.py.j2", values),
    }


def _domain_files(domain: str, owner: str) -> dict[Path, str]:
    values = {"domain": domain, "owner": owner}
    package = Path("src") / domain
    files = {
        Path("pyproject.toml"): _render("domain/pyproject.toml.j2", values),
        package / "__init__.py": _render("domain/__init__.py.j2", values),
        package / "definitions.py": _render("domain/definitions.py.j2", values),
        package / "standards.py": _render("domain/standards.py.j2", values),
        package / "defs" / "__init__.py": _render("domain/defs/__init__.py.j2", values),
        package / "defs" / "resources.py": _render("domain/defs/resources.py.j2", values),
    }
    files.update(
        _product_files(domain, EXAMPLE_PRODUCT, standards=set(STANDARD_NAMES), owner=owner)
    )
    return files


# -- checks ---------------------------------------------------------------------------------------


def _check_name(kind: str, name: str) -> None:
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name):
        raise _refuse(
            f"{kind} name {name!r} is refused: use lower_snake_case, a letter first, at most 63 "
            "characters and not a Python keyword (e.g. 'customer_service')"
        )


def _check_owner(owner: str) -> None:
    if not OWNER_PATTERN.match(owner):
        raise _refuse(f"owner {owner!r} must be 'team:name' or an email address")


def _check_domain_name(name: str) -> None:
    _check_name("domain", name)
    try:
        catalog = MeshSettings.from_env().warehouse_path.stem  # DuckDB names the file's catalog so
    except ValueError:
        catalog = "warehouse"
    if name in RESERVED_DOMAINS or name == catalog or name.startswith(RESERVED_PREFIXES):
        raise _refuse(
            f"domain name {name!r} is reserved (by the platform, Python packaging or DuckDB, whose "
            "catalogs and schemas it would shadow in the warehouse); choose another name"
        )


def _check_product_name(name: str) -> None:
    _check_name("product", name)
    if name in RESERVED_PRODUCTS or _class_name(name) in RESERVED_CLASSES:
        raise _refuse(
            f"product name {name!r} is reserved (a file of the domain's defs/ folder, or a name its "
            "product code uses); choose another name"
        )


def _project_files(root: Path) -> tuple[Path, Path]:
    workspace, pyproject = root / "workspace.yaml", root / "pyproject.toml"
    for path in (workspace, pyproject):
        if not path.is_file():
            raise _refuse(f"{root} is not a dagmesh project: it has no {path.name}")
    return workspace, pyproject


def _workspace_names(workspace: Path) -> set[str]:
    from dagmesh.binding.workspace import WorkspaceError, read_workspace

    try:
        return {location.name for location in read_workspace(workspace)}
    except WorkspaceError as error:
        raise _refuse(str(error)) from error


def _dependency_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


def _registered_in_pyproject(text: str, name: str) -> bool:
    document = tomllib.loads(text)
    dependencies = document.get("project", {}).get("dependencies", [])
    sources = document.get("tool", {}).get("uv", {}).get("sources", {})
    wanted = _dependency_name(name)
    return name in sources or any(_dependency_name(d) == wanted for d in dependencies)


def _pytest_imports_by_path(pyproject_text: str) -> bool:
    """Whether pytest imports test files by path (`--import-mode=importlib`), so two test files of the
    same name in different folders can coexist."""
    options = tomllib.loads(pyproject_text).get("tool", {}).get("pytest", {}).get("ini_options", {})
    addopts = options.get("addopts", "")
    addopts = " ".join(addopts) if isinstance(addopts, list) else str(addopts)
    return re.search(r"--import-mode[= ]importlib\b", addopts) is not None


def _check_test_name(root: Path, pyproject_text: str, target: Path) -> None:
    """Refuse a test file whose name another test file of the project has, unless pytest can hold both."""
    if _pytest_imports_by_path(pyproject_text):
        return
    for top in ("tests", "domains"):
        for other in sorted((root / top).rglob(target.name)):
            if other != target and not any(
                p.startswith(".") for p in other.relative_to(root).parts
            ):
                raise _refuse(
                    f"{other.relative_to(root)} already exists, and pytest's default import mode "
                    f"cannot collect two test files named {target.name}; choose another name, or set "
                    "`--import-mode=importlib` in [tool.pytest.ini_options] addopts"
                )


def _parsed(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as error:
        raise _refuse(
            f"{path} does not parse ({error.msg}, line {error.lineno}); fix it first"
        ) from None


def _is_owners(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.List | ast.Tuple)
        and bool(node.elts)
        and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
    )


def _is_slo(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id == "SLO") or (
        isinstance(func, ast.Attribute) and func.attr == "SLO"
    )


def _is_cron(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


STANDARD_SHAPES = {"OWNERS": _is_owners, "DAILY": _is_slo, "NIGHTLY": _is_cron}


def _standards(path: Path) -> set[str]:
    """Which of STANDARD_NAMES the domain's standards.py defines, each as the template uses it (owners
    a list of strings, DAILY an `SLO(...)`, NIGHTLY a cron string); the product inlines the others."""
    if not path.is_file():
        return set()
    found: set[str] = set()
    for node in _parsed(path).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for target in targets:
            name = target.id if isinstance(target, ast.Name) else None
            if name in STANDARD_SHAPES and STANDARD_SHAPES[name](node.value):
                found.add(name)
    return found


def _mentions_string(path: Path, value: str) -> bool:
    return any(isinstance(n, ast.Constant) and n.value == value for n in ast.walk(_parsed(path)))


def _declares_product(package: Path, name: str) -> Path | None:
    """A file of the domain package already declaring a product `name` (Python or YAML), if any."""
    python = re.compile(rf"^def {re.escape(name)}\(|\bname\s*=\s*[\"']{re.escape(name)}[\"']", re.M)
    for path in sorted(package.rglob("*.py")):
        if python.search(path.read_text()):
            return path
    for path in sorted(package.rglob("defs.yaml")):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        for document in documents:
            attributes = document.get("attributes") if isinstance(document, dict) else None
            if isinstance(attributes, dict) and attributes.get("name") == name:
                return path
    return None


# -- registration ---------------------------------------------------------------------------------


def register_in_pyproject(text: str, domain: str) -> str:
    """`text` (the workspace root's pyproject.toml) with `domain` in `[project] dependencies`,
    `[tool.uv.sources]` and, if no member pattern covers it, `[tool.uv.workspace] members`. Edited
    with tomlkit, so comments and layout are kept."""
    document = tomlkit.parse(text)
    project = document.get("project")
    if not isinstance(project, dict):
        raise _refuse("the root pyproject.toml has no [project] table to register the domain in")
    dependencies = project.get("dependencies")
    if dependencies is None:
        project["dependencies"] = [domain]
    elif isinstance(dependencies, list):
        dependencies.append(domain)
    else:
        raise _refuse("the root pyproject.toml's [project] dependencies is not a list")

    tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
    uv = tool.setdefault("uv", tomlkit.table(is_super_table=True))
    sources = uv.setdefault("sources", tomlkit.table())
    # `{ workspace = true }` as the existing entries are written, after the table's last entry (not
    # after a comment that introduces the next table).
    entry = tomlkit.parse(f"{domain} = {{ workspace = true }}\n")[domain]
    keys = [key for key, _ in sources.value.body if key is not None]
    insert_after = getattr(sources.value, "_insert_after", None)
    if keys and insert_after is not None:
        insert_after(keys[-1], domain, entry)
    else:
        sources[domain] = entry

    workspace = uv.get("workspace")
    members = workspace.get("members") if isinstance(workspace, dict) else None
    folder = f"domains/{domain}"
    if isinstance(members, list) and not any(fnmatch.fnmatch(folder, m) for m in members):
        members.append(folder)
    result = tomlkit.dumps(document)
    tomllib.loads(result)  # still TOML
    return result


_TOP_LEVEL_KEY = re.compile(r"^[^\s#-]")


def register_in_workspace(text: str, domain: str) -> str:
    """`text` (workspace.yaml) with a code location for `domain` appended to `load_from`.

    A text edit, so the file's comments stay: the entry is rendered, indented like the list's first item
    and placed after the list's last line. The result must parse to the same locations plus the new one,
    or the edit is refused."""
    lines = text.splitlines(keepends=True)
    start = next(
        (i for i, line in enumerate(lines) if re.match(r"^load_from:\s*(#.*)?$", line)), None
    )
    if start is None:
        raise _refuse("workspace.yaml has no block `load_from:` list to add the location to")
    end = next(
        (i for i in range(start + 1, len(lines)) if _TOP_LEVEL_KEY.match(lines[i])), len(lines)
    )
    items = [i for i in range(start + 1, end) if re.match(r"^\s*- ", lines[i])]
    if not items:
        raise _refuse("workspace.yaml's load_from is not a block list of locations")
    indent = re.match(r"^(\s*)", lines[items[0]]).group(1)
    last = max(
        i
        for i in range(start + 1, end)
        if lines[i].strip() and not lines[i].lstrip().startswith("#")
    )
    entry = _render("workspace/location.yaml.j2", {"domain": domain})
    block = "".join(f"{indent}{line}" if line.strip() else line for line in entry.splitlines(True))
    before = "".join(lines[: last + 1])
    result = (
        (before if before.endswith("\n") else before + "\n") + block + "".join(lines[last + 1 :])
    )

    def parsed(source: str) -> list[Any]:
        try:
            document = yaml.safe_load(source)
        except yaml.YAMLError as error:
            raise _refuse(f"workspace.yaml is not valid YAML: {error}") from None
        found = document.get("load_from") if isinstance(document, dict) else None
        return found if isinstance(found, list) else []

    expected = [*parsed(text), yaml.safe_load(entry)[0]]
    if parsed(result) != expected:
        raise _refuse(
            "workspace.yaml is laid out in a way the scaffold cannot extend safely; add the location "
            f"`{domain}` to load_from by hand"
        )
    return result


# -- writing --------------------------------------------------------------------------------------


class _Transaction:
    """Files and folders written so far, to put everything back if a later step fails."""

    def __init__(self) -> None:
        self.created: list[Path] = []  # files and folders that did not exist, in creation order
        self.originals: dict[Path, bytes] = {}
        self.undo: list[Callable[[], None]] = []  # other steps to revert (an install), newest last

    @staticmethod
    def _scratch(path: Path) -> Path:
        return path.with_name(f".{path.name}.scaffold-{secrets.token_hex(4)}")

    def _missing_parents(self, path: Path) -> None:
        """Create `path`'s missing parent folders, remembering the topmost to remove on rollback."""
        missing = [p for p in reversed(path.parents) if not p.exists()]
        if missing:
            path.parent.mkdir(parents=True)
            self.created.append(missing[0])

    def expect(self, path: Path) -> None:
        """Remove `path` on rollback (a later step, e.g. publishing, will create it)."""
        top = next((p for p in [*reversed(path.parents), path] if not p.exists()), None)
        if top is not None:
            self.created.append(top)

    def add_folder(self, folder: Path, files: dict[Path, str]) -> None:
        """Write `files` (relative to `folder`) into a hidden sibling, then rename it to `folder`."""
        self._missing_parents(folder)
        scratch = self._scratch(folder)
        scratch.mkdir()
        try:
            for relative, text in files.items():
                (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
                (scratch / relative).write_text(text, encoding="utf-8")
            os.rename(scratch, folder)  # refused if `folder` appeared meanwhile: never merged into
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        self.created.append(folder)

    def write(self, path: Path, text: str) -> None:
        """Create or replace `path` atomically (a reader sees the old text or the new, never half)."""
        existed = path.exists()
        if existed:
            self.originals.setdefault(path, path.read_bytes())
        else:
            self._missing_parents(path)
        scratch = self._scratch(path)
        try:
            scratch.write_text(text, encoding="utf-8")
            if existed:
                shutil.copymode(path, scratch)
            os.replace(scratch, path)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
        if not existed:
            self.created.append(path)

    def rollback(self) -> None:
        for step in reversed(self.undo):
            step()
        for path, data in self.originals.items():
            scratch = self._scratch(path)
            scratch.write_bytes(data)
            os.replace(scratch, path)
        for path in reversed(self.created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _uv() -> str | None:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def _pip(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`pip <command>` in this environment: uv's pip if present, else pip."""
    uv = _uv()
    prefix = [uv, "pip", command, "--python", sys.executable] if uv else None
    prefix = prefix or [sys.executable, "-m", "pip", command]
    return subprocess.run([*prefix, *args], capture_output=True, text=True)


def _install_editable(package: Path, transaction: _Transaction) -> None:
    """Make the new package importable in this environment; uninstalled again on rollback."""
    completed = _pip("install", "--quiet", "--no-deps", "-e", str(package))
    if completed.returncode != 0:
        raise ScaffoldError(f"installing {package.name} failed: {completed.stderr.strip()[-500:]}")
    confirm = () if _uv() else ("--yes",)
    transaction.undo.append(lambda: _pip("uninstall", "--quiet", *confirm, package.name))


def _draft(root: Path, domain: str, products: set[str]) -> list[Path]:
    """Write the contracts of `domain`'s `products` to its registry as drafts (loading the domain as
    Dagster will, so a scaffold that does not load is put back): `dagmesh check` passes, and the
    contract may change freely until its first `dagmesh publish`."""
    from dagmesh.binding.workspace import WorkspaceError
    from dagmesh.registry.check import draft_mesh, load_mesh

    src = root / "domains" / domain / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))  # a package installed a moment ago is not on this path yet
    importlib.invalidate_caches()
    try:
        found = load_mesh(root / "workspace.yaml", locations={domain})
    except WorkspaceError as error:
        raise ScaffoldError(
            f"drafting the new contract needs the domain to load: {error}"
        ) from error
    return [r.path for r in draft_mesh([item for item in found if item.key.path[-1] in products])]


def _undone(transaction: _Transaction, error: BaseException) -> NoReturn:
    """Put everything back, then re-raise; a platform error says that nothing was changed."""
    transaction.rollback()
    if isinstance(error, DagmeshError) and not str(error).endswith(NOTHING_CHANGED):
        raise ScaffoldError(
            f"{error}; everything written was put back. {NOTHING_CHANGED}"
        ) from error
    raise error


def _relative(root: Path, paths: list[Path]) -> list[Path]:
    return [p.resolve().relative_to(root.resolve()) for p in paths]


# -- commands -------------------------------------------------------------------------------------


def new_domain(
    root: Path, name: str, owner: str, *, install: bool = True, draft: bool = True
) -> Scaffolded:
    """Create `domains/<name>`, a Dagster project with an example product, contract and test, and
    register it in workspace.yaml and the root pyproject.toml."""
    _check_domain_name(name)
    _check_owner(owner)
    workspace, pyproject = _project_files(root)
    folder = root / "domains" / name
    pyproject_text = pyproject.read_text(encoding="utf-8")
    workspace_text = workspace.read_text(encoding="utf-8")
    if (
        folder.exists()
        or name in _workspace_names(workspace)
        or _registered_in_pyproject(pyproject_text, name)
    ):
        raise _refuse(f"domain {name!r} already exists; choose another name")
    if importlib.util.find_spec(name) is not None:
        raise _refuse(
            f"domain name {name!r} would shadow the installed module {name!r}; choose another name"
        )
    files = _domain_files(name, owner)
    for relative in files:
        if relative.parts[0] == "tests":
            _check_test_name(root, pyproject_text, folder / relative)
    edits = {
        workspace: register_in_workspace(workspace_text, name),
        pyproject: register_in_pyproject(pyproject_text, name),
    }

    transaction = _Transaction()
    drafted: list[Path] = []
    try:
        transaction.add_folder(folder, files)
        for path, text in edits.items():
            transaction.write(path, text)
        if install:
            _install_editable(folder, transaction)
        if draft:
            drafted = _draft(root, name, {EXAMPLE_PRODUCT})
    except BaseException as error:
        _undone(transaction, error)
    return Scaffolded(
        created=_relative(root, [folder / relative for relative in files]),
        updated=_relative(root, list(edits)),
        drafted=_relative(root, drafted),
    )


def new_product(
    root: Path, domain: str, name: str, owner: str | None = None, *, draft: bool = True
) -> Scaffolded:
    """Add `defs/<name>/` (product.py and contract.py) and `tests/test_<name>.py` to an existing domain
    project; Dagster finds the product in `defs/`, so no other file changes (but a missing
    `defs/resources.py`, created with the `tpch` resource the example reads)."""
    _check_name("domain", domain)
    _check_product_name(name)
    if owner is not None:
        _check_owner(owner)
    _, pyproject = _project_files(root)
    folder = root / "domains" / domain
    package = folder / "src" / domain
    if not (folder / "pyproject.toml").is_file():
        raise _refuse(
            f"there is no domain {domain!r} (no domains/{domain}/pyproject.toml); create it with "
            f"`dagmesh new-domain {domain} --owner team:{domain}` first"
        )
    if not (package / "definitions.py").is_file() or not (package / "defs").is_dir():
        raise _refuse(
            f"domain {domain!r} is not a project in the documented layout (src/{domain}/definitions.py "
            f"and src/{domain}/defs/); `dagmesh new-domain` creates one"
        )
    declared = _declares_product(package, name)
    if (package / "defs" / name).exists() or declared is not None:
        where = (
            declared.relative_to(root) if declared else f"domains/{domain}/src/{domain}/defs/{name}"
        )
        raise _refuse(f"{domain}/{name} already exists ({where}); choose another name")
    registry = folder / CONTRACTS_DIR / name
    if registry.exists():
        raise _refuse(
            f"{domain}/{name} was published before ({registry.relative_to(root)} exists); choose "
            "another name, or remove that folder if the old product is gone for good"
        )

    standards = _standards(package / "standards.py")
    if owner is not None:
        standards.discard("OWNERS")  # an owner named on the command line is the product's own
    files = {
        folder / relative: text
        for relative, text in _product_files(
            domain, name, standards=standards, owner=owner or f"team:{domain}"
        ).items()
    }
    resources = package / "defs" / "resources.py"
    if not resources.exists():
        files[resources] = _render("domain/defs/resources.py.j2", {"domain": domain})
    elif not _mentions_string(resources, "tpch"):
        raise _refuse(
            f"{resources.relative_to(root)} binds no `tpch` resource, which the new product reads; "
            'add `"tpch": TpchSource.from_settings()` to its resources first'
        )
    pyproject_text = pyproject.read_text(encoding="utf-8")
    for path in files:
        if path.parent.name == "tests":
            _check_test_name(root, pyproject_text, path)

    transaction = _Transaction()
    drafted: list[Path] = []
    try:
        for path, text in files.items():
            transaction.write(path, text)
        if draft:
            transaction.expect(registry)
            drafted = _draft(root, domain, {name})
    except BaseException as error:
        _undone(transaction, error)
    return Scaffolded(created=_relative(root, list(files)), drafted=_relative(root, drafted))
