"""The `dagmesh` command: run and inspect the whole mesh as `workspace.yaml` describes it."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from dagmesh.errors import DagmeshError
from dagmesh.settings import MeshSettings, find_project_root

app = typer.Typer(
    help="dagmesh: run, list and govern the data products of every domain in the workspace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Pipes and CI logs get a wide console, so product keys are never cut.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(width=_WIDTH)
errors = Console(stderr=True, width=_WIDTH)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="workspace.yaml to read (default: the project's)."),
]


def _workspace_path(path: Path | None) -> Path:
    return (path or find_project_root() / "workspace.yaml").resolve()


def _load(path: Path | None):
    from dagmesh.workspace import load_workspace

    workspace = _workspace_path(path)
    # Code locations import as packages; a workspace beside its domains also works uninstalled.
    sys.path.insert(0, str(workspace.parent))
    return load_workspace(workspace)


def _instance(settings: MeshSettings):
    """The Dagster instance the UI reads: DAGSTER_HOME if set, else the mesh's own local storage."""
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        home = settings.dagster_home
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


@app.command()
def run(workspace: WorkspaceOption = None) -> None:
    """Materialize every product of every code location, in dependency order across domains."""
    from dagmesh.runner import plan, run_mesh

    settings = MeshSettings.from_env()
    locations = _load(workspace)
    groups = plan(locations)
    total = sum(len(g.keys) for g in groups)
    instance = _instance(settings)
    console.print(
        f"[bold]dagmesh run[/]: {total} products in {len(locations)} code locations "
        f"({', '.join(locations)}); warehouse {settings.warehouse_path}"
    )
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=total)

        def started(group) -> None:
            names = ", ".join(k.path[-1] for k in group.keys)
            progress.update(task, description=f"[cyan]{group.location}[/]: {names}")

        def done(group, outcomes) -> None:
            for outcome in outcomes:
                mark = "[green]✓[/]" if outcome.status == "published" else "[red]✗[/]"
                progress.console.print(
                    f"  {mark} {outcome.key.to_user_string()} {outcome.status}"
                    + (f" ({outcome.rows} rows)" if outcome.rows is not None else "")
                )
            progress.advance(task, len(group.keys))

        result = run_mesh(locations, instance, on_group_start=started, on_group_done=done)

    table = Table(title=f"Mesh run: {result.seconds:.1f}s")
    for column in ("product", "location", "status", "rows", "contract", "time"):
        table.add_column(column, justify="right" if column in ("rows", "time") else "left")
    for outcome in result.outcomes.values():
        style = {"published": "green", "failed": "red"}.get(outcome.status, "yellow")
        table.add_row(
            outcome.key.to_user_string(),
            outcome.location,
            f"[{style}]{outcome.status}[/]",
            "-" if outcome.rows is None else f"{outcome.rows:,}",
            outcome.contract,
            "-" if outcome.seconds is None else f"{outcome.seconds:.2f}s",
        )
    console.print(table)
    for outcome in result.failed:
        errors.print(f"[red]{outcome.key.to_user_string()}[/]: {outcome.error}", highlight=False)
    if not result.success:
        errors.print(f"{len(result.failed)} product(s) not published; see above or the Dagster UI.")
        raise typer.Exit(1)


@app.command("list")
def list_products(workspace: WorkspaceOption = None) -> None:
    """Every data product in the workspace: domain, owners, access, version, contract and inputs."""
    from dagmesh.catalog import collect_products

    products = collect_products(_load(workspace))
    table = Table(title=f"{len(products)} data products")
    for column in ("product", "domain", "owners", "access", "version", "contract", "inputs"):
        table.add_column(column)
    for product in products:
        table.add_row(
            product.key,
            product.domain,
            ", ".join(product.owners),
            product.access,
            product.version,
            product.contract,
            ", ".join(product.inputs) or "-",
        )
    console.print(table)


@app.command()
def lint(workspace: WorkspaceOption = None) -> None:
    """Evaluate every governance policy over every product of the workspace; exit 1 on any error."""
    from dagmesh.governance.lint import lint_workspace
    from dagmesh.governance.policy import Severity

    path = _workspace_path(workspace)
    sys.path.insert(0, str(path.parent))
    violations = lint_workspace(path)
    if not violations:
        console.print("[green]no policy violations[/]")
        return
    table = Table(title=f"{len(violations)} policy violation(s)")
    for column in ("product", "owners", "policy", "severity", "problem", "how to fix"):
        table.add_column(column, overflow="fold")
    for v in sorted(violations, key=lambda v: (v.severity is not Severity.ERROR, v.product)):
        style = "red" if v.severity is Severity.ERROR else "yellow"
        table.add_row(
            v.product, ", ".join(v.owners), v.policy, f"[{style}]{v.severity.value}[/]", v.message, v.fix
        )
    console.print(table)
    if any(v.severity is Severity.ERROR for v in violations):
        raise typer.Exit(1)


def main() -> None:
    """Entry point: platform errors print as one clear message and exit 2, never a traceback."""
    warnings.filterwarnings("ignore", module="dagster")
    warnings.filterwarnings("ignore", category=UserWarning, message=".*[Bb]eta.*")
    try:
        app()
    except DagmeshError as error:
        errors.print(f"[red]error:[/] {error}", highlight=False)
        sys.exit(2)
    except ValueError as error:  # settings from the environment
        errors.print(f"[red]error:[/] {error}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
