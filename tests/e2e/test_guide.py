"""docs/guide.md, followed word for word: every `$ ` command it lists runs, in order, in a copy of the
project, and each must succeed; every file it shows under its path (a line "`path`:" before a python
block) is written as shown, at that point (the edited contract and product, a test of the team's own);
the scaffolded domain then passes `dg check defs` and ruff as written.
Then the scaffolding's refusals are checked to change nothing, and its edits of the root pyproject.toml
and workspace.yaml to keep what they do not touch."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

from dagmesh.tools import scaffold
from dagmesh.tools.scaffold import ScaffoldError, new_domain, new_product
from tests.helpers.project_copy import copy_project

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide.md"
BIN = Path(sys.executable).parent

# The one layout of a domain project, as `dagmesh new-domain billing` writes it.
DOMAIN_FILES = [
    "domains/billing/pyproject.toml",
    "domains/billing/src/billing/__init__.py",
    "domains/billing/src/billing/definitions.py",
    "domains/billing/src/billing/standards.py",
    "domains/billing/src/billing/defs/__init__.py",
    "domains/billing/src/billing/defs/resources.py",
    "domains/billing/src/billing/defs/regions/contract.py",
    "domains/billing/src/billing/defs/regions/product.py",
    "domains/billing/tests/test_regions.py",
]
PRODUCT_FILES = [
    "domains/billing/src/billing/defs/invoices/contract.py",
    "domains/billing/src/billing/defs/invoices/product.py",
    "domains/billing/tests/test_invoices.py",
]
GUIDE_FILES = [
    "domains/billing/tests/test_invoice_rules.py"
]  # the team's own test, as the guide shows
FILE_LINE = re.compile(r"^`([\w./-]+\.py)`:$")


def guide_steps() -> list[tuple[str, str, str]]:
    """The guide's steps, in order: ("run", command, "") for each `$ ` line of a console block, and
    ("write", path, text) for each python block right after a line "`path`:"."""
    steps: list[tuple[str, str, str]] = []
    block: list[str] | None = None
    kind, target, previous = "", "", ""
    for line in GUIDE.read_text().splitlines():
        if line.startswith("```"):
            if block is None:
                kind = line.strip()
                match = FILE_LINE.match(previous)
                target = match.group(1) if match and kind == "```python" else ""
                block = []
            else:
                if target:
                    steps.append(("write", target, "\n".join(block) + "\n"))
                block = None
            continue
        if block is not None:
            block.append(line)
            if kind == "```console" and line.startswith("$ "):
                steps.append(("run", line[2:].strip(), ""))
        elif line.strip():
            previous = line.strip()
    return steps


def guide_commands() -> list[str]:
    """The `$ ` lines of the guide's console blocks, in order."""
    return [command for kind, command, _ in guide_steps() if kind == "run"]


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's files (no venv, no state), as a team would have after cloning."""
    return copy_project(tmp_path / "project")


def _env(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["DAGMESH_HOME"] = str(project / ".dagmesh")
    env["DAGMESH_SCAFFOLD_INSTALL"] = "0"  # never install test domains into the shared venv...
    # ...import the copy's platform and domains, the new one included, ahead of the installed ones.
    sources = [project / "platform" / "src", project / "domains" / "billing" / "src"]
    sources += sorted((project / "domains").glob("*/src"))
    env["PYTHONPATH"] = os.pathsep.join(str(path) for path in dict.fromkeys(sources))
    env.pop("DAGSTER_HOME", None)
    env.pop("DAGMESH_WAREHOUSE", None)
    # The guide's `pytest` runs in one process: the same tests, without starting two xdist workers.
    env["PYTEST_ADDOPTS"] = "-n 0"
    return env


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if ".dagmesh" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    completed = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"`{shlex.join(args)}` failed:\n{output}"
    return output


def test_the_guide_lists_the_commands_a_newcomer_runs():
    commands = guide_commands()
    assert commands[0] == "source .venv/bin/activate"
    assert any(c.startswith("dagmesh new-domain") for c in commands)
    assert any(c.startswith("dagmesh new-product") for c in commands)
    assert "dagmesh run" in commands


def test_the_guide_edits_the_new_product_before_publishing_it():
    steps = guide_steps()
    order = [f"{kind} {target}" for kind, target, _ in steps]
    new_product = order.index("run dagmesh new-product billing invoices")
    edits = [i for i, step in enumerate(order) if step.startswith("write ") and i > new_product]
    publish = order.index("run dagmesh publish")
    assert edits and new_product < min(edits) and max(edits) < publish, order
    written = {target for kind, target, _ in steps if kind == "write"}
    assert written == {*PRODUCT_FILES[:2], *GUIDE_FILES}
    product = dict((t, text) for kind, t, text in steps if kind == "write")[PRODUCT_FILES[1]]
    assert 'inputs=["sales/orders"]' in product  # a cross-domain product


def test_following_the_guide_word_for_word_works(project):
    env = _env(project)
    outputs = {}
    dg_check = None
    try:
        for kind, command, text in guide_steps():
            if kind == "write":
                (project / command).parent.mkdir(parents=True, exist_ok=True)
                (project / command).write_text(text)
                continue
            if command.startswith("source "):
                continue  # the test already runs with the venv's tools first on PATH
            outputs[command] = _run(shlex.split(command), project, env)
            if command.startswith("dagmesh publish") and dg_check is None:
                # Dagster's own tool loads the finished domain project, meanwhile (it only reads).
                dg_check = subprocess.Popen(
                    [str(BIN / "dg"), "check", "defs"],
                    cwd=project / "domains" / "billing",
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
        assert dg_check is not None, "the guide adds no product"
        checked, _ = dg_check.communicate(timeout=300)
        assert dg_check.returncode == 0, f"`dg check defs` failed in domains/billing:\n{checked}"
        assert "All definitions loaded successfully." in checked
    finally:
        if dg_check is not None and dg_check.poll() is None:
            dg_check.kill()
            dg_check.communicate()

    # Every file the scaffold wrote is listed, the contracts (code and registry, a draft) included.
    created = outputs["dagmesh new-domain billing --owner team:billing"]
    for path in [*DOMAIN_FILES, "workspace.yaml", "pyproject.toml"]:
        assert path in created, (path, created)
    assert "domains/billing/contracts/regions/v1.odcs.yaml  (draft contract" in created, created
    assert "`python3 dev.py ui` restarts by itself" in " ".join(created.split())
    added = outputs["dagmesh new-product billing invoices"]
    for path in [*PRODUCT_FILES, "domains/billing/contracts/invoices/v1.odcs.yaml  (draft"]:
        assert path in added, (path, added)
    # The edited contract (nothing like the draft) was published as v1, no major bump asked for.
    published = outputs["dagmesh publish"]
    assert "billing/invoices" in published and "was a draft" in published, published
    registry = yaml.safe_load(
        (project / "domains/billing/contracts/invoices/v1.odcs.yaml").read_text()
    )
    assert registry["status"] == "active" and registry["version"] == "1.0.0"
    columns = [c["name"] for c in registry["schema"][0]["properties"]]
    assert columns == ["invoice_id", "amount"]
    # The generated tests (regions; invoices, with example sales/orders rows) and the team's own pass.
    assert "3 passed" in outputs["pytest -q domains/billing"], outputs["pytest -q domains/billing"]
    # The one layout, nothing else (the registry is the contracts/ folder beside src/).
    written = sorted(
        p.relative_to(project).as_posix()
        for p in (project / "domains" / "billing").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and "contracts" not in p.parts
    )
    assert written == sorted([*DOMAIN_FILES, *PRODUCT_FILES, *GUIDE_FILES])

    workspace = yaml.safe_load((project / "workspace.yaml").read_text())
    assert workspace["load_from"][-1] == {
        "python_module": {"module_name": "billing.definitions", "location_name": "billing"}
    }
    root = tomllib.loads((project / "pyproject.toml").read_text())
    assert "billing" in root["project"]["dependencies"]
    assert root["tool"]["uv"]["sources"]["billing"] == {"workspace": True}

    final = outputs["dagmesh run"]
    assert "billing/regions" in final and "billing/invoices" in final
    assert "failed" not in final.split("Mesh run")[-1]

    # The generated code is ruff-clean as written.
    _run([str(BIN / "ruff"), "format", "--check", "domains/billing"], project, env)
    _run([str(BIN / "ruff"), "check", "domains/billing"], project, env)


HOSTILE_DOMAINS = [
    ("../x", "lower_snake_case"),
    ("Sales", "lower_snake_case"),
    ("1abc", "lower_snake_case"),
    ("billing-team", "lower_snake_case"),
    ("class", "lower_snake_case"),
    ("temp", "reserved"),  # a DuckDB catalog: an ambiguous schema name in the warehouse
    ("main", "reserved"),
    ("governance", "reserved"),
    ("dagmesh_extras", "reserved"),
    ("sales", "already exists"),
    ("json", "shadow"),
]
HOSTILE_PRODUCTS = [
    ("sales", "../x", "lower_snake_case"),
    ("sales", "Orders", "lower_snake_case"),
    ("sales", "1abc", "lower_snake_case"),
    ("sales", "resources", "reserved"),  # defs/resources.py
    ("sales", "pd", "reserved"),
    ("sales", "series", "reserved"),  # its contract class would shadow pandera's Series
    ("sales", "orders", "already exists"),
    ("../x", "thing", "lower_snake_case"),
    ("Sales", "thing", "lower_snake_case"),
    ("nowhere", "thing", "new-domain"),
    ("sales", "guide", "tests/e2e/test_guide.py"),  # pytest could not collect two test_guide.py
]


def test_refused_names_change_nothing(project):
    before = _tree_digest(project)
    for name, message in HOSTILE_DOMAINS:
        with pytest.raises(ScaffoldError, match=re.escape(message)) as refused:
            new_domain(project, name, "team:x", install=False, draft=False)
        assert str(refused.value).endswith("Nothing was changed"), refused.value
    for domain, name, message in HOSTILE_PRODUCTS:
        with pytest.raises(ScaffoldError, match=re.escape(message)) as refused:
            new_product(project, domain, name, draft=False)
        assert str(refused.value).endswith("Nothing was changed"), refused.value
    with pytest.raises(ScaffoldError, match="must be 'team:name'"):
        new_domain(project, "billing", "billing team", install=False, draft=False)
    with pytest.raises(ScaffoldError, match="must be 'team:name'"):
        new_product(project, "sales", "thing", "billing team", draft=False)
    assert _tree_digest(project) == before


def test_the_command_line_reports_a_refusal_in_one_line_and_exits_2(project, monkeypatch, capsys):
    from dagmesh.tools import cli

    monkeypatch.chdir(project)
    before = _tree_digest(project)
    for args, message in [
        (["new-domain", "../x", "--owner", "team:x"], "domain name '../x' is refused"),
        (["new-domain", "temp", "--owner", "team:temp"], "reserved"),
        (["new-domain", "sales", "--owner", "team:sales"], "already exists"),
        (["new-product", "sales", "orders"], "sales/orders already exists"),
        (["new-product", "billing", "thing"], "`dagmesh new-domain billing"),
    ]:
        monkeypatch.setattr(sys, "argv", ["dagmesh", *args])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        stderr = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
        assert exited.value.code == 2, (args, stderr)
        assert message in stderr and "Traceback" not in stderr, stderr
        assert stderr.startswith("error:") and stderr.endswith("Nothing was changed"), stderr
    assert _tree_digest(project) == before


def test_a_failure_after_writing_puts_everything_back(project, monkeypatch):
    before = _tree_digest(project)
    pip = []

    def fail(*_args):
        raise ScaffoldError("drafting failed")

    monkeypatch.setattr(scaffold, "_draft", fail)
    monkeypatch.setattr(scaffold, "_pip", lambda *args: pip.append(args) or _Completed())
    with pytest.raises(ScaffoldError, match=r"drafting failed.*Nothing was changed"):
        new_domain(project, "billing", "team:billing")
    assert _tree_digest(project) == before
    # The package installed before the failure is uninstalled again.
    assert [args[0] for args in pip] == ["install", "uninstall"] and "billing" in pip[-1]
    with pytest.raises(ScaffoldError, match=r"drafting failed.*Nothing was changed"):
        new_product(project, "sales", "returns")
    assert _tree_digest(project) == before


class _Completed:
    returncode = 0
    stderr = ""


def test_the_scaffold_writes_only_what_its_templates_render(project):
    """The layout's files, rendered from the templates; a product follows its domain's standards."""
    result = new_domain(project, "billing", "team:billing", install=False, draft=False)
    templates = Path(scaffold.__file__).parent / "templates" / "scaffold"
    assert {p.name for p in templates.rglob("*.j2")} >= {
        "pyproject.toml.j2",
        "definitions.py.j2",
        "standards.py.j2",
        "resources.py.j2",
        "product.py.j2",
        "contract.py.j2",
        "test_product.py.j2",
        "location.yaml.j2",
    }
    assert [p.as_posix() for p in result.created] == DOMAIN_FILES
    assert [p.as_posix() for p in result.updated] == ["workspace.yaml", "pyproject.toml"]
    standards = (project / "domains/billing/src/billing/standards.py").read_text()
    assert 'OWNERS = ["team:billing"]' in standards
    # The generated test derives its expectations from the contract; it names no fact of the example.
    test = (project / "domains/billing/tests/test_regions.py").read_text()
    assert "Regions.to_schema()" in test and "region_id" not in test and "== 5" not in test

    # A product added to a domain whose standards define them uses the domain's OWNERS, DAILY, NIGHTLY;
    # a named owner is the product's own.
    added = new_product(project, "billing", "invoices", draft=False)
    assert [p.as_posix() for p in added.created] == PRODUCT_FILES
    product = (project / "domains/billing/src/billing/defs/invoices/product.py").read_text()
    assert "from billing.standards import DAILY, NIGHTLY, OWNERS" in product
    new_product(project, "billing", "refunds", "finance@example.com", draft=False)
    product = (project / "domains/billing/src/billing/defs/refunds/product.py").read_text()
    assert 'owners=["finance@example.com"]' in product
    assert "from billing.standards import DAILY, NIGHTLY\n" in product


COMMENTED_PYPROJECT = textwrap.dedent(
    """\
    # The workspace root.
    [project]
    name = "workspace"  # never published
    dependencies = [
        "dagmesh",  # the platform
        # the domains
        "sales",
    ]

    [tool.uv.workspace]
    members = ["platform", "domains/*"]  # every domain folder

    # Where the workspace's own packages come from.
    [tool.uv.sources]
    dagmesh = { workspace = true }  # the platform
    sales = { workspace = true }

    # The tests.
    [tool.pytest.ini_options]
    addopts = "-ra"
    """
)


def test_registering_a_domain_keeps_the_root_pyprojects_comments_and_layout():
    edited = scaffold.register_in_pyproject(COMMENTED_PYPROJECT, "billing")
    assert edited == COMMENTED_PYPROJECT.replace(
        '    "sales",\n]', '    "sales",\n    "billing",\n]'
    ).replace(
        "sales = { workspace = true }\n",
        "sales = { workspace = true }\nbilling = { workspace = true }\n",
    )
    parsed = tomllib.loads(edited)
    assert parsed["project"]["dependencies"] == ["dagmesh", "sales", "billing"]
    assert parsed["tool"]["uv"]["sources"]["billing"] == {"workspace": True}
    assert parsed["tool"]["uv"]["workspace"]["members"] == ["platform", "domains/*"]
    # A workspace whose members do not cover domains/ gets the new folder listed.
    narrow = COMMENTED_PYPROJECT.replace('"domains/*"', '"domains/sales"')
    members = tomllib.loads(scaffold.register_in_pyproject(narrow, "billing"))["tool"]["uv"]
    assert members["workspace"]["members"] == ["platform", "domains/sales", "domains/billing"]


COMMENTED_WORKSPACE = textwrap.dedent(
    """\
    # One code location per domain team.
    load_from:
      - python_module:
          module_name: sales.definitions
          location_name: sales
      # The platform's governance location.
      - python_module:
          module_name: governance.definitions
          location_name: governance
    # the end
    """
)


def test_registering_a_domain_in_the_workspace_appends_one_entry_and_keeps_the_rest():
    entry = (
        "  - python_module:\n      module_name: billing.definitions\n      location_name: billing\n"
    )
    edited = scaffold.register_in_workspace(COMMENTED_WORKSPACE, "billing")
    assert edited == COMMENTED_WORKSPACE.replace("# the end\n", entry + "# the end\n")
    # The list's own indentation, and keys after it, are kept.
    flush = "load_from:\n- python_module: sales.definitions\nother: 1\n"
    assert scaffold.register_in_workspace(flush, "billing") == (
        "load_from:\n- python_module: sales.definitions\n"
        "- python_module:\n    module_name: billing.definitions\n    location_name: billing\n"
        "other: 1\n"
    )
    # A layout the edit cannot extend safely is refused, not guessed at.
    for text in ("load_from: [sales.definitions]\n", "locations: []\n", "load_from:\n"):
        with pytest.raises(ScaffoldError, match="Nothing was changed"):
            scaffold.register_in_workspace(text, "billing")
